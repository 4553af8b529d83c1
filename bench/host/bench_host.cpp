// Host-side costs that scale with a report: statistics over many samples, JSON rendering of a large report.
// They run between kernel samples or once per run, so they must stay negligible next to a measurement.
#include <benchmark/benchmark.h>

#include <random>

#include "json_io.hpp"
#include "probe/measurement.hpp"

namespace {

std::vector<double> samples(std::size_t n) {
  std::mt19937_64 rng(42);
  std::normal_distribution<double> d(1e11, 1e9);
  std::vector<double> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void BM_StatsFromSamples(benchmark::State& state) {
  const auto v = samples(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) benchmark::DoNotOptimize(probe::Stats::from_samples(v));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_StatsFromSamples)->Arg(10)->Arg(100)->Arg(10000);

void BM_ReportToJson(benchmark::State& state) {
  probe::report::Report r;
  r.tool_version = "0.0.0";
  for (int d = 0; d < state.range(0); ++d) {
    probe::report::DeviceReport dr;
    dr.info.id = "dev" + std::to_string(d);
    for (int k = 0; k < 12; ++k) {
      probe::Measurement m;
      m.spec.id = "k." + std::to_string(k);
      m.status = probe::Status::ok;
      m.stats = probe::Stats::from_samples(samples(100));
      dr.measurements.push_back(m);
    }
    r.devices.push_back(dr);
  }
  for (auto _ : state) benchmark::DoNotOptimize(probe::report::to_json_text(r));
}
BENCHMARK(BM_ReportToJson)->Arg(1)->Arg(8);

}  // namespace
