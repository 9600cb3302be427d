#!/usr/bin/env bash
# Generates configs/tech/timing-osu018.yaml: the static timing (OpenSTA) of every unit of
# rtl/synth/units.list at OSU 0.18 µm, each unit mapped twice from one synthesis by
# rtl/synth/synth_unit.tcl:
#   for speed  the row's figures: abc with a delay target (-D 1), buffering and gate sizing, with
#              and without SOP/DSD balancing (synth_unit.tcl's speed_scripts; the faster of the
#              two by OpenSTA is kept), its inputs driven like a flop's Q (INVX2, the
#              combinational cell closest to DFFPOSX1's Q drive) and its outputs loaded by a flop's D (the
#              constraint file below); the netlist a timing-driven flow would produce, and the
#              one the simulator's pipeline stages are derived from;
#   for area   synth-units.sh's main flow (synth -noalumacc, dfflibmap + abc -liberty: abc's
#              default script, no delay target, no buffering or sizing), the netlist of
#              configs/tech/units-osu018.yaml; kept as area_mapped_* fields for comparison.
# Both mapped netlists are written, and rtl/synth/sta_unit.tcl times each: the worst of
# register->register, input->register, register->output and input->output paths (constraints and
# conditions there). The dff section: the flop's clk-to-q and setup (timed), its Liberty area and
# its energy per bit per cycle (rtl/synth/liberty_energy.py flop).
#   scripts/sta-units.sh [--out FILE] [--work DIR] [--check] [--only REGEX] [--reuse-synth]
#                        [--no-fetch]
# --check: generate into the work folder and compare byte for byte with the committed file
# (exit 1 if they differ).
# --only: time only the units whose name matches the extended regex (a partial file, for tests
# and iterating; not with --check).
# --reuse-synth: keep the netlists already in the work folder (iterating on the timing step only;
# a generation for the commit runs without it).
# --no-fetch: never download the Liberty file (exit 1 if it is missing). Without it, the file is
# taken from $QUASAR_LIBERTY, else build/tech/osu018, fetched there once as synth-units.sh does
# (`apt-get download qflow-tech-osu018` + `dpkg -x`, qflow not installed).
# Needs yosys, OpenSTA (`sta`, Debian package opensta) and python3.
set -euo pipefail
export LC_ALL=C  # sort and printf: the same bytes in every locale
cd "$(dirname "$0")/.."
root="$PWD"
# shellcheck source=scripts/units-list.sh
. "$root/scripts/units-list.sh"
# shellcheck source=scripts/osu018.sh
. "$root/scripts/osu018.sh"

out="$root/configs/tech/timing-osu018.yaml"
work="$root/build/sta-units"
check=0
only=""
reuse=0
fetch=1
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out="$2"; shift 2 ;;
    --work) work="$2"; shift 2 ;;
    --check) check=1; shift ;;
    --only) only="$2"; shift 2 ;;
    --reuse-synth) reuse=1; shift ;;
    --no-fetch) fetch=0; shift ;;
    *) echo "usage: $0 [--out FILE] [--work DIR] [--check] [--only REGEX] [--reuse-synth] [--no-fetch]" >&2
       exit 2 ;;
  esac
done
if [ "$check" = 1 ]; then
  [ -z "$only" ] || { echo "sta-units: --check compares the whole file: not with --only" >&2; exit 2; }
  out="$work/timing-osu018.yaml"
fi

for tool in yosys sta python3; do
  command -v "$tool" >/dev/null || { echo "sta-units: $tool not found (scripts/install-deps.sh)" >&2; exit 1; }
done

# The units not timed, one "name reason..." a line (none today: every unit of units.list is
# timed). A unit whose synthesis runs for more than ~10 minutes goes here rather than under a
# machine-dependent time limit, so that the file stays the same bytes for the same inputs.
not_timed=""
skipped() { [ -n "$not_timed" ] && awk -v u="$1" '$1 == u {f = 1} END {exit !f}' <<< "$not_timed"; }

liberty="${QUASAR_LIBERTY:-}"
if [ -z "$liberty" ]; then
  liberty="$(osu018_path "$root")"
  [ "$fetch" = 1 ] && osu018_fetch "$root" sta-units || true
