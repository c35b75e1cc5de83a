"""tinygrad_nnfs: an autograd engine on NumPy for readers of Neural Networks from Scratch."""

import importlib

from tinygrad_nnfs import datasets, functional, nn, optim
from tinygrad_nnfs.engine import Function
from tinygrad_nnfs.gradcheck import GradcheckError, gradcheck, gradgradcheck
from tinygrad_nnfs.model import Model
from tinygrad_nnfs.tensor import (
    Tensor,
    detect_anomaly,
    enable_grad,
    get_matmul_precision,
    grad,
    is_grad_enabled,
    manual_seed,
    nnfs_init,
    no_grad,
    one_hot,
    set_default_dtype,
    set_matmul_precision,
    where,
)

__all__ = [
    "Function",
    "GradcheckError",
    "Model",
    "Tensor",
    "datasets",
    "detect_anomaly",
    "draw_graph",
    "enable_grad",
    "functional",
    "get_matmul_precision",
    "grad",
    "gradcheck",
    "gradgradcheck",
    "is_grad_enabled",
    "manual_seed",
    "nn",
    "nnfs_init",
    "no_grad",
    "one_hot",
    "optim",
    "set_default_dtype",
    "set_matmul_precision",
    "where",
]


_LAZY_MODULES = ("plot", "sweep", "testing")  # their optional dependencies load with them


def __getattr__(name: str) -> object:
    """`draw_graph` and the modules of optional extras, imported when first asked for:
    Graphviz is needed only to draw, matplotlib to plot, hypothesis to test."""
    if name == "draw_graph":
        from tinygrad_nnfs.graph import draw_graph

        return draw_graph
    if name in _LAZY_MODULES:
        return importlib.import_module(f"tinygrad_nnfs.{name}")
    raise AttributeError(f"module 'tinygrad_nnfs' has no attribute {name!r}")
