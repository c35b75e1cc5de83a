"""Hypothesis profiles: `ci` (default) is derandomized so every run searches the same examples."""

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from tinygrad_nnfs import engine, tensor
from tinygrad_nnfs.tensor import get_default_dtype, set_default_dtype

settings.register_profile(
    "ci",
    max_examples=30,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile("dev", max_examples=200, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture
def float64():
    """Make float64 the default float dtype for one test (the autouse fixture restores it)."""
    set_default_dtype(np.float64)


@pytest.fixture(autouse=True)
def _restore_default_dtype():
    """Tests (and the demo's --dtype) may change the default float dtype; put it back."""
    previous = get_default_dtype()
    yield
    set_default_dtype(previous)


@pytest.fixture(autouse=True)
def _restore_library_settings():
    """nnfs_init() and set_matmul_precision() change library-wide settings; put them back."""
    stream = tensor._library_rng
    previous = {name: getattr(engine.settings, name) for name in engine.settings.__slots__}
    yield
    tensor._library_rng = stream
    for name, value in previous.items():
        setattr(engine.settings, name, value)
