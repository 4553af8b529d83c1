#include "fleet.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <limits>

#include "probe/version.hpp"

namespace probe::fleet {
namespace {

using nlohmann::json;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr const char* kBases[] = {"declared", "derived", "measured"};

std::string text_or(const json& j, std::string_view key, std::string fallback = {}) {
  if (!j.is_object()) return fallback;
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : fallback;
}
std::optional<double> number_at(const json& j, std::string_view key) {
  if (!j.is_object()) return std::nullopt;
  const auto it = j.find(key);
  if (it == j.end() || !it->is_number()) return std::nullopt;
  return it->get<double>();
}
const json* object_at(const json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  const auto it = j.find(key);
  return it != j.end() && it->is_object() ? &*it : nullptr;
}

std::string property(const DeviceInfo& d, std::string_view key) {
  for (const auto& [k, v] : d.properties) {
    if (k == key) return v;
  }
  return {};
}

// The device's model as the fleet groups it: the chip database's entry where the assessment matched one (all
// "NVIDIA H100 80GB HBM3" boards are "H100 SXM"), else the name the device gave.
std::string model_of(const json* control, const std::string& name) {
  if (control) {
    if (const json* m = object_at(*control, "metrics")) {
      if (const json* chip = object_at(*m, "chip")) {
        const std::string n = text_or(*chip, "name");
        if (!n.empty()) return n;
      }
    }
  }
  return name.empty() ? std::string("unknown") : name;
}

double median_of(std::vector<double>& v) {
  const std::size_t n = v.size();
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2), v.end());
  const double hi = v[n / 2];
  if (n % 2 == 1) return hi;
  return (hi + *std::max_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(n / 2))) / 2;
}

json pair_json(const std::string& interned) {
  const auto tab = interned.find('\t');
  return {{"ruleset", interned.substr(0, tab)}, {"classification", interned.substr(tab + 1)}};
}

}  // namespace

bool is_node_failure(const json& j) noexcept {
  return j.is_object() && j.contains("schema") && j["schema"].is_string() && j["schema"] == kNodeFailureSchema;
}

NodeFailure read_node_failure(const json& j, std::string_view source) {
  auto text = [&](std::string_view key) {
    const auto it = j.find(key);
    if (it == j.end() || !it->is_string() || it->get<std::string>().empty()) {
      throw InputError(fmt::format("{}: field '{}': expected a non-empty string ({} document)", source, key,
                                   kNodeFailureSchema));
    }
    return it->get<std::string>();
  };
  const auto v = j.find("schema_version");
  if (v == j.end() || !v->is_number_integer() || v->get<int>() != 1) {
    throw InputError(fmt::format("{}: field 'schema_version': this probe reads {} version 1 only", source,
                                 kNodeFailureSchema));
  }
  return {text("host"), text("reason"), text_or(j, "at")};
}

json node_failure_json(const NodeFailure& f) {
  return {{"schema", kNodeFailureSchema}, {"schema_version", 1}, {"host", f.host}, {"reason", f.reason},
          {"at", f.at}, {"tool", {{"name", "probe"}, {"version", kVersion}}}};
}

FleetBuilder::FleetBuilder(FleetOptions options) : m_options(options) {
  (void)intern_set({});  // set 0: no verdicts (a failed node, a device without an assessment)
}

