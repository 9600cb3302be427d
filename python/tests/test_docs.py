"""docs/python.md's example study runs as written: its ```python blocks, in order, in one
namespace, in a scratch folder (the study writes its plot there)."""

import os
import pathlib
import re

SRC = pathlib.Path(os.environ.get("QUASAR_SOURCE_DIR", pathlib.Path(__file__).parents[2]))


def test_the_example_study_runs(tmp_path, monkeypatch):
    text = (SRC / "docs" / "python.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) >= 2
    monkeypatch.chdir(tmp_path)
    ns = {}
    for b in blocks:
        exec(compile(b, "docs/python.md", "exec"), ns)
    assert (tmp_path / "study.png").stat().st_size > 10000
    assert len(ns["front"]) >= 1
