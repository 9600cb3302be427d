#!/usr/bin/env bash
# Issue 20's area cross-check: rtl/tile/tile_ws.v at a design point of tests/tile (the 4 x 4
# by default) synthesized with yosys onto the OSU 0.18 µm cells, its hierarchy kept and its
# memories left unmapped (they are register files in the RTL and SRAM in the cost model, so
# neither side's figure is the other's), against the cost model's area of the same design
# (rtl/tile/<point>.yaml, priced at 180 nm). Prints the comparison (scripts/tile_area.py).
#   scripts/tile-area.sh [BUILD_DIR] [OUT_DIR] [POINT]
#     defaults: build/release, build/tile-area, tile_ws_4x4. POINT: a design point with a design
#     file (rtl/tile/<POINT>.yaml: tile_ws_4x4, tile_ws_4x4_dint_db, tile_ws_4x4_fp4x8_db,
#     tile_ws_4x4_mx_fix; tests/tile/CMakeLists.txt's Vtile_<...> target
#     gives the parameters; tests/tile's TileArea tests keep each design file equal to it).
# Took about 4 minutes on the 2-core build machine at the 4 x 4 point (yosys, one thread; 241 s
# on 2026-12-07); the block points' runs now take over an hour in ABC (docs/validation.md).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
# shellcheck source=scripts/osu018.sh
. "$root/scripts/osu018.sh"
build="${1:-build/release}"
out="${2:-build/tile-area}"
point="${3:-tile_ws_4x4}"
design="rtl/tile/$point.yaml"
[ -f "$design" ] || { echo "tile-area: no design file $design for point $point" >&2; exit 1; }
quasar="$build/sim/app/quasar"
[ -x "$quasar" ] || { echo "tile-area: no $quasar (cmake --build --preset release --target quasar)" >&2; exit 1; }
command -v yosys >/dev/null || { echo "tile-area: yosys not found (scripts/install-deps.sh)" >&2; exit 1; }
liberty="${QUASAR_LIBERTY:-$(osu018_path "$root")}"
if [ ! -f "$liberty" ]; then
  osu018_fetch "$root" tile-area || { echo "tile-area: no Liberty file (offline?)" >&2; exit 1; }
fi
mkdir -p "$out"

# The design point of the RTL case matrix: tests/tile/CMakeLists.txt's Verilator -G flags
# of V$point and tile_common, written into a copy of tile_ws.v as its parameters' defaults
# (yosys 0.23's `hierarchy -chparam` trips an assertion on this design).
cm=tests/tile/CMakeLists.txt
# (Its -G lines: those after the quasar_verilate_tile line up to the one closing the call.)
flags="$(sed -n 's/^set(tile_common \(.*\))$/\1/p' "$cm") $(awk '
  $1 == "quasar_verilate_tile(V'"$point"'" { on = 1; next }
  on { print; if ($0 ~ /\)/) exit }' "$cm" | sed 's/\${tile_common})//')"
cp rtl/tile/tile_ws.v "$out/tile_ws.v"
for f in $flags; do
  case "$f" in
    -G*=*) kv="${f#-G}"; name="${kv%%=*}"; val="${kv#*=}"
      grep -Eq "parameter integer $name +=" "$out/tile_ws.v" ||
        { echo "tile-area: tile_ws.v has no parameter $name ($cm)" >&2; exit 1; }
      sed -i -E "s/(parameter integer $name +=) *[0-9]+/\1 $val/" "$out/tile_ws.v" ;;
  esac
done
echo "tile_ws parameters:$(echo " $flags" | sed 's/ -G/ /g')"

# The units' flow (rtl/synth/synth_unit.tcl: yosys `synth`, then dfflibmap + abc onto the
# Liberty cells) with two differences: no flatten, so that each module's cells stay its own and
# the report splits by unit, and no memory_map (synth's coarse part ends in `memory -nomap`;
# its fine part is run here without memory_map): the arrays declared in tile_ws (command memory,
# queues) stay memory cells, and flat_mem, read as a blackbox, stays one.
cat > "$out/tile.ys" <<EOF
read_verilog -sv -lib rtl/tile/flat_mem.v
read_verilog -sv -defer -Irtl/units -Irtl/tile $out/tile_ws.v rtl/tile/epilogue_lane.v rtl/tile/lane_positions.v $(ls rtl/units/*.v | tr '\n' ' ')
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
# (A scheme the design runs: the first of its `schemes`.)
scheme="$(sed -n 's/^schemes: \[\([^],]*\).*/\1/p' "$design")"
[ -n "$scheme" ] || { echo "tile-area: $design lists no schemes" >&2; exit 1; }
cat > "$out/one.yaml" <<EOF
quasar_trace: 1
name: "tile-area"
layers:
  - {name: "l0", op: linear, m: 16, k: 64, n: 64, scheme: $scheme}
EOF
"$quasar" run --arch "$design" --trace "$out/one.yaml" --out "$out/run" > /dev/null
"$quasar" cost "$out/run/report.json" --set process.node_nm=180 --format json > "$out/cost.json"
python3 scripts/tile_area.py "$out/stat.txt" "$out/cost.json"
