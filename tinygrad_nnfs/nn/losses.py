"""Losses with the book's formulas, built from Tensor ops; each returns a 0-d mean over samples.

Targets (labels) may be ndarrays, lists or Tensors; they are constants, never differentiated.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from tinygrad_nnfs import ops
from tinygrad_nnfs.engine import _user_stacklevel, settings
from tinygrad_nnfs.nn.module import Module
from tinygrad_nnfs.tensor import Tensor, _as_array, _as_tensor

__all__ = [
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "SoftmaxCrossEntropy",
]


def _predictions(loss: Module, predictions: Any, *, classes: bool) -> Tensor:
    """Predictions as a float Tensor with at least one sample; (n, classes) when `classes`."""
    name = type(loss).__name__
    predictions = _as_tensor(predictions)
    data = predictions._data
    if data.dtype.kind != "f":
        raise TypeError(f"{name}: predictions must be floats, got dtype {data.dtype}")
    shape = data.shape
    if classes and len(shape) != 2:
        raise ValueError(
            f"{name}: predictions must be 2-D (n_samples, n_classes), got shape {shape}"
        )
    if not shape or shape[0] == 0:
        raise ValueError(
            f"{name}: predictions of shape {shape} hold no samples; "
            f"the loss is a mean over the first axis"
        )
    if classes and shape[1] == 0:
        raise ValueError(
            f"{name}: predictions of shape {predictions.shape} hold no classes; "
            f"the last layer needs one output per class"
        )
    return predictions


def _constant(loss: Module, targets: Any) -> np.ndarray:
    """Targets as an array: a loss's targets are constants, so a Tensor that requires grad is
    refused rather than silently given no gradient."""
    if isinstance(targets, Tensor) and targets.requires_grad:
        name = type(loss).__name__
        raise ValueError(
            f"{name}: the targets require grad, but a loss takes its targets as constants "
            f"(no gradient flows to them); pass targets.detach(), or write the loss with Tensor "
            f"ops to differentiate both sides, e.g. ((a - b) ** 2).mean()"
        )
    return _as_array(targets)


def _class_labels(
    loss: Module, predictions: Tensor, targets: Any, *, check_range: bool = True
) -> np.ndarray:
    """Validated labels: sparse (n,) integers (in range, if `check_range`), or one-hot
    (n, classes) numbers."""
    name = type(loss).__name__
    labels = _constant(loss, targets)
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
        if check_range:
            _check_label_range(loss, labels, n_classes)
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


def _check_label_range(loss: Module, labels: np.ndarray, n_classes: int) -> None:
    """Raise naming the first sparse label outside 0..n_classes - 1."""
    if np.minimum.reduce(labels) < 0 or np.maximum.reduce(labels) >= n_classes:
        bad = labels[(labels < 0) | (labels >= n_classes)][0]
        raise ValueError(
            f"{type(loss).__name__}: label {bad} is out of range for {n_classes} classes "
            f"(labels must be in 0..{n_classes - 1})"
        )


def _in_predictions_dtype(values: np.ndarray, predictions: Tensor) -> np.ndarray:
    """Targets as numbers of the predictions' dtype; after nnfs_init() float ones stay as they
    are, so they promote as in the book's NumPy (its float64 sine targets)."""
    if values.dtype.kind == "f" and settings.nnfs_dtypes:
        return values
    return values.astype(predictions.dtype, copy=False)


def _targets(loss: Module, predictions: Tensor, targets: Any) -> np.ndarray:
    """Targets of the predictions' shape, in the predictions' dtype (see above)."""
    name = type(loss).__name__
    values = _constant(loss, targets)
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
    return _in_predictions_dtype(values, predictions)


def _finish(loss: Module, value: Tensor, name: str) -> Tensor:
    """Name the loss tensor for rendered graphs and warn if its value is not finite."""
    value.name = name
    if not np.isfinite(value._data):
        warnings.warn(
            f"{type(loss).__name__}: the loss is {value.item()}; run the forward pass under "
            f"tinygrad_nnfs.detect_anomaly() to find the op that first produced NaN/inf",
            RuntimeWarning,
            stacklevel=_user_stacklevel(),  # the user's `loss(...)` or `fit(...)` line
        )
    return value


