// cuBLASLt through dlopen. The toolkit's cublasLt.h is included for its types and enums only: every function is
// called through a pointer from dlsym (typed with decltype of the header's declaration), so the plugin has no
// DT_NEEDED entry for libcublasLt (checked by the
// cuda.plugin_has_no_cublas_or_libcuda_dependency test) and loads on a node
// without it.
#include "cublaslt.hpp"

#include <cuda_runtime_api.h>
#include <dlfcn.h>

#include <fmt/format.h>
#include <memory>

#include "cuda_check.hpp"
#include "probe/error.hpp"

#if PROBE_HAVE_CUBLASLT_H
#include <cublasLt.h>
#endif

namespace probe::cuda {
namespace {

// clang-format off
constexpr LibraryKernelDesc kLibraryKernels[] = {
  {"library.bf16.cublaslt", "Library BF16 GEMM (cuBLASLt), FP32 accumulate", "bf16", GemmType::bf16, 80,
   "cuBLASLt BF16 GEMM needs sm_80 or newer"},
  {"library.fp8_e4m3.cublaslt", "Library FP8 E4M3 GEMM (cuBLASLt), FP32 accumulate", "fp8_e4m3", GemmType::fp8_e4m3,
   89, "cuBLASLt FP8 GEMM needs sm_89 (Ada) or sm_90+ (Hopper and newer)"},
};
// clang-format on

}  // namespace

std::span<const LibraryKernelDesc> library_kernels() { return kLibraryKernels; }

KernelSpec library_spec(const LibraryKernelDesc& d) {
  return KernelSpec{d.id, d.title, dtype_from_string(d.dtype).value_or(DType::none), Unit::ops_per_s,
                    KernelClass::compute, "2·M·N·K per GEMM (dense), M = N = K = 8192"};
}

#if !PROBE_HAVE_CUBLASLT_H

void measure_library(Measurement& m, const LibraryKernelDesc&, int, const std::function<SamplingOutcome(SampleRunner&)>&) {
  m.status = Status::skipped;
  m.reason = "built without cublasLt.h (the CUDA toolkit had no cuBLAS headers)";
}

#else

namespace {

// The subset of cuBLASLt used here, resolved once per process.
struct Api {
  OpenedLibrary lib;
  std::string why;  // empty when usable
  std::size_t version = 0;
#define PROBE_LT_FN(name) decltype(&::name) name = nullptr;
  PROBE_LT_FN(cublasLtGetVersion)
  PROBE_LT_FN(cublasLtGetStatusName)
  PROBE_LT_FN(cublasLtCreate)
  PROBE_LT_FN(cublasLtDestroy)
  PROBE_LT_FN(cublasLtMatmulDescCreate)
  PROBE_LT_FN(cublasLtMatmulDescDestroy)
  PROBE_LT_FN(cublasLtMatmulDescSetAttribute)
  PROBE_LT_FN(cublasLtMatrixLayoutCreate)
  PROBE_LT_FN(cublasLtMatrixLayoutDestroy)
  PROBE_LT_FN(cublasLtMatmulPreferenceCreate)
  PROBE_LT_FN(cublasLtMatmulPreferenceDestroy)
  PROBE_LT_FN(cublasLtMatmulPreferenceSetAttribute)
  PROBE_LT_FN(cublasLtMatmulAlgoGetHeuristic)
  PROBE_LT_FN(cublasLtMatmul)
#undef PROBE_LT_FN
};

const Api& api() {
  static const Api a = [] {
    Api r;
    r.lib = open_first(cublaslt_candidates(CUBLAS_VER_MAJOR), "cuBLASLt");
    if (!r.lib.handle) {
      r.why = r.lib.why;
      return r;
    }
    bool ok = true;
    auto load = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(r.lib.handle, name));
      if (!fn && ok) {
        ok = false;
        r.why = fmt::format("cuBLASLt ({}) lacks {}", r.lib.name, name);
      }
    };
#define PROBE_LT_LOAD(name) load(r.name, #name);
    PROBE_LT_LOAD(cublasLtGetVersion)
    PROBE_LT_LOAD(cublasLtGetStatusName)
    PROBE_LT_LOAD(cublasLtCreate)
    PROBE_LT_LOAD(cublasLtDestroy)
    PROBE_LT_LOAD(cublasLtMatmulDescCreate)
    PROBE_LT_LOAD(cublasLtMatmulDescDestroy)
    PROBE_LT_LOAD(cublasLtMatmulDescSetAttribute)
    PROBE_LT_LOAD(cublasLtMatrixLayoutCreate)
    PROBE_LT_LOAD(cublasLtMatrixLayoutDestroy)
    PROBE_LT_LOAD(cublasLtMatmulPreferenceCreate)
    PROBE_LT_LOAD(cublasLtMatmulPreferenceDestroy)
    PROBE_LT_LOAD(cublasLtMatmulPreferenceSetAttribute)
    PROBE_LT_LOAD(cublasLtMatmulAlgoGetHeuristic)
    PROBE_LT_LOAD(cublasLtMatmul)
#undef PROBE_LT_LOAD
    if (ok) r.version = r.cublasLtGetVersion();
    return r;
  }();
  return a;
}

