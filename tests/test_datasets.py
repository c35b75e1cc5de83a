"""Datasets: the nnfs formulas from the library stream, splits, folds and the Scaler."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinygrad_nnfs import Tensor, manual_seed, set_default_dtype
from tinygrad_nnfs.datasets import (
    Scaler,
    kfold,
    sine_data,
    spiral_data,
    train_val_split,
    vertical_data,
)
from tinygrad_nnfs.tensor import get_default_dtype


@pytest.fixture
def default_dtype():
    """set_default_dtype, undone after the test."""
    previous = get_default_dtype()
    yield set_default_dtype
    set_default_dtype(previous)


def nnfs_spiral(samples, classes, stream):
    """The nnfs package's spiral_data, as published, with np.random replaced by `stream`."""
    X = np.zeros((samples * classes, 2))
    y = np.zeros(samples * classes, dtype="uint8")
    for class_number in range(classes):
        ix = range(samples * class_number, samples * (class_number + 1))
        r = np.linspace(0.0, 1, samples)
        t = (
            np.linspace(class_number * 4, (class_number + 1) * 4, samples)
            + stream.randn(samples) * 0.2
        )
        X[ix] = np.c_[r * np.sin(t * 2.5), r * np.cos(t * 2.5)]
        y[ix] = class_number
    return X, y


def nnfs_vertical(samples, classes, stream):
    """The nnfs package's vertical_data, as published, with np.random replaced by `stream`."""
    X = np.zeros((samples * classes, 2))
    y = np.zeros(samples * classes, dtype="uint8")
    for class_number in range(classes):
        ix = range(samples * class_number, samples * (class_number + 1))
        X[ix] = np.c_[
            stream.randn(samples) * 0.1 + (class_number) / 3, stream.randn(samples) * 0.1 + 0.5
        ]
        y[ix] = class_number
    return X, y


# ---- generated data ---------------------------------------------------------------------------


def test_spiral_data_is_the_nnfs_formula_then_the_books_layer_draws_follow(default_dtype):
    default_dtype(np.float32)
    manual_seed(0)
    X, y = spiral_data(100, 3)
    book = np.random.RandomState(0)  # what nnfs.init() seeds
    X_book, y_book = nnfs_spiral(100, 3, book)
    assert X.shape == (300, 2) and X.dtype == np.float32
    assert y.shape == (300,) and y.dtype == np.int64
    np.testing.assert_array_equal(X, X_book.astype(np.float32))
    np.testing.assert_array_equal(y, y_book)
    # The book builds its layers right after the data: the stream must be where the book's is.
    weights = 0.01 * Tensor.randn(2, 64, dtype=np.float64).data
    np.testing.assert_array_equal(weights, 0.01 * book.randn(2, 64))


def test_spiral_data_follows_the_default_dtype(default_dtype):
    default_dtype(np.float64)
    X, _ = spiral_data(50, 4, rng=7)
    X_book, _ = nnfs_spiral(50, 4, np.random.RandomState(7))
    assert X.dtype == np.float64
    np.testing.assert_array_equal(X, X_book)


def test_vertical_data_is_the_nnfs_formula(default_dtype):
    default_dtype(np.float32)
    manual_seed(3)
    X, y = vertical_data(40, 5)
    X_book, y_book = nnfs_vertical(40, 5, np.random.RandomState(3))
    assert X.shape == (200, 2) and X.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(X, X_book.astype(np.float32))
    np.testing.assert_array_equal(y, y_book)


def test_sine_data_is_the_nnfs_formula(default_dtype):
    default_dtype(np.float64)
    X, y = sine_data()
    assert X.shape == y.shape == (1000, 1)
    np.testing.assert_array_equal(X, np.arange(1000).reshape(-1, 1) / 1000)
    np.testing.assert_array_equal(y, np.sin(2 * np.pi * X))
    default_dtype(np.float32)
    X, y = sine_data(10)
    assert X.dtype == y.dtype == np.float32 and X.shape == (10, 1)
    np.testing.assert_array_equal(
        y, np.sin(2 * np.pi * (np.arange(10) / 10)).astype(np.float32)[:, None]
    )


