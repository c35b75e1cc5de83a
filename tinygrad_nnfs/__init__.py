"""tinygrad_nnfs: an autograd engine on NumPy for readers of Neural Networks from Scratch."""

# tensor.py must load first: it imports ops, which import function, which imports tensor.
from tinygrad_nnfs.tensor import (
    Tensor,
    detect_anomaly,
    enable_grad,
    get_matmul_precision,
    is_grad_enabled,
    manual_seed,
    nnfs_init,
    no_grad,
    set_default_dtype,
    set_matmul_precision,
)

# isort: split
from tinygrad_nnfs import datasets, nn, optim
from tinygrad_nnfs.function import Function
from tinygrad_nnfs.gradcheck import GradcheckError, gradcheck
from tinygrad_nnfs.graph import draw_graph
from tinygrad_nnfs.model import Model

__all__ = [
    "Function",
    "GradcheckError",
    "Model",
    "Tensor",
    "datasets",
    "detect_anomaly",
    "draw_graph",
    "enable_grad",
    "get_matmul_precision",
    "gradcheck",
    "is_grad_enabled",
    "manual_seed",
    "nn",
    "nnfs_init",
    "no_grad",
    "optim",
    "set_default_dtype",
    "set_matmul_precision",
]
