// The variant tables, selection under an ISA cap, and the factories.
#include <algorithm>
#include <vector>

#include "kernels/cpu/detail.hpp"

namespace probe::cpu {
namespace detail {
namespace {

// Higher is better; a variant is allowed under cap c when rank(variant) <= rank(c).
int rank(Isa isa) noexcept {
  switch (isa) {
    case Isa::amx: return 3;
    case Isa::avx512: return 2;
    case Isa::avx2: return 1;
    case Isa::sse2: return 0;
  }
  return 0;
}

template <class Entry>
const Entry* find_entry(std::span<const Entry> entries, std::string_view id, std::string_view variant) noexcept {
  for (const Entry& e : entries) {
    if (e.info->id == id && e.info->variant == variant) return &e;
  }
  return nullptr;
}

template <class Entry>
const Entry* select(std::span<const Entry> entries, std::string_view id, const CpuFeatures& f, Isa cap) noexcept {
  const Entry* best = nullptr;
  for (const Entry& e : entries) {
    if (e.info->id != id || rank(e.info->isa) > rank(cap) || !e.supported(f)) continue;
    if (best == nullptr || rank(e.info->isa) > rank(best->info->isa)) best = &e;
  }
  return best;
}

}  // namespace

std::span<const ComputeEntry> compute_entries() {
  static const std::vector<ComputeEntry> all = [] {
    std::vector<ComputeEntry> v;
    for (auto part : {fma_avx512_entries(), fma_avx2_entries(), fma_sse2_entries(), dot_bf16_entries(),
                      dot_int8_entries(), fma_fp16_entries(), amx_entries()}) {
      v.insert(v.end(), part.begin(), part.end());
    }
    return v;
  }();
  return all;
}

std::span<const MemoryEntry> memory_entries_all() { return memory_entries(); }

}  // namespace detail

std::vector<const ComputeKernelInfo*> compute_kernel_variants() {
  std::vector<const ComputeKernelInfo*> v;
  for (const auto& e : detail::compute_entries()) v.push_back(e.info);
  return v;
}

const ComputeKernelInfo* select_compute_kernel(std::string_view id, const CpuFeatures& f, Isa cap) {
  const auto* e = detail::select(detail::compute_entries(), id, f, cap);
  return e ? e->info : nullptr;
}

bool is_supported(const ComputeKernelInfo& k, const CpuFeatures& f) noexcept {
  const auto* e = detail::find_entry(detail::compute_entries(), k.id, k.variant);
  return e != nullptr && e->supported(f);
}

std::unique_ptr<ComputeKernel> make_compute_kernel(const ComputeKernelInfo& k) {
  const auto* e = detail::find_entry(detail::compute_entries(), k.id, k.variant);
  return e ? e->make() : nullptr;
}

std::vector<const MemoryKernelInfo*> memory_kernel_variants() {
  std::vector<const MemoryKernelInfo*> v;
  for (const auto& e : detail::memory_entries_all()) v.push_back(e.info);
  return v;
}

const MemoryKernelInfo* select_memory_kernel(std::string_view id, const CpuFeatures& f, Isa cap) {
  const auto* e = detail::select(detail::memory_entries_all(), id, f, cap);
  return e ? e->info : nullptr;
}

bool is_supported(const MemoryKernelInfo& k, const CpuFeatures& f) noexcept {
  const auto* e = detail::find_entry(detail::memory_entries_all(), k.id, k.variant);
  return e != nullptr && e->supported(f);
}

std::unique_ptr<MemoryKernel> make_memory_kernel(const MemoryKernelInfo& k) {
  const auto* e = detail::find_entry(detail::memory_entries_all(), k.id, k.variant);
  return e ? e->make() : nullptr;
}

}  // namespace probe::cpu
