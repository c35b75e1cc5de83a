"""examples/custom_op.py: its hypothesis gradient test runs in CI, and its script runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "custom_op.py"


@pytest.fixture(scope="module")
def example():
    spec = importlib.util.spec_from_file_location("custom_op_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_custom_op_example_gradient_test_passes(example):
    example.test_silu_gradient_matches_numeric()


def test_custom_op_example_silu_is_x_times_sigmoid(example):
    x = np.linspace(-3, 3, 7)
    np.testing.assert_allclose(example.SiLU.apply(x).data, x / (1 + np.exp(-x)))


def test_custom_op_example_main_prints_values_gradcheck_and_training(example, capsys):
    example.main(epochs=11)
    printed = capsys.readouterr().out
    assert "silu(x)    [-0.2384 -0.1888  0.      0.3112  1.7616]" in printed
    assert "gradcheck: True" in printed
    assert "epoch: 10, acc: " in printed