STREAMS = {
    "int": lambda: 5,
    "RandomState": lambda: np.random.RandomState(5),
    "Generator": lambda: np.random.default_rng(5),
}


@pytest.mark.parametrize("make", [spiral_data, vertical_data])
@pytest.mark.parametrize("stream", STREAMS.values(), ids=STREAMS.keys())
def test_generated_data_rng_is_independent_of_the_library_stream(make, stream):
    manual_seed(0)
    expected_next = np.random.RandomState(0).standard_normal(4)
    X, _ = make(20, 2, rng=stream())
    np.testing.assert_array_equal(Tensor.randn(4, dtype=np.float64).data, expected_next)
    X_again, _ = make(20, 2, rng=stream())
    np.testing.assert_array_equal(X, X_again)
    # An int or a RandomState draws what the library stream seeded the same way would.
    manual_seed(5)
    same_as_library = np.array_equal(X, make(20, 2)[0])
    assert same_as_library == (not isinstance(stream(), np.random.Generator))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: spiral_data(0, 3), ValueError, "spiral_data: samples must be >= 1, got 0"),
        (lambda: spiral_data(100, -2), ValueError, "spiral_data: classes must be >= 1, got -2"),
        (lambda: spiral_data(10.0, 3), TypeError, "spiral_data: samples must be an int, got float"),
        (lambda: vertical_data(10, True), TypeError, "vertical_data: classes must be an int"),
        (lambda: vertical_data(-1, 2), ValueError, "vertical_data: samples must be >= 1"),
        (lambda: sine_data(0), ValueError, "sine_data: samples must be >= 1, got 0"),
        (lambda: sine_data("10"), TypeError, "sine_data: samples must be an int, got str"),
        (lambda: spiral_data(10, 2, rng="seed"), TypeError, "rng: expected None, an int"),
    ],
)
def test_generated_data_rejects_bad_arguments(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---- train_val_split ----------------------------------------------------------------------------


@given(
    n_samples=st.integers(2, 300),
    val_fraction=st.floats(0.01, 0.99),
    n_features=st.integers(1, 3),
    seed=st.integers(0, 2**32 - 1),
)
def test_train_val_split_puts_every_sample_in_one_part(n_samples, val_fraction, n_features, seed):
    y = np.arange(n_samples)
    X = np.repeat(y[:, None], n_features, axis=1) * 10.0
    X_train, y_train, X_val, y_val = train_val_split(X, y, val_fraction=val_fraction, rng=seed)
    np.testing.assert_array_equal(np.sort(np.concatenate([y_train, y_val])), y)
    np.testing.assert_array_equal(X_train[:, 0], y_train * 10.0)
    np.testing.assert_array_equal(X_val[:, -1], y_val * 10.0)
    assert len(y_val) == min(max(round(n_samples * val_fraction), 1), n_samples - 1)
    again = train_val_split(X, y, val_fraction=val_fraction, rng=seed)
    for part, part_again in zip((X_train, y_train, X_val, y_val), again, strict=True):
        np.testing.assert_array_equal(part, part_again)


def test_train_val_split_shuffles_from_the_library_stream_or_not_at_all():
    X, y = np.arange(20.0).reshape(10, 2), np.arange(10)
    _, y_train, X_val, y_val = train_val_split(X, y, shuffle=False)
    np.testing.assert_array_equal(y_train, np.arange(8))
    np.testing.assert_array_equal(y_val, [8, 9])
    np.testing.assert_array_equal(X_val, X[8:])
    manual_seed(1)
    _, y_train, _, y_val = train_val_split(Tensor(X), Tensor(y), val_fraction=0.3)
    order = np.random.RandomState(1).permutation(10)
    np.testing.assert_array_equal(np.concatenate([y_train, y_val]), order)
    assert len(y_val) == 3


@pytest.mark.parametrize(
    ("X", "y", "options", "error", "match"),
    [
        (np.zeros((5, 2)), np.zeros(4), {}, ValueError, r"X \(shape \(5, 2\)\) and y \(shape \(4,"),
        (np.zeros(()), np.zeros(1), {}, ValueError, "same number of samples"),
        (np.zeros((1, 2)), np.zeros(1), {}, ValueError, "need at least 2 samples to split, got 1"),
        (np.zeros((5, 2)), np.zeros(5), {"val_fraction": 0.0}, ValueError, r"in \(0, 1\), got 0"),
        (np.zeros((5, 2)), np.zeros(5), {"val_fraction": 1}, ValueError, r"in \(0, 1\), got 1"),
        (np.zeros((5, 2)), np.zeros(5), {"val_fraction": float("nan")}, ValueError, "got nan"),
        (np.zeros((5, 2)), np.zeros(5), {"val_fraction": "0.2"}, TypeError, "got str"),
    ],
)
def test_train_val_split_rejects_bad_arguments(X, y, options, error, match):
    with pytest.raises(error, match="train_val_split: .*" + match):
        train_val_split(X, y, **options)


# ---- kfold --------------------------------------------------------------------------------------


@given(data=st.data(), n_samples=st.integers(2, 200), seed=st.integers(0, 2**32 - 1))
def test_kfold_validation_folds_partition_the_samples(data, n_samples, seed):
    k = data.draw(st.integers(2, min(n_samples, 20)), label="k")
    folds = list(kfold(n_samples, k, rng=seed))
    assert len(folds) == k
    sizes = [len(val) for _, val in folds]
    assert max(sizes) - min(sizes) <= 1
    everything = np.arange(n_samples)
    np.testing.assert_array_equal(np.sort(np.concatenate([val for _, val in folds])), everything)
    for train, val in folds:
        np.testing.assert_array_equal(np.sort(np.concatenate([train, val])), everything)
    for (train, val), (train_again, val_again) in zip(
        folds, kfold(n_samples, k, rng=seed), strict=True
    ):
        np.testing.assert_array_equal(train, train_again)
        np.testing.assert_array_equal(val, val_again)


def test_kfold_without_shuffle_gives_consecutive_folds_and_draws_eagerly():
    folds = list(kfold(7, 3, shuffle=False))
    assert [val.tolist() for _, val in folds] == [[0, 1, 2], [3, 4], [5, 6]]
    assert folds[1][0].tolist() == [0, 1, 2, 5, 6]
    manual_seed(2)
    lazy = kfold(10, 2)
    Tensor.randn(3)  # drawing after the call must not change the folds
    order = np.random.RandomState(2).permutation(10)
    np.testing.assert_array_equal(next(lazy)[1], order[:5])


@pytest.mark.parametrize(
    ("args", "error", "match"),
    [
        ((10, 1), ValueError, "kfold: k must be >= 2, got 1"),
        ((3, 4), ValueError, r"kfold: k \(4\) exceeds n_samples \(3\).*k <= 3"),
        ((0, 2), ValueError, "kfold: n_samples must be >= 1, got 0"),
        ((10, 2.0), TypeError, "kfold: k must be an int, got float"),
        ((np.arange(10), 2), TypeError, "kfold: n_samples must be an int, got ndarray"),
    ],
)
def test_kfold_rejects_bad_arguments(args, error, match):
    with pytest.raises(error, match=match):
        kfold(*args)


# ---- Scaler -------------------------------------------------------------------------------------


@given(
    X=hnp.arrays(
        np.float64,
        hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=6),
        elements=st.floats(-1e3, 1e3),
    ),
    feature_range=st.sampled_from([(-1, 1), (0, 1), (-5.0, 2.5)]),
)
def test_scaler_maps_min_max_to_the_range_and_round_trips(X, feature_range):
    scaler = Scaler(feature_range)
    scaled = scaler.fit_transform(X)
    low, high = feature_range
    assert np.isfinite(scaled).all()
    assert ((scaled >= low) & (scaled <= high)).all()
    constant = X.min(axis=0) == X.max(axis=0)
    np.testing.assert_array_equal(scaled.min(axis=0)[~constant], low)
    np.testing.assert_array_equal(scaled.max(axis=0)[~constant], high)
    np.testing.assert_array_equal(scaled[:, constant], (low + high) / 2)
    np.testing.assert_allclose(scaler.inverse_transform(scaled), X, rtol=1e-9, atol=1e-9)