void check_lt(cublasStatus_t s, const char* expr) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  const char* name = api().cublasLtGetStatusName ? api().cublasLtGetStatusName(s) : nullptr;
  throw BackendError(fmt::format("{} failed: {} ({})", expr, name ? name : "cuBLAS status", static_cast<int>(s)));
}
#define PROBE_LT_CHECK(expr) check_lt((expr), #expr)

std::string lt_version_text(std::size_t v) {  // 130001 → 13.0.1 (CUBLAS_VERSION: major·10000 + minor·100 + patch)
  return fmt::format("{}.{}.{}", v / 10000, v / 100 % 100, v % 100);
}

struct DeviceMemory {
  void* p = nullptr;
  explicit DeviceMemory(std::size_t n) { PROBE_CUDA_CHECK(cudaMalloc(&p, n)); }
  ~DeviceMemory() { cudaFree(p); }
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
};

// The runner's stream, events and cuBLASLt objects. A member of its own, so that they are released when the
// runner's constructor throws half-way (a destructor runs only for a fully constructed object; members are).
struct LtObjects {
  cudaStream_t stream = nullptr;
  cudaEvent_t start = nullptr, stop = nullptr;
  cublasLtHandle_t handle = nullptr;
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t la = nullptr, lb = nullptr, ld = nullptr;
  cublasLtMatmulPreference_t pref = nullptr;
  LtObjects() = default;
  LtObjects(const LtObjects&) = delete;
  LtObjects& operator=(const LtObjects&) = delete;
  ~LtObjects() {
    const Api& lt = api();
    if (pref) lt.cublasLtMatmulPreferenceDestroy(pref);
    if (ld) lt.cublasLtMatrixLayoutDestroy(ld);
    if (lb) lt.cublasLtMatrixLayoutDestroy(lb);
    if (la) lt.cublasLtMatrixLayoutDestroy(la);
    if (op) lt.cublasLtMatmulDescDestroy(op);
    if (handle) lt.cublasLtDestroy(handle);
    if (start) cudaEventDestroy(start);
    if (stop) cudaEventDestroy(stop);
    if (stream) cudaStreamDestroy(stream);
  }
};

