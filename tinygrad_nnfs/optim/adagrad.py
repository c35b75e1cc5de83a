"""Adagrad: per-parameter rates scaled by the sum of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tinygrad_nnfs.optim.optimizer import Optimizer
from tinygrad_nnfs.tensor import Tensor

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    """cache += g**2; w += -lr * g / (sqrt(cache) + epsilon) (the book's ch. 10)."""

    epsilon: float
    _STATE = ("cache",)

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        learning_rate: float = 1.0,
        decay: float = 0.0,
        epsilon: float = 1e-7,
    ) -> None:
        super().__init__(params, learning_rate=learning_rate, decay=decay, epsilon=epsilon)

    def _increment(
        self, learning_rate: float, grad: np.ndarray, state: dict[str, np.ndarray]
    ) -> np.ndarray:
        cache = state["cache"]
        cache += grad**2
        return -learning_rate * grad / (np.sqrt(cache) + self.epsilon)
