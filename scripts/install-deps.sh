#!/usr/bin/env bash
# Installs the Debian 12 packages quasar builds and tests with, and only those that are
# missing. Idempotent and non-interactive: safe to run twice, does nothing when all are present.
set -euo pipefail

# One list, one place: the whole toolchain (../shared/docs/toolchain.md). SystemC, Verilator
# and yosys are here from the start so every later block builds on the same set-up; clang and
# its runtime build the libFuzzer harnesses (scripts/fuzz.sh); chromium opens the HTML reports
# headless in the browser test (tests/report), a python3 script (stdlib only); slurm-wlm and
# munge give the single-node Slurm cluster that sweeps are tested on (scripts/slurm-local.sh);
# python3-matplotlib draws the sweep plots (quasar sweep report --plots); strace kills a run at
# each of its renames to test that an interrupted --out never leaves a mix (tests/cli); opensta
# (OpenSTA, `sta`) times the synthesized units (scripts/sta-units.sh, tests/rtl test_timing_units);
# pybind11-dev, python3-numpy and python3-pytest build and test the Python package (python/);
# python3-onnx reads ONNX models (scripts/onnx-trace.py); libdnnl-dev (oneDNN) is the baseline
# bench/bench_cpu_gemm measures the fast CPU path against (the build works without it).
PACKAGES=(
  cmake g++ ninja-build pkg-config ccache
  libgtest-dev libbenchmark-dev
  libsystemc-dev verilator yosys opensta libyaml-cpp-dev
  libboost-dev libboost-program-options-dev
  libcli11-dev nlohmann-json3-dev libfmt-dev libspdlog-dev libtbb-dev libsqlite3-dev
  clang libclang-rt-14-dev
  chromium python3 python3-matplotlib python3-numpy python3-pytest pybind11-dev python3-onnx
  slurm-wlm munge
  strace
  libdnnl-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#PACKAGES[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo"; else
    echo "install-deps: not root and no sudo; install as root: apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
