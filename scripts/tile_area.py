#!/usr/bin/env python3
"""The area cross-check of issue 20: the RTL tile's area by yosys against the cost model's.

  tile_area.py STAT COST_JSON

STAT: yosys `stat -liberty` of rtl/tile/tile_ws.v mapped with its hierarchy kept and its
memories left unmapped (scripts/tile-area.sh); COST_JSON: `quasar cost --format json` of the
same design (rtl/tile/tile_ws_4x4.yaml) at the Liberty file's node. Prints one markdown table:
each component's area in the RTL (a module's own cells plus its submodules', instances counted)
and in the cost model, and what neither side has.
"""
import json
import re
import sys
from collections import defaultdict


def top_total(path):
    """yosys's own area of the whole hierarchy ("Chip area for top module"), or None."""
    found = re.findall(r"Chip area for top module '\\?.+': ([0-9.eE+-]+)",
                       open(path, encoding="utf-8").read())
    return float(found[-1]) if found else None


def parse_stat(path):
    """{module: [own area, {cell: count}]} of the last stat in the file."""
    mods = {}
    name = None
    text = open(path, encoding="utf-8").read()
    # Only the last `stat` (the mapped design): yosys logs every stat it ran.
    last = text.rfind("Printing statistics")
    text = text[last:] if last >= 0 else text
    for line in text.splitlines():
        m = re.match(r"^=== (.+) ===$", line.strip())
        if m:
            # The hierarchy summary that ends the report is not a module.
            name = None if m.group(1) == "design hierarchy" else m.group(1)
            if name:
                mods[name] = [0.0, {}]
            continue
        if name is None:
            continue
        m = re.match(r"^\s+Chip area for module '\\?(.+)': ([0-9.eE+-]+)$", line)
        if m:
            mods[name][0] = float(m.group(2))
            continue
        m = re.match(r"^\s{5}(\S+)\s+(\d+)$", line)
        if m:
            mods[name][1][m.group(1)] = int(m.group(2))
    return mods


def base(module):
    """A module's source name: `$paramod$<hash>\\intscale_acc` -> intscale_acc, and
    `$paramod\\epilogue_lane\\HALF=s32'...` (yosys names a module with one parameter set so)
    -> epilogue_lane."""
    parts = module.split("\\")
    return parts[1] if parts[0].startswith("$paramod") and len(parts) > 1 else parts[-1]


def total(mods, m, memo):
    """Area of module m with every submodule instance in it (blackboxes: 0)."""
    if m in memo:
        return memo[m]
    own, cells = mods[m]
    a = own + sum(n * total(mods, c, memo) for c, n in cells.items() if c in mods)
    memo[m] = a
    return a


# The RTL's modules at the tile's top level, by the cost model component they are priced as.
RTL_COMPONENT = {
    "systolic_array": "array",
    "intscale_acc": "intscale",
    "floatscale_acc": "floatscale",
    "epilogue_lane": "epilogue",
    # The fused dequantizers' lanes: DGQ's circuit and QServe's (dequant_dgq with S_SIGNED = 0)
    # in each; the model prices one dequant_dgq a lane.
    "dequant_dgq": "dequant",
    # The block-scale lanes: MX's fp32 or fixed accumulator, NVFP4's beside it (BLK_NV).
    "mx_fp32_acc": "block",
    "mx_fixed_acc": "block",
    "nvfp4_fp32_acc": "block",
}
# The compute components in table order.
COMPONENTS = ["array", "dequant", "intscale", "floatscale", "block", "scale_rf", "epilogue"]


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    mods = parse_stat(sys.argv[1])
    if "tile_ws" not in mods:
        sys.exit(f"{sys.argv[1]}: no statistics of module tile_ws")
    memo = {}
    rtl = defaultdict(float)
    rtl_n = defaultdict(int)
    unpriced = []  # (what, count, area)
    own_top, cells = mods["tile_ws"]
    for c, n in sorted(cells.items()):
        if c not in mods:
            if c.startswith("$mem") or c == "flat_mem":
                unpriced.append((f"{base(c)} (memory, not mapped)", n, None))
            continue
        comp = RTL_COMPONENT.get(base(c))
        if comp:
            rtl[comp] += n * total(mods, c, memo)
            rtl_n[comp] += n
        else:
            unpriced.append((base(c), n, n * total(mods, c, memo)))
    cost = json.load(open(sys.argv[2], encoding="utf-8"))
    model = defaultdict(float)
    model_items = defaultdict(list)
    for line in cost["area"]:
        model[line["component"]] += line["um2"]
        model_items[line["component"]].append(f'{line["item"]} x {line["count"]:g}')
    print(f'Model priced at {cost["node_nm"]:g} nm, {cost["voltage_v"]:g} V; RTL mapped to the '
          f"Liberty file's cells (µm²).\n")
    print("| component | RTL (yosys) | instances | cost model | model's rows | RTL / model |")
    print("|---|---|---|---|---|---|")
    for comp in COMPONENTS:
        r, m = rtl.get(comp, 0.0), model.get(comp, 0.0)
        ratio = f"{r / m:.2f}" if r and m else "-"
        print(f"| {comp} | {r:,.0f} | {rtl_n.get(comp, 0)} | {m:,.0f} | "
              f"{'; '.join(model_items.get(comp, [])) or '-'} | {ratio} |")
    print(f"| controller, DMA, queues, address logic (tile_ws's own cells) | {own_top:,.0f} | 1 | "
          f"- | not in the model | - |")
    for what, n, a in unpriced:
        print(f"| {what} | {'-' if a is None else f'{a:,.0f}'} | {n} | - | - | - |")
    for comp in sorted(model):
        if comp in COMPONENTS:
            continue
        print(f"| {comp} (model only) | - | - | {model[comp]:,.0f} | "
              f"{'; '.join(model_items[comp])} | - |")
    logic_r = sum(rtl[c] for c in RTL_COMPONENT.values())
    whole = logic_r + own_top + sum(a or 0 for _, _, a in unpriced)
    yosys_total = top_total(sys.argv[1])
    # The split must add up to what yosys itself sums over the hierarchy.
    if yosys_total is not None and abs(whole - yosys_total) > 0.5:
        sys.exit(f"tile_area: the components add up to {whole:,.1f} µm², yosys's total is "
                 f"{yosys_total:,.1f}: a module was missed or counted twice")
    logic_m = sum(model.get(c, 0.0) for c in COMPONENTS)
    print(f"\nCompute units (array, dequantizers, rescale lanes, epilogue; scale registers in the "
          f"model): RTL "
          f"{logic_r:,.0f}, model {logic_m:,.0f} ({logic_r / logic_m:.2f}x). Whole tile's logic "
          f"(without its memories): RTL {whole:,.0f}"
          f"{' (= yosys' + chr(39) + 's total)' if yosys_total is not None else ''}.")


if __name__ == "__main__":
    main()
