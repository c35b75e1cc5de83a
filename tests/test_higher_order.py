"""Higher-order gradients: backward(create_graph=True), grad(), gradgradcheck, Hessians.

Second derivatives are checked against closed forms and, where torch is installed, against
torch.autograd in float64; the custom-op rules (what works under create_graph=True, what
raises, what gradgradcheck catches) with small Functions of their own.
"""

from __future__ import annotations

import re
import threading

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from test_function import Cube
from test_graph import _svg_nodes  # rendered by Graphviz's dot: each node's id -> its text
from test_threads import _in_threads  # x ** 3, the README's example: arithmetic on its saved input

from tinygrad_nnfs import (
    Function,
    GradcheckError,
    Tensor,
    datasets,
    detect_anomaly,
    draw_graph,
    engine,
    grad,
    gradcheck,
    gradgradcheck,
    no_grad,
    ops,
)
from tinygrad_nnfs.functional import hessian, hvp, jacobian
from tinygrad_nnfs.nn import (
    Dense,
    MeanSquaredError,
    ReLU,
    Sequential,
    SoftmaxCrossEntropy,
    Tanh,
)
from tinygrad_nnfs.testing import assert_grad_matches_numeric

X = np.array([0.5, -1.5, 1.2])  # away from 0: every op below is smooth there


# ---- custom ops -----------------------------------------------------------------------------
class NumpySin(Function):
    """sin(x) whose backward calls np.cos: right at first order, not differentiable again."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        return np.sin(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        return np.cos(x) * grad


class SavesSlope(Function):
    """x ** 3 that saves its derived slope 3 x ** 2, a float array neither input nor output."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(3 * x**2)
        return x**3

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (slope,) = self.saved
        return slope * grad


class RecomputesSlope(SavesSlope):
    """SavesSlope that recomputes its slope with Tensor ops for a graph-building backward."""

    def graph_saved(self, output: Tensor) -> tuple:
        (x,) = self.parents
        return (3 * x**2,)


