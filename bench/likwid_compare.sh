#!/usr/bin/env bash
# Runs likwid-bench beside probe on the same cores and prints the ratios the CPU targets are stated in:
# probe FP64/FP32 FMA vs peakflops_avx512_fma / peakflops_sp_avx512_fma, probe's non-temporal triad and copy vs
# stream_mem_avx512 / copy_mem_avx512, and BF16/INT8 as % of probe's theoretical peak at the measured clock.
#
# Memory bandwidth on a shared or virtualised node drifts by tens of percent over minutes, so the comparison is
# made in rounds: each round runs probe and then likwid back to back, a ratio is taken per round, and the median
# of the per-round ratios is the result (every round is printed too).
#
# Usage: bench/likwid_compare.sh [PROBE_EXE] [--rounds N] [--quick|--thorough]
#   PROBE_EXE defaults to build/release/bin/probe (then build/ci/bin/probe); 3 rounds by default.
# Needs: likwid (scripts/install-deps.sh --bench), python3. Exits 2 if a tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

probe=""
budget=""
rounds=3
while [ $# -gt 0 ]; do
  case "$1" in
    --thorough|--quick) budget="$1" ;;
    --rounds) rounds="$2"; shift ;;
    *) probe="$1" ;;
  esac
  shift
done
if [ -z "$probe" ]; then
  for c in build/release/bin/probe build/ci/bin/probe; do [ -x "$c" ] && probe="$c" && break; done
fi
[ -n "$probe" ] && [ -x "$probe" ] || { echo "likwid_compare: no probe executable (build it, or pass its path)" >&2; exit 2; }
command -v likwid-bench >/dev/null || { echo "likwid_compare: likwid-bench missing: scripts/install-deps.sh --bench" >&2; exit 2; }

cores=$(lscpu -p=CORE 2>/dev/null | grep -v '^#' | sort -u | wc -l)
[ "$cores" -ge 1 ] || cores=$(nproc)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# likwid-bench TEST WORKSET KEY -> the figure of its "KEY:" line (MFlops/s or MByte/s), as a number.
lw() {
  likwid-bench -t "$1" -W "N:$2:$cores" > "$tmp/lw.txt" 2>&1 || { echo "likwid-bench $1 failed:" >&2; cat "$tmp/lw.txt" >&2; return 1; }
  awk -F: -v key="$3" '$1 == key {gsub(/[ \t]/, "", $2); print $2; exit}' "$tmp/lw.txt"
}

echo "probe: $("$probe" --version), $cores cores, budget ${budget:-default}, $rounds rounds" >&2
for r in $(seq 1 "$rounds"); do
  "$probe" --report $budget --no-plugins --no-progress --json "$tmp/probe$r.json" \
    --kernels 'fma.fp64,fma.fp32,dot.bf16,dot.int8,mem.copy.nt,mem.triad.nt,mem.copy,mem.triad' > /dev/null
  {
    echo "dp $(lw peakflops_avx512_fma 32kB MFlops/s)"
    echo "sp $(lw peakflops_sp_avx512_fma 32kB MFlops/s)"
    echo "stream $(lw stream_mem_avx512 2GB MByte/s)"
    echo "copy $(lw copy_mem_avx512 2GB MByte/s)"
  } > "$tmp/likwid$r.txt"
done

python3 - "$tmp" "$rounds" <<'PY'
import json, statistics, sys
tmp, rounds = sys.argv[1], int(sys.argv[2])
pairs = [("fma.fp64", "dp", "GFLOP/s"), ("fma.fp32", "sp", "GFLOP/s"), ("dot.bf16", None, "GFLOP/s"),
         ("dot.int8", None, "GOP/s"), ("mem.triad.nt", "stream", "GB/s"), ("mem.copy.nt", "copy", "GB/s"),
         ("mem.triad", "stream", "GB/s"), ("mem.copy", "copy", "GB/s")]
runs = []
for r in range(1, rounds + 1):
    rep = json.load(open(f"{tmp}/probe{r}.json"))
    ms = {m["kernel"]["id"]: m for d in rep["devices"] if d["backend"] == "cpu" for m in d["measurements"]}
    lw = {k: float(v) * 1e6 for k, v in (l.split() for l in open(f"{tmp}/likwid{r}.txt"))}
    runs.append((ms, lw))

print("per round: probe median | likwid | probe/likwid | probe % of theoretical at the measured clock")
print(f"{'kernel':<14}{'likwid test':<26}" + "".join(f"{'round ' + str(r + 1):>34}" for r in range(rounds)) +
      f"{'median ratio':>14}{'median %peak':>14}")
for kid, lwkey, unit in pairs:
    cells, ratios, pcts = [], [], []
    for ms, lw in runs:
        m = ms.get(kid)
        if not m or m["status"] != "ok":
            cells.append(f"{'not measured':>34}")
            continue
        v = m["value"]
        cell = f"{v / 1e9:8.1f}"
        if lwkey:
            ratio = v / lw[lwkey]
            ratios.append(ratio)
            cell += f" |{lw[lwkey] / 1e9:7.1f} |{ratio:6.3f}x"
        else:
            cell += f" |{'-':>7} |{'-':>7}"
        if m.get("theoretical"):
            pct = 100 * v / m["theoretical"]
            pcts.append(pct)
            cell += f" |{pct:5.1f}%"
        else:
            cell += f" |{'-':>6}"
        cells.append(f"{cell:>34}")
    name = {"dp": "peakflops_avx512_fma", "sp": "peakflops_sp_avx512_fma", "stream": "stream_mem_avx512",
            "copy": "copy_mem_avx512", None: "-"}[lwkey]
    med_ratio = f"{statistics.median(ratios):.3f}x" if ratios else "-"
    med_pct = f"{statistics.median(pcts):.1f}%" if pcts else "-"
    print(f"{kid:<14}{name:<26}" + "".join(cells) + f"{med_ratio:>14}{med_pct:>14}  ({unit})")
clk = [m["conditions"]["clock_hz"] for ms, _ in runs for m in ms.values() if m["status"] == "ok" and m["conditions"]["clock_hz"]]
print(f"measured core clock {min(clk) / 1e9:.3f}-{max(clk) / 1e9:.3f} GHz; mem.triad/mem.copy use regular stores "
      "(compared with likwid's non-temporal kernels for reference only)")
PY
