#include "uarch.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <set>

#include "probe/error.hpp"

namespace probe::data {
std::string_view cpu_uarch();  // embedded data/cpu_uarch.json
}

namespace probe::cpu {
namespace {

using nlohmann::json;

[[noreturn]] void bad(std::string_view file, std::string_view entry, std::string_view field, std::string_view what) {
  throw InputError(fmt::format("{}: entry '{}', field '{}': {}", file, entry, field, what));
}

const json& need(const json& obj, std::string_view file, std::string_view entry, const char* field,
                 json::value_t type) {
  if (!obj.contains(field)) bad(file, entry, field, "missing");
  const json& v = obj.at(field);
  const bool number_ok = type == json::value_t::number_float && v.is_number();
  if (v.type() != type && !number_ok && !(type == json::value_t::number_integer && v.is_number_integer())) {
    bad(file, entry, field, fmt::format("expected {}, found {}", json(type).type_name(), v.type_name()));
  }
  return v;
}

}  // namespace

UarchTable UarchTable::parse(std::string_view text, std::string_view file) {
  json doc;
  try {
    doc = json::parse(text);
  } catch (const json::parse_error& e) {
    throw InputError(fmt::format("{}: not valid JSON: {}", file, e.what()));
  }
  if (!doc.is_object()) throw InputError(fmt::format("{}: expected a JSON object at the top", file));
  const json& schema = need(doc, file, "(top)", "schema", json::value_t::string);
  if (schema.get<std::string>() != "probe-cpu-uarch/1") {
    bad(file, "(top)", "schema", fmt::format("'{}', expected 'probe-cpu-uarch/1'", schema.get<std::string>()));
  }
  const json& entries = need(doc, file, "(top)", "entries", json::value_t::array);
  UarchTable table;
  std::set<std::string> ids;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const json& e = entries[i];
    std::string label = fmt::format("#{}", i);
    if (!e.is_object()) bad(file, label, "(entry)", "expected an object");
    Uarch u;
    u.id = need(e, file, label, "id", json::value_t::string).get<std::string>();
    label = u.id;
    if (!ids.insert(u.id).second) bad(file, label, "id", "duplicate id");
    u.name = need(e, file, label, "name", json::value_t::string).get<std::string>();
    u.vendor = need(e, file, label, "vendor", json::value_t::string).get<std::string>();
    u.family = need(e, file, label, "family", json::value_t::number_integer).get<int>();
    if (e.contains("note") && e.at("note").is_string()) u.note = e.at("note").get<std::string>();
    for (const json& r : need(e, file, label, "models", json::value_t::array)) {
      if (!r.is_array() || r.size() != 2 || !r[0].is_number_integer() || !r[1].is_number_integer() ||
          r[0].get<int>() > r[1].get<int>()) {
        bad(file, label, "models", "each range must be [first, last] integers with first <= last");
      }
      u.models.emplace_back(r[0].get<int>(), r[1].get<int>());
    }
    for (const auto& [key, t] : need(e, file, label, "throughput", json::value_t::object).items()) {
      const std::string field = "throughput." + key;
      if (!t.is_object()) bad(file, label, field, "expected an object");
      if (!t.contains("per_cycle") || !t.at("per_cycle").is_number() || t.at("per_cycle").get<double>() <= 0) {
        bad(file, label, field + ".per_cycle", "missing or not a positive number");
      }
      if (!t.contains("source") || !t.at("source").is_string() || t.at("source").get<std::string>().empty()) {
        bad(file, label, field + ".source", "missing or empty: every figure needs a source");
      }
      if (t.contains("confirmed") && !t.at("confirmed").is_boolean()) {
        bad(file, label, field + ".confirmed", "expected a boolean");
      }
      u.throughput[key] = UarchThroughput{t.at("per_cycle").get<double>(), t.at("source").get<std::string>(),
                                          t.value("confirmed", true)};
    }
    table.m_entries.push_back(std::move(u));
  }
  return table;
}

const UarchTable& UarchTable::builtin() {
  static const UarchTable table = parse(probe::data::cpu_uarch(), "data/cpu_uarch.json (built in)");
  return table;
}

const Uarch* UarchTable::find(std::string_view vendor, int family, int model) const noexcept {
  for (const Uarch& u : m_entries) {
    if (u.vendor != vendor || u.family != family) continue;
    for (auto [lo, hi] : u.models) {
      if (model >= lo && model <= hi) return &u;
    }
  }
  return nullptr;
}

}  // namespace probe::cpu
