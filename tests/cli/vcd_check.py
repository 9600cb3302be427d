"""vcd_check.py WAVES.vcd REPORT.json: the cycle mode's waveform agrees with its report: the
cycles with array.load high are the report's load cycles, the tiles issued by the fetch engine
reach the report's tile count, and the last change is within the run's cycles (1 ns a cycle)."""
import json
import re
import sys


def main():
    vcd, report = sys.argv[1], sys.argv[2]
    ids, scope = {}, []
    changes = []  # (time, id, value)
    t = 0
    with open(vcd) as f:
        for line in f:
            line = line.strip()
            if line.startswith("$scope"):
                scope.append(line.split()[2])
            elif line.startswith("$upscope"):
                scope.pop()
            elif line.startswith("$var"):
                p = line.split()
                ids[p[3]] = ".".join(scope[1:] + [p[4]])  # without the top scope
            elif line.startswith("#"):
                t = int(line[1:])
            elif re.match(r"^[01][a-z]+$", line):
                changes.append((t, line[1:], int(line[0])))
            elif line.startswith("b"):
                v, i = line[1:].split()
                changes.append((t, i, int(v, 2)))
    name = {i: n for i, n in ids.items()}
    r = json.load(open(report))
    load_cycles = sum(l["load_cycles"] for l in r["layers"])
    tiles = sum(l["tiles"] for l in r["layers"])
    # Integrate core0.array.load over time.
    load_id = [i for i, n in name.items() if n == "core0.array.load"][0]
    issued_id = [i for i, n in name.items() if n == "core0.fetch.tiles_issued"][0]
    high, since, total = 0, 0, 0
    last_issued, last_t = 0, 0
    for tt, i, v in changes:
        last_t = max(last_t, tt)
        if i == load_id:
            if high:
                total += tt - since
            high, since = v, tt
        if i == issued_id:
            last_issued = v
    assert not high, "array.load still high at the end"
    assert total == load_cycles, f"VCD load cycles {total} != report {load_cycles}"
    assert last_issued == tiles, f"VCD tiles issued {last_issued} != report tiles {tiles}"
    assert last_t <= r["cycles"], f"last change at {last_t} after the run's {r['cycles']} cycles"
    print(f"PASS: {total} load cycles, {tiles} tiles, last change at {last_t} of {r['cycles']}")


if __name__ == "__main__":
    main()
