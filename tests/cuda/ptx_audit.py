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
import re
import subprocess
import sys

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


def loop_bodies(body):
    labels = {}
    loops = []
    for i, line in enumerate(body):
        m = LABEL_RE.match(line)
        if m:
            labels[m.group(1)] = i
        m = BRANCH_RE.match(line)
        if m and m.group(1) in labels:  # target seen before: a backward branch
            loops.append(body[labels[m.group(1)]:i + 1])
    return loops


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
    problems = []
    try:
        opi = ops_per_instruction(instr)
    except ValueError as e:
        return [str(e)]
    if count * opi != ops:
        problems.append(f"{count} x {opi} ops per {instr} = {count * opi}, but the kernel declares {ops:g} per iteration")
    for arch in archs.split():
        texts = ptx_by_arch.get(arch)
        if texts is None:
            problems.append(f"no PTX for target {arch}")
            continue
        body = None
        for t in texts:
            body = entries(t).get(symbol, body)
        if body is None:
            problems.append(f"sm_{arch}: entry {symbol} not found")
            continue
        # The timed loop is the one loop holding instructions of the expected family (set-up loops, such as a
        # copy into shared memory, hold none); none or several is a failure.
        loops = [l for l in loop_bodies(body) if any(family(t) == family(instr) for t in tokens(l))]
        if len(loops) != 1:
            problems.append(f"sm_{arch}: {symbol} has {len(loops)} loops with {family(instr)} instructions, "
                            "expected exactly one (the timed loop)")
            continue
        toks = tokens(loops[0])
        found = sum(1 for t in toks if t == instr)
        others = sorted({t for t in toks if family(t) == family(instr) and t != instr})
        if found != count:
            problems.append(f"sm_{arch}: {symbol} loop has {found} x {instr}, expected {count}")
        if others:
            problems.append(f"sm_{arch}: {symbol} loop has other {family(instr)} forms: {', '.join(others)}")
    return problems


def main():
    ap = argparse.ArgumentParser()
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--table-exe")
    src.add_argument("--table-file")
    ap.add_argument("--ptx", action="append", default=[], help="ARCH=file.ptx (repeatable)")
    ap.add_argument("--expect-fail", action="store_true")
    args = ap.parse_args()
    if args.table_exe:
        table = subprocess.run([args.table_exe], check=True, capture_output=True, text=True).stdout
    else:
        table = open(args.table_file).read()
    rows = [l.split("\t") for l in table.splitlines() if l.strip() and not l.startswith("#")]
    ptx_by_arch = {}
    for spec in args.ptx:
        arch, path = spec.split("=", 1)
        ptx_by_arch.setdefault(arch, []).append(open(path).read())
    if not rows:
        print("no kernel rows")
        return 1
    bad = 0
    for row in rows:
        if len(row) != 6:
            print(f"malformed row: {row}")
            return 1
        problems = audit_row(row, ptx_by_arch)
        ok = not problems
        if args.expect_fail:
            print(f"{'REJECTED' if not ok else 'ACCEPTED (wrong!)'} {row[0]}: {'; '.join(problems) or 'passed the audit'}")
            bad += 0 if not ok else 1
        else:
            print(f"{'ok  ' if ok else 'FAIL'} {row[0]} [{row[5]}]: {row[3]} x {row[2]}" + ("" if ok else " -- " + "; ".join(problems)))
            bad += 0 if ok else 1
    print(f"{len(rows) - bad} of {len(rows)} rows as expected")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
