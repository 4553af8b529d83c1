#!/usr/bin/env python3
"""Static audit of the CUDA kernels' machine code (SASS), where a disassembler is available (no GPU needed).

The PTX audit (ptx_audit.py) proves what we asked for; this one proves what ptxas made of it, which is what runs.
For every kernel row of the table (cuda_kernel_table --runs-on, or a file for the negative test) and every target it
is built for *and measured on* (its compute capability in the row's runs_on column), the kernel's function in that
target's cubin (nvdisasm -c) must have exactly one loop (backward branch) holding machine instructions of the
expected family, and in its body:
  - the native instruction for the PTX one exactly instr_per_iter times (ptxas neither unrolled, split nor dropped
    it): FFMA for fma.rn.f32, HGMMA.64x128x16.F32.BF16 for the BF16 wgmma, QMMA.16832… for FP8 mma.sync, …;
  - no other instruction of its family (an FP8 mma.sync lowered to HMMA is emulated, not native: a failure);
  - that count x (operations per instruction, derived here from the SASS mnemonic: its shape, or 2 per FMA lane)
    == the kernel's declared operations per iteration.
Targets where a kernel is built but not measured (FP8 mma.sync on sm_90a, say) are listed with what their loop
holds, unjudged. `HFMA2 Rd, -RZ, RZ, imm` is ptxas' move-immediate idiom and does not count as an FMA.

nvdisasm: --nvdisasm, else $PROBE_NVDISASM, nvdisasm on PATH, $CUDA_HOME/bin, /usr/local/cuda/bin. The CUDA
toolkit on our machines has none, so there the audit exits 77 (ctest: skipped) and says so; the PTX audit still
runs. --expect-fail inverts the verdict: every row must fail (proves the audit rejects broken kernels).
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import gpu_test_common as common  # noqa: E402

SKIP = 77
LABEL_RE = re.compile(r"^\s*(\.L_x_\d+):")
# `@!P0 BRA `(.L_x_4)` (sm_80…sm_90a) or `BRA.U UP0, `(.L_x_4)` (sm_100a, sm_120: a uniform predicate operand).
BRANCH_RE = re.compile(r"^\s*/\*[0-9a-f]+\*/\s+(?:@!?U?P[0-9T]\s+)?BRA(?:\.U)?\s+(?:!?U?P[0-9T],\s*)?`\((\.L_x_\d+)\)")
INSTR_RE = re.compile(r"^\s*/\*[0-9a-f]+\*/\s+(?:@!?U?P[0-9T]\s+)?([A-Z][A-Za-z0-9_.]*)\s*([^;]*);")
FUNC_RE = re.compile(r"^(\w+):\s*$")

# The native machine instruction of each PTX instruction the kernels time (one SASS instruction per PTX one).
# FP16/BF16 FMAs may also go to the second half-precision pipe (HFMA2.MMA), the same operation.
NATIVE = {
    "fma.rn.f64": ("DFMA",),
    "fma.rn.f32": ("FFMA",),
    "fma.rn.f16x2": ("HFMA2", "HFMA2.MMA"),
    "fma.rn.bf16x2": ("HFMA2.BF16_V2", "HFMA2.MMA.BF16_V2"),
    "dp4a.s32.s32": ("IDP.4A.S8.S8",),
    "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32": ("HMMA.16816.F32",),
    "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32": ("HMMA.16816.F32.BF16",),
    "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32": ("HMMA.1688.F32.TF32",),
    "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32": ("IMMA.16832.S8.S8",),
    "mma.sync.aligned.m8n8k4.row.col.f64.f64.f64.f64": ("DMMA.884", "DMMA.8x8x4"),
    "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32": ("QMMA.16832.F32.E4M3.E4M3",),
    "mma.sync.aligned.m16n8k32.row.col.f32.e5m2.e5m2.f32": ("QMMA.16832.F32.E5M2.E5M2",),
    "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16": ("HGMMA.64x128x16.F32",),
    "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16": ("HGMMA.64x128x16.F32.BF16",),
    "wgmma.mma_async.sync.aligned.m64n128k8.f32.tf32.tf32": ("HGMMA.64x128x8.F32.TF32",),
    "wgmma.mma_async.sync.aligned.m64n128k32.f32.e4m3.e4m3": ("QGMMA.64x128x32.F32.E4M3.E4M3",),
    "wgmma.mma_async.sync.aligned.m64n128k32.s32.s8.s8": ("IGMMA.64x128x32.S8.S8",),
}
MMA_FAMILY_RE = re.compile(r"^[A-Z]?G?MMA\.")
WG_SHAPE_RE = re.compile(r"\.(\d+)x(\d+)x(\d+)\b")
SYNC_SHAPE_RE = re.compile(r"^[A-Z]MMA\.(16|8)(8)(\d+)(?:\.|$)")


def family(opcode):
    """Instructions that do the same kind of work: every tensor instruction is one family, FMA forms by root."""
    if MMA_FAMILY_RE.match(opcode):
        return "MMA"
    root = opcode.split(".")[0]
    return {"IDP": "IDP"}.get(root, root)


def ops_per_instruction(opcode):
    """Operations per SASS instruction for one unit (thread for FMAs, warp for mma.sync, warpgroup for wgmma)."""
    if MMA_FAMILY_RE.match(opcode):
        m = WG_SHAPE_RE.search(opcode) or SYNC_SHAPE_RE.match(opcode)
        if not m:
            raise ValueError(f"no shape in {opcode}")
        return 2 * int(m.group(1)) * int(m.group(2)) * int(m.group(3))
    if opcode.startswith("IDP.4A"):
        return 8
    if opcode.startswith("HFMA2"):
        return 4
    if opcode in ("FFMA", "DFMA"):
        return 2
    raise ValueError(f"no op count known for {opcode}")


def functions(sass):
    """symbol -> its lines (from its label to the next section)."""
    out, cur = {}, None
    for line in sass.splitlines():
        m = FUNC_RE.match(line)
        if m and not line.startswith("."):
            cur = out.setdefault(m.group(1), [])
            continue
        if line.startswith("//----") or line.lstrip().startswith(".section"):
            cur = None
        if cur is not None:
            cur.append(line)
    return out


def tokens(lines):
    toks = []
    for line in lines:
        m = INSTR_RE.match(line)
        if not m:
            continue
        opcode, operands = m.group(1), [o.strip() for o in m.group(2).split(",")]
        if opcode.startswith("HFMA2") and operands[1:3] == ["-RZ", "RZ"]:
            opcode = "MOV(HFMA2 idiom)"
        toks.append(opcode)
    return toks


def cc_of(arch):
    return re.sub(r"[a-z]+$", "", arch)


def audit_target(where, symbol, body, native, count, ops):
    loops = common.loop_bodies(body, LABEL_RE, BRANCH_RE)
    problems, split = common.timed_loop_check(where, symbol, loops, native, count, family, tokens)
    found = sum(split.values())
    sass_ops = found * ops_per_instruction(native[0])
    if found == count and sass_ops != ops:
        problems.append(f"{where}: {found} x {ops_per_instruction(native[0])} ops per {native[0]} = {sass_ops}, "
                        f"but the kernel declares {ops:g} per iteration")
    return problems, split


def describe_loop(body):
    """What the tensor/FMA instructions of a function's loops are, for targets that are not judged."""
    counts = {}
    for loop in common.loop_bodies(body, LABEL_RE, BRANCH_RE):
        for t in tokens(loop):
            if family(t) in ("MMA", "FFMA", "DFMA", "HFMA2", "IDP"):
                counts[t] = counts.get(t, 0) + 1
    return ", ".join(f"{n} x {t}" for t, n in sorted(counts.items())) or "no FMA or tensor instruction in a loop"


