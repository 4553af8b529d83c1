// The CUDA plugin's NVML attestation module (probes/cuda/nvml.cpp) against the stand-in NVML (fake_nvml.cpp), found
// by the plugin's own dlopen("libnvidia-ml.so.1") through LD_LIBRARY_PATH (set by the test registration). The
// plugin itself needs the CUDA runtime and a GPU; this exercises the same code without either.
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "nvml.hpp"
#include "nvml_cc.hpp"

using probe::cuda::Nvml;

namespace {
const std::string kNonce(32, '\x5a');
}

TEST(NvmlCc, RecordsTheReportAndCertificatesForTheNonce) {
  ::unsetenv("FAKE_NVML_CC");
  const Nvml nvml;
  ASSERT_TRUE(nvml.available()) << nvml.why();
  EXPECT_EQ(nvml.driver_version(), "999.99-fake");
  const probe::Attestation a = nvml.attest(nvml.device("0000:17:00.0"), kNonce);
  ASSERT_TRUE(a.available) << a.reason;
  EXPECT_EQ(a.nonce, kNonce);
  EXPECT_EQ(a.report, "FAKE-SPDM" + kNonce);  // the device saw our nonce
  EXPECT_TRUE(a.cec_report.empty());
  EXPECT_EQ(a.certificate_chain, "FAKE-CERT-CHAIN");
  // The driver's oversized length is clamped to the array.
  EXPECT_EQ(a.attestation_certificate_chain.size(), probe::cuda::nvml_cc::kAttestationCertChainSize);
}

TEST(NvmlCc, ConfidentialComputingOffIsNotAvailableWithTheReason) {
  ::setenv("FAKE_NVML_CC", "off", 1);
  const Nvml nvml;
  const probe::Attestation a = nvml.attest(nvml.device("0000:17:00.0"), kNonce);
  ::unsetenv("FAKE_NVML_CC");
  EXPECT_FALSE(a.available);
  EXPECT_NE(a.reason.find("confidential computing is off"), std::string::npos) << a.reason;
}

TEST(NvmlCc, AWrongNonceSizeIsRefused) {
  const Nvml nvml;
  const probe::Attestation a = nvml.attest(nvml.device("0000:17:00.0"), "short");
  EXPECT_FALSE(a.available);
  EXPECT_NE(a.reason.find("nonce"), std::string::npos) << a.reason;
}

TEST(NvmlOld, ADriverWithoutTheEntryPointsIsNotAvailable) {
  const Nvml nvml;
  ASSERT_TRUE(nvml.available()) << nvml.why();
  const probe::Attestation a = nvml.attest(nvml.device("0000:17:00.0"), kNonce);
  EXPECT_FALSE(a.available);
  EXPECT_NE(a.reason.find("r535"), std::string::npos) << a.reason;
}

TEST(NvmlMissing, NoNvmlIsNotAvailableSayingSo) {
  const Nvml nvml;
  if (nvml.available()) GTEST_SKIP() << "a real NVML is installed here";
  const probe::Attestation a = nvml.attest(nullptr, kNonce);
  EXPECT_FALSE(a.available);
  EXPECT_NE(a.reason.find("libnvidia-ml.so.1"), std::string::npos) << a.reason;
}
