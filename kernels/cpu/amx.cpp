// amx.bf16, amx.int8, amx.fp16: Intel AMX, the tile matrix engine (one TMUL unit per core). Full tiles of
// 16 rows × 64 bytes. One loop iteration = 4 TDP* instructions on 4 independent accumulator tiles, the 2×2
// blocking of a GEMM micro-kernel: C0 += A0·B0, C1 += A0·B1, C2 += A1·B0, C3 += A1·B1 (tmm0-3 accumulate,
// tmm4/5 hold A0/A1, tmm6/7 hold B0/B1; the operand tiles are loaded once before the loop and stay resident).
// No TDP* depends on the one before it: each accumulator is written every 4th instruction.
//   amx.bf16, TDPBF16PS: C[16×16 fp32] += A[16×32 bf16] · B[32×16 bf16]: 16·16·32 = 8192 multiply-adds =
//     16,384 FLOP per instruction, 65,536 FLOP per iteration.
//   amx.fp16, TDPFP16PS (AMX-FP16, Granite Rapids): the same shape with fp16 operands: 16,384 FLOP per
//     instruction. Encoded with .byte (GCC 12's toolchain has no -mamx-fp16; the audit checks what objdump
//     decodes).
//   amx.int8, TDPBUSD: C[16×16 int32] += A[16×64 u8] · B[64×16 s8]: 16·16·64 = 16,384 multiply-adds =
//     32,768 OP per instruction, 131,072 OP per iteration. TDPBUSD (unsigned × signed) rather than TDPBSSD:
//     the same rate (both occupy the TMUL 16 cycles), and it is the u8-activation × s8-weight form quantized
//     inference uses (oneDNN), matching dot.int8's vpdpbusd.
//
// Tile state. Linux must have granted the process the tile state (amx_permission, checked by `supported` and
// again by prepare(), so a tile instruction never meets SIGILL). The tile configuration is per thread: each
// call of the loop loads it (LDTILECFG) on the thread that runs, and ends with TILERELEASE, so no thread keeps
// a dirty tile state (which kept Sapphire Rapids cores out of deep C-states on older kernels).
//
// Exact verification, bf16/fp16. Per accumulator element, each instruction adds 32 products
// A[m][2k+s]·B[k][2n+s] (k < 16, s < 2), summed in an order the hardware does not document, with denormals
// flushed. The operands make every partial sum exact, so neither order nor rounding matters:
//   - every A pair is (x, -x) in random slot order, x in ±[1, 2); every B pair is (y, y), except in one random
//     row k_n per column n where it is (y, y'), y' the neighbour of y on its grid. So 15 pairs cancel exactly
//     and one leaves a drift d = ±x·(y - y') != 0 per element and instruction;
//   - products are multiples of 2^-14 below 4 in magnitude (bf16: 8 × 8 significant bits; fp16: x has 11, y
//     is kept on a 2^-4 grid, 5 bits), at most 16 of them positive and 16 negative, so any partial sum of
//     products lies in (-64, 64);
//   - accumulators start as multiples of 2^-14 in [704, 832) and the loop runs in chunks of at most kChunk
//     iterations (each chunk restarts from the initial tiles), kChunk·|d| < 128, so the accumulator stays in
//     (576, 960) and every accumulator-plus-partial-sum in (512, 1024), where the fp32 ulp is 2^-14.
// Hence after the last chunk of n_last iterations each element is exactly acc_0 + n_last·d, which the host
// computes in double. int8: int32 accumulation wraps (no saturation), so acc_n = acc_0 + n·S mod 2^32 with
// S = Σ of the 64 u8·s8 products of the element (drawn nonzero), exact whatever the order.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>

#include "kernels/cpu/compute_impl.hpp"
#include "probe/error.hpp"

