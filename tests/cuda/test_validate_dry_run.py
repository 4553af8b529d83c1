#!/usr/bin/env python3
"""bench/gpu/validate.sh's dry run: the one-call GPU validation on a machine without a driver (CI, this machine).
It must get through the node state and the enumeration, print the "validate.sh: no driver: ..." line (or "no GPU"
where a driver exists without a device), exit 3 and leave its files within the device tool's limits (at most 8
files, 16 MiB each, flat). On a GPU machine it measures instead (exit 0 or probe's status) and the test checks the
files of a real run. Usage: test_validate_dry_run.py VALIDATE_SH PROBE_EXE"""
import os
import subprocess
import sys
import tempfile

validate, probe = sys.argv[1], sys.argv[2]
with tempfile.TemporaryDirectory() as out:
    r = subprocess.run([validate, "--probe", probe, "--out", out, "--flat", "--sustain", "1", "--limit", "300"],
                       capture_output=True, text=True, timeout=600)
    print(r.stdout)
    print(r.stderr, file=sys.stderr)
    files = sorted(os.listdir(out))
    if len(files) > 8:
        sys.exit(f"{len(files)} files, the device tool takes back at most 8: {files}")
    for f in files:
        p = os.path.join(out, f)
        if not os.path.isfile(p):
            sys.exit(f"{f} is not a plain file (the device tool takes back files, flat)")
        if os.path.getsize(p) > 16 << 20:
            sys.exit(f"{f} is over 16 MiB")
    if r.returncode == 3:
        lines = [l for l in r.stdout.splitlines() if l.startswith(("validate.sh: no driver: ", "validate.sh: no GPU: "))]
        if not lines:
            sys.exit("exit 3 without the 'validate.sh: no driver: ...' line")
        want = ["list.txt", "nvidia-smi.txt", "summary.txt", "validate.log"]
        if files != want:
            sys.exit(f"files {files}, expected {want}")
        if "cuda" not in open(os.path.join(out, "list.txt")).read():
            sys.exit("list.txt does not list the cuda backend")
        if lines[0] not in open(os.path.join(out, "validate.log")).read():
            sys.exit("validate.log lacks the no-driver line")
        print(f"ok: dry run: {lines[0]}; files {files}")
    elif r.returncode in (0, 1, 143):
        for f in ("report.json", "report.txt", "summary.txt", "list.txt", "validate.log"):
            if f not in files:
                sys.exit(f"a GPU run without {f}: {files}")
        print(f"ok: measured on a GPU (exit {r.returncode}); files {files}")
    else:
        sys.exit(f"validate.sh exit {r.returncode}")
