#pragma once
// Vector FP32/FP64 FMA lanes per SM by compute capability: the only theoretical compute peaks the CUDA backend
// states (tensor rates come from the chip database). Sources: the CUDA C++ Programming Guide's arithmetic
// instruction throughput table (results per clock per SM) for 8.x, 9.0, 10.0 and 12.x. Compute capability 10.3
// (B300, Blackwell Ultra) is not GB100's 64 FP64 lanes: NVIDIA traded the FP64 units for NVFP4 throughput. B300
// FP64 is 1.2 TFLOPS dense (data/chips.json b300, source K; Tom's Hardware on Hot Chips 2025: 1.39 per package,
// B200 40), which over 148-160 SMs at about 2 GHz is 2 lanes per SM, the figure of the parts without FP64 units.
#include <optional>
#include <string_view>

namespace probe::cuda {

[[nodiscard]] inline std::optional<int> fma_lanes_per_sm(int cc, std::string_view dtype) {
  const bool fp64 = dtype == "fp64";
  switch (cc) {
    case 80: return fp64 ? 32 : 64;
    case 90: case 100: return fp64 ? 64 : 128;
    case 103: return fp64 ? 2 : 128;
    case 86: case 87: case 89: case 120: case 121: return fp64 ? 2 : 128;
    default: return std::nullopt;
  }
}

}  // namespace probe::cuda
