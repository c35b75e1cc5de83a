"""Model: the book's Model class (chapters 18-22) on the engine, trained by `fit`.

A reader's chapter 18-22 program runs with its imports and class names changed:
`Model()`, `add`, `set(loss=, optimizer=, accuracy=)`, `finalize`, `train`, `evaluate`,
`predict`, the parameters' get/set/save/load, and `save` / `Model.load` of a whole model.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tinygrad_nnfs import nn, optim
from tinygrad_nnfs.nn.module import read_npz, write_npz
from tinygrad_nnfs.optim import Optimizer
from tinygrad_nnfs.tensor import _as_array, no_grad
from tinygrad_nnfs.train import (
    _check_batch_size,
    _evaluate,
    _samples,
    _Score,
    _validation_line,
    fit,
)

__all__ = ["Model"]

ACCURACIES = ("categorical", "binary", "regression")
_FORMAT = "tinygrad_nnfs.Model"
# What save() can write and load() rebuild: the settings each needs besides its parameters.
_LAYERS: dict[str, tuple[type, tuple[str, ...]]] = {
    "Dense": (nn.Dense, ()),
    "Dropout": (nn.Dropout, ("rate",)),
    "ReLU": (nn.ReLU, ()),
    "Sigmoid": (nn.Sigmoid, ()),
    "Tanh": (nn.Tanh, ()),
    "Softmax": (nn.Softmax, ("axis",)),
    "Identity": (nn.Identity, ()),
    "Conv2d": (
        nn.Conv2d,
        ("in_channels", "out_channels", "kernel_size", "stride", "padding", "bias"),
    ),
    "MaxPool2d": (nn.MaxPool2d, ("kernel_size", "stride", "padding")),
    "AvgPool2d": (nn.AvgPool2d, ("kernel_size", "stride", "padding")),
    "Flatten": (nn.Flatten, ("start_dim", "end_dim")),
}
_DENSE_SETTINGS = (
    "weight_regularizer_l1",
    "weight_regularizer_l2",
    "bias_regularizer_l1",
    "bias_regularizer_l2",
)
_LOSSES = {
    cls.__name__: cls
    for cls in (
        nn.SoftmaxCrossEntropy,
        nn.CategoricalCrossentropy,
        nn.BinaryCrossentropy,
        nn.MeanSquaredError,
        nn.MeanAbsoluteError,
    )
}
_OPTIMIZERS = {cls.__name__: cls for cls in (optim.SGD, optim.Adagrad, optim.RMSprop, optim.Adam)}


def _default_accuracy(loss: Any) -> str:
    """The book's accuracy for a loss: categorical, binary, else regression."""
    if isinstance(loss, nn.SoftmaxCrossEntropy | nn.CategoricalCrossentropy):
        return "categorical"
    if isinstance(loss, nn.BinaryCrossentropy):
        return "binary"
    return "regression"


def _interactive() -> bool:
    """A terminal or a notebook: where a progress bar is wanted."""
    return sys.stderr.isatty() or "ipykernel" in sys.modules


