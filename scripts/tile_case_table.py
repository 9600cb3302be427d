#!/usr/bin/env python3
"""docs/validation.md's tables of the whole-tile RTL cases, from the test's [case] lines.

    ctest --preset release -R TileWs -V | scripts/tile_case_table.py

Prints the case table (one row per case, model against RTL) and the layer ends of the
multi-layer cases, in the order the lines come; exits 1 when a line does not parse or a case's
model and RTL cycles differ (the table would then not be the result it claims to be)."""
import re
import sys

LINE = re.compile(
    r"\[case\] (?P<name>\S+) (?P<point>\S+) (?P<scheme>\S+)(?: G (?P<g>\d+))? "
    r"m (?P<m>\d+) k (?P<k>\d+) n (?P<n>[\d,]+) tiles (?P<tiles>\d+) "
    r"model (?P<model>\d+) RTL (?P<rtl>\d+) fast (?P<fast>\d+) "
    r"stall_dram (?P<sd>\d+) stall_edge (?P<se>\d+) stall_port (?P<sp>\d+) "
    r"fetch_and_write_cycles \d+ scale_writes (?P<sw>\d+) scale_reads (?P<sr>\d+) "
    r"is_overflows \d+ (?:align_rounds \d+ )?layer_ends (?P<ends>[\d ]+?) "
    r"dram (?P<gbps>[\d.]+) GB/s (?P<lat>[\d.]+) ns (?P<ch>\d+) ch (?P<burst>\d+) B "
    r"tt (?P<tt>[\d.]+) ns refresh (?P<trefi>[\d.]+)/(?P<trfc>[\d.]+) ns"
    r"(?: stall_dequant (?P<sq>\d+))?"
    r"(?:.*? held_writes (?P<held>\d+))?(?:.*? reads (?P<reads>-?\d+(?:,-?\d+)*))?")


def dram(c):
    text = f"{c['gbps']} GB/s, {c['lat']} ns"
    extra = []
    if c["ch"] != "1" or c["burst"] != "64" or c["tt"] != "0":
        extra.append(f"{c['ch']} ch, {c['burst']} B, tt {c['tt']} ns")
    if c["trefi"] != "0":
        extra.append(f"ref {c['trefi']}/{c['trfc']} ns")
    return ", ".join([text] + extra)


def main():
    rows, chains, bad = [], [], 0
    for line in sys.stdin:
        if "[case]" not in line:
            continue
        c = LINE.search(line)
        if not c:
            print(f"tile_case_table: cannot read: {line.strip()}", file=sys.stderr)
            bad += 1
            continue
        if c["model"] != c["rtl"] or c["model"] != c["fast"]:
            print(f"tile_case_table: {c['name']}: model {c['model']}, RTL {c['rtl']}, "
                  f"fast {c['fast']}", file=sys.stderr)
            bad += 1
        ns = c["n"].split(",")
        shape = f"{c['m']} × {c['k']} × {ns[0]}"
        # Each later layer reads the one before (→ N), or, with `reads`, the layer it names
        # (N, reads layer j) or none (N, own input: an independent layer, of the first K).
        reads = [int(r) for r in c["reads"].split(",")] if c["reads"] else None
        for i, n in enumerate(ns[1:]):
            if reads is None or reads[i] == i:
                shape += f" → {n}"
            elif reads[i] < 0:
                shape += f"; {n} (own input)"
            else:
                shape += f"; {n} (reads layer {reads[i]})"
        if c["held"] and c["held"] != "0":
            shape += f"; {c['held']} writes held"
        scheme = c["scheme"] + (f" G {c['g']}" if c["g"] else "")
        rows.append(f"| {c['name']} | {c['point']} | {scheme} | {shape} | {c['tiles']} | "
                    f"{dram(c)} | {c['model']} | {c['rtl']} | {c['sd']} | {c['se']} | "
                    f"{c['sp']} | {c['sw']} / {c['sr']} | {c['sq'] or 0} |")
        ends = c["ends"].split()
        if len(ends) > 1:
            chains.append(f"| {c['name']} | {', '.join(ends)} |")
    print("| case | point | scheme | M × K × N | tiles | DRAM | model cycles | RTL cycles | "
          "stall_dram | stall_edge | stall_port | scale w / r | stall_dequant |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    print()
    print("| case | layer ends |")
    print("|---|---|")
    print("\n".join(chains))
    print(f"\n{len(rows)} cases", file=sys.stderr)
    return 1 if bad or not rows else 0


if __name__ == "__main__":
    sys.exit(main())
