#!/usr/bin/env bash
# The README's two commands.
#   scripts/quickstart.sh run   install what is missing, build, run the main job (embedded default)
#   scripts/quickstart.sh test  install what is missing, build, run the whole test suite:
#                               the Release build's tests, the unit/CLI/RTL/regression tests
#                               again under ASan+UBSan, and a short libFuzzer run of the readers
set -euo pipefail
cd "$(dirname "$0")/.."

mode="${1:-run}"
case "$mode" in run|test) ;; *) echo "usage: $0 run|test" >&2; exit 2 ;; esac

./scripts/install-deps.sh

jobs="$(nproc)"
cmake --preset release >/dev/null

if [ "$mode" = run ]; then
  cmake --build --preset release -j "$jobs" --target quasar  # only what the main job needs
  # and the Python package (docs/python.md), when the build has it (pybind11 found)
  if cmake --build --preset release --target help | grep -q '^_quasar:'; then
    cmake --build --preset release -j "$jobs" --target _quasar
  fi
  exec ./build/release/sim/app/quasar run
fi

cmake --build --preset release -j "$jobs"

ctest --preset release -j "$jobs"
cmake --preset asan >/dev/null
cmake --build --preset asan -j "$jobs"
ctest --preset asan -j "$jobs"
./scripts/fuzz.sh 30