class Model:
    """The book's Model: `add` layers, `set` the loss, optimizer and accuracy, `finalize`, `train`.

    Training runs `tinygrad_nnfs.train.fit` with the book's chapter-22 log (`epoch: N`,
    `step: ...` every `print_every` steps, `training, ...`, `validation, ...`). A Softmax
    output with categorical cross-entropy trains through the fused softmax cross-entropy,
    as the book's Model does, so the numbers are the book's code's.
    """

    def __init__(self) -> None:
        self.layers: list[nn.Module] = []
        self.loss: Any = None
        self.optimizer: Optimizer | None = None
        self.accuracy: str | Callable[[np.ndarray, np.ndarray], float] | None = None
        self.network: nn.Sequential | None = None
        self.output_layer_activation: nn.Module | None = None
        self.trainable_layers: list[nn.Module] = []
        self._precision: Any = None  # the regression accuracy's std(y_train) / 250

    def __repr__(self) -> str:
        layers = ", ".join(repr(layer).replace("\n", " ") for layer in self.layers)
        return f"Model([{layers}], loss={type(self.loss).__name__}, optimizer={self.optimizer!r})"

    # ---- building ----------------------------------------------------------------------------
    def add(self, layer: nn.Module) -> None:
        """Append a layer (any nn.Module: Dense, an activation, Dropout, your own)."""
        if not isinstance(layer, nn.Module):
            raise TypeError(
                f"Model.add: expected an nn.Module such as nn.Dense(2, 64) or nn.ReLU(), "
                f"got {type(layer).__name__}"
            )
        self.layers.append(layer)
        self.network = None  # finalize() again

    def set(
        self,
        *,
        loss: Any = None,
        optimizer: Optimizer | None = None,
        accuracy: str | Callable[[np.ndarray, np.ndarray], float] | None = None,
    ) -> None:
        """Set the loss, the optimizer (made without parameters) and the accuracy.

        `accuracy` is "categorical", "binary", "regression" or a function
        (outputs, targets) -> float; by default the loss's.
        """
        if loss is not None and not callable(loss):
            raise TypeError(f"Model.set: loss must be a loss such as nn.MeanSquaredError(), "
                            f"got {type(loss).__name__}")  # fmt: skip
        if optimizer is not None and not isinstance(optimizer, Optimizer):
            raise TypeError(
                f"Model.set: optimizer must be an optimizer such as optim.Adam(learning_rate="
                f"0.001), got {type(optimizer).__name__}"
            )
        if accuracy is not None and not (callable(accuracy) or accuracy in ACCURACIES):
            raise ValueError(
                f"Model.set: accuracy must be one of {', '.join(ACCURACIES)} or a function "
                f"(outputs, targets) -> float, got {accuracy!r}"
            )
        if loss is not None:
            self.loss = loss
        if optimizer is not None:
            self.optimizer = optimizer
        if accuracy is not None:
            self.accuracy = accuracy
        self.network = None

    def finalize(self) -> None:
        """Connect the layers and hand the optimizer the model's parameters."""
        if not self.layers:
            raise ValueError("Model.finalize: the model has no layers; add some with model.add")
        self.network = nn.Sequential(*self.layers)  # names parameters "0.weights", ...
        self.output_layer_activation = self.layers[-1]
        self.trainable_layers = [layer for layer in self.layers if layer.parameters()]
        if self.optimizer is not None:
            params = self.network.parameters()
            if not self.optimizer.params:
                self.optimizer._set_params(params)
            elif {id(p) for p in self.optimizer.params} != {id(p) for p in params}:
                raise ValueError(
                    "Model.finalize: the optimizer already holds other parameters; make it "
                    "without them (optim.Adam(learning_rate=...)) for Model.set"
                )

    # ---- training and inference ----------------------------------------------------------------
    def train(
        self,
        X: Any,
        y: Any,
        *,
        epochs: int = 1,
        batch_size: int | None = None,
        print_every: int = 1,
        validation_data: tuple[Any, Any] | None = None,
    ) -> dict[str, list[float]]:
        """Train as the book's Model.train does, with its log lines; return fit's history."""
        self._require("train", optimizer=True)
        X, y = _samples("Model.train", X, y)
        if self._precision is None:  # the book's Accuracy_Regression.init(y): once
            self._precision = np.std(y) / 250
        network, loss = self._training_pair()
        return fit(
            network,
            loss,
            self.optimizer,
            X,
            y,
            epochs=epochs,
            batch_size=batch_size,
            validation_data=validation_data,
            print_every=print_every,
            progress=_interactive(),
            accuracy=self._score(),
            log_format="steps",
        )

    def evaluate(
        self, X_val: Any, y_val: Any, *, batch_size: int | None = None
    ) -> tuple[float, float]:
        """Print the book's `validation, acc: ..., loss: ...` line; return (loss, accuracy)."""
        self._require("evaluate")
        X_val, y_val = _samples("Model.evaluate", X_val, y_val)
        if self._precision is None:
            self._precision = np.std(y_val) / 250
        network, loss = self._training_pair()
        loss_value, accuracy = _evaluate(network, loss, X_val, y_val, batch_size, self._score())
        print(_validation_line(accuracy, loss_value))
        return loss_value, accuracy

    def predict(self, X: Any, *, batch_size: int | None = None) -> np.ndarray:
        """The output layer's outputs for X (probabilities for a Softmax), batch by batch."""
        network = self._require("predict")
        X = _as_array(X)
        if X.ndim == 0 or len(X) == 0:
            raise ValueError(
                f"Model.predict: X of shape {X.shape} holds no samples; pass one row per sample"
            )
        _check_batch_size("Model.predict", batch_size)
        step = len(X) if batch_size is None else batch_size
        was_training = network.training
        network.eval()
        try:
            with no_grad():
                outputs = [network(X[i : i + step]).data for i in range(0, len(X), step)]
        finally:
            network.train(was_training)
        return np.vstack(outputs)

    def _require(self, where: str, *, optimizer: bool = False) -> nn.Sequential:
        if self.network is None:
            raise RuntimeError(f"Model.{where}: call model.finalize() first (after add and set)")
        if where != "predict" and self.loss is None:
            raise RuntimeError(f"Model.{where}: set a loss first: model.set(loss=...)")
        if optimizer and self.optimizer is None:
            raise RuntimeError(
                f"Model.{where}: set an optimizer first: model.set(optimizer=optim.Adam(...)), "
                f"then model.finalize()"
            )
        return self.network

    def _fused(self) -> bool:
        """A Softmax output with categorical cross-entropy: the book's combined backward."""
        return isinstance(self.layers[-1], nn.Softmax) and isinstance(
            self.loss, nn.CategoricalCrossentropy
        )

    def _training_pair(self) -> tuple[nn.Module, Any]:
        """The network and loss fit trains: fused, the logits and SoftmaxCrossEntropy."""
        if self._fused():
            return nn.Sequential(*self.layers[:-1]), nn.SoftmaxCrossEntropy()
        return self.network, self.loss

    def _score(self) -> _Score:
        """The book's Accuracy on the output layer's predictions."""
        if callable(self.accuracy):
            return _Score(accuracy=self.accuracy)
        kind = self.accuracy or _default_accuracy(self.loss)
        predictions = getattr(self.output_layer_activation, "predictions", np.asarray)
        fused, precision = self._fused(), self._precision

        def compare(outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
            predicted = predictions(outputs)
            if kind == "regression":
                return np.absolute(predicted - targets) < precision
            if kind == "categorical" and targets.ndim == 2:
                targets = np.argmax(targets, axis=1)
            return predicted == targets

        return _Score(compare, softmax=fused)  # fused: the book predicts from softmax's output

    # ---- parameters ----------------------------------------------------------------------------
    def get_parameters(self) -> list[tuple[np.ndarray, ...]]:
        """Per trainable layer, copies of its parameters (a Dense: (weights, biases))."""
        self._require("get_parameters")
        return [tuple(p.data.copy() for p in layer.parameters()) for layer in self.trainable_layers]

    def set_parameters(self, parameters: Sequence[Sequence[Any]]) -> None:
        """Copy get_parameters()'s arrays into the layers; all are checked before any is set."""
        self._require("set_parameters")
        state = self._state_from(parameters)
        self.network.load_state_dict(state)

    def _state_from(self, parameters: Sequence[Sequence[Any]]) -> dict[str, Any]:
        names = [name for name, _ in self.network.named_parameters()]
        flat = [array for layer_parameters in parameters for array in layer_parameters]
        if len(parameters) != len(self.trainable_layers) or len(flat) != len(names):
            raise ValueError(
                f"Model.set_parameters: expected parameters for {len(self.trainable_layers)} "
                f"trainable layers ({len(names)} arrays), got {len(parameters)} layers "
                f"({len(flat)} arrays); pass what get_parameters() returns"
            )
        return dict(zip(names, flat, strict=True))

    def save_parameters(self, path: str | os.PathLike[str]) -> None:
        """Write the parameters to an .npz file at `path` (as given; no pickle, atomic)."""
        self._require("save_parameters")
        write_npz(os.fspath(path), self.network.state_dict(), "Model.save_parameters")

    def load_parameters(self, path: str | os.PathLike[str]) -> None:
        """Load save_parameters()'s file; on any problem the model is left as it was."""
        self._require("load_parameters")
        path = os.fspath(path)
        state = read_npz(path, "Model.load_parameters", "write it with model.save_parameters")
        try:
            self.network.load_state_dict(state)
        except ValueError as error:
            raise ValueError(f"Model.load_parameters: {path!r}: {error}") from None

    # ---- the whole model -----------------------------------------------------------------------
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the whole model to one .npz at `path`: layers, loss, accuracy, optimizer.

        The architecture is JSON inside the archive (no pickle); Model.load rebuilds it.
        """
        self._require("save")
        if callable(self.accuracy):
            raise TypeError(
                "Model.save: a custom accuracy function cannot be saved; save the weights "
                "with model.save_parameters(path) and set the accuracy again after loading"
            )
        arrays: dict[str, Any] = {
            f"parameters/{name}": array for name, array in self.network.state_dict().items()
        }
        description: dict[str, Any] = {
            "format": _FORMAT,
            "version": 1,
            "layers": [_describe_layer(layer) for layer in self.layers],
            "loss": _describe_named(self.loss, _LOSSES, "loss"),
            "accuracy": self.accuracy,
            "precision": None if self._precision is None else float(self._precision),
            "optimizer": None,
        }
        if self.optimizer is not None:
            state = self.optimizer.state_dict()
            scalars = {k: v for k, v in state.items() if not isinstance(v, np.ndarray)}
            arrays.update(
                (f"optimizer/{k}", v) for k, v in state.items() if isinstance(v, np.ndarray)
            )
            description["optimizer"] = {
                "type": _describe_named(self.optimizer, _OPTIMIZERS, "optimizer"),
                "state": scalars,
            }
        arrays["model.json"] = np.array(json.dumps(description))
        write_npz(os.fspath(path), arrays, "Model.save")

    @staticmethod
    def load(path: str | os.PathLike[str]) -> Model:
        """A model written by save(): finalized, ready to evaluate, predict and train on."""
        path = os.fspath(path)
        arrays = read_npz(path, "Model.load", "write it with model.save(path)")
        try:
            description = json.loads(str(arrays["model.json"]))
            if description.get("format") != _FORMAT:
                raise KeyError("format")
            return _rebuild(description, arrays)
        except (KeyError, TypeError, ValueError, json.JSONDecodeError) as error:
            raise ValueError(
                f"Model.load: {path!r} is not a model written by Model.save ({error!r}); "
                f"for parameters alone use model.load_parameters"
            ) from None


def _describe_layer(layer: nn.Module) -> dict[str, Any]:
    name = type(layer).__name__
    if _LAYERS.get(name, (None,))[0] is not type(layer):
        raise TypeError(
            f"Model.save: cannot save the layer {layer!r}: Model.load rebuilds only "
            f"{', '.join(_LAYERS)}; save the weights with model.save_parameters(path) and "
            f"rebuild the model in code"
        )
    settings = {key: getattr(layer, key) for key in _LAYERS[name][1]}
    if isinstance(layer, nn.Dense):
        settings.update((key, getattr(layer, key)) for key in _DENSE_SETTINGS)
        settings["n_inputs"], settings["n_neurons"] = layer.weights.shape
        settings["dtype"] = str(layer.weights.dtype)
    if isinstance(layer, nn.Conv2d):
        settings["dtype"] = str(layer.weights.dtype)
    return {"type": name, **settings}


def _describe_named(value: Any, known: dict[str, type], what: str) -> str | None:
    if value is None:
        return None
    name = type(value).__name__
    if known.get(name) is not type(value):
        raise TypeError(
            f"Model.save: cannot save the {what} {name}: Model.load rebuilds only "
            f"{', '.join(known)}; save the weights with model.save_parameters(path)"
        )
    return name


def _rebuild(description: dict[str, Any], arrays: dict[str, np.ndarray]) -> Model:
    model = Model()
    for settings in description["layers"]:
        settings = dict(settings)
        cls = _LAYERS[settings.pop("type")][0]
        if cls is nn.Dense:  # its random draw comes from a private stream: weights follow
            n_inputs, n_neurons = settings.pop("n_inputs"), settings.pop("n_neurons")
            model.add(nn.Dense(n_inputs, n_neurons, rng=0, **settings))
        elif cls is nn.Conv2d:  # likewise
            model.add(nn.Conv2d(rng=0, **settings))
        else:
            model.add(cls(**settings))
    optimizer = description["optimizer"]
    model.set(
        loss=None if description["loss"] is None else _LOSSES[description["loss"]](),
        optimizer=None if optimizer is None else _OPTIMIZERS[optimizer["type"]](),
        accuracy=description["accuracy"],
    )
    model._precision = description["precision"]
    model.finalize()
    prefix = "parameters/"
    model.network.load_state_dict(
        {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
    )
    if optimizer is not None:
        prefix = "optimizer/"
        state = {k[len(prefix) :]: v for k, v in arrays.items() if k.startswith(prefix)}
        model.optimizer.load_state_dict({**optimizer["state"], **state})
    return model
