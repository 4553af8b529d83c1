// Memory kernels on small arrays split between two threads: init/run/verify, error injection, counts, selection.
#include <gtest/gtest.h>

#include <bit>
#include <cstdlib>
#include <map>
#include <string>
#include <thread>
#include <tuple>

#include "kernels/cpu/cpu_kernels.hpp"

namespace probe::cpu {

// Stable test names (see test_compute.cpp).
void PrintTo(const MemoryKernelInfo* k, std::ostream* os) { *os << k->id << '/' << k->variant; }

namespace {

std::string key(const MemoryKernelInfo& k) { return std::string(k.id) + "/" + std::string(k.variant); }

// Three 64-byte aligned arrays, freed on scope exit.
class Arrays {
 public:
  explicit Arrays(std::size_t n) {
    const std::size_t bytes = (n * sizeof(double) + 63) / 64 * 64 + 64;
    m_s.a = static_cast<double*>(std::aligned_alloc(64, bytes));
    m_s.b = static_cast<double*>(std::aligned_alloc(64, bytes));
    m_s.c = static_cast<double*>(std::aligned_alloc(64, bytes));
    m_s.n = n;
  }
  ~Arrays() {
    std::free(m_s.a);
    std::free(m_s.b);
    std::free(m_s.c);
  }
  Arrays(const Arrays&) = delete;
  Arrays& operator=(const Arrays&) = delete;
  [[nodiscard]] const StreamArrays& get() const { return m_s; }

