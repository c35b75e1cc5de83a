"""Layers, activations, losses and penalties as Modules, the way torch.nn arranges them."""

from tinygrad_nnfs.nn import functional
from tinygrad_nnfs.nn.activations import Identity, ReLU, Sigmoid, Softmax, Tanh
from tinygrad_nnfs.nn.conv import AvgPool2d, Conv2d, Flatten, MaxPool2d
from tinygrad_nnfs.nn.layers import Dense, Dropout
from tinygrad_nnfs.nn.losses import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    MeanAbsoluteError,
    MeanSquaredError,
    SoftmaxCrossEntropy,
)
from tinygrad_nnfs.nn.module import Module, Sequential
from tinygrad_nnfs.nn.regularization import regularization_loss

__all__ = [
    "AvgPool2d",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "Conv2d",
    "Dense",
    "Dropout",
    "Flatten",
    "Identity",
    "MaxPool2d",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "Module",
    "ReLU",
    "Sequential",
    "Sigmoid",
    "Softmax",
    "SoftmaxCrossEntropy",
    "Tanh",
    "functional",
    "regularization_loss",
]
