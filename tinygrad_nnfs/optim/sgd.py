"""SGD: stochastic gradient descent with the book's optional momentum."""

from __future__ import annotations

from collections.abc import Iterable

from tinygrad_nnfs.optim.optimizer import Optimizer
from tinygrad_nnfs.tensor import Tensor

__all__ = ["SGD"]


class SGD(Optimizer):
    """w += -lr * g, or with momentum m: u = m * u - lr * g; w += u (the book's ch. 10)."""

    momentum: float

    def __init__(
        self,
        params: Iterable[Tensor],
        learning_rate: float = 1.0,
        decay: float = 0.0,
        momentum: float = 0.0,
    ) -> None:
        super().__init__(params, learning_rate=learning_rate, decay=decay, momentum=momentum)

    def _state_names(self, hyperparameters: dict[str, float]) -> tuple[str, ...]:
        # As in the book, plain SGD keeps no momentum arrays.
        return ("momentums",) if hyperparameters["momentum"] else ()

    def _update(self, learning_rate: float) -> None:
        if not self.momentum:
            for param in self.params:
                grad = param._grad
                if grad is not None:
                    param.data += -learning_rate * grad
            return
        momentum = self.momentum
        for param, updates in zip(self.params, self._state["momentums"], strict=True):
            grad = param._grad
            if grad is not None:
                # In place, float for float the book's `momentum * u - lr * g`.
                updates *= momentum
                updates -= learning_rate * grad
                param.data += updates