namespace probe::cpu::detail {
namespace {

// ---- the op counts (defined once; ComputeKernelInfo below and thus the report use exactly these) ----
constexpr int kTileRows = 16;           // M: rows of C and A; also rows of B
constexpr int kTileRowBytes = 64;       // a full tile row
constexpr int kTileN = kTileRowBytes / 4;  // 16 fp32/int32 columns of C
constexpr int kOpsPerMac = 2;           // multiply + add
constexpr int kKFloat16 = kTileRowBytes / 2;  // 32 bf16/fp16 per A row
constexpr int kKInt8 = kTileRowBytes;         // 64 int8 per A row
constexpr int kFloat16OpsPerInstr = kOpsPerMac * kTileRows * kTileN * kKFloat16;  // 16,384
constexpr int kInt8OpsPerInstr = kOpsPerMac * kTileRows * kTileN * kKInt8;       // 32,768
constexpr int kAccTiles = 4;
constexpr int kInstrPerIteration = kAccTiles;
static_assert(kFloat16OpsPerInstr == 16384 && kInt8OpsPerInstr == 32768);

constexpr std::size_t kTileBytes = kTileRows * kTileRowBytes;

// What the asm reads: the tile configuration, then the tiles, at the offsets hard-coded in the asm below.
template <class Acc, class AElem, class BElem>
struct alignas(64) TileIn {
  std::uint8_t cfg[64];
  Acc c[kAccTiles][kTileRows][kTileRowBytes / sizeof(Acc)];
  AElem a[2][kTileRows][kTileRowBytes / sizeof(AElem)];
  BElem b[2][kTileRows][kTileRowBytes / sizeof(BElem)];
};
template <class Acc>
struct alignas(64) TileOut {
  Acc c[kAccTiles][kTileRows][kTileRowBytes / sizeof(Acc)];
};
using Float16In = TileIn<float, std::uint16_t, std::uint16_t>;
using Int8In = TileIn<std::uint32_t, std::uint8_t, std::int8_t>;
static_assert(offsetof(Float16In, c) == 64 && offsetof(Float16In, a) == 64 + 4 * kTileBytes &&
              offsetof(Float16In, b) == 64 + 6 * kTileBytes && sizeof(Float16In) == 64 + 8 * kTileBytes);
static_assert(offsetof(Int8In, c) == 64 && offsetof(Int8In, a) == 64 + 4 * kTileBytes &&
              offsetof(Int8In, b) == 64 + 6 * kTileBytes && sizeof(Int8In) == 64 + 8 * kTileBytes);

// LDTILECFG's 64-byte layout (Intel SDM vol. 2, LDTILECFG): palette 1, start_row 0, colsb[16] (uint16) at
// byte 16, rows[16] (uint8) at byte 48; tiles 0-7 are full 16 × 64 bytes, 8-15 unused.
void write_tile_config(std::uint8_t (&cfg)[64]) noexcept {
  std::memset(cfg, 0, sizeof cfg);
  cfg[0] = 1;
  for (int t = 0; t < 8; ++t) {
    const auto colsb = static_cast<std::uint16_t>(kTileRowBytes);
    std::memcpy(cfg + 16 + 2 * t, &colsb, 2);
    cfg[48 + t] = kTileRows;
  }
}

}  // namespace
}  // namespace probe::cpu::detail

// The loop shape shared by the three kernels; TDP(c, a, b) emits one instruction C += A·B on tiles c, a, b.
// n == 0 skips the loop and stores the initial accumulators. The stride register holds the 64-byte row pitch.
#define PROBE_AMX_LOOP(TDP)                                                                                    \
  asm volatile("ldtilecfg (%[in])\n\t"                                                                         \
               "tileloadd 64(%[in],%[stride],1), %%tmm0\n\t"                                                   \
               "tileloadd 1088(%[in],%[stride],1), %%tmm1\n\t"                                                 \
               "tileloadd 2112(%[in],%[stride],1), %%tmm2\n\t"                                                 \
               "tileloadd 3136(%[in],%[stride],1), %%tmm3\n\t"                                                 \
               "tileloadd 4160(%[in],%[stride],1), %%tmm4\n\t"                                                 \
               "tileloadd 5184(%[in],%[stride],1), %%tmm5\n\t"                                                 \
               "tileloadd 6208(%[in],%[stride],1), %%tmm6\n\t"                                                 \
               "tileloadd 7232(%[in],%[stride],1), %%tmm7\n\t"                                                 \
               "test %[n], %[n]\n\t"                                                                           \
               "jz 2f\n\t"                                                                                     \
               ".p2align 5\n"                                                                                  \
               "1:\n\t" TDP(0, 4, 6) TDP(1, 4, 7) TDP(2, 5, 6) TDP(3, 5, 7) "sub $1, %[n]\n\t"                 \
               "jnz 1b\n"                                                                                      \
               "2:\n\t"                                                                                        \
               "tilestored %%tmm0, 0(%[out],%[stride],1)\n\t"                                                  \
               "tilestored %%tmm1, 1024(%[out],%[stride],1)\n\t"                                               \
               "tilestored %%tmm2, 2048(%[out],%[stride],1)\n\t"                                               \
               "tilestored %%tmm3, 3072(%[out],%[stride],1)\n\t"                                               \
               "tilerelease\n\t"                                                                               \
               : [n] "+r"(iterations)                                                                          \
               : [in] "r"(in), [out] "r"(out), [stride] "r"(std::uint64_t{64})                                 \
               : "memory", "cc")

