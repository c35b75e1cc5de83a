"""Version counters: backward refuses a graph whose inputs were changed in place since."""

from __future__ import annotations

import numpy as np
import pytest

from tinygrad_nnfs import Tensor, nn, optim


def _weights():
    return Tensor(np.ones((2, 2)), requires_grad=True, name="w")


def test_in_place_writes_bump_the_version():
    w = _weights()
    assert w._version == 0
    w.data = np.zeros((2, 2))
    w.data += 1
    assert w._version == 2
    optimizer = optim.SGD([w])
    w.grad = np.ones((2, 2))
    optimizer.step()
    assert w._version == 3
    layer = nn.Dense(2, 2)
    layer.load_state_dict(layer.state_dict())
    assert layer.weights._version == layer.biases._version == 1
    assert (w * 2)._version == 0  # an op's result starts at 0


def test_an_optimizer_step_between_forward_and_backward_is_an_error():
    w = _weights()
    loss = (w * w).sum()
    w.grad = np.ones((2, 2))
    optim.SGD([w]).step()
    with pytest.raises(
        RuntimeError,
        match=r"backward: the tensor 'w' \(input 0 of Mul\) was changed in place after the "
        r"forward pass used it \(it is now at version 1\).*call backward\(\) before "
        r"optimizer.step\(\)",
    ):
        loss.backward()


@pytest.mark.parametrize(
    "change",
    [
        lambda layer: layer.load_state_dict(layer.state_dict()),
        lambda layer: setattr(layer.weights, "data", layer.weights.data * 2),
    ],
    ids=["load_state_dict", "assigning .data"],
)
def test_a_load_or_data_assignment_between_forward_and_backward_is_an_error(change):
    layer = nn.Dense(2, 3)
    loss = layer(np.ones((4, 2), np.float32)).sum()
    change(layer)
    with pytest.raises(RuntimeError, match=r"Affine\) was changed in place"):
        loss.backward()


def test_an_input_that_needs_no_grad_is_watched_too():
    x = Tensor(np.ones((2, 2)))  # w's gradient is computed from x
    w = _weights()
    loss = (x * w).sum()
    x.data = np.full((2, 2), 3.0)
    with pytest.raises(RuntimeError, match=r"tensor of shape \(2, 2\) \(input 0 of Mul\)"):
        loss.backward()


def test_changes_before_the_forward_pass_or_after_backward_are_fine():
    w = _weights()
    w.data = np.full((2, 2), 2.0)  # before: the graph sees the new values
    loss = (w * w).sum()
    loss.backward()
    np.testing.assert_array_equal(w.grad.data, np.full((2, 2), 4.0))
    optim.SGD([w], learning_rate=0.5).step()  # after backward: the book's loop
    loss = (w * w).sum()
    loss.backward()
