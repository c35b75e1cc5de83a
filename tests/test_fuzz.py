"""Fuzzing: random programs of the public differentiable ops, checked against NumPy and gradcheck.

A program draws 1-3 float64 inputs, then 1-6 steps; each step applies one op to values drawn
from everything computed so far, so tensors get reused (a tensor used twice, or by itself as
both operands). Its forward must equal the same program on plain NumPy arrays, and backward()
must match central differences, as must its second derivatives (gradgradcheck). Only smooth
ops are drawn, in safe domains (log and sqrt of x*x + 1, division by y*y + 1, exp of tanh):
relu, abs, clip, max/min and maximum/minimum have kinks or ties where finite differences
disagree by design; their own tests cover them.
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from tinygrad_nnfs import Tensor, gradcheck, gradgradcheck
from tinygrad_nnfs.testing import arrays, axes_for, shapes


# ---- NumPy references for the ops NumPy lacks --------------------------------------------------
def np_sigmoid(a):
    return 1 / (1 + np.exp(-a))


def np_logsumexp(a, axis, keepdims):
    shift = np.max(a, axis=axis, keepdims=True)
    out = np.log(np.sum(np.exp(a - shift), axis=axis, keepdims=True)) + shift
    return out if keepdims else np.squeeze(out, axis=axis)


def np_softmax(a, axis):
    exps = np.exp(a - np.max(a, axis=axis, keepdims=True))
    return exps / np.sum(exps, axis=axis, keepdims=True)


# ---- the ops: name -> (Tensor version, NumPy version), each taking (operands..., **params) -----
UNARY = {
    "neg": (lambda x: -x, lambda a: -a),
    "exp_tanh": (lambda x: x.tanh().exp(), lambda a: np.exp(np.tanh(a))),
    "log_square_plus_1": (lambda x: (x * x + 1).log(), lambda a: np.log(a * a + 1)),
    "sqrt_square_plus_1": (lambda x: (x * x + 1).sqrt(), lambda a: np.sqrt(a * a + 1)),
    "sigmoid": (lambda x: x.sigmoid(), np_sigmoid),
    "tanh": (lambda x: x.tanh(), np.tanh),
    "square": (lambda x: x**2, lambda a: a**2),
    "times_constant": (lambda x, c: x * c, lambda a, c: a * c),
    "constant_minus": (lambda x, c: c - x, lambda a, c: c - a),
    "constant_over": (lambda x, c: c / (x * x + 1), lambda a, c: c / (a * a + 1)),
}
BINARY = {  # NumPy broadcasting
    "add": (lambda x, y: x + y, lambda a, b: a + b),
    "sub": (lambda x, y: x - y, lambda a, b: a - b),
    "mul": (lambda x, y: x * y, lambda a, b: a * b),
    "div": (lambda x, y: x / (y * y + 1), lambda a, b: a / (b * b + 1)),
    "pow": (lambda x, y: (x * x + 1) ** y.tanh(), lambda a, b: (a * a + 1) ** np.tanh(b)),
}
SHAPED = {
    "sum": (lambda x, **p: x.sum(**p), lambda a, **p: np.sum(a, **p)),
    "mean": (lambda x, **p: x.mean(**p), lambda a, **p: np.mean(a, **p)),
    "logsumexp": (lambda x, **p: x.logsumexp(**p), np_logsumexp),
    "softmax": (lambda x, axis: x.softmax(axis), np_softmax),
    "log_softmax": (
        lambda x, axis: x.log_softmax(axis),
        lambda a, axis: np.log(np_softmax(a, axis)),
    ),
    "reshape": (lambda x, shape: x.reshape(shape), lambda a, shape: a.reshape(shape)),
    "transpose": (lambda x, axes: x.transpose(*axes), lambda a, axes: np.transpose(a, axes)),
    "expand": (lambda x, shape: x.expand(*shape), np.broadcast_to),
    "unsqueeze": (lambda x, axis: x.unsqueeze(axis), np.expand_dims),
    "squeeze": (lambda x: x.squeeze(), np.squeeze),
    "flatten": (lambda x: x.flatten(), lambda a: a.reshape(-1)),
    "index": (lambda x, index: x[index], lambda a, index: a[index]),
    "matmul": (lambda x, y: x @ y, lambda a, b: a @ b),
    "matmul_own_transpose": (  # batched for 3-D: x @ (x with its last two axes swapped)
        lambda x: x @ x.transpose(*range(x.ndim - 2), -1, -2),
        lambda a: a @ np.swapaxes(a, -1, -2),
    ),
    "concatenate": (
        lambda x, y, axis: Tensor.concatenate([x, y], axis),
        lambda a, b, axis: np.concatenate([a, b], axis),
    ),
    "stack": (
        lambda x, y, axis: Tensor.stack([x, y], axis),
        lambda a, b, axis: np.stack([a, b], axis),
    ),
}
OPS = {**UNARY, **BINARY, **SHAPED}
CONSTANTS = st.sampled_from([-1.5, 0.5, 2.0])


@st.composite
def index_for(draw, shape):
    """A non-empty index of the first axis: int, slice, repeating int array or boolean mask."""
    n = shape[0]
    kind = draw(st.sampled_from(["int", "slice", "array", "mask", "tuple"]))
    if kind == "int":
        return draw(st.integers(-n, n - 1))
    if kind == "slice":
        start = draw(st.integers(0, n - 1))
        return slice(start, draw(st.integers(start + 1, n)))
    if kind == "array":  # repeats make the backward add up several gradients at one position
        return np.array(draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4)))
    if kind == "mask":
        mask = np.array(draw(st.lists(st.booleans(), min_size=n, max_size=n)))
        mask[draw(st.integers(0, n - 1))] = True
        return mask
    return (slice(None), draw(st.integers(0, shape[1] - 1))) if len(shape) > 1 else 0


@st.composite
def step_for(draw, values):
    """(op name, operand positions in `values`, params) valid for the drawn operands."""
    first = draw(st.integers(0, len(values) - 1))
    shape, ndim = values[first].shape, values[first].ndim

    def partner(accept):
        """A value (perhaps first itself: a tensor used twice) whose shape `accept` takes."""
        return draw(st.sampled_from([i for i, value in enumerate(values) if accept(value.shape)]))

    def aligns(other):  # for first @ other
        return len(other) in (1, 2) and other[0] == shape[-1]

    def broadcasts(other):
        try:
            np.broadcast_shapes(shape, other)
        except ValueError:
            return False
        return True

    names = [*UNARY, *BINARY, "sum", "mean", "logsumexp", "reshape", "unsqueeze", "flatten"]
    if ndim >= 1:
        names += ["softmax", "log_softmax", "index", "expand", "concatenate", "stack"]
    if ndim >= 2:
        names += ["transpose", "matmul_own_transpose"]
    if ndim in (1, 2) and any(aligns(value.shape) for value in values):
        names.append("matmul")
    if 1 in shape:
        names.append("squeeze")
    name = draw(st.sampled_from(names))
    if name in ("times_constant", "constant_minus", "constant_over"):
        return name, (first,), {"c": draw(CONSTANTS)}
    if name in BINARY:
        return name, (first, partner(broadcasts)), {}
    if name in ("sum", "mean", "logsumexp"):
        return name, (first,), {"axis": draw(axes_for(shape)), "keepdims": draw(st.booleans())}
    if name in ("softmax", "log_softmax"):
        return name, (first,), {"axis": draw(st.integers(-ndim, ndim - 1))}
    if name == "reshape":
        options = [(-1,), tuple(reversed(shape)), (1, *shape), (*shape, 1)]
        return name, (first,), {"shape": draw(st.sampled_from(options))}
    if name == "transpose":
        return name, (first,), {"axes": tuple(draw(st.permutations(range(ndim))))}
    if name == "expand":
        return name, (first,), {"shape": (draw(st.integers(1, 3)), *shape)}
    if name == "unsqueeze":
        return name, (first,), {"axis": draw(st.integers(-ndim - 1, ndim))}
    if name == "index":
        return name, (first,), {"index": draw(index_for(shape))}
    if name == "matmul":
        return name, (first, partner(aligns)), {}
    if name in ("concatenate", "stack"):
        return (
            name,
            (first, partner(lambda other: other == shape)),
            {"axis": draw(st.integers(0, ndim - (name == "concatenate")))},
        )
    return name, (first,), {}


@st.composite
def programs(draw):
    """(inputs, steps): float64 input arrays and the steps of a program over them."""
    inputs = [
        draw(arrays(draw(shapes(max_dims=3, max_side=3)))) for _ in range(draw(st.integers(1, 3)))
    ]
    values = list(inputs)
    steps = []
    for _ in range(draw(st.integers(1, 6))):
        step = draw(step_for(values))
        values.append(run_step(step, values, numpy=True))
        steps.append(step)
    return inputs, steps


def run_step(step, values, *, numpy):
    name, operands, params = step
    return OPS[name][numpy](*(values[i] for i in operands), **params)


def run(steps, inputs, *, numpy):
    """The program's last value, computed with Tensors or (numpy=True) with ndarrays."""
    values = list(inputs)
    for step in steps:
        values.append(run_step(step, values, numpy=numpy))
    return values[-1]


