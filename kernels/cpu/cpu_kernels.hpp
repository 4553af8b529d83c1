#pragma once
// CPU microkernels: ISA detection, compute kernels (inline asm) and memory-stream kernels.
// Each kernel file states its op/byte count at the top; the numbers below come from those constants and are
// the ones the engine multiplies by — defined once.
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "probe/dtype.hpp"

namespace probe::cpu {

// One cache as CPUID describes it (Intel leaf 4, AMD leaf 0x8000001D): one instance's size, and how many
// logical processors CPUID says may share it (EAX[25:14] + 1: an upper bound, not a count of those online).
struct CpuCache {
  int level = 0;
  std::string type;  // "data", "instruction", "unified"
  std::uint64_t size_bytes = 0;
  int shared_by = 0;
  friend bool operator==(const CpuCache&, const CpuCache&) = default;
};

// What the processor and the OS support (CPUID + XGETBV: AVX state must be enabled by the OS too), read from
// CPUID directly: /proc/cpuinfo hides bits its kernel does not know (AMX-FP16 on older kernels, AVX10).
// A plain struct: a recorded CPU description (probe describe-cpu) maps onto exactly these fields.
struct CpuFeatures {
  std::string vendor;  // "AuthenticAMD", "GenuineIntel"
  std::string brand;   // CPUID brand string
  int family = -1, model = -1, stepping = -1;  // display family/model (extended fields folded in)
  bool sse2 = false, avx = false, fma = false, avx2 = false, f16c = false;
  bool avx512f = false, avx512bw = false, avx512vl = false, avx512dq = false;
  bool avx512_bf16 = false, avx512_vnni = false, avx_vnni = false, avx512_fp16 = false;
  // AMX as CPUID reports it (leaf 7.0 EDX 24/22/25, leaf 7.1 EAX 21), and whether XCR0 enables the tile state
  // (bits 17, 18). Linux must also grant the process permission (arch_prctl) before the first tile instruction.
  bool amx_tile = false, amx_bf16 = false, amx_int8 = false, amx_fp16 = false;
  bool os_amx = false;
  // Generation markers (cpu.md, GCC's feature order): AVX-512 ones only where the OS enables ZMM state, the
  // others as CPUID reports them.
  bool avx512cd = false, avx512_ifma = false, avx512_vbmi = false, avx512_vp2intersect = false;
  bool vaes = false, gfni = false, clwb = false, serialize = false, tsxldtrk = false, hybrid = false;
  bool amx_complex = false, avx10 = false;
  int avx10_version = 0;      // leaf 0x24 EBX[7:0] where AVX10 is present, else 0
  bool hypervisor = false;    // CPUID.1:ECX[31]: a guest of a hypervisor (whose model number may be masked)
  std::vector<CpuCache> caches;
  int base_mhz = 0, max_mhz = 0;  // leaf 0x16 (Intel), 0 where absent
};

// The boolean features by name: the names a CPU description lists and data/cpu_uarch.json's requires/forbids
// use. `cpuid` says where the bit is.
struct FeatureFlag {
  std::string_view name;
  bool CpuFeatures::*member;
  std::string_view cpuid;
};
[[nodiscard]] std::span<const FeatureFlag> feature_flags() noexcept;
// The flag called `name`, or nullptr.
[[nodiscard]] const FeatureFlag* find_feature_flag(std::string_view name) noexcept;
// True for a flag name or "avx10.N" (AVX10 at version N or later), the names identification rules may test.
[[nodiscard]] bool is_feature_name(std::string_view name) noexcept;
// Whether `f` has the feature `name` (see is_feature_name); false for an unknown name.
[[nodiscard]] bool has_feature(const CpuFeatures& f, std::string_view name) noexcept;
// The names of the flags that are set, in feature_flags() order.
[[nodiscard]] std::vector<std::string> feature_names(const CpuFeatures& f);
// The largest level-3 cache instance CPUID describes (0 when none).
[[nodiscard]] std::uint64_t l3_bytes(const CpuFeatures& f) noexcept;
[[nodiscard]] CpuFeatures detect_features() noexcept;

// The code paths, best first. A user may cap the ISA (--cpu-isa) to measure a lower path. amx (the tile matrix
// engine) ranks above avx512, so `--cpu-isa avx512` measures the vector units only.
enum class Isa { amx, avx512, avx2, sse2 };
[[nodiscard]] std::string_view to_string(Isa isa) noexcept;
[[nodiscard]] std::optional<Isa> isa_from_string(std::string_view s) noexcept;

// Whether this process may execute AMX tile instructions. Linux (>= 5.16) keeps the tile data state off until a
// process asks for it with arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA); without that grant the first
// tile instruction raises SIGILL. The steps, in order: CPUID (AMX-TILE), XCR0 (bits 17, 18),
// ARCH_GET_XCOMP_SUPP (bits 17, 18), ARCH_REQ_XCOMP_PERM. The first that fails is the reason.
enum class AmxPermissionStatus {
  granted,
  no_cpu_support,    // CPUID: no AMX-TILE
  os_disabled,       // XCR0 bits 17/18 clear (the OS or hypervisor has not enabled the tile state)
  kernel_too_old,    // ARCH_GET_XCOMP_SUPP unknown (EINVAL): Linux < 5.16
  query_failed,      // ARCH_GET_XCOMP_SUPP failed otherwise
  not_offered,       // Linux does not offer XTILECFG/XTILEDATA to user space
  refused,           // ARCH_REQ_XCOMP_PERM failed (e.g. EPERM, or a too-small sigaltstack: ENOSPC)
  not_linux,         // no arch_prctl on this OS
};
struct AmxPermission {
  AmxPermissionStatus status = AmxPermissionStatus::no_cpu_support;
  std::string reason;  // empty when granted; otherwise the sentence a skipped measurement shows
  [[nodiscard]] bool granted() const noexcept { return status == AmxPermissionStatus::granted; }
};
// The two arch_prctl calls, injectable so that a unit test can walk every refusal path. Each returns 0 or the
// errno value of the failure.
struct AmxSyscalls {
  int (*get_xcomp_supp)(std::uint64_t* mask) noexcept;
  int (*req_xcomp_perm)(unsigned xfeature) noexcept;
};
// Pure decision: calls `os` only as far as the previous steps succeeded.
[[nodiscard]] AmxPermission evaluate_amx_permission(const CpuFeatures& f, const AmxSyscalls& os);
// The real answer for this process: the arch_prctl request is made once per process (the grant is per process
// and cannot be taken back), later calls return the recorded answer.
[[nodiscard]] AmxPermission amx_permission(const CpuFeatures& f);

// Static description of one compute-kernel variant.
struct ComputeKernelInfo {
  std::string_view id;           // "fma.fp64" — the KernelSpec id
  std::string_view variant;      // "avx512", "avx2", "sse2"
  Isa isa;                       // the ISA level this variant needs at least (cap compares against it)
  DType dtype;
  std::string_view instruction;  // "vfmadd231pd zmm": the instruction whose work is counted
  int instr_per_iter;            // such instructions in one loop iteration (checked against objdump by a test)
  int ops_per_instr;             // FLOP/OP per instruction: 2 per lane for FMA, 2 per MAC for dot products
  std::string_view counting;     // "2 FLOP per FMA lane", in words
  [[nodiscard]] constexpr double ops_per_iter() const noexcept {
    return static_cast<double>(instr_per_iter) * ops_per_instr;
  }
};

// One thread's instance of a compute kernel. prepare() draws random operands; every run(n) starts from
// the same initial accumulators, so each run's result can be checked against the host reference for n.
class ComputeKernel {
 public:
  virtual ~ComputeKernel() = default;
  [[nodiscard]] virtual const ComputeKernelInfo& info() const noexcept = 0;
  virtual void prepare(std::uint64_t seed) = 0;
  virtual void run(std::uint64_t iterations) noexcept = 0;
  // Compares the stored results of the last run with the host reference; returns what differs, if anything.
  [[nodiscard]] virtual std::optional<std::string> verify(std::uint64_t iterations) const = 0;
  // Test hook: corrupts the stored result so that verify() must fail (proves verification catches it).
  virtual void inject_error() noexcept = 0;
};

// Every compute-kernel variant compiled in, whether or not this CPU runs it.
[[nodiscard]] std::vector<const ComputeKernelInfo*> compute_kernel_variants();
// The best variant of `id` this CPU supports at or below `cap`; nullptr when none.
[[nodiscard]] const ComputeKernelInfo* select_compute_kernel(std::string_view id, const CpuFeatures& f, Isa cap);
[[nodiscard]] bool is_supported(const ComputeKernelInfo& k, const CpuFeatures& f) noexcept;
[[nodiscard]] std::unique_ptr<ComputeKernel> make_compute_kernel(const ComputeKernelInfo& k);

// Memory kernels over double arrays (STREAM's element type).
enum class MemOp { read, write, copy, triad };
[[nodiscard]] std::string_view to_string(MemOp op) noexcept;

struct MemoryKernelInfo {
  std::string_view id;        // "mem.triad.nt"
  std::string_view variant;   // "avx512", "avx2", "sse2"
  Isa isa;
  MemOp op;
  bool nontemporal;           // streaming stores (no write-allocate)
  int arrays;                 // arrays touched: read 1, write 1, copy 2, triad 3
  int counted_bytes_per_elem;        // STREAM's count: read 8, write 8, copy 16, triad 24
  int write_allocate_bytes_per_elem; // extra traffic regular stores cause (8 per stored element), 0 for nt
  std::string_view counting;  // in words
};

[[nodiscard]] std::vector<const MemoryKernelInfo*> memory_kernel_variants();
[[nodiscard]] const MemoryKernelInfo* select_memory_kernel(std::string_view id, const CpuFeatures& f, Isa cap);
[[nodiscard]] bool is_supported(const MemoryKernelInfo& k, const CpuFeatures& f) noexcept;

// The arrays are shared by all threads; each thread owns [begin, end) of every array (a multiple of 64
// elements) and touches only that. Three arrays a, b, c of n doubles, 64-byte aligned.
struct StreamArrays {
  double* a = nullptr;
  double* b = nullptr;
  double* c = nullptr;
  std::size_t n = 0;
};

// One thread's share of the arrays, filled once per run and shared by every memory kernel: b and c hold random
// doubles in [1, 2) that no kernel writes (read sums b; copy, triad read b and c), a is the destination. The
// slice is cut into `chunks` equal chunks; one kernel pass covers the next chunk in turn, so a sample lasts a
// fraction of a full sweep while an element is touched again only after every other chunk was (the reuse
// distance STREAM's 4 × LLC rule is about). Checksums per chunk prove afterwards that the sources are intact.
class StreamSlice {
 public:
  // Throws std::invalid_argument for a slice outside the arrays, a missing array or chunks < 1.
  StreamSlice(const StreamArrays& arrays, std::size_t begin, std::size_t end, std::size_t chunks);
  // First touch by the calling thread (the pages land on its NUMA node): a zeroed, b and c drawn from seed.
  // touch_a = false: a is already faulted in (its content does not matter: every kernel that reads a value of a
  // wrote it first), so only b and c are written.
  void fill(std::uint64_t seed, bool touch_a = true);
  [[nodiscard]] const StreamArrays& arrays() const noexcept { return m_arrays; }
  [[nodiscard]] std::size_t begin() const noexcept { return m_begin; }
  [[nodiscard]] std::size_t chunks() const noexcept { return m_chunks; }
  [[nodiscard]] std::size_t chunk_elements() const noexcept { return m_chunk_len; }
  [[nodiscard]] std::size_t chunk_begin(std::size_t chunk) const noexcept { return m_begin + chunk * m_chunk_len; }
  // The chunk the next pass covers, whichever kernel makes it: the rotation carries over from one kernel to the
  // next, so a chunk is touched again only after every other chunk was, across kernels too.
  [[nodiscard]] std::size_t take_next_chunk() noexcept {
    const std::size_t c = m_cursor;
    m_cursor = (m_cursor + 1) % m_chunks;
    return c;
  }
  // Checksums of one chunk of a source array: the sum and the XOR of the elements' bit patterns. Any single
  // changed element changes both; a kernel's check accumulates them in the same pass that checks its output.
  struct Sums {
    std::uint64_t add = 0, xor_ = 0;
    friend bool operator==(const Sums&, const Sums&) = default;
  };
  // What is wrong with chunk `chunk` of b (and of c when given), if anything, against the checksums of fill().
  [[nodiscard]] std::optional<std::string> check_sums(std::size_t chunk, const Sums& b, const Sums* c) const;

