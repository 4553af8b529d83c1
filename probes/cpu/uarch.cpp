#include "uarch.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <algorithm>
#include <set>

#include "kernels/cpu/cpu_kernels.hpp"
#include "probe/error.hpp"
#include "json_object.hpp"

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

// An optional array of feature names; an unknown name is an error naming the entry and the field.
std::vector<std::string> feature_list(const json& e, std::string_view file, std::string_view entry, const char* field) {
  std::vector<std::string> out;
  if (!e.contains(field)) return out;
  const json& a = e.at(field);
  if (!a.is_array()) bad(file, entry, field, "expected an array of feature names");
  for (const json& n : a) {
    if (!n.is_string()) bad(file, entry, field, "expected an array of feature names");
    const auto name = n.get<std::string>();
    if (!is_feature_name(name)) {
      bad(file, entry, field, fmt::format("unknown feature '{}' (known: the names of probe describe-cpu, or avx10.N)", name));
    }
    out.push_back(name);
  }
  return out;
}

}  // namespace

UarchTable UarchTable::parse(std::string_view text, std::string_view file) {
  const json doc = parse_json_object(text, file);
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
    u.requires_features = feature_list(e, file, label, "requires");
    u.forbids_features = feature_list(e, file, label, "forbids");
    for (const auto& f : u.requires_features) {
      if (std::find(u.forbids_features.begin(), u.forbids_features.end(), f) != u.forbids_features.end()) {
        bad(file, label, "forbids", fmt::format("'{}' is also required", f));
      }
    }
    if (e.contains("l3_max_mib")) {
      const json& b = e.at("l3_max_mib");
      if (!b.is_object() || !b.contains("value") || !b.at("value").is_number() || b.at("value").get<double>() <= 0) {
        bad(file, label, "l3_max_mib.value", "missing or not a positive number");
      }
      if (!b.contains("source") || !b.at("source").is_string() || b.at("source").get<std::string>().empty()) {
        bad(file, label, "l3_max_mib.source", "missing or empty: every figure needs a source");
      }
      u.l3_max_mib = UarchBound{b.at("value").get<double>(), b.at("source").get<std::string>()};
    }
    if (e.contains("fma_unit_keys")) {
      const json& k = e.at("fma_unit_keys");
      if (!k.is_array()) bad(file, label, "fma_unit_keys", "expected an array of '<kernel id>/<variant>' strings");
      for (const json& key : k) {
        if (!key.is_string()) bad(file, label, "fma_unit_keys", "expected an array of '<kernel id>/<variant>' strings");
        u.fma_unit_keys.push_back(key.get<std::string>());
      }
    }
    if (e.contains("ambiguity")) {
      if (!e.at("ambiguity").is_string()) bad(file, label, "ambiguity", "expected a string");
      u.ambiguity = e.at("ambiguity").get<std::string>();
    }
    if (e.contains("model_names")) {
      const json& mn = e.at("model_names");
      if (!mn.is_object()) bad(file, label, "model_names", "expected an object of model number -> name");
      for (const auto& [k, v] : mn.items()) {
        int model = -1;
        try {
          std::size_t pos = 0;
          model = std::stoi(k, &pos);
          if (pos != k.size()) model = -1;
        } catch (...) {
        }
        const bool in_range = std::any_of(u.models.begin(), u.models.end(),
                                          [&](auto r) { return model >= r.first && model <= r.second; });
        if (!in_range || !v.is_string()) {
          bad(file, label, "model_names." + k, "must be a decimal model number of this entry mapped to a name");
        }
        u.model_names[model] = v.get<std::string>();
      }
    }
    table.m_entries.push_back(std::move(u));
  }
  if (doc.contains("feature_order")) {
    const json& fo = doc.at("feature_order");
    if (!fo.is_object()) bad(file, "(top)", "feature_order", "expected an object with 'source' and 'rules'");
    const json& src = need(fo, file, "(top)", "source", json::value_t::string);
    table.m_feature_order_source = src.get<std::string>();
    if (table.m_feature_order_source.empty()) bad(file, "(top)", "feature_order.source", "empty");
    const json& rules = need(fo, file, "(top)", "rules", json::value_t::array);
    for (std::size_t i = 0; i < rules.size(); ++i) {
      const std::string label = fmt::format("feature_order.rules #{}", i);
      const json& r = rules[i];
      if (!r.is_object()) bad(file, label, "(rule)", "expected an object");
      FeatureRule rule;
      rule.vendor = need(r, file, label, "vendor", json::value_t::string).get<std::string>();
      rule.feature = need(r, file, label, "feature", json::value_t::string).get<std::string>();
      if (!is_feature_name(rule.feature)) bad(file, label, "feature", fmt::format("unknown feature '{}'", rule.feature));
      rule.generation = need(r, file, label, "generation", json::value_t::string).get<std::string>();
      if (r.contains("entry") && !r.at("entry").is_null()) {
        rule.entry = need(r, file, label, "entry", json::value_t::string).get<std::string>();
        if (!ids.count(rule.entry)) bad(file, label, "entry", fmt::format("no entry with id '{}'", rule.entry));
      }
      if (r.contains("caveat")) rule.caveat = need(r, file, label, "caveat", json::value_t::string).get<std::string>();
      table.m_feature_order.push_back(std::move(rule));
    }
  }
  return table;
}

const Uarch* UarchTable::by_id(std::string_view id) const noexcept {
  for (const Uarch& u : m_entries) {
    if (u.id == id) return &u;
  }
  return nullptr;
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
