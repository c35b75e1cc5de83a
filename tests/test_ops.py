"""Every primitive op: forward against NumPy, gradients against float64 central differences."""

from __future__ import annotations

import operator
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import basic_indices
from numpy.testing import assert_allclose, assert_array_equal

from tinygrad_nnfs import Tensor, detect_anomaly, grad, manual_seed, ops
from tinygrad_nnfs.testing import (
    arrays,
    assert_grad_matches_numeric,
    axes_for,
    broadcastable_shapes,
    shapes,
    well_conditioned,
)

POSITIVE = well_conditioned(signed=False)


def check_op(fn: Callable[..., Tensor], expected: np.ndarray, *inputs: np.ndarray) -> None:
    """fn on Tensors gives `expected`, leaves its inputs untouched and passes gradcheck."""
    copies = [x.copy() for x in inputs]
    tensors = [Tensor(x, requires_grad=True) for x in inputs]
    out = fn(*tensors)
    assert isinstance(out, Tensor)
    assert out.shape == np.shape(expected)
    assert out.dtype == np.float64
    assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    out.sum().backward()
    assert all(t.grad.shape == t.shape for t in tensors)
    for x, copy in zip(inputs, copies, strict=True):
        assert_array_equal(x, copy)
    assert_grad_matches_numeric(fn, *inputs, order=2)


# ---- binary arithmetic -----------------------------------------------------------------------
BINARY = {
    "add": (operator.add, well_conditioned(), well_conditioned()),
    "sub": (operator.sub, well_conditioned(), well_conditioned()),
    "mul": (operator.mul, well_conditioned(), well_conditioned()),
    "truediv": (operator.truediv, well_conditioned(), POSITIVE),
    "pow": (operator.pow, POSITIVE, well_conditioned()),
}


@pytest.mark.parametrize("name", BINARY)
@given(data=st.data(), shapes=broadcastable_shapes(2))
def test_binary_tensor_tensor(name, data, shapes):
    op, x_elements, y_elements = BINARY[name]
    x = data.draw(arrays(shapes[0], elements=x_elements))
    y = data.draw(arrays(shapes[1], elements=y_elements))
    check_op(op, op(x, y), x, y)


@pytest.mark.parametrize("name", BINARY)
@pytest.mark.parametrize("tensor_side", ["left", "right"])
@given(data=st.data(), shapes=broadcastable_shapes(2), scalar=st.booleans())
def test_binary_with_ndarray_or_scalar_operand(name, tensor_side, data, shapes, scalar):
    op, x_elements, y_elements = BINARY[name]
    x = data.draw(arrays(shapes[0], elements=x_elements))
    y = data.draw(arrays(shapes[1], elements=y_elements))
    if scalar:
        x, y = (float(x.flat[0]), y) if tensor_side == "right" else (x, float(y.flat[0]))
    if tensor_side == "left":
        check_op(lambda a: op(a, y), op(x, y), x)
    else:
        check_op(lambda b: op(x, b), op(x, y), y)


# ---- unary elementwise ----------------------------------------------------------------------
UNARY = {
    "neg": (operator.neg, np.negative, well_conditioned()),
    "exp": (Tensor.exp, np.exp, well_conditioned()),
    "log": (Tensor.log, np.log, POSITIVE),
    "sqrt": (Tensor.sqrt, np.sqrt, POSITIVE),
    "square": (Tensor.square, np.square, well_conditioned()),
    "abs": (Tensor.abs, np.abs, well_conditioned()),
    "relu": (Tensor.relu, lambda x: np.maximum(x, 0), well_conditioned()),
    "sigmoid": (Tensor.sigmoid, lambda x: 1 / (1 + np.exp(-x)), well_conditioned()),
    "tanh": (Tensor.tanh, np.tanh, well_conditioned()),
}


@pytest.mark.parametrize("name", UNARY)
@given(data=st.data(), shape=shapes())
def test_unary(name, data, shape):
    method, reference, elements = UNARY[name]
    x = data.draw(arrays(shape, elements=elements))
    check_op(method, reference(x), x)


# The derivatives the book writes with Python numbers: ops take 0 and 1 as 0-d arrays of the
# tensor's dtype, which must change no bit.
BOOK_DERIVATIVES = {
    "relu": (Tensor.relu, lambda x, out, grad: grad * (out > 0)),
    "sigmoid": (Tensor.sigmoid, lambda x, out, grad: grad * (1 - out) * out),
    "tanh": (Tensor.tanh, lambda x, out, grad: grad * (1 - out * out)),
    "square": (Tensor.square, lambda x, out, grad: 2 * grad * x),  # the book's 2 * l2 * w
}


@pytest.mark.parametrize("name", BOOK_DERIVATIVES)
@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@given(data=st.data(), shape=shapes())
def test_unary_derivatives_give_the_book_formulas_bits(name, dtype, data, shape):
    method, derivative = BOOK_DERIVATIVES[name]
    x = data.draw(arrays(shape, dtype=dtype, elements=well_conditioned()))
    grad = data.draw(arrays(shape, dtype=dtype, elements=well_conditioned()))
    t = Tensor(x, requires_grad=True)
    out = method(t)
    out.backward(grad)
    assert out.dtype == t.grad.dtype == dtype
    assert_array_equal(t.grad.data, derivative(x, out.data, grad), strict=True)