 private:
  StreamArrays m_s;
};

class MemoryVariant : public ::testing::TestWithParam<const MemoryKernelInfo*> {
 protected:
  void SetUp() override {
    if (!is_supported(*GetParam(), detect_features())) {
      GTEST_SKIP() << key(*GetParam()) << " is not supported on this CPU";
    }
  }
  std::unique_ptr<MemoryKernel> make() const {
    auto k = make_memory_kernel(*GetParam());
    EXPECT_NE(k, nullptr);
    return k;
  }
};

// Two threads, each owning a slice (a multiple of 64 elements, as the backend hands out) cut into chunks; the
// second slice's chunks have a ragged length to exercise the loops' tails.
TEST_P(MemoryVariant, TwoThreadSlicesVerify) {
  constexpr std::size_t kSplit = 64 * 24;
  constexpr std::size_t kN = 64 * 40 + 13;
  Arrays arrays(kN);
  StreamSlice s0(arrays.get(), 0, kSplit, 4);
  StreamSlice s1(arrays.get(), kSplit, kN, 3);
  auto k0 = make();
  auto k1 = make();
  ASSERT_TRUE(k0 && k1);
  std::thread t0([&] {
    s0.fill(100);
    k0->attach(s0, 1);
    k0->run(6);  // wraps around: chunks 0-3, then 0-1 again
  });
  std::thread t1([&] {
    s1.fill(200);
    k1->attach(s1, 2);
    k1->run(3);
  });
  t0.join();
  t1.join();
  auto e0 = k0->verify();
  auto e1 = k1->verify();
  EXPECT_FALSE(e0) << *e0;
  EXPECT_FALSE(e1) << *e1;

  k1->inject_error();
  e0 = k0->verify();
  e1 = k1->verify();
  EXPECT_FALSE(e0) << "the other slice must be untouched: " << *e0;
  ASSERT_TRUE(e1);
  std::cout << "injected error reported as: " << *e1 << "\n";
}

TEST_P(MemoryVariant, UnalignedAndTinySlices) {
  Arrays arrays(1000);
  for (auto [b, e] : {std::pair<std::size_t, std::size_t>{3, 997}, {5, 6}, {0, 0}, {7, 40}, {64, 1000}}) {
    StreamSlice slice(arrays.get(), b, e, 1);
    slice.fill(5);
    auto k = make();
    ASSERT_TRUE(k);
    k->attach(slice, 5);
    k->run(2);
    const auto err = k->verify();
    EXPECT_FALSE(err) << "[" << b << ", " << e << "): " << *err;
  }
}

TEST_P(MemoryVariant, ZeroPassesChecksNothingAndPasses) {
  Arrays arrays(640);
  StreamSlice slice(arrays.get(), 0, 640, 2);
  slice.fill(9);
  auto k = make();
  ASSERT_TRUE(k);
  k->attach(slice, 9);
  k->run(0);
  const auto err = k->verify();
  EXPECT_FALSE(err) << *err;
}

TEST_P(MemoryVariant, InjectedErrorIsCaught) {
  Arrays arrays(64 * 16);
  StreamSlice slice(arrays.get(), 0, 64 * 16, 2);
  slice.fill(1);
  auto k = make();
  ASSERT_TRUE(k);
  k->attach(slice, 1);
  k->run(1);
  ASSERT_FALSE(k->verify());
  k->inject_error();
  EXPECT_TRUE(k->verify());
}

// Every kernel runs on the same filled slices, one after the other, as in a report: each finds the sources as
// fill() left them, whatever the kernels before it wrote to a.
TEST_P(MemoryVariant, RunsAfterEveryOtherKernelOnTheSameSlice) {
  Arrays arrays(64 * 32);
  StreamSlice slice(arrays.get(), 0, 64 * 32, 4);
  slice.fill(3);
  for (const MemoryKernelInfo* other : memory_kernel_variants()) {
    if (!is_supported(*other, detect_features())) continue;
    auto o = make_memory_kernel(*other);
    o->attach(slice, 4);
    o->run(5);
    ASSERT_FALSE(o->verify()) << key(*other);
  }
  auto k = make();
  k->attach(slice, 6);
  k->run(4);
  const auto err = k->verify();
  EXPECT_FALSE(err) << *err;
}

// A kernel that changed a source is caught even though its own output matches: the checksums of fill() hold.
TEST_P(MemoryVariant, ChangedSourceIsCaught) {
  if (GetParam()->op == MemOp::write) GTEST_SKIP() << "write reads no source";
  Arrays arrays(64 * 8);
  StreamSlice slice(arrays.get(), 0, 64 * 8, 2);
  slice.fill(11);
  auto k = make();
  k->attach(slice, 12);
  k->run(2);
  ASSERT_FALSE(k->verify());
  const auto flipped = [](double& v) { v = std::bit_cast<double>(std::bit_cast<std::uint64_t>(v) ^ 4ULL); };
  flipped(arrays.get().b[64 * 4 + 7]);  // chunk 1
  const auto err = k->verify();
  ASSERT_TRUE(err);
  EXPECT_NE(err->find("source b changed"), std::string::npos) << *err;
}

TEST_P(MemoryVariant, BadSliceIsRejected) {
  Arrays arrays(64);
  EXPECT_THROW(StreamSlice(arrays.get(), 32, 16, 1), std::invalid_argument);
  EXPECT_THROW(StreamSlice(arrays.get(), 0, 65, 1), std::invalid_argument);
  EXPECT_THROW(StreamSlice(arrays.get(), 0, 64, 0), std::invalid_argument);
}

std::string variant_name(const ::testing::TestParamInfo<const MemoryKernelInfo*>& p) {
  std::string s = key(*p.param);
  for (char& c : s) {
    if (c == '.' || c == '/') c = '_';
  }
  return s;
}

INSTANTIATE_TEST_SUITE_P(All, MemoryVariant, ::testing::ValuesIn(memory_kernel_variants()), variant_name);

TEST(MemoryInfo, CountsFollowStream) {
  // id -> {op, nt, arrays, counted bytes, write-allocate bytes}
  const std::map<std::string, std::tuple<MemOp, bool, int, int, int>> expected = {
      {"mem.read", {MemOp::read, false, 1, 8, 0}},       {"mem.write", {MemOp::write, false, 1, 8, 8}},
      {"mem.write.nt", {MemOp::write, true, 1, 8, 0}},   {"mem.copy", {MemOp::copy, false, 2, 16, 8}},
      {"mem.copy.nt", {MemOp::copy, true, 2, 16, 0}},    {"mem.triad", {MemOp::triad, false, 3, 24, 8}},
      {"mem.triad.nt", {MemOp::triad, true, 3, 24, 0}},
  };
  const auto variants = memory_kernel_variants();
  EXPECT_EQ(variants.size(), expected.size() * 3);  // avx512, avx2, sse2 each
  for (const MemoryKernelInfo* k : variants) {
    const auto it = expected.find(std::string(k->id));
    ASSERT_NE(it, expected.end()) << key(*k);
    const auto [op, nt, arrays, bytes, wa] = it->second;
    EXPECT_EQ(k->op, op) << key(*k);
    EXPECT_EQ(k->nontemporal, nt) << key(*k);
    EXPECT_EQ(k->arrays, arrays) << key(*k);
    EXPECT_EQ(k->counted_bytes_per_elem, bytes) << key(*k);
    EXPECT_EQ(k->write_allocate_bytes_per_elem, wa) << key(*k);
    EXPECT_EQ(isa_from_string(k->variant), k->isa) << key(*k);
    EXPECT_FALSE(k->counting.empty());
  }
}

TEST(MemorySelect, BestVariantAtOrBelowTheCap) {
  CpuFeatures f;
  f.sse2 = f.avx = f.avx2 = f.fma = f.avx512f = true;
  auto variant = [&](std::string_view id, const CpuFeatures& feat, Isa cap) {
    const MemoryKernelInfo* k = select_memory_kernel(id, feat, cap);
    return k ? std::string(k->variant) : std::string("none");
  };
  EXPECT_EQ(variant("mem.triad", f, Isa::avx512), "avx512");
  EXPECT_EQ(variant("mem.triad.nt", f, Isa::avx2), "avx2");
  EXPECT_EQ(variant("mem.read", f, Isa::sse2), "sse2");
  EXPECT_EQ(variant("mem.read.nt", f, Isa::avx512), "none");  // no such kernel
  CpuFeatures base;
  base.sse2 = true;
  EXPECT_EQ(variant("mem.copy", base, Isa::avx512), "sse2");
  const CpuFeatures here = detect_features();
  const MemoryKernelInfo* k = select_memory_kernel("mem.copy.nt", here, Isa::avx512);
  ASSERT_NE(k, nullptr);
  EXPECT_TRUE(is_supported(*k, here));
}

}  // namespace
}  // namespace probe::cpu