fi
[ -f "$liberty" ] || { echo "sta-units: no Liberty file at $liberty" >&2; exit 1; }

mkdir -p "$work"
ps() { printf '%.0f' "$1"; }  # ps, to the integer
cp_of() {  # the critical path of DIR/sta.txt, ps
  ps "$(grep -v '^registers ' "$1/sta.txt" | sort -k2,2gr -k1,1 | head -1 | awk '{print $2}')"
}
area_of() {  # chip area of a yosys stat -liberty report, µm² to the integer
  awk '/Chip area for module/ {a = $NF} END {if (a == "") exit 1; printf "%.0f", a}' "$1"
}
cells_of() { awk '/Number of cells:/ {n = $4} END {print n}' "$1"; }

sta_run() {  # sta_run DIR TOP: time DIR/sta.v into DIR/sta.txt (log DIR/sta.log)
  # sta_unit.tcl's clock period: 100 ns, longer than every unit's paths but exp_q's (165 ns
  # area-mapped), which is timed again at 1000 ns when a path reaches 100 ns. Each unit's period
  # is so a function of its netlist (the same bytes every run), and every unit that fits 100 ns
  # keeps the period, and so the float rounding, its row was first timed at.
  local period
  for period in 100 1000; do
    rm -f "$1/sta.txt"
    QUASAR_LIBERTY="$liberty" QUASAR_NETLIST="$1/sta.v" QUASAR_TOP="$2" QUASAR_STA_PERIOD_NS="$period" \
      QUASAR_STA_OUT="$1/sta.txt" sta -no_splash -no_init -exit rtl/synth/sta_unit.tcl \
      < /dev/null > "$1/sta.log" 2>&1 || { cat "$1/sta.log" >&2; echo "sta-units: OpenSTA failed on $2" >&2; exit 1; }
    grep -q 'raise the period' "$1/sta.log" || break
  done
  # OpenSTA 2.0.17 reports Tcl errors of a sourced file but still exits 0: look for them.
  if grep -qi '^error' "$1/sta.log" || [ ! -s "$1/sta.txt" ]; then
    cat "$1/sta.log" >&2; echo "sta-units: OpenSTA failed on $2" >&2; exit 1
  fi
}

# 1. The library's flip-flop alone: two DFFPOSX1 (the cell dfflibmap maps every unit's flops to)
# in a row, the first's Q driving the second's D only. Its register->register path is the
# flop's clock-to-Q (the arrival at D) + its setup time, under the units' conditions.
dff_cell=DFFPOSX1
mkdir -p "$work/dff"
cat > "$work/dff/sta.v" <<EOF
module dff_pair(clk, d, q);
  input clk;
  input d;
  output q;
  wire n;
  $dff_cell r1 (.CLK(clk), .D(d), .Q(n));
  $dff_cell r2 (.CLK(clk), .D(n), .Q(q));
endmodule
EOF
sta_run "$work/dff" dff_pair
read -r _ _ dff_ckq dff_setup _ < <(awk '$1 == "reg_to_reg"' "$work/dff/sta.txt")

# The speed mapping's constraints (abc's -constr file): every input of the logic (the unit's
# ports, its flops' Q) driven by INVX2, every output (ports, flops' D) loaded by DFFPOSX1's D pin.
# abc takes a combinational driving cell only (it skips the flops); INVX2's delay grows about
# 0.9 ns/pF with its load, DFFPOSX1's Q about 1.0 ns/pF (INVX1: 1.8). Its inputs are ideal in
# OpenSTA as before (the conditions below): this only tells abc what to buffer for.
speed_drive=INVX2
dff_d_pf="$(awk -v c="$dff_cell" '/^cell *\(/ {f = ($0 ~ "^cell *\\(" c "\\)")}
  f && /^ *pin *\( *D *\)/ {p = 1} p && /^ *capacitance/ {v = $3; sub(/;/, "", v); print v; exit}' "$liberty")"
