"""quasar from Python: designs, runs, requests, sweeps and GEMMs, as plain dicts and numpy arrays.

Every function calls the same library code as the `quasar` command line and returns what the
matching command writes as JSON, parsed (docs/python.md):

    import quasar
    r = quasar.run("intscale", set={"clock_mhz": 800})      # quasar run --format json
    r["cycles"], r["cost"]["energy_pj"]

Simulations run in a forked child process each (SystemC elaborates once per process), so any
number of them can run in one notebook. Bad input raises quasar.QuasarError with the message the
command line prints (the file, key or tensor, and what is accepted).
"""

import json

from . import _quasar

QuasarError = _quasar.QuasarError
version = _quasar.version

__all__ = ["QuasarError", "compare", "design", "designs", "gemm", "request", "run", "sweep",
           "sweep_points", "version"]


def _sets(set):
    """--set overrides from a dict {"array.rows": 64} or a list ["array.rows=64"]."""
    if set is None:
        return []
    if isinstance(set, dict):
        return ["%s=%s" % (k, _value(v)) for k, v in set.items()]
    return [str(s) for s in set]


def _value(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def designs():
    """The shipped design names (configs/arch)."""
    return list(_quasar.shipped_designs())


def design(arch="intscale", set=None):
    """A design as report.json holds it ("arch"), overrides applied and checked."""
    return json.loads(_quasar.design_json(arch, _sets(set)))


def run(arch="intscale", set=None, trace=None, mode="fast"):
    """`quasar run --format json`: the run's report (design, stats, layers, cost, coverage)."""
    return json.loads(_quasar.run_json(arch, _sets(set), trace or "", mode))


def request(model="llama-2-7b", arch="intscale", set=None, prompt=2048, generate=128, batch=1,
            layers=0, mode="fast"):
    """`quasar run --model ... --format json`: an end-to-end request (TTFT, TPOT, J/token)."""
    return json.loads(_quasar.request_json(arch, _sets(set), model, prompt, generate, batch,
                                           layers, mode))


def compare(reports, allow_different_traces=False, stream="llm"):
    """`quasar compare --format json REPORT...`: runs side by side (latency, energy, area and
    their ratios to the first, per layer), from report.json files (`quasar run --out DIR`)."""
    return json.loads(_quasar.compare_json([str(r) for r in reports], allow_different_traces,
                                           stream))


def sweep(spec, store=None, set=None, jobs=1):
    """`quasar sweep SPEC`: runs the points not yet in the store; returns the summary."""
    return json.loads(_quasar.sweep_json(str(spec), _sets(set), str(store or ""), jobs))


def sweep_points(store):
    """`quasar sweep export STORE --format json`: every stored point (settings, metrics)."""
    return json.loads(_quasar.sweep_points_json(str(store)))


def gemm(x, w, schemes=("w8a8", "w4a8-is"), group=128):
    """`quasar gemm` on numpy arrays x [M, K] and w [N, K] (float32): returns the report (errors
    against the fp32 product, counters), "reference" (x @ w.T in fp32) and "outputs" (each
    scheme's result, its fp16 codes as float32)."""
    r = _quasar.gemm(x, w, list(schemes), group)
    return {"report": json.loads(r["report"]), "reference": r["reference"],
            "outputs": dict(r["outputs"])}
