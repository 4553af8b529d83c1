#!/usr/bin/env python3
"""Static audit of ptxas' own report on the CUDA kernels (ptxas -v, every real target; no GPU needed).

A kernel can hold the right instructions (ptx_audit.py) and still run slower than the chip because of code of ours:
registers spilled to local memory, a register array on the stack, or, on sm_90a, wgmma instructions that ptxas
serializes (it injects a warpgroup.wait after each one when the accumulators are touched too early or registers run
short; it says so as "Potential Performance Loss" / "is injected"). Every entry function in the logs must have
  - 0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads;
  - no ptxas warning and no such performance message naming it;
and every kernel of the table (cuda_kernel_table) must appear in the log of each target it is built for.
--expect-fail inverts the verdict: every function in the logs must be rejected (tests/cuda/audit_bad_resources.cu).
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import gpu_test_common as common  # noqa: E402

ENTRY_RE = re.compile(r"Compiling entry function '(\w+)' for '(sm_\w+)'")
PROPS_RE = re.compile(r"(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads")
USED_RE = re.compile(r"Used (\d+) registers(?:.*?(\d+) bytes smem)?")
PERF_RE = re.compile(r"Potential Performance Loss|is injected|warning", re.IGNORECASE)
NAMED_RE = re.compile(r"function '(\w+)'")


def parse_log(text):
    """{function: {"stack": int, "spill_st": int, "spill_ld": int, "regs": int, "smem": int, "messages": [...]}},
    plus messages that name no function."""
    funcs, loose, cur = {}, [], None
    for line in text.splitlines():
        m = ENTRY_RE.search(line)
        if m:
            cur = funcs.setdefault(m.group(1), {"messages": []})
            continue
        m = PROPS_RE.search(line)
        if m and cur is not None:
            cur["stack"], cur["spill_st"], cur["spill_ld"] = (int(g) for g in m.groups())
            continue
        m = USED_RE.search(line)
        if m and cur is not None:
            cur["regs"], cur["smem"] = int(m.group(1)), int(m.group(2) or 0)
            continue
        if PERF_RE.search(line):
            named = NAMED_RE.search(line)
            if named:
                message = re.sub(r"^ptxas\s+\w+\s*:\s*", "", line.strip())
                funcs.setdefault(named.group(1), {"messages": []})["messages"].append(message)
            else:
                loose.append(line.strip())
    return funcs, loose


def judge(name, f):
    problems = []
    if "stack" not in f:
        problems.append(f"{name}: no resource report (stack frame and spills) in the log")
    else:
        if f["stack"]:
            problems.append(f"{name}: {f['stack']} bytes stack frame (local memory)")
        if f["spill_st"] or f["spill_ld"]:
            problems.append(f"{name}: {f['spill_st']} bytes spill stores, {f['spill_ld']} bytes spill loads")
    problems += [f"{name}: {m}" for m in f["messages"]]
    return problems


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", action="append", default=[], help="ARCH=ptxas report (repeatable)")
    ap.add_argument("--table-exe", help="cuda_kernel_table: its kernels must all be in the logs")
    ap.add_argument("--expect-fail", action="store_true")
    args = ap.parse_args()
    by_arch = common.read_texts(args.log)
    if not by_arch:
        print("no ptxas logs")
        return 1
    bad = total = 0
    funcs_by_arch = {}
    for arch, texts in sorted(by_arch.items()):
        funcs, loose = funcs_by_arch.setdefault(arch, {}), []
        for t in texts:
            f, l = parse_log(t)
            funcs.update(f)
            loose += l
        for line in loose:
            print(f"FAIL sm_{arch}: {line}")
            bad += 0 if args.expect_fail else 1
        for name, f in sorted(funcs.items()):
            total += 1
            problems = judge(name, f)
            if args.expect_fail:
                print(f"{'REJECTED' if problems else 'ACCEPTED (wrong!)'} sm_{arch} {name}: "
                      f"{'; '.join(problems) or 'passed the audit'}")
                bad += 0 if problems else 1
            else:
                desc = f"{f.get('regs', '?')} registers, {f.get('smem', 0)} B shared, no spills, no stack"
                print(f"{'ok  ' if not problems else 'FAIL'} sm_{arch} {name}: " + ("; ".join(problems) or desc))
                bad += 1 if problems else 0
    if args.table_exe:
        for row in common.read_rows(args.table_exe, None):
            for arch in row[5].split():
                if row[1] not in funcs_by_arch.get(arch, {}):
                    print(f"FAIL sm_{arch}: {row[1]} ({row[0]}) is not in the ptxas report")
                    bad += 1
    print(f"{total} functions audited, {bad} not as expected")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
