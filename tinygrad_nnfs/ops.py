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
import math
from typing import Any

import numpy as np

from tinygrad_nnfs._cache import Constant, kept
from tinygrad_nnfs._checks import check_pair
from tinygrad_nnfs.engine import Function, TensorBase, settings

__all__ = [
    "Abs",
    "Add",
    "Affine",
    "Arccos",
    "Arcsin",
    "Arctan",
    "ArrayMath",
    "AvgPool2d",
    "AvgPool2dGrad",
    "BinaryCrossEntropy",
    "Cast",
    "CategoricalCrossEntropy",
    "Ceil",
    "Clip",
    "Concatenate",
    "Conv2d",
    "Conv2dInputGrad",
    "Conv2dWeightGrad",
    "Cos",
    "Cosh",
    "CumProd",
    "CumSum",
    "DependsOn",
    "Div",
    "Erf",
    "Exp",
    "Exp2",
    "Expand",
    "Expm1",
    "Flip",
    "Floor",
    "Index",
    "IndexAdd",
    "Log",
    "Log1p",
    "Log2",
    "Log10",
    "LogSumExp",
    "MatMul",
    "Max",
    "MaxPool2d",
    "Maximum",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Min",
    "Minimum",
    "Mul",
    "Neg",
    "Pad",
    "Pow",
    "ReLU",
    "Remainder",
    "Reshape",
    "Round",
    "Sigmoid",
    "Sign",
    "Sin",
    "Sinh",
    "SoftmaxCrossEntropy",
    "Sqrt",
    "Square",
    "Sub",
    "Sum",
    "Tan",
    "Tanh",
    "TensorMath",
    "Transpose",
    "Where",
]


_ZERO, _ONE, _TWO = Constant(0), Constant(1), Constant(2)