def test_relu_keeps_integer_and_bool_dtypes():
    for values in ([-2, 0, 3], [True, False]):
        x = np.array(values)
        out = Tensor(x).relu()
        assert_array_equal(out.data, np.maximum(x, np.zeros((), x.dtype)), strict=True)


def test_unary_book_conventions_at_zero():
    x = Tensor([0.0, 0.0], requires_grad=True)
    (x.relu() + x.abs()).sum().backward()
    assert_array_equal(x.grad.data, [1.0, 1.0])  # relu'(0) = 0, |x|'(0) = +1


# NOTE: elements keep away from the bounds +-1, where clip's derivative jumps.
@given(
    data=st.data(),
    shape=shapes(),
    bounds=st.sampled_from([(-1.0, 1.0), (None, 1.0), (-1.0, None)]),
)
def test_clip(data, shape, bounds):
    elements = st.one_of(well_conditioned(0.1, 0.9), well_conditioned(1.1, 2.0))
    x = data.draw(arrays(shape, elements=elements))
    check_op(lambda a: a.clip(*bounds), np.clip(x, *bounds), x)


def test_clip_gradient_passes_on_the_bounds():
    x = Tensor([-2.0, -1.0, 0.5, 1.0, 2.0], requires_grad=True)
    x.clip(-1.0, 1.0).sum().backward()
    assert_array_equal(x.grad.data, [0.0, 1.0, 1.0, 1.0, 0.0])


def test_clip_rejects_inverted_bounds():
    with pytest.raises(ValueError, match=r"clip: lo \(1\.0\) must not exceed hi \(-1\.0\)"):
        Tensor([0.0]).clip(1.0, -1.0)


# NOTE: |x| <= 1 < |y|, so x and y never tie and both win somewhere.
@pytest.mark.parametrize(("name", "reference"), [("maximum", np.maximum), ("minimum", np.minimum)])
@given(data=st.data(), shapes=broadcastable_shapes(2), scalar=st.booleans())
def test_maximum_minimum(name, reference, data, shapes, scalar):
    x = data.draw(arrays(shapes[0], elements=well_conditioned(0.1, 1.0)))
    y = data.draw(arrays(shapes[1], elements=well_conditioned(1.1, 2.0)))
    if scalar:
        check_op(lambda a: getattr(a, name)(float(y.flat[0])), reference(x, y.flat[0]), x)
    else:
        check_op(lambda a, b: getattr(a, name)(b), reference(x, y), x, y)


def test_maximum_minimum_ties_split_gradient():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = Tensor([1.0, 1.0, 3.0], requires_grad=True)
    (x.maximum(y) + x.minimum(y) * 2).sum().backward()
    assert_array_equal(x.grad.data, [1.5, 1.0, 1.5])
    assert_array_equal(y.grad.data, [1.5, 2.0, 1.5])


# ---- reductions -----------------------------------------------------------------------------
def _logsumexp(x: np.ndarray, axis: Any, keepdims: bool) -> np.ndarray:
    return np.log(np.sum(np.exp(x), axis=axis, keepdims=keepdims))


REDUCTIONS = {
    "sum": (np.sum, False),
    "mean": (np.mean, False),
    "logsumexp": (_logsumexp, False),
    "max": (np.max, True),
    "min": (np.min, True),
}


@pytest.mark.parametrize("name", REDUCTIONS)
@given(data=st.data(), shape=shapes(), keepdims=st.booleans())
def test_reduction(name, data, shape, keepdims):
    reference, unique = REDUCTIONS[name]
    x = data.draw(arrays(shape, unique=unique))
    axis = data.draw(axes_for(shape))
    check_op(
        lambda a: getattr(a, name)(axis=axis, keepdims=keepdims),
        reference(x, axis=axis, keepdims=keepdims),
        x,
    )


@pytest.mark.parametrize("name", ["max", "min"])
def test_reduction_ties_split_gradient(name):
    x = Tensor([[2.0, 2.0, 0.0], [-1.0, -1.0, -1.0]], requires_grad=True)
    getattr(x, name)(axis=1).sum().backward()
    expected = [[0.5, 0.5, 0.0], [1 / 3] * 3] if name == "max" else [[0, 0, 1], [1 / 3] * 3]
    assert_allclose(x.grad.data, expected, rtol=1e-6)


@pytest.mark.parametrize("name", REDUCTIONS)
@pytest.mark.parametrize("axis", [2, -3, (0, 0), (1, -1), (0, 2)])
def test_reduction_bad_axis_names_op(name, axis):
    with pytest.raises(ValueError, match=rf"{name}: axis .* (out of range|repeats)"):
        getattr(Tensor(np.ones((2, 3))), name)(axis=axis)


def test_logsumexp_large_logits_are_finite():
    x = Tensor(np.array([[1e4, 0.0], [-1e4, -1e4]]), requires_grad=True)
    out = x.logsumexp(axis=1)
    assert_allclose(out.data, [1e4, -1e4 + np.log(2)], rtol=1e-12)
    out.sum().backward()
    assert_allclose(x.grad.data, [[1.0, 0.0], [0.5, 0.5]])


# ---- shape ------------------------------------------------------------------------------------
@given(data=st.data(), shape=shapes())
def test_reshape(data, shape):
    x = data.draw(arrays(shape))
    new_shape = data.draw(st.permutations(shape).map(tuple))
    check_op(lambda a: a.reshape(*new_shape), x.reshape(new_shape), x)
    check_op(lambda a: a.reshape(new_shape), x.reshape(new_shape), x)
    check_op(lambda a: a.reshape(-1), x.reshape(-1), x)


