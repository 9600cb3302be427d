#!/usr/bin/env bash
# readme.sh ROOT BUILD: the README's "Using quasar" section runs as written. Its ```sh blocks,
# in order, as one bash script with -e, in a scratch folder that links the repository's build/,
# configs/ and traces/ (the commands' relative paths then hold, and their output files land in
# the scratch folder, not in the clone). BUILD is the build folder of the quasar under test; it
# is linked as build/release.
set -euo pipefail
root="$1"; build="$2"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/build"
ln -s "$(cd "$build" && pwd)" "$work/build/release"
ln -s "$root/configs" "$work/configs"
ln -s "$root/traces" "$work/traces"
# The section: from its heading to the next "## "; its ```sh blocks.
awk '/^## Using quasar/{on=1; next} on && /^## /{on=0} on' "$root/README.md" |
  awk '/^```sh$/{b=1; next} /^```$/{b=0; next} b' > "$work/readme-commands.sh"
n=$(grep -c . "$work/readme-commands.sh")
[ "$n" -gt 20 ] || { echo "FAIL: only $n lines found in the README's Using quasar blocks"; exit 1; }
cd "$work"
if bash -euo pipefail readme-commands.sh > out.txt 2>&1; then
  echo "PASS: the README's $n command lines ran as written"
else
  rc=$?
  tail -30 out.txt
  echo "FAIL: a README command failed (exit $rc); the last lines above"
  exit 1
fi