def _zeros(shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """Read-only zeros of a shape and dtype."""
    return kept(np.zeros, shape, dtype)


Grads = tuple[np.ndarray | None, ...]


def _expand_reduced(xp: Any, grad: Any, axis: Any, keepdims: bool) -> Any:
    """A reduction's result (or gradient) with the reduced axes back, as length 1, unless
    keepdims kept them; axis None reduced everything, so the result broadcasts as it is."""
    return grad if keepdims or axis is None else xp.expand_dims(grad, axis)


def _one_where(xp: Any, condition: Any, values: Any) -> Any:
    """values with 1 where condition holds (a bool, or a bool array broadcasting to values)."""
    return xp.where(condition, 1, values) if np.any(condition) else values


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


def _softmax_cross_entropy_grad(
    probs: np.ndarray, picked: np.ndarray, picked_probs: np.ndarray, grad: Any
) -> np.ndarray:
    """(probs - onehot) / n * grad: probs / n, and (p - 1) / n where the labels pick p (the
    book's values, from its copy, -= 1 and / n, in fewer passes)."""
    n = len(picked)
    grad_logits = np.divide(probs, n, order="C")  # C order: `picked` indexes it flat
    grad_logits.reshape(-1)[picked] = (picked_probs - 1) / n
    if not _is_one(grad):
        grad_logits *= grad  # in place: the gradient keeps the logits' dtype
    return grad_logits


def _is_one(grad: Any) -> bool:
    """True if the gradient flowing into a loss is 1, the root's seed (usually): tested as a
    number, as comparing the 0-d array would make another array."""
    return type(grad) is np.ndarray and grad.ndim == 0 and grad.item() == 1


def _scaled(dinputs: np.ndarray, grad: Any) -> np.ndarray:
    """A loss's gradient times the gradient flowing into the loss."""
    return dinputs if _is_one(grad) else dinputs * grad


def _values(*xs: Any) -> Any:
    """The arrays of Tensors (constants as they are): for masks, which have no gradient."""
    values = tuple(x._data if isinstance(x, TensorBase) else x for x in xs)
    return values if len(values) > 1 else values[0]


class ArrayMath:
    """What a first-order backward calls besides operators: NumPy, on ndarrays."""

    broadcast_to = staticmethod(np.broadcast_to)
    cos = staticmethod(np.cos)
    cosh = staticmethod(np.cosh)
    cumprod = staticmethod(np.cumprod)
    cumsum = staticmethod(np.cumsum)
    exp = staticmethod(np.exp)
    expand_dims = staticmethod(np.expand_dims)
    flip = staticmethod(np.flip)
    index_add = staticmethod(_index_add)
    log = staticmethod(np.log)
    matmul = staticmethod(_matmul)
    matrix_transpose = staticmethod(_matrix_transpose)
    sign = staticmethod(np.sign)
    sin = staticmethod(np.sin)
    sinh = staticmethod(np.sinh)
    softmax_cross_entropy_grad = staticmethod(_softmax_cross_entropy_grad)
    split = staticmethod(np.split)
    sqrt = staticmethod(np.sqrt)
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
        # d(x ** 0)/dx = 0, and d(0 ** y)/dy = 0 for y >= 0 (out is 0 or 1 there). The base
        # is 1 there instead, so no 0 * inf is computed, neither here nor in the derivative
        # of this derivative.
        with np.errstate(divide="ignore", invalid="ignore"):
            if needs_x:
                flat = (exponent == 0) & (base == 0)
                grad_x = grad * y * _one_where(xp, flat, x) ** (y - 1)
            if needs_y:  # d/dy is out * log(x), defined for x > 0 (and 0 ** y, y >= 0)
                flat = (base == 0) & (exponent >= 0)
                grad_y = grad * out * xp.log(_one_where(xp, flat, x))
        return grad_x, grad_y


class Remainder(_Op):
    """x mod y with the sign of y (numpy.remainder, torch.remainder, Python's %)."""

    def forward(self, x: np.ndarray, y: np.ndarray) -> np.ndarray:
        self.save_for_backward(x, y)
        with np.errstate(divide="ignore", invalid="ignore"):  # x % 0 is NaN, as in NumPy
            return np.remainder(x, y)

    def backward(self, grad: np.ndarray) -> Grads:
        x, y = self.saved
        if not self.needs_input_grad[1]:
            return grad, None
        # x - floor(x / y) * y: the quotient is piecewise constant, so d/dy is -floor(x / y)
        with np.errstate(divide="ignore", invalid="ignore"):
            quotient = np.floor_divide(*self.xp.values(x, y))
        return grad, -grad * quotient


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


class DependsOn(_Op):
    """x, recorded as a function of `inputs` with a zero derivative in them.

    A graph-building backward hands it a gradient computed as a constant (relu's mask, a
    linear op's broadcast): it is still a function of the op's inputs, locally constant, so
    it requires grad and its derivative in them is 0 (zeros, not "unused").
    """

    def forward(self, x: np.ndarray, *inputs: np.ndarray) -> np.ndarray:
        self.save_for_backward(*inputs)
        return x

    def backward(self, grad: np.ndarray) -> Grads:
        return (grad, *(self.xp.zeros_like(x) for x in self.saved))


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
        # runs its contiguous SIMD loop rather than its slower loop for a broadcast scalar.
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


# ---- more elementwise, running sums and products, flip, pad (the ops of custom models) -------
class _Stepwise(_Op):
    """A piecewise-constant function: its derivative is 0."""

    __slots__ = ()

    def backward(self, grad: np.ndarray) -> np.ndarray:
        # NOTE: 0 at the jumps too, as PyTorch gives (the leaf still gets a gradient).
        return self.xp.zeros_like(grad)


class Sign(_Stepwise):
    """-1, 0 or +1 by the sign of x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.sign(x)


class Floor(_Stepwise):
    """The largest integer <= x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.floor(x)


class Ceil(_Stepwise):
    """The smallest integer >= x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        return np.ceil(x)


class Round(_Stepwise):
    """x rounded to `decimals` places, halves to even (as NumPy and PyTorch round)."""

    def forward(self, x: np.ndarray, decimals: int = 0) -> np.ndarray:
        return np.round(x, decimals)


class Sin(_Op):
    """sin(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        return np.sin(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        return grad * self.xp.cos(x)


class Cos(_Op):
    """cos(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        return np.cos(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        return -grad * self.xp.sin(x)


class Tan(_Op):
    """tan(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.tan(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (out,) = self.saved
        return grad * (_ONE[out.dtype] + out * out)


class Arcsin(_Op):
    """arcsin(x), for x in [-1, 1]."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        # NOTE: NaN outside [-1, 1] (NumPy's answer); only the warning is silenced.
        with np.errstate(invalid="ignore"):
            return np.arcsin(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        with np.errstate(invalid="ignore"):  # 1 / sqrt(0) = inf at +-1; NaN outside
            return _divide(grad, self.xp.sqrt(_ONE[grad.dtype] - x * x))


class Arccos(Arcsin):
    """arccos(x), for x in [-1, 1]: pi / 2 - arcsin(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        with np.errstate(invalid="ignore"):
            return np.arccos(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        return -super().backward(grad)


class Arctan(_Op):
    """arctan(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        return np.arctan(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        return grad / (_ONE[grad.dtype] + x * x)


class Sinh(_Op):
    """sinh(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        return np.sinh(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        return grad * self.xp.cosh(x)


class Cosh(_Op):
    """cosh(x)."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        return np.cosh(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        return grad * self.xp.sinh(x)


_LN2, _LN10 = float(np.log(2)), float(np.log(10))


class Log2(_Op):
    """log2(x); log2(0) is -inf."""

    _scale = _LN2
    _log = staticmethod(np.log2)

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        with np.errstate(divide="ignore"):
            return self._log(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        return _divide(grad, x * self._scale)


class Log10(Log2):
    """log10(x); log10(0) is -inf."""

    _scale = _LN10
    _log = staticmethod(np.log10)


class Exp2(_Op):
    """2 ** x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.exp2(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (out,) = self.saved
        return grad * out * _LN2


class Log1p(_Op):
    """log(1 + x), exact for tiny x; log1p(-1) is -inf."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        with np.errstate(divide="ignore"):
            return np.log1p(x)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        return _divide(grad, _ONE[grad.dtype] + x)


class Expm1(_Op):
    """exp(x) - 1, exact for tiny x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        out = np.expm1(x)
        self.save_for_backward(out)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (out,) = self.saved
        return grad * (out + _ONE[out.dtype])


_erf = np.frompyfunc(math.erf, 1, 1)  # NumPy has no erf: math.erf per element, to the last bit
_TWO_OVER_SQRT_PI = 2 / math.sqrt(math.pi)


class Erf(_Op):
    """The Gauss error function, 2 / sqrt(pi) * integral of exp(-t ** 2) from 0 to x."""

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.save_for_backward(x)
        return np.asarray(_erf(x), dtype=x.dtype if x.dtype.kind == "f" else np.float64)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (x,) = self.saved
        return grad * _TWO_OVER_SQRT_PI * self.xp.exp(-(x * x))


def _reversed_cumsum(xp: Any, a: Any, axis: int) -> Any:
    """Running sums along `axis` taken from its end: element i sums a[i:]."""
    return xp.flip(xp.cumsum(xp.flip(a, axis), axis), axis)


class CumSum(_Op):
    """Running sum of x along `axis` (an int)."""

    def forward(self, x: np.ndarray, axis: int = 0) -> np.ndarray:
        self.save_for_backward(axis)
        return np.cumsum(x, axis=axis)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (axis,) = self.saved
        return _reversed_cumsum(self.xp, grad, axis)  # x[i] is in every out[j], j >= i


class CumProd(_Op):
    """Running product of x along `axis` (an int)."""

    def forward(self, x: np.ndarray, axis: int = 0) -> np.ndarray:
        out = np.cumprod(x, axis=axis)
        self.save_for_backward(x, out, axis)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        x, out, axis = self.saved
        return _cumprod_grad(self.xp, x, out, grad, axis)


def _cumprod_grad(xp: Any, x: Any, out: Any, grad: Any, axis: int) -> Any:
    """x's gradient through out = cumprod(x): the sum over j >= i of grad[j] * out[j] / x[i].

    NOTE: out[j] / x[i] is the product up to j without x[i], which dividing cannot give where
    x[i] is 0 (PyTorch's answer, as here): from a slice's first zero x[k] on, the gradient is
    that of the same slice with x[k] taken as 1 (one zero fewer), times x[k] after k. That
    product is 0; only a graph-building backward computes its factor, whose derivative it is.
    """
    zeros = xp.values(x) == 0
    if not zeros.any():
        return _reversed_cumsum(xp, grad * out, axis) / x
    zeros_so_far = np.cumsum(zeros, axis=axis)
    before, first = zeros_so_far == 0, zeros & (zeros_so_far == 1)
    one, zero = _ONE[grad.dtype], _ZERO[grad.dtype]
    grad_before = _reversed_cumsum(xp, grad * out, axis) / xp.where(before, x, one)
    if xp is ArrayMath:  # x[k] * (the rest) is 0: no need to compute the rest
        without_first = xp.cumprod(xp.where(first, one, x), axis)
        from_first = xp.where(first, _reversed_cumsum(xp, grad * without_first, axis), zero)
    else:
        x_first = xp.where(first, x, zero)
        first_zero = xp.sum(x_first, axis=axis, keepdims=True)  # x[k], as a graph value
        ones_for_zero = xp.where(first, one, x)
        rest = _cumprod_grad(xp, ones_for_zero, xp.cumprod(ones_for_zero, axis), grad, axis)
        from_first = rest * xp.where(first, one, first_zero)
    return xp.where(before, grad_before, from_first)


class Flip(_Op):
    """x reversed along `axis` (an int or a tuple; None: every axis)."""

    def forward(self, x: np.ndarray, axis: Any = None) -> np.ndarray:
        self.save_for_backward(axis)
        return np.flip(x, axis)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (axis,) = self.saved
        return self.xp.flip(grad, axis)


class Pad(_Op):
    """x surrounded by `value`: `widths` holds (before, after) for every axis."""

    def forward(
        self, x: np.ndarray, widths: tuple[tuple[int, int], ...] = (), value: float = 0
    ) -> np.ndarray:
        inside = tuple(
            slice(before, before + side) for (before, _), side in zip(widths, x.shape, strict=True)
        )
        self.save_for_backward(inside)
        return np.pad(x, widths, constant_values=value)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        (inside,) = self.saved
        return grad[inside]


# ---- fused ----------------------------------------------------------------------------------
class Affine(_Op):
    """x @ w + b, a Dense layer's forward, fused for speed: one node and one output array.

    x is (..., n_in), w (n_in, n_out) and b broadcasts to the shape of x @ w (for one
    sample x of shape (n_in,), a (1, n_out) bias makes the result (1, n_out), as in NumPy).
    The values and gradients are those of MatMul then Add, bit for bit.
    """

    def forward(self, x: np.ndarray, w: np.ndarray, b: np.ndarray) -> np.ndarray:
        product = _matmul(x, w)
        self.save_for_backward(x, w, product.dtype, b.shape)
        try:
            if product.dtype == b.dtype and b.ndim <= product.ndim:
                product += b  # in place: the values of x @ w + b without a second array
                return product
            out = product + b  # NumPy's promotion and broadcasting, as MatMul then Add give it
            if out.shape == product.shape or (x.ndim == 1 and out.size == product.size):
                return out
        except ValueError:
            pass
        raise ValueError(
            f"bias of shape {b.shape} does not broadcast to x @ w of shape {product.shape}; "
            f"give the bias shape (1, {product.shape[-1]}), or write x @ w + b"
        )

    def backward(self, grad: np.ndarray) -> Grads:
        x, w, product_dtype, b_shape = self.saved
        needs_x, needs_w, needs_b = self.needs_input_grad
        xp = self.xp
        grad_b = grad
        if needs_b and xp is ArrayMath and grad.ndim == 2:
            rows, columns = grad.shape
            if rows > 1 and b_shape == (1, columns):  # a Dense layer's bias, every step: the
                grad_b = np.add.reduce(grad, axis=0, keepdims=True)  # engine's unbroadcast
        # A wider bias: Add hands x @ w its own dtype, except where the engine keeps wider
        # gradients (after nnfs_init(), as the book's NumPy does).
        if grad.dtype != product_dtype and not settings.nnfs_dtypes:
            grad = grad.astype(product_dtype)
        vector = x.ndim == 1  # one sample: as a row, and its gradient as a vector again
        if vector:
            x, grad = x.reshape(1, -1), grad.reshape(1, -1)
        grad_x = xp.matmul(grad, xp.matrix_transpose(w)) if needs_x else None
        grad_w = xp.matmul(xp.matrix_transpose(x), grad) if needs_w else None
        if vector and grad_x is not None:
            grad_x = grad_x.reshape(-1)
        return grad_x, grad_w, grad_b  # the engine sums b's gradient over the broadcast axes


def _softmax_rows(logits: np.ndarray) -> np.ndarray:
    """The book's softmax of each row of a 2-D array: exp(x - max) / sum, its bits.

    NumPy reduces a row of fewer than 8 elements left to right, as it reduces the rows of an
    array along its first axis. For such narrow rows (the book's 3 classes) the softmax is
    computed on a transposed copy, whose columns are contiguous rows: every ufunc call then
    runs NumPy's contiguous loops, at a fraction of the cost of reductions along a short
    axis (tests/test_ops.py checks the bits).
    """
    if logits.shape[1] >= 8 or logits.shape[1] == 0:
        exps = logits - np.maximum.reduce(logits, axis=1, keepdims=True)
        np.exp(exps, out=exps)
        exps /= np.add.reduce(exps, axis=1, keepdims=True)
        return exps
    columns = logits.T.copy()
    columns -= np.maximum.reduce(columns, axis=0)
    np.exp(columns, out=columns)
    columns /= np.add.reduce(columns, axis=0)
    return columns.T.copy()


def _label_positions(labels: Any, shape: tuple[int, int]) -> np.ndarray:
    """The flat positions of probs[range(n), labels] in an (n, classes) array; labels checked."""
    n, classes = shape
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"SoftmaxCrossEntropy: labels must be integer class indices, got dtype {labels.dtype}"
        )
    if labels.shape != (n,):
        raise ValueError(
            f"labels must be one class index per row of the {n} rows of logits, got labels of "
            f"shape {labels.shape}"
        )
    try:  # ravel_multi_index checks every label is in 0..classes - 1 as it computes
        return np.ravel_multi_index((kept(np.arange, n), labels), shape)
    except ValueError:
        bad = labels[(labels < 0) | (labels >= classes)][0]
        raise ValueError(
            f"label {bad} is out of range: labels must be one class index in 0..{classes - 1} "
            f"per row"
        ) from None


_LOW, _HIGH = Constant(1e-7), Constant(1 - 1e-7)  # the book's clip of probabilities


class SoftmaxCrossEntropy(_Op):
    """Mean cross-entropy of softmax(logits) against sparse labels, fused for speed.

    Value: the book's mean of -log(clip(softmax(logits)[label], 1e-7, 1 - 1e-7)).
    Gradient: (softmax(logits) - onehot(labels)) / n, in one step (never the Jacobian).
    """

    def forward(self, logits: np.ndarray, labels: np.ndarray) -> np.ndarray:
        n = len(logits)
        picked = _label_positions(labels, logits.shape)
        # The book's np.max/np.sum/np.clip/np.mean, bit for bit, at a fraction of the cost
        # (this runs every step): see _softmax_rows; maximum/minimum clip alike, and
        # sum(-a) / n equals mean(-a) in every rounding.
        probs = _softmax_rows(logits)
        picked_probs = probs.reshape(-1)[picked]
        self.save_for_backward(probs, picked, picked_probs)
        dtype = probs.dtype
        correct = np.minimum(np.maximum(picked_probs, _LOW[dtype]), _HIGH[dtype])
        return np.asarray(-np.add.reduce(np.log(correct)) / n)

    def graph_saved(self, output: Any) -> tuple[Any, ...]:
        logits, _ = self.parents
        return logits.softmax(), self.saved[1], None

    def backward(self, grad: np.ndarray) -> Grads:
        probs, picked, picked_probs = self.saved
        return self.xp.softmax_cross_entropy_grad(probs, picked, picked_probs, grad), None


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


def _softmax_cross_entropy_grad_graph(
    probs: Any, picked: np.ndarray, picked_probs: None, grad: Any
) -> Any:
    """(probs - onehot) / n * grad with recorded ops (picked_probs: recomputed in probs)."""
    onehot = np.zeros(probs.shape, probs.dtype)
    onehot.reshape(-1)[picked] = 1
    return (probs - onehot) / len(picked) * grad


def _swap_last_axes(x: Any) -> Any:
    ndim = np.ndim(_values(x))
    return Transpose.apply(x, axes=(*range(ndim - 2), ndim - 1, ndim - 2))


def _reshaped_like(x: Any, shape_of: Any) -> Any:
    return Reshape.apply(x, shape=np.shape(shape_of))


def _zeros_like_graph(x: Any) -> Any:
    """Zeros of x's shape and dtype as a Tensor of the graph that needs no gradient (a gradient
    a graph-building backward returns must be a Tensor, even a constant one)."""
    values = _values(x)
    return Expand.apply(_ZERO[values.dtype], shape=values.shape)


class TensorMath:
    """ArrayMath's functions, and more of NumPy's, as recorded ops: the `xp` of a backward
    that builds a graph (create_graph=True). Masks and signs stay constants."""

    abs = staticmethod(Abs.apply)
    broadcast_to = staticmethod(lambda x, shape: Expand.apply(x, shape=tuple(shape)))
    clip = staticmethod(lambda x, lo, hi: Clip.apply(x, lo=lo, hi=hi))
    depends_on = staticmethod(DependsOn.apply)
    cos = staticmethod(Cos.apply)
    cosh = staticmethod(Cosh.apply)
    cumprod = staticmethod(lambda x, axis: CumProd.apply(x, axis=axis))
    cumsum = staticmethod(lambda x, axis: CumSum.apply(x, axis=axis))
    exp = staticmethod(Exp.apply)
    expand_dims = staticmethod(lambda x, axis: _reshaped_like(x, np.expand_dims(_values(x), axis)))
    flip = staticmethod(lambda x, axis=None: Flip.apply(x, axis=axis))
    index_add = staticmethod(lambda x, shape, index: IndexAdd.apply(x, shape=shape, index=index))
    log = staticmethod(Log.apply)
    matmul = staticmethod(MatMul.apply)
    matrix_transpose = staticmethod(_swap_last_axes)
    maximum = staticmethod(Maximum.apply)
    minimum = staticmethod(Minimum.apply)
    reshape = staticmethod(lambda x, shape: Reshape.apply(x, shape=tuple(shape)))
    sign = staticmethod(lambda x: np.sign(_values(x)))
    sin = staticmethod(Sin.apply)
    sinh = staticmethod(Sinh.apply)
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
    zeros_like = staticmethod(_zeros_like_graph)


# ---- convolution and pooling ----------------------------------------------------------------
# Images are NCHW, (batch, channels, height, width), and kernels (out_channels, in_channels,
# height, width), as in PyTorch; kernel sizes, strides and paddings are (height, width) pairs
# (Tensor.conv2d and the pools check them). Each backward is another op of this section, so
# every derivative here can be differentiated again: a convolution's gradients are a
# transposed convolution (for x) and a correlation of x with the gradient (for w), which are
# linear in each argument, and whose own gradients are these three again.
Pair = tuple[int, int]


def conv2d_arguments(
    x_shape: tuple[int, ...],
    w_shape: tuple[int, ...],
    b_shape: tuple[int, ...] | None,
    stride: Any,
    padding: Any,
) -> tuple[Pair, Pair]:
    """conv2d's (stride, padding) as pairs, once the shapes fit; a ValueError naming them if not."""
    if len(x_shape) != 4:
        raise ValueError(
            f"conv2d: x must be a batch of images (batch, channels, height, width), got shape "
            f"{x_shape}; for one image add the batch axis (x.reshape(1, *x.shape))"
        )
    if len(w_shape) != 4 or 0 in w_shape[2:]:
        raise ValueError(
            f"conv2d: w must have shape (out_channels, in_channels, kernel_height, "
            f"kernel_width), got shape {w_shape}"
        )
    if x_shape[1] != w_shape[1]:
        raise ValueError(
            f"conv2d: x of shape {x_shape} has {x_shape[1]} channels but w of shape {w_shape} "
            f"takes {w_shape[1]} (w.shape[1]); give w shape ({w_shape[0]}, {x_shape[1]}, "
            f"{w_shape[2]}, {w_shape[3]})"
        )
    if b_shape is not None and tuple(b_shape) != (w_shape[0],):
        raise ValueError(
            f"conv2d: b must hold one bias per output channel, shape ({w_shape[0]},) for w of "
            f"shape {w_shape}, got shape {b_shape}"
        )
    stride = check_pair(stride, "conv2d", "stride", minimum=1)
    padding = check_pair(padding, "conv2d", "padding", minimum=0)
    height, width = x_shape[2] + 2 * padding[0], x_shape[3] + 2 * padding[1]
    if w_shape[2] > height or w_shape[3] > width:
        raise ValueError(
            f"conv2d: the kernel {w_shape[2]}x{w_shape[3]} of w (shape {w_shape}) is larger "
            f"than the padded input {height}x{width} (x of shape {x_shape}, padding {padding}); "
            f"use a smaller kernel or more padding"
        )
    return stride, padding


def pool2d_arguments(
    op: str, x_shape: tuple[int, ...], kernel_size: Any, stride: Any
) -> tuple[Pair, Pair]:
    """A pool's (kernel, stride) as pairs (stride None: the kernel's), checked against x's shape."""
    if len(x_shape) != 4:
        raise ValueError(
            f"{op}: x must be a batch of images (batch, channels, height, width), got shape "
            f"{x_shape}; for one image add the batch axis (x.reshape(1, *x.shape))"
        )
    kernel = check_pair(kernel_size, op, "kernel_size", minimum=1)
    stride = kernel if stride is None else check_pair(stride, op, "stride", minimum=1)
    if kernel[0] > x_shape[2] or kernel[1] > x_shape[3]:
        raise ValueError(
            f"{op}: kernel_size {kernel} is larger than the {x_shape[2]}x{x_shape[3]} images of "
            f"x (shape {x_shape}); use a smaller kernel"
        )
    return kernel, stride


def _output_size(size: Any, kernel: Pair, stride: Pair, padding: Pair = (0, 0)) -> Pair:
    """The output (height, width) of windows of `kernel`, `stride` apart, over a padded image."""
    (h, w), (kh, kw), (sh, sw), (ph, pw) = size, kernel, stride, padding
    return (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1


def _window_slices(kernel: Pair, stride: Pair, out_size: Pair) -> list[tuple[Any, slice, slice]]:
    """Per kernel offset (row-major): the index of the pixels it meets, one per output pixel.

    A loop over these kh * kw slices, each one vectorised over the whole batch, is how the
    pools and the transposed convolution visit their windows (no loop per pixel).
    """
    (kh, kw), (sh, sw), (oh, ow) = kernel, stride, out_size
    return [
        (..., slice(i, i + sh * (oh - 1) + 1, sh), slice(j, j + sw * (ow - 1) + 1, sw))
        for i in range(kh)
        for j in range(kw)
    ]


def _pad(x: np.ndarray, padding: Pair) -> np.ndarray:
    """x with `padding` zeros on both sides of its height and width."""
    ph, pw = padding
    if not (ph or pw):
        return x
    return np.pad(x, ((0, 0), (0, 0), (ph, ph), (pw, pw)))


def _im2col(x: np.ndarray, kernel: Pair, stride: Pair, padding: Pair) -> np.ndarray:
    """(N, C * kh * kw, H' * W'), contiguous: column p holds the pixels under output pixel p."""
    sh, sw = stride
    windows = np.lib.stride_tricks.sliding_window_view(_pad(x, padding), kernel, axis=(2, 3))
    n, c, oh, ow, kh, kw = windows[:, :, ::sh, ::sw].shape
    # One copy: the strided view laid out so that one matmul per image does the convolution.
    return windows[:, :, ::sh, ::sw].transpose(0, 1, 4, 5, 2, 3).reshape(n, c * kh * kw, oh * ow)


def _col2im(
    cols: np.ndarray, shape: tuple[int, ...], kernel: Pair, stride: Pair, padding: Pair
) -> np.ndarray:
    """_im2col's adjoint: cols (N, C, kh, kw, H', W') added back onto the pixels of x's shape."""
    n, c, h, w = shape
    ph, pw = padding
    out = np.zeros((n, c, h + 2 * ph, w + 2 * pw), dtype=cols.dtype)
    for offset, index in enumerate(_window_slices(kernel, stride, cols.shape[4:])):
        out[index] += cols[:, :, offset // kernel[1], offset % kernel[1]]
    return out[:, :, ph : ph + h, pw : pw + w]


def _conv2d_with_columns(
    x: np.ndarray, w: np.ndarray, stride: Pair, padding: Pair
) -> tuple[np.ndarray, np.ndarray]:
    """(the convolution of x with w, (N, O, H', W'); the im2col columns of x it used)."""
    out_channels, _, kh, kw = w.shape
    cols = _im2col(x, (kh, kw), stride, padding)
    out = _matmul(w.reshape(out_channels, -1), cols)  # (N, O, H' * W'): NCHW with no transpose
    size = _output_size(x.shape[2:], (kh, kw), stride, padding)
    return out.reshape(len(x), out_channels, *size), cols


def _conv2d(x: np.ndarray, w: np.ndarray, stride: Pair, padding: Pair) -> np.ndarray:
    """The cross-correlation of x (N, C, H, W) with w (O, C, kh, kw): (N, O, H', W')."""
    return _conv2d_with_columns(x, w, stride, padding)[0]


def _conv2d_input_grad(
    grad: np.ndarray, w: np.ndarray, shape: tuple[int, ...], stride: Pair, padding: Pair
) -> np.ndarray:
    """d conv2d / d x for x of `shape`: the transposed convolution of grad with w."""
    out_channels, in_channels, kh, kw = w.shape
    n, _, oh, ow = grad.shape
    weights = _matrix_transpose(w.reshape(out_channels, -1))  # (C * kh * kw, O)
    if stride != (1, 1):
        cols = _matmul(weights, grad.reshape(n, out_channels, -1))
        cols = cols.reshape(n, in_channels, kh, kw, oh, ow)
        return _col2im(cols, shape, (kh, kw), stride, padding)
    # Stride 1: grad's rows widened with zeros to the padded input's width, so that each kernel
    # offset adds one contiguous run of the flattened image (short strided rows are slow).
    height, width = shape[2] + 2 * padding[0], shape[3] + 2 * padding[1]
    wide = np.zeros((n, out_channels, oh, width), grad.dtype)
    wide[..., :ow] = grad
    cols = _matmul(weights, wide.reshape(n, out_channels, oh * width))
    cols = cols.reshape(n, in_channels, kh * kw, oh * width)
    flat = np.zeros((n, in_channels, height * width + kw - 1), cols.dtype)
    for offset in range(kh * kw):
        start = (offset // kw) * width + offset % kw
        flat[:, :, start : start + oh * width] += cols[:, :, offset]
    image = flat[:, :, : height * width].reshape(n, in_channels, height, width)
    return image[:, :, padding[0] : padding[0] + shape[2], padding[1] : padding[1] + shape[3]]


def _conv2d_weight_grad(
    x: np.ndarray,
    grad: np.ndarray,
    kernel: Pair,
    stride: Pair,
    padding: Pair,
    cols: np.ndarray | None = None,
) -> np.ndarray:
    """d conv2d / d w: each weight's input pixels against the gradients of the outputs it made.

    `cols`: x's im2col columns, when the forward pass kept them.
    """
    if cols is None:
        cols = _im2col(x, kernel, stride, padding)
    n, out_channels = grad.shape[:2]
    per_image = _matmul(grad.reshape(n, out_channels, -1), _matrix_transpose(cols))
    return per_image.sum(axis=0).reshape(out_channels, x.shape[1], *kernel)


class Conv2d(_Op):
    """The 2-D cross-correlation of x (N, C, H, W) with w (O, C, kh, kw) -> (N, O, H', W').

    PyTorch's conv2d without the bias: `stride` and zero `padding` are (height, width) pairs.
    """

    def forward(
        self, x: np.ndarray, w: np.ndarray, stride: Pair = (1, 1), padding: Pair = (0, 0)
    ) -> np.ndarray:
        out, cols = _conv2d_with_columns(x, w, stride, padding)
        # The columns serve w's gradient again; under create_graph they are recomputed.
        self.save_for_backward(x, w, stride, padding, cols if self.needs_input_grad[1] else None)
        return out

    def graph_saved(self, output: Any) -> tuple[Any, ...]:
        x, w = self.parents
        return x, w, *self.saved[2:4], None

    def backward(self, grad: np.ndarray) -> Grads:
        x, w, stride, padding, cols = self.saved
        needs_x, needs_w = self.needs_input_grad
        xp = self.xp
        grad_x = xp.conv2d_input_grad(grad, w, x.shape, stride, padding) if needs_x else None
        grad_w = (
            xp.conv2d_weight_grad(x, grad, w.shape[2:], stride, padding, cols) if needs_w else None
        )
        return grad_x, grad_w


class Conv2dInputGrad(_Op):
    """Conv2d's gradient for x of `shape`, as an op: the transposed convolution of grad with w."""

    def forward(
        self,
        grad: np.ndarray,
        w: np.ndarray,
        shape: tuple[int, ...] = (),
        stride: Pair = (1, 1),
        padding: Pair = (0, 0),
    ) -> np.ndarray:
        self.save_for_backward(grad, w, stride, padding)
        return _conv2d_input_grad(grad, w, shape, stride, padding)

    def backward(self, out_grad: np.ndarray) -> Grads:
        grad, w, stride, padding = self.saved
        needs_grad, needs_w = self.needs_input_grad
        xp = self.xp  # linear in grad and in w: the adjoint of each is a convolution again
        return (
            xp.conv2d(out_grad, w, stride, padding) if needs_grad else None,
            xp.conv2d_weight_grad(out_grad, grad, w.shape[2:], stride, padding)
            if needs_w
            else None,
        )


class Conv2dWeightGrad(_Op):
    """Conv2d's gradient for w of kernel `kernel`, as an op: x correlated with grad."""

    def forward(
        self,
        x: np.ndarray,
        grad: np.ndarray,
        kernel: Pair = (1, 1),
        stride: Pair = (1, 1),
        padding: Pair = (0, 0),
    ) -> np.ndarray:
        self.save_for_backward(x, grad, stride, padding)
        return _conv2d_weight_grad(x, grad, kernel, stride, padding)

    def backward(self, out_grad: np.ndarray) -> Grads:
        x, grad, stride, padding = self.saved
        needs_x, needs_grad = self.needs_input_grad
        xp = self.xp
        return (
            xp.conv2d_input_grad(grad, out_grad, x.shape, stride, padding) if needs_x else None,
            xp.conv2d(x, out_grad, stride, padding) if needs_grad else None,
        )


def _max_pool2d_with_winners(
    x: np.ndarray, kernel: Pair, stride: Pair
) -> tuple[np.ndarray, np.ndarray]:
    """(the max of each window of x, (N, C, H', W'); winners (kh * kw, N, C, H', W'), True at
    the kernel offset of each window's first maximum).

    NOTE: a tie sends the whole gradient to the window's first maximum (row-major), as
    PyTorch's max_pool2d does.
    """
    slices = _window_slices(kernel, stride, _output_size(x.shape[2:], kernel, stride))
    out = x[slices[0]].copy()
    for index in slices[1:]:
        np.maximum(out, x[index], out=out)
    # Boolean masks, not an argmax: NumPy's argmax along a short strided axis is ~10x slower.
    winners = np.empty((len(slices), *out.shape), dtype=bool)
    np.equal(x[slices[0]], out, out=winners[0])
    taken = winners[0].copy()
    for offset in range(1, len(slices)):
        hit = winners[offset]
        np.equal(x[slices[offset]], out, out=hit)
        hit &= ~taken
        taken |= hit
    return out, winners


def _max_pool2d_grad(
    grad: np.ndarray, shape: tuple[int, ...], winners: np.ndarray, kernel: Pair, stride: Pair
) -> np.ndarray:
    """MaxPool2d's gradient: each output's gradient added to the input pixel it came from."""
    out = np.zeros(shape, grad.dtype)
    apart = stride[0] >= kernel[0] and stride[1] >= kernel[1]  # windows that do not overlap
    for hit, index in zip(winners, _window_slices(kernel, stride, grad.shape[2:]), strict=True):
        if apart:
            np.multiply(grad, hit, out=out[index])
        else:
            out[index] += grad * hit
    return out


def _max_pool2d_grad_graph(
    grad: Any, shape: tuple[int, ...], winners: np.ndarray, kernel: Pair, stride: Pair
) -> Any:
    """_max_pool2d_grad with recorded ops: an IndexAdd at the flat positions of the maxima."""
    routing = winners.argmax(axis=0)  # each window's offset of its first maximum
    n, c, oh, ow = routing.shape
    height, width = shape[2:]
    rows = np.arange(oh).reshape(oh, 1) * stride[0] + routing // kernel[1]
    columns = np.arange(ow) * stride[1] + routing % kernel[1]
    planes = np.arange(n * c).reshape(n, c, 1, 1) * (height * width)
    positions = (planes + rows * width + columns).reshape(-1)
    flat = Reshape.apply(grad, shape=(-1,))
    return Reshape.apply(
        IndexAdd.apply(flat, shape=(n * c * height * width,), index=positions), shape=shape
    )


class MaxPool2d(_Op):
    """The max of each `kernel` window of x (N, C, H, W), windows `stride` apart."""

    def forward(self, x: np.ndarray, kernel: Pair = (2, 2), stride: Pair = (2, 2)) -> np.ndarray:
        out, winners = _max_pool2d_with_winners(x, kernel, stride)
        self.save_for_backward(x.shape, winners, kernel, stride)
        return out

    def backward(self, grad: np.ndarray) -> np.ndarray:
        shape, winners, kernel, stride = self.saved
        return self.xp.max_pool2d_grad(grad, shape, winners, kernel, stride)


def _avg_pool2d(x: np.ndarray, kernel: Pair, stride: Pair) -> np.ndarray:
    """The mean of each `kernel` window of x (N, C, H, W), windows `stride` apart."""
    slices = _window_slices(kernel, stride, _output_size(x.shape[2:], kernel, stride))
    total = x[slices[0]].copy()
    for index in slices[1:]:
        total += x[index]
    return total / len(slices)


def _avg_pool2d_grad(
    grad: np.ndarray, shape: tuple[int, ...], kernel: Pair, stride: Pair
) -> np.ndarray:
    """AvgPool2d's gradient: each output's gradient shared evenly by its window's pixels."""
    share = grad / (kernel[0] * kernel[1])
    out = np.zeros(shape, share.dtype)
    for index in _window_slices(kernel, stride, grad.shape[2:]):
        out[index] += share
    return out


class AvgPool2d(_Op):
    """The mean of each `kernel` window of x (N, C, H, W), windows `stride` apart."""

    def forward(self, x: np.ndarray, kernel: Pair = (2, 2), stride: Pair = (2, 2)) -> np.ndarray:
        self.save_for_backward(x.shape, kernel, stride)
        return _avg_pool2d(x, kernel, stride)

    def backward(self, grad: np.ndarray) -> np.ndarray:
        shape, kernel, stride = self.saved
        return self.xp.avg_pool2d_grad(grad, shape, kernel, stride)


class AvgPool2dGrad(_Op):
    """AvgPool2d's gradient for x of `shape`, as an op (linear: its adjoint is AvgPool2d)."""

    def forward(
        self,
        grad: np.ndarray,
        shape: tuple[int, ...] = (),
        kernel: Pair = (2, 2),
        stride: Pair = (2, 2),
    ) -> np.ndarray:
        self.save_for_backward(kernel, stride)
        return _avg_pool2d_grad(grad, shape, kernel, stride)

    def backward(self, out_grad: np.ndarray) -> np.ndarray:
        kernel, stride = self.saved
        return self.xp.avg_pool2d(out_grad, kernel, stride)


# The functions the backwards above call through self.xp, set here after the ops they name:
# NumPy's forms for a first-order backward, recorded ops for one that builds a graph.
ArrayMath.avg_pool2d = staticmethod(_avg_pool2d)
ArrayMath.avg_pool2d_grad = staticmethod(_avg_pool2d_grad)
ArrayMath.conv2d = staticmethod(_conv2d)
ArrayMath.conv2d_input_grad = staticmethod(_conv2d_input_grad)
ArrayMath.conv2d_weight_grad = staticmethod(_conv2d_weight_grad)
ArrayMath.max_pool2d_grad = staticmethod(_max_pool2d_grad)
TensorMath.avg_pool2d = staticmethod(
    lambda x, kernel, stride: AvgPool2d.apply(x, kernel=kernel, stride=stride)
)
TensorMath.avg_pool2d_grad = staticmethod(
    lambda grad, shape, kernel, stride: AvgPool2dGrad.apply(
        grad, shape=shape, kernel=kernel, stride=stride
    )
)
TensorMath.conv2d = staticmethod(
    lambda x, w, stride, padding: Conv2d.apply(x, w, stride=stride, padding=padding)
)
TensorMath.conv2d_input_grad = staticmethod(
    lambda grad, w, shape, stride, padding: Conv2dInputGrad.apply(
        grad, w, shape=tuple(shape), stride=stride, padding=padding
    )
)
TensorMath.conv2d_weight_grad = staticmethod(
    lambda x, grad, kernel, stride, padding, cols=None: Conv2dWeightGrad.apply(
        x, grad, kernel=tuple(kernel), stride=stride, padding=padding
    )
)
TensorMath.max_pool2d_grad = staticmethod(_max_pool2d_grad_graph)