// AT&T order: source B (VEX.vvvv), source A (ModRM.rm), accumulator C (ModRM.reg).
#define TDPBF16PS(c, a, b) "tdpbf16ps %%tmm" #b ", %%tmm" #a ", %%tmm" #c "\n\t"
#define TDPBUSD(c, a, b) "tdpbusd %%tmm" #b ", %%tmm" #a ", %%tmm" #c "\n\t"
// TDPFP16PS tmm_c, tmm_a, tmm_b = VEX.128.F2.0F38.W0 5C /r (Intel ISE reference, AMX-FP16): C4, E2 (R̄X̄B̄ = 111,
// map 0F38), W0 ~vvvv(b) L0 pp=11 (F2), opcode 5C, ModRM 11 reg=c rm=a. binutils >= 2.40 prints it as tdpfp16ps.
#define TDPFP16PS(c, a, b) \
  ".byte 0xc4, 0xe2, ((((~" #b ") & 15) << 3) | 3), 0x5c, (0xc0 | (" #c " << 3) | " #a ")\n\t"

extern "C" {
__attribute__((noinline, used)) void probe_cpu_amx_bf16(const void* in, void* out, std::uint64_t iterations) noexcept {
  PROBE_AMX_LOOP(TDPBF16PS);
}
__attribute__((noinline, used)) void probe_cpu_amx_fp16(const void* in, void* out, std::uint64_t iterations) noexcept {
  PROBE_AMX_LOOP(TDPFP16PS);
}
__attribute__((noinline, used)) void probe_cpu_amx_int8(const void* in, void* out, std::uint64_t iterations) noexcept {
  PROBE_AMX_LOOP(TDPBUSD);
}
}

