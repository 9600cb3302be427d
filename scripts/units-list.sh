# scripts/units-list.sh: the one reader of rtl/synth/units.list, sourced by synth-units.sh,
# sta-units.sh and gen-tech-units.sh so that the three agree on a row's fields. Not run alone.
#
# A row of units.list: NAME TOP [PARAM=VALUE ...] [FLOW OPTIONS]. Two reserved keys are options of
# the synthesis flow (rtl/synth/synth_unit.tcl), not Verilog parameters of TOP:
#   SYNTH=OPT[,OPT...]  extra options of yosys `synth` for this row (e.g. SYNTH=-noshare: no
#                       SAT-based resource sharing, whose SAT calls run for hours on exp_q's
#                       chain of fp32 units)
#   ABC_FRAIG_C=N       conflict limit of abc's `&fraig -x` (SAT sweeping) in every abc mapping of
#                       the row (abc's default 1000000; a smaller one gives up on hard node pairs
#                       sooner, keeping them apart: the netlist stays correct, perhaps larger)
# A row without them is synthesized exactly as before the keys existed.
#
#   units_list_rows [FILE]
# prints one line per row (comments and blank lines dropped), fields separated by '|':
#   NAME|TOP|PARAMS|SYNTH_ARGS|FRAIG_C|OPTIONS
# PARAMS: the Verilog parameter overrides, single spaces ("" when none); SYNTH_ARGS: the SYNTH
# options, space-separated ("" when none); FRAIG_C: the limit ("" when none); OPTIONS: the row's
# flow tokens as written, single spaces ("" when none: what the tables print as synth_options).
# Read it with `IFS='|' read -r name top params synth fraig options`.
units_list_rows() {
  local file="${1:-rtl/synth/units.list}"
  [ -f "$file" ] || { echo "units-list: no $file" >&2; return 1; }
  awk '
    /^[[:space:]]*#/ || /^[[:space:]]*$/ { next }
    {
      params = ""; synth = ""; fraig = ""; opts = ""
      for (i = 3; i <= NF; i++) {
        if ($i ~ /^SYNTH=/) {
          v = substr($i, 7); gsub(/,/, " ", v)
          if (v == "") { print "units-list: empty SYNTH= in row " $1 > "/dev/stderr"; exit 1 }
          synth = synth (synth == "" ? "" : " ") v
          opts = opts (opts == "" ? "" : " ") $i
        } else if ($i ~ /^ABC_FRAIG_C=/) {
          fraig = substr($i, 13)
          if (fraig !~ /^[0-9]+$/) { print "units-list: ABC_FRAIG_C of row " $1 " is not a count" > "/dev/stderr"; exit 1 }
          opts = opts (opts == "" ? "" : " ") $i
        } else if (opts != "") {
          print "units-list: row " $1 ": parameter " $i " after the flow options" > "/dev/stderr"; exit 1
        } else {
          params = params (params == "" ? "" : " ") $i
        }
      }
      if (NF < 2) { print "units-list: row " $1 " has no top module" > "/dev/stderr"; exit 1 }
      print $1 "|" $2 "|" params "|" synth "|" fraig "|" opts
    }' "$file"
}
