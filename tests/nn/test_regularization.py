"""regularization_loss against the book's Loss.regularization_loss and its dL1/dL2 gradients."""

from __future__ import annotations

import copy
import gc
import pickle

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from tinygrad_nnfs.functional import hessian
from tinygrad_nnfs.nn import Dense, Module, ReLU, Sequential, regularization_loss
from tinygrad_nnfs.tensor import get_default_dtype, set_default_dtype
from tinygrad_nnfs.testing import arrays, assert_grad_matches_numeric

STRENGTHS = {
    "weight_regularizer_l1": 3e-3,
    "weight_regularizer_l2": 5e-4,
    "bias_regularizer_l1": 2e-3,
    "bias_regularizer_l2": 7e-4,
}


def book_regularization_loss(layer):
    """The book's Loss.regularization_loss(layer), as printed (ch. 14)."""
    regularization_loss = 0
    if layer.weight_regularizer_l1 > 0:
        regularization_loss += layer.weight_regularizer_l1 * np.sum(np.abs(layer.weights.data))
    if layer.weight_regularizer_l2 > 0:
        regularization_loss += layer.weight_regularizer_l2 * np.sum(
            layer.weights.data * layer.weights.data
        )
    if layer.bias_regularizer_l1 > 0:
        regularization_loss += layer.bias_regularizer_l1 * np.sum(np.abs(layer.biases.data))
    if layer.bias_regularizer_l2 > 0:
        regularization_loss += layer.bias_regularizer_l2 * np.sum(
            layer.biases.data * layer.biases.data
        )
    return regularization_loss


def book_gradient(param, l1, l2):
    """The book's Layer_Dense.backward penalty terms: dL1 is +1 at exactly 0."""
    dL1 = np.ones_like(param)
    dL1[param < 0] = -1
    return l1 * dL1 + 2 * l2 * param


def penalised_layer(seed, **strengths):
    layer = Dense(4, 3, rng=seed, dtype=np.float64, **strengths)
    layer.biases.data[...] = np.random.RandomState(seed + 100).randn(1, 3)
    layer.weights.data[0, 0] = 0.0  # the L1 subgradient at exactly 0 is +1
    layer.biases.data[0, 1] = 0.0
    return layer


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_regularization_loss_value_is_the_books(seed):
    layer = penalised_layer(seed, **STRENGTHS)
    assert_array_equal(regularization_loss(layer).data, book_regularization_loss(layer))


def test_regularization_loss_sums_layers_in_the_books_order():
    model = Sequential(penalised_layer(0, **STRENGTHS), ReLU(), penalised_layer(1, **STRENGTHS))
    expected = book_regularization_loss(model[0]) + book_regularization_loss(model[2])
    assert_array_equal(regularization_loss(model).data, expected)


@pytest.mark.parametrize(
    "strengths",
    [
        STRENGTHS,
        {"weight_regularizer_l1": 1e-2},
        {"weight_regularizer_l2": 1e-2, "bias_regularizer_l2": 3e-2},
    ],
)
def test_regularization_gradient_is_l1_sign_plus_two_l2_w(strengths):
    layer = penalised_layer(3, **strengths)
    regularization_loss(layer).backward()
    for param, kind in ((layer.weights, "weight"), (layer.biases, "bias")):
        l1 = strengths.get(f"{kind}_regularizer_l1", 0)
        l2 = strengths.get(f"{kind}_regularizer_l2", 0)
        if l1 or l2:
            expected = book_gradient(param.data, l1, l2)
            assert_allclose(param.grad.data, expected, rtol=1e-12, atol=0)
        else:  # a zero strength adds nothing to the graph
            assert param.grad is None


@given(
    data=st.data(),
    sides=st.tuples(st.integers(1, 4), st.integers(1, 4)),
    strengths=st.fixed_dictionaries(
        {name: st.sampled_from([0.0, 0.01, 0.5]) for name in STRENGTHS}
    ),
)
def test_regularization_loss_second_derivatives(data, sides, strengths):
    assume(any(strengths.values()))  # without a penalty the loss is a constant
    n_in, n_out = sides
    first, second = Dense(n_in, n_out, rng=0, dtype=np.float64, **strengths), Dense(n_out, 2)
    model = Sequential(first, ReLU(), second)

    def penalty(weights, biases):
        first.weights, first.biases = weights, biases
        return regularization_loss(model)

    weights = data.draw(arrays((n_in, n_out)))  # |w| >= 0.1: off L1's kink at 0
    biases = data.draw(arrays((1, n_out)))
    assert_grad_matches_numeric(penalty, weights, biases, order=2)
    # inside a larger graph the penalty's incoming gradient depends on the parameters too
    assert_grad_matches_numeric(lambda w, b: penalty(w, b).tanh() * w.sum(), weights, biases,
                                order=2)  # fmt: skip


