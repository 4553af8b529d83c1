#pragma once
// The one entry point a backend plugin exports. The loader checks the ABI version and the probe version
// it was built against before it creates anything: the contract is C++ classes, so both must match.
#include <cstdint>

#include "probe/device.hpp"

// 2: Measurement gained clock_hz_scalar, above_theoretical and theoretical_confirmed.
// 3: Measurement gained device_aborted; RunContext gained stop_requested.
// 4: Device gained attest() (a virtual function: the vtable changed).
// 5: Conditions gained array_bytes, load_average_1min and warnings (typed, no longer notes); Measurement gained
//    sustained (SustainedPhase); RunPolicy gained sustain_s.
#define PROBE_PLUGIN_ABI_VERSION 5u
#define PROBE_PLUGIN_ENTRY_SYMBOL "probe_backend_entry_v1"

extern "C" {
struct probe_backend_entry {
  std::uint32_t abi_version;  // PROBE_PLUGIN_ABI_VERSION at build time
  std::uint32_t struct_size;  // sizeof(probe_backend_entry) at build time
  const char* name;           // "cuda"
  const char* probe_version;  // probe::kVersion at build time
  probe::Backend* (*create)();           // may throw; the loader catches
  void (*destroy)(probe::Backend*);
};
}

// Defines the entry point in a plugin: PROBE_DEFINE_PLUGIN("cuda", CudaBackend)
#define PROBE_DEFINE_PLUGIN(NAME, TYPE)                                                              \
  extern "C" __attribute__((visibility("default"))) const probe_backend_entry* probe_backend_entry_v1() { \
    static const probe_backend_entry entry{                                                          \
        PROBE_PLUGIN_ABI_VERSION, sizeof(probe_backend_entry), NAME, ::probe::kVersion,             \
        []() -> ::probe::Backend* { return new TYPE(); },                                            \
        [](::probe::Backend* b) { delete b; }};                                                      \
    return &entry;                                                                                   \
  }