class KeepsSlopeInAnAttribute(Function):
    """x ** 3 that keeps its derived slope in an attribute instead of save_for_backward."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.slope = 3 * x**2
        return x**3

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return self.slope * grad


class ConstantSlope(Function):
    """x ** 3 whose backward reads the saved input's values: first-order right, its second
    derivative treats them as a constant (zero instead of 6 x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        return x**3

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        values = x.data if isinstance(x, Tensor) else x  # the graph's Tensor, or the array
        return 3 * values**2 * grad


def _leaf(values=X) -> Tensor:
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


# ---- backward(create_graph=True) ----------------------------------------------------------------
def test_create_graph_grads_require_grad_and_give_the_exact_second_derivative():
    x, w = _leaf(), _leaf([2.0, -0.5, 1.5])
    hidden = x**3
    (hidden * w).sum().backward(create_graph=True)
    for tensor in (x, w, hidden):
        assert isinstance(tensor.grad, Tensor)
        assert tensor.grad.requires_grad and not tensor.grad.is_leaf
    assert_allclose(x.grad.data, 3 * X**2 * w.data, rtol=1e-14)
    d_x, d_w = grad(x.grad.sum(), [x, w])
    assert_allclose(d_x.data, 6 * X * w.data, rtol=1e-14)  # d/dx of 3 x**2 w
    assert_allclose(d_w.data, 3 * X**2, rtol=1e-14)
    first = x.grad  # the torch idiom: take the gradient, clear .grad, backward through it
    x.grad = w.grad = None
    first.sum().backward()
    assert_allclose(x.grad.data, 6 * X * w.data, rtol=1e-14)
    assert_allclose(w.grad.data, 3 * X**2, rtol=1e-14)
    assert not x.grad.requires_grad and not w.grad.requires_grad


ELEMENTWISE = {  # f, f'' (closed form), inputs where f is smooth
    "cube": (lambda x: x**3, lambda x: 6 * x, X),
    "exp": (Tensor.exp, np.exp, X),
    "log": (Tensor.log, lambda x: -1 / x**2, np.abs(X)),
    "sqrt": (Tensor.sqrt, lambda x: -0.25 * x**-1.5, np.abs(X)),
    "tanh": (Tensor.tanh, lambda x: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2), X),
    "sigmoid": (
        Tensor.sigmoid,
        lambda x: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 2 * s),
        X,
    ),
    "reciprocal": (lambda x: 1 / x, lambda x: 2 / x**3, X),
    "square": (Tensor.square, lambda x: np.full_like(x, 2.0), X),
    "self_product": (lambda x: x * x, lambda x: np.full_like(x, 2.0), X),
    "abs": (Tensor.abs, np.zeros_like, X),
    "relu": (Tensor.relu, np.zeros_like, X),
    "pow_tensor_exponent": (lambda x: x**x, lambda x: x**x * (np.log(x) + 1) ** 2 + x ** (x - 1),
                            np.abs(X)),
}  # fmt: skip


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_create_graph_second_derivatives_of_elementwise_ops_are_their_closed_forms(name):
    f, second, values = ELEMENTWISE[name]
    x = _leaf(values)
    f(x).sum().backward(create_graph=True)
    first = x.grad
    # abs and relu: a first derivative that is constant here requires no grad (as in torch)
    d2 = grad(first.sum(), x)[0].data if first.requires_grad else np.zeros_like(values)
    assert_allclose(d2, second(values), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_create_graph_second_derivatives_of_elementwise_ops_match_torch(name):
    torch = pytest.importorskip("torch")
    f, _, values = ELEMENTWISE[name]
    torch_f = {
        "cube": lambda x: x**3,
        "exp": torch.exp,
        "log": torch.log,
        "sqrt": torch.sqrt,
        "tanh": torch.tanh,
        "sigmoid": torch.sigmoid,
        "reciprocal": lambda x: 1 / x,
        "square": torch.square,
        "self_product": lambda x: x * x,
        "abs": torch.abs,
        "relu": torch.relu,
        "pow_tensor_exponent": lambda x: x**x,
    }[name]
    expected = torch.autograd.functional.hessian(
        lambda x: torch_f(x).sum(), torch.tensor(values, dtype=torch.float64)
    )
    assert_allclose(hessian(lambda x: f(x).sum(), values).data, expected.numpy(), rtol=1e-12)


def _mlp(seed: int) -> Sequential:
    return Sequential(
        Dense(3, 6, rng=seed, dtype=np.float64, weight_scale=0.5),
        Tanh(),
        Dense(6, 2, rng=seed + 1, dtype=np.float64, weight_scale=0.5),
    )


def _torch_copy(module: Sequential, torch):
    """A torch float64 copy of _mlp's parameters: [w1, b1, w2, b2] leaves that require grad."""
    return [
        torch.tensor(p.data.copy(), dtype=torch.float64, requires_grad=True)
        for p in module.parameters()
    ]


def test_gradient_penalty_on_a_small_mlp_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.RandomState(0)
    inputs, targets = rng.randn(5, 3), rng.randn(5, 2)
    model = _mlp(1)
    x = Tensor(inputs, requires_grad=True)
    out = model(x)
    (d_x,) = grad(out.sum(), x, create_graph=True)  # a WGAN-GP style penalty on d out / d x
    penalty = (((d_x * d_x).sum(axis=1) - 1) ** 2).mean()
    (MeanSquaredError()(out, targets) + 10 * penalty).backward()

    w1, b1, w2, b2 = _torch_copy(model, torch)
    tx = torch.tensor(inputs, requires_grad=True)
    t_out = torch.tanh(tx @ w1 + b1) @ w2 + b2
    (t_dx,) = torch.autograd.grad(t_out.sum(), tx, create_graph=True)
    t_penalty = (((t_dx * t_dx).sum(dim=1) - 1) ** 2).mean()
    t_loss = ((torch.tensor(targets) - t_out) ** 2).mean(dim=-1).mean() + 10 * t_penalty
    t_loss.backward()
    for ours, theirs in zip([*model.parameters(), x], [w1, b1, w2, b2, tx], strict=True):
        assert_allclose(ours.grad.data, theirs.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_backward_create_graph_then_a_penalty_on_the_parameter_gradients_matches_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.RandomState(1)
    inputs, labels = rng.randn(6, 3), np.array([0, 1, 1, 0, 1, 0])
    model = _mlp(3)
    SoftmaxCrossEntropy()(model(inputs), labels).backward(create_graph=True)
    params = model.parameters()
    norm = sum(((p.grad * p.grad).sum() for p in params), Tensor(0.0, dtype=np.float64))
    ours = grad(norm, params)

    t_params = _torch_copy(model, torch)
    w1, b1, w2, b2 = t_params
    logits = torch.tanh(torch.tensor(inputs) @ w1 + b1) @ w2 + b2
    loss = torch.nn.functional.cross_entropy(logits, torch.tensor(labels))
    t_grads = torch.autograd.grad(loss, t_params, create_graph=True)
    theirs = torch.autograd.grad(sum((g * g).sum() for g in t_grads), t_params)
    for p, g in zip(params, t_grads, strict=True):
        assert_allclose(p.grad.data, g.detach().numpy(), rtol=1e-10, atol=1e-15)
    for mine, expected in zip(ours, theirs, strict=True):
        assert_allclose(mine.data, expected.numpy(), rtol=1e-9, atol=1e-15)


def _book_network() -> tuple:
    """The book's 2-64-3 spiral classifier (ch. 14 sizes), float64, at its initialisation."""
    X_train, y_train = datasets.spiral_data(100, 3, rng=0)
    X_train = X_train.astype(np.float64)
    dense1 = Dense(2, 64, rng=1, dtype=np.float64, weight_scale=0.5)
    dense2 = Dense(64, 3, rng=2, dtype=np.float64, weight_scale=0.5)
    return X_train, y_train, dense1, dense2


def test_hessian_of_the_book_network_loss_matches_torch():
    torch = pytest.importorskip("torch")
    X_train, y_train, dense1, dense2 = _book_network()
    w1, b1, w2, b2 = (p.data.copy() for p in (*dense1.parameters(), *dense2.parameters()))
    relu, loss = ReLU(), SoftmaxCrossEntropy()

    def of_first_layer(theta: Tensor) -> Tensor:  # theta: the weights of hidden units 0..2
        dense1.weights = Tensor.concatenate([theta, w1[:, 3:]], axis=1)
        return loss(dense2(relu(dense1(X_train))), y_train)

    def of_output_bias(theta: Tensor) -> Tensor:
        dense1.weights, dense2.biases = Tensor(w1), theta
        return loss(dense2(relu(dense1(X_train))), y_train)

    tX, ty = torch.tensor(X_train), torch.tensor(y_train)

    def torch_loss(first, bias):
        logits = torch.relu(tX @ first + torch.tensor(b1)) @ torch.tensor(w2) + bias
        return torch.nn.functional.cross_entropy(logits, ty)

    first = torch.tensor(w1[:, :3])
    expected = torch.autograd.functional.hessian(
        lambda t: torch_loss(torch.cat([t, torch.tensor(w1[:, 3:])], dim=1), torch.tensor(b2)),
        first,
    )
    ours = hessian(of_first_layer, w1[:, :3])
    assert ours.shape == (2, 3, 2, 3)
    assert_allclose(ours.data, expected.numpy(), rtol=1e-9, atol=1e-13)
    assert np.abs(ours.data).max() > 1e-3  # a Hessian with something in it

    expected = torch.autograd.functional.hessian(
        lambda t: torch_loss(torch.tensor(w1), t), torch.tensor(b2)
    )
    ours = hessian(of_output_bias, b2)
    assert ours.shape == (1, 3, 1, 3)
    assert_allclose(ours.data, expected.numpy(), rtol=1e-9, atol=1e-13)
    v = np.array([[1.0, -2.0, 0.5]])
    _, expected = torch.autograd.functional.hvp(
        lambda t: torch_loss(torch.tensor(w1), t), torch.tensor(b2), torch.tensor(v)
    )
    assert_allclose(hvp(of_output_bias, b2, v).data, expected.numpy(), rtol=1e-9, atol=1e-13)


def test_newtons_method_with_the_engines_hessian_converges():
    # f(x) = sum(exp(x) - 2x) + (x0 - x1)**2 / 2: convex, smooth, its minimum has exp(x) = 2.
    def f(x: Tensor) -> Tensor:
        return (x.exp() - 2 * x).sum() + (x[0] - x[1]) ** 2 / 2

    x = np.array([1.5, -1.0])
    for _ in range(8):
        t = Tensor(x, requires_grad=True)
        (gradient,) = grad(f(t), t)
        x = x - np.linalg.solve(hessian(f, x).data, gradient.data)
    assert_allclose(x, np.log(2.0), rtol=1e-12)


# ---- grad() --------------------------------------------------------------------------------------
@pytest.mark.parametrize("create_graph", [False, True])
def test_grad_touches_no_grad_of_leaves_or_non_leaves(create_graph):
    x, w = _leaf(), _leaf([2.0, -0.5, 1.5])
    frozen = Tensor(np.ones(3))
    w.grad = np.full(3, 7.0)  # an earlier gradient stays as it is
    hidden = x * w + frozen
    out = (hidden.tanh() * hidden).sum()
    d_x, d_hidden = grad(out, [x, hidden], create_graph=create_graph)
    assert x.grad is None and hidden.grad is None and out.grad is None and frozen.grad is None
    assert_array_equal(w.grad.data, np.full(3, 7.0))
    h = hidden.data
    assert_allclose(d_hidden.data, np.tanh(h) + h * (1 - np.tanh(h) ** 2), rtol=1e-14)
    assert_allclose(d_x.data, d_hidden.data * w.data, rtol=1e-14)
    assert isinstance(d_x, Tensor) and isinstance(d_hidden, Tensor)
    assert d_x.requires_grad is create_graph and d_hidden.requires_grad is create_graph


def test_grad_returns_a_tuple_even_for_one_input():
    x = _leaf()
    result = grad((x * x).sum(), x)
    assert type(result) is tuple and len(result) == 1
    assert_allclose(result[0].data, 2 * X)


def test_grad_of_several_outputs_adds_each_times_its_grad_outputs():
    x, y = _leaf(), _leaf([0.3, 0.7, -0.2])
    vector, scalar = x * y, (x**2).sum()
    v = np.array([1.0, -2.0, 0.5])
    d_x, d_y = grad([vector, scalar], [x, y], [v, None])
    assert_allclose(d_x.data, v * y.data + 2 * X, rtol=1e-14)
    assert_allclose(d_y.data, v * X, rtol=1e-14)
    assert x.grad is None and y.grad is None


def test_grad_matches_torch_autograd_grad_for_several_outputs_and_inputs():
    torch = pytest.importorskip("torch")
    x, y = _leaf(), _leaf([0.3, 0.7, -0.2])
    hidden = (x * y).tanh()
    outputs = [hidden * x, (hidden**2).sum()]
    v = np.array([1.0, -2.0, 0.5])
    ours = grad(outputs, [x, hidden, y], [v, None], create_graph=True)
    second = grad(sum((g * g).sum() for g in ours), [x, y])

    tx, ty = (torch.tensor(a.data, requires_grad=True) for a in (x, y))
    t_hidden = torch.tanh(tx * ty)
    t_outputs = [t_hidden * tx, (t_hidden**2).sum()]
    theirs = torch.autograd.grad(
        t_outputs, [tx, t_hidden, ty], [torch.tensor(v), None], create_graph=True
    )
    t_second = torch.autograd.grad(sum((g * g).sum() for g in theirs), [tx, ty])
    for mine, expected in zip([*ours, *second], [*theirs, *t_second], strict=True):
        assert_allclose(mine.data, expected.detach().numpy(), rtol=1e-12)


def test_grad_of_a_non_leaf_input_with_several_consumers():
    x = _leaf()
    hidden = x * 2
    out = (hidden * hidden + hidden.exp()).sum()  # hidden feeds three ops
    (d_hidden,) = grad(out, hidden)
    assert_allclose(d_hidden.data, 2 * hidden.data + np.exp(hidden.data), rtol=1e-14)
    (d_hidden,) = grad(out, hidden, create_graph=True)
    (d2,) = grad(d_hidden.sum(), x)  # d/dx of 2h + exp(h), h = 2x
    assert_allclose(d2.data, 2 * (2 + np.exp(hidden.data)), rtol=1e-14)


def test_grad_of_an_unused_input_is_a_value_error_naming_it_or_none_when_allowed():
    x, unused = _leaf(), Tensor(np.ones((2, 2)), requires_grad=True)
    out = (x * 3).sum()
    with pytest.raises(ValueError, match=r"grad: .*input 1 \(shape \(2, 2\)\).*allow_unused=True"):
        grad(out, [x, unused])
    d_x, d_unused = grad(out, [x, unused], allow_unused=True)
    assert d_unused is None
    assert_allclose(d_x.data, np.full(3, 3.0))


def test_grad_of_an_input_that_does_not_require_grad_is_a_runtime_error():
    x, constant = _leaf(), Tensor(np.ones(3))
    with pytest.raises(RuntimeError, match=r"grad: input 1 \(shape \(3,\)\) does not require grad"):
        grad((x * constant).sum(), [x, constant])


def test_grad_without_create_graph_gives_tensors_that_do_not_require_grad():
    x = _leaf()
    (d_x,) = grad((x**3).sum(), x)
    assert not d_x.requires_grad and d_x.is_leaf
    (d_x,) = grad((x**3).sum(), x, create_graph=True)
    assert d_x.requires_grad and not d_x.is_leaf


def test_grad_outputs_that_require_grad_stay_in_the_graph():
    # The double-backward trick: d/dv of (v . J) is J's product with the other cotangent.
    torch = pytest.importorskip("torch")
    x = _leaf()
    v = Tensor(np.array([1.0, -2.0, 0.5]), requires_grad=True)
    y = (x * x).tanh()
    (vjp,) = grad(y, x, v, create_graph=True)
    u = np.array([0.2, 0.4, -1.0])
    (jvp,) = grad(vjp, v, u)
    tx = torch.tensor(X, requires_grad=True)
    tv = torch.tensor(v.data, requires_grad=True)
    (t_vjp,) = torch.autograd.grad(torch.tanh(tx * tx), tx, tv, create_graph=True)
    (t_jvp,) = torch.autograd.grad(t_vjp, tv, torch.tensor(u))
    assert_allclose(vjp.data, t_vjp.detach().numpy(), rtol=1e-12)
    assert_allclose(jvp.data, t_jvp.numpy(), rtol=1e-12)


def test_grad_outputs_of_another_dtype_stay_in_the_graph():
    # torch casts a float64 cotangent for a float32 output differentiably: v keeps its path
    x = Tensor(np.array([0.5, 1.5], np.float32), requires_grad=True)
    v = Tensor(np.array([1.0, 2.0]), requires_grad=True)  # float64
    (vjp,) = grad(x * x, x, v, create_graph=True)
    assert vjp.dtype == np.float32
    assert_allclose(vjp.data, [1.0, 6.0])
    (d_v,) = grad(vjp.sum(), v, allow_unused=True)
    assert d_v is not None, "the cotangent v was cut out of the graph"
    assert_allclose(d_v.data, [1.0, 3.0])


@pytest.mark.parametrize("entry", ["backward", "grad"])
def test_create_graph_under_no_grad_still_records_the_backward_as_torch_does(entry):
    # torch.autograd runs a create_graph backward with recording on, whatever the caller's mode.
    x = _leaf()
    bias = Tensor(np.array([0.5]), requires_grad=True)
    out = ((x * x) * bias).sum()  # x reached twice, bias broadcast: both gradients are summed
    with no_grad():
        if entry == "backward":
            out.backward(create_graph=True)
            d_x, d_bias = x.grad, bias.grad
        else:
            d_x, d_bias = grad(out, [x, bias], create_graph=True)
    assert d_x.requires_grad and d_bias.requires_grad
    d2_x, d2_bias = grad((d_x.sum(), d_bias.sum()), [x, bias])
    assert_allclose(d2_x.data, 2 * 0.5 + 2 * X, rtol=1e-14)
    assert_allclose(d2_bias.data, [2 * X.sum()], rtol=1e-14)


# ---- custom Functions ----------------------------------------------------------------------------
def test_readme_cube_works_under_create_graph_and_passes_gradgradcheck():
    x = _leaf()
    Cube.apply(x).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    assert_allclose(x.grad.data, 3 * X**2, rtol=1e-14)
    (d2,) = grad(x.grad.sum(), x)
    assert_allclose(d2.data, 6 * X, rtol=1e-14)
    assert gradgradcheck(Cube.apply, X) is True
    assert gradgradcheck(lambda a: (Cube.apply(a.tanh()) * a).sum(), X.reshape(3, 1)) is True
    assert_grad_matches_numeric(lambda a, b: Cube.apply(a * b), X, X[::-1].copy(), order=2)


@pytest.mark.parametrize("entry", ["backward", "grad", "gradgradcheck"])
def test_custom_backward_with_numpy_functions_is_a_runtime_error_naming_it(entry):
    assert gradcheck(NumpySin.apply, X)  # first order is fine
    x = _leaf()
    message = r"NumpySin\.backward cannot be differentiated again \(create_graph=True\)"
    with pytest.raises(RuntimeError, match=message):
        if entry == "backward":
            NumpySin.apply(x).sum().backward(create_graph=True)
        elif entry == "grad":
            grad(NumpySin.apply(x).sum(), x, create_graph=True)
        else:
            gradgradcheck(NumpySin.apply, X)


def test_custom_op_saving_a_derived_float_array_is_a_runtime_error_naming_it():
    x = _leaf()
    out = SavesSlope.apply(x).sum()
    out.backward()  # first order is fine
    assert_allclose(x.grad.data, 3 * X**2)
    with pytest.raises(
        RuntimeError,
        match=r"SavesSlope\.backward cannot be differentiated again .*saved a float array of "
        r"shape \(3,\)",
    ):
        out.backward(create_graph=True)


def test_custom_op_recomputing_its_saved_value_in_graph_saved_differentiates_twice():
    assert gradgradcheck(RecomputesSlope.apply, X) is True
    x = _leaf()
    (first,) = grad(RecomputesSlope.apply(x).sum(), x, create_graph=True)
    assert_allclose(grad(first.sum(), x)[0].data, 6 * X, rtol=1e-14)


def test_custom_op_keeping_a_derived_array_in_an_attribute_is_a_runtime_error_naming_it():
    # Never a silently wrong second derivative: the attribute is the forward's constant.
    x = _leaf()
    out = KeepsSlopeInAnAttribute.apply(x).sum()
    out.backward()
    assert_allclose(x.grad.data, 3 * X**2)
    with pytest.raises(RuntimeError, match=r"KeepsSlopeInAnAttribute"):
        grad(out, x, create_graph=True)


def test_gradgradcheck_catches_a_backward_that_treats_a_saved_value_as_a_constant():
    assert gradcheck(ConstantSlope.apply, X)  # its first derivative is right
    with pytest.raises(
        GradcheckError,
        match=r"second derivative of ConstantSlope w\.r\.t\. input 0 \(shape \(3,\)\) at element "
        r"\(0,\): analytic 0\.0, numeric -?\d",  # 6 x, times the two random cotangents
    ):
        gradgradcheck(ConstantSlope.apply, X)


def test_gradgradcheck_names_the_input_and_element_of_a_mismatch():
    def fn(a: Tensor, b: Tensor) -> Tensor:
        return a.tanh() * ConstantSlope.apply(b)

    b = np.array([[0.8, -0.6], [1.1, 0.4]])
    with pytest.raises(GradcheckError, match=r"w\.r\.t\. input 1 \(shape \(2, 2\)\) at element"):
        gradgradcheck(fn, np.array([0.3, 0.9]), b)


def test_gradgradcheck_returns_true_and_passes_labels_as_constants():
    logits = np.array([[0.5, -1.0, 1.5], [0.2, 0.1, -0.3]])
    assert gradgradcheck(ops.SoftmaxCrossEntropy.apply, logits, np.array([2, 0])) is True
    assert gradgradcheck(lambda a, b: (a * b).tanh() @ b, logits.T, np.array([0.7, -0.4])) is True


# ---- functional: jacobian, hessian, hvp ----------------------------------------------------------
A = np.array([[1.0, -2.0, 0.5], [0.3, 0.8, -1.2]])


def test_jacobian_has_shape_out_plus_x_and_the_closed_form_values():
    x = np.array([[0.5, -1.0, 1.5], [0.2, 0.7, -0.3]])
    jac = jacobian(lambda t: t.exp().sum(axis=0), x)  # out (3,), x (2, 3)
    assert isinstance(jac, Tensor) and jac.shape == (3, 2, 3)
    expected = np.zeros((3, 2, 3))
    for j in range(3):
        expected[j, :, j] = np.exp(x[:, j])
    assert_allclose(jac.data, expected, rtol=1e-14)
    assert jacobian(lambda t: t @ t, np.array([1.0, 2.0])).shape == (2,)  # 0-d out: x's shape
    assert_allclose(jacobian(lambda t: Tensor(A) @ t, X).data, A)


def test_hessian_has_shape_x_plus_x_and_the_closed_form_values():
    x = np.array([[0.5, -1.0], [1.5, 0.2]])
    hess = hessian(lambda t: (t**3).sum() + t[0, 0] * t[1, 1], x)
    assert hess.shape == (2, 2, 2, 2)
    expected = np.zeros((2, 2, 2, 2))
    for i, j in np.ndindex(2, 2):
        expected[i, j, i, j] = 6 * x[i, j]
    expected[0, 0, 1, 1] = expected[1, 1, 0, 0] = 1.0
    assert_allclose(hess.data, expected, rtol=1e-14)
    probs = np.exp(X) / np.exp(X).sum()  # the Hessian of logsumexp: diag(p) - p p^T
    expected = np.diag(probs) - np.outer(probs, probs)
    assert_allclose(hessian(lambda t: t.logsumexp(), X).data, expected, rtol=1e-12)


def test_hvp_is_the_hessian_times_v_in_x_shape():
    x = np.array([[0.5, -1.0], [1.5, 0.2]])
    v = np.array([[1.0, 2.0], [-0.5, 3.0]])

    def fn(t: Tensor) -> Tensor:
        return (t.tanh() * t).sum() + (t[0] * t[1]).sum() ** 2

    product = hvp(fn, x, v)
    assert product.shape == x.shape and not product.requires_grad
    full = hessian(fn, x).data.reshape(4, 4)
    assert_allclose(product.data, (full @ v.reshape(-1)).reshape(2, 2), rtol=1e-12)


def test_functional_matches_torch_autograd_functional():
    torch = pytest.importorskip("torch")
    x = np.array([[0.5, -1.0, 1.5], [0.2, 0.7, -0.3]])
    v = np.array([[1.0, 2.0, -1.0], [-0.5, 3.0, 0.1]])

    def ours(t: Tensor) -> Tensor:
        return (t.softmax(axis=1) * (t * t).sigmoid()).sum(axis=0)

    def theirs(t):
        return (torch.softmax(t, dim=1) * torch.sigmoid(t * t)).sum(dim=0)

    tx, tv = torch.tensor(x), torch.tensor(v)
    expected = torch.autograd.functional.jacobian(theirs, tx)
    assert_allclose(jacobian(ours, x).data, expected.numpy(), rtol=1e-12, atol=1e-15)
    expected = torch.autograd.functional.hessian(lambda t: theirs(t).sum(), tx)
    assert_allclose(hessian(lambda t: ours(t).sum(), x).data, expected.numpy(), rtol=1e-11,
                    atol=1e-14)  # fmt: skip
    _, expected = torch.autograd.functional.hvp(lambda t: theirs(t).sum(), tx, tv)
    assert_allclose(hvp(lambda t: ours(t).sum(), x, v).data, expected.numpy(), rtol=1e-11,
                    atol=1e-14)  # fmt: skip


@pytest.mark.parametrize("form", ["ndarray", "list", "constant tensor", "tensor requiring grad"])
def test_functional_x_need_not_require_grad_and_keeps_its_grad(form):
    values = [0.5, -1.0, 1.5]
    x = {
        "ndarray": np.array(values),
        "list": values,
        "constant tensor": Tensor(values, dtype=np.float64),
        "tensor requiring grad": Tensor(values, dtype=np.float64, requires_grad=True),
    }[form]
    fn = Tensor.exp
    assert_allclose(jacobian(fn, x).data, np.diag(np.exp(values)), rtol=1e-14)
    assert_allclose(hessian(lambda t: fn(t).sum(), x).data, np.diag(np.exp(values)), rtol=1e-14)
    assert_allclose(hvp(lambda t: fn(t).sum(), x, np.ones(3)).data, np.exp(values), rtol=1e-14)
    if isinstance(x, Tensor):
        assert x.grad is None


def test_functional_of_a_function_that_ignores_x_is_zero():
    assert_array_equal(jacobian(lambda t: Tensor(np.ones(2)), X).data, np.zeros((2, 3)))
    assert_array_equal(hessian(lambda t: (t * 2).sum(), X).data, np.zeros((3, 3)))
    assert_array_equal(hvp(lambda t: (t * 2).sum(), X, np.ones(3)).data, np.zeros(3))


def test_functional_of_an_integer_x_is_a_type_error():
    for function, args in ((jacobian, ()), (hessian, ()), (hvp, (np.ones(3),))):
        with pytest.raises(TypeError, match=rf"{function.__name__}: x must hold floats"):
            function(lambda t: (t * t).sum(), np.array([1, 2, 3]), *args)


def test_hvp_with_a_v_of_another_shape_is_a_value_error():
    with pytest.raises(ValueError, match=r"hvp: v has shape \(2,\), x has shape \(3,\)"):
        hvp(lambda t: (t**3).sum(), X, np.ones(2))


def test_hessian_of_a_function_with_several_outputs_is_a_value_error():
    with pytest.raises(ValueError, match=r"hessian: fn must return a one-element Tensor"):
        hessian(lambda t: t**3, X)


# ---- draw_graph of a double-backward graph -------------------------------------------------------


def test_draw_graph_of_a_double_backward_graph_renders_the_backward_ops(tmp_path):
    x = Tensor(np.array([0.5, -1.0]), requires_grad=True, name="x")
    w = Tensor(np.array([1.5, 2.0]), requires_grad=True, name="w")
    forward = ((x * w).tanh()).sum()
    (d_x,) = grad(forward, x, create_graph=True)
    d_x.name = "dx"
    penalty = (d_x * d_x).sum()
    penalty.name = "penalty"
    penalty.backward()
    nodes = _svg_nodes(draw_graph(penalty), tmp_path)
    ops_drawn = [text for key, text in nodes.items() if re.fullmatch(r"op\d+", key)]
    # Tanh's backward, grad * (1 - out * out), and Mul's, grad * w: recorded ops of their own
    assert {"Mul", "Sub", "Tanh", "Sum"} <= set(ops_drawn)
    assert ops_drawn.count("Mul") >= 3
    tensors = [text for key, text in nodes.items() if re.fullmatch(r"t\d+", key)]
    assert any(text.startswith("dx (2,) float64") for text in tensors)
    assert any(text.startswith("w ") and "grad" in text for text in tensors)


# ---- first order, version counter, threads -------------------------------------------------------
def _first_order_grads() -> list[np.ndarray]:
    rng = np.random.RandomState(7)
    model = _mlp(5)
    SoftmaxCrossEntropy()(model(rng.randn(8, 3)), rng.randint(0, 2, 8)).backward()
    for p in model.parameters():
        assert type(engine.grad_array(p)) is np.ndarray and not p.grad.requires_grad
    return [p.grad.data.copy() for p in model.parameters()]


def test_first_order_results_are_unchanged_by_a_previous_create_graph_pass():
    before = _first_order_grads()
    rng = np.random.RandomState(7)
    model = _mlp(5)
    loss = SoftmaxCrossEntropy()(model(rng.randn(8, 3)), rng.randint(0, 2, 8))
    loss.backward(create_graph=True)
    Cube.apply(_leaf()).sum().backward(create_graph=True)
    for p, expected in zip(model.parameters(), before, strict=True):
        assert p.grad.requires_grad
        assert_array_equal(p.grad.data, expected)  # the same numbers, as Tensors of a graph
    model.zero_grad()
    loss.backward()  # first order again, on the graph a create_graph pass went through
    for p, expected in zip(model.parameters(), before, strict=True):
        assert type(engine.grad_array(p)) is np.ndarray and not p.grad.requires_grad
        assert_array_equal(p.grad.data, expected)
    assert ops.Mul.xp is ops.ArrayMath and ops.Affine.xp is ops.ArrayMath
    assert Cube.xp is np
    for after, expected in zip(_first_order_grads(), before, strict=True):
        assert_array_equal(after, expected)


def test_an_in_place_change_before_a_create_graph_backward_raises():
    x, w = _leaf(), Tensor(np.array([2.0, -0.5, 1.5]), requires_grad=True, name="w")
    out = (x * w).tanh().sum()
    w.data = w.data + 1.0
    with pytest.raises(RuntimeError, match=r"'w' \(input 1 of Mul\) was changed in place"):
        out.backward(create_graph=True)
    with pytest.raises(RuntimeError, match=r"'w' \(input 1 of Mul\) was changed in place"):
        grad(out, x, create_graph=True)


def test_an_in_place_change_between_a_create_graph_pass_and_its_second_backward_raises():
    x, w = _leaf(), Tensor(np.array([2.0, -0.5, 1.5]), requires_grad=True, name="w")
    (d_x,) = grad((x * w).tanh().sum(), x, create_graph=True)
    w.data = w.data * 2  # the gradient's graph used the old w
    with pytest.raises(RuntimeError, match=r"'w' .* was changed in place"):
        grad(d_x.sum(), x)


def _second_derivatives(seed: int) -> list[np.ndarray]:
    rng = np.random.RandomState(seed)
    model = _mlp(seed)
    x = Tensor(rng.randn(4, 3), requires_grad=True)
    (d_x,) = grad(model(x).tanh().sum(), x, create_graph=True)
    return [g.data for g in grad((d_x * d_x).sum(), [x, *model.parameters()])]


def test_create_graph_in_two_threads_at_once_gives_the_sequential_results():
    rounds = 20
    sequential = [[_second_derivatives(seed) for _ in range(rounds)] for seed in (0, 1)]

    def work(index: int, barrier: threading.Barrier) -> list:
        barrier.wait(5)
        return [_second_derivatives(index) for _ in range(rounds)]

    results = _in_threads(2, work)
    for threaded, expected in zip(results, sequential, strict=True):
        for run, reference in zip(threaded, expected, strict=True):
            for got, want in zip(run, reference, strict=True):
                assert_array_equal(got, want)


# ---- testing.assert_grad_matches_numeric(order=2) -----------------------------------------------
def test_assert_grad_matches_numeric_order_2_passes_good_ops_and_catches_bad_ones():
    assert_grad_matches_numeric(lambda a: (a * a).tanh(), X, order=2)
    assert_grad_matches_numeric(Cube.apply, X, order=2)
    assert_grad_matches_numeric(ConstantSlope.apply, X)  # order 1 cannot see it
    with pytest.raises(GradcheckError, match=r"second derivative of ConstantSlope"):
        assert_grad_matches_numeric(ConstantSlope.apply, X, order=2)


@pytest.mark.parametrize("order", [0, 3, 1.5, "2"])
def test_assert_grad_matches_numeric_other_orders_are_value_errors(order):
    with pytest.raises(ValueError, match=r"order must be 1 or 2, got"):
        assert_grad_matches_numeric(Cube.apply, X, order=order)


@pytest.mark.parametrize(
    "fn", [lambda x: x.relu().sum(), lambda x: x.abs().sum(), lambda x: x.sum(), lambda x: 2 * x]
)
def test_a_locally_constant_gradient_still_requires_grad_and_differentiates_to_zeros(fn):
    # relu's mask, abs's sign, a linear op's broadcast: constants here, yet functions of x
    x = Tensor(np.array([1.0, -2.0, 3.0]), requires_grad=True)
    out = fn(x)
    out.backward(np.ones(out.shape), create_graph=True)
    assert x.grad.requires_grad
    (second,) = grad(x.grad.sum(), x)
    assert_array_equal(second.data, np.zeros(3))
    (first,) = grad(fn(x).sum(), x, create_graph=True)
    assert first.requires_grad
    assert_array_equal(grad(first.sum(), x)[0].data, np.zeros(3))


def test_detect_anomaly_under_create_graph_names_the_op_whose_backward_it_was():
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)  # sqrt's slope at 0 is inf
    with (
        pytest.raises(
            FloatingPointError, match=r"Div produced NaN or inf.*an op of Sqrt's backward"
        ),
        detect_anomaly(),
    ):
        grad(x.sqrt().sum(), x, create_graph=True)
