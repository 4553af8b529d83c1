// A working backend plugin for the tests: backend "fake", device fake0 measures "fma.fp32" with fixed samples,
// device fake1's measure() throws (the engine must survive a device that breaks its no-throw promise).
#include <stdexcept>
#include <utility>

#include "fake_measurement.hpp"
#include "probe/device.hpp"
#include "probe/plugin.hpp"
#include "probe/version.hpp"

namespace {

using namespace probe;

class FakeDevice final : public Device {
 public:
  FakeDevice(int index, bool explodes) : m_explodes(explodes) {
    m_info.id = "fake" + std::to_string(index);
    m_info.backend = "fake";
    m_info.kind = "accelerator";
    m_info.name = "Fake Accelerator " + std::to_string(index);
    m_info.vendor = "probe tests";
    m_info.arch = "fake";
    m_info.units = 4;
    m_info.unit_name = "units";
    m_info.properties = {{"memory", "1 GiB"}};
    m_kernels.push_back(fake::fma_spec("fma.fp32", "FP32 FMA", DType::fp32));
  }

  [[nodiscard]] const DeviceInfo& info() const noexcept override { return m_info; }
  // The exploding device keeps the default (no attestation); the other "attests" the nonce it was given, so the
  // CLI tests see the attestation travel from the worker into the signed statement (probe --sign).
  Attestation attest(std::string_view nonce) override {
    if (m_explodes) return Device::attest(nonce);
    Attestation a;
    a.available = true;
    a.source = "fake attestation (tests/plugins)";
    a.nonce = std::string(nonce);
    a.report = "FAKE-REPORT:" + std::string(nonce);
    a.certificate_chain = "FAKE-CERT";
    a.attestation_certificate_chain = "FAKE-ATTESTATION-CERT";
    return a;
  }
  [[nodiscard]] std::span<const KernelSpec> kernels() const noexcept override { return m_kernels; }

  Measurement measure(const KernelSpec& spec, const RunPolicy& /*policy*/, RunContext& ctx) override {
    if (m_explodes) throw std::runtime_error("fake device exploded");
    ctx.progress(m_info.id + ": " + spec.id);
    if (spec.id != "fma.fp32") {
      Measurement m;
      m.spec = spec;
      m.status = Status::skipped;
      m.reason = "the fake device only knows fma.fp32";
      return m;
    }
    return fake::ok_measurement(spec);
  }

 private:
  DeviceInfo m_info;
  std::vector<KernelSpec> m_kernels;
  bool m_explodes;
};

class FakeBackend final : public Backend {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return "fake"; }
  Availability availability() noexcept override { return {true, {}, "fake 1.0"}; }
  std::vector<std::unique_ptr<Device>> devices() override {
    std::vector<std::unique_ptr<Device>> out;
    out.push_back(std::make_unique<FakeDevice>(0, false));
    out.push_back(std::make_unique<FakeDevice>(1, true));
    return out;
  }
};

}  // namespace

PROBE_DEFINE_PLUGIN("fake", FakeBackend)
