#!/usr/bin/env python3
"""Static audit of the CUDA kernels' generated PTX (no GPU needed).

For every kernel row of the table (printed by cuda_kernel_table from kernels/cuda/cuda_kernels.hpp, or read from a
file for the negative test) and every target it is built for, the kernel's entry in that target's PTX must have
exactly one loop (backward branch) holding instructions of the expected family (the timed loop), and in its body:
  - the expected instruction exactly instr_per_iter times,
  - no other instruction of the same family (another fma/mma/wgmma/dp4a form would mean the wrong instruction),
  - instr_per_iter x (operations per instruction, derived here from the PTX mnemonic itself: 2 per FMA lane,
    8 per dp4a, 2*M*N*K per mma/wgmma shape) == the kernel's declared operations per iteration.
--expect-fail inverts the verdict: every row must fail (proves the audit rejects broken kernels).
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import gpu_test_common as common  # noqa: E402  (tests/gpu_test_common.py: shared with the HIP assembly audit)

LABEL_RE = re.compile(r"^\s*(\$L__\w+):")
BRANCH_RE = re.compile(r"^\s*(?:@!?%p\d+\s+)?bra(?:\.uni)?\s+(\$L__\w+);")
SHAPE_RE = re.compile(r"\.m(\d+)n(\d+)k(\d+)\.")
WAIT_RE = re.compile(r"^\s*wgmma\.wait_group\.sync\.aligned\s+(\d+);")


def family(token):
    if token.startswith("wgmma.mma_async"):
        return "wgmma.mma_async"
    return token.split(".")[0]


def ops_per_instruction(token):
    m = SHAPE_RE.search(token + ".")
    if token.startswith(("mma.", "wgmma.mma_async")) and m:
        return 2 * int(m.group(1)) * int(m.group(2)) * int(m.group(3))
    if token.startswith("dp4a"):
        return 8
    if token.startswith("fma."):
        return 4 if token.endswith("x2") else 2
    raise ValueError(f"no op count known for {token}")


def entries(ptx_text):
    """symbol -> list of lines of its body (braces counted: inline asm opens and closes its own scopes)."""
    out, cur, name, depth = {}, None, None, 0
    for line in ptx_text.splitlines():
        m = re.match(r"^\.(?:visible\s+|weak\s+)?\.entry\s+(\w+)\(", line)
        if m:
            name, cur, depth = m.group(1), [], 0
            continue
        if cur is None:
            continue
        code = line.split("//")[0]
        opened = depth > 0
        depth += code.count("{") - code.count("}")
        cur.append(line)
        if opened and depth == 0:
            out[name], cur = cur, None
    return out


def tokens(lines):
    toks = []
    for line in lines:
        s = line.strip().lstrip("{").strip()
        if not s or s.startswith(("//", "$", ".", "}")):
            continue
        if s.startswith("@"):
            s = s.split(None, 1)[1] if " " in s or "\t" in s else s
        toks.append(s.split()[0].rstrip(";"))
    return toks


def audit_row(row, ptx_by_arch):
    kid, symbol, instr, count, ops, archs = row
    count, ops = int(count), float(ops)
    problems, fatal = common.op_count_problems(instr, count, ops, ops_per_instruction)
    if fatal:
        return problems
    for arch in archs.split():
        body, missing = common.function_body(ptx_by_arch, arch, symbol, "PTX", f"sm_{arch}", noun="entry")
        if missing:
            problems.append(missing)
            continue
        # The timed loop is the one loop holding instructions of the expected family (set-up loops, such as a
        # copy into shared memory, hold none); none or several is a failure.
        loops = common.loop_bodies(body, LABEL_RE, BRANCH_RE)
        problems += common.timed_loop_problems(f"sm_{arch}", symbol, loops, instr, count, family, tokens,
                                               loops_note=" (the timed loop)", other_word="forms")
        if family(instr) == "wgmma.mma_async":
            problems += wgmma_pipeline_problems(f"sm_{arch}", symbol, loops, count)
    return problems


def wgmma_pipeline_problems(where, symbol, loops, count):
    """The wgmma timed loop must commit once per iteration and wait on an older group, never on all (wait_group
    0): prints the loop shape it found."""
    timed = [l for l in loops if any(family(t) == "wgmma.mma_async" for t in tokens(l))]
    if len(timed) != 1:
        return []  # reported by timed_loop_problems
    toks = tokens(timed[0])
    commits = toks.count("wgmma.commit_group.sync.aligned")
    waits = [int(m.group(1)) for m in (WAIT_RE.match(line) for line in timed[0]) if m]
    print(f"  {where} {symbol}: loop of {count} wgmma.mma_async, {commits} commit_group, wait_group "
          f"{', '.join(map(str, waits)) or 'none'} ({waits[0] + 1 if len(waits) == 1 else '?'} groups in flight)")
    problems = []
    if commits != 1:
        problems.append(f"{where}: {symbol} loop has {commits} wgmma.commit_group, expected 1 per iteration")
    if len(waits) != 1:
        problems.append(f"{where}: {symbol} loop has {len(waits)} wgmma.wait_group, expected 1 per iteration")
    elif waits[0] < 1:
        problems.append(f"{where}: {symbol} loop waits with wgmma.wait_group 0: the tensor pipe drains at every "
                        "iteration (wait on an older group: N >= 1)")
    return problems


def main():
    ap = argparse.ArgumentParser()
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--table-exe")
    src.add_argument("--table-file")
    ap.add_argument("--ptx", action="append", default=[], help="ARCH=file.ptx (repeatable)")
    ap.add_argument("--expect-fail", action="store_true")
    args = ap.parse_args()
    rows = common.read_rows(args.table_exe, args.table_file)
    parsed = common.parse_texts(common.read_texts(args.ptx), entries)
    return common.run_rows(rows, audit_row, parsed, args.expect_fail,
                           rejected_name=lambda row: row[0],
                           ok_line=lambda row: f"{row[0]} [{row[5]}]: {row[3]} x {row[2]}")


if __name__ == "__main__":
    sys.exit(main())
