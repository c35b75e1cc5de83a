"""SGD: stochastic gradient descent with the book's optional momentum."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tinygrad_nnfs.optim.optimizer import Optimizer
from tinygrad_nnfs.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    """w += -lr * g, or with momentum m: u = m * u - lr * g; w += u (the book's ch. 10)."""

    momentum: float

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        learning_rate: float = 1.0,
        decay: float = 0.0,
        momentum: float = 0.0,
    ) -> None:
        super().__init__(params, learning_rate=learning_rate, decay=decay, momentum=momentum)

    def _state_names(self, hyperparameters: dict[str, float]) -> tuple[str, ...]:
        # As in the book, plain SGD keeps no momentum arrays.
        return ("momentums",) if hyperparameters["momentum"] else ()

    def _increment(
        self, learning_rate: float, grad: np.ndarray, state: dict[str, np.ndarray]
    ) -> np.ndarray:
        if not self.momentum:
            return -learning_rate * grad
        updates = state["momentums"]
        # In place, float for float the book's `momentum * u - lr * g`.
        updates *= self.momentum
        updates -= learning_rate * grad
        return updates
