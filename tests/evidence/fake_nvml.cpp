// A stand-in libnvidia-ml.so.1 for the attestation tests: the few NVML entry points probes/cuda/nvml.cpp opens,
// with one device at any PCI bus id. Confidential computing is on unless FAKE_NVML_CC=off; the attestation
// report echoes the nonce ("FAKE-SPDM" + nonce) so a test can see the nonce arrive. Built twice: with the
// confidential-computing entry points, and without them (FAKE_NVML_OLD_DRIVER: an r470-era NVML).
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "nvml_cc.hpp"

namespace cc = probe::cuda::nvml_cc;

namespace {
int g_device;  // the one device's handle points here
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
