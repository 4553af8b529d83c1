#!/usr/bin/env python3
"""Static audit of the generated code: each compute kernel's hot loop must contain exactly the counted
instructions the kernel claims, on the claimed register width, and each memory loop must be a vector loop of
its width (with streaming stores exactly where claimed).

Expectations come from the code (the kernel_table executable, or a table file for the negative test); the
binary is disassembled with `objdump -d --no-show-raw-insn` (GNU or LLVM objdump).

compute rows: the function must contain exactly one backward conditional jump (the hot loop). In that loop
body, for each '+'-separated mnemonic, the count of that mnemonic with all-operands of the claimed width must
equal instr_per_iter, no such mnemonic may appear on another width, and the destinations must be
instr_per_iter distinct registers (independent accumulators). AMX rows (width tmm) also need the operand tiles
register-resident (no tile load/store or LDTILECFG inside the loop), LDTILECFG before the loop and TILERELEASE
after it. TDPFP16PS is emitted as .byte (GCC 12 lacks -mamx-fp16): the audit sees it only through an objdump
that decodes AMX-FP16 (GNU binutils >= 2.40, LLVM >= 16), and says so when the loop holds undecodable bytes.
memory rows: some loop of the function must hold >= 4 packed memory-accessing instructions on the claimed width; no
wider register may appear in the function; nt rows must stream (movntpd, or movntps/movntdq, on the width)
and others must not.

--expect-fail inverts the verdict: every row must fail (proves the audit catches broken kernels).
"""
import argparse
import re
import subprocess
import sys

FUNC_RE = re.compile(r"^([0-9a-f]+) <([^>]+)>:$")
INSN_RE = re.compile(r"^\s*([0-9a-f]+):\s+(.*)$")
REG_RE = re.compile(r"%([xyzt]mm)(\d+)")
WIDER = {"xmm": ("ymm", "zmm"), "ymm": ("zmm",), "zmm": ()}


def disassemble(objdump, binary):
    out = subprocess.run([objdump, "-d", "--no-show-raw-insn", binary], check=True, capture_output=True,
                         text=True).stdout
    funcs, cur = {}, None
    for line in out.splitlines():
        m = FUNC_RE.match(line)
        if m:
            cur = funcs.setdefault(m.group(2), [])
            continue
        m = INSN_RE.match(line)
        if m and cur is not None:
            addr = int(m.group(1), 16)
            text = m.group(2).split("#")[0].strip()
            prefix = ""
            if text.startswith("{vex}"):
                prefix, text = "{vex} ", text[len("{vex}"):].strip()
            parts = text.split(None, 1)
            if not parts:
                continue
            mnemonic = prefix + parts[0]
            operands = parts[1] if len(parts) > 1 else ""
            cur.append((addr, mnemonic, operands))
    return funcs


def loops(insns):
    """(start, end) address pairs of backward conditional jumps inside the function."""
    result = []
    lo = insns[0][0]
    for addr, mnemonic, operands in insns:
        if mnemonic.startswith("j") and mnemonic != "jmp":
            m = re.match(r"(?:0x)?([0-9a-f]+)", operands)  # GNU objdump: "1a0 <f+0x70>", llvm-objdump: "0x1a0 <f+0x70>"
            if m:
                target = int(m.group(1), 16)
                if lo <= target <= addr:
                    result.append((target, addr))
    return result


def body(insns, loop):
    return [i for i in insns if loop[0] <= i[0] <= loop[1]]


def widths(operands):
    return {w for w, _ in REG_RE.findall(operands)}


def audit_compute(funcs, symbol, mnemonics, width, count):
    insns = funcs.get(symbol)
    if not insns:
        return f"symbol {symbol} not found"
    found = loops(insns)
    if len(found) != 1:
        return f"expected exactly one loop (backward conditional jump), found {len(found)}"
    loop = body(insns, found[0])
    if width == "tmm" and any(i[1].startswith("(bad)") or i[1] == ".byte" for i in loop):
        return "the loop holds bytes objdump cannot decode (AMX-FP16 needs GNU objdump >= 2.40 or LLVM >= 16)"
    for mn in mnemonics.split("+"):
        same = [i for i in loop if i[1] == mn]
        right = [i for i in same if widths(i[2]) == {width}]
        if len(right) != count:
            return f"loop has {len(right)} × '{mn} {width}', expected {count}"
        if len(same) != len(right):
            return f"loop has '{mn}' on other register widths"
        dests = {i[2].rsplit(",", 1)[-1].strip() for i in right}
        if len(dests) != count:
            return f"'{mn}' writes {len(dests)} distinct registers, expected {count} independent accumulators"
    if width == "tmm":
        return audit_tiles(insns, loop, found[0])
    return None


