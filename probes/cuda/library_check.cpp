#include "library_check.hpp"

#include <dlfcn.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>

namespace probe::cuda {
namespace {

std::uint64_t splitmix(std::uint64_t& s) {
  std::uint64_t z = (s += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

}  // namespace

OpenedLibrary open_first(std::span<const std::string> candidates, std::string_view what) {
  OpenedLibrary out;
  std::string tried;
  for (const auto& c : candidates) {
    dlerror();
    if (void* h = dlopen(c.c_str(), RTLD_NOW | RTLD_LOCAL)) {
      out.handle = h;
      out.name = c;
      return out;
    }
    const char* e = dlerror();
    std::string err = e ? e : "unknown error";
    // dlerror() repeats the name first ("libx.so: cannot open shared object file: …"): keep the reason only.
    if (err.rfind(c + ": ", 0) == 0) err.erase(0, c.size() + 2);
    if (!tried.empty()) tried += "; ";
    tried += fmt::format("dlopen {}: {}", c, err);
  }
  out.why = fmt::format("{} not found ({})", what, tried.empty() ? "no candidate names" : tried);
  return out;
}

std::vector<std::string> cublaslt_candidates(int built_major) {
  std::vector<std::string> names{fmt::format("libcublasLt.so.{}", built_major), "libcublasLt.so"};
  for (int major = built_major + 1; major <= built_major + 2; ++major) names.push_back(fmt::format("libcublasLt.so.{}", major));
  for (int major = built_major - 1; major >= 12; --major) names.push_back(fmt::format("libcublasLt.so.{}", major));
  std::vector<std::string> out = names;
  std::vector<std::string> dirs;
  for (const char* env : {"CUDA_HOME", "CUDA_PATH"}) {
    if (const char* v = std::getenv(env); v && *v) dirs.push_back(std::string(v) + "/lib64");
  }
  dirs.emplace_back("/usr/local/cuda/lib64");
  for (const auto& d : dirs) {
    for (const auto& n : names) out.push_back(d + "/" + n);
  }
  return out;
}

std::size_t element_bytes(GemmType t) { return t == GemmType::bf16 ? 2 : 1; }

double bf16_value(std::uint16_t bits) {
  const std::uint32_t w = static_cast<std::uint32_t>(bits) << 16;
  float f;
  std::memcpy(&f, &w, sizeof f);
  return f;
}

double e4m3_value(std::uint8_t bits) {
  const int sign = bits >> 7, exp = (bits >> 3) & 0xf, man = bits & 7;
  if (exp == 0xf && man == 7) return std::nan("");
  const double mag = exp == 0 ? std::ldexp(man / 8.0, -6) : std::ldexp(1.0 + man / 8.0, exp - 7);
  return sign ? -mag : mag;
}

double GemmInputs::a_at(std::size_t i, std::size_t kk) const {
  const std::size_t idx = i * k + kk;
  if (type == GemmType::bf16) {
    std::uint16_t v;
    std::memcpy(&v, a.data() + 2 * idx, 2);
    return bf16_value(v);
  }
  return e4m3_value(a[idx]);
}

double GemmInputs::b_at(std::size_t kk, std::size_t j) const {
  const std::size_t idx = j * k + kk;
  if (type == GemmType::bf16) {
    std::uint16_t v;
    std::memcpy(&v, b.data() + 2 * idx, 2);
    return bf16_value(v);
  }
  return e4m3_value(b[idx]);
}

GemmInputs make_gemm_inputs(GemmType t, std::size_t m, std::size_t n, std::size_t k, std::uint64_t seed) {
  GemmInputs in;
  in.type = t;
  in.m = m;
  in.n = n;
  in.k = k;
  const std::size_t eb = element_bytes(t);
  in.a.resize(m * k * eb);
  in.b.resize(n * k * eb);
  std::uint64_t s = seed;
  auto fill = [&](std::vector<std::uint8_t>& v) {
    const std::size_t count = v.size() / eb;
    for (std::size_t i = 0; i < count; i += 4) {
      const std::uint64_t r = splitmix(s);  // 16 random bits per element, 4 elements per draw
      for (std::size_t e = 0; e < 4 && i + e < count; ++e) {
        const auto bits = static_cast<std::uint32_t>(r >> (16 * e)) & 0xffffu;
        if (t == GemmType::bf16) {
          // sign | exponent 123..127 (2^-4 .. 2^0) | 7 random mantissa bits
          const std::uint32_t sign = bits >> 15, exp = 123 + (bits >> 7 & 0xff) % 5, man = bits & 0x7f;
          const auto h = static_cast<std::uint16_t>(sign << 15 | exp << 7 | man);
          std::memcpy(v.data() + 2 * (i + e), &h, 2);
        } else {
          // sign | exponent field 4..10 (2^-3 .. 2^3) | 3 random mantissa bits: never zero, never NaN
          const std::uint32_t sign = bits >> 15, exp = 4 + (bits >> 3 & 0xff) % 7, man = bits & 7;
          v[i + e] = static_cast<std::uint8_t>(sign << 7 | exp << 3 | man);
        }
      }
    }
  };
  fill(in.a);
  fill(in.b);
  return in;
}

std::vector<GemmPoint> sample_points(std::size_t m, std::size_t n, std::size_t count, std::uint64_t seed) {
  std::vector<GemmPoint> p;
  if (m == 0 || n == 0) return p;
  for (const GemmPoint c : {GemmPoint{0, 0}, GemmPoint{m - 1, 0}, GemmPoint{0, n - 1}, GemmPoint{m - 1, n - 1}}) {
    if (p.size() < count) p.push_back(c);
  }
  std::uint64_t s = seed;
  while (p.size() < count) p.push_back(GemmPoint{splitmix(s) % m, splitmix(s) % n});
  return p;
}

double gemm_tolerance(double ref, double sum_abs, std::size_t k) {
  const double u = std::ldexp(1.0, -23);
  const double ku = static_cast<double>(k) * u;
  const double gamma = ku < 1 ? ku / (1 - ku) : INFINITY;
  const double out_u = std::ldexp(1.0, -8);
  return out_u * std::fabs(ref) + (1 + out_u) * gamma * sum_abs;
}

ElementReference reference_element(const GemmInputs& in, std::size_t i, std::size_t j) {
  ElementReference r;
  for (std::size_t kk = 0; kk < in.k; ++kk) {
    const double p = in.a_at(i, kk) * in.b_at(kk, j);
    r.value += p;
    r.sum_abs += std::fabs(p);
  }
  r.tolerance = gemm_tolerance(r.value, r.sum_abs, in.k);
  return r;
}

std::optional<std::string> check_gemm_points(const GemmInputs& in, std::span<const GemmPoint> points,
                                             std::span<const double> got) {
  if (got.size() != points.size()) {
    return fmt::format("{} values for {} sampled elements", got.size(), points.size());
  }
  for (std::size_t p = 0; p < points.size(); ++p) {
    const auto [i, j] = points[p];
    const ElementReference r = reference_element(in, i, j);
    const double d = got[p];
    if (!std::isfinite(d) || std::fabs(d - r.value) > r.tolerance) {
      return fmt::format("D({}, {}) = {:.9g}, host reference {:.9g} (|difference| {:.3g} > tolerance {:.3g}: "
                         "FP32 accumulation of {} terms, Σ|a·b| = {:.6g}, BF16 output)",
                         i, j, d, r.value, std::fabs(d - r.value), r.tolerance, in.k, r.sum_abs);
    }
  }
  return std::nullopt;
}

}  // namespace probe::cuda
