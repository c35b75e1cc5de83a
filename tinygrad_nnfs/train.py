"""fit and evaluate: the book's training loop, with logging, a progress bar and validation."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np
from tqdm.auto import tqdm

from tinygrad_nnfs import nn
from tinygrad_nnfs.datasets import train_val_split
from tinygrad_nnfs.optim import Optimizer
from tinygrad_nnfs.tensor import Tensor, no_grad
from tinygrad_nnfs.tensor import detect_anomaly as _detect_anomaly

__all__ = [
    "accuracy_for",
    "binary_accuracy",
    "categorical_accuracy",
    "evaluate",
    "fit",
    "regression_accuracy",
]

Accuracy = Callable[[np.ndarray, np.ndarray], float]
HISTORY_KEYS = ("epoch", "acc", "loss", "data_loss", "reg_loss", "lr", "val_acc", "val_loss")


def _array(values: Any) -> np.ndarray:
    return values.data if isinstance(values, Tensor) else np.asarray(values)


def categorical_accuracy(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of rows whose argmax is the label (one-hot labels are argmax-ed first)."""
    labels = np.argmax(targets, axis=1) if targets.ndim == 2 else targets
    return float(np.mean(np.argmax(outputs, axis=1) == labels))


def binary_accuracy(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of sigmoid outputs on the right side of 0.5."""
    return float(np.mean((outputs > 0.5) == targets))


def regression_accuracy(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of predictions within std(targets) / 250 of the target (the book's precision)."""
    return float(np.mean(np.abs(outputs - targets) < np.std(targets) / 250))


def accuracy_for(loss_fn: Any) -> Accuracy:
    """The book's accuracy for a loss: categorical, binary or regression."""
    if isinstance(loss_fn, nn.SoftmaxCrossEntropy | nn.CategoricalCrossentropy):
        return categorical_accuracy
    if isinstance(loss_fn, nn.BinaryCrossentropy):
        return binary_accuracy
    return regression_accuracy


def _samples(where: str, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """X and y as arrays of numbers with the same number of samples (at least one), all finite."""
    X, y = _array(X), _array(y)
    for name, values in (("X", X), ("y", y)):
        if values.dtype.kind not in "biuf":
            raise TypeError(
                f"{where}: {name} must hold numbers, got dtype {values.dtype}; pass an ndarray "
                f"with one row per sample"
            )
        if values.ndim == 0:
            raise ValueError(
                f"{where}: {name} must have one row per sample (axis 0), got a scalar {values}"
            )
        if values.dtype.kind == "f" and not np.isfinite(values).all():
            raise ValueError(
                f"{where}: {name} contains NaN or inf; clean the data (e.g. drop those rows)"
            )
    if len(X) != len(y):
        raise ValueError(
            f"{where}: X has {len(X)} samples but y has {len(y)}; pass one label per row"
        )
    if len(X) == 0:
        raise ValueError(f"{where}: X and y hold no samples; pass at least one")
    return X, y


def _check_batch_size(where: str, batch_size: Any) -> None:
    if batch_size is not None and (
        isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1
    ):
        raise ValueError(f"{where}: batch_size must be a positive int or None, got {batch_size!r}")


@contextlib.contextmanager
def _stop_after_step() -> Iterator[Callable[[], bool]]:
    """Hold the first Ctrl-C until the running step ends (a second one stops at once).

    Yields a function that tells whether Ctrl-C was pressed. Only the main thread can
    catch signals; elsewhere, and under a SIGINT handler not set from Python, nothing changes.
    """
    previous = signal.getsignal(signal.SIGINT)
    if threading.current_thread() is not threading.main_thread() or previous is None:
        yield lambda: False
        return
    pressed: list[int] = []

    def ask_to_stop(signum: int, frame: Any) -> None:
        if pressed:
            raise KeyboardInterrupt
        pressed.append(signum)

    signal.signal(signal.SIGINT, ask_to_stop)
    try:
        yield lambda: bool(pressed)
    finally:
        signal.signal(signal.SIGINT, previous)


def _batches(n_samples: int, batch_size: int | None) -> list[slice]:
    if batch_size is None or batch_size >= n_samples:
        return [slice(None)]
    return [slice(start, start + batch_size) for start in range(0, n_samples, batch_size)]


def evaluate(
    model: Any,
    loss_fn: Any,
    X: Any,
    y: Any,
    *,
    batch_size: int | None = None,
    accuracy: Accuracy | None = None,
) -> tuple[float, float]:
    """(data loss, accuracy) of model on (X, y), in eval mode and without recording a graph."""
    X, y = _samples("evaluate", X, y)
    _check_batch_size("evaluate", batch_size)
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    score = accuracy or accuracy_for(loss_fn)
    losses, hits, counts = [], [], []
    try:
        with no_grad():
            for batch in _batches(len(X), batch_size):
                outputs = model(Tensor(X[batch]))
                losses.append(loss_fn(outputs, y[batch]).item())
                hits.append(score(outputs.data, y[batch]))
                counts.append(len(y[batch]))
    finally:
        if was_training:
            model.train()
    return float(np.average(losses, weights=counts)), float(np.average(hits, weights=counts))


def fit(
    model: Any,
    loss_fn: Any,
    optimizer: Optimizer,
    X: Any,
    y: Any,
    *,
    epochs: int = 1,
    batch_size: int | None = None,
    validation_data: tuple[Any, Any] | None = None,
    validation_split: float | None = None,
    print_every: int = 100,
    progress: bool | None = None,
    log: Callable[[str], None] | None = None,
    accuracy: Accuracy | None = None,
    detect_anomaly: bool = False,
) -> dict[str, list[float]]:
    """Train `model` on (X, y) the book's way and return the history.

    Each epoch: forward, data loss + `nn.regularization_loss(model)`, backward, optimizer
    step (one per batch of `batch_size`, full batch when None). Every `print_every`
    epochs (and the last) it logs the book's line
    `epoch: N, acc: A, loss: L (data_loss: D, reg_loss: R), lr: LR`, plus validation
    accuracy and loss on `validation_data` or on a `validation_split` fraction held out
    of (X, y). `progress` shows a tqdm bar (default: for runs of 1,000+ epochs on a
    terminal). `accuracy(outputs, targets)` defaults to the book's for the loss
    (categorical, binary or regression). Ctrl-C stops after the current step (a second
    Ctrl-C at once) and returns the history of the epochs completed so far; the model and
    optimizer can go on training. `log` receives each line (default print). With
    `detect_anomaly=True` every step runs under `tinygrad_nnfs.detect_anomaly()`: the first
    op whose forward or backward gives NaN or inf raises FloatingPointError naming it
    (slower; use it to find where a loss turned NaN).
    """
    if not isinstance(model, nn.Module):
        raise TypeError(
            f"fit: model must be an nn.Module such as nn.Sequential(...), "
            f"got {type(model).__name__}"
        )
    if not isinstance(optimizer, Optimizer):
        raise TypeError(
            f"fit: optimizer must be an optim optimizer such as "
            f"optim.Adam(model.parameters()), got {type(optimizer).__name__}"
        )
    for name, function in (("loss_fn", loss_fn), ("log", log), ("accuracy", accuracy)):
        if not callable(function) and (name == "loss_fn" or function is not None):
            raise TypeError(
                f"fit: {name} must be callable, got {type(function).__name__} {function!r}"
            )
    X, y = _samples("fit", X, y)
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive int, got {epochs!r}")
    _check_batch_size("fit", batch_size)
    if isinstance(print_every, bool) or not isinstance(print_every, int) or print_every < 0:
        raise ValueError(
            f"fit: print_every must be an int >= 0 (0 logs nothing), got {print_every!r}"
        )
    if validation_data is not None:
        if not isinstance(validation_data, tuple | list) or len(validation_data) != 2:
            raise TypeError(
                f"fit: validation_data must be a pair (X_val, y_val), got "
                f"{type(validation_data).__name__}"
            )
        validation_data = _samples("fit: validation_data", *validation_data)
    if validation_split is not None:
        if validation_data is not None:
            raise ValueError("fit: pass validation_data or validation_split, not both")
        X, y, X_val, y_val = train_val_split(X, y, val_fraction=validation_split)
        validation_data = (X_val, y_val)
    if progress is None:
        progress = epochs >= 1000 and sys.stderr.isatty()
    log = log or print
    score = accuracy or accuracy_for(loss_fn)
    history: dict[str, list[float]] = {key: [] for key in HISTORY_KEYS}
    model.train()
    bar = tqdm(total=epochs, disable=not progress, unit="epoch", dynamic_ncols=True)
    if progress:
        log = bar.write
    anomaly_mode = _detect_anomaly() if detect_anomaly else contextlib.nullcontext()
    try:
        with anomaly_mode, _stop_after_step() as stop_requested:
            for epoch in range(epochs):
                totals = np.zeros(4)  # data loss, reg loss, accuracy, samples
                batches = _batches(len(X), batch_size)
                for index, batch in enumerate(batches):
                    inputs, targets = X[batch], y[batch]
                    outputs = model(Tensor(inputs))
                    data_loss = loss_fn(outputs, targets)
                    reg_loss = nn.regularization_loss(model)
                    loss = data_loss + reg_loss if reg_loss.requires_grad else data_loss
                    n = len(targets)
                    totals += (
                        data_loss.item() * n,
                        reg_loss.item() * n,
                        score(outputs.data, targets) * n,
                        n,
                    )
                    lr = optimizer.current_learning_rate  # before the step, as the book logs it
                    optimizer.zero_grad()
                    loss.backward()
                    optimizer.step()
                    if stop_requested() and index < len(batches) - 1:
                        raise KeyboardInterrupt  # mid-epoch: the partial epoch is not recorded
                data, reg, acc = totals[:3] / totals[3]
                record = {"epoch": epoch, "acc": acc, "loss": data + reg, "data_loss": data}
                record.update(reg_loss=reg, lr=lr)
                if validation_data is not None:
                    record["val_loss"], record["val_acc"] = evaluate(
                        model, loss_fn, *validation_data, batch_size=batch_size, accuracy=score
                    )
                for key, value in record.items():
                    history[key].append(value)
                if print_every and (epoch % print_every == 0 or epoch == epochs - 1):
                    log(_log_line(record))
                bar.update()
                if stop_requested():
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        log(f"interrupted at epoch {len(history['epoch'])}; returning the history so far")
    finally:
        bar.close()
    return history


def _log_line(record: dict[str, float]) -> str:
    """The book's log line, with validation figures appended when present."""
    line = (
        f"epoch: {record['epoch']}, acc: {record['acc']:.3f}, loss: {record['loss']:.3f} "
        f"(data_loss: {record['data_loss']:.3f}, reg_loss: {record['reg_loss']:.3f}), "
        f"lr: {record['lr']}"
    )
    if "val_loss" in record:
        line += f", val_acc: {record['val_acc']:.3f}, val_loss: {record['val_loss']:.3f}"
    return line
