#include <gtest/gtest.h>

#include "probe/dtype.hpp"
#include "probe/measurement.hpp"
#include "probe/run_policy.hpp"

using namespace probe;

TEST(Stats, OddCountMedianMinMaxSpread) {
  const Stats s = Stats::from_samples({10, 12, 11, 9, 13});
  EXPECT_DOUBLE_EQ(s.median, 11);
  EXPECT_DOUBLE_EQ(s.min, 9);
  EXPECT_DOUBLE_EQ(s.max, 13);
  EXPECT_DOUBLE_EQ(s.mean, 11);
  EXPECT_NEAR(s.stddev, 1.5811388300841898, 1e-12);
  EXPECT_DOUBLE_EQ(s.q1, 10);
  EXPECT_DOUBLE_EQ(s.q3, 12);
  EXPECT_DOUBLE_EQ(s.rel_spread, 2.0 / 11.0);  // interquartile range / median
  EXPECT_DOUBLE_EQ(s.rel_range, 4.0 / 11.0);
  EXPECT_EQ(s.samples.size(), 5u);
  EXPECT_EQ(s.samples.front(), 10);  // kept in the order taken
}

TEST(Stats, EvenCountMedianIsMeanOfMiddlePair) {
  const Stats s = Stats::from_samples({4, 1, 3, 2});
  EXPECT_DOUBLE_EQ(s.median, 2.5);
  EXPECT_DOUBLE_EQ(s.q1, 1.75);
  EXPECT_DOUBLE_EQ(s.q3, 3.25);
}

TEST(Stats, SingleSampleAndEmpty) {
  const Stats one = Stats::from_samples({7});
  EXPECT_DOUBLE_EQ(one.median, 7);
  EXPECT_DOUBLE_EQ(one.stddev, 0);
  EXPECT_DOUBLE_EQ(one.rel_spread, 0);
  const Stats none = Stats::from_samples({});
  EXPECT_TRUE(none.samples.empty());
  EXPECT_DOUBLE_EQ(none.median, 0);
}

TEST(DType, BitLengthsAreOperandWidths) {
  EXPECT_EQ(bit_length(DType::fp64), 64);
  EXPECT_EQ(bit_length(DType::fp32), 32);
  EXPECT_EQ(bit_length(DType::tf32), 32);
  EXPECT_EQ(bit_length(DType::bf16), 16);
  EXPECT_EQ(bit_length(DType::fp16), 16);
  EXPECT_EQ(bit_length(DType::fp8_e4m3), 8);
  EXPECT_EQ(bit_length(DType::int8), 8);
  EXPECT_EQ(bit_length(DType::fp4), 4);
  for (auto t : {DType::fp64, DType::fp32, DType::tf32, DType::fp16, DType::bf16, DType::fp8_e4m3, DType::fp8_e5m2,
                 DType::int8, DType::int4, DType::fp4}) {
    EXPECT_EQ(dtype_from_string(to_string(t)), t);
  }
  EXPECT_FALSE(dtype_from_string("fp128"));
}

TEST(Strings, EnumsRoundTrip) {
  for (auto s : {Status::ok, Status::skipped, Status::unavailable, Status::failed}) {
    EXPECT_EQ(status_from_string(to_string(s)), s);
  }
  EXPECT_EQ(unit_from_string("ops/s"), Unit::ops_per_s);
  EXPECT_EQ(unit_from_string("B/s"), Unit::bytes_per_s);
  EXPECT_FALSE(unit_from_string("bogus"));
  EXPECT_EQ(kernel_class_from_string("memory"), KernelClass::memory);
}

TEST(RunPolicy, BudgetsAreOrdered) {
  const auto q = RunPolicy::for_budget(Budget::quick);
  const auto d = RunPolicy::for_budget(Budget::normal);
  const auto t = RunPolicy::for_budget(Budget::thorough);
  EXPECT_LT(q.max_time_s, d.max_time_s);
  EXPECT_LT(d.max_time_s, t.max_time_s);
  EXPECT_LE(q.min_samples, d.min_samples);
  EXPECT_LE(d.min_samples, t.min_samples);
  EXPECT_GE(q.target_spread, d.target_spread);
  EXPECT_GE(d.target_spread, t.target_spread);
  EXPECT_EQ(to_string(Budget::normal), "default");
}
