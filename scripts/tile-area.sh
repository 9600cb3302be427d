#!/usr/bin/env bash
# Issue 20's area cross-check: rtl/tile/tile_ws.v at its default parameters (the 4 x 4 tile of
# tests/tile) synthesized with yosys onto the OSU 0.18 µm cells, its hierarchy kept and its
# memories left unmapped (they are register files in the RTL and SRAM in the cost model, so
# neither side's figure is the other's), against the cost model's area of the same design
# (rtl/tile/tile_ws_4x4.yaml, priced at 180 nm). Prints the comparison (scripts/tile_area.py).
#   scripts/tile-area.sh [BUILD_DIR] [OUT_DIR]      defaults: build/release, build/tile-area
# Takes about 6 minutes on the 2-core build machine (yosys, one thread; 335 s on 2026-12-07).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
# shellcheck source=scripts/osu018.sh
. "$root/scripts/osu018.sh"
build="${1:-build/release}"
out="${2:-build/tile-area}"
quasar="$build/sim/app/quasar"
[ -x "$quasar" ] || { echo "tile-area: no $quasar (cmake --build --preset release --target quasar)" >&2; exit 1; }
command -v yosys >/dev/null || { echo "tile-area: yosys not found (scripts/install-deps.sh)" >&2; exit 1; }
liberty="${QUASAR_LIBERTY:-$(osu018_path "$root")}"
if [ ! -f "$liberty" ]; then
  osu018_fetch "$root" tile-area || { echo "tile-area: no Liberty file (offline?)" >&2; exit 1; }
fi
mkdir -p "$out"

# The units' flow (rtl/synth/synth_unit.tcl: yosys `synth`, then dfflibmap + abc onto the
# Liberty cells) with two differences: no flatten, so that each module's cells stay its own and
# the report splits by unit, and no memory_map (synth's coarse part ends in `memory -nomap`;
# its fine part is run here without memory_map): the arrays declared in tile_ws (command memory,
# queues) stay memory cells, and flat_mem, read as a blackbox, stays one.
cat > "$out/tile.ys" <<EOF
read_verilog -sv -lib rtl/tile/flat_mem.v
read_verilog -sv -defer -Irtl/units -Irtl/tile rtl/tile/tile_ws.v rtl/tile/epilogue_lane.v $(ls rtl/units/*.v | tr '\n' ' ')
hierarchy -top tile_ws
synth -top tile_ws -run begin:fine
opt -fast -full
opt -full
techmap
opt -fast
abc -fast
opt -fast
dfflibmap -liberty $liberty
abc -liberty $liberty
opt_clean
tee -o $out/stat.txt stat -liberty $liberty
EOF
echo "yosys: $(yosys -V); rtl: git $(git rev-parse --short HEAD)$(git diff --quiet -- rtl || echo '+dirty')"
yosys -q -l "$out/yosys.log" -s "$out/tile.ys" > /dev/null

# The model: any run prices the design's area (area does not depend on the workload).
cat > "$out/one.yaml" <<EOF
quasar_trace: 1
name: "tile-area"
layers:
  - {name: "l0", op: linear, m: 16, k: 64, n: 64, scheme: w8a8}
EOF
"$quasar" run --arch rtl/tile/tile_ws_4x4.yaml --trace "$out/one.yaml" --out "$out/run" > /dev/null
"$quasar" cost "$out/run/report.json" --set process.node_nm=180 --format json > "$out/cost.json"
python3 scripts/tile_area.py "$out/stat.txt" "$out/cost.json"
