"""Activation modules: thin wrappers that call the Tensor ops."""

from __future__ import annotations

from typing import Any

from tinygrad_nnfs.nn.module import Module
from tinygrad_nnfs.tensor import Tensor, _as_tensor

__all__ = ["ReLU", "Sigmoid", "Softmax", "Tanh"]


class ReLU(Module):
    """max(0, x); derivative 0 at 0, as in the book."""

    def forward(self, inputs: Any) -> Tensor:
        return _as_tensor(inputs).relu()


class Sigmoid(Module):
    """1 / (1 + exp(-x))."""

    def forward(self, inputs: Any) -> Tensor:
        return _as_tensor(inputs).sigmoid()


class Tanh(Module):
    """Hyperbolic tangent."""

    def forward(self, inputs: Any) -> Tensor:
        return _as_tensor(inputs).tanh()


class Softmax(Module):
    """Probabilities along `axis` (the book's max-shifted softmax)."""

    def __init__(self, axis: int = -1) -> None:
        self.axis = axis

    def forward(self, inputs: Any) -> Tensor:
        return _as_tensor(inputs).softmax(axis=self.axis)

    def extra_repr(self) -> str:
        return f"axis={self.axis}"
