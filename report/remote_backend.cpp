#include "remote_backend.hpp"

#include <unistd.h>

#include <deque>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <utility>

#include "base64.hpp"
#include "json_io.hpp"
#include "statement.hpp"
#include "probe/engine.hpp"
#include "probe/error.hpp"
#include "worker.hpp"

namespace probe::cli {
namespace {

using nlohmann::json;
using Clock = ChildProcess::Clock;

constexpr std::string_view kSource = "worker message";

Clock::time_point after(double seconds) {
  return Clock::now() + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
}

std::string timed_out(double seconds) { return fmt::format("timed out after {:g} s", seconds); }

std::vector<std::string> worker_args(std::string_view mode) {
  return {std::string(kWorkerFlag), std::string(mode), std::to_string(::getpid())};
}

// A line from the worker as an object with a "type"; throws InputError when it is not one.
json parse_message(const std::string& line) {
  json j = json::parse(line, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("type") || !j["type"].is_string()) {
    throw InputError(fmt::format("the worker sent an unreadable message: {:.200}", line));
  }
  return j;
}

}  // namespace

PluginScanResult scan_plugins(const WorkerSettings& settings, const std::vector<std::filesystem::path>& dirs,
                              const std::vector<std::string>& taken_names) {
  PluginScanResult result;
  auto& records = result.records;
  std::string why;
  try {
    std::vector<std::string> args = worker_args("scan");
    args.push_back(fmt::format("{}", fmt::join(taken_names, ",")));
    for (const auto& d : dirs) args.push_back(d.string());
    ChildProcess child(settings.exe, args);
    const auto deadline = after(settings.kernel_timeout_s);
    std::string line;
    while (why.empty()) {
      switch (child.read_line(line, deadline, settings.stop)) {
        case ChildProcess::Read::line: {
          const json m = parse_message(line);
          if (m["type"] == "done") return result;
          if (m["type"] == "folder") {
            result.folders.push_back(report::plugin_folder_from_json(m.at("folder"), kSource));
            break;
          }
          if (m["type"] != "plugin") throw InputError(fmt::format("the worker sent an unexpected message: {:.200}", line));
          records.push_back(report::plugin_record_from_json(m.at("record"), kSource));
          break;
        }
        case ChildProcess::Read::closed: why = "worker " + child.end(); break;
        case ChildProcess::Read::timed_out: why = timed_out(settings.kernel_timeout_s); break;
        case ChildProcess::Read::stopped: why = "interrupted"; break;
      }
    }
  } catch (const std::exception& e) {
    why = e.what();
  }
  records.push_back(PluginRecord{"(plugin folders)", "scan", false, "plugin scan failed: " + why});
  return result;
}

RemoteBackend::RemoteBackend(WorkerSettings settings, std::string plugin_path, std::string plugin_name)
    : m_settings(std::move(settings)), m_path(std::move(plugin_path)), m_name(std::move(plugin_name)) {
  m_status = BackendStatus{m_name, m_path, false, {}, {}, 0};
  std::string why;
  if (!start(why)) m_status.reason = "enumeration failed: " + why;
}

bool RemoteBackend::start(std::string& why) {
  const bool first = !m_enumerated;
  m_child.reset();
  try {
    std::vector<std::string> args = worker_args("backend");
    args.push_back(m_path);
    m_child = std::make_unique<ChildProcess>(m_settings.exe, args);
    read_enumeration(why, first);
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (!why.empty() && m_child) {
    static_cast<void>(m_child->end());
    m_child.reset();
  }
  return why.empty();
}

void RemoteBackend::read_enumeration(std::string& why, bool first) {
  const auto deadline = after(m_settings.kernel_timeout_s);
  BackendStatus status = m_status;
  std::vector<RemoteDevice> devices;
  std::string line;
  for (;;) {
    switch (m_child->read_line(line, deadline, m_settings.stop)) {
      case ChildProcess::Read::line: break;
      case ChildProcess::Read::closed: why = "worker " + m_child->end(); return;
      case ChildProcess::Read::timed_out: why = timed_out(m_settings.kernel_timeout_s); return;
      case ChildProcess::Read::stopped: why = "interrupted"; return;
    }
    const json m = parse_message(line);
    if (m["type"] == "backend") {
      status = report::backend_status_from_json(m.at("status"), kSource);
    } else if (m["type"] == "device") {
      RemoteDevice d;
      d.info = report::device_info_from_json(m.at("info"), kSource);
      for (const auto& k : m.at("kernels")) d.kernels.push_back(report::kernel_spec_from_json(k, kSource));
      devices.push_back(std::move(d));
    } else if (m["type"] == "ready") {
      break;
    } else {
      throw InputError(fmt::format("the worker sent an unexpected message: {:.200}", line));
    }
  }
  if (first) {
    m_status = std::move(status);
    m_devices = std::move(devices);
    m_enumerated = true;
    return;
  }
  // A restarted worker must see the devices the first one did: the jobs name them by id.
  for (const auto& d : m_devices) {
    bool found = false;
    for (const auto& n : devices) found |= n.info.id == d.info.id;
    if (!found) {
      why = fmt::format("the restarted worker did not find device {}", d.info.id);
      return;
    }
  }
}

void RemoteBackend::measure(const std::vector<Job>& jobs, Budget budget, double sustain_s, const Events& events) {
  struct Pending {
    std::size_t device;
    std::deque<std::size_t> kernels;
  };
  std::deque<Pending> pending;
  for (const auto& j : jobs) {
    if (!j.kernels.empty()) pending.push_back({j.device, {j.kernels.begin(), j.kernels.end()}});
  }
  const double limit = m_settings.kernel_timeout_s;
  auto spec_of = [&](const Pending& p) -> const KernelSpec& { return m_devices[p.device].kernels[p.kernels.front()]; };

  while (!pending.empty()) {
    if (m_settings.stop()) break;
    if (!m_child) {
      std::string why;
      if (!start(why)) {
        if (m_settings.stop()) break;
        // No worker for the rest: each kernel left says why, none is silently absent.
        for (auto& p : pending) {
          for (const std::size_t k : p.kernels) {
            Measurement m;
            m.spec = m_devices[p.device].kernels[k];
            m.status = Status::failed;
            m.reason = fmt::format("no {} worker after a restart: {}", m_name, why);
            events.result(p.device, std::move(m));
          }
        }
        return;
      }
    }
    json command{{"budget", to_string(budget)}, {"sustain_s", sustain_s}, {"measure", json::array()}};
    for (const auto& p : pending) {
      json ids = json::array();
      for (const std::size_t k : p.kernels) ids.push_back(m_devices[p.device].kernels[k].id);
      command["measure"].push_back({{"device", m_devices[p.device].info.id}, {"kernels", ids}});
    }

    // Reads until the worker is done (return) or faults (the kernel at the front pays, below).
    std::string fault;
    bool crashed = false;
    std::string started_at = utc_now_iso8601();
    if (!m_child->write_line(command.dump(-1, ' ', false, json::error_handler_t::replace))) {
      fault = "worker " + m_child->end();
      crashed = true;
    }
    auto deadline = after(limit);
    std::string line;
    while (fault.empty()) {
      const ChildProcess::Read r = m_child->read_line(line, deadline, m_settings.stop);
      if (r == ChildProcess::Read::stopped) {
        static_cast<void>(m_child->end());
        m_child.reset();
        return;
      }
      if (r == ChildProcess::Read::timed_out) {
        fault = timed_out(limit);
        break;
      }
      if (r == ChildProcess::Read::closed) {
        fault = "worker " + m_child->end();
        crashed = true;
        break;
      }
      try {
        const json m = parse_message(line);
        const std::string type = m["type"].get<std::string>();
        if (type == "progress") {
          events.progress(m.at("text").get<std::string>());
          continue;
        }
        if (type == "done") {
          static_cast<void>(m_child->end());
          m_child.reset();
          if (pending.empty()) return;
          fault = "the worker finished without measuring every kernel";
          break;
        }
        if (pending.empty() || m.at("device") != m_devices[pending.front().device].info.id) {
          throw InputError(fmt::format("the worker sent a message out of order: {:.200}", line));
        }
        Pending& p = pending.front();
        if (type == "begin") {
          if (m.at("kernel") != spec_of(p).id) throw InputError(fmt::format("the worker began another kernel: {:.200}", line));
          started_at = utc_now_iso8601();
          deadline = after(limit);  // the watchdog's clock runs per kernel
          events.begin(p.device, spec_of(p));
        } else if (type == "measurement") {
          Measurement result = report::measurement_from_json(m.at("measurement"), kSource, m_devices[p.device].info.kind);
          if (result.spec.id != spec_of(p).id) throw InputError(fmt::format("the worker measured another kernel: {:.200}", line));
          const std::size_t device = p.device;
          p.kernels.pop_front();
          if (p.kernels.empty()) pending.pop_front();
          deadline = after(limit);
          started_at = utc_now_iso8601();
          events.result(device, std::move(result));
        } else {
          throw InputError(fmt::format("the worker sent an unexpected message: {:.200}", line));
        }
      } catch (const std::exception& e) {
        fault = e.what();
      }
    }

    // The fault: the worker goes, the kernel it was on fails, that device's other kernels are skipped, and the
    // next round starts a fresh worker for the remaining devices.
    if (m_child) {
      static_cast<void>(m_child->end());
      m_child.reset();
    }
    if (pending.empty()) return;
    Pending p = std::move(pending.front());
    pending.pop_front();
    const KernelSpec& spec = spec_of(p);
    Measurement failed;
    failed.spec = spec;
    failed.status = Status::failed;
    failed.reason = crashed ? fmt::format("{} while measuring {}", fault, spec.id) : fault;
    failed.device_aborted = true;
    failed.conditions.started_at = started_at;
    failed.conditions.finished_at = utc_now_iso8601();
    events.result(p.device, std::move(failed));
    for (std::size_t i = 1; i < p.kernels.size(); ++i) {
      events.result(p.device, skipped_after_abort(m_devices[p.device].kernels[p.kernels[i]], spec.id, fault));
    }
  }
  if (m_child) {
    static_cast<void>(m_child->end());
    m_child.reset();
  }
}

std::vector<Attestation> RemoteBackend::attest(const std::vector<std::size_t>& devices, std::string_view nonce) {
  std::vector<Attestation> out(devices.size());
  std::string why;
  try {
    // The worker that enumerated (--list) still waits for its one command; after measuring, a fresh one.
    if (m_child || start(why)) {
      json command{{"attest", json::array()}, {"nonce", evidence::hex_encode(nonce)}};
      for (const std::size_t d : devices) command["attest"].push_back(m_devices[d].info.id);
      if (!m_child->write_line(command.dump(-1, ' ', false, json::error_handler_t::replace))) why = "worker " + m_child->end();
      const auto deadline = after(m_settings.kernel_timeout_s);
      std::string line;
      while (why.empty()) {
        const ChildProcess::Read r = m_child->read_line(line, deadline, m_settings.stop);
        if (r == ChildProcess::Read::closed) why = "worker " + m_child->end();
        if (r == ChildProcess::Read::timed_out) why = timed_out(m_settings.kernel_timeout_s);
        if (r == ChildProcess::Read::stopped) why = "interrupted";
        if (r != ChildProcess::Read::line) break;
        const json m = parse_message(line);
        if (m["type"] == "done") break;
        if (m["type"] != "attestation") throw InputError(fmt::format("the worker sent an unexpected message: {:.200}", line));
        for (std::size_t i = 0; i < devices.size(); ++i) {
          if (m.at("device") == m_devices[devices[i]].info.id) out[i] = evidence::attestation_from_json(m.at("attestation"), kSource);
        }
      }
    }
  } catch (const std::exception& e) {
    why = e.what();
  }
  if (m_child) {
    static_cast<void>(m_child->end());
    m_child.reset();
  }
  for (auto& a : out) {
    if (!a.available && a.reason.empty()) a.reason = why.empty() ? "the worker gave no attestation" : "attestation failed: " + why;
  }
  return out;
}

}  // namespace probe::cli
