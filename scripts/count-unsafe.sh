#!/usr/bin/env bash
# Counts `unsafe` in conductor's library code, per module: blocks, `unsafe fn` and `unsafe impl`
# (comment and doc lines, doctests among them, are not counted).
# Usage: scripts/count-unsafe.sh [SRC_DIR]
set -uo pipefail
src=${1:-crates/conductor/src}
count() {
  { grep -rhE '(^|[^_[:alnum:]])unsafe([^_[:alnum:]]|$)' "$@" || true; } |
    { grep -vE '^\s*//' || true; } | wc -l
}
total=0
for d in "$src"/*/; do
  n=$(count "$d")
  total=$((total + n))
  printf '%-10s %4d\n' "$(basename "$d")" "$n"
done
root=$(count "$src"/*.rs)
printf '%-10s %4d\n' "(root)" "$root"
printf '%-10s %4d\n' "total" $((total + root))
