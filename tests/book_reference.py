"""The book's hand-written NumPy network (NNFS ch. 9-14), transcribed as printed.

Its optimizers are chapter 22's (tests/book_chapters.py), unchanged since chapter 10.

The parity tests run it beside the engine from the same seed; the benchmarks time it as the
baseline. Class and attribute names are the book's; only the random stream is passed in.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import pytest


@contextlib.contextmanager
def nnfs_init_numpy() -> Iterator[None]:
    """NumPy as the book's `nnfs.init()` leaves it (the real nnfs package's), restored on exit.

    Inside, np.dot multiplies in float64 and rounds to float32, np.random.randn and np.zeros
    return float32, and NumPy's global stream is seeded with 0: the book's float32 setting.
    Pass `np.random` as the `rng` of this module's functions to draw as the book does.
    """
    import nnfs

    with pytest.MonkeyPatch.context() as patch:
        for module, name in ((np, "dot"), (np, "zeros"), (np, "eye"), (np.random, "randn")):
            patch.setattr(module, name, getattr(module, name))  # put back on exit
        nnfs.init()
        yield


class _DrawsIn:
    """A stream whose randn returns `dtype`, as nnfs.init() makes np.random.randn."""

    def __init__(self, rng: np.random.RandomState, dtype: str) -> None:
        self.rng, self.dtype = rng, dtype

    def randn(self, *shape: int) -> np.ndarray:
        return self.rng.randn(*shape).astype(self.dtype)


def spiral_data(samples: int, classes: int, rng: np.random.RandomState) -> tuple:
    """The nnfs package's spiral data."""
    X = np.zeros((samples * classes, 2))
    y = np.zeros(samples * classes, dtype="uint8")
    for class_number in range(classes):
        ix = range(samples * class_number, samples * (class_number + 1))
        r = np.linspace(0.0, 1, samples)
        t = np.linspace(class_number * 4, (class_number + 1) * 4, samples)
        t = t + rng.randn(samples) * 0.2
        X[ix] = np.c_[r * np.sin(t * 2.5), r * np.cos(t * 2.5)]
        y[ix] = class_number
    return X, y


class Layer_Dense:
    def __init__(
        self,
        n_inputs,
        n_neurons,
        rng,
        weight_regularizer_l1=0,
        weight_regularizer_l2=0,
        bias_regularizer_l1=0,
        bias_regularizer_l2=0,
    ):
        self.weights = 0.01 * rng.randn(n_inputs, n_neurons)
        self.biases = np.zeros((1, n_neurons))
        self.weight_regularizer_l1 = weight_regularizer_l1
        self.weight_regularizer_l2 = weight_regularizer_l2
        self.bias_regularizer_l1 = bias_regularizer_l1
        self.bias_regularizer_l2 = bias_regularizer_l2

    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.dot(inputs, self.weights) + self.biases

    def backward(self, dvalues):
        self.dweights = np.dot(self.inputs.T, dvalues)
        self.dbiases = np.sum(dvalues, axis=0, keepdims=True)
        if self.weight_regularizer_l1 > 0:
            dL1 = np.ones_like(self.weights)
            dL1[self.weights < 0] = -1
            self.dweights += self.weight_regularizer_l1 * dL1
        if self.weight_regularizer_l2 > 0:
            self.dweights += 2 * self.weight_regularizer_l2 * self.weights
        if self.bias_regularizer_l1 > 0:
            dL1 = np.ones_like(self.biases)
            dL1[self.biases < 0] = -1
            self.dbiases += self.bias_regularizer_l1 * dL1
        if self.bias_regularizer_l2 > 0:
            self.dbiases += 2 * self.bias_regularizer_l2 * self.biases
        self.dinputs = np.dot(dvalues, self.weights.T)


class Activation_ReLU:
    def forward(self, inputs):
        self.inputs = inputs
        self.output = np.maximum(0, inputs)

    def backward(self, dvalues):
        self.dinputs = dvalues.copy()
        self.dinputs[self.inputs <= 0] = 0