class _Loss(Module):
    """A loss: a graph op on validated (predictions, targets), and the book's sample losses."""

    _op: type[ops.Function]
    _value_name: str

    def _inputs(self, predictions: Any, targets: Any) -> tuple[Tensor, np.ndarray]:
        """Validated predictions and targets, as the op takes them."""
        raise NotImplementedError

    def _per_sample(self, predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def forward(self, predictions: Any, targets: Any) -> Tensor:
        predictions, targets = self._inputs(predictions, targets)
        return _finish(self, self._op.apply(predictions, targets), self._value_name)

    def sample_losses(self, predictions: Any, targets: Any) -> np.ndarray:
        """The loss of each sample (the book's Loss.forward), as an ndarray; records no graph.

        Their mean is the loss's value; the book's Model sums them over an epoch.
        """
        predictions, targets = self._inputs(predictions, targets)
        return self._per_sample(predictions.data, targets)


class SoftmaxCrossEntropy(_Loss):
    """Softmax of logits (n, classes) then cross-entropy, fused: gradient (softmax - onehot)/n.

    Labels are sparse (n,) or one-hot (n, classes). The value is the book's
    mean(-log(clip(softmax, 1e-7, 1 - 1e-7)[range(n), y])), finite for logits of 1e4.
    """

    _op, _value_name = ops.SoftmaxCrossEntropy, "softmax_xent"

    @staticmethod
    def probabilities(logits: Any, value: Tensor | None = None) -> np.ndarray:
        """softmax(logits), the book's bits; reused from `value`, this loss's result for these
        logits, when it recorded its graph (fit and Model score and sum from it each step)."""
        ctx = None if value is None else value._ctx
        if isinstance(ctx, ops.SoftmaxCrossEntropy):
            return ctx.saved[0]
        return ops._softmax_rows(_as_array(logits))

    def sample_losses(
        self, predictions: Any, targets: Any, value: Tensor | None = None
    ) -> np.ndarray:
        """The loss of each sample (the book's Loss.forward), as an ndarray; records no graph.

        Their mean is the loss's value; the book's Model sums them over an epoch. `value`:
        this loss's result for these arguments, whose softmax is reused.
        """
        logits, labels = self._inputs(predictions, targets)
        _check_label_range(self, labels, logits.shape[1])
        return ops.categorical_sample_losses(self.probabilities(logits, value), labels)[0]

    def forward(self, logits: Any, targets: Any) -> Tensor:
        # The op checks the labels' range as it picks them: here it is checked only to name
        # the label at fault, once the op has refused them.
        logits, labels = self._inputs(logits, targets)
        try:
            value = self._op.apply(logits, labels)
        except ValueError as error:
            refused = error
        else:
            return _finish(self, value, self._value_name)
        _check_label_range(self, labels, logits.shape[1])
        raise refused

    def _inputs(self, logits: Any, targets: Any) -> tuple[Tensor, np.ndarray]:
        """Checked logits and labels; sparse labels' range is the op's to check."""
        logits = _predictions(self, logits, classes=True)
        labels = _class_labels(self, logits, targets, check_range=False)
        if labels.ndim == 2:
            if not (np.all((labels == 0) | (labels == 1)) and np.all(labels.sum(axis=1) == 1)):
                raise ValueError(
                    "SoftmaxCrossEntropy: one-hot labels must hold exactly one 1 per row; "
                    "for soft labels use CategoricalCrossentropy on softmax outputs"
                )
            labels = labels.argmax(axis=1)
        return logits, labels


class CategoricalCrossentropy(_Loss):
    """mean(-log(p_true)) of probabilities (n, classes), clipped to [1e-7, 1 - 1e-7].

    Sparse labels pick p[range(n), y]; one-hot labels take sum(p * y, axis=1), as in the book.
    The gradient is the book's -y / p / n at the clipped p (so a saturated wrong prediction
    still learns). After a Softmax, SoftmaxCrossEntropy on the logits is faster and exact.
    """

    _op, _value_name = ops.CategoricalCrossEntropy, "categorical_xent"

    def _inputs(self, predictions: Any, targets: Any) -> tuple[Tensor, np.ndarray]:
        predictions = _predictions(self, predictions, classes=True)
        labels = _class_labels(self, predictions, targets)
        if labels.ndim == 2:
            labels = _in_predictions_dtype(labels, predictions)
        return predictions, labels

    @staticmethod
    def _per_sample(predictions: np.ndarray, labels: np.ndarray) -> np.ndarray:
        return ops.categorical_sample_losses(predictions, labels)[0]


class _RegressionLoss(_Loss):
    """A loss on predictions (samples, outputs) and targets of their shape."""

    def _inputs(self, predictions: Any, targets: Any) -> tuple[Tensor, np.ndarray]:
        predictions = _predictions(self, predictions, classes=False)
        return predictions, _targets(self, predictions, targets)


class BinaryCrossentropy(_RegressionLoss):
    """-(y log p + (1 - y) log(1 - p)) of sigmoid outputs, clipped; mean over outputs, samples.

    The gradient is the book's formula at the clipped p (finite and large at a saturated
    wrong prediction, not 0).
    """

    _op, _value_name = ops.BinaryCrossEntropy, "binary_xent"

    def _inputs(self, predictions: Any, targets: Any) -> tuple[Tensor, np.ndarray]:
        predictions, targets = super()._inputs(predictions, targets)
        for name, values, fix in (
            ("predictions", predictions.data, "put a Sigmoid before the loss (logits are not "
             "probabilities)"),
            ("targets", targets, "use labels 0 and 1 (or probabilities)"),
        ):  # fmt: skip
            if values.size and (np.min(values) < 0 or np.max(values) > 1):
                raise ValueError(
                    f"BinaryCrossentropy: {name} must lie in [0, 1], got values from "
                    f"{np.min(values)} to {np.max(values)}; {fix}"
                )
        return predictions, targets

    @staticmethod
    def _per_sample(predictions: np.ndarray, targets: np.ndarray) -> np.ndarray:
        return ops.binary_sample_losses(predictions, targets)[0]


class MeanSquaredError(_RegressionLoss):
    """mean((y - p) ** 2) over outputs (last axis), then over samples."""

    _op, _value_name = ops.MeanSquaredError, "mse"
    _per_sample = staticmethod(ops.squared_sample_losses)


class MeanAbsoluteError(_RegressionLoss):
    """mean(|y - p|) over outputs (last axis), then over samples.

    Its gradient is -sign(y - p) / outputs / samples (0 at a zero residual). The book's code
    has np.sign(y - p), the opposite sign, an erratum: this library keeps the derivative.
    """

    _op, _value_name = ops.MeanAbsoluteError, "mae"
    _per_sample = staticmethod(ops.absolute_sample_losses)