namespace probe::cpu::detail {
namespace {

// The tile state must have been granted before the first tile instruction; prepare() checks it once more so
// that a caller that skipped is_supported() gets an exception rather than SIGILL. An emulated loop (the test
// hook below) needs none.
void require_tile_permission(LoopFn loop) {
  if (loop != &probe_cpu_amx_bf16 && loop != &probe_cpu_amx_fp16 && loop != &probe_cpu_amx_int8) return;  // emulated
  const AmxPermission p = amx_permission(detect_features());
  if (!p.granted()) throw SystemError(p.reason);
}

// ---- the two 16-bit float formats: operand grids that keep every product a multiple of 2^-14 ----

struct Bf16Format {
  // |d| = |x|·2^-7 < 2^-6: 2^13 iterations drift less than 128.
  static constexpr std::uint64_t kChunk = std::uint64_t{1} << 13;
  static constexpr double kMaxDrift = 0x1p-6;
  static double value(std::uint16_t h) noexcept {
    return static_cast<double>(std::bit_cast<float>(static_cast<std::uint32_t>(h) << 16));
  }
  // ±[1, 2), random 7-bit mantissa (grid 2^-7).
  static std::uint16_t draw_a(SplitMix64& rng) noexcept {
    return static_cast<std::uint16_t>((rng.next() & 1) << 15 | 0x3f80 | rng.below(128));
  }
  static std::uint16_t draw_b(SplitMix64& rng) noexcept { return draw_a(rng); }
  // The next value on y's grid inside the binade (down when the mantissa is all ones).
  static std::uint16_t neighbour_b(std::uint16_t y) noexcept {
    return static_cast<std::uint16_t>((y & 0x7f) == 0x7f ? y - 1 : y + 1);
  }
};

struct Fp16Format {
  // |d| = |x|·2^-4 < 2^-3: 2^10 iterations drift less than 128.
  static constexpr std::uint64_t kChunk = std::uint64_t{1} << 10;
  static constexpr double kMaxDrift = 0x1p-3;
  static double value(std::uint16_t h) noexcept { return fp16_to_double(h); }
  // x: ±[1, 2), random 10-bit mantissa (grid 2^-10).
  static std::uint16_t draw_a(SplitMix64& rng) noexcept {
    return static_cast<std::uint16_t>((rng.next() & 1) << 15 | 0x3c00 | rng.below(1024));
  }
  // y: ±[1, 2) on a 2^-4 grid (random top 4 mantissa bits), so x·y has at most 15 significant bits.
  static std::uint16_t draw_b(SplitMix64& rng) noexcept {
    return static_cast<std::uint16_t>((rng.next() & 1) << 15 | 0x3c00 | rng.below(16) << 6);
  }
  static std::uint16_t neighbour_b(std::uint16_t y) noexcept {
    return static_cast<std::uint16_t>((y & 0x3c0) == 0x3c0 ? y - 0x40 : y + 0x40);
  }
};

// Accumulator tile t holds A[t / 2] · B[t % 2].
constexpr int a_of(int t) noexcept { return t / 2; }
constexpr int b_of(int t) noexcept { return t % 2; }

std::string where(int t, int m, int n) {
  return "tile " + std::to_string(t) + " row " + std::to_string(m) + " column " + std::to_string(n);
}

std::string mismatch(const ComputeKernelInfo& info, std::uint64_t iterations, const std::string& detail, int bad,
                     const std::string& first) {
  return std::string(info.id) + "/" + std::string(info.variant) + " after " + std::to_string(iterations) +
         " iterations" + detail + ": " + std::to_string(bad) + " of " +
         std::to_string(kAccTiles * kTileRows * kTileN) + " accumulator elements differ from the host reference; first: " +
         first;
}

template <class Format>
class AmxFloatKernel final : public ComputeKernel {
 public:
  static_assert(static_cast<double>(Format::kChunk) * Format::kMaxDrift <= 128.0, "chunk leaves the binade");

  AmxFloatKernel(const ComputeKernelInfo& info, LoopFn loop) noexcept : m_info(info), m_loop(loop) {}
  [[nodiscard]] const ComputeKernelInfo& info() const noexcept override { return m_info; }

  void prepare(std::uint64_t seed) override {
    require_tile_permission(m_loop);
    SplitMix64 rng(seed);
    write_tile_config(m_in.cfg);
    for (auto& tile : m_in.a) {
      for (auto& row : tile) {
        for (int k = 0; k < kKFloat16 / 2; ++k) {
          const std::uint16_t x = Format::draw_a(rng);
          const int s = static_cast<int>(rng.next() & 1);  // which slot of the pair holds +x
          row[2 * k + s] = x;
          row[2 * k + 1 - s] = static_cast<std::uint16_t>(x ^ 0x8000);
        }
      }
    }
    for (auto& tile : m_in.b) {
      for (int n = 0; n < kTileN; ++n) {
        const int k_drift = static_cast<int>(rng.below(kTileRows));
        const int s = static_cast<int>(rng.next() & 1);
        for (int k = 0; k < kTileRows; ++k) {
          const std::uint16_t y = Format::draw_b(rng);
          tile[k][2 * n] = tile[k][2 * n + 1] = y;
          if (k == k_drift) tile[k][2 * n + s] = Format::neighbour_b(y);
        }
      }
    }
    for (int t = 0; t < kAccTiles; ++t) {
      for (int m = 0; m < kTileRows; ++m) {
        for (int n = 0; n < kTileN; ++n) {
          // A multiple of 2^-14 in [704, 832).
          m_in.c[t][m][n] = static_cast<float>(704.0 + static_cast<double>(rng.below(128U << 14)) * 0x1p-14);
          // Every product and every partial sum is exact in double (and in fp32, see the top of the file).
          double d = 0;
          for (int k = 0; k < kKFloat16; ++k) {
            d += Format::value(m_in.a[a_of(t)][m][k]) * Format::value(m_in.b[b_of(t)][k / 2][2 * n + k % 2]);
          }
          m_drift[t][m][n] = d;
        }
      }
    }
    m_out = TileOut<float>{};
  }

