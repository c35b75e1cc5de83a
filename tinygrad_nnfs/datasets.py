"""The nnfs package's generated data sets and the book's data preparation (ch. 12-13).

Everything returns ndarrays; Tensors given as X or y are read through their `.data`.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from tinygrad_nnfs._checks import check_int, check_number, is_real
from tinygrad_nnfs.engine import settings
from tinygrad_nnfs.images import FASHION_MNIST_LABELS, fashion_mnist, load_image_folder
from tinygrad_nnfs.tensor import _as_array, _resolve_rng, _standard_normal, get_default_dtype

__all__ = [
    "FASHION_MNIST_LABELS",
    "Scaler",
    "fashion_mnist",
    "kfold",
    "load_image_folder",
    "sine_data",
    "spiral_data",
    "train_val_split",
    "vertical_data",
]


def spiral_data(samples: int, classes: int, *, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """`classes` spiral arms of `samples` points: X (samples*classes, 2) float, y (.,) int.

    y is int64, or uint8 (the nnfs package's) after nnfs_init().
    """

    def arm(stream: Any, class_number: int) -> np.ndarray:
        # The nnfs package's code: one randn(samples) per class, in class order.
        r = np.linspace(0.0, 1, samples)
        t = (
            np.linspace(class_number * 4, (class_number + 1) * 4, samples)
            + _standard_normal(stream, samples) * 0.2
        )
        return np.c_[r * np.sin(t * 2.5), r * np.cos(t * 2.5)]

    return _per_class("spiral_data", samples, classes, rng, arm)


def vertical_data(samples: int, classes: int, *, rng: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """`classes` vertical stripes of `samples` points: X (samples*classes, 2) float, y int.

    y is int64, or uint8 (the nnfs package's) after nnfs_init().
    """

    def stripe(stream: Any, class_number: int) -> np.ndarray:
        # The nnfs package's code: per class the x draw comes before the y draw.
        return np.c_[
            _standard_normal(stream, samples) * 0.1 + class_number / 3,
            _standard_normal(stream, samples) * 0.1 + 0.5,
        ]

    return _per_class("vertical_data", samples, classes, rng, stripe)


def _per_class(
    where: str, samples: int, classes: int, rng: Any, points: Any
) -> tuple[np.ndarray, np.ndarray]:
    """Stack `points(stream, c)` for each class c in order (in float64, as nnfs) with labels."""
    check_int(samples, where, "samples", minimum=1)
    check_int(classes, where, "classes", minimum=1)
    stream = _resolve_rng(rng)
    X = np.zeros((samples * classes, 2))
    y = np.zeros(samples * classes, dtype=np.uint8 if settings.nnfs_dtypes else np.int64)
    for class_number in range(classes):
        ix = range(samples * class_number, samples * (class_number + 1))
        X[ix] = points(stream, class_number)
        y[ix] = class_number
    return X.astype(get_default_dtype(), copy=False), y


def sine_data(samples: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """One period of a sine: X = arange(samples) / samples, y = sin(2 pi X), both (samples, 1).

    Both are in the default float dtype, or float64 (the nnfs package's) after nnfs_init().
    """
    check_int(samples, "sine_data", "samples", minimum=1)
    X = np.arange(samples).reshape(-1, 1) / samples
    y = np.sin(2 * np.pi * X).reshape(-1, 1)
    if settings.nnfs_dtypes:  # the nnfs package's sine data is float64 whatever the default
        return X, y
    dtype = get_default_dtype()
    return X.astype(dtype, copy=False), y.astype(dtype, copy=False)


def train_val_split(
    X: Any, y: Any, *, val_fraction: float = 0.2, shuffle: bool = True, rng: Any = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(X_train, y_train, X_val, y_val): each sample in exactly one part, shuffled by default.

    The validation part gets round(val_fraction * n) samples, at least one and at most n - 1;
    without shuffling it is the last rows.
    """
    X, y = _as_array(X), _as_array(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(
            f"train_val_split: X (shape {X.shape}) and y (shape {y.shape}) must have the same "
            f"number of samples along axis 0; pass one label per row of X"
        )
    if len(X) < 2:
        raise ValueError(
            f"train_val_split: need at least 2 samples to split, got {len(X)}; generate more data"
        )
    check_number(val_fraction, "train_val_split", "val_fraction")
    if not 0 < val_fraction < 1:
        raise ValueError(
            f"train_val_split: val_fraction must be in (0, 1), got {val_fraction}; "
            f"e.g. 0.2 holds out a fifth of the samples"
        )
    n_samples = len(X)
    n_val = min(max(round(n_samples * val_fraction), 1), n_samples - 1)
    order = _resolve_rng(rng).permutation(n_samples) if shuffle else np.arange(n_samples)
    train, val = order[: n_samples - n_val], order[n_samples - n_val :]
    return X[train], y[train], X[val], y[val]


def kfold(
    n_samples: int, k: int = 5, *, shuffle: bool = True, rng: Any = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """k pairs (train_idx, val_idx); the validation folds partition range(n_samples).

    Fold sizes differ by at most one (the first n_samples % k folds are one larger). The
    shuffle is drawn when kfold is called, not when the folds are iterated.
    """
    check_int(n_samples, "kfold", "n_samples", minimum=1)
    check_int(k, "kfold", "k", minimum=2)
    if k > n_samples:
        raise ValueError(
            f"kfold: k ({k}) exceeds n_samples ({n_samples}); every fold needs at least one "
            f"sample, so use k <= {n_samples}"
        )
    order = _resolve_rng(rng).permutation(n_samples) if shuffle else np.arange(n_samples)
    folds = np.array_split(order, k)
    return (
        (np.concatenate(folds[:index] + folds[index + 1 :]), val) for index, val in enumerate(folds)
    )


class Scaler:
    """Per-feature min-max scaling to `feature_range`, learned by fit() on training data only.

    Features are the columns of a 2-D X. A feature that was constant in training maps to the
    middle of the range. Float input keeps its dtype; other input gets the default float dtype.
    """

    def __init__(self, feature_range: tuple[float, float] = (-1, 1)) -> None:
        if not isinstance(feature_range, tuple | list) or len(feature_range) != 2:
            raise TypeError(
                f"Scaler: feature_range must be a pair (low, high), got {feature_range!r}"
            )
        if not all(is_real(end) for end in feature_range):
            raise TypeError(f"Scaler: feature_range must hold two numbers, got {feature_range!r}")
        low, high = (float(end) for end in feature_range)
        if not (math.isfinite(low) and math.isfinite(high) and low < high):
            raise ValueError(
                f"Scaler: feature_range must be finite with low < high, got {feature_range!r}; "
                f"e.g. (-1, 1) or (0, 1)"
            )
        self.feature_range = (low, high)
        self.data_min: np.ndarray | None = None
        self.data_max: np.ndarray | None = None

    def __repr__(self) -> str:
        fitted = "unfitted" if self.data_min is None else f"{len(self.data_min)} features"
        return f"Scaler(feature_range={self.feature_range}, {fitted})"

    def fit(self, X: Any) -> Scaler:
        """Learn each feature's min and max from X (samples, features); returns self."""
        X, _ = _features(X, "fit")
        if len(X) == 0:
            raise ValueError("Scaler.fit: X has no samples; fit on the training data")
        self.data_min, self.data_max = X.min(axis=0), X.max(axis=0)
        return self

    def transform(self, X: Any) -> np.ndarray:
        """Scale X (samples, features) with the fitted min and max."""
        X, dtype = self._fitted_features(X, "transform")
        low, high = self.feature_range
        span = self.data_max - self.data_min
        constant = span == 0
        # Dividing before multiplying sends the training max to exactly `high`.
        ratio = (X - self.data_min) / np.where(constant, 1.0, span)
        out = np.where(constant, (low + high) / 2, ratio * (high - low) + low)
        return out.astype(dtype, copy=False)

    def fit_transform(self, X: Any) -> np.ndarray:
        """fit(X), then transform(X)."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> np.ndarray:
        """Map scaled values back to the original units (a constant feature to its value)."""
        X, dtype = self._fitted_features(X, "inverse_transform")
        low, high = self.feature_range
        out = (X - low) / (high - low) * (self.data_max - self.data_min) + self.data_min
        return out.astype(dtype, copy=False)

    def _fitted_features(self, X: Any, method: str) -> tuple[np.ndarray, np.dtype]:
        """As `_features`, after checking that fit() ran on as many features as X has."""
        if self.data_min is None:
            raise RuntimeError(
                f"Scaler.{method}: the scaler is not fitted; call fit(X_train) first"
            )
        X, dtype = _features(X, method)
        if X.shape[1] != len(self.data_min):
            raise ValueError(
                f"Scaler.{method}: X has {X.shape[1]} features but the scaler was fitted on "
                f"{len(self.data_min)}; pass data with the training data's columns"
            )
        return X, dtype


def _features(X: Any, method: str) -> tuple[np.ndarray, np.dtype]:
    """X as a float64 (samples, features) array, and the dtype the Scaler returns it in."""
    X = _as_array(X)
    if X.dtype.kind not in "biuf":
        raise TypeError(f"Scaler.{method}: X must be numeric, got dtype {X.dtype}")
    if X.ndim != 2:
        raise ValueError(
            f"Scaler.{method}: X must be 2-D (samples, features), got shape {X.shape}; "
            f"use X.reshape(-1, 1) for a single feature"
        )
    if not np.isfinite(X).all():
        raise ValueError(
            f"Scaler.{method}: X contains NaN or inf; clean the data first (e.g. drop those rows)"
        )
    dtype = X.dtype if X.dtype.kind == "f" else get_default_dtype()
    return X.astype(np.float64, copy=False), dtype
