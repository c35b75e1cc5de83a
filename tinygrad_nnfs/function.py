"""Function: the base of every differentiable op, built-in or written by a user."""

from __future__ import annotations

import os
import sys
import traceback
from typing import Any

import numpy as np

from tinygrad_nnfs import tensor
from tinygrad_nnfs.tensor import Tensor, _ndarray, modes

__all__ = ["Function"]

_new_tensor = Tensor.__new__  # bound once: apply runs once per op
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
    """

    __slots__ = ("created_at", "input_shapes", "needs_input_grad", "parents", "saved")

    def forward(self, *inputs: Any, **options: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, grad: np.ndarray) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define backward")

    def tensor_parents(self) -> list[Tensor]:
        """The inputs of forward that are Tensors (the nodes a drawing connects)."""
        return [x for x in self.parents if isinstance(x, Tensor)]

    def save_for_backward(self, *arrays: Any) -> None:
        """Keep what backward needs; read it back as `self.saved`."""
        self.saved = arrays

    def check_finite(self, results: Any, stage: str, inputs: Any = ()) -> None:
        """Under detect_anomaly(): raise FloatingPointError if a result holds NaN or inf."""
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
    def apply(cls, *inputs: Any, **options: Any) -> Tensor:
        """Run forward on the inputs' data and, if any input requires grad, record the node."""
        # The hottest code in the library (once per op): plain loops, no helper calls.
        ctx = cls()
        ctx.parents = inputs  # non-Tensor inputs are constants: no gradient flows to them
        arrays = []
        needs = []
        for x in inputs:
            if isinstance(x, Tensor):
                arrays.append(x._data)
                x._consumers += 1  # every use counts: an overcount only slows backward
                needs.append(x.requires_grad)
            else:
                arrays.append(x)
                needs.append(False)
        ctx.needs_input_grad = needs = tuple(needs)
        try:  # spelled out for one and two inputs: a call with *arrays costs 0.1 us more
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
        if type(out) is not _ndarray:
            out = np.asarray(out)
        if modes.anomaly_enabled:
            ctx.created_at = _user_line()
            ctx.input_shapes = [np.shape(a) for a in arrays]
            ctx.check_finite((out,), "forward", arrays)
        result = _new_tensor(Tensor)
        result._data = out
        result.name = result._grad = None
        result._consumers = result._version = result._written_at = 0
        if True in needs and modes.grad_enabled:
            result.requires_grad = True
            result._ctx = ctx
            result._seq = next(tensor.creation_order)
        else:
            result.requires_grad = False
            result._ctx = None
        return result
