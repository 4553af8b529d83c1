#!/usr/bin/env python3
"""Synthetic 8-GPU node reports for probe merge (its tests and bench/fleet/merge_bench.sh).

Usage: make_node_reports.py NODE_TEMPLATE MEASURED_TEMPLATE OUT_DIR [--nodes N] [--gpus G] [--seed S]
                            [--slow FRACTION] [--prefix NAME]

NODE_TEMPLATE is a report of a GPU node's recorded topology, measuring nothing
(probe --topology tests/core/data/two_socket_gpu_node.xml --no-plugins --json T.json): its unmeasured H100s
carry the chip database's assessment, its node verdicts the 4A090 count. MEASURED_TEMPLATE is a report with
at least one measured CPU kernel (probe --quick --no-plugins --kernels fma.fp32,mem.triad --json M.json): its
measurement entries are the shape each synthetic GPU figure copies. Both come from the probe under test, so
the synthetic reports follow its schema as it is now, not as it was when this script was written.

Each node gets a distinct host name and GPU serials; figures vary around 93% of the declared peak, a
FRACTION of the GPUs (default 0.01) runs 25% slow, and one node in 50 has another driver (version drift).
Writes OUT_DIR/<host>.json; prints the number of files and bytes written.
"""
import argparse
import copy
import json
import os
import random
import re
import sys

DECLARED_BF16 = 989.4e12  # H100 SXM dense BF16, ops/s (the chip database's declared rate)
DECLARED_BW = 3.35e12     # H100 SXM HBM3, bytes/s


def scale_stats(stats, factor):
    out = copy.deepcopy(stats)
    for k, v in stats.items():
        if k in ("count", "rel_range", "rel_spread"):
            continue
        if isinstance(v, (int, float)) and not isinstance(v, bool):
            out[k] = v * factor
        elif isinstance(v, list):
            out[k] = [x * factor for x in v]
    return out


