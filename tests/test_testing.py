"""The hypothesis strategies of tinygrad_nnfs.testing produce what they promise."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tinygrad_nnfs import GradcheckError
from tinygrad_nnfs.testing import (
    arrays,
    assert_grad_matches_numeric,
    axes_for,
    broadcastable_shapes,
    shapes,
    well_conditioned,
)


@given(data=st.data(), min_dims=st.integers(0, 2), extra=st.integers(0, 2), side=st.integers(1, 4))
def test_shapes_stay_within_bounds(data, min_dims, extra, side):
    shape = data.draw(shapes(min_dims=min_dims, max_dims=min_dims + extra, max_side=side))
    assert min_dims <= len(shape) <= min_dims + extra
    assert all(1 <= n <= side for n in shape)


@given(shape=shapes())
def test_shapes_defaults_are_up_to_3_axes_of_up_to_5(shape):
    assert len(shape) <= 3
    assert all(1 <= n <= 5 for n in shape)


@given(data=st.data(), n=st.integers(1, 4))
def test_broadcastable_shapes_broadcast_with_numpy(data, n):
    drawn = data.draw(broadcastable_shapes(n))
    assert len(drawn) == n
    np.broadcast_shapes(*drawn)
    assert all(len(s) <= 3 and all(1 <= side <= 4 for side in s) for s in drawn)


@given(data=st.data(), shape=shapes())
def test_axes_for_gives_valid_distinct_axes(data, shape):
    axis = data.draw(axes_for(shape))
    ndim = len(shape)
    axes = () if axis is None else (axis,) if isinstance(axis, int) else axis
    assert all(-ndim <= a < ndim for a in axes)
    assert len({a % ndim for a in axes}) == len(axes)
    np.sum(np.zeros(shape), axis=axis)  # NumPy accepts it


@given(axis=axes_for(()))
def test_axes_for_scalar_shape_is_only_none(axis):
    assert axis is None


@given(x=arrays())
def test_arrays_are_finite_with_magnitudes_in_default_range(x):
    assert x.dtype == np.float64
    assert np.all(np.isfinite(x))
    assert np.all((np.abs(x) >= 0.1) & (np.abs(x) <= 2.0))


@given(x=arrays((3, 4), dtype=np.float32))
def test_arrays_honour_shape_and_dtype(x):
    assert x.shape == (3, 4)
    assert x.dtype == np.float32


@given(x=arrays((6,), elements=well_conditioned(0.5, 1.0, signed=False)))
def test_arrays_use_given_elements(x):
    assert np.all((x >= 0.5) & (x <= 1.0))


@given(x=arrays((4, 3), unique=True))
def test_unique_arrays_are_separated(x):
    flat = np.sort(x.ravel())
    assert np.all(np.diff(flat) > 1e-3)


@given(v=well_conditioned(0.2, 3.0))
def test_well_conditioned_signed_magnitudes(v):
    assert 0.2 <= abs(v) <= 3.0


@given(v=well_conditioned(signed=False))
def test_well_conditioned_unsigned_is_positive(v):
    assert 0.1 <= v <= 2.0


def test_well_conditioned_signed_draws_both_signs():
    @given(v=well_conditioned())
    def record(v):
        signs.add(np.sign(v))

    signs: set[float] = set()
    record()
    assert signs == {-1.0, 1.0}


def test_assert_grad_matches_numeric_raises_gradcheck_error_on_mismatch():
    x = np.array([0.5, 1.5])
    assert_grad_matches_numeric(lambda a: a * a, x)
    with pytest.raises(GradcheckError, match="input 0"):
        assert_grad_matches_numeric(lambda a: a * a.detach(), x)