TILE_MEMORY = ("tileloadd", "tileloaddt1", "tilestored", "ldtilecfg", "sttilecfg", "tilezero")


def audit_tiles(insns, loop, span):
    """AMX: operands stay in tile registers; the configuration is loaded before the loop and released after."""
    inside = [i[1] for i in loop if i[1] in TILE_MEMORY]
    if inside:
        return f"tile memory/config instruction in the loop ({inside[0]}): operands must stay in tile registers"
    if not any(i[1] == "ldtilecfg" and i[0] < span[0] for i in insns):
        return "no ldtilecfg before the loop (the tile configuration is per thread)"
    if not any(i[1] == "tilerelease" and i[0] > span[1] for i in insns):
        return "no tilerelease after the loop"
    return None


def audit_memory(funcs, symbol, width, nt):
    insns = funcs.get(symbol)
    if not insns:
        return f"symbol {symbol} not found"
    for _, mn, ops in insns:
        bad = widths(ops) & set(WIDER[width])
        if bad:
            return f"uses {sorted(bad)} registers in a {width} kernel: {mn} {ops}"
    best = 0
    for lp in loops(insns):
        # Packed (…pd/…ps) instructions that touch memory: scalar movsd on an xmm register does not count.
        n = sum(1 for _, mn, ops in body(insns, lp)
                if width in widths(ops) and "(" in ops and mn.endswith(("pd", "ps")))
        best = max(best, n)
    if best < 4:
        return f"no vector loop on {width} (best loop has {best} memory operations on {width})"
    streams = [i for i in insns if "movnt" in i[1]]
    if nt:
        # Clang stores copied doubles with movntps/movntdq: the same full-vector streaming store.
        full = ("movntpd", "movntps", "movntdq")
        if not any(i[1].lstrip("v") in full and width in widths(i[2]) for i in streams):
            return f"no movntpd/ps/dq {width} streaming store"
        if not any(i[1] == "sfence" for i in insns):
            return "streaming stores without sfence"
    elif streams:
        return f"unexpected streaming store {streams[0][1]}"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--objdump", default="objdump")
    ap.add_argument("--table-exe", help="executable printing the expectations (kernel_table)")
    ap.add_argument("--table-file", help="file holding the expectations")
    ap.add_argument("--expect-fail", action="store_true")
    ap.add_argument("binary")
    args = ap.parse_args()
    if args.table_exe:
        table = subprocess.run([args.table_exe], check=True, capture_output=True, text=True).stdout
    else:
        with open(args.table_file) as f:
            table = f.read()
    funcs = disassemble(args.objdump, args.binary)
    rows = [r.split("\t") for r in table.splitlines() if r.strip() and not r.startswith("#")]
    if not rows:
        print("no expectations")
        return 1
    failures = 0
    for row in rows:
        kind, kid, variant, symbol = row[:4]
        if kind == "compute":
            why = audit_compute(funcs, symbol, row[4], row[5], int(row[6]))
            claim = f"{row[6]} × {row[4]} {row[5]}"
        elif kind == "memory":
            why = audit_memory(funcs, symbol, row[4], row[5] == "1")
            claim = f"{row[4]} loop" + (", streaming stores" if row[5] == "1" else "")
        else:
            print(f"bad row: {row}")
            return 1
        verdict = "ok  " if why is None else "FAIL"
        print(f"{verdict} {kid}/{variant} ({symbol}): {claim}" + ("" if why is None else f": {why}"))
        failures += why is not None
    if args.expect_fail:
        if failures != len(rows):
            print(f"--expect-fail: {len(rows) - failures} broken kernel(s) passed the audit")
            return 1
        print(f"all {len(rows)} broken kernels were caught")
        return 0
    print(f"{len(rows) - failures} of {len(rows)} kernels pass")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