def figure(template, kernel_id, dtype, unit, cls, bits, target, theoretical):
    m = copy.deepcopy(template)
    base = m["stats"]["median"] or 1.0
    m["stats"] = scale_stats(m["stats"], target / base)
    m["value"] = target
    m["theoretical"] = theoretical
    m["theoretical_basis"] = "declared peak (chip database): synthetic report"
    m["theoretical_confirmed"] = True
    m["above_theoretical"] = None
    m["derived"] = []
    m["variant"] = "synthetic"
    k = m["kernel"]
    k.update({"id": kernel_id, "dtype": dtype, "unit": unit, "class": cls, "bit_length": bits,
              "title": kernel_id + " (synthetic)"})
    return m


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("node_template")
    ap.add_argument("measured_template")
    ap.add_argument("out_dir")
    ap.add_argument("--nodes", type=int, default=10)
    ap.add_argument("--gpus", type=int, default=8)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--slow", type=float, default=0.01)
    ap.add_argument("--prefix", default="node")
    a = ap.parse_args(argv)

    node = json.load(open(a.node_template))
    measured = json.load(open(a.measured_template))
    gpus = [u for u in node.get("unmeasured", []) if u.get("control")]
    if not gpus:
        sys.exit("make_node_reports: the node template has no assessed accelerator (use a GPU node's topology)")
    cpu = next((d for d in measured["devices"] if any(m["status"] == "ok" for m in d["measurements"])), None)
    if cpu is None:
        sys.exit("make_node_reports: the measured template has no measured kernel")
    m_compute = next(m for m in cpu["measurements"] if m["status"] == "ok")
    gpu_control = gpus[0]["control"]

    # Each varying value is a placeholder in a text template serialized once ("@@name@@" where a JSON value
    # goes): a node is then joined from pieces, not deep-copied and serialized again (10,000 nodes of ~400 kB).
    def pieces(doc):
        parts = re.split(r'"@@(\w+)@@"', json.dumps(doc, separators=(",", ":")))
        return parts[0::2], parts[1::2]

    def fill(tpl, values):
        texts, names = tpl
        out = [texts[0]]
        for name, text in zip(names, texts[1:]):
            out.append(values[name])
            out.append(text)
        return "".join(out)

    gpu_templates = []
    for g in range(a.gpus):
        pci = gpus[g % len(gpus)]["pci"]
        bus = f"0000:{(0x18 + 0x10 * g) % 256:02x}:00.0"
        dev_id = f"cuda{g}"
        control = copy.deepcopy(gpu_control)
        metrics = control["metrics"]
        metrics["device_id"] = dev_id
        meas = copy.deepcopy(metrics["bases"]["declared"])
        meas["tpp"] = "@@TPP@@"
        meas["pd"] = "@@PD@@" if meas.get("pd") is not None else None
        if meas.get("total_dram_bw_gbs") is not None:
            meas["total_dram_bw_gbs"] = "@@DRAM@@"
        meas["note"] = "synthetic: measured rates"
        metrics["bases"]["measured"] = meas
        for v in control["verdicts"]:
            v["subject"] = dev_id
        bf16 = figure(m_compute, "mma.bf16", "bf16", "ops/s", "compute", 16, DECLARED_BF16, DECLARED_BF16)
        copy_bw = figure(m_compute, "mem.copy", "none", "B/s", "memory", 0, DECLARED_BW, DECLARED_BW)
        bf16_stats, copy_stats = bf16["stats"], copy_bw["stats"]
        bf16.update({"value": "@@BF16@@", "stats": "@@BF16_STATS@@"})
        copy_bw.update({"value": "@@COPY@@", "stats": "@@COPY_STATS@@"})
        gpu_templates.append((pieces({
            "id": dev_id, "backend": "cuda", "kind": "gpu", "name": "NVIDIA H100 80GB HBM3", "vendor": "NVIDIA",
            "arch": "sm_90", "units": 132, "unit_name": "SMs", "partial": False, "partial_reason": "",
            "pci": dict({k: pci[k] for k in ("vendor_id", "device_id", "subvendor_id", "subdevice_id")}, bus_id=bus),
            "properties": [
                {"key": "serial", "value": "@@SERIAL@@"},
                {"key": "uuid", "value": "@@UUID@@"},
                {"key": "pci_bus_id", "value": bus},
                {"key": "driver_version", "value": "@@DRIVER@@"},
                {"key": "vbios", "value": "96.00.99.00.01"},
            ],
            "measurements": [bf16, copy_bw],
            "control": control,
        }), bf16_stats, copy_stats, metrics["bases"]["declared"]))

    node_doc = copy.deepcopy(node)
    for k, v in (("started_at", "@@STARTED@@"), ("finished_at", "@@FINISHED@@"), ("command", "@@COMMAND@@"),
                 ("devices", "@@DEVICES@@"), ("unmeasured", []), ("any_failed", False)):
        node_doc[k] = v
    node_doc["inventory"]["hostname"] = "@@HOST@@"
    node_tpl = pieces(node_doc)
    cpu_text = json.dumps(cpu, separators=(",", ":"))

    rng = random.Random(a.seed)
    os.makedirs(a.out_dir, exist_ok=True)
    total = 0
    for n in range(a.nodes):
        host = f"{a.prefix}{n:05d}"
        minute = n % 60
        driver = "CUDA 12.8 (570.124.06)" if n % 50 else "CUDA 12.9 (575.51.03)"
        devices = [cpu_text]
        for g, (tpl, bf16_stats, copy_stats, declared) in enumerate(gpu_templates):
            factor = rng.gauss(0.93, 0.01)
            if rng.random() < a.slow:
                factor *= 0.75
            bf16 = DECLARED_BF16 * factor
            copy_bw = DECLARED_BW * (factor + 0.02)
            devices.append(fill(tpl, {
                "SERIAL": json.dumps(f"1654{n:05d}{g:02d}"),
                "UUID": json.dumps(f"GPU-{n:08x}-0000-0000-0000-{g:012x}"),
                "DRIVER": json.dumps(driver),
                "BF16": repr(bf16), "BF16_STATS": json.dumps(scale_stats(bf16_stats, factor)),
                "COPY": repr(copy_bw), "COPY_STATS": json.dumps(scale_stats(copy_stats, factor + 0.02)),
                "TPP": repr(declared["tpp"] * factor),
                "PD": repr(declared["pd"] * factor) if declared.get("pd") is not None else "null",
                "DRAM": repr(copy_bw / 1e9),
            }))
        text = fill(node_tpl, {
            "HOST": json.dumps(host),
            "STARTED": json.dumps(f"2026-11-30T04:{minute:02d}:00.000Z"),
            "FINISHED": json.dumps(f"2026-11-30T04:{minute:02d}:41.000Z"),
            "COMMAND": json.dumps(f"probe --report --json {host}.json"),
            "DEVICES": "[" + ",".join(devices) + "]",
        })
        with open(os.path.join(a.out_dir, host + ".json"), "w") as f:
            f.write(text)
        total += len(text)
    print(f"{a.nodes} node reports, {total} bytes, in {a.out_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
