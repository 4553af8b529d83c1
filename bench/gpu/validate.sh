#!/usr/bin/env bash
# On a GPU node: use (or unpack, or build) the portable bundle, run the full suite, and write the JSON report and a
# short table under bench/results/<device>_<date>/: measured vs declared vs derived per data type, TPP, DRAM
# bandwidth, every kernel with its clock and power, and the verdicts. The table comes from the report JSON alone
# (bench/gpu/summary.py; declared/derived are the chip database's figures the report carries in
# devices[].control.metrics.bases when it matched the device to a chip).
#
# Usage: bench/gpu/validate.sh [--bundle DIR|TARBALL] [--budget quick|default|thorough] [--out DIR]
#        bench/gpu/validate.sh --from-report REPORT.json [--backend cuda|all]   (table only, from an existing report)
# Needs python3 for the table (PROBE_PYTHON3 overrides which); without it the report path is printed instead.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bundle=""
budget=""
outroot="$here/bench/results"
from_report=""
backend=cuda
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --out) outroot=$2; shift 2 ;;
    --from-report) from_report=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "validate.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
python=${PROBE_PYTHON3:-python3}

# summary REPORT [OUT]: the table on stdout (and in OUT); without python3, say so and give the report's path.
summary() {
  if ! command -v "$python" >/dev/null 2>&1; then
    echo "python3 not found ($python): no summary table; the raw report is $1"
    return 0
  fi
  if [ -n "${2:-}" ]; then
    "$python" "$here/bench/gpu/summary.py" "$1" --backend "$backend" > "$2" || true
    cat "$2"
  else
    "$python" "$here/bench/gpu/summary.py" "$1" --backend "$backend"
  fi
}

if [ -n "$from_report" ]; then
  [ -f "$from_report" ] || { echo "validate.sh: no report at $from_report" >&2; exit 1; }
  summary "$from_report"
  exit $?
fi

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
start=$(date +%s)
rc=0
"$probe" "${flags[@]}" > "$dest/report.txt" 2> "$dest/stderr.txt" || rc=$?
echo "probe ${flags[*]}: exit $rc, $(( $(date +%s) - start )) s wall" | tee -a "$dest/stderr.txt"
nvidia-smi -q > "$dest/nvidia-smi.txt" 2>/dev/null || true
[ -f "$dest/report.json" ] || { echo "no report.json written (see $dest/report.txt, $dest/stderr.txt)" >&2; exit 1; }
summary "$dest/report.json" "$dest/summary.txt"
echo "results in $dest"
