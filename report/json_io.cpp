#include "json_io.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <fstream>

#include "probe/error.hpp"
#include "probe/input_file.hpp"
#include "probe/json_text.hpp"

namespace probe::report {
namespace {

using nlohmann::json;

// Reading: every accessor names the field path it failed on.
class Reader {
 public:
  Reader(const json& j, std::string source, std::string path) : m_j(j), m_source(std::move(source)), m_path(std::move(path)) {}

  [[noreturn]] void fail(std::string_view field, std::string_view what) const {
    throw InputError(fmt::format("{}: field '{}{}{}': {}", m_source, m_path, m_path.empty() ? "" : ".", field, what));
  }
  const json& at(std::string_view field) const {
    if (!m_j.is_object()) fail(field, "parent is not an object");
    auto it = m_j.find(std::string(field));
    if (it == m_j.end()) fail(field, "missing");
    return *it;
  }
  bool has(std::string_view field) const { return m_j.is_object() && m_j.contains(std::string(field)); }
  std::string str(std::string_view field) const {
    const json& v = at(field);
    if (!v.is_string()) fail(field, fmt::format("expected a string, found {}", v.type_name()));
    return v.get<std::string>();
  }
  std::string str_or(std::string_view field, std::string def) const { return has(field) ? str(field) : def; }
  double num(std::string_view field) const {
    const json& v = at(field);
    if (!v.is_number()) fail(field, fmt::format("expected a number, found {}", v.type_name()));
    return v.get<double>();
  }
  template <typename I>
  I integer(std::string_view field) const {
    const json& v = at(field);
    if (!v.is_number_integer()) fail(field, fmt::format("expected an integer, found {}", v.type_name()));
    return v.get<I>();
  }
  bool boolean(std::string_view field) const {
    const json& v = at(field);
    if (!v.is_boolean()) fail(field, fmt::format("expected true or false, found {}", v.type_name()));
    return v.get<bool>();
  }
  Reader obj(std::string_view field) const {
    const json& v = at(field);
    if (!v.is_object()) fail(field, fmt::format("expected an object, found {}", v.type_name()));
    return Reader(v, m_source, child(field));
  }
  template <typename F>
  void each(std::string_view field, F&& f) const {
    const json& v = at(field);
    if (!v.is_array()) fail(field, fmt::format("expected an array, found {}", v.type_name()));
    for (std::size_t i = 0; i < v.size(); ++i) f(Reader(v[i], m_source, fmt::format("{}[{}]", child(field), i)));
  }
  const json& raw() const { return m_j; }
  std::string child(std::string_view field) const {
    return m_path.empty() ? std::string(field) : fmt::format("{}.{}", m_path, field);
  }

