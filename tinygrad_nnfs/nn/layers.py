"""Dense and Dropout layers, written as compositions of Tensor ops."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_nnfs import ops
from tinygrad_nnfs._checks import check_dtype, check_int, check_number
from tinygrad_nnfs.nn.module import Module
from tinygrad_nnfs.tensor import (
    Tensor,
    _as_tensor,
    _resolve_rng,
    _standard_normal,
    get_default_dtype,
)

__all__ = ["Dense", "Dropout"]

_REGULARIZERS = (
    "weight_regularizer_l1",
    "weight_regularizer_l2",
    "bias_regularizer_l1",
    "bias_regularizer_l2",
)


def _check_size(layer: str, name: str, value: Any) -> int:
    """A layer's size: an int > 0."""
    size = check_int(value, layer, name)
    if size <= 0:
        raise ValueError(f"{layer}: {name} must be positive, got {size}")
    return size


def _check_strength(layer: str, name: str, value: Any) -> float:
    """A regularizer strength or weight scale: a finite number >= 0, as a float."""
    check_number(value, layer, name)
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{layer}: {name} must be a finite number >= 0, got {value}")
    return float(value)


class Dense(Module):
    """Fully connected layer: inputs (batch, n_inputs) -> inputs @ weights + biases.

    weights (n_inputs, n_neurons) start as the book's `weight_scale * np.random.randn`:
    draws from the library stream (or `rng`) cast to `dtype` (default float dtype when
    None), then scaled in that dtype, so float32 weights are the book's float32 ones
    under `nnfs.init()`; biases start as zeros (1, n_neurons). The regularizer strengths
    are read by nn.regularization_loss.
    """

    weight_regularizer_l1: float
    weight_regularizer_l2: float
    bias_regularizer_l1: float
    bias_regularizer_l2: float

    def __init__(
        self,
        n_inputs: int,
        n_neurons: int,
        *,
        weight_regularizer_l1: float = 0,
        weight_regularizer_l2: float = 0,
        bias_regularizer_l1: float = 0,
        bias_regularizer_l2: float = 0,
        weight_scale: float = 0.01,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        n_inputs = _check_size("Dense", "n_inputs", n_inputs)
        n_neurons = _check_size("Dense", "n_neurons", n_neurons)
        layer = f"Dense({n_inputs}, {n_neurons})"
        strengths = (
            weight_regularizer_l1,
            weight_regularizer_l2,
            bias_regularizer_l1,
            bias_regularizer_l2,
        )
        for name, value in zip(_REGULARIZERS, strengths, strict=True):
            setattr(self, name, _check_strength(layer, name, value))
        dtype = get_default_dtype() if dtype is None else check_dtype(dtype, layer)
        if dtype.kind != "f":
            raise TypeError(f"{layer}: dtype must be a float dtype, got {dtype}")
        weight_scale = _check_strength(layer, "weight_scale", weight_scale)
        draws = _standard_normal(_resolve_rng(rng), (n_inputs, n_neurons)).astype(dtype)
        self.weights = Tensor(weight_scale * draws, requires_grad=True)
        self.biases = Tensor(np.zeros((1, n_neurons)), requires_grad=True, dtype=dtype)

    def forward(self, inputs: Any) -> Tensor:
        """inputs (batch, n_inputs) -> (batch, n_neurons)."""
        inputs = _as_tensor(inputs)
        shape = inputs._data.shape
        n_inputs = len(self.weights._data)
        if shape[-1:] != (n_inputs,):
            raise ValueError(
                f"{self!r}: expected inputs with {n_inputs} features (last axis), got "
                f"{shape[-1] if shape else 'a scalar'} (inputs of shape {shape}); pass an "
                f"array of shape (n_samples, {n_inputs})"
            )
        if len(shape) == 1:  # one sample: a row, as inputs @ weights + biases would give
            inputs = inputs.reshape(1, -1)
        return ops.Affine.apply(inputs, self.weights, self.biases)

    def extra_repr(self) -> str:
        n_inputs, n_neurons = self.weights.shape
        strengths = [
            f"{name}={getattr(self, name):g}" for name in _REGULARIZERS if getattr(self, name)
        ]
        return ", ".join([str(n_inputs), str(n_neurons), *strengths])


class Dropout(Module):
    """Inverted dropout: in training zero a `rate` fraction of units, scale the rest by 1/(1-rate).

    The mask is `binomial(1, 1 - rate, shape)` from the library stream, the book's draw, or
    from `rng` (an int, a RandomState or a Generator: a stream of the layer's own); in eval()
    mode the layer is the identity.
    """

    def __init__(self, rate: float, *, rng: Any = None) -> None:
        check_number(rate, "Dropout", "rate")
        if not 0 <= rate < 1:
            raise ValueError(
                f"Dropout: rate (the fraction of units dropped) must be in [0, 1), got {rate}"
            )
        self.rate = float(rate)
        self.rng = None if rng is None else _resolve_rng(rng)

    def forward(self, inputs: Any) -> Tensor:
        """Same shape out as in."""
        return _as_tensor(inputs).dropout(self.rate, training=self.training, rng=self.rng)

    def extra_repr(self) -> str:
        return f"rate={self.rate:g}"