def test_scaler_learns_from_training_data_only():
    X_train = np.array([[0.0, 5.0, 1.0], [10.0, 5.0, 3.0]])
    scaler = Scaler().fit(X_train)
    np.testing.assert_array_equal(scaler.data_min, [0.0, 5.0, 1.0])
    np.testing.assert_array_equal(scaler.data_max, [10.0, 5.0, 3.0])
    X_test = np.array([[20.0, 7.0, 2.0], [5.0, 5.0, 0.0]])
    np.testing.assert_array_equal(scaler.transform(X_test), [[3.0, 0.0, 0.0], [0.0, 0.0, -2.0]])
    np.testing.assert_array_equal(scaler.inverse_transform([[1.0, 0.0, 1.0]]), [[10.0, 5.0, 3.0]])
    assert repr(scaler) == "Scaler(feature_range=(-1.0, 1.0), 3 features)"


def test_scaler_keeps_float_dtypes_and_reads_tensors(default_dtype):
    default_dtype(np.float64)
    X32 = np.array([[1.0, 2.0], [3.0, 6.0]], dtype=np.float32)
    scaler = Scaler((0, 1))
    scaled = scaler.fit_transform(Tensor(X32))
    assert scaled.dtype == np.float32
    np.testing.assert_array_equal(scaled, [[0.0, 0.0], [1.0, 1.0]])
    assert scaler.inverse_transform(scaled).dtype == np.float32
    assert scaler.fit_transform(np.array([[1, 2], [3, 4]])).dtype == np.float64


