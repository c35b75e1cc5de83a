"""The core of the library: the graph's nodes, the per-thread modes, and backward.

Read top to bottom: the settings nnfs_init() switches; the per-thread modes (no_grad,
enable_grad, detect_anomaly); TensorBase, the fields every tensor has; Function, one node
of the graph, with `apply`, which runs an op and records it; in-place changes and the
version check; and backward, which walks the graph from a root to its leaves, with arrays,
or with Tensors that record the backward pass itself (create_graph=True). This module
imports nothing else from the package: ops.py writes the derivatives on Function, and
tensor.py builds Tensor, with all its methods, on TensorBase.
"""

from __future__ import annotations

import functools
import itertools
import os
import sys
import threading
import traceback
from collections.abc import Callable
from heapq import heappop, heappush
from typing import Any, TypeVar

import numpy as np

__all__ = [
    "Function",
    "TensorBase",
    "detect_anomaly",
    "enable_grad",
    "grad_array",
    "is_grad_enabled",
    "no_grad",
    "run_backward",
    "settings",
    "unbroadcast",
]

_F = TypeVar("_F", bound=Callable[..., Any])
_ndarray = np.ndarray
_new = object.__new__  # bound once: apply runs once per op


# ---- settings -----------------------------------------------------------------------------------
class _Settings:
    """Process-wide numerics switches, set by nnfs_init() and set_matmul_precision()."""

    __slots__ = ("matmul_in_float64", "nnfs_dtypes")

    def __init__(self) -> None:
        # float32 matmuls computed in float64 and rounded, as nnfs.init()'s np.dot
        self.matmul_in_float64 = False
        # the nnfs package's dtypes, and NumPy's promotion of gradients (see _conform)
        self.nnfs_dtypes = False


settings = _Settings()


# ---- modes --------------------------------------------------------------------------------------
class _ThreadModes(threading.local):
    """The running thread's modes; a new thread starts recording, without anomaly checks."""

    def __init__(self) -> None:  # run in each thread at its first use
        # (recording the graph, checking for anomalies), one attribute: `apply` reads it once
        # an op, and reading a thread-local attribute costs several plain attribute reads
        self.flags = (True, False)


modes = _ThreadModes()
_GRAD, _ANOMALY = 0, 1  # the positions in modes.flags


class _Mode:
    """A context manager and decorator that sets one of the thread's modes while active."""

    __slots__ = ("_previous",)
    _flag: int  # _GRAD or _ANOMALY
    _value: bool

    def _set(self, value: bool) -> None:
        flags = list(modes.flags)
        flags[self._flag] = value
        modes.flags = tuple(flags)

    def __enter__(self) -> _Mode:
        self._previous = modes.flags[self._flag]
        self._set(self._value)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._set(self._previous)

    def __call__(self, fn: _F) -> _F:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with type(self)():
                return fn(*args, **kwargs)

        return wrapper  # type: ignore[return-value]


class no_grad(_Mode):
    """Record no graph inside `with no_grad():` or in a function decorated `@no_grad()`.

    Per thread, as PyTorch's grad mode: other threads go on recording.
    """

    __slots__ = ()
    _flag, _value = _GRAD, False


class enable_grad(_Mode):
    """Record the graph again inside `with enable_grad():`, e.g. within no_grad()."""

    __slots__ = ()
    _flag, _value = _GRAD, True


class detect_anomaly(_Mode):
    """Raise FloatingPointError at the first op whose forward or backward gives NaN or inf.

    The error names the op, its input shapes and the line of user code that created it.
    Per thread.
    """

    __slots__ = ()
    _flag, _value = _ANOMALY, True


def is_grad_enabled() -> bool:
    """False inside no_grad() (in this thread)."""
    return modes.flags[_GRAD]


