#!/usr/bin/env bash
# Generates configs/tech/timing-osu018.yaml: the static timing (OpenSTA) of every unit of
# rtl/synth/units.list at OSU 0.18 µm. Each unit is synthesized by rtl/synth/synth_unit.tcl
# exactly as synth-units.sh's main flow does (synth -noalumacc, dfflibmap + abc -liberty; the
# netlist of configs/tech/units-osu018.yaml), its mapped netlist is written (QUASAR_NETLIST),
# and rtl/synth/sta_unit.tcl times it: the worst of register->register, input->register,
# register->output and input->output paths (constraints and conditions there).
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
# Needs yosys and OpenSTA (`sta`, Debian package opensta).
set -euo pipefail
export LC_ALL=C  # sort and printf: the same bytes in every locale
cd "$(dirname "$0")/.."
root="$PWD"

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

for tool in yosys sta; do
  command -v "$tool" >/dev/null || { echo "sta-units: $tool not found (scripts/install-deps.sh)" >&2; exit 1; }
done

# The units not timed, one "name reason..." a line (none today: every unit of units.list is
# timed). A unit whose synthesis runs for more than ~10 minutes goes here rather than under a
# machine-dependent time limit, so that the file stays the same bytes for the same inputs.
not_timed=""
skipped() { [ -n "$not_timed" ] && awk -v u="$1" '$1 == u {f = 1} END {exit !f}' <<< "$not_timed"; }

liberty="${QUASAR_LIBERTY:-}"
if [ -z "$liberty" ]; then
  tech="$root/build/tech/osu018"
  liberty="$tech/usr/share/qflow/tech/osu018/osu018_stdcells.lib"
  if [ ! -f "$liberty" ] && [ "$fetch" = 1 ]; then
    mkdir -p "$tech"
    if (cd "$tech" && timeout 120 apt-get download qflow-tech-osu018 >/dev/null 2>&1) &&
       dpkg -x "$tech"/qflow-tech-osu018_*.deb "$tech"; then
      echo "sta-units: unpacked qflow-tech-osu018 into $tech" >&2
    fi
  fi
fi
[ -f "$liberty" ] || { echo "sta-units: no Liberty file at $liberty" >&2; exit 1; }

mkdir -p "$work"
sta_run() {  # sta_run DIR TOP: time DIR/sta.v into DIR/sta.txt (log DIR/sta.log)
  rm -f "$1/sta.txt"
  QUASAR_LIBERTY="$liberty" QUASAR_NETLIST="$1/sta.v" QUASAR_TOP="$2" \
    QUASAR_STA_OUT="$1/sta.txt" sta -no_splash -no_init -exit rtl/synth/sta_unit.tcl \
    < /dev/null > "$1/sta.log" 2>&1 || { cat "$1/sta.log" >&2; echo "sta-units: OpenSTA failed on $2" >&2; exit 1; }
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

# 2. Every unit: the mapped netlist of synth-units.sh's main flow, then its timing.
units="$(grep -v '^\s*#' rtl/synth/units.list | grep -v '^\s*$' || true)"
while read -r name top params; do
  if [ -n "$only" ] && ! [[ "$name" =~ $only ]]; then continue; fi
  if skipped "$name"; then continue; fi
  dir="$work/$name"
  mkdir -p "$dir"
  start=$SECONDS
  if [ "$reuse" = 0 ] || [ ! -f "$dir/netlist.v" ]; then
    rm -f "$dir"/*.txt "$dir"/netlist.* "$dir"/sta.v
    QUASAR_RTL_DIR="$root/rtl/units" QUASAR_TOP="$top" QUASAR_PARAMS="$params" QUASAR_OUT="$dir" \
      QUASAR_LIBERTY="$liberty" QUASAR_SYNTH_ARGS="-noalumacc" QUASAR_NETLIST="$dir/netlist" \
      yosys -q -l "$dir/yosys.log" -c rtl/synth/synth_unit.tcl < /dev/null >/dev/null
  fi
  # The same netlist, its assignments written one signal a side (-simple-lhs): OpenSTA 2.0.17's
  # Verilog reader rejects write_verilog's concatenations on the left of an assign, which the
  # wider units' netlists hold (systolic_4x4: `assign { qn_a[65], qn_a[32] } = ...`). Read back
  # without any pass in between: the cells and nets are netlist.v's.
  yosys -q -p "read_liberty -lib $liberty; read_verilog $dir/netlist.v; \
    write_verilog -noattr -simple-lhs $dir/sta.v" < /dev/null > /dev/null
  sta_run "$dir" "$top"
  echo "sta-units: $name $((SECONDS - start)) s" >&2
  # Every register must be the flop whose clock-to-Q and setup the header gives.
  read -r _ nregs cells < <(awk '$1 == "registers"' "$dir/sta.txt")
  if [ "$nregs" != 0 ] && [ "$cells" != "$dff_cell" ]; then
    echo "sta-units: $name's registers are $cells, not only $dff_cell: extend the header" >&2
    exit 1
  fi
done <<< "$units"

# 3. The YAML, units in units.list order, fixed formats: the same inputs give the same bytes.
# The revision is the last commit of the inputs (not HEAD), so committing the YAML itself does not
# change it.
rtl_files="$(cat "$work"/*/files.txt 2>/dev/null | sort -u | sed 's|^|rtl/units/|' | tr '\n' ' ')"
inputs="rtl/synth/units.list rtl/synth/synth_unit.tcl rtl/synth/sta_unit.tcl scripts/sta-units.sh $rtl_files"
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

