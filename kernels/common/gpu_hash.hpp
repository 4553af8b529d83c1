#pragma once
// The memory kernels' array contents as a formula of the index, compiled for the host (probes/gpu/
// reference_common.hpp, the reference) and for the device (gpu_memory_kernels.inc: the arrays are filled and
// checked on the GPU, which moves 1 GiB per array in milliseconds where the host took seconds). One source, so
// the two cannot drift; the host still spot-checks device words against it (gpu_host.hpp MemoryRunner).
#include <cstddef>
#include <cstdint>

#if defined(__HIP__)
#define PROBE_HOST_DEVICE __attribute__((host, device))  // clang's spelling: no runtime header needed first
#elif defined(__CUDACC__)
#define PROBE_HOST_DEVICE __host__ __device__
#else
#define PROBE_HOST_DEVICE
#endif

namespace probe_gpu_hash {

// splitmix64 of (seed, array, index): cheap, random-looking, no compressible pattern.
PROBE_HOST_DEVICE inline std::uint32_t memory_word(std::uint64_t seed, int which, std::size_t i) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (i + 1) + (static_cast<std::uint64_t>(which) << 56);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return static_cast<std::uint32_t>(z ^ (z >> 31));
}
// Triad's fp32 inputs: integers in [-1000, 1000], so a = b + 3·c is exact in any evaluation order.
PROBE_HOST_DEVICE inline float triad_value(std::uint64_t seed, int which, std::size_t i) {
  return static_cast<float>(static_cast<int>(memory_word(seed, which, i) % 2001u) - 1000);
}

// What word i of an array holds, by kind: the fill of the inputs and the expected outputs of the checks.
enum class Content : int {
  constant = 0,     // `value` (write's output)
  word = 1,         // memory_word(seed, which, i) (read/copy inputs, copy's output)
  triad_input = 2,  // the bits of triad_value(seed, which, i)
  triad_output = 3  // the bits of triad_value(seed, 0, i) + s · triad_value(seed, 1, i)
};
PROBE_HOST_DEVICE inline std::uint32_t float_bits(float f) {
  union {
    float f;
    std::uint32_t u;
  } v{f};
  return v.u;
}
PROBE_HOST_DEVICE inline std::uint32_t content_word(Content kind, std::uint64_t seed, int which, std::uint32_t value,
                                                    float s, std::size_t i) {
  switch (kind) {
    case Content::constant: return value;
    case Content::word: return memory_word(seed, which, i);
    case Content::triad_input: return float_bits(triad_value(seed, which, i));
    case Content::triad_output: return float_bits(triad_value(seed, 0, i) + s * triad_value(seed, 1, i));
  }
  return 0;
}

}  // namespace probe_gpu_hash
