// libFuzzer harness: the command line's values and the plugin search path. The first byte picks the parser,
// the rest is the text. InputError is the expected rejection; a value accepted outside its stated range aborts.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "cli_values.hpp"
#include "probe/error.hpp"
#include "probe/plugin_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    switch (data[0] % 4) {
      case 0: {
        const std::uint64_t bytes = probe::parse_size(text, "--mem-size");
        if (bytes < probe::kMinSizeBytes || bytes > probe::kMaxSizeBytes) std::abort();
        break;
      }
      case 1: {
        const double v = probe::parse_number(text, "--die-area", 0, 1e5);
        if (!std::isfinite(v) || v < 0 || v > 1e5) std::abort();
        break;
      }
      case 2: {
        const std::int64_t n = probe::parse_count(text, "--threads", 1, 65536);
        if (n < 1 || n > 65536) std::abort();
        break;
      }
      default: {
        for (const auto& dir : probe::split_search_path(text)) {
          if (dir.empty()) std::abort();
        }
        break;
      }
    }
  } catch (const probe::InputError&) {
  }
  return 0;
}
