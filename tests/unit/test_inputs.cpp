// The shared input limits and parsers: bounded file reads, JSON nesting, numeric flag values, the plugin search
// path, a recorded report's text, and worker threads that cannot be started.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <system_error>
#include <thread>

#include "cli_values.hpp"
#include "json_io.hpp"
#include "probe/error.hpp"
#include "probe/input_file.hpp"
#include "probe/json_text.hpp"
#include "probe/plugin_loader.hpp"
#include "probe/registry.hpp"
#include "worker_pool.hpp"

namespace fs = std::filesystem;
using namespace probe;

namespace {

fs::path temp_file(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / ("probe_unit_inputs_" + std::to_string(::getpid()));
  fs::create_directories(dir);
  const fs::path p = dir / name;
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

template <class F>
std::string input_error(F&& f) {
  try {
    f();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no InputError)";
}

}  // namespace

TEST(InputFile, ReadsARegularFileWhole) {
  const fs::path p = temp_file("small.txt", std::string("a\0b", 3));
  EXPECT_EQ(read_input_file(p), std::string("a\0b", 3));
}

TEST(InputFile, RefusesWhatIsNotARegularFile) {
  EXPECT_EQ(input_error([] { (void)read_input_file("/dev/zero"); }), "/dev/zero: not a regular file");
  EXPECT_EQ(input_error([] { (void)read_input_file("/"); }), "/: not a regular file");
  EXPECT_NE(input_error([] { (void)read_input_file("/nonexistent/x"); }).find("/nonexistent/x: cannot open"),
            std::string::npos);
}

TEST(InputFile, RefusesFilesAboveTheLimit) {
  const fs::path p = temp_file("limit.txt", std::string(1025, 'x'));
  EXPECT_EQ(read_input_file(p, 1025).size(), 1025U);
  EXPECT_EQ(input_error([&] { (void)read_input_file(p, 1024); }), p.string() + ": larger than the 1024 byte limit");
  EXPECT_EQ(kMaxInputFileBytes, std::uint64_t{64} << 20);
}

TEST(JsonDepth, CountsArraysAndObjectsButNotBracketsInStrings) {
  EXPECT_NO_THROW(check_json_depth(std::string(64, '[') + std::string(64, ']'), "f"));
  EXPECT_EQ(input_error([] { check_json_depth(std::string(65, '['), "f.json"); }),
            "f.json: JSON nested deeper than 64 levels (at byte 64)");
  EXPECT_NO_THROW(check_json_depth("{\"a\":\"" + std::string(1000, '[') + "\\\"[[\"}", "f"));
  // Closers never buy depth back below zero.
  EXPECT_THROW(check_json_depth(std::string(1000, ']') + std::string(65, '{'), "f"), InputError);
}

TEST(XmlDepth, CountsElementsNotCommentsOrAttributes) {
  const auto nested = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "<object a=\"x>y\" b='/>'>";
    for (int i = 0; i < n; ++i) s += "</object>";
    return s;
  };
  EXPECT_NO_THROW(check_xml_depth("<?xml version=\"1.0\"?><!DOCTYPE t><!-- <a><b> --><t>" + nested(127) + "</t>", "t"));
  EXPECT_EQ(input_error([&] { check_xml_depth("<t>" + nested(128) + "</t>", "topology file t.xml"); }),
            "topology file t.xml: XML nested deeper than 128 levels (at byte 2924)");
  // Self-closing elements and CDATA do not nest.
  std::string flat = "<t>";
  for (int i = 0; i < 1000; ++i) flat += "<pu os_index=\"1\"/><![CDATA[<x><y>]]>";
  EXPECT_NO_THROW(check_xml_depth(flat + "</t>", "t"));
  // Unclosed elements count, valid XML or not.
  std::string unclosed;
  for (int i = 0; i < 200; ++i) unclosed += "<a>";
  EXPECT_THROW(check_xml_depth(unclosed, "t"), InputError);
}