  void run(std::uint64_t iterations) noexcept override {
    std::uint64_t left = iterations;
    do {
      const std::uint64_t n = std::min(left, Format::kChunk);
      m_loop(&m_in, &m_out, n);
      left -= n;
    } while (left > 0);
  }

  [[nodiscard]] std::optional<std::string> verify(std::uint64_t iterations) const override {
    const std::uint64_t n_last = iterations == 0 ? 0 : (iterations - 1) % Format::kChunk + 1;
    int bad = 0;
    std::string first;
    for (int t = 0; t < kAccTiles; ++t) {
      for (int m = 0; m < kTileRows; ++m) {
        for (int n = 0; n < kTileN; ++n) {
          const auto want = static_cast<float>(static_cast<double>(m_in.c[t][m][n]) +
                                               static_cast<double>(n_last) * m_drift[t][m][n]);
          const float got = m_out.c[t][m][n];
          if (bits_of(want) != bits_of(got) && bad++ == 0) {
            first = where(t, m, n) + ": got " + show(got) + ", expected " + show(want);
          }
        }
      }
    }
    if (bad == 0) return std::nullopt;
    return mismatch(m_info, iterations, " (last chunk " + std::to_string(n_last) + ")", bad, first);
  }

  void inject_error() noexcept override {
    float& v = m_out.c[kAccTiles - 1][kTileRows / 2][kTileN - 1];
    v = std::bit_cast<float>(bits_of(v) ^ 1U);
  }

 private:
  const ComputeKernelInfo& m_info;
  LoopFn m_loop;
  Float16In m_in{};
  TileOut<float> m_out{};
  double m_drift[kAccTiles][kTileRows][kTileN]{};
};

class AmxInt8Kernel final : public ComputeKernel {
 public:
  AmxInt8Kernel(const ComputeKernelInfo& info, LoopFn loop) noexcept : m_info(info), m_loop(loop) {}
  [[nodiscard]] const ComputeKernelInfo& info() const noexcept override { return m_info; }

  void prepare(std::uint64_t seed) override {
    require_tile_permission(m_loop);
    SplitMix64 rng(seed);
    write_tile_config(m_in.cfg);
    bool degenerate = true;
    while (degenerate) {  // S == 0 would leave an element unchanged and hide a loop that does nothing
      for (auto& tile : m_in.a) {
        for (auto& row : tile) {
          for (auto& v : row) v = static_cast<std::uint8_t>(rng.next());
        }
      }
      for (auto& tile : m_in.b) {
        for (auto& row : tile) {
          for (auto& v : row) v = static_cast<std::int8_t>(static_cast<std::uint8_t>(rng.next()));
        }
      }
      degenerate = false;
      for (int t = 0; t < kAccTiles; ++t) {
        for (int m = 0; m < kTileRows; ++m) {
          for (int n = 0; n < kTileN; ++n) {
            std::int32_t s = 0;  // |s| <= 64 · 255 · 128 < 2^21: no overflow
            for (int k = 0; k < kKInt8; ++k) {
              s += static_cast<std::int32_t>(m_in.a[a_of(t)][m][k]) *
                   static_cast<std::int32_t>(m_in.b[b_of(t)][k / 4][4 * n + k % 4]);
            }
            degenerate |= s == 0;
            m_step[t][m][n] = static_cast<std::uint32_t>(s);
            m_in.c[t][m][n] = static_cast<std::uint32_t>(rng.next());
          }
        }
      }
    }
    m_out = TileOut<std::uint32_t>{};
  }

  // No chunks: wrap-around keeps the result exact for any count.
  void run(std::uint64_t iterations) noexcept override { m_loop(&m_in, &m_out, iterations); }

