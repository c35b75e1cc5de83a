"""The process settings of training runs: made by fit only, never at import, easy to turn off."""

import gc
import platform
import subprocess
import sys

import numpy as np
import pytest

from tinygrad_nnfs import nn, optim
from tinygrad_nnfs._tuning import GC_DEFAULTS, GC_THRESHOLDS, tune_gc, tune_malloc, tuned
from tinygrad_nnfs.train import fit


def test_importing_the_package_changes_no_process_setting():
    probe = (
        "import gc, warnings, numpy as np; before = (gc.get_threshold(), np.geterr(), "
        "np.get_printoptions(), list(warnings.filters)); import tinygrad_nnfs; "
        "after = (gc.get_threshold(), np.geterr(), np.get_printoptions(), "
        "list(warnings.filters)); print(before == after)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.strip() == "True", result.stderr


def test_the_extras_modules_load_when_first_asked_for_not_at_import():
    probe = (
        "import sys, tinygrad_nnfs as t; extras = ('joblib', 'hypothesis', 'matplotlib'); "
        "print([m in sys.modules for m in extras], callable(t.sweep.grid), "
        "callable(t.testing.arrays), callable(t.plot.plot_history), 'hypothesis' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert result.stdout.split() == ["[False,", "False,", "False]", "True", "True", "True", "True"]
    assert "graphviz" not in result.stderr, result.stderr


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt only")
def test_tune_malloc_applies_on_glibc():
    assert tune_malloc() is True


@pytest.fixture
def default_gc_thresholds():
    previous = gc.get_threshold()
    gc.set_threshold(*GC_DEFAULTS)
    yield
    gc.set_threshold(*previous)


def test_fit_makes_full_collections_rarer_while_it_runs_only(default_gc_thresholds):
    seen = []

    class Probe(nn.Module):
        def forward(self, inputs):
            seen.append(gc.get_threshold())
            return inputs

    model = nn.Sequential(nn.Dense(1, 1), Probe())
    X = np.ones((4, 1), np.float32)
    fit(model, nn.MeanSquaredError(), optim.SGD(model.parameters()), X, X, print_every=0)
    assert seen == [GC_THRESHOLDS]
    assert gc.get_threshold() == GC_DEFAULTS


def test_tuning_leaves_thresholds_the_user_set(default_gc_thresholds):
    gc.set_threshold(1000, 20, 20)
    assert tune_gc() is False
    with tuned():
        assert gc.get_threshold() == (1000, 20, 20)
    assert gc.get_threshold() == (1000, 20, 20)


def test_tuning_can_be_turned_off(monkeypatch, default_gc_thresholds):
    monkeypatch.setenv("TINYGRAD_NNFS_TUNING", "0")
    assert tune_malloc() is False
    assert tune_gc() is False
    with tuned():
        assert gc.get_threshold() == GC_DEFAULTS