@pytest.mark.parametrize("ndim", [0, 1, 2, 3, 4])
@given(data=st.data(), reverse=st.booleans())
def test_transpose(ndim, data, reverse):
    shape = data.draw(shapes(min_dims=ndim, max_dims=ndim, max_side=3))
    x = data.draw(arrays(shape))
    if reverse:
        check_op(lambda a: a.transpose(), np.transpose(x), x)
        check_op(lambda a: a.T, x.T, x)
    else:
        axes = data.draw(st.permutations(range(ndim)).map(tuple))
        check_op(lambda a: a.transpose(*axes), np.transpose(x, axes), x)
        check_op(lambda a: a.transpose(axes), np.transpose(x, axes), x)


@given(data=st.data(), shape=shapes())
def test_flatten(data, shape):
    x = data.draw(arrays(shape))
    ndim = max(len(shape), 1)
    start = data.draw(st.integers(0, ndim - 1))
    end = data.draw(st.integers(start, ndim - 1))
    negative_end = end - ndim
    expected = x.reshape(*shape[:start], -1, *shape[end + 1 :])
    check_op(lambda a: a.flatten(), x.reshape(-1), x)
    check_op(lambda a: a.flatten(start, end), expected, x)
    check_op(lambda a: a.flatten(start, negative_end), expected, x)


@given(data=st.data(), shapes=broadcastable_shapes(2))
def test_expand(data, shapes):
    x = data.draw(arrays(shapes[0]))
    target = np.broadcast_shapes(*shapes)
    check_op(lambda a: a.expand(*target), np.broadcast_to(x, target), x)
    lead = target[: len(target) - x.ndim]
    keep = (*lead, *(-1,) * x.ndim)  # -1 keeps x's own side
    check_op(lambda a: a.expand(keep), np.broadcast_to(x, (*lead, *x.shape)), x)


@given(data=st.data(), shape=shapes(max_side=2))
def test_squeeze_unsqueeze(data, shape):
    x = data.draw(arrays(shape))
    ones = [i for i, side in enumerate(shape) if side == 1]
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    check_op(lambda a: a.squeeze(), np.squeeze(x), x)
    check_op(lambda a: a.squeeze(tuple(ones)), np.squeeze(x, tuple(ones)), x)
    check_op(lambda a: a.unsqueeze(axis), np.expand_dims(x, axis), x)


def test_squeeze_non_unit_axis_names_shape():
    with pytest.raises(ValueError, match=r"squeeze: shape \(2, 3\), axis 0"):
        Tensor(np.ones((2, 3))).squeeze(0)


def _indices(shape: tuple[int, ...]) -> Any:
    """Indexes for `shape`: basic (slices, ints, ellipsis), integer arrays, boolean masks."""
    n = shape[0]
    integer_array = st.lists(st.integers(-n, n - 1), min_size=1, max_size=2 * n).map(np.array)
    options = [
        basic_indices(shape, allow_ellipsis=True),
        integer_array,
        arrays(shape, dtype=bool, elements=st.booleans()),
        arrays(shape[:1], dtype=bool, elements=st.booleans()),
    ]
    if len(shape) > 1:
        options.append(st.tuples(integer_array, st.slices(shape[1])))
        options.append(st.tuples(st.integers(-n, n - 1), integer_array.map(lambda i: i % shape[1])))
    return st.one_of(*options)


@given(data=st.data(), shape=shapes(min_dims=1))
def test_index(data, shape):
    x = data.draw(arrays(shape))
    index = data.draw(_indices(shape))
    check_op(lambda a: a[index], x[index], x)


def test_index_repeated_integers_accumulate():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    x[np.array([0, 2, 0, 0])].sum().backward()
    assert_array_equal(x.grad.data, [3.0, 0.0, 1.0])
    assert_array_equal(x[[1, 1]].data, [2.0, 2.0])


def test_index_with_tensors_and_out_of_range():
    x = Tensor(np.arange(6.0).reshape(2, 3))
    assert_array_equal(x[Tensor([1, 0])].data, [[3.0, 4.0, 5.0], [0.0, 1.0, 2.0]])
    assert_array_equal(x[Tensor([True, False]), Tensor([2])].data, [2.0])
    with pytest.raises(IndexError, match=r"Index: .* \(tensor shape \(2, 3\)\)"):
        x[5]


@given(data=st.data(), shape=shapes(min_dims=1, max_side=3), count=st.integers(1, 3))
def test_concatenate(data, shape, count):
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    sides = data.draw(st.lists(st.integers(1, 3), min_size=count, max_size=count))
    parts = [
        data.draw(arrays((*shape[: axis % len(shape)], side, *shape[axis % len(shape) + 1 :])))
        for side in sides
    ]
    check_op(
        lambda *ts: Tensor.concatenate(ts, axis=axis), np.concatenate(parts, axis=axis), *parts
    )


@given(data=st.data(), shape=shapes(max_side=3), count=st.integers(1, 3))
def test_stack(data, shape, count):
    axis = data.draw(st.integers(-len(shape) - 1, len(shape)))
    parts = [data.draw(arrays(shape)) for _ in range(count)]
    check_op(lambda *ts: Tensor.stack(ts, axis=axis), np.stack(parts, axis=axis), *parts)


