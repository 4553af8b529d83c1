// libFuzzer harness: a chip database (--chipdb FILE) through the real reader, then the declared and derived
// metrics of every chip it accepted (what `probe classify` computes) and their JSON and text.
// InputError is the expected rejection; any other exception escapes and libFuzzer reports it as a crash.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include <nlohmann/json.hpp>

#include "probe/error.hpp"
#include "rules.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  try {
    const auto db = probe::rules::ChipDatabase::parse(text, "fuzz_chips.json");
    for (const auto& chip : db.chips()) {
      const probe::rules::DeviceMetrics m = probe::rules::chip_metrics(chip, db);
      (void)probe::rules::to_json(m).dump();
      (void)probe::rules::render_text(m);
    }
  } catch (const probe::InputError&) {
  }
  return 0;
}
