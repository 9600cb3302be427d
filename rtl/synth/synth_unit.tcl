# synth_unit.tcl: synthesize one unit of rtl/units with yosys and write its statistics.
# Run by scripts/synth-units.sh as `yosys -c synth_unit.tcl`; parameters come from the
# environment (a yosys Tcl script has no argument list of its own):
#   QUASAR_RTL_DIR   folder of the Verilog sources, one module per file named after it; only
#                    the top's file and the files of the modules it instantiates (transitively)
#                    are read, listed in $QUASAR_OUT/files.txt
#   QUASAR_TOP       top module
#   QUASAR_PARAMS    "NAME=VALUE ..." parameter overrides of the top (may be empty)
#   QUASAR_OUT       folder for generic.txt, cmos.txt and (with a Liberty file) liberty.txt
#   QUASAR_LIBERTY   standard-cell Liberty file, or empty to skip the area mapping
#   QUASAR_SYNTH_ARGS extra options of `synth` (e.g. -noalumacc), may be empty
#   QUASAR_NETLIST   optional: with a Liberty file, also write the mapped netlist as
#                    $QUASAR_NETLIST.v (write_verilog -noattr) and $QUASAR_NETLIST.json (with the
#                    cells' port directions) for the switching-activity flow (energy_unit.sh)
#   QUASAR_SPEED_OUT optional: with a Liberty file, also map the same generic netlist for speed,
#                    two ways (below), each into a folder $QUASAR_SPEED_OUT/<script>: netlist.v
#                    (as QUASAR_NETLIST's), liberty.txt (cells and area), abc.txt (the abc
#                    script it ran); scripts/sta-units.sh times both and keeps the faster
#   QUASAR_ABC_CONSTR with QUASAR_SPEED_OUT: abc's constraint file for the speed mappings, two
#                    lines `set_driving_cell CELL` (what drives every input of the logic: the
#                    unit's ports and its flops' Q) and `set_load PF` (the load on every output of
#                    the logic: ports and flops' D)
#   QUASAR_ABC_FRAIG_C optional: a conflict limit N for abc's `&fraig -x` in every abc call here
#                    (units.list's ABC_FRAIG_C=N, scripts/units-list.sh): the cmos and area
#                    mappings then run abc's default script spelled out with `&fraig -x -C N`,
#                    the speed mappings their scripts with it. Empty or unset (every row without
#                    the key): abc's own default scripts, as before the option existed.
# Three reports from one generic netlist: yosys's internal gates (`synth`), transistors of
# the CMOS gate model (`abc -g cmos2`, flops legalised first), and cells and area in µm² of
# the Liberty library (`dfflibmap` + `abc -liberty`). That last mapping is for area: abc's default
# script maps without a delay target and neither buffers nor sizes. With QUASAR_SPEED_OUT, a
# fourth and fifth mapping of the same generic netlist are timing-driven (speed_scripts below).
yosys -import

set top $::env(QUASAR_TOP)
set out $::env(QUASAR_OUT)
set lib $::env(QUASAR_LIBERTY)

