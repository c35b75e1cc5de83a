"""The argument checks every module shares, and so the one place for their messages.

Each check names the function the user called (`where`) and the argument (`name`), and says
what was wrong: `TypeError` for the type, `ValueError` for the value. NumPy ints and floats
count as numbers; bools do not (`Dense(True, 3)` is a mistake, not one input). This module
imports nothing from the package, so every module can use it.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

__all__ = [
    "check_dtype",
    "check_int",
    "check_ints",
    "check_number",
    "check_pair",
    "is_int",
    "is_real",
]


def is_int(value: Any) -> bool:
    """An int, NumPy ints included; a bool is not."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_real(value: Any) -> bool:
    """A real number (int or float, NumPy's included); a bool is not."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_int(
    value: Any, where: str, name: str, *, minimum: int | None = None, expected: str = "an int"
) -> int:
    """`value` as an int: TypeError unless is_int(value), ValueError if it is below `minimum`."""
    if type(value) is not int and not is_int(value):
        raise _wrong_type(value, where, name, expected)
    if minimum is not None and value < minimum:
        raise _out_of_range(value, where, name, f">= {minimum}")
    return int(value)


def check_pair(value: Any, where: str, name: str, *, minimum: int) -> tuple[int, int]:
    """An int or a (height, width) pair of ints, each >= `minimum`, as a (height, width) tuple."""
    sides = tuple(value) if isinstance(value, tuple | list) else (value, value)
    expected = "an int or a pair of ints (height, width)"
    if len(sides) != 2:
        raise ValueError(f"{where}: {name} must be {expected}, got {value!r}")
    height, width = (
        check_int(side, where, name, minimum=minimum, expected=expected) for side in sides
    )
    return height, width


def check_ints(values: tuple[Any, ...], where: str, name: str) -> tuple[Any, ...]:
    """`values` unchanged if every one is an int; the TypeError shows the tuple it is in."""
    for value in values:
        if type(value) is not int and not is_int(value):  # exact ints skip the slower ABC test
            shown = f" in {values!r}" if len(values) > 1 else ""
            raise _wrong_type(value, where, name, "an int", shown)
    return values


def check_number(
    value: Any,
    where: str,
    name: str,
    *,
    expected: str = "a number",
    finite: bool = False,
    minimum: float | None = None,
    strict: bool = False,
    below_one: bool = False,
) -> float:
    """`value` as a float; TypeError unless is_real(value), ValueError outside the bounds asked.

    The bounds: in [0, 1) with `below_one`; finite with `finite`; >= `minimum` (> with `strict`).
    """
    if type(value) is not float and not is_real(value):
        raise _wrong_type(value, where, name, expected)
    number = float(value)
    if below_one and not 0.0 <= number < 1.0:
        raise _out_of_range(number, where, name, "in [0, 1)")
    too_small = minimum is not None and not (number > minimum if strict else number >= minimum)
    if (finite and not math.isfinite(number)) or too_small:
        conditions = ["finite"] if finite else []
        if minimum is not None:
            conditions.append(f"> {minimum}" if strict else f">= {minimum}")
        raise _out_of_range(number, where, name, " and ".join(conditions))
    return number


def check_dtype(dtype: Any, where: str) -> np.dtype:
    """`dtype` as a NumPy dtype of numbers (bool, int or float); TypeError otherwise."""
    try:
        checked = np.dtype(dtype)
    except TypeError as error:
        raise TypeError(
            f"{where}: {dtype!r} is not a dtype ({error}); pass e.g. np.float32"
        ) from None
    if checked.kind not in "biuf":
        raise TypeError(
            f"{where}: dtype must be float, int or bool, got {checked}; pass e.g. np.float32"
        )
    return checked


def _wrong_type(value: Any, where: str, name: str, expected: str, context: str = "") -> TypeError:
    return TypeError(
        f"{where}: {name} must be {expected}, got {type(value).__name__} {value!r}{context}"
    )


def _out_of_range(value: Any, where: str, name: str, condition: str) -> ValueError:
    return ValueError(f"{where}: {name} must be {condition}, got {value}")
