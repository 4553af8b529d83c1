// libFuzzer harness: the microarchitecture table (data/cpu_uarch.json's schema) through the real reader, then a
// lookup in what it accepted. InputError is the expected rejection; anything else is a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "probe/error.hpp"
#include "uarch.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto table = probe::cpu::UarchTable::parse(text, "fuzz_cpu_uarch.json");
    for (const auto& e : table.entries()) (void)e;
    (void)table.find("GenuineIntel", 6, 207);
    (void)table.find("AuthenticAMD", 25, 17);
  } catch (const probe::InputError&) {
  }
  return 0;
}
