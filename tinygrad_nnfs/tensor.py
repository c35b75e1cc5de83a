"""Tensor: an ndarray that records the ops applied to it, and backward() that walks them."""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np

from tinygrad_nnfs import engine, ops
from tinygrad_nnfs._cache import operand
from tinygrad_nnfs._checks import (
    check_dtype,
    check_int,
    check_ints,
    check_number,
    check_pair,
    is_int,
)
from tinygrad_nnfs.engine import (
    TensorBase,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    no_grad,
    run_backward,
    settings,
)

if TYPE_CHECKING:
    from tinygrad_nnfs.graph import GraphDiagram

__all__ = [
    "Tensor",
    "ValuesIndices",
    "detect_anomaly",
    "enable_grad",
    "get_default_dtype",
    "get_matmul_precision",
    "grad",
    "is_grad_enabled",
    "manual_seed",
    "nnfs_init",
    "no_grad",
    "one_hot",
    "set_default_dtype",
    "set_matmul_precision",
    "where",
]

Axis = int | tuple[int, ...] | None
_PLAIN_SCALARS = (float, int)  # checked by exact type first: the common case, and fast

_default_dtype: np.dtype = np.dtype(np.float32)
# The book's `nnfs.init()` seeds NumPy's legacy global stream; one RandomState plays that role.
_library_rng = np.random.RandomState(0)
_FLOAT16 = np.dtype(np.float16)

# PyTorch's selu constants (Klambauer et al., 2017), and gelu's
_SELU_ALPHA = 1.6732632423543772848170429916717
_SELU_SCALE = 1.0507009873554804934193349852946
_SQRT_HALF = math.sqrt(0.5)
_SQRT_2_OVER_PI = math.sqrt(2 / math.pi)
# pad's modes besides "constant": numpy.pad's, and PyTorch's names for two of them
_PAD_MODES = {
    "edge": "edge",
    "reflect": "reflect",
    "symmetric": "symmetric",
    "wrap": "wrap",
    "replicate": "edge",
    "circular": "wrap",
}


def set_default_dtype(dtype: Any) -> None:
    """Set the float dtype that float lists, scalars and new parameters get (float32 at start)."""
    global _default_dtype
    dtype = check_dtype(dtype, "set_default_dtype")
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a float dtype, got {dtype}")
    _default_dtype = dtype


def get_default_dtype() -> np.dtype:
    """The float dtype that float lists, scalars and new parameters get."""
    return _default_dtype


def manual_seed(seed: int) -> None:
    """Seed the library stream behind every random constructor, dataset, init and dropout."""
    _library_rng.seed(_check_seed(seed, "manual_seed"))


def _check_seed(seed: Any, where: str) -> int:
    seed = check_int(seed, where, "seed")
    if not 0 <= seed < 2**32:
        raise ValueError(f"{where}: seed must be in 0..2**32 - 1, got {seed}")
    return seed


def set_matmul_precision(precision: str) -> None:
    """ "float64": compute float32 matmuls in float64 and round to float32 (nnfs.init's np.dot).

    "native" (the default) multiplies in the operands' dtype. The switch covers every matmul
    the library does, forward and backward (`@`, Dense). A float32 run with native matmuls
    follows the machine's BLAS kernel; with "float64" it gives the same bits on any machine.
    Matmuls of float64 operands only are float64 either way.
    """
    if precision not in ("float64", "native"):
        raise ValueError(f"set_matmul_precision: expected 'float64' or 'native', got {precision!r}")
    settings.matmul_in_float64 = precision == "float64"


def get_matmul_precision() -> str:
    """ "float64" or "native": see set_matmul_precision."""
    return "float64" if settings.matmul_in_float64 else "native"


def nnfs_init(
    dot_precision_workaround: bool = True,
    default_dtype: Any = "float32",
    random_seed: int | None = 0,
) -> None:
    """The book's `nnfs.init()` for this library, with its keywords and semantics.

    Seeds NumPy's global legacy stream with `random_seed` (None: leaves it) and makes it
    the library stream, so a book program mixing `np.random` calls with library layers
    draws the book's numbers; sets the default float dtype (None: float64, NumPy's) and
    gives the nnfs package's dtypes: randn draws in the default dtype (float32 weights are
    `0.01 * float32(randn)`), uint8 labels, float64 sine data, float64 dropout masks. With
    the workaround, float32 matmuls run in float64 and are rounded to float32
    (set_matmul_precision("float64")), as nnfs.init() does for np.dot: then the book's
    float32 programs give the book's code's numbers bit for bit, on any machine.
    """
    global _library_rng
    if random_seed is not None:
        random_seed = _check_seed(random_seed, "nnfs_init")
    set_default_dtype(np.float64 if default_dtype is None else default_dtype)
    set_matmul_precision("float64" if dot_precision_workaround else "native")
    _library_rng = np.random.mtrand._rand  # the stream np.random.seed and np.random.randn use
    if random_seed is not None:
        _library_rng.seed(random_seed)
    settings.nnfs_dtypes = True


def _standard_normal(stream: Any, shape: Any) -> np.ndarray:
    """randn draws; after nnfs_init() in the default dtype, as nnfs.init makes np.random.randn."""
    draws = stream.standard_normal(shape)
    return draws.astype(_default_dtype, copy=False) if settings.nnfs_dtypes else draws


def _resolve_rng(rng: Any) -> np.random.RandomState | np.random.Generator:
    """The stream to draw from: the library stream for None, else an independent one."""
    if rng is None:
        return _library_rng
    if isinstance(rng, np.random.RandomState | np.random.Generator):
        return rng
    if isinstance(rng, numbers.Integral):
        return np.random.RandomState(int(rng))
    raise TypeError(f"rng: expected None, an int, a RandomState or a Generator, got {rng!r}")


def _to_array(data: Any, dtype: Any) -> np.ndarray:
    """Tensor data as an ndarray: ndarrays keep their dtype, float lists get the default."""
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        array = data
    else:
        try:
            array = np.array(data)
        except ValueError as error:  # ragged nested lists
            raise TypeError(
                f"Tensor: data must be a number, a rectangular nested list or an ndarray; "
                f"got a ragged list ({error})"
            ) from None
        if dtype is None and array.dtype.kind == "f":
            array = array.astype(_default_dtype, copy=False)
    if array.dtype.kind not in "biuf":
        raise TypeError(
            f"Tensor: data must be numeric (float, int or bool); got dtype {array.dtype} "
            f"from {type(data).__name__}"
        )
    if dtype is not None:
        array = array.astype(check_dtype(dtype, "Tensor"), copy=False)
    return array


