#include "devices.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <fnmatch.h>
#include <set>

#include "interrupt.hpp"
#include "probe/error.hpp"
#include "probe/plugin_loader.hpp"

namespace probe::cli {
namespace {

bool matches_any(const std::vector<std::string>& patterns, const std::string& id) {
  if (patterns.empty()) return true;
  for (const auto& p : patterns) {
    if (fnmatch(p.c_str(), id.c_str(), 0) == 0) return true;
  }
  return false;
}

}  // namespace

DeviceSet open_devices(const Options& o, SourcedBackend builtin, const RunPolicy& policy, const char* argv0,
                       report::Report& rep) {
  DeviceSet set;
  set.backends.push_back(std::move(builtin));
  set.enumeration = enumerate(set.backends);
  rep.backends = set.enumeration.backends;
  for (auto& h : set.enumeration.devices) {
    const auto ks = h.device->kernels();
    set.targets.push_back(Target{h.device->info(), {ks.begin(), ks.end()}, h.device.get(), nullptr, 0});
  }
  if (o.no_plugins) return set;
  WorkerSettings workers;
  // The worker is this very file, reached through /proc/self/exe rather than its path: a path that another
  // user (setpriv, sudo -u) cannot traverse, or a binary replaced since start, would stop every plugin.
  workers.exe = "/proc/self/exe";
  workers.kernel_timeout_s = o.kernel_timeout > 0 ? o.kernel_timeout : policy.kernel_timeout_s();
  workers.stop = [] { return stop_requested(); };
  rep.watchdog = report::Watchdog{workers.kernel_timeout_s,
                                  o.kernel_timeout > 0 ? std::string("--kernel-timeout")
                                                       : fmt::format("the {} budget", rep.budget)};
  std::vector<std::filesystem::path> dirs(o.plugin_dirs.begin(), o.plugin_dirs.end());
  for (auto& d : default_plugin_dirs(exe_path(argv0))) dirs.push_back(std::move(d));
  // A plugin may not take the name of a built-in backend (two "cpu0" devices would share one verdict).
  std::vector<std::string> built_in;
  for (const auto& b : set.backends) built_in.emplace_back(b.backend->name());
  PluginScanResult scan = scan_plugins(workers, dirs, built_in);
  rep.plugins = std::move(scan.records);
  rep.plugin_folders = std::move(scan.folders);
  for (const auto& record : rep.plugins) {
    if (!record.loaded) continue;
    auto& remote = *set.remotes.emplace_back(std::make_unique<RemoteBackend>(workers, record.path, record.name));
    rep.backends.push_back(remote.status());
    for (std::size_t i = 0; i < remote.devices().size(); ++i) {
      set.targets.push_back(Target{remote.devices()[i].info, remote.devices()[i].kernels, nullptr, &remote, i});
    }
  }
  return set;
}

Selection::Selection(const Options& o, const std::vector<Target>& targets)
    : m_kernel_patterns(split_list(o.kernels)), m_device_patterns(split_list(o.devices)) {
  // A filter that selects nothing is a usage error, not an empty report.
  for (const auto& p : m_kernel_patterns) {
    bool hit = false;
    std::set<std::string> known;
    for (const auto& t : targets) {
      for (const auto& k : t.kernels) {
        known.insert(k.id);
        hit |= fnmatch(p.c_str(), k.id.c_str(), 0) == 0;
      }
    }
    if (!hit && !targets.empty()) {
      throw InputError(fmt::format("--kernels: '{}' matches no kernel (known: {})", p, fmt::join(known, ", ")));
    }
  }
  for (const auto& p : m_device_patterns) {
    bool hit = false;
    std::vector<std::string> known;
    for (const auto& t : targets) {
      known.push_back(t.info.id);
      hit |= fnmatch(p.c_str(), t.info.id.c_str(), 0) == 0;
    }
    if (!hit) {
      throw InputError(fmt::format("--device: '{}' matches no device (found: {})", p,
                                   known.empty() ? "none" : fmt::format("{}", fmt::join(known, ", "))));
    }
  }
}

bool Selection::device(const Target& t) const { return matches_any(m_device_patterns, t.info.id); }

std::vector<std::size_t> Selection::kernels(const Target& t) const {
  std::vector<std::size_t> out;
  for (std::size_t k = 0; k < t.kernels.size(); ++k) {
    if (matches_any(m_kernel_patterns, t.kernels[k].id)) out.push_back(k);
  }
  return out;
}

std::vector<evidence::DeviceEvidence> attest_selected(const std::vector<Target>& targets, const Selection& selection,
                                                      const std::string& nonce) {
  std::vector<evidence::DeviceEvidence> out;
  for (std::size_t i = 0; i < targets.size();) {
    const Target& t = targets[i];
    if (t.local != nullptr || t.remote == nullptr) {
      if (selection.device(t)) out.push_back({t.info, t.local ? t.local->attest(nonce) : Attestation{}});
      ++i;
      continue;
    }
    std::vector<std::size_t> indexes;
    std::vector<const Target*> asked;
    for (; i < targets.size() && targets[i].remote == t.remote; ++i) {
      if (selection.device(targets[i])) {
        indexes.push_back(targets[i].remote_index);
        asked.push_back(&targets[i]);
      }
    }
    if (indexes.empty()) continue;
    const std::vector<Attestation> got = t.remote->attest(indexes, nonce);
    for (std::size_t k = 0; k < asked.size(); ++k) out.push_back({asked[k]->info, got[k]});
  }
  return out;
}

}  // namespace probe::cli