def test_concatenate_mixes_constants_and_lists():
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = Tensor.concatenate([x, np.array([3.0]), [4.0]])
    assert_array_equal(out.data, [1.0, 2.0, 3.0, 4.0])
    (out * Tensor([1.0, 2.0, 3.0, 4.0])).sum().backward()
    assert_array_equal(x.grad.data, [1.0, 2.0])


# ---- linear algebra -----------------------------------------------------------------------
MATMUL_FORMS = {  # (x is a vector, y is a vector, batched)
    "1-D @ 1-D": (True, True, False),
    "1-D @ 2-D": (True, False, False),
    "2-D @ 1-D": (False, True, False),
    "2-D @ 2-D": (False, False, False),
    "batched @ batched": (False, False, True),
    "1-D @ batched": (True, False, True),
    "batched @ 1-D": (False, True, True),
}


@pytest.mark.parametrize("form", MATMUL_FORMS)
@given(
    data=st.data(),
    sides=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
    batches=broadcastable_shapes(2, max_dims=2, max_side=3),
)
def test_matmul(form, data, sides, batches):
    x_vector, y_vector, batched = MATMUL_FORMS[form]
    n, k, m = sides
    x_batch, y_batch = batches if batched else ((), ())
    x_shape = (k,) if x_vector else (*x_batch, n, k)
    y_shape = (k,) if y_vector else (*y_batch, k, m)
    x, y = data.draw(arrays(x_shape)), data.draw(arrays(y_shape))
    check_op(operator.matmul, x @ y, x, y)
    check_op(lambda a: a.matmul(y), x @ y, x)
    check_op(lambda b: x @ b, x @ y, y)


# ---- affine (fused x @ w + b) -------------------------------------------------------------
@given(
    data=st.data(),
    sides=st.tuples(st.integers(1, 4), st.integers(1, 4), st.integers(1, 4)),
    batch=shapes(max_dims=2, max_side=3),
    bias_form=st.sampled_from(["row", "vector", "full"]),
)
def test_affine(data, sides, batch, bias_form):
    n, k, m = sides
    bias_shape = {"row": (1, m), "vector": (m,), "full": (n, m)}[bias_form]
    x = data.draw(arrays((*batch, n, k)))
    w, b = data.draw(arrays((k, m))), data.draw(arrays(bias_shape))
    out = ops.Affine.apply(Tensor(x), Tensor(w), Tensor(b))
    assert_array_equal(out.data, x @ w + b)  # bit for bit MatMul then Add
    check_op(ops.Affine.apply, x @ w + b, x, w, b)


def test_affine_gradients_are_matmul_then_add_bit_for_bit():
    rng = np.random.RandomState(0)
    x, w, b = rng.standard_normal((300, 2)), rng.standard_normal((2, 64)), np.zeros((1, 64))
    fused = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    apart = [Tensor(a, requires_grad=True) for a in (x, w, b)]
    upstream = rng.standard_normal((300, 64))
    ops.Affine.apply(*fused).backward(upstream)
    (apart[0] @ apart[1] + apart[2]).backward(upstream)
    for one, other in zip(fused, apart, strict=True):
        assert_array_equal(one.grad.data, other.grad.data)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_affine_bias_must_not_enlarge_the_product(dtype):
    x, w = Tensor(np.ones((1, 2))), Tensor(np.ones((2, 3)))
    b = Tensor(np.ones((4, 3), dtype))  # x @ w + b would be (4, 3): not a layer's bias
    with pytest.raises(ValueError, match=r"^Affine: .*bias of shape \(4, 3\) does not broadcast"):
        ops.Affine.apply(x, w, b)


def test_affine_with_a_wider_bias_matches_matmul_then_add_bit_for_bit():
    rng = np.random.RandomState(1)
    arrays = (
        rng.standard_normal((128, 30)).astype(np.float32),
        rng.standard_normal((30, 16)).astype(np.float32),
        rng.standard_normal((1, 16)),  # float64: the product is promoted, as NumPy does
    )
    fused = [Tensor(a, requires_grad=True) for a in arrays]
    apart = [Tensor(a, requires_grad=True) for a in arrays]
    out = ops.Affine.apply(*fused)
    assert out.dtype == np.float64
    assert_array_equal(out.data, arrays[0] @ arrays[1] + arrays[2])
    upstream = rng.standard_normal((128, 16))
    out.backward(upstream)
    (apart[0] @ apart[1] + apart[2]).backward(upstream)
    for one, other in zip(fused, apart, strict=True):
        assert one.grad.dtype == other.grad.dtype
        assert_array_equal(one.grad.data, other.grad.data)


@pytest.mark.parametrize("bias_shape", [(2,), (1, 2)])
def test_affine_of_a_vector_input_is_a_vector_matmul_then_add(bias_shape):
    # x (n_in,) is the "..." of x (..., n_in) being empty: x @ w + b, as MatMul then Add give it
    rng = np.random.RandomState(0)
    x, w, b = rng.standard_normal(3), rng.standard_normal((3, 2)), rng.standard_normal(bias_shape)
    check_op(ops.Affine.apply, x @ w + b, x, w, b)


# ---- softmax ------------------------------------------------------------------------------
def _softmax(x: np.ndarray, axis: int) -> np.ndarray:
    exps = np.exp(x - x.max(axis=axis, keepdims=True))
    return exps / exps.sum(axis=axis, keepdims=True)