class Activation_Softmax:
    def forward(self, inputs):
        exp_values = np.exp(inputs - np.max(inputs, axis=1, keepdims=True))
        self.output = exp_values / np.sum(exp_values, axis=1, keepdims=True)


class Loss_CategoricalCrossentropy:
    def calculate(self, output, y):
        return np.mean(self.forward(output, y))

    def regularization_loss(self, layer):
        regularization_loss = 0
        if layer.weight_regularizer_l1 > 0:
            regularization_loss += layer.weight_regularizer_l1 * np.sum(np.abs(layer.weights))
        if layer.weight_regularizer_l2 > 0:
            regularization_loss += layer.weight_regularizer_l2 * np.sum(
                layer.weights * layer.weights
            )
        if layer.bias_regularizer_l1 > 0:
            regularization_loss += layer.bias_regularizer_l1 * np.sum(np.abs(layer.biases))
        if layer.bias_regularizer_l2 > 0:
            regularization_loss += layer.bias_regularizer_l2 * np.sum(layer.biases * layer.biases)
        return regularization_loss

    def forward(self, y_pred, y_true):
        samples = len(y_pred)
        y_pred_clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
        if len(y_true.shape) == 1:
            correct_confidences = y_pred_clipped[range(samples), y_true]
        else:
            correct_confidences = np.sum(y_pred_clipped * y_true, axis=1)
        return -np.log(correct_confidences)


class Activation_Softmax_Loss_CategoricalCrossentropy:
    def __init__(self):
        self.activation = Activation_Softmax()
        self.loss = Loss_CategoricalCrossentropy()

    def forward(self, inputs, y_true):
        self.activation.forward(inputs)
        self.output = self.activation.output
        return self.loss.calculate(self.output, y_true)

    def backward(self, dvalues, y_true):
        samples = len(dvalues)
        if len(y_true.shape) == 2:
            y_true = np.argmax(y_true, axis=1)
        self.dinputs = dvalues.copy()
        self.dinputs[range(samples), y_true] -= 1
        self.dinputs = self.dinputs / samples


def train_book_network(X, y, rng, optimizer, epochs, hidden=64, l2=0.0, dtype=None):
    """The book's training loop (ch. 14); yields (epoch, loss, accuracy, lr, dense1, dense2,
    data_loss, regularization_loss).

    `dtype` draws the weights in that dtype and makes the biases of it, as the book's code
    does under nnfs.init() (its matmuls stay NumPy's: native).
    """
    if dtype is not None:
        rng = _DrawsIn(rng, dtype)
    dense1 = Layer_Dense(2, hidden, rng, weight_regularizer_l2=l2, bias_regularizer_l2=l2)
    activation1 = Activation_ReLU()
    dense2 = Layer_Dense(hidden, 3, rng)
    if dtype is not None:
        for layer in (dense1, dense2):
            layer.biases = layer.biases.astype(dtype)
    loss_activation = Activation_Softmax_Loss_CategoricalCrossentropy()
    for epoch in range(epochs):
        dense1.forward(X)
        activation1.forward(dense1.output)
        dense2.forward(activation1.output)
        data_loss = loss_activation.forward(dense2.output, y)
        regularization_loss = loss_activation.loss.regularization_loss(
            dense1
        ) + loss_activation.loss.regularization_loss(dense2)
        loss = data_loss + regularization_loss
        predictions = np.argmax(loss_activation.output, axis=1)
        accuracy = np.mean(predictions == y)
        lr = optimizer.current_learning_rate
        loss_activation.backward(loss_activation.output, y)
        dense2.backward(loss_activation.dinputs)
        activation1.backward(dense2.dinputs)
        dense1.backward(activation1.dinputs)
        optimizer.pre_update_params()
        optimizer.update_params(dense1)
        optimizer.update_params(dense2)
        optimizer.post_update_params()
        yield epoch, loss, accuracy, lr, dense1, dense2, data_loss, regularization_loss
