// Faults in plugins and interrupts, end to end: real plugin modules that hang, crash, abort or poison their device
// (tests/plugins/fault_backend.cpp), and real signals sent to a running probe.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "run_probe.hpp"
#include <string>
#include <thread>
#include <vector>

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kGood = PROBE_GOOD_PLUGINS;
const std::string kFaults = PROBE_FAULT_PLUGINS;

// A folder of its own per test, so that "no temporary file is left" is checked on exactly what probe wrote.
fs::path fresh_dir(const std::string& name) {
  const fs::path d = fs::temp_directory_path() / ("probe_test_faults_" + std::to_string(::getpid())) / name;
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

using probe_test::Result;
using probe_test::slurp;
using probe_test::validate;

struct Running {
  pid_t pid = -1;
  fs::path out, err;
};

// Starts probe with the arguments (shell-quoted by the caller) in the background; stdout and stderr go to files.
Running start(const std::string& args, const fs::path& dir, const std::string& env = {}) {
  Running r;
  r.out = dir / "stdout.txt";
  r.err = dir / "stderr.txt";
  const std::string cmd = env + " exec " + std::string(PROBE_EXE) + " " + args + " </dev/null >" + r.out.string() +
                          " 2>" + r.err.string();
  r.pid = ::fork();
  if (r.pid == 0) {
    ::execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
    ::_exit(127);
  }
  return r;
}

// The exit status (128 + signal when killed by one), or -1 when it did not end within `limit` (then it is killed).
int wait_for(const Running& r, std::chrono::seconds limit) {
  const auto until = Clock::now() + limit;
  int st = 0;
  while (::waitpid(r.pid, &st, WNOHANG) == 0) {
    if (Clock::now() > until) {
      ::kill(r.pid, SIGKILL);
      ::waitpid(r.pid, &st, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

bool wait_for_file(const fs::path& p, std::chrono::seconds limit) {
  const auto until = Clock::now() + limit;
  while (!fs::exists(p)) {
    if (Clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

// Under AddressSanitizer (the ci-sanitize stage) a worker's SIGSEGV is caught by ASan's own handler, which reports
// and exits with status 1. These tests are about what the parent does when a worker dies of the signal, so the
// probes they start leave SIGSEGV/SIGBUS to the default action (no effect on builds without ASan).
class CrashSignalsToDefault : public ::testing::Environment {
 public:
  void SetUp() override {
    const char* old = std::getenv("ASAN_OPTIONS");
    std::string options = old != nullptr && *old != '\0' ? std::string(old) + ":" : std::string();
    options += "handle_segv=0:handle_sigbus=0";
    ::setenv("ASAN_OPTIONS", options.c_str(), 1);
  }
};
[[maybe_unused]] ::testing::Environment* const kCrashSignalsToDefault =
    ::testing::AddGlobalTestEnvironment(new CrashSignalsToDefault);

Result probe(const std::string& args, const fs::path& dir) {
  const Running r = start(args, dir);
  Result res;
  res.status = wait_for(r, std::chrono::seconds(120));
  res.out = slurp(r.out);
  res.err = slurp(r.err);
  return res;
}


const json* measurement(const json& report, const std::string& device, const std::string& kernel) {
  for (const auto& d : report["devices"]) {
    if (d["id"] != device) continue;
    for (const auto& m : d["measurements"]) {
      if (m["kernel"]["id"] == kernel) return &m;
    }
  }
  return nullptr;
}

std::string reason(const json* m) { return m ? (*m)["reason"].get<std::string>() : std::string("(absent)"); }
std::string status(const json* m) { return m ? (*m)["status"].get<std::string>() : std::string("(absent)"); }

// Nothing but what probe was asked to write (and the test's own files): no temporary report left behind.
void expect_no_temporary(const fs::path& dir) {
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    EXPECT_TRUE(name == "report.json" || name == "stdout.txt" || name == "stderr.txt" || name == "marker")
        << "left behind: " << name;
  }
}

bool contains(const std::string& s, const std::string& piece) { return s.find(piece) != std::string::npos; }

}  // namespace

// A kernel that never returns: failed "timed out after 2 s", its device's other kernel skipped, every other
// device (the CPU, the good plugin, the hung plugin's second device) measured; exit 1.
TEST(Faults, HungKernelTimesOutAndEverythingElseIsMeasured) {
  const fs::path dir = fresh_dir("hang");
  const fs::path file = dir / "report.json";
  const auto t0 = Clock::now();
  const Result r = probe("--quick --kernel-timeout 2 --kernels fma.fp32,fma.fp64 --device 'cpu0,fake0,hang*' "
                         "--plugin-dir " + kGood + " --plugin-dir " + kFaults + "/hang --json " + file.string(),
                         dir);
  EXPECT_EQ(r.status, 1) << r.err << r.out;
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(60)) << "the watchdog did not stop the hung kernel";
  ASSERT_EQ(validate(file), 0);
  const json j = json::parse(slurp(file));
  const json* hung = measurement(j, "hang0", "fma.fp32");
  EXPECT_EQ(status(hung), "failed");
  EXPECT_EQ(reason(hung), "timed out after 2 s");
  const json* after = measurement(j, "hang0", "fma.fp64");
  EXPECT_EQ(status(after), "skipped");
  EXPECT_EQ(reason(after), "device aborted after fma.fp32: timed out after 2 s");
  EXPECT_EQ(status(measurement(j, "hang1", "fma.fp32")), "ok") << "the backend's other device, by a new worker";
  EXPECT_EQ(status(measurement(j, "fake0", "fma.fp32")), "ok");
  EXPECT_EQ(status(measurement(j, "cpu0", "fma.fp32")), "ok");
  EXPECT_EQ(status(measurement(j, "cpu0", "fma.fp64")), "ok");
  EXPECT_EQ(j["status"], "complete");
  EXPECT_EQ(j["watchdog"]["kernel_timeout_s"], 2);
  EXPECT_EQ(j["watchdog"]["source"], "--kernel-timeout");
  EXPECT_TRUE(contains(r.out, "a kernel is stopped after 2 s (--kernel-timeout)")) << r.out;
  EXPECT_TRUE(contains(r.out, "timed out after 2 s")) << r.out;
  expect_no_temporary(dir);
}

// A kernel that crashes its process (a null write, an abort): a failed line naming the signal and the kernel, the
// rest of that device skipped, everything else reported.
class FaultsCrash : public ::testing::TestWithParam<std::pair<const char*, const char*>> {};

TEST_P(FaultsCrash, IsAFailedLineAndTheOthersAreReported) {
  const auto [kind, signal] = GetParam();
  const fs::path dir = fresh_dir(kind);
  const fs::path file = dir / "report.json";
  const Result r = probe(std::string("--quick --kernels fma.fp32,fma.fp64 --device 'fake0,") + kind +
                             "*' --plugin-dir " + kGood + " --plugin-dir " + kFaults + "/" + kind + " --json " +
                             file.string(),
                         dir);
  EXPECT_EQ(r.status, 1) << r.err << r.out;
  ASSERT_EQ(validate(file), 0);
  const json j = json::parse(slurp(file));
  const std::string id = std::string(kind);
  const json* crashed = measurement(j, id + "0", "fma.fp32");
  EXPECT_EQ(status(crashed), "failed");
  EXPECT_EQ(reason(crashed), std::string("worker crashed: ") + signal + " while measuring fma.fp32");
  EXPECT_EQ(reason(measurement(j, id + "0", "fma.fp64")),
            std::string("device aborted after fma.fp32: worker crashed: ") + signal);
  EXPECT_EQ(status(measurement(j, id + "0", "fma.fp64")), "skipped");
  EXPECT_EQ(status(measurement(j, id + "1", "fma.fp32")), "ok");
  EXPECT_EQ(status(measurement(j, "fake0", "fma.fp32")), "ok");
  EXPECT_TRUE(contains(r.out, std::string("worker crashed: ") + signal)) << r.out;
}

INSTANTIATE_TEST_SUITE_P(Signals, FaultsCrash,
                         ::testing::Values(std::make_pair("segv", "SIGSEGV"), std::make_pair("abort", "SIGABRT")),
                         [](const auto& info) { return std::string(info.param.first); });

// A sticky error (the context is poisoned): the kernel fails with the device's error, the later kernels of that
// device are skipped saying why instead of each failing the same way; the backend's other device is measured.
TEST(Faults, StickyErrorSkipsTheRestOfTheDevice) {
  const fs::path dir = fresh_dir("sticky");
  const fs::path file = dir / "report.json";
  const Result r = probe("--quick --kernels fma.fp32,fma.fp64 --device 'sticky*' --plugin-dir " + kFaults +
                             "/sticky --json " + file.string(),
                         dir);
  EXPECT_EQ(r.status, 1) << r.err << r.out;
  ASSERT_EQ(validate(file), 0);
  const json j = json::parse(slurp(file));
  const json* first = measurement(j, "sticky0", "fma.fp32");
  EXPECT_EQ(status(first), "failed");
  EXPECT_TRUE(contains(reason(first), "cudaErrorIllegalAddress")) << reason(first);
  ASSERT_NE(first, nullptr);
  EXPECT_EQ((*first)["device_aborted"], true);
  const json* later = measurement(j, "sticky0", "fma.fp64");
  EXPECT_EQ(status(later), "skipped");
  EXPECT_TRUE(contains(reason(later), "device aborted after fma.fp32: fault_backend.cpp: cudaDeviceSynchronize() "
                                      "failed: cudaErrorIllegalAddress"))
      << reason(later);
  EXPECT_EQ(status(measurement(j, "sticky1", "fma.fp32")), "ok");
}

// A plugin whose enumeration crashes: a failed backend line; the plugin record and the other backends stay.
TEST(Faults, EnumerationCrashIsAFailedBackendLine) {
  const fs::path dir = fresh_dir("enumcrash");
  const fs::path file = dir / "report.json";
  const Result r = probe("--list --plugin-dir " + kGood + " --plugin-dir " + kFaults + "/enumcrash --json " +
                             file.string(),
                         dir);
  ASSERT_EQ(r.status, 0) << r.err << r.out;
  ASSERT_EQ(validate(file), 0);
  const json j = json::parse(slurp(file));
  bool seen = false;
  for (const auto& b : j["backends"]) {
    if (b["name"] != "enumcrash") continue;
    seen = true;
    EXPECT_FALSE(b["available"].get<bool>());
    EXPECT_EQ(b["reason"], "enumeration failed: worker crashed: SIGSEGV");
  }
  EXPECT_TRUE(seen) << j["backends"];
  // Both test plugins loaded (the build tree's own CUDA/HIP plugins, when built, are found too and not counted).
  int loaded = 0;
  for (const auto& p : j["plugins"]) {
    if (p["name"] == "fake" || p["name"] == "enumcrash") loaded += p["loaded"].get<bool>() ? 1 : 0;
  }
  EXPECT_EQ(loaded, 2) << j["plugins"];
  EXPECT_TRUE(contains(r.out, "unavailable: enumeration failed: worker crashed: SIGSEGV")) << r.out;
  EXPECT_TRUE(contains(r.out, "fake0")) << r.out;
}

// SIGINT / SIGTERM while the hang plugin's kernel sleeps, after the good device's kernel completed: exit 130 /
// 143, the report says interrupted, keeps the completed measurement and lists the kernels not reached.
class FaultsInterrupt : public ::testing::TestWithParam<std::pair<int, const char*>> {};

TEST_P(FaultsInterrupt, KeepsWhatCompletedAndListsWhatWasNotReached) {
  const auto [sig, name] = GetParam();
  const fs::path dir = fresh_dir(name);
  const fs::path file = dir / "report.json";
  const fs::path marker = dir / "marker";
  const Running run = start("--quick --kernels fma.fp32 --device 'fake0,hang*' --plugin-dir " + kGood +
                            " --plugin-dir " + kFaults + "/hang --json " + file.string(),
                        dir, "PROBE_TEST_FAULT_MARKER=" + marker.string());
  ASSERT_TRUE(wait_for_file(marker, std::chrono::seconds(60))) << slurp(run.err);
  ::kill(run.pid, sig);
  const int st = wait_for(run, std::chrono::seconds(30));
  EXPECT_EQ(st, 128 + sig) << slurp(run.err);
  ASSERT_EQ(validate(file), 0);
  const json j = json::parse(slurp(file));
  EXPECT_EQ(j["status"], "interrupted");
  EXPECT_EQ(j["interrupted_by"], name);
  EXPECT_EQ(status(measurement(j, "fake0", "fma.fp32")), "ok");
  EXPECT_EQ(measurement(j, "hang0", "fma.fp32"), nullptr) << "an interrupted kernel has no result";
  const json expected = json::parse(R"([{"device": "hang0", "kernel": "fma.fp32"},
                                        {"device": "hang1", "kernel": "fma.fp32"}])");
  EXPECT_EQ(j["not_reached"], expected);
  const std::string out = slurp(run.out);
  EXPECT_TRUE(contains(out, std::string("INTERRUPTED by ") + name)) << out;
  EXPECT_TRUE(contains(out, "  hang1 fma.fp32\n")) << out;
  expect_no_temporary(dir);
}

INSTANTIATE_TEST_SUITE_P(Signals, FaultsInterrupt,
                         ::testing::Values(std::make_pair(SIGINT, "SIGINT"), std::make_pair(SIGTERM, "SIGTERM")),
                         [](const auto& info) { return std::string(info.param.second); });

// The CPU is measured in process: a stop is noticed between samples, the run ends within seconds (a thorough
// budget would take minutes), and what completed is kept.
TEST(Faults, SigintStopsInProcessCpuMeasurement) {
  const fs::path dir = fresh_dir("cpu");
  const fs::path file = dir / "report.json";
  const Running run = start("--thorough --no-plugins --kernels 'fma.*,mem.*' --json " + file.string(), dir);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  ::kill(run.pid, SIGINT);
  const auto t0 = Clock::now();
  const int st = wait_for(run, std::chrono::seconds(30));
  EXPECT_EQ(st, 130) << slurp(run.err);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(10)) << "the stop was not noticed between samples";
  ASSERT_EQ(validate(file), 0);
  const json j = json::parse(slurp(file));
  EXPECT_EQ(j["status"], "interrupted");
  EXPECT_FALSE(j["not_reached"].empty());
  for (const auto& m : j["devices"][0]["measurements"]) {
    EXPECT_NE(m["reason"], "interrupted") << "a measurement cut short is not reached, not failed";
  }
  expect_no_temporary(dir);
}

// A second Ctrl-C exits at once: 130, and never a half-written report or a temporary file.
TEST(Faults, SecondSigintExitsAtOnceLeavingNoTemporaryFile) {
  const fs::path dir = fresh_dir("twice");
  const fs::path file = dir / "report.json";
  const fs::path marker = dir / "marker";
  const Running run = start("--quick --kernels fma.fp32 --device 'hang*' --plugin-dir " + kFaults + "/hang --json " +
                            file.string(),
                        dir, "PROBE_TEST_FAULT_MARKER=" + marker.string());
  ASSERT_TRUE(wait_for_file(marker, std::chrono::seconds(60))) << slurp(run.err);
  ::kill(run.pid, SIGINT);
  ::kill(run.pid, SIGINT);
  EXPECT_EQ(wait_for(run, std::chrono::seconds(30)), 130);
  if (fs::exists(file)) EXPECT_EQ(validate(file), 0);  // written whole before the second signal, or not at all
  expect_no_temporary(dir);
  // The hung worker went with it (its parent-death signal): nothing is left holding the marker's folder busy.
}

TEST(Faults, HelpDocumentsTheWatchdogAndTheInterruptExitStatuses) {
  const fs::path dir = fresh_dir("help");
  const Result r = probe("--help", dir);
  EXPECT_EQ(r.status, 0);
  for (const char* s : {"--kernel-timeout", "130, 143", "SIGINT", "SIGTERM"}) {
    EXPECT_TRUE(contains(r.out, s)) << s << "\n" << r.out;
  }
  EXPECT_FALSE(contains(r.out, "--probe-worker")) << "the worker mode is internal";
  const Result bad = probe("--no-plugins --kernel-timeout 0 --list", dir);
  EXPECT_EQ(bad.status, 2);
  EXPECT_TRUE(contains(bad.err, "--kernel-timeout")) << bad.err;
}

// The limit stated is the budget's own unless --kernel-timeout gives one; with --no-plugins no worker runs and no
// watchdog is stated.
TEST(Faults, TheDefaultLimitComesFromTheBudget) {
  const fs::path dir = fresh_dir("default");
  const fs::path file = dir / "report.json";
  const Result r = probe("--list --plugin-dir " + kGood + " --json " + file.string(), dir);
  ASSERT_EQ(r.status, 0) << r.err;
  const json j = json::parse(slurp(file));
  EXPECT_EQ(j["watchdog"]["kernel_timeout_s"], 92);
  EXPECT_EQ(j["watchdog"]["source"], "the default budget");
  const Result none = probe("--list --no-plugins --format json", dir);
  ASSERT_EQ(none.status, 0) << none.err;
  EXPECT_TRUE(json::parse(none.out)["watchdog"].is_null());
}
