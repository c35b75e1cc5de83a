"""Layers of image models (NCHW): Conv2d, MaxPool2d, AvgPool2d and Flatten, as Tensor ops."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tinygrad_nnfs._checks import check_dtype, check_int, check_pair
from tinygrad_nnfs.nn.layers import _check_size, _check_strength
from tinygrad_nnfs.nn.module import Module
from tinygrad_nnfs.tensor import (
    Tensor,
    _as_tensor,
    _resolve_rng,
    _standard_normal,
    get_default_dtype,
)

__all__ = ["AvgPool2d", "Conv2d", "Flatten", "MaxPool2d"]


class Conv2d(Module):
    """2-D convolution: inputs (batch, in_channels, H, W) -> (batch, out_channels, H', W').

    weights (out_channels, in_channels, kh, kw) start as `weight_scale * randn`, drawn from
    the library stream (or `rng`) and cast to `dtype` as Dense's are; biases start as zeros
    (out_channels,). `weight_scale` defaults to He's sqrt(2 / (in_channels * kh * kw)), which
    keeps the spread of activations through stacked ReLU layers (Dense's 0.01 would shrink
    it layer by layer). `kernel_size`, `stride` and zero `padding` are an int or a
    (height, width) pair, and `bias=False` leaves the biases out, as in torch.nn.Conv2d.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        bias: bool = True,
        *,
        weight_scale: float | None = None,
        rng: Any = None,
        dtype: Any = None,
    ) -> None:
        self.in_channels = _check_size("Conv2d", "in_channels", in_channels)
        self.out_channels = _check_size("Conv2d", "out_channels", out_channels)
        self.kernel_size = check_pair(kernel_size, "Conv2d", "kernel_size", minimum=1)
        self.stride = check_pair(stride, "Conv2d", "stride", minimum=1)
        self.padding = check_pair(padding, "Conv2d", "padding", minimum=0)
        layer = f"Conv2d({self.in_channels}, {self.out_channels}, {self.kernel_size})"
        dtype = get_default_dtype() if dtype is None else check_dtype(dtype, layer)
        if dtype.kind != "f":
            raise TypeError(f"{layer}: dtype must be a float dtype, got {dtype}")
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        if weight_scale is None:
            weight_scale = math.sqrt(2 / (self.in_channels * math.prod(self.kernel_size)))
        weight_scale = _check_strength(layer, "weight_scale", weight_scale)
        draws = _standard_normal(_resolve_rng(rng), shape).astype(dtype)
        self.weights = Tensor(weight_scale * draws, requires_grad=True)
        if not isinstance(bias, bool | np.bool_):
            raise TypeError(f"{layer}: bias must be True or False, got {bias!r}")
        self.bias = bool(bias)
        self.biases = (
            Tensor(np.zeros(self.out_channels), requires_grad=True, dtype=dtype) if bias else None
        )

    def forward(self, inputs: Any) -> Tensor:
        """inputs (batch, in_channels, H, W) -> (batch, out_channels, H', W')."""
        inputs = _as_tensor(inputs)
        if inputs.ndim != 4 or inputs.shape[1] != self.in_channels:
            raise ValueError(
                f"{self!r}: expected inputs of shape (batch, {self.in_channels}, height, width), "
                f"got shape {inputs.shape}"
                + ("; for one image add the batch axis" if inputs.ndim == 3 else "")
            )
        return inputs.conv2d(self.weights, self.biases, stride=self.stride, padding=self.padding)

    def extra_repr(self) -> str:
        return (
            f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
            f"stride={self.stride}, padding={self.padding}" + ("" if self.bias else ", bias=False")
        )


class MaxPool2d(Module):
    """The max of each kernel_size window, windows `stride` apart (default kernel_size).

    inputs (batch, channels, H, W) -> (batch, channels, H', W'); the gradient goes to each
    window's first maximum, as in PyTorch.
    """

    _pool = staticmethod(Tensor.max_pool2d)

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        name = type(self).__name__
        self.kernel_size = check_pair(kernel_size, name, "kernel_size", minimum=1)
        self.stride = (
            self.kernel_size if stride is None else check_pair(stride, name, "stride", minimum=1)
        )
        self.padding = check_pair(padding, name, "padding", minimum=0)

    def forward(self, inputs: Any) -> Tensor:
        """inputs (batch, channels, H, W) -> (batch, channels, H', W')."""
        return self._pool(_as_tensor(inputs), self.kernel_size, self.stride, self.padding)

    def extra_repr(self) -> str:
        padding = "" if self.padding == (0, 0) else f", padding={self.padding}"
        return f"kernel_size={self.kernel_size}, stride={self.stride}{padding}"


class AvgPool2d(MaxPool2d):
    """The mean of each kernel_size window, windows `stride` apart (default kernel_size).

    inputs (batch, channels, H, W) -> (batch, channels, H', W').
    """

    _pool = staticmethod(Tensor.avg_pool2d)


class Flatten(Module):
    """Axes start_dim..end_dim merged into one, by default every axis after the batch axis:
    (batch, ...) -> (batch, features), as torch.nn.Flatten."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim = check_int(start_dim, "Flatten", "start_dim")
        self.end_dim = check_int(end_dim, "Flatten", "end_dim")

    def forward(self, inputs: Any) -> Tensor:
        """inputs (batch, ...) -> (batch, product of the other sides)."""
        inputs = _as_tensor(inputs)
        if inputs.ndim < 2:
            raise ValueError(
                f"Flatten: expected inputs with a batch axis and at least one more, got shape "
                f"{inputs.shape}"
            )
        return inputs.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"
