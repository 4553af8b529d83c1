#!/usr/bin/env python3
"""probe --list with the HIP plugin in its default folder. Without a GPU (CI, this machine) the hip backend must be
listed as unavailable with "no device (hipErrorNoDevice)", probe must exit 0, the plugin record must say loaded,
and ROCm's noise must not reach stderr. On a machine with an AMD GPU the backend is available instead (passes)."""
import argparse
import json
import os
import subprocess
import sys
import tempfile

ap = argparse.ArgumentParser()
ap.add_argument("--probe", required=True)
ap.add_argument("--plugin", required=True)
args = ap.parse_args()

with tempfile.TemporaryDirectory() as tmp:
    out_json = os.path.join(tmp, "list.json")
    r = subprocess.run([args.probe, "--list", "--json", out_json], capture_output=True, text=True, timeout=120)
    print(r.stdout)
    print(r.stderr, file=sys.stderr)
    if r.returncode != 0:
        sys.exit(f"probe --list exited {r.returncode}")
    doc = json.load(open(out_json))
plugins = [p for p in doc.get("plugins", []) if os.path.basename(str(p.get("path", ""))) == os.path.basename(args.plugin)
           or p.get("name") == "hip"]
if not plugins or not all(p.get("loaded") for p in plugins):
    sys.exit(f"hip plugin not loaded: {doc.get('plugins')}")
backends = [b for b in doc.get("backends", []) if b.get("name") == "hip"]
if len(backends) != 1:
    sys.exit(f"expected one hip backend record, got {doc.get('backends')}")
b = backends[0]
if b.get("available"):
    print("hip backend available: a GPU machine; the no-device path is not exercised here")
    sys.exit(0)
reason = b.get("reason", "")
if reason != "no device (hipErrorNoDevice)":
    sys.exit(f"unexpected reason: {reason!r}")
if "hip" not in r.stdout or reason not in r.stdout:
    sys.exit("the text listing does not show the hip backend and its reason")
if "HIP runtime 5." not in b.get("version", "") and "HIP runtime 6." not in b.get("version", ""):
    sys.exit(f"version string lacks the runtime version: {b.get('version')!r}")
if "drm" in r.stderr.lower():
    sys.exit("ROCm SMI's stderr noise leaked")
print(f"ok: hip unavailable: {reason}; version {b.get('version')}")
