// The terminal report: inventory, backends, then per device a compute table and a bandwidth table.
#include <algorithm>
#include <fmt/format.h>
#include <map>
#include <optional>
#include <stdexcept>

#include "json_io.hpp"
#include "printer.hpp"
#include "sustained_section.hpp"

namespace probe::report {
namespace {

std::string si(double v, std::string_view unit) {
  static constexpr std::pair<double, const char*> kPrefixes[] = {{1e15, "P"}, {1e12, "T"}, {1e9, "G"}, {1e6, "M"},
                                                                 {1e3, "k"}};
  for (auto [scale, p] : kPrefixes) {
    if (std::abs(v) >= scale) return fmt::format("{:.4g} {}{}", v / scale, p, unit);
  }
  return fmt::format("{:.4g} {}", v, unit);
}

std::string pct(double v) { return fmt::format("{:.1f}%", v * 100); }

std::string caches_line(const Inventory& inv) {
  std::vector<std::string> parts;
  for (const auto& c : inv.caches) {
    const char* t = c.type == "data" ? "d" : c.type == "instruction" ? "i" : "";
    parts.push_back(fmt::format("L{}{} {} ×{}", c.level, t, format_bytes(c.size_bytes), c.count));
  }
  return parts.empty() ? "unknown" : fmt::format("{}", fmt::join(parts, ", "));
}

void inventory_section(std::string& out, const Report& r) {
  const Inventory& inv = r.inventory;
  auto line = [&](std::string_view k, std::string_view v) { out += fmt::format("  {:<14}{}\n", k, v); };
  out += "Node\n";
  line("host", inv.hostname);
  line("os", fmt::format("{} — Linux {} {}", inv.os_name, inv.kernel, inv.machine));
  line("memory", fmt::format("{} (hwloc {}, {})", format_bytes(inv.memory_total_bytes), inv.hwloc_version, inv.source));
  for (const auto& p : inv.packages) {
    line(fmt::format("package {}", p.index),
         fmt::format("{} — {} family {} model {} stepping {}; {} cores, {} threads", p.model_name, p.vendor, p.family,
                     p.model, p.stepping, p.cores, p.threads));
  }
  line("caches", caches_line(inv));
  std::vector<std::string> numa;
  for (const auto& n : inv.numa_nodes) numa.push_back(fmt::format("#{} {}", n.os_index, format_bytes(n.memory_bytes)));
  line("numa nodes", numa.empty() ? "none reported" : fmt::format("{}", fmt::join(numa, ", ")));
  if (inv.accelerators.empty()) {
    line("accelerators", "none on the PCI bus");
  } else {
    for (const auto& a : inv.accelerators) {
      line("accelerator", fmt::format("{} {:04x}:{:04x} (subsystem {:04x}:{:04x}) {} {} {}", a.id.bus_id, a.id.vendor_id,
                                      a.id.device_id, a.id.subvendor_id, a.id.subdevice_id, a.class_name,
                                      a.vendor_name, a.device_name));
    }
  }
}

void backends_section(std::string& out, const Report& r) {
  out += "\nBackends\n";
  for (const auto& b : r.backends) {
    if (b.available) {
      out += fmt::format("  {:<8}available: {} device(s); {} [{}]\n", b.name, b.devices, b.version, b.source);
    } else {
      out += fmt::format("  {:<8}unavailable: {} [{}]\n", b.name, b.reason, b.source);
    }
  }
  for (const auto& p : r.plugins) {
    if (!p.loaded) out += fmt::format("  plugin  {} not loaded: {}\n", p.path, p.reason);
  }
  // A folder that exists but cannot be listed hides its plugins: say so. Missing folders are normal.
  for (const auto& f : r.plugin_folders) {
    if (f.found && !f.readable) out += fmt::format("  plugin folder {} not searched: {}\n", f.path, f.reason);
  }
  if (!r.plugin_folders.empty()) {
    std::vector<std::string> searched;
    for (const auto& f : r.plugin_folders) {
      searched.push_back(f.readable ? f.path : fmt::format("{} ({})", f.path, f.found ? "unreadable" : "not found"));
    }
    out += fmt::format("  plugin folders searched: {}\n", fmt::join(searched, ", "));
  }
  if (r.watchdog) {
    out += fmt::format("  watchdog: plugins run in worker processes; a kernel is stopped after {:g} s ({})\n",
                       r.watchdog->kernel_timeout_s, r.watchdog->source);
  }
  for (const auto& u : r.unmeasured) {
    out += fmt::format("  {} {:04x}:{:04x} {} — {}\n", u.pci.id.bus_id, u.pci.id.vendor_id, u.pci.id.device_id,
                       u.pci.device_name.empty() ? u.pci.class_name : u.pci.device_name, u.reason);
  }
}

// Samples that disagree by more than this usually mean another process shared the cores.
constexpr double kNoisySpread = 0.05;

void noise_warning(std::string& out, const DeviceReport& d, KernelClass kind) {
  std::vector<std::string> noisy;
  std::optional<double> load;  // the highest load average seen as a noisy measurement began
  for (const auto& m : d.measurements) {
    if (m.spec.kind != kind || !m.ok() || m.stats.rel_spread <= kNoisySpread) continue;
    noisy.push_back(m.spec.id);
    if (m.conditions.load_average_1min) load = std::max(load.value_or(0), *m.conditions.load_average_1min);
  }
  if (noisy.empty()) return;
  out += fmt::format("  warning: spread over {:.0f}% for {}: something else may be using these cores{}; the median is "
                     "kept — rerun on an idle node, or with --thorough\n",
                     kNoisySpread * 100, fmt::join(noisy, ", "),
                     load ? fmt::format(" (load average {:.2f})", *load) : std::string());
}

// One line per measurement above its own theoretical peak (the check every backend shares).
void above_theoretical_warnings(std::string& out, const DeviceReport& d, KernelClass kind) {
  for (const auto& m : d.measurements) {
    if (m.spec.kind == kind && m.ok() && m.above_theoretical) {
      out += fmt::format("  warning: {}: {}; % peak withheld (theoretical {})\n", m.spec.id, m.above_theoretical->message,
                         m.theoretical_basis);
    }
  }
}

void compute_table(std::string& out, const DeviceReport& d) {
  bool any = false;
  for (const auto& m : d.measurements) any |= m.spec.kind == KernelClass::compute;
  if (!any) return;
  out += fmt::format("\n  {:<36}{:<8}{:>16}{:>18}{:>9}{:>9}{:>11}\n", "Compute (dense)", "variant", "measured",
                     "theoretical", "% peak", "spread", "clock");
  for (const auto& m : d.measurements) {
    if (m.spec.kind != KernelClass::compute) continue;
    if (!m.ok()) {
      out += fmt::format("  {:<36}{}: {}\n", m.spec.title, to_string(m.status), m.reason);
      continue;
    }
    const std::string theo = m.theoretical ? format_rate(*m.theoretical, m.spec.unit, m.spec.dtype) : "—";
    // Above its own peak beyond spread and tolerance: the theoretical figure is wrong, so no percentage of it.
    const std::string peak = m.above_theoretical                      ? "withheld"
                             : m.theoretical && *m.theoretical > 0 ? pct(m.stats.median / *m.theoretical)
                                                                   : "—";
    const std::string clock = m.conditions.clock_hz > 0 ? fmt::format("{:.2f} GHz", m.conditions.clock_hz / 1e9) : "—";
    out += fmt::format("  {:<36}{:<8}{:>16}{:>18}{:>9}{:>9}{:>11}\n", m.spec.title, m.variant,
                       format_rate(m.stats.median, m.spec.unit, m.spec.dtype), theo, peak, pct(m.stats.rel_spread),
                       clock);
  }
  std::vector<std::string_view> presumed;
  for (const auto& m : d.measurements) {
    if (m.spec.kind == KernelClass::compute && m.ok() && !m.theoretical && !m.theoretical_basis.empty()) {
      out += fmt::format("  note: {}: theoretical {}\n", m.spec.id, m.theoretical_basis);
    }
    if (m.spec.kind == KernelClass::compute && m.ok() && m.theoretical && !m.theoretical_confirmed) {
      presumed.push_back(m.spec.id);
    }
  }
  if (!presumed.empty()) {
    out += fmt::format("  note: theoretical of {} rests on presumed per-cycle rates (\"confirmed\": false in the data; "
                       "sources in the JSON theoretical_basis)\n",
                       fmt::join(presumed, ", "));
  }
  // The clock column is the clock during each kernel; say where a kernel ran at a licence clock clearly below the
  // scalar clock taken around it (AVX-512, AMX), so the reader knows which clock the % of peak is taken at.
  std::vector<std::string> lowered;
  for (const auto& m : d.measurements) {
    const auto& c = m.conditions;
    if (m.spec.kind == KernelClass::compute && m.ok() && c.clock_hz > 0 && c.clock_hz_scalar > 0 &&
        c.clock_hz < 0.97 * c.clock_hz_scalar) {
      lowered.push_back(fmt::format("{} {:.2f} GHz ({:.2f} GHz scalar)", m.spec.id, c.clock_hz / 1e9,
                                    c.clock_hz_scalar / 1e9));
    }
  }
  if (!lowered.empty()) {
    out += fmt::format("  clock: below the scalar clock during the kernel (licence clock); % peak uses the lower one: {}\n",
                       fmt::join(lowered, ", "));
  }
  above_theoretical_warnings(out, d, KernelClass::compute);
  noise_warning(out, d, KernelClass::compute);
}

void memory_table(std::string& out, const DeviceReport& d) {
  bool any = false;
  for (const auto& m : d.measurements) any |= m.spec.kind == KernelClass::memory;
  if (!any) return;
  out += fmt::format("\n  {:<36}{:<8}{:>16}{:>22}{:>9}\n", "Memory bandwidth (STREAM counting)", "variant", "measured",
                     "with write-allocate", "spread");
  const Measurement* first_ok = nullptr;
  for (const auto& m : d.measurements) {
    if (m.spec.kind != KernelClass::memory) continue;
    if (!m.ok()) {
      out += fmt::format("  {:<36}{}: {}\n", m.spec.title, to_string(m.status), m.reason);
      continue;
    }
    if (!first_ok) first_ok = &m;
    std::string wa = "—";
    for (const auto& f : m.derived) {
      if (f.name == "with_write_allocate") wa = format_rate(f.value, m.spec.unit, m.spec.dtype);
    }
    out += fmt::format("  {:<36}{:<8}{:>16}{:>22}{:>9}\n", m.spec.title, m.variant,
                       format_rate(m.stats.median, m.spec.unit, m.spec.dtype), wa, pct(m.stats.rel_spread));
  }
  if (first_ok) {
    const Conditions& c = first_ok->conditions;
    out += fmt::format("  arrays of {} each (read/write 1, copy 2, triad 3), {} threads",
                       c.array_bytes > 0 ? format_bytes(c.array_bytes) : std::string("unrecorded size"), c.threads);
    out += c.pus.empty() ? std::string("\n") : fmt::format(" pinned to PUs {}\n", fmt::join(c.pus, ","));
    noise_warning(out, d, KernelClass::memory);
    above_theoretical_warnings(out, d, KernelClass::memory);
    for (const auto& w : condition_warnings(d, KernelClass::memory)) out += fmt::format("  warning: {}\n", w);
  }
}

void control_section(std::string& out, const DeviceReport& d, const Assessment* a) {
  if (!a) return;
  const DeviceAssessment* da = a->find(d.info.id);
  if (!da) return;
  out += "\n  Control parameters (export-control metrics and verdicts)\n";
  auto indent = [&](const std::string& text) {
    std::size_t start = 0;
    while (start < text.size()) {
      const std::size_t end = text.find('\n', start);
      out += "    " + text.substr(start, end == std::string::npos ? std::string::npos : end - start) + "\n";
      if (end == std::string::npos) break;
      start = end + 1;
    }
  };
  indent(rules::render_text(da->metrics));
  indent(rules::render_text(da->verdicts));
}

// How a CPU was identified, from the device's properties (the backend's typed identification, recorded there):
// the method and entry, then every contradiction and what the evidence could not decide. --list shows the rest.
void identification_lines(std::string& out, const DeviceReport& d) {
  std::string entry, method;
  for (const auto& [k, v] : d.info.properties) {
    if (k == "identification") entry = v;
    if (k == "identification_method") method = v;
  }
  if (method.empty()) return;
  out += fmt::format("  identified: {} ({})\n", entry, method);
  for (const auto& [k, v] : d.info.properties) {
    if (k == "contradiction" || k == "undecided") out += fmt::format("  {}: {}\n", k, v);
    if (k == "fma_units_512bit") out += fmt::format("  512-bit FMA units: {}\n", v);
  }
}

class TextPrinter final : public Printer {
 public:
  explicit TextPrinter(PrintContext c) : m_ctx(std::move(c)) {}

