#!/usr/bin/env python3
"""Refit the SRAM access-energy model of a quasar technology table.

Model: pj_per_byte = c0_pj + c1_pj_per_sqrt_kib * sqrt(bank_kib), ordinary least squares over the
points listed under sram.energy_pj_per_byte.points. Python 3 standard library only; the YAML is
not parsed in general, only the one-line point entries of the form
    - {bank_kib: 8, pj_per_byte: 1.25, source: "..."}

Usage: scripts/fit-sram.py [configs/tech/literature-45nm.yaml]
Prints the points, c0 and c1 (full precision and as committed, 4 decimals) and the residuals, and
exits 1 if the file's committed c0/c1 differ from the refit by more than 5e-5.
"""
import math
import re
import sys

POINT = re.compile(
    r"^\s*-\s*\{\s*bank_kib:\s*([0-9.eE+-]+)\s*,\s*pj_per_byte:\s*([0-9.eE+-]+)\s*,")
CONST = re.compile(r"^\s*(c0_pj|c1_pj_per_sqrt_kib):\s*([0-9.eE+-]+)\s*$")


def read(path):
    points, consts, in_block = [], {}, False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if re.match(r"^\s*energy_pj_per_byte:\s*$", line):
                in_block = True
                continue
            if in_block and re.match(r"^\s{2}\S", line) and not line.startswith("    "):
                in_block = False  # next key at the sram: level
            if not in_block:
                continue
            m = POINT.match(line)
            if m:
                points.append((float(m.group(1)), float(m.group(2))))
            m = CONST.match(line)
            if m:
                consts[m.group(1)] = float(m.group(2))
    return points, consts


def fit(points):
    xs = [math.sqrt(k) for k, _ in points]
    ys = [y for _, y in points]
    n = len(points)
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    if n < 2 or sxx == 0:
        raise SystemExit("need at least two points with different bank sizes")
    c1 = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx
    return my - c1 * mx, c1


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else "configs/tech/literature-45nm.yaml"
    points, consts = read(path)
    if not points:
        raise SystemExit(f"{path}: no sram.energy_pj_per_byte.points found")
    c0, c1 = fit(points)
    print(f"points ({len(points)}), pJ per byte vs bank KiB:")
    for k, y in points:
        model = c0 + c1 * math.sqrt(k)
        print(f"  bank_kib {k:8g}  published {y:8.4f}  fit {model:8.4f}  residual {y - model:+.4f}")
    print(f"c0_pj              = {c0:.6f}  (commit as {c0:.4f})")
    print(f"c1_pj_per_sqrt_kib = {c1:.6f}  (commit as {c1:.4f})")
    bad = [(name, value, ref) for name, value, ref in
           (("c0_pj", consts.get("c0_pj"), c0), ("c1_pj_per_sqrt_kib", consts.get("c1_pj_per_sqrt_kib"), c1))
           if value is None or abs(value - ref) > 5e-5]
    for name, value, ref in bad:
        print(f"MISMATCH: {path} has {name} = {value}, refit gives {ref:.4f}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
