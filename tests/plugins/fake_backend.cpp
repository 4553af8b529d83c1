// A working backend plugin for the tests: backend "fake", device fake0 measures "fma.fp32" with fixed samples,
// device fake1's measure() throws (the engine must survive a device that breaks its no-throw promise).
#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <utility>

#include "probe/device.hpp"
#include "probe/plugin.hpp"
#include "probe/version.hpp"

namespace {

using namespace probe;

// Stats::from_samples lives in probe_core, which a plugin does not link (the core belongs to the executable,
// and a second copy inside a module is a trap), so the few fields are computed here.
Stats stats_of(std::vector<double> samples) {
  Stats s;
  s.samples = samples;
  if (samples.empty()) return s;
  std::sort(samples.begin(), samples.end());
  const std::size_t n = samples.size();
  s.min = samples.front();
  s.max = samples.back();
  s.median = n % 2 == 1 ? samples[n / 2] : (samples[n / 2 - 1] + samples[n / 2]) / 2;
  s.mean = std::accumulate(samples.begin(), samples.end(), 0.0) / static_cast<double>(n);
  double sq = 0;
  for (const double x : samples) sq += (x - s.mean) * (x - s.mean);
  s.stddev = n > 1 ? std::sqrt(sq / static_cast<double>(n - 1)) : 0.0;
  s.rel_spread = s.median > 0 ? (s.max - s.min) / s.median : 0.0;
  return s;
}

KernelSpec fma_fp32() {
  KernelSpec k;
  k.id = "fma.fp32";
  k.title = "FP32 FMA";
  k.dtype = DType::fp32;
  k.unit = Unit::ops_per_s;
  k.kind = KernelClass::compute;
  k.counting = "2 FLOP per FMA lane";
  return k;
}

class FakeDevice final : public Device {
 public:
  FakeDevice(int index, bool explodes) : m_explodes(explodes) {
    m_info.id = "fake" + std::to_string(index);
    m_info.backend = "fake";
    m_info.kind = "accelerator";
    m_info.name = "Fake Accelerator " + std::to_string(index);
    m_info.vendor = "probe tests";
    m_info.arch = "fake";
    m_info.units = 4;
    m_info.unit_name = "units";
    m_info.properties = {{"memory", "1 GiB"}};
    m_kernels.push_back(fma_fp32());
  }

  [[nodiscard]] const DeviceInfo& info() const noexcept override { return m_info; }
  [[nodiscard]] std::span<const KernelSpec> kernels() const noexcept override { return m_kernels; }

  Measurement measure(const KernelSpec& spec, const RunPolicy& /*policy*/, RunContext& ctx) override {
    if (m_explodes) throw std::runtime_error("fake device exploded");
    ctx.progress(m_info.id + ": " + spec.id);
    Measurement m;
    m.spec = spec;
    if (spec.id != "fma.fp32") {
      m.status = Status::skipped;
      m.reason = "the fake device only knows fma.fp32";
      return m;
    }
    m.status = Status::ok;
    m.variant = "fake";
    m.stats = stats_of({1.00e12, 1.02e12, 0.98e12, 1.01e12, 0.99e12});
    m.conditions.threads = 1;
    m.conditions.iterations = 1000;
    m.conditions.work_per_sample = 1.0e9;
    m.conditions.clock_source = "none";
    m.theoretical = 1.1e12;
    m.theoretical_basis = "fake: 4 units × 275 GFLOP/s";
    return m;
  }

 private:
  DeviceInfo m_info;
  std::vector<KernelSpec> m_kernels;
  bool m_explodes;
};

class FakeBackend final : public Backend {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "fake"; }
  Availability availability() noexcept override { return {true, {}, "fake 1.0"}; }
  std::vector<std::unique_ptr<Device>> devices() override {
    std::vector<std::unique_ptr<Device>> out;
    out.push_back(std::make_unique<FakeDevice>(0, false));
    out.push_back(std::make_unique<FakeDevice>(1, true));
    return out;
  }
};

}  // namespace

PROBE_DEFINE_PLUGIN("fake", FakeBackend)
