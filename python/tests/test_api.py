"""The Python API against the command line: the same library calls, so the same numbers."""

import json
import os
import pathlib
import subprocess

import numpy as np
import pytest

import quasar

SRC = pathlib.Path(os.environ.get("QUASAR_SOURCE_DIR", pathlib.Path(__file__).parents[2]))
QUASAR = pathlib.Path(quasar.__file__).parents[2] / "sim" / "app" / "quasar"


def cli_json(*args):
    return json.loads(subprocess.run([str(QUASAR), *args], check=True, capture_output=True,
                                     text=True).stdout)


def test_designs_and_overrides():
    assert "intscale" in quasar.designs()
    d = quasar.design("intscale", set={"array.rows": 64, "clock_mhz": 800})
    assert d["array"]["rows"] == 64 and d["clock_mhz"] == 800
    with pytest.raises(quasar.QuasarError, match="array.rows: 0 is out of range"):
        quasar.design("intscale", set={"array.rows": 0})


def test_run_equals_the_command_line():
    r = quasar.run("int8-baseline", set={"clock_mhz": 800})
    c = cli_json("run", "--arch", "int8-baseline", "--set", "clock_mhz=800", "--format", "json")
    assert r == c
    # Several simulations in one process (each in a child: SystemC elaborates once).
    r2 = quasar.run("int8-baseline", set={"clock_mhz": 800})
    assert r2 == r


def test_compare_equals_the_command_line(tmp_path):
    for arch in ("int8-baseline", "dint"):
        subprocess.run([str(QUASAR), "run", "--arch", arch, "--out", str(tmp_path / arch)],
                       check=True, capture_output=True)
    paths = [tmp_path / "int8-baseline" / "report.json", tmp_path / "dint" / "report.json"]
    c = quasar.compare(paths)
    assert c == cli_json("compare", *map(str, paths), "--format", "json")
    with pytest.raises(quasar.QuasarError, match="two or more"):
        quasar.compare(paths[:1])


def test_run_errors_name_the_file():
    with pytest.raises(quasar.QuasarError, match="no-such.yaml"):
        quasar.run("intscale", trace="no-such.yaml")
    with pytest.raises(quasar.QuasarError, match="mode 'slow'"):
        quasar.run("intscale", mode="slow")


def test_gemm_on_numpy_arrays():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 256)).astype(np.float32)
    w = (0.05 * rng.standard_normal((16, 256))).astype(np.float32)
    g = quasar.gemm(x, w, schemes=["w8a8", "w4a8-is"])
    np.testing.assert_allclose(g["reference"], x @ w.T, rtol=1e-5, atol=1e-5)
    for s in ("w8a8", "w4a8-is"):
        y = g["outputs"][s]
        assert y.shape == (8, 16) and y.dtype == np.float32
        rel = np.linalg.norm(y - g["reference"]) / np.linalg.norm(g["reference"])
        assert rel < 0.2, (s, rel)
    assert [r["scheme"] for r in g["report"]["schemes"]] == ["w8a8", "w4a8-is"]
    with pytest.raises(quasar.QuasarError, match="expected x \\[M, K\\] and w \\[N, K\\]"):
        quasar.gemm(x, w[:, :128])
    with pytest.raises(quasar.QuasarError, match="scheme 'w3a3'"):
        quasar.gemm(x, w, schemes=["w3a3"])


def test_sweep_and_its_points(tmp_path):
    store = tmp_path / "s.db"
    sets = ["process.node_nm=16", "workload.batch=4"]
    summary = quasar.sweep(SRC / "configs/sweeps/cores.yaml", store=store, set=sets)
    assert summary["failed"] == 0 and summary["ran"] == summary["points"] > 1
    pts = quasar.sweep_points(store)
    assert len(pts) == summary["points"]
    assert all(p["settings"]["process.node_nm"] == "16" for p in pts), pts[0]
    again = quasar.sweep(SRC / "configs/sweeps/cores.yaml", store=store, set=sets)
    assert again["already"] == summary["points"] and again["ran"] == 0
