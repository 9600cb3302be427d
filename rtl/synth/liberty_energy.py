#!/usr/bin/env python3
"""Liberty-driven pieces of the switching-activity flow (scripts/gen-tech-units.sh).

  liberty_energy.py cells LIB OUT.v
      Verilog behavioural models of the library's cells, from the Liberty `function`
      attributes (combinational cells) and `ff` groups (edge-triggered flops without
      set/clear), so Verilator can simulate a netlist mapped by `abc -liberty`. Cells the
      models cannot express (tristate, latch, flops with set/clear) are left out: a netlist
      that uses one fails to elaborate instead of simulating wrongly.
  liberty_energy.py energy LIB NETLIST.json TOGGLES.tsv SLEW_NS
      Energy per operation from the per-net rise/fall counts of toggle_harness.cpp, printed as
      "key value" lines (pJ per op, nW of leakage).
  liberty_energy.py flop LIB CELL SLEW_NS LOAD_PF ACTIVITY
      One flop of the library as a pipeline register bit (scripts/sta-units.sh): its area and its
      energy per clock cycle, "key value" lines (below).

Energy model (zero-delay, one value per net per cycle):
  * net switching: each transition of a net moves C V^2 / 2 out of the supply, C = the sum of
    the input-pin capacitances of the cells it drives (no wire capacitance, no load on the
    unit's outputs), V = the library's nom_voltage;
  * cell internal energy: each output transition costs the output pin's rise_power or
    fall_power, looked up at (that net's load, SLEW_NS) and averaged over the pin's related
    input pins (which input caused the transition is unknown in a cycle-based simulation);
    each transition at an input pin with its own (passive) table, e.g. a flop's D, costs that;
  * clock: every cycle the clock net rises and falls (C_clk V^2) and every flop's CLK pin
    tables count once each;
  * leakage: the sum of cell_leakage_power (state-independent), reported apart, not per op.
Not modelled: glitches (a net that toggles several times inside a cycle counts at most once),
real slews (one fixed input slew), wire and output loads, a clock tree.

Flop (`flop`), the same model for one bit of a pipeline register, per clock cycle: the clock pin
rises and falls once (C_clk V^2 from the supply, plus the CLK pin's passive rise and fall tables
at SLEW_NS); D toggles with probability ACTIVITY, as often rising as falling (each toggle:
C_D V^2 / 2 into the D pin, plus the mean of D's passive rise and fall tables); Q follows D one
edge later, so it toggles with the same probability (each toggle: the mean of Q's rise_power and
fall_power related to CLK, at LOAD_PF and the clock's SLEW_NS). The switching of Q's load is not
counted: it is the next stage's input, which its old driver switched before a register was put
in front of it.
"""
import json
import re
import sys


# --- Liberty parser: groups, simple attributes (a : b;) and complex attributes (a (...);) ---
class Group:
    def __init__(self, kind, args):
        self.kind, self.args, self.attrs, self.groups = kind, args, {}, []

    def sub(self, kind):
        return [g for g in self.groups if g.kind == kind]


def parse_liberty(path):
    text = open(path, encoding="utf-8").read()
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S).replace("\\\n", " ")
    tokens = re.findall(r'"[^"]*"|[{}();:,]|[^\s{}();:,"]+', text)
    root = Group("root", [])
    stack, i = [root], 0
    while i < len(tokens):
        t = tokens[i]
        if t == "}":
            stack.pop()
            i += 1
        elif i + 1 < len(tokens) and tokens[i + 1] == ":":
            j = tokens.index(";", i + 2)
            stack[-1].attrs[t] = " ".join(x.strip('"') for x in tokens[i + 2:j])
            i = j + 1
        elif i + 1 < len(tokens) and tokens[i + 1] == "(":
            j = tokens.index(")", i + 2)
            args = [x.strip('"') for x in tokens[i + 2:j] if x != ","]
            if tokens[j + 1] == "{":
                g = Group(t, args)
                stack[-1].groups.append(g)
                stack.append(g)
                i = j + 2
            else:  # complex attribute; `values` may repeat rows, keep them all
                stack[-1].attrs[t] = args
                i = j + 2 if tokens[j + 1] == ";" else j + 1
        else:
            i += 1
    (lib,) = root.sub("library")
    return lib


