#!/usr/bin/env python3
"""Derive the 180 -> 45 nm leakage factor of the synthesized units from two cell libraries of
one family: Oklahoma State University's osu018 (0.18 um, the library the units are synthesized
to) and its FreePDK45 sibling gscl45nm (45 nm). Both hold the same 32 cells by name and function
(NAND2X1, DFFPOSX1, FAX1, ...), each with a characterized cell_leakage_power.

Method: every unit's mapped netlist (scripts/gen-tech-units.sh keeps them in its work folder,
synth/<unit>/noalumacc/netlist.json) is priced cell by cell in both libraries, the same cell
instances in each; the factor is the pooled ratio sum(leakage in gscl45nm) / sum(leakage in
osu018) over the distinct netlists (a register file's _write row is its _read row's netlist and
is counted once). The per-unit ratios and the same comparison for area (a cross-check of the
Stillmaker & Baas area factor) are printed too. Python 3 standard library only.

Usage: scripts/fit-leakage.py OSU018_LIB GSCL45NM_LIB [--synth DIR] [--check LITERATURE_YAML]
  --synth  the gen-tech-units work folder's synth/ (default build/tech-units/synth)
  --check  exit 1 unless the table's scaling.factors.180.leakage equals the pooled factor
           rounded to 3 significant digits
gscl45nm.lib is not part of quasar (docs/cost-model.md, "Scaling", says where to get it).
"""
import argparse
import glob
import json
import os
import re
import sys

CELL = re.compile(r'\bcell\s*\(\s*"?(\w+)"?\s*\)\s*\{')
AREA = re.compile(r"\barea\s*:\s*([0-9.eE+-]+)")
LEAK = re.compile(r"\bcell_leakage_power\s*:\s*([0-9.eE+-]+)")
UNIT = re.compile(r'leakage_power_unit\s*:\s*"?1nW"?')


def read_cells(path):
    """{cell: (area, leakage nW)} of a Liberty file (area and leakage read in the cell's header)."""
    with open(path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    if not UNIT.search(text):
        raise SystemExit(f"{path}: leakage_power_unit is not 1nW (or not found)")
    cells = {}
    starts = [(m.start(), m.end(), m.group(1)) for m in CELL.finditer(text)]
    for i, (_, end, name) in enumerate(starts):
        stop = starts[i + 1][0] if i + 1 < len(starts) else len(text)
        body = text[end:stop]
        a, l = AREA.search(body), LEAK.search(body)
        if a is None or l is None:
            raise SystemExit(f"{path}: cell {name} has no area or cell_leakage_power")
        cells[name] = (float(a.group(1)), float(l.group(1)))
    if not cells:
        raise SystemExit(f"{path}: no cells found")
    return cells


def netlist_cells(path, lib):
    """Instance counts per library cell of the netlist's top module (the one with the most cells)."""
    with open(path, encoding="utf-8") as f:
        modules = json.load(f)["modules"]
    best = None
    for m in modules.values():
        counts = {}
        for c in m.get("cells", {}).values():
            if c["type"] in lib:
                counts[c["type"]] = counts.get(c["type"], 0) + 1
        if counts and (best is None or sum(counts.values()) > sum(best.values())):
            best = counts
    if best is None:
        raise SystemExit(f"{path}: no cell of the library found")
    return best


def committed_factor(path):
    """scaling.factors.180.leakage of a literature table: the flow mapping on the `180:` line,
    read only up to its source string (which may mention leakage itself)."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"^\s*180:\s*\{([^\"]*)", line)
            if m:
                v = re.search(r"\bleakage:\s*([0-9.eE+-]+)", m.group(1))
                return float(v.group(1)) if v else None
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("osu018")
    ap.add_argument("gscl45nm")
    ap.add_argument("--synth", default="build/tech-units/synth")
    ap.add_argument("--check")
    args = ap.parse_args()
    lib180, lib45 = read_cells(args.osu018), read_cells(args.gscl45nm)
    missing = sorted(set(lib180) - set(lib45))
    paths = sorted(glob.glob(os.path.join(args.synth, "*", "noalumacc", "netlist.json")))
    if not paths:
        raise SystemExit(f"{args.synth}: no */noalumacc/netlist.json (run scripts/gen-tech-units.sh)")
    print("| unit | cells | leakage osu018 nW | leakage gscl45nm nW | ratio | area ratio |")
    print("|---|---|---|---|---|---|")
    tot = [0.0, 0.0, 0.0, 0.0]
    ratios = []
    for p in paths:
        unit = p.split(os.sep)[-3]
        if unit.startswith("regfile_") and unit.endswith("_write") and any(
                q.split(os.sep)[-3] == unit[:-len("_write")] + "_read" for q in paths):
            continue  # the same netlist as its _read row, counted there
        counts = netlist_cells(p, lib180)
        absent = sorted(c for c in counts if c not in lib45)
        if absent:
            raise SystemExit(f"{unit}: cells {absent} are not in {args.gscl45nm}")
        l180 = sum(n * lib180[c][1] for c, n in counts.items())
        if l180 <= 0:
            raise SystemExit(f"{unit}: its cells have no leakage in {args.osu018}")
        l45 = sum(n * lib45[c][1] for c, n in counts.items())
        a180 = sum(n * lib180[c][0] for c, n in counts.items())
        a45 = sum(n * lib45[c][0] for c, n in counts.items())
        for i, v in enumerate((l180, l45, a180, a45)):
            tot[i] += v
        ratios.append((l45 / l180, unit))
        print(f"| {unit} | {sum(counts.values())} | {l180:.2f} | {l45:.1f} | {l45 / l180:.1f} | "
              f"{a45 / a180:.4f} |")
    factor = tot[1] / tot[0]
    rounded = float(f"{factor:.3g}")
    print()
    print(f"units: {len(ratios)} distinct netlists; cells in osu018 but not gscl45nm: {missing or 'none'}")
    print(f"per-unit leakage ratio: min {min(ratios)[0]:.1f} ({min(ratios)[1]}), "
          f"max {max(ratios)[0]:.1f} ({max(ratios)[1]})")
    print(f"pooled leakage factor 180 -> 45 nm: {factor:.4f} (committed as {rounded:g})")
    print(f"pooled area ratio gscl45nm / osu018: {tot[3] / tot[2]:.4f} "
          f"(Stillmaker & Baas area factor: 0.053)")
    if args.check:
        have = committed_factor(args.check)
        if have != rounded:
            have_text = "absent" if have is None else f"{have:g}"
            print(f"{args.check}: scaling.factors.180.leakage is {have_text}, the fit gives {rounded:g}",
                  file=sys.stderr)
            return 1
        print(f"{args.check}: scaling.factors.180.leakage = {have:g} matches")
    return 0


if __name__ == "__main__":
    sys.exit(main())
