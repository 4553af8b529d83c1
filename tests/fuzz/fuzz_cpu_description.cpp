// libFuzzer harness: a recorded CPU description (--cpu-description FILE) through the real reader. What it
// accepts must write back (to_json_text) to text the reader accepts again: a description probe itself wrote
// that it then refuses is a bug, so that aborts. InputError on the fuzzed input is the expected rejection.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "cpu_description.hpp"
#include "probe/error.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  probe::cpu::CpuDescription d;
  try {
    d = probe::cpu::parse_cpu_description(text, "fuzz_cpu.json");
  } catch (const probe::InputError&) {
    return 0;
  }
  const std::string again = probe::cpu::to_json_text(d);
  try {
    (void)probe::cpu::parse_cpu_description(again, "fuzz_cpu_written.json");
  } catch (const probe::InputError& e) {
    std::fprintf(stderr, "a description probe wrote was refused: %s\n%s\n", e.what(), again.c_str());
    std::abort();
  }
  return 0;
}