# ---- the fields of a tensor ---------------------------------------------------------------------
class TensorBase:
    """What the engine keeps per tensor; tinygrad_nnfs.Tensor adds the constructors and ops."""

    __slots__ = (
        "__weakref__",
        "_consumers",  # recorded ops that took this tensor as an input (backward's order)
        "_ctx",
        "_data",
        "_grad",
        "_pending",  # backward's working gradient: what the node has received so far
        "_seq",
        "_version",  # in-place writes so far (optimizer steps, loads, assigning .data)
        "_written_at",  # the creation number current at the latest of them
        "name",
        "requires_grad",
    )

    def _init_fields(self, data: np.ndarray, requires_grad: bool, name: str | None) -> None:
        """Every field of a new tensor that no op made (`Function.apply` inlines this)."""
        self._data = data
        self.requires_grad = requires_grad
        self.name = name
        self._ctx = None
        self._grad = None
        self._consumers = self._version = self._written_at = 0

    @property
    def data(self) -> np.ndarray:
        """The ndarray. Assigning it (or `t.data += ...`) is an in-place change: see backward."""
        return self._data

    @data.setter
    def data(self, value: np.ndarray) -> None:
        self._data = value
        mark_changed(self)

    @property
    def is_leaf(self) -> bool:
        """True unless an op that records a graph produced this tensor."""
        return self._ctx is None


# The class of the tensors that Function.apply makes: tinygrad_nnfs.Tensor, which tensor.py
# registers when it is defined (this module may not import it).
_tensor_class: type[TensorBase] = TensorBase
_graph_backend: Any = None  # the `xp` of backward passes that build a graph


def use_tensor_class(cls: type[TensorBase], graph_backend: Any) -> None:
    """Make `cls` the class of the results of every op, and `graph_backend` the `xp` of
    backward passes that build a graph (differentiable functions with NumPy's names)."""
    global _tensor_class, _graph_backend
    _tensor_class = cls
    _graph_backend = graph_backend


creation_order = itertools.count()  # numbers the recorded ops: a topological order for free


# ---- the node of the graph ----------------------------------------------------------------------
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


def _user_stacklevel() -> int:
    """warnings.warn's stacklevel, called where this is, for the innermost caller outside this
    package: the library's warnings name the user's line, not one of its own."""
    frame, level = sys._getframe(1), 1
    while frame.f_back is not None and os.path.abspath(frame.f_code.co_filename).startswith(
        _PACKAGE_DIR
    ):
        frame, level = frame.f_back, level + 1
    return level


def _user_line() -> str:
    """'file:line in function: code' of the innermost caller outside this package."""
    for frame in reversed(traceback.extract_stack()):
        if not os.path.abspath(frame.filename).startswith(_PACKAGE_DIR):
            return f"{frame.filename}:{frame.lineno} in {frame.name}: {frame.line}"
    return "unknown"


