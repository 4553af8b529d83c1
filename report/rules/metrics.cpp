// Control metrics on three bases (declared, derived, measured), the flags comparing them, and the values the
// rules read. Pure functions of the chip database, the device's measurements and the user's overrides.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "report.hpp"
#include "rules.hpp"

namespace probe::rules {

std::string_view to_string(Basis b) noexcept {
  switch (b) {
    case Basis::declared: return "declared";
    case Basis::derived: return "derived";
    case Basis::measured: return "measured";
  }
  return "declared";
}

namespace {

// TPP = max over types of dense TOPS × bits; every type that reaches it is named (H100: fp8 and int8; A100:
// tf32, fp16, bf16 and int8 all give 4,992).
void finish_tpp(BasisMetrics& b) {
  b.tpp.reset();
  b.tpp_types.clear();
  b.fp64_tflops.reset();
  b.fp32_tflops.reset();
  auto keep_max = [](std::optional<double>& slot, double v) {
    if (!slot || v > *slot) slot = v;
  };
  for (const auto& r : b.rates) {
    if (r.type == PeakType::fp64 || r.type == PeakType::fp64_tensor) keep_max(b.fp64_tflops, r.tops);
    if (r.type == PeakType::fp32) keep_max(b.fp32_tflops, r.tops);
  }
  for (const auto& r : b.rates) {
    if (!b.tpp || r.tpp > *b.tpp) b.tpp = r.tpp;
  }
  if (!b.tpp) return;
  for (const auto& r : b.rates) {
    if (r.tpp >= *b.tpp * (1 - 1e-9)) b.tpp_types.push_back(r.type);
  }
}

std::string source_label(const std::string& key) { return key.empty() ? std::string("unsourced") : key; }

BasisMetrics declared_basis(const Chip* chip) {
  BasisMetrics b;
  b.basis = Basis::declared;
  if (!chip) {
    b.unavailable_reason = "not in the chip database";
    return b;
  }
  for (const auto& [type, fig] : chip->peaks_tops) {
    if (!fig.value) continue;
    int bits = bit_length(type);
    b.rates.push_back({type, *fig.value, bits, *fig.value * bits, fmt::format("datasheet ({})", source_label(fig.source)), {}, std::nullopt});
  }
  finish_tpp(b);
  if (chip->memory_bw_gbs.value) {
    b.total_dram_bw_gbs = chip->memory_bw_gbs.value;
    b.dram_note = fmt::format("datasheet ({})", source_label(chip->memory_bw_gbs.source));
  } else {
    b.dram_note = chip->memory_bw_gbs.note;
  }
  b.available = !b.rates.empty() || b.total_dram_bw_gbs.has_value();
  if (!b.available) b.unavailable_reason = "no sourced peak in the chip database";
  b.note = fmt::format("{} datasheet figures", chip->display_name());
  return b;
}

BasisMetrics derived_basis(const Chip* chip, const Architecture* arch, std::optional<int> units, std::string_view unit_kind,
                           const Overrides& ov, std::vector<Flag>& flags) {
  BasisMetrics b;
  b.basis = Basis::derived;
  if (!arch) {
    b.unavailable_reason = "architecture unknown: no per-architecture rate table";
    return b;
  }
  if (arch->ops_per_clock_per_unit.empty()) {
    b.unavailable_reason = fmt::format("no sourced per-unit rates for {}", arch->name);
    if (!arch->note.empty()) b.unavailable_reason += ": " + arch->note;
    return b;
  }
  if (!units || *units <= 0) {
    b.unavailable_reason = "unit count unknown";
    return b;
  }
  if (ov.derive_clock_mhz) {
    b.clock_mhz = ov.derive_clock_mhz;
    b.clock_note = "clock given by the caller";
  } else if (chip && chip->clock_mhz.value) {
    b.clock_mhz = chip->clock_mhz.value;
    b.clock_note = fmt::format("datasheet tensor-peak clock ({})", source_label(chip->clock_mhz.source));
  } else if (arch->reference_clock_mhz.value) {
    b.clock_mhz = arch->reference_clock_mhz.value;
    b.clock_note = fmt::format("{} reference clock: this SKU's own tensor clock is unknown", arch->name);
    flags.push_back({"clock_fallback", "info",
                     fmt::format("derived basis uses the {} reference clock {:.0f} MHz: the SKU's tensor clock is unknown",
                                 arch->name, *b.clock_mhz),
                     b.clock_mhz});
  } else {
    b.unavailable_reason = "no clock: neither the SKU's nor the architecture's tensor clock is known";
    return b;
  }
  std::string kind = unit_kind.empty() ? arch->unit_kind : std::string(unit_kind);
  for (const auto& [type, fig] : arch->ops_per_clock_per_unit) {
    if (!fig.value) continue;
    double tops = *units * *fig.value * *b.clock_mhz * 1e6 / 1e12;
    int bits = bit_length(type);
    b.rates.push_back({type, tops, bits, tops * bits,
                       fmt::format("{} {} × {} /clk × {:.0f} MHz", *units, kind, format_number(*fig.value), *b.clock_mhz), {}, std::nullopt});
  }
  finish_tpp(b);
  b.available = !b.rates.empty();
  if (!b.available) b.unavailable_reason = "no sourced rate";
  b.note = fmt::format("{} rates × {} {} × {:.0f} MHz ({})", arch->name, *units, kind, *b.clock_mhz, b.clock_note);
  b.dram_note = "not derived (memory bandwidth is a datasheet figure)";
  return b;
}

// A CPU's derived basis: the theoretical peak the CPU backend computed per kernel (cores × per-cycle rate
// from data/cpu_uarch.json × the clock measured during that kernel), best per type. Read from the report,
// never recomputed, so a recorded report gives the same figure. A kernel measured above its own theoretical
// peak is left out: that theoretical figure is contradicted.
BasisMetrics cpu_derived_basis(std::span<const Measurement> measurements) {
  BasisMetrics b;
  b.basis = Basis::derived;
  std::map<PeakType, TypeRate> best;
  std::map<PeakType, bool> presumed;  // the best kernel's rate is marked "confirmed": false in its data file
  std::vector<std::string> contradicted;
  for (const auto& m : measurements) {
    if (!m.ok() || m.spec.unit != Unit::ops_per_s || m.spec.kind != KernelClass::compute) continue;
    if (!m.theoretical || !(*m.theoretical > 0) || !std::isfinite(*m.theoretical)) continue;
    auto type = peak_type_from_dtype(m.spec.dtype);
    if (!type) continue;
    if (m.above_theoretical) {
      contradicted.push_back(m.spec.id);
      continue;
    }
    const double tops = *m.theoretical / 1e12;
    auto it = best.find(*type);
    if (it == best.end() || tops > it->second.tops) {
      const int bits = bit_length(*type);
      TypeRate r{*type, tops, bits, tops * bits, fmt::format("kernel {} theoretical: {}", m.spec.id, m.theoretical_basis),
                 m.spec.id, std::nullopt};
      if (m.conditions.clock_hz > 0) r.clock_mhz = m.conditions.clock_hz / 1e6;
      best[*type] = std::move(r);
      presumed[*type] = !m.theoretical_confirmed;
    }
  }
  for (auto& [type, rate] : best) b.rates.push_back(rate);
  finish_tpp(b);
  b.dram_note = "not derived (a CPU's memory bandwidth is measured only)";
  const std::string left_out =
      contradicted.empty() ? std::string()
                           : fmt::format("; left out, measured above their own theoretical peak: {}", fmt::join(contradicted, ", "));
  if (b.rates.empty()) {
    b.unavailable_reason = contradicted.empty()
                               ? "no compute kernel with a theoretical peak (microarchitecture not in data/cpu_uarch.json, "
                                 "or no compute kernel measured)"
                               : fmt::format("every theoretical peak is contradicted by its measurement ({} measured above "
                                             "theoretical)",
                                             fmt::join(contradicted, ", "));
    return b;
  }
  b.available = true;
  // The clock named is the one the TPP-setting kernel's theoretical peak was taken at.
  const TypeRate* top = nullptr;
  for (const auto& r : b.rates) {
    if (!b.tpp_types.empty() && r.type == b.tpp_types.front()) top = &r;
  }
  if (top && top->clock_mhz) {
    b.clock_mhz = top->clock_mhz;
    b.clock_note = fmt::format("core clock measured during {}", top->kernel);
  } else {
    b.clock_note = "clock not measured";
  }
  const bool top_presumed = top && presumed[top->type];
  b.note = fmt::format("per-kernel theoretical peaks: cores × per-cycle rate (data/cpu_uarch.json) × the clock measured "
                       "during the kernel; TPP from {}{}{}{}",
                       top ? top->kernel : std::string("?"),
                       b.clock_mhz ? fmt::format(" at {:.2f} GHz", *b.clock_mhz / 1e3) : std::string(),
                       top_presumed ? " (a presumed rate: \"confirmed\": false in data/cpu_uarch.json)" : "", left_out);
  return b;
}

bool is_copy_or_triad(std::string_view id) {
  return id.find("copy") != std::string_view::npos || id.find("triad") != std::string_view::npos;
}

BasisMetrics measured_basis(std::span<const Measurement> measurements) {
  BasisMetrics b;
  b.basis = Basis::measured;
  std::map<PeakType, TypeRate> best;
  const Measurement* best_mem = nullptr;
  bool have_copy_triad = false;
  for (const auto& m : measurements) {
    if (m.ok() && m.spec.unit == Unit::bytes_per_s && is_copy_or_triad(m.spec.id)) have_copy_triad = true;
  }
  for (const auto& m : measurements) {
    if (!m.ok() || !(m.stats.median > 0) || !std::isfinite(m.stats.median)) continue;
    if (m.spec.unit == Unit::ops_per_s && m.spec.kind == KernelClass::compute) {
      auto type = peak_type_from_dtype(m.spec.dtype);
      if (!type) continue;
      double tops = m.stats.median / 1e12;
      auto it = best.find(*type);
      if (it == best.end() || tops > it->second.tops) {
        int bits = bit_length(*type);
        best[*type] = TypeRate{*type, tops, bits, tops * bits,
                               fmt::format("kernel {} (median of {} samples)", m.spec.id, m.stats.samples.size()), m.spec.id,
                               std::nullopt};
      }
    } else if (m.spec.unit == Unit::bytes_per_s) {
      if (have_copy_triad && !is_copy_or_triad(m.spec.id)) continue;  // copy/triad are the DRAM figures
      if (!best_mem || m.stats.median > best_mem->stats.median) best_mem = &m;
    }
  }
  for (auto& [type, rate] : best) b.rates.push_back(rate);
  finish_tpp(b);
  if (best_mem) {
    b.total_dram_bw_gbs = best_mem->stats.median / 1e9;
    b.dram_note = fmt::format("best of {}: {} (median)", have_copy_triad ? "copy/triad" : "the memory kernels", best_mem->spec.id);
  } else {
    b.dram_note = "no memory kernel measured";
  }
  b.available = !b.rates.empty() || b.total_dram_bw_gbs.has_value();
  if (!b.available) b.unavailable_reason = "no successful measurement";
  else if (b.rates.empty()) b.note = "no compute kernel measured";
  else b.note = "sustained rates: a lower bound on the peak";
  return b;
}

void add_density(BasisMetrics& b, const DeviceMetrics& m, bool hbm) {
  if (b.tpp) {
    if (m.die_area_mm2 && *m.die_area_mm2 > 0) {
      b.pd = *b.tpp / *m.die_area_mm2;
      if (m.partial) b.pd_note = "partial device: visible TPP over the whole die's area";
    } else {
      b.pd_note = "die area unknown: PD not computed";
    }
  }
  if (b.total_dram_bw_gbs) {
    if (!hbm) b.hbm_note = "no HBM";
    else if (m.hbm_area_mm2 && *m.hbm_area_mm2 > 0) b.hbm_bw_density = *b.total_dram_bw_gbs / *m.hbm_area_mm2;
    else b.hbm_note = "HBM stack/package area unknown: HBM bandwidth density not computed";
  }
}

// The kernel(s) behind a basis's TPP, for flag texts: "fp64: fma.fp64".
std::string tpp_kernels(const BasisMetrics& b) {
  std::vector<std::string> parts;
  for (auto t : b.tpp_types) {
    for (const auto& r : b.rates) {
      if (r.type == t && !r.kernel.empty() && b.tpp && r.tpp >= *b.tpp * (1 - 1e-9)) parts.push_back(fmt::format("{}: {}", to_string(t), r.kernel));
    }
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

void add_flags(DeviceMetrics& m, std::span<const Measurement> measurements, bool cpu) {
  const auto& dec = m.declared;
  const auto& der = m.derived;
  const auto& mea = m.measured;
  if (m.partial) {
    m.flags.push_back({"partial", "info",
                       fmt::format("partial device: TPP of what is visible, not the whole chip's{}",
                                   m.partial_reason.empty() ? "" : " (" + m.partial_reason + ")"),
                       std::nullopt});
  }
  if (dec.tpp && der.tpp && *dec.tpp > 0) {
    double diff = *der.tpp / *dec.tpp - 1;
    if (std::abs(diff) > kDerivedTolerance) {
      m.flags.push_back({"derived_vs_declared", "warning",
                         fmt::format("derived TPP {} ({}) differs from declared {} by {}: a fused or throttled SKU, or "
                                     "another clock than the datasheet's",
                                     format_number(*der.tpp), der.note, format_number(*dec.tpp), format_percent(diff)),
                         diff});
    }
  }
  // Measurements above their own theoretical peak (the check every backend shares): the theoretical figures,
  // and a derived basis built from the same tables and clocks, are contradicted for this device.
  std::vector<const Measurement*> contradicted;
  for (const auto& x : measurements) {
    if (x.ok() && x.above_theoretical) {
      contradicted.push_back(&x);
      m.flags.push_back({"above_theoretical", "warning", fmt::format("{}: {}", x.spec.id, x.above_theoretical->message),
                         x.above_theoretical->ratio});
    }
  }
  const BasisMetrics* ref = dec.tpp && !m.partial ? &dec : (der.tpp ? &der : nullptr);
  if (mea.tpp && ref && *ref->tpp > 0) {
    m.efficiency = *mea.tpp / *ref->tpp;
    if (*mea.tpp > *ref->tpp && ref == &der && !contradicted.empty()) {
      // Not "the device does more than declared": the derived figure rests on a per-unit table and a clock that
      // a measurement has just contradicted.
      std::vector<std::string> ids;
      for (const auto* x : contradicted) ids.push_back(x->spec.id);
      m.flags.push_back({"measured_above_contradicted_derived", "warning",
                         fmt::format("measured TPP {} ({}) exceeds derived TPP {} by {}, but the derived basis rests on "
                                     "theoretical peaks a measurement contradicts ({} measured above theoretical): {}; "
                                     "not evidence that the device does more than its tables say",
                                     format_number(*mea.tpp), tpp_kernels(mea), format_number(*der.tpp),
                                     format_percent(*m.efficiency - 1), fmt::join(ids, ", "),
                                     cpu ? "the per-cycle table or the clock is wrong for this CPU"
                                         : "the per-unit rate table or the clock is wrong for this device"),
                         *m.efficiency});
    } else if (*mea.tpp > *ref->tpp) {
      m.flags.push_back({"measured_above_declared", "red",
                         fmt::format("measured TPP {} exceeds {} TPP {} by {}: the device does more than declared",
                                     format_number(*mea.tpp), to_string(ref->basis), format_number(*ref->tpp),
                                     format_percent(*m.efficiency - 1)),
                         *m.efficiency});
    } else {
      m.flags.push_back({"efficiency", "info",
                         fmt::format("measured/{} TPP: {:.0f}%", to_string(ref->basis), *m.efficiency * 100), *m.efficiency});
    }
  }
  if (mea.total_dram_bw_gbs && dec.total_dram_bw_gbs && !m.partial && *mea.total_dram_bw_gbs > *dec.total_dram_bw_gbs) {
    m.flags.push_back({"measured_above_declared", "red",
                       fmt::format("measured DRAM bandwidth {} GB/s exceeds the declared {} GB/s",
                                   format_number(*mea.total_dram_bw_gbs), format_number(*dec.total_dram_bw_gbs)),
                       *mea.total_dram_bw_gbs / *dec.total_dram_bw_gbs});
  }
  if (!m.chip) {
    m.flags.push_back({"not_in_database", "info",
                       "not in the chip database: no declared figures; die area unknown: PD not computed (give --die-area)",
                       std::nullopt});
  }
}

bool chip_has_hbm(const Chip* chip) {
  return chip && chip->memory_type.value && chip->memory_type.value->rfind("HBM", 0) == 0;
}

DeviceMetrics build(std::string id, std::string name, const Chip* chip, std::string chip_match, bool partial,
                    std::string partial_reason, std::optional<int> units, std::string_view unit_kind,
                    const Architecture* arch, std::span<const Measurement> measurements, bool measure, bool cpu,
                    const Overrides& ov) {
  DeviceMetrics m;
  m.device_id = std::move(id);
  m.device_name = std::move(name);
  m.chip = chip;
  m.chip_match = std::move(chip_match);
  m.partial = partial;
  m.partial_reason = std::move(partial_reason);

  if (ov.die_area_mm2) {
    m.die_area_mm2 = ov.die_area_mm2;
    m.die_area_source = "--die-area";
  } else if (chip && chip->die_area_mm2.value) {
    m.die_area_mm2 = chip->die_area_mm2.value;
    m.die_area_source = fmt::format("chip database ({})", chip->die_area_mm2.source);
  } else {
    m.die_area_source = chip ? chip->die_area_mm2.note : "not in the chip database";
  }
  if (ov.datacenter) {
    m.datacenter = ov.datacenter;
    m.datacenter_source = "--datacenter";
  } else if (chip && chip->datacenter.value) {
    m.datacenter = chip->datacenter.value;
    m.datacenter_source = fmt::format("chip database ({})", chip->datacenter.source);
  } else {
    m.datacenter_source = "unknown (give --datacenter yes|no)";
  }
  if (ov.io_bw_bidir_gbs) {
    m.io_bw_bidir_gbs = ov.io_bw_bidir_gbs;
    m.io_source = "given by the caller";
  } else if (chip && chip->io_bw_bidir_gbs.value) {
    m.io_bw_bidir_gbs = chip->io_bw_bidir_gbs.value;
    m.io_source = fmt::format("chip database ({})", chip->io_bw_bidir_gbs.source);
  } else {
    m.io_source = chip ? chip->io_bw_bidir_gbs.note : "not in the chip database";
  }
  if (chip && chip->interconnect_bw_gbs.value) {
    m.interconnect_bw_gbs = chip->interconnect_bw_gbs.value;
    m.interconnect_source = fmt::format("chip database ({}), declared: NVLink/xGMI bandwidth is not measured yet",
                                        chip->interconnect_bw_gbs.source);
  } else {
    m.interconnect_source = chip && !chip->interconnect_bw_gbs.note.empty() ? chip->interconnect_bw_gbs.note
                                                                             : "not in the chip database";
  }
  m.vector_processor = ov.vector_processor;
  if (ov.hbm_area_mm2) m.hbm_area_mm2 = ov.hbm_area_mm2;
  else if (chip && chip->hbm_area_mm2.value) m.hbm_area_mm2 = chip->hbm_area_mm2.value;

  m.declared = declared_basis(chip);
  if (partial && m.declared.available) m.declared.note += " (whole chip: not the visible part)";
  if (!arch && cpu) m.derived = cpu_derived_basis(measurements);
  else m.derived = derived_basis(chip, arch, units, unit_kind, ov, m.flags);
  if (measure) {
    m.measured = measured_basis(measurements);
  } else {
    m.measured.basis = Basis::measured;
    m.measured.unavailable_reason = "nothing measured (database entry only)";
  }
  bool hbm = chip_has_hbm(chip) || ov.hbm_area_mm2.has_value();
  for (BasisMetrics* b : {&m.declared, &m.derived, &m.measured}) add_density(*b, m, hbm);
  add_flags(m, measurements, cpu);
  return m;
}

}  // namespace

DeviceMetrics device_metrics(const DeviceInfo& info, std::span<const Measurement> measurements, const ChipDatabase& db,
                             const Overrides& overrides, const Chip* chip) {
  std::string match;
  if (chip) {
    match = "given";
  } else if (info.pci && info.pci->vendor_id != 0 && (chip = db.find_pci(*info.pci))) {
    match = fmt::format("pci {:04x}:{:04x}", info.pci->vendor_id, info.pci->device_id);
  } else if (!info.name.empty() && (chip = db.find_name(info.name))) {
    match = "name";
  }
  const Architecture* arch = nullptr;
  if (chip && !chip->architecture.empty()) arch = db.find_architecture(chip->architecture);
  if (!arch && !info.arch.empty()) arch = db.find_architecture_for_device_arch(info.arch);
  // The visible units (a MIG slice, a fused SKU as the driver reports it) when the device reports them.
  std::optional<int> units;
  std::string unit_kind;
  if (info.units > 0 && arch) {
    units = info.units;
    unit_kind = arch->unit_kind;
  } else if (chip && chip->units.value) {
    units = chip->units.value;
    unit_kind = chip->unit_kind;
  }
  return build(info.id, info.name, chip, match, info.partial, info.partial_reason, units, unit_kind, arch, measurements,
               true, info.kind == "cpu", overrides);
}

DeviceMetrics device_metrics(const report::DeviceReport& device, const ChipDatabase& db, const Overrides& overrides,
                             const Chip* chip) {
  return device_metrics(device.info, device.measurements, db, overrides, chip);
}

DeviceMetrics chip_metrics(const Chip& chip, const ChipDatabase& db, const Overrides& overrides) {
  const Architecture* arch = chip.architecture.empty() ? nullptr : db.find_architecture(chip.architecture);
  std::optional<int> units = chip.units.value;
  return build(chip.id, chip.display_name(), &chip, "given", false, {}, units, chip.unit_kind, arch, {}, false, false, overrides);
}

// ───────────────────────────── values for the rules ─────────────────────────────

namespace {

struct Pick {
  std::optional<double> value;
  std::string basis;
};

// Declared (whole chip: not for a partial device), else derived, else measured; measured wins where higher.
Pick pick(const DeviceMetrics& m, std::optional<double> BasisMetrics::*field) {
  Pick p;
  const std::optional<double>& dec = m.declared.*field;
  const std::optional<double>& der = m.derived.*field;
  const std::optional<double>& mea = m.measured.*field;
  if (!m.partial && dec) p = {dec, "declared"};
  else if (der) p = {der, "derived"};
  if (mea) {
    if (!p.value) p = {mea, "measured (sustained: a lower bound)"};
    else if (*mea > *p.value) p = {mea, fmt::format("measured (above {})", p.basis)};
  }
  return p;
}

void common_values(MetricValues& v, const DeviceMetrics& m) {
  if (m.io_bw_bidir_gbs) v["io_bw_bidir"] = {m.io_bw_bidir_gbs, std::nullopt, m.io_source, false};
  if (m.interconnect_bw_gbs) v["interconnect_bw"] = {m.interconnect_bw_gbs, std::nullopt, m.interconnect_source, false};
  if (m.datacenter) v["datacenter"] = {std::nullopt, m.datacenter, m.datacenter_source, false};
  if (m.vector_processor) v["vector_processor"] = {std::nullopt, m.vector_processor, "--vector-processor", false};
  // Every device probe measures, and every chip in the database, is a processor: its main function is logic.
  v["main_function_logic"] = {std::nullopt, true, "device kind (processor)", false};
}

}  // namespace

MetricValues assessed_values(const DeviceMetrics& m) {
  MetricValues v;
  Pick tpp = pick(m, &BasisMetrics::tpp);
  if (tpp.value) {
    v["tpp"] = {tpp.value, std::nullopt, tpp.basis, false};
    if (m.die_area_mm2 && *m.die_area_mm2 > 0) {
      v["pd"] = {*tpp.value / *m.die_area_mm2, std::nullopt, fmt::format("{} TPP / die area from {}", tpp.basis, m.die_area_source), false};
    }
  }
  Pick bw = pick(m, &BasisMetrics::total_dram_bw_gbs);
  if (bw.value) {
    v["total_dram_bw"] = {bw.value, std::nullopt, bw.basis, false};
    if (m.hbm_area_mm2 && *m.hbm_area_mm2 > 0) {
      v["hbm_bw_density"] = {*bw.value / *m.hbm_area_mm2, std::nullopt, bw.basis + " bandwidth / HBM area", false};
    }
  }
  for (auto [name, field] : {std::pair{"fp64_peak", &BasisMetrics::fp64_tflops}, std::pair{"fp32_peak", &BasisMetrics::fp32_tflops}}) {
    Pick p = pick(m, field);
    if (p.value) v[name] = {p.value, std::nullopt, p.basis, false};
  }
  common_values(v, m);
  if (bw.value && m.interconnect_bw_gbs) {
    v["dram_plus_interconnect_bw"] = {*bw.value + *m.interconnect_bw_gbs, std::nullopt,
                                      fmt::format("{} DRAM bandwidth + interconnect from {}", bw.basis, m.interconnect_source), false};
  }
  return v;
}

MetricValues basis_values(const DeviceMetrics& m, Basis basis) {
  const BasisMetrics& b = basis == Basis::declared ? m.declared : basis == Basis::derived ? m.derived : m.measured;
  MetricValues v;
  std::string name(to_string(basis));
  if (b.tpp) v["tpp"] = {b.tpp, std::nullopt, name, false};
  if (b.pd) v["pd"] = {b.pd, std::nullopt, name, false};
  if (b.total_dram_bw_gbs) v["total_dram_bw"] = {b.total_dram_bw_gbs, std::nullopt, name, false};
  if (b.hbm_bw_density) v["hbm_bw_density"] = {b.hbm_bw_density, std::nullopt, name, false};
  if (b.fp64_tflops) v["fp64_peak"] = {b.fp64_tflops, std::nullopt, name, false};
  if (b.fp32_tflops) v["fp32_peak"] = {b.fp32_tflops, std::nullopt, name, false};
  common_values(v, m);
  if (b.total_dram_bw_gbs && m.interconnect_bw_gbs) {
    v["dram_plus_interconnect_bw"] = {*b.total_dram_bw_gbs + *m.interconnect_bw_gbs, std::nullopt, name + " + interconnect", false};
  }
  return v;
}

}  // namespace probe::rules
