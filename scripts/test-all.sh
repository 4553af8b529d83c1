#!/usr/bin/env bash
# Every test, in three stages (the README's test command after scripts/install-deps.sh; what .ci/run runs):
#   release   cmake --workflow --preset ci: Release build with CUDA/HIP plugins and their static audits, every
#             test, -Werror
#   sanitize  cmake --workflow --preset ci-sanitize: the dev preset's Debug + ASan/UBSan build (lean: no GPU
#             plugins, no benchmarks), the unit, core, kernel, rules and CLI tests under the sanitizers
#   fuzz      bench/fuzz/run.sh --seconds 20: every libFuzzer harness (tests/fuzz) for 20 s (fuzz preset, clang 14)
# Stops at the first stage that fails; prints each stage's wall time.
# Usage: scripts/test-all.sh [STAGE...]      default: release sanitize fuzz
set -euo pipefail
cd "$(dirname "$0")/.."

stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=(release sanitize fuzz)
for s in "${stages[@]}"; do
  case "$s" in
    release|sanitize|fuzz) ;;
    *) echo "test-all: unknown stage '$s' (release, sanitize, fuzz)" >&2; exit 2 ;;
  esac
done

times=()
for s in "${stages[@]}"; do
  echo "==== test-all: stage $s ($(date -u +%H:%M:%S) UTC, load average $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  start=$SECONDS
  rc=0
  case "$s" in
    release) cmake --workflow --preset ci || rc=$? ;;
    sanitize) cmake --workflow --preset ci-sanitize || rc=$? ;;
    fuzz) bench/fuzz/run.sh --seconds 20 --jobs "$(nproc)" --out build/fuzz-runs/ci || rc=$? ;;
  esac
  times+=("$s $((SECONDS - start)) s")
  if [ "$rc" -ne 0 ]; then
    echo "==== test-all: stage $s failed (exit status $rc); times: ${times[*]}" >&2
    exit "$rc"
  fi
done
echo "==== test-all: passed; times: $(IFS=,; echo "${times[*]}")" >&2
