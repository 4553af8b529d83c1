#!/usr/bin/env bash
# The Slurm recipe (scripts/slurm-fleet.sh) against a real Slurm: starts munged, slurmctld and slurmd on this
# machine with a generated configuration (their own ports, folders and munge socket: nothing of the machine's
# is touched), runs the recipe through sbatch on the local node, checks the signed fleet report, and stops the
# daemons it started. Exit 77 (skipped, with the reason) where Slurm or munge is missing or the daemons cannot
# start here.
#
# Usage: slurm_fleet_test.sh PROBE_EXE SOURCE_DIR PYTHON3
set -uo pipefail
probe=$(realpath "$1")
src=$(realpath "$2")
python=${3:-python3}

skip() { echo "SKIPPED: $*"; exit 77; }
fail() { echo "FAILED: $*"; for f in "$tmp"/log/*; do echo "--- $f"; tail -n 20 "$f"; done; exit 1; }

for c in munged slurmctld slurmd sbatch sinfo scontrol; do
  command -v "$c" >/dev/null || skip "$c not installed (Debian: slurm-wlm munge; scripts/install-deps.sh)"
done
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root to start jobs; this test runs as $(id -un)"

tmp=$(mktemp -d /tmp/probe-slurm-XXXXXX)
chmod 755 "$tmp"
mkdir -p "$tmp"/{log,state,spool,munge,out}
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do
    for _ in $(seq 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$p" 2>/dev/null
  done
  [ -f "$tmp/munge/munged.pid" ] && kill "$(cat "$tmp/munge/munged.pid")" 2>/dev/null
  rm -rf "$tmp"
}
trap cleanup EXIT

# munge with its own key and socket.
dd if=/dev/urandom of="$tmp/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$tmp/munge/munge.key"
munged --force --key-file="$tmp/munge/munge.key" --socket="$tmp/munge/munge.sock" \
  --pid-file="$tmp/munge/munged.pid" --log-file="$tmp/log/munged.log" --seed-file="$tmp/munge/seed" \
  >"$tmp/log/munged.out" 2>&1 || skip "munged does not start here: $(tail -n 1 "$tmp/log/munged.out")"

host=$(hostname -s)
# Ports away from Slurm's defaults (6817/6818), per process id: another Slurm or another run of this test
# on the machine is left alone.
base=$(( 20000 + ($$ % 20000) ))
cat >"$tmp/slurm.conf" <<EOF
ClusterName=probetest
SlurmctldHost=$host
SlurmctldPort=$base
SlurmdPort=$((base + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$tmp/munge/munge.sock
CredType=cred/munge
StateSaveLocation=$tmp/state
SlurmdSpoolDir=$tmp/spool
SlurmctldPidFile=$tmp/slurmctld.pid
SlurmdPidFile=$tmp/slurmd.pid
SlurmctldLogFile=$tmp/log/slurmctld.log
SlurmdLogFile=$tmp/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/linear
SchedulerType=sched/builtin
MpiDefault=none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
ReturnToService=2
SlurmdTimeout=30
NodeName=$host CPUs=$(nproc) State=UNKNOWN
PartitionName=probe Nodes=$host Default=YES MaxTime=INFINITE State=UP
EOF
export SLURM_CONF="$tmp/slurm.conf"

slurmctld -D -i -f "$SLURM_CONF" >"$tmp/log/slurmctld.out" 2>&1 &
pids+=($!)
slurmd -D -f "$SLURM_CONF" >"$tmp/log/slurmd.out" 2>&1 &
pids+=($!)
ready=0
for _ in $(seq 60); do
  if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then ready=1; break; fi
  for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null || skip "a Slurm daemon exited at start: $(tail -n 2 "$tmp"/log/slurm*.out "$tmp"/log/slurm*.log 2>/dev/null | tr '\n' ' ')"; done
  sleep 0.5
done
[ "$ready" = 1 ] || skip "the local node did not come up in Slurm within 30 s: $(sinfo -h -N 2>&1 | head -n 1)"

# The recipe, signed, as a user would submit it: a quick run of one kernel keeps it short.
"$probe" keygen --out "$tmp/fleet" >/dev/null || fail "probe keygen"
cd "$tmp"
job=$(sbatch --parsable -N 1 --wait --output="$tmp/log/job.out" "$src/scripts/slurm-fleet.sh" "$tmp/out" \
  --sign "$tmp/fleet.key" --probe "$probe" -- --quick --no-plugins --kernels fma.fp32)
status=$?
[ "$status" -eq 0 ] || fail "sbatch --wait: job ${job:-?} ended with status $status"

[ -s "$tmp/out/nodes/$host.json" ] || fail "no node report $tmp/out/nodes/$host.json"
[ -s "$tmp/out/nodes/$host.json.intoto.json" ] || fail "no signed statement beside the node report"
for f in fleet.json fleet.html fleet.md fleet.json.intoto.json; do [ -s "$tmp/out/$f" ] || fail "no $f"; done
"$python" "$src/tests/tools/validate_report.py" "$src/data/schema/fleet.schema.json" "$tmp/out/fleet.json" ||
  fail "fleet.json does not follow data/schema/fleet.schema.json"
"$python" - "$tmp/out/fleet.json" "$host" <<'EOF' || fail "fleet report content"
import json, sys
f = json.load(open(sys.argv[1]))
host = sys.argv[2]
assert f["nodes"]["found"] == 1 and f["nodes"]["measured"] == 1, f["nodes"]
assert f["nodes"]["list"][0]["host"], f["nodes"]["list"][0]
assert f["signatures"]["verified"] == 1, f["signatures"]
assert f["devices"], "no device"
EOF
"$probe" verify "$tmp/out/fleet.json.intoto.json" --key "$tmp/fleet.pub" >/dev/null || fail "probe verify of the fleet statement"
echo "PASSED: sbatch job $job on node $host: node report signed, fleet report merged and signed"
