"""Every primitive op and its derivative: the only place in the library a derivative is written.

Each op is a Function: `forward` takes ndarrays and returns one, `backward` takes the
gradient of the output and returns one gradient per input. Ops never unbroadcast: the
engine sums a gradient back to its input's shape where gradients accumulate.

Every backward is written once, with arithmetic and the functions of `self.xp`: ArrayMath
(NumPy) in a first-order backward, TensorMath (the same names as recorded ops) under
`create_graph=True`, so each derivative can be differentiated again.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from tinygrad_nnfs.engine import Function, TensorBase, settings

__all__ = [
    "Abs",
    "Add",
    "Affine",
    "ArrayMath",
    "BinaryCrossEntropy",
    "Cast",
    "CategoricalCrossEntropy",
    "Clip",
    "Concatenate",
    "Div",
    "Exp",
    "Expand",
    "Index",
    "IndexAdd",
    "Log",
    "LogSumExp",
    "MatMul",
    "Max",
    "Maximum",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Min",
    "Minimum",
    "Mul",
    "Neg",
    "Pow",
    "ReLU",
    "Reshape",
    "Sigmoid",
    "SoftmaxCrossEntropy",
    "Sqrt",
    "Square",
    "Sub",
    "Sum",
    "Tanh",
    "TensorMath",
    "Transpose",
    "Where",
]


class _Constant(dict):
    """One number as a 0-d array of each dtype asked for, made on first use.

    A ufunc takes a 0-d array of its other operand's dtype ~0.25 us faster than the Python
    number (same dtype, same bits), which ops on tiny tensors feel.
    """

    def __init__(self, value: int) -> None:
        super().__init__()
        self.value = value

    def __missing__(self, dtype: np.dtype) -> np.ndarray:
        self[dtype] = constant = np.full((), self.value, dtype)
        return constant


_ZERO, _ONE, _TWO = _Constant(0), _Constant(1), _Constant(2)
_ZEROS: dict[tuple[tuple[int, ...], np.dtype], np.ndarray] = {}


def _zeros(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Read-only zeros of a shape and dtype, kept for the next step (the few shapes seen last)."""
    key = (shape, dtype)
    zeros = _ZEROS.get(key)
    if zeros is None:
        if len(_ZEROS) >= 32:  # a training run sees a few shapes; a sweep may see many
            _ZEROS.clear()
        zeros = _ZEROS[key] = np.zeros(shape, dtype)
        zeros.flags.writeable = False
    return zeros


Grads = tuple[np.ndarray | None, ...]


def _expand_reduced(xp: Any, grad: Any, axis: Any, keepdims: bool) -> Any:
    """A reduction's result (or gradient) with the reduced axes back, as length 1, unless
    keepdims kept them; axis None reduced everything, so the result broadcasts as it is."""
    return grad if keepdims or axis is None else xp.expand_dims(grad, axis)


def _zero_where(xp: Any, condition: Any, values: Any) -> Any:
    """values with 0 where condition holds (a bool, or a bool array broadcasting to values)."""
    if isinstance(condition, bool | np.bool_):  # a Python number's comparison: all or nothing
        return xp.zeros_like(values) if condition else values
    return xp.where(condition, _ZERO[values.dtype], values)


def _has_integer_array(index: Any) -> bool:
    """True if an index holds an integer array, which may repeat positions."""
    parts = index if isinstance(index, tuple) else (index,)
    return any(
        isinstance(p, list) or (isinstance(p, np.ndarray) and p.dtype.kind in "iu") for p in parts
    )


_FLOAT32 = np.dtype(np.float32)


