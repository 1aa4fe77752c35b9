#!/usr/bin/env bash
# Fails if a mio type shows in conductor's public API. Builds the docs of what a user can name
# and looks for mio in the items' signatures (rustdoc's code headers and declarations) and for
# links to mio's docs; the prose of module docs may name mio.
set -euo pipefail
cargo doc -p conductor --no-deps --features tls,tokio-io,io-uring -q 2>/dev/null
doc=target/doc/conductor
found=$(
  {
    grep -rlE 'href="[^"]*/mio/' "$doc" --include=*.html || true
    grep -rhoE '<(h4|pre) class="(code-header|rust item-decl)">.{0,400}' "$doc" --include=*.html |
      grep -E '\bmio\b' || true
  }
)
if [ -n "$found" ]; then
  printf '%s\n' "$found"
  echo "mio appears in conductor's public API (above)" >&2
  exit 1
fi
echo "no mio type in conductor's public API"