class Function:
    """One node of the graph: subclass it with `forward` and `backward`, call `.apply`.

    `forward(*arrays, **options)` takes the inputs' ndarrays (numbers stay numbers) and
    returns an ndarray; `backward(grad)` returns one gradient per input of `forward`
    (a tuple, or a bare array for a single input), each of its input's shape or
    broadcastable to it, or None where no gradient is needed. `parents` holds the inputs
    as they were passed to `apply`: Tensors are graph nodes, anything else a constant.
    `needs_input_grad` says, per input, whether it required grad when forward ran (as in
    PyTorch): backward may return None, and skip the work, where it is False. `apply` sets
    `parents` and `needs_input_grad`; make a Function only through it.

    Under `backward(create_graph=True)` backward runs on Tensors instead: `grad` and the
    saved inputs and output are the graph's Tensors, and `self.xp` is a namespace of
    differentiable functions with NumPy's names (`xp.exp`, `xp.where`, ...) where it is
    `numpy` otherwise; a backward written with arithmetic and `self.xp` is thereby
    differentiable again.
    """

    __slots__ = ("created_at", "input_shapes", "needs_input_grad", "parents", "saved")
    xp: Any = np  # the functions backward calls: NumPy, or Tensor ops when building a graph

    def forward(self, *inputs: Any, **options: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, grad: np.ndarray) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define backward")

    def tensor_parents(self) -> list[TensorBase]:
        """The inputs of forward that are Tensors (the nodes a drawing connects)."""
        return [x for x in self.parents if isinstance(x, TensorBase)]

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep what backward needs; read it back as `self.saved`."""
        self.saved = arrays

    def graph_saved(self, output: TensorBase) -> tuple[Any, ...]:
        """`saved` for a backward that builds a graph: the saved inputs and the output as the
        Tensors they are (inputs matched by position first), constants as they are.

        A float array derived in forward cannot be differentiated again: an op that saves one
        overrides this to recompute it from `self.parents` with Tensor ops.
        """
        saved = getattr(self, "saved", ())
        return tuple(_graph_value(self, value, i, output) for i, value in enumerate(saved))

    def check_finite(self, results: Any, stage: str, inputs: Any = ()) -> None:
        """Under detect_anomaly(): raise FloatingPointError if a result holds NaN or inf."""
        results = [r._data if isinstance(r, TensorBase) else r for r in results]
        if all(r is None or np.isfinite(r).all() for r in results):
            return
        shapes = getattr(self, "input_shapes", None) or "unknown"
        where = getattr(self, "created_at", None) or "unknown (run the forward under it too)"
        cause = (
            " (its inputs already held NaN/inf)"
            if any(
                np.issubdtype(np.asarray(a).dtype, np.floating) and not np.isfinite(a).all()
                for a in inputs
            )
            else ""
        )
        raise FloatingPointError(
            f"detect_anomaly: {type(self).__name__} produced NaN or inf in its {stage}{cause}; "
            f"input shapes {shapes}; created at {where}"
        )

    @classmethod
    def apply(cls, *inputs: Any, **options: Any) -> TensorBase:
        """Run forward on the inputs' data and, if any input requires grad, record the node."""
        # The hottest code in the library (once per op): plain loops, no helper calls.
        ctx = _new(cls)
        ctx.parents = inputs  # non-Tensor inputs are constants: no gradient flows to them
        arrays = []
        needs = []
        for x in inputs:
            if isinstance(x, TensorBase):
                arrays.append(x._data)
                x._consumers += 1  # every use counts: an overcount only slows backward
                needs.append(x.requires_grad)
            else:
                arrays.append(x)
                needs.append(False)
        ctx.needs_input_grad = needs = tuple(needs)
        try:  # spelled out for one and two inputs: a call with *arrays builds a tuple first
            if options:
                out = ctx.forward(*arrays, **options)
            elif len(arrays) == 2:
                out = ctx.forward(arrays[0], arrays[1])
            elif len(arrays) == 1:
                out = ctx.forward(arrays[0])
            else:
                out = ctx.forward(*arrays)
        except ValueError as error:
            shapes = ", ".join(str(np.shape(a)) for a in arrays)
            raise ValueError(
                f"{cls.__name__}: cannot apply to input shapes {shapes}: {error}"
            ) from None
        if type(out) is not _ndarray:  # a NumPy scalar (0-d results) or a number
            made, out = out, np.asarray(out)
            saved = getattr(ctx, "saved", ())
            if any(value is made for value in saved):  # so that graph_saved finds the output
                ctx.saved = tuple(out if value is made else value for value in saved)
        grad_enabled, anomaly_enabled = modes.flags
        if anomaly_enabled:
            ctx.created_at = _user_line()
            ctx.input_shapes = [np.shape(a) for a in arrays]
            ctx.check_finite((out,), "forward", arrays)
        result = _new(_tensor_class)
        result._data = out
        result.name = result._grad = None
        result._consumers = result._version = result._written_at = 0
        if True in needs and grad_enabled:
            result.requires_grad = True
            result._ctx = ctx
            result._seq = next(creation_order)
        else:
            result.requires_grad = False
            result._ctx = None
        return result


