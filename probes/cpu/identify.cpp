#include "identify.hpp"

#include <algorithm>
#include <cctype>
#include <fmt/format.h>

namespace probe::cpu {
namespace {

// GROMACS' threshold, and how far from it a ratio must be to count: a VM's noise can move a ratio by a few %.
constexpr double kTwoUnitRatio = 1.5;
constexpr double kMargin = 0.15;

std::string mib(std::uint64_t bytes) { return fmt::format("{:g} MiB", static_cast<double>(bytes) / (1 << 20)); }

std::string model_label(const Uarch& u, int model) {
  const auto it = u.model_names.find(model);
  return fmt::format("{} ({})", model, it != u.model_names.end() ? it->second : u.name);
}

// Evidence against an entry: required features missing, forbidden ones present, an L3 larger than any of its
// parts has. Empty when the features agree.
struct Disagreement {
  std::vector<std::string> features;  // "AMX-TILE", "no AVX512F"
  std::string l3;                     // the L3 sentence, if any
  [[nodiscard]] bool empty() const noexcept { return features.empty() && l3.empty(); }
};

Disagreement disagreement(const Uarch& u, const CpuFeatures& f) {
  Disagreement d;
  for (const auto& name : u.forbids_features) {
    if (has_feature(f, name)) d.features.push_back(display_feature(name));
  }
  for (const auto& name : u.requires_features) {
    if (!has_feature(f, name)) d.features.push_back("no " + display_feature(name));
  }
  const std::uint64_t l3 = l3_bytes(f);
  if (u.l3_max_mib && static_cast<double>(l3) > u.l3_max_mib->value * (1 << 20)) {
    d.l3 = fmt::format("L3 {} is more than any {} part has ({:g} MiB: {})", mib(l3), u.name, u.l3_max_mib->value,
                       u.l3_max_mib->source);
  }
  return d;
}

std::string agreement(const Uarch& u) {
  std::vector<std::string> parts;
  if (!u.requires_features.empty()) {
    std::vector<std::string> n;
    for (const auto& r : u.requires_features) n.push_back(display_feature(r));
    parts.push_back(fmt::format("has {}", fmt::join(n, ", ")));
  }
  if (!u.forbids_features.empty()) {
    std::vector<std::string> n;
    for (const auto& r : u.forbids_features) n.push_back(display_feature(r));
    parts.push_back(fmt::format("no {}", fmt::join(n, ", ")));
  }
  return parts.empty() ? "the entry states no feature evidence" : fmt::format("{}", fmt::join(parts, "; "));
}

const FeatureRule* first_rule(const CpuFeatures& f, const UarchTable& table) {
  for (const FeatureRule& r : table.feature_order()) {
    if (r.vendor == f.vendor && has_feature(f, r.feature)) return &r;
  }
  return nullptr;
}

// GCC's order, applied once the model number is not to be trusted.
void by_features(Identification& id, const CpuFeatures& f, const UarchTable& table) {
  const FeatureRule* rule = first_rule(f, table);
  if (!rule) {
    id.evidence.push_back(fmt::format("no rule of the feature order ({}) matches this {} CPU: not identified",
                                      table.feature_order_source(), f.vendor));
    return;
  }
  // The order's source is in data/cpu_uarch.json (feature_order.source); the line names it briefly.
  const std::string seen = fmt::format("{} present: {} (GCC's feature order, data/cpu_uarch.json feature_order)",
                                       display_feature(rule->feature), rule->generation);
  if (rule->entry.empty()) {
    id.evidence.push_back(seen + "; not in data/cpu_uarch.json: no per-cycle rates");
    return;
  }
  const Uarch* u = table.by_id(rule->entry);
  const Disagreement d = disagreement(*u, f);
  if (!d.features.empty()) {
    id.contradictions.push_back(fmt::format("{} contradicts {}, which the feature order names: not identified",
                                            fmt::join(d.features, ", "), u->id));
    return;
  }
  id.entry = u;
  id.method = IdMethod::features_masked;
  id.evidence.push_back(fmt::format("{} → entry {} ({})", seen, u->id, agreement(*u)));
  if (!d.l3.empty()) {
    id.contradictions.push_back(d.l3 + fmt::format(": a later part whose distinguishing features are hidden? "
                                                   "{}'s rates are used",
                                                   u->id));
  }
  if (!rule->caveat.empty()) id.undecided.push_back(rule->caveat);
}

}  // namespace

std::string_view to_string(IdMethod m) noexcept {
  switch (m) {
    case IdMethod::table_match: return "table match";
    case IdMethod::features_masked: return "features (model treated as masked)";
    case IdMethod::none: return "none";
  }
  return "none";
}

std::string display_feature(std::string_view name) {
  std::string out;
  for (std::size_t i = 0; i < name.size(); ++i) {
    // "avx512_fp16" -> "AVX512-FP16", "avx10.2" -> "AVX10.2"
    out += name[i] == '_' ? '-' : static_cast<char>(std::toupper(static_cast<unsigned char>(name[i])));
  }
  return out;
}

FmaUnitCheck interpret_fma_units(const FmaUnitTiming& t, std::string_view vendor) {
  FmaUnitCheck c;
  c.ran = true;
  c.timing = t;
  const double r = t.ratio();
  const std::string measured =
      fmt::format("12 zmm FMA + 12 vpermd take {:.2f}× the time of 12 zmm FMA alone", r);
  if (vendor != "GenuineIntel") {
    c.summary = measured + ": not conclusive on this vendor (the test relies on Intel's second FMA unit sharing "
                           "port 5 with vpermd; AMD Zen 4 runs zmm FMAs on two 256-bit pipes, 1 per cycle)";
  } else if (r > kTwoUnitRatio + kMargin) {
    c.units = 2;
    c.summary = measured + fmt::format(" (> {:g}): 2 units", kTwoUnitRatio);
  } else if (r > 0 && r < kTwoUnitRatio - kMargin) {
    c.units = 1;
    c.summary = measured + fmt::format(" (< {:g}): 1 unit", kTwoUnitRatio);
  } else {
    c.summary = measured + fmt::format(": too close to {:g} to decide, not conclusive", kTwoUnitRatio);
  }
  return c;
}

namespace {
class RealFmaUnitCounter final : public FmaUnitCounter {
 public:
  FmaUnitCheck count(const CpuFeatures& f) override {
    if (!f.avx512f) {
      FmaUnitCheck c;
      c.not_run_reason = "AVX-512 is not usable on this CPU";
      c.summary = "not run: " + c.not_run_reason;
      return c;
    }
    return interpret_fma_units(time_zmm_fma_units(), f.vendor);
  }
};
}  // namespace

std::unique_ptr<FmaUnitCounter> make_fma_unit_counter() { return std::make_unique<RealFmaUnitCounter>(); }

Identification identify(const CpuFeatures& f, const UarchTable& table) {
  Identification id;
  std::string seen = fmt::format("CPUID: {} family {} model {} stepping {}", f.vendor, f.family, f.model, f.stepping);
  if (!f.brand.empty()) seen += fmt::format(", \"{}\"", f.brand);
  if (const std::uint64_t l3 = l3_bytes(f)) seen += fmt::format(", L3 {}", mib(l3));
  if (f.hypervisor) seen += "; hypervisor bit set (a guest: the model number may be masked)";
  id.evidence.push_back(std::move(seen));

  std::vector<const Uarch*> by_model;
  for (const Uarch& u : table.entries()) {
    if (u.vendor != f.vendor || u.family != f.family) continue;
    for (auto [lo, hi] : u.models) {
      if (f.model >= lo && f.model <= hi) {
        by_model.push_back(&u);
        break;
      }
    }
  }
  if (by_model.empty()) {
    id.evidence.push_back(fmt::format("{} family {} model {} is not in data/cpu_uarch.json", f.vendor, f.family,
                                      f.model));
    // A model the table does not list may be a newer core with other rates: the feature order is told, not used.
    if (const FeatureRule* r = first_rule(f, table)) {
      id.evidence.push_back(fmt::format("{} suggests {} or later (feature order), but no rates are assumed for a "
                                        "model the table does not list",
                                        display_feature(r->feature), r->generation));
    }
    return id;
  }
  for (const Uarch* u : by_model) {
    const Disagreement d = disagreement(*u, f);
    if (!d.empty()) continue;
    id.entry = u;
    id.method = IdMethod::table_match;
    id.evidence.push_back(fmt::format("model {} → entry {} (data/cpu_uarch.json); features agree: {}",
                                      model_label(*u, f.model), u->id, agreement(*u)));
    for (const Uarch* other : by_model) {
      if (other == u) continue;
      const Disagreement o = disagreement(*other, f);
      id.evidence.push_back(fmt::format("not {} (same model): {}", other->id,
                                        o.features.empty() ? o.l3 : fmt::format("{}", fmt::join(o.features, ", "))));
    }
    if (!u->ambiguity.empty()) id.undecided.push_back(u->ambiguity);
    return id;
  }
  // Every entry the model number names is contradicted by the features: the hypervisor masked the model.
  for (const Uarch* u : by_model) {
    const Disagreement d = disagreement(*u, f);
    std::vector<std::string> what = d.features;
    if (!d.l3.empty()) what.push_back(d.l3);
    id.contradictions.push_back(fmt::format("CPUID model {} contradicts {}: model treated as masked",
                                            model_label(*u, f.model), fmt::join(what, ", ")));
  }
  by_features(id, f, table);
  if (id.entry && !id.entry->ambiguity.empty()) id.undecided.push_back(id.entry->ambiguity);
  return id;
}

void cross_check_fma_units(Identification& id, const FmaUnitCheck& check) {
  id.fma_units = check;
  if (!check.ran) {
    id.evidence.push_back("512-bit FMA units (empirical): " + check.summary);
    return;
  }
  if (check.units == 0 || !id.entry) {
    id.evidence.push_back("512-bit FMA units (empirical): " + check.summary);
    return;
  }
  const auto it = id.entry->throughput.find("fma.fp64/avx512");
  if (it == id.entry->throughput.end()) {
    const bool decides = std::find(id.entry->fma_unit_keys.begin(), id.entry->fma_unit_keys.end(),
                                   "fma.fp64/avx512") != id.entry->fma_unit_keys.end();
    id.evidence.push_back(fmt::format("512-bit FMA units (empirical): {}{}", check.summary,
                                      decides ? fmt::format("; decides {}'s per-SKU unit count", id.entry->id)
                                              : std::string()));
    return;
  }
  if (static_cast<int>(it->second.per_cycle) == check.units) {
    id.evidence.push_back(fmt::format("512-bit FMA units (empirical): {}; agrees with data/cpu_uarch.json ({} "
                                      "per cycle for {})",
                                      check.summary, it->second.per_cycle, id.entry->id));
  } else {
    id.contradictions.push_back(fmt::format("512-bit FMA units (empirical): {}; contradicts data/cpu_uarch.json's "
                                            "{:g} zmm FMA per cycle for {}",
                                            check.summary, it->second.per_cycle, id.entry->id));
  }
}

RateLookup per_cycle_rate(const Identification& id, const CpuFeatures& f, std::string_view key) {
  RateLookup r;
  if (!id.entry) {
    r.unknown_reason = fmt::format("unknown: {} family {} model {} is not identified (see the evidence)", f.vendor,
                                   f.family, f.model);
    return r;
  }
  const auto it = id.entry->throughput.find(std::string(key));
  if (it != id.entry->throughput.end()) {
    r.per_cycle = it->second.per_cycle;
    r.source = it->second.source;
    r.confirmed = it->second.confirmed;
    return r;
  }
  const bool by_units =
      std::find(id.entry->fma_unit_keys.begin(), id.entry->fma_unit_keys.end(), key) != id.entry->fma_unit_keys.end();
  if (by_units && id.fma_units && id.fma_units->units > 0) {
    r.per_cycle = id.fma_units->units;
    r.empirical = true;
    r.source = fmt::format("empirical: the 512-bit FMA unit count measured on this CPU ({})", id.fma_units->summary);
    return r;
  }
  if (by_units) {
    r.unknown_reason = fmt::format("unknown: {}; the empirical FMA-unit count decides it, and it {}", id.entry->ambiguity,
                                   id.fma_units ? (id.fma_units->ran ? "was not conclusive" : "did not run")
                                                : "is not run on a recorded description");
    return r;
  }
  r.unknown_reason = fmt::format("unknown: no throughput for {} on {} in data/cpu_uarch.json", key, id.entry->name);
  return r;
}

std::vector<std::pair<std::string, std::string>> cpuid_properties(const CpuFeatures& f, const Identification& id) {
  return {{"cpuid_brand", f.brand},
          {"family_model_stepping",
           fmt::format("{} / {} / {} (0x{:x} / 0x{:x})", f.family, f.model, f.stepping, f.family, f.model)},
          {"microarchitecture", id.entry ? id.entry->name : "not identified (see the evidence)"},
          {"isa", fmt::format("{}", fmt::join(feature_names(f), " "))}};
}

std::vector<std::pair<std::string, std::string>> identification_properties(const Identification& id) {
  std::vector<std::pair<std::string, std::string>> p;
  p.emplace_back("identification", id.entry ? fmt::format("{} ({})", id.entry->id, id.entry->name) : "none");
  p.emplace_back("identification_method", std::string(to_string(id.method)));
  for (const auto& e : id.evidence) p.emplace_back("evidence", e);
  for (const auto& c : id.contradictions) p.emplace_back("contradiction", c);
  for (const auto& u : id.undecided) p.emplace_back("undecided", u);
  if (id.fma_units) p.emplace_back("fma_units_512bit", id.fma_units->summary);
  return p;
}

std::vector<std::pair<std::string, std::string>> rate_properties(const Identification& id, const CpuFeatures& f,
                                                                 int cores, Isa cap) {
  std::vector<std::pair<std::string, std::string>> p;
  std::vector<std::string_view> ids;
  for (const ComputeKernelInfo* k : compute_kernel_variants()) {
    if (std::find(ids.begin(), ids.end(), k->id) == ids.end()) ids.push_back(k->id);
  }
  for (std::string_view kid : ids) {
    const std::string prop = fmt::format("rate {}", kid);
    const ComputeKernelInfo* k = select_compute_kernel(kid, f, cap);
    if (!k) {
      p.emplace_back(prop, fmt::format("no variant runs on this CPU under --cpu-isa {}", to_string(cap)));
      continue;
    }
    const std::string key = fmt::format("{}/{}", k->id, k->variant);
    const RateLookup r = per_cycle_rate(id, f, key);
    if (!r.per_cycle) {
      p.emplace_back(prop, fmt::format("{} ({}): {}", k->variant, k->instruction, r.unknown_reason));
      continue;
    }
    const char* unit = k->dtype == DType::int8 ? "OP" : "FLOP";
    const double per_core = *r.per_cycle * k->ops_per_instr;
    p.emplace_back(prop, fmt::format("{} ({}): {:g}/cycle × {} {} = {:g} {}/cycle/core; {} cores: {:g} G{}/s per "
                                     "GHz ({}: {})",
                                     k->variant, k->instruction, *r.per_cycle, k->ops_per_instr, unit, per_core, unit,
                                     cores, per_core * cores, unit, r.empirical ? "empirical" : "table", r.source));
  }
  return p;
}

}  // namespace probe::cpu
