"""Activation modules: thin wrappers that call the Tensor ops.

As the book's output activations, each has `predictions(outputs)`: what the model predicts
from the layer's outputs (an ndarray; outputs may be a Tensor or an array).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_nnfs.nn.module import Module
from tinygrad_nnfs.tensor import Tensor, _as_array, _as_tensor

__all__ = ["Identity", "ReLU", "Sigmoid", "Softmax", "Tanh"]


class _Activation(Module):
    """An activation whose predictions are its outputs themselves (the book's ReLU, Linear)."""

    def predictions(self, outputs: Any) -> np.ndarray:
        """The outputs as they are."""
        return _as_array(outputs)


class Identity(_Activation):
    """The identity, the book's Activation_Linear: a regression model's output layer."""

    def forward(self, inputs: Any) -> Tensor:
        return _as_tensor(inputs)


class ReLU(_Activation):
    """max(0, x); derivative 0 at 0, as in the book."""

    def forward(self, inputs: Any) -> Tensor:
        return _as_tensor(inputs).relu()


class Sigmoid(Module):
    """1 / (1 + exp(-x)); predictions: 1 where the output is > 0.5, else 0."""

    def forward(self, inputs: Any) -> Tensor:
        return _as_tensor(inputs).sigmoid()

    def predictions(self, outputs: Any) -> np.ndarray:
        """(outputs > 0.5) * 1, the book's class of each output."""
        return (_as_array(outputs) > 0.5) * 1


class Tanh(_Activation):
    """Hyperbolic tangent."""

    def forward(self, inputs: Any) -> Tensor:
        return _as_tensor(inputs).tanh()


class Softmax(Module):
    """Probabilities along `axis` (the book's max-shifted softmax); predictions: the argmax."""

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, inputs: Any) -> Tensor:
        return _as_tensor(inputs).softmax(axis=self.axis)

    def predictions(self, outputs: Any) -> np.ndarray:
        """The class of highest probability in each row."""
        return np.argmax(_as_array(outputs), axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"