def _graph_value(ctx: Function, value: Any, position: int, output: TensorBase) -> Any:
    """What a saved value stands for in a graph-building backward: a float array, the Tensor
    (input or output) whose data it is; anything else, itself (a constant)."""
    if not isinstance(value, np.ndarray | np.generic) or value.dtype.kind != "f":
        return value
    parents = ctx.parents
    if value is output._data:
        return output
    if position < len(parents):
        parent = parents[position]
        if isinstance(parent, TensorBase) and parent._data is value:
            return parent
    for parent in parents:
        if parent is value:  # an ndarray passed as a constant input
            return value
        if isinstance(parent, TensorBase) and parent._data is value:
            return parent
    raise RuntimeError(
        f"{type(ctx).__name__}.backward cannot be differentiated again (create_graph=True): "
        f"forward saved a float array of shape {value.shape} that is neither an input nor the "
        f"output; save the inputs or the output and compute the rest in backward, or override "
        f"graph_saved() to recompute it with Tensor ops"
    )


_graph_classes: dict[type, type] = {}


def _graph_class(cls: type[Function]) -> type[Function]:
    """cls with `xp` set to the Tensor ops: its backward then records what it computes."""
    graph_cls = _graph_classes.get(cls)
    if graph_cls is None:
        attributes = {"__slots__": (), "xp": _graph_backend, "__qualname__": cls.__qualname__}
        graph_cls = _graph_classes[cls] = type(cls.__name__, (cls,), attributes)
    return graph_cls


def _backward_building_graph(node: TensorBase, ctx: Function, grad: TensorBase) -> tuple:
    """ctx's backward on Tensors, recorded: its gradients can be differentiated again."""
    twin = _new(_graph_class(type(ctx)))
    twin.parents = ctx.parents
    twin.needs_input_grad = ctx.needs_input_grad
    name = type(ctx).__name__
    try:
        twin.saved = ctx.graph_saved(node)
        for key, value in getattr(ctx, "__dict__", {}).items():  # a user's op's attributes
            setattr(twin, key, _graph_value(ctx, value, -1, node))
        grads = twin.backward(grad)
    except FloatingPointError as error:  # detect_anomaly(), at an op this backward records
        raise FloatingPointError(
            f"{error} (an op of {name}'s backward, create_graph=True)"
        ) from None
    except (TypeError, AttributeError, ValueError) as error:
        raise RuntimeError(
            f"{name}.backward cannot be differentiated again (create_graph=True): it failed on "
            f"Tensors with {type(error).__name__}: {error}; write it with arithmetic on grad "
            f"and its saved values, and self.xp functions (not numpy's)"
        ) from error
    if type(grads) is not tuple:
        grads = (grads,) if len(ctx.parents) == 1 else tuple(grads)
    sources = [x for x in ctx.parents if isinstance(x, TensorBase) and x.requires_grad]
    recorded = []
    for index, value in enumerate(grads):
        if value is not None and not isinstance(value, TensorBase):
            raise RuntimeError(
                f"{name}.backward cannot be differentiated again (create_graph=True): its "
                f"gradient for input {index} is a {type(value).__name__}, computed outside the "
                f"graph; build it from grad and the saved values with Tensor arithmetic and "
                f"self.xp functions"
            )
        if value is not None and not value.requires_grad and sources:
            # constant here (a mask, a broadcast seed), yet a function of the op's inputs:
            # so .grad requires grad and differentiates again, to zeros
            value = _graph_backend.depends_on(value, *sources)
        recorded.append(value)
    return tuple(recorded)


# ---- in-place changes and backward --------------------------------------------------------------
_accumulating = threading.Lock()  # held while a gradient is added into a tensor's .grad
_last_change = 0  # the creation number current at the latest in-place change of any tensor


def mark_changed(*tensors: TensorBase) -> None:
    """Count an in-place change of each tensor: backward refuses ops that used them before."""
    global _last_change
    _last_change = stamp = next(creation_order)
    for tensor in tensors:
        tensor._version += 1
        tensor._written_at = stamp


def check_unchanged(node: TensorBase) -> None:
    """Raise if an input of node's op was changed in place after the op used it."""
    ctx = node._ctx
    for index, parent in enumerate(ctx.parents):
        if isinstance(parent, TensorBase) and parent._written_at > node._seq:
            what = f"{parent.name!r}" if parent.name else f"of shape {parent.shape}"
            raise RuntimeError(
                f"backward: the tensor {what} (input {index} of {type(ctx).__name__}) was changed "
                f"in place after the forward pass used it (it is now at version "
                f"{parent._version}), so its gradient would be wrong; call backward() before "
                f"optimizer.step(), load_state_dict() or assigning .data, then run the forward "
                f"pass again"
            )


