#pragma once
// Typed reads from a parsed data file, each failure an InputError naming the file, the entry and the field.
#include <cmath>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "probe/error.hpp"
#include "probe/input_file.hpp"
#include "probe/json_text.hpp"

namespace probe::rules::detail {

using nlohmann::json;

// Where a value sits: "chips.json", entry "h100-sxm5-80gb", field "peaks.fp8.value".
struct Where {
  std::string file;
  std::string entry;  // empty: the top level
  std::string field;  // dotted path inside the entry

  [[nodiscard]] Where at(std::string_view sub) const {
    Where w = *this;
    w.field = field.empty() ? std::string(sub) : field + "." + std::string(sub);
    return w;
  }
  [[nodiscard]] Where in_entry(std::string entry_id) const { return Where{file, std::move(entry_id), {}}; }

  [[noreturn]] void fail(std::string_view problem) const {
    std::string msg = file;
    if (!entry.empty()) msg += fmt::format(": entry '{}'", entry);
    if (!field.empty()) msg += fmt::format(": field '{}'", field);
    msg += fmt::format(": {}", problem);
    throw InputError(msg);
  }
};

[[nodiscard]] inline std::string_view type_name(const json& j) noexcept {
  switch (j.type()) {
    case json::value_t::null: return "null";
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
    case json::value_t::number_float: return "a number";
    default: return "an unsupported value";
  }
}

// Bounded nesting and a syntax error naming the file: the one JSON parse step every reader shares.
inline json parse_text(std::string_view text, const std::string& file) { return parse_json_text(text, file); }

inline const json& require(const json& obj, std::string_view key, const Where& w) {
  if (!obj.is_object()) w.fail(fmt::format("expected an object, found {}", type_name(obj)));
  auto it = obj.find(key);
  if (it == obj.end()) w.at(key).fail("missing");
  return *it;
}

inline const json* optional_field(const json& obj, std::string_view key) {
  if (!obj.is_object()) return nullptr;
  auto it = obj.find(key);
  return it == obj.end() ? nullptr : &*it;
}

inline std::string as_string(const json& j, const Where& w) {
  if (!j.is_string()) w.fail(fmt::format("expected a string, found {}", type_name(j)));
  return j.get<std::string>();
}

inline double as_number(const json& j, const Where& w) {
  if (!j.is_number()) w.fail(fmt::format("expected a number, found {}", type_name(j)));
  double v = j.get<double>();
  if (!std::isfinite(v)) w.fail("expected a finite number");
  return v;
}

inline bool as_bool(const json& j, const Where& w) {
  if (!j.is_boolean()) w.fail(fmt::format("expected a boolean, found {}", type_name(j)));
  return j.get<bool>();
}

inline const json& as_array(const json& j, const Where& w) {
  if (!j.is_array()) w.fail(fmt::format("expected an array, found {}", type_name(j)));
  return j;
}

inline const json& as_object(const json& j, const Where& w) {
  if (!j.is_object()) w.fail(fmt::format("expected an object, found {}", type_name(j)));
  return j;
}

inline std::string req_string(const json& obj, std::string_view key, const Where& w) {
  return as_string(require(obj, key, w), w.at(key));
}

inline std::string opt_string(const json& obj, std::string_view key, const Where& w) {
  const json* j = optional_field(obj, key);
  if (!j || j->is_null()) return {};
  return as_string(*j, w.at(key));
}

inline double req_number(const json& obj, std::string_view key, const Where& w) {
  return as_number(require(obj, key, w), w.at(key));
}

// Regular files of at most kMaxInputFileBytes only (probe/input_file.hpp).
inline std::string read_file_text(const std::filesystem::path& path) { return read_input_file(path); }

}  // namespace probe::rules::detail
