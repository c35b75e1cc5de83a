"""RMSprop: per-parameter rates scaled by a moving average of squared gradients."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tinygrad_nnfs.optim.optimizer import Optimizer
from tinygrad_nnfs.tensor import Tensor

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    """cache = rho * cache + (1 - rho) * g**2; w += -lr * g / (sqrt(cache) + epsilon)."""

    epsilon: float
    rho: float
    _STATE = ("cache",)

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        learning_rate: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        rho: float = 0.9,
    ) -> None:
        super().__init__(params, learning_rate=learning_rate, decay=decay, epsilon=epsilon, rho=rho)

    def _increment(
        self, learning_rate: float, grad: np.ndarray, state: dict[str, np.ndarray]
    ) -> np.ndarray:
        cache = state["cache"]
        # In place, float for float the book's `rho * cache + (1 - rho) * g**2`.
        cache *= self.rho
        cache += (1 - self.rho) * grad**2
        return -learning_rate * grad / (np.sqrt(cache) + self.epsilon)
