# sta_unit.tcl: static timing of one mapped netlist (synth_unit.tcl's QUASAR_NETLIST) with
# OpenSTA. Run by scripts/sta-units.sh as `sta -no_splash -no_init -exit sta_unit.tcl`; its
# inputs come from the environment (as synth_unit.tcl's):
#   QUASAR_LIBERTY   the Liberty file the netlist was mapped to
#   QUASAR_NETLIST   the mapped gate-level Verilog (synth_unit.tcl's $QUASAR_NETLIST.v)
#   QUASAR_TOP       top module
#   QUASAR_STA_PERIOD_NS optional: the clock period in ns (default 100, below)
#   QUASAR_STA_OUT   result file: "registers COUNT CELLS" (the register instances and their
#                    library cells, "-" when none), then one line per path class that exists in
#                    the netlist, "CLASS DELAY_PS ARRIVAL_PS SETUP_PS START_KIND END_KIND START_PIN
#                    END_PIN", then the stages of the worst path, "stage CELL PIN LOAD_PF DELAY_PS"
#                    (each cell output on it, in path order: its cell, output pin, the capacitance
#                    of the net it drives, and its delay)
# Constraints: one clock on port `clk` (a virtual clock for a unit without one), of a period far
# longer than any path; every other input arrives 0 after the clock edge and every output is
# required 0 before the next one. The clock is ideal (no latency, skew or uncertainty); inputs
# are ideal (transition 0), outputs unloaded; no wire-load model (the Liberty defines none), so
# a net's load is the sum of its pins' capacitances; the Liberty's default operating conditions.
# A path's delay is then period - slack:
#   reg_to_reg  clk-to-q + logic + setup    in_to_reg   logic + setup
#   reg_to_out  clk-to-q + logic            in_to_out   logic
# ARRIVAL_PS is the data arrival at the endpoint, SETUP_PS the endpoint's setup time (0 at an
# output). The worst path of the whole design must be the worst of these four classes (checked
# here: a path of another kind would be an error, not a silently dropped path).
read_liberty $::env(QUASAR_LIBERTY)
read_verilog $::env(QUASAR_NETLIST)
link_design $::env(QUASAR_TOP)

# ns, the Liberty's time unit: 100, far longer than every path but exp_q's, which
# scripts/sta-units.sh times again at QUASAR_STA_PERIOD_NS=1000 when this one is too short.
set period 100.0
if {[info exists ::env(QUASAR_STA_PERIOD_NS)] && $::env(QUASAR_STA_PERIOD_NS) ne ""} {
  set period [expr {double($::env(QUASAR_STA_PERIOD_NS))}]
}
set clk_port [get_ports -quiet clk]
if {[llength $clk_port] > 0} {
  create_clock -name clk -period $period $clk_port
  set data_in [delete_from_list [all_inputs] $clk_port]
} else {
  create_clock -name clk -period $period
  set data_in [all_inputs]
}
set_input_delay 0 -clock clk $data_in
set_output_delay 0 -clock clk [all_outputs]

set reg_clk [all_registers -clock_pins]
set reg_d [all_registers -data_pins]
set outs [all_outputs]

# The worst (max-delay, setup) path from FROM to TO as "DELAY ARRIVAL SETUP START END SPIN EPIN"
# (ps, 3 decimals), or "" when there is none.
proc kind {pin} {
  if {[sta::Pin_is_top_level_port $pin]} {
    if {[get_property $pin direction] eq "input"} { return input } else { return output }
  }
  return register
}
proc worst {args} {
  set ends [find_timing_paths -path_delay max -group_count 1 -endpoint_count 1 {*}$args]
  if {[llength $ends] == 0} { return "" }
  set pe [lindex $ends 0]
  set arr [sta::PathEnd_data_arrival_time $pe]
  set req [sta::PathEnd_data_required_time $pe]
  set sp [get_property $pe startpoint]
  set ep [get_property $pe endpoint]
  # required = the capturing edge - setup (setup 0 at an output: output delay 0), so the delay
  # is arrival + setup. Taken against the edge's own time, not $period: OpenSTA keeps times as
  # floats, and 100 ns in seconds is not one.
  set setup [expr {[sta::PathEnd_target_clk_time $pe] - $req}]
  return [format "%.3f %.3f %.3f %s %s %s %s" [expr {($arr + $setup) * 1e12}] \
    [expr {$arr * 1e12}] [expr {$setup * 1e12}] [kind $sp] [kind $ep] \
    [get_full_name $sp] [get_full_name $ep]]
}

set classes {}
if {[llength $reg_clk] > 0 && [llength $reg_d] > 0} {
  lappend classes reg_to_reg [worst -from $reg_clk -to $reg_d]
}
if {[llength $data_in] > 0 && [llength $reg_d] > 0} {
  lappend classes in_to_reg [worst -from $data_in -to $reg_d]
}
if {[llength $reg_clk] > 0 && [llength $outs] > 0} {
  lappend classes reg_to_out [worst -from $reg_clk -to $outs]
}
if {[llength $data_in] > 0 && [llength $outs] > 0} {
  lappend classes in_to_out [worst -from $data_in -to $outs]
}

set fh [open $::env(QUASAR_STA_OUT) w]
set regs [all_registers -cells]
set cells {}
foreach inst $regs { lappend cells [get_property $inst ref_name] }
set cells [join [lsort -unique $cells] ,]
puts $fh "registers [llength $regs] [expr {$cells eq {} ? {-} : $cells}]"
set max -1.0
foreach {name result} $classes {
  if {$result eq ""} continue
  puts $fh "$name $result"
  set d [lindex $result 0]
  if {$d > $max} { set max $d }
}
# The worst path's stages, from report_checks' Cap column (OpenSTA 2.0.17 has no Tcl accessor for
# a net's capacitance): "  CAP  DELAY  TIME ^ INST/PIN (CELL)" is a cell output driving CAP pF.
sta::with_output_to_variable report {
  report_checks -path_delay max -group_count 1 -fields {cap} -digits 4
}
foreach line [split $report "\n"] {
  if {[regexp {^\s*([0-9.]+)\s+(-?[0-9.]+)\s+(-?[0-9.]+)\s+[\^v]\s+\S+/(\S+)\s+\((\S+)\)\s*$} $line \
         -> cap delay time pin cell]} {
    puts $fh [format "stage %s %s %.4f %.3f" $cell $pin $cap [expr {$delay * 1000.0}]]
  }
}
close $fh
set all [worst]
if {$all eq "" || $max < 0} { error "sta_unit: no timing path in $::env(QUASAR_TOP)" }
if {[lindex $all 0] != $max} {
  error "sta_unit: the worst path ($all) is none of the four classes (worst of them $max ps)"
}
if {$max >= $period * 1000.0} { error "sta_unit: a path of $max ps: raise the period" }
