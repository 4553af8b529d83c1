#!/usr/bin/env bash
# probe merge at cluster scale (issue 11): N synthetic 8-GPU node reports (10,000 by default) merged into one
# fleet report (JSON + HTML + Markdown); wall time and peak resident memory printed against the targets
# (<= 120 s, <= 1 GiB on the 2-core machine). Not a test: the figures depend on the machine and its load.
#
# Usage: bench/fleet/merge_bench.sh [PROBE_EXE] [--nodes N] [--work DIR] [--keep]
#   PROBE_EXE defaults to build/release/bin/probe (then build/ci/bin/probe, build/lean/bin/probe).
#   The reports are generated under DIR (default: a temporary folder, removed unless --keep).
set -euo pipefail
cd "$(dirname "$0")/../.."

probe=""
nodes=10000
work=""
keep=0
while [ $# -gt 0 ]; do
  case "$1" in
    --nodes) nodes="$2"; shift ;;
    --work) work="$2"; shift ;;
    --keep) keep=1 ;;
    *) probe="$1" ;;
  esac
  shift
done
if [ -z "$probe" ]; then
  for c in build/release/bin/probe build/ci/bin/probe build/lean/bin/probe; do [ -x "$c" ] && probe="$c" && break; done
fi
[ -n "$probe" ] && [ -x "$probe" ] || { echo "merge_bench: no probe executable (build it, or pass its path)" >&2; exit 2; }
[ -x /usr/bin/time ] || { echo "merge_bench: /usr/bin/time missing (Debian: time)" >&2; exit 2; }
if [ -z "$work" ]; then
  work=$(mktemp -d)
  [ "$keep" = 1 ] || trap 'rm -rf "$work"' EXIT
fi
mkdir -p "$work"

# The templates come from this probe, so the synthetic reports follow its schema as it is now.
"$probe" --topology tests/core/data/two_socket_gpu_node.xml --no-plugins --no-progress --json "$work/node_template.json" >/dev/null
"$probe" --quick --no-plugins --no-progress --kernels fma.fp32 --json "$work/measured_template.json" >/dev/null
rm -rf "$work/nodes"
gen_start=$(date +%s)
python3 bench/fleet/make_node_reports.py "$work/node_template.json" "$work/measured_template.json" "$work/nodes" \
  --nodes "$nodes" --gpus 8
gen_s=$(( $(date +%s) - gen_start ))
bytes=$(du -sb "$work/nodes" | cut -f1)

# Cold-ish cache is not forced (that needs root and drops everyone's cache): the reports were just written.
status=0
/usr/bin/time -v "$probe" merge "$work/nodes" --out "$work/fleet.json" --out "$work/fleet.html" --out "$work/fleet.md" \
  >/dev/null 2>"$work/time.txt" || status=$?
if [ "$status" -gt 1 ]; then
  cat "$work/time.txt" >&2
  echo "merge_bench: probe merge failed (exit $status)" >&2
  exit 1
fi
wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$work/time.txt")
rss_kb=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$work/time.txt")
user=$(sed -n 's/.*User time (seconds): //p' "$work/time.txt")
sys=$(sed -n 's/.*System time (seconds): //p' "$work/time.txt")
wall_s=$(python3 -c "import sys; p=sys.argv[1].split(':'); print(round(sum(float(x)*60**i for i,x in enumerate(reversed(p))),1))" "$wall")
rss_mib=$(( rss_kb / 1024 ))
verdict() { if [ "$1" = 1 ]; then echo "within"; else echo "OVER"; fi; }
wall_ok=$(python3 -c "print(1 if $wall_s <= 120 else 0)")
rss_ok=$(( rss_kb <= 1048576 ? 1 : 0 ))

echo "probe merge benchmark (issue 11)"
echo "date:        $(date -u +%Y-%m-%dT%H:%M:%SZ)"
echo "machine:     $(nproc) CPUs, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1), $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "probe:       $("$probe" --version) ($probe)"
echo "input:       $nodes node reports x 8 GPUs + 1 CPU, $(( bytes / 1048576 )) MiB of JSON (generated in ${gen_s} s)"
echo "output:      fleet.json $(( $(stat -c %s "$work/fleet.json") / 1024 )) KiB, fleet.html $(( $(stat -c %s "$work/fleet.html") / 1024 )) KiB, fleet.md $(( $(stat -c %s "$work/fleet.md") / 1024 )) KiB; exit $status"
echo "wall time:   ${wall_s} s (user ${user} s, sys ${sys} s)   target <= 120 s: $(verdict "$wall_ok")"
echo "peak RSS:    ${rss_mib} MiB   target <= 1024 MiB: $(verdict "$rss_ok")"
