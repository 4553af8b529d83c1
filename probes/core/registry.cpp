#include "probe/registry.hpp"

#include <cmath>
#include <exception>
#include <fmt/format.h>

#include "probe/engine.hpp"
#include "probe/error.hpp"

namespace probe {

Enumeration enumerate(const std::vector<SourcedBackend>& backends) {
  Enumeration out;
  for (const auto& sb : backends) {
    BackendStatus st;
    st.source = sb.source;
    try {
      st.name = std::string(sb.backend->name());
      const Availability a = sb.backend->availability();
      st.available = a.available;
      st.reason = a.reason;
      st.version = a.version;
      if (a.available) {
        for (auto& d : sb.backend->devices()) {
          if (!d) continue;
          out.devices.push_back(DeviceHandle{sb.backend, std::move(d)});
          ++st.devices;
        }
      }
    } catch (const std::exception& e) {
      st.available = false;
      st.reason = fmt::format("enumeration failed: {}", e.what());
    } catch (...) {
      st.available = false;
      st.reason = "enumeration failed: unknown exception";
    }
    out.backends.push_back(std::move(st));
  }
  return out;
}

Measurement measure_safely(Device& device, const KernelSpec& spec, const RunPolicy& policy,
                           RunContext& ctx) noexcept {
  const std::string started = utc_now_iso8601();
  auto failed = [&](std::string reason) {
    Measurement m;
    m.spec = spec;
    m.status = Status::failed;
    m.reason = std::move(reason);
    m.conditions.started_at = started;
    m.conditions.finished_at = utc_now_iso8601();
    return m;
  };
  try {
    Measurement m = device.measure(spec, policy, ctx);
    if (m.status != Status::ok) return m;
    if (m.stats.samples.empty()) return failed("device reported ok without samples");
    for (double v : m.stats.samples) {
      if (!std::isfinite(v) || v <= 0) return failed(fmt::format("device reported an invalid sample ({})", v));
    }
    // The statistics are the core's, whatever a plugin filled in: one definition for every backend.
    m.stats = Stats::from_samples(std::move(m.stats.samples));
    // Likewise the check against the theoretical peak: one rule for every backend, whatever a plugin set.
    m.above_theoretical = check_above_theoretical(m, device.info().kind);
    return m;
  } catch (const DeviceAbortedError& e) {
    try {
      Measurement m = failed(fmt::format("exception from device: {}", e.what()));
      m.device_aborted = true;
      return m;
    } catch (...) {
    }
  } catch (const std::exception& e) {
    try {
      return failed(fmt::format("exception from device: {}", e.what()));
    } catch (...) {
    }
  } catch (...) {
  }
  try {
    return failed("unknown exception from device");
  } catch (...) {
    return Measurement{};
  }
}

Measurement skipped_after_abort(const KernelSpec& spec, std::string_view after_kernel, std::string_view why) {
  Measurement m;
  m.spec = spec;
  m.status = Status::skipped;
  m.reason = fmt::format("device aborted after {}: {}", after_kernel, why);
  return m;
}

std::size_t measure_kernels(Device& device, const std::vector<KernelSpec>& kernels, const RunPolicy& policy,
                            RunContext& ctx, const KernelLoopEvents& events) {
  std::size_t i = 0;
  for (; i < kernels.size(); ++i) {
    if (ctx.stop_requested()) return i;
    events.begin(kernels[i]);
    Measurement m = measure_safely(device, kernels[i], policy, ctx);
    // A measurement that completed before the stop is kept; one the stop cut short is not a failure.
    if (ctx.stop_requested() && !m.ok()) return i;
    const bool aborted = m.device_aborted;
    const std::string why = m.reason;
    events.result(std::move(m));
    if (aborted) {
      for (std::size_t j = i + 1; j < kernels.size(); ++j) {
        events.result(skipped_after_abort(kernels[j], kernels[i].id, why));
      }
      return kernels.size();
    }
  }
  return i;
}

}  // namespace probe