def run_backward(
    root: TensorBase,
    seed: Any,
    *,
    create_graph: bool = False,
    inputs: list[TensorBase] | None = None,
) -> list[Any] | None:
    """Pass gradients from root to every tensor it depends on, each node after its consumers.

    A node is ready once every op that consumed it has passed its gradient back. `apply`
    counts each tensor's consumers: a node with one consumer is ready as soon as that op is
    done (the common case, a plain stack). A node with several, some perhaps outside this
    graph, waits in a heap keyed by minus its creation number: an op's inputs exist before
    its output, so once no single-consumer node is left, the newest waiting node has
    received all the gradient it will get.

    Without `inputs` (backward()) gradients are added into the leaves' .grad, and each
    non-leaf tensor keeps the gradient of this pass. With `inputs` (grad()) no .grad is
    touched: the gradient of each input is returned (None where none arrived). With
    `create_graph`, gradients are Tensors computed by recorded ops.
    """
    if create_graph and not modes.flags[_GRAD]:  # the backward is recorded even so, as in PyTorch
        with enable_grad():
            return run_backward(root, seed, create_graph=True, inputs=inputs)
    wanted = None if inputs is None else {id(x): x for x in inputs}
    found: dict[int, Any] = {}  # grad(): the gradients of the wanted inputs
    if root._ctx is None:  # the root is a leaf: its gradient is the seed
        if wanted is None:
            with _accumulating:
                root._grad = seed if root._grad is None else root._grad + seed
            return None
        return [seed if x is root else None for x in inputs]
    root._pending = seed
    owned = set() if create_graph else {id(root)}  # nodes whose arrays this pass made
    seen = set()  # nodes with several consumers, once reached
    ready = [root]  # nodes whose consumers are all done: their only one, or the root
    heap = []  # nodes with several consumers, newest first
    leaf_grads = []  # (leaf, gradient) pairs, added into the leaves once the pass is done
    make_ready = ready.append
    anomaly = modes.flags[_ANOMALY]
    last_change = _last_change
    while True:
        while ready:
            node = ready.pop()
            grad = node._pending
            if wanted is None:  # backward(): a non-leaf keeps the gradient of its last pass
                node._grad = grad
            elif id(node) in wanted:
                found[id(node)] = grad
            ctx = node._ctx
            parents = ctx.parents
            if node._seq < last_change:  # something changed in place since this op ran
                check_unchanged(node)
            if grad is None:  # every op downstream returned None for it: so does it
                grads = (None,) * len(parents)  # (its inputs are still reached: old grads go)
            else:
                if create_graph:
                    grads = _backward_building_graph(node, ctx, grad)
                else:
                    grads = ctx.backward(grad)
                    if type(grads) is not tuple:
                        grads = (grads,) if len(parents) == 1 else tuple(grads)
                if len(grads) != len(parents):
                    raise RuntimeError(
                        f"{type(ctx).__name__}.backward returned {len(grads)} gradients for "
                        f"{len(parents)} inputs; return one per input of forward (None for none)"
                    )
                if anomaly:
                    ctx.check_finite(grads, "backward")
            # Once per edge of the graph: keep it inline and lean. (No strict=True: lengths are
            # checked above, and zip parses a keyword argument on every node.)
            for parent, grad, needed in zip(parents, grads, ctx.needs_input_grad):  # noqa: B905
                # Skip constants and tensors that did not require grad in forward (the op may
                # have returned None for them) or no longer do (a frozen leaf gets no grad).
                if not needed or not parent.requires_grad:
                    continue
                if grad is not None:
                    data = parent._data
                    if (
                        type(grad) is not _ndarray
                        or grad.dtype is not data.dtype  # `is`: equal dtypes that are not the
                        or grad.shape != data.shape  # same object take _conform, a no-op
                    ):
                        grad = _conform(grad, data, ctx)
                if parent._ctx is not None:
                    if parent._consumers == 1:  # this op was its only consumer: it is ready
                        parent._pending = grad
                        make_ready(parent)
                        continue
                    if id(parent) not in seen:
                        seen.add(id(parent))
                        parent._pending = None
                        # id breaks ties of copied graphs, whose nodes share creation numbers
                        heappush(heap, (-parent._seq, id(parent), parent))
                if grad is None:
                    continue
                if parent._ctx is None:  # a leaf: added at the end, under the lock
                    leaf_grads.append((parent, grad))
                else:
                    parent._pending = _add(parent._pending, grad, id(parent), owned)
        if not heap:
            break
        make_ready(heappop(heap)[-1])
    if wanted is not None:
        for leaf, grad in leaf_grads:
            if id(leaf) in wanted:
                found[id(leaf)] = _add(found.get(id(leaf)), grad, id(leaf), owned)
        return [found.get(id(x)) for x in inputs]
    # A leaf (a parameter) may be shared with a backward running in another thread: its
    # gradients are added under one lock, once per pass, in the order they were computed.
    with _accumulating:
        for leaf, grad in leaf_grads:
            existing = leaf._grad
            leaf._grad = grad if existing is None else _sum(existing, grad)
    return None


