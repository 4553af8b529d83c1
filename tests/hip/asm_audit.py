#!/usr/bin/env python3
"""Static audit of the HIP kernels' generated AMDGPU assembly (no GPU needed).

For every row of the kernel table (printed by hip_kernel_table from kernels/hip/hip_kernels.hpp, or read from a
file for the negative test): id, symbol, target (gfx90a, gfx940), instruction, instructions per iteration, declared
operations per iteration. The kernel's function in that target's assembly (`-S --offload-device-only`) must have
exactly one loop (backward branch) holding instructions of the expected family (the timed loop), and its body:
  - holds the expected instruction exactly `count` times,
  - holds no other instruction of the same family (another MFMA shape, a scalar FMA where a packed one is
    expected, a half-rate non-_1k BF16 MFMA ...),
  - count x (operations per instruction, derived here from the mnemonic: 2*M*N*K*blocks per wavefront MFMA,
    4 per packed FMA lane, 2 per FMA, 8 per dot4 of int8) == the declared operations per iteration.
Encoding suffixes (_e32, _e64) are ignored, and v_fmac_X (the FMA with its accumulator tied to the destination)
counts as v_fma_X. --expect-fail inverts the verdict: every row must fail (proves the audit rejects broken kernels).
"""
import argparse
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import gpu_test_common as common  # noqa: E402  (tests/gpu_test_common.py: shared with the CUDA PTX audit)

LABEL_RE = re.compile(r"^(\.LBB\w+):")
BRANCH_RE = re.compile(r"^\s+s_(?:cbranch_\w+|branch)\s+(\.LBB\w+)")
SHAPE_RE = re.compile(r"_(\d+)x(\d+)x(\d+)")
# Multi-block MFMA forms (CDNA ISA): several independent products per instruction.
BLOCKS = {
    "v_mfma_f32_32x32x1f32": 2, "v_mfma_f32_16x16x1f32": 4, "v_mfma_f32_4x4x1f32": 16,
    "v_mfma_f32_32x32x4f16": 2, "v_mfma_f32_16x16x4f16": 4, "v_mfma_f32_4x4x4f16": 16,
    "v_mfma_i32_32x32x4i8": 2, "v_mfma_i32_16x16x4i8": 4, "v_mfma_i32_4x4x4i8": 16,
    "v_mfma_f32_32x32x2bf16": 2, "v_mfma_f32_16x16x2bf16": 4, "v_mfma_f32_4x4x2bf16": 16,
    "v_mfma_f32_32x32x4bf16_1k": 2, "v_mfma_f32_16x16x4bf16_1k": 4, "v_mfma_f32_4x4x4bf16_1k": 16,
    "v_mfma_f64_4x4x4f64": 4,
    "v_mfma_f32_32x32x1_2b_f32": 2, "v_mfma_f32_16x16x1_4b_f32": 4, "v_mfma_f32_4x4x1_16b_f32": 16,
    "v_mfma_f32_32x32x4_2b_f16": 2, "v_mfma_f32_16x16x4_4b_f16": 4, "v_mfma_f32_4x4x4_16b_f16": 16,
    "v_mfma_f32_32x32x4_2b_bf16": 2, "v_mfma_f32_16x16x4_4b_bf16": 4, "v_mfma_f32_4x4x4_16b_bf16": 16,
    "v_mfma_i32_32x32x4_2b_i8": 2, "v_mfma_i32_16x16x4_4b_i8": 4, "v_mfma_i32_4x4x4_16b_i8": 16,
    "v_mfma_f64_4x4x4_4b_f64": 4,
}


def normalize(tok):
    tok = re.sub(r"_(e32|e64|sdwa|dpp)$", "", tok)
    return re.sub(r"^v_fmac_", "v_fma_", tok)


def family(tok):
    if tok.startswith("v_mfma"):
        return "mfma"
    if tok.startswith(("v_fma_", "v_pk_fma_", "v_mul_", "v_add_", "v_pk_mul_", "v_pk_add_", "v_mad_")):
        # multiplies and adds belong to the FMA family: an FMA split into mul + add must be caught
        return "fma" if not re.match(r"v_(add|mad)_(u|i|co|nc)", tok) else "int"
    if tok.startswith("v_dot"):
        return "dot"
    return tok


def ops_per_instruction(tok):
    if tok.startswith("v_mfma"):
        m = SHAPE_RE.search(tok)
        if not m:
            raise ValueError(f"no MFMA shape in {tok}")
        return 2 * int(m.group(1)) * int(m.group(2)) * int(m.group(3)) * BLOCKS.get(tok, 1)
    if tok.startswith("v_pk_fma_"):
        return 4
    if tok.startswith("v_fma_"):
        return 2
    if re.match(r"v_dot4c?_i32_[iu]8", tok):
        return 8
    raise ValueError(f"no op count known for {tok}")


def functions(asm_text):
    """symbol -> lines from its label to .Lfunc_end."""
    out, cur, name = {}, None, None
    for line in asm_text.splitlines():
        m = re.match(r"^([A-Za-z_]\w*):", line)
        if m:
            name, cur = m.group(1), []
            continue
        if cur is None:
            continue
        if line.startswith(".Lfunc_end"):
            out[name], cur = cur, None
            continue
        cur.append(line)
    return out


def tokens(lines):
    toks = []
    for line in lines:
        s = line.split(";")[0].strip()
        if not s or s.startswith(".") or s.endswith(":"):
            continue
        toks.append(normalize(s.split()[0]))
    return toks


def audit_row(row, asm_by_target):
    kid, symbol, target, instr, count, ops = row
    instr, count, ops = normalize(instr), int(count), float(ops)
    problems, fatal = common.op_count_problems(instr, count, ops, ops_per_instruction)
    if fatal:
        return problems
    body, missing = common.function_body(asm_by_target, target, symbol, "assembly", target)
    if missing:
        return problems + [missing]
    loops = common.loop_bodies(body, LABEL_RE, BRANCH_RE)
    return problems + common.timed_loop_problems(target, symbol, loops, instr, count, family, tokens)


def main():
    ap = argparse.ArgumentParser()
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--table-exe")
    src.add_argument("--table-file")
    ap.add_argument("--asm", action="append", default=[], help="TARGET=file.s (repeatable)")
    ap.add_argument("--expect-fail", action="store_true")
    args = ap.parse_args()
    rows = common.read_rows(args.table_exe, args.table_file)
    parsed = common.parse_texts(common.read_texts(args.asm), functions)
    return common.run_rows(rows, audit_row, parsed, args.expect_fail,
                           rejected_name=lambda row: f"{row[0]} [{row[2]}]",
                           ok_line=lambda row: f"{row[0]} [{row[2]}]: {row[4]} x {row[3]} = {float(row[5]):g} ops/iter")


if __name__ == "__main__":
    sys.exit(main())
