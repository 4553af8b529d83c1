// ROCm SMI decoding, checked without a GPU or the library: rsmi_frequencies_t in both layouts (ROCm 5.x: 32
// levels; ROCm 6.x: leading bool has_deep_sleep, 33 levels) chosen by rsmi_version_get's major, and the choice of
// the SMI device for a PCI bus id when partitions (non-SPX modes) put a partition id into the BDFID.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "rocm_smi.hpp"

namespace {

using namespace probe::hip::rsmi;

// The two layouts as the headers declare them (Debian 5.2.3 /usr/include/rocm_smi/rocm_smi.h; ROCm/rocm_smi_lib).
struct Freq5 {
  std::uint32_t num_supported, current;
  std::uint64_t frequency[32];
};
struct Freq6 {
  bool has_deep_sleep;
  std::uint32_t num_supported, current;
  std::uint64_t frequency[33];
};

template <class T>
std::vector<unsigned char> buffer(const T& f) {
  std::vector<unsigned char> b(kFreqBufBytes, 0xa5);  // the bytes past the struct are garbage, as on a real call
  std::memcpy(b.data(), &f, sizeof f);
  return b;
}

Freq5 levels5(std::uint32_t num, std::uint32_t cur) {
  Freq5 f{};
  f.num_supported = num;
  f.current = cur;
  for (std::uint32_t i = 0; i < 32; ++i) f.frequency[i] = (i + 1) * 100'000'000ull;
  return f;
}
Freq6 levels6(std::uint32_t num, std::uint32_t cur, bool deep_sleep) {
  Freq6 f{};
  f.has_deep_sleep = deep_sleep;
  f.num_supported = num;
  f.current = cur;
  for (std::uint32_t i = 0; i < 33; ++i) f.frequency[i] = (i + 1) * 100'000'000ull;
  return f;
}

TEST(Frequencies, BufferHoldsEveryLayout) {
  EXPECT_EQ(sizeof(Freq5), 264u);
  EXPECT_EQ(sizeof(Freq6), 280u);
  EXPECT_GE(kFreqBufBytes, sizeof(Freq6));
}

TEST(Frequencies, OldLayoutBeforeMajor6) {
  const auto b = buffer(levels5(3, 1));
  for (int major : {0, 1, 5}) {  // 0: version unknown; 1: Debian's 5.2.3 package; 5: ROCm 5 upstream
    EXPECT_EQ(decode_clock_hz(b, major, false), 200'000'000u) << major;
    EXPECT_EQ(decode_clock_hz(b, major, true), 300'000'000u) << major;
  }
}

TEST(Frequencies, NewLayoutFromMajor6) {
  const auto b = buffer(levels6(4, 2, true));  // "S:" level first, counted in num_supported
  for (int major : {6, 7, 8}) {                 // 7.x: ROCm 6.2 and later
    EXPECT_EQ(decode_clock_hz(b, major, false), 300'000'000u) << major;
    EXPECT_EQ(decode_clock_hz(b, major, true), 400'000'000u) << major;
  }
}

TEST(Frequencies, LevelCountLimitPerLayout) {
  EXPECT_EQ(decode_clock_hz(buffer(levels5(32, 31)), 5, true), 3'200'000'000u);
  auto over5 = levels5(32, 0);
  over5.num_supported = 33;
  EXPECT_FALSE(decode_clock_hz(buffer(over5), 5, true));
  EXPECT_EQ(decode_clock_hz(buffer(levels6(33, 32, true)), 7, false), 3'300'000'000u);
  EXPECT_EQ(decode_clock_hz(buffer(levels6(33, 0, true)), 7, true), 3'300'000'000u);
  EXPECT_FALSE(decode_clock_hz(buffer(levels6(34, 0, false)), 7, true));
}

TEST(Frequencies, RejectsBadCounts) {
  EXPECT_FALSE(decode_clock_hz(buffer(levels5(0, 0)), 5, false));
  EXPECT_FALSE(decode_clock_hz(buffer(levels5(3, 3)), 5, false));  // no current level (the library's "invalid")
  EXPECT_FALSE(decode_clock_hz(buffer(levels6(2, 34, false)), 6, false));
}

TEST(Frequencies, RejectsShortBuffer) {
  const auto b = buffer(levels6(2, 1, false));
  EXPECT_FALSE(decode_clock_hz(std::span(b).first(sizeof(Freq6) - 1), 6, false));
  EXPECT_TRUE(decode_clock_hz(std::span(b).first(sizeof(Freq6)), 6, false));
  const auto b5 = buffer(levels5(2, 1));
  EXPECT_FALSE(decode_clock_hz(std::span(b5).first(sizeof(Freq5) - 1), 5, false));
  EXPECT_TRUE(decode_clock_hz(std::span(b5).first(sizeof(Freq5)), 5, false));
}

constexpr std::uint64_t bdfid(std::uint64_t domain, std::uint64_t bus, std::uint64_t dev, std::uint64_t fn,
                              std::uint64_t partition = 0) {
  return domain << 32 | (partition & 0xf) << 28 | bus << 8 | dev << 3 | fn;
}

TEST(PciId, ParsesHwlocFormat) {
  const auto a = parse_bus_id("0000:c1:00.0");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->domain, 0u);
  EXPECT_EQ(a->bus, 0xc1u);
  EXPECT_EQ(a->device, 0u);
  const auto b = parse_bus_id("10002:0a:1f.0");  // 32-bit domain (e.g. behind VMD)
  ASSERT_TRUE(b);
  EXPECT_EQ(b->domain, 0x10002u);
  EXPECT_EQ(b->device, 0x1fu);
  EXPECT_FALSE(parse_bus_id("c1:00.0x"));
  EXPECT_FALSE(parse_bus_id("0000:100:00.0"));
}

TEST(PciId, IgnoresPartitionAndFunctionBits) {
  const PciAddress at{0, 0xc1, 0};
  EXPECT_TRUE(same_pci_device(bdfid(0, 0xc1, 0, 0), at));
  EXPECT_TRUE(same_pci_device(bdfid(0, 0xc1, 0, 0, 5), at));  // partition id in bits 31:28 (ROCm >= 6.1.1)
  EXPECT_TRUE(same_pci_device(bdfid(0, 0xc1, 0, 3), at));     // older KFD: partition id in the function bits
  EXPECT_FALSE(same_pci_device(bdfid(0, 0xc2, 0, 0), at));
  EXPECT_FALSE(same_pci_device(bdfid(0, 0xc1, 1, 0), at));
  EXPECT_FALSE(same_pci_device(bdfid(1, 0xc1, 0, 0), at));
  EXPECT_TRUE(same_pci_device(bdfid(0x10002, 0xc1, 0, 0), PciAddress{0x10002, 0xc1, 0}));
}

TEST(PciId, PicksPartitionZeroElseFirstMatch) {
  const PciAddress at{0, 0xc1, 0};
  const std::vector<std::optional<std::uint64_t>> cpx{bdfid(0, 0x11, 0, 0), bdfid(0, 0xc1, 0, 0, 1), std::nullopt,
                                                      bdfid(0, 0xc1, 0, 0, 0), bdfid(0, 0xc1, 0, 0, 2)};
  EXPECT_EQ(pick_smi_device(cpx, at), 3u);
  const std::vector<std::optional<std::uint64_t>> fn_partitions{bdfid(0, 0xc1, 0, 2), bdfid(0, 0xc1, 0, 1)};
  EXPECT_EQ(pick_smi_device(fn_partitions, at), 0u);
  const std::vector<std::optional<std::uint64_t>> spx{bdfid(0, 0x11, 0, 0), bdfid(0, 0xc1, 0, 0)};
  EXPECT_EQ(pick_smi_device(spx, at), 1u);
  EXPECT_FALSE(pick_smi_device(spx, PciAddress{0, 0x12, 0}));
  EXPECT_FALSE(pick_smi_device({}, at));
}

}  // namespace
