"""Losses with the book's formulas, built from Tensor ops; each returns a 0-d mean over samples.

Targets (labels) may be ndarrays, lists or Tensors; they are constants, never differentiated.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_nnfs import ops
from tinygrad_nnfs.nn.module import Module
from tinygrad_nnfs.tensor import Tensor, _as_tensor

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SoftmaxCrossEntropy",
]

# The book clips probabilities so that log never sees 0 (or 1 - p never sees 0).
_EPSILON = 1e-7


def _as_array(values: Any) -> np.ndarray:
    return values.data if isinstance(values, Tensor) else np.asarray(values)


def _predictions(loss: Module, predictions: Any, *, classes: bool) -> Tensor:
    """Predictions as a float Tensor with at least one sample; (n, classes) when `classes`."""
    name = type(loss).__name__
    predictions = _as_tensor(predictions)
    if predictions.dtype.kind != "f":
        raise TypeError(f"{name}: predictions must be floats, got dtype {predictions.dtype}")
    if classes and predictions.ndim != 2:
        raise ValueError(
            f"{name}: predictions must be 2-D (n_samples, n_classes), got shape {predictions.shape}"
        )
    if predictions.ndim == 0 or predictions.shape[0] == 0:
        raise ValueError(
            f"{name}: predictions of shape {predictions.shape} hold no samples; "
            f"the loss is a mean over the first axis"
        )
    if classes and predictions.shape[1] == 0:
        raise ValueError(
            f"{name}: predictions of shape {predictions.shape} hold no classes; "
            f"the last layer needs one output per class"
        )
    return predictions


def _class_labels(loss: Module, predictions: Tensor, targets: Any) -> np.ndarray:
    """Validated labels: sparse (n,) integers in range, or one-hot (n, classes) numbers."""
    name = type(loss).__name__
    labels = _as_array(targets)
    n_samples, n_classes = predictions.shape
    if labels.ndim == 1:
        if labels.shape != (n_samples,):
            raise ValueError(
                f"{name}: labels of shape {labels.shape} do not match predictions of shape "
                f"{predictions.shape}; pass one label per sample"
            )
        if labels.dtype.kind not in "iu":
            raise TypeError(
                f"{name}: sparse labels must be integers, got dtype {labels.dtype}; "
                f"convert them with y.astype(int)"
            )
        if np.minimum.reduce(labels) < 0 or np.maximum.reduce(labels) >= n_classes:
            bad = labels[(labels < 0) | (labels >= n_classes)][0]
            raise ValueError(
                f"{name}: label {bad} is out of range for {n_classes} classes "
                f"(labels must be in 0..{n_classes - 1})"
            )
        return labels
    if labels.ndim == 2 and labels.shape == predictions.shape:
        if labels.dtype.kind not in "biuf":
            raise TypeError(f"{name}: one-hot labels must be numbers, got dtype {labels.dtype}")
        return labels
    raise ValueError(
        f"{name}: labels of shape {labels.shape} do not match predictions of shape "
        f"{predictions.shape}; pass sparse labels ({n_samples},) or one-hot labels "
        f"({n_samples}, {n_classes})"
    )


def _targets(loss: Module, predictions: Tensor, targets: Any) -> Tensor:
    """Targets of the predictions' shape, as a constant Tensor in the predictions' dtype."""
    name = type(loss).__name__
    values = _as_array(targets)
    if values.dtype.kind not in "biuf":
        raise TypeError(f"{name}: targets must be numbers, got dtype {values.dtype}")
    if values.shape != predictions.shape:
        fix = "give targets the predictions' shape"
        if predictions.shape == (*values.shape, 1):
            fix = "reshape the targets with y.reshape(-1, 1), as the book does"
        raise ValueError(
            f"{name}: targets of shape {values.shape} do not match predictions of shape "
            f"{predictions.shape}; {fix}"
        )
    return Tensor(values, dtype=predictions.dtype)


def _finish(loss: Module, value: Tensor, name: str) -> Tensor:
    """Name the loss tensor for rendered graphs and warn if its value is not finite."""
    value.name = name
    if not np.isfinite(value.data):
        warnings.warn(
            f"{type(loss).__name__}: the loss is {value.item()}; run the forward pass under "
            f"tinygrad_nnfs.detect_anomaly() to find the op that first produced NaN/inf",
            RuntimeWarning,
            stacklevel=4,  # the user's `loss(...)` line: _finish <- forward <- __call__
        )
    return value


class SoftmaxCrossEntropy(Module):
    """Softmax of logits (n, classes) then cross-entropy, fused: gradient (softmax - onehot)/n.

    Labels are sparse (n,) or one-hot (n, classes). The value is the book's
    mean(-log(clip(softmax, 1e-7, 1 - 1e-7)[range(n), y])), finite for logits of 1e4.
    """

    def forward(self, logits: Any, targets: Any) -> Tensor:
        logits = _predictions(self, logits, classes=True)
        labels = _class_labels(self, logits, targets)
        if labels.ndim == 2:
            if not (np.all((labels == 0) | (labels == 1)) and np.all(labels.sum(axis=1) == 1)):
                raise ValueError(
                    "SoftmaxCrossEntropy: one-hot labels must hold exactly one 1 per row; "
                    "for soft labels use CategoricalCrossentropy on softmax outputs"
                )
            labels = labels.argmax(axis=1)
        return _finish(self, ops.SoftmaxCrossEntropy.apply(logits, labels), "softmax_xent")


class CategoricalCrossentropy(Module):
    """mean(-log(p_true)) of probabilities (n, classes), clipped to [1e-7, 1 - 1e-7].

    Sparse labels pick p[range(n), y]; one-hot labels take sum(p * y, axis=1), as in the book.
    """

    def forward(self, predictions: Any, targets: Any) -> Tensor:
        predictions = _predictions(self, predictions, classes=True)
        labels = _class_labels(self, predictions, targets)
        clipped = predictions.clip(_EPSILON, 1 - _EPSILON)
        if labels.ndim == 1:
            correct = clipped[np.arange(len(labels)), labels]
        else:
            correct = (clipped * Tensor(labels, dtype=clipped.dtype)).sum(axis=1)
        return _finish(self, (-correct.log()).mean(), "categorical_xent")


class BinaryCrossentropy(Module):
    """-(y log p + (1 - y) log(1 - p)) of sigmoid outputs, clipped; mean over outputs, samples."""

    def forward(self, predictions: Any, targets: Any) -> Tensor:
        predictions = _predictions(self, predictions, classes=False)
        targets = _targets(self, predictions, targets)
        clipped = predictions.clip(_EPSILON, 1 - _EPSILON)
        losses = -(targets * clipped.log() + (1 - targets) * (1 - clipped).log())
        return _finish(self, losses.mean(axis=-1).mean(), "binary_xent")


class MeanSquaredError(Module):
    """mean((y - p) ** 2) over outputs (last axis), then over samples."""

    def forward(self, predictions: Any, targets: Any) -> Tensor:
        predictions = _predictions(self, predictions, classes=False)
        targets = _targets(self, predictions, targets)
        return _finish(self, ((targets - predictions) ** 2).mean(axis=-1).mean(), "mse")


class MeanAbsoluteError(Module):
    """mean(|y - p|) over outputs (last axis), then over samples."""

    def forward(self, predictions: Any, targets: Any) -> Tensor:
        predictions = _predictions(self, predictions, classes=False)
        residuals = _targets(self, predictions, targets) - predictions
        # NOTE: max(r, -r) is |r|, and its tie at r == 0 splits the gradient to 0: the book's
        # np.sign(0). abs() would give a derivative of +1 there (its L1 convention).
        return _finish(self, residuals.maximum(-residuals).mean(axis=-1).mean(), "mae")
