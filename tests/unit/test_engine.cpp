// The engine with scripted runners: calibration, stopping rule, verification failures, exception isolation.
#include <gtest/gtest.h>

#include <functional>
#include <limits>
#include <stdexcept>

#include "kernels/cpu/cpu_kernels.hpp"
#include "probe/engine.hpp"
#include "probe/registry.hpp"

using namespace probe;

namespace {

// Time is a function of the iteration count and of the run number; verification can be made to fail on a run.
class ScriptedRunner : public SampleRunner {
 public:
  std::function<double(std::uint64_t iters, int run)> time = [](std::uint64_t i, int) { return 1e-6 * double(i); };
  int fail_on_run = -1;  // verify() fails after this run (0-based)
  bool fail_final = false;
  int runs = 0;
  double ops_per_iter = 100;

  double run(std::uint64_t iterations) override { return time(iterations, runs++); }
  std::optional<std::string> verify(std::uint64_t, bool final) override {
    if (final && fail_final) return "final result wrong";
    if (runs - 1 == fail_on_run) return "lane 3: got 1.5, expected 2.5";
    return std::nullopt;
  }
  double work(std::uint64_t iterations) const override { return ops_per_iter * double(iterations); }
};

RunPolicy small_policy() {
  RunPolicy p;
  p.warmup_s = 0.01;
  p.sample_s = 0.01;
  p.min_samples = 4;
  p.max_samples = 12;
  p.target_spread = 0.01;
  p.max_time_s = 0.5;
  return p;
}

}  // namespace

TEST(Engine, CalibratesToSampleDurationAndStopsWhenSpreadIsMet) {
  ScriptedRunner r;  // 1 µs per iteration, perfectly steady
  const auto o = run_sampling(r, small_policy());
  ASSERT_TRUE(o.ok) << o.failure;
  EXPECT_TRUE(o.spread_met);
  EXPECT_EQ(o.stats.samples.size(), 4u);  // min_samples, spread 0
  // One sample lasts about sample_s (10 ms = 10'000 iterations at 1 µs).
  EXPECT_GE(o.iterations, 9'000u);
  EXPECT_LE(o.iterations, 20'000u);
  // Rate = work / time = 100 ops per µs.
  EXPECT_DOUBLE_EQ(o.stats.median, 100.0 / 1e-6);
  EXPECT_GE(o.warmup_s, 0.01);
}

TEST(Engine, NoisySamplesRunToTheSampleLimit) {
  ScriptedRunner r;
  r.time = [](std::uint64_t i, int run) { return 1e-6 * double(i) * (run % 2 ? 1.1 : 0.9); };
  auto p = small_policy();
  p.max_time_s = 100;  // only the sample count stops it
  const auto o = run_sampling(r, p);
  ASSERT_TRUE(o.ok);
  EXPECT_FALSE(o.spread_met);
  EXPECT_EQ(o.stats.samples.size(), 12u);
  EXPECT_GT(o.stats.rel_spread, 0.1);
}

TEST(Engine, TimeBudgetStopsSampling) {
  ScriptedRunner r;
  r.time = [](std::uint64_t i, int run) { return 1e-6 * double(i) * (run % 2 ? 1.1 : 0.9); };
  auto p = small_policy();
  p.max_samples = 1000;
  p.max_time_s = 0.05;  // about five samples of 10 ms
  const auto o = run_sampling(r, p);
  ASSERT_TRUE(o.ok);
  EXPECT_GE(o.stats.samples.size(), 4u);
  EXPECT_LE(o.stats.samples.size(), 7u);
  EXPECT_GE(o.sampled_s, 0.05);
}

TEST(Engine, WrongResultInASampleFailsTheMeasurement) {
  ScriptedRunner r;
  r.fail_on_run = 0;
  auto o = run_sampling(r, small_policy());
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.failure.find("first run"), std::string::npos) << o.failure;
  EXPECT_NE(o.failure.find("lane 3"), std::string::npos);
  EXPECT_TRUE(o.stats.samples.empty());  // never a number

  ScriptedRunner late;
  late.fail_on_run = 40;  // well into sampling
  late.time = [](std::uint64_t i, int run) { return 1e-6 * double(i) * (run % 2 ? 1.1 : 0.9); };
  auto p = small_policy();
  p.max_samples = 1000;
  p.max_time_s = 100;
  o = run_sampling(late, p);
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.failure.find("sample"), std::string::npos) << o.failure;
  EXPECT_TRUE(o.stats.samples.empty());
}

TEST(Engine, FinalCheckFailureFailsTheMeasurement) {
  ScriptedRunner r;
  r.fail_final = true;
  const auto o = run_sampling(r, small_policy());
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.failure.find("final"), std::string::npos);
}

