// CPUID + XGETBV feature detection and the Isa/MemOp names.
#include <cpuid.h>

#include <cstring>
#include <utility>

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

void read_caches(unsigned leaf, std::vector<CpuCache>& out) {
  for (unsigned sub = 0; sub < 16; ++sub) {
    const Regs r = cpuid(leaf, sub);
    const unsigned type = r.a & 0x1f;
    if (type == 0) break;  // no more caches
    CpuCache c;
    c.level = static_cast<int>((r.a >> 5) & 0x7);
    c.type = type == 1 ? "data" : type == 2 ? "instruction" : "unified";
    const std::uint64_t ways = ((r.b >> 22) & 0x3ff) + 1, partitions = ((r.b >> 12) & 0x3ff) + 1,
                        line = (r.b & 0xfff) + 1, sets = std::uint64_t{r.c} + 1;
    c.size_bytes = ways * partitions * line * sets;
    c.shared_by = static_cast<int>(((r.a >> 14) & 0xfff) + 1);
    out.push_back(std::move(c));
  }
}

}  // namespace

// Bits as the Intel SDM Vol. 2A (CPUID) and AMD APM Vol. 3 give them.
std::span<const FeatureFlag> feature_flags() noexcept {
  static constexpr FeatureFlag flags[] = {
      {"sse2", &CpuFeatures::sse2, "1 EDX 26"},
      {"avx", &CpuFeatures::avx, "1 ECX 28 (and XCR0 YMM)"},
      {"fma", &CpuFeatures::fma, "1 ECX 12"},
      {"f16c", &CpuFeatures::f16c, "1 ECX 29"},
      {"avx2", &CpuFeatures::avx2, "7.0 EBX 5"},
      {"avx512f", &CpuFeatures::avx512f, "7.0 EBX 16 (and XCR0 ZMM)"},
      {"avx512dq", &CpuFeatures::avx512dq, "7.0 EBX 17"},
      {"avx512cd", &CpuFeatures::avx512cd, "7.0 EBX 28"},
      {"avx512bw", &CpuFeatures::avx512bw, "7.0 EBX 30"},
      {"avx512vl", &CpuFeatures::avx512vl, "7.0 EBX 31"},
      {"avx512_ifma", &CpuFeatures::avx512_ifma, "7.0 EBX 21"},
      {"avx512_vbmi", &CpuFeatures::avx512_vbmi, "7.0 ECX 1"},
      {"avx512_vnni", &CpuFeatures::avx512_vnni, "7.0 ECX 11"},
      {"avx512_vp2intersect", &CpuFeatures::avx512_vp2intersect, "7.0 EDX 8"},
      {"avx512_fp16", &CpuFeatures::avx512_fp16, "7.0 EDX 23"},
      {"avx512_bf16", &CpuFeatures::avx512_bf16, "7.1 EAX 5"},
      {"avx_vnni", &CpuFeatures::avx_vnni, "7.1 EAX 4"},
      {"clwb", &CpuFeatures::clwb, "7.0 EBX 24"},
      {"gfni", &CpuFeatures::gfni, "7.0 ECX 8"},
      {"vaes", &CpuFeatures::vaes, "7.0 ECX 9"},
      {"serialize", &CpuFeatures::serialize, "7.0 EDX 14"},
      {"hybrid", &CpuFeatures::hybrid, "7.0 EDX 15"},
      {"tsxldtrk", &CpuFeatures::tsxldtrk, "7.0 EDX 16"},
      {"amx_bf16", &CpuFeatures::amx_bf16, "7.0 EDX 22"},
      {"amx_tile", &CpuFeatures::amx_tile, "7.0 EDX 24"},
      {"amx_int8", &CpuFeatures::amx_int8, "7.0 EDX 25"},
      {"amx_fp16", &CpuFeatures::amx_fp16, "7.1 EAX 21"},
      {"amx_complex", &CpuFeatures::amx_complex, "7.1 EDX 8"},
      {"os_amx", &CpuFeatures::os_amx, "XCR0 bits 17, 18"},
      {"avx10", &CpuFeatures::avx10, "7.1 EDX 19 (version: 0x24 EBX[7:0])"},
  };
  return flags;
}