@given(data=st.data(), shape=shapes(min_dims=1))
def test_softmax_log_softmax(data, shape):
    x = data.draw(arrays(shape))
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    check_op(lambda a: a.softmax(axis=axis), _softmax(x, axis), x)
    check_op(lambda a: a.log_softmax(axis=axis), np.log(_softmax(x, axis)), x)


@given(data=st.data(), shape=shapes(min_dims=1))
def test_softmax_stable_for_large_logits(data, shape):
    x = Tensor(data.draw(arrays(shape)) * 1e4, requires_grad=True)
    probs = x.softmax()
    log_probs = x.log_softmax()
    assert np.all(np.isfinite(probs.data))
    assert np.all(np.isfinite(log_probs.data))
    assert_allclose(probs.data.sum(axis=-1), 1.0, rtol=1e-12)
    assert_allclose(np.exp(log_probs.data).sum(axis=-1), 1.0, rtol=1e-12)
    (probs.sum() + log_probs.sum()).backward()
    assert np.all(np.isfinite(x.grad.data))


def test_softmax_default_axis_is_last_and_float32_stays():
    x = Tensor([[1e4, 0.0, -1e4]])
    assert x.softmax().dtype == np.float32
    assert_array_equal(x.softmax().data, [[1.0, 0.0, 0.0]])


@given(data=st.data(), n=st.integers(1, 5), classes=st.integers(2, 5))
def test_softmax_cross_entropy(data, n, classes):
    logits = data.draw(arrays((n, classes)))
    labels = np.array(data.draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)))
    probs = _softmax(logits, axis=1)
    book = np.mean(-np.log(np.clip(probs[range(n), labels], 1e-7, 1 - 1e-7)))
    assert ops.SoftmaxCrossEntropy.apply(Tensor(logits), labels).item() == book  # bit-exact
    check_op(lambda z: ops.SoftmaxCrossEntropy.apply(z, labels), book, logits)
    assert_grad_matches_numeric(ops.SoftmaxCrossEntropy.apply, logits, labels, order=2)
    z = Tensor(logits, requires_grad=True)
    ops.SoftmaxCrossEntropy.apply(z, labels).backward()
    assert_allclose(z.grad.data, (probs - np.eye(classes)[labels]) / n, rtol=1e-12)


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "uint32", "int64", "uint64"])
def test_softmax_cross_entropy_takes_every_integer_label_dtype(dtype):
    logits = np.random.RandomState(0).standard_normal((4, 3))
    labels = np.array([0, 2, 1, 2])
    expected = Tensor(logits, requires_grad=True)
    ops.SoftmaxCrossEntropy.apply(expected, labels).backward()
    z = Tensor(logits, requires_grad=True)
    loss = ops.SoftmaxCrossEntropy.apply(z, labels.astype(dtype))
    loss.backward()
    assert loss.item() == ops.SoftmaxCrossEntropy.apply(Tensor(logits), labels).item()
    assert_array_equal(z.grad.data, expected.grad.data)


@pytest.mark.parametrize(
    ("labels", "error", "message"),
    [
        (np.array([3, 0]), ValueError, r"labels must be one class index in 0\.\.2 per row"),
        (np.array([-1, 0]), ValueError, r"labels must be one class index in 0\.\.2 per row"),
        (np.array([0, 1, 2]), ValueError, r"of the 2 rows of logits, got labels of shape \(3,\)"),
        (np.array([True, False]), TypeError, r"labels must be integer class indices, .* bool"),
    ],
)
def test_softmax_cross_entropy_op_rejects_labels_it_cannot_pick(labels, error, message):
    logits = Tensor(np.array([[0.0, 1.0, 2.0], [5.0, 0.0, 0.0]]))
    with pytest.raises(error, match=r"^SoftmaxCrossEntropy: .*" + message):
        ops.SoftmaxCrossEntropy.apply(logits, labels)


@pytest.mark.parametrize("scale", [1.0, 2.5, -1.0])
def test_softmax_cross_entropy_gradient_scales_with_the_gradient_flowing_in(scale):
    # The loss is usually the root (gradient 1, nothing to scale); downstream of it, the
    # gradient is (softmax - onehot) / n times the gradient that reaches it.
    logits = np.random.RandomState(3).standard_normal((5, 3))
    labels = np.array([0, 2, 1, 1, 0])
    z = Tensor(logits, requires_grad=True)
    (ops.SoftmaxCrossEntropy.apply(z, labels) * scale).backward()
    root = Tensor(logits, requires_grad=True)
    ops.SoftmaxCrossEntropy.apply(root, labels).backward()
    assert_array_equal(z.grad.data, root.grad.data * scale)


def test_softmax_cross_entropy_large_logits_are_finite():
    z = Tensor(np.array([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]]), requires_grad=True)
    loss = ops.SoftmaxCrossEntropy.apply(z, np.array([0, 2]))
    assert_allclose(loss.item(), -np.log(1e-7) / 2 - np.log(1 - 1e-7) / 2, rtol=1e-12)
    loss.backward()
    assert_allclose(z.grad.data, [[0.0, 0.0, 0.0], [0.0, 0.5, -0.5]], atol=1e-12)