def _matmul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a @ b; under set_matmul_precision("float64") a float32 one is float32(float64 @ float64).

    NOTE: that is what the book's nnfs.init() does to np.dot: float32 BLAS kernels differ
    from machine to machine, and a chaotic float32 run follows them.
    """
    if settings.matmul_in_float64 and (a.dtype == _FLOAT32 or b.dtype == _FLOAT32):
        return (a.astype(np.float64) @ b.astype(np.float64)).astype(_FLOAT32)
    return a @ b


def _matrix_transpose(a: np.ndarray) -> np.ndarray:
    """Swap the last two axes (.T for matrices: no Python-level call on the hot path)."""
    return a.T if a.ndim == 2 else np.swapaxes(a, -1, -2)


def _index_add(grad: np.ndarray, shape: tuple[int, ...], index: Any) -> np.ndarray:
    """Zeros of `shape` with grad added at `index` (where repeated integer indices add up)."""
    out = np.zeros(shape, dtype=grad.dtype)
    if _has_integer_array(index):
        np.add.at(out, index, grad)
    else:
        out[index] = grad
    return out


def _softmax_cross_entropy_grad(probs: np.ndarray, picked: np.ndarray, grad: Any) -> np.ndarray:
    """(probs - onehot) / n * grad, written in place into a copy of probs."""
    grad_logits = probs.copy()
    grad_logits.reshape(-1)[picked] -= 1
    grad_logits /= len(picked)
    if type(grad) is not np.ndarray or grad != 1:  # the loss is usually the root: grad is 1
        grad_logits *= grad
    return grad_logits


def _values(*xs: Any) -> Any:
    """The arrays of Tensors (constants as they are): for masks, which have no gradient."""
    values = tuple(x._data if isinstance(x, TensorBase) else x for x in xs)
    return values if len(values) > 1 else values[0]


class ArrayMath:
    """What a first-order backward calls besides operators: NumPy, on ndarrays."""

    broadcast_to = staticmethod(np.broadcast_to)
    exp = staticmethod(np.exp)
    expand_dims = staticmethod(np.expand_dims)
    index_add = staticmethod(_index_add)
    log = staticmethod(np.log)
    matmul = staticmethod(_matmul)
    matrix_transpose = staticmethod(_matrix_transpose)
    sign = staticmethod(np.sign)
    softmax_cross_entropy_grad = staticmethod(_softmax_cross_entropy_grad)
    split = staticmethod(np.split)
    transpose = staticmethod(np.transpose)
    values = staticmethod(lambda *xs: xs if len(xs) > 1 else xs[0])
    where = staticmethod(np.where)
    zeros_like = staticmethod(np.zeros_like)


class _Op(Function):
    """A built-in op: its backward calls ArrayMath (or TensorMath, building a graph)."""

    __slots__ = ()
    xp: Any = ArrayMath


# ---- binary elementwise ---------------------------------------------------------------------
class Add(_Op):
    """x + y."""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x + y

    def backward(self, grad: np.ndarray) -> Grads:
        return grad, grad


class Sub(_Op):
    """x - y."""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        return x - y

    def backward(self, grad: np.ndarray) -> Grads:
        return grad, -grad if self.needs_input_grad[1] else None


class Mul(_Op):
    """x * y."""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.save_for_backward(x, y)
        return x * y

    def backward(self, grad: np.ndarray) -> Grads:
        x, y = self.saved
        needs_x, needs_y = self.needs_input_grad
        return grad * y if needs_x else None, grad * x if needs_y else None


def _divide(x: Any, y: Any) -> Any:
    """x / y, where x / 0 is +-inf and 0 / 0 NaN, as in NumPy and PyTorch, without a warning.

    A nonzero number divides without np.errstate, whose set-up costs twice the division of
    a small array: `x / n` is the common case.
    """
    if type(y) in _NUMBERS and y:
        return x / y
    with np.errstate(divide="ignore", invalid="ignore"):
        return x / y


_NUMBERS = frozenset((int, float))


class Div(_Op):
    """x / y."""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = _divide(x, y)
        self.save_for_backward(y, out)
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        y, out = self.saved
        grad_x = _divide(grad, y)
        if not self.needs_input_grad[1]:
            return grad_x, None
        with np.errstate(invalid="ignore"):  # inf * 0 where y is 0: NaN, as in PyTorch
            return grad_x, -grad_x * out


class Pow(_Op):
    """x ** y."""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        out = x**y
        self.save_for_backward(x, y, out)
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        x, y, out = self.saved
        needs_x, needs_y = self.needs_input_grad
        grad_x = grad_y = None
        xp = self.xp
        base, exponent = xp.values(x, y)
        # NOTE: at x == 0 the formulas give 0 * inf; PyTorch's limits are taken instead:
        # d(x ** 0)/dx = 0, and d(0 ** y)/dy = 0 for y >= 0 (out is 0 or 1 there).
        with np.errstate(divide="ignore", invalid="ignore"):
            if needs_x:
                grad_x = _zero_where(xp, exponent == 0, grad * y * x ** (y - 1))
            if needs_y:  # d/dy is out * log(x), defined for x > 0 (and 0 ** y, y >= 0)
                zero_base = (base == 0) & (exponent >= 0)
                grad_y = _zero_where(xp, zero_base, grad * out * xp.log(x))
        return grad_x, grad_y


class Maximum(_Op):
    """Elementwise max(x, y)."""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.save_for_backward(x, y)
        return self._pick(x, y)

    _pick = staticmethod(np.maximum)

    def backward(self, grad: np.ndarray) -> Grads:
        x, y = self.xp.values(*self.saved)
        # NOTE: where x == y the gradient is split evenly, as torch.maximum does.
        share_x = np.where(x == y, 0.5, self._pick(x, y) == x).astype(grad.dtype, copy=False)
        return grad * share_x, grad * (1 - share_x)


class Minimum(Maximum):
    """Elementwise min(x, y)."""

    _pick = staticmethod(np.minimum)


class Where(_Op):
    """x where condition holds, else y (condition: a bool array, no gradient)."""

    def forward(self, condition: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.save_for_backward(condition)
        return np.where(condition, x, y)

    def backward(self, grad: np.ndarray) -> Grads:
        (condition,) = self.saved
        needs_x, needs_y = self.needs_input_grad[1:]
        zero = _ZERO[grad.dtype]
        return (
            None,
            self.xp.where(condition, grad, zero) if needs_x else None,
            self.xp.where(condition, zero, grad) if needs_y else None,
        )


# ---- unary elementwise ----------------------------------------------------------------------
class Neg(_Op):
    """-x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return -x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return -grad


