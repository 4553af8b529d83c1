#!/usr/bin/env bash
# On a GPU node: use (or unpack, or build) the portable bundle, run the full suite, and write the JSON report and a
# short table under bench/results/<device>_<date>/. Declared and derived figures come from the chip database
# (`probe classify`, data/chips.json) when this build has it; otherwise the table has measured and theoretical only.
#
# Usage: bench/gpu/validate.sh [--bundle DIR|TARBALL] [--budget quick|default|thorough] [--out DIR]
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bundle=""
budget=""
outroot="$here/bench/results"
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --out) outroot=$2; shift 2 ;;
    -h|--help) sed -n '2,7p' "$0"; exit 0 ;;
    *) echo "validate.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ -z "$bundle" ]; then
  bundle=$("$here/scripts/bundle.sh" | head -1)
elif [ -f "$bundle" ]; then
  tmp=$(mktemp -d)
  tar -C "$tmp" -xzf "$bundle"
  bundle=$(echo "$tmp"/probe-*)
fi
probe="$bundle/bin/probe"
[ -x "$probe" ] || { echo "no probe in $bundle" >&2; exit 1; }

device=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | tr ' /' '__' || true)
[ -n "$device" ] || device=unknown-gpu
dest="$outroot/${device}_$(date -u +%Y-%m-%d)"
mkdir -p "$dest"
flags=(--report --json "$dest/report.json")
case "$budget" in quick) flags+=(--quick) ;; thorough) flags+=(--thorough) ;; esac
"$probe" "${flags[@]}" > "$dest/report.txt" 2> "$dest/stderr.txt" || echo "probe exited $? (see report.txt)" | tee -a "$dest/stderr.txt"
nvidia-smi -q > "$dest/nvidia-smi.txt" 2>/dev/null || true
# The chip database's view (declared/derived), when this build has `probe classify`.
"$probe" classify --report-file "$dest/report.json" > "$dest/classify.txt" 2>&1 || true

python3 - "$dest/report.json" "$dest/classify.txt" > "$dest/summary.txt" <<'PY'
import json, sys
rep = json.load(open(sys.argv[1]))
try:
    classify = open(sys.argv[2]).read()
except OSError:
    classify = ""
def si(v, unit):
    for p, s in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M")):
        if v >= p:
            return f"{v / p:8.2f} {s}{unit}"
    return f"{v:8.2f} {unit}"
for dev in rep.get("devices", []):
    if dev.get("backend") != "cuda":
        continue
    print(f"{dev.get('id')}  {dev.get('name')}  ({dev.get('arch')}, {dev.get('units')} SMs)")
    for k, v in dev.get("properties", []) if isinstance(dev.get("properties"), list) else dev.get("properties", {}).items():
        if k in ("power_limit", "sm_clock_max_nvml", "memory_bandwidth_theoretical", "mig_mode", "ecc"):
            print(f"  {k:30} {v}")
    print(f"  {'kernel':18} {'status':8} {'measured':>14} {'theoretical':>14} {'%':>6}  clock MHz  power W   notes")
    for m in dev.get("measurements", []):
        spec = m.get("spec", m)
        kid = spec.get("id", "?")
        unit = "B/s" if spec.get("unit") == "bytes_per_s" else "OP/s"
        st = m.get("status")
        med = (m.get("stats") or {}).get("median", 0)
        th = m.get("theoretical")
        cond = m.get("conditions", {})
        notes = dict((n[0], n[1]) if isinstance(n, list) else (n.get("key"), n.get("value")) for n in cond.get("notes", []))
        pct = f"{100 * med / th:5.1f}" if (th and med) else "     "
        clock = cond.get("clock_hz", 0) / 1e6
        power = notes.get("power_w", "")
        extra = "; ".join(f"{k}: {notes[k]}" for k in ("throttling", "power_at_limit", "lower_bound") if k in notes)
        meas = si(med, unit) if st == "ok" else (m.get("reason", "")[:60])
        print(f"  {kid:18} {st:8} {meas:>14} {si(th, unit) if th else '':>14} {pct:>6}  {clock:9.0f}  {power:8} {extra}")
if classify.strip() and "unknown" not in classify.splitlines()[0].lower():
    print("\nChip database (declared / derived), from probe classify:")
    print(classify)
else:
    print("\nNo chip database verdict available in this build: measured and theoretical only.")
PY
cat "$dest/summary.txt"
echo "results in $dest"
