#!/usr/bin/env python3
"""The short table of bench/gpu/validate.sh, from a probe report JSON alone (probe --report --json FILE).

Per device: measured vs declared vs derived per data type (control.metrics.bases.*.rates, in TOPS), TPP and DRAM
bandwidth on the three bases, then every kernel (status, median, theoretical, clock, power, notes) and the
verdicts (control.verdicts). Declared and derived figures are the chip database's, present when the report matched
the device to a chip.

Usage: summary.py REPORT.json [--backend cuda|all]
"""
import argparse
import json
import sys

BASES = ("measured", "declared", "derived")


def si(v, unit):
    if v is None:
        return ""
    for p, s in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M")):
        if abs(v) >= p:
            return f"{v / p:.2f} {s}{unit}"
    return f"{v:.2f} {unit}"


def num(v, fmt="{:.1f}"):
    return "" if v is None else fmt.format(v)


def pct(a, b):
    return f"{100 * a / b:.0f}%" if (a is not None and b) else ""


def pairs(v):
    """properties / notes: a list of {key, value} (the report's form), of [key, value], or a dict."""
    if isinstance(v, dict):
        return list(v.items())
    out = []
    for e in v or []:
        if isinstance(e, dict):
            out.append((e.get("key"), e.get("value")))
        elif isinstance(e, (list, tuple)) and len(e) == 2:
            out.append((e[0], e[1]))
    return out


def table(rows, header):
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    def line(r):  # numbers right-aligned, text left-aligned
        cells = []
        for c, w in zip(r, widths):
            c = str(c)
            numeric = c[:1].isdigit() or (c[:1] == "-" and c[1:2].isdigit())
            cells.append(c.rjust(w) if numeric else c.ljust(w))
        return ("  " + "  ".join(cells)).rstrip()
    return "\n".join([line(header), "  " + "  ".join("-" * w for w in widths)] + [line(r) for r in rows])


