"""What the CUDA and HIP backends' Python tests have in common.

The static audits of the GPU kernels (tests/cuda/ptx_audit.py, tests/hip/asm_audit.py): the kernel table and the
generated code are read the same way, the timed loop is found and counted the same way, and rows are judged and
reported the same way. Each audit supplies what is its own: the parsing of its assembly dialect (functions, labels,
branches, tokens), instruction families and operations per instruction.

The listing tests without a GPU (tests/cuda/test_no_driver.py, tests/hip/test_no_device.py): probe_list()."""
import argparse
import json
import os
import subprocess
import sys
import tempfile


def probe_list():
    """Parses --probe and --plugin, runs `probe --list --json` and echoes its output; exits on a non-zero status.
    Returns (args, the completed process, the JSON document)."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--probe", required=True)
    ap.add_argument("--plugin", required=True)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        out_json = os.path.join(tmp, "list.json")
        r = subprocess.run([args.probe, "--list", "--json", out_json], capture_output=True, text=True, timeout=120)
        print(r.stdout)
        print(r.stderr, file=sys.stderr)
        if r.returncode != 0:
            sys.exit(f"probe --list exited {r.returncode}")
        doc = json.load(open(out_json))
    return args, r, doc


def loop_bodies(body, label_re, branch_re):
    """The loops of a function body: the lines from a label to a branch back to it."""
    labels, loops = {}, []
    for i, line in enumerate(body):
        m = label_re.match(line)
        if m:
            labels[m.group(1)] = i
        m = branch_re.match(line)
        if m and m.group(1) in labels:  # target seen before: a backward branch
            loops.append(body[labels[m.group(1)]:i + 1])
    return loops


def op_count_problems(instr, count, ops, ops_per_instruction):
    """(problems, fatal): instr_per_iter x operations per instruction must equal the declared operations."""
    try:
        opi = ops_per_instruction(instr)
    except ValueError as e:
        return [str(e)], True
    if count * opi != ops:
        problem = f"{count} x {opi} ops per {instr} = {count * opi}, but the kernel declares {ops:g} per iteration"
        return [problem], False
    return [], False


def timed_loop_check(where, symbol, loops, instr, count, family, tokens, loops_note="", other_word="instructions"):
    """The timed loop is the one loop holding instructions of the expected family (set-up loops hold none); it must
    hold `instr` (one form, or a tuple of equivalent forms) exactly `count` times and no other instruction of its
    family. (problems, {form: count found})."""
    forms = (instr,) if isinstance(instr, str) else tuple(instr)
    fam = family(forms[0])
    loops = [l for l in loops if any(family(t) == fam for t in tokens(l))]
    if len(loops) != 1:
        return [f"{where}: {symbol} has {len(loops)} loops with {fam} instructions, expected exactly one"
                f"{loops_note}"], {}
    problems = []
    toks = tokens(loops[0])
    split = {f: toks.count(f) for f in forms if f in toks}
    found = sum(split.values())
    others = sorted({t for t in toks if family(t) == fam and t not in forms})
    if found != count:
        problems.append(f"{where}: {symbol} loop has {found} x {'/'.join(forms)}, expected {count}")
    if others:
        problems.append(f"{where}: {symbol} loop has other {fam} {other_word}: {', '.join(others)}")
    return problems, split


def timed_loop_problems(*args, **kwargs):
    """timed_loop_check's problems alone."""
    return timed_loop_check(*args, **kwargs)[0]


def parse_texts(texts_by_key, parse):
    """{key: [file text, ...]} -> {key: [parse(text), ...]}: each file parsed once, not once per kernel row."""
    return {k: [parse(t) for t in texts] for k, texts in texts_by_key.items()}


def function_body(parsed_by_key, key, symbol, what, where, noun="function"):
    """(the body of `symbol` in the parsed files of target `key`, None) or (None, the problem)."""
    parsed = parsed_by_key.get(key)
    if parsed is None:
        return None, f"no {what} for target {key}"
    body = None
    for functions in parsed:
        body = functions.get(symbol, body)
    if body is None:
        return None, f"{where}: {noun} {symbol} not found"
    return body, None


def read_rows(table_exe, table_file, exe_args=()):
    """The kernel table's rows (tab-separated; blank lines and # comments skipped)."""
    if table_exe:
        table = subprocess.run([table_exe, *exe_args], check=True, capture_output=True, text=True).stdout
    else:
        table = open(table_file).read()
    return [l.split("\t") for l in table.splitlines() if l.strip() and not l.startswith("#")]


def read_texts(specs):
    """KEY=path arguments (repeatable per key) -> {key: [file text, ...]}."""
    by_key = {}
    for spec in specs:
        key, path = spec.split("=", 1)
        by_key.setdefault(key, []).append(open(path).read())
    return by_key


def run_rows(rows, audit_row, texts, expect_fail, rejected_name, ok_line, columns=(6,)):
    """Audits every row, prints a line per row and a summary; the exit status. --expect-fail inverts the verdict:
    every row must fail. rejected_name(row) names a row in the expect-fail lines, ok_line(row) describes a row;
    a row must have one of `columns` fields."""
    if not rows:
        print("no kernel rows")
        return 1
    bad = 0
    for row in rows:
        if len(row) not in columns:
            print(f"malformed row: {row}")
            return 1
        problems = audit_row(row, texts)
        ok = not problems
        if expect_fail:
            print(f"{'REJECTED' if not ok else 'ACCEPTED (wrong!)'} {rejected_name(row)}: "
                  f"{'; '.join(problems) or 'passed the audit'}")
            bad += 0 if not ok else 1
        else:
            print(f"{'ok  ' if ok else 'FAIL'} {ok_line(row)}" + ("" if ok else " -- " + "; ".join(problems)))
            bad += 0 if ok else 1
    print(f"{len(rows) - bad} of {len(rows)} rows as expected")
    return 1 if bad else 0
