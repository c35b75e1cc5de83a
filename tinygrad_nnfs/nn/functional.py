"""torch.nn.functional's image functions: conv2d, max_pool2d and avg_pool2d on NCHW batches.

Each takes a Tensor (or an array) and is the Tensor method of the same name.
"""

from __future__ import annotations

from typing import Any

from tinygrad_nnfs.tensor import Tensor, _as_tensor

__all__ = ["avg_pool2d", "conv2d", "max_pool2d"]


def conv2d(x: Any, w: Any, b: Any = None, stride: Any = 1, padding: Any = 0) -> Tensor:
    """x (N, C, H, W) convolved with w (O, C, kh, kw), plus b (O,) -> (N, O, H', W').

    As torch.nn.functional.conv2d (a cross-correlation): `stride` and zero `padding` are an
    int or a (height, width) pair; H' = (H + 2 * padding - kh) // stride + 1.
    """
    return _as_tensor(x).conv2d(w, b, stride=stride, padding=padding)


def max_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """The max of each kernel_size window of x (N, C, H, W), `stride` (or kernel_size) apart,
    over `padding` rows and columns of -inf on each side."""
    return _as_tensor(x).max_pool2d(kernel_size, stride, padding)


def avg_pool2d(x: Any, kernel_size: Any, stride: Any = None, padding: Any = 0) -> Tensor:
    """The mean of each kernel_size window of x (N, C, H, W), `stride` (or kernel_size) apart,
    over `padding` zeros on each side (counted in the mean, as PyTorch's default)."""
    return _as_tensor(x).avg_pool2d(kernel_size, stride, padding)