TEST(Engine, NonPositiveDurationIsAFailureNotAnInfiniteRate) {
  ScriptedRunner r;
  r.time = [](std::uint64_t i, int run) { return run > 30 ? 0.0 : 1e-6 * double(i); };
  auto p = small_policy();
  p.target_spread = -1;  // never met
  p.max_samples = 1000;
  p.max_time_s = 100;
  const auto o = run_sampling(r, p);
  EXPECT_FALSE(o.ok);
  EXPECT_NE(o.failure.find("non-positive"), std::string::npos);
}

// A real CPU kernel behind the engine, with its result corrupted after a run: verification must catch it.
namespace {
class InjectingRunner : public SampleRunner {
 public:
  InjectingRunner(std::unique_ptr<cpu::ComputeKernel> k, int inject_on) : m_k(std::move(k)), m_inject_on(inject_on) {
    m_k->prepare(12345);
  }
  double run(std::uint64_t it) override {
    const auto t0 = std::chrono::steady_clock::now();
    m_k->run(it);
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (m_runs++ == m_inject_on) m_k->inject_error();
    return t > 0 ? t : 1e-9;
  }
  std::optional<std::string> verify(std::uint64_t it, bool) override { return m_k->verify(it); }
  double work(std::uint64_t it) const override { return m_k->info().ops_per_iter() * double(it); }

 private:
  std::unique_ptr<cpu::ComputeKernel> m_k;
  int m_inject_on;
  int m_runs = 0;
};
}  // namespace

TEST(Engine, RealKernelWithInjectedWrongResultIsFailed) {
  const auto f = cpu::detect_features();
  for (const char* id : {"fma.fp64", "fma.fp32", "dot.bf16", "dot.int8", "amx.bf16", "amx.int8", "amx.fp16"}) {
    const auto* info = cpu::select_compute_kernel(id, f, cpu::Isa::amx);
    if (!info) continue;
    auto p = small_policy();
    p.sample_s = 0.002;
    p.warmup_s = 0.002;
    InjectingRunner clean(cpu::make_compute_kernel(*info), -1);
    const auto good = run_sampling(clean, p);
    EXPECT_TRUE(good.ok) << id << ": " << good.failure;
    InjectingRunner bad(cpu::make_compute_kernel(*info), 5);
    const auto o = run_sampling(bad, p);
    EXPECT_FALSE(o.ok) << id;
    EXPECT_NE(o.failure.find("verification failed"), std::string::npos) << o.failure;
  }
}

namespace {
class ThrowingDevice : public Device {
 public:
  const DeviceInfo& info() const noexcept override { return m_info; }
  std::span<const KernelSpec> kernels() const noexcept override { return m_specs; }
  Measurement measure(const KernelSpec&, const RunPolicy&, RunContext&) override {
    throw std::runtime_error("driver fell over");
  }
  DeviceInfo m_info{.id = "bad0"};
  std::vector<KernelSpec> m_specs{KernelSpec{"fma.fp32", "FP32 FMA", DType::fp32}};
};
class LyingDevice : public ThrowingDevice {
 public:
  Measurement measure(const KernelSpec& s, const RunPolicy&, RunContext&) override {
    Measurement m;
    m.spec = s;
    m.status = Status::ok;  // but no samples
    return m;
  }
};
class BrokenBackend : public Backend {
 public:
  std::string_view name() const noexcept override { return "broken"; }
  Availability availability() noexcept override { return {true, "", "1"}; }
  std::vector<std::unique_ptr<Device>> devices() override { throw std::runtime_error("enumeration exploded"); }
};
class GoodBackend : public Backend {
 public:
  std::string_view name() const noexcept override { return "good"; }
  Availability availability() noexcept override { return {true, "", "1"}; }
  std::vector<std::unique_ptr<Device>> devices() override {
    std::vector<std::unique_ptr<Device>> v;
    v.push_back(std::make_unique<ThrowingDevice>());
    return v;
  }
};
class AbsentBackend : public Backend {
 public:
  std::string_view name() const noexcept override { return "absent"; }
  Availability availability() noexcept override { return {false, "no driver (cudaErrorInsufficientDriver)", ""}; }
  std::vector<std::unique_ptr<Device>> devices() override { throw std::logic_error("must not be called"); }
};
}  // namespace

TEST(Registry, ExceptionsFromADeviceBecomeAFailedMeasurement) {
  ThrowingDevice d;
  RunContext ctx;
  const auto m = measure_safely(d, d.m_specs[0], RunPolicy{}, ctx);
  EXPECT_EQ(m.status, Status::failed);
  EXPECT_NE(m.reason.find("driver fell over"), std::string::npos);
  LyingDevice l;
  const auto m2 = measure_safely(l, l.m_specs[0], RunPolicy{}, ctx);
  EXPECT_EQ(m2.status, Status::failed);
  EXPECT_NE(m2.reason.find("without samples"), std::string::npos);
}

