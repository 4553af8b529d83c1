#!/usr/bin/env python3
"""bench/gpu/validate.sh --from-report: the summary table from a report JSON alone, on a synthetic H200 report in the
report's real shape (devices[].kernel/conditions.notes as {key, value}, control.metrics.bases, control.verdicts).
Checks measured vs declared vs derived per type, TPP, DRAM bandwidth, kernels with clock/power/notes, verdicts, and
the no-python3 path (the raw report's path is printed)."""
import json
import os
import subprocess
import sys
import tempfile

validate = sys.argv[1]


def rate(t, tops, bits, frm):
    return {"type": t, "tops": tops, "bits": bits, "tpp": tops * bits, "from": frm}


def basis(avail, rates, tpp, bw, **kw):
    b = {"available": avail, "unavailable_reason": None if avail else "n/a", "tpp": tpp, "tpp_set_by": ["fp8"] if tpp else [],
         "pd": None, "pd_note": None, "hbm_bw_density": None, "hbm_note": None, "total_dram_bw_gbs": bw,
         "dram_note": kw.get("dram_note"), "clock_mhz": kw.get("clock_mhz"), "clock_note": kw.get("clock_note"),
         "note": None, "rates": rates}
    return b


def meas(kid, dtype, unit, status, median=None, theo=None, clock=None, notes=(), reason=""):
    return {"kernel": {"id": kid, "title": kid, "dtype": dtype, "unit": unit, "class": "compute" if unit == "ops/s" else "memory",
                       "counting": "", "bit_length": 16},
            "status": status, "reason": reason, "variant": "", "value": median,
            "stats": {"median": median, "count": 5} if median else {},
            "conditions": {"clock_hz": clock or 0, "notes": [{"key": k, "value": v} for k, v in notes]},
            "theoretical": theo, "theoretical_basis": "", "derived": []}


def trace(lo, med, hi, n=500):
    return {"samples": n, "min": lo, "median": med, "max": hi}


report = {
    "tool": {"name": "probe", "version": "0.1.0"}, "budget": "default",
    "started_at": "2026-11-25T00:00:00.000Z", "finished_at": "2026-11-25T00:00:48.000Z",
    "backends": [{"name": "cuda", "available": True}],
    "devices": [{
        "id": "cuda0", "backend": "cuda", "kind": "gpu", "name": "NVIDIA H200", "arch": "sm_90", "units": 132,
        "unit_name": "SMs", "partial": False, "partial_reason": None,
        "properties": [{"key": "compute_capability", "value": "9.0"}, {"key": "power_limit", "value": "700 W"},
                       {"key": "memory_bandwidth_theoretical", "value": "4800.0 GB/s (…)"}],
        "measurements": [
            meas("wgmma.bf16", "bf16", "ops/s", "ok", 812.3e12, None, 1.755e9, [("power_w", "mean 655, max 699")]),
            meas("library.bf16.cublaslt", "bf16", "ops/s", "ok", 702.0e12, None, 1.70e9,
                 [("power_w", "mean 640, max 690"), ("library", "cuBLASLt 13.0.0 (libcublasLt.so.13)")]),
            meas("wgmma.fp8_e4m3", "fp8_e4m3", "ops/s", "ok", 1650.0e12, None, 1.62e9,
                 [("power_w", "mean 698, max 700"), ("power_at_limit", "700 W of a 700 W limit"),
                  ("throttling", "SM clock 1620 MHz mean, 82% of the 1980 MHz maximum")]),
            meas("mma.fp8_e4m3", "fp8_e4m3", "ops/s", "skipped", reason="FP8 mma.sync is native only on sm_89 and sm_120/121"),
            meas("mem.copy", "none", "B/s", "ok", 4.41e12, 4.8e12, 1.98e9),
        ],
        "control": {
            "metrics": {
                "chip": {"id": "h200-sxm-141gb", "vendor": "NVIDIA", "name": "H200 SXM", "match": "pci"},
                "bases": {
                    "measured": basis(True, [rate("bf16", 812.3, 16, "kernel wgmma.bf16 (median of 5 samples)"),
                                             rate("fp8", 1650.0, 8, "kernel wgmma.fp8_e4m3 (median of 5 samples)")],
                                      13200.0, 4410.0, dram_note="best of copy/triad: mem.copy (median)"),
                    "declared": basis(True, [rate("bf16", 989.4, 16, "datasheet"), rate("fp8", 1978.9, 8, "datasheet"),
                                             rate("fp64", 33.5, 64, "datasheet")], 15832.0, 4800.0),
                    "derived": basis(True, [rate("bf16", 989.4, 16, "132 SM × 4096 /clk × 1830 MHz"),
                                            rate("fp8", 1978.8, 8, "132 SM × 8192 /clk × 1830 MHz")], 15830.9, None,
                                     clock_mhz=1830.0, clock_note="datasheet tensor-peak clock"),
                },
            },
            "verdicts": [{"ruleset": "us-2023-10-acr", "classification": "3A090.a", "outcome": "matched", "status": "in force"}],
        },
    }],
}

