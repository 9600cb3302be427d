#!/usr/bin/env bash
# make_corpus.sh CORPUS QUASAR SOURCE_DIR
# Writes the hostile-input corpus afresh: every gen_*.sh beside this script adds its files to
# CORPUS (generated, never checked in, so the inputs are reviewed as the scripts that make them).
set -euo pipefail
corpus="$1"; quasar="$2"; src="$3"
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$corpus"; mkdir -p "$corpus"
for g in "$here"/gen_*.sh; do
  bash "$g" "$corpus" "$quasar" "$src"
done
echo "corpus: $(find "$corpus" -mindepth 1 | wc -l) entries in $corpus"