def runs_on_of(row):
    return set(row[6].split()) if len(row) > 6 else {cc_of(a) for a in row[5].split()}


def judged_targets(row):
    return [a for a in row[5].split() if cc_of(a) in runs_on_of(row)]


def make_audit_row(notes):
    def audit_row(row, sass_by_arch):
        kid, symbol, instr, count, ops, archs = row[:6]
        runs_on = runs_on_of(row)
        count, ops = int(count), float(ops)
        native = NATIVE.get(instr)
        if native is None:
            return [f"no native SASS instruction known for {instr}"]
        problems = []
        for arch in archs.split():
            body, missing = common.function_body(sass_by_arch, arch, symbol, "cubin", f"sm_{arch}")
            if missing:
                problems.append(missing)
                continue
            if cc_of(arch) not in runs_on:
                notes.append(f"     {kid} sm_{arch}: not measured there; its loops hold {describe_loop(body)}")
                continue
            found_problems, split = audit_target(f"sm_{arch}", symbol, body, native, count, ops)
            problems += found_problems
            if split and len(split) > 1:  # both half-precision pipes: worth knowing where the figure comes from
                notes.append(f"     {kid} sm_{arch}: " + " + ".join(f"{n} x {t}" for t, n in sorted(split.items())))
        return problems
    return audit_row


def find_nvdisasm(explicit):
    candidates = [explicit, os.environ.get("PROBE_NVDISASM"), shutil.which("nvdisasm")]
    for home in (os.environ.get("CUDA_HOME"), os.environ.get("CUDA_PATH"), "/usr/local/cuda"):
        if home:
            candidates.append(os.path.join(home, "bin", "nvdisasm"))
    for c in candidates:
        if c and os.path.isfile(c) and os.access(c, os.X_OK):
            return c
    return None


def main():
    ap = argparse.ArgumentParser()
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--table-exe")
    src.add_argument("--table-file")
    ap.add_argument("--cubin", action="append", default=[], help="ARCH=file.cubin (repeatable)")
    ap.add_argument("--nvdisasm", default="")
    ap.add_argument("--expect-fail", action="store_true")
    args = ap.parse_args()
    nvdisasm = find_nvdisasm(args.nvdisasm)
    if not nvdisasm:
        print("SKIPPED: no nvdisasm (not in the CUDA toolkit on this machine; set PROBE_NVDISASM or put one on PATH). "
              "The PTX audit (cuda.ptx_audit) still checks every kernel.")
        return SKIP
    version = subprocess.run([nvdisasm, "--version"], capture_output=True, text=True).stdout.strip().splitlines()
    print(f"nvdisasm: {nvdisasm} ({version[-1] if version else 'version unknown'})")
    sass_by_arch = {}
    for spec in args.cubin:
        arch, path = spec.split("=", 1)
        r = subprocess.run([nvdisasm, "-c", path], capture_output=True, text=True)
        if r.returncode != 0:
            print(f"FAIL nvdisasm cannot read {path} (sm_{arch}): {r.stderr.strip()}")
            return 1
        sass_by_arch.setdefault(arch, []).append(functions(r.stdout))  # parsed once, looked up per row
    rows = common.read_rows(args.table_exe, args.table_file, ("--runs-on",) if args.table_exe else ())
    notes = []
    status = common.run_rows(rows, make_audit_row(notes), sass_by_arch, args.expect_fail,
                             rejected_name=lambda row: row[0],
                             ok_line=lambda row: f"{row[0]} [{' '.join(judged_targets(row))}]: {row[3]} x "
                                                 f"{NATIVE.get(row[2], ('?',))[0]}",
                             columns=(6, 7))
    for n in notes:
        print(n)
    return status


if __name__ == "__main__":
    sys.exit(main())
