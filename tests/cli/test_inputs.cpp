// Every reader of outside input, end to end: files that are too deep, too large or not files at all, numeric
// flags that are not finite or out of range, plugin folders and backend names. Each is exit status 2 (or a
// line in the report) with a message naming the file or flag, never a crash.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_probe.hpp"
#include <string>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using probe_test::Result;
using probe_test::slurp;

fs::path work_dir() { return probe_test::work_dir("inputs"); }

void write(const fs::path& p, const std::string& text) { probe_test::write_text(p, text); }

// Runs probe with the arguments (shell-quoted by the caller where needed); stdin is /dev/null, as in CI.
Result probe(const std::string& args, const std::string& env = {}) {
  return probe_test::run_command(env + " " + std::string(PROBE_EXE) + " " + args, work_dir());
}

void expect_usage_error(const Result& r, const std::string& message, const std::string& what) {
  EXPECT_EQ(r.status, 2) << what << "\n" << r.err;
  EXPECT_NE(r.err.find(message), std::string::npos) << what << " gave: " << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

// A real ruleset whose first clause's condition is wrapped in `depth` "not"s.
fs::path nested_rules(int depth, const std::string& name) {
  json rules = json::parse(slurp(PROBE_RULES_FILE));
  json when = rules["clauses"][0]["when"];
  for (int i = 0; i < depth; ++i) when = json{{"not", when}};
  rules["clauses"][0]["when"] = when;
  const fs::path f = work_dir() / name;
  write(f, rules.dump());
  return f;
}

}  // namespace

// --- Nesting ------------------------------------------------------------------------------------------------

TEST(Inputs, TwentyThousandNestedNotsAreAnInputErrorNotACrash) {
  // Was SIGSEGV: the recursive condition reader ran out of stack.
  std::string text = R"({"id":"deep","clauses":[{"id":"c","when":)";
  for (int i = 0; i < 20000; ++i) text += R"({"not":)";
  text += R"({"metric":"tpp","op":">=","value":1})";
  text += std::string(20000, '}') + "]}";
  const fs::path f = work_dir() / "deep_rules.json";
  write(f, text);
  const Result r = probe("rules --rules " + f.string());
  expect_usage_error(r, "deep_rules.json: JSON nested deeper than 64 levels", "20000 nots");
}

TEST(Inputs, ConditionsNestedPastTheLimitNameTheClause) {
  // Within the JSON limit, past the condition limit: the condition reader's own bound.
  // The clause's own condition is 2 levels deep (all_of over comparisons): 15 more make 17.
  const Result deep = probe("rules --rules " + nested_rules(15, "deep_conditions.json").string());
  expect_usage_error(deep, "conditions nested deeper than 16 levels", "17 levels");
  EXPECT_NE(deep.err.find("deep_conditions.json: entry"), std::string::npos) << deep.err;
  // At the limit: accepted.
  const Result ok = probe("rules --rules " + nested_rules(14, "ok_conditions.json").string());
  EXPECT_EQ(ok.status, 0) << ok.err;
}

TEST(Inputs, DeepJsonIsRefusedByEveryJsonReader) {
  const fs::path f = work_dir() / "deep.json";
  write(f, std::string(100000, '[') + std::string(100000, ']'));
  for (const std::string flag : {"--chipdb", "--rules"}) {
    const Result r = probe("--list --no-plugins " + flag + " " + f.string());
    expect_usage_error(r, "deep.json: JSON nested deeper than 64 levels", flag);
  }
  const Result cpu = probe("--list --no-plugins --cpu-description " + f.string());
  expect_usage_error(cpu, "deep.json: JSON nested deeper than 64 levels", "--cpu-description");
}

TEST(Inputs, DeeplyNestedTopologyXmlIsAnInputErrorNotACrash) {
  // Was SIGSEGV: hwloc's XML importer recurses once per nested <object>.
  std::string xml = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<topology version=\"2.0\">\n";
  for (int i = 0; i < 100000; ++i) xml += "<object type=\"Group\">";
  for (int i = 0; i < 100000; ++i) xml += "</object>";
  xml += "</topology>\n";
  const fs::path f = work_dir() / "deep_topology.xml";
  write(f, xml);
  const Result r = probe("--list --no-plugins --topology " + f.string());
  expect_usage_error(r, "deep_topology.xml: XML nested deeper than 128 levels", "deep XML");
}

TEST(Inputs, TopologyXmlThatCrashesHwlocIsAnInputError) {
  // Found by fuzz_topology: hwloc 2.9 dereferences NULL on a NUMANode with a nodeset but no complete_nodeset
  // (here misspelt). Was SIGSEGV. Under ASan the forked copy's report goes to stderr, so only the status and
  // the message are checked, not that stderr is one line.
  const Result r = probe(std::string("--list --no-plugins --topology ") + PROBE_HWLOC_SEGV_XML);
  EXPECT_EQ(r.status, 2) << r.err;
  EXPECT_NE(r.err.find("hwloc_segv_no_complete_nodeset.xml: not a valid hwloc XML topology"), std::string::npos)
      << r.err;
}

