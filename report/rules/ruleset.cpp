// Rulesets as data: parsing data/rules/*.json (or a user's --rules file), the metric catalogue, the rule book.
#include <algorithm>
#include <array>
#include <cctype>
#include <set>

#include "embedded.hpp"
#include "json_read.hpp"
#include "rules.hpp"

namespace probe::rules {

using detail::json;
using detail::Where;

std::string_view to_string(RuleStatus s) noexcept {
  switch (s) {
    case RuleStatus::in_force: return "in force";
    case RuleStatus::superseded: return "superseded";
    case RuleStatus::rescinded: return "rescinded";
    case RuleStatus::proposed: return "proposed (not law)";
  }
  return "in force";
}

std::string_view to_string(CompareOp op) noexcept {
  switch (op) {
    case CompareOp::ge: return ">=";
    case CompareOp::gt: return ">";
    case CompareOp::lt: return "<";
    case CompareOp::le: return "<=";
    case CompareOp::eq: return "==";
  }
  return ">=";
}

std::string_view to_string(Outcome o) noexcept {
  switch (o) {
    case Outcome::matched: return "matched";
    case Outcome::not_matched: return "not matched";
    case Outcome::not_evaluable: return "not evaluable";
  }
  return "not evaluable";
}

namespace {
constexpr std::array<MetricInfo, 21> kMetrics = {{
    {"tpp", "TPP", "", false, false},
    {"pd", "PD", "", false, false},
    {"hbm_bw_density", "HBM bandwidth density", "GB/s/mm²", false, false},
    {"total_dram_bw", "total DRAM bandwidth", "GB/s", false, false},
    {"io_bw_bidir", "aggregate bidirectional I/O", "GB/s", false, false},
    {"datacenter", "designed or marketed for data centers", "", true, false},
    {"main_function_logic", "main function is logic", "", true, false},
    {"interconnect_bw", "interconnect bandwidth", "GB/s", false, false},
    {"dram_plus_interconnect_bw", "total DRAM + interconnect bandwidth", "GB/s", false, false},
    {"fp64_peak", "FP64 peak", "TFLOPS", false, false},
    {"fp32_peak", "FP32 peak", "TFLOPS", false, false},
    {"vector_processor", "a vector processor (APP W = 0.9)", "", true, false},
    {"devices_3a090_a", "3A090.a devices in the node", "", false, true},
    {"devices_3a090_b", "3A090.b devices in the node", "", false, true},
    {"devices_3a090", "3A090 devices in the node", "", false, true},
    {"devices", "devices in the node", "", false, true},
    {"devices_3a501_a16", "3A501.a.16 devices in the node", "", false, true},
    {"node_fp64_tflops", "FP64 peak of the node", "TFLOPS", false, true},
    {"node_fp32_tflops", "FP32 peak of the node", "TFLOPS", false, true},
    {"envelope_ft3", "system envelope", "ft³", false, true},
    {"node_vector_processor", "every processor a vector processor (APP W = 0.9)", "", true, true},
}};

std::string metric_names(bool node) {
  std::string out;
  for (const auto& m : kMetrics) {
    if (m.node != node) continue;
    if (!out.empty()) out += ", ";
    out += m.name;
  }
  return out;
}

bool is_iso_date(std::string_view s) {
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return false;
  for (std::size_t i : {0u, 1u, 2u, 3u, 5u, 6u, 8u, 9u}) {
    if (!std::isdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

struct RulesetReader {
  const Ruleset& rs;
  bool node;

  void check_source(const std::string& key, const Where& w) const {
    if (!rs.sources.contains(key)) w.fail(fmt::format("unknown source key '{}' (not in the file's sources table)", key));
  }

  // `known` holds the ids of the clauses defined before this one: a condition may only look back. `depth` counts
  // the enclosing all_of/any_of/not: the reader, the evaluator and the renderer all recurse, so nesting is
  // bounded here whatever the JSON nesting limit allows.
  Condition condition(const json& j, const Where& w, const std::set<std::string>& known, int depth = 1) const {
    if (depth > kMaxConditionDepth) {
      w.fail(fmt::format("conditions nested deeper than {} levels", kMaxConditionDepth));
    }
    detail::as_object(j, w);
    static constexpr std::array<std::string_view, 5> kForms = {"all_of", "any_of", "not", "metric", "clause"};
    int forms = 0;
    for (auto f : kForms) forms += j.contains(f) ? 1 : 0;
    if (forms != 1) w.fail("expected exactly one of all_of, any_of, not, metric, clause");
    Condition c;
    if (j.contains("all_of") || j.contains("any_of")) {
      bool all = j.contains("all_of");
      std::string_view key = all ? "all_of" : "any_of";
      c.kind = all ? Condition::Kind::all_of : Condition::Kind::any_of;
      const json& arr = detail::as_array(j.at(key), w.at(key));
      if (arr.empty()) w.at(key).fail("empty list");
      for (std::size_t i = 0; i < arr.size(); ++i) c.children.push_back(condition(arr[i], w.at(fmt::format("{}[{}]", key, i)), known, depth + 1));
    } else if (j.contains("not")) {
      c.kind = Condition::Kind::negation;
      c.children.push_back(condition(j.at("not"), w.at("not"), known, depth + 1));
    } else if (j.contains("clause")) {
      c.kind = Condition::Kind::clause;
      c.clause_id = detail::as_string(j.at("clause"), w.at("clause"));
      if (!known.contains(c.clause_id)) {
        w.at("clause").fail(fmt::format("unknown clause reference '{}' (must name an earlier clause of this file)", c.clause_id));
      }
    } else {
      c.kind = Condition::Kind::compare;
      c.metric = detail::as_string(j.at("metric"), w.at("metric"));
      const MetricInfo* info = find_metric(c.metric);
      if (!info) w.at("metric").fail(fmt::format("unknown metric '{}' (known: {})", c.metric, metric_names(node)));
      if (info->node != node) {
        w.at("metric").fail(fmt::format("metric '{}' is {}-level but the ruleset's scope is '{}'", c.metric,
                                        info->node ? "node" : "device", rs.scope));
      }
      std::string op = detail::req_string(j, "op", w);
      if (op == ">=") c.op = CompareOp::ge;
      else if (op == ">") c.op = CompareOp::gt;
      else if (op == "<") c.op = CompareOp::lt;
      else if (op == "<=") c.op = CompareOp::le;
      else if (op == "==") c.op = CompareOp::eq;
      else w.at("op").fail(fmt::format("unknown operator '{}' (expected >=, >, <, <= or == for booleans)", op));
      // A threshold not confirmed against the text has no value, only the reason: never a guessed number.
      c.unconfirmed = detail::opt_string(j, "unconfirmed", w);
      if (j.contains("unconfirmed") && c.unconfirmed.empty()) w.at("unconfirmed").fail("empty: say what is not confirmed and where");
      if (!c.unconfirmed.empty() && j.contains("value")) {
        w.at("value").fail("a threshold marked 'unconfirmed' carries no value (put the reported figures in the text)");
      }
      if (info->boolean) {
        if (c.op != CompareOp::eq) w.at("op").fail(fmt::format("boolean metric '{}' takes only ==", c.metric));
        if (c.unconfirmed.empty()) c.boolean = detail::as_bool(detail::require(j, "value", w), w.at("value"));
        else c.boolean = true;  // compared against nothing: the comparison is unknown whatever the value
      } else {
        if (c.op == CompareOp::eq) w.at("op").fail(fmt::format("numeric metric '{}' takes >=, >, < or <=", c.metric));
        if (c.unconfirmed.empty()) c.threshold = detail::as_number(detail::require(j, "value", w), w.at("value"));
      }
      if (j.contains("confirmed")) {
        c.confirmed = detail::as_bool(j.at("confirmed"), w.at("confirmed"));
        if (c.confirmed) w.at("confirmed").fail("only 'false' is meaningful (a threshold taken from a secondary source)");
        if (!c.unconfirmed.empty()) w.at("confirmed").fail("give either 'unconfirmed' (no value) or 'confirmed': false (a value)");
      }
      if (j.contains("scale")) {
        if (info->boolean) w.at("scale").fail(fmt::format("boolean metric '{}' takes no scale", c.metric));
        c.scale = detail::as_number(j.at("scale"), w.at("scale"));
        if (!(c.scale > 0)) w.at("scale").fail("expected a positive number");
      }
      c.label = detail::opt_string(j, "label", w);
      c.unit = detail::opt_string(j, "unit", w);
      c.source = detail::req_string(j, "source", w);
      check_source(c.source, w.at("source"));
      c.note = detail::opt_string(j, "note", w);
    }
    return c;
  }
};

}  // namespace

std::span<const MetricInfo> metric_catalog() noexcept { return kMetrics; }

const MetricInfo* find_metric(std::string_view name) noexcept {
  for (const auto& m : kMetrics) {
    if (m.name == name) return &m;
  }
  return nullptr;
}

Ruleset parse_ruleset(std::string_view text, std::string_view file_name) {
  Ruleset rs;
  rs.file_name = std::string(file_name);
  rs.sha256 = sha256_hex(text);
  Where top{rs.file_name, {}, {}};
  json root = detail::parse_text(text, rs.file_name);
  detail::as_object(root, top);
  double version = detail::req_number(root, "schema_version", top);
  if (version != 1) top.at("schema_version").fail(fmt::format("unsupported version {} (expected 1)", version));
  rs.id = detail::req_string(root, "id", top);
  if (rs.id.empty()) top.at("id").fail("empty id");
  rs.title = detail::req_string(root, "title", top);
  rs.citation = detail::req_string(root, "citation", top);
  rs.fr_doc = detail::opt_string(root, "fr_doc", top);
  rs.rin = detail::opt_string(root, "rin", top);
  rs.kind = detail::opt_string(root, "kind", top);
  // Optional: a ruleset whose text's date was not confirmed gives none rather than a guessed one.
  rs.effective = detail::opt_string(root, "effective", top);
  if (root.contains("effective") && !is_iso_date(rs.effective)) {
    top.at("effective").fail(fmt::format("expected YYYY-MM-DD, found '{}'", rs.effective));
  }
  rs.published = detail::opt_string(root, "published", top);
  if (!rs.published.empty() && !is_iso_date(rs.published)) top.at("published").fail("expected YYYY-MM-DD");
  std::string status = detail::req_string(root, "status", top);
  if (status == "in_force") rs.status = RuleStatus::in_force;
  else if (status == "superseded") rs.status = RuleStatus::superseded;
  else if (status == "rescinded") rs.status = RuleStatus::rescinded;
  else if (status == "proposed") rs.status = RuleStatus::proposed;
  else top.at("status").fail(fmt::format("unknown status '{}' (expected in_force, superseded, rescinded or proposed)", status));
  rs.status_note = detail::opt_string(root, "status_note", top);
  if (root.contains("jurisdiction")) {
    rs.jurisdiction = detail::req_string(root, "jurisdiction", top);
    bool ok = rs.jurisdiction.size() >= 2 && rs.jurisdiction.size() <= 8;
    for (char ch : rs.jurisdiction) ok = ok && std::isupper(static_cast<unsigned char>(ch));
    if (!ok) top.at("jurisdiction").fail(fmt::format("expected an upper-case code such as US, EU, UK, JP, KR; found '{}'", rs.jurisdiction));
  }
  rs.scope = detail::req_string(root, "scope", top);
  if (rs.scope != "device" && rs.scope != "node") top.at("scope").fail(fmt::format("expected 'device' or 'node', found '{}'", rs.scope));
  rs.otherwise = detail::req_string(root, "otherwise", top);

  const json& sources = detail::as_object(detail::require(root, "sources", top), top.at("sources"));
  for (auto it = sources.begin(); it != sources.end(); ++it) {
    Where w = top.at("sources").at(it.key());
    detail::as_object(it.value(), w);
    rs.sources[it.key()] = Source{it.key(), detail::req_string(it.value(), "title", w), detail::opt_string(it.value(), "url", w)};
  }

  RulesetReader reader{rs, rs.scope == "node"};
  std::set<std::string> known;
  const json& clauses = detail::as_array(detail::require(root, "clauses", top), top.at("clauses"));
  if (clauses.empty()) top.at("clauses").fail("empty list");
  for (std::size_t i = 0; i < clauses.size(); ++i) {
    Where w0 = top.at(fmt::format("clauses[{}]", i));
    const json& c = detail::as_object(clauses[i], w0);
    Clause cl;
    cl.id = detail::req_string(c, "id", w0);
    if (cl.id.empty()) w0.at("id").fail("empty id");
    Where w = top.in_entry(cl.id);
    if (known.contains(cl.id)) w.at("id").fail("duplicate clause id");
    cl.title = detail::req_string(c, "title", w);
    cl.kind = detail::req_string(c, "kind", w);
    if (cl.kind != "classification" && cl.kind != "exclusion" && cl.kind != "exception" && cl.kind != "policy") {
      w.at("kind").fail(fmt::format("unknown kind '{}' (expected classification, exclusion, exception or policy)", cl.kind));
    }
    cl.eccn = detail::opt_string(c, "eccn", w);
    if (cl.kind == "classification" && cl.eccn.empty()) w.at("eccn").fail("missing: a classification clause names its ECCN");
    cl.effect = detail::req_string(c, "effect", w);
    cl.source = detail::req_string(c, "source", w);
    reader.check_source(cl.source, w.at("source"));
    cl.when = reader.condition(detail::require(c, "when", w), w.at("when"), known);
    known.insert(cl.id);
    rs.clauses.push_back(std::move(cl));
  }

  if (const json* qs = detail::optional_field(root, "quantities")) {
    std::set<std::string> qids;
    const json& arr = detail::as_array(*qs, top.at("quantities"));
    for (std::size_t i = 0; i < arr.size(); ++i) {
      Where w0 = top.at(fmt::format("quantities[{}]", i));
      const json& q = detail::as_object(arr[i], w0);
      Quantity qt;
      qt.id = detail::req_string(q, "id", w0);
      Where w = top.in_entry(qt.id);
      if (!qids.insert(qt.id).second || known.contains(qt.id)) w.at("id").fail("duplicate id");
      qt.title = detail::req_string(q, "title", w);
      qt.value = detail::req_number(q, "value", w);
      if (!(qt.value > 0)) w.at("value").fail("expected a positive number");
      qt.unit = detail::req_string(q, "unit", w);
      qt.per_metric = detail::req_string(q, "per_metric", w);
      const MetricInfo* info = find_metric(qt.per_metric);
      if (!info || info->boolean || info->node != reader.node) {
        w.at("per_metric").fail(fmt::format("unknown or unusable metric '{}' (known: {})", qt.per_metric, metric_names(reader.node)));
      }
      qt.result_unit = detail::req_string(q, "result_unit", w);
      qt.source = detail::req_string(q, "source", w);
      reader.check_source(qt.source, w.at("source"));
      qt.note = detail::opt_string(q, "note", w);
      rs.quantities.push_back(std::move(qt));
    }
  }
  return rs;
}

Ruleset load_ruleset_file(const std::filesystem::path& path) {
  return parse_ruleset(detail::read_file_text(path), path.string());
}

const RuleBook& RuleBook::builtin() {
  static const RuleBook book = [] {
    RuleBook b;
    for (const auto& f : data::rules_files()) b.add(parse_ruleset(f.text(), std::string(f.name) + " (built-in)"));
    return b;
  }();
  return book;
}

void RuleBook::add(Ruleset ruleset, bool replace) {
  auto it = std::find_if(m_rulesets.begin(), m_rulesets.end(), [&](const Ruleset& r) { return r.id == ruleset.id; });
  if (it != m_rulesets.end()) {
    if (!replace) {
      throw InputError(fmt::format("{}: field 'id': duplicate ruleset id '{}' (already loaded from {})", ruleset.file_name,
                                   ruleset.id, it->file_name));
    }
    *it = std::move(ruleset);
  } else {
    m_rulesets.push_back(std::move(ruleset));
  }
  std::stable_sort(m_rulesets.begin(), m_rulesets.end(), [](const Ruleset& a, const Ruleset& b) {
    // Undated rulesets (a text whose date is not confirmed) after the dated ones.
    if (a.effective.empty() != b.effective.empty()) return b.effective.empty();
    return a.effective != b.effective ? a.effective < b.effective : a.id < b.id;
  });
}

const Ruleset* RuleBook::find(std::string_view id) const noexcept {
  for (const auto& r : m_rulesets) {
    if (r.id == id) return &r;
  }
  return nullptr;
}

namespace {
std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

std::vector<const Ruleset*> select_scope(std::span<const Ruleset> all, std::span<const std::string> ids, std::string_view scope,
                                         bool fall_back_to_in_force, std::span<const std::string> jurisdictions) {
  auto wanted = [&](const Ruleset& r) {
    if (jurisdictions.empty()) return true;
    return std::any_of(jurisdictions.begin(), jurisdictions.end(), [&](const std::string& j) { return upper(j) == r.jurisdiction; });
  };
  std::vector<const Ruleset*> out;
  for (const auto& id : ids) {
    auto it = std::find_if(all.begin(), all.end(), [&](const Ruleset& r) { return r.id == id; });
    if (it == all.end()) {
      std::string known;
      for (const auto& r : all) known += (known.empty() ? "" : ", ") + r.id;
      throw InputError(fmt::format("unknown ruleset '{}' (known: {})", id, known));
    }
    if (it->scope == scope && std::find(out.begin(), out.end(), &*it) == out.end()) out.push_back(&*it);
  }
  // Named device rulesets bring the node rulesets in force of their own jurisdictions (a US ruleset: 4A090, not
  // the EU's 4A507), unless --jurisdiction says which.
  std::vector<std::string> named_jurisdictions;
  for (const auto& id : ids) {
    auto it = std::find_if(all.begin(), all.end(), [&](const Ruleset& r) { return r.id == id; });
    if (std::find(named_jurisdictions.begin(), named_jurisdictions.end(), it->jurisdiction) == named_jurisdictions.end()) {
      named_jurisdictions.push_back(it->jurisdiction);
    }
  }
  if (!ids.empty() && jurisdictions.empty()) jurisdictions = named_jurisdictions;
  if (ids.empty() || (out.empty() && fall_back_to_in_force)) {
    for (const auto& r : all) {
      if (r.scope == scope && r.status == RuleStatus::in_force && wanted(r)) out.push_back(&r);
    }
  }
  return out;
}
}  // namespace

std::vector<const Ruleset*> RuleBook::select(std::span<const std::string> ids, std::span<const std::string> jurisdictions) const {
  return select_scope(m_rulesets, ids, "device", false, jurisdictions);
}

std::vector<std::string> RuleBook::jurisdictions(bool in_force_only) const {
  std::set<std::string> out;
  for (const auto& r : m_rulesets) {
    if (!in_force_only || r.status == RuleStatus::in_force) out.insert(r.jurisdiction);
  }
  return {out.begin(), out.end()};
}

// The node line follows from whatever device rulesets were chosen, so naming only device rulesets still
// gives the node rulesets in force.
std::vector<const Ruleset*> RuleBook::select_node(std::span<const std::string> ids, std::span<const std::string> jurisdictions) const {
  return select_scope(m_rulesets, ids, "node", true, jurisdictions);
}

}  // namespace probe::rules