def device_summary(dev):
    out = []
    control = dev.get("control") or {}
    metrics = control.get("metrics") or {}
    bases = metrics.get("bases") or {}
    chip = metrics.get("chip")
    out.append(f"{dev.get('id')}  {dev.get('name')}  ({dev.get('arch')}, {dev.get('units')} {dev.get('unit_name', 'units')})"
               + ("  PARTIAL: " + str(dev.get("partial_reason")) if dev.get("partial") else ""))
    out.append("  chip database: " + (f"{chip.get('name')} ({chip.get('id')}, match: {chip.get('match')})" if chip else
                                      "no match (declared and derived figures unavailable)"))
    props = dict(pairs(dev.get("properties")))
    for k in ("compute_capability", "sm_clock_max", "sm_clock_max_nvml", "memory_bandwidth_theoretical", "power_limit",
              "ecc", "mig_mode", "driver_version", "nvml"):
        if k in props:
            out.append(f"  {k:30} {props[k]}")

    # Per data type, three bases.
    rates = {b: {r.get("type"): r for r in (bases.get(b) or {}).get("rates") or []} for b in BASES}
    types = []
    for b in BASES:
        for t in rates[b]:
            if t not in types:
                types.append(t)
    rows = []
    for t in types:
        m, d, v = (rates[b].get(t, {}).get("tops") for b in BASES)
        rows.append([t, num(m, "{:.2f}"), num(d, "{:.2f}"), num(v, "{:.2f}"), pct(m, d), pct(m, v),
                     rates["measured"].get(t, {}).get("from", "")])
    tpp = [(bases.get(b) or {}).get("tpp") for b in BASES]
    rows.append(["TPP", num(tpp[0], "{:.0f}"), num(tpp[1], "{:.0f}"), num(tpp[2], "{:.0f}"), pct(tpp[0], tpp[1]),
                 pct(tpp[0], tpp[2]), "set by " + ", ".join((bases.get("measured") or {}).get("tpp_set_by") or [])])
    bw = [(bases.get(b) or {}).get("total_dram_bw_gbs") for b in BASES]
    rows.append(["DRAM GB/s", num(bw[0], "{:.0f}"), num(bw[1], "{:.0f}"), num(bw[2], "{:.0f}"), pct(bw[0], bw[1]),
                 pct(bw[0], bw[2]), (bases.get("measured") or {}).get("dram_note") or ""])
    out.append("")
    out.append(table(rows, ["type", "measured TOPS", "declared", "derived", "meas/decl", "meas/deriv", "measured by"]))
    for b in ("declared", "derived"):
        info = bases.get(b) or {}
        if not info.get("available"):
            out.append(f"  {b}: unavailable ({info.get('unavailable_reason')})")
        elif info.get("clock_mhz"):
            out.append(f"  {b} at {info['clock_mhz']:.0f} MHz ({info.get('clock_note')})")

    # Kernels.
    rows = []
    clocks, powers = [], []
    for m in dev.get("measurements", []):
        k = m.get("kernel") or m.get("spec") or {}
        unit = "B/s" if k.get("unit") in ("B/s", "bytes/s", "bytes_per_s") else "OP/s"
        st = m.get("status", "?")
        med = (m.get("stats") or {}).get("median")
        th = m.get("theoretical")
        cond = m.get("conditions") or {}
        notes = dict(pairs(cond.get("notes")))
        clock = cond.get("clock_hz") or 0
        if st == "ok" and clock:
            clocks.append(clock)
        power = notes.get("power_w", "")
        if power:
            powers.append(power)
        flags = "; ".join(f"{n}: {notes[n]}" for n in ("throttling", "power_at_limit", "lower_bound", "library") if n in notes)
        shown = si(med, unit) if st == "ok" else str(m.get("reason", ""))[:70]
        rows.append([k.get("id", "?"), st, shown, si(th, unit), pct(med, th) if st == "ok" else "",
                     f"{clock / 1e6:.0f}" if (st == "ok" and clock) else "", power, flags])
    out.append("")
    out.append(table(rows, ["kernel", "status", "median", "theoretical", "%", "clock MHz", "power W (mean, max)", "notes"]))
    if clocks:
        out.append(f"  clock during the measurements: {min(clocks) / 1e6:.0f}–{max(clocks) / 1e6:.0f} MHz (means per kernel)")

    # The sustained phase (probe --sustain / --thorough): the figure over it, the clock trace, the throttle reasons.
    # "% peak": against the backend's peak at the phase's clock (FMA, memory); "% derived@clk": against the chip
    # database's derived rate for the data type rescaled from its clock to the phase's median SM clock (the tensor
    # kernels' peak at the clock measured during the kernel).
    derived = bases.get("derived") or {}
    dclock = (derived.get("clock_mhz") or 0) * 1e6
    drates = {r.get("type"): r.get("tops") for r in derived.get("rates") or []} if derived.get("available") else {}
    rows = []
    for m in dev.get("measurements", []):
        p = m.get("sustained")
        if not p:
            continue
        k = m.get("kernel") or m.get("spec") or {}
        unit = "B/s" if k.get("unit") in ("B/s", "bytes/s", "bytes_per_s") else "OP/s"
        c, mc, pw = p.get("core_clock_hz") or {}, p.get("memory_clock_hz") or {}, p.get("power_w") or {}
        clk = (f"{c['min'] / 1e6:.0f}/{c['median'] / 1e6:.0f}/{c['max'] / 1e6:.0f}" if c.get("samples") else "")
        dtype = str(k.get("dtype", ""))
        dtype = "fp8" if dtype.startswith("fp8") else dtype
        at_clk = (drates[dtype] * 1e12 * c["median"] / dclock if (dtype in drates and drates[dtype] and dclock
                                                                  and c.get("samples") and unit == "OP/s") else None)
        rows.append([k.get("id", "?"), si(p.get("value"), unit), pct(p.get("value"), p.get("theoretical")),
                     pct(p.get("value"), at_clk),
                     f"{p.get('kernel_s', 0):.1f}", "yes" if p.get("verified_after") else "NO", clk,
                     f"{mc['median'] / 1e6:.0f}" if mc.get("samples") else "",
                     f"{pw['median']:.0f}/{pw['max']:.0f}" if pw.get("samples") else "",
                     ", ".join(p.get("throttled_by") or []) or "no", ", ".join(p.get("clock_event_reasons") or [])])
    if rows:
        out.append("")
        out.append(table(rows, ["sustained", "value", "% peak", "% derived@clk", "s", "verified", "SM MHz min/med/max",
                                "mem MHz",
                                "power W med/max", "throttled by", "clock events"]))

    verdicts = control.get("verdicts") or []
    if verdicts:
        out.append("")
        out.append(table([[v.get("ruleset", ""), v.get("classification", ""), v.get("outcome", ""), v.get("status", "")]
                          for v in verdicts], ["ruleset", "classification", "outcome", "status"]))
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("report")
    ap.add_argument("--backend", default="cuda", help="devices of this backend (default cuda); 'all' for every device")
    a = ap.parse_args()
    with open(a.report) as f:
        rep = json.load(f)
    devs = [d for d in rep.get("devices", []) if a.backend == "all" or d.get("backend") == a.backend]
    tool = rep.get("tool") or {}
    print(f"probe report {a.report}: {tool.get('version', '') if isinstance(tool, dict) else tool}, budget "
          f"{rep.get('budget')}, {rep.get('started_at')} – {rep.get('finished_at')}")
    if not devs:
        print(f"no {a.backend} device in the report")
        for b in rep.get("backends", []):
            if a.backend in ("all", b.get("name")):
                print(f"  backend {b.get('name')}: {'available' if b.get('available') else 'unavailable: ' + str(b.get('reason'))}")
        return 1
    for d in devs:
        print()
        print(device_summary(d))
    return 0


if __name__ == "__main__":
    sys.exit(main())
