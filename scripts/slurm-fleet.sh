#!/usr/bin/env bash
#SBATCH --job-name=probe-fleet
#SBATCH --ntasks-per-node=1
#SBATCH --exclusive
#SBATCH --output=probe-fleet-%j.out
# The Slurm recipe for a fleet report (issue 11): one probe task per node, each writing its node report (and,
# with --sign, its signed statement) into a shared folder, then one probe merge of that folder.
#
# Usage (a batch job, N nodes):
#   sbatch -N 16 scripts/slurm-fleet.sh OUT_DIR [--sign NAME.key] [--probe PATH] [-- probe flags...]
# or inside an allocation (salloc -N 16), the same arguments with bash instead of sbatch.
#
# OUT_DIR must be on a file system every node sees. It receives OUT_DIR/nodes/<node>.json (+ .intoto.json with
# --sign), OUT_DIR/fleet.json, fleet.html, fleet.md and, with --sign, fleet.json.intoto.json signed with the
# same key (probe verify OUT_DIR/fleet.json.intoto.json --key NAME.pub). A node whose probe could not write a
# report gets a probe-node-failure document instead (its exit status and last message), so the fleet report
# names it. Exit status: probe merge's (0 all nodes measured and every signature held, 1 otherwise, 2 bad input).
set -euo pipefail

out=""
key=""
probe="${PROBE:-probe}"
extra=()
while [ $# -gt 0 ]; do
  case "$1" in
    --sign) key="$2"; shift ;;
    --probe) probe="$2"; shift ;;
    --) shift; extra=("$@"); break ;;
    -*) echo "slurm-fleet: unknown option '$1'" >&2; exit 2 ;;
    *) [ -z "$out" ] || { echo "slurm-fleet: one OUT_DIR only ('$1')" >&2; exit 2; }; out="$1" ;;
  esac
  shift
done
[ -n "$out" ] || { echo "usage: sbatch -N N scripts/slurm-fleet.sh OUT_DIR [--sign NAME.key] [--probe PATH] [-- probe flags]" >&2; exit 2; }
[ -n "${SLURM_JOB_ID:-}" ] || { echo "slurm-fleet: not inside a Slurm job (sbatch or salloc)" >&2; exit 2; }
command -v "$probe" >/dev/null || { echo "slurm-fleet: no probe executable '$probe' (--probe PATH or PROBE=...)" >&2; exit 2; }
probe=$(command -v "$probe")
[ -z "$key" ] || key=$(realpath "$key")
mkdir -p "$out/nodes"
out=$(realpath "$out")

# One task per node, the node to itself (--exclusive): each names its report after the node Slurm gave it.
export PROBE_FLEET_EXE="$probe" PROBE_FLEET_DIR="$out/nodes" PROBE_FLEET_KEY="$key"
srun --ntasks-per-node=1 --exclusive --kill-on-bad-exit=0 bash -c '
  node="${SLURMD_NODENAME:-$(hostname -s)}"
  report="$PROBE_FLEET_DIR/$node.json"
  sign=()
  [ -z "$PROBE_FLEET_KEY" ] || sign=(--sign "$PROBE_FLEET_KEY")
  status=0
  "$PROBE_FLEET_EXE" --report --no-progress --json "$report" "${sign[@]}" "$@" >/dev/null 2>"$report.err" || status=$?
  # Exit 1 is a report with a failed measurement (written); anything else left no report: say why instead.
  if [ ! -s "$report" ]; then
    reason=$(tail -n 1 "$report.err" | tr -d "\"\\\\" | cut -c1-400)
    printf "{\"schema\": \"probe-node-failure\", \"schema_version\": 1, \"host\": \"%s\", \"reason\": \"probe exited %s: %s\", \"at\": \"%s\"}\n" \
      "$node" "$status" "$reason" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" > "$report"
  fi
  rm -f "$report.err"
' probe-fleet-task "${extra[@]}" || true  # a failed node is in the fleet report; the merge decides the status

pub=()
sign=()
if [ -n "$key" ]; then
  pub=(--key "${key%.key}.pub")
  sign=(--sign "$key")
fi
"$probe" merge "$out/nodes" "${pub[@]}" --out "$out/fleet.json" --out "$out/fleet.html" --out "$out/fleet.md" "${sign[@]}"
