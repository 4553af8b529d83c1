#!/usr/bin/env bash
# The portable bundle runs from an unrelated folder with an empty library path: --version and --list work, the
# cuda plugin loads and says why it cannot measure (no driver here), and every shared library it needs outside
# glibc resolves inside the bundle, and no RPATH/RUNPATH entry is empty or relative to the current directory (the
# checker itself must reject a library built with a trailing ':'). Usage: test_bundle.sh SOURCE_DIR WORK_DIR
set -euo pipefail
src=$1
work=$2
rm -rf "$work/out"
mkdir -p "$work"  # the build folder is kept: a second run is incremental
"$src/scripts/bundle.sh" --build-dir "$work/build" --out "$work/out" > "$work/bundle.log" 2>&1 || { cat "$work/bundle.log"; exit 1; }
tarball=$(tail -1 "$work/bundle.log")
elsewhere=$(mktemp -d)
trap 'rm -rf "$elsewhere"' EXIT
tar -C "$elsewhere" -xzf "$tarball"
root=$(echo "$elsewhere"/probe-*)
cd "$elsewhere"
run() { env -i PATH=/usr/bin:/bin HOME="$elsewhere" LD_LIBRARY_PATH= "$root/bin/probe" "$@"; }
run --version | grep -q '^probe ' || { echo "--version failed"; exit 1; }
list=$(run --list)
echo "$list" | grep -q 'cpu0' || { echo "no cpu0 in --list"; echo "$list"; exit 1; }
if [ -e "$root/lib/probe/plugins/probe_backend_cuda.so" ]; then
  echo "$list" | grep -Eq 'cuda +(available|unavailable: no (driver|device))' || { echo "cuda backend line missing"; echo "$list"; exit 1; }
  echo "$list" | grep -q "$root/lib/probe/plugins/probe_backend_cuda.so" || { echo "plugin not found from the bundle"; exit 1; }
fi
# RPATH/RUNPATH: the checker rejects an empty entry (what CMake's padded build RPATH left) and a relative one...
cat > "$elsewhere/x.c" <<'C'
int probe_rpath_fixture(void) { return 1; }
C
for rp in '$ORIGIN/../lib:$ORIGIN/../..:' ':$ORIGIN/../lib' 'lib' '$ORIGIN/../lib::$ORIGIN'; do
  cc -shared -fPIC -o "$elsewhere/bad.so" "$elsewhere/x.c" -Wl,--disable-new-dtags -Wl,-rpath,"$rp"
  if "$src/scripts/check-rpath.sh" "$elsewhere/bad.so" 2>/dev/null; then echo "check-rpath.sh accepted RPATH '$rp'"; exit 1; fi
done
rm -f "$elsewhere/bad.so" "$elsewhere/x.c"
# ...and every ELF file of the unpacked bundle passes it.
"$src/scripts/check-rpath.sh" "$root" || { echo "the bundle has an empty or relative RPATH/RUNPATH entry"; exit 1; }
readelf -d "$root/bin/probe" | grep -E 'RPATH|RUNPATH'

glibc='^(linux-vdso|libc|libm|libdl|libpthread|librt|ld-linux[-a-z0-9_]*)\.so'
status=0
for f in "$root/bin/probe" "$root"/lib/probe/plugins/*.so; do
  [ -e "$f" ] || continue
  # The executable's DT_RPATH also serves the plugins (dlopen'ed by it): check them as the loader sees them.
  while read -r soname arrow path _; do
    [ "$arrow" = "=>" ] || continue
    [[ "$soname" =~ $glibc ]] && continue
    case "$path" in
      "$root"/*) ;;
      *) if [[ "$f" == *.so ]] && [ -e "$root/lib/$soname" ]; then continue; fi
         echo "$f needs $soname from $path (outside the bundle)"; status=1 ;;
    esac
  done < <(env -i LD_LIBRARY_PATH= ldd "$f")
done
echo "bundle ok: $root"
exit $status