class Exp(_Op):
    """e ** x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.exp(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (out,) = self.saved
        return grad * out


class Log(_Op):
    """Natural log."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        # NOTE: log(0) is -inf (NumPy's answer); only the warning is silenced.
        with np.errstate(divide="ignore"):
            return np.log(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        with np.errstate(divide="ignore"):  # 1 / 0 = inf: the slope of log at 0, no warning
            return grad / x


class Sqrt(_Op):
    """Square root."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.sqrt(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (out,) = self.saved
        return grad / (2 * out)


class Square(_Op):
    """x * x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        return x * x

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        # NOTE: (grad * 2) * x is the book's L2 derivative, 2 * l2 * w, bit for bit, also
        # where l2 * w is subnormal (there l2 * w + l2 * w, Mul's, differs in the last bit).
        return grad * _TWO[x.dtype] * x


class Abs(_Op):
    """|x|."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        return np.abs(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        # NOTE: the derivative at exactly 0 is +1, the book's L1 convention.
        return self.xp.where(x >= 0, grad, -grad)


class ReLU(_Op):
    """max(0, x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        # The book's np.maximum(0, x), same values; against zeros of x's own shape NumPy
        # runs its SIMD loop, 2-3x faster than against a broadcast scalar zero.
        out = np.maximum(x, _zeros(x.shape, x.dtype))
        self.save_for_backward(out)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (out,) = self.saved
        # NOTE: the derivative at 0 is 0, as in NNFS (dinputs[inputs <= 0] = 0).
        return grad * (out > _ZERO[out.dtype])


class Sigmoid(_Op):
    """1 / (1 + exp(-x)), the book's formula."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):  # exp(-x) overflows to inf for x << 0: out is 0
            out = 1 / (1 + np.exp(-x))
        self.save_for_backward(out)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (out,) = self.saved
        return grad * (_ONE[out.dtype] - out) * out


class Tanh(_Op):
    """Hyperbolic tangent."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.tanh(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (out,) = self.saved
        return grad * (_ONE[out.dtype] - out * out)


class Clip(_Op):
    """x limited to [lo, hi] (None: unbounded on that side)."""

    def forward(
        self, x: np.ndarray, lo: float | None = None, hi: float | None = None
    ) -> np.ndarray:
        self.save_for_backward(x, lo, hi)
        return np.clip(x, lo, hi)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        x, lo, hi = self.saved
        x = self.xp.values(x)
        inside = np.ones(x.shape, dtype=bool)
        if lo is not None:
            inside &= x >= lo
        if hi is not None:
            inside &= x <= hi
        return grad * inside


class Cast(_Op):
    """x as another float dtype (the engine casts the gradient back)."""

    def forward(self, x: np.ndarray, dtype: Any = None) -> np.ndarray:
        return x.astype(dtype)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad


# ---- reductions -----------------------------------------------------------------------------
class Sum(_Op):
    """Sum over `axis`."""

    def forward(self, x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        self.save_for_backward(x.shape, axis, keepdims)
        return np.sum(x, axis=axis, keepdims=keepdims)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        shape, axis, keepdims = self.saved
        xp = self.xp
        return xp.broadcast_to(_expand_reduced(xp, grad, axis, keepdims), shape)


class Max(_Op):
    """Max over `axis`."""

    _reduce = staticmethod(np.max)

    def forward(self, x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        out = self._reduce(x, axis=axis, keepdims=keepdims)
        self.save_for_backward(x, out, axis, keepdims)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        x, out, axis, keepdims = self.saved
        xp = self.xp
        x, out = xp.values(x, out)
        # NOTE: tied extremes share the gradient evenly.
        winners = np.asarray(x == _expand_reduced(np, out, axis, keepdims))
        share = _expand_reduced(xp, grad, axis, keepdims) / winners.sum(axis, keepdims=True)
        return winners * share


class Min(Max):
    """Min over `axis`."""

    _reduce = staticmethod(np.min)


class LogSumExp(_Op):
    """log(sum(exp(x))) over `axis`, shifted by the max so large logits do not overflow."""

    def forward(self, x: np.ndarray, axis: Any = None, keepdims: bool = False) -> np.ndarray:
        shift = np.max(x, axis=axis, keepdims=True)
        shift = np.where(np.isfinite(shift), shift, 0)  # rows of -inf stay -inf, not nan
        out = np.log(np.sum(np.exp(x - shift), axis=axis, keepdims=True)) + shift
        if not keepdims:
            out = np.squeeze(out, axis=axis)
        self.save_for_backward(x, out, axis, keepdims)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        x, out, axis, keepdims = self.saved
        xp = self.xp
        softmax = xp.exp(x - _expand_reduced(xp, out, axis, keepdims))
        return _expand_reduced(xp, grad, axis, keepdims) * softmax


# ---- shape ----------------------------------------------------------------------------------
class Reshape(_Op):
    """x with a new shape."""

    def forward(self, x: np.ndarray, shape: tuple[int, ...] = ()) -> np.ndarray:
        self.save_for_backward(x.shape)
        return x.reshape(shape)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (shape,) = self.saved
        return grad.reshape(shape)


class Transpose(_Op):
    """x with permuted axes (None: reversed)."""

    def forward(self, x: np.ndarray, axes: tuple[int, ...] | None = None) -> np.ndarray:
        # Non-negative axes, so that argsort gives the inverse permutation for backward.
        axes = None if axes is None else tuple(axis % x.ndim for axis in axes)
        self.save_for_backward(axes)
        return np.transpose(x, axes)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (axes,) = self.saved
        return self.xp.transpose(grad, None if axes is None else tuple(np.argsort(axes)))


class Expand(_Op):
    """x broadcast to `shape` (a view)."""

    def forward(self, x: np.ndarray, shape: tuple[int, ...] = ()) -> np.ndarray:
        return np.broadcast_to(x, shape)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return grad  # the engine sums it back over the broadcast axes


class Index(_Op):
    """x[index] for slices, ints, integer arrays and boolean masks."""

    def forward(self, x: np.ndarray, index: Any = None) -> np.ndarray:
        self.save_for_backward(x.shape, index)
        try:
            return x[index]
        except IndexError as error:
            raise IndexError(f"Index: {error} (tensor shape {x.shape})") from None

    def backward(self, grad: np.ndarray) -> np.ndarray:
        shape, index = self.saved
        return self.xp.index_add(grad, shape, index)


class IndexAdd(_Op):
    """Zeros of `shape` with x added at `index`: Index's backward, as an op of its own."""

    def forward(self, x: np.ndarray, shape: tuple[int, ...] = (), index: Any = None) -> np.ndarray:
        self.save_for_backward(index)
        return _index_add(x, shape, index)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (index,) = self.saved
        return grad[index]


class Concatenate(_Op):
    """Tensors joined along `axis`."""

    def forward(self, *xs: np.ndarray, axis: int = 0) -> np.ndarray:
        out = np.concatenate(xs, axis=axis)
        self.save_for_backward(list(itertools.accumulate(x.shape[axis] for x in xs[:-1])), axis)
        return out

    def backward(self, grad: np.ndarray) -> Grads:
        splits, axis = self.saved
        return tuple(self.xp.split(grad, splits, axis=axis))


# ---- linear algebra -------------------------------------------------------------------------
class MatMul(_Op):
    """x @ y with NumPy's 1-D, 2-D and batched rules."""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.save_for_backward(x, y)
        try:
            return _matmul(x, y)
        except ValueError:
            if x.ndim == 0 or y.ndim == 0:
                raise ValueError("matmul needs operands of at least 1 dimension; use *") from None
            inner_y = y.shape[-2] if y.ndim > 1 else y.shape[0]
            raise ValueError(
                f"shapes {x.shape} and {y.shape} do not align ({x.shape[-1]} != {inner_y}) "
                f"or their batch dimensions do not broadcast; did you mean a transpose (.T)?"
            ) from None

    def backward(self, grad: np.ndarray) -> Grads:
        x, y = self.saved
        needs_x, needs_y = self.needs_input_grad
        if x.ndim == 1 and y.ndim == 1:
            return grad * y if needs_x else None, grad * x if needs_y else None
        # Treat vectors as matrices (x as a row, y as a column) and drop that axis afterwards.
        xp = self.xp
        x2 = x[None, :] if x.ndim == 1 else x
        y2 = y[:, None] if y.ndim == 1 else y
        grad2 = grad
        if x.ndim == 1:
            grad2 = xp.expand_dims(grad2, -2)
        if y.ndim == 1:
            grad2 = xp.expand_dims(grad2, -1)
        grad_x = grad_y = None
        if needs_x:
            grad_x = xp.matmul(grad2, xp.matrix_transpose(y2))
            grad_x = grad_x.squeeze(-2) if x.ndim == 1 else grad_x
        if needs_y:
            grad_y = xp.matmul(xp.matrix_transpose(x2), grad2)
            grad_y = grad_y.squeeze(-1) if y.ndim == 1 else grad_y
        return grad_x, grad_y


# ---- fused ----------------------------------------------------------------------------------
class Affine(_Op):
    """x @ w + b, a Dense layer's forward, fused for speed: one node and one output array.

    x is (..., n_in), w (n_in, n_out) and b broadcasts to the shape of x @ w. The values
    and gradients are those of MatMul then Add, bit for bit.
    """

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        product = _matmul(x, w)
        self.save_for_backward(x, w, product.dtype)
        try:
            if product.dtype == b.dtype:
                product += b  # in place: the values of x @ w + b without a second array
                return product
            out = product + b  # mixed dtypes: NumPy's promotion, as MatMul then Add give it
            if out.shape == product.shape:
                return out
        except ValueError:
            pass
        raise ValueError(
            f"bias of shape {b.shape} does not broadcast to x @ w of shape {product.shape}; "
            f"give the bias shape (1, {product.shape[-1]}), or write x @ w + b"
        )

    def backward(self, grad: np.ndarray) -> Grads:
        x, w, product_dtype = self.saved
        needs_x, needs_w, _ = self.needs_input_grad
        grad_b = grad
        # A wider bias: Add hands x @ w its own dtype, except where the engine keeps wider
        # gradients (after nnfs_init(), as the book's NumPy does).
        if grad.dtype != product_dtype and not settings.nnfs_dtypes:
            grad = grad.astype(product_dtype)
        xp = self.xp
        grad_x = xp.matmul(grad, xp.matrix_transpose(w)) if needs_x else None
        grad_w = xp.matmul(xp.matrix_transpose(x), grad) if needs_w else None
        return grad_x, grad_w, grad_b  # the engine sums b's gradient over the broadcast axes


def _row_reduce(ufunc: np.ufunc, a: np.ndarray) -> np.ndarray:
    """ufunc.reduce(a, axis=1, keepdims=True) of a 2-D array, the same bits, faster when narrow.

    NumPy reduces a row of fewer than 8 elements left to right, which is what folding the
    columns one ufunc call at a time does, at a fraction of the cost of a reduction along a
    short axis (tests/test_ops.py checks the bits).
    """
    if a.shape[1] >= 8 or a.shape[1] == 0:
        return ufunc.reduce(a, axis=1, keepdims=True)
    out = a[:, :1]
    for column in range(1, a.shape[1]):
        out = ufunc(out, a[:, column : column + 1])
    return out


def _softmax_rows(logits: np.ndarray) -> np.ndarray:
    """The book's softmax of each row of a 2-D array: exp(x - max) / sum, its bits."""
    exps = np.exp(logits - _row_reduce(np.maximum, logits))
    return exps / _row_reduce(np.add, exps)


class SoftmaxCrossEntropy(_Op):
    """Mean cross-entropy of softmax(logits) against sparse labels, fused for speed.

    Value: the book's mean of -log(clip(softmax(logits)[label], 1e-7, 1 - 1e-7)).
    Gradient: (softmax(logits) - onehot(labels)) / n, in one step (never the Jacobian).
    """

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        n, classes = logits.shape
        labels = np.asarray(labels)
        if labels.dtype.kind not in "iu":
            raise TypeError(
                f"SoftmaxCrossEntropy: labels must be integer class indices, got dtype "
                f"{labels.dtype}"
            )
        try:  # flat positions of probs[range(n), labels]: 1-D indexing is the fastest way there
            picked = np.ravel_multi_index((np.arange(n), labels), (n, classes))
        except ValueError:
            raise ValueError(
                f"labels must be one class index in 0..{classes - 1} per row of the {n} rows "
                f"of logits, got labels of shape {labels.shape}"
            ) from None
        # The book's np.max/np.sum/np.clip/np.mean, bit for bit, at a fraction of the cost
        # (this runs every step): see _row_reduce; maximum/minimum clip alike, and
        # sum(-a) / n equals mean(-a) in every rounding.
        probs = _softmax_rows(logits)
        self.save_for_backward(probs, picked)
        correct = np.minimum(np.maximum(probs.reshape(-1)[picked], 1e-7), 1 - 1e-7)
        return -np.add.reduce(np.log(correct)) / n

    def graph_saved(self, output: Any) -> tuple[Any, ...]:
        logits, _ = self.parents
        return logits.softmax(), self.saved[1]

    def backward(self, grad: np.ndarray) -> Grads:
        probs, picked = self.saved
        return self.xp.softmax_cross_entropy_grad(probs, picked, grad), None


# ---- the book's losses: its values, and its backward formulas at clipped values --------------
# NOTE: the book clips probabilities to [1e-7, 1 - 1e-7] so log stays finite, and its backward
# applies the loss's derivative to the clipped values rather than differentiating the clip:
# a saturated wrong prediction gets a large gradient, not 0. Backward follows the book's
# expression order, so its bits are the book's.
CLIP_EPSILON = 1e-7


def _samples_and_outputs(x: np.ndarray) -> tuple[int, int]:
    """The book's `samples` (rows) and `outputs` (last axis) of a loss's predictions."""
    outputs = x.shape[-1]
    return x.size // outputs, outputs


def _scaled(dinputs: np.ndarray, grad: np.ndarray) -> np.ndarray:
    """A loss's gradient times the gradient flowing into the loss (usually 1: the root)."""
    return dinputs if type(grad) is np.ndarray and grad == 1 else dinputs * grad


def _clip_bounds(dtype: np.dtype) -> tuple[float, float]:
    """The book's [1e-7, 1 - 1e-7], or below 1 where the dtype rounds 1 - 1e-7 to 1.

    NOTE: float16 holds no number between 1 - 2 ** -11 and 1: there 1 - 1e-7 is 1 and
    log(1 - p) would be -inf, so its bound is the float just below 1.
    """
    high = 1 - CLIP_EPSILON
    if dtype.kind == "f" and dtype.type(high) == 1:
        high = np.nextafter(dtype.type(1), dtype.type(0))
    return CLIP_EPSILON, high


def _clip(p: np.ndarray) -> np.ndarray:
    """p clipped to _clip_bounds."""
    return np.clip(p, *_clip_bounds(p.dtype))


class _ClippedLoss(_Op):
    """A loss that saves (clip(p), targets): a graph-building backward clips the Tensor p."""

    __slots__ = ()

    def graph_saved(self, output: Any) -> tuple[Any, ...]:
        p, targets = self.parents
        return p.clip(*_clip_bounds(p.dtype)), targets


def categorical_sample_losses(p: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the book's -log(clip(p)) of the true class per sample, clip(p)); sparse or one-hot."""
    clipped = _clip(p)
    if labels.ndim == 1:
        correct = clipped[np.arange(len(clipped)), labels]
    else:
        correct = np.sum(clipped * labels, axis=1)
    return -np.log(correct), clipped


def binary_sample_losses(p: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(the book's binary cross-entropy per sample, mean over outputs; clip(p))."""
    clipped = _clip(p)
    sample_losses = -(y * np.log(clipped) + (1 - y) * np.log(1 - clipped))
    return np.mean(sample_losses, axis=-1), clipped


def squared_sample_losses(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The book's mean over outputs of (y - p) ** 2, per sample."""
    return np.mean((y - p) ** 2, axis=-1)


def absolute_sample_losses(p: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The book's mean over outputs of |y - p|, per sample."""
    return np.mean(np.abs(y - p), axis=-1)


def softmax_sample_losses(logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """The book's -log(clip(softmax(logits)))[true class] per sample (sparse labels)."""
    return categorical_sample_losses(_softmax_rows(logits), labels)[0]


class CategoricalCrossEntropy(_ClippedLoss):
    """mean(-log(clip(p))) of the true class's probability: sparse labels or one-hot rows.

    Backward: the book's -onehot / p_clipped / samples (the book divides by the unclipped p,
    which is infinite at p = 0; elsewhere the two agree).
    """

    def forward(self, p: np.ndarray, labels: np.ndarray) -> np.ndarray:
        sample_losses, clipped = categorical_sample_losses(p, labels)
        self.save_for_backward(clipped, labels)
        return np.mean(sample_losses)

    def backward(self, grad: np.ndarray) -> Grads:
        clipped, labels = self.saved
        labels = self.xp.values(labels)
        if labels.ndim == 1:
            labels = np.eye(clipped.shape[1], dtype=clipped.dtype)[labels]
        return _scaled(-labels / clipped / len(clipped), grad), None


class BinaryCrossEntropy(_ClippedLoss):
    """mean over outputs, then samples, of -(y log p + (1 - y) log(1 - p)), p clipped.

    Backward: the book's -(y / p_c - (1 - y) / (1 - p_c)) / outputs / samples.
    """

    def forward(self, p: np.ndarray, y: np.ndarray) -> np.ndarray:
        sample_losses, clipped = binary_sample_losses(p, y)
        self.save_for_backward(clipped, y)
        return np.mean(sample_losses)

    def backward(self, grad: np.ndarray) -> Grads:
        clipped, y = self.saved
        samples, outputs = _samples_and_outputs(clipped)
        dinputs = -(y / clipped - (1 - y) / (1 - clipped)) / outputs
        return _scaled(dinputs / samples, grad), None


class MeanSquaredError(_Op):
    """mean over outputs, then samples, of (y - p) ** 2; backward -2 * (y - p) / outputs / n."""

    def forward(self, p: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.save_for_backward(p, y)
        return np.mean(squared_sample_losses(p, y))

    def backward(self, grad: np.ndarray) -> Grads:
        p, y = self.saved
        samples, outputs = _samples_and_outputs(p)
        dinputs = -2 * (y - p) / outputs
        return _scaled(dinputs / samples, grad), None


class MeanAbsoluteError(_Op):
    """mean over outputs, then samples, of |y - p|; backward -sign(y - p) / outputs / samples.

    NOTE: the book's code writes np.sign(y - p), the wrong sign (an erratum): gradient
    descent on it climbs the loss. This is the derivative; sign(0) = 0, as NumPy's.
    """

    def forward(self, p: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.save_for_backward(p, y)
        return np.mean(absolute_sample_losses(p, y))

    def backward(self, grad: np.ndarray) -> Grads:
        p, y = self.saved
        samples, outputs = _samples_and_outputs(p)
        dinputs = -self.xp.sign(y - p) / outputs
        return _scaled(dinputs / samples, grad), None


# ---- the functions of a backward that builds a graph ----------------------------------------
def _split(x: Any, splits: Any, axis: int = 0) -> list[Any]:
    """x cut before each index in `splits` along `axis`, as numpy.split does (recorded)."""
    bounds = [0, *(int(i) for i in splits), x.shape[axis]]
    before = (slice(None),) * (axis % x.ndim)
    return [Index.apply(x, index=(*before, slice(a, b))) for a, b in itertools.pairwise(bounds)]


def _softmax_cross_entropy_grad_graph(probs: Any, picked: np.ndarray, grad: Any) -> Any:
    """(probs - onehot) / n * grad with recorded ops."""
    onehot = np.zeros(probs.shape, probs.dtype)
    onehot.reshape(-1)[picked] = 1
    return (probs - onehot) / len(picked) * grad


def _swap_last_axes(x: Any) -> Any:
    ndim = np.ndim(_values(x))
    return Transpose.apply(x, axes=(*range(ndim - 2), ndim - 1, ndim - 2))


def _reshaped_like(x: Any, shape_of: Any) -> Any:
    return Reshape.apply(x, shape=np.shape(shape_of))


class TensorMath:
    """ArrayMath's functions, and more of NumPy's, as recorded ops: the `xp` of a backward
    that builds a graph (create_graph=True). Masks and signs stay constants."""

    abs = staticmethod(Abs.apply)
    broadcast_to = staticmethod(lambda x, shape: Expand.apply(x, shape=tuple(shape)))
    clip = staticmethod(lambda x, lo, hi: Clip.apply(x, lo=lo, hi=hi))
    exp = staticmethod(Exp.apply)
    expand_dims = staticmethod(lambda x, axis: _reshaped_like(x, np.expand_dims(_values(x), axis)))
    index_add = staticmethod(lambda x, shape, index: IndexAdd.apply(x, shape=shape, index=index))
    log = staticmethod(Log.apply)
    matmul = staticmethod(MatMul.apply)
    matrix_transpose = staticmethod(_swap_last_axes)
    maximum = staticmethod(Maximum.apply)
    minimum = staticmethod(Minimum.apply)
    reshape = staticmethod(lambda x, shape: Reshape.apply(x, shape=tuple(shape)))
    sign = staticmethod(lambda x: np.sign(_values(x)))
    softmax_cross_entropy_grad = staticmethod(_softmax_cross_entropy_grad_graph)
    split = staticmethod(_split)
    sqrt = staticmethod(Sqrt.apply)
    square = staticmethod(Square.apply)
    sum = staticmethod(
        lambda x, axis=None, keepdims=False: Sum.apply(x, axis=axis, keepdims=keepdims)
    )
    tanh = staticmethod(Tanh.apply)
    transpose = staticmethod(lambda x, axes=None: Transpose.apply(x, axes=axes))
    values = staticmethod(_values)
    where = staticmethod(lambda condition, x, y: Where.apply(_values(condition), x, y))
    zeros_like = staticmethod(lambda x: np.zeros_like(_values(x)))
