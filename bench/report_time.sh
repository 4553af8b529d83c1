#!/usr/bin/env bash
# Wall time of a whole `probe --report` against the targets (issue 9): --quick ≤ 5 s and the default budget
# ≤ 30 s on a 2-core node, whatever its last-level cache. Each budget runs N times (3 by default), min / median /
# max are printed with the array size and fill time the report recorded, so a regression can be told apart from
# a bigger LLC. Not a test: figures depend on the machine and its load (the load average is printed too).
#
# Usage: bench/report_time.sh [PROBE_EXE] [--runs N] [-- extra probe flags]
#   PROBE_EXE defaults to build/release/bin/probe (then build/ci/bin/probe). Needs python3.
set -euo pipefail
cd "$(dirname "$0")/.."

probe=""
runs=3
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --runs) runs="$2"; shift ;;
    --) shift; extra=("$@"); break ;;
    *) probe="$1" ;;
  esac
  shift
done
if [ -z "$probe" ]; then
  for c in build/release/bin/probe build/ci/bin/probe; do [ -x "$c" ] && probe="$c" && break; done
fi
[ -n "$probe" ] && [ -x "$probe" ] || { echo "report_time: no probe executable (build it, or pass its path)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "report_time: python3 missing" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

echo "# bench/report_time.sh — $(date -u +%Y-%m-%dT%H:%M:%SZ), $("$probe" --version | head -1)"
echo "# $(lscpu | sed -n 's/^Model name: *//p' | head -1); $(nproc) CPUs; L3 $(lscpu | sed -n 's/^L3 cache: *//p'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
for budget in quick default; do
  flag=()
  target=30
  if [ "$budget" = quick ]; then flag=(--quick); target=5; fi
  for i in $(seq 1 "$runs"); do
    start=$(date +%s.%N)
    "$probe" --report "${flag[@]}" --no-plugins --no-progress --json "$tmp/$budget-$i.json" "${extra[@]}" > /dev/null || true
    end=$(date +%s.%N)
    echo "$start $end" > "$tmp/$budget-$i.time"
  done
  python3 - "$tmp" "$budget" "$runs" "$target" <<'PY'
import json, statistics, sys
tmp, budget, runs, target = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
walls, mem, comp, fill, arrays = [], [], [], None, None
for i in range(1, runs + 1):
    s, e = map(float, open(f"{tmp}/{budget}-{i}.time").read().split())
    walls.append(e - s)
    r = json.load(open(f"{tmp}/{budget}-{i}.json"))
    m_s = c_s = 0.0
    for d in r["devices"]:
        for m in d["measurements"]:
            c = m["conditions"]
            if m["kernel"]["class"] == "memory":
                m_s += c["elapsed_s"]
                notes = dict((n["key"], n["value"]) if isinstance(n, dict) else tuple(n) for n in c["notes"])
                fill = notes.get("fill_s", fill)
                arrays = notes.get("array_rule", arrays)
            else:
                c_s += c["elapsed_s"]
    mem.append(m_s); comp.append(c_s)
med = statistics.median(walls)
print(f"{budget:8s} wall min {min(walls):6.2f} s  median {med:6.2f} s  max {max(walls):6.2f} s  "
      f"target {target:g} s: {'met' if med <= target else 'MISSED'}  "
      f"(compute kernels {statistics.median(comp):.2f} s, memory kernels {statistics.median(mem):.2f} s)")
if arrays:
    print(f"         arrays: {arrays}; fill {fill.split(' ')[0] if fill else '?'} s (first memory kernel)")
PY
done