namespace {
class SloppyDevice : public ThrowingDevice {
 public:
  std::vector<double> samples;
  Measurement measure(const KernelSpec& s, const RunPolicy&, RunContext&) override {
    Measurement m;
    m.spec = s;
    m.status = Status::ok;
    m.stats.samples = samples;
    m.stats.median = 42;  // inconsistent with the samples: the core recomputes
    return m;
  }
};
}  // namespace

TEST(Registry, StatisticsAreRecomputedAndInvalidSamplesRejected) {
  SloppyDevice d;
  RunContext ctx;
  d.samples = {1, 2, 3};
  auto m = measure_safely(d, d.m_specs[0], RunPolicy{}, ctx);
  ASSERT_EQ(m.status, Status::ok);
  EXPECT_DOUBLE_EQ(m.stats.median, 2);
  d.samples = {1, std::numeric_limits<double>::quiet_NaN()};
  m = measure_safely(d, d.m_specs[0], RunPolicy{}, ctx);
  EXPECT_EQ(m.status, Status::failed);
  EXPECT_NE(m.reason.find("invalid sample"), std::string::npos);
  d.samples = {1, -3};
  EXPECT_EQ(measure_safely(d, d.m_specs[0], RunPolicy{}, ctx).status, Status::failed);
}

TEST(Registry, OneFailingBackendDoesNotHideTheOthers) {
  std::vector<SourcedBackend> b{{std::make_shared<BrokenBackend>(), "a.so"},
                                {std::make_shared<AbsentBackend>(), "built-in"},
                                {std::make_shared<GoodBackend>(), "b.so"}};
  const auto en = enumerate(b);
  ASSERT_EQ(en.backends.size(), 3u);
  EXPECT_FALSE(en.backends[0].available);
  EXPECT_NE(en.backends[0].reason.find("enumeration exploded"), std::string::npos);
  EXPECT_FALSE(en.backends[1].available);
  EXPECT_EQ(en.backends[1].reason, "no driver (cudaErrorInsufficientDriver)");
  EXPECT_TRUE(en.backends[2].available);
  EXPECT_EQ(en.backends[2].devices, 1);
  ASSERT_EQ(en.devices.size(), 1u);
  EXPECT_EQ(en.devices[0].device->info().id, "bad0");
}

TEST(Engine, TimestampsAreIso8601Utc) {
  const std::string t = utc_now_iso8601();
  ASSERT_EQ(t.size(), 24u) << t;
  EXPECT_EQ(t[4], '-');
  EXPECT_EQ(t[10], 'T');
  EXPECT_EQ(t.back(), 'Z');
}

namespace {
// A device of any kind that samples a scripted runner (no real timing) and states a theoretical peak, as the
// CPU backend and the GPU plugins do: the above-theoretical check is the core's, the same for all of them.
class ScriptedPeakDevice : public ThrowingDevice {
 public:
  ScriptedRunner runner;
  double theoretical = 0;
  Measurement measure(const KernelSpec& s, const RunPolicy& p, RunContext&) override {
    const SamplingOutcome o = run_sampling(runner, p);
    Measurement m;
    m.spec = s;
    m.status = o.ok ? Status::ok : Status::failed;
    m.stats = o.stats;
    m.theoretical = theoretical;
    m.theoretical_basis = "scripted";
    return m;
  }
};
}  // namespace

TEST(Registry, AMedianAboveItsOwnTheoreticalPeakIsFlaggedForEveryDeviceKind) {
  for (const char* kind : {"cpu", "gpu"}) {
    ScriptedPeakDevice d;
    d.m_info.kind = kind;
    d.runner.time = [](std::uint64_t i, int) { return 1e-6 * double(i); };  // exactly 1e8 ops/s (100 ops per µs)
    d.theoretical = 0.5e8;                                                  // a wrong peak: 200% of it measured
    RunContext ctx;
    const auto m = measure_safely(d, d.m_specs[0], small_policy(), ctx);
    ASSERT_EQ(m.status, Status::ok) << m.reason;
    ASSERT_TRUE(m.above_theoretical) << kind;
    EXPECT_NEAR(m.above_theoretical->ratio, 2.0, 1e-9);
    EXPECT_DOUBLE_EQ(m.above_theoretical->tolerance, kAboveTheoreticalTolerance);
    EXPECT_NE(m.above_theoretical->message.find("measured above theoretical"), std::string::npos);
    EXPECT_NE(m.above_theoretical->message.find(std::string(kind) == "cpu" ? "per-cycle table or the clock is wrong for this CPU"
                                                                         : "per-unit rate table or the clock is wrong for this device"),
              std::string::npos)
        << m.above_theoretical->message;
  }
}

