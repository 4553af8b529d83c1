// CPUID + XGETBV feature detection and the Isa/MemOp names.
#include <cpuid.h>

#include <cstring>

#include "kernels/cpu/cpu_kernels.hpp"

namespace probe::cpu {
namespace {

struct Regs {
  unsigned a = 0, b = 0, c = 0, d = 0;
};

Regs cpuid(unsigned leaf, unsigned subleaf = 0) noexcept {
  Regs r;
  __cpuid_count(leaf, subleaf, r.a, r.b, r.c, r.d);
  return r;
}

bool bit(unsigned reg, int n) noexcept { return ((reg >> n) & 1U) != 0; }

// XCR0: which register state the OS saves on context switch. Only valid when CPUID.1:ECX.OSXSAVE is set.
std::uint64_t xgetbv0() noexcept {
  unsigned lo = 0, hi = 0;
  asm volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
  return (static_cast<std::uint64_t>(hi) << 32) | lo;
}

std::string trim(std::string s) {
  const auto first = s.find_first_not_of(' ');
  if (first == std::string::npos) return {};
  const auto last = s.find_last_not_of(' ');
  return s.substr(first, last - first + 1);
}

}  // namespace

CpuFeatures detect_features() noexcept {
  CpuFeatures f;
  unsigned max_leaf = 0, ebx = 0, ecx = 0, edx = 0;
  if (__get_cpuid(0, &max_leaf, &ebx, &ecx, &edx) == 0) return f;
  char vendor[13] = {};
  std::memcpy(vendor + 0, &ebx, 4);
  std::memcpy(vendor + 4, &edx, 4);
  std::memcpy(vendor + 8, &ecx, 4);
  try {
    f.vendor = vendor;
  } catch (...) {  // allocation failure: leave it empty rather than terminate
  }

  const Regs l1 = cpuid(1);
  const unsigned base_family = (l1.a >> 8) & 0xf;
  const unsigned base_model = (l1.a >> 4) & 0xf;
  f.stepping = static_cast<int>(l1.a & 0xf);
  // Display family/model (Intel SDM Vol. 2A CPUID, AMD APM Vol. 3): the extended fields count only for the
  // families that define them.
  f.family = static_cast<int>(base_family == 0xf ? base_family + ((l1.a >> 20) & 0xff) : base_family);
  f.model = static_cast<int>(base_family == 0x6 || base_family == 0xf ? (((l1.a >> 16) & 0xf) << 4) | base_model
                                                                      : base_model);

  f.sse2 = bit(l1.d, 26);
  const bool osxsave = bit(l1.c, 27);
  const std::uint64_t xcr0 = osxsave ? xgetbv0() : 0;
  const bool os_ymm = (xcr0 & 0x6) == 0x6;             // XMM (bit 1) and YMM upper halves (bit 2)
  const bool os_zmm = os_ymm && (xcr0 & 0xe0) == 0xe0;  // opmask (5), ZMM0-15 upper (6), ZMM16-31 (7)

  f.avx = os_ymm && bit(l1.c, 28);
  f.fma = f.avx && bit(l1.c, 12);
  f.f16c = f.avx && bit(l1.c, 29);

  if (max_leaf >= 7) {
    const Regs l7 = cpuid(7, 0);
    f.avx2 = f.avx && bit(l7.b, 5);
    f.avx512f = os_zmm && bit(l7.b, 16);
    f.avx512dq = f.avx512f && bit(l7.b, 17);
    f.avx512bw = f.avx512f && bit(l7.b, 30);
    f.avx512vl = f.avx512f && bit(l7.b, 31);
    f.avx512_vnni = f.avx512f && bit(l7.c, 11);
    f.avx512_fp16 = f.avx512f && bit(l7.d, 23);
    f.amx_tile = bit(l7.d, 24);
    f.amx_bf16 = bit(l7.d, 22);
    f.amx_int8 = bit(l7.d, 25);
    f.os_amx = (xcr0 & 0x60000) == 0x60000;  // XTILECFG (17) and XTILEDATA (18)
    if (l7.a >= 1) {  // EAX of subleaf 0 = highest subleaf
      const Regs l71 = cpuid(7, 1);
      f.avx_vnni = f.avx2 && bit(l71.a, 4);
      f.avx512_bf16 = f.avx512f && bit(l71.a, 5);
      f.amx_fp16 = bit(l71.a, 21);
    }
  }

  unsigned max_ext = 0;
  if (__get_cpuid(0x80000000U, &max_ext, &ebx, &ecx, &edx) != 0 && max_ext >= 0x80000004U) {
    char brand[49] = {};
    for (unsigned i = 0; i < 3; ++i) {
      const Regs r = cpuid(0x80000002U + i);
      std::memcpy(brand + 16 * i + 0, &r.a, 4);
      std::memcpy(brand + 16 * i + 4, &r.b, 4);
      std::memcpy(brand + 16 * i + 8, &r.c, 4);
      std::memcpy(brand + 16 * i + 12, &r.d, 4);
    }
    try {
      f.brand = trim(brand);
    } catch (...) {
    }
  }
  return f;
}

std::string_view to_string(Isa isa) noexcept {
  switch (isa) {
    case Isa::amx: return "amx";
    case Isa::avx512: return "avx512";
    case Isa::avx2: return "avx2";
    case Isa::sse2: return "sse2";
  }
  return "sse2";
}

std::optional<Isa> isa_from_string(std::string_view s) noexcept {
  for (Isa i : {Isa::amx, Isa::avx512, Isa::avx2, Isa::sse2}) {
    if (to_string(i) == s) return i;
  }
  return std::nullopt;
}

std::string_view to_string(MemOp op) noexcept {
  switch (op) {
    case MemOp::read: return "read";
    case MemOp::write: return "write";
    case MemOp::copy: return "copy";
    case MemOp::triad: return "triad";
  }
  return "read";
}

}  // namespace probe::cpu
