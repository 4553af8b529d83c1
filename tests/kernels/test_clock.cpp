// Core clock from the dependent add chain: sanity range only (tests assert behaviour, never speed).
#include <gtest/gtest.h>

#include <iostream>

#include "kernels/cpu/cpu_kernels.hpp"

namespace probe::cpu {
namespace {

TEST(CoreClock, InAPlausibleRange) {
  const double hz = measure_core_clock_hz(0.2);
  std::cout << "core clock " << hz / 1e9 << " GHz\n";
  EXPECT_GT(hz, 0.2e9);
  EXPECT_LT(hz, 10e9);
}

TEST(CoreClock, TinyBudgetStillAnswers) {
  const double hz = measure_core_clock_hz(0.0);
  EXPECT_GT(hz, 0.2e9);
  EXPECT_LT(hz, 10e9);
}

}  // namespace
}  // namespace probe::cpu