# ---- dropout --------------------------------------------------------------------------------
@given(data=st.data(), shape=shapes(), rate=st.floats(0.05, 0.95), seed=st.integers(0, 2**31))
def test_dropout(data, shape, rate, seed):
    x = data.draw(arrays(shape))
    copy = x.copy()
    mask = np.random.RandomState(seed).binomial(1, 1 - rate, size=shape) / (1 - rate)
    t = Tensor(x, requires_grad=True)
    out = t.dropout(rate, rng=seed)
    assert_array_equal(out.data, x * mask)
    out.sum().backward()
    assert_array_equal(t.grad.data, mask)
    assert_array_equal(x, copy)
    assert_array_equal(t.dropout(rate, training=False).data, x)
    assert_array_equal(t.dropout(0.0).data, x)


@given(data=st.data(), shape=shapes(), rate=st.floats(0.05, 0.95), seed=st.integers(0, 2**31))
def test_dropout_second_derivatives(data, shape, rate, seed):
    # An int rng draws the same mask on every call, so finite differences see one function.
    x = data.draw(arrays(shape))
    mask = np.random.RandomState(seed).binomial(1, 1 - rate, size=shape) / (1 - rate)
    check_op(lambda a: (a * a).dropout(rate, rng=seed).tanh(), np.tanh(x * x * mask), x)


def test_dropout_uses_library_stream():
    manual_seed(0)
    out = Tensor(np.ones((4, 5))).dropout(0.3)
    assert_array_equal(out.data, np.random.RandomState(0).binomial(1, 0.7, size=(4, 5)) / 0.7)


@pytest.mark.parametrize("rate", [-0.1, 1.0, 1.5])
def test_dropout_rate_outside_unit_interval_raises(rate):
    with pytest.raises(ValueError, match=rf"dropout: rate must be in \[0, 1\), got {rate}"):
        Tensor([1.0]).dropout(rate)


# ---- dtypes ---------------------------------------------------------------------------------
@given(data=st.data(), shape=shapes())
def test_astype(data, shape):
    x = data.draw(arrays(shape))
    check_op(lambda a: a.astype(np.float64) * a, x * x, x)
    # A float32 round trip loses digits: a wider step keeps the finite difference meaningful.
    assert_grad_matches_numeric(lambda a: a.astype(np.float32), x, eps=1e-3, atol=1e-3, order=2)


@pytest.mark.parametrize(("source", "target"), [(np.float32, np.float64), (np.float64, np.float32)])
def test_astype_gradient_comes_back_in_source_dtype(source, target):
    x = Tensor(np.array([1.5, -2.0], dtype=source), requires_grad=True)
    y = x.astype(target)
    assert y.dtype == target
    (y * y).sum().backward()
    assert x.grad.dtype == source
    assert_array_equal(x.grad.data, [3.0, -4.0])


def test_astype_to_int_is_not_differentiable():
    y = Tensor([1.5, 2.5], requires_grad=True).astype(np.int64)
    assert y.dtype == np.int64
    assert not y.requires_grad
    assert_array_equal(y.data, [1, 2])


# ---- the ops backward passes record: Where, IndexAdd ----------------------------------------
# A graph-building backward records them (Abs's and Where's backward are Where, Index's is
# IndexAdd and IndexAdd's is Index), so their own backward is differentiated at third order.
@given(data=st.data(), shapes=broadcastable_shapes(3))
def test_where(data, shapes):
    condition = data.draw(arrays(shapes[0], dtype=bool, elements=st.booleans()))
    x, y = data.draw(arrays(shapes[1])), data.draw(arrays(shapes[2]))
    check_op(lambda a, b: ops.Where.apply(condition, a, b), np.where(condition, x, y), x, y)
    # squashed, so the gradient reaching Where depends on the inputs: its backward's own slope
    check_op(
        lambda a, b: ops.Where.apply(condition, a * b, b.exp()).tanh(),
        np.tanh(np.where(condition, x * y, np.exp(y))),
        x,
        y,
    )


def _index_added(values: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
    out = np.zeros(shape)
    np.add.at(out, index, values)  # repeated integer indices add up
    return out


@given(data=st.data(), shape=shapes(min_dims=1))
def test_index_add(data, shape):
    index = data.draw(_indices(shape))
    values = data.draw(arrays(np.zeros(shape)[index].shape))
    expected = _index_added(values, shape, index)
    check_op(lambda v: ops.IndexAdd.apply(v, shape=shape, index=index), expected, values)
    check_op(lambda v: ops.IndexAdd.apply(v, shape=shape, index=index).tanh(), np.tanh(expected),
             values)  # fmt: skip


# ---- second derivatives through the incoming gradient -----------------------------------------
# check_op differentiates op(x) with a constant cotangent: for a linear op (and the linear part
# of any op's backward) that never differentiates the backward with respect to the gradient it
# receives. Squashing the output with tanh makes that gradient depend on the inputs.
def _squashed(fn: Callable[..., Tensor]) -> Callable[..., Tensor]:
    return lambda *tensors: fn(*tensors).tanh()


SQUASHED_UNARY = {  # name -> (op on one Tensor, its input's strategy given a shape)
    "reshape": lambda a: a.reshape(-1),
    "transpose": lambda a: a.transpose(),
    "expand": lambda a: a.expand(2, *a.shape),
    "unsqueeze": lambda a: a.unsqueeze(0),
    "neg": operator.neg,
    "sum": lambda a: a.sum(axis=0, keepdims=True) * a,
    "mean": lambda a: a.mean() * a,
    "logsumexp": lambda a: a.logsumexp(axis=-1),
    "softmax": lambda a: a.softmax(axis=0),
    "log_softmax": lambda a: a.log_softmax(),
    "max": lambda a: a.max(axis=-1),
    "exp": Tensor.exp,
    "sigmoid": Tensor.sigmoid,
    "square": Tensor.square,
    "abs": Tensor.abs,
    "relu": Tensor.relu,
    "clip": lambda a: a.clip(-1.0, 1.0),
    "astype": lambda a: a.astype(np.float64) * a,
    "index": lambda a: a[np.array([0, 0, -1])],
    "self_concatenate": lambda a: Tensor.concatenate([a, a * 2], axis=0),
}


@pytest.mark.parametrize("name", SQUASHED_UNARY)
@given(data=st.data(), shape=shapes(min_dims=1, max_side=4))
def test_second_derivatives_of_squashed_unary_ops(name, data, shape):
    # unique: max has no ties; clip's elements stay off its bounds (|x| != 1 by 0.1 at least)
    elements = st.one_of(well_conditioned(0.1, 0.9), well_conditioned(1.1, 2.0))
    x = data.draw(arrays(shape, elements=elements, unique=name == "max"))
    assert_grad_matches_numeric(_squashed(SQUASHED_UNARY[name]), x, order=2)


SQUASHED_BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "truediv": lambda a, b: a / (b * b + 1),
    "pow": lambda a, b: (a * a + 1) ** b,
}