  std::string render_sections(std::span<const Section> sections) const override {
    return render_sections_text(m_ctx.preamble) + render_sections_text(sections);
  }

  std::string render(const Report& r, const Assessment* a) const override {
    std::string out = render_sections_text(m_ctx.preamble);
    out += fmt::format("probe {} — {} budget — {} → {}\n\n", r.tool_version, r.budget, r.started_at,
                                  r.finished_at);
    if (r.status == "interrupted") {
      out += fmt::format("INTERRUPTED by {}: the measurements completed are kept; {} kernel(s) not reached (listed "
                         "at the end)\n\n",
                         r.interrupted_by, r.not_reached.size());
    }
    out += render_inventory(r);
    for (const auto& d : r.devices) {
      out += fmt::format("\nDevice {}: {} ({}, {} {})\n", d.info.id, d.info.name, d.info.arch, d.info.units,
                         d.info.unit_name);
      if (d.info.partial) out += fmt::format("  partial: {}\n", d.info.partial_reason);
      std::vector<std::string> missed;
      for (const auto& n : r.not_reached) {
        if (n.device == d.info.id) missed.push_back(n.kernel);
      }
      if (!missed.empty()) out += fmt::format("  not reached ({}): {}\n", r.interrupted_by, fmt::join(missed, " "));
      identification_lines(out, d);
      compute_table(out, d);
      memory_table(out, d);
      if (const auto s = sustained_section(d)) out += render_sections_text(std::span(&*s, 1));
      control_section(out, d, a);
    }
    if (a && !a->node().empty()) {
      out += "\nNode (4A090 / 4A507: computers containing 3A090 / 3A501.a.16 ICs; APP; supercomputer share)\n";
      for (const auto& u : a->unmeasured()) {
        if (u.non_processor) {
          out += fmt::format("  {}: {}: not counted\n", u.label, u.not_counted);
          continue;
        }
        if (!u.assessed) {
          out += fmt::format("  {}: not measured and not in the chip database: not assessed\n", u.label);
          continue;
        }
        // The IC classifications that matched, each with the rulesets that gave it: "3A090.a (us-2023-10-acr, …)",
        // "3A501.a.16 (eu-2025-2003-3a501)".
        std::vector<std::string> parts;
        for (const auto& c : rules::ic_classifications(u.assessed->verdicts)) {
          parts.push_back(fmt::format("{} ({})", c.classification, fmt::join(c.rulesets, ", ")));
        }
        const auto& dec = u.assessed->metrics.declared;
        out += fmt::format("  {}: not measured; declared TPP {} → {}\n", u.label,
                           dec.tpp ? rules::format_number(*dec.tpp) : std::string("unknown"),
                           parts.empty() ? std::string("no 3A090.a/.b classification") : fmt::format("{}", fmt::join(parts, "; ")));
      }
      for (const auto& v : a->node()) out += fmt::format("  [{}] {}\n", v.jurisdiction, v.summary);
    }
    out += "\nConventions\n";
    for (const auto& c : r.conventions) out += fmt::format("  {}: {}\n", c.topic, c.text);
    if (r.any_failed()) out += "\nAt least one measurement FAILED (see above): exit status 1.\n";
    if (r.status == "interrupted") {
      out += fmt::format("\nInterrupted by {}: no result for these kernels (not reached, or stopped while running)\n",
                         r.interrupted_by);
      for (const auto& n : r.not_reached) out += fmt::format("  {} {}\n", n.device, n.kernel);
    }
    return out;
  }