class Tensor(TensorBase):
    """An ndarray plus the op that produced it, so backward() can compute gradients."""

    __slots__ = ()
    __array_priority__ = 1000  # ndarray <op> Tensor defers to Tensor's reflected operators
    __array_ufunc__ = None  # and np.exp(tensor) is a TypeError, not an array of objects

    def __init__(
        self,
        data: Any,
        requires_grad: bool = False,
        dtype: Any = None,
        name: str | None = None,
    ) -> None:
        if not isinstance(requires_grad, bool | np.bool_):
            raise TypeError(
                f"Tensor: requires_grad must be True or False, got "
                f"{type(requires_grad).__name__} {requires_grad!r}"
            )
        array = _to_array(data, dtype)
        if requires_grad and array.dtype.kind != "f":
            raise TypeError(
                f"Tensor: only float tensors can require grad; got dtype {array.dtype} "
                f"(labels and masks stay integer/bool; pass dtype=np.float32 for parameters)"
            )
        self._init_fields(array, bool(requires_grad), name)

    @classmethod
    def _make(cls, data: np.ndarray) -> Tensor:
        """A tensor that shares `data` and requires no grad, without __init__'s checks."""
        out = cls.__new__(cls)
        out._init_fields(data, False, None)
        return out

    # ---- attributes -------------------------------------------------------------------
    @property
    def grad(self) -> Tensor | None:
        """The gradient from backward(), a Tensor of self's shape, or None.

        After backward(create_graph=True) it is a Tensor that requires grad.
        """
        grad = self._grad
        return grad if grad is None or isinstance(grad, Tensor) else Tensor._make(grad)

    @grad.setter
    def grad(self, value: Any) -> None:
        if value is None:
            self._grad = None
            return
        array = _as_array(value)
        if array.dtype.kind not in "biuf":
            raise TypeError(
                f"grad: a gradient must hold real numbers, got dtype {array.dtype}; pass an "
                f"array of shape {self.shape} in the tensor's dtype {self.dtype}"
            )
        if array.shape != self.data.shape:
            raise ValueError(f"grad: shape {array.shape} does not match tensor shape {self.shape}")
        self._grad = array

    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def dtype(self) -> np.dtype:
        return self._data.dtype

    @property
    def T(self) -> Tensor:
        """The transpose (all axes reversed)."""
        return self.transpose()

    def __repr__(self) -> str:
        extras = "".join(
            [
                f", name={self.name!r}" if self.name else "",
                f", op={type(self._ctx).__name__}" if self._ctx is not None else "",
                ", requires_grad=True" if self.requires_grad else "",
            ]
        )
        values = np.array2string(self.data, separator=", ", prefix="Tensor(")
        return f"Tensor({values}, dtype={self.dtype}{extras})"

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len: a 0-d Tensor has no length; use .item() for its value")
        return len(self.data)

    def __iter__(self) -> Iterator[Tensor]:
        if self.ndim == 0:  # else Python would iterate self[0], self[1]... and yield nothing
            raise TypeError("iter: a 0-d Tensor is not iterable; use .item() for its value")
        return (self[i] for i in range(len(self.data)))

    def __bool__(self) -> bool:
        if self.data.size != 1:
            raise ValueError(
                f"bool: the truth value of a Tensor of shape {self.shape} is ambiguous; "
                f"reduce it first, e.g. bool((a == b).numpy().all())"
            )
        return bool(self.data)

    __hash__ = object.__hash__

    # ---- conversions -------------------------------------------------------------------
    def numpy(self) -> np.ndarray:
        """The underlying ndarray (shared, not copied)."""
        return self.data

    def item(self) -> float | int | bool:
        """The value of a one-element tensor as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item: only one-element tensors convert, got shape {self.shape}")
        return self.data.item()

    def tolist(self) -> Any:
        """The data as nested Python lists."""
        return self.data.tolist()

    def detach(self) -> Tensor:
        """A tensor sharing self's data, cut from the graph."""
        return Tensor._make(self.data)

    def astype(self, dtype: Any) -> Tensor:
        """Cast to `dtype`; float-to-float casts stay differentiable."""
        dtype = check_dtype(dtype, "astype")
        if dtype.kind != "f":
            return Tensor._make(self.data.astype(dtype))
        return ops.Cast.apply(self, dtype=dtype)

    # ---- constructors ------------------------------------------------------------------
    @staticmethod
    def _shape_arg(shape: tuple[Any, ...]) -> tuple[int, ...]:
        return tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], Iterable) else shape

    @staticmethod
    def _new_shape(shape: tuple[Any, ...], where: str) -> tuple[int, ...]:
        """A constructor's shape (ints or one tuple), every side an int >= 0."""
        shape = check_ints(Tensor._shape_arg(shape), f"Tensor.{where}", "every side of shape")
        if any(side < 0 for side in shape):
            raise ValueError(
                f"Tensor.{where}: shape {shape} has a negative side; every side must be >= 0"
            )
        return shape

    @classmethod
    def _new(cls, array: np.ndarray, dtype: Any, requires_grad: bool) -> Tensor:
        return cls(array, requires_grad=requires_grad, dtype=dtype or _default_dtype)

    @classmethod
    def zeros(cls, *shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A tensor of zeros; shape as separate ints or one tuple."""
        return cls._new(np.zeros(cls._new_shape(shape, "zeros")), dtype, requires_grad)

    @classmethod
    def ones(cls, *shape: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """A tensor of ones; shape as separate ints or one tuple."""
        return cls._new(np.ones(cls._new_shape(shape, "ones")), dtype, requires_grad)

    @classmethod
    def randn(
        cls, *shape: Any, rng: Any = None, dtype: Any = None, requires_grad: bool = False
    ) -> Tensor:
        """Standard normal draws from the library stream (or `rng`)."""
        draws = _standard_normal(_resolve_rng(rng), cls._new_shape(shape, "randn"))
        return cls._new(draws, dtype, requires_grad)

    @classmethod
    def uniform(
        cls,
        *shape: Any,
        low: float = 0.0,
        high: float = 1.0,
        rng: Any = None,
        dtype: Any = None,
        requires_grad: bool = False,
    ) -> Tensor:
        """Uniform draws in [low, high) from the library stream (or `rng`)."""
        shape = cls._new_shape(shape, "uniform")
        for name, bound in (("low", low), ("high", high)):
            check_number(bound, "Tensor.uniform", name, finite=True)
        if low > high:
            raise ValueError(f"Tensor.uniform: low ({low}) must not exceed high ({high})")
        draws = _resolve_rng(rng).uniform(low, high, shape)
        return cls._new(draws, dtype, requires_grad)

    @classmethod
    def eye(cls, n: int, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """The n x n identity."""
        check_int(n, "Tensor.eye", "n", minimum=0)
        return cls._new(np.eye(n), dtype, requires_grad)

    @classmethod
    def arange(cls, *args: Any, dtype: Any = None, requires_grad: bool = False) -> Tensor:
        """Like numpy.arange: int64 for int arguments, the default float dtype otherwise."""
        try:
            values = np.arange(*args)
        except (TypeError, ValueError, ZeroDivisionError) as error:
            kind = TypeError if isinstance(error, TypeError) else ValueError
            raise kind(
                f"Tensor.arange{args}: {error}; pass numbers as numpy.arange takes them: "
                f"stop, or start, stop and a non-zero step"
            ) from None
        if dtype is None and values.dtype.kind == "f":
            dtype = _default_dtype
        return cls(values, requires_grad=requires_grad, dtype=dtype)

    @staticmethod
    def concatenate(tensors: Iterable[Any], axis: int = 0) -> Tensor:
        """Join tensors along an existing axis."""
        tensors = [_as_tensor(t) for t in tensors]
        if not tensors:
            raise ValueError("concatenate: got no tensors; pass a non-empty list of tensors")
        check_int(axis, "concatenate", "axis")
        return ops.Concatenate.apply(*tensors, axis=axis)

    @staticmethod
    def stack(tensors: Iterable[Any], axis: int = 0) -> Tensor:
        """Join tensors along a new axis."""
        tensors = [_as_tensor(t) for t in tensors]
        if not tensors:
            raise ValueError("stack: got no tensors; pass a non-empty list of tensors")
        _check_new_axis(axis, tensors[0].ndim, "stack")
        return Tensor.concatenate([t.unsqueeze(axis) for t in tensors], axis)

    # ---- backward ----------------------------------------------------------------------
    def backward(self, gradient: Any = None, *, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) into every leaf that requires grad.

        With create_graph=True the backward pass is recorded too: the gradients are Tensors
        that require grad and can be differentiated again.
        """
        seed = self._seed(gradient, "backward", create_graph)
        run_backward(self, seed, create_graph=create_graph)

    def _seed(self, gradient: Any, where: str, create_graph: bool) -> Any:
        """The gradient backward starts from: ones for one element, else `gradient`, checked."""
        if not self.requires_grad:
            raise RuntimeError(
                f"{where}: this tensor (shape {self.shape}) does not require grad; create "
                f"the inputs with requires_grad=True and do not run the forward under no_grad()"
            )
        if gradient is None:
            data = self._data
            if data.size != 1:
                raise RuntimeError(
                    f"{where}: gradient can be implied only for one-element outputs, got shape "
                    f"{self.shape}; pass a gradient of that shape, or reduce first (e.g. .sum())"
                )
            seed = np.array(1, data.dtype).reshape(data.shape)  # ones_like, without its set-up
        else:
            seed = _as_array(gradient)
            if seed.dtype.kind not in "biuf":
                raise TypeError(
                    f"{where}: gradient must hold numbers, got dtype {seed.dtype}; pass an "
                    f"array of shape {self.shape}"
                )
            if seed.shape != self.shape:
                raise ValueError(
                    f"{where}: gradient has shape {seed.shape} but the tensor has shape "
                    f"{self.shape}; pass a gradient of the tensor's shape"
                )
            if not np.isfinite(seed).all():
                raise ValueError(f"{where}: gradient holds NaN or inf; pass a finite gradient")
            if create_graph and isinstance(gradient, Tensor):  # kept in the graph: the result
                return gradient.astype(self.dtype)  # may be differentiated by it
            seed = seed.astype(self.dtype)  # a copy: the engine may accumulate into it
        return Tensor._make(seed) if create_graph else seed

    # ---- drawing -------------------------------------------------------------------------
    def draw(self, **options: Any) -> GraphDiagram:
        """Render the graph that produced this tensor (see tinygrad_nnfs.draw_graph)."""
        from tinygrad_nnfs.graph import draw_graph  # Graphviz is needed only to draw

        return draw_graph(self, **options)

    # ---- arithmetic (NumPy broadcasting; the engine unbroadcasts gradients) ------------------
    # Tensors and Python numbers go to the op as they are, without a call to _operand: these
    # run once per op, where a function call is a sizeable part of the op's own cost. A
    # Python float added, subtracted or multiplied goes as a 0-d array of the tensor's dtype
    # (_operand_of): forward and backward then use it without converting it.
    def __add__(self, other: Any) -> Tensor:
        return ops.Add.apply(
            self, other if type(other) in _EXACT else _operand_of(self, other, "add")
        )

    def __radd__(self, other: Any) -> Tensor:
        return ops.Add.apply(
            other if type(other) in _EXACT else _operand_of(self, other, "add"), self
        )

    def __sub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(
            self, other if type(other) in _EXACT else _operand_of(self, other, "sub")
        )

    def __rsub__(self, other: Any) -> Tensor:
        return ops.Sub.apply(
            other if type(other) in _EXACT else _operand_of(self, other, "sub"), self
        )

    def __mul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(
            self, other if type(other) in _EXACT else _operand_of(self, other, "mul")
        )

    def __rmul__(self, other: Any) -> Tensor:
        return ops.Mul.apply(
            other if type(other) in _EXACT else _operand_of(self, other, "mul"), self
        )

    def __truediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(self, other if type(other) in _PLAIN else _operand(other, "div"))

    def __rtruediv__(self, other: Any) -> Tensor:
        return ops.Div.apply(other if type(other) in _PLAIN else _operand(other, "div"), self)

    def __pow__(self, other: Any) -> Tensor:
        return ops.Pow.apply(self, other if type(other) in _PLAIN else _operand(other, "pow"))

    def __rpow__(self, other: Any) -> Tensor:
        return ops.Pow.apply(other if type(other) in _PLAIN else _operand(other, "pow"), self)

    def __mod__(self, other: Any) -> Tensor:
        return ops.Remainder.apply(self, _operand(other, "remainder"))

    def __rmod__(self, other: Any) -> Tensor:
        return ops.Remainder.apply(_operand(other, "remainder"), self)

    def remainder(self, other: Any) -> Tensor:
        """self mod other with the sign of other (`%`, numpy.remainder, torch.remainder)."""
        return self % other

    def __matmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(self, _operand(other, "matmul", scalars=False))

    def __rmatmul__(self, other: Any) -> Tensor:
        return ops.MatMul.apply(_operand(other, "matmul", scalars=False), self)

    def matmul(self, other: Any) -> Tensor:
        """Matrix product with NumPy's 1-D, 2-D and batched rules (same as `@`)."""
        return self @ other

    def __neg__(self) -> Tensor:
        return ops.Neg.apply(self)

    # ---- elementwise -----------------------------------------------------------------------
    def exp(self) -> Tensor:
        """e ** self."""
        return ops.Exp.apply(self)

    def log(self) -> Tensor:
        """Natural log; log(0) is -inf."""
        return ops.Log.apply(self)

    def sqrt(self) -> Tensor:
        """Square root."""
        return ops.Sqrt.apply(self)

    def square(self) -> Tensor:
        """self * self; its derivative is computed as the book's L2 term, (grad * 2) * self."""
        return ops.Square.apply(self)

    def abs(self) -> Tensor:
        """Absolute value; its derivative at 0 is +1, as the book's L1 penalty takes it."""
        return ops.Abs.apply(self)

    def relu(self) -> Tensor:
        """max(0, self); its derivative at 0 is 0, as in the book."""
        return ops.ReLU.apply(self)

    def sigmoid(self) -> Tensor:
        """1 / (1 + exp(-self))."""
        return ops.Sigmoid.apply(self)

    def tanh(self) -> Tensor:
        """Hyperbolic tangent."""
        return ops.Tanh.apply(self)

    def clip(self, lo: float | None, hi: float | None) -> Tensor:
        """Limit values to [lo, hi]; the gradient passes inside and is zero outside."""
        for name, bound in (("lo", lo), ("hi", hi)):
            if bound is None or (type(bound) is float and bound == bound):  # not NaN: fine
                continue
            check_number(bound, "clip", name, expected="a number or None")
            if np.isnan(bound):
                raise ValueError(f"clip: {name} is NaN; pass a number, or None for no bound")
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"clip: lo ({lo}) must not exceed hi ({hi})")
        return ops.Clip.apply(self, lo=lo, hi=hi)

    def maximum(self, other: Any) -> Tensor:
        """Elementwise max with broadcasting; ties split the gradient evenly."""
        return ops.Maximum.apply(self, _operand(other, "maximum"))

    def minimum(self, other: Any) -> Tensor:
        """Elementwise min with broadcasting; ties split the gradient evenly."""
        return ops.Minimum.apply(self, _operand(other, "minimum"))

    # ---- reductions --------------------------------------------------------------------------
    def sum(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Sum over `axis` (None: all); float16 is summed in float32, as PyTorch does."""
        axis = _check_axis(axis, self.ndim, "sum")
        if self.data.dtype == _FLOAT16:  # NOTE: a float16 running sum overflows past 65,504
            return self.astype(np.float32).sum(axis, keepdims).astype(np.float16)
        return ops.Sum.apply(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Mean over `axis` (None: all), computed as numpy.mean does: sum / count.

        float16 is averaged in float32 and rounded once, as numpy.mean and PyTorch do.
        """
        axis = _check_axis(axis, self.ndim, "mean")
        if self.data.dtype == _FLOAT16:
            return self.astype(np.float32).mean(axis, keepdims).astype(np.float16)
        total = self.sum(axis=axis, keepdims=keepdims)
        count = self.data.size // max(total.data.size, 1)
        if count == 0 and total.data.size:
            raise ValueError(
                f"mean: a tensor of shape {self.shape} has no elements to average over axis "
                f"{axis}; the mean of nothing is undefined (sum() of nothing is 0)"
            )
        return total / count

    def max(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Max over `axis`; tied maxima share the gradient evenly."""
        return ops.Max.apply(self, axis=_check_axis(axis, self.ndim, "max"), keepdims=keepdims)

    def min(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Min over `axis`; tied minima share the gradient evenly."""
        return ops.Min.apply(self, axis=_check_axis(axis, self.ndim, "min"), keepdims=keepdims)

    def logsumexp(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """log(sum(exp(self))) over `axis`, stable for large logits."""
        _check_float(self, "logsumexp")
        axis = _check_axis(axis, self.ndim, "logsumexp")
        return ops.LogSumExp.apply(self, axis=axis, keepdims=keepdims)

    def softmax(self, axis: int = -1) -> Tensor:
        """exp(x - max) / sum(exp(x - max)) along `axis`, the book's stable softmax."""
        _check_float(self, "softmax")
        axis = _check_axis(axis, self.ndim, "softmax")
        if self.data.size == 0:  # nothing to normalise: empty, as in PyTorch
            return self * 1
        # Softmax ignores a constant shift, so the max needs no gradient.
        shifted = self - self.data.max(axis=axis, keepdims=True)
        exps = shifted.exp()
        return exps / exps.sum(axis=axis, keepdims=True)

    def log_softmax(self, axis: int = -1) -> Tensor:
        """Log of softmax along `axis`; output has self's shape. Stable for logits of 1e4."""
        _check_float(self, "log_softmax")
        axis = _check_axis(axis, self.ndim, "log_softmax")
        if self.data.size == 0:  # nothing to normalise: empty, as in PyTorch
            return self * 1
        # Shifted by the row max first (no gradient: log_softmax ignores a constant shift), so
        # x - logsumexp(x) does not cancel: a row of -1e30, or logits near 1e4 in float32.
        shift = self.data.max(axis=axis, keepdims=True)
        shifted = self - np.where(np.isfinite(shift), shift, 0)
        return shifted - shifted.logsumexp(axis=axis, keepdims=True)

    def argmax(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Indices of the maxima (no gradient)."""
        axis = _check_axis(axis, self.ndim, "argmax")
        return Tensor(np.argmax(self.data, axis=axis, keepdims=keepdims))

    def argmin(self, axis: int | None = None, keepdims: bool = False) -> Tensor:
        """Indices of the minima (no gradient)."""
        axis = _check_axis(axis, self.ndim, "argmin")
        return Tensor(np.argmin(self.data, axis=axis, keepdims=keepdims))

    # ---- shape -----------------------------------------------------------------------------
    def reshape(self, *shape: Any) -> Tensor:
        """Same data, new shape; takes ints or one tuple, -1 infers one side."""
        shape = check_ints(Tensor._shape_arg(shape), "reshape", "every side of shape")
        return ops.Reshape.apply(self, shape=shape)

    def transpose(self, *axes: Any) -> Tensor:
        """Permute axes like numpy.transpose; no axes reverses them."""
        if not axes:
            return ops.Transpose.apply(self, axes=None)
        axes = check_ints(Tensor._shape_arg(axes), "transpose", "every axis")
        ndim = self.ndim
        # Transpose.backward inverts the permutation with argsort, which needs axes >= 0.
        normalized = tuple(axis + ndim if axis < 0 else axis for axis in axes)
        if sorted(normalized) != list(range(ndim)):
            raise ValueError(
                f"transpose: axes {axes} are not a permutation of the axes of a tensor of shape "
                f"{self.shape}; pass each of 0..{ndim - 1} once (or -{ndim}..-1)"
            )
        return ops.Transpose.apply(self, axes=normalized)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge axes start_dim..end_dim into one (all of them by default)."""
        shape, ndim = self.shape, self.ndim or 1
        start = _check_axis(start_dim, ndim, "flatten") % ndim
        end = _check_axis(end_dim, ndim, "flatten") % ndim
        if start > end:
            raise ValueError(
                f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for a tensor "
                f"with {self.ndim} dimensions; pass start_dim <= end_dim"
            )
        return self.reshape(*shape[:start], -1, *shape[end + 1 :])

    def expand(self, *shape: Any) -> Tensor:
        """Broadcast to `shape` (a side of -1 keeps self's); no copy."""
        shape = check_ints(Tensor._shape_arg(shape), "expand", "every side of shape")
        offset = len(shape) - self.ndim
        shape = tuple(
            self.shape[i - offset] if side == -1 and i >= offset else side
            for i, side in enumerate(shape)
        )
        return ops.Expand.apply(self, shape=shape)

    def squeeze(self, axis: Axis = None) -> Tensor:
        """Drop axes of length 1 (all of them, or those in `axis`)."""
        axis = _check_axis(axis, self.ndim, "squeeze")
        try:
            return self.reshape(np.squeeze(self.data, axis=axis).shape)
        except ValueError as error:
            raise ValueError(f"squeeze: shape {self.shape}, axis {axis}: {error}") from None

    def unsqueeze(self, axis: int) -> Tensor:
        """Insert an axis of length 1 at `axis`."""
        _check_new_axis(axis, self.ndim, "unsqueeze")
        return self.reshape(np.expand_dims(self.data, axis).shape)

    def __getitem__(self, index: Any) -> Tensor:
        if isinstance(index, Tensor):
            index = index.data
        elif isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        return ops.Index.apply(self, index=index)

    # ---- regularisation ----------------------------------------------------------------------
    def dropout(self, rate: float, training: bool = True, *, rng: Any = None) -> Tensor:
        """Zero a `rate` fraction of units and scale the rest by 1/(1-rate) (inverted dropout)."""
        check_number(rate, "dropout", "rate", below_one=True)
        if not training or rate == 0:
            return self
        keep = 1 - rate
        mask = _resolve_rng(rng).binomial(1, keep, size=self.shape) / keep
        # NOTE: the book's mask is float64, so after nnfs_init() a float32 input gives a
        # float64 output, as there; otherwise the output keeps the input's dtype.
        return self * (mask if settings.nnfs_dtypes else mask.astype(self.dtype, copy=False))

    # ---- more elementwise (NumPy's names) ----------------------------------------------------
    def sign(self) -> Tensor:
        """-1, 0 or +1 by the sign of each element; its gradient is 0, as PyTorch's."""
        return ops.Sign.apply(self)

    def floor(self) -> Tensor:
        """The largest integer <= each element; its gradient is 0."""
        return ops.Floor.apply(self)

    def ceil(self) -> Tensor:
        """The smallest integer >= each element; its gradient is 0."""
        return ops.Ceil.apply(self)

    def round(self, decimals: int = 0) -> Tensor:
        """Round to `decimals` places, halves to even (numpy.round, torch.round); gradient 0."""
        return ops.Round.apply(self, decimals=check_int(decimals, "round", "decimals"))

    def sin(self) -> Tensor:
        """Sine."""
        return ops.Sin.apply(self)

    def cos(self) -> Tensor:
        """Cosine."""
        return ops.Cos.apply(self)

    def tan(self) -> Tensor:
        """Tangent."""
        return ops.Tan.apply(self)

    def arcsin(self) -> Tensor:
        """Inverse sine, for elements in [-1, 1] (NaN outside)."""
        return ops.Arcsin.apply(self)

    def arccos(self) -> Tensor:
        """Inverse cosine, for elements in [-1, 1] (NaN outside)."""
        return ops.Arccos.apply(self)

    def arctan(self) -> Tensor:
        """Inverse tangent."""
        return ops.Arctan.apply(self)

    def sinh(self) -> Tensor:
        """Hyperbolic sine."""
        return ops.Sinh.apply(self)

    def cosh(self) -> Tensor:
        """Hyperbolic cosine."""
        return ops.Cosh.apply(self)

    def log2(self) -> Tensor:
        """Base-2 log; log2(0) is -inf."""
        return ops.Log2.apply(self)

    def log10(self) -> Tensor:
        """Base-10 log; log10(0) is -inf."""
        return ops.Log10.apply(self)

    def exp2(self) -> Tensor:
        """2 ** self."""
        return ops.Exp2.apply(self)

    def log1p(self) -> Tensor:
        """log(1 + self), exact for tiny elements."""
        return ops.Log1p.apply(self)

    def expm1(self) -> Tensor:
        """exp(self) - 1, exact for tiny elements."""
        return ops.Expm1.apply(self)

    def erf(self) -> Tensor:
        """The Gauss error function (math.erf's values)."""
        return ops.Erf.apply(self)

    def rsqrt(self) -> Tensor:
        """1 / sqrt(self); rsqrt(0) is inf."""
        return 1 / self.sqrt()

    def logaddexp(self, other: Any) -> Tensor:
        """log(exp(self) + exp(other)) with broadcasting, stable for large and tiny values."""
        other = _operand(other, "logaddexp")
        x, y = self.data, other.data if isinstance(other, Tensor) else other
        try:
            np.broadcast_shapes(np.shape(x), np.shape(y))
        except ValueError:
            raise ValueError(
                f"logaddexp: shapes {np.shape(x)} and {np.shape(y)} do not broadcast together"
            ) from None
        self_larger = np.asarray(x >= y)
        # larger + log1p(exp(smaller - larger)) either way: one smooth formula, no kink at ties.
        larger = ops.Where.apply(self_larger, self, other)
        smaller = ops.Where.apply(self_larger, other, self)
        shift = larger
        same_infinity = np.asarray((x == y) & np.isinf(x))
        if same_infinity.any():  # inf - inf is NaN: there the result is that infinity
            smaller = ops.Where.apply(same_infinity, 0.0, smaller)
            shift = ops.Where.apply(same_infinity, 0.0, larger)
        return larger + (smaller - shift).exp().log1p()

    # ---- activations (PyTorch's names and defaults) ---------------------------------------
    def leaky_relu(self, slope: float = 0.01) -> Tensor:
        """self where it is > 0, else slope * self; the derivative at 0 is `slope` (PyTorch's)."""
        check_number(slope, "leaky_relu", "slope")
        return ops.Where.apply(self.data > 0, self, self * slope)

    def elu(self, alpha: float = 1.0) -> Tensor:
        """self where it is > 0, else alpha * (exp(self) - 1)."""
        check_number(alpha, "elu", "alpha")
        # exp of the clipped value: the branch not taken never overflows
        return ops.Where.apply(self.data > 0, self, alpha * self.clip(None, 0.0).expm1())

    def selu(self) -> Tensor:
        """scale * elu(self, alpha) with the self-normalising constants of PyTorch's selu."""
        return _SELU_SCALE * self.elu(_SELU_ALPHA)

    def gelu(self, approximate: str = "none") -> Tensor:
        """self * Phi(self), Phi the standard normal CDF (via erf), or its "tanh" approximation."""
        if approximate == "none":
            return self * 0.5 * (1 + (self * _SQRT_HALF).erf())
        if approximate == "tanh":
            return 0.5 * self * (1 + (_SQRT_2_OVER_PI * (self + 0.044715 * self**3)).tanh())
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}")

    def silu(self) -> Tensor:
        """self * sigmoid(self) (also called swish)."""
        return self * self.sigmoid()

    def softplus(self, beta: float = 1.0) -> Tensor:
        """log(1 + exp(beta * self)) / beta, stable for large and very negative elements."""
        check_number(beta, "softplus", "beta", minimum=0, strict=True)
        if beta == 1:
            return self.logaddexp(0.0)
        return (self * beta).logaddexp(0.0) / beta

    def mish(self) -> Tensor:
        """self * tanh(softplus(self))."""
        return self * self.softplus().tanh()

    def hardtanh(self, min_val: float = -1.0, max_val: float = 1.0) -> Tensor:
        """self clipped to [min_val, max_val]; the gradient is 0 on the bounds, as PyTorch's."""
        for name, bound in (("min_val", min_val), ("max_val", max_val)):
            check_number(bound, "hardtanh", name)
        if min_val > max_val:
            raise ValueError(f"hardtanh: min_val ({min_val}) must not exceed max_val ({max_val})")
        x = self.data
        inside = (x > min_val) & (x < max_val)
        return ops.Where.apply(inside, self, np.clip(x, min_val, max_val))

    def relu6(self) -> Tensor:
        """self clipped to [0, 6] (hardtanh(0, 6))."""
        return self.hardtanh(0.0, 6.0)

    def hardsigmoid(self) -> Tensor:
        """relu6(self + 3) / 6: 0 below -3, 1 above 3, linear between."""
        return (self + 3).relu6() / 6

    def logsigmoid(self) -> Tensor:
        """log(sigmoid(self)) = -softplus(-self), stable for large elements."""
        return -(-self).softplus()

    def softsign(self) -> Tensor:
        """self / (1 + |self|)."""
        return self / (1 + self.abs())

    # ---- selection ---------------------------------------------------------------------------
    def where(self, x: Any, y: Any) -> Tensor:
        """x where self (a bool condition) holds, else y: numpy.where(self, x, y), broadcasting.

        The gradient flows to x where the condition holds and to y elsewhere. Called as
        `Tensor.where(condition, x, y)` or `tinygrad_nnfs.where(condition, x, y)`.
        """
        if self.dtype != np.bool_:
            raise TypeError(
                f"where: the condition must be a bool tensor, got dtype {self.dtype}; pass the "
                f"condition first, where(condition, x, y), e.g. where(x > 0, x, 0.0) (PyTorch's "
                f"x.where(condition, y) is where(condition, x, y))"
            )
        return ops.Where.apply(self.data, _operand(x, "where"), _operand(y, "where"))

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """self with `value` (a number) where the bool `mask`, broadcasting to self, is True."""
        mask = _as_array(mask)
        if mask.dtype != np.bool_:
            raise TypeError(
                f"masked_fill: mask must be bool, got dtype {mask.dtype}; pass a comparison such "
                f"as x > 0"
            )
        try:
            fits = np.broadcast_shapes(mask.shape, self.shape) == self.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(
                f"masked_fill: a mask of shape {mask.shape} does not broadcast to the tensor's "
                f"shape {self.shape}"
            )
        check_number(value, "masked_fill", "value")
        return ops.Where.apply(mask, value, self)

    # ---- statistics and running reductions ----------------------------------------------------
    def var(self, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Tensor:
        """Variance over `axis`: the sum of squared deviations / (count - ddof), as numpy.var."""
        return self._variance(axis, keepdims, ddof, "var")

    def std(self, axis: Axis = None, keepdims: bool = False, ddof: float = 0) -> Tensor:
        """Standard deviation over `axis`: sqrt(var(axis, keepdims, ddof)), as numpy.std.

        Where the variance is 0 the gradient is 0, as PyTorch gives (not sqrt's infinite slope).
        """
        variance = self._variance(axis, keepdims, ddof, "std")
        flat = variance.data == 0
        if not flat.any():
            return variance.sqrt()
        return ops.Where.apply(flat, 0.0, ops.Where.apply(flat, 1.0, variance).sqrt())

    def _variance(self, axis: Axis, keepdims: bool, ddof: float, op: str) -> Tensor:
        _check_float(self, op)
        axis = _check_axis(axis, self.ndim, op)
        ddof = check_number(ddof, op, "ddof", minimum=0)
        if self.data.size == 0:
            raise ValueError(
                f"{op}: a tensor of shape {self.shape} has no elements to take the {op} of over "
                f"axis {axis}"
            )
        squares = (self - self.mean(axis=axis, keepdims=True)).square()
        total = squares.sum(axis=axis, keepdims=keepdims)
        count = self.data.size // max(total.data.size, 1)
        return total / max(count - ddof, 0)  # NOTE: no degrees of freedom left: inf or NaN

    def prod(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """Product over `axis` (None: all); exact gradients where elements are 0 (via cumprod)."""
        axis = _check_axis(axis, self.ndim, "prod")
        ndim, shape = self.ndim, self.shape
        axes = range(ndim) if axis is None else [int(a) % ndim for a in np.atleast_1d(axis)]
        kept = [a for a in range(ndim) if a not in axes]
        count = math.prod(shape[a] for a in axes)
        if keepdims:
            out_shape = tuple(1 if a in axes else side for a, side in enumerate(shape))
        else:
            out_shape = tuple(shape[a] for a in kept)
        if count == 0:  # the product of nothing is 1
            return self.sum(axis=axis, keepdims=keepdims) + 1
        rows = self.transpose(*kept, *axes).reshape(*(shape[a] for a in kept), count)
        return ops.CumProd.apply(rows, axis=-1)[..., -1].reshape(out_shape)

    def cumsum(self, axis: int | None = None) -> Tensor:
        """Running sum along `axis` (None: over the flattened tensor, as numpy.cumsum)."""
        return self._scan(ops.CumSum, axis, "cumsum")

    def cumprod(self, axis: int | None = None) -> Tensor:
        """Running product along `axis` (None: flattened); exact gradients at zeros (PyTorch's)."""
        return self._scan(ops.CumProd, axis, "cumprod")

    def _scan(self, op: type[ops.Function], axis: int | None, name: str) -> Tensor:
        if axis is None:
            return op.apply(self.reshape(-1), axis=0)
        axis = _check_one_axis(axis, self.ndim, name)
        if self.ndim == 0:
            return op.apply(self.reshape(1), axis=0).reshape(())
        return op.apply(self, axis=axis)

    def cummax(self, axis: int) -> ValuesIndices:
        """(values, indices) of the running max along `axis`, as torch.cummax (ties: the latest
        index); the gradient flows to the element each value came from."""
        axis = _check_one_axis(axis, self.ndim, "cummax")
        if self.ndim == 0:
            values, indices = self.reshape(1).cummax(0)
            return ValuesIndices(values.reshape(()), indices.reshape(()))
        x = self.data
        running = np.maximum.accumulate(x, axis=axis)
        positions = _arange_along(x.shape[axis], axis, x.ndim)
        reached = (x == running) | np.isnan(x)  # NaN propagates, and points at itself
        indices = np.maximum.accumulate(np.where(reached, positions, 0), axis=axis)
        return ValuesIndices(self.gather(axis, indices), Tensor(indices))

    # ---- rearranging -------------------------------------------------------------------------
    def flip(self, axis: Axis = None) -> Tensor:
        """Reverse the order of elements along `axis` (None: every axis), as numpy.flip."""
        return ops.Flip.apply(self, axis=_check_axis(axis, self.ndim, "flip"))

    def pad(self, pad_width: Any, mode: str = "constant", value: float = 0) -> Tensor:
        """Pad as numpy.pad: `pad_width` an int, (before, after), or such a pair per axis.

        mode "constant" fills with `value`; "edge", "reflect", "symmetric" and "wrap" are
        numpy.pad's (PyTorch's "replicate" and "circular" are "edge" and "wrap").
        """
        widths = _pad_widths(pad_width, self.shape)
        check_number(value, "pad", "value")
        if self.ndim == 0:  # no axis to pad, as numpy.pad
            return self
        if mode == "constant":
            return ops.Pad.apply(self, widths=widths, value=value)
        if mode not in _PAD_MODES:
            raise ValueError(
                f"pad: mode must be one of 'constant', {', '.join(map(repr, _PAD_MODES))}; got "
                f"{mode!r}"
            )
        if value != 0:
            raise ValueError(f"pad: value ({value}) is used only by mode 'constant', not {mode!r}")
        positions = np.arange(self.size).reshape(self.shape)
        try:
            positions = np.pad(positions, widths, mode=_PAD_MODES[mode])
        except ValueError as error:
            raise ValueError(f"pad: shape {self.shape}, mode {mode!r}: {error}") from None
        return self.reshape(-1)[positions]  # each output element picks its source element

    def tile(self, *reps: Any) -> Tensor:
        """self repeated `reps` times along each axis (ints or one tuple), as numpy.tile."""
        reps = check_ints(Tensor._shape_arg(reps), "tile", "every repetition")
        if any(r < 0 for r in reps):
            raise ValueError(f"tile: repetitions {reps} must be >= 0")
        ndim = max(len(reps), self.ndim)
        reps = (1,) * (ndim - len(reps)) + tuple(reps)
        shape = (1,) * (ndim - self.ndim) + self.shape
        spread = self.reshape(*itertools.chain.from_iterable((1, side) for side in shape))
        copies = spread.expand(*itertools.chain.from_iterable(zip(reps, shape, strict=True)))
        return copies.reshape(*(r * side for r, side in zip(reps, shape, strict=True)))

    def repeat(self, *sizes: Any) -> Tensor:
        """self tiled `sizes` times along each axis, as torch.Tensor.repeat (numpy.tile's
        result; not numpy.repeat, which repeats each element)."""
        sizes = check_ints(Tensor._shape_arg(sizes), "repeat", "every size")
        if len(sizes) < self.ndim:
            raise ValueError(
                f"repeat: got {len(sizes)} sizes for a tensor with {self.ndim} dimensions; pass "
                f"one per dimension (tile prepends 1s instead)"
            )
        return self.tile(sizes)

    def split(self, split_size_or_sections: Any, axis: int = 0) -> tuple[Tensor, ...]:
        """Pieces along `axis`, as torch.split: of split_size_or_sections elements each (the
        last may be shorter), or of the sizes in a list."""
        axis = self._axis_to_cut(axis, "split")
        length = self.shape[axis]
        if is_int(split_size_or_sections):
            size = check_int(split_size_or_sections, "split", "split_size", minimum=1)
            sizes = [min(size, length - start) for start in range(0, length, size)] or [0]
        elif isinstance(split_size_or_sections, Sequence | np.ndarray):
            sizes = list(check_ints(tuple(split_size_or_sections), "split", "every section"))
            if any(s < 0 for s in sizes) or sum(sizes) != length:
                raise ValueError(
                    f"split: section sizes {sizes} must be >= 0 and add up to {length}, the "
                    f"length of axis {axis} of shape {self.shape}"
                )
        else:
            raise TypeError(
                f"split: split_size_or_sections must be an int or a list of ints, got "
                f"{type(split_size_or_sections).__name__} {split_size_or_sections!r}"
            )
        before = (slice(None),) * axis
        bounds = itertools.pairwise(itertools.accumulate(sizes, initial=0))
        return tuple(self[(*before, slice(start, stop))] for start, stop in bounds)

    def chunk(self, chunks: int, axis: int = 0) -> tuple[Tensor, ...]:
        """At most `chunks` pieces of equal length along `axis` (the last may be shorter), as
        torch.chunk."""
        chunks = check_int(chunks, "chunk", "chunks", minimum=1)
        axis = self._axis_to_cut(axis, "chunk")
        return self.split(max(-(-self.shape[axis] // chunks), 1), axis)

    def _axis_to_cut(self, axis: int, op: str) -> int:
        if self.ndim == 0:
            raise ValueError(f"{op}: a 0-d tensor has no axis to cut; reshape it to 1-d first")
        return _check_one_axis(axis, self.ndim, op)

    def gather(self, axis: int, index: Any) -> Tensor:
        """Values along `axis` at `index` (ints, as many dimensions as self), as torch.gather:
        out[i][j] = self[index[i][j]][j] for axis 0; the gradient adds into the places read."""
        axis = _check_one_axis(axis, self.ndim, "gather")
        return self[_index_along(self, axis, index, "gather")[1]]

    def scatter_add(self, axis: int, index: Any, src: Any) -> Tensor:
        """self with src added at `index` along `axis`, as torch.scatter_add:
        out[index[i][j]][j] += src[i][j] for axis 0; repeated indices add up."""
        axis = _check_one_axis(axis, self.ndim, "scatter_add")
        index, positions = _index_along(self, axis, index, "scatter_add")
        src = _operand(src, "scatter_add", scalars=False)
        if src.ndim != index.ndim or any(
            i > s for i, s in zip(index.shape, src.shape, strict=True)
        ):
            raise ValueError(
                f"scatter_add: src of shape {src.shape} must have index's {index.ndim} "
                f"dimensions, each at least as long as index's {index.shape}"
            )
        if src.shape != index.shape:
            src = src[tuple(slice(0, side) for side in index.shape)]
        return self + ops.IndexAdd.apply(src, shape=self.shape, index=positions)

    def one_hot(self, classes: int, *, dtype: Any = np.int64) -> Tensor:
        """Labels as one-hot rows: shape self.shape + (classes,) (no gradient; int64 as PyTorch)."""
        return one_hot(self, classes, dtype=dtype)

    # ---- tests (no gradient) -------------------------------------------------------------------
    def isnan(self) -> Tensor:
        """True where an element is NaN."""
        return Tensor(np.isnan(self.data))

    def isinf(self) -> Tensor:
        """True where an element is +inf or -inf."""
        return Tensor(np.isinf(self.data))

    def isfinite(self) -> Tensor:
        """True where an element is neither NaN nor infinite."""
        return Tensor(np.isfinite(self.data))

    def isclose(
        self, other: Any, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False
    ) -> Tensor:
        """True where |self - other| <= atol + rtol * |other| (numpy.isclose, torch.isclose)."""
        for name, value in (("rtol", rtol), ("atol", atol)):
            check_number(value, "isclose", name, finite=True, minimum=0)
        other = _as_array(_operand(other, "isclose"))
        try:
            return Tensor(np.isclose(self.data, other, rtol=rtol, atol=atol, equal_nan=equal_nan))
        except ValueError as error:
            raise ValueError(f"isclose: shapes {self.shape} and {other.shape}: {error}") from None

    def any(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """True where any element over `axis` is nonzero (None: all)."""
        axis = _check_axis(axis, self.ndim, "any")
        return Tensor(np.any(self.data, axis=axis, keepdims=keepdims))

    def all(self, axis: Axis = None, keepdims: bool = False) -> Tensor:
        """True where every element over `axis` is nonzero (None: all)."""
        axis = _check_axis(axis, self.ndim, "all")
        return Tensor(np.all(self.data, axis=axis, keepdims=keepdims))

    # ---- convolution and pooling (NCHW images) -----------------------------------------------
    def conv2d(self, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0) -> Tensor:
        """PyTorch's conv2d: self (N, C, H, W) with w (O, C, kh, kw), plus b (O,) if given,
        -> (N, O, H', W'); `stride` and zero `padding` are an int or a (height, width) pair."""
        w = _operand(w, "conv2d", scalars=False)
        b = None if b is None else _operand(b, "conv2d", scalars=False)
        for tensor in (self, w) if b is None else (self, w, b):
            _check_float(tensor, "conv2d")
        stride, padding = ops.conv2d_arguments(
            self.shape, w.shape, None if b is None else b.shape, stride, padding
        )
        out = ops.Conv2d.apply(self, w, stride=stride, padding=padding)
        return out if b is None else out + b.reshape(1, -1, 1, 1)

    def max_pool2d(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
        """The max of each kernel_size window of self (N, C, H, W), windows `stride` apart
        (default kernel_size), over `padding` rows and columns of -inf on each side; the
        gradient goes to each window's first maximum, as PyTorch's."""
        _check_float(self, "max_pool2d")
        padded = self._pool_padded("max_pool2d", kernel_size, padding, -np.inf)
        kernel, stride = ops.pool2d_arguments("max_pool2d", padded.shape, kernel_size, stride)
        return ops.MaxPool2d.apply(padded, kernel=kernel, stride=stride)

    def avg_pool2d(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
        """The mean of each kernel_size window of self (N, C, H, W), windows `stride` apart
        (default kernel_size), over `padding` zeros on each side, counted in the mean (PyTorch's
        count_include_pad)."""
        _check_float(self, "avg_pool2d")
        padded = self._pool_padded("avg_pool2d", kernel_size, padding, 0.0)
        kernel, stride = ops.pool2d_arguments("avg_pool2d", padded.shape, kernel_size, stride)
        return ops.AvgPool2d.apply(padded, kernel=kernel, stride=stride)

    def _pool_padded(self, op: str, kernel_size: Any, padding: Any, value: float) -> Tensor:
        """self with `padding` (an int or a pair) rows and columns of value on each side."""
        padding = check_pair(padding, op, "padding", minimum=0)
        if padding == (0, 0):
            return self
        kernel = check_pair(kernel_size, op, "kernel_size", minimum=1)
        if any(2 * side > k for side, k in zip(padding, kernel, strict=True)):
            raise ValueError(
                f"{op}: padding {padding} is more than half of kernel_size {kernel}: a window "
                f"could hold padding only; use padding <= kernel_size // 2 (PyTorch's rule)"
            )
        if self.ndim != 4:  # pool2d_arguments says what a batch of images is
            return self
        (rows, columns) = padding
        return self.pad(((0, 0), (0, 0), (rows, rows), (columns, columns)), value=value)

    # ---- comparisons (no gradient) ---------------------------------------------------------
    def _compare(self, other: Any, ufunc: np.ufunc) -> Tensor:
        other = _operand(other, ufunc.__name__)
        try:
            return Tensor(ufunc(self.data, other.data if isinstance(other, Tensor) else other))
        except ValueError as error:  # shapes that do not broadcast
            raise ValueError(f"{ufunc.__name__}: {error}") from None

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, np.less)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, np.less_equal)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, np.greater_equal)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.equal)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, np.not_equal)


engine.use_tensor_class(Tensor, ops.TensorMath)


def where(condition: Any, x: Any, y: Any) -> Tensor:
    """x where condition (bool: a Tensor, ndarray or list) holds, else y, as numpy.where;
    the gradient flows to x where it holds and to y elsewhere."""
    return _as_tensor(condition).where(x, y)


def one_hot(labels: Any, classes: int, *, dtype: Any = np.int64) -> Tensor:
    """Integer labels as one-hot rows: shape labels.shape + (classes,), int64 as PyTorch's."""
    labels = _as_array(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(
            f"one_hot: labels must be integer class indices, got dtype {labels.dtype}; pass "
            f"e.g. labels.astype(np.int64)"
        )
    check_int(classes, "one_hot", "classes", minimum=1)
    outside = (labels < 0) | (labels >= classes)
    if outside.any():
        raise ValueError(
            f"one_hot: label {labels[outside].flat[0]} is out of range for {classes} classes "
            f"(valid: 0..{classes - 1})"
        )
    return Tensor(np.eye(classes, dtype=check_dtype(dtype, "one_hot"))[labels])


class ValuesIndices(NamedTuple):
    """What cummax returns, as torch.cummax: `values` (differentiable) and their `indices`."""

    values: Tensor
    indices: Tensor


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    *,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of `outputs` with respect to `inputs`, touching no .grad.

    As torch.autograd.grad: `grad_outputs` gives each output's gradient as backward's
    `gradient` does (implied for one-element outputs); several outputs add their gradients.
    With create_graph=True the results are Tensors that can be differentiated again. An
    input the outputs do not depend on is a ValueError, or None with allow_unused=True.
    """
    outputs = _tensors(outputs, "outputs")
    inputs = _tensors(inputs, "inputs")
    if grad_outputs is None or isinstance(grad_outputs, Tensor | np.ndarray):
        grad_outputs = [grad_outputs] * len(outputs) if grad_outputs is None else [grad_outputs]
    grad_outputs = list(grad_outputs)
    if len(grad_outputs) != len(outputs):
        raise ValueError(
            f"grad: got {len(grad_outputs)} grad_outputs for {len(outputs)} outputs; pass one "
            f"gradient per output (None for a one-element output)"
        )
    for position, x in enumerate(inputs):
        if not x.requires_grad:
            raise RuntimeError(
                f"grad: input {position} (shape {x.shape}) does not require grad; create it with "
                f"requires_grad=True"
            )
    seeds = [
        out._seed(g, "grad", create_graph) for out, g in zip(outputs, grad_outputs, strict=True)
    ]
    root, seed = outputs[0], seeds[0]
    if len(outputs) > 1:  # one root: the sum of each output times its gradient
        with enable_grad():
            root = sum(
                ((out * g).sum() for out, g in zip(outputs, seeds, strict=True)), Tensor(0.0)
            )
        seed = np.ones_like(root.data)
        seed = Tensor._make(seed) if create_graph else seed
    found = run_backward(root, seed, create_graph=create_graph, inputs=inputs)
    results = []
    for position, (x, g) in enumerate(zip(inputs, found, strict=True)):
        if g is None and not allow_unused:
            raise ValueError(
                f"grad: the outputs do not depend on input {position} (shape {x.shape}); pass "
                f"allow_unused=True to get None for it"
            )
        results.append(g if g is None or isinstance(g, Tensor) else Tensor._make(g))
    return tuple(results)


def _tensors(values: Any, what: str) -> list[Tensor]:
    """grad()'s outputs or inputs: one Tensor or a non-empty sequence of them."""
    tensors = [values] if isinstance(values, Tensor) else list(values)
    if not tensors or not all(isinstance(t, Tensor) for t in tensors):
        raise TypeError(f"grad: {what} must be a Tensor or a non-empty sequence of Tensors")
    return tensors


def _as_tensor(value: Any) -> Tensor:
    return value if isinstance(value, Tensor) else Tensor(value)


def _as_array(value: Any) -> np.ndarray:
    """A Tensor's data, or `value` as an ndarray (lists, numbers; an ndarray as it is)."""
    return np.asarray(value.data if isinstance(value, Tensor) else value)


_PLAIN = frozenset((Tensor, *_PLAIN_SCALARS))  # operands taken as they are


_EXACT = frozenset((Tensor, int))  # operands of + - * taken as they are


def _operand_of(tensor: Tensor, value: Any, op: str) -> Any:
    """_operand, with a Python float as a 0-d array of the tensor's dtype where NumPy gives
    the same (see tinygrad_nnfs/_cache.py); a float after nnfs_init(), whose wider gradients
    it meets unrounded in backward, as in the book's NumPy."""
    if type(value) is float:
        return value if settings.nnfs_dtypes else operand(value, tensor._data.dtype)
    return _operand(value, op)


def _operand(value: Any, op: str, scalars: bool = True) -> Any:
    """A binary op's other operand: Tensors as they are, arrays and lists wrapped, numbers raw.

    Raw Python numbers keep NumPy's weak promotion, so `x * 2.0` stays float32.
    """
    kind = type(value)
    if kind is Tensor or (scalars and kind in _PLAIN_SCALARS) or isinstance(value, Tensor):
        return value
    if scalars and isinstance(value, numbers.Number) and not isinstance(value, complex):
        return value
    if isinstance(value, np.ndarray | list | tuple) or (
        not scalars and isinstance(value, numbers.Number)
    ):
        try:
            return Tensor(value)
        except TypeError as error:
            raise TypeError(f"{op}: bad operand: {error}") from None
    raise TypeError(
        f"{op}: unsupported operand of type {type(value).__name__}; "
        f"expected a Tensor, an ndarray or a number"
    )


def _check_axis(axis: Any, ndim: int, op: str) -> Axis:
    """A validated axis argument in NumPy's form: None, an int or a tuple (a list becomes one).

    A 0-d tensor takes axis 0 or -1, as in PyTorch; it is reduced as NumPy reduces a 0-d
    array, over axis None.
    """
    if axis is None or (type(axis) is int and -ndim <= axis < ndim):  # the common cases
        return axis
    if isinstance(axis, list):
        axis = tuple(axis)
    axes = (axis,) if isinstance(axis, numbers.Integral) else axis
    if not isinstance(axes, tuple):
        raise TypeError(
            f"{op}: axis must be None, an int, or a tuple or list of ints, got "
            f"{type(axis).__name__} {axis!r}"
        )
    check_ints(axes, op, "every axis")
    sides = max(ndim, 1)
    for a in axes:
        if not -sides <= a < sides:
            raise ValueError(
                f"{op}: axis {axis} is out of range for a tensor with {ndim} dimensions "
                f"(valid: {-sides}..{sides - 1})"
            )
    normalized = [a % sides for a in axes]
    if len(set(normalized)) != len(normalized):
        raise ValueError(f"{op}: axis {axis} repeats an axis")
    return None if ndim == 0 else axis


def _check_new_axis(axis: Any, ndim: int, op: str) -> None:
    """Validate the position of a new axis inserted into a tensor with ndim dimensions."""
    check_int(axis, op, "axis")
    if not -ndim - 1 <= axis <= ndim:
        raise ValueError(
            f"{op}: axis {axis} is out of range for inserting an axis into a tensor with {ndim} "
            f"dimensions (valid: {-ndim - 1}..{ndim})"
        )


def _check_float(tensor: Tensor, op: str) -> None:
    """TypeError unless tensor holds floats: int/bool data are labels or masks, not logits."""
    if tensor.data.dtype.kind != "f":
        raise TypeError(
            f"{op}: expected a float tensor, got dtype {tensor.dtype}; integer data are labels "
            f"or masks, convert logits first with .astype(np.float32)"
        )


def _check_one_axis(axis: Any, ndim: int, op: str) -> int:
    """One axis (an int) valid for ndim dimensions, made >= 0 (0-d tensors take 0 or -1)."""
    check_int(axis, op, "axis")
    _check_axis(axis, ndim, op)
    return axis % max(ndim, 1)


def _index_along(
    tensor: Tensor, axis: int, index: Any, op: str
) -> tuple[np.ndarray, tuple[np.ndarray, ...]]:
    """(index checked, the integer arrays that pick tensor[..., index, ...] along axis as
    torch.gather reads and torch.scatter_add writes)."""
    index = _as_array(index)
    if index.dtype.kind not in "iu":
        raise TypeError(
            f"{op}: index must hold integers, got dtype {index.dtype}; pass e.g. "
            f"index.astype(np.int64)"
        )
    if index.ndim != tensor.ndim:
        raise ValueError(
            f"{op}: index has {index.ndim} dimensions but the tensor has {tensor.ndim} (shape "
            f"{tensor.shape}); give index as many, e.g. labels[:, None] for rows"
        )
    for other, (side, limit) in enumerate(zip(index.shape, tensor.shape, strict=True)):
        if other != axis and side > limit:
            raise ValueError(
                f"{op}: index of shape {index.shape} is longer than the tensor of shape "
                f"{tensor.shape} along axis {other}; only axis {axis} may differ"
            )
    size = tensor.shape[axis] if tensor.ndim else 1
    outside = (index < 0) | (index >= size)
    if outside.any():
        raise ValueError(
            f"{op}: index {index[outside].flat[0]} is out of range for axis {axis} of size "
            f"{size} (valid: 0..{size - 1})"
        )
    positions = tuple(
        index if a == axis else _arange_along(side, a, index.ndim)
        for a, side in enumerate(index.shape)
    )
    return index, positions


def _arange_along(length: int, axis: int, ndim: int) -> np.ndarray:
    """0..length-1 laid along `axis` of ndim dimensions (length 1 elsewhere), to broadcast."""
    return np.arange(length).reshape([-1 if a == axis else 1 for a in range(ndim)])


def _pad_widths(pad_width: Any, shape: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """numpy.pad's pad_width as one (before, after) pair of ints >= 0 per axis, checked."""
    try:
        widths = np.broadcast_to(np.asarray(pad_width), (len(shape), 2))
    except ValueError:
        raise ValueError(
            f"pad: pad_width {pad_width!r} does not fit a tensor of shape {shape}; pass an int, "
            f"(before, after), or one (before, after) pair per axis, as numpy.pad takes it "
            f"(PyTorch's flat (left, right, top, bottom) lists the last axis first)"
        ) from None
    if widths.dtype.kind not in "iu":
        raise TypeError(f"pad: pad_width must hold ints, got {pad_width!r}")
    if (widths < 0).any():
        raise ValueError(
            f"pad: pad_width {pad_width!r} holds a negative width; widths must be >= 0 "
            f"(crop by slicing instead)"
        )
    return tuple((int(before), int(after)) for before, after in widths)