@pytest.mark.parametrize("name", SQUASHED_BINARY)
@given(data=st.data(), shapes=broadcastable_shapes(2))
def test_second_derivatives_of_squashed_binary_ops(name, data, shapes):
    x, y = (data.draw(arrays(shape)) for shape in shapes)
    assert_grad_matches_numeric(_squashed(SQUASHED_BINARY[name]), x, y, order=2)


@given(
    data=st.data(),
    sides=st.tuples(st.integers(1, 3), st.integers(1, 3), st.integers(1, 3)),
    batch=shapes(max_dims=1, max_side=2),
)
def test_second_derivatives_of_squashed_matmul_and_affine(data, sides, batch):
    n, k, m = sides
    x = data.draw(arrays((*batch, n, k)))
    w, b = data.draw(arrays((k, m))), data.draw(arrays((1, m)))
    assert_grad_matches_numeric(_squashed(operator.matmul), x, w, order=2)
    assert_grad_matches_numeric(_squashed(ops.Affine.apply), x, w, b, order=2)


@given(data=st.data(), n=st.integers(1, 4), classes=st.integers(2, 4))
def test_second_derivatives_of_softmax_cross_entropy_inside_a_larger_graph(data, n, classes):
    logits = data.draw(arrays((n, classes)))
    labels = np.array(data.draw(st.lists(st.integers(0, classes - 1), min_size=n, max_size=n)))
    # the loss's incoming gradient depends on the logits: its backward is differentiated in it
    assert_grad_matches_numeric(
        lambda z: ops.SoftmaxCrossEntropy.apply(z.tanh(), labels) * (z * z).sum(), logits, order=2
    )


# ---- non-differentiable --------------------------------------------------------------------
COMPARISONS = [operator.lt, operator.le, operator.gt, operator.ge, operator.eq, operator.ne]


@pytest.mark.parametrize("compare", COMPARISONS)
@given(data=st.data(), shapes=broadcastable_shapes(2), kind=st.sampled_from(["tensor", "array"]))
def test_comparisons(compare, data, shapes, kind):
    x = data.draw(arrays(shapes[0], elements=st.sampled_from([-1.0, 0.0, 1.0])))
    y = data.draw(arrays(shapes[1], elements=st.sampled_from([-1.0, 0.0, 1.0])))
    t = Tensor(x, requires_grad=True)
    other = Tensor(y, requires_grad=True) if kind == "tensor" else y
    cases = [
        (compare(t, other), compare(x, y)),
        (compare(y, t), compare(y, x)),
        (compare(t, 0.0), compare(x, 0.0)),
        (compare(0.0, t), compare(0.0, x)),
    ]
    for result, expected in cases:
        assert isinstance(result, Tensor)
        assert not result.requires_grad
        assert result.dtype == np.bool_
        assert_array_equal(result.data, expected)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@given(data=st.data(), shape=shapes(min_dims=1), keepdims=st.booleans())
def test_argmax_argmin(name, data, shape, keepdims):
    x = data.draw(arrays(shape))
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    result = getattr(Tensor(x, requires_grad=True), name)(axis=axis, keepdims=keepdims)
    assert not result.requires_grad
    assert result.dtype == np.int64
    assert_array_equal(result.data, getattr(np, name)(x, axis=axis, keepdims=keepdims))


@given(
    data=st.data(),
    shape=st.tuples(st.integers(1, 40), st.integers(1, 12)),
    dtype=st.sampled_from([np.float32, np.float64]),
)
def test_softmax_rows_gives_the_books_bits(data, shape, dtype):
    # The fused softmax-CE reduces rows narrower than 8 as the rows of their transpose.
    a = np.exp(data.draw(arrays(shape)) * 5).astype(dtype)
    if shape[1] < 8:
        for ufunc in (np.add, np.maximum):
            assert_array_equal(ufunc.reduce(a.T.copy(), axis=0), ufunc.reduce(a, axis=1))
    exps = np.exp(a - np.max(a, axis=1, keepdims=True))
    book = exps / np.sum(exps, axis=1, keepdims=True)
    probs = ops._softmax_rows(a)
    assert probs.flags.c_contiguous
    assert_array_equal(probs.view(f"u{a.itemsize}"), book.view(f"u{a.itemsize}"))


