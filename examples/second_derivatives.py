"""Second derivatives: Newton's method, a gradient penalty on the book's network, gradgradcheck.

`python examples/second_derivatives.py` minimises Rosenbrock's function by Newton steps
(`functional.hessian`), trains the book's spiral network with a penalty on the gradient of
its loss with respect to its inputs (`grad(..., create_graph=True)`), measures the loss's
curvature along its gradient (`functional.hvp`), and gradgradchecks the README's Cube op.
"""

from __future__ import annotations

import numpy as np

from tinygrad_nnfs import Function, Tensor, datasets, grad, gradgradcheck, manual_seed, nn, optim
from tinygrad_nnfs.functional import hessian, hvp


def rosenbrock(p: Tensor) -> Tensor:
    """(1 - x)^2 + 10 (y - x^2)^2: a curved valley with its minimum at (1, 1)."""
    x, y = p[0], p[1]
    return (1 - x) ** 2 + 10 * (y - x**2) ** 2


def newton(start: list[float], steps: int) -> None:
    """p <- p - H(p)^-1 grad f(p), printing f at each step."""
    p = np.array(start)
    for step in range(steps + 1):
        point = Tensor(p, requires_grad=True)
        value = rosenbrock(point)
        print(f"newton step {step}: f = {value.item():.3e} at {np.round(p, 6)}")
        (gradient,) = grad(value, point)
        p = p - np.linalg.solve(hessian(rosenbrock, p).numpy(), gradient.numpy())


def train_with_gradient_penalty(epochs: int, strength: float = 0.01) -> None:
    """The book's 2-64-3 spiral network, loss + strength * |d loss / d X|^2 (double backprop)."""
    manual_seed(0)
    X, y = datasets.spiral_data(100, 3)
    model = nn.Sequential(nn.Dense(2, 64), nn.ReLU(), nn.Dense(64, 3))
    loss_fn = nn.SoftmaxCrossEntropy()
    optimizer = optim.Adam(model.parameters(), learning_rate=0.05, decay=5e-7)
    inputs = Tensor(X, requires_grad=True)
    for epoch in range(epochs):
        loss = loss_fn(model(inputs), y)
        (input_grad,) = grad(loss, inputs, create_graph=True)
        penalty = strength * (input_grad * input_grad).sum() * len(X)
        optimizer.zero_grad()
        (loss + penalty).backward()  # through the penalty: the gradient of a gradient
        optimizer.step()
        if epoch % max(1, epochs // 4) == 0 or epoch == epochs - 1:
            print(f"epoch {epoch}: loss {loss.item():.3f}, penalty {penalty.item():.5f}")
    weights = model[2].weights

    def loss_of(w: Tensor) -> Tensor:
        hidden = model[1](model[0](Tensor(X)))
        return loss_fn(hidden @ w + model[2].biases.detach(), y)

    (direction,) = grad(loss_of(weights), weights)
    curvature = hvp(loss_of, weights.numpy(), direction.numpy())
    print(f"curvature along the gradient: {np.sum(direction.numpy() * curvature.numpy()):.4f}")


class Cube(Function):
    """x ** 3, the README's custom op: its backward is arithmetic, so it differentiates again."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        return x**3

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        return 3 * x**2 * grad


def main(epochs: int = 201, newton_steps: int = 7) -> None:
    """Run the three demonstrations."""
    newton([-1.2, 1.0], newton_steps)
    train_with_gradient_penalty(epochs)
    print("gradgradcheck(Cube):", gradgradcheck(Cube.apply, np.random.RandomState(0).randn(3, 4)))


if __name__ == "__main__":
    main()