@pytest.mark.parametrize(
    ("feature_range", "error", "match"),
    [
        ((1, -1), ValueError, r"Scaler: feature_range must be finite with low < high, got \(1, -1"),
        ((0, 0), ValueError, "low < high"),
        ((0, float("inf")), ValueError, "must be finite"),
        ((0, 1, 2), TypeError, r"Scaler: feature_range must be a pair \(low, high\)"),
        (1.0, TypeError, "must be a pair"),
        (("a", "b"), TypeError, "Scaler: feature_range must hold two numbers"),
    ],
)
def test_scaler_rejects_bad_feature_range(feature_range, error, match):
    with pytest.raises(error, match=match):
        Scaler(feature_range)


def test_scaler_rejects_bad_data():
    with pytest.raises(RuntimeError, match=r"Scaler.transform: .*not fitted; call fit\(X_train\)"):
        Scaler().transform(np.zeros((2, 2)))
    with pytest.raises(RuntimeError, match=r"Scaler.inverse_transform: .*not fitted"):
        Scaler().inverse_transform(np.zeros((2, 2)))
    scaler = Scaler().fit(np.eye(3))
    with pytest.raises(ValueError, match=r"Scaler.transform: X has 2 features but .* fitted on 3"):
        scaler.transform(np.zeros((4, 2)))
    with pytest.raises(ValueError, match=r"Scaler.fit: X must be 2-D .*shape \(3,\).*reshape"):
        Scaler().fit(np.zeros(3))
    with pytest.raises(ValueError, match=r"Scaler.fit: X has no samples"):
        Scaler().fit(np.zeros((0, 2)))
    with pytest.raises(ValueError, match=r"Scaler.fit: X contains NaN or inf"):
        Scaler().fit([[0.0, np.nan], [1.0, 2.0]])
    with pytest.raises(TypeError, match=r"Scaler.fit: X must be numeric, got dtype <U1"):
        Scaler().fit([["a", "b"]])
