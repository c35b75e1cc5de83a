"""nnfs_init() and set_matmul_precision(): the book's float32 setting, op by op."""

from __future__ import annotations

import numpy as np
import pytest
from book_reference import nnfs_init_numpy
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_array_equal

from tinygrad_nnfs import (
    Tensor,
    datasets,
    get_matmul_precision,
    manual_seed,
    nn,
    nnfs_init,
    set_matmul_precision,
)
from tinygrad_nnfs.tensor import get_default_dtype
from tinygrad_nnfs.testing import arrays


def _rounded_float64_product(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """nnfs.init()'s np.dot."""
    return np.dot(a.astype("float64"), b.astype("float64")).astype("float32")


def test_matmul_precision_is_native_by_default_and_switches():
    assert get_matmul_precision() == "native"
    set_matmul_precision("float64")
    assert get_matmul_precision() == "float64"
    set_matmul_precision("native")
    assert get_matmul_precision() == "native"


@pytest.mark.parametrize("bad", ["double", "highest", None, 64])
def test_matmul_precision_rejects_unknown_names(bad):
    with pytest.raises(ValueError, match="set_matmul_precision: expected 'float64' or 'native'"):
        set_matmul_precision(bad)
    assert get_matmul_precision() == "native"


@given(data=st.data(), n=st.integers(1, 6), k=st.integers(1, 40), m=st.integers(1, 6))
def test_float64_precision_rounds_every_float32_matmul_forward_and_backward(data, n, k, m):
    x, w, grad = (data.draw(arrays(shape, dtype=np.float32)) for shape in ((n, k), (k, m), (n, m)))
    set_matmul_precision("float64")
    for layer_form in (False, True):
        a, b = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
        if layer_form:  # Dense's fused node
            out = nn.Dense(k, m)
            out.weights.data[...] = w
            a, b = a, out.weights
            out = out(a)
        else:
            out = a @ b
        out.backward(grad)
        assert out.dtype == a.grad.dtype == b.grad.dtype == np.float32
        assert_array_equal(out.data, _rounded_float64_product(x, w))
        assert_array_equal(a.grad.data, _rounded_float64_product(grad, w.T))
        assert_array_equal(b.grad.data, _rounded_float64_product(x.T, grad))


def test_float64_precision_rounds_mixed_and_leaves_float64_matmuls_alone():
    rng = np.random.RandomState(0)
    x64, w32 = rng.randn(5, 7), rng.randn(7, 3).astype(np.float32)
    set_matmul_precision("float64")
    mixed = Tensor(x64) @ Tensor(w32)  # as nnfs.init's np.dot: a float32 result
    assert mixed.dtype == np.float32
    assert_array_equal(mixed.data, _rounded_float64_product(x64, w32))
    pure = Tensor(x64) @ Tensor(w32.astype(np.float64))
    assert pure.dtype == np.float64
    assert_array_equal(pure.data, x64 @ w32.astype(np.float64))


def test_nnfs_init_makes_numpys_global_stream_the_library_stream():
    nnfs_init()
    np.random.seed(3)
    layer = nn.Dense(2, 4)
    np.random.shuffle(order := np.arange(5))  # a book program mixes np.random calls in
    after = nn.Dense(4, 1)
    book = np.random.RandomState(3)
    assert_array_equal(layer.weights.data, 0.01 * book.randn(2, 4).astype(np.float32))
    book.shuffle(book_order := np.arange(5))
    assert_array_equal(order, book_order)
    assert_array_equal(after.weights.data, 0.01 * book.randn(4, 1).astype(np.float32))
    manual_seed(0)  # seeds that same stream
    assert np.random.get_state()[1][0] == np.random.RandomState(0).get_state()[1][0]


def test_nnfs_init_sets_what_nnfs_init_sets():
    nnfs_init()
    assert get_default_dtype() == np.float32
    assert get_matmul_precision() == "float64"
    np.random.seed(1)
    nnfs_init()
    assert_array_equal(np.random.randn(3), np.random.RandomState(0).randn(3))  # seeded with 0


@pytest.mark.parametrize(
    ("options", "dtype", "precision"),
    [
        ({"default_dtype": None}, np.float64, "float64"),
        ({"default_dtype": "float64"}, np.float64, "float64"),
        ({"dot_precision_workaround": False}, np.float32, "native"),
    ],
)
def test_nnfs_init_keywords(options, dtype, precision):
    nnfs_init(**options)
    assert (get_default_dtype(), get_matmul_precision()) == (dtype, precision)


def test_nnfs_init_without_seed_leaves_the_global_stream():
    np.random.seed(5)
    nnfs_init(random_seed=None)
    draws = Tensor.randn(2).data  # float32, as nnfs.init makes np.random.randn
    assert_array_equal(draws, np.random.RandomState(5).randn(2).astype(np.float32), strict=True)


@pytest.mark.parametrize(
    ("options", "error", "message"),
    [
        ({"random_seed": -1}, ValueError, r"nnfs_init: seed must be in 0..2\*\*32 - 1"),
        ({"random_seed": 1.5}, TypeError, "nnfs_init: seed must be an int"),
        ({"default_dtype": "int32"}, TypeError, "set_default_dtype: expected a float dtype"),
    ],
)
def test_nnfs_init_bad_arguments_change_nothing(options, error, message):
    with pytest.raises(error, match=message):
        nnfs_init(**options)
    assert (get_default_dtype(), get_matmul_precision()) == (np.float32, "native")


def test_datasets_after_nnfs_init_are_the_nnfs_packages():
    with nnfs_init_numpy():
        from nnfs.datasets import sine_data, spiral_data, vertical_data

        book = [spiral_data(50, 3), vertical_data(20, 2), sine_data(30)]
    nnfs_init()
    ours = [datasets.spiral_data(50, 3), datasets.vertical_data(20, 2), datasets.sine_data(30)]
    for (X, y), (X_book, y_book) in zip(ours, book, strict=True):
        assert (X.dtype, y.dtype) == (X_book.dtype, y_book.dtype)
        assert_array_equal(X, X_book)
        assert_array_equal(y, y_book)
    assert ours[0][1].dtype == np.uint8 and ours[2][0].dtype == np.float64


def test_dropout_after_nnfs_init_is_the_books_float64_mask():
    nnfs_init()
    inputs = np.random.RandomState(1).randn(4, 6).astype(np.float32)
    out = nn.Dropout(0.25)(inputs)
    book = np.random.RandomState(0)
    mask = book.binomial(1, 0.75, size=inputs.shape) / 0.75
    assert out.dtype == np.float64  # float32 * the book's float64 mask, as in the book
    assert_array_equal(out.data, inputs * mask)
