#!/usr/bin/env bash
# One-call GPU validation: from a portable bundle built elsewhere and carried over (or a built probe), on a GPU node
# where nothing can be installed: the node's state (nvidia-smi -q), the enumeration (probe --list), then one probe
# run over the CUDA devices only: every kernel measured and verified, the sustained phase (--sustain) for every
# compute and device-memory kernel, the cuBLASLt cross-check; the report JSON, the text report and the summary
# table (bench/gpu/summary.py) written under the output folder. At most 6 files: validate.log, nvidia-smi.txt,
# list.txt, report.json, report.txt, summary.txt. The probe run is capped at --limit seconds (SIGTERM: probe still
# writes its report, exit 143), so the whole call fits a fixed time (default 420 s + start-up).
# Without a driver (CI, a build machine) it stops after the enumeration with the line "validate.sh: no driver: ..."
# and exit status 3, having written validate.log, nvidia-smi.txt, list.txt and summary.txt: the dry run.
#
# Usage: bench/gpu/validate.sh [--bundle DIR|TARBALL | --probe EXE] [--budget quick|default|thorough]
#                              [--sustain SECONDS] [--limit SECONDS] [--out DIR] [--flat]
#        bench/gpu/validate.sh --from-report REPORT.json [--backend cuda|all]   (table only, from an existing report)
#   --bundle  a bundle folder (bin/probe inside), a folder holding one, or its tarball (default: scripts/bundle.sh)
#   --probe   a probe executable instead of a bundle (its plugins from <exe>/../lib/probe/plugins)
#   --sustain seconds of the sustained phase per kernel (default 8)   --limit  cap on the probe run (default 420)
#   --out     results folder (default bench/results); --flat writes into it directly (for the device tool's $OUT),
#             else into <out>/<device>_<date>/
# Exit status: 0 measured (probe's own status otherwise: 1 a kernel failed, 143 stopped at --limit), 3 no GPU, 2 usage.
# Needs python3 for the table (PROBE_PYTHON3 overrides which); without it the report path is printed instead.
set -euo pipefail
here=$(cd "$(dirname "$0")/../.." && pwd)
bundle=""
probe=""
budget=""
sustain=8
limit=420
outroot="$here/bench/results"
flat=0
from_report=""
backend=cuda
while [ $# -gt 0 ]; do
  case "$1" in
    --bundle) bundle=$2; shift 2 ;;
    --probe) probe=$2; shift 2 ;;
    --budget) budget=$2; shift 2 ;;
    --sustain) sustain=$2; shift 2 ;;
    --limit) limit=$2; shift 2 ;;
    --out) outroot=$2; shift 2 ;;
    --flat) flat=1; shift ;;
    --from-report) from_report=$2; shift 2 ;;
    --backend) backend=$2; shift 2 ;;
    -h|--help) sed -n '2,21p' "$0"; exit 0 ;;
    *) echo "validate.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done
python=${PROBE_PYTHON3:-python3}

# summary REPORT [OUT]: the table on stdout (and in OUT); without python3, say so and give the report's path.
summary() {
  if ! command -v "$python" >/dev/null 2>&1; then
    echo "python3 not found ($python): no summary table; the raw report is $1" | tee ${2:+"$2"}
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

if [ -z "$probe" ]; then
  if [ -z "$bundle" ]; then
    bundle=$("$here/scripts/bundle.sh" | head -1)
  elif [ -f "$bundle" ]; then
    tmp=$(mktemp -d)
    tar -C "$tmp" -xzf "$bundle"
    bundle=$(echo "$tmp"/probe-*)
  elif [ ! -x "$bundle/bin/probe" ]; then  # a folder holding a bundle (scripts/bundle.sh --out): its unpacked copy
    bundle=$(echo "$bundle"/probe-*/ | awk '{print $1}')
    bundle=${bundle%/}
  fi
  probe="$bundle/bin/probe"
fi
[ -x "$probe" ] || { echo "validate.sh: no probe at $probe" >&2; exit 1; }

if [ "$flat" = 1 ]; then
  dest=$outroot
else
  device=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | tr ' /' '__' || true)
  [ -n "$device" ] || device=unknown-gpu
  dest="$outroot/${device}_$(date -u +%Y-%m-%d)"
fi
mkdir -p "$dest"
log="$dest/validate.log"
: > "$log"
say() { echo "$*" | tee -a "$log"; }
t0=$(date +%s)
say "validate.sh: probe $probe, $(date -u +%Y-%m-%dT%H:%M:%SZ), sustain ${sustain} s, limit ${limit} s"

nvidia-smi -q > "$dest/nvidia-smi.txt" 2>&1 || echo "nvidia-smi: not found or failed (no driver?)" >> "$dest/nvidia-smi.txt"

# cuBLASLt for the library cross-check: the system's, else the one of the NVIDIA Python wheel (nvidia-cublas) that
# GPU images carry.
if ! ldconfig -p 2>/dev/null | grep -q 'libcublasLt\.so'; then
  wheel=$("$python" -c 'import nvidia.cublas as m, os; print(os.path.join(list(m.__path__)[0], "lib"))' 2>/dev/null || true)
  if [ -n "$wheel" ] && [ -d "$wheel" ]; then
    export LD_LIBRARY_PATH="$wheel${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
    say "cuBLASLt from the nvidia-cublas wheel: $wheel"
  else
    say "cuBLASLt: not in ldconfig and no nvidia-cublas wheel: the library kernels will say so"
  fi
fi

# Enumeration.
rc=0
"$probe" --list > "$dest/list.txt" 2>> "$log" || rc=$?
say "probe --list: exit $rc"
cuda_line=$(grep -E '^ *cuda +(available|unavailable)' "$dest/list.txt" | head -1 || true)
if [ -z "$cuda_line" ]; then
  say "validate.sh: no cuda backend in probe --list (plugin missing from the bundle?)"
  echo "no cuda backend listed; see list.txt" > "$dest/summary.txt"
  exit 1
fi
if ! echo "$cuda_line" | grep -Eq 'cuda +available'; then
  reason=$(echo "$cuda_line" | sed -E 's/^ *cuda +unavailable: *//')
  case "$reason" in
    "no driver"*) say "validate.sh: no driver: $reason" ;;
    *) say "validate.sh: no GPU: $reason" ;;
  esac
  echo "nothing measured: cuda unavailable: $reason" > "$dest/summary.txt"
  say "validate.sh: $(( $(date +%s) - t0 )) s wall; files: $(cd "$dest" && ls | tr '\n' ' ')"
  exit 3
fi

# The measurement: the CUDA devices only (the CPU is not what this validates), capped at --limit.
flags=(--report --device 'cuda*' --sustain "$sustain" --no-progress --json "$dest/report.json")
case "$budget" in quick) flags+=(--quick) ;; thorough) flags+=(--thorough) ;; esac
rc=0
timeout --signal=TERM --kill-after=30 "$limit" "$probe" "${flags[@]}" > "$dest/report.txt" 2>> "$log" || rc=$?
say "probe ${flags[*]}: exit $rc, $(( $(date +%s) - t0 )) s wall so far"
[ -f "$dest/report.json" ] || { say "validate.sh: no report.json written (see report.txt, validate.log)"; exit 1; }
summary "$dest/report.json" "$dest/summary.txt" >> "$log"
cat "$dest/summary.txt"
say "validate.sh: done in $(( $(date +%s) - t0 )) s; files in $dest: $(cd "$dest" && ls | tr '\n' ' ')"
exit "$rc"
