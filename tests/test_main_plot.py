"""python -m tinygrad_nnfs demo --plot DIR: the history and decision-region figures as PNG files."""

import importlib
import sys

import pytest
from matplotlib.image import imread

from tinygrad_nnfs.__main__ import main


def test_demo_plot_writes_history_and_decision_regions(tmp_path, capsys):
    plots = tmp_path / "plots"  # created by the demo
    out = tmp_path / "graph.svg"
    main(["demo", "--epochs", "21", "--no-progress", "--out", str(out), "--plot", str(plots)])
    printed = capsys.readouterr().out
    for name, shape in [("history.png", (360, 1200)), ("decision_regions.png", (600, 600))]:
        path = plots / name
        assert path.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
        assert imread(path).shape[:2] == shape
        assert str(path) in printed


def test_demo_plot_without_matplotlib_fails_before_training(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "tinygrad_nnfs.plot", raising=False)
    monkeypatch.delattr("tinygrad_nnfs.plot", raising=False)  # as if never imported
    out, plots = tmp_path / "graph.svg", tmp_path / "plots"
    with pytest.raises(ImportError, match=r'pip install "tinygrad_nnfs\[plot\]"'):
        main(["demo", "--epochs", "21", "--no-progress", "--out", str(out), "--plot", str(plots)])
    assert "epoch:" not in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []
    monkeypatch.undo()
    importlib.import_module("tinygrad_nnfs.plot")  # importable again once matplotlib is back