 private:
  PrintContext m_ctx;
};

class JsonPrinter final : public Printer {
 public:
  std::string render(const Report& r, const Assessment* a) const override { return to_json_text(r, a); }
  // The commands that render sections (compare, replay) write their own JSON document.
  std::string render_sections(std::span<const Section>) const override {
    throw std::logic_error("the JSON printer renders reports only");
  }
};

}  // namespace

std::string render_inventory(const Report& r) {
  std::string out;
  inventory_section(out, r);
  backends_section(out, r);
  return out;
}

std::string format_rate(double value, Unit unit, DType dtype) {
  if (unit == Unit::bytes_per_s) return si(value, "B/s");
  const bool integer = dtype == DType::int8 || dtype == DType::int4;
  return si(value, integer ? "OP/s" : "FLOP/s");
}

std::vector<std::string> condition_warnings(const DeviceReport& device, KernelClass kind) {
  std::vector<std::string> out;
  for (const auto& m : device.measurements) {
    if (m.spec.kind != kind) continue;
    for (const auto& w : m.conditions.warnings) {
      if (std::find(out.begin(), out.end(), w) == out.end()) out.push_back(w);
    }
  }
  return out;
}

std::string format_bytes(std::uint64_t bytes) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", bytes) : fmt::format("{:.4g} {}", v, units[u]);
}

