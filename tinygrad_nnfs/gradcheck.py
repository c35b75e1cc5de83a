"""gradcheck: compare backward() with central finite differences in float64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_nnfs._checks import check_number
from tinygrad_nnfs.tensor import Tensor, no_grad

__all__ = ["GradcheckError", "gradcheck"]


class GradcheckError(AssertionError):
    """backward() disagrees with numerical differentiation."""


def _as_input(value: Any) -> Tensor:
    """A float64 copy that requires grad for float data; other data (labels) as a constant."""
    array = np.array(value.data if isinstance(value, Tensor) else value)
    if array.dtype.kind == "f":
        return Tensor(array.astype(np.float64), requires_grad=True)
    return Tensor(array)


def _op_name(out: Tensor) -> str:
    return type(out._ctx).__name__ if out._ctx is not None else "an op-less output"


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check fn's gradients against central differences; raise GradcheckError on a mismatch.

    Float inputs (Tensors or arrays) are copied to float64 and differentiated; others
    (e.g. integer labels) are passed as constants. A non-scalar output is reduced with a
    random cotangent, so every output element is checked. Returns True.
    """
    if not callable(fn):
        raise TypeError(
            f"gradcheck: fn must be a function of Tensors returning a Tensor, "
            f"got {type(fn).__name__} {fn!r}"
        )
    for name, value, positive in (("eps", eps, True), ("atol", atol, False), ("rtol", rtol, False)):
        check_number(value, "gradcheck", name, finite=True, minimum=0, strict=positive)
    tensors = [_as_input(x) for x in inputs]
    if not any(t.requires_grad for t in tensors):
        raise ValueError(
            f"gradcheck: none of the {len(tensors)} inputs holds floats, so there is nothing to "
            f"differentiate; pass the float arrays or Tensors that fn differentiates"
        )
    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"gradcheck: fn must return a Tensor, got {type(out).__name__}")
    if not out.requires_grad:
        raise GradcheckError(
            f"gradcheck: the output of {_op_name(out)} does not require grad; "
            f"fn must build its result from its inputs with differentiable ops"
        )
    # A one-element output keeps the cotangent 1, so reported values are its plain gradient.
    cotangent = np.ones(out.shape)
    if out.size != 1:
        cotangent = np.random.RandomState(0).standard_normal(out.shape)
    out.backward(cotangent)

    def objective() -> float:
        with no_grad():
            return float(np.sum(fn(*tensors).data * cotangent))

    for position, x in enumerate(tensors):
        if not x.requires_grad:
            continue
        analytic = np.zeros(x.shape) if x._grad is None else x._grad
        original = x.data.copy()
        for index in np.ndindex(*x.shape):
            x.data[index] = original[index] + eps
            plus = objective()
            x.data[index] = original[index] - eps
            minus = objective()
            x.data[index] = original[index]
            numeric = (plus - minus) / (2 * eps)
            if not abs(analytic[index] - numeric) <= atol + rtol * abs(numeric):
                raise GradcheckError(
                    f"gradcheck: gradient of {_op_name(out)} w.r.t. input {position} "
                    f"(shape {x.shape}) at element {index}: analytic {float(analytic[index])!r}, "
                    f"numeric {numeric!r} (atol={atol}, rtol={rtol})"
                )
    return True
