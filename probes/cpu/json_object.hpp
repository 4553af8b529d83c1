#pragma once
// The first step of reading any of the CPU backend's data files: parse the text and require an object at the
// top, with an InputError that names the file otherwise.
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string_view>

#include "probe/error.hpp"
#include "probe/json_text.hpp"

namespace probe::cpu {

[[nodiscard]] inline nlohmann::json parse_json_object(std::string_view text, std::string_view file) {
  // The shared parse step: bounded nesting, syntax errors naming the file.
  const nlohmann::json doc = parse_json_text(text, file);
  if (!doc.is_object()) throw InputError(fmt::format("{}: expected a JSON object at the top", file));
  return doc;
}

}  // namespace probe::cpu
