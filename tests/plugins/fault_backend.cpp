// Plugins that fail the way real GPU stacks do, one fault per module (PROBE_FAULT_<KIND> picks it), each built
// into a folder of its own. Backend "<kind>" has two devices: <kind>0, whose first kernel (fma.fp32) faults and
// whose second (fma.fp64) must then be skipped, and <kind>1, which measures normally (the backend's other devices
// must still be measured after the fault).
//   HANG       fma.fp32 never returns (a hung kernel); writes $PROBE_TEST_FAULT_MARKER first, so that a test
//              knows the worker is stuck in it
//   SEGV       fma.fp32 writes through a null pointer
//   ABORT      fma.fp32 calls abort()
//   STICKY     fma.fp32 fails with a sticky error (device_aborted), as the CUDA backend does for
//              cudaErrorIllegalAddress
//   ENUMCRASH  devices() writes through a null pointer: the enumeration itself crashes
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "fake_measurement.hpp"
#include "probe/device.hpp"
#include "probe/plugin.hpp"
#include "probe/version.hpp"

namespace {

using namespace probe;

#if defined(PROBE_FAULT_HANG)
constexpr const char* kName = "hang";
#elif defined(PROBE_FAULT_SEGV)
constexpr const char* kName = "segv";
#elif defined(PROBE_FAULT_ABORT)
constexpr const char* kName = "abort";
#elif defined(PROBE_FAULT_STICKY)
constexpr const char* kName = "sticky";
#elif defined(PROBE_FAULT_ENUMCRASH)
constexpr const char* kName = "enumcrash";
#else
#error "define one PROBE_FAULT_<KIND>"
#endif

// A real invalid access: the compiler can neither see that the pointer is null nor drop the store. UBSan's null
// check is off here (the ci-sanitize stage would otherwise exit 1 before the store): the tests need the signal.
[[maybe_unused]] [[noreturn]] __attribute__((no_sanitize("undefined"))) void write_through_null() {
  volatile int* volatile p = nullptr;
  *p = 1;
  std::abort();  // not reached
}

[[maybe_unused]] [[noreturn]] void hang() {
  if (const char* marker = std::getenv("PROBE_TEST_FAULT_MARKER"); marker != nullptr) {
    if (FILE* f = std::fopen(marker, "w"); f != nullptr) std::fclose(f);
  }
  for (;;) ::pause();
}

class FaultDevice final : public Device {
 public:
  FaultDevice(int index) : m_faulty(index == 0) {
    m_info.id = std::string(kName) + std::to_string(index);
    m_info.backend = kName;
    m_info.kind = "accelerator";
    m_info.name = "Faulty Accelerator " + std::to_string(index);
    m_info.vendor = "probe tests";
    m_info.arch = "fake";
    m_info.units = 4;
    m_info.unit_name = "units";
    m_kernels.push_back(fake::fma_spec("fma.fp32", "FP32 FMA", DType::fp32));
    if (m_faulty) m_kernels.push_back(fake::fma_spec("fma.fp64", "FP64 FMA", DType::fp64));
  }

  [[nodiscard]] const DeviceInfo& info() const noexcept override { return m_info; }
  [[nodiscard]] std::span<const KernelSpec> kernels() const noexcept override { return m_kernels; }

  Measurement measure(const KernelSpec& spec, const RunPolicy& /*policy*/, RunContext& ctx) override {
    ctx.progress(m_info.id + ": " + spec.id);
    if (m_faulty && spec.id == "fma.fp32") {
#if defined(PROBE_FAULT_HANG)
      hang();
#elif defined(PROBE_FAULT_SEGV)
      write_through_null();
#elif defined(PROBE_FAULT_ABORT)
      std::abort();
#elif defined(PROBE_FAULT_STICKY)
      Measurement m;
      m.spec = spec;
      m.status = Status::failed;
      m.reason = "fault_backend.cpp: cudaDeviceSynchronize() failed: cudaErrorIllegalAddress: an illegal memory "
                 "access was encountered";
      m.device_aborted = true;
      return m;
#endif
    }
    return fake::ok_measurement(spec);
  }

 private:
  DeviceInfo m_info;
  std::vector<KernelSpec> m_kernels;
  bool m_faulty;
};

class FaultBackend final : public Backend {
 public:
  [[nodiscard]] std::string_view name() const noexcept override { return kName; }
  Availability availability() noexcept override { return {true, {}, std::string(kName) + " 1.0"}; }
  std::vector<std::unique_ptr<Device>> devices() override {
#if defined(PROBE_FAULT_ENUMCRASH)
    write_through_null();
#endif
    std::vector<std::unique_ptr<Device>> out;
    out.push_back(std::make_unique<FaultDevice>(0));
    out.push_back(std::make_unique<FaultDevice>(1));
    return out;
  }
};

}  // namespace

#if defined(PROBE_FAULT_HANG)
PROBE_DEFINE_PLUGIN("hang", FaultBackend)
#elif defined(PROBE_FAULT_SEGV)
PROBE_DEFINE_PLUGIN("segv", FaultBackend)
#elif defined(PROBE_FAULT_ABORT)
PROBE_DEFINE_PLUGIN("abort", FaultBackend)
#elif defined(PROBE_FAULT_STICKY)
PROBE_DEFINE_PLUGIN("sticky", FaultBackend)
#elif defined(PROBE_FAULT_ENUMCRASH)
PROBE_DEFINE_PLUGIN("enumcrash", FaultBackend)
#endif
