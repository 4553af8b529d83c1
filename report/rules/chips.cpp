// The chip database: parsing data/chips.json (or a user's --chipdb file) and looking SKUs up.
#include <algorithm>
#include <cctype>
#include <set>

#include "embedded.hpp"
#include "json_read.hpp"
#include "rules.hpp"

namespace probe::rules {

using detail::json;
using detail::Where;

std::string_view to_string(PeakType t) noexcept {
  switch (t) {
    case PeakType::fp64: return "fp64";
    case PeakType::fp64_tensor: return "fp64_tensor";
    case PeakType::fp32: return "fp32";
    case PeakType::tf32: return "tf32";
    case PeakType::fp16: return "fp16";
    case PeakType::bf16: return "bf16";
    case PeakType::fp8: return "fp8";
    case PeakType::int8: return "int8";
    case PeakType::int4: return "int4";
    case PeakType::fp4: return "fp4";
  }
  return "fp64";
}

std::optional<PeakType> peak_type_from_string(std::string_view s) noexcept {
  for (PeakType t : kPeakTypes) {
    if (to_string(t) == s) return t;
  }
  return std::nullopt;
}

namespace {
DType dtype_of(PeakType t) noexcept {
  switch (t) {
    case PeakType::fp64:
    case PeakType::fp64_tensor: return DType::fp64;
    case PeakType::fp32: return DType::fp32;
    case PeakType::tf32: return DType::tf32;
    case PeakType::fp16: return DType::fp16;
    case PeakType::bf16: return DType::bf16;
    case PeakType::fp8: return DType::fp8_e4m3;
    case PeakType::int8: return DType::int8;
    case PeakType::int4: return DType::int4;
    case PeakType::fp4: return DType::fp4;
  }
  return DType::none;
}
}  // namespace

int bit_length(PeakType t) noexcept { return probe::bit_length(dtype_of(t)); }

std::optional<PeakType> peak_type_from_dtype(DType d) noexcept {
  switch (d) {
    case DType::fp64: return PeakType::fp64;
    case DType::fp32: return PeakType::fp32;
    case DType::tf32: return PeakType::tf32;
    case DType::fp16: return PeakType::fp16;
    case DType::bf16: return PeakType::bf16;
    case DType::fp8_e4m3:
    case DType::fp8_e5m2: return PeakType::fp8;
    case DType::int8: return PeakType::int8;
    case DType::int4: return PeakType::int4;
    case DType::fp4: return PeakType::fp4;
    case DType::none: return std::nullopt;
  }
  return std::nullopt;
}

namespace {

// Lowercase; runs of spaces, dashes and underscores become one space: "H100-SXM5_80GB" == "h100 sxm5 80gb".
std::string normalise_name(std::string_view s) {
  std::string out;
  bool sep = false;
  for (char c : s) {
    if (c == ' ' || c == '-' || c == '_' || c == '\t') {
      sep = !out.empty();
      continue;
    }
    if (sep) out.push_back(' ');
    sep = false;
    out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  }
  return out;
}

std::uint16_t parse_hex16(const json& j, const Where& w) {
  std::string s = detail::as_string(j, w);
  if (s.size() != 4 || !std::all_of(s.begin(), s.end(), [](char c) { return std::isxdigit(static_cast<unsigned char>(c)); })) {
    w.fail(fmt::format("expected 4 hex digits, found '{}'", s));
  }
  return static_cast<std::uint16_t>(std::stoul(s, nullptr, 16));
}

struct FigureReader {
  const std::map<std::string, Source>& sources;

