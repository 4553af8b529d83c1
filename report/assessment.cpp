#include "assessment.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "probe/error.hpp"

namespace probe::report {

Assessment::Assessment(const AssessmentOptions& o) : m_book(rules::RuleBook::builtin()), m_overrides(o.overrides) {
  if (o.chipdb_file) {
    m_owned_db = std::make_unique<rules::ChipDatabase>(rules::ChipDatabase::load_file(*o.chipdb_file));
    m_db = m_owned_db.get();
  } else {
    m_db = &rules::ChipDatabase::builtin();
  }
  // A user's file replaces a built-in ruleset of the same id: that is how a newer version of a rule is tried.
  for (const auto& f : o.rules_files) m_book.add(rules::load_ruleset_file(f), true);
  for (const auto& j : o.jurisdictions) {
    const auto known = m_book.jurisdictions();
    if (std::find(known.begin(), known.end(), j) == known.end()) {
      throw InputError(fmt::format("--jurisdiction: no ruleset for '{}' (known: {})", j, fmt::join(known, ", ")));
    }
  }
  std::vector<std::string> ids = o.ruleset_ids;
  if (ids.empty() && o.all_rulesets_by_default) {
    // A bill is evaluated only when asked for by id; --jurisdiction narrows "every ruleset" as it does the default.
    const auto& js = o.jurisdictions;
    for (const auto& r : m_book.all()) {
      bool wanted = js.empty() || std::find(js.begin(), js.end(), r.jurisdiction) != js.end();
      if (r.status != rules::RuleStatus::proposed && wanted) ids.push_back(r.id);
    }
  }
  m_device_sets = m_book.select(ids, o.jurisdictions);
  m_node_sets = m_book.select_node(ids, o.jurisdictions);
}

void Assessment::assess(const Report& report) {
  m_devices.clear();
  m_unmeasured.clear();
  std::vector<rules::NodeMember> members;
  for (const auto& d : report.devices) {
    DeviceAssessment a{rules::device_metrics(d, *m_db, m_overrides), {}};
    a.verdicts = rules::evaluate(m_device_sets, a.metrics);
    members.push_back(rules::NodeMember{d.info.id, d.info.id, true, true, a.verdicts, {}, rules::assessed_values(a.metrics)});
    m_devices.push_back(std::move(a));
  }
  // Accelerators on the bus that no backend measured still count in the node (an 8-GPU node whose CUDA plugin
  // failed is not a node without GPUs): from the chip database by PCI id, else as a lower bound.
  for (const auto& u : report.unmeasured) {
    const PciId& id = u.pci.id;
    const std::string name = u.pci.device_name.empty() ? u.pci.class_name : u.pci.device_name;
    UnmeasuredAssessment ua{id.bus_id, fmt::format("{} {:04x}:{:04x} {}", id.bus_id, id.vendor_id, id.device_id, name), {}, {}, {}};
    if (const rules::NonProcessor* np = m_db->find_non_processor(id)) {
      // A BMC's 2D display controller is on the bus as class 0x0300 but is not a processor of any kind.
      std::vector<std::string> keys{np->pci_ids_source};
      keys.insert(keys.end(), np->references.begin(), np->references.end());
      ua.label = fmt::format("{} {} (pci {:04x}:{:04x})", id.bus_id, np->name, id.vendor_id, id.device_id);
      ua.not_counted = fmt::format("{}, not a processor ({} non_processors; sources: {})", np->role, m_db->file_name(),
                                   fmt::join(keys, ", "));
      ua.non_processor = *np;
      rules::NodeMember m{id.bus_id, ua.label, false, false, {}, {}};
      m.not_counted = ua.not_counted;
      members.push_back(std::move(m));
    } else if (const rules::Chip* chip = m_db->find_pci(id)) {
      // The user's overrides (--die-area, --datacenter) describe the measured device(s); a database entry stands on
      // its own figures.
      DeviceAssessment a{rules::chip_metrics(*chip, *m_db), {}};
      a.metrics.device_id = id.bus_id;
      a.metrics.chip_match = fmt::format("pci {:04x}:{:04x}", id.vendor_id, id.device_id);
      a.verdicts = rules::evaluate(m_device_sets, a.metrics);
      ua.label = fmt::format("{} {} (pci {:04x}:{:04x})", id.bus_id, chip->display_name(), id.vendor_id, id.device_id);
      members.push_back(rules::NodeMember{id.bus_id, ua.label, false, true, a.verdicts, {}, rules::assessed_values(a.metrics)});
      ua.assessed = std::move(a);
    } else {
      members.push_back(rules::NodeMember{id.bus_id, fmt::format("{} (not in the chip database; {})", ua.label, u.reason),
                                          false, false, {}, {}});
    }
    m_unmeasured.push_back(std::move(ua));
  }
  m_node = rules::evaluate_node(m_node_sets, std::span<const rules::NodeMember>(members), m_overrides.envelope_ft3);
}

const UnmeasuredAssessment* Assessment::find_unmeasured(std::string_view bus_id) const noexcept {
  for (const auto& u : m_unmeasured) {
    if (u.bus_id == bus_id) return &u;
  }
  return nullptr;
}

void Assessment::assess_chip(std::string_view name) {
  const rules::Chip* chip = m_db->find_name(name);
  if (!chip) {
    std::vector<std::string> names;
    for (const auto& c : m_db->chips()) names.push_back(c.name);
    throw InputError(fmt::format("--chip: '{}' is not in {} (known: {})", name, m_db->file_name(),
                                 fmt::join(names, ", ")));
  }
  m_devices.clear();
  m_unmeasured.clear();
  DeviceAssessment a{rules::chip_metrics(*chip, *m_db, m_overrides), {}};
  a.verdicts = rules::evaluate(m_device_sets, a.metrics);
  std::vector<rules::NodeMember> members{
      rules::NodeMember{a.metrics.device_id, a.metrics.device_name, true, true, a.verdicts, {}, rules::assessed_values(a.metrics)}};
  m_devices.push_back(std::move(a));
  m_node = rules::evaluate_node(m_node_sets, std::span<const rules::NodeMember>(members), m_overrides.envelope_ft3);
}

const DeviceAssessment* Assessment::find(std::string_view id) const noexcept {
  for (const auto& d : m_devices) {
    if (d.metrics.device_id == id) return &d;
  }
  return nullptr;
}

nlohmann::json Assessment::provenance_json() const {
  std::vector<const rules::Ruleset*> sets = m_device_sets;
  sets.insert(sets.end(), m_node_sets.begin(), m_node_sets.end());
  return rules::provenance_json(*m_db, sets);
}

nlohmann::json Assessment::node_json() const {
  nlohmann::json a = nlohmann::json::array();
  for (const auto& v : m_node) a.push_back(rules::to_json(v));
  return a;
}

nlohmann::json Assessment::device_json(const DeviceAssessment& d) const {
  nlohmann::json v = nlohmann::json::array();
  for (const auto& x : d.verdicts) v.push_back(rules::to_json(x));
  return {{"metrics", rules::to_json(d.metrics)}, {"verdicts", v}};
}

}  // namespace probe::report
