"""gradcheck: compare backward() with central finite differences in float64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tinygrad_nnfs._checks import check_number
from tinygrad_nnfs.tensor import Tensor, enable_grad, grad, no_grad

__all__ = ["GradcheckError", "gradcheck", "gradgradcheck"]


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
    tensors = _checked_inputs(fn, inputs, "gradcheck", eps, atol, rtol)
    out = _checked_output(fn, tensors, "gradcheck")
    _compare(fn, tensors, f"gradient of {_op_name(out)}", eps, atol, rtol, "gradcheck")
    return True


def gradgradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Check fn's second derivatives: the gradient of fn's gradient (backward with
    create_graph=True) against central differences of the first-order gradient.

    fn's output is reduced with a random cotangent v, and the gradients it gives each float
    input with a second one, so every element of the Hessian-vector products is checked;
    v is differentiated too (counted as the input after fn's), so a backward must also be
    right in its incoming gradient. Raises GradcheckError on a mismatch, naming the input
    and element; returns True.
    """
    tensors = _checked_inputs(fn, inputs, "gradgradcheck", eps, atol, rtol)
    out = _checked_output(fn, tensors, "gradgradcheck")
    cotangent = Tensor(_cotangent(out.shape), requires_grad=True)

    def first_derivatives(*xs: Tensor) -> Tensor:
        """fn's gradients given the cotangent (the last of xs), flattened into one Tensor
        (zeros where an input is unused)."""
        *fn_inputs, v = xs
        with enable_grad():  # also where the numeric side runs fn under no_grad()
            wanted = [x for x in fn_inputs if x.requires_grad]
            grads = grad(fn(*fn_inputs), wanted, v, create_graph=True, allow_unused=True)
            parts = [
                (x * 0.0 if g is None else g).reshape(-1)
                for x, g in zip(wanted, grads, strict=True)
            ]
            return Tensor.concatenate(parts)

    what = f"second derivative of {_op_name(out)}"
    _compare(first_derivatives, [*tensors, cotangent], what, eps, atol, rtol, "gradgradcheck")
    return True


def _checked_inputs(
    fn: Any, inputs: tuple[Any, ...], where: str, eps: float, atol: float, rtol: float
) -> list[Tensor]:
    """The inputs as float64 leaves (constants for other data), after checking the arguments."""
    if not callable(fn):
        raise TypeError(
            f"{where}: fn must be a function of Tensors returning a Tensor, "
            f"got {type(fn).__name__} {fn!r}"
        )
    for name, value, positive in (("eps", eps, True), ("atol", atol, False), ("rtol", rtol, False)):
        check_number(value, where, name, finite=True, minimum=0, strict=positive)
    tensors = [_as_input(x) for x in inputs]
    if not any(t.requires_grad for t in tensors):
        raise ValueError(
            f"{where}: none of the {len(tensors)} inputs holds floats, so there is nothing to "
            f"differentiate; pass the float arrays or Tensors that fn differentiates"
        )
    return tensors


def _checked_output(fn: Any, tensors: list[Tensor], where: str) -> Tensor:
    out = fn(*tensors)
    if not isinstance(out, Tensor):
        raise TypeError(f"{where}: fn must return a Tensor, got {type(out).__name__}")
    if not out.requires_grad:
        raise GradcheckError(
            f"{where}: the output of {_op_name(out)} does not require grad; "
            f"fn must build its result from its inputs with differentiable ops"
        )
    return out


def _cotangent(shape: tuple[int, ...]) -> np.ndarray:
    """1 for a one-element output (so reported values are its plain gradient), else random."""
    if int(np.prod(shape)) == 1:
        return np.ones(shape)
    return np.random.RandomState(0).standard_normal(shape)


def _compare(
    fn: Any, tensors: list[Tensor], what: str, eps: float, atol: float, rtol: float, where: str
) -> None:
    """The gradient of fn (reduced by a cotangent) against central differences, per element."""
    out = fn(*tensors)
    cotangent = _cotangent(out.shape)
    differentiated = [t for t in tensors if t.requires_grad]
    analytic_of = {}  # an output that requires no grad is constant: its gradient is 0
    if out.requires_grad:  # (the gradient of a linear fn, in gradgradcheck)
        found = grad(out, differentiated, cotangent, allow_unused=True)
        analytic_of = dict(zip(map(id, differentiated), found, strict=True))

    def objective() -> float:
        with no_grad():
            return float(np.sum(fn(*tensors).data * cotangent))

    for position, x in enumerate(tensors):
        if not x.requires_grad:
            continue
        found = analytic_of.get(id(x))
        analytic = np.zeros(x.shape) if found is None else found.data
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
                    f"{where}: {what} w.r.t. input {position} "
                    f"(shape {x.shape}) at element {index}: analytic {float(analytic[index])!r}, "
                    f"numeric {numeric!r} (atol={atol}, rtol={rtol})"
                )