// --- Files that are not files, or too large -----------------------------------------------------------------

TEST(Inputs, NonRegularFilesAreRefusedWithoutReadingThem) {
  // /dev/zero was read until memory ran out; a FIFO without a writer blocked forever.
  const fs::path fifo = work_dir() / "fifo";
  fs::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const fs::path dir = work_dir();
  for (const std::string flag : {"--rules", "--chipdb", "--topology", "--cpu-description"}) {
    for (const std::string file : {std::string("/dev/zero"), fifo.string(), dir.string()}) {
      const Result r = probe("--list --no-plugins " + flag + " " + file);
      expect_usage_error(r, file + ": not a regular file", flag + " " + file);
    }
  }
}

TEST(Inputs, FilesAboveTheSizeLimitAreRefused) {
  const fs::path big = work_dir() / "big.json";
  {
    std::ofstream out(big);
  }
  fs::resize_file(big, (std::uintmax_t{64} << 20) + 1);  // sparse: no disk used
  for (const std::string flag : {"--rules", "--chipdb", "--topology", "--cpu-description"}) {
    const Result r = probe("--list --no-plugins " + flag + " " + big.string());
    expect_usage_error(r, big.string() + ": larger than the 64 MiB limit", flag);
  }
  fs::remove(big);
}

// --- Numeric flags ------------------------------------------------------------------------------------------

struct ValueCase {
  const char* args;
  const char* message;
};

class InputsValues : public ::testing::TestWithParam<ValueCase> {};

TEST_P(InputsValues, ExitTwoWithTheFlagNamed) {
  const auto& c = GetParam();
  const Result r = probe("--list --no-plugins " + std::string(c.args));
  expect_usage_error(r, c.message, c.args);
  EXPECT_TRUE(r.out.empty()) << r.out;
}

INSTANTIATE_TEST_SUITE_P(
    Flags, InputsValues,
    ::testing::Values(
        // inf was cast to an integer; ~2^64/3 wrapped 3 × the array size to a few KiB.
        ValueCase{"--mem-size inf", "--mem-size: 'inf' is not a size"},
        ValueCase{"--mem-size nan", "--mem-size: 'nan' is not a size"},
        ValueCase{"--mem-size 6148914691236517888", "is above the maximum of 256 TiB"},
        ValueCase{"--mem-size 18446744073709551617", "is above the maximum of 256 TiB"},
        ValueCase{"--mem-size 1e30", "--mem-size: unknown suffix 'e30'"},
        ValueCase{"--mem-size -64M", "--mem-size: '-64M' is not a size"},
        ValueCase{"--mem-size 0x40M", "--mem-size: unknown suffix 'x40M'"},
        ValueCase{"--mem-size ' 64M'", "is not a size"}, ValueCase{"--mem-size 64.M", "is not a size"},
        ValueCase{"--mem-size 257T", "is above the maximum of 256 TiB"},
        ValueCase{"--mem-size 0.5K", "below the minimum of 1M"},
        // Parsed fine, but three of them cannot fit in this machine's memory.
        ValueCase{"--mem-size 200T", "more than the"},
        ValueCase{"--threads 1e3", "--threads"}, ValueCase{"--threads 65537", "out of range"},
        ValueCase{"--threads -1", "out of range"},
        ValueCase{"--die-area inf", "--die-area"}, ValueCase{"--die-area nan", "is not a number"},
        ValueCase{"--die-area 1e400", "out of range"}, ValueCase{"--die-area 0", "not a positive number"},
        ValueCase{"--die-area 1e6", "out of range"},
        ValueCase{"--derive-clock inf", "--derive-clock"}, ValueCase{"--derive-clock 0x10", "is not a number"},
        ValueCase{"--derive-clock 1e9", "out of range"}),
    [](const ::testing::TestParamInfo<ValueCase>& info) {
      std::string name;
      for (const char* p = info.param.args; *p && name.size() < 40; ++p) {
        name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
      }
      return std::to_string(info.index) + "_" + name;
    });

TEST(Inputs, FractionalSizesAndUnitsAreAccepted) {
  const fs::path f = work_dir() / "size.json";
  const Result r = probe("--quick --no-plugins --kernels mem.copy --mem-size 64.5MiB --json " + f.string());
  ASSERT_EQ(r.status, 0) << r.err;
  EXPECT_NE(slurp(f).find("(--mem-size)"), std::string::npos);
}

// --- Plugins ------------------------------------------------------------------------------------------------

