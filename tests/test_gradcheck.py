"""gradcheck: passes correct ops, catches wrong ones with a useful message."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nnfs import Function, GradcheckError, Tensor, gradcheck, gradgradcheck, ops


class WrongMul(Function):
    """x * y whose gradient for y is off by one at y's last element."""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.save_for_backward(x, y)
        return x * y

    def backward(self, grad: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        x, y = self.saved
        grad_y = grad * x
        grad_y[-1, -1] += 1.0
        return grad * y, grad_y


class TransposedGrad(Function):
    """Identity on a square matrix whose backward transposes: wrong off the diagonal only."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return x.copy()

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad.T


def test_gradcheck_returns_true_on_correct_ops():
    x = np.array([[0.5, -1.2], [1.5, 0.3]])
    y = np.array([0.7, -0.4])
    assert gradcheck(lambda a, b: (a * b).tanh() @ b, x, y) is True
    assert gradcheck(lambda a: a.sigmoid().sum(), x) is True


def test_gradgradcheck_returns_true_on_correct_ops():
    x = np.array([[0.5, -1.2], [1.5, 0.3]])
    y = np.array([0.7, -0.4])
    assert gradgradcheck(lambda a, b: (a * b).tanh() @ b, x, y) is True
    assert gradgradcheck(lambda a: a.sigmoid().sum(), x) is True


def test_gradgradcheck_of_a_linear_function_is_true():
    # its first derivative is constant: it requires no grad, and its derivative is 0
    assert gradgradcheck(lambda a, b: a * 3 - b, np.array([0.5, 1.5]), np.array([2.0])) is True


def test_gradgradcheck_accepts_tensors_and_leaves_them_untouched():
    x = Tensor([0.5, 1.5], requires_grad=True)
    assert gradgradcheck(lambda a: (a * a).exp(), x)
    assert x.grad is None
    np.testing.assert_array_equal(x.data, np.array([0.5, 1.5], dtype=np.float32))


def test_gradcheck_accepts_tensors_and_leaves_them_untouched():
    x = Tensor([0.5, 1.5], requires_grad=True)
    assert gradcheck(lambda a: a.exp(), x)
    assert x.grad is None
    np.testing.assert_array_equal(x.data, np.array([0.5, 1.5], dtype=np.float32))


def test_gradcheck_error_names_input_element_and_values():
    x = np.array([[0.5, 1.0], [1.5, 2.0]])
    y = np.array([[0.3, 0.6], [0.9, 1.2]])
    with pytest.raises(
        GradcheckError,
        match=r"gradient of Sum w\.r\.t\. input 1 \(shape \(2, 2\)\) at element \(1, 1\): "
        r"analytic 3\.0, numeric 2\.0000000",
    ):
        gradcheck(lambda a, b: WrongMul.apply(a, b).sum(), x, y)


def test_gradcheck_error_is_assertion_error():
    assert issubclass(GradcheckError, AssertionError)
    with pytest.raises(AssertionError):
        gradcheck(lambda a: a * a.detach(), np.array([1.5]))


def test_gradcheck_output_not_requiring_grad_is_gradcheck_error():
    with pytest.raises(GradcheckError, match="does not require grad"):
        gradcheck(lambda a: a.detach() * 2, np.array([1.5]))


def test_gradcheck_fn_must_return_tensor():
    with pytest.raises(TypeError, match="must return a Tensor, got ndarray"):
        gradcheck(lambda a: a.data, np.array([1.5]))


def test_gradcheck_integer_labels_pass_through_as_constants():
    seen = []

    def loss(logits: Tensor, labels: Tensor) -> Tensor:
        seen.append((labels.dtype, labels.requires_grad))
        return ops.SoftmaxCrossEntropy.apply(logits, labels)

    logits = np.array([[0.5, -1.0, 1.5], [0.2, 0.1, -0.3]])
    assert gradcheck(loss, logits, np.array([2, 0]))
    assert set(seen) == {(np.dtype(np.int64), False)}


def test_gradcheck_non_scalar_output_uses_random_cotangent():
    x = np.array([[0.5, 1.0], [1.5, 2.0]])
    # With a cotangent of ones (a plain .sum()) the transposed gradient is invisible...
    assert gradcheck(lambda a: TransposedGrad.apply(a).sum(), x)
    # ...the random cotangent catches it on an off-diagonal element.
    with pytest.raises(GradcheckError, match=r"TransposedGrad .*element \((0, 1|1, 0)\)"):
        gradcheck(lambda a: TransposedGrad.apply(a), x)


def test_gradcheck_checks_float32_inputs_in_float64():
    dtypes = []

    def fn(a: Tensor) -> Tensor:
        dtypes.append(a.dtype)
        return (a * a * a).exp()

    x = np.array([0.3, -0.7, 1.1], dtype=np.float32)
    assert gradcheck(fn, x, atol=1e-7, rtol=1e-6)
    assert set(dtypes) == {np.dtype(np.float64)}
