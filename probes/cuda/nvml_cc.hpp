#pragma once
// NVML's confidential-computing types, as nvml.h declares them (r535 and later; Hopper and newer, Linux). Our own
// copy because the plugin builds without nvml.h (it opens NVML with dlopen); the stand-in NVML of the tests
// (tests/evidence/fake_nvml.cpp) includes this same header. The layout follows nvml.h; UNCONFIRMED against a
// header newer than r550 (reference/evidence.md lists the fields).
#include <cstdint>

namespace probe::cuda::nvml_cc {

inline constexpr unsigned kNonceSize = 0x20;                    // NVML_CC_GPU_CEC_NONCE_SIZE
inline constexpr unsigned kAttestationReportSize = 0x2000;      // NVML_CC_GPU_ATTESTATION_REPORT_SIZE
inline constexpr unsigned kCecAttestationReportSize = 0x1000;   // NVML_CC_GPU_CEC_ATTESTATION_REPORT_SIZE
inline constexpr unsigned kCertChainSize = 0x1000;              // NVML_GPU_CERT_CHAIN_SIZE
inline constexpr unsigned kAttestationCertChainSize = 0x1400;   // NVML_GPU_ATTESTATION_CERT_CHAIN_SIZE
inline constexpr unsigned kFeatureEnabled = 1;                  // NVML_CC_SYSTEM_FEATURE_ENABLED
inline constexpr int kErrorNotSupported = 3;                    // NVML_ERROR_NOT_SUPPORTED

struct SystemState {  // nvmlConfComputeSystemState_t
  unsigned int environment;
  unsigned int ccFeature;
  unsigned int devToolsMode;
};

struct GpuAttestationReport {  // nvmlConfComputeGpuAttestationReport_t
  unsigned int isCecAttestationReportPresent;
  unsigned int attestationReportSize;
  unsigned int cecAttestationReportSize;
  unsigned char nonce[kNonceSize];  // in
  unsigned char attestationReport[kAttestationReportSize];
  unsigned char cecAttestationReport[kCecAttestationReportSize];
};

struct GpuCertificate {  // nvmlConfComputeGpuCertificate_t
  unsigned int certChainSize;
  unsigned int attestationCertChainSize;
  unsigned char certChain[kCertChainSize];
  unsigned char attestationCertChain[kAttestationCertChainSize];
};

}  // namespace probe::cuda::nvml_cc