std::optional<Format> format_from_string(std::string_view s) noexcept {
  if (s == "text") return Format::text;
  if (s == "json") return Format::json;
  if (s == "html") return Format::html;
  if (s == "md" || s == "markdown") return Format::markdown;
  return std::nullopt;
}

std::optional<Format> format_from_path(const std::filesystem::path& path) noexcept {
  std::string ext = path.extension().string();
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == ".txt") return Format::text;
  if (ext == ".json") return Format::json;
  if (ext == ".html" || ext == ".htm") return Format::html;
  if (ext == ".md") return Format::markdown;
  return std::nullopt;
}

std::string_view to_string(Format f) noexcept {
  switch (f) {
    case Format::text: return "text";
    case Format::json: return "json";
    case Format::html: return "html";
    case Format::markdown: return "md";
  }
  return "text";
}

std::unique_ptr<Printer> make_printer(Format f, PrintContext context) {
  switch (f) {
    case Format::json: return std::make_unique<JsonPrinter>();
    case Format::html: return make_html_printer(std::move(context));
    case Format::markdown: return make_markdown_printer(std::move(context));
    case Format::text: break;
  }
  return std::make_unique<TextPrinter>(std::move(context));
}

std::string render_sections_text(std::span<const Section> sections) {
  std::string out;
  for (const auto& s : sections) {
    out += s.title + "\n";
    for (const auto& p : s.paragraphs) out += "  " + p + "\n";
    for (const auto& t : s.tables) {
      if (!t.caption.empty()) out += "  " + t.caption + "\n";
      // Column widths from the widest cell (in bytes: good enough for the ASCII most cells are).
      std::vector<std::size_t> w(t.header.size(), 0);
      auto fit = [&](const std::vector<std::string>& row) {
        for (std::size_t i = 0; i < row.size() && i < w.size(); ++i) w[i] = std::max(w[i], row[i].size());
      };
      fit(t.header);
      for (const auto& r : t.rows) fit(r);
      auto line = [&](const std::vector<std::string>& row, std::string_view mark) {
        std::string l = fmt::format("  {:<2}", mark);
        for (std::size_t i = 0; i < row.size() && i < w.size(); ++i) {
          l += fmt::format("{:<{}}", row[i], i + 1 == w.size() ? 0 : w[i] + 2);
        }
        while (!l.empty() && l.back() == ' ') l.pop_back();
        out += l + "\n";
      };
      line(t.header, "");
      for (std::size_t i = 0; i < t.rows.size(); ++i) {
        const std::string& cls = i < t.row_class.size() ? t.row_class[i] : std::string();
        line(t.rows[i], cls == "regression" ? "!" : cls == "changed" ? "*" : cls == "improved" ? "+" : "");
      }
    }
    out += "\n";
  }
  return out;
}

}  // namespace probe::report
