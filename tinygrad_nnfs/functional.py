"""Jacobians, Hessians and Hessian-vector products, computed by the engine's backward passes.

Laid out as torch.autograd.functional lays them out; `x` need not require grad. The image
functions of tinygrad_nnfs.nn.functional (conv2d, max_pool2d, avg_pool2d) are here too.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from tinygrad_nnfs.nn.functional import avg_pool2d, conv2d, max_pool2d
from tinygrad_nnfs.tensor import Tensor, _as_array, enable_grad, grad

__all__ = ["avg_pool2d", "conv2d", "hessian", "hvp", "jacobian", "max_pool2d"]


def _leaf(x: Tensor | np.ndarray, where: str) -> Tensor:
    """A fresh leaf that requires grad, holding x's float data."""
    array = _as_array(x)
    if array.dtype.kind != "f":
        raise TypeError(f"{where}: x must hold floats, got dtype {array.dtype}")
    return Tensor(array, requires_grad=True)


def _zeros_like(x: Tensor) -> Tensor:
    """The derivative of a function that does not depend on x: zeros of x's shape."""
    return Tensor(np.zeros(x.shape, x.dtype))


def _one_element(out: Tensor, where: str) -> Tensor:
    if not isinstance(out, Tensor) or out.size != 1:
        shape = out.shape if isinstance(out, Tensor) else type(out).__name__
        raise ValueError(f"{where}: fn must return a one-element Tensor, got {shape}")
    return out


def _rows(out: Tensor, x: Tensor) -> Tensor:
    """d out / d x, of shape out.shape + x.shape: one backward pass per element of out."""
    rows = np.zeros((out.size, x.size), dtype=np.result_type(out.dtype, x.dtype))
    if out.requires_grad:
        for i in range(out.size):
            seed = np.zeros(out.size, dtype=out.dtype)
            seed[i] = 1
            (row,) = grad(out, x, seed.reshape(out.shape), allow_unused=True)
            if row is not None:
                rows[i] = row.data.reshape(-1)
    return Tensor(rows.reshape(out.shape + x.shape))


def jacobian(fn: Callable[[Tensor], Tensor], x: Tensor | np.ndarray) -> Tensor:
    """d fn(x) / d x, of shape fn(x).shape + x.shape."""
    x = _leaf(x, "jacobian")
    with enable_grad():
        out = fn(x)
    return _rows(out, x)


def _gradient(fn: Callable[[Tensor], Tensor], x: Tensor, where: str) -> Tensor:
    """fn's gradient at x as a Tensor that can be differentiated again."""
    with enable_grad():
        out = _one_element(fn(x), where)
        if not out.requires_grad:
            return _zeros_like(x)
        (first,) = grad(out, x, create_graph=True, allow_unused=True)
    return _zeros_like(x) if first is None else first


def hessian(fn: Callable[[Tensor], Tensor], x: Tensor | np.ndarray) -> Tensor:
    """The second derivatives of a one-element fn(x), of shape x.shape + x.shape."""
    x = _leaf(x, "hessian")
    return _rows(_gradient(fn, x, "hessian"), x)


def hvp(fn: Callable[[Tensor], Tensor], x: Tensor | np.ndarray, v: Tensor | np.ndarray) -> Tensor:
    """The Hessian of a one-element fn at x times v (of x's shape), without forming the Hessian."""
    x = _leaf(x, "hvp")
    v = _as_array(v)
    if v.shape != x.shape:
        raise ValueError(f"hvp: v has shape {v.shape}, x has shape {x.shape}; pass v of x's shape")
    first = _gradient(fn, x, "hvp")
    if not first.requires_grad:
        return _zeros_like(x)
    (product,) = grad(first, x, v.astype(first.dtype), allow_unused=True)
    return _zeros_like(x) if product is None else product.detach()