 private:
  const json& m_j;
  std::string m_source, m_path;
};

std::string hex4(std::uint16_t v) { return fmt::format("{:04x}", v); }
std::uint16_t parse_hex4(const Reader& r, std::string_view field) {
  const std::string s = r.str(field);
  if (s.size() != 4 || s.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
    r.fail(field, fmt::format("'{}' is not 4 hex digits", s));
  }
  return static_cast<std::uint16_t>(std::stoul(s, nullptr, 16));
}

json pairs_to_json(const std::vector<std::pair<std::string, std::string>>& v) {
  json a = json::array();
  for (const auto& [k, val] : v) a.push_back({{"key", k}, {"value", val}});
  return a;
}
std::vector<std::pair<std::string, std::string>> pairs_from(const Reader& r, std::string_view field) {
  std::vector<std::pair<std::string, std::string>> out;
  r.each(field, [&](const Reader& e) { out.emplace_back(e.str("key"), e.str("value")); });
  return out;
}

// array_bytes, load_average_1min and warnings are typed fields since schema 1.2; a report written before kept them as
// notes ("array_bytes", "load_average_1min", "warning"), which are taken over here so that it reads the same.
void read_typed_conditions(const Reader& c, Conditions& cd) {
  if (c.has("array_bytes")) cd.array_bytes = c.integer<std::uint64_t>("array_bytes");
  if (c.has("load_average_1min") && !c.at("load_average_1min").is_null()) {
    cd.load_average_1min = c.num("load_average_1min");
  }
  if (c.has("warnings")) {
    c.each("warnings", [&](const Reader& w) {
      if (!w.raw().is_string()) c.fail("warnings", "expected an array of strings");
      cd.warnings.push_back(w.raw().get<std::string>());
    });
  }
  if (c.has("array_bytes") || c.has("warnings")) return;
  std::erase_if(cd.notes, [&](const std::pair<std::string, std::string>& n) {
    const auto& [key, value] = n;
    if (key == "warning") {
      cd.warnings.push_back(value);
      return true;
    }
    char* end = nullptr;
    if (key == "array_bytes") {
      errno = 0;
      const unsigned long long v = std::strtoull(value.c_str(), &end, 10);
      if (value.empty() || value.front() == '-' || *end != '\0' || errno == ERANGE) c.fail("notes", fmt::format("array_bytes '{:.40}' is not a byte count", value));
      cd.array_bytes = v;
      return true;
    }
    if (key == "load_average_1min") {
      const double v = std::strtod(value.c_str(), &end);
      if (!value.empty() && *end == '\0' && std::isfinite(v)) cd.load_average_1min = v;  // "unknown": absent
      return true;
    }
    return false;
  });
}

json pci_to_json(const PciId& p) {
  return {{"bus_id", p.bus_id}, {"vendor_id", hex4(p.vendor_id)}, {"device_id", hex4(p.device_id)},
          {"subvendor_id", hex4(p.subvendor_id)}, {"subdevice_id", hex4(p.subdevice_id)}};
}
PciId pci_from(const Reader& r) {
  return PciId{r.str("bus_id"), parse_hex4(r, "vendor_id"), parse_hex4(r, "device_id"), parse_hex4(r, "subvendor_id"),
               parse_hex4(r, "subdevice_id")};
}

json inventory_to_json(const Inventory& inv) {
  json packages = json::array();
  for (const auto& p : inv.packages) {
    packages.push_back({{"index", p.index}, {"vendor", p.vendor}, {"model_name", p.model_name}, {"family", p.family},
                        {"model", p.model}, {"stepping", p.stepping}, {"cores", p.cores}, {"threads", p.threads},
                        {"core_first_pu", p.core_first_pu}, {"pus", p.pus}, {"llc_bytes", p.llc_bytes}});
  }
  json caches = json::array();
  for (const auto& c : inv.caches) {
    caches.push_back({{"level", c.level}, {"type", c.type}, {"size_bytes", c.size_bytes}, {"line_bytes", c.line_bytes},
                      {"count", c.count}, {"pus_per_instance", c.pus_per_instance}});
  }
  json numa = json::array();
  for (const auto& n : inv.numa_nodes) numa.push_back({{"os_index", n.os_index}, {"memory_bytes", n.memory_bytes}});
  json acc = json::array();
  for (const auto& a : inv.accelerators) {
    json j = pci_to_json(a.id);
    j["class_id"] = hex4(a.class_id);
    j["class_name"] = a.class_name;
    j["vendor_name"] = a.vendor_name;
    j["device_name"] = a.device_name;
    acc.push_back(std::move(j));
  }
  return {{"hostname", inv.hostname}, {"os_name", inv.os_name}, {"os_release", inv.os_release},
          {"os_version", inv.os_version}, {"kernel", inv.kernel}, {"machine", inv.machine},
          {"hwloc_version", inv.hwloc_version}, {"source", inv.source},
          {"memory_total_bytes", inv.memory_total_bytes}, {"packages", packages}, {"caches", caches},
          {"numa_nodes", numa}, {"accelerators", acc}};
}

std::vector<int> ints_from(const Reader& r, std::string_view field) {
  std::vector<int> out;
  r.each(field, [&](const Reader& e) {
    if (!e.raw().is_number_integer()) r.fail(field, "expected integers");
    out.push_back(e.raw().get<int>());
  });
  return out;
}

std::vector<std::string> strings_from(const Reader& r, std::string_view field) {
  std::vector<std::string> out;
  r.each(field, [&](const Reader& e) {
    if (!e.raw().is_string()) r.fail(field, "expected strings");
    out.push_back(e.raw().get<std::string>());
  });
  return out;
}

json trace_to_json(const SensorTrace& t) {
  return {{"samples", t.samples}, {"min", t.min}, {"median", t.median}, {"max", t.max}};
}
SensorTrace trace_from(const Reader& r) {
  return SensorTrace{r.integer<int>("samples"), r.num("min"), r.num("median"), r.num("max")};
}
json sustained_to_json(const SustainedPhase& p) {
  return {{"requested_s", p.requested_s}, {"kernel_s", p.kernel_s}, {"wall_s", p.wall_s}, {"launches", p.launches},
          {"value", p.value}, {"theoretical", p.theoretical ? json(*p.theoretical) : json(nullptr)},
          {"verified_after", p.verified_after}, {"sensors", p.sensors},
          {"sample_rate_hz", p.sample_rate_hz}, {"core_clock_hz", trace_to_json(p.core_clock_hz)},
          {"memory_clock_hz", trace_to_json(p.memory_clock_hz)}, {"power_w", trace_to_json(p.power_w)},
          {"temperature_c", trace_to_json(p.temperature_c)}, {"clock_event_reasons", p.clock_event_reasons},
          {"throttled_by", p.throttled_by}};
}
SustainedPhase sustained_from(const Reader& r) {
  SustainedPhase p;
  p.requested_s = r.num("requested_s");
  p.kernel_s = r.num("kernel_s");
  p.wall_s = r.num("wall_s");
  p.launches = r.integer<std::uint64_t>("launches");
  p.value = r.num("value");
  if (!r.at("theoretical").is_null()) p.theoretical = r.num("theoretical");
  p.verified_after = r.boolean("verified_after");
  p.sensors = r.str("sensors");
  p.sample_rate_hz = r.num("sample_rate_hz");
  p.core_clock_hz = trace_from(r.obj("core_clock_hz"));
  p.memory_clock_hz = trace_from(r.obj("memory_clock_hz"));
  p.power_w = trace_from(r.obj("power_w"));
  p.temperature_c = trace_from(r.obj("temperature_c"));
  p.clock_event_reasons = strings_from(r, "clock_event_reasons");
  p.throttled_by = strings_from(r, "throttled_by");
  return p;
}

Inventory inventory_from(const Reader& r) {
  Inventory inv;
  inv.hostname = r.str("hostname");
  inv.os_name = r.str("os_name");
  inv.os_release = r.str("os_release");
  inv.os_version = r.str("os_version");
  inv.kernel = r.str("kernel");
  inv.machine = r.str("machine");
  inv.hwloc_version = r.str("hwloc_version");
  inv.source = r.str("source");
  inv.memory_total_bytes = r.integer<std::uint64_t>("memory_total_bytes");
  r.each("packages", [&](const Reader& p) {
    CpuPackage k;
    k.index = p.integer<int>("index");
    k.vendor = p.str("vendor");
    k.model_name = p.str("model_name");
    k.family = p.integer<int>("family");
    k.model = p.integer<int>("model");
    k.stepping = p.integer<int>("stepping");
    k.cores = p.integer<int>("cores");
    k.threads = p.integer<int>("threads");
    k.core_first_pu = ints_from(p, "core_first_pu");
    k.pus = ints_from(p, "pus");
    k.llc_bytes = p.integer<std::uint64_t>("llc_bytes");
    inv.packages.push_back(std::move(k));
  });
  r.each("caches", [&](const Reader& c) {
    inv.caches.push_back(CacheInfo{c.integer<int>("level"), c.str("type"), c.integer<std::uint64_t>("size_bytes"),
                                   c.integer<int>("line_bytes"), c.integer<int>("count"),
                                   c.integer<int>("pus_per_instance")});
  });
  r.each("numa_nodes", [&](const Reader& n) {
    inv.numa_nodes.push_back(NumaNode{n.integer<int>("os_index"), n.integer<std::uint64_t>("memory_bytes")});
  });
  r.each("accelerators", [&](const Reader& a) {
    inv.accelerators.push_back(PciDevice{pci_from(a), parse_hex4(a, "class_id"), a.str("class_name"),
                                         a.str("vendor_name"), a.str("device_name")});
  });
  return inv;
}

json kernel_spec_to_json(const KernelSpec& k) {
  return {{"id", k.id}, {"title", k.title}, {"dtype", to_string(k.dtype)}, {"bit_length", bit_length(k.dtype)},
          {"unit", to_string(k.unit)}, {"class", to_string(k.kind)}, {"counting", k.counting}};
}

KernelSpec kernel_spec_from(const Reader& k) {
  KernelSpec spec;
  spec.id = k.str("id");
  spec.title = k.str("title");
  const std::string dt = k.str("dtype");
  const auto dtype = dtype_from_string(dt);
  if (!dtype) k.fail("dtype", fmt::format("unknown data type '{}'", dt));
  spec.dtype = *dtype;
  const auto unit = unit_from_string(k.str("unit"));
  if (!unit) k.fail("unit", fmt::format("unknown unit '{}'", k.str("unit")));
  spec.unit = *unit;
  const auto kind = kernel_class_from_string(k.str("class"));
  if (!kind) k.fail("class", fmt::format("unknown kernel class '{}'", k.str("class")));
  spec.kind = *kind;
  spec.counting = k.str("counting");
  return spec;
}

json measurement_to_json(const Measurement& m) {
  json j;
  j["kernel"] = kernel_spec_to_json(m.spec);
  j["status"] = to_string(m.status);
  j["reason"] = m.reason;
  j["variant"] = m.variant;
  if (m.ok()) {
    j["value"] = m.stats.median;
    j["stats"] = {{"median", m.stats.median}, {"min", m.stats.min}, {"max", m.stats.max}, {"mean", m.stats.mean},
                  {"stddev", m.stats.stddev}, {"q1", m.stats.q1}, {"q3", m.stats.q3},
                  {"rel_spread", m.stats.rel_spread}, {"rel_range", m.stats.rel_range}, {"count", m.stats.samples.size()},
                  {"samples", m.stats.samples}};
  } else {
    j["value"] = nullptr;
    j["stats"] = nullptr;
  }
  j["theoretical"] = m.theoretical ? json(*m.theoretical) : json(nullptr);
  j["theoretical_basis"] = m.theoretical_basis;
  j["theoretical_confirmed"] = m.theoretical_confirmed;
  const Conditions& c = m.conditions;
  j["conditions"] = {{"started_at", c.started_at}, {"finished_at", c.finished_at}, {"clock_hz", c.clock_hz},
                     {"clock_hz_min", c.clock_hz_min}, {"clock_hz_max", c.clock_hz_max},
                     {"clock_source", c.clock_source}, {"clock_hz_scalar", c.clock_hz_scalar},
                     {"threads", c.threads}, {"pus", c.pus},
                     {"iterations", c.iterations}, {"work_per_sample", c.work_per_sample}, {"warmup_s", c.warmup_s},
                     {"elapsed_s", c.elapsed_s}, {"working_set_bytes", c.working_set_bytes},
                     {"array_bytes", c.array_bytes},
                     {"load_average_1min", c.load_average_1min ? json(*c.load_average_1min) : json(nullptr)},
                     {"warnings", c.warnings}, {"notes", pairs_to_json(c.notes)}};
  json d = json::array();
  for (const auto& f : m.derived) d.push_back({{"name", f.name}, {"value", f.value}, {"basis", f.basis}});
  j["derived"] = d;
  if (m.above_theoretical) {
    const AboveTheoretical& a = *m.above_theoretical;
    j["above_theoretical"] = {{"ratio", a.ratio}, {"tolerance", a.tolerance}, {"rel_spread", a.rel_spread},
                              {"message", a.message}};
  } else {
    j["above_theoretical"] = nullptr;
  }
  if (m.sustained) j["sustained"] = sustained_to_json(*m.sustained);
  if (m.device_aborted) j["device_aborted"] = true;
  return j;
}

// `device_kind` words the above-theoretical check for a report written before the field existed: it is a pure
// function of the median, spread and theoretical peak, so an older report is judged by the same rule.
Measurement measurement_from(const Reader& r, std::string_view device_kind) {
  Measurement m;
  m.spec = kernel_spec_from(r.obj("kernel"));
  const auto status = status_from_string(r.str("status"));
  if (!status) r.fail("status", fmt::format("unknown status '{}'", r.str("status")));
  m.status = *status;
  m.reason = r.str("reason");
  m.variant = r.str("variant");
  if (m.ok()) {
    const Reader s = r.obj("stats");
    std::vector<double> samples;
    s.each("samples", [&](const Reader& e) {
      if (!e.raw().is_number()) s.fail("samples", "expected numbers");
      samples.push_back(e.raw().get<double>());
    });
    if (samples.empty()) s.fail("samples", "an ok measurement needs at least one sample");
    m.stats = Stats::from_samples(std::move(samples));
  }
  if (!r.at("theoretical").is_null()) m.theoretical = r.num("theoretical");
  m.theoretical_basis = r.str("theoretical_basis");
  // Absent from reports written before the field existed: their rates were all confirmed ones.
  if (r.has("theoretical_confirmed")) m.theoretical_confirmed = r.boolean("theoretical_confirmed");
  const Reader c = r.obj("conditions");
  Conditions& cd = m.conditions;
  cd.started_at = c.str("started_at");
  cd.finished_at = c.str("finished_at");
  cd.clock_hz = c.num("clock_hz");
  cd.clock_hz_min = c.num("clock_hz_min");
  cd.clock_hz_max = c.num("clock_hz_max");
  cd.clock_source = c.str("clock_source");
  cd.clock_hz_scalar = c.has("clock_hz_scalar") ? c.num("clock_hz_scalar") : 0;  // absent before schema 1.1
  cd.threads = c.integer<int>("threads");
  cd.pus = ints_from(c, "pus");
  cd.iterations = c.integer<std::uint64_t>("iterations");
  cd.work_per_sample = c.num("work_per_sample");
  cd.warmup_s = c.num("warmup_s");
  cd.elapsed_s = c.num("elapsed_s");
  cd.working_set_bytes = c.integer<std::uint64_t>("working_set_bytes");
  cd.notes = pairs_from(c, "notes");
  read_typed_conditions(c, cd);
  r.each("derived", [&](const Reader& d) { m.derived.push_back(DerivedFigure{d.str("name"), d.num("value"), d.str("basis")}); });
  if (!r.has("above_theoretical")) {
    m.above_theoretical = check_above_theoretical(m, device_kind);
  } else if (!r.at("above_theoretical").is_null()) {
    const Reader a = r.obj("above_theoretical");
    m.above_theoretical = AboveTheoretical{a.num("ratio"), a.num("tolerance"), a.num("rel_spread"), a.str("message")};
  }
  if (r.has("sustained") && !r.at("sustained").is_null()) m.sustained = sustained_from(r.obj("sustained"));
  if (r.has("device_aborted")) m.device_aborted = r.boolean("device_aborted");
  return m;
}

json device_info_to_json(const DeviceInfo& i) {
  return {{"id", i.id}, {"backend", i.backend}, {"kind", i.kind}, {"name", i.name}, {"vendor", i.vendor},
          {"arch", i.arch}, {"units", i.units}, {"unit_name", i.unit_name}, {"partial", i.partial},
          {"partial_reason", i.partial_reason}, {"pci", i.pci ? pci_to_json(*i.pci) : json(nullptr)},
          {"properties", pairs_to_json(i.properties)}};
}

DeviceInfo device_info_from(const Reader& r) {
  DeviceInfo i;
  i.id = r.str("id");
  i.backend = r.str("backend");
  i.kind = r.str("kind");
  i.name = r.str("name");
  i.vendor = r.str("vendor");
  i.arch = r.str("arch");
  i.units = r.integer<int>("units");
  i.unit_name = r.str("unit_name");
  i.partial = r.boolean("partial");
  i.partial_reason = r.str("partial_reason");
  if (!r.at("pci").is_null()) i.pci = pci_from(r.obj("pci"));
  i.properties = pairs_from(r, "properties");
  return i;
}

json backend_to_json(const BackendStatus& b) {
  return {{"name", b.name}, {"source", b.source}, {"available", b.available}, {"reason", b.reason},
          {"version", b.version}, {"devices", b.devices}};
}
BackendStatus backend_from(const Reader& b) {
  return BackendStatus{b.str("name"), b.str("source"), b.boolean("available"), b.str("reason"), b.str("version"),
                       b.integer<int>("devices")};
}
json plugin_to_json(const PluginRecord& p) {
  return {{"path", p.path}, {"name", p.name}, {"loaded", p.loaded}, {"reason", p.reason}};
}
PluginRecord plugin_from(const Reader& p) {
  return PluginRecord{p.str("path"), p.str("name"), p.boolean("loaded"), p.str("reason")};
}
json folder_to_json(const PluginFolder& f) {
  return {{"path", f.path}, {"found", f.found}, {"readable", f.readable}, {"reason", f.reason}};
}
PluginFolder folder_from(const Reader& f) {
  return PluginFolder{f.str("path"), f.boolean("found"), f.boolean("readable"), f.str("reason")};
}

// A top-level object, for the readers of a report's parts.
Reader top(const json& j, std::string_view source) {
  Reader r(j, std::string(source), "");
  if (!j.is_object()) r.fail("(top)", "expected a JSON object");
  return r;
}

}  // namespace

nlohmann::json to_json(const Measurement& m) { return measurement_to_json(m); }
Measurement measurement_from_json(const nlohmann::json& j, std::string_view source, std::string_view device_kind) {
  return measurement_from(top(j, source), device_kind);
}
nlohmann::json to_json(const KernelSpec& k) { return kernel_spec_to_json(k); }
KernelSpec kernel_spec_from_json(const nlohmann::json& j, std::string_view source) {
  return kernel_spec_from(top(j, source));
}
nlohmann::json to_json(const DeviceInfo& i) { return device_info_to_json(i); }
DeviceInfo device_info_from_json(const nlohmann::json& j, std::string_view source) {
  return device_info_from(top(j, source));
}
nlohmann::json to_json(const BackendStatus& b) { return backend_to_json(b); }
BackendStatus backend_status_from_json(const nlohmann::json& j, std::string_view source) {
  return backend_from(top(j, source));
}
nlohmann::json to_json(const PluginRecord& p) { return plugin_to_json(p); }
PluginRecord plugin_record_from_json(const nlohmann::json& j, std::string_view source) {
  return plugin_from(top(j, source));
}
nlohmann::json to_json(const PluginFolder& f) { return folder_to_json(f); }
PluginFolder plugin_folder_from_json(const nlohmann::json& j, std::string_view source) {
  return folder_from(top(j, source));
}

nlohmann::json to_json(const Report& rep) {
  json j;
  j["schema"] = "probe-report";
  j["schema_version"] = rep.schema_version;
  j["tool"] = {{"name", "probe"}, {"version", rep.tool_version}};
  j["run_id"] = rep.run_id.empty() ? json(nullptr) : json(rep.run_id);
  j["command"] = rep.command;
  j["budget"] = rep.budget;
  j["started_at"] = rep.started_at;
  j["finished_at"] = rep.finished_at;
  j["inventory"] = inventory_to_json(rep.inventory);
  json backends = json::array();
  for (const auto& b : rep.backends) backends.push_back(backend_to_json(b));
  j["backends"] = backends;
  json plugins = json::array();
  for (const auto& p : rep.plugins) plugins.push_back(plugin_to_json(p));
  j["plugins"] = plugins;
  json folders = json::array();
  for (const auto& f : rep.plugin_folders) folders.push_back(folder_to_json(f));
  j["plugin_folders"] = folders;
  json devices = json::array();
  for (const auto& d : rep.devices) {
    json dj = device_info_to_json(d.info);
    json ms = json::array();
    for (const auto& m : d.measurements) ms.push_back(measurement_to_json(m));
    dj["measurements"] = ms;
    devices.push_back(std::move(dj));
  }
  j["devices"] = devices;
  json un = json::array();
  for (const auto& u : rep.unmeasured) {
    json uj = pci_to_json(u.pci.id);
    uj["class_id"] = hex4(u.pci.class_id);
    uj["class_name"] = u.pci.class_name;
    uj["vendor_name"] = u.pci.vendor_name;
    uj["device_name"] = u.pci.device_name;
    un.push_back({{"pci", uj}, {"reason", u.reason}});
  }
  j["unmeasured"] = un;
  json conv = json::array();
  for (const auto& c : rep.conventions) conv.push_back({{"topic", c.topic}, {"text", c.text}});
  j["conventions"] = conv;
  j["any_failed"] = rep.any_failed();
  j["status"] = rep.status;
  j["interrupted_by"] = rep.interrupted_by.empty() ? json(nullptr) : json(rep.interrupted_by);
  json nr = json::array();
  for (const auto& n : rep.not_reached) nr.push_back({{"device", n.device}, {"kernel", n.kernel}});
  j["not_reached"] = nr;
  j["watchdog"] = rep.watchdog ? json{{"kernel_timeout_s", rep.watchdog->kernel_timeout_s},
                                      {"source", rep.watchdog->source}}
                               : json(nullptr);
  return j;
}

Report report_from_json(const nlohmann::json& j, std::string_view source) {
  const Reader r(j, std::string(source), "");
  if (!j.is_object()) r.fail("(top)", "expected a JSON object");
  Report rep;
  if (r.str("schema") != "probe-report") r.fail("schema", "expected 'probe-report'");
  rep.schema_version = r.integer<int>("schema_version");
  if (rep.schema_version != kSchemaVersion) {
    r.fail("schema_version", fmt::format("{} is not supported (this probe reads version {})", rep.schema_version,
                                         kSchemaVersion));
  }
  rep.tool_version = r.obj("tool").str("version");
  if (r.has("run_id") && !r.at("run_id").is_null()) rep.run_id = r.str("run_id");  // absent before schema 1.2
  rep.command = r.str("command");
  rep.budget = r.str("budget");
  rep.started_at = r.str("started_at");
  rep.finished_at = r.str("finished_at");
  rep.inventory = inventory_from(r.obj("inventory"));
  r.each("backends", [&](const Reader& b) { rep.backends.push_back(backend_from(b)); });
  r.each("plugins", [&](const Reader& p) { rep.plugins.push_back(plugin_from(p)); });
  // Absent from reports written before the folders were recorded.
  if (r.has("plugin_folders")) r.each("plugin_folders", [&](const Reader& f) { rep.plugin_folders.push_back(folder_from(f)); });
  r.each("devices", [&](const Reader& d) {
    DeviceReport dr;
    dr.info = device_info_from(d);
    d.each("measurements", [&](const Reader& m) { dr.measurements.push_back(measurement_from(m, dr.info.kind)); });
    rep.devices.push_back(std::move(dr));
  });
  r.each("unmeasured", [&](const Reader& u) {
    const Reader p = u.obj("pci");
    rep.unmeasured.push_back(UnmeasuredDevice{
        PciDevice{pci_from(p), parse_hex4(p, "class_id"), p.str("class_name"), p.str("vendor_name"),
                  p.str("device_name")},
        u.str("reason")});
  });
  r.each("conventions", [&](const Reader& c) { rep.conventions.push_back(Convention{c.str("topic"), c.str("text")}); });
  // Absent from reports written before runs could be interrupted or watched: those completed.
  if (r.has("status")) {
    rep.status = r.str("status");
    if (rep.status != "complete" && rep.status != "interrupted") {
      r.fail("status", fmt::format("'{}' is not complete or interrupted", rep.status));
    }
  }
  if (r.has("interrupted_by") && !r.at("interrupted_by").is_null()) rep.interrupted_by = r.str("interrupted_by");
  if (r.has("not_reached")) {
    r.each("not_reached", [&](const Reader& n) { rep.not_reached.push_back(NotReached{n.str("device"), n.str("kernel")}); });
  }
  if (r.has("watchdog") && !r.at("watchdog").is_null()) {
    const Reader w = r.obj("watchdog");
    rep.watchdog = Watchdog{w.num("kernel_timeout_s"), w.str("source")};
  }
  return rep;
}

nlohmann::json to_json(const Report& report, const Assessment& assessment) {
  json j = to_json(report);
  for (auto& d : j["devices"]) {
    const DeviceAssessment* a = assessment.find(d["id"].get<std::string>());
    d["control"] = a ? assessment.device_json(*a) : json(nullptr);
  }
  for (auto& u : j["unmeasured"]) {
    const UnmeasuredAssessment* a = assessment.find_unmeasured(u["pci"]["bus_id"].get<std::string>());
    u["control"] = a && a->assessed ? assessment.device_json(*a->assessed) : json(nullptr);
    if (a && a->non_processor) {
      const rules::NonProcessor& np = *a->non_processor;
      u["non_processor"] = {{"vendor_name", np.vendor_name},
                            {"name", np.name},
                            {"role", np.role},
                            {"pci_ids", {{"source", np.pci_ids_source}, {"text", np.pci_ids_text}}},
                            {"references", np.references},
                            {"chip_database", assessment.chip_database().file_name()},
                            {"counted", false},
                            {"text", a->not_counted}};
    } else {
      u["non_processor"] = nullptr;
    }
  }
  j["node_verdicts"] = assessment.node_json();
  j["provenance"] = assessment.provenance_json();
  return j;
}

std::string to_json_text(const Report& report, const Assessment* assessment) {
  const json j = assessment ? to_json(report, *assessment) : to_json(report);
  return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Report report_from_json_text(std::string_view text, std::string_view source) {
  return report_from_json(parse_json_text(text, source), source);
}

Report read_report_file(const std::filesystem::path& path) {
  return report_from_json_text(read_input_file(path), path.string());
}

void write_file_atomically(const std::filesystem::path& path, std::string_view content) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  const int fd = mkstemp(tmpl.data());
  if (fd < 0) throw InputError(fmt::format("{}: cannot write: {}", path.string(), std::strerror(errno)));
  std::size_t done = 0;
  while (done < content.size()) {
    const ssize_t n = ::write(fd, content.data() + done, content.size() - done);
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(tmpl.c_str());
      throw InputError(fmt::format("{}: cannot write: {}", path.string(), std::strerror(err)));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmpl.c_str());
    throw InputError(fmt::format("{}: cannot write: {}", path.string(), std::strerror(errno)));
  }
  ::chmod(tmpl.c_str(), 0644);
  if (std::rename(tmpl.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmpl.c_str());
    throw InputError(fmt::format("{}: cannot write: {}", path.string(), std::strerror(err)));
  }
}

void check_writable(const std::filesystem::path& path, std::string_view flag) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw InputError(fmt::format("{} {}: is a folder, not a file", flag, path.string()));
  }
  // The same temporary file the final write makes, made and removed now: a typo in the folder is found in a
  // second, not after a run of many minutes.
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::string tmpl = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  const int fd = mkstemp(tmpl.data());
  if (fd < 0) throw InputError(fmt::format("{} {}: cannot write: {}", flag, path.string(), std::strerror(errno)));
  ::close(fd);
  ::unlink(tmpl.c_str());
}

}  // namespace probe::report
