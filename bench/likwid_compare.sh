#!/usr/bin/env bash
# Runs likwid-bench beside probe in one run, on the same cores, and prints the ratios the CPU targets are
# stated in: probe FP64/FP32 FMA vs peakflops_avx512_fma / peakflops_sp_avx512_fma, probe's best
# non-temporal triad and copy vs stream_mem_avx512 / copy_mem_avx512, and BF16/INT8 as % of theoretical.
#
# Usage: bench/likwid_compare.sh [PROBE_EXE] [--thorough]
#   PROBE_EXE defaults to build/release/bin/probe (then build/ci/bin/probe).
# Needs: likwid (scripts/install-deps.sh --bench), python3. Prints a table; exits 2 if a tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

probe=""
budget=""
for a in "$@"; do
  case "$a" in
    --thorough|--quick) budget="$a" ;;
    *) probe="$a" ;;
  esac
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

# likwid-bench TEST WORKSET KEY -> the best of three runs of its "KEY:" line (MFlops/s or MByte/s). Best of
# three favours likwid, so a ratio >= 1 is not an artefact of one unlucky likwid run.
lw() {
  local best=0 v
  for _ in 1 2 3; do
    likwid-bench -t "$1" -W "N:$2:$cores" > "$tmp/$1.txt" 2>&1 || { echo "likwid-bench $1 failed:" >&2; cat "$tmp/$1.txt" >&2; return 1; }
    v=$(awk -F: -v key="$3" '$1 == key {gsub(/[ \t]/, "", $2); print $2; exit}' "$tmp/$1.txt")
    best=$(python3 -c "print(max(float('$best'), float('${v:-0}')))")
  done
  echo "$best"
}

echo "probe: $("$probe" --version), $cores cores, budget ${budget:-default}" >&2
"$probe" --report $budget --no-plugins --no-progress --json "$tmp/probe.json" \
  --kernels 'fma.fp64,fma.fp32,dot.bf16,dot.int8,mem.copy.nt,mem.triad.nt,mem.copy,mem.triad' > "$tmp/probe.txt"
dp=$(lw peakflops_avx512_fma 32kB MFlops/s)
sp=$(lw peakflops_sp_avx512_fma 32kB MFlops/s)
stream=$(lw stream_mem_avx512 2GB MByte/s)
copy=$(lw copy_mem_avx512 2GB MByte/s)

python3 - "$tmp/probe.json" "$dp" "$sp" "$stream" "$copy" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
lw_dp, lw_sp, lw_stream, lw_copy = (float(x) * 1e6 for x in sys.argv[2:6])
ms = {m["kernel"]["id"]: m for d in rep["devices"] if d["backend"] == "cpu" for m in d["measurements"]}

def val(k):
    m = ms.get(k)
    return m["value"] if m and m["status"] == "ok" else None

def best(k):
    m = ms.get(k)
    return m["stats"]["max"] if m and m["status"] == "ok" else None

def row(name, ref, unit, scale):
    k = name.split()[0]
    p, b = val(k), best(k)
    if p is None:
        print(f"{name:<40}{'not measured':>14}")
        return
    pct = ""
    m = ms.get(k)
    if m and m.get("theoretical"):
        pct = f"{100 * p / m['theoretical']:.1f}% / {100 * b / m['theoretical']:.1f}% of theoretical"
    ratio = f"{p / ref:.3f}x / {b / ref:.3f}x" if ref else ""
    lw = f"{ref / scale:.1f}" if ref else "-"
    print(f"{name:<40}{p / scale:>9.1f} {b / scale:>9.1f} {unit:<8}{lw:>9} {ratio:>18}  {pct}")

clk = next((m["conditions"]["clock_hz"] for m in ms.values() if m["status"] == "ok"), 0)
print(f"measured core clock {clk / 1e9:.3f} GHz; likwid figures from the same cores in the same run")
print("probe: median and best sample; likwid: best of three runs; ratios median/best vs likwid")
print(f"{'kernel':<40}{'median':>9} {'best':>9} {'unit':<8}{'likwid':>9} {'ratio':>18}")
row("fma.fp64 (vs peakflops_avx512_fma)", lw_dp, "GFLOP/s", 1e9)
row("fma.fp32 (vs peakflops_sp_avx512_fma)", lw_sp, "GFLOP/s", 1e9)
row("dot.bf16", 0, "GFLOP/s", 1e9)
row("dot.int8", 0, "GOP/s", 1e9)
row("mem.triad.nt (vs stream_mem_avx512)", lw_stream, "GB/s", 1e9)
row("mem.copy.nt (vs copy_mem_avx512)", lw_copy, "GB/s", 1e9)
row("mem.triad (regular stores; vs stream_mem_avx512)", lw_stream, "GB/s", 1e9)
row("mem.copy (regular stores; vs copy_mem_avx512)", lw_copy, "GB/s", 1e9)
PY
