#!/usr/bin/env python3
"""probe --list with the HIP plugin in its default folder. Without a GPU (CI, this machine) the hip backend must be
listed as unavailable with "no device (hipErrorNoDevice)", probe must exit 0, the plugin record must say loaded,
and ROCm's noise must not reach stderr. On a machine with an AMD GPU the backend is available instead (passes)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import gpu_test_common as common  # noqa: E402  (tests/gpu_test_common.py: shared with the CUDA no-driver test)

args, r, doc = common.probe_list()
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
