"""python -m tinygrad_nnfs demo: runs the book's program, tests out of sample, renders."""

import subprocess
import sys

from tinygrad_nnfs.__main__ import main


def test_demo_trains_tests_and_renders_the_graph(tmp_path, capsys):
    out = tmp_path / "graph.svg"
    main(["demo", "--epochs", "201", "--no-progress", "--out", str(out)])
    printed = capsys.readouterr().out
    assert (
        "epoch: 0, acc: 0.360, loss: 1.099 (data_loss: 1.099, reg_loss: 0.000), lr: 0.05" in printed
    )
    assert "epoch: 200, acc: " in printed
    assert "validation, acc: " in printed
    svg = out.read_text()
    assert svg.startswith("<?xml") and "SoftmaxCrossEntropy" in svg and "0.weights" in svg


def test_demo_flags_reach_the_model(tmp_path, capsys):
    out = tmp_path / "graph.svg"
    main(
        [
            "demo",
            "--epochs",
            "3",
            "--no-progress",
            "--optimizer",
            "sgd",
            "--hidden",
            "8",
            "--l2",
            "5e-4",
            "--dropout",
            "0.1",
            "--dtype",
            "float64",
            "--seed",
            "3",
            "--out",
            str(out),
        ]
    )
    printed = capsys.readouterr().out
    assert "Dense(2, 8" in printed and "Dropout" in printed and "SGD(" in printed
    assert "reg_loss: 0.000" in printed  # tiny initial weights: a small but present penalty
    assert "float64" in out.read_text()


def test_demo_help_documents_the_flags():
    result = subprocess.run(
        [sys.executable, "-m", "tinygrad_nnfs", "demo", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for flag in ["--optimizer", "--epochs", "--hidden", "--l2", "--dropout", "--seed", "--out"]:
        assert flag in result.stdout
