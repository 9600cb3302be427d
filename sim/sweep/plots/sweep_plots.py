"""Plots of a quasar sweep (embedded in quasar; run by `quasar sweep report --plots DIR`).

usage: sweep_plots.py POINTS_JSON OUT_DIR OBJ1 [OBJ2 ...]
       (objectives as min:metric:label / max:metric:label; the label names the unit)
Writes OUT_DIR/pareto.{png,svg} (the first two objectives per workload, the front highlighted
and its points labelled) and OUT_DIR/sensitivity.{png,svg} (each swept key against the first
objective, a panel per key, at most three panels a row). Each design keeps one colour in every
panel of both plots (the sweep's designs in sorted order, matplotlib's tab10 cycle).
"""
import json
import math
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

matplotlib.rcParams["svg.hashsalt"] = "quasar"  # deterministic SVG ids
matplotlib.rcParams["font.size"] = 9


def main():
    points_file, out, objectives = sys.argv[1], sys.argv[2], sys.argv[3:]
    pts = [p for p in json.load(open(points_file)) if p["status"] == "ok"]
    objs = []
    for o in objectives:
        parts = o.split(":", 2)
        objs.append((parts[0], parts[1], parts[2] if len(parts) > 2 else parts[1]))
    os.makedirs(out, exist_ok=True)

    def val(p, m):
        v = p["metrics"].get(m)
        return float(v) if v is not None else float("nan")

    def axis_label(direction, label):
        return f"{label}, {'lower' if direction == 'min' else 'higher'} is better"

    designs = sorted({p["design"] for p in pts})
    cmap = plt.get_cmap("tab10")
    colour = {d: cmap(i % 10) for i, d in enumerate(designs)}
    keys = sorted({k for p in pts for k in p["settings"]})

    # Labels name what varies: the design (when there are several) and the swept keys that take
    # more than one value, as key=value.
    varying = [k for k in keys if len({str(p["settings"].get(k)) for p in pts}) > 1]

    def point_label(p):
        parts = [p["design"]] if len(designs) > 1 else []
        parts += [f'{k.split(".")[-1]}={p["settings"][k]}' for k in varying if k in p["settings"]]
        return ", ".join(parts)

    workloads = []
    for p in pts:
        if p["workload"] not in workloads:
            workloads.append(p["workload"])
    if len(objs) >= 2 and workloads:
        (d0, m0, l0), (d1, m1, l1) = objs[0], objs[1]
        n = len(workloads)
        cols = min(n, 2)
        rows = math.ceil(n / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(8.4 * cols, 4.6 * rows), squeeze=False)
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        for ax, w in zip(axes.flat, workloads):
            wp = [p for p in pts if p["workload"] == w]  # points of one workload compete
            for d in designs:
                sel = [p for p in wp if p["design"] == d]
                if sel:
                    ax.scatter([val(p, m0) for p in sel], [val(p, m1) for p in sel], s=18,
                               color=colour[d], label=d, alpha=0.75)
            # The dashed line: the front of these two objectives alone; circled and labelled:
            # the points on the front of all the sweep's objectives.
            s0 = 1 if d0 == "min" else -1
            s1 = 1 if d1 == "min" else -1
            xy = [(val(p, m0), val(p, m1)) for p in wp]
            fr2 = sorted({(x, y) for x, y in xy
                          if not any(s0 * a <= s0 * x and s1 * b <= s1 * y and (a, b) != (x, y)
                                     for a, b in xy)})
            if fr2:
                ax.plot([a for a, _ in fr2], [b for _, b in fr2], "k--", lw=1,
                        label="front of these two")
            full = [p for p in wp if p["pareto"]]
            if full:
                ax.scatter([val(p, m0) for p in full], [val(p, m1) for p in full], s=70,
                           facecolors="none", edgecolors="k", lw=0.8,
                           label="front of all objectives")
                # Front points are numbered on the plot and named in a box beside it (labels
                # written at clustered points would overlap); at most 12.
                shown = sorted(full, key=lambda p: val(p, m0))[:12]
                for i, p in enumerate(shown):
                    ax.annotate(str(i + 1), (val(p, m0), val(p, m1)), fontsize=7,
                                textcoords="offset points", xytext=(5, 5))
                names = "\n".join(f"{i + 1}: {point_label(p)}" for i, p in enumerate(shown))
                if len(full) > len(shown):
                    names += f"\n(+{len(full) - len(shown)} more: quasar sweep report)"
                ax.text(1.02, 0.0, "front of all objectives:\n" + names, transform=ax.transAxes,
                        fontsize=7, va="bottom", ha="left", family="monospace")
            ax.margins(x=0.12, y=0.12)
            ax.set_xlabel(axis_label(d0, l0))
            ax.set_ylabel(axis_label(d1, l1))
            ax.set_title(w, fontsize=8)
            ax.grid(True, lw=0.3, alpha=0.5)
            ax.legend(fontsize=7, loc="best")
        fig.suptitle("quasar sweep: Pareto front per workload")
        fig.tight_layout()
        for ext in ("png", "svg"):
            fig.savefig(os.path.join(out, f"pareto.{ext}"), dpi=120,
                        metadata={"Date": None} if ext == "svg" else {})
        plt.close(fig)

    if objs and varying:
        d0, m0, l0 = objs[0]
        keys = varying  # a key with one value has nothing to show
        n = len(keys)
        cols = min(n, 3)
        rows = math.ceil(n / cols)
        fig, axes = plt.subplots(rows, cols, figsize=(4.2 * cols, 3.4 * rows), squeeze=False)
        for ax in axes.flat[n:]:
            ax.set_visible(False)
        for ax, k in zip(axes.flat, keys):
            categorical = False
            for p in pts:
                try:
                    float(p["settings"].get(k, 0))
                except ValueError:
                    categorical = True
            cats = sorted({str(p["settings"][k]) for p in pts if k in p["settings"]})
            for d in designs:
                xs, ys = [], []
                for p in pts:
                    if p["design"] != d or k not in p["settings"]:
                        continue
                    v = p["settings"][k]
                    xs.append(cats.index(str(v)) if categorical else float(v))
                    ys.append(val(p, m0))
                if xs:
                    ax.scatter(xs, ys, s=14, color=colour[d], label=d, alpha=0.75)
            if categorical:
                ax.set_xticks(range(len(cats)))
                ax.set_xticklabels(cats, rotation=30, ha="right", fontsize=7)
            ax.set_xlabel(k)
            ax.set_ylabel(axis_label(d0, l0))
            ax.grid(True, lw=0.3, alpha=0.5)
        handles, labels = axes.flat[0].get_legend_handles_labels()
        if handles:
            fig.legend(handles, labels, loc="upper right", fontsize=7, title="design")
        fig.suptitle(f"sensitivity of {l0} to each swept key (every workload; keys with one value left out)")
        fig.tight_layout(rect=(0, 0, 0.88 if handles else 1, 1))
        for ext in ("png", "svg"):
            fig.savefig(os.path.join(out, f"sensitivity.{ext}"), dpi=120,
                        metadata={"Date": None} if ext == "svg" else {})
        plt.close(fig)


if __name__ == "__main__":
    main()
