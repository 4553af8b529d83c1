// The plugin loader against real modules built in tests/plugins: one good backend, and one module per way a
// plugin can be refused. Every refusal must be a record with a precise reason, never an exception.
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include "probe/plugin.hpp"
#include "probe/plugin_loader.hpp"

namespace {

namespace fs = std::filesystem;

const fs::path kGoodDir = PROBE_TEST_PLUGIN_GOOD_DIR;
const fs::path kBrokenDir = PROBE_TEST_PLUGIN_BROKEN_DIR;

::testing::AssertionResult refused_with(const fs::path& file, const std::string& reason_part) {
  const probe::LoadedBackend lb = probe::load_plugin(file);
  if (lb.record.loaded || lb.backend) return ::testing::AssertionFailure() << file << " loaded";
  if (lb.record.path != file.string()) return ::testing::AssertionFailure() << "path " << lb.record.path;
  if (lb.record.reason.find(reason_part) == std::string::npos) {
    return ::testing::AssertionFailure() << "reason \"" << lb.record.reason << "\" lacks \"" << reason_part << '"';
  }
  if (lb.record.reason.find('\n') != std::string::npos) return ::testing::AssertionFailure() << "multi-line reason";
  return ::testing::AssertionSuccess() << lb.record.reason;
}

// Sets or unsets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : m_name(name) {
    if (const char* old = std::getenv(name)) m_old = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (m_old) {
      ::setenv(m_name.c_str(), m_old->c_str(), 1);
    } else {
      ::unsetenv(m_name.c_str());
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  std::string m_name;
  std::optional<std::string> m_old;
};

TEST(PluginLoader, GoodPluginLoads) {
  const fs::path file = kGoodDir / "probe_backend_fake.so";
  const probe::LoadedBackend lb = probe::load_plugin(file);
  ASSERT_TRUE(lb.record.loaded) << lb.record.reason;
  ASSERT_NE(lb.backend, nullptr);
  EXPECT_EQ(lb.record.path, file.string());
  EXPECT_EQ(lb.record.name, "fake");
  EXPECT_EQ(lb.record.reason, "");
  EXPECT_EQ(lb.backend->name(), "fake");
  const probe::Availability a = lb.backend->availability();
  EXPECT_TRUE(a.available);
  EXPECT_EQ(a.version, "fake 1.0");

  auto devices = lb.backend->devices();
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0]->info().id, "fake0");
  EXPECT_EQ(devices[1]->info().id, "fake1");
  ASSERT_EQ(devices[0]->kernels().size(), 1u);
  const probe::KernelSpec spec = devices[0]->kernels().front();
  EXPECT_EQ(spec.id, "fma.fp32");

  probe::RunContext ctx;
  const probe::Measurement m = devices[0]->measure(spec, probe::RunPolicy{}, ctx);
  EXPECT_TRUE(m.ok()) << m.reason;
  EXPECT_EQ(m.stats.samples.size(), 5u);
  EXPECT_DOUBLE_EQ(m.stats.median, 1.0e12);
  EXPECT_THROW(static_cast<void>(devices[1]->measure(spec, probe::RunPolicy{}, ctx)), std::runtime_error);
}

TEST(PluginLoader, BackendOutlivesItsDevicesAndTheirOrderOfDestruction) {
  // Devices made by the plugin stay usable after the backend is gone: the module is never unmapped.
  std::vector<std::unique_ptr<probe::Device>> devices;
  {
    const probe::LoadedBackend lb = probe::load_plugin(kGoodDir / "probe_backend_fake.so");
    ASSERT_TRUE(lb.record.loaded) << lb.record.reason;
    devices = lb.backend->devices();
  }
  ASSERT_EQ(devices.size(), 2u);
  EXPECT_EQ(devices[0]->info().name, "Fake Accelerator 0");
}

TEST(PluginLoader, ScanOfTheGoodFolderFindsTheFakeBackend) {
  const probe::PluginScan scan = probe::load_plugins({kGoodDir});
  ASSERT_EQ(scan.records.size(), 1u);
  ASSERT_EQ(scan.backends.size(), 1u);
  EXPECT_TRUE(scan.records[0].loaded) << scan.records[0].reason;
  EXPECT_EQ(scan.backends[0].backend->name(), "fake");
  EXPECT_EQ(scan.backends[0].record, scan.records[0]);
}

TEST(PluginLoader, MissingEntryPoint) {
  EXPECT_TRUE(refused_with(kBrokenDir / "probe_backend_noentry.so", "no entry point probe_backend_entry_v1"));
}

