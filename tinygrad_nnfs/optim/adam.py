"""Adam: momentum plus RMSprop's cache, both bias-corrected (the book's ch. 10)."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from tinygrad_nnfs._cache import in_dtype
from tinygrad_nnfs.optim.optimizer import Optimizer
from tinygrad_nnfs.tensor import Tensor

__all__ = ["Adam"]


class Adam(Optimizer):
    """m, v moving averages of g and g**2; w += -lr * m_hat / (sqrt(v_hat) + epsilon)."""

    epsilon: float
    beta_1: float
    beta_2: float
    _STATE = ("momentums", "cache")

    def __init__(
        self,
        params: Iterable[Tensor] | None = None,
        learning_rate: float = 0.001,
        decay: float = 0.0,
        epsilon: float = 1e-7,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
    ) -> None:
        super().__init__(
            params,
            learning_rate=learning_rate,
            decay=decay,
            epsilon=epsilon,
            beta_1=beta_1,
            beta_2=beta_2,
        )

    def _increment(
        self, learning_rate: float, grad: np.ndarray, state: dict[str, np.ndarray]
    ) -> np.ndarray:
        beta_1, beta_2 = self.beta_1, self.beta_2
        momentums, cache = state["momentums"], state["cache"]
        # Each constant in the dtype of the array it meets, as NumPy casts the book's floats
        # (the state is wider than the gradient after nnfs_init() widened it).
        b1, b2 = in_dtype(momentums.dtype, beta_1, beta_2)
        one_minus_b1, one_minus_b2, epsilon = in_dtype(
            grad.dtype, 1 - beta_1, 1 - beta_2, self.epsilon
        )
        # The book's expressions float for float, computed in place in two scratch arrays
        # (fewer fresh arrays, fewer cache misses).
        scratch, denominator = np.empty_like(grad), np.empty_like(grad)
        np.multiply(momentums, b1, momentums)  # m = b1 * m + (1 - b1) * g
        momentums += np.multiply(grad, one_minus_b1, scratch)
        np.multiply(cache, b2, cache)  # v = b2 * v + (1 - b2) * g**2
        cache += np.multiply(np.square(grad, scratch), one_minus_b2, scratch)
        # NOTE: the bias correction uses iterations + 1, as in the book.
        update = np.divide(momentums, 1 - beta_1 ** (self.iterations + 1), scratch)  # m_hat
        np.divide(cache, 1 - beta_2 ** (self.iterations + 1), denominator)  # v_hat
        np.sqrt(denominator, denominator)
        denominator += epsilon
        update *= -learning_rate  # m_hat * -lr: the same product as the book's -lr * m_hat
        update /= denominator
        return update