std::uint32_t FleetBuilder::intern(const std::string& s) {
  if (auto it = m_string_index.find(s); it != m_string_index.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(m_strings.size());
  m_strings.push_back(s);
  m_string_index.emplace(s, id);
  return id;
}

std::uint32_t FleetBuilder::intern_set(std::vector<std::uint32_t> set) {
  if (auto it = m_set_index.find(set); it != m_set_index.end()) return it->second;
  const auto id = static_cast<std::uint32_t>(m_sets.size());
  m_set_index.emplace(set, id);
  m_sets.push_back(std::move(set));
  return id;
}

std::size_t FleetBuilder::model_index(const std::string& name) {
  if (auto it = m_model_index.find(name); it != m_model_index.end()) return it->second;
  m_models.push_back(Model{name, {}, {}, {}});
  m_model_index.emplace(name, m_models.size() - 1);
  return m_models.size() - 1;
}

std::size_t FleetBuilder::figure(Model& m, const std::string& name, const std::string& unit, bool measured) {
  if (auto it = m.figure_index.find(name); it != m.figure_index.end()) return it->second;
  m.figures.push_back({name, unit, measured});
  m.figure_index.emplace(name, m.figures.size() - 1);
  return m.figures.size() - 1;
}

void FleetBuilder::note_version(const std::string& kind, const std::string& value) {
  if (!value.empty()) ++m_versions[kind][value];
}

void FleetBuilder::add_failure(const std::string& source, const NodeFailure& f, NodeSignature signature) {
  if (auto [it, fresh] = m_hosts.emplace(f.host, source); !fresh) {
    throw InputError(fmt::format("{}: host '{}' is already in the fleet from {}: one report per node (a duplicate "
                                 "or a renamed copy?)",
                                 source, f.host, it->second));
  }
  Node n;
  n.source = source;
  n.host = f.host;
  n.status = "failed";
  n.reason = f.reason;
  n.failed = true;
  n.started_at = f.at;
  n.signature = std::move(signature);
  m_nodes.push_back(std::move(n));
}

void FleetBuilder::add_report(const std::string& source, const json& j, const report::Report& r,
                              NodeSignature signature) {
  const std::string host = r.inventory.hostname.empty() ? source : r.inventory.hostname;
  if (auto [it, fresh] = m_hosts.emplace(host, source); !fresh) {
    throw InputError(fmt::format("{}: host '{}' is already in the fleet from {}: one report per node (a duplicate "
                                 "or a renamed copy?)",
                                 source, host, it->second));
  }
  const auto node_id = static_cast<std::uint32_t>(m_nodes.size());
  Node n;
  n.source = source;
  n.host = host;
  n.probe = r.tool_version;
  n.kernel = r.inventory.kernel;
  n.started_at = r.started_at;
  n.finished_at = r.finished_at;
  n.signature = std::move(signature);
  if (m_first_start.empty() || (!r.started_at.empty() && r.started_at < m_first_start)) m_first_start = r.started_at;
  if (r.finished_at > m_last_finish) m_last_finish = r.finished_at;

  note_version("probe", r.tool_version);
  note_version("kernel", r.inventory.kernel);
  if (const json* prov = object_at(j, "provenance")) {
    if (const json* db = object_at(*prov, "chip_database")) note_version("chip database", text_or(*db, "sha256"));
    if (const auto rs = prov->find("rulesets"); rs != prov->end() && rs->is_array()) {
      std::string set;
      for (const auto& x : *rs) set += (set.empty() ? "" : ", ") + text_or(x, "id") + " " + text_or(x, "sha256").substr(0, 12);
      note_version("rules", set);
    }
  }

  // Devices: the measured ones, then the PCI accelerators assessed from the chip database alone.
  std::size_t failed_measurements = 0;
  std::vector<std::string> failures;
  auto add_device = [&](const std::string& id, const std::string& name, const report::DeviceReport* dev,
                        const json* control, const std::string& status) {
    Model& model = m_models[model_index(model_of(control, name))];
    Device d;
    d.node = node_id;
    d.id = id;
    d.status = status;
    auto set = [&](std::size_t f, double v) {
      if (d.values.size() <= f) d.values.resize(f + 1, kNaN);
      d.values[f] = v;
    };
    if (dev) {
      const DeviceInfo* info = &dev->info;
      d.serial = property(*info, "serial");
      if (d.serial.empty()) d.serial = property(*info, "uuid");
      const std::string driver = property(*info, "driver_version");
      note_version("driver", driver);
      note_version("vbios", property(*info, "vbios"));
      for (const auto& [k, v] : info->properties) {
        if (k.find("firmware") != std::string::npos || k == "inforom") note_version("firmware", k + " " + v);
      }
      for (const auto& m : dev->measurements) {
        if (!m.ok()) {
          if (m.status == Status::failed) {
            ++failed_measurements;
            if (failures.size() < 3) failures.push_back(fmt::format("{} {}: {}", id, m.spec.id, m.reason));
          }
          continue;
        }
        set(figure(model, m.spec.id, std::string(to_string(m.spec.unit)), true), m.stats.median);
        if (m.above_theoretical) d.above_peak.push_back(fmt::format("{}: {}", m.spec.id, m.above_theoretical->message));
      }
    }
    if (!d.serial.empty()) {
      if (auto [it, fresh] = m_serials.emplace(d.serial, source); !fresh) {
        throw InputError(fmt::format("{}: device {} serial '{}' is already in the fleet from {}: a device reported "
                                     "twice (a duplicate report, or two nodes claiming one GPU)",
                                     source, id, d.serial, it->second));
      }
    }
    if (control) {
      if (const json* metrics = object_at(*control, "metrics")) {
        if (const json* bases = object_at(*metrics, "bases")) {
          std::optional<double> declared_tpp, measured_tpp;
          for (const char* basis : kBases) {
            const json* b = object_at(*bases, basis);
            if (!b || !b->value("available", false)) continue;
            const bool measured = std::string_view(basis) == "measured";
            if (auto v = number_at(*b, "tpp")) {
              set(figure(model, fmt::format("TPP ({})", basis), "", measured), *v);
              m_tpp_totals[basis] += *v;
              if (std::string_view(basis) == "declared") declared_tpp = v;
              if (measured) measured_tpp = v;
            }
            if (auto v = number_at(*b, "pd")) set(figure(model, fmt::format("PD ({})", basis), "", measured), *v);
            if (auto v = number_at(*b, "total_dram_bw_gbs")) {
              set(figure(model, fmt::format("DRAM bandwidth ({})", basis), "GB/s", measured), *v);
            }
          }
          if (declared_tpp && measured_tpp && *measured_tpp > *declared_tpp * (1 + 1e-9)) {
            d.above_peak.push_back(fmt::format("measured TPP {} above the declared TPP {}", rules::format_number(*measured_tpp),
                                               rules::format_number(*declared_tpp)));
          }
        }
      }
      if (const auto vs = control->find("verdicts"); vs != control->end() && vs->is_array()) {
        std::vector<std::uint32_t> verdicts;
        for (const auto& v : *vs) verdicts.push_back(intern(text_or(v, "ruleset") + "\t" + text_or(v, "classification")));
        d.classifications = intern_set(std::move(verdicts));
      }
    }
    model.devices.push_back(std::move(d));
    ++n.devices;
  };
  const auto jdevices = j.find("devices");
  for (std::size_t i = 0; i < r.devices.size(); ++i) {
    const auto& dev = r.devices[i];
    const json* control = jdevices != j.end() && jdevices->is_array() && jdevices->size() > i
                              ? object_at((*jdevices)[i], "control")
                              : nullptr;
    add_device(dev.info.id, dev.info.name, &dev, control, "measured");
  }
  if (const auto um = j.find("unmeasured"); um != j.end() && um->is_array()) {
    for (std::size_t i = 0; i < um->size() && i < r.unmeasured.size(); ++i) {
      const json* control = object_at((*um)[i], "control");
      if (!control) continue;  // not a processor, or not in the chip database: nothing to count
      const json* metrics = object_at(*control, "metrics");
      add_device(r.unmeasured[i].pci.id.bus_id, metrics ? text_or(*metrics, "device_name") : std::string(), nullptr,
                 control, r.unmeasured[i].reason);
    }
  }
  if (const auto nv = j.find("node_verdicts"); nv != j.end() && nv->is_array()) {
    std::vector<std::uint32_t> set;
    for (const auto& v : *nv) set.push_back(intern(text_or(v, "ruleset") + "\t" + text_or(v, "classification")));
    n.verdicts = intern_set(std::move(set));
  }
  if (r.status != "complete") {
    n.failed = true;
    n.status = "failed";
    n.reason = fmt::format("run {} by {}", r.status, r.interrupted_by.empty() ? "a signal" : r.interrupted_by);
  } else if (std::none_of(r.devices.begin(), r.devices.end(), [](const report::DeviceReport& d) {
               return std::any_of(d.measurements.begin(), d.measurements.end(), [](const Measurement& m) { return m.ok(); });
             })) {
    // A recorded topology or CPU description: assessed from the chip database, measured nowhere. Not a failure.
    n.status = "measured";
    n.reason = "nothing measured on this node (recorded topology or description): declared figures only";
  } else if (failed_measurements > 0) {
    n.status = "measured";
    n.reason = fmt::format("{} measurement(s) failed: {}{}", failed_measurements, fmt::join(failures, "; "),
                           failed_measurements > failures.size() ? "; …" : "");
  } else {
    n.status = "measured";
  }
  m_nodes.push_back(std::move(n));
}

std::size_t FleetBuilder::failed_nodes() const noexcept {
  return static_cast<std::size_t>(std::count_if(m_nodes.begin(), m_nodes.end(), [](const Node& n) { return n.failed; }));
}

std::size_t FleetBuilder::signature_problems() const noexcept {
  return static_cast<std::size_t>(std::count_if(m_nodes.begin(), m_nodes.end(), [](const Node& n) {
    return n.signature.state == NodeSignature::State::failed || n.signature.state == NodeSignature::State::unsigned_node;
  }));
}

json FleetBuilder::to_json(std::string_view generated_at) const {
  json doc;
  doc["schema"] = kFleetSchema;
  doc["schema_version"] = kFleetSchemaVersion;
  doc["tool"] = {{"name", "probe"}, {"version", kVersion}};
  doc["generated_at"] = generated_at;
  doc["span"] = {{"first_started_at", m_first_start.empty() ? json(nullptr) : json(m_first_start)},
                 {"last_finished_at", m_last_finish.empty() ? json(nullptr) : json(m_last_finish)}};
  doc["outlier_margin"] = m_options.margin;

  // Versions seen, and the drift: any kind with more than one value across the fleet.
  json versions = json::object(), drift = json::array(), flags = json::array();
  for (const auto& [kind, values] : m_versions) {
    json vs = json::array();
    for (const auto& [value, count] : values) vs.push_back({{"value", value}, {"count", count}});
    versions[kind] = vs;
    if (values.size() > 1) {
      drift.push_back({{"kind", kind}, {"values", vs}});
      if (kind == "probe" || kind == "rules" || kind == "chip database") {
        flags.push_back(fmt::format("mixed {}: {} different values across the fleet; verdicts may not be comparable "
                                    "(probe replay each report under one ruleset)",
                                    kind == "probe" ? "probe versions" : kind == "rules" ? "rule versions" : "chip-database hashes",
                                    values.size()));
      }
    }
  }
  doc["versions"] = versions;
  doc["drift"] = drift;
  doc["flags"] = flags;

  // Nodes: failed first, then in the order read.
  json nodes = json::array();
  std::size_t measured = 0, verified = 0, checked = 0;
  json unsigned_nodes = json::array(), bad_signatures = json::array();
  std::vector<std::size_t> order(m_nodes.size());
  for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_partition(order.begin(), order.end(), [&](std::size_t i) { return m_nodes[i].failed; });
  for (std::size_t i : order) {
    const Node& n = m_nodes[i];
    if (!n.failed) ++measured;
    using S = NodeSignature::State;
    if (n.signature.state != S::not_checked) ++checked;
    if (n.signature.state == S::verified) ++verified;
    if (n.signature.state == S::unsigned_node) unsigned_nodes.push_back(n.host);
    if (n.signature.state == S::failed) bad_signatures.push_back(n.host);
    nodes.push_back({{"host", n.host}, {"source", n.source}, {"status", n.status},
                     {"reason", n.reason.empty() ? json(nullptr) : json(n.reason)}, {"signature", n.signature.text},
                     {"probe", n.probe}, {"kernel", n.kernel}, {"started_at", n.started_at},
                     {"finished_at", n.finished_at}, {"devices", n.devices}, {"verdict_set", n.verdicts}});
  }
  doc["nodes"] = {{"found", m_nodes.size()}, {"measured", measured}, {"failed", m_nodes.size() - measured},
                  {"list", nodes}};
  doc["signatures"] = {{"checked", checked}, {"verified", verified}, {"unsigned", unsigned_nodes},
                       {"failed", bad_signatures}};

  // Per model: the distribution of each figure and the outliers against the model's fleet median.
  json models = json::array(), devices = json::array();
  std::map<std::string, std::size_t> class_counts, node_counts;
  std::map<std::uint32_t, std::size_t> set_devices, set_nodes;
  std::size_t outlier_count = 0;
  for (const Model& m : m_models) {
    json figures = json::array(), outliers = json::array();
    std::vector<double> medians(m.figures.size(), kNaN);
    for (std::size_t f = 0; f < m.figures.size(); ++f) {
      std::vector<double> v;
      v.reserve(m.devices.size());
      for (const Device& d : m.devices) {
        if (f < d.values.size() && !std::isnan(d.values[f])) v.push_back(d.values[f]);
      }
      if (v.empty()) continue;
      const auto [lo, hi] = std::minmax_element(v.begin(), v.end());
      const double min = *lo, max = *hi;
      medians[f] = median_of(v);
      figures.push_back({{"name", m.figures[f].name}, {"unit", m.figures[f].unit}, {"devices", v.size()},
                         {"min", min}, {"median", medians[f]}, {"max", max}, {"measured", m.figures[f].measured}});
    }
    for (const Device& d : m.devices) {
      const Node& n = m_nodes[d.node];
      for (std::size_t f = 0; f < d.values.size(); ++f) {
        if (!m.figures[f].measured || std::isnan(d.values[f]) || std::isnan(medians[f]) || medians[f] <= 0) continue;
        const double below = 1 - d.values[f] / medians[f];
        if (below > m_options.margin) {
          outliers.push_back({{"host", n.host}, {"device", d.id}, {"serial", d.serial}, {"figure", m.figures[f].name},
                              {"value", d.values[f]}, {"median", medians[f]}, {"below_median", below},
                              {"reason", fmt::format("{:.1f}% below the {} median of {} (margin {:.0f}%)", below * 100,
                                                     m.name, rules::format_number(medians[f]), m_options.margin * 100)}});
        }
      }
      for (const auto& why : d.above_peak) {
        outliers.push_back({{"host", n.host}, {"device", d.id}, {"serial", d.serial}, {"figure", nullptr},
                            {"value", nullptr}, {"median", nullptr}, {"below_median", nullptr},
                            {"reason", "above its declared peak: " + why}});
      }
      ++set_devices[d.classifications];
      devices.push_back({{"host", n.host}, {"id", d.id}, {"model", m.name}, {"serial", d.serial}, {"status", d.status},
                         {"classification_set", d.classifications}});
    }
    outlier_count += outliers.size();
    models.push_back({{"model", m.name}, {"devices", m.devices.size()}, {"figures", figures}, {"outliers", outliers}});
  }
  for (const Node& n : m_nodes) ++set_nodes[n.verdicts];
  for (const auto& [set, count] : set_devices) {
    for (auto c : m_sets[set]) class_counts[m_strings[c]] += count;
  }
  for (const auto& [set, count] : set_nodes) {
    for (auto c : m_sets[set]) node_counts[m_strings[c]] += count;
  }
  json sets = json::array();
  for (const auto& set : m_sets) {
    json s = json::array();
    for (auto c : set) s.push_back(pair_json(m_strings[c]));
    sets.push_back(s);
  }
  doc["verdict_sets"] = sets;
  doc["models"] = models;
  doc["devices"] = devices;

  json tpp = json::array();
  for (const char* basis : kBases) {
    const auto it = m_tpp_totals.find(basis);
    if (it == m_tpp_totals.end()) continue;
    tpp.push_back({{"basis", basis}, {"tpp", it->second}, {"h100_equivalents", it->second / kH100Tpp}});
  }
  auto counts = [](const std::map<std::string, std::size_t>& c, const char* what) {
    json out = json::array();
    for (const auto& [k, count] : c) {
      json p = pair_json(k);
      p[what] = count;
      out.push_back(p);
    }
    return out;
  };
  doc["totals"] = {{"nodes", m_nodes.size()},
                   {"devices", devices.size()},
                   {"outliers", outlier_count},
                   {"tpp", tpp},
                   {"h100_tpp", kH100Tpp},
                   {"h100_note", "H100-equivalents = aggregate TPP / 15,832 (H100 SXM: 989.4 dense BF16 TFLOP/s × 16 "
                                 "bits), on the basis named"},
                   {"device_classifications", counts(class_counts, "devices")},
                   {"node_classifications", counts(node_counts, "nodes")}};
  return doc;
}

}  // namespace probe::fleet
