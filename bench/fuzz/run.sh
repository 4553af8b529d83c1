#!/usr/bin/env bash
# Runs the libFuzzer harnesses (tests/fuzz/fuzz_<name>.cpp, built by the `fuzz` preset: clang 14, ASan + UBSan)
# for a fixed time each, every one on a working copy of its seed corpus (tests/fuzz/corpus/<name>/; with the
# libFuzzer dictionary tests/fuzz/fuzz_<name>.dict when there is one), and prints a
# summary: seconds, executions, exec/s, coverage (libFuzzer's cov: edges and ft: features), corpus size, crashes.
# Exit status 1 when any harness crashed (a crash, leak, timeout, out-of-memory or sanitizer report: the input is
# kept in <out>/<name>/artifacts/), 2 on a usage or build error, else 0. Everything runs under `nice`.
#
# Usage: bench/fuzz/run.sh [options] [NAME...]        NAME: rules, chips, ... (or fuzz_rules); default: all
#   --seconds N        fuzzing time per harness (default 600)
#   --jobs N           harnesses run side by side (default 1); each one is single-threaded
#   --out DIR          output folder (default build/fuzz-runs/<UTC time>): per harness corpus/, artifacts/, log.txt;
#                      summary.txt and summary.tsv
#   --merge-corpus     afterwards, merge the inputs that reached new coverage into tests/fuzz/corpus/<name>/
#                      (libFuzzer -merge=1: the seeds stay, only inputs adding features are added; review, commit)
#   --unit-timeout N   one input running longer than N s is a finding (default 10)
#   --rss-limit-mb N   memory limit per harness (default 2048)
#   --no-build         use build/fuzz as it is
#   --list             print the harness names and exit
# Reproduce a crash: build/fuzz/fuzz/fuzz_<name> <out>/<name>/artifacts/crash-...
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

