#pragma once
// The report command's devices: the built-in CPU backend in this process, every plugin backend in a worker
// process (docs/design.md, "Isolation"), and the --device/--kernels selection over them.
#include <memory>
#include <string>
#include <vector>

#include "options.hpp"
#include "remote_backend.hpp"
#include "report.hpp"
#include "statement.hpp"
#include "probe/engine.hpp"
#include "probe/registry.hpp"

namespace probe::cli {

// One device as the run sees it: measured here (the built-in CPU backend) or by a plugin backend's worker.
struct Target {
  DeviceInfo info;
  std::vector<KernelSpec> kernels;
  Device* local = nullptr;          // measured in this process
  RemoteBackend* remote = nullptr;  // else measured by this backend's worker
  std::size_t remote_index = 0;     // its index in remote->devices()
};

// Owns what the targets point into: the enumerated built-in devices and the plugin workers.
struct DeviceSet {
  std::vector<SourcedBackend> backends;  // built in
  Enumeration enumeration;
  std::vector<std::unique_ptr<RemoteBackend>> remotes;
  std::vector<Target> targets;
};

// The built-in backend (`builtin`), enumerated, then unless --no-plugins every plugin found, each started in its
// worker. Records backends, plugins, plugin folders and the watchdog in `rep`.
[[nodiscard]] DeviceSet open_devices(const Options& o, SourcedBackend builtin, const RunPolicy& policy,
                                     const char* argv0, report::Report& rep);

// --device and --kernels over the targets; checked when made: a pattern that selects nothing is an InputError.
class Selection {
 public:
  Selection(const Options& o, const std::vector<Target>& targets);
  [[nodiscard]] bool device(const Target& t) const;
  [[nodiscard]] std::vector<std::size_t> kernels(const Target& t) const;  // indexes into t.kernels

 private:
  std::vector<std::string> m_kernel_patterns, m_device_patterns;
};

// Each selected device's attestation for the run's nonce: in this process for the built-in backends, from each
// plugin backend's worker otherwise.
[[nodiscard]] std::vector<evidence::DeviceEvidence> attest_selected(const std::vector<Target>& targets,
                                                                    const Selection& selection,
                                                                    const std::string& nonce);

// Measures every selected kernel of every selected device into rep.devices, showing progress on stderr (when
// `show_progress` and stderr is a terminal); on SIGINT/SIGTERM stops, marks the report interrupted and lists
// the kernels not reached (measure_devices.cpp).
void measure_devices(std::vector<Target>& targets, const Selection& selection, const RunPolicy& policy,
                     bool show_progress, report::Report& rep);

}  // namespace probe::cli
