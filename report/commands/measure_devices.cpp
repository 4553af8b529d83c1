// The measurement loop of probe [--report]: built-in devices in this process, each plugin backend's devices in
// its worker (restarted after a fault, stopped by the watchdog), with one progress line and interrupts.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <fmt/format.h>

#include "devices.hpp"
#include "interrupt.hpp"

namespace probe::cli {
namespace {

// A single line on stderr, rewritten in place; only when stderr is a terminal.
class Progress {
 public:
  explicit Progress(bool enabled) : m_enabled(enabled) {}
  ~Progress() { clear(); }
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  void show(std::string_view text) {
    if (!m_enabled) return;
    std::fprintf(stderr, "\r\033[K%.*s", static_cast<int>(text.size()), text.data());
    std::fflush(stderr);
    m_shown = true;
  }
  void clear() {
    if (m_enabled && m_shown) std::fputs("\r\033[K", stderr);
    m_shown = false;
  }

 private:
  bool m_enabled;
  bool m_shown = false;
};

// The selected kernels no measurement reached before the interrupt.
void list_not_reached(const std::vector<Target>& targets, const Selection& selection,
                      const std::vector<report::DeviceReport>& results, report::Report& rep) {
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (!selection.device(targets[i])) continue;
    for (const std::size_t k : selection.kernels(targets[i])) {
      const std::string& id = targets[i].kernels[k].id;
      const auto& ms = results[i].measurements;
      if (std::none_of(ms.begin(), ms.end(), [&](const Measurement& m) { return m.spec.id == id; })) {
        rep.not_reached.push_back({targets[i].info.id, id});
      }
    }
  }
}

}  // namespace

void measure_devices(std::vector<Target>& targets, const Selection& selection, const RunPolicy& policy,
                     bool show_progress, report::Report& rep) {
  Progress progress(show_progress && ::isatty(STDERR_FILENO) == 1);
  std::size_t total = 0, finished = 0;
  for (const auto& t : targets) total += selection.device(t) ? selection.kernels(t).size() : 0;
  std::vector<report::DeviceReport> results(targets.size());
  for (std::size_t i = 0; i < targets.size(); ++i) results[i].info = targets[i].info;
  auto begin = [&](std::size_t i, const KernelSpec& k) {
    progress.show(fmt::format("probe [{}/{}] {} {}", finished + 1, total, targets[i].info.id, k.id));
  };
  auto record = [&](std::size_t i, Measurement m) {
    ++finished;
    results[i].measurements.push_back(std::move(m));
  };
  auto detail = [&](std::string_view what) {
    progress.show(fmt::format("probe [{}/{}] {}", std::min(finished + 1, total), total, what));
  };
  for (std::size_t i = 0; i < targets.size() && !stop_requested();) {
    Target& t = targets[i];
    if (t.local != nullptr) {
      if (selection.device(t)) {
        std::vector<KernelSpec> kernels;
        for (const std::size_t k : selection.kernels(t)) kernels.push_back(t.kernels[k]);
        RunContext ctx;
        ctx.progress = detail;
        ctx.stop_requested = [] { return stop_requested(); };
        KernelLoopEvents events;
        events.begin = [&](const KernelSpec& k) { begin(i, k); };
        events.result = [&](Measurement m) { record(i, std::move(m)); };
        static_cast<void>(measure_kernels(*t.local, kernels, policy, ctx, events));
      }
      ++i;
      continue;
    }
    // Every selected device of one plugin backend, in one worker (restarted after a fault).
    RemoteBackend* remote = t.remote;
    const std::size_t first = i;
    std::vector<RemoteBackend::Job> jobs;
    for (; i < targets.size() && targets[i].remote == remote; ++i) {
      if (selection.device(targets[i])) jobs.push_back({targets[i].remote_index, selection.kernels(targets[i])});
    }
    RemoteBackend::Events events;
    events.begin = [&](std::size_t d, const KernelSpec& k) { begin(first + d, k); };
    events.progress = detail;
    events.result = [&](std::size_t d, Measurement m) { record(first + d, std::move(m)); };
    remote->measure(jobs, policy.budget, policy.sustain_s, events);
  }
  progress.clear();
  if (stop_requested()) {
    rep.status = "interrupted";
    rep.interrupted_by = signal_name(stop_signal());
    list_not_reached(targets, selection, results, rep);
  }
  for (std::size_t i = 0; i < targets.size(); ++i) {
    if (selection.device(targets[i])) rep.devices.push_back(std::move(results[i]));
  }
}

}  // namespace probe::cli
