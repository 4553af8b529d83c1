// A stand-in libnvidia-ml.so.1 for the attestation and sensor-sampler tests: the few NVML entry points
// probes/cuda/nvml.cpp opens, with one device at any PCI bus id. Sensors: the SM clock cycles through
// FAKE_NVML_SM_CLOCKS (MHz, comma-separated; default 1755,1785,1815), the memory clock is 2619 MHz, power cycles
// 650..700 W, temperature 60..64 C, and the clock event reasons are FAKE_NVML_REASONS (hex; default 0x5: GPU
// idle + software power cap, what a healthy H100 reports under tensor load). Confidential computing is on unless FAKE_NVML_CC=off; the attestation
// report echoes the nonce ("FAKE-SPDM" + nonce) so a test can see the nonce arrive. Built twice: with the
// confidential-computing entry points, and without them (FAKE_NVML_OLD_DRIVER: an r470-era NVML).
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "nvml_cc.hpp"

namespace cc = probe::cuda::nvml_cc;

namespace {
int g_device;  // the one device's handle points here
std::atomic<unsigned> g_sm_reads{0}, g_power_reads{0}, g_temp_reads{0};  // sensor reads so far: the sequence index
std::vector<unsigned> sm_clocks() {
  const char* v = std::getenv("FAKE_NVML_SM_CLOCKS");
  std::string s = v ? v : "1755,1785,1815";
  std::vector<unsigned> out;
  for (std::size_t p = 0; p < s.size();) {
    const std::size_t q = s.find(',', p);
    out.push_back(static_cast<unsigned>(std::stoul(s.substr(p, q - p))));
    p = q == std::string::npos ? s.size() : q + 1;
  }
  return out;
}
bool cc_on() {
  const char* v = std::getenv("FAKE_NVML_CC");
  return v == nullptr || std::string_view(v) != "off";
}
}  // namespace

extern "C" {
__attribute__((visibility("default"))) int nvmlInit_v2() { return 0; }
__attribute__((visibility("default"))) int nvmlShutdown() { return 0; }
__attribute__((visibility("default"))) const char* nvmlErrorString(int r) {
  return r == cc::kErrorNotSupported ? "Not Supported" : "Unknown Error";
}
__attribute__((visibility("default"))) int nvmlSystemGetDriverVersion(char* buf, unsigned n) {
  std::strncpy(buf, "999.99-fake", n);
  return 0;
}
__attribute__((visibility("default"))) int nvmlDeviceGetHandleByPciBusId_v2(const char*, void** dev) {
  *dev = &g_device;
  return 0;
}
__attribute__((visibility("default"))) int nvmlDeviceGetClockInfo(void*, int type, unsigned* mhz) {
  if (type == 2) {  // NVML_CLOCK_MEM
    *mhz = 2619;
    return 0;
  }
  const std::vector<unsigned> clocks = sm_clocks();  // read each time: a test may change it between samplers
  *mhz = clocks[g_sm_reads++ % clocks.size()];
  return 0;
}
__attribute__((visibility("default"))) int nvmlDeviceGetMaxClockInfo(void*, int type, unsigned* mhz) {
  *mhz = type == 2 ? 2619 : 1980;
  return 0;
}
__attribute__((visibility("default"))) int nvmlDeviceGetPowerUsage(void*, unsigned* mw) {
  *mw = 650000 + 10000 * (g_power_reads++ % 6);
  return 0;
}
__attribute__((visibility("default"))) int nvmlDeviceGetPowerManagementLimit(void*, unsigned* mw) {
  *mw = 700000;
  return 0;
}
__attribute__((visibility("default"))) int nvmlDeviceGetTemperature(void*, int, unsigned* c) {
  *c = 60 + g_temp_reads++ % 5;
  return 0;
}
__attribute__((visibility("default"))) int nvmlDeviceGetCurrentClocksEventReasons(void*, unsigned long long* r) {
  const char* v = std::getenv("FAKE_NVML_REASONS");
  *r = v ? std::stoull(v, nullptr, 16) : 0x5;
  return 0;
}
#ifndef FAKE_NVML_OLD_DRIVER
__attribute__((visibility("default"))) int nvmlSystemGetConfComputeState(cc::SystemState* s) {
  s->environment = 1;
  s->ccFeature = cc_on() ? cc::kFeatureEnabled : 0;
  s->devToolsMode = 0;
  return 0;
}
__attribute__((visibility("default"))) int nvmlDeviceGetConfComputeGpuAttestationReport(void* dev,
                                                                                        cc::GpuAttestationReport* r) {
  if (dev != &g_device || !cc_on()) return cc::kErrorNotSupported;
  static constexpr char kTag[] = "FAKE-SPDM";
  std::memcpy(r->attestationReport, kTag, sizeof kTag - 1);
  std::memcpy(r->attestationReport + sizeof kTag - 1, r->nonce, cc::kNonceSize);
  r->attestationReportSize = static_cast<unsigned>(sizeof kTag - 1 + cc::kNonceSize);
  r->isCecAttestationReportPresent = 0;
  r->cecAttestationReportSize = 0xffffffffu;  // ignored when absent; and clamped if it were used
  return 0;
}
__attribute__((visibility("default"))) int nvmlDeviceGetConfComputeGpuCertificate(void* dev, cc::GpuCertificate* c) {
  if (dev != &g_device) return cc::kErrorNotSupported;
  std::memcpy(c->certChain, "FAKE-CERT-CHAIN", 15);
  c->certChainSize = 15;
  // A size beyond the array: the reader must clamp it.
  std::memset(c->attestationCertChain, 'A', cc::kAttestationCertChainSize);
  c->attestationCertChainSize = cc::kAttestationCertChainSize + 100;
  return 0;
}
#endif
}
