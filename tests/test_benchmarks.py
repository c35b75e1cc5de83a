"""The benchmarks still run and compare like with like (nothing here is timed)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from unittest import mock

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))
import cases

with mock.patch.dict(os.environ):  # it pins BLAS threads for its own runs only
    import where_time_goes


# float32 as under nnfs.init(): native float32 matmuls would make the comparison the BLAS's.
@pytest.mark.parametrize(("dtype", "nnfs_dot"), [("float32", True), ("float64", False)])
def test_b1_contenders_train_the_same_network(dtype, nnfs_dot):
    contenders = cases.spiral_contenders(np, None, dtype, nnfs_dot=nnfs_dot)
    book = [contenders["numpy"]() for _ in range(50)]
    epoch, loss, _, learning_rate, *_ = book[0]
    assert (epoch, learning_rate) == (0, 0.05)
    assert loss == pytest.approx(np.log(3), rel=1e-3)  # 3 classes, near-zero weights
    ours = [contenders["ours"]() for _ in range(50)]
    assert ours == [accuracy for _, _, accuracy, *_ in book]  # the same draws, epoch by epoch


def test_b1_floor_trains_the_books_network_bit_for_bit():
    # The floor (our NumPy calls, no engine) keeps the book's bits: its weights after 200
    # epochs are the book's. (In float64: native float32 matmuls follow the BLAS kernel.)
    contenders = cases.spiral_contenders(np, None, "float64")
    for _ in range(200):
        *_, dense1, dense2, _, _ = contenders["numpy"]()
        contenders["floor"]()
    book = [a.reshape(-1) for a in (dense1.weights, dense1.biases, dense2.weights, dense2.biases)]
    assert_array_equal(contenders["floor"].parameters, np.concatenate(book))


def test_b2_contenders_take_the_same_steps():
    contenders = cases.mlp_contenders(np, None)
    book = [float(contenders["numpy"]()) for _ in range(3)]
    ours = [contenders["ours"]().item() for _ in range(3)]
    assert ours == book  # the same draws, the same float32 arithmetic
    assert len(contenders["8 matmuls"]()) == 8


@pytest.mark.parametrize("side", [1, 10])
def test_b3_contenders_compute_the_same_gradient(side):
    contenders = cases.chain_contenders(np, None, side)
    assert_allclose(contenders["ours"]().data, contenders["numpy"](), rtol=1e-6)


def test_b4_report_on_a_short_chain(monkeypatch):
    monkeypatch.setattr(cases, "STEPS", 1_000)
    lines = cases.deep_chain_report(np, None)
    assert lines[0].startswith("\nB4 deep chain: 1,000 steps (2,000 ops) forward + backward:")
    assert "0.0 MiB left after the drop" in lines[1]


def test_where_time_goes_profiles(monkeypatch):
    monkeypatch.setattr(where_time_goes, "EPOCHS", 5)
    monkeypatch.setattr(where_time_goes, "STEPS", 2)
    monkeypatch.setattr(where_time_goes, "WARMUP", 1)
    phases = where_time_goes.spiral_phases("float32")
    assert list(phases)[:2] == ["model forward", "loss"]
    assert phases["sum"] == pytest.approx(sum(v for k, v in phases.items() if k != "sum"))
    parts = where_time_goes.mlp_parts()
    assert {"Affine.forward", "Affine.backward", "Optimizer.step"} <= parts.keys()
    assert parts["  of which the update rule"] <= parts["Optimizer.step"]
