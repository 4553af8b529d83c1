// Sample statistics. The median is the headline figure and the interquartile range its spread (both robust to a
// stray sample slowed by preemption); min and max are kept so a reader can see the best run (what STREAM
// reports) and the worst.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "probe/measurement.hpp"

namespace probe {

Stats Stats::from_samples(std::vector<double> samples) {
  Stats s;
  s.samples = std::move(samples);
  if (s.samples.empty()) return s;
  std::vector<double> sorted = s.samples;
  std::sort(sorted.begin(), sorted.end());
  const std::size_t n = sorted.size();
  s.min = sorted.front();
  s.max = sorted.back();
  s.median = (n % 2 == 1) ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  s.mean = std::accumulate(sorted.begin(), sorted.end(), 0.0) / static_cast<double>(n);
  double ss = 0;
  for (double v : sorted) ss += (v - s.mean) * (v - s.mean);
  s.stddev = n > 1 ? std::sqrt(ss / static_cast<double>(n - 1)) : 0.0;
  auto quantile = [&](double q) {
    const double pos = q * static_cast<double>(n - 1);
    const auto lo = static_cast<std::size_t>(pos);
    const std::size_t hi = std::min(lo + 1, n - 1);
    return sorted[lo] + (pos - static_cast<double>(lo)) * (sorted[hi] - sorted[lo]);
  };
  s.q1 = quantile(0.25);
  s.q3 = quantile(0.75);
  s.rel_spread = s.median != 0 ? (s.q3 - s.q1) / std::abs(s.median) : 0.0;
  s.rel_range = s.median != 0 ? (s.max - s.min) / std::abs(s.median) : 0.0;
  return s;
}

}  // namespace probe
