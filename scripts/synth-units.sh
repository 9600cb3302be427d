#!/usr/bin/env bash
# Synthesizes every unit of rtl/synth/units.list with yosys and prints one table: yosys
# internal gate count, transistors of yosys's CMOS gate model, and OSU 0.18 µm standard cells
# and area in µm² (Debian's qflow-tech-osu018 Liberty file).
#   scripts/synth-units.sh [--liberty FILE] [--out DIR] [--only REGEX]
# --only: synthesize only the units whose name matches the extended regex (e.g. 'fp|systolic').
# The Liberty file: --liberty, else $QUASAR_LIBERTY, else build/tech/osu018 (fetched there once
# with `apt-get download` + `dpkg -x`, which does not install qflow). Without one (offline),
# the area columns read "-". Per-unit yosys reports stay in DIR (default build/synth), with
# files.txt: the rtl/units files the unit was synthesized from (its top's file and those of the
# modules it instantiates, found by rtl/synth/synth_unit.tcl), so that a file added to rtl/units
# cannot change another unit's result.
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
# shellcheck source=scripts/units-list.sh
. "$root/scripts/units-list.sh"
# shellcheck source=scripts/osu018.sh
. "$root/scripts/osu018.sh"

liberty="${QUASAR_LIBERTY:-}"
out="$root/build/synth"
only=""
while [ $# -gt 0 ]; do
  case "$1" in
    --liberty) liberty="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --only) only="$2"; shift 2 ;;
    *) echo "usage: $0 [--liberty FILE] [--out DIR] [--only REGEX]" >&2; exit 2 ;;
  esac
done

command -v yosys >/dev/null || { echo "synth-units: yosys not found (scripts/install-deps.sh)" >&2; exit 1; }

if [ -z "$liberty" ]; then
  liberty="$(osu018_path "$root")"
  if ! osu018_fetch "$root" synth-units; then
    echo "synth-units: could not fetch qflow-tech-osu018 (offline?): area skipped" >&2
    liberty=""
  fi
elif [ ! -f "$liberty" ]; then
  echo "synth-units: Liberty file '$liberty' does not exist" >&2
  exit 1
fi

# "Number of cells" of a yosys stat report, and the chip area / transistor line.
cells() { awk '/Number of cells:/ {n = $4} END {print n}' "$1"; }
area() { awk '/Chip area for module/ {a = $NF} END {printf "%.0f", a}' "$1"; }
transistors() { awk '/Estimated number of transistors:/ {t = $NF} END {print t}' "$1"; }

mkdir -p "$out"
results="$out/results.tsv"
: > "$results"
echo "yosys: $(yosys -V); rtl: git $(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo '?')$(git -C "$root" diff --quiet -- rtl 2>/dev/null || echo '+dirty')"
echo "liberty: ${liberty:-none}"
echo
# Two flows. The main one runs `synth -noalumacc`: every product stays a $mul and every add an
# $add, so all MACs get the same structure (multiplier, then adder). yosys 0.23's default
# `alumacc` merges a $mul with the following add into one $macc, which `maccmap` maps to a
# larger netlist (mac_int8: ~1.6x), and only where the product is a `*` (not dint4's shift-adds):
# that would favour dint4 by an artefact of the flow. The default flow's area is shown too.
flows="noalumacc default"
printf '| %-20s | %-18s | %11s | %16s | %12s | %10s | %17s |\n' unit parameters "yosys cells" \
  "CMOS transistors" "osu018 cells" "osu018 µm²" "µm² default synth"
echo "|----------------------|--------------------|-------------|------------------|--------------|------------|-------------------|"
# Rows of units.list through its one reader (scripts/units-list.sh): a row's flow options (SYNTH=,
# ABC_FRAIG_C=) go to synth_unit.tcl in both flows; a row without them runs as it always did.
units_list_rows | while IFS='|' read -r name top params synth fraig options; do
  if [ -n "$only" ] && ! [[ "$name" =~ $only ]]; then continue; fi
  for flow in $flows; do
    dir="$out/$name/$flow"
    mkdir -p "$dir"
    rm -f "$dir"/*.txt "$dir"/netlist.*
    args="" netlist=""
    # The main flow also writes its mapped netlist (netlist.v/.json): the gate-level netlist
    # that scripts/gen-tech-units.sh simulates for switching energy is the one measured here.
    [ "$flow" = noalumacc ] && args="-noalumacc" netlist="$dir/netlist"
    QUASAR_RTL_DIR="$root/rtl/units" QUASAR_TOP="$top" QUASAR_PARAMS="$params" QUASAR_OUT="$dir" \
      QUASAR_LIBERTY="$liberty" QUASAR_SYNTH_ARGS="$args${synth:+ $synth}" QUASAR_NETLIST="$netlist" \
      QUASAR_ABC_FRAIG_C="$fraig" yosys -q -l "$dir/yosys.log" -c rtl/synth/synth_unit.tcl >/dev/null
  done
  main="$out/$name/noalumacc" alt="$out/$name/default"
  lc="-" la="-" da="-"
  if [ -n "$liberty" ]; then
    lc="$(cells "$main/liberty.txt")" la="$(area "$main/liberty.txt")" da="$(area "$alt/liberty.txt")"
  fi
  gc="$(cells "$main/generic.txt")" tr="$(transistors "$main/cmos.txt")"
  printf '| %-20s | %-18s | %11s | %16s | %12s | %10s | %17s |\n' "$name" "${params:--}${options:+ ($options)}" "$gc" "$tr" \
    "$lc" "$la" "$da"
  printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$gc" "$tr" "$lc" "$la" "$da" >> "$results"
done

# The dINT paper's claim is about int8 x int8 vs dint4 x int8 MACs: print our ratios.
ratio() {  # ratio COLUMN A B
  awk -F'\t' -v c="$1" -v a="$2" -v b="$3" \
    '$1 == a {x = $c} $1 == b {y = $c} END {if (x > 0 && y > 0) printf "%.2f", x / y; else printf "-"}' "$results"
}
[ -n "$only" ] && exit 0  # a subset: the ratios' units may be missing
echo
for pair in "mac_int8 mac_dint4_a" "mac_int8 mac_w4a8" "mul_i8xi8 mul_dint4xi8_a" "mul_i8xi8 mul_i4xi8"; do
  set -- $pair
  echo "$1 / $2: area $(ratio 5 "$1" "$2")x (default synth: $(ratio 6 "$1" "$2")x)," \
    "osu018 cells $(ratio 4 "$1" "$2")x, CMOS transistors $(ratio 3 "$1" "$2")x"
done
