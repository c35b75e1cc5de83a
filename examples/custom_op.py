"""Your own differentiable op: SiLU (x * sigmoid(x)) as a Function, in a model, proven correct.

`python examples/custom_op.py` prints its values, gradients and gradcheck, then trains a tiny
spiral model with it; `python -m pytest examples/custom_op.py` property-tests its gradient.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given

from tinygrad_nnfs import Function, Tensor, datasets, gradcheck, manual_seed, nn, optim
from tinygrad_nnfs.testing import arrays, assert_grad_matches_numeric
from tinygrad_nnfs.train import fit


class SiLU(Function):
    """x * sigmoid(x) elementwise (Swish with beta = 1): a smooth ReLU."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        sigmoid = 1 / (1 + np.exp(-x))
        self.save_for_backward(x, sigmoid)
        return x * sigmoid

    def backward(self, grad: np.ndarray) -> np.ndarray:
        x, sigmoid = self.saved
        return grad * sigmoid * (1 + x * (1 - sigmoid))


class SiLUActivation(nn.Module):
    """SiLU as a layer, to sit in nn.Sequential like nn.ReLU."""

    def forward(self, inputs: Tensor) -> Tensor:
        return SiLU.apply(inputs)


@given(x=arrays())
def test_silu_gradient_matches_numeric(x: np.ndarray) -> None:
    assert_grad_matches_numeric(SiLU.apply, x)


def main(epochs: int = 1001) -> None:
    """Print SiLU's values and gradients, gradcheck it, train a 2-64-3 spiral model with it."""
    x = Tensor([-2.0, -0.5, 0.0, 0.5, 2.0], requires_grad=True)
    out = SiLU.apply(x)
    out.sum().backward()
    print("x         ", x.numpy())
    print("silu(x)   ", out.numpy().round(4))
    print("d silu/dx ", x.grad.numpy().round(4))
    print("gradcheck:", gradcheck(SiLU.apply, np.random.RandomState(0).randn(3, 4)))
    manual_seed(0)
    X, y = datasets.spiral_data(100, 3)
    model = nn.Sequential(nn.Dense(2, 64), SiLUActivation(), nn.Dense(64, 3))
    optimizer = optim.Adam(model.parameters(), learning_rate=0.05, decay=5e-7)
    fit(model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs=epochs, print_every=500)


if __name__ == "__main__":
    main()
