// AMX: the tile-permission decision on every path (with stand-in arch_prctl calls), the real answer on this
// machine, selection under the ISA cap, and the AMX kernels across their chunk boundaries. Runs anywhere: the
// kernels are skipped where the CPU or Linux does not give the tile state.
#include <gtest/gtest.h>

#include <bit>
#include <cerrno>
#include <cstring>
#include <string>
#include <thread>

#include "kernels/cpu/compute_impl.hpp"
#include "kernels/cpu/cpu_kernels.hpp"

namespace probe::cpu {
namespace {

CpuFeatures amx_cpu() {
  CpuFeatures f;
  f.sse2 = f.avx = f.fma = f.avx2 = true;
  f.avx512f = f.avx512bw = f.avx512vl = f.avx512dq = true;
  f.amx_tile = f.amx_bf16 = f.amx_int8 = true;
  f.os_amx = true;
  return f;
}

// Stand-in arch_prctl calls; a counter proves which ones were made.
struct Calls {
  static inline int get = 0, req = 0;
  static void reset() { get = req = 0; }
};
int supp_tiles(std::uint64_t* m) noexcept {
  ++Calls::get;
  *m = 0x602e7;  // what Linux 6.x answered on a Sapphire Rapids-class guest: x87..AVX-512, PKRU, XTILECFG/DATA
  return 0;
}
int supp_no_tiles(std::uint64_t* m) noexcept {
  ++Calls::get;
  *m = 0x2e7;
  return 0;
}
int supp_einval(std::uint64_t*) noexcept {
  ++Calls::get;
  return EINVAL;
}
int supp_efault(std::uint64_t*) noexcept {
  ++Calls::get;
  return EFAULT;
}
int req_ok(unsigned feature) noexcept {
  ++Calls::req;
  return feature == 18 ? 0 : EINVAL;
}
int req_eperm(unsigned) noexcept {
  ++Calls::req;
  return EPERM;
}

TEST(AmxPermission, GrantedWhenEveryStepSucceeds) {
  Calls::reset();
  const AmxPermission p = evaluate_amx_permission(amx_cpu(), {supp_tiles, req_ok});
  EXPECT_TRUE(p.granted());
  EXPECT_TRUE(p.reason.empty());
  EXPECT_EQ(Calls::get, 1);
  EXPECT_EQ(Calls::req, 1);  // asked for XTILEDATA (18): req_ok refuses anything else
}

TEST(AmxPermission, NoAmxOnTheCpuAsksLinuxNothing) {
  Calls::reset();
  CpuFeatures f = amx_cpu();
  f.amx_tile = false;
  const AmxPermission p = evaluate_amx_permission(f, {supp_tiles, req_ok});
  EXPECT_EQ(p.status, AmxPermissionStatus::no_cpu_support);
  EXPECT_NE(p.reason.find("no AMX on this CPU"), std::string::npos) << p.reason;
  EXPECT_EQ(Calls::get + Calls::req, 0);
}

TEST(AmxPermission, Xcr0WithoutTileStateIsNamed) {
  Calls::reset();
  CpuFeatures f = amx_cpu();
  f.os_amx = false;
  const AmxPermission p = evaluate_amx_permission(f, {supp_tiles, req_ok});
  EXPECT_EQ(p.status, AmxPermissionStatus::os_disabled);
  EXPECT_NE(p.reason.find("XCR0"), std::string::npos) << p.reason;
  EXPECT_EQ(Calls::get + Calls::req, 0);
}

TEST(AmxPermission, OldKernelIsNamed) {
  Calls::reset();
  const AmxPermission p = evaluate_amx_permission(amx_cpu(), {supp_einval, req_ok});
  EXPECT_EQ(p.status, AmxPermissionStatus::kernel_too_old);
  EXPECT_NE(p.reason.find("kernel too old"), std::string::npos) << p.reason;
  EXPECT_NE(p.reason.find("5.16"), std::string::npos) << p.reason;
  EXPECT_EQ(Calls::req, 0);
}

TEST(AmxPermission, OtherQueryFailureIsNamedWithItsErrno) {
  const AmxPermission p = evaluate_amx_permission(amx_cpu(), {supp_efault, req_ok});
  EXPECT_EQ(p.status, AmxPermissionStatus::query_failed);
  EXPECT_NE(p.reason.find("ARCH_GET_XCOMP_SUPP"), std::string::npos) << p.reason;
  EXPECT_NE(p.reason.find("Bad address"), std::string::npos) << p.reason;
}

TEST(AmxPermission, TileStateNotOfferedIsNamed) {
  Calls::reset();
  const AmxPermission p = evaluate_amx_permission(amx_cpu(), {supp_no_tiles, req_ok});
  EXPECT_EQ(p.status, AmxPermissionStatus::not_offered);
  EXPECT_NE(p.reason.find("not offered by Linux"), std::string::npos) << p.reason;
  EXPECT_EQ(Calls::req, 0);
}

TEST(AmxPermission, RefusalIsNamedWithItsErrno) {
  const AmxPermission p = evaluate_amx_permission(amx_cpu(), {supp_tiles, req_eperm});
  EXPECT_EQ(p.status, AmxPermissionStatus::refused);
  EXPECT_EQ(p.reason, "AMX tile state refused by Linux: arch_prctl(ARCH_REQ_XCOMP_PERM): Operation not permitted");
}

TEST(AmxPermission, NoArchPrctlOffLinux) {
  const AmxPermission p = evaluate_amx_permission(amx_cpu(), {nullptr, nullptr});
  EXPECT_EQ(p.status, AmxPermissionStatus::not_linux);
  EXPECT_FALSE(p.reason.empty());
}

TEST(AmxPermission, ThisMachineGivesAnAnswerAndKeepsIt) {
  const CpuFeatures f = detect_features();
  const AmxPermission a = amx_permission(f), b = amx_permission(f);
  EXPECT_EQ(a.status, b.status);
  EXPECT_EQ(a.reason, b.reason);
  EXPECT_EQ(a.granted(), a.reason.empty());
  if (!f.amx_tile) {
    EXPECT_EQ(a.status, AmxPermissionStatus::no_cpu_support);
  }
  // /proc/cpuinfo lists amx_tile only where the kernel supports it; XCR0 then has the tile bits.
  if (a.granted()) {
    EXPECT_TRUE(f.amx_tile && f.os_amx);
  }
}

// ---- selection ----

std::string selected(std::string_view id, const CpuFeatures& f, Isa cap) {
  const ComputeKernelInfo* k = select_compute_kernel(id, f, cap);
  return k ? std::string(k->variant) : "none";
}

TEST(AmxSelect, CappedBelowAmxNeverSelectsIt) {
  const CpuFeatures f = amx_cpu();
  for (const char* id : {"amx.bf16", "amx.int8", "amx.fp16"}) {
    EXPECT_EQ(selected(id, f, Isa::avx512), "none") << id;
    EXPECT_EQ(selected(id, f, Isa::sse2), "none") << id;
  }
}

TEST(AmxSelect, NeedsTheInstructionAndTheGrant) {
  // The grant is the real one of this process: a CPU that claims AMX on a machine without it is not granted.
  const bool granted = amx_permission(amx_cpu()).granted();
  const CpuFeatures f = amx_cpu();
  EXPECT_EQ(selected("amx.bf16", f, Isa::amx), granted ? "amx" : "none");
  EXPECT_EQ(selected("amx.int8", f, Isa::amx), granted ? "amx" : "none");
  EXPECT_EQ(selected("amx.fp16", f, Isa::amx), "none");  // amx_cpu() has no AMX-FP16
  CpuFeatures no_xcr0 = f;
  no_xcr0.os_amx = false;
  EXPECT_EQ(selected("amx.bf16", no_xcr0, Isa::amx), "none");
  // The vector kernels are unaffected by the amx cap level.
  EXPECT_EQ(selected("fma.fp64", f, Isa::amx), "avx512");
}

// ---- the kernels, where this machine runs them ----

class AmxKernel : public ::testing::TestWithParam<const char*> {
 protected:
  void SetUp() override {
    const CpuFeatures f = detect_features();
    m_info = select_compute_kernel(GetParam(), f, Isa::amx);
    if (m_info == nullptr) {
      GTEST_SKIP() << GetParam() << " does not run here: " << (f.amx_tile ? amx_permission(f).reason : "no AMX");
    }
    m_kernel = make_compute_kernel(*m_info);
    ASSERT_NE(m_kernel, nullptr);
  }
  const ComputeKernelInfo* m_info = nullptr;
  std::unique_ptr<ComputeKernel> m_kernel;
};

TEST_P(AmxKernel, OpCountIsTheFullTileShape) {
  const int k = m_info->dtype == DType::int8 ? 64 : 32;
  EXPECT_EQ(m_info->ops_per_instr, 2 * 16 * 16 * k);
  EXPECT_EQ(m_info->instr_per_iter, 4);
  EXPECT_EQ(m_info->isa, Isa::amx);
}

TEST_P(AmxKernel, ChunkBoundariesMatchHostReference) {
  // bf16 runs in chunks of 8192 iterations, fp16 of 1024; int8 has none. Each side of each boundary.
  for (std::uint64_t seed : {5ULL, 6ULL}) {
    m_kernel->prepare(seed);
    for (std::uint64_t n : {0ULL, 1ULL, 3ULL, 1023ULL, 1024ULL, 1025ULL, 2048ULL, 8191ULL, 8192ULL, 8193ULL,
                            16384ULL, 3 * 8192ULL + 7}) {
      m_kernel->run(n);
      const auto err = m_kernel->verify(n);
      EXPECT_FALSE(err) << "seed " << seed << " n=" << n << ": " << *err;
      if (n > 0) {
        EXPECT_TRUE(m_kernel->verify(n - 1)) << "n=" << n << ": the result must depend on the count";
      }
    }
  }
}

TEST_P(AmxKernel, EveryThreadConfiguresItsOwnTiles) {
  // Tile configuration is per thread: a kernel prepared on one thread and run on another still works.
  m_kernel->prepare(9);
  std::optional<std::string> err;
  std::thread t([&] {
    m_kernel->run(77);
    err = m_kernel->verify(77);
  });
  t.join();
  EXPECT_FALSE(err) << *err;
}

TEST_P(AmxKernel, InjectedErrorIsCaughtNamingOneElement) {
  m_kernel->prepare(12);
  m_kernel->run(100);
  ASSERT_FALSE(m_kernel->verify(100));
  m_kernel->inject_error();
  const auto err = m_kernel->verify(100);
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("1 of 1024"), std::string::npos) << *err;
}

INSTANTIATE_TEST_SUITE_P(All, AmxKernel, ::testing::Values("amx.bf16", "amx.int8", "amx.fp16"),
                         [](const auto& p) {
                           std::string s = p.param;
                           for (char& c : s) c = c == '.' ? '_' : c;
                           return s;
                         });

// ---- the host design, against a software model of the tile instructions (runs on every CPU) ----
// TDP*PS as the SDM describes it, in fp32 with a rounding after every product and every add, in one of two
// summation orders. The design claims exactness in any order: both orders must match the host reference.

constexpr std::size_t kTile = 1024;

template <bool Fp16, bool Reverse>
void emulate_float(const void* in, void* out, std::uint64_t n) noexcept {
  const auto* base = static_cast<const std::uint8_t*>(in) + 64;
  float c[4][16][16];
  std::memcpy(c, base, sizeof c);
  std::uint16_t a16[2][16][32], b16[2][16][32];
  std::memcpy(a16, base + 4 * kTile, sizeof a16);
  std::memcpy(b16, base + 6 * kTile, sizeof b16);
  float a[2][16][32], b[2][16][32];  // every bf16/fp16 value is exact in fp32
  for (int i = 0; i < 2 * 16 * 32; ++i) {
    const std::uint16_t ha = (&a16[0][0][0])[i], hb = (&b16[0][0][0])[i];
    (&a[0][0][0])[i] = Fp16 ? static_cast<float>(detail::fp16_to_double(ha))
                            : std::bit_cast<float>(static_cast<std::uint32_t>(ha) << 16);
    (&b[0][0][0])[i] = Fp16 ? static_cast<float>(detail::fp16_to_double(hb))
                            : std::bit_cast<float>(static_cast<std::uint32_t>(hb) << 16);
  }
  for (std::uint64_t i = 0; i < n; ++i) {
    for (int t = 0; t < 4; ++t) {
      for (int m = 0; m < 16; ++m) {
        for (int col = 0; col < 16; ++col) {
          float acc = c[t][m][col];
          for (int j = 0; j < 32; ++j) {
            const int k = Reverse ? 31 - j : j;
            const float p = a[t / 2][m][k] * b[t % 2][k / 2][2 * col + k % 2];
            acc = acc + p;
          }
          c[t][m][col] = acc;
        }
      }
    }
  }
  std::memcpy(out, c, sizeof c);
}

void emulate_int8(const void* in, void* out, std::uint64_t n) noexcept {
  const auto* base = static_cast<const std::uint8_t*>(in) + 64;
  std::uint32_t c[4][16][16];
  std::memcpy(c, base, sizeof c);
  std::uint8_t a[2][16][64];
  std::int8_t b[2][16][64];
  std::memcpy(a, base + 4 * kTile, sizeof a);
  std::memcpy(b, base + 6 * kTile, sizeof b);
  for (std::uint64_t i = 0; i < n; ++i) {
    for (int t = 0; t < 4; ++t) {
      for (int m = 0; m < 16; ++m) {
        for (int col = 0; col < 16; ++col) {
          for (int k = 0; k < 64; ++k) {
            c[t][m][col] += static_cast<std::uint32_t>(a[t / 2][m][k] * b[t % 2][k / 4][4 * col + k % 4]);
          }
        }
      }
    }
  }
  std::memcpy(out, c, sizeof c);
}

void expect_design_holds(std::string_view id, detail::LoopFn loop, std::initializer_list<std::uint64_t> counts) {
  auto k = detail::make_amx_kernel_for_test(id, loop);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->info().id, id);
  for (std::uint64_t seed : {21ULL, 22ULL}) {
    k->prepare(seed);
    for (std::uint64_t n : counts) {
      k->run(n);
      const auto err = k->verify(n);
      EXPECT_FALSE(err) << id << " seed " << seed << " n=" << n << ": " << *err;
      if (n > 0) {
        EXPECT_TRUE(k->verify(n - 1)) << id << " n=" << n << ": the result must depend on the count";
      }
    }
    k->inject_error();
    EXPECT_TRUE(k->verify(*(counts.end() - 1))) << id;
  }
}

TEST(AmxDesign, Bf16IsExactInAnySummationOrder) {
  // Its chunk boundaries (8192) are covered on the hardware by AmxKernel; the emulation is slow.
  expect_design_holds("amx.bf16", emulate_float<false, false>, {0, 1, 2, 37, 300});
  expect_design_holds("amx.bf16", emulate_float<false, true>, {0, 1, 37});
}

TEST(AmxDesign, Fp16IsExactInAnySummationOrder) {
  // The kernel this development CPU cannot run (no AMX-FP16): its design checked here. Chunk of 1024.
  expect_design_holds("amx.fp16", emulate_float<true, false>, {0, 1, 2, 37, 1023, 1024, 1025, 2049});
  expect_design_holds("amx.fp16", emulate_float<true, true>, {0, 1, 1024, 1025});
}

TEST(AmxDesign, Int8WrapsExactly) { expect_design_holds("amx.int8", emulate_int8, {0, 1, 2, 37, 300}); }

}  // namespace
}  // namespace probe::cpu
