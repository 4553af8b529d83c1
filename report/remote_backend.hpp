#pragma once
// The parent's side of the worker processes (report/worker.hpp): the plugin scan, and one worker per plugin
// backend that enumerates its devices and measures them under a watchdog. A worker that crashes or overruns the
// kernel limit is killed (its whole process group); the kernel it was measuring is failed with the reason, that
// device's remaining kernels are skipped ("device aborted after <kernel>: <reason>"), and a fresh worker measures
// the backend's remaining devices.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "probe/device.hpp"
#include "probe/plugin_loader.hpp"
#include "probe/registry.hpp"
#include "probe/run_policy.hpp"

namespace probe::cli {

struct WorkerSettings {
  std::string exe = "/proc/self/exe";             // this program, re-executed as the worker
  double kernel_timeout_s = 60;                   // per kernel, and for a scan or an enumeration
  std::function<bool()> stop = [] { return false; };  // the run is interrupted: kill the worker, return
};

struct PluginScanResult {
  std::vector<PluginRecord> records;  // one per candidate file, loaded or refused
  std::vector<PluginFolder> folders;  // one per folder searched, in search order
};

// The plugin records and folders of a scan done in a worker (loading runs plugin code). A plugin whose backend
// name is already loaded or in `taken_names` (the built-in backends) is refused. A worker that crashes or hangs
// is one refused record saying so.
[[nodiscard]] PluginScanResult scan_plugins(const WorkerSettings& settings,
                                            const std::vector<std::filesystem::path>& dirs,
                                            const std::vector<std::string>& taken_names);

struct RemoteDevice {
  DeviceInfo info;
  std::vector<KernelSpec> kernels;
};

class RemoteBackend {
 public:
  // Starts the worker for the plugin and waits for its enumeration. Never throws for the worker's faults: a crash
  // or a hang is an unavailable backend whose reason says so ("enumeration failed: worker crashed: SIGSEGV").
  RemoteBackend(WorkerSettings settings, std::string plugin_path, std::string plugin_name);

  [[nodiscard]] const BackendStatus& status() const noexcept { return m_status; }
  [[nodiscard]] const std::vector<RemoteDevice>& devices() const noexcept { return m_devices; }

  struct Job {
    std::size_t device = 0;             // index into devices()
    std::vector<std::size_t> kernels;   // indexes into that device's kernels, in order
  };
  struct Events {
    std::function<void(std::size_t device, const KernelSpec&)> begin;
    std::function<void(std::string_view)> progress;
    std::function<void(std::size_t device, Measurement)> result;
  };
  // Measures the jobs in order, every kernel getting a result, unless settings.stop() turns true: then the worker
  // is killed and the call returns, the kernels without a result not reached.
  void measure(const std::vector<Job>& jobs, Budget budget, double sustain_s, const Events& events);

  // The attestation of each device (indexes into devices()) for `nonce`, from a worker; a worker that fails gives
  // each device an unavailable attestation saying why. Never throws for the worker's faults.
  [[nodiscard]] std::vector<Attestation> attest(const std::vector<std::size_t>& devices, std::string_view nonce);

 private:
  bool start(std::string& why);  // a fresh worker, enumerated; false with the reason when it failed
  void read_enumeration(std::string& why, bool first);  // until ready; why says what went wrong

  WorkerSettings m_settings;
  std::string m_path, m_name;
  BackendStatus m_status;
  std::vector<RemoteDevice> m_devices;
  std::unique_ptr<ChildProcess> m_child;
  bool m_enumerated = false;  // the first worker's enumeration is the backend's; restarts are checked against it
};

}  // namespace probe::cli
