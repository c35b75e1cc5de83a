"""Function: users' custom ops are first-class citizens of the graph."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from tinygrad_nnfs import Function, Tensor, grad, gradcheck, gradgradcheck, no_grad


class Cube(Function):
    """x ** 3, the API.md example."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        return x**3

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        return 3 * x**2 * grad


class OuterMul(Function):
    """x * y whose backward returns gradients of the broadcast output shape."""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.save_for_backward(x, y)
        return x * y

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.saved
        full = np.broadcast_shapes(x.shape, y.shape)
        return np.broadcast_to(grad * y, full), np.broadcast_to(grad * x, full)


class Scale(Function):
    """x * factor with a constant factor; backward returns None for the constant."""

    def forward(self, x: np.ndarray, factor: float) -> np.ndarray:
        self.save_for_backward(factor)
        return x * factor

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, None]:
        (factor,) = self.saved
        return grad * factor, None


class TooFewGrads(Function):
    """x + y whose backward forgets y's gradient."""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x + y

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad


class BadShapeGrad(Function):
    """Identity whose backward returns a gradient that cannot reduce to x's shape."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return np.ones((*grad.shape, 5))


def test_function_custom_cube_forward_and_backward():
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    y = Cube.apply(x)
    assert_array_equal(y.data, [1.0, -8.0, 27.0])
    assert isinstance(y._ctx, Cube)
    assert y._ctx.parents == (x,)
    y.sum().backward()
    assert_array_equal(x.grad.data, [3.0, 12.0, 27.0])


def test_function_custom_cube_gradchecks_and_composes():
    x = np.array([[0.5, -1.5], [1.2, 0.3]])
    assert gradcheck(lambda a: Cube.apply(a), x)
    assert gradcheck(lambda a: (Cube.apply(a.tanh()) * a).sum(), x)


def test_function_custom_cube_differentiates_twice():
    # its backward is arithmetic on the saved input: under create_graph it runs on the Tensors
    x = np.array([[0.5, -1.5], [1.2, 0.3]])
    assert gradgradcheck(lambda a: Cube.apply(a), x)
    assert gradgradcheck(lambda a: (Cube.apply(a.tanh()) * a).sum(), x)
    assert gradgradcheck(lambda a, b: Scale.apply(a * b, -2.0).tanh(), x, x.T.copy())


def test_function_whose_backward_calls_numpy_functions_names_itself_under_create_graph():
    # np.broadcast_to on a Tensor: the first derivative is fine, the second cannot be taken
    x, y = Tensor([[0.5], [-1.0]], requires_grad=True), Tensor([0.2, 1.1], requires_grad=True)
    out = OuterMul.apply(x, y).sum()
    assert grad(out, x)[0].shape == (2, 1)
    with pytest.raises(RuntimeError, match=r"^OuterMul\.backward cannot be differentiated again"):
        grad(out, [x, y], create_graph=True)


def test_function_needs_input_grad_aligned_with_inputs():
    x = Tensor([1.0], requires_grad=True)
    c = Tensor([2.0])
    out = OuterMul.apply(c, x)
    assert out._ctx.needs_input_grad == (False, True)
    assert out._ctx.parents == (c, x)


def test_function_needs_input_grad_is_fixed_when_forward_runs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0], requires_grad=True)
    out = Scale.apply(x, 3.0) * w
    x.requires_grad = False  # frozen after forward: as in PyTorch, x gets no gradient
    assert out._ctx.parents[0]._ctx.needs_input_grad == (True, False)
    out.sum().backward()
    assert x.grad is None
    assert_array_equal(w.grad.data, [3.0, 6.0])


def test_backward_stops_at_an_intermediate_that_no_longer_requires_grad():
    x = Tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 2
    out = (hidden * hidden).sum()
    hidden.requires_grad = False
    out.backward()
    assert hidden.grad is None and x.grad is None


def test_function_without_grad_inputs_records_nothing():
    out = Cube.apply(Tensor([2.0]))
    assert not out.requires_grad
    assert out._ctx is None
    with no_grad():
        out = Cube.apply(Tensor([2.0], requires_grad=True))
    assert out._ctx is None


def test_function_broadcast_gradient_is_unbroadcast_by_engine():
    x = np.array([[0.5], [-1.0], [1.5]])
    y = np.array([0.2, -0.7, 1.1, 2.0])
    assert gradcheck(lambda a, b: OuterMul.apply(a, b), x, y)
    tx, ty = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
    OuterMul.apply(tx, ty).sum().backward()
    assert tx.grad.shape == (3, 1)
    assert ty.grad.shape == (4,)
    np.testing.assert_allclose(ty.grad.data, np.full(4, x.sum()), rtol=1e-12)


def test_function_none_gradient_for_constant_input():
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = Scale.apply(x, 3.0)
    assert out._ctx.parents[0] is x and out._ctx.parents[1] == 3.0  # a constant, kept as given
    assert out._ctx.needs_input_grad == (True, False)
    out.sum().backward()
    assert_array_equal(x.grad.data, [3.0, 3.0])
    assert gradcheck(lambda a: Scale.apply(a, -2.0), np.array([0.5, 1.5]))


def test_function_wrong_number_of_gradients_names_op():
    out = TooFewGrads.apply(Tensor([1.0], requires_grad=True), Tensor([2.0], requires_grad=True))
    with pytest.raises(RuntimeError, match=r"TooFewGrads\.backward returned 1 gradients for 2"):
        out.sum().backward()


def test_function_non_broadcastable_gradient_names_op_and_shapes():
    out = BadShapeGrad.apply(Tensor([1.0, 2.0], requires_grad=True))
    with pytest.raises(RuntimeError, match=r"BadShapeGrad.*\(2, 5\).*\(2,\)"):
        out.sum().backward()


def test_function_forward_value_error_names_op_and_shapes():
    with pytest.raises(ValueError, match=r"OuterMul.*\(2,\), \(3,\)"):
        OuterMul.apply(Tensor([1.0, 2.0]), Tensor([1.0, 2.0, 3.0]))


def test_function_base_requires_forward():
    with pytest.raises(NotImplementedError, match="Function must define forward"):
        Function.apply(Tensor([1.0]))


class StopGradient(Function):
    """2x forward, no gradient back: legal for any input."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x * 2

    def backward(self, grad: np.ndarray) -> None:
        return None


def test_function_returning_none_for_a_computed_input_cuts_that_path_only():
    x = Tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 3  # reached by backward, but StopGradient sends it nothing
    (StopGradient.apply(hidden) + x).sum().backward()
    assert_array_equal(x.grad.data, [1.0, 1.0])
    assert hidden.grad is None
