#include "cpu_description.hpp"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "probe/error.hpp"
#include "probe/input_file.hpp"
#include "json_object.hpp"

namespace probe::cpu {
namespace {

using nlohmann::json;

constexpr std::string_view kSchema = "probe-cpu-description/1";

[[noreturn]] void bad(std::string_view file, std::string_view entry, std::string_view field, std::string_view what) {
  throw InputError(fmt::format("{}: entry '{}', field '{}': {}", file, entry, field, what));
}

class Fields {
 public:
  Fields(const json& obj, std::string_view file, std::string entry) : m_obj(obj), m_file(file), m_entry(std::move(entry)) {}
  [[nodiscard]] bool has(const char* field) const { return m_obj.contains(field); }
  [[nodiscard]] std::string str(const char* field) const {
    const json& v = need(field);
    if (!v.is_string()) fail(field, fmt::format("expected a string, found {}", v.type_name()));
    return v.get<std::string>();
  }
  [[nodiscard]] int integer(const char* field, long long lo, long long hi) const {
    const json& v = need(field);
    if (!v.is_number_integer()) fail(field, fmt::format("expected an integer, found {}", v.type_name()));
    const auto x = v.get<long long>();
    if (x < lo || x > hi) fail(field, fmt::format("{} is outside {}..{}", x, lo, hi));
    return static_cast<int>(x);
  }
  [[nodiscard]] bool boolean(const char* field) const {
    const json& v = need(field);
    if (!v.is_boolean()) fail(field, fmt::format("expected true or false, found {}", v.type_name()));
    return v.get<bool>();
  }
  [[nodiscard]] const json& array(const char* field) const {
    const json& v = need(field);
    if (!v.is_array()) fail(field, fmt::format("expected an array, found {}", v.type_name()));
    return v;
  }
  [[noreturn]] void fail(std::string_view field, std::string_view what) const { bad(m_file, m_entry, field, what); }
  void reject_unknown(const std::set<std::string>& known) const {
    for (const auto& [k, v] : m_obj.items()) {
      if (!known.count(k)) fail(k, "unknown field");
    }
  }