# The files this unit needs: its top's file, then every file <id>.v of the folder whose name
# is an identifier of a file already taken (comments stripped), to closure. Reading only these
# keeps a unit's netlist independent of unrelated files: yosys's internal names, and so abc's
# mapping, shift with every module read (docs/validation.md, "Flow noise"). A signal that
# happens to share a module's name only adds that file, which is harmless.
proc unit_files {dir top} {
  set need {}
  set todo [list $top]
  while {[llength $todo] > 0} {
    set m [lindex $todo 0]
    set todo [lrange $todo 1 end]
    if {[lsearch -exact $need $m] >= 0} continue
    if {![file exists $dir/$m.v]} { error "synth_unit: no $dir/$m.v for module $m" }
    lappend need $m
    set fh [open $dir/$m.v]
    set text [read $fh]
    close $fh
    regsub -all {/\*.*?\*/} $text " " text
    regsub -all {//[^\n]*} $text " " text
    foreach id [lsort -unique [regexp -all -inline {[A-Za-z_][A-Za-z0-9_]*} $text]] {
      if {$id ne $m && [file exists $dir/$id.v] && [lsearch -exact $need $id] < 0} {
        lappend todo $id
      }
    }
  }
  return [lsort $need]
}
set files [unit_files $::env(QUASAR_RTL_DIR) $top]
set fh [open $out/files.txt w]
foreach m $files {
  puts $fh "$m.v"
  read_verilog -sv $::env(QUASAR_RTL_DIR)/$m.v
}
close $fh
foreach kv $::env(QUASAR_PARAMS) {
  lassign [split $kv =] name value
  chparam -set $name $value $top
}
hierarchy -check -top $top
# abc's arguments for the cmos and area mappings: none (its default script), or with a fraig
# conflict limit that default script spelled out (yosys 0.23's, the same for -g and -liberty
# without -constr; {D} dropped, as yosys does without a delay target).
set fraig_c ""
if {[info exists ::env(QUASAR_ABC_FRAIG_C)]} { set fraig_c $::env(QUASAR_ABC_FRAIG_C) }
set fraig {&fraig -x}
set abc_default {}
if {$fraig_c ne ""} {
  set fraig "&fraig -x -C $fraig_c"
  set abc_default [list -script "+[string map {{ } ,} [join [list strash {&get -n} $fraig &put \
    scorr dc2 dretime strash {&get -n} {&dch -f} &nf &put] {;}]]"]
}
synth -flatten {*}$::env(QUASAR_SYNTH_ARGS) -top $top
opt_clean
design -save generic
tee -q -o $out/generic.txt stat

dfflegalize -cell {$_DFF_P_} 01
abc -g cmos2 {*}$abc_default
opt_clean
tee -q -o $out/cmos.txt stat -tech cmos

if {$lib ne ""} {
  design -load generic
  dfflibmap -liberty $lib
  abc -liberty $lib {*}$abc_default
  opt_clean
  tee -q -o $out/liberty.txt stat -liberty $lib
  if {[info exists ::env(QUASAR_NETLIST)] && $::env(QUASAR_NETLIST) ne ""} {
    # Only ports keep their names; every other net gets a short public name qn_<k>, the same
    # in the Verilog and the JSON netlist (write_verilog would invent its own names for the
    # private $-names). No underscore first: Verilator does not trace such signals.
    yosys rename -hide w:* i:* %d o:* %d
    opt_clean -purge
    yosys rename -enumerate -pattern qn_%
    write_verilog -noattr $::env(QUASAR_NETLIST).v
    read_liberty -lib $lib
    write_json $::env(QUASAR_NETLIST).json
  }
  if {[info exists ::env(QUASAR_SPEED_OUT)] && $::env(QUASAR_SPEED_OUT) ne ""} {
    # The speed mappings. yosys 0.23's abc pass, given -liberty and -constr, runs
    #   strash; &get -n; &fraig -x; &put; scorr; dc2; dretime; strash; &get -n; &dch -f;
    #   &nf {D}; &put; buffer; upsize {D}; dnsize {D}; stime -p
    # (without -constr the same up to &put: no buffering or sizing, which is the area flow above;
    # &nf's default target is already its best delay, so -D alone leaves that netlist as it is).
    # Two scripts here, both that one with `buffer -p` (buffers every high-fanout net, the
    # logic's inputs included: ports and the flops' Q, such as a reset, enable or select that
    # fans out to hundreds of pins, which plain `buffer` leaves alone) and &nf -p (also tries
    # pin permutations: more matches):
    #   plain     nothing else;
    #   balanced  &st; &sopb; &dsdb before the choices: SOP balancing then DSD balancing, which
    #             rebuild the AIG for depth (the long XOR and carry chains of the multipliers'
    #             adder trees and the adders), at some area (mac_int8: 6.4 -> 4.0 ns, +19 % area).
    # Neither is the faster everywhere (balanced on the MACs and accumulators, plain on the
    # E2M1 x E2M1 dot units), so both are written and scripts/sta-units.sh keeps the faster by
    # OpenSTA. &dch -f adds structural choices and &nf maps for delay; upsize then enlarges cells
    # on the critical path and dnsize shrinks the others where that does not lengthen it. The
    # target {D} is -D 1 (1 ps): unreachable, so &nf maps for its best delay, upsize goes on
    # until no step improves the worst path, and dnsize recovers area only where the delay stays.
    # (dretime of the default script is left out: abc is given the combinational logic between
    # flops, there is nothing to retime.) abc seeds its simulation the same way every run and
    # nothing here has a time limit (upsize -T 0): the same generic netlist gives the same
    # netlists (a full regeneration in a fresh folder gave the committed table byte for byte).
    set head [list strash {&get -n} $fraig &put scorr dc2 strash {&get -n}]
    set tail {{&dch -f} {&nf -p {D}} &put {buffer -p} {upsize {D}} {dnsize {D}} {stime -p}}
    set speed_scripts [list \
      balanced [join [concat $head {&st &sopb &dsdb} $tail] {;}] \
      plain [join [concat $head $tail] {;}]]
    foreach {tag script} $speed_scripts {
      set dir $::env(QUASAR_SPEED_OUT)/$tag
      file mkdir $dir
      set fh [open $dir/abc.txt w]
      puts $fh [string map {{{D}} {-D 1}} $script]
      close $fh
      design -load generic
      dfflibmap -liberty $lib
      abc -D 1 -constr $::env(QUASAR_ABC_CONSTR) -script "+[string map {{ } ,} $script]" \
        -liberty $lib
      opt_clean
      tee -q -o $dir/liberty.txt stat -liberty $lib
      yosys rename -hide w:* i:* %d o:* %d
      opt_clean -purge
      yosys rename -enumerate -pattern qn_%
      write_verilog -noattr $dir/netlist.v
    }
  }
}
