#!/usr/bin/env bash
# AMX throughput: runs probe's amx.bf16 and amx.int8 kernels (every core, one pinned thread each) and prints,
# per kernel, the measured median, the theoretical peak at the clock probe measured around the kernel
# (cores × 1/16 TDP* per cycle × ops per TDP* × clock, data/cpu_uarch.json) and their ratio.
#
# The clock is the one probe measured during the kernel (cycle counter, or an add chain on the same core right
# after each sample: AMX has its own licence clock); the scalar clock before/after is printed beside it.
# The TMUL is one per physical core: a vCPU whose sibling hyperthread (another tenant's) also runs AMX gets part
# of it, so a VM can read low for that reason alone. With --per-thread each vCPU is also measured alone
# (--threads 1 pins to the first core only; the others via taskset). On a shared or busy node run it idle.
#
# Usage: bench/cpu_amx.sh [PROBE_EXE] [--quick|--thorough] [--kernels LIST]
#   PROBE_EXE defaults to build/release/bin/probe (then build/ci/bin/probe); LIST defaults to amx.bf16,amx.int8.
# Exits 2 if probe or python3 is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

probe=""
budget=""
kernels="amx.bf16,amx.int8"
while [ $# -gt 0 ]; do
  case "$1" in
    --thorough|--quick) budget="$1" ;;
    --kernels) kernels="$2"; shift ;;
    *) probe="$1" ;;
  esac
  shift
done
if [ -z "$probe" ]; then
  for c in build/release/bin/probe build/ci/bin/probe; do [ -x "$c" ] && probe="$c" && break; done
fi
[ -n "$probe" ] && [ -x "$probe" ] || { echo "cpu_amx: no probe executable (build it, or pass its path)" >&2; exit 2; }
command -v python3 >/dev/null || { echo "cpu_amx: python3 missing" >&2; exit 2; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "probe: $("$probe" --version), kernels $kernels, budget ${budget:-default}, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
status=0
# shellcheck disable=SC2086  # $budget is one optional flag
"$probe" --kernels "$kernels" --no-plugins --no-progress $budget --json "$tmp/amx.json" > /dev/null || status=$?
# Exit status 1 means a measurement failed: its reason is in the JSON and printed below.
[ "$status" -le 1 ] || { echo "cpu_amx: probe exited with $status" >&2; exit "$status"; }

python3 - "$tmp/amx.json" <<'EOF'
import json, sys
report = json.load(open(sys.argv[1]))
for dev in report["devices"]:
    if dev.get("backend") not in (None, "cpu") and not dev["id"].startswith("cpu"):
        continue
    for m in dev["measurements"]:
        kid = m["kernel"]["id"]
        if not kid.startswith("amx."):
            continue
        unit = "GOP/s" if kid.endswith("int8") else "GFLOP/s"
        if m["status"] != "ok":
            print(f"{dev['id']} {kid:9} {m['status']}: {m.get('reason', '')}")
            continue
        value = m["value"] / 1e9
        clock = m["conditions"].get("clock_hz", 0) / 1e9
        scalar = m["conditions"].get("clock_hz_scalar", 0) / 1e9
        theo = m.get("theoretical")
        threads = m["conditions"].get("threads")
        line = (f"{dev['id']} {kid:9} measured {value:10.1f} {unit} ({threads} threads, clock during the kernel "
                f"{clock:.3f} GHz, scalar {scalar:.3f} GHz)")
        if theo:
            line += f"  theoretical {theo / 1e9:10.1f} {unit}  ratio {m['value'] / theo:.3f}"
        else:
            line += f"  theoretical unknown: {m.get('theoretical_basis', '')}"
        print(line)
EOF
exit "$status"