  // {"value": X|null, "source": KEY|null, "note": "..."}: a known value needs a known source key,
  // an unknown one a note saying why.
  template <class T, class Conv>
  Sourced<T> read(const json& obj, std::string_view key, const Where& w, Conv conv) const {
    Where fw = w.at(key);
    const json& f = detail::require(obj, key, w);
    detail::as_object(f, fw);
    Sourced<T> out;
    const json& v = detail::require(f, "value", fw);
    out.note = detail::opt_string(f, "note", fw);
    out.source = detail::opt_string(f, "source", fw);
    if (v.is_null()) {
      if (out.note.empty()) fw.at("note").fail("missing: an unknown value needs a note saying why");
    } else {
      out.value = conv(v, fw.at("value"));
      if (out.source.empty()) fw.at("source").fail("missing: every figure needs a source");
    }
    if (!out.source.empty() && !sources.contains(out.source)) {
      fw.at("source").fail(fmt::format("unknown source key '{}' (not in the file's sources table)", out.source));
    }
    return out;
  }

  Sourced<double> number(const json& obj, std::string_view key, const Where& w, bool positive = true) const {
    return read<double>(obj, key, w, [positive](const json& v, const Where& vw) {
      double d = detail::as_number(v, vw);
      if (positive && !(d > 0)) vw.fail(fmt::format("expected a positive number, found {}", d));
      return d;
    });
  }
  Sourced<bool> boolean(const json& obj, std::string_view key, const Where& w) const {
    return read<bool>(obj, key, w, [](const json& v, const Where& vw) { return detail::as_bool(v, vw); });
  }
  Sourced<std::string> text(const json& obj, std::string_view key, const Where& w) const {
    return read<std::string>(obj, key, w, [](const json& v, const Where& vw) { return detail::as_string(v, vw); });
  }

