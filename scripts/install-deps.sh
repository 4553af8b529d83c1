#!/usr/bin/env bash
# Installs the Debian packages probe needs to build and test; quiet when all are present.
# Usage: scripts/install-deps.sh [--build-only | --bench]
#   (no flag)     what building and every test need
#   --build-only  what building probe needs
#   --bench       also the peers bench/ compares against (likwid)
set -euo pipefail

build_pkgs=(cmake ninja-build g++ pkg-config libhwloc-dev hwloc libfmt-dev nlohmann-json3-dev libcli11-dev)
# HIP backend (Debian ROCm 5.2: hipcc = clang 15, runtime, device libraries, ROCm SMI): ~20 s to install.
test_pkgs=(libgtest-dev libgmock-dev libbenchmark-dev python3 python3-jsonschema binutils
           hipcc libamdhip64-dev libamd-comgr-dev libhsa-runtime-dev rocm-device-libs librocm-smi-dev
           clang-14 libclang-rt-14-dev llvm-14 chromium
           libopenmpi-dev openmpi-bin slurm-wlm munge)
# clang-14 + libclang-rt-14-dev: the fuzz preset (libFuzzer, ASan/UBSan runtimes for clang); llvm-14: its
# llvm-symbolizer, so a sanitizer report or fuzzer crash names file:line. chromium: the HTML report rendered by a
# real browser (tests/cli/test_views.cpp, headless; skipped where it is missing). libopenmpi-dev + openmpi-bin:
# the MPI fleet run (PROBE_ENABLE_MPI, tested with a real mpirun); slurm-wlm + munge: the Slurm recipe tested
# against daemons the test starts (both tests skip with the reason where these are missing).
pkgs=("${build_pkgs[@]}")
case "${1:-}" in
  "") pkgs+=("${test_pkgs[@]}") ;;
  --build-only) ;;
  --bench) pkgs+=("${test_pkgs[@]}" likwid time) ;;
  *) echo "install-deps: unknown option '$1' (use --build-only or --bench)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=()
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 2; }
  sudo=(sudo)
fi
echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
