#include "worker.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base64.hpp"
#include "json_io.hpp"
#include "statement.hpp"
#include "probe/error.hpp"
#include "probe/plugin_loader.hpp"
#include "probe/registry.hpp"
#include "probe/run_policy.hpp"

namespace probe::cli {
namespace {

using nlohmann::json;

constexpr int kChannelFd = 3;

// The worker's end of the channel: blocking, line by line.
class Channel {
 public:
  void send(const json& message) {
    // Plugin strings need not be UTF-8: replaced, never a throw that loses the message.
    std::string line = message.dump(-1, ' ', false, json::error_handler_t::replace);
    line += '\n';
    std::size_t done = 0;
    while (done < line.size()) {
      const ssize_t n = ::write(kChannelFd, line.data() + done, line.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw SystemError("the parent closed the channel");
      done += static_cast<std::size_t>(n);
    }
  }
  // The next line, or nullopt when the parent closed the channel.
  std::optional<std::string> receive() {
    for (;;) {
      if (const auto nl = m_buffer.find('\n'); nl != std::string::npos) {
        std::string line = m_buffer.substr(0, nl);
        m_buffer.erase(0, nl + 1);
        return line;
      }
      char buf[4096];
      const ssize_t n = ::read(kChannelFd, buf, sizeof buf);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      m_buffer.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  std::string m_buffer;
};

std::optional<Budget> budget_from_string(std::string_view s) {
  for (const Budget b : {Budget::quick, Budget::normal, Budget::thorough}) {
    if (to_string(b) == s) return b;
  }
  return std::nullopt;
}

int scan(Channel& ch, const std::vector<std::filesystem::path>& dirs, const std::vector<std::string>& taken_names) {
  const PluginScan found = load_plugins(dirs, taken_names);
  for (const auto& f : found.folders) ch.send({{"type", "folder"}, {"folder", report::to_json(f)}});
  for (const auto& r : found.records) ch.send({{"type", "plugin"}, {"record", report::to_json(r)}});
  ch.send({{"type", "done"}});
  return 0;
}

int serve_backend(Channel& ch, const std::filesystem::path& file) {
  const LoadedBackend loaded = load_plugin(file);
  if (!loaded.record.loaded) {
    // The scan loaded it a moment ago; say why it did not load this time rather than nothing.
    const BackendStatus st{loaded.record.name, file.string(), false,
                           "not loaded in the worker: " + loaded.record.reason, {}, 0};
    ch.send({{"type", "backend"}, {"status", report::to_json(st)}});
    ch.send({{"type", "ready"}});
    return 0;
  }
  Enumeration en = enumerate({SourcedBackend{loaded.backend, file.string()}});
  for (const auto& st : en.backends) ch.send({{"type", "backend"}, {"status", report::to_json(st)}});
  for (const auto& h : en.devices) {
    json kernels = json::array();
    for (const auto& k : h.device->kernels()) kernels.push_back(report::to_json(k));
    ch.send({{"type", "device"}, {"info", report::to_json(h.device->info())}, {"kernels", kernels}});
  }
  ch.send({{"type", "ready"}});

  const std::optional<std::string> line = ch.receive();
  if (!line) return 0;  // nothing to measure (--list, or no device selected)
  const json command = json::parse(*line);
  if (command.contains("attest")) {
    // The attestation of each device named, for the run's nonce (hex): after the measurements, so that the nonce
    // can bind the report.
    const auto nonce = evidence::hex_decode(command.at("nonce").get<std::string>());
    if (!nonce) throw InputError(fmt::format("the attest command's nonce is not hex: {:.200}", *line));
    for (const auto& id : command.at("attest")) {
      for (auto& h : en.devices) {
        if (h.device->info().id != id.get<std::string>()) continue;
        ch.send({{"type", "attestation"}, {"device", id}, {"attestation", evidence::to_json(h.device->attest(*nonce))}});
      }
    }
    ch.send({{"type", "done"}});
    return 0;
  }
  const auto budget = budget_from_string(command.at("budget").get<std::string>());
  if (!budget) throw InputError(fmt::format("unknown budget in the command: {}", *line));
  RunPolicy policy = RunPolicy::for_budget(*budget);
  if (command.contains("sustain_s")) policy.sustain_s = command.at("sustain_s").get<double>();
  for (const auto& job : command.at("measure")) {
    const std::string id = job.at("device").get<std::string>();
    Device* device = nullptr;
    for (auto& h : en.devices) {
      if (h.device->info().id == id) device = h.device.get();
    }
    if (device == nullptr) throw InputError(fmt::format("no device '{}' in this worker", id));
    std::vector<KernelSpec> kernels;
    for (const auto& k : job.at("kernels")) {
      const std::string kid = k.get<std::string>();
      bool found = false;
      for (const auto& spec : device->kernels()) {
        if (spec.id == kid) {
          kernels.push_back(spec);
          found = true;
        }
      }
      if (!found) throw InputError(fmt::format("device '{}' has no kernel '{}' in this worker", id, kid));
    }
    RunContext ctx;
    ctx.progress = [&](std::string_view text) { ch.send({{"type", "progress"}, {"text", text}}); };
    KernelLoopEvents events;
    events.begin = [&](const KernelSpec& k) { ch.send({{"type", "begin"}, {"device", id}, {"kernel", k.id}}); };
    events.result = [&](Measurement m) {
      ch.send({{"type", "measurement"}, {"device", id}, {"measurement", report::to_json(m)}});
    };
    static_cast<void>(measure_kernels(*device, kernels, policy, ctx, events));
  }
  ch.send({{"type", "done"}});
  return 0;
}

}  // namespace

int run_worker(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "probe: %s is internal: probe starts its own workers\n", kWorkerFlag.data());
    return 2;
  }
  const std::string mode = argv[2];
  const long parent = std::strtol(argv[3], nullptr, 10);
  // Never outlive the parent (a second Ctrl-C makes it _exit at once), and never measure for a parent already gone.
  ::prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (::getppid() != static_cast<pid_t>(parent)) return 1;
  Channel ch;
  try {
    if (mode == "scan") {
      // argv[4]: the backend names already taken (comma-separated, may be empty); then the folders.
      std::vector<std::string> taken;
      for (std::string_view rest = argv[4]; !rest.empty();) {
        const auto comma = rest.find(',');
        if (comma != 0) taken.emplace_back(rest.substr(0, comma));
        rest = comma == std::string_view::npos ? std::string_view{} : rest.substr(comma + 1);
      }
      std::vector<std::filesystem::path> dirs;
      for (int i = 5; i < argc; ++i) dirs.emplace_back(argv[i]);
      return scan(ch, dirs, taken);
    }
    if (mode == "backend") return serve_backend(ch, argv[4]);
    std::fprintf(stderr, "probe worker: unknown mode '%s'\n", mode.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "probe worker: %s\n", e.what());
    return 3;
  }
}

}  // namespace probe::cli