TEST(PluginLoader, WrongAbiVersion) {
  EXPECT_TRUE(refused_with(kBrokenDir / "probe_backend_badabi.so", "plugin ABI version 99, this probe expects " + std::to_string(PROBE_PLUGIN_ABI_VERSION)));
}

TEST(PluginLoader, WrongProbeVersion) {
  EXPECT_TRUE(refused_with(kBrokenDir / "probe_backend_badversion.so", "built for probe 0.0.1, this is probe "));
  EXPECT_EQ(probe::load_plugin(kBrokenDir / "probe_backend_badversion.so").record.name, "badversion")
      << "the entry answered, so its name is known";
}

TEST(PluginLoader, UndefinedSymbol) {
  EXPECT_TRUE(refused_with(kBrokenDir / "probe_backend_undefined.so", "dlopen failed: "));
  EXPECT_TRUE(refused_with(kBrokenDir / "probe_backend_undefined.so", "probe_test_symbol_that_exists_nowhere"));
}

TEST(PluginLoader, CreateThrows) {
  EXPECT_TRUE(refused_with(kBrokenDir / "probe_backend_throws.so", "create() threw: no such runtime on this machine"));
  EXPECT_EQ(probe::load_plugin(kBrokenDir / "probe_backend_throws.so").record.name, "throws");
}

TEST(PluginLoader, NotAnElfFile) {
  EXPECT_TRUE(refused_with(kBrokenDir / "probe_backend_garbage.so", "dlopen failed: "));
  EXPECT_EQ(probe::load_plugin(kBrokenDir / "probe_backend_garbage.so").record.name, "probe_backend_garbage")
      << "no entry answered: the file stem";
}

TEST(PluginLoader, MissingFile) {
  EXPECT_TRUE(refused_with(kBrokenDir / "probe_backend_nonexistent.so", "dlopen failed: "));
}

TEST(PluginLoader, ScanOfTheBrokenFolderRefusesEveryFileAndNeverThrows) {
  probe::PluginScan scan;
  ASSERT_NO_THROW(scan = probe::load_plugins({kBrokenDir}));
  EXPECT_TRUE(scan.backends.empty());
  std::vector<std::string> names;
  for (const auto& r : scan.records) {
    EXPECT_FALSE(r.loaded) << r.path;
    EXPECT_FALSE(r.reason.empty()) << r.path;
    names.push_back(fs::path(r.path).filename().string());
  }
  // One record per plugin-named file, in name order; not_a_plugin.so is not a candidate.
  const std::vector<std::string> expected{"probe_backend_badabi.so",     "probe_backend_badversion.so",
                                          "probe_backend_garbage.so",    "probe_backend_noentry.so",
                                          "probe_backend_throws.so",     "probe_backend_undefined.so"};
  EXPECT_EQ(names, expected);
}

TEST(PluginLoader, MissingFoldersAreSkippedAndTheFirstFolderWins) {
  const fs::path missing = kGoodDir / "no_such_folder";
  const probe::PluginScan scan = probe::load_plugins({missing, kGoodDir, kGoodDir / ".." / "good"});
  ASSERT_EQ(scan.records.size(), 2u);
  ASSERT_EQ(scan.backends.size(), 1u);
  EXPECT_TRUE(scan.records[0].loaded);
  EXPECT_EQ(scan.records[0].path, (kGoodDir / "probe_backend_fake.so").string());
  EXPECT_FALSE(scan.records[1].loaded);
  EXPECT_EQ(scan.records[1].reason, "shadowed by " + (kGoodDir / "probe_backend_fake.so").string());
}

TEST(PluginLoader, NoFoldersNoRecords) {
  const probe::PluginScan scan = probe::load_plugins({});
  EXPECT_TRUE(scan.records.empty());
  EXPECT_TRUE(scan.backends.empty());
}

TEST(PluginLoader, DefaultDirsHonourProbePluginPath) {
  const ScopedEnv env("PROBE_PLUGIN_PATH", "/opt/a/plugins::/opt/b/../b/plugins:");
  const std::vector<fs::path> dirs = probe::default_plugin_dirs("/usr/local/bin/probe");
  const std::vector<fs::path> expected{"/opt/a/plugins", "/opt/b/plugins", "/usr/local/lib/probe/plugins",
                                       "/usr/local/bin/lib/probe/plugins"};
  EXPECT_EQ(dirs, expected);
}

TEST(PluginLoader, DefaultDirsWithoutTheVariable) {
  const ScopedEnv env("PROBE_PLUGIN_PATH", nullptr);
  const std::vector<fs::path> dirs = probe::default_plugin_dirs("/work/build/probe");
  const std::vector<fs::path> expected{"/work/lib/probe/plugins", "/work/build/lib/probe/plugins"};
  EXPECT_EQ(dirs, expected);
}

}  // namespace