# ---- numerics at the edges ------------------------------------------------------------------
def test_log_softmax_shifts_by_the_row_max_first():
    tiny = Tensor(np.full((1, 3), -1e30)).log_softmax()
    assert_allclose(tiny.data, np.full((1, 3), -np.log(3)), rtol=1e-12)
    logits = np.array([1e4, 1e4 - 1, 1e4 - 2], np.float32)
    exact = np.array([0.0, -1, -2]) - np.log(np.exp([0.0, -1, -2]).sum())
    assert np.abs(Tensor(logits).log_softmax().data - exact).max() < 1e-6  # was 3.6e-4


def test_pow_gradients_at_a_base_of_zero_take_pytorchs_limits():
    x = Tensor([0.0, 2.0], requires_grad=True, dtype=np.float64)
    sum(x**k for k in range(3)).sum().backward()  # 1 + x + x**2: derivative 1 + 2x
    assert_array_equal(x.grad.data, [1.0, 5.0])
    exponent = Tensor([0.0, 1.5], requires_grad=True, dtype=np.float64)
    (Tensor(0.0, dtype=np.float64) ** exponent).sum().backward()  # 0 ** p: flat for p >= 0
    assert_array_equal(exponent.grad.data, [0.0, 0.0])


@pytest.mark.parametrize("exponent", [0, 0.0, np.float64(0.0)], ids=["int", "float", "numpy"])
def test_pow_with_a_constant_zero_exponent_differentiates_twice(exponent):
    # x ** 0 is 1: its first derivative is 0, and so is its second (torch gives zeros too).
    x = np.array([1.5, -0.5, 2.0])
    check_op(lambda a: a**exponent * a, x, x)


def test_pow_mixed_second_derivative_at_a_zero_exponent_is_the_closed_form():
    # d/dy d/dx x ** y = x ** (y - 1) * (1 + y log x): at y = 0 that is 1 / x, not 0.
    # (torch.pow's double backward gives 0 there, masking the first derivative at y == 0.)
    x, y = np.array([1.5, 0.7, 2.0]), np.array([0.0, 1.0, 2.0])
    base, exponent = Tensor(x, requires_grad=True), Tensor(y, requires_grad=True)
    (d_x,) = grad((base**exponent).sum(), base, create_graph=True)
    (d_xy,) = grad(d_x.sum(), exponent)
    assert_allclose(d_xy.data, x ** (y - 1) * (1 + y * np.log(x)), rtol=1e-12)
    assert_grad_matches_numeric(operator.pow, x, y, order=2)


def test_pow_of_a_zero_base_differentiates_twice_under_detect_anomaly():
    # 0 ** y for y > 0 is flat: first and second derivatives 0, no NaN or inf anywhere.
    exponent = Tensor(np.array([1.5, 2.0]), requires_grad=True)
    with detect_anomaly():
        (first,) = grad((0.0**exponent).sum(), exponent, create_graph=True)
        (second,) = grad(first.sum(), exponent)
    assert_array_equal(first.data, [0.0, 0.0])
    assert_array_equal(second.data, [0.0, 0.0])


def test_pow_of_a_zero_base_second_derivative_warns_nothing():
    exponent = Tensor(np.array([1.5, 2.0]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # first order silences NumPy's 0 * inf; so must this
        (first,) = grad((0.0**exponent).sum(), exponent, create_graph=True)
        (second,) = grad(first.sum(), exponent)
    assert_array_equal(second.data, [0.0, 0.0])


@pytest.mark.parametrize("reduce", ["sum", "mean"])
def test_float16_reductions_accumulate_in_float32(reduce):
    ones = Tensor(np.ones(100_000, np.float16), requires_grad=True)
    with np.errstate(over="ignore"):  # 100,000 is past float16's 65,504: NumPy's cast warns
        out = getattr(ones, reduce)()
    assert out.dtype == np.float16
    assert out.item() == {"sum": np.inf, "mean": 1.0}[reduce]
    halves = Tensor(np.full(65_536, 0.5, np.float16))  # more elements than float16's max
    assert getattr(halves, reduce)(axis=0).item() == {"sum": 32_768, "mean": 0.5}[reduce]
    out.backward()
    assert ones.grad.dtype == np.float16 and np.isfinite(ones.grad.data).all()


@pytest.mark.parametrize("axis", [0, -1, (0,), [0], None])
def test_reductions_and_softmax_take_0d_tensors_as_pytorch_does(axis):
    x = Tensor(2.0, requires_grad=True, dtype=np.float64)
    for op in ("sum", "mean", "max", "min", "logsumexp"):
        out = getattr(x, op)(axis=axis)
        assert out.shape == () and out.item() == 2.0
        out.backward()
    assert x.grad.item() == 5.0  # one from each reduction
    if axis is None or isinstance(axis, int):
        assert x.softmax(axis=axis or -1).item() == 1.0
        assert x.log_softmax(axis=axis or -1).item() == 0.0
    assert x.squeeze(axis).shape == ()


@given(data=st.data(), shape=shapes(min_dims=2))
def test_reductions_take_axes_as_a_list(data, shape):
    x = data.draw(arrays(shape))
    axes = sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1)))
    check_op(lambda t: t.sum(axis=axes), np.sum(x, axis=tuple(axes)), x)