  std::map<PeakType, Sourced<double>> peaks(const json& obj, std::string_view key, const Where& w) const {
    Where pw = w.at(key);
    const json& p = detail::as_object(detail::require(obj, key, w), pw);
    std::map<PeakType, Sourced<double>> out;
    for (auto it = p.begin(); it != p.end(); ++it) {
      auto type = peak_type_from_string(it.key());
      if (!type) {
        pw.at(it.key()).fail("unknown data type (expected fp64, fp64_tensor, fp32, tf32, fp16, bf16, fp8, int8, int4, fp4)");
      }
      out[*type] = number(p, it.key(), pw);
    }
    return out;
  }
};

std::map<std::string, Source> read_sources(const json& root, const Where& top) {
  std::map<std::string, Source> out;
  const json& s = detail::as_object(detail::require(root, "sources", top), top.at("sources"));
  for (auto it = s.begin(); it != s.end(); ++it) {
    Where w = top.at("sources").at(it.key());
    detail::as_object(it.value(), w);
    out[it.key()] = Source{it.key(), detail::req_string(it.value(), "title", w), detail::opt_string(it.value(), "url", w)};
  }
  return out;
}

Architecture read_architecture(const json& a, const Where& top, const FigureReader& fr) {
  Where w0 = top.at("architectures");
  detail::as_object(a, w0);
  Architecture arch;
  arch.id = detail::req_string(a, "id", w0);
  Where w = w0.in_entry(arch.id);
  arch.name = detail::req_string(a, "name", w);
  arch.unit_kind = detail::req_string(a, "unit_kind", w);
  if (const json* da = detail::optional_field(a, "device_arch")) {
    for (const json& s : detail::as_array(*da, w.at("device_arch"))) arch.device_arch.push_back(detail::as_string(s, w.at("device_arch")));
  }
  arch.reference_clock_mhz = fr.number(a, "reference_clock_mhz", w);
  arch.ops_per_clock_per_unit = fr.peaks(a, "rates", w);
  arch.note = detail::opt_string(a, "note", w);
  return arch;
}

Chip read_chip(const json& c, const Where& top, const FigureReader& fr) {
  Where w0 = top.at("chips");
  detail::as_object(c, w0);
  Chip chip;
  chip.id = detail::req_string(c, "id", w0);
  if (chip.id.empty()) w0.at("id").fail("empty id");
  Where w = w0.in_entry(chip.id);
  chip.vendor = detail::req_string(c, "vendor", w);
  chip.name = detail::req_string(c, "name", w);
  for (const json& s : detail::as_array(detail::require(c, "aliases", w), w.at("aliases"))) {
    chip.aliases.push_back(detail::as_string(s, w.at("aliases")));
  }
  const json& arch = detail::require(c, "architecture", w);
  if (!arch.is_null()) chip.architecture = detail::as_string(arch, w.at("architecture"));
  const json& pci = detail::as_array(detail::require(c, "pci", w), w.at("pci"));
  for (std::size_t i = 0; i < pci.size(); ++i) {
    Where pw = w.at(fmt::format("pci[{}]", i));
    const json& p = detail::as_object(pci[i], pw);
    PciMatch m;
    m.vendor = parse_hex16(detail::require(p, "vendor", pw), pw.at("vendor"));
    m.device = parse_hex16(detail::require(p, "device", pw), pw.at("device"));
    if (const json* sub = detail::optional_field(p, "subsystem"); sub && !sub->is_null()) {
      std::string s = detail::as_string(*sub, pw.at("subsystem"));
      auto colon = s.find(':');
      if (colon == std::string::npos) pw.at("subsystem").fail("expected 'vvvv:dddd'");
      m.subvendor = parse_hex16(json(s.substr(0, colon)), pw.at("subsystem"));
      m.subdevice = parse_hex16(json(s.substr(colon + 1)), pw.at("subsystem"));
    }
    m.source = detail::req_string(p, "source", pw);
    if (!fr.sources.contains(m.source)) pw.at("source").fail(fmt::format("unknown source key '{}'", m.source));
    m.note = detail::opt_string(p, "note", pw);
    chip.pci.push_back(std::move(m));
  }
  chip.pci_note = detail::opt_string(c, "pci_note", w);
  chip.datacenter = fr.boolean(c, "datacenter", w);
  chip.units = fr.read<int>(c, "units", w, [](const json& v, const Where& vw) {
    double d = detail::as_number(v, vw);
    if (d < 1 || d != static_cast<double>(static_cast<int>(d))) vw.fail("expected a positive whole number");
    return static_cast<int>(d);
  });
  chip.unit_kind = detail::req_string(detail::require(c, "units", w), "kind", w.at("units"));
  chip.clock_mhz = fr.number(c, "clock_mhz", w);
  chip.peaks_tops = fr.peaks(c, "peaks", w);
  Where mw = w.at("memory");
  const json& mem = detail::as_object(detail::require(c, "memory", w), mw);
  chip.memory_type = fr.text(mem, "type", mw);
  chip.memory_gb = fr.number(mem, "capacity_gb", mw);
  chip.memory_bw_gbs = fr.number(mem, "bandwidth_gbs", mw);
  chip.die_area_mm2 = fr.number(c, "die_area_mm2", w);
  chip.hbm_area_mm2 = fr.number(c, "hbm_area_mm2", w);
  chip.io_bw_bidir_gbs = fr.number(c, "io_bw_bidir_gbs", w);
  // Optional (added for the SAFE Chips Act): an entry without it has the interconnect bandwidth unknown.
  if (c.contains("interconnect_bw_gbs")) chip.interconnect_bw_gbs = fr.number(c, "interconnect_bw_gbs", w);
  chip.note = detail::opt_string(c, "note", w);
  return chip;
}

// {"vendor": "1a03", "device": "2000", "vendor_name": …, "name": …, "role": …,
//  "pci_ids": {"source": KEY, "text": "<the pci.ids lines>"}, "references": [KEY, …], "note": …}
NonProcessor read_non_processor(const json& e, std::size_t index, const Where& top, const std::map<std::string, Source>& sources) {
  Where w0 = top.at(fmt::format("non_processors[{}]", index));
  detail::as_object(e, w0);
  NonProcessor np;
  np.vendor = parse_hex16(detail::require(e, "vendor", w0), w0.at("vendor"));
  np.device = parse_hex16(detail::require(e, "device", w0), w0.at("device"));
  Where w = top.in_entry(fmt::format("non_processors {:04x}:{:04x}", np.vendor, np.device));
  auto text = [&](std::string_view key, const json& obj, const Where& ow) {
    std::string s = detail::req_string(obj, key, ow);
    if (s.empty()) ow.at(key).fail("empty: say what the device is");
    return s;
  };
  np.vendor_name = text("vendor_name", e, w);
  np.name = text("name", e, w);
  np.role = text("role", e, w);
  Where pw = w.at("pci_ids");
  const json& p = detail::as_object(detail::require(e, "pci_ids", w), pw);
  np.pci_ids_source = text("source", p, pw);
  if (!sources.contains(np.pci_ids_source)) pw.at("source").fail(fmt::format("unknown source key '{}'", np.pci_ids_source));
  np.pci_ids_text = text("text", p, pw);
  if (np.pci_ids_text.find(fmt::format("{:04x}", np.vendor)) == std::string::npos ||
      np.pci_ids_text.find(fmt::format("{:04x}", np.device)) == std::string::npos) {
    pw.at("text").fail(fmt::format("does not quote the vendor and device lines of {:04x}:{:04x}", np.vendor, np.device));
  }
  if (const json* refs = detail::optional_field(e, "references")) {
    for (const json& r : detail::as_array(*refs, w.at("references"))) {
      std::string key = detail::as_string(r, w.at("references"));
      if (!sources.contains(key)) w.at("references").fail(fmt::format("unknown source key '{}'", key));
      np.references.push_back(std::move(key));
    }
  }
  np.note = detail::opt_string(e, "note", w);
  return np;
}

}  // namespace

ChipDatabase ChipDatabase::parse(std::string_view text, std::string_view file_name) {
  ChipDatabase db;
  db.m_file_name = std::string(file_name);
  db.m_sha256 = sha256_hex(text);
  Where top{db.m_file_name, {}, {}};
  json root = detail::parse_text(text, db.m_file_name);
  detail::as_object(root, top);
  double version = detail::req_number(root, "schema_version", top);
  if (version != 1) top.at("schema_version").fail(fmt::format("unsupported version {} (expected 1)", version));
  db.m_sources = read_sources(root, top);
  FigureReader fr{db.m_sources};

  for (const json& a : detail::as_array(detail::require(root, "architectures", top), top.at("architectures"))) {
    Architecture arch = read_architecture(a, top, fr);
    if (db.find_architecture(arch.id)) top.in_entry(arch.id).at("id").fail("duplicate architecture id");
    db.m_architectures.push_back(std::move(arch));
  }
  for (const json& c : detail::as_array(detail::require(root, "chips", top), top.at("chips"))) {
    Chip chip = read_chip(c, top, fr);
    Where w = top.in_entry(chip.id);
    if (!chip.architecture.empty() && !db.find_architecture(chip.architecture)) {
      w.at("architecture").fail(fmt::format("unknown architecture '{}'", chip.architecture));
    }
    std::size_t index = db.m_chips.size();
    // Every way to name a chip must name only that chip.
    std::vector<std::pair<std::string, std::string>> keys = {{chip.id, "id"}, {chip.name, "name"},
                                                              {chip.vendor + " " + chip.name, "name"}};
    for (const auto& a : chip.aliases) keys.emplace_back(a, "aliases");
    for (const auto& [k, field] : keys) {
      std::string n = normalise_name(k);
      if (n.empty()) w.at(field).fail("empty name");
      auto it = db.m_names.find(n);
      if (it != db.m_names.end() && it->second != index) {
        w.at(field).fail(fmt::format("duplicate id or name '{}' (already used by '{}')", k, db.m_chips[it->second].id));
      }
      db.m_names[n] = index;
    }
    for (const auto& p : chip.pci) {
      for (const Chip& other : db.m_chips) {
        for (const auto& q : other.pci) {
          if (q.vendor == p.vendor && q.device == p.device && q.subvendor == p.subvendor && q.subdevice == p.subdevice) {
            w.at("pci").fail(fmt::format("duplicate PCI id {:04x}:{:04x} (already used by '{}')", p.vendor, p.device, other.id));
          }
        }
      }
    }
    db.m_chips.push_back(std::move(chip));
  }
  // Optional: a user's --chipdb file written before the list existed still loads (and then lists nothing).
  if (const json* nps = detail::optional_field(root, "non_processors")) {
    const json& arr = detail::as_array(*nps, top.at("non_processors"));
    for (std::size_t i = 0; i < arr.size(); ++i) {
      NonProcessor np = read_non_processor(arr[i], i, top, db.m_sources);
      Where w = top.in_entry(fmt::format("non_processors {:04x}:{:04x}", np.vendor, np.device));
      if (db.find_non_processor(np.vendor, np.device)) w.at("device").fail("duplicate PCI id in non_processors");
      for (const Chip& c : db.m_chips) {
        for (const auto& q : c.pci) {
          if (q.vendor == np.vendor && q.device == np.device) {
            w.at("device").fail(fmt::format("PCI id {:04x}:{:04x} is also the chip '{}': a device cannot be both", np.vendor,
                                            np.device, c.id));
          }
        }
      }
      db.m_non_processors.push_back(std::move(np));
    }
  }
  return db;
}


ChipDatabase ChipDatabase::load_file(const std::filesystem::path& path) {
  return parse(detail::read_file_text(path), path.string());
}

const ChipDatabase& ChipDatabase::builtin() {
  static const ChipDatabase db = parse(data::chips(), "chips.json (built-in)");
  return db;
}

const Chip* ChipDatabase::find_pci(std::uint16_t vendor, std::uint16_t device, std::uint16_t subvendor,
                                   std::uint16_t subdevice) const noexcept {
  const Chip* generic = nullptr;
  for (const Chip& c : m_chips) {
    for (const PciMatch& p : c.pci) {
      if (p.vendor != vendor || p.device != device) continue;
      if (p.subvendor) {
        if (*p.subvendor == subvendor && p.subdevice == subdevice) return &c;
      } else if (!generic) {
        generic = &c;
      }
    }
  }
  return generic;
}

const Chip* ChipDatabase::find_pci(const PciId& id) const noexcept {
  return find_pci(id.vendor_id, id.device_id, id.subvendor_id, id.subdevice_id);
}

const NonProcessor* ChipDatabase::find_non_processor(std::uint16_t vendor, std::uint16_t device) const noexcept {
  for (const NonProcessor& n : m_non_processors) {
    if (n.vendor == vendor && n.device == device) return &n;
  }
  return nullptr;
}

const NonProcessor* ChipDatabase::find_non_processor(const PciId& id) const noexcept {
  return find_non_processor(id.vendor_id, id.device_id);
}

const Chip* ChipDatabase::find_name(std::string_view name) const {
  auto it = m_names.find(normalise_name(name));
  return it == m_names.end() ? nullptr : &m_chips[it->second];
}

const Chip* ChipDatabase::find(const DeviceInfo& info) const {
  if (info.pci && info.pci->vendor_id != 0) {
    if (const Chip* c = find_pci(*info.pci)) return c;
  }
  return info.name.empty() ? nullptr : find_name(info.name);
}

const Architecture* ChipDatabase::find_architecture(std::string_view id) const noexcept {
  for (const auto& a : m_architectures) {
    if (a.id == id) return &a;
  }
  return nullptr;
}

const Architecture* ChipDatabase::find_architecture_for_device_arch(std::string_view arch) const noexcept {
  for (const auto& a : m_architectures) {
    if (std::find(a.device_arch.begin(), a.device_arch.end(), arch) != a.device_arch.end()) return &a;
  }
  return nullptr;
}

const Source* ChipDatabase::find_source(std::string_view key) const noexcept {
  auto it = m_sources.find(std::string(key));
  return it == m_sources.end() ? nullptr : &it->second;
}

}  // namespace probe::rules
