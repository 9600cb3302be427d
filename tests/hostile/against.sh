#!/usr/bin/env bash
# against.sh QUASAR [CORPUS]
# Runs every hostile case against another quasar binary (an older build, say) and lists which
# pass and which fail, to show that the cases catch that binary's behaviour. The corpus is made
# with that binary unless CORPUS (made by make_corpus.sh) is given. Cases run 8 at a time: those
# that hang on an old build take their full 60 s.
set -uo pipefail
q="$(realpath "$1")"; here="$(cd "$(dirname "$0")" && pwd)"; src="$(cd "$here/../.." && pwd)"
corpus="${2:-$(mktemp -d)/corpus}"
[ -d "$corpus" ] || bash "$here/make_corpus.sh" "$corpus" "$q" "$src" >/dev/null
logs="$(mktemp -d)"
for f in "$here"/cases_*.txt; do
  grep -oE "^[a-z0-9_]+ \| " "$f" | sed "s| \| $||; s|^|$f |"
done | xargs -P 8 -L 1 sh -c 'if bash "'"$here"'/run_case.sh" "$0" "$1" "'"$q"'" "'"$corpus"'" "'"$src"'" > "'"$logs"'/$1.log" 2>&1; then echo "pass $1"; else echo "FAIL $1"; fi' | sort
echo "logs: $logs"