def _add(existing: Any, grad: Any, key: int, owned: set[int]) -> Any:
    """existing + grad: in place only into an array this pass made (`owned` holds its key)."""
    if existing is None:
        return grad
    if key in owned:
        existing += grad
        return existing
    total = _sum(existing, grad)  # never write into an array we do not own: another node's
    if type(total) is _ndarray:
        owned.add(key)  # ours now, to add into in place
    return total


def _sum(existing: Any, grad: Any) -> Any:
    """existing + grad as a new array (or Tensor, when either is one); grad if existing is None."""
    if existing is None:
        return grad
    total = existing + grad
    return total if isinstance(total, TensorBase) else np.asarray(total)


def grad_array(tensor: TensorBase) -> np.ndarray | None:
    """tensor's gradient as an ndarray (a create_graph backward leaves a Tensor), or None."""
    grad = tensor._grad
    return grad._data if isinstance(grad, TensorBase) else grad


def _conform(grad: Any, data: np.ndarray, ctx: Any) -> Any:
    """A gradient as an array (or Tensor) of its input's shape and dtype (NumPy scalars,
    broadcasting).

    After nnfs_init() a float gradient wider than its input keeps its dtype: the book's
    NumPy promotes (a float32 layer behind a float64 dropout mask gets float64 gradients).
    """
    if not isinstance(grad, TensorBase):
        grad = np.asarray(grad)
    if grad.shape != data.shape:
        grad = unbroadcast(grad, data.shape, ctx)
    if grad.dtype == data.dtype or (
        settings.nnfs_dtypes and np.result_type(grad.dtype, data.dtype) == grad.dtype != data.dtype
    ):
        return grad
    return grad.astype(data.dtype)


def unbroadcast(grad: Any, shape: tuple[int, ...], ctx: Any = None) -> Any:
    """Sum a gradient (an array, or a Tensor) over the axes along which an operand of `shape`
    was broadcast."""
    if not isinstance(grad, TensorBase):
        grad = np.asarray(grad)
    given = grad.shape
    extra = grad.ndim - len(shape)
    if extra >= 0:
        axes = [*range(extra)]
        axes += [i + extra for i, n in enumerate(shape) if n == 1 and given[i + extra] != 1]
        if axes:
            if isinstance(grad, TensorBase):
                grad = grad.sum(axis=tuple(axes), keepdims=True)
            else:
                grad = np.add.reduce(grad, axis=tuple(axes), keepdims=True)
    if extra < 0 or grad.shape[extra:] != shape:
        where = f"{type(ctx).__name__}.backward" if ctx is not None else "backward"
        raise RuntimeError(
            f"{where} returned a gradient of shape {given} for an input of shape "
            f"{shape}; a gradient must have its input's shape (or broadcast to it)"
        )
    return grad.reshape(shape) if extra else grad