  [[nodiscard]] std::optional<std::string> verify(std::uint64_t iterations) const override {
    const auto n = static_cast<std::uint32_t>(iterations);  // everything is mod 2^32
    int bad = 0;
    std::string first;
    for (int t = 0; t < kAccTiles; ++t) {
      for (int m = 0; m < kTileRows; ++m) {
        for (int col = 0; col < kTileN; ++col) {
          const std::uint32_t want = m_in.c[t][m][col] + n * m_step[t][m][col];
          const std::uint32_t got = m_out.c[t][m][col];
          if (want != got && bad++ == 0) {
            first = where(t, m, col) + ": got " + std::to_string(static_cast<std::int32_t>(got)) + ", expected " +
                    std::to_string(static_cast<std::int32_t>(want));
          }
        }
      }
    }
    if (bad == 0) return std::nullopt;
    return mismatch(m_info, iterations, "", bad, first);
  }

  void inject_error() noexcept override { m_out.c[kAccTiles - 1][kTileRows / 2][kTileN - 1] ^= 1U; }

 private:
  const ComputeKernelInfo& m_info;
  LoopFn m_loop;
  Int8In m_in{};
  TileOut<std::uint32_t> m_out{};
  std::uint32_t m_step[kAccTiles][kTileRows][kTileN]{};
};

using Bf16Kernel = AmxFloatKernel<Bf16Format>;
using Fp16Kernel = AmxFloatKernel<Fp16Format>;

const ComputeKernelInfo& bf16_info() {
  static constexpr ComputeKernelInfo k{
      "amx.bf16", "amx", Isa::amx, DType::bf16, "tdpbf16ps tmm", kInstrPerIteration, kFloat16OpsPerInstr,
      "2 FLOP per bf16 multiply-add (fp32 accumulate); a full-tile TDPBF16PS is 16×16×32 multiply-adds: 16,384 "
      "FLOP per instruction"};
  return k;
}
const ComputeKernelInfo& int8_info() {
  static constexpr ComputeKernelInfo k{
      "amx.int8", "amx", Isa::amx, DType::int8, "tdpbusd tmm", kInstrPerIteration, kInt8OpsPerInstr,
      "2 OP per u8·s8 multiply-add (int32 accumulate); a full-tile TDPBUSD is 16×16×64 multiply-adds: 32,768 OP "
      "per instruction"};
  return k;
}
const ComputeKernelInfo& fp16_info() {
  static constexpr ComputeKernelInfo k{
      "amx.fp16", "amx", Isa::amx, DType::fp16, "tdpfp16ps tmm", kInstrPerIteration, kFloat16OpsPerInstr,
      "2 FLOP per fp16 multiply-add (fp32 accumulate); a full-tile TDPFP16PS is 16×16×32 multiply-adds: 16,384 "
      "FLOP per instruction"};
  return k;
}

// The CPU feature first, so that only a CPU with the instruction asks Linux for the tile state.
bool bf16_supported(const CpuFeatures& f) noexcept { return f.amx_bf16 && amx_permission(f).granted(); }
bool int8_supported(const CpuFeatures& f) noexcept { return f.amx_int8 && amx_permission(f).granted(); }
bool fp16_supported(const CpuFeatures& f) noexcept { return f.amx_fp16 && amx_permission(f).granted(); }

}  // namespace

std::unique_ptr<ComputeKernel> make_amx_kernel_for_test(std::string_view id, LoopFn loop) {
  if (id == "amx.bf16") return std::make_unique<Bf16Kernel>(bf16_info(), loop);
  if (id == "amx.fp16") return std::make_unique<Fp16Kernel>(fp16_info(), loop);
  if (id == "amx.int8") return std::make_unique<AmxInt8Kernel>(int8_info(), loop);
  return nullptr;
}

std::span<const ComputeEntry> amx_entries() {
  static const ComputeEntry entries[] = {
      PROBE_COMPUTE_ENTRY(bf16_info, Bf16Kernel, probe_cpu_amx_bf16, bf16_supported),
      PROBE_COMPUTE_ENTRY(int8_info, AmxInt8Kernel, probe_cpu_amx_int8, int8_supported),
      PROBE_COMPUTE_ENTRY(fp16_info, Fp16Kernel, probe_cpu_amx_fp16, fp16_supported),
  };
  return entries;
}

}  // namespace probe::cpu::detail
