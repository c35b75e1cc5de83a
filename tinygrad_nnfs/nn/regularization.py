"""L1/L2 penalties of the Dense layers in a module tree, as a differentiable Tensor."""

from __future__ import annotations

import numpy as np

from tinygrad_nnfs.nn.layers import Dense
from tinygrad_nnfs.nn.module import Module
from tinygrad_nnfs.tensor import Tensor, get_default_dtype

__all__ = ["regularization_loss"]


def _layer_penalty(layer: Dense) -> Tensor | None:
    """The book's Loss.regularization_loss(layer), or None when every strength is 0."""
    if not (
        layer.weight_regularizer_l1
        or layer.weight_regularizer_l2
        or layer.bias_regularizer_l1
        or layer.bias_regularizer_l2
    ):
        return None  # most layers, every step: nothing to build
    terms = []
    for param, l1, l2 in (
        (layer.weights, layer.weight_regularizer_l1, layer.weight_regularizer_l2),
        (layer.biases, layer.bias_regularizer_l1, layer.bias_regularizer_l2),
    ):
        if l1 > 0:
            terms.append(l1 * param.abs().sum())
        if l2 > 0:
            terms.append(l2 * param.square().sum())
    if not terms:
        return None
    penalty = terms[0]
    for term in terms[1:]:
        penalty = penalty + term
    return penalty


def regularization_loss(module: Module) -> Tensor:
    """Sum over every Dense layer of l1*sum(|w|) + l2*sum(w*w), for weights then biases.

    Terms are added in the book's order, layer by layer, so the value matches the book's
    sum of per-layer penalties. A strength of 0 adds nothing to the graph; without any
    penalty the result is a 0-d zero (default float dtype) that requires no grad.
    The L1 derivative is +1 at exactly 0 (the book's convention).
    """
    if not isinstance(module, Module):
        raise TypeError(
            f"regularization_loss: expected a Module (a layer or a model), "
            f"got {type(module).__name__}"
        )
    total = None
    for layer in module.modules():
        if isinstance(layer, Dense):
            penalty = _layer_penalty(layer)
            if penalty is not None:
                total = penalty if total is None else total + penalty
    return _no_penalty(get_default_dtype()) if total is None else total


_NO_PENALTY: dict[np.dtype, Tensor] = {}


def _no_penalty(dtype: np.dtype) -> Tensor:
    """A read-only 0-d zero of `dtype`, made once: a model without penalties asks every step."""
    zero = _NO_PENALTY.get(dtype)
    if zero is None:
        array = np.zeros((), dtype)
        array.flags.writeable = False
        zero = _NO_PENALTY[dtype] = Tensor._make(array)
    return zero
