#pragma once
// Loop bodies of the memory kernels, written once over a vector-traits type V and instantiated by each ISA TU
// with its own V. Everything here has internal linkage (anonymous namespace): an AVX-512 instantiation must
// never be shared with, or chosen by the linker for, another TU. No standard-library calls for the same reason.
//
// V provides: kLanes; type T; zero(); set1(double); load(const double*) (unaligned); store(double*, T);
// stream(double*, T) (aligned, non-temporal); add(T, T); mul(T, T); sum(T); fence().
// Intrinsics are fine here: these loops are memory-bound, and objdump (tests/kernels/asm_audit.py) checks that
// they stay vector loops of the intended width.
#include <cstddef>
#include <cstdint>

#include "kernels/cpu/mem_loops.hpp"

namespace {

constexpr int kUnroll = 4;  // vectors per loop iteration: 4 independent add chains in the read loop

template <class V>
inline void mem_read(const probe::cpu::detail::MemArgs* p) noexcept {
  const double* a = p->a;
  const std::size_t n = p->n;
  typename V::T s0 = V::zero(), s1 = V::zero(), s2 = V::zero(), s3 = V::zero();
  std::size_t i = 0;
  for (; i + kUnroll * V::kLanes <= n; i += kUnroll * V::kLanes) {
    s0 = V::add(s0, V::load(a + i));
    s1 = V::add(s1, V::load(a + i + V::kLanes));
    s2 = V::add(s2, V::load(a + i + 2 * V::kLanes));
    s3 = V::add(s3, V::load(a + i + 3 * V::kLanes));
  }
  for (; i + V::kLanes <= n; i += V::kLanes) s0 = V::add(s0, V::load(a + i));
  double t = V::sum(V::add(V::add(s0, s1), V::add(s2, s3)));
  for (; i < n; ++i) t += a[i];
  *p->sum = t;
}

// Elements before the first 64-byte boundary of `a` (streaming stores need aligned addresses).
inline std::size_t head_count(const double* a, std::size_t n) noexcept {
  const auto mis = reinterpret_cast<std::uintptr_t>(a) & 63U;
  const std::size_t h = mis == 0 ? 0 : (64 - mis) / sizeof(double);
  return h < n ? h : n;
}

// Shared shape of write/copy/triad: f(i) gives the vector for element i; Nt selects streaming stores.
template <class V, bool Nt, class F, class G>
inline void mem_store_loop(double* a, std::size_t n, F vec, G scalar) noexcept {
  std::size_t i = 0;
  if constexpr (Nt) {
    for (const std::size_t h = head_count(a, n); i < h; ++i) a[i] = scalar(i);
  }
  const auto put = [a, &vec](std::size_t j) {
    if constexpr (Nt) {
      V::stream(a + j, vec(j));
    } else {
      V::store(a + j, vec(j));
    }
  };
  // Unrolled by hand (kUnroll = 4): at -O2 GCC keeps an inner counted loop, which the audit would not accept.
  static_assert(kUnroll == 4);
  for (; i + kUnroll * V::kLanes <= n; i += kUnroll * V::kLanes) {
    put(i);
    put(i + V::kLanes);
    put(i + 2 * V::kLanes);
    put(i + 3 * V::kLanes);
  }
  for (; i < n; ++i) a[i] = scalar(i);
  if constexpr (Nt) V::fence();  // streaming stores are weakly ordered: make the pass's data globally visible
}

template <class V, bool Nt>
inline void mem_write(const probe::cpu::detail::MemArgs* p) noexcept {
  const double value = p->scalar;
  const typename V::T v = V::set1(value);
  mem_store_loop<V, Nt>(
      p->a, p->n, [v](std::size_t) { return v; }, [value](std::size_t) { return value; });
}

template <class V, bool Nt>
inline void mem_copy(const probe::cpu::detail::MemArgs* p) noexcept {
  const double* b = p->b;
  mem_store_loop<V, Nt>(
      p->a, p->n, [b](std::size_t j) { return V::load(b + j); }, [b](std::size_t j) { return b[j]; });
}

// a = b + s·c as a multiply then an add (two roundings; the library is built with -ffp-contract=off), the same
// in every variant, so one host reference serves them all.
template <class V, bool Nt>
inline void mem_triad(const probe::cpu::detail::MemArgs* p) noexcept {
  const double* b = p->b;
  const double* c = p->c;
  const double s = p->scalar;
  const typename V::T vs = V::set1(s);
  mem_store_loop<V, Nt>(
      p->a, p->n, [b, c, vs](std::size_t j) { return V::add(V::load(b + j), V::mul(vs, V::load(c + j))); },
      [b, c, s](std::size_t j) {
        const double t = s * c[j];
        return b[j] + t;
      });
}

}  // namespace

// Defines the seven extern "C" loops of one ISA from its traits type.
#define PROBE_DEFINE_MEM_LOOPS(ISA, V)                                                                       \
  extern "C" {                                                                                              \
  __attribute__((noinline)) void probe_cpu_mem_read_##ISA(const probe::cpu::detail::MemArgs* p) noexcept {    \
    mem_read<V>(p);                                                                                         \
  }                                                                                                         \
  __attribute__((noinline)) void probe_cpu_mem_write_##ISA(const probe::cpu::detail::MemArgs* p) noexcept {   \
    mem_write<V, false>(p);                                                                                 \
  }                                                                                                         \
  __attribute__((noinline)) void probe_cpu_mem_write_nt_##ISA(const probe::cpu::detail::MemArgs* p) noexcept { \
    mem_write<V, true>(p);                                                                                  \
  }                                                                                                         \
  __attribute__((noinline)) void probe_cpu_mem_copy_##ISA(const probe::cpu::detail::MemArgs* p) noexcept {    \
    mem_copy<V, false>(p);                                                                                  \
  }                                                                                                         \
  __attribute__((noinline)) void probe_cpu_mem_copy_nt_##ISA(const probe::cpu::detail::MemArgs* p) noexcept { \
    mem_copy<V, true>(p);                                                                                   \
  }                                                                                                         \
  __attribute__((noinline)) void probe_cpu_mem_triad_##ISA(const probe::cpu::detail::MemArgs* p) noexcept {   \
    mem_triad<V, false>(p);                                                                                 \
  }                                                                                                         \
  __attribute__((noinline)) void probe_cpu_mem_triad_nt_##ISA(const probe::cpu::detail::MemArgs* p) noexcept { \
    mem_triad<V, true>(p);                                                                                  \
  }                                                                                                         \
  }
