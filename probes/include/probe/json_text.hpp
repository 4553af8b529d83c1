#pragma once
// The shared first step of every JSON reader: bounded nesting (check_json_depth), then nlohmann's parser, a
// syntax error becoming an InputError naming the file. Header-only: the readers link nlohmann_json already,
// the contract does not.
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "probe/error.hpp"
#include "probe/input_file.hpp"

namespace probe {

template <class Json = nlohmann::json>
[[nodiscard]] Json parse_json_text(std::string_view text, std::string_view file) {
  check_json_depth(text, file);
  try {
    return Json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    // parse_error carries the byte offset and what it expected; a number too large for a double is an
    // out_of_range (406) instead, which escaped as a crash until fuzz_rules found "1e3084".
    throw InputError(fmt::format("{}: not valid JSON: {}", file, e.what()));
  }
}

// The same with nlohmann's parser callback: a reader that needs only part of a large document (probe merge
// reads thousands of node reports) drops the rest while parsing, so it is never built in memory.
template <class Json = nlohmann::json>
[[nodiscard]] Json parse_json_text(std::string_view text, std::string_view file, typename Json::parser_callback_t filter) {
  check_json_depth(text, file);
  try {
    return Json::parse(text.begin(), text.end(), std::move(filter));
  } catch (const nlohmann::json::exception& e) {
    throw InputError(fmt::format("{}: not valid JSON: {}", file, e.what()));
  }
}

}  // namespace probe