TEST(JsonText, SyntaxErrorsAndDepthNameTheFile) {
  EXPECT_NE(input_error([] { (void)parse_json_text("{", "x.json"); }).find("x.json: not valid JSON"),
            std::string::npos);
  EXPECT_NE(input_error([] { (void)parse_json_text(std::string(100000, '['), "x.json"); }).find("nested deeper"),
            std::string::npos);
  EXPECT_EQ(parse_json_text("{\"a\":[1]}", "x.json")["a"][0], 1);
  // Found by fuzz_rules and fuzz_cpu_description: nlohmann throws out_of_range, not parse_error, for this.
  EXPECT_NE(input_error([] { (void)parse_json_text("{\"a\":1e3084}", "x.json"); }).find("x.json: not valid JSON"),
            std::string::npos);
}

TEST(ParseSize, AcceptsUnitsAndFractions) {
  EXPECT_EQ(parse_size("1048576", "--mem-size"), 1048576U);
  EXPECT_EQ(parse_size("64M", "--mem-size"), 64ULL << 20);
  EXPECT_EQ(parse_size("64MiB", "--mem-size"), 64ULL << 20);
  EXPECT_EQ(parse_size("1.5G", "--mem-size"), 3ULL << 29);
  EXPECT_EQ(parse_size("2048K", "--mem-size"), 2ULL << 20);
  EXPECT_EQ(parse_size("256T", "--mem-size"), kMaxSizeBytes);
  EXPECT_EQ(parse_size("1.0000000000000000000000001M", "--mem-size"), 1ULL << 20);
  EXPECT_EQ(parse_size("1.00000095367431640625M", "--mem-size"), (1ULL << 20) + 1);  // exactly 1 byte more
  EXPECT_EQ(parse_size("1.00000095367431640624M", "--mem-size"), 1ULL << 20);       // rounded down
  EXPECT_EQ(parse_size("1048576.9B", "--mem-size"), 1ULL << 20);
}

TEST(ParseSize, RefusesNonFiniteNegativeAndAbsurdValues) {
  for (const char* bad : {"inf", "nan", "-1M", "+1M", "", "M", ".5M", "1.M", " 1M", "1M ", "0x10M", "1e9", "1e9M",
                          "1,5M", "1..5M"}) {
    EXPECT_THROW((void)parse_size(bad, "--mem-size"), InputError) << bad;
  }
  EXPECT_NE(input_error([] { (void)parse_size("6148914691236517888", "--mem-size"); }).find("above the maximum"),
            std::string::npos);
  EXPECT_NE(input_error([] { (void)parse_size(std::string(5000, '9'), "--mem-size"); }).find("above the maximum"),
            std::string::npos);
  EXPECT_NE(input_error([] { (void)parse_size("256.0000001T", "--mem-size"); }).find("above the maximum"),
            std::string::npos);
  EXPECT_NE(input_error([] { (void)parse_size("1023K", "--mem-size"); }).find("below the minimum"), std::string::npos);
  EXPECT_EQ(input_error([] { (void)parse_size("12X", "--mem-size"); }),
            "--mem-size: unknown suffix 'X' in '12X' (use K, M, G or T)");
}

TEST(ParseNumber, FiniteAndInRangeOnly) {
  EXPECT_DOUBLE_EQ(parse_number("814", "--die-area", 0, 1e5), 814.0);
  EXPECT_DOUBLE_EQ(parse_number("8.14e2", "--die-area", 0, 1e5), 814.0);
  EXPECT_DOUBLE_EQ(parse_number("+1.5", "--x", 0, 2), 1.5);
  for (const char* bad : {"inf", "-inf", "nan", "infinity", "0x10", "1e", "e5", ".", "", " 1", "1 ", "1e400", "-1",
                          "2e5", "1.5.5"}) {
    EXPECT_THROW((void)parse_number(bad, "--die-area", 0, 1e5), InputError) << bad;
  }
}

TEST(ParseCount, WholeNumbersInRangeOnly) {
  EXPECT_EQ(parse_count("4", "--threads", 1, 65536), 4);
  for (const char* bad : {"0", "-1", "65537", "1e3", "1.0", "", " 1", "99999999999999999999999", "four"}) {
    EXPECT_THROW((void)parse_count(bad, "--threads", 1, 65536), InputError) << bad;
  }
}

TEST(SearchPath, SplitsOnColonsAndSkipsEmptyEntries) {
  const auto dirs = split_search_path("/a::/b/../c:");
  ASSERT_EQ(dirs.size(), 2U);
  EXPECT_EQ(dirs[0], fs::path("/a"));
  EXPECT_EQ(dirs[1], fs::path("/c"));
  EXPECT_TRUE(split_search_path("").empty());
  EXPECT_TRUE(split_search_path(":::").empty());
}