ps() { printf '%.0f' "$1"; }  # ps, to the integer
# Every cell output's max_capacitance (pF) in the Liberty, "CELL PIN LIMIT" a line.
maxcap="$(awk '/^cell *\(/ {c = $0; gsub(/^cell *\(|\).*$/, "", c)}
  /^ *pin *\(/ {p = $0; gsub(/^ *pin *\(|\).*$/, "", p)}
  /max_capacitance/ {v = $3; sub(/;/, "", v); print c, p, v}' "$liberty")"
{
  echo "# Generated by scripts/sta-units.sh: do not edit, regenerate. Static timing (OpenSTA) of the"
  echo "# mapped netlists of rtl/synth/units.list, the netlists of configs/tech/units-osu018.yaml"
  echo "# (synth_unit.tcl, synth -noalumacc, abc -liberty), constrained by rtl/synth/sta_unit.tcl."
  echo "# critical_path_ps: the worst of register->register (clk-to-q + logic + setup), input->register"
  echo "# (logic + setup), register->output (clk-to-q + logic) and input->output (logic) paths, inputs"
  echo "# arriving and outputs required at the clock edge; paths_ps: each kind's worst. Registered units"
  echo "# (a clk port): fmax_mhz = 1e6 / critical_path_ps. Combinational units: the delay only; behind"
  echo "# registers they add dff.clk_to_q_ps + dff.setup_ps. stages_at_1ghz = ceil(critical_path_ps /"
  echo "# 1000) at 0.18 µm, as is (the model scales the delays to other nodes)."
  echo "# The netlists are mapped for area (abc, no timing target) and not buffered: a high-fanout net"
  echo "# is one gate driving all its pins. logic_levels: the cells on the critical path (a launching"
  echo "# flop counted), a node-independent depth. slowest_stage: the critical path's slowest cell output"
  echo "# (its delay, and the load of the net it drives); overloaded_stages: the critical path's cell"
  echo "# outputs whose load exceeds the pin's Liberty max_capacitance (such a delay is the unbuffered"
  echo "# netlist's, beyond what the library characterizes). Results and reading: docs/validation.md,"
  echo "# \"Static timing of the units (issue 18)\"."
  echo "technology: osu018"
  echo "library: \"$libid\""
  echo "tools: \"$tools\""
  echo "command: \"scripts/sta-units.sh\""
  echo "source: \"scripts/sta-units.sh (git $rev)\""
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
  if [ -z "$not_timed" ]; then
    echo "not_timed: {}"
  else
    echo "not_timed:"
    while read -r name reason; do echo "  $name: \"not timed: $reason\""; done <<< "$not_timed"
  fi
  echo "units:"
  while read -r name top params; do
    if [ -n "$only" ] && ! [[ "$name" =~ $only ]]; then continue; fi
    if skipped "$name"; then continue; fi
    f="$work/$name/sta.txt"
    read -r _ delay _ _ skind ekind _ < <(grep -v '^registers ' "$f" | sort -k2,2gr -k1,1 | head -1)
    cp_ps="$(ps "$delay")"
    echo "  $name:"
    echo "    top: $top"
    echo "    parameters: \"$params\""
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
    # The critical path's stages against the Liberty's max_capacitance; the slowest is the first
    # of the largest delay.
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
