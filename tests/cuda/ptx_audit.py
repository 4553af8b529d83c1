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
