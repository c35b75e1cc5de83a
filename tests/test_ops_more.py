"""The ops a custom model reaches for: forward against NumPy (PyTorch where NumPy has none),
first and second derivatives against central differences, PyTorch's edge behaviour, errors."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal
from test_ops import check_op

import tinygrad_nnfs
from tinygrad_nnfs import Tensor, grad
from tinygrad_nnfs.testing import (
    arrays,
    assert_grad_matches_numeric,
    axes_for,
    broadcastable_shapes,
    shapes,
    well_conditioned,
)

POSITIVE = well_conditioned(signed=False)
UNIT = well_conditioned(0.1, 0.9)  # inside arcsin's domain, away from its poles at +-1
_erf = np.vectorize(math.erf, otypes=[float])
SELU_ALPHA, SELU_SCALE = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946


def _softplus(x):
    return np.logaddexp(x, 0)


def _away_from(*kinks: float, high: float = 5.0):
    """Signed floats of magnitude in [0.1, high], more than 0.1 from every kink."""
    return well_conditioned(0.1, high).filter(lambda v: all(abs(v - k) > 0.1 for k in kinks))


def _torch():
    return pytest.importorskip("torch")


# ---- elementwise ----------------------------------------------------------------------------
UNARY = {
    "sin": (Tensor.sin, np.sin, well_conditioned()),
    "cos": (Tensor.cos, np.cos, well_conditioned()),
    "tan": (Tensor.tan, np.tan, well_conditioned(0.1, 1.2)),
    "arcsin": (Tensor.arcsin, np.arcsin, UNIT),
    "arccos": (Tensor.arccos, np.arccos, UNIT),
    "arctan": (Tensor.arctan, np.arctan, well_conditioned()),
    "sinh": (Tensor.sinh, np.sinh, well_conditioned()),
    "cosh": (Tensor.cosh, np.cosh, well_conditioned()),
    "log2": (Tensor.log2, np.log2, POSITIVE),
    "log10": (Tensor.log10, np.log10, POSITIVE),
    "exp2": (Tensor.exp2, np.exp2, well_conditioned()),
    "log1p": (Tensor.log1p, np.log1p, POSITIVE),
    "expm1": (Tensor.expm1, np.expm1, well_conditioned()),
    "erf": (Tensor.erf, _erf, well_conditioned()),
    "rsqrt": (Tensor.rsqrt, lambda x: 1 / np.sqrt(x), POSITIVE),
    "leaky_relu": (Tensor.leaky_relu, lambda x: np.where(x > 0, x, 0.01 * x), well_conditioned()),
    "elu": (Tensor.elu, lambda x: np.where(x > 0, x, np.expm1(x)), well_conditioned()),
    "selu": (
        Tensor.selu,
        lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)),
        well_conditioned(),
    ),
    "gelu": (Tensor.gelu, lambda x: 0.5 * x * (1 + _erf(x / np.sqrt(2))), well_conditioned()),
    "silu": (Tensor.silu, lambda x: x / (1 + np.exp(-x)), well_conditioned()),
    "softplus": (Tensor.softplus, _softplus, well_conditioned(0.1, 30)),
    "mish": (Tensor.mish, lambda x: x * np.tanh(_softplus(x)), well_conditioned()),
    "hardtanh": (Tensor.hardtanh, lambda x: np.clip(x, -1, 1), _away_from(-1, 1)),
    "relu6": (Tensor.relu6, lambda x: np.clip(x, 0, 6), _away_from(6, high=8)),
    "hardsigmoid": (Tensor.hardsigmoid, lambda x: np.clip(x / 6 + 0.5, 0, 1), _away_from(-3, 3)),
    "logsigmoid": (Tensor.logsigmoid, lambda x: -_softplus(-x), well_conditioned(0.1, 30)),
    "softsign": (Tensor.softsign, lambda x: x / (1 + np.abs(x)), well_conditioned()),
    # piecewise constant: the derivative is 0 (elements away from the jumps)
    "sign": (Tensor.sign, np.sign, well_conditioned()),
    "floor": (Tensor.floor, np.floor, _away_from(-2, -1, 1, 2, high=2.9)),
    "ceil": (Tensor.ceil, np.ceil, _away_from(-2, -1, 1, 2, high=2.9)),
    "round": (Tensor.round, np.round, _away_from(-1.5, -0.5, 0.5, 1.5, high=2.4)),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data(), shape=shapes())
def test_unary(name, data, shape):
    method, reference, elements = UNARY[name]
    x = data.draw(arrays(shape, elements=elements))
    check_op(method, reference(x), x)


@pytest.mark.parametrize("name", ["sign", "floor", "ceil", "round"])
def test_piecewise_constant_ops_give_zero_gradients_as_pytorch(name):
    x = Tensor([-1.5, 0.0, 0.5, 2.0], requires_grad=True)
    getattr(x, name)().sum().backward()
    assert_array_equal(x.grad.data, np.zeros(4))


def test_round_takes_decimals_and_rounds_halves_to_even():
    assert_array_equal(Tensor([0.5, 1.5, 2.5, -0.5]).round().data, [0.0, 2.0, 2.0, -0.0])
    assert_allclose(Tensor([1.2345, -2.5678], dtype=np.float64).round(2).data, [1.23, -2.57])


def test_erf_matches_math_erf_and_keeps_the_dtype():
    values = np.concatenate([np.linspace(-6, 6, 241), [0.0, 1e-300, -1e-10, 30.0]])
    assert_array_equal(Tensor(values).erf().data, [math.erf(v) for v in values])
    assert Tensor(values.astype(np.float32)).erf().dtype == np.float32


@given(data=st.data(), shapes=broadcastable_shapes(2), scalar=st.booleans())
def test_logaddexp(data, shapes, scalar):
    x = data.draw(arrays(shapes[0], elements=well_conditioned(0.1, 30)))
    y = data.draw(arrays(shapes[1], elements=well_conditioned(0.1, 30)))
    if scalar:
        check_op(lambda a: a.logaddexp(float(y.flat[0])), np.logaddexp(x, y.flat[0]), x)
    else:
        check_op(Tensor.logaddexp, np.logaddexp(x, y), x, y)


@given(data=st.data(), shapes=broadcastable_shapes(2))
def test_remainder(data, shapes):
    # x = y * quotient with a quotient away from integers: remainder jumps where x / y is one
    y = data.draw(arrays(shapes[1]))
    quotient = data.draw(arrays(shapes[0], elements=_away_from(*range(-3, 4), high=3.0)))
    x = quotient * y
    check_op(lambda a, b: a % b, np.remainder(x, y), x, y)
    check_op(lambda a: a.remainder(1.5), np.remainder(x, 1.5), x)


def test_remainder_follows_the_divisor_sign_and_is_nan_for_zero_as_numpy():
    x, y = np.array([5.5, -5.5, 5.5, 1.0]), np.array([2.0, 2.0, -2.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Tensor(x) % Tensor(y)
        assert_array_equal((7.0 % Tensor(y[:3])).data, np.remainder(7.0, y[:3]))
    with np.errstate(invalid="ignore"):
        assert_array_equal(out.data, np.remainder(x, y))
    a, b = Tensor([5.5], requires_grad=True), Tensor([2.0], requires_grad=True)
    (a % b).sum().backward()
    assert (a.grad.item(), b.grad.item()) == (1.0, -2.0)  # d/dy = -floor(x / y), as PyTorch


def test_isclose_is_numpys_and_has_no_gradient():
    x = Tensor([1.0, 1.0 + 1e-9, 2.0, np.nan], requires_grad=True)
    other = np.array([1.0, 1.0, 2.1, np.nan])
    assert_array_equal(x.isclose(other).data, np.isclose(x.data, other))
    assert x.isclose(other, equal_nan=True).data.tolist() == [True, True, False, True]
    assert x.isclose(Tensor(other), atol=0.2).data.tolist() == [True, True, True, False]
    assert not x.isclose(other).requires_grad
    with pytest.raises(ValueError, match="isclose: rtol"):
        x.isclose(other, rtol=-1)
    with pytest.raises(ValueError, match=r"isclose: shapes \(4,\) and \(3,\)"):
        x.isclose(np.ones(3))


def test_logaddexp_is_exact_for_extremes_and_ties():
    x = np.array([1e4, -1e4, -40.0, np.inf, -np.inf, np.inf, -np.inf, 2.0, 0.0])
    y = np.array([1e4, 0.0, 0.0, np.inf, -np.inf, -np.inf, 3.0, 2.0, -800.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = Tensor(x).logaddexp(y)
    assert_allclose(out.data, np.logaddexp(x, y), rtol=1e-15)
    a = Tensor([2.0], requires_grad=True)
    b = Tensor([2.0], requires_grad=True)
    a.logaddexp(b).sum().backward()
    assert_allclose([a.grad.item(), b.grad.item()], [0.5, 0.5])  # a tie shares it: no kink


def test_softplus_beta_and_stability():
    x = np.array([-800.0, -40.0, 0.0, 40.0, 800.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_allclose(Tensor(x).softplus().data, _softplus(x), rtol=1e-15)
        assert_allclose(Tensor(x).logsigmoid().data, -_softplus(-x), rtol=1e-15)
    check_op(lambda t: t.softplus(beta=2.5), _softplus(2.5 * x[1:4]) / 2.5, x[1:4])


def test_gelu_tanh_approximation():
    x = np.linspace(-3, 3, 13)
    inner = np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)
    check_op(lambda t: t.gelu(approximate="tanh"), 0.5 * x * (1 + np.tanh(inner)), x)


# PyTorch as the reference for the activations NumPy has no function for, and for the
# derivatives at their kinks (0, the bounds of hardtanh, relu6 and hardsigmoid).
TORCH_ACTIVATIONS = {
    "leaky_relu": (lambda t: t.leaky_relu(0.2), lambda F, t: F.leaky_relu(t, 0.2)),
    "elu": (lambda t: t.elu(0.7), lambda F, t: F.elu(t, 0.7)),
    "selu": (Tensor.selu, lambda F, t: F.selu(t)),
    "gelu": (Tensor.gelu, lambda F, t: F.gelu(t)),
    "gelu_tanh": (lambda t: t.gelu("tanh"), lambda F, t: F.gelu(t, approximate="tanh")),
    "silu": (Tensor.silu, lambda F, t: F.silu(t)),
    "softplus": (Tensor.softplus, lambda F, t: F.softplus(t)),
    "mish": (Tensor.mish, lambda F, t: F.mish(t)),
    "hardtanh": (Tensor.hardtanh, lambda F, t: F.hardtanh(t)),
    "relu6": (Tensor.relu6, lambda F, t: F.relu6(t)),
    "hardsigmoid": (Tensor.hardsigmoid, lambda F, t: F.hardsigmoid(t)),
    "logsigmoid": (Tensor.logsigmoid, lambda F, t: F.logsigmoid(t)),
    "softsign": (Tensor.softsign, lambda F, t: F.softsign(t)),
}


@pytest.mark.parametrize("name", TORCH_ACTIVATIONS)
def test_activation_matches_pytorch_also_at_its_kinks(name):
    torch = _torch()
    ours, theirs = TORCH_ACTIVATIONS[name]
    x = np.array([-30.0, -6.0, -3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0, 30.0])
    t = Tensor(x, requires_grad=True)
    out = ours(t)
    out.sum().backward()
    reference = torch.tensor(x, requires_grad=True)
    expected = theirs(torch.nn.functional, reference)
    expected.sum().backward()
    assert_allclose(out.data, expected.detach().numpy(), rtol=1e-12, atol=1e-15)
    # NOTE: PyTorch's hardsigmoid derivative is float32's 1/6, also for float64 input.
    rtol = 1e-7 if name == "hardsigmoid" else 1e-12
    assert_allclose(t.grad.data, reference.grad.numpy(), rtol=rtol, atol=1e-15)


# ---- selection --------------------------------------------------------------------------------
@given(data=st.data(), shapes=broadcastable_shapes(3))
def test_where(data, shapes):
    condition = data.draw(arrays(shapes[0], dtype=np.bool_, elements=st.booleans()))
    x = data.draw(arrays(shapes[1]))
    y = data.draw(arrays(shapes[2]))
    expected = np.where(condition, x, y)
    check_op(lambda a, b: tinygrad_nnfs.where(condition, a, b), expected, x, y)
    check_op(lambda a, b: Tensor.where(Tensor(condition), a, b), expected, x, y)
    check_op(lambda a: Tensor(condition).where(a, 0.5), np.where(condition, x, 0.5), x)


def test_where_gradient_flows_to_each_branch_by_the_mask_as_pytorch():
    torch = _torch()
    condition = np.array([[True, False, True], [False, False, True]])
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)  # broadcast over the rows
    y = Tensor(np.full((2, 3), 5.0), requires_grad=True)
    (tinygrad_nnfs.where(condition, x, y) * 2).sum().backward()
    tx = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
    ty = torch.full((2, 3), 5.0, requires_grad=True)
    (torch.where(torch.tensor(condition), tx, ty) * 2).sum().backward()
    assert_array_equal(x.grad.data, tx.grad.numpy())
    assert_array_equal(y.grad.data, ty.grad.numpy())


@given(data=st.data(), shape=shapes(min_dims=1), value=st.sampled_from([0.0, -1.5, -np.inf]))
def test_masked_fill(data, shape, value):
    x = data.draw(arrays(shape))
    mask = data.draw(arrays(shape[1:], dtype=np.bool_, elements=st.booleans()))  # broadcasts
    expected = np.where(mask, value, x)
    out = Tensor(x).masked_fill(mask, value)
    assert_array_equal(out.data, expected)
    if np.isfinite(value):
        check_op(lambda a: a.masked_fill(Tensor(mask), value), expected, x)


# ---- statistics and running reductions ---------------------------------------------------------
@given(data=st.data(), shape=shapes(), keepdims=st.booleans(), ddof=st.sampled_from([0, 1]))
def test_var_std(data, shape, keepdims, ddof):
    x = data.draw(arrays(shape, unique=True))
    axis = data.draw(axes_for(shape))
    count = x.size // max(np.var(x, axis=axis).size, 1)
    assume(count > ddof)
    check_op(
        lambda a: a.var(axis, keepdims, ddof), np.var(x, axis, keepdims=keepdims, ddof=ddof), x
    )
    check_op(
        lambda a: a.std(axis=axis, keepdims=keepdims, ddof=ddof),
        np.std(x, axis, keepdims=keepdims, ddof=ddof),
        x,
    )


def test_std_of_constant_values_has_pytorchs_zero_gradient():
    torch = _torch()
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x.std(axis=1)
        out.sum().backward()
    reference = torch.ones((2, 3), dtype=torch.float64, requires_grad=True)
    reference.std(dim=1, correction=0).sum().backward()
    assert_array_equal(out.data, [0.0, 0.0])
    assert_array_equal(x.grad.data, reference.grad.numpy())  # 0, not NaN
    (second,) = grad(x.std(), x, create_graph=True)
    assert_array_equal(second.data, np.zeros((2, 3)))


def test_var_without_degrees_of_freedom_is_inf_or_nan_as_numpy():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy warns about the degrees of freedom
        expected = np.var([[1.0], [3.0]], axis=1, ddof=1)
    assert_array_equal(Tensor([[1.0], [3.0]]).var(axis=1, ddof=1).data, expected)


@settings(max_examples=15)
@given(data=st.data(), shape=shapes(max_side=4), keepdims=st.booleans())
def test_prod(data, shape, keepdims):
    x = data.draw(arrays(shape))
    axis = data.draw(axes_for(shape))
    check_op(lambda a: a.prod(axis, keepdims), np.prod(x, axis, keepdims=keepdims), x)


@given(data=st.data(), shape=shapes(min_dims=1))
def test_cumsum_cumprod(data, shape):
    x = data.draw(arrays(shape))
    axis = data.draw(st.none() | st.integers(-len(shape), len(shape) - 1))
    check_op(lambda a: a.cumsum(axis), np.cumsum(x, axis), x)
    check_op(lambda a: a.cumprod(axis=axis), np.cumprod(x, axis), x)


def test_scans_and_reductions_take_0d_tensors():
    x = np.array(1.5)
    for op in (Tensor.cumsum, Tensor.cumprod, lambda t, axis: t.cummax(axis).values):
        check_op(lambda a, op=op: op(a, 0), x, x)
    check_op(Tensor.prod, x, x)
    check_op(Tensor.flip, x, x)
    assert Tensor(x).var().item() == 0.0


ZEROS = [
    np.array([[0.5, 0.0, 2.0, -1.5, 0.0, 3.0, 0.7], [1.2, -0.8, 0.9, 1.1, 0.0, 1.3, 2.0]]),
    np.array([[0.0, 0.0, 2.0], [1.5, 0.0, 0.0]]),
    np.array([[0.0, 2.0, -1.0]]),
]


@pytest.mark.parametrize("x", ZEROS)
@pytest.mark.parametrize("name", ["cumprod", "prod"])
def test_products_with_zeros_take_pytorchs_first_and_second_derivatives(x, name):
    torch = _torch()
    rng = np.random.default_rng(0)
    direction = rng.normal(size=x.shape)
    ours = Tensor(x, requires_grad=True)
    reference = torch.tensor(x, requires_grad=True)
    out, expected = getattr(ours, name)(axis=1), getattr(reference, name)(dim=1)
    cotangent = rng.normal(size=out.shape)
    (first,) = grad(out, ours, cotangent, create_graph=True)
    (expected_first,) = torch.autograd.grad(
        expected, reference, torch.tensor(cotangent), create_graph=True
    )
    assert_allclose(first.data, expected_first.detach().numpy(), rtol=1e-12, atol=1e-15)
    (second,) = grad((first * direction).sum(), ours)
    (expected_second,) = torch.autograd.grad(
        (expected_first * torch.tensor(direction)).sum(), reference
    )
    assert_allclose(second.data, expected_second.numpy(), rtol=1e-12, atol=1e-15)
    assert_grad_matches_numeric(lambda t: getattr(t, name)(1), x, order=2)


def test_cummax_matches_pytorch_values_indices_and_gradient():
    torch = _torch()
    x = np.array([[1.0, 3.0, 3.0, 2.0, 3.0, 5.0], [-1.0, -2.0, 0.5, 0.5, 0.1, 0.0]])
    ours = Tensor(x, requires_grad=True)
    values, indices = ours.cummax(1)
    reference = torch.tensor(x, requires_grad=True)
    expected = torch.cummax(reference, dim=1)
    assert_array_equal(values.data, expected.values.detach().numpy())
    assert_array_equal(indices.data, expected.indices.numpy())  # ties: the latest index
    weights = np.arange(12.0).reshape(2, 6)
    (values * weights).sum().backward()
    (expected.values * torch.tensor(weights)).sum().backward()
    assert_array_equal(ours.grad.data, reference.grad.numpy())
    assert not indices.requires_grad


@given(data=st.data(), shape=shapes(min_dims=1))
def test_cummax(data, shape):
    x = data.draw(arrays(shape, unique=True))  # ties move the gradient in a jump
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda a: a.cummax(axis).values, np.maximum.accumulate(x, axis), x)


# ---- rearranging --------------------------------------------------------------------------------
@given(data=st.data(), shape=shapes())
def test_flip(data, shape):
    x = data.draw(arrays(shape))
    axis = data.draw(axes_for(shape))
    check_op(lambda a: a.flip(axis), np.flip(x, axis), x)


@given(
    data=st.data(),
    shape=shapes(min_dims=1),
    mode=st.sampled_from(["constant", "edge", "reflect", "symmetric", "wrap"]),
)
def test_pad(data, shape, mode):
    x = data.draw(arrays(shape))
    widths = data.draw(
        st.lists(
            st.tuples(st.integers(0, 3), st.integers(0, 3)),
            min_size=len(shape),
            max_size=len(shape),
        )
    )
    expected = np.pad(x, widths, mode=mode)
    if mode == "constant":
        check_op(lambda a: a.pad(widths, value=1.5), np.pad(x, widths, constant_values=1.5), x)
    check_op(lambda a: a.pad(widths, mode=mode), expected, x)
    check_op(lambda a: a.pad(2, mode=mode), np.pad(x, 2, mode=mode), x)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_pad_matches_pytorch_modes(mode):
    torch = _torch()
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    flat = (1, 2, 2, 1)  # PyTorch's order: last axis first
    ours = Tensor(x).pad(((0, 0), (0, 0), (2, 1), (1, 2)), mode=mode)
    expected = torch.nn.functional.pad(torch.tensor(x), flat, mode=mode)
    assert_array_equal(ours.data, expected.numpy())


@given(data=st.data(), shape=shapes(max_dims=2, max_side=3))
def test_tile_and_repeat(data, shape):
    x = data.draw(arrays(shape))
    reps = tuple(data.draw(st.lists(st.integers(1, 3), min_size=len(shape), max_size=3)))
    check_op(lambda a: a.tile(reps), np.tile(x, reps), x)
    check_op(lambda a: a.repeat(*reps), np.tile(x, reps), x)  # torch.Tensor.repeat is np.tile
    check_op(lambda a: a.tile(2), np.tile(x, 2), x)


@given(data=st.data(), shape=shapes(min_dims=1, max_side=6))
def test_split_and_chunk_as_pytorch(data, shape):
    torch = _torch()
    x = data.draw(arrays(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    length = shape[axis]
    size = data.draw(st.integers(1, length + 1))
    cut = data.draw(st.integers(0, length))
    reference = torch.tensor(x)
    for ours, expected in [
        (Tensor(x).split(size, axis), reference.split(size, axis)),
        (
            Tensor(x).split([cut, length - cut], axis=axis),
            reference.split([cut, length - cut], axis),
        ),
        (Tensor(x).chunk(size, axis), reference.chunk(size, axis)),
    ]:
        assert len(ours) == len(expected)
        for piece, expected_piece in zip(ours, expected, strict=True):
            assert_array_equal(piece.data, expected_piece.numpy())
    expected = np.concatenate([p * (i + 1) for i, p in enumerate(np.array_split(x, 2, axis))], axis)
    check_op(
        lambda a: Tensor.concatenate([p * (i + 1) for i, p in enumerate(a.chunk(2, axis))], axis),
        expected,
        x,
    )


def _index_for(data, shape, axis, src_shape=None):
    """An index for gather/scatter_add: as many dimensions as shape, at most its sides off axis."""
    sides = [data.draw(st.integers(1, side)) for side in shape]
    sides[axis] = data.draw(st.integers(1, 5))
    return data.draw(arrays(tuple(sides), dtype=np.int64, elements=st.integers(0, shape[axis] - 1)))


@given(data=st.data(), shape=shapes(min_dims=1))
def test_gather(data, shape):
    x = data.draw(arrays(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    index = _index_for(data, shape, axis)
    window = tuple(
        slice(0, side) if a != axis % len(shape) else slice(None)
        for a, side in enumerate(index.shape)
    )
    expected = np.take_along_axis(x[window], index, axis)
    check_op(lambda a: a.gather(axis, index), expected, x)
    check_op(lambda a: a.gather(axis, Tensor(index)), expected, x)


@given(data=st.data(), shape=shapes(min_dims=1))
def test_scatter_add(data, shape):
    x = data.draw(arrays(shape))
    axis = data.draw(st.integers(0, len(shape) - 1))
    index = _index_for(data, shape, axis)
    src = data.draw(arrays(tuple(side + data.draw(st.integers(0, 1)) for side in index.shape)))
    expected = x.copy()
    for position in np.ndindex(index.shape):  # torch.scatter_add's definition, element by element
        target = list(position)
        target[axis] = index[position]
        expected[tuple(target)] += src[position]
    check_op(lambda a, s: a.scatter_add(axis, index, s), expected, x, src)


def test_scatter_add_and_gather_match_pytorch():
    torch = _torch()
    x = np.arange(12.0).reshape(3, 4)
    index = np.array([[0, 1, 2, 0], [2, 2, 0, 1]])
    src = np.ones((2, 4)) * 10
    expected = torch.tensor(x).scatter_add(0, torch.tensor(index), torch.tensor(src))
    assert_array_equal(Tensor(x).scatter_add(0, index, src).data, expected.numpy())
    expected = torch.tensor(x).gather(1, torch.tensor(index[:, :3]))
    assert_array_equal(Tensor(x).gather(1, index[:, :3]).data, expected.numpy())


def test_one_hot_as_pytorch():
    torch = _torch()
    labels = np.array([[0, 2], [1, 1]])
    expected = torch.nn.functional.one_hot(torch.tensor(labels), 3).numpy()
    out = tinygrad_nnfs.one_hot(labels, 3)
    assert_array_equal(out.data, expected, strict=True)
    assert_array_equal(Tensor(labels).one_hot(3, dtype=np.float32).data, expected)
    assert Tensor(labels).one_hot(3, dtype=np.float32).dtype == np.float32
    assert not out.requires_grad


# ---- tests (no gradient) ---------------------------------------------------------------------
@given(data=st.data(), shape=shapes(), keepdims=st.booleans())
def test_isnan_isinf_isfinite_any_all(data, shape, keepdims):
    special = st.sampled_from([0.0, 1.5, np.nan, np.inf, -np.inf])
    x = data.draw(arrays(shape, elements=special))
    axis = data.draw(axes_for(shape))
    t = Tensor(x, requires_grad=True)
    for name in ("isnan", "isinf", "isfinite"):
        out = getattr(t, name)()
        assert_array_equal(out.data, getattr(np, name)(x), strict=True)
        assert not out.requires_grad
    for name in ("any", "all"):
        out = getattr(t, name)(axis=axis, keepdims=keepdims)
        assert_array_equal(out.data, getattr(np, name)(x, axis=axis, keepdims=keepdims))
        assert out.dtype == np.bool_


# ---- dtypes -------------------------------------------------------------------------------------
FLOAT32_KEPT = {
    "softplus": Tensor.softplus,
    "gelu": Tensor.gelu,
    "mish": Tensor.mish,
    "elu": Tensor.elu,
    "hardsigmoid": Tensor.hardsigmoid,
    "logaddexp": lambda t: t.logaddexp(0.5),
    "std": Tensor.std,
    "var": lambda t: t.var(axis=0, ddof=1),
    "prod": Tensor.prod,
    "cumprod": lambda t: t.cumprod(0),
    "pad": lambda t: t.pad(1, value=2.5),
    "where": lambda t: tinygrad_nnfs.where(t.data > 0, t, 0.0),
    "masked_fill": lambda t: t.masked_fill(t.data > 0, -1.0),
    "erf": Tensor.erf,
    "log1p": lambda t: t.abs().log1p(),
}


@pytest.mark.parametrize("name", FLOAT32_KEPT)
def test_ops_keep_float32(name):
    x = Tensor(np.array([-1.5, 0.5, 2.0], dtype=np.float32), requires_grad=True)
    out = FLOAT32_KEPT[name](x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


# ---- bad arguments ------------------------------------------------------------------------
X = Tensor(np.arange(6.0).reshape(2, 3))
BAD_ARGUMENTS = [
    (lambda: X.where(1.0, 2.0), TypeError, r"where: the condition must be a bool tensor.*float64"),
    (lambda: tinygrad_nnfs.where([1, 0], 1.0, 2.0), TypeError, r"where: .*int64.*condition first"),
    (lambda: X.masked_fill(X.data, 0.0), TypeError, r"masked_fill: mask must be bool"),
    (lambda: X.masked_fill(np.ones((3, 3), bool), 0.0), ValueError, r"masked_fill: .*\(3, 3\)"),
    (lambda: X.pad(-1), ValueError, r"pad: pad_width -1 holds a negative width"),
    (
        lambda: X.pad((1, 2, 3, 4)),
        ValueError,
        r"pad: pad_width \(1, 2, 3, 4\) does not fit.*PyTorch",
    ),
    (lambda: X.pad(1.5), TypeError, r"pad: pad_width must hold ints, got 1.5"),
    (lambda: X.pad(1, mode="mirror"), ValueError, r"pad: mode must be one of.*'mirror'"),
    (lambda: X.pad(1, mode="edge", value=3), ValueError, r"pad: value \(3\) is used only by"),
    (lambda: X.split([1, 1], axis=1), ValueError, r"split: section sizes \[1, 1\].*add up to 3"),
    (lambda: X.split(0), ValueError, r"split: split_size must be >= 1, got 0"),
    (lambda: X.split(1.5), TypeError, r"split: split_size_or_sections must be an int"),
    (lambda: X.chunk(0), ValueError, r"chunk: chunks must be >= 1, got 0"),
    (lambda: Tensor(1.0).chunk(2), ValueError, r"chunk: a 0-d tensor has no axis"),
    (lambda: X.gather(1, np.array([0, 1])), ValueError, r"gather: index has 1 dimensions.*2"),
    (lambda: X.gather(1, np.array([[3]])), ValueError, r"gather: index 3 is out of range.*size 3"),
    (lambda: X.gather(1, np.array([[0.0]])), TypeError, r"gather: index must hold integers"),
    (lambda: X.gather(0, np.zeros((1, 4), int)), ValueError, r"gather: index of shape \(1, 4\)"),
    (lambda: X.gather(2, np.zeros((1, 1), int)), ValueError, r"gather: axis 2 is out of range"),
    (
        lambda: X.scatter_add(0, np.zeros((2, 3), int), np.ones((1, 3))),
        ValueError,
        r"scatter_add: src of shape \(1, 3\)",
    ),
    (
        lambda: tinygrad_nnfs.one_hot([0, 3], 3),
        ValueError,
        r"one_hot: label 3 is out of range for 3",
    ),
    (lambda: tinygrad_nnfs.one_hot([0, -1], 3), ValueError, r"one_hot: label -1"),
    (lambda: tinygrad_nnfs.one_hot([0.0], 3), TypeError, r"one_hot: labels must be integer"),
    (lambda: tinygrad_nnfs.one_hot([0], 0), ValueError, r"one_hot: classes must be >= 1, got 0"),
    (lambda: X.cumsum((0, 1)), TypeError, r"cumsum: axis must be an int, got tuple"),
    (lambda: X.cumprod(2), ValueError, r"cumprod: axis 2 is out of range"),
    (lambda: X.cummax(-3), ValueError, r"cummax: axis -3 is out of range"),
    (lambda: X.var(ddof=-1), ValueError, r"var: ddof must be >= 0, got -1"),
    (lambda: X.std(axis=(0, 0)), ValueError, r"std: axis \(0, 0\) repeats an axis"),
    (lambda: Tensor([1, 2]).std(), TypeError, r"std: expected a float tensor, got dtype int64"),
    (lambda: X.prod(axis=3), ValueError, r"prod: axis 3 is out of range"),
    (lambda: X.flip(axis=5), ValueError, r"flip: axis 5 is out of range"),
    (lambda: X.gelu("fast"), ValueError, r"gelu: approximate must be 'none' or 'tanh'"),
    (lambda: X.hardtanh(1.0, -1.0), ValueError, r"hardtanh: min_val \(1.0\) must not exceed"),
    (lambda: X.leaky_relu("0.1"), TypeError, r"leaky_relu: slope must be a number"),
    (lambda: X.softplus(beta=0), ValueError, r"softplus: beta must be > 0"),
    (lambda: X.repeat(2), ValueError, r"repeat: got 1 sizes for a tensor with 2 dimensions"),
    (lambda: X.tile(-1), ValueError, r"tile: repetitions \(-1,\) must be >= 0"),
    (lambda: X.round(1.5), TypeError, r"round: decimals must be an int"),
    (lambda: X.logaddexp("a"), TypeError, r"logaddexp: unsupported operand of type str"),
]


@pytest.mark.parametrize(("call", "error", "message"), BAD_ARGUMENTS)
def test_bad_arguments_name_the_op_and_the_value(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_pow_by_zero_differentiates_twice():
    # x ** 0's gradient is a constant 0: under create_graph it must still be a graph Tensor
    x = Tensor([1.5, -2.0], requires_grad=True, dtype=np.float64)
    (first,) = grad((x**0).sum(), x, create_graph=True)
    assert_array_equal(first.data, [0.0, 0.0])
    assert_grad_matches_numeric(lambda t: t**0 * t, np.array([1.5, 2.0]), order=2)


def test_reductions_over_an_empty_axis_answer_clearly():
    empty = Tensor(np.zeros((0, 3)), requires_grad=True)
    assert empty.softmax(axis=0).shape == empty.log_softmax(axis=0).shape == (0, 3)  # PyTorch's
    for op in ("var", "std"):
        with pytest.raises(ValueError, match=rf"^{op}: a tensor of shape \(0, 3\) has no elements"):
            getattr(empty, op)(axis=0)


def test_logaddexp_names_itself_when_shapes_do_not_broadcast():
    with pytest.raises(ValueError, match=r"^logaddexp: shapes \(3, 4\) and \(3,\) do not"):
        Tensor(np.ones((3, 4))).logaddexp(Tensor(np.ones(3)))
