// The NVML sensor sampler of the sustained phase (probes/cuda/nvml.cpp) against the stand-in NVML (fake_nvml.cpp,
// found by the module's own dlopen through LD_LIBRARY_PATH, set by the test registration), and its summary: the
// traces (min/median/max), the clock event reasons and which of them count as throttling. No GPU, no CUDA.
#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <thread>

#include "nvml.hpp"

using probe::SustainedPhase;
using probe::cuda::Nvml;

namespace {

// Runs the sampler for `ms` milliseconds at `period_ms` and summarises it as the sustained phase does.
SustainedPhase sample_for(int ms, int period_ms) {
  const Nvml nvml;
  EXPECT_TRUE(nvml.available()) << nvml.why();
  void* dev = nvml.device("0000:17:00.0");
  EXPECT_NE(dev, nullptr);
  const double max_clock = nvml.read_static(dev).max_sm_clock_hz.value_or(0);
  EXPECT_EQ(max_clock, 1980e6);
  Nvml::Sampler sampler(nvml, dev, period_ms);
  std::this_thread::sleep_for(std::chrono::milliseconds(ms));
  SustainedPhase p;
  probe::cuda::record_sustained_sensors(p, sampler.stop(), period_ms, max_clock);
  return p;
}

}  // namespace

// The stand-in's healthy H100 under tensor load: clocks 1755-1815 MHz of 1980, idle + software power cap reported.
TEST(NvmlSampler, TracesAHealthyGpuAtTenHertzOrMoreWithoutAThrottleNote) {
  ::unsetenv("FAKE_NVML_REASONS");
  ::unsetenv("FAKE_NVML_SM_CLOCKS");
  const SustainedPhase p = sample_for(400, 20);
  EXPECT_GE(p.core_clock_hz.samples, 4);       // 20 ms period over 0.4 s: ~20, at least 10 Hz on a loaded machine
  EXPECT_GE(p.sample_rate_hz, 10.0);
  EXPECT_EQ(p.core_clock_hz.min, 1755e6);
  EXPECT_EQ(p.core_clock_hz.max, 1815e6);
  EXPECT_GE(p.core_clock_hz.median, 1755e6);
  EXPECT_LE(p.core_clock_hz.median, 1815e6);
  EXPECT_EQ(p.memory_clock_hz.median, 2619e6);
  EXPECT_EQ(p.memory_clock_hz.samples, p.core_clock_hz.samples);
  EXPECT_GE(p.power_w.min, 650);
  EXPECT_LE(p.power_w.max, 700);
  EXPECT_GE(p.temperature_c.max, 60);
  EXPECT_EQ(p.clock_event_reasons, (std::vector<std::string>{"GPU idle", "software power cap"}));
  EXPECT_TRUE(p.throttled_by.empty());  // a power cap at 89-92% of the maximum clock is not throttling
  EXPECT_NE(p.sensors.find("20 ms"), std::string::npos);
}

TEST(NvmlSampler, AThermalSlowdownAndALowCappedClockAreThrottling) {
  ::setenv("FAKE_NVML_REASONS", "64", 1);  // 0x64: software power cap, software and hardware thermal slowdown
  ::setenv("FAKE_NVML_SM_CLOCKS", "1200,1300", 1);
  const SustainedPhase p = sample_for(200, 20);
  EXPECT_EQ(p.core_clock_hz.min, 1200e6);
  EXPECT_EQ(p.throttled_by, (std::vector<std::string>{"software thermal slowdown", "hardware thermal slowdown",
                                                      "software power cap"}));
  ::unsetenv("FAKE_NVML_REASONS");
  ::unsetenv("FAKE_NVML_SM_CLOCKS");
}

// The summary rules alone (no library needed).
TEST(NvmlSummary, TraceIsMinMedianMax) {
  const auto t = probe::trace_of({3, 1, 2, 10});
  EXPECT_EQ(t.samples, 4);
  EXPECT_EQ(t.min, 1);
  EXPECT_EQ(t.median, 2.5);
  EXPECT_EQ(t.max, 10);
  EXPECT_EQ(probe::trace_of({}).samples, 0);
  EXPECT_EQ(probe::trace_of({5, 7, 6}).median, 6);
}

TEST(NvmlSummary, OnlyReasonsThatHoldTheClockDownCount) {
  using probe::cuda::throttling_reasons;
  // Benign: idle, application clocks, sync boost, display clock; power cap with the clock at >= 80% of max.
  EXPECT_TRUE(throttling_reasons(0x1 | 0x2 | 0x10 | 0x100, 1.0e9, 1.98e9).empty());
  EXPECT_TRUE(throttling_reasons(0x4, 1.6e9, 1.98e9).empty());
  EXPECT_EQ(throttling_reasons(0x4, 1.5e9, 1.98e9), std::vector<std::string>{"software power cap"});
  EXPECT_EQ(throttling_reasons(0x4, 1.9e9, 0), std::vector<std::string>{"software power cap"});  // max unknown
  EXPECT_EQ(throttling_reasons(0x8, 1.98e9, 1.98e9), std::vector<std::string>{"hardware slowdown"});
  EXPECT_EQ(throttling_reasons(0x80, 1.98e9, 1.98e9), std::vector<std::string>{"hardware power brake"});
  EXPECT_EQ(probe::cuda::clock_event_reason_list(0x1 | 0x10000), (std::vector<std::string>{"GPU idle", "reason bits 0x10000"}));
}
