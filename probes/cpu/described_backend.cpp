// The CPU of a recorded description (probe --cpu-description FILE): identified and listed with its theoretical
// per-cycle rates like a live CPU, but nothing runs on it: this machine is not that CPU.
#include <fmt/format.h>

#include "cpu_backend.hpp"
#include "cpu_description.hpp"
#include "identify.hpp"
#include "probe/engine.hpp"

namespace probe::cpu {
namespace {

class DescribedCpuDevice final : public Device {
 public:
  DescribedCpuDevice(const CpuDescription& d, int index, const std::string& file, const CpuOptions& options)
      : m_file(file) {
    const Identification id = identify(d.cpu, UarchTable::builtin());
    m_info.id = fmt::format("cpu{}", index);
    m_info.backend = "cpu";
    m_info.kind = "cpu";
    m_info.name = d.cpu.brand;
    m_info.vendor = d.cpu.vendor;
    m_info.arch = id.entry ? id.entry->id : fmt::format("x86-64 family {} model {}", d.cpu.family, d.cpu.model);
    m_info.units = d.cores_per_package;
    m_info.unit_name = "cores";
    auto& p = m_info.properties;
    p.emplace_back("described_by", d.source.empty() ? file : fmt::format("{} ({})", file, d.source));
    for (auto& kv : cpuid_properties(d.cpu, id)) p.push_back(std::move(kv));
    p.emplace_back("cores", std::to_string(d.cores_per_package));
    p.emplace_back("hardware_threads", std::to_string(d.threads_per_package));
    p.emplace_back("isa_cap", std::string(to_string(options.isa_cap)));
    for (auto& kv : identification_properties(id)) p.push_back(std::move(kv));
    p.emplace_back("fma_units_512bit", "not run: a recorded description is not measured");
    for (auto& kv : rate_properties(id, d.cpu, d.cores_per_package, options.isa_cap)) p.push_back(std::move(kv));
    if (d.cpu.hypervisor) {
      m_info.partial = true;
      m_info.partial_reason = "virtual machine: the visible cores may be part of a larger physical package";
    }
  }
  const DeviceInfo& info() const noexcept override { return m_info; }
  std::span<const KernelSpec> kernels() const noexcept override { return cpu_kernel_specs(); }
  Measurement measure(const KernelSpec& spec, const RunPolicy&, RunContext&) override {
    Measurement m;
    m.spec = spec;
    m.conditions.started_at = m.conditions.finished_at = utc_now_iso8601();
    m.status = Status::skipped;
    m.reason = fmt::format("the CPU is described by {}: nothing is measured on it", m_file);
    return m;
  }

 private:
  std::string m_file;
  DeviceInfo m_info;
};

class DescribedCpuBackend final : public Backend {
 public:
  DescribedCpuBackend(CpuDescription d, std::string file, CpuOptions options)
      : m_description(std::move(d)), m_file(std::move(file)), m_options(options) {}
  std::string_view name() const noexcept override { return "cpu"; }
  Availability availability() noexcept override {
    Availability a;
    a.available = true;
    a.version = "built in; CPU described by a recorded description, not measured";
    return a;
  }
  std::vector<std::unique_ptr<Device>> devices() override {
    std::vector<std::unique_ptr<Device>> out;
    for (int i = 0; i < m_description.packages; ++i) {
      out.push_back(std::make_unique<DescribedCpuDevice>(m_description, i, m_file, m_options));
    }
    return out;
  }

 private:
  CpuDescription m_description;
  std::string m_file;
  CpuOptions m_options;
};

}  // namespace

std::unique_ptr<Backend> make_described_cpu_backend(const CpuDescription& description, std::string file,
                                                    CpuOptions options) {
  return std::make_unique<DescribedCpuBackend>(description, std::move(file), options);
}

}  // namespace probe::cpu
