"""Hypothesis strategies and an assertion for property-testing gradients, yours and ours.

@given(data=st.data(), shapes=broadcastable_shapes(2))
def test_mul(data, shapes):
    x, y = (data.draw(arrays(s)) for s in shapes)
    assert_grad_matches_numeric(lambda a, b: a * b, x, y)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_nnfs.gradcheck import GradcheckError, gradcheck, gradgradcheck
from tinygrad_nnfs.tensor import Tensor

__all__ = [
    "GradcheckError",
    "arrays",
    "assert_grad_matches_numeric",
    "axes_for",
    "broadcastable_shapes",
    "shapes",
    "well_conditioned",
]


def well_conditioned(low: float = 0.1, high: float = 2.0, *, signed: bool = True) -> Any:
    """Floats whose magnitude lies in [low, high]: away from 0 (relu's kink, log's pole)."""
    magnitudes = st.floats(low, high, allow_nan=False, allow_infinity=False)
    if not signed:
        return magnitudes
    return st.tuples(st.booleans(), magnitudes).map(lambda pair: -pair[1] if pair[0] else pair[1])


def shapes(min_dims: int = 0, max_dims: int = 3, max_side: int = 5) -> Any:
    """Array shapes with min_dims..max_dims axes of length 1..max_side."""
    return hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=max_side)


def arrays(
    shape: Any = None,
    dtype: Any = np.float64,
    elements: Any = None,
    *,
    unique: bool = False,
) -> Any:
    """Arrays of `shape` (drawn when None) with finite, well-conditioned elements.

    `unique=True` keeps elements apart by more than finite differences can bridge, for
    ops such as max whose gradient jumps at ties.
    """
    strategy = hnp.arrays(
        dtype,
        shapes() if shape is None else shape,
        elements=well_conditioned() if elements is None else elements,
        unique=unique,
    )
    return strategy.filter(_well_separated) if unique else strategy


def _well_separated(array: np.ndarray) -> bool:
    flat = np.sort(array.ravel())
    return bool(np.all(np.diff(flat) > 1e-3))


def broadcastable_shapes(n: int = 2, max_dims: int = 3, max_side: int = 4) -> Any:
    """Tuples of n shapes that broadcast together (sides of 1 and missing leading axes)."""
    return hnp.mutually_broadcastable_shapes(
        num_shapes=n, min_dims=0, max_dims=max_dims, min_side=1, max_side=max_side
    ).map(lambda drawn: drawn.input_shapes)


def axes_for(shape: tuple[int, ...]) -> Any:
    """Axis arguments valid for `shape`: None, an int (negative too) or a tuple of distinct axes."""
    ndim = len(shape)
    if ndim == 0:
        return st.none()
    single = st.integers(-ndim, ndim - 1)
    several = st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)
    return st.one_of(st.none(), single, several)


def assert_grad_matches_numeric(
    fn: Callable[..., Tensor], *inputs: Any, order: int = 1, **gradcheck_kwargs: Any
) -> None:
    """Assert backward() of fn matches central differences in float64 (GradcheckError if not).

    order=2 checks the second derivatives too (gradgradcheck).
    """
    if order not in (1, 2):
        raise ValueError(f"assert_grad_matches_numeric: order must be 1 or 2, got {order!r}")
    gradcheck(fn, *inputs, **gradcheck_kwargs)
    if order == 2:
        gradgradcheck(fn, *inputs, **gradcheck_kwargs)