def test_regularization_hessian_is_two_l2_on_the_diagonal_and_nothing_from_l1():
    layer = Dense(3, 2, rng=0, dtype=np.float64, **STRENGTHS)

    def of_weights(weights):
        layer.weights = weights
        return regularization_loss(layer)

    weights = np.random.RandomState(1).randn(3, 2)
    expected = 2 * STRENGTHS["weight_regularizer_l2"] * np.eye(6).reshape(3, 2, 3, 2)
    assert_allclose(hessian(of_weights, weights).data, expected, rtol=1e-14, atol=0)


def test_l1_gradient_at_exactly_zero_weights_is_plus_l1():
    layer = Dense(2, 2, rng=0, dtype=np.float64, weight_regularizer_l1=0.5)
    layer.weights.data[...] = [[0.0, -0.0], [1.0, -1.0]]
    regularization_loss(layer).backward()
    assert_array_equal(layer.weights.grad.data, [[0.5, 0.5], [0.5, -0.5]])


def test_zero_strength_terms_are_left_out_of_the_value():
    layer = penalised_layer(4, weight_regularizer_l2=1e-3)
    weights = layer.weights.data
    assert_array_equal(regularization_loss(layer).data, 1e-3 * np.sum(weights * weights))


def test_regularization_loss_without_penalties_is_a_0d_constant_zero():
    model = Sequential(Dense(2, 3, rng=0), ReLU())
    zero = regularization_loss(model)
    assert zero.shape == () and zero.item() == 0
    assert zero.dtype == get_default_dtype() and not zero.requires_grad
    set_default_dtype(np.float64)
    try:
        assert regularization_loss(model).dtype == np.float64
    finally:
        set_default_dtype(np.float32)


class AnnealedDense(Dense):
    """A strength computed when read (an annealed penalty)."""

    scale = 0.0

    @property
    def weight_regularizer_l2(self):
        return 0.5 * self.scale

    @weight_regularizer_l2.setter
    def weight_regularizer_l2(self, value):
        pass


@pytest.mark.parametrize("how", ["setattr", "vars", "property", "deepcopy", "pickle"])
def test_regularization_loss_reads_the_strengths_the_layers_have_now(how, monkeypatch):
    # However a strength got its value, after the layer was made, the penalty is its own.
    layer = (AnnealedDense if how == "property" else Dense)(2, 2, rng=0, dtype=np.float64)
    model = Sequential(layer, ReLU())
    assert regularization_loss(model).item() == 0
    if how == "setattr":
        layer.weight_regularizer_l2 = 0.5
    elif how == "vars":
        vars(layer).update(weight_regularizer_l2=0.5)
    elif how == "property":
        monkeypatch.setattr(AnnealedDense, "scale", 1.0)
    else:  # a copy, once the original is gone
        layer.weight_regularizer_l2 = 0.5
        copied = copy.deepcopy(model) if how == "deepcopy" else pickle.loads(pickle.dumps(model))
        del model, layer
        gc.collect()
        model, layer = copied, copied[0]
    weights = layer.weights.data
    assert_array_equal(regularization_loss(model).data, 0.5 * np.sum(weights * weights))


def test_regularization_loss_finds_nested_layers_and_counts_shared_ones_once():
    class Net(Module):
        def __init__(self, shared):
            self.body = Sequential(shared, ReLU())
            self.heads = [shared, Dense(3, 3, rng=1, dtype=np.float64)]

    shared = penalised_layer(5, **STRENGTHS)
    assert_array_equal(regularization_loss(Net(shared)).data, book_regularization_loss(shared))


def test_regularization_loss_rejects_non_modules():
    with pytest.raises(TypeError, match=r"regularization_loss: expected a Module.*got list"):
        regularization_loss([Dense(2, 2)])
