#!/usr/bin/env python3
"""probe --list with the CUDA plugin in its default folder (<exe>/../lib/probe/plugins). Without a driver (CI, this
machine) the cuda backend must be listed as unavailable with the runtime's reason, probe must exit 0, and the plugin
record must say loaded. On a machine with a GPU the backend must be available instead (the test still passes)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import gpu_test_common as common  # noqa: E402  (tests/gpu_test_common.py: shared with the HIP no-device test)

args, r, doc = common.probe_list()
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