TEST(Registry, AMedianWithinSpreadPlusToleranceOfItsPeakIsNotFlagged) {
  ScriptedPeakDevice d;
  d.m_info.kind = "cpu";
  d.runner.time = [](std::uint64_t i, int) { return 1e-6 * double(i); };  // 1e8 ops/s, no spread
  RunContext ctx;
  d.theoretical = 1e8 / 1.019;  // 101.9%: inside the 2% tolerance
  EXPECT_FALSE(measure_safely(d, d.m_specs[0], small_policy(), ctx).above_theoretical);
  d.theoretical = 1e8 / 1.021;  // 102.1%, spread 0: beyond it
  EXPECT_TRUE(measure_safely(d, d.m_specs[0], small_policy(), ctx).above_theoretical);
  d.theoretical = 1e8;  // at the peak
  EXPECT_FALSE(measure_safely(d, d.m_specs[0], small_policy(), ctx).above_theoretical);
}

TEST(Registry, TheSpreadWidensTheAllowance) {
  // Alternating samples: a 10% interquartile spread lets a median 10% over the peak pass, not 15%.
  Measurement m;
  m.status = Status::ok;
  m.stats = Stats::from_samples({0.95e8, 1.05e8, 0.95e8, 1.05e8, 0.95e8, 1.05e8});
  ASSERT_GT(m.stats.rel_spread, 0.09);
  m.theoretical = m.stats.median / (1 + kAboveTheoreticalTolerance + m.stats.rel_spread - 0.001);
  EXPECT_FALSE(check_above_theoretical(m, "gpu"));
  m.theoretical = m.stats.median / (1 + kAboveTheoreticalTolerance + m.stats.rel_spread + 0.001);
  const auto a = check_above_theoretical(m, "gpu");
  ASSERT_TRUE(a);
  EXPECT_DOUBLE_EQ(a->rel_spread, m.stats.rel_spread);
  m.theoretical.reset();  // nothing to contradict
  EXPECT_FALSE(check_above_theoretical(m, "gpu"));
}

TEST(Engine, AStopIsNoticedBetweenRuns) {
  ScriptedRunner r;
  int asked = 0;
  const auto o = run_sampling(r, small_policy(), [&] { return ++asked > 3; });
  EXPECT_FALSE(o.ok);
  EXPECT_TRUE(o.interrupted);
  EXPECT_EQ(o.failure, "interrupted");
  EXPECT_EQ(r.runs, 3);  // no run started after the stop
}

namespace {
// Its first kernel fails with a sticky error; any later measure() call is a test failure.
class PoisonedDevice : public ThrowingDevice {
 public:
  int calls = 0;
  Measurement measure(const KernelSpec& s, const RunPolicy&, RunContext&) override {
    ++calls;
    Measurement m;
    m.spec = s;
    m.status = Status::failed;
    m.reason = "cudaErrorIllegalAddress: an illegal memory access was encountered";
    m.device_aborted = true;
    return m;
  }
};
}  // namespace

TEST(Registry, AStickyErrorSkipsTheRestOfTheDevice) {
  PoisonedDevice d;
  const std::vector<KernelSpec> ks{{"fma.fp32", "FP32 FMA", DType::fp32}, {"fma.fp64", "FP64 FMA", DType::fp64},
                                   {"mem.copy", "Copy", DType::fp64}};
  RunContext ctx;
  std::vector<Measurement> got;
  KernelLoopEvents events;
  events.result = [&](Measurement m) { got.push_back(std::move(m)); };
  EXPECT_EQ(measure_kernels(d, ks, RunPolicy{}, ctx, events), 3u);
  EXPECT_EQ(d.calls, 1);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].status, Status::failed);
  for (std::size_t i = 1; i < 3; ++i) {
    EXPECT_EQ(got[i].status, Status::skipped);
    EXPECT_EQ(got[i].spec.id, ks[i].id);
    EXPECT_EQ(got[i].reason, "device aborted after fma.fp32: cudaErrorIllegalAddress: an illegal memory access was "
                             "encountered");
  }
}

TEST(Registry, AStopDropsTheMeasurementItCutShortAndStartsNoOther) {
  ThrowingDevice d;  // fails every kernel: once stopped, that failure is the stop's doing, not a result
  const std::vector<KernelSpec> ks{{"fma.fp32", "FP32 FMA", DType::fp32}, {"fma.fp64", "FP64 FMA", DType::fp64}};
  bool stop = false;
  RunContext ctx;
  ctx.stop_requested = [&] { return stop; };
  std::vector<Measurement> got;
  KernelLoopEvents events;
  events.begin = [&](const KernelSpec&) { stop = true; };  // the signal arrives while the first kernel runs
  events.result = [&](Measurement m) { got.push_back(std::move(m)); };
  EXPECT_EQ(measure_kernels(d, ks, RunPolicy{}, ctx, events), 0u);
  EXPECT_TRUE(got.empty());
}
