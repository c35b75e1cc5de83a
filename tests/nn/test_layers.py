"""Dense, Dropout and the activation modules against the book's NumPy code."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

import tinygrad_nnfs
from tinygrad_nnfs import Tensor, manual_seed
from tinygrad_nnfs.nn import (
    Dense,
    Dropout,
    Identity,
    ReLU,
    Sequential,
    Sigmoid,
    Softmax,
    Tanh,
)
from tinygrad_nnfs.testing import arrays, assert_grad_matches_numeric


@pytest.mark.parametrize("seed", [0, 7])
def test_dense_init_is_the_books_randn_after_manual_seed(seed):
    manual_seed(seed)
    layer = Dense(3, 5, dtype=np.float64)
    assert_array_equal(layer.weights.data, 0.01 * np.random.RandomState(seed).randn(3, 5))
    assert_array_equal(layer.biases.data, np.zeros((1, 5)))
    assert layer.weights.requires_grad and layer.biases.requires_grad
    assert (layer.weights.name, layer.biases.name) == ("weights", "biases")


def test_dense_layers_draw_in_program_order_and_scale_in_the_default_dtype():
    manual_seed(0)
    dense1, dense2 = Dense(2, 64), Dense(64, 3)
    book = np.random.RandomState(0)
    # The book's float32 weights under nnfs.init(): 0.01 * float32(randn), taken in float32.
    assert_array_equal(dense1.weights.data, 0.01 * book.randn(2, 64).astype(np.float32))
    assert_array_equal(dense2.weights.data, 0.01 * book.randn(64, 3).astype(np.float32))
    assert dense1.weights.dtype == dense1.biases.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dense_weight_scale_is_the_factor_of_the_draw(dtype):
    layer = Dense(1, 64, weight_scale=0.1, rng=3, dtype=dtype)
    draws = np.random.RandomState(3).randn(1, 64).astype(dtype)
    assert_array_equal(layer.weights.data, 0.1 * draws, strict=True)


@pytest.mark.parametrize("scale", [-0.1, float("nan"), float("inf")])
def test_dense_weight_scale_must_be_finite_and_not_negative(scale):
    with pytest.raises(ValueError, match=r"Dense\(1, 2\): weight_scale must be a finite"):
        Dense(1, 2, weight_scale=scale)


def test_dense_rng_is_an_independent_stream():
    manual_seed(0)
    layer = Dense(2, 3, rng=5, dtype=np.float64)
    assert_array_equal(layer.weights.data, 0.01 * np.random.RandomState(5).randn(2, 3))
    # the library stream was not advanced by the layer
    assert_array_equal(Tensor.randn(4, dtype=np.float64).data, np.random.RandomState(0).randn(4))


@given(inputs=arrays((4, 3)))
def test_dense_forward_is_inputs_at_weights_plus_biases(inputs):
    layer = Dense(3, 2, rng=0, dtype=np.float64)
    layer.biases.data[...] = [[0.5, -1.5]]
    expected = inputs @ layer.weights.data + layer.biases.data
    assert_array_equal(layer(inputs).data, expected)
    assert_array_equal(layer(Tensor(inputs)).data, expected)


def test_dense_forward_takes_nested_lists_in_the_default_dtype():
    layer = Dense(2, 1, rng=0)
    out = layer([[1.0, 2.0]])
    assert out.dtype == np.float32
    assert_array_equal(out.data, np.float32([[1, 2]]) @ layer.weights.data)


def test_dense_gradients_are_the_books_backward():
    layer = Dense(3, 2, rng=1, dtype=np.float64)
    inputs = Tensor(np.random.RandomState(2).randn(5, 3), requires_grad=True)
    dvalues = np.random.RandomState(3).randn(5, 2)
    layer(inputs).backward(dvalues)
    assert_allclose(layer.weights.grad.data, inputs.data.T @ dvalues, rtol=1e-12)
    assert_allclose(layer.biases.grad.data, np.sum(dvalues, axis=0, keepdims=True), rtol=1e-12)
    assert_allclose(inputs.grad.data, dvalues @ layer.weights.data.T, rtol=1e-12)


def test_dense_takes_one_sample_as_a_row_and_batches_of_batches():
    layer = Dense(3, 2, rng=0, dtype=np.float64)
    sample = Tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    out = layer(sample)
    assert_array_equal(out.data, sample.data @ layer.weights.data + layer.biases.data)
    assert out.shape == (1, 2)
    out.sum().backward()
    assert sample.grad.shape == (3,)
    stacked = np.random.RandomState(5).randn(2, 4, 3)
    assert_array_equal(layer(stacked).data, stacked @ layer.weights.data + layer.biases.data)


def test_dense_is_one_fused_affine_node():
    layer = Dense(3, 2, rng=0, dtype=np.float64)
    out = layer(Tensor(np.ones((4, 3))))
    assert type(out._ctx).__name__ == "Affine"
    assert out._ctx.tensor_parents() == [out._ctx.parents[0], layer.weights, layer.biases]


def test_dense_gradcheck():
    layer = Dense(3, 2, rng=0, dtype=np.float64)

    def forward(inputs, weights, biases):
        layer.weights, layer.biases = weights, biases
        return layer(inputs)

    rng = np.random.RandomState(4)
    assert_grad_matches_numeric(forward, rng.randn(4, 3), rng.randn(3, 2), rng.randn(1, 2), order=2)
    # a single sample (a row, as the layer makes it) and a stack of batches
    assert_grad_matches_numeric(forward, rng.randn(3), rng.randn(3, 2), rng.randn(1, 2), order=2)
    assert_grad_matches_numeric(
        lambda x, w, b: forward(x, w, b).tanh(), rng.randn(2, 4, 3), rng.randn(3, 2),
        rng.randn(1, 2), order=2,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("shape", "received"), [((5, 3), "got 3"), ((3,), "got 3"), ((), "got a scalar")]
)
def test_dense_wrong_feature_count_names_layer_and_counts(shape, received):
    with pytest.raises(ValueError, match=rf"Dense\(2, 64\): expected inputs with 2 .*{received}"):
        Dense(2, 64)(np.ones(shape))


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((0, 3), {}, ValueError, "n_inputs must be positive, got 0"),
        ((2, -1), {}, ValueError, "n_neurons must be positive, got -1"),
        ((2.5, 3), {}, TypeError, "n_inputs must be an int"),
        ((True, 3), {}, TypeError, "n_inputs must be an int"),
        ((2, 3), {"weight_regularizer_l2": -1e-4}, ValueError, "weight_regularizer_l2 must be"),
        ((2, 3), {"bias_regularizer_l1": float("nan")}, ValueError, "bias_regularizer_l1"),
        ((2, 3), {"weight_regularizer_l1": "0.1"}, TypeError, "weight_regularizer_l1"),
        ((2, 3), {"dtype": np.int64}, TypeError, r"Dense\(2, 3\): dtype must be a float"),
    ],
)
def test_dense_rejects_bad_arguments(args, kwargs, error, message):
    with pytest.raises(error, match=message):
        Dense(*args, **kwargs)


def test_dense_repr_shows_sizes_and_active_regularizers():
    assert repr(Dense(2, 64)) == "Dense(2, 64)"
    assert repr(Dense(2, 64, weight_regularizer_l2=5e-4)) == (
        "Dense(2, 64, weight_regularizer_l2=0.0005)"
    )


@pytest.mark.parametrize(
    ("rate", "error"), [(-0.1, ValueError), (1.0, ValueError), ("0.5", TypeError)]
)
def test_dropout_rejects_rates_outside_zero_one(rate, error):
    with pytest.raises(error, match="Dropout: rate"):
        Dropout(rate)


def test_dropout_mask_is_the_books_binomial_draw():
    manual_seed(0)
    inputs = np.random.RandomState(1).randn(4, 6)
    out = Dropout(0.1)(inputs)
    mask = np.random.RandomState(0).binomial(1, 0.9, size=(4, 6)) / 0.9
    assert_array_equal(out.data, inputs * mask)


def test_dropout_with_its_own_rng_draws_from_it_and_not_the_library_stream():
    inputs = np.random.RandomState(1).randn(4, 6)
    manual_seed(0)
    library_state = tinygrad_nnfs.tensor._library_rng.get_state()[1].copy()
    layer = Dropout(0.1, rng=5)
    first, second = layer(inputs).data, layer(inputs).data
    stream = np.random.RandomState(5)
    assert_array_equal(first, inputs * (stream.binomial(1, 0.9, size=(4, 6)) / 0.9))
    assert_array_equal(second, inputs * (stream.binomial(1, 0.9, size=(4, 6)) / 0.9))
    assert_array_equal(tinygrad_nnfs.tensor._library_rng.get_state()[1], library_state)


def test_dropout_drops_about_rate_and_scales_the_rest():
    manual_seed(0)
    out = Dropout(0.3)(np.ones((200, 500), dtype=np.float32)).data
    assert abs(np.mean(out == 0) - 0.3) < 0.01
    assert_allclose(out[out != 0], 1 / 0.7, rtol=1e-6)
    assert abs(out.mean() - 1) < 0.02  # inverted dropout keeps the expected activation


def test_train_and_eval_toggle_dropout_through_containers():
    model = Sequential(Dense(3, 3, rng=0), Dropout(0.5))
    inputs = np.ones((50, 3), dtype=np.float32)
    assert model.eval() is model
    assert not model[1].training
    assert_array_equal(model[1](inputs).data, inputs)  # eval: identity
    assert_array_equal(model(inputs).data, model[0](inputs).data)
    model.train()
    assert model[1].training
    assert np.any(model[1](inputs).data == 0)


def test_dropout_gradient_is_the_mask():
    manual_seed(3)
    inputs = Tensor(np.ones((3, 4)), requires_grad=True)
    out = Dropout(0.25)(inputs)
    out.sum().backward()
    assert_array_equal(inputs.grad.data, out.data)


@pytest.mark.parametrize(
    ("module", "reference"),
    [
        (Identity(), lambda x: x),
        (ReLU(), lambda x: np.maximum(0, x)),
        (Sigmoid(), lambda x: 1 / (1 + np.exp(-x))),
        (Tanh(), np.tanh),
        (Softmax(), lambda x: np.exp(x) / np.exp(x).sum(axis=-1, keepdims=True)),
        (Softmax(axis=0), lambda x: np.exp(x) / np.exp(x).sum(axis=0, keepdims=True)),
    ],
)
@given(inputs=arrays((3, 4)))
def test_activation_matches_numpy_and_gradchecks(module, reference, inputs):
    assert_allclose(module(inputs).data, reference(inputs), rtol=1e-12)
    assert_grad_matches_numeric(module, inputs, order=2)


@given(rows=st.integers(1, 5))
def test_softmax_rows_sum_to_one_for_huge_logits(rows):
    probs = Softmax()(np.full((rows, 3), 1e4) * [1, 0, -1]).data
    assert np.all(np.isfinite(probs))
    assert_allclose(probs.sum(axis=1), 1)


def test_output_activations_predict_as_the_book():
    outputs = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.5]])
    assert_array_equal(Softmax().predictions(outputs), [1, 0])
    assert_array_equal(Softmax().predictions(Tensor(outputs)), [1, 0])
    assert_array_equal(Sigmoid().predictions(Tensor(outputs)), [[0, 1, 0], [1, 0, 0]])
    assert Sigmoid().predictions(outputs).dtype.kind == "i"  # the book's (outputs > 0.5) * 1
    for module in (Identity(), ReLU()):
        assert_array_equal(module.predictions(Tensor(outputs)), outputs)


def test_identity_passes_its_input_through_the_graph():
    x = Tensor([[1.0, -2.0]], requires_grad=True)
    out = Identity()(x)
    (out * 3).sum().backward()
    assert_array_equal(x.grad.data, [[3, 3]])
