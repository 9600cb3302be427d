"""Plots of a quasar sweep (embedded in quasar; run by `quasar sweep report --plots DIR`).

usage: sweep_plots.py POINTS_JSON OUT_DIR OBJ1 [OBJ2 ...]   (objectives as min:metric / max:metric)
Writes OUT_DIR/pareto.{png,svg} (the first two objectives, front highlighted) and
OUT_DIR/sensitivity.{png,svg} (each swept key against the first objective).
"""
import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

matplotlib.rcParams["svg.hashsalt"] = "quasar"  # deterministic SVG ids


def main():
    points_file, out, objectives = sys.argv[1], sys.argv[2], sys.argv[3:]
    pts = [p for p in json.load(open(points_file)) if p["status"] == "ok"]
    objs = [o.split(":", 1) for o in objectives]
    os.makedirs(out, exist_ok=True)

    def val(p, m):
        v = p["metrics"].get(m)
        return float(v) if v is not None else float("nan")

    workloads = []
    for p in pts:
        if p["workload"] not in workloads:
            workloads.append(p["workload"])
    if len(objs) >= 2 and workloads:
        (d0, m0), (d1, m1) = objs[0], objs[1]
        designs = sorted({p["design"] for p in pts})
        fig, axes = plt.subplots(1, len(workloads), figsize=(6 * len(workloads), 4.5), squeeze=False)
        for ax, w in zip(axes[0], workloads):
            wp = [p for p in pts if p["workload"] == w]  # points of one workload compete
            for d in designs:
                sel = [p for p in wp if p["design"] == d]
                ax.scatter([val(p, m0) for p in sel], [val(p, m1) for p in sel], s=18, label=d, alpha=0.7)
            # The dashed line: the front of these two objectives alone; circled: the points on
            # the front of all the sweep's objectives.
            s0 = 1 if d0 == "min" else -1
            s1 = 1 if d1 == "min" else -1
            xy = [(val(p, m0), val(p, m1)) for p in wp]
            fr2 = sorted({(x, y) for x, y in xy
                          if not any(s0 * a <= s0 * x and s1 * b <= s1 * y and (a, b) != (x, y)
                                     for a, b in xy)})
            if fr2:
                ax.plot([a for a, _ in fr2], [b for _, b in fr2], "k--", lw=1,
                        label=f"front of {m0} and {m1}")
            full = [(val(p, m0), val(p, m1)) for p in wp if p["pareto"]]
            if full:
                ax.scatter([a for a, _ in full], [b for _, b in full], s=60, facecolors="none",
                           edgecolors="k", lw=0.8, label="front of all objectives")
            ax.set_xlabel(f"{m0} ({d0})")
            ax.set_ylabel(f"{m1} ({d1})")
            ax.set_title(w, fontsize=8)
            ax.legend(fontsize=7)
        fig.suptitle("quasar sweep: Pareto front per workload")
        fig.tight_layout()
        for ext in ("png", "svg"):
            fig.savefig(os.path.join(out, f"pareto.{ext}"), metadata={"Date": None} if ext == "svg" else {})
        plt.close(fig)

    keys = sorted({k for p in pts for k in p["settings"]})
    if objs and keys:
        m0 = objs[0][1]
        fig, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3.5), squeeze=False)
        for ax, k in zip(axes[0], keys):
            xs, ys = [], []
            for p in pts:
                try:
                    xs.append(float(p["settings"][k]))
                except (KeyError, ValueError):
                    continue
                ys.append(val(p, m0))
            ax.scatter(xs, ys, s=14)
            ax.set_xlabel(k)
            ax.set_ylabel(m0)
        fig.suptitle(f"sensitivity of {m0}")
        fig.tight_layout()
        for ext in ("png", "svg"):
            fig.savefig(os.path.join(out, f"sensitivity.{ext}"), metadata={"Date": None} if ext == "svg" else {})
        plt.close(fig)


if __name__ == "__main__":
    main()