 private:
  const json& need(const char* field) const {
    if (!m_obj.contains(field)) fail(field, "missing");
    return m_obj.at(field);
  }
  const json& m_obj;
  std::string_view m_file;
  std::string m_entry;
};

}  // namespace

CpuDescription parse_cpu_description(std::string_view text, std::string_view file) {
  const json doc = parse_json_object(text, file);
  const Fields top(doc, file, "(top)");
  top.reject_unknown({"schema", "source", "vendor", "family", "model", "stepping", "brand", "features",
                      "avx10_version", "hypervisor", "caches", "packages", "cores_per_package",
                      "threads_per_package", "base_mhz", "max_mhz"});
  if (const std::string s = top.str("schema"); s != kSchema) {
    top.fail("schema", fmt::format("'{}', expected '{}'", s, kSchema));
  }
  CpuDescription d;
  CpuFeatures& f = d.cpu;
  if (top.has("source")) d.source = top.str("source");
  f.vendor = top.str("vendor");
  if (f.vendor.size() != 12) top.fail("vendor", fmt::format("'{}' is not a 12-character CPUID vendor string", f.vendor));
  f.family = top.integer("family", 0, 0xff + 0xf);
  f.model = top.integer("model", 0, 255);
  f.stepping = top.integer("stepping", 0, 15);
  f.brand = top.str("brand");
  const json& features = top.array("features");
  std::set<std::string> seen;
  for (std::size_t i = 0; i < features.size(); ++i) {
    const Fields item(json::object(), file, fmt::format("features #{}", i));
    if (!features[i].is_string()) item.fail("features", "expected a feature name");
    const auto name = features[i].get<std::string>();
    const FeatureFlag* flag = find_feature_flag(name);
    if (!flag) {
      item.fail("features", fmt::format("unknown feature '{}' (known: the names probe describe-cpu writes; "
                                        "docs/cpu.md)",
                                        name));
    }
    if (!seen.insert(name).second) item.fail("features", fmt::format("'{}' listed twice", name));
    f.*(flag->member) = true;
  }
  if (top.has("avx10_version")) f.avx10_version = top.integer("avx10_version", 0, 255);
  if (f.avx10_version > 0 && !f.avx10) top.fail("avx10_version", "set, but 'avx10' is not among the features");
  f.hypervisor = top.boolean("hypervisor");
  const json& caches = top.array("caches");
  for (std::size_t i = 0; i < caches.size(); ++i) {
    const std::string entry = fmt::format("caches #{}", i);
    if (!caches[i].is_object()) bad(file, entry, "(cache)", "expected an object");
    const Fields c(caches[i], file, entry);
    c.reject_unknown({"level", "type", "size_kib", "shared_by"});
    CpuCache cache;
    cache.level = c.integer("level", 1, 4);
    cache.type = c.str("type");
    if (cache.type != "data" && cache.type != "instruction" && cache.type != "unified") {
      c.fail("type", fmt::format("'{}' is not one of data, instruction, unified", cache.type));
    }
    cache.size_bytes = static_cast<std::uint64_t>(c.integer("size_kib", 1, 1 << 30)) * 1024;
    cache.shared_by = c.integer("shared_by", 1, 4096);
    f.caches.push_back(std::move(cache));
  }
  d.packages = top.integer("packages", 1, 1024);
  d.cores_per_package = top.integer("cores_per_package", 1, 1 << 20);
  d.threads_per_package = top.integer("threads_per_package", 1, 1 << 20);
  if (d.threads_per_package < d.cores_per_package) {
    top.fail("threads_per_package", fmt::format("{} is fewer than cores_per_package ({})", d.threads_per_package,
                                                d.cores_per_package));
  }
  if (top.has("base_mhz")) f.base_mhz = top.integer("base_mhz", 0, 100000);
  if (top.has("max_mhz")) f.max_mhz = top.integer("max_mhz", 0, 100000);
  return d;
}

CpuDescription load_cpu_description(const std::string& path) {
  return parse_cpu_description(read_input_file(path), path);
}

std::string to_json_text(const CpuDescription& d) {
  const CpuFeatures& f = d.cpu;
  nlohmann::ordered_json j = nlohmann::ordered_json::object();  // in the schema's order, for a reader
  j["schema"] = kSchema;
  if (!d.source.empty()) j["source"] = d.source;
  j["vendor"] = f.vendor;
  j["family"] = f.family;
  j["model"] = f.model;
  j["stepping"] = f.stepping;
  j["brand"] = f.brand;
  j["features"] = feature_names(f);
  if (f.avx10_version > 0) j["avx10_version"] = f.avx10_version;
  j["hypervisor"] = f.hypervisor;
  nlohmann::ordered_json caches = nlohmann::ordered_json::array();
  for (const CpuCache& c : f.caches) {
    caches.push_back(nlohmann::ordered_json{
        {"level", c.level}, {"type", c.type}, {"size_kib", c.size_bytes / 1024}, {"shared_by", c.shared_by}});
  }
  j["caches"] = caches;
  j["packages"] = d.packages;
  j["cores_per_package"] = d.cores_per_package;
  j["threads_per_package"] = d.threads_per_package;
  if (f.base_mhz > 0) j["base_mhz"] = f.base_mhz;
  if (f.max_mhz > 0) j["max_mhz"] = f.max_mhz;
  return j.dump(1) + "\n";
}

CpuDescription describe_this_cpu(const Inventory& inventory, std::string source) {
  CpuDescription d;
  d.cpu = detect_features();
  d.source = std::move(source);
  int packages = 0;
  for (const CpuPackage& p : inventory.packages) {
    if (p.cores <= 0) continue;
    ++packages;
    if (d.cores_per_package == 0) {  // the first package's counts (packages of one node are alike)
      d.cores_per_package = p.cores;
      d.threads_per_package = std::max(p.threads, p.cores);
    }
  }
  d.packages = std::max(packages, 1);
  if (d.cores_per_package == 0) d.cores_per_package = d.threads_per_package = 1;
  return d;
}

}  // namespace probe::cpu