TEST(Inputs, SecondPluginClaimingALoadedBackendNameIsRefused) {
  // Was two fake0 devices (and on a GPU node two cuda0).
  const fs::path f = work_dir() / "twin.json";
  const Result r = probe(std::string("--list --plugin-dir ") + PROBE_GOOD_PLUGINS + " --plugin-dir " +
                         PROBE_TWIN_PLUGINS + " --json " + f.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(slurp(f));
  int fake0 = 0;
  for (const auto& d : j["devices"]) fake0 += d["id"] == "fake0" ? 1 : 0;
  EXPECT_EQ(fake0, 1);
  bool refused = false;
  for (const auto& p : j["plugins"]) {
    if (p["path"].get<std::string>().find("probe_backend_fake_twin.so") == std::string::npos) continue;
    EXPECT_FALSE(p["loaded"].get<bool>());
    EXPECT_NE(p["reason"].get<std::string>().find("backend 'fake' is already loaded from"), std::string::npos)
        << p["reason"];
    refused = true;
  }
  EXPECT_TRUE(refused) << j["plugins"];
  EXPECT_NE(r.out.find("probe_backend_fake_twin.so not loaded: backend 'fake' is already loaded"), std::string::npos)
      << r.out;
}

TEST(Inputs, FoldersSearchedAreRecordedInTheReport) {
  const fs::path f = work_dir() / "folders.json";
  const fs::path not_a_folder = work_dir() / "plain_file";
  write(not_a_folder, "x");
  const Result r = probe(std::string("--list --plugin-dir ") + PROBE_GOOD_PLUGINS + " --json " + f.string(),
                         "PROBE_PLUGIN_PATH=/nonexistent/plugins::" + not_a_folder.string());
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(slurp(f));
  const json& folders = j["plugin_folders"];
  ASSERT_GE(folders.size(), 3U) << folders;
  EXPECT_EQ(folders[0]["path"], fs::path(PROBE_GOOD_PLUGINS).string());
  EXPECT_TRUE(folders[0]["found"].get<bool>());
  EXPECT_TRUE(folders[0]["readable"].get<bool>());
  EXPECT_EQ(folders[1]["path"], "/nonexistent/plugins");
  EXPECT_FALSE(folders[1]["found"].get<bool>());
  EXPECT_EQ(folders[1]["reason"], "not found");
  EXPECT_EQ(folders[2]["path"], not_a_folder.string());
  EXPECT_TRUE(folders[2]["found"].get<bool>());
  EXPECT_FALSE(folders[2]["readable"].get<bool>());
  EXPECT_EQ(folders[2]["reason"], "not a folder");
  EXPECT_NE(r.out.find("plugin folder " + not_a_folder.string() + " not searched: not a folder"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("plugin folders searched: "), std::string::npos) << r.out;
}

// Under LeakSanitizer (ci-sanitize) LSAN_OPTIONS names a suppressions file in the source tree, which nobody may
// not be able to read (a clone in a 0700 folder): LSan then fails the run. The file is copied where nobody reads it.
std::string lsan_options_for_nobody(const fs::path& readable_dir) {
  const char* env = std::getenv("LSAN_OPTIONS");
  if (env == nullptr) return {};
  std::string options = env;
  const std::string key = "suppressions=";
  const auto at = options.find(key);
  if (at == std::string::npos) return {};
  const auto start = at + key.size();
  const auto end = options.find(':', start);
  const fs::path supp = options.substr(start, end == std::string::npos ? std::string::npos : end - start);
  const fs::path copy = readable_dir / "lsan.supp";
  std::error_code ec;
  fs::copy_file(supp, copy, fs::copy_options::overwrite_existing, ec);
  if (ec) return {};
  ::chmod(copy.c_str(), 0644);
  options.replace(start, supp.string().size(), copy.string());
  return "LSAN_OPTIONS='" + options + "' ";
}

TEST(Inputs, UnreadablePluginFolderIsReported) {
  // Root lists a chmod-000 folder anyway: as root, probe runs as nobody (setpriv), else the test cannot see it.
  std::string as_user;
  if (::geteuid() == 0) {
    if (std::system("command -v setpriv >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "running as root without setpriv(1): root lists a chmod-000 folder anyway";
    }
    as_user = "setpriv --reuid=65534 --regid=65534 --clear-groups";
  }
  const fs::path out_dir = work_dir() / "locked_out";
  fs::create_directories(out_dir);
  ASSERT_EQ(::chmod(out_dir.c_str(), 0777), 0);  // nobody writes the report here
  if (!as_user.empty()) as_user = lsan_options_for_nobody(out_dir) + as_user;
  const fs::path dir = out_dir / "locked_plugins";
  fs::create_directories(dir);
  ASSERT_EQ(::chmod(dir.c_str(), 0), 0);
  const fs::path f = out_dir / "locked.json";
  const Result r = probe("--list --plugin-dir " + dir.string() + " --json " + f.string(), as_user);
  ::chmod(dir.c_str(), 0700);
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(slurp(f));
  ASSERT_TRUE(j.contains("plugin_folders") && j["plugin_folders"].is_array() && !j["plugin_folders"].empty())
      << j["plugins"];
  const json& folder = j["plugin_folders"][0];
  EXPECT_EQ(folder["path"], dir.string());
  EXPECT_TRUE(folder["found"].get<bool>());
  EXPECT_FALSE(folder["readable"].get<bool>());
  EXPECT_NE(folder["reason"].get<std::string>().find("Permission denied"), std::string::npos) << folder;
  EXPECT_NE(r.out.find("plugin folder " + dir.string() + " not searched: cannot list: Permission denied"),
            std::string::npos)
      << r.out;
}
