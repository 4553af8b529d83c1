#!/usr/bin/env bash
# Builds probe for nodes where nothing can be installed and packs it into one folder and tarball:
#   bin/probe, lib/probe/plugins/probe_backend_*.so, lib/*.so.* (bundled shared libraries), share/probe/ (data).
# libstdc++/libgcc are linked statically (preset `portable`); the remaining shared libraries that are not part of
# glibc (libfmt, libhwloc and what they need) are copied into lib/, found through an $ORIGIN-relative RPATH
# (DT_RPATH, so that it also applies to their own dependencies and to the plugins' dependencies).
# The RPATH is set with CMAKE_INSTALL_RPATH + CMAKE_BUILD_WITH_INSTALL_RPATH: a CMAKE_BUILD_RPATH gets padded by
# CMake with a trailing ':' (room for an install-time rewrite), an empty entry that the loader reads as the current
# directory (a library-hijack risk). Every RPATH/RUNPATH entry in the bundle is checked before packing.
# The CUDA plugin links the CUDA runtime statically: a GPU node needs only the driver.
#
# Usage: scripts/bundle.sh [--build-dir DIR] [--out DIR] [--no-build]
#   --build-dir  build folder (default: build/portable)   --out  where the bundle goes (default: build/bundle)
#   --no-build   pack an existing build
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
build="$here/build/portable"
out="$here/build/bundle"
do_build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --no-build) do_build=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "bundle.sh: unknown argument $1" >&2; exit 2 ;;
  esac
done

if [ "$do_build" = 1 ]; then
  cuda=()
  nvcc=$(command -v nvcc || true)
  [ -z "$nvcc" ] && [ -x /usr/local/cuda/bin/nvcc ] && nvcc=/usr/local/cuda/bin/nvcc
  [ -n "$nvcc" ] && cuda=(-DCMAKE_CUDA_COMPILER="$nvcc")
  static='-static-libstdc++ -static-libgcc -Wl,--disable-new-dtags'
  cmake --preset portable -S "$here" -B "$build" "${cuda[@]}" \
    -DCMAKE_EXE_LINKER_FLAGS="$static" -DCMAKE_SHARED_LINKER_FLAGS="$static" -DCMAKE_MODULE_LINKER_FLAGS="$static" \
    -DCMAKE_BUILD_RPATH= -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON -DCMAKE_INSTALL_RPATH='$ORIGIN/../lib;$ORIGIN/../..' \
    >/dev/null
  cmake --build "$build" --target probe $( [ -n "$nvcc" ] && echo probe_backend_cuda ) -j "$(nproc)"
fi

version=$("$build/bin/probe" --version | awk '{print $2; exit}')
name="probe-${version}-linux-$(uname -m)"
dest="$out/$name"
rm -rf "$dest"
mkdir -p "$dest/bin" "$dest/lib/probe/plugins" "$dest/share/probe"
cp "$build/bin/probe" "$dest/bin/"
cp "$build"/lib/probe/plugins/probe_backend_*.so "$dest/lib/probe/plugins/" 2>/dev/null || true
cp -r "$here/data/." "$dest/share/probe/"

# Every shared library the binaries need that is not glibc's own goes into lib/ (recursively).
glibc='^(linux-vdso|libc|libm|libdl|libpthread|librt|ld-linux[-a-z0-9_]*)\.so'
copy_deps() {
  ldd "$1" | awk '/=>/ {print $1, $3}' | while read -r soname path; do
    if [[ "$soname" =~ $glibc ]] || [ -e "$dest/lib/$soname" ] || [ ! -e "$path" ]; then continue; fi
    cp -L "$path" "$dest/lib/$soname"
    copy_deps "$path"
  done
}
copy_deps "$dest/bin/probe"
for p in "$dest"/lib/probe/plugins/*.so; do [ -e "$p" ] && copy_deps "$p"; done

# No RPATH/RUNPATH entry may be empty or relative (the loader resolves those against the current directory).
"$here/scripts/check-rpath.sh" "$dest" >&2

tar -C "$out" -czf "$out/$name.tar.gz" "$name"
echo "$dest"
echo "$out/$name.tar.gz"