def floats(strings):
    return [float(v) for s in strings for v in s.replace(",", " ").split()]


def interp1(xs, ys, x):
    if x <= xs[0]:
        i = 0
    elif x >= xs[-1]:
        i = len(xs) - 2
    else:
        i = max(k for k in range(len(xs) - 1) if xs[k] <= x)
    t = (x - xs[i]) / (xs[i + 1] - xs[i])  # extrapolates linearly outside the table
    return ys[i] + t * (ys[i + 1] - ys[i])


def table_value(table, load, slew):
    """A power table at (total output capacitance, input transition): bilinear."""
    values = floats(table.attrs["values"])
    i1 = floats(table.attrs["index_1"])
    if "index_2" not in table.attrs:  # passive tables: input transition only
        return interp1(i1, values, slew)
    i2 = floats(table.attrs["index_2"])
    rows = [values[r * len(i2):(r + 1) * len(i2)] for r in range(len(i1))]
    return interp1(i1, [interp1(i2, row, slew) for row in rows], load)


# --- Verilog models from the functions ---
def verilog_expr(function, pins):
    tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|[!'()+*&|^]|[01]", function)
    if "'" in tokens:
        raise ValueError("postfix ' not supported: " + function)
    out, prev_operand = [], False
    for t in tokens:
        starts = t == "(" or t == "!" or t not in "+*&|^)"
        if prev_operand and starts:
            out.append("&")  # juxtaposition is AND
        if t[0].isalpha() and t not in pins:
            raise ValueError("unknown pin %s in %s" % (t, function))
        out.append({"+": "|", "*": "&", "!": "~", "0": "1'b0", "1": "1'b1"}.get(t, t))
        prev_operand = t == ")" or t[0].isalnum()
    return " ".join(out)


def cell_model(cell):
    pins = {p.args[0]: p for p in cell.sub("pin")}
    ins = sorted(n for n, p in pins.items() if p.attrs.get("direction") == "input")
    outs = sorted(n for n, p in pins.items() if p.attrs.get("direction") == "output")
    if not outs or cell.sub("latch") or cell.sub("statetable"):
        return None
    if any("three_state" in pins[o].attrs or "function" not in pins[o].attrs for o in outs):
        return None
    ports = ", ".join(["input wire " + n for n in ins] + ["output wire " + n for n in outs])
    body = []
    ffs = cell.sub("ff")
    if ffs:
        ff = ffs[0]
        if "clear" in ff.attrs or "preset" in ff.attrs or len(ff.args) != 2:
            return None
        clk = ff.attrs["clocked_on"].strip("() ")
        edge = "posedge"
        if clk.startswith("!"):
            edge, clk = "negedge", clk[1:].strip()
        state, state_n = ff.args
        body += ["  reg %s;" % state, "  wire %s = ~%s;" % (state_n, state),
                 "  always @(%s %s) %s <= %s;" % (edge, clk, state,
                                                  verilog_expr(ff.attrs["next_state"], ins))]
        ins = ins + [state, state_n]
    for o in outs:
        body.append("  assign %s = %s;" % (o, verilog_expr(pins[o].attrs["function"], ins)))
    return "module %s (%s);\n%s\nendmodule\n" % (cell.args[0], ports, "\n".join(body))


def cmd_cells(lib_path, out_path):
    lib = parse_liberty(lib_path)
    parts = ["// Generated by rtl/synth/liberty_energy.py from %s: behavioural models of\n"
             "// the cells' Liberty functions, for simulating mapped netlists. Do not edit.\n"
             % lib_path.rsplit("/", 1)[-1]]
    parts += [m for m in (cell_model(c) for c in lib.sub("cell")) if m]
    with open(out_path, "w", encoding="utf-8") as f:
        f.write("/* verilator lint_off UNUSEDSIGNAL */\n" + "\n".join(parts))


# --- energy ---
def cmd_energy(lib_path, netlist_path, toggles_path, slew):
    lib = parse_liberty(lib_path)
    vdd = float(lib.attrs["nom_voltage"])
    cells = {c.args[0]: c for c in lib.sub("cell")}
    netlist = json.load(open(netlist_path, encoding="utf-8"))
    (module,) = [m for m in netlist["modules"].values() if "top" in m.get("attributes", {})] or \
        list(netlist["modules"].values())[:1]

    def pin(cell_type, name):
        return [p for p in cells[cell_type].sub("pin") if p.args[0] == name][0]

    load, driver, sinks = {}, {}, {}
    leakage = 0.0
    for inst in module["cells"].values():
        lc = cells[inst["type"]]
        leakage += float(lc.attrs.get("cell_leakage_power", 0))
        for port, bits in inst["connections"].items():
            for b in bits:
                if isinstance(b, str):
                    continue  # a constant
                if inst["port_directions"][port] == "output":
                    driver[b] = (inst["type"], port)
                else:
                    load[b] = load.get(b, 0.0) + float(pin(inst["type"], port).attrs["capacitance"])
                    sinks.setdefault(b, []).append((inst["type"], port))

    bit_of = {}
    for name, net in module["netnames"].items():
        for i, b in enumerate(net["bits"]):
            bit_of[(name, i)] = b

    def output_energy(cell_type, port, c_load, kind):
        groups = pin(cell_type, port).sub("internal_power")
        vals = [table_value(g.sub(kind)[0], c_load, slew) for g in groups if g.sub(kind)]
        return sum(vals) / len(vals) if vals else 0.0

    def passive_energy(cell_type, port, kind):
        groups = pin(cell_type, port).sub("internal_power")
        return sum(table_value(g.sub(kind)[0], 0.0, slew) for g in groups
                   if g.sub(kind) and "related_pin" not in g.attrs)

    ops, e_net, e_int, clk_bit, seen = 0, 0.0, 0.0, None, set()
    for line in open(toggles_path, encoding="utf-8"):
        f = line.split()
        if f[0] == "ops":
            ops = int(f[1])
            continue
        name, i, rises, falls = f[0], int(f[1]), int(f[2]), int(f[3])
        b = bit_of[(name, i)]
        if name == "clk":
            clk_bit = b
            continue
        if b in seen:
            continue  # an alias of a net already counted
        seen.add(b)
        c = load.get(b, 0.0)
        e_net += (rises + falls) * 0.5 * c * vdd * vdd
        if b in driver:
            e_int += rises * output_energy(*driver[b], c, "rise_power")
            e_int += falls * output_energy(*driver[b], c, "fall_power")
        for cell_type, port in sinks.get(b, []):
            e_int += rises * passive_energy(cell_type, port, "rise_power")
            e_int += falls * passive_energy(cell_type, port, "fall_power")
    if ops <= 0:
        raise ValueError("no operations counted in " + toggles_path)
    e_clk = 0.0
    if clk_bit is not None:
        e_clk = load.get(clk_bit, 0.0) * vdd * vdd + sum(
            passive_energy(t, p, "rise_power") + passive_energy(t, p, "fall_power")
            for t, p in sinks.get(clk_bit, []))
        e_clk *= ops  # one clock cycle per operation
    total = e_net + e_int + e_clk
    print("ops %d" % ops)
    print("vdd_v %g" % vdd)
    print("energy_pj %.6f" % (total / ops))
    print("net_pj %.6f" % (e_net / ops))
    print("internal_pj %.6f" % (e_int / ops))
    print("clock_pj %.6f" % (e_clk / ops))
    print("leakage_nw %.4f" % leakage)


def cmd_leakage(lib_path, netlist_path):
    lib = parse_liberty(lib_path)
    cells = {c.args[0]: c for c in lib.sub("cell")}
    netlist = json.load(open(netlist_path, encoding="utf-8"))
    total = 0.0
    for m in netlist["modules"].values():
        for inst in m["cells"].values():
            if inst["type"] in cells:
                total += float(cells[inst["type"]].attrs.get("cell_leakage_power", 0))
    print("leakage_nw %.4f" % total)


def cmd_flop(lib_path, cell_name, slew, q_load, activity):
    lib = parse_liberty(lib_path)
    vdd = float(lib.attrs["nom_voltage"])
    (cell,) = [c for c in lib.sub("cell") if c.args[0] == cell_name]
    (ff,) = cell.sub("ff")
    clk = ff.attrs["clocked_on"].strip("() ")
    pins = {p.args[0]: p for p in cell.sub("pin")}
    data = [n for n, p in pins.items() if p.attrs.get("direction") == "input" and n != clk]
    outs = [n for n, p in pins.items() if p.attrs.get("direction") == "output"]
    if clk.startswith("!") or len(data) != 1 or len(outs) != 1:
        raise ValueError("%s is not a one-input, one-output positive-edge flop" % cell_name)
    d_pin, q_pin = pins[data[0]], pins[outs[0]]

    def passive(pin, kind):  # the pin's own tables (no related pin), at the input slew
        return sum(table_value(g.sub(kind)[0], 0.0, slew) for g in pin.sub("internal_power")
                   if g.sub(kind) and "related_pin" not in g.attrs)

    def output(pin, kind):  # the output's tables related to the clock, at (load, clock slew)
        vals = [table_value(g.sub(kind)[0], q_load, slew) for g in pin.sub("internal_power")
                if g.sub(kind) and g.attrs.get("related_pin") == clk]
        if not vals:
            raise ValueError("no %s of %s related to %s" % (kind, q_pin.args[0], clk))
        return sum(vals) / len(vals)

    c_clk = float(pins[clk].attrs["capacitance"])
    c_d = float(d_pin.attrs["capacitance"])
    clock_pin = c_clk * vdd * vdd
    clock_internal = passive(pins[clk], "rise_power") + passive(pins[clk], "fall_power")
    d_pin_net = activity * 0.5 * c_d * vdd * vdd
    d_internal = activity * 0.5 * (passive(d_pin, "rise_power") + passive(d_pin, "fall_power"))
    q_internal = activity * 0.5 * (output(q_pin, "rise_power") + output(q_pin, "fall_power"))
    total = clock_pin + clock_internal + d_pin_net + d_internal + q_internal
    print("area_um2 %g" % float(cell.attrs["area"]))
    print("vdd_v %g" % vdd)
    print("energy_pj %.6f" % total)
    print("clock_pin_pj %.6f" % clock_pin)
    print("clock_internal_pj %.6f" % clock_internal)
    print("d_pin_pj %.6f" % d_pin_net)
    print("d_internal_pj %.6f" % d_internal)
    print("q_internal_pj %.6f" % q_internal)


if __name__ == "__main__":
    a = sys.argv[1:]
    if a[:1] == ["cells"] and len(a) == 3:
        cmd_cells(a[1], a[2])
    elif a[:1] == ["energy"] and len(a) == 5:
        cmd_energy(a[1], a[2], a[3], float(a[4]))
    elif a[:1] == ["flop"] and len(a) == 6:
        cmd_flop(a[1], a[2], float(a[3]), float(a[4]), float(a[5]))
    elif a[:1] == ["leakage"] and len(a) == 3:
        cmd_leakage(a[1], a[2])
    else:
        sys.exit(__doc__)