 private:
  StreamArrays m_arrays;
  std::size_t m_begin = 0, m_chunks = 1, m_chunk_len = 0, m_cursor = 0;
  std::vector<Sums> m_sum_b, m_sum_c;  // per chunk, taken by fill()
};

// One thread's kernel over its slice. attach() draws the kernel's scalar; run(passes) makes `passes` passes,
// each over the slice's next chunk in turn (the position carries over between runs and kernels); verify() checks every
// chunk this kernel has written or read since attach() against the host reference.
class MemoryKernel {
 public:
  virtual ~MemoryKernel() = default;
  [[nodiscard]] virtual const MemoryKernelInfo& info() const noexcept = 0;
  virtual void attach(StreamSlice& slice, std::uint64_t seed) = 0;
  virtual void run(std::uint64_t passes) noexcept = 0;
  [[nodiscard]] virtual std::optional<std::string> verify() const = 0;
  virtual void inject_error() noexcept = 0;
};
[[nodiscard]] std::unique_ptr<MemoryKernel> make_memory_kernel(const MemoryKernelInfo& k);

// A dependent chain of integer adds (one cycle each on every x86-64 core since the P6): cycles = adds,
// so adds / seconds is the core clock while it runs. Returns Hz measured over about `seconds`.
[[nodiscard]] double measure_core_clock_hz(double seconds) noexcept;
// One uncalibrated run of the same chain, `adds` long (1e6 adds: ~0.3 ms at 3 GHz): cheap enough to follow every
// sample of a kernel, short enough to end before the core leaves the kernel's licence clock.
[[nodiscard]] double core_clock_hz_brief(std::uint64_t adds) noexcept;

// Empirical count of 512-bit FMA units (GROMACS identifyavx512fmaunits): the best time of 12 independent zmm
// FMAs per iteration against 12 FMAs interleaved with 12 vpermd (port 5 on Intel). Both loops run at the same
// clock, so the clock cancels in the ratio. Needs AVX-512 (f.avx512f); takes a few milliseconds.
struct FmaUnitTiming {
  double fma_only_s = 0, fma_and_permute_s = 0;
  std::uint64_t iterations = 0;
  [[nodiscard]] double ratio() const noexcept { return fma_only_s > 0 ? fma_and_permute_s / fma_only_s : 0; }
};
[[nodiscard]] FmaUnitTiming time_zmm_fma_units() noexcept;

}  // namespace probe::cpu