// D = A·B in the TN layout of library_check.hpp, D in BF16, beta = 0 (C is D's buffer and layout, never read).
class GemmRunner final : public SampleRunner {
 public:
  GemmRunner(GemmType t, std::size_t size, std::uint64_t seed)
      : m_in(make_gemm_inputs(t, size, size, size, seed)),
        m_points(sample_points(size, size, kLibraryCheckedElements, seed ^ 0x51u)),
        m_a(m_in.a.size()),
        m_b(m_in.b.size()),
        m_d(size * size * 2),
        m_scales(2 * sizeof(float)),
        m_workspace(kWorkspace) {
    const Api& lt = api();
    PROBE_CUDA_CHECK(cudaMemcpy(m_a.p, m_in.a.data(), m_in.a.size(), cudaMemcpyHostToDevice));
    PROBE_CUDA_CHECK(cudaMemcpy(m_b.p, m_in.b.data(), m_in.b.size(), cudaMemcpyHostToDevice));
    const float ones[2] = {1.0f, 1.0f};
    PROBE_CUDA_CHECK(cudaMemcpy(m_scales.p, ones, sizeof ones, cudaMemcpyHostToDevice));
    PROBE_CUDA_CHECK(cudaStreamCreateWithFlags(&m_h.stream, cudaStreamNonBlocking));
    PROBE_CUDA_CHECK(cudaEventCreate(&m_h.start));
    PROBE_CUDA_CHECK(cudaEventCreate(&m_h.stop));

    const cudaDataType in_type = t == GemmType::bf16 ? CUDA_R_16BF : CUDA_R_8F_E4M3;
    const auto n = static_cast<std::uint64_t>(size);
    const auto ld = static_cast<std::int64_t>(size);
    PROBE_LT_CHECK(lt.cublasLtCreate(&m_h.handle));
    PROBE_LT_CHECK(lt.cublasLtMatmulDescCreate(&m_h.op, CUBLAS_COMPUTE_32F, CUDA_R_32F));
    const cublasOperation_t ta = CUBLAS_OP_T, tb = CUBLAS_OP_N;  // "TN": required for FP8, used for both
    PROBE_LT_CHECK(lt.cublasLtMatmulDescSetAttribute(m_h.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof ta));
    PROBE_LT_CHECK(lt.cublasLtMatmulDescSetAttribute(m_h.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof tb));
    if (t == GemmType::fp8_e4m3) {
      // Per-tensor scales (device pointers, FP32, here 1): D = scale_a·scale_b·(A·B). Fast accumulation stays off,
      // so partial sums are promoted to FP32 (the tolerance assumes FP32 accumulation).
      const void* sa = static_cast<const float*>(m_scales.p);
      const void* sb = static_cast<const float*>(m_scales.p) + 1;
      const std::int8_t fast = 0;
      PROBE_LT_CHECK(
          lt.cublasLtMatmulDescSetAttribute(m_h.op, CUBLASLT_MATMUL_DESC_A_SCALE_POINTER, &sa, sizeof sa));
      PROBE_LT_CHECK(
          lt.cublasLtMatmulDescSetAttribute(m_h.op, CUBLASLT_MATMUL_DESC_B_SCALE_POINTER, &sb, sizeof sb));
      PROBE_LT_CHECK(
          lt.cublasLtMatmulDescSetAttribute(m_h.op, CUBLASLT_MATMUL_DESC_FAST_ACCUM, &fast, sizeof fast));
    }
    PROBE_LT_CHECK(lt.cublasLtMatrixLayoutCreate(&m_h.la, in_type, n, n, ld));  // K × M, transposed by the op
    PROBE_LT_CHECK(lt.cublasLtMatrixLayoutCreate(&m_h.lb, in_type, n, n, ld));  // K × N
    PROBE_LT_CHECK(lt.cublasLtMatrixLayoutCreate(&m_h.ld, CUDA_R_16BF, n, n, ld));  // M × N
    PROBE_LT_CHECK(lt.cublasLtMatmulPreferenceCreate(&m_h.pref));
    const std::uint64_t ws = kWorkspace;
    PROBE_LT_CHECK(lt.cublasLtMatmulPreferenceSetAttribute(m_h.pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws,
                                                           sizeof ws));
    int found = 0;
    PROBE_LT_CHECK(lt.cublasLtMatmulAlgoGetHeuristic(m_h.handle, m_h.op, m_h.la, m_h.lb, m_h.ld, m_h.ld, m_h.pref, 1,
                                                     &m_heur, &found));
    if (found < 1) throw BackendError("cuBLASLt returned no algorithm for this GEMM on this device");
    // The copies above may still be in flight (pageable memory, legacy stream); the GEMMs run on a non-blocking one.
    PROBE_CUDA_CHECK(cudaDeviceSynchronize());
  }
  GemmRunner(const GemmRunner&) = delete;
  GemmRunner& operator=(const GemmRunner&) = delete;