# The sustained phase of wgmma.bf16 (probe --sustain): its own table, the throttle reasons that count vs all seen.
report["devices"][0]["measurements"][0]["sustained"] = {
    "requested_s": 10, "kernel_s": 9.98, "wall_s": 10.0, "launches": 499, "value": 801.0e12, "theoretical": 967.4e12,
    "verified_after": True,
    "sensors": "NVML every 20 ms on a sampler thread", "sample_rate_hz": 49.5,
    "core_clock_hz": trace(1.755e9, 1.785e9, 1.815e9), "memory_clock_hz": trace(2.619e9, 2.619e9, 2.619e9),
    "power_w": trace(650, 690, 700), "temperature_c": trace(55, 61, 64),
    "clock_event_reasons": ["GPU idle", "software power cap"], "throttled_by": []}

with tempfile.TemporaryDirectory() as tmp:
    path = os.path.join(tmp, "report.json")
    json.dump(report, open(path, "w"))
    r = subprocess.run([validate, "--from-report", path], capture_output=True, text=True, timeout=60)
    print(r.stdout)
    print(r.stderr, file=sys.stderr)
    if r.returncode != 0:
        sys.exit(f"validate.sh --from-report exited {r.returncode}")
    lines = r.stdout.splitlines()

    def row(first):
        found = [l.split() for l in lines if l.split()[:1] == [first]]
        if not found:
            sys.exit(f"no table row starting with {first!r}")
        return found[0]

    problems = []
    want = {"bf16": ["812.30", "989.40", "989.40", "82%", "82%"], "fp8": ["1650.00", "1978.90", "1978.80", "83%", "83%"],
            "fp64": ["33.50"], "TPP": ["13200", "15832", "15831", "83%", "83%"]}
    for t, cells in want.items():
        got = row(t)[1:1 + len(cells)]
        if got != cells:
            problems.append(f"row {t}: {got}, expected {cells}")
    sus = [l.split() for l in lines if l.split()[:2] == ["wgmma.bf16", "801.00"]]
    # derived bf16 989.4 TOPS at 1830 MHz -> 965.1 at the phase's 1785 MHz: 801 / 965.1 = 83%
    if not sus or sus[0][3:9] != ["83%", "83%", "10.0", "yes", "1755/1785/1815", "2619"] or sus[0][10] != "no":
        problems.append(f"sustained row {sus}")
    bw = row("DRAM")  # "DRAM GB/s 4410 4800  92% ..."
    if bw[2:5] != ["4410", "4800", "92%"]:
        problems.append(f"DRAM row {bw}")
    text = r.stdout
    for s in ["NVIDIA H200", "H200 SXM (h200-sxm-141gb, match: pci)", "derived at 1830 MHz", "812.30 TOP/s",
              "4.41 TB/s", "4.80 TB/s", "92%", "1755", "mean 655, max 699", "power_at_limit: 700 W of a 700 W limit",
              "throttling: SM clock 1620 MHz", "library: cuBLASLt 13.0.0", "skipped", "FP8 mma.sync is native only",
              "clock during the measurements: 1620–1980 MHz", "us-2023-10-acr", "3A090.a", "700 W",
              "sustained", "801.00 TOP/s", "1755/1785/1815", "2619", "690/700", "GPU idle, software power cap"]:
        if s not in text:
            problems.append(f"missing {s!r}")
    # Without python3: the raw report's path, exit 0.
    env = dict(os.environ, PROBE_PYTHON3="/nonexistent/python3")
    r2 = subprocess.run([validate, "--from-report", path], capture_output=True, text=True, timeout=60, env=env)
    if r2.returncode != 0 or f"the raw report is {path}" not in r2.stdout or "python3 not found" not in r2.stdout:
        problems.append(f"no-python3 path: rc {r2.returncode}, {r2.stdout!r}")
    # A report without the backend: says so, non-zero.
    r3 = subprocess.run([validate, "--from-report", path, "--backend", "hip"], capture_output=True, text=True, timeout=60)
    if r3.returncode == 0 or "no hip device in the report" not in r3.stdout:
        problems.append(f"--backend hip: rc {r3.returncode}, {r3.stdout!r}")
if problems:
    sys.exit("\n".join(problems))
print("ok: summary table from the report JSON alone")
