"""The training step's fast paths keep NumPy's semantics where their shortcuts could not."""

from __future__ import annotations

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from tinygrad_nnfs import Tensor, nn, nnfs_init, ops
from tinygrad_nnfs.optim import SGD, Adam


@pytest.mark.parametrize("classes", [3, 10])
def test_softmax_cross_entropy_gradient_of_fortran_ordered_logits(classes):
    # The gradient is written at the labels' flat positions: it must be a C-ordered array
    # whatever the logits' layout (a transposed view here).
    stored = np.random.RandomState(0).standard_normal((classes, 6)).astype(np.float32)
    labels = np.array([0, 1, 2, 1, 0, 2])
    transposed = Tensor(stored, requires_grad=True)
    nn.SoftmaxCrossEntropy()(transposed.T, labels).backward()
    contiguous = Tensor(stored.T.copy(), requires_grad=True)
    nn.SoftmaxCrossEntropy()(contiguous, labels).backward()
    # (a layout of its own: NumPy may add a strided row in another order, so not bit for bit)
    np.testing.assert_allclose(transposed.grad.data.T, contiguous.grad.data, rtol=1e-6)
    np.testing.assert_allclose(transposed.grad.data.sum(axis=0), 0, atol=1e-7)


def test_softmax_cross_entropy_keeps_the_logits_dtype_under_a_wider_gradient():
    # After nnfs_init() a float64 gradient may flow into the float32 loss: its gradient is
    # scaled in place, in the logits' dtype, as the book's float32 arrays would be.
    nnfs_init()
    logits = np.random.RandomState(1).standard_normal((4, 3)).astype(np.float32)
    labels = np.array([0, 2, 1, 1])
    z = Tensor(logits, requires_grad=True)
    (ops.SoftmaxCrossEntropy.apply(z, labels) * Tensor(np.array(0.3))).backward()
    root = Tensor(logits, requires_grad=True)
    ops.SoftmaxCrossEntropy.apply(root, labels).backward()
    expected = root.grad.data.copy()
    expected *= np.array(0.3)
    assert z.grad.dtype == np.float32
    assert_array_equal(z.grad.data, expected)


def test_a_label_error_through_the_loss_carries_no_other_exception():
    with pytest.raises(ValueError, match="label 5 is out of range for 3 classes") as caught:
        nn.SoftmaxCrossEntropy()(np.zeros((2, 3)), [0, 5])
    assert caught.value.__context__ is None and caught.value.__cause__ is None


def test_python_float_operands_keep_numpys_warnings_and_wider_gradients():
    # A float the dtype cannot hold stays a float, so NumPy warns at every use, as before.
    x = Tensor(np.ones(2, np.float32))
    for _ in range(2):
        with pytest.warns(RuntimeWarning, match="overflow"):
            x * 1e39
    # After nnfs_init() the float meets float64 gradients unrounded, as in the book's NumPy.
    nnfs_init()
    x = Tensor(np.array([1.0, 2.0, 3.0], np.float32), requires_grad=True)
    weights = np.array([1.0, 0.5, 2.0])
    ((x * 0.1) * Tensor(weights)).sum().backward()
    assert x.grad.dtype == np.float64
    assert x.grad.data.tobytes() == (weights * 0.1).tobytes()


def test_optimizer_leaves_in_place_arrays_that_others_see(tmp_path):
    base = np.zeros((2, 3))
    view = Tensor(base[0], requires_grad=True)  # a view of the user's array
    stored = np.lib.format.open_memmap(tmp_path / "w.npy", mode="w+", shape=(3,))
    mapped = Tensor(stored, requires_grad=True)  # a file on disk
    optimizer = SGD([view, mapped], learning_rate=1.0)
    view.grad = mapped.grad = np.ones(3)
    optimizer.step()
    assert_array_equal(base[0], [-1.0, -1.0, -1.0])
    stored.flush()
    assert_array_equal(np.load(tmp_path / "w.npy"), [-1.0, -1.0, -1.0])
    frozen = np.ones(3)
    frozen.flags.writeable = False
    locked = Tensor(frozen, requires_grad=True)
    optimizer = SGD([locked], learning_rate=1.0)
    locked.grad = np.ones(3)
    with pytest.raises(ValueError, match="read-only"):
        optimizer.step()
    assert_array_equal(locked.data, np.ones(3))


@pytest.mark.parametrize("beta_1", [0.9, 0.0, -0.0])
def test_adam_meets_a_narrower_gradient_with_the_books_constants(beta_1):
    # A float32 gradient on a float64 parameter (next to one without a gradient: the step
    # goes parameter by parameter): each constant takes the dtype of the array it meets.
    params = [Tensor(np.ones(3), requires_grad=True), Tensor(np.ones(2), requires_grad=True)]
    optimizer = Adam(params, learning_rate=0.01, beta_1=beta_1)
    grad = np.array([-0.0, 0.25, 3.0], np.float32)
    params[0].grad = grad
    optimizer.step()
    state = optimizer.state_dict()
    momentums = beta_1 * np.zeros(3) + (1 - beta_1) * grad
    cache = 0.999 * np.zeros(3) + (1 - 0.999) * grad**2
    assert state["momentums.0"].tobytes() == momentums.tobytes()
    assert state["cache.0"].tobytes() == cache.tobytes()