  double run(std::uint64_t iterations) override {
    const Api& lt = api();
    // Poisoned (BF16 NaN) before every run: an element the GEMM did not write fails verification.
    PROBE_CUDA_CHECK(cudaMemsetAsync(m_d.p, 0xff, m_in.m * m_in.n * 2, m_h.stream));
    const float alpha = 1.0f, beta = 0.0f;
    PROBE_CUDA_CHECK(cudaEventRecord(m_h.start, m_h.stream));
    for (std::uint64_t i = 0; i < iterations; ++i) {
      PROBE_LT_CHECK(lt.cublasLtMatmul(m_h.handle, m_h.op, &alpha, m_a.p, m_h.la, m_b.p, m_h.lb, &beta, m_d.p,
                                       m_h.ld, m_d.p, m_h.ld, &m_heur.algo, m_workspace.p, kWorkspace, m_h.stream));
    }
    PROBE_CUDA_CHECK(cudaEventRecord(m_h.stop, m_h.stream));
    PROBE_CUDA_CHECK(cudaEventSynchronize(m_h.stop));
    float ms = 0;
    PROBE_CUDA_CHECK(cudaEventElapsedTime(&ms, m_h.start, m_h.stop));
    return ms / 1e3;
  }
  std::optional<std::string> verify(std::uint64_t, bool) override {
    std::vector<double> got;
    got.reserve(m_points.size());
    for (const auto& p : m_points) {
      std::uint16_t bits = 0;
      const auto* src = static_cast<const std::uint8_t*>(m_d.p) + (p.i + p.j * m_in.m) * 2;  // column-major M × N
      PROBE_CUDA_CHECK(cudaMemcpy(&bits, src, 2, cudaMemcpyDeviceToHost));
      got.push_back(bf16_value(bits));
    }
    return check_gemm_points(m_in, m_points, got);
  }
  double work(std::uint64_t iterations) const override {
    return static_cast<double>(iterations) * gemm_ops(m_in.m, m_in.n, m_in.k);
  }

 private:
  static constexpr std::size_t kWorkspace = std::size_t{32} << 20;
  GemmInputs m_in;
  std::vector<GemmPoint> m_points;
  DeviceMemory m_a, m_b, m_d, m_scales, m_workspace;
  LtObjects m_h;
  cublasLtMatmulHeuristicResult_t m_heur{};
};

}  // namespace

void measure_library(Measurement& m, const LibraryKernelDesc& d, int cc,
                     const std::function<SamplingOutcome(SampleRunner&)>& sample) {
  if (cc < d.min_cc) {
    m.status = Status::skipped;
    m.reason = fmt::format("{} (this device: sm_{})", d.skip_reason, cc);
    return;
  }
  const Api& lt = api();
  if (!lt.why.empty()) {
    m.status = Status::skipped;
    m.reason = lt.why;
    return;
  }
  const bool fp8 = d.type == GemmType::fp8_e4m3;
  const std::size_t n = kLibraryGemmSize;
  m.variant = "cublasLtMatmul, heuristic's first algorithm";
  m.conditions.notes.emplace_back("library", fmt::format("cuBLASLt {} ({})", lt_version_text(lt.version), lt.lib.name));
  m.conditions.notes.emplace_back(
      "problem", fmt::format("D = A·B, M = N = K = {}, TN layout, {} inputs (random, no zeros), FP32 accumulate "
                             "(CUBLAS_COMPUTE_32F{}), BF16 output, beta = 0",
                             n, fp8 ? "FP8 E4M3" : "BF16", fp8 ? ", fast accumulation off, scales 1" : ""));
  m.conditions.notes.emplace_back("counting", fmt::format("2·M·N·K = {:.6g} operations per GEMM", gemm_ops(n, n, n)));
  m.conditions.notes.emplace_back(
      "verification", fmt::format("{} elements (corners and random) against a host double reference after every "
                                  "run, |d − ref| ≤ 2^-8·|ref| + γ_K·Σ|a·b| (FP32 accumulation of K terms, u = 2^-23; "
                                  "BF16 output)",
                                  kLibraryCheckedElements));
  GemmRunner runner(d.type, n, 0x11b7a5eedull + static_cast<std::uint64_t>(d.type));
  m.conditions.working_set_bytes = n * n * (2 * element_bytes(d.type) + 2);
  const SamplingOutcome o = sample(runner);
  m.conditions.work_per_sample = runner.work(o.iterations);
  m.theoretical_basis = "not computed here: tensor peaks come from the chip database";
}

#endif

}  // namespace probe::cuda
