"""Function: the base of every differentiable op, built-in or written by a user."""

from __future__ import annotations

import os
import traceback
from typing import Any

import numpy as np

from tinygrad_nnfs import tensor
from tinygrad_nnfs.tensor import Tensor

__all__ = ["Function"]

_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__))


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
    broadcastable to it, or None where no gradient is needed.
    """

    __slots__ = ("created_at", "input_shapes", "needs_input_grad", "parents", "saved")

    def forward(self, *inputs: Any, **options: Any) -> np.ndarray:
        raise NotImplementedError(f"{type(self).__name__} must define forward")

    def backward(self, grad: np.ndarray) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define backward")

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
        ctx = cls()
        ctx.needs_input_grad = needs = tuple(
            isinstance(x, Tensor) and x.requires_grad for x in inputs
        )
        arrays = [x.data if isinstance(x, Tensor) else x for x in inputs]
        try:
            out = ctx.forward(*arrays, **options)
        except ValueError as error:
            shapes = ", ".join(str(np.shape(a)) for a in arrays)
            raise ValueError(
                f"{cls.__name__}: cannot apply to input shapes {shapes}: {error}"
            ) from None
        if not isinstance(out, np.ndarray):
            out = np.asarray(out)
        if tensor._anomaly_enabled:
            ctx.created_at = _user_line()
            ctx.input_shapes = [np.shape(a) for a in arrays]
            ctx.check_finite((out,), "forward", arrays)
        if tensor._grad_enabled and any(needs):
            ctx.parents = tuple(x if isinstance(x, Tensor) else None for x in inputs)
            return Tensor._make(out, True, ctx)
        return Tensor._make(out, False, None)