seconds=600
jobs=1
out=""
merge=0
unit_timeout=10
rss_limit=2048
build=1
list=0
names=()
usage() { sed -n "2,/^set -euo/p" "$0" | sed "\$d;s/^# \{0,1\}//"; exit "${1:-2}"; }
need_num() { [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "run.sh: $1 needs a whole number, got '${2:-}'" >&2; exit 2; }; }
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) need_num "$1" "${2:-}"; seconds=$2; shift ;;
    --jobs) need_num "$1" "${2:-}"; jobs=$2; shift ;;
    --out) [ -n "${2:-}" ] || { echo "run.sh: --out needs a folder" >&2; exit 2; }; out=$2; shift ;;
    --merge-corpus) merge=1 ;;
    --unit-timeout) need_num "$1" "${2:-}"; unit_timeout=$2; shift ;;
    --rss-limit-mb) need_num "$1" "${2:-}"; rss_limit=$2; shift ;;
    --no-build) build=0 ;;
    --list) list=1 ;;
    -h|--help) usage 0 ;;
    -*) echo "run.sh: unknown option '$1' (--help lists them)" >&2; exit 2 ;;
    *) n=${1#fuzz_}; names+=("${n%.cpp}") ;;
  esac
  shift
done
[ "$jobs" -ge 1 ] || jobs=1
[ "$seconds" -ge 1 ] || { echo "run.sh: --seconds must be at least 1 (libFuzzer reads 0 as no limit)" >&2; exit 2; }

all=()
for f in tests/fuzz/fuzz_*.cpp; do
  [ -e "$f" ] || continue
  n=${f##*/fuzz_}; all+=("${n%.cpp}")
done
if [ "$list" = 1 ]; then printf '%s\n' "${all[@]}"; exit 0; fi
[ ${#all[@]} -gt 0 ] || { echo "run.sh: no tests/fuzz/fuzz_*.cpp" >&2; exit 2; }
if [ ${#names[@]} -eq 0 ]; then
  names=("${all[@]}")
else
  for n in "${names[@]}"; do
    [ -e "tests/fuzz/fuzz_$n.cpp" ] || { echo "run.sh: no harness '$n' (have: ${all[*]})" >&2; exit 2; }
  done
fi

bin=build/fuzz/fuzz
if [ "$build" = 1 ]; then
  command -v clang++-14 >/dev/null || { echo "run.sh: clang++-14 missing (scripts/install-deps.sh installs it)" >&2; exit 2; }
  mkdir -p build
  if [ ! -f build/fuzz/CMakeCache.txt ]; then
    nice cmake --preset fuzz >build/fuzz-configure.log 2>&1 || { cat build/fuzz-configure.log >&2; exit 2; }
  fi
  echo "run.sh: building the fuzz preset (${all[*]})" >&2
  nice cmake --build --preset fuzz >build/fuzz/build.log 2>&1 || { tail -50 build/fuzz/build.log >&2; exit 2; }
fi
for n in "${names[@]}"; do
  [ -x "$bin/fuzz_$n" ] || { echo "run.sh: $bin/fuzz_$n not built (drop --no-build)" >&2; exit 2; }
done

[ -n "$out" ] || out=build/fuzz-runs/$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$out"
out=$(cd "$out" && pwd)

# Sanitizer settings: stop at the first report with a stack that names file:line; LSan ignores only the
# third-party leaks listed (with reasons) in tests/core/lsan.supp.
symbolizer=$(command -v llvm-symbolizer-14 || command -v llvm-symbolizer || true)
export ASAN_OPTIONS="detect_leaks=1:detect_stack_use_after_return=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
export LSAN_OPTIONS="suppressions=$root/tests/core/lsan.supp:print_suppressions=0${LSAN_OPTIONS:+:$LSAN_OPTIONS}"
[ -n "$symbolizer" ] && export ASAN_SYMBOLIZER_PATH="$symbolizer" UBSAN_SYMBOLIZER_PATH="$symbolizer"

# One harness: its own folder with a working copy of the seeds; the libFuzzer log, then its status file.
run_one() {
  local n=$1 dir="$out/$1"
  rm -rf "$dir"
  mkdir -p "$dir/corpus" "$dir/artifacts"
  if [ -d "tests/fuzz/corpus/$n" ]; then
    cp -r "tests/fuzz/corpus/$n/." "$dir/corpus/"
  else
    echo "run.sh: $n has no tests/fuzz/corpus/$n/: starting from an empty corpus" >&2
  fi
  local dict=() start end rc=0
  [ -f "tests/fuzz/fuzz_$n.dict" ] && dict=(-dict="tests/fuzz/fuzz_$n.dict")
  start=$(date +%s.%N)
  nice -n 10 "$bin/fuzz_$n" -max_total_time="$seconds" -timeout="$unit_timeout" -rss_limit_mb="$rss_limit" \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "${dict[@]}" "$dir/corpus" >"$dir/log.txt" 2>&1 || rc=$?
  end=$(date +%s.%N)
  echo "$rc $(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')" >"$dir/status"
}

echo "run.sh: ${#names[@]} harness(es), ${seconds} s each, ${jobs} at a time, output in $out" >&2
running=0
for n in "${names[@]}"; do
  if [ "$running" -ge "$jobs" ]; then wait -n || true; running=$((running - 1)); fi
  echo "run.sh: fuzz_$n ..." >&2
  run_one "$n" &
  running=$((running + 1))
done
wait || true

# Summary. Executions and exec/s from libFuzzer's final stats (the last "#N" progress line when it stopped on a
# crash before printing them), cov:/ft: from its last progress line.
summary_txt="$out/summary.txt"
summary_tsv="$out/summary.tsv"
failed=0
{
  echo "# bench/fuzz/run.sh — $(date -u +%Y-%m-%dT%H:%M:%SZ), ${seconds} s per harness, ${jobs} at a time, $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg)"
  printf '%-14s %8s %12s %9s %8s %8s %8s %8s  %s\n' harness seconds executions exec/s cov ft corpus crashes artifacts
} >"$summary_txt"
printf 'harness\tseconds\texecutions\texec_per_s\tcov\tft\tcorpus_files\tcorpus_bytes\tcrashes\texit_status\tartifacts\n' >"$summary_tsv"
for n in "${names[@]}"; do
  dir="$out/$n"
  read -r rc secs <"$dir/status" || { rc=99; secs=0; }
  log="$dir/log.txt"
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -1 | tr -d '#')
  execs=${execs:-0}
  rate=$(awk -v e="$execs" -v s="$secs" 'BEGIN { printf "%.0f", (s > 0 ? e / s : 0) }')
  cov=$(grep -oE ' cov: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  ft=$(grep -oE ' ft: [0-9]+' "$log" | tail -1 | grep -oE '[0-9]+' || true)
  files=$(find "$dir/corpus" -type f | wc -l)
  bytes=$(du -sb "$dir/corpus" | cut -f1)
  artifacts=$(cd "$dir/artifacts" && find . -type f \( -name 'crash-*' -o -name 'leak-*' -o -name 'timeout-*' -o -name 'oom-*' \) \
              -printf '%f\n' | sort | paste -sd, -)
  crashes=0
  [ -n "$artifacts" ] && crashes=$(tr ',' '\n' <<<"$artifacts" | wc -l)
  # Any other non-zero exit (a harness that could not start, a sanitizer report outside an input) counts too.
  if [ "$crashes" -eq 0 ] && [ "$rc" -ne 0 ]; then crashes=1; artifacts="exit status $rc, see $n/log.txt"; fi
  [ "$crashes" -gt 0 ] && failed=1
  printf '%-14s %8s %12s %9s %8s %8s %8s %8s  %s\n' "$n" "$secs" "$execs" "$rate" "${cov:--}" "${ft:--}" "$files" \
    "$crashes" "${artifacts:--}" >>"$summary_txt"
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$n" "$secs" "$execs" "$rate" "${cov:-}" "${ft:-}" "$files" "$bytes" \
    "$crashes" "$rc" "${artifacts:-}" >>"$summary_tsv"
  if [ "$crashes" -gt 0 ]; then
    echo "---- fuzz_$n: crashed (exit status $rc); end of $dir/log.txt:" >&2
    grep -v -E '^#[0-9]+|^\s*"' "$log" | tail -60 >&2 || true
    echo "---- reproduce: $bin/fuzz_$n $dir/artifacts/<file>" >&2
  fi
done

if [ "$merge" = 1 ]; then
  for n in "${names[@]}"; do
    seeds="tests/fuzz/corpus/$n"
    mkdir -p "$seeds"
    before=$(find "$seeds" -type f | wc -l)
    nice -n 10 "$bin/fuzz_$n" -merge=1 -timeout="$unit_timeout" -rss_limit_mb="$rss_limit" \
      -artifact_prefix="$out/$n/artifacts/" "$seeds" "$out/$n/corpus" >"$out/$n/merge.log" 2>&1 ||
      { echo "run.sh: merging $n failed, see $out/$n/merge.log" >&2; failed=1; continue; }
    after=$(find "$seeds" -type f | wc -l)
    echo "merged into $seeds: $before -> $after files" | tee -a "$summary_txt" >&2
  done
fi

cat "$summary_txt"
echo "run.sh: summary in $summary_txt (and summary.tsv)" >&2
exit "$failed"
