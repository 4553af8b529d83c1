#!/usr/bin/env python3
"""probe --list with the CUDA plugin in its default folder (<exe>/../lib/probe/plugins). Without a driver (CI, this
machine) the cuda backend must be listed as unavailable with the runtime's reason, probe must exit 0, and the plugin
record must say loaded. On a machine with a GPU the backend must be available instead (the test still passes)."""
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
           or p.get("name") == "cuda"]
if not plugins:
    sys.exit(f"no plugin record for {args.plugin}: {doc.get('plugins')}")
if not all(p.get("loaded") for p in plugins):
    sys.exit(f"cuda plugin not loaded: {plugins}")
backends = [b for b in doc.get("backends", []) if b.get("name") == "cuda"]
if len(backends) != 1:
    sys.exit(f"expected one cuda backend record, got {doc.get('backends')}")
b = backends[0]
if b.get("available"):
    print("cuda backend available: a GPU machine; the no-driver path is not exercised here")
    sys.exit(0)
reason = b.get("reason", "")
if not (reason.startswith("no driver (cudaErrorInsufficientDriver)") or reason.startswith("no device")):
    sys.exit(f"unexpected reason: {reason!r}")
if "cuda" not in r.stdout or reason not in r.stdout:
    sys.exit("the text listing does not show the cuda backend and its reason")
if "CUDA runtime 13" not in b.get("version", "") and "CUDA runtime 12" not in b.get("version", ""):
    sys.exit(f"version string lacks the runtime version: {b.get('version')!r}")
print(f"ok: cuda unavailable: {reason}; version {b.get('version')}")