[ -n "$dff_d_pf" ] || { echo "sta-units: no capacitance of $dff_cell's D in $liberty" >&2; exit 1; }
constr="$work/abc-speed.constr"
printf 'set_driving_cell %s\nset_load %s\n' "$speed_drive" "$dff_d_pf" > "$constr"

# The flop as one pipeline register bit: Liberty area, energy per cycle (liberty_energy.py flop:
# the clock toggling every cycle, D with probability 0.5, Q loaded by one DFFPOSX1 D pin, tables
# read at gen-tech-units.sh's 0.18 ns input slew).
dff_slew=0.18
dff_activity=0.5
python3 rtl/synth/liberty_energy.py flop "$liberty" "$dff_cell" "$dff_slew" "$dff_d_pf" \
  "$dff_activity" > "$work/dff/energy.txt"
dffv() { awk -v k="$1" '$1 == k {print $2}' "$work/dff/energy.txt"; }

# 2. Every unit: one synthesis, its area- and speed-mapped netlists, then the timing of each.
# Rows through units.list's one reader (scripts/units-list.sh): a row's flow options (SYNTH=,
# ABC_FRAIG_C=) go to synth_unit.tcl, and its row says them (synth_options); a row without them
# runs as it always did. The header's speed scripts are those of a unit without options (an
# ABC_FRAIG_C row's carry its -C), any timed unit's only when --only leaves none.
timed_dir="" any_dir=""
units="$(units_list_rows)"
while IFS='|' read -r name top params synth fraig options; do
  if [ -n "$only" ] && ! [[ "$name" =~ $only ]]; then continue; fi
  if skipped "$name"; then continue; fi
  dir="$work/$name"
  mkdir -p "$dir"
  start=$SECONDS
  if [ "$reuse" = 0 ] || [ ! -f "$dir/netlist.v" ] || [ ! -f "$dir/speed/plain/netlist.v" ]; then
    rm -rf "$dir"/*.txt "$dir"/netlist.* "$dir"/sta.v "$dir"/speed
    QUASAR_RTL_DIR="$root/rtl/units" QUASAR_TOP="$top" QUASAR_PARAMS="$params" QUASAR_OUT="$dir" \
      QUASAR_LIBERTY="$liberty" QUASAR_SYNTH_ARGS="-noalumacc${synth:+ $synth}" \
      QUASAR_NETLIST="$dir/netlist" QUASAR_SPEED_OUT="$dir/speed" QUASAR_ABC_CONSTR="$constr" \
      QUASAR_ABC_FRAIG_C="$fraig" yosys -q -l "$dir/yosys.log" -c rtl/synth/synth_unit.tcl < /dev/null >/dev/null
  fi
  for d in "$dir" "$dir"/speed/*/; do
    d="${d%/}"
    # The same netlist, its assignments written one signal a side (-simple-lhs): OpenSTA 2.0.17's
    # Verilog reader rejects write_verilog's concatenations on the left of an assign, which the
    # wider units' netlists hold (systolic_4x4: `assign { qn_a[65], qn_a[32] } = ...`). Read
    # back without any pass in between: the cells and nets are netlist.v's.
    yosys -q -p "read_liberty -lib $liberty; read_verilog $d/netlist.v; \
      write_verilog -noattr -simple-lhs $d/sta.v" < /dev/null > /dev/null
    sta_run "$d" "$top"
    # Every register must be the flop whose clock-to-Q and setup the header gives.
    read -r _ nregs cells < <(awk '$1 == "registers"' "$d/sta.txt")
    if [ "$nregs" != 0 ] && [ "$cells" != "$dff_cell" ]; then
      echo "sta-units: $name's registers are $cells, not only $dff_cell: extend the header" >&2
      exit 1
    fi
  done
  # The row's netlist: the speed mapping with the shorter critical path (the smaller area on a
  # tie, then the first name), recorded as speed_script.
  best=""
  for d in "$dir"/speed/*/; do
    d="${d%/}"
    printf '%s %s %s\n' "$(cp_of "$d")" "$(area_of "$d/liberty.txt")" "$(basename "$d")"
  done | sort -k1,1n -k2,2n -k3,3 | head -1 > "$dir/speed/chosen.txt"
  read -r _ _ best < "$dir/speed/chosen.txt"
  [ -n "$best" ] || { echo "sta-units: no speed mapping of $name" >&2; exit 1; }
  echo "sta-units: $name $((SECONDS - start)) s" >&2
  [ -n "$options" ] || timed_dir="$dir"
  any_dir="$dir"
done <<< "$units"
[ -n "$timed_dir" ] || timed_dir="$any_dir"

# 3. The YAML, units in units.list order, fixed formats: the same inputs give the same bytes.
# The revision is the last commit of the inputs (not HEAD), so committing the YAML itself does not
# change it.
rtl_files="$(cat "$work"/*/files.txt 2>/dev/null | sort -u | sed 's|^|rtl/units/|' | tr '\n' ' ')"
inputs="rtl/synth/units.list rtl/synth/synth_unit.tcl rtl/synth/sta_unit.tcl rtl/synth/liberty_energy.py scripts/sta-units.sh scripts/units-list.sh $rtl_files"
rev="$(git log -1 --format=%h -- $inputs)"
[ -z "$(git status --porcelain -- $inputs)" ] || rev="$rev+dirty"
libid="$(basename "$liberty") sha256 $(sha256sum "$liberty" | cut -c1-12)"
deb="$(ls "$root"/build/tech/osu018/qflow-tech-osu018_*.deb 2>/dev/null | head -1 || true)"
[ -n "$deb" ] && libid="$libid ($(basename "$deb" .deb))"
sta_deb="$(dpkg-query -W -f='${Version}' opensta 2>/dev/null || true)"
tools="$(yosys -V | sed 's/ (git.*//'), OpenSTA $(sta -version)${sta_deb:+ (Debian opensta $sta_deb)}"
opcond="$(awk '/default_operating_conditions/ {gsub(/[;[:space:]]/, "", $3); print $3; exit}' "$liberty")"
wlm="$(grep -c 'wire_load' "$liberty" || true)"
[ "$wlm" = 0 ] || { echo "sta-units: the Liberty defines a wire-load model: state it in the header" >&2; exit 1; }

