"""Small read-only arrays that every training step asks for, made once and kept.

A ufunc converts a Python number on every call, and takes a 0-d array of its other
operand's dtype faster, with the same value (NumPy casts a Python number to the array's
dtype): constants are kept as such arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["Constant", "in_dtype", "kept", "operand"]


class Constant(dict):
    """One number (a derivative's 0 or 1, a bound) as a 0-d array of each dtype asked for,
    made on first use; an item lookup, for ops on tiny tensors."""

    def __init__(self, value: float) -> None:
        super().__init__()
        self.value = value

    def __missing__(self, dtype: np.dtype) -> np.ndarray:
        self[dtype] = constant = np.full((), self.value, dtype)
        return constant


_KEPT: dict[tuple[Any, ...], Any] = {}


def kept(make: Any, *args: Any) -> np.ndarray:
    """make(*args), read-only, kept for the next call with the same arguments."""
    key = (make, *args)
    array = _KEPT.get(key)
    if array is None:
        array = _keep(key, make(*args))
    return array


def in_dtype(dtype: np.dtype, *values: float) -> tuple[np.ndarray, ...]:
    """Finite numbers (at least two) as 0-d arrays of `dtype`; kept unless one is 0, which
    as a dict key is -0.0 too."""
    if 0 in values:
        return tuple(np.full((), value, dtype) for value in values)
    key = (dtype, *values)
    constants = _KEPT.get(key)
    if constants is None:
        constants = _keep(key, *(np.full((), value, dtype) for value in values))
    return constants


_LIMITS = {np.dtype(t): float(np.finfo(t).max) for t in (np.float32, np.float64)}


def operand(value: float, dtype: np.dtype) -> Any:
    """A Python float operand as a 0-d array of `dtype` (float32 or float64), or the float
    itself where that would not give NumPy's behaviour for it: one the dtype cannot hold
    (NumPy warns at each cast), 0, inf and NaN (as dict keys, 0.0 is -0.0 and NaN no value),
    and for other dtypes."""
    constant = _KEPT.get((value, dtype))  # only convertible floats are ever kept
    if constant is not None:
        return constant
    if not 0 < abs(value) <= _LIMITS.get(dtype, 0):
        return value
    return _keep((value, dtype), np.full((), value, dtype))


def _keep(key: tuple[Any, ...], *arrays: np.ndarray) -> Any:
    """Keep read-only `arrays` (one, or a tuple of several) under `key`: the few keys seen
    last (a training run asks for a few; a sweep may ask for many)."""
    if len(_KEPT) >= 256:
        _KEPT.clear()
    for array in arrays:
        array.flags.writeable = False
    _KEPT[key] = kept = arrays[0] if len(arrays) == 1 else arrays
    return kept
