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
# Three reports from one generic netlist: yosys's internal gates (`synth`), transistors of
# the CMOS gate model (`abc -g cmos2`, flops legalised first), and cells and area in µm² of
# the Liberty library (`dfflibmap` + `abc -liberty`).
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
synth -flatten {*}$::env(QUASAR_SYNTH_ARGS) -top $top
opt_clean
design -save generic
tee -q -o $out/generic.txt stat

dfflegalize -cell {$_DFF_P_} 01
abc -g cmos2
opt_clean
tee -q -o $out/cmos.txt stat -tech cmos

if {$lib ne ""} {
  design -load generic
  dfflibmap -liberty $lib
  abc -liberty $lib
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
}