const FeatureFlag* find_feature_flag(std::string_view name) noexcept {
  for (const FeatureFlag& f : feature_flags()) {
    if (f.name == name) return &f;
  }
  return nullptr;
}

namespace {
// "avx10.N" -> N, or -1.
int avx10_level(std::string_view name) noexcept {
  constexpr std::string_view prefix = "avx10.";
  if (name.size() != prefix.size() + 1 || name.substr(0, prefix.size()) != prefix) return -1;
  const char d = name.back();
  return d >= '1' && d <= '9' ? d - '0' : -1;
}
}  // namespace

bool is_feature_name(std::string_view name) noexcept {
  return find_feature_flag(name) != nullptr || avx10_level(name) > 0;
}

bool has_feature(const CpuFeatures& f, std::string_view name) noexcept {
  if (const FeatureFlag* flag = find_feature_flag(name)) return f.*(flag->member);
  const int level = avx10_level(name);
  return level > 0 && f.avx10 && f.avx10_version >= level;
}

std::vector<std::string> feature_names(const CpuFeatures& f) {
  std::vector<std::string> out;
  for (const FeatureFlag& flag : feature_flags()) {
    if (f.*(flag.member)) out.emplace_back(flag.name);
  }
  return out;
}

std::uint64_t l3_bytes(const CpuFeatures& f) noexcept {
  std::uint64_t best = 0;
  for (const CpuCache& c : f.caches) {
    if (c.level == 3 && c.size_bytes > best) best = c.size_bytes;
  }
  return best;
}

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
    f.avx512cd = f.avx512f && bit(l7.b, 28);
    f.avx512_ifma = f.avx512f && bit(l7.b, 21);
    f.avx512_vbmi = f.avx512f && bit(l7.c, 1);
    f.avx512_vp2intersect = f.avx512f && bit(l7.d, 8);
    f.clwb = bit(l7.b, 24);
    f.gfni = bit(l7.c, 8);
    f.vaes = bit(l7.c, 9);
    f.serialize = bit(l7.d, 14);
    f.hybrid = bit(l7.d, 15);
    f.tsxldtrk = bit(l7.d, 16);
    if (l7.a >= 1) {  // EAX of subleaf 0 = highest subleaf
      const Regs l71 = cpuid(7, 1);
      f.avx_vnni = f.avx2 && bit(l71.a, 4);
      f.avx512_bf16 = f.avx512f && bit(l71.a, 5);
      f.amx_fp16 = bit(l71.a, 21);
      f.amx_complex = bit(l71.d, 8);
      f.avx10 = bit(l71.d, 19);
    }
  }
  if (f.avx10 && max_leaf >= 0x24) f.avx10_version = static_cast<int>(cpuid(0x24, 0).b & 0xff);
  f.hypervisor = bit(l1.c, 31);
  if (max_leaf >= 0x16) {
    const Regs l16 = cpuid(0x16);
    f.base_mhz = static_cast<int>(l16.a & 0xffff);
    f.max_mhz = static_cast<int>(l16.b & 0xffff);
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
  // Cache geometry: Intel leaf 4; AMD leaf 0x8000001D where TopologyExtensions (0x80000001 ECX[22]) says it is
  // valid. Both have the same layout.
  unsigned cache_leaf = 0;
  if (f.vendor == "GenuineIntel" && max_leaf >= 4) {
    cache_leaf = 4;
  } else if (max_ext >= 0x8000001DU && bit(cpuid(0x80000001U).c, 22)) {
    cache_leaf = 0x8000001DU;
  }
  try {
    if (cache_leaf != 0) read_caches(cache_leaf, f.caches);
  } catch (...) {  // allocation failure: no caches rather than terminate
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
