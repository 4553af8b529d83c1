#!/usr/bin/env bash
# Checks that no ELF file under the given paths has an RPATH/RUNPATH entry the loader would resolve against the
# current directory or outside the file's own folder tree: every entry must be $ORIGIN or start with $ORIGIN/.
# An empty entry (a leading, trailing or doubled ':') means the current directory: a library-hijack risk.
# Usage: check-rpath.sh PATH...   (files or folders); exit 1 and one line per bad entry when any is found.
set -euo pipefail
bad=0
checked=0
while IFS= read -r -d '' f; do
  readelf -h "$f" >/dev/null 2>&1 || continue
  paths=$(readelf -d "$f" 2>/dev/null | sed -n 's/.*(\(RPATH\|RUNPATH\)).*\[\(.*\)\]$/\2/p')
  [ -n "$paths" ] || continue
  while IFS= read -r p; do
    checked=$((checked + 1))
    # read -a drops one trailing empty field: the appended ':' keeps a real trailing empty entry.
    IFS=: read -r -a entries <<< "$p:"
    n=$(( $(tr -cd ':' <<< "$p" | wc -c) + 1 ))
    for e in "${entries[@]:0:$n}"; do
      case "$e" in
        '$ORIGIN'|'$ORIGIN/'*) ;;
        *) echo "$f: RPATH/RUNPATH entry '$e' of '$p' is empty or not \$ORIGIN-relative" >&2; bad=1 ;;
      esac
    done
  done <<< "$paths"
done < <(find "$@" -type f -print0)
[ "$bad" = 0 ] || exit 1
echo "check-rpath: $checked RPATH/RUNPATH value(s), every entry \$ORIGIN-relative"
