"""_checks: shared argument checks; NumPy numbers count, bools do not, messages name the call."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nnfs._checks import check_dtype, check_int, check_ints, check_number, is_int, is_real


@pytest.mark.parametrize(
    ("value", "an_int", "a_real"),
    [
        (3, True, True),
        (np.int64(3), True, True),
        (np.uint8(3), True, True),
        (2.5, False, True),
        (np.float32(2.5), False, True),
        (True, False, False),
        (np.bool_(True), False, False),
        ("3", False, False),
        (None, False, False),
        (1j, False, False),
        (np.ones(1), False, False),
    ],
)
def test_is_int_and_is_real_take_numpy_numbers_but_not_bools(value, an_int, a_real):
    assert is_int(value) is an_int
    assert is_real(value) is a_real


def test_check_int_returns_a_python_int():
    assert type(check_int(np.int64(4), "f", "n", minimum=4)) is int


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: check_int(2.0, "f", "n"), TypeError, r"^f: n must be an int, got float 2\.0$"),
        (lambda: check_int(True, "f", "n"), TypeError, r"^f: n must be an int, got bool True$"),
        (lambda: check_int(0, "f", "n", minimum=1), ValueError, r"^f: n must be >= 1, got 0$"),
        (
            lambda: check_int("0", "f", "i", expected="an int or a slice"),
            TypeError,
            r"^f: i must be an int or a slice, got str '0'$",
        ),
        (
            lambda: check_ints((2, 3.0), "f", "every side"),
            TypeError,
            r"^f: every side must be an int, got float 3\.0 in \(2, 3\.0\)$",
        ),
        (lambda: check_number("1", "f", "x"), TypeError, r"^f: x must be a number, got str '1'$"),
        (lambda: check_number(False, "f", "x"), TypeError, r"^f: x must be a number, got bool"),
        (
            lambda: check_number(1, "f", "rate", below_one=True),
            ValueError,
            r"^f: rate must be in \[0, 1\), got 1\.0$",
        ),
        (lambda: check_number(np.inf, "f", "x", finite=True), ValueError, r"^f: x must be finite"),
        (
            lambda: check_number(np.nan, "f", "x", finite=True, minimum=0),
            ValueError,
            r"^f: x must be finite and >= 0, got nan$",
        ),
        (
            lambda: check_number(0, "f", "eps", minimum=0, strict=True),
            ValueError,
            r"^f: eps must be > 0, got 0\.0$",
        ),
        (lambda: check_dtype("f3", "f"), TypeError, r"^f: 'f3' is not a dtype"),
        (lambda: check_dtype(str, "f"), TypeError, r"^f: dtype must be float, int or bool, got"),
    ],
)
def test_checks_raise_naming_the_call_the_argument_and_the_value(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_checks_pass_good_values_through():
    assert check_ints((2, np.int64(-1)), "f", "every side") == (2, -1)
    assert check_number(np.float32(0.5), "f", "x", finite=True, minimum=0, below_one=True) == 0.5
    assert check_number(-1, "f", "x") == -1.0
    assert check_dtype("float32", "f") == np.float32