# Every cell output's max_capacitance (pF) in the Liberty, "CELL PIN LIMIT" a line.
maxcap="$(awk '/^cell *\(/ {c = $0; gsub(/^cell *\(|\).*$/, "", c)}
  /^ *pin *\(/ {p = $0; gsub(/^ *pin *\(|\).*$/, "", p)}
  /max_capacitance/ {v = $3; sub(/;/, "", v); print c, p, v}' "$liberty")"
# The critical-path fields of one timing result (DIR/sta.txt), a row's lines. The slowest stage
# is the first of the largest delay; overloaded stages are checked against the Liberty's
# max_capacitance.
path_fields() {
  local f="$1/sta.txt" delay skind ekind cp_ps paths d k
  read -r _ delay _ _ skind ekind _ < <(grep -v '^registers ' "$f" | sort -k2,2gr -k1,1 | head -1)
  cp_ps="$(ps "$delay")"
  echo "    critical_path_ps: $cp_ps"
  echo "    startpoint: $skind"
  echo "    endpoint: $ekind"
  if [ "$(awk '$1 == "registers" {print $2}' "$f")" != 0 ]; then
    echo "    registered: true"
    echo "    fmax_mhz: $(awk -v d="$cp_ps" 'BEGIN {printf "%.1f", 1e6 / d}')"
  else
    echo "    registered: false"
  fi
  echo "    stages_at_1ghz: $(( (cp_ps + 999) / 1000 ))"
  paths=""
  for k in reg_to_reg in_to_reg reg_to_out in_to_out; do
    d="$(awk -v k="$k" '$1 == k {print $2}' "$f")"
    [ -z "$d" ] || paths="$paths${paths:+, }$k: $(ps "$d")"
  done
  echo "    paths_ps: {$paths}"
  awk -v limits="$maxcap" '
    BEGIN { n = split(limits, l, "\n"); for (i = 1; i <= n; i++) { split(l[i], f, " "); m[f[1] "/" f[2]] = f[3] } }
    $1 == "stage" {
      if (!(($2 "/" $3) in m)) { print "no max_capacitance for " $2 "/" $3 > "/dev/stderr"; exit 1 }
      if ($4 + 0 > m[$2 "/" $3] + 0) over++
      if (!found || $5 + 0 > d + 0) { found = 1; cell = $2; d = $5; load = $4 }
      levels++
    }
    END {
      if (!found) { print "no stages on the critical path" > "/dev/stderr"; exit 1 }
      printf "    logic_levels: %d\n", levels
      printf "    slowest_stage: {cell: %s, delay_ps: %.0f, load_pf: %.3f}\n", cell, d, load
      printf "    overloaded_stages: %d\n", over
    }' "$f"
}
# The speed mappings' abc scripts, as synth_unit.tcl wrote them (the same for every unit).
[ -n "$timed_dir" ] || { echo "sta-units: no unit timed" >&2; exit 1; }
speed_tags="$(cd "$timed_dir/speed" && ls -d */ | tr -d / | tr '\n' ' ')"
{
  echo "# Generated by scripts/sta-units.sh: do not edit, regenerate. Static timing (OpenSTA) of"
  echo "# rtl/synth/units.list's units at OSU 0.18 µm, constrained by rtl/synth/sta_unit.tcl. Each unit"
  echo "# is synthesized once (synth_unit.tcl, synth -noalumacc) and mapped twice to the Liberty cells:"
  echo "# for speed (mapping.speed: abc with a 1 ps delay target, so its best delay, buffering of every"
  echo "# high-fanout net, gate up- and down-sizing; two scripts, with SOP and DSD balancing and"
  echo "# without, the faster by OpenSTA kept and named by speed_script), which the row's figures"
  echo "# describe and the model uses, and for area (mapping.area: abc's default script, no delay"
  echo "# target, no buffering or sizing; the netlist of configs/tech/units-osu018.yaml), kept as"
  echo "# area_mapped_critical_path_ps, area_mapped_area_um2 and area_mapped_overloaded_stages to show"
  echo "# what the speed costs."
  echo "# critical_path_ps: the worst of register->register (clk-to-q + logic + setup), input->register"
  echo "# (logic + setup), register->output (clk-to-q + logic) and input->output (logic) paths, inputs"
  echo "# arriving and outputs required at the clock edge; paths_ps: each kind's worst. Registered units"
  echo "# (a clk port): fmax_mhz = 1e6 / critical_path_ps. Combinational units: the delay only; behind"
  echo "# registers they add dff.clk_to_q_ps + dff.setup_ps. stages_at_1ghz = ceil(critical_path_ps /"
  echo "# 1000) at 0.18 µm, as is (the model scales the delays to other nodes). logic_levels: the cells"
  echo "# on the critical path (a launching flop counted, buffers too), a node-independent depth."
  echo "# slowest_stage: the critical path's slowest cell output (its delay, and the load of the net it"
  echo "# drives); overloaded_stages: the critical path's cell outputs whose load exceeds the pin's"
  echo "# Liberty max_capacitance. area_um2, cells: the speed-mapped netlist's (yosys stat -liberty)."
  echo "# synth_options (only on rows that have them): units.list's flow options of the row (SYNTH=: extra"
  echo "# yosys synth options; ABC_FRAIG_C=: abc's &fraig conflict limit in both mappings; scripts/units-list.sh)."
  echo "# dff: the library flop every register maps to, as one pipeline register bit: clk-to-q and setup"
  echo "# (timed), area (Liberty), energy per bit per clock cycle (rtl/synth/liberty_energy.py flop: the"
  echo "# clock rising and falling every cycle, D toggling with probability 0.5 and Q one edge later,"
  echo "# internal power tables read at the stated slew and Q load, pin capacitances switched at the"
  echo "# supply; Q's own load is the next stage's and not counted). Results and reading:"
  echo "# docs/validation.md, \"Static timing of the units (issue 18)\"."
  echo "technology: osu018"
  echo "library: \"$libid\""
  echo "tools: \"$tools\""
  echo "command: \"scripts/sta-units.sh\""
  echo "source: \"scripts/sta-units.sh (git $rev)\""
  echo "mapping:"
  echo "  speed: \"dfflibmap; abc -D 1 -constr (set_driving_cell $speed_drive, set_load $dff_d_pf pF: $dff_cell's D) -liberty, each of the scripts below; the row's netlist is the one with the shorter critical path by OpenSTA (the smaller area on a tie), named by the row's speed_script\""
  for t in $speed_tags; do
    echo "  speed_$t: \"$(cat "$timed_dir/speed/$t/abc.txt")\""
  done
  echo "  area: \"dfflibmap; abc -liberty, abc's default script (strash; &get -n; &fraig -x; &put; scorr; dc2; dretime; strash; &get -n; &dch -f; &nf; &put): no delay target, no buffering or sizing\""
  echo "conditions:"
  echo "  operating_conditions: \"$opcond (the Liberty's default_operating_conditions)\""
  echo "  wire_load: \"none: the Liberty defines no wire-load model, so a net's load is its pins' capacitance\""
  echo "  clock: \"ideal: no latency, skew or uncertainty; transition 0\""
  echo "  inputs: \"ideal drive (transition 0), arriving 0 ps after the clock edge\""
  echo "  outputs: \"no load, required 0 ps before the next clock edge\""
  echo "dff:"
  echo "  cell: $dff_cell"
  echo "  clk_to_q_ps: $(ps "$dff_ckq")"
  echo "  setup_ps: $(ps "$dff_setup")"
  echo "  measured: \"two $dff_cell in a row, the first's Q driving the second's D only, the conditions above\""
  echo "  area_um2: $(dffv area_um2)"
  echo "  energy_pj_per_bit_cycle: $(dffv energy_pj)"
  echo "  energy_breakdown_pj: {clock_pin: $(dffv clock_pin_pj), clock_internal: $(dffv clock_internal_pj), d_pin: $(dffv d_pin_pj), d_internal: $(dffv d_internal_pj), q_internal: $(dffv q_internal_pj)}"
  echo "  energy_conditions: \"$(dffv vdd_v) V, $opcond; clock every cycle, D toggling with probability $dff_activity; tables at ${dff_slew} ns input slew, Q loaded by $dff_d_pf pF (one $dff_cell D)\""
  if [ -z "$not_timed" ]; then
    echo "not_timed: {}"
  else
    echo "not_timed:"
    while read -r name reason; do echo "  $name: \"not timed: $reason\""; done <<< "$not_timed"
  fi
  echo "units:"
  while IFS='|' read -r name top params synth fraig options; do
    if [ -n "$only" ] && ! [[ "$name" =~ $only ]]; then continue; fi
    if skipped "$name"; then continue; fi
    dir="$work/$name"
    echo "  $name:"
    echo "    top: $top"
    echo "    parameters: \"$params\""
    [ -z "$options" ] || echo "    synth_options: \"$options\""
    read -r _ _ best < "$dir/speed/chosen.txt"
    path_fields "$dir/speed/$best"
    echo "    area_um2: $(area_of "$dir/speed/$best/liberty.txt")"
    echo "    cells: $(cells_of "$dir/speed/$best/liberty.txt")"
    echo "    speed_script: $best"
    echo "    area_mapped_critical_path_ps: $(cp_of "$dir")"
    echo "    area_mapped_area_um2: $(area_of "$dir/liberty.txt")"
    echo "    area_mapped_overloaded_stages: $(path_fields "$dir" | awk '$1 == "overloaded_stages:" {print $2}')"
  done <<< "$units"
} > "$out.tmp"
mv "$out.tmp" "$out"

if [ "$check" = 1 ]; then
  if cmp -s "$out" "$root/configs/tech/timing-osu018.yaml"; then
    echo "sta-units: regenerated file is byte-identical to configs/tech/timing-osu018.yaml"
  else
    diff "$root/configs/tech/timing-osu018.yaml" "$out" >&2 || true
    echo "sta-units: regenerated file differs from configs/tech/timing-osu018.yaml" >&2
    exit 1
  fi
else
  echo "sta-units: wrote $out"
fi