TEST(ReportText, DeepOrBrokenReportsAreInputErrors) {
  EXPECT_NE(input_error([] { (void)report::report_from_json_text(std::string(5000, '{'), "r.json"); })
                .find("r.json: JSON nested deeper"),
            std::string::npos);
  EXPECT_NE(input_error([] { (void)report::report_from_json_text("[]", "r.json"); }).find("r.json"), std::string::npos);
  EXPECT_EQ(input_error([] { (void)report::read_report_file("/dev/zero"); }), "/dev/zero: not a regular file");
}

// --- Worker threads that cannot be started --------------------------------------------------------------------

namespace {

// Starts threads normally until the n-th, which fails as std::thread does under a pids cgroup limit.
cpu::WorkerPool::ThreadStarter failing_at(int n) {
  return [n, count = 0](std::function<void()> body) mutable {
    if (++count == n) throw std::system_error(std::make_error_code(std::errc::resource_unavailable_try_again));
    return std::thread(std::move(body));
  };
}

class PoolDevice : public Device {
 public:
  explicit PoolDevice(std::shared_ptr<const Topology> topo) : m_topo(std::move(topo)) {}
  const DeviceInfo& info() const noexcept override { return m_info; }
  std::span<const KernelSpec> kernels() const noexcept override { return m_specs; }
  Measurement measure(const KernelSpec&, const RunPolicy&, RunContext&) override {
    cpu::WorkerPool pool(*m_topo, {0, 0, 0, 0}, failing_at(3));
    return {};
  }

 private:
  std::shared_ptr<const Topology> m_topo;
  DeviceInfo m_info{.id = "pool0"};
  std::vector<KernelSpec> m_specs{KernelSpec{"fma.fp32", "FP32 FMA", DType::fp32}};
};

}  // namespace

TEST(WorkerPool, AThreadThatCannotStartIsASystemErrorNotTerminate) {
  const Topology topo;
  try {
    cpu::WorkerPool pool(topo, {0, 0, 0, 0}, failing_at(3));
    FAIL() << "no exception";
  } catch (const SystemError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot start worker thread 3 of 4"), std::string::npos) << e.what();
  }
  // The pool still works when every thread starts.
  cpu::WorkerPool pool(topo, {0, 0}, failing_at(99));
  std::atomic<int> ran{0};
  pool.run([&](int) { ++ran; });
  EXPECT_EQ(ran.load(), 2);
}

TEST(WorkerPool, AThreadThatCannotStartIsAFailedMeasurementWithTheReason) {
  PoolDevice device(std::make_shared<const Topology>());
  RunContext ctx;
  const Measurement m = measure_safely(device, device.kernels()[0], RunPolicy::for_budget(Budget::quick), ctx);
  EXPECT_EQ(m.status, Status::failed);
  EXPECT_NE(m.reason.find("cannot start worker thread 3 of 4"), std::string::npos) << m.reason;
}

TEST(WorkerPool, RlimitNprocInAChildMakesThreadCreationFailCleanly) {
  // The real failure, not the test hook: RLIMIT_NPROC counts threads too. Root is exempt from it, so a root
  // child first becomes nobody.
  const Topology topo;
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    if (::geteuid() == 0 && (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0)) {
      ::_exit(6);
    }
    const rlimit one{1, 1};
    if (::setrlimit(RLIMIT_NPROC, &one) != 0) ::_exit(3);
    try {
      cpu::WorkerPool pool(topo, {0, 0, 0, 0});
      ::_exit(4);  // started anyway: the limit did not bite
    } catch (const SystemError&) {
      ::_exit(0);
    }
    ::_exit(5);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status)) << "child killed by signal " << WTERMSIG(status);
  if (WEXITSTATUS(status) == 4) GTEST_SKIP() << "RLIMIT_NPROC did not stop thread creation here";
  if (WEXITSTATUS(status) == 6) GTEST_SKIP() << "running as root and cannot become nobody to be subject to RLIMIT_NPROC";
  EXPECT_EQ(WEXITSTATUS(status), 0);
}