@settings(max_examples=500)
@given(program=programs())
def test_random_program_matches_numpy_and_its_gradients_match_finite_differences(program):
    inputs, steps = program
    originals = [a.copy() for a in inputs]
    expected = run(steps, inputs, numpy=True)
    out = run(steps, [Tensor(a, requires_grad=True) for a in inputs], numpy=False)
    assert out.shape == expected.shape and out.dtype == np.float64
    assert_allclose(out.data, expected, rtol=1e-12, atol=1e-12)
    gradcheck(lambda *tensors: run(steps, tensors, numpy=False), *inputs)
    for array, original in zip(inputs, originals, strict=True):
        assert_array_equal(array, original)  # the ops never write into their inputs


@settings(max_examples=300)
@given(program=programs())
def test_random_program_second_derivatives_match_finite_differences_of_its_gradients(program):
    # Every op's backward runs on Tensors (create_graph=True) and is differentiated again,
    # through tensors used twice and gradients that reach a node by several paths.
    inputs, steps = program
    gradgradcheck(lambda *tensors: run(steps, tensors, numpy=False), *inputs)


def test_a_0d_tensor_used_three_times_gets_all_three_gradients():
    # Found by the fuzzer as x / (x * x + 1) at x = 1: analytic 0.25, numeric 0.
    x = Tensor(np.array(2.0), requires_grad=True)
    (x * x * x).backward()
    assert x.grad.item() == 12.0  # d(x**3)/dx = 3 * 2**2 (a bug once lost the third term)
    assert type(x.grad.data) is np.ndarray


def test_transpose_with_negative_axes_sends_the_gradient_back_through_the_inverse():
    # Found by the fuzzer: Transpose.backward inverts the axes with argsort, which needs them
    # >= 0; Tensor.transpose now normalizes them (the gradient was silently permuted wrongly).
    x = Tensor(np.zeros((2, 2, 2)), requires_grad=True)
    weights = np.arange(8.0).reshape(2, 2, 2)
    (x.transpose(0, -1, -2) * weights).sum().backward()
    assert_array_equal(x.grad.data, np.transpose(weights, (0, 2, 1)))
