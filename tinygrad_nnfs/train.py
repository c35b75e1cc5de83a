"""fit and evaluate: the book's training loop, with logging, a progress bar and validation."""

from __future__ import annotations

import contextlib
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from tinygrad_nnfs import nn
from tinygrad_nnfs._checks import is_int
from tinygrad_nnfs._tuning import tuned
from tinygrad_nnfs.datasets import train_val_split
from tinygrad_nnfs.optim import Optimizer
from tinygrad_nnfs.tensor import Tensor, _as_array, no_grad
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
Comparisons = Callable[[np.ndarray, np.ndarray], np.ndarray]
HISTORY_KEYS = ("epoch", "acc", "loss", "data_loss", "reg_loss", "lr", "val_acc", "val_loss")
LOG_FORMATS = ("epochs", "steps")


def _categorical_hits(outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    labels = np.argmax(targets, axis=1) if targets.ndim == 2 else targets
    return np.argmax(outputs, axis=1) == labels


def _binary_hits(outputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    return (outputs > 0.5) == targets


def categorical_accuracy(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of rows whose argmax is the label (one-hot labels are argmax-ed first)."""
    return float(np.mean(_categorical_hits(outputs, targets)))


def binary_accuracy(outputs: np.ndarray, targets: np.ndarray) -> float:
    """Fraction of sigmoid outputs on the right side of 0.5."""
    return float(np.mean(_binary_hits(outputs, targets)))


def regression_accuracy(
    outputs: np.ndarray, targets: np.ndarray, precision: float | None = None
) -> float:
    """Fraction of predictions within `precision` of the target (the book's, std(y) / 250).

    Without `precision` it is std(targets) / 250; fit and Model take it from the training
    targets once, as the book's Accuracy_Regression.init(y) does.
    """
    if precision is None:
        precision = np.std(targets) / 250
    return float(np.mean(np.abs(outputs - targets) < precision))


def accuracy_for(loss_fn: Any) -> Accuracy:
    """The book's accuracy for a loss: categorical, binary or regression."""
    if isinstance(loss_fn, nn.SoftmaxCrossEntropy | nn.CategoricalCrossentropy):
        return categorical_accuracy
    if isinstance(loss_fn, nn.BinaryCrossentropy):
        return binary_accuracy
    return regression_accuracy


class _Score:
    """Scores batches as the book's Accuracy classes do: the mean of per-sample comparisons,
    which it also counts over an epoch (its accumulated_sum); or a user's accuracy function.

    `softmax`: compare softmax(logits), for a model trained through SoftmaxCrossEntropy.
    NOTE: the book predicts from softmax's output, whose rounding can tie two classes that
    the logits order: argmax then takes the first, as it does in the book.
    """

    def __init__(
        self,
        compare: Comparisons | None = None,
        accuracy: Accuracy | None = None,
        *,
        softmax: bool = False,
    ):
        self.compare, self.accuracy, self.softmax = compare, accuracy, softmax

    @classmethod
    def for_loss(cls, loss_fn: Any, y_train: np.ndarray, accuracy: Any = None) -> _Score:
        """The user's `accuracy`, else the book's for the loss (regression: std(y_train)/250)."""
        if isinstance(accuracy, _Score):
            return accuracy
        chosen = accuracy or accuracy_for(loss_fn)
        if accuracy is None and isinstance(loss_fn, nn.SoftmaxCrossEntropy):
            return cls(_categorical_hits, softmax=True)
        if chosen is categorical_accuracy:
            return cls(_categorical_hits)
        if chosen is binary_accuracy:
            return cls(_binary_hits)
        if chosen is regression_accuracy:
            precision = np.std(y_train) / 250
            return cls(lambda outputs, targets: np.absolute(outputs - targets) < precision)
        return cls(accuracy=chosen)

    def __call__(
        self, outputs: np.ndarray, targets: np.ndarray, loss: Tensor | None = None
    ) -> tuple[float, Any, int]:
        """(the batch's accuracy, its hits, its count), hits summed as the book does; `loss`:
        the batch's SoftmaxCrossEntropy, whose softmax is reused."""
        if self.softmax:
            outputs = nn.SoftmaxCrossEntropy.probabilities(outputs, loss)
        if self.compare is None:
            fraction = float(self.accuracy(outputs, targets))
            return fraction, fraction * len(targets), len(targets)
        comparisons = self.compare(outputs, targets)
        return float(np.mean(comparisons)), np.sum(comparisons), comparisons.size


def _sample_loss_sum(loss_fn: Any, outputs: Tensor, targets: Any, value: Tensor) -> Any:
    """The batch's summed sample losses (the book's accumulated_sum), and a mean * n fallback
    for a loss without `sample_losses`."""
    if isinstance(loss_fn, nn.SoftmaxCrossEntropy):
        return np.sum(loss_fn.sample_losses(outputs, targets, value))
    if hasattr(loss_fn, "sample_losses"):
        return np.sum(loss_fn.sample_losses(outputs, targets))
    return value.item() * len(targets)


def _samples(where: str, X: Any, y: Any) -> tuple[np.ndarray, np.ndarray]:
    """X and y as arrays of numbers with the same number of samples (at least one), all finite."""
    X, y = _as_array(X), _as_array(y)
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
    if batch_size is not None and (not is_int(batch_size) or batch_size < 1):
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
    """(data loss, accuracy) of model on (X, y), in eval mode and without recording a graph.

    As the book's Model.evaluate: the sample losses and the correct predictions are summed
    over the batches and divided by the sample count.
    """
    X, y = _samples("evaluate", X, y)
    _check_batch_size("evaluate", batch_size)
    return _evaluate(model, loss_fn, X, y, batch_size, _Score.for_loss(loss_fn, y, accuracy))


def _evaluate(
    model: Any, loss_fn: Any, X: np.ndarray, y: np.ndarray, batch_size: int | None, score: _Score
) -> tuple[float, float]:
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    loss_sum = hits = count = 0  # the book's accumulated sums, in its dtypes
    try:
        with no_grad():
            for batch in _batches(len(X), batch_size):
                outputs = model(Tensor(X[batch]))
                value = loss_fn(outputs, y[batch])
                loss_sum += _sample_loss_sum(loss_fn, outputs, y[batch], value)
                _, batch_hits, batch_count = score(outputs.data, y[batch], value)
                hits += batch_hits
                count += batch_count
    finally:
        if was_training:
            model.train()
    return float(loss_sum / len(X)), float(hits / count)


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
    log_format: str | None = None,
) -> dict[str, list[float]]:
    """Train `model` on (X, y) the book's way and return the history.

    Each step: forward, data loss + `nn.regularization_loss(model)`, backward, optimizer
    step (one per batch of `batch_size`, full batch when None). Two logs, the book's:
    - "epochs" (chapters 10-17; the default for full-batch training): every `print_every`
      epochs (and the last) `epoch: N, acc: A, loss: L (data_loss: D, reg_loss: R), lr: LR`,
      epochs counted from 0, with validation accuracy and loss appended.
    - "steps" (the book's Model, chapters 18-22; the default with mini-batches): per epoch
      `epoch: N` (from 1), a `step: S, ...` line every `print_every` steps and the last,
      `training, acc: ...` (sample losses and hits summed over the epoch, the penalty of
      the updated weights) and `validation, acc: ..., loss: ...`.
    Validation runs on `validation_data` or on a `validation_split` fraction held out of
    (X, y). `progress` shows a tqdm bar (default: for runs of 1,000+ epochs or steps on a
    terminal). `accuracy(outputs, targets)` defaults to the book's for the loss
    (categorical, binary or regression, whose precision comes from the training targets).
    Ctrl-C stops after the current step (a second Ctrl-C at once) and returns the history of
    the epochs completed so far; the model and optimizer can go on training. `log`
    receives each line (default print; 0 for print_every logs nothing). With
    `detect_anomaly=True` every step runs under `tinygrad_nnfs.detect_anomaly()`: the first
    op whose forward or backward gives NaN or inf raises FloatingPointError naming it.
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
    if not is_int(epochs) or epochs < 1:
        raise ValueError(f"fit: epochs must be a positive int, got {epochs!r}")
    _check_batch_size("fit", batch_size)
    if not is_int(print_every) or print_every < 0:
        raise ValueError(
            f"fit: print_every must be an int >= 0 (0 logs nothing), got {print_every!r}"
        )
    if log_format is not None and log_format not in LOG_FORMATS:
        raise ValueError(f"fit: log_format must be 'epochs', 'steps' or None, got {log_format!r}")
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
    batches = _batches(len(X), batch_size)
    steps = (log_format or ("steps" if len(batches) > 1 else "epochs")) == "steps"
    run = _Run(model, loss_fn, optimizer, _Score.for_loss(loss_fn, y, accuracy), steps=steps)
    total = epochs * len(batches) if steps else epochs
    if progress is None:
        progress = total >= 1000 and sys.stderr.isatty()
    bar = _progress_bar(total, "step" if steps else "epoch") if progress else _NO_BAR
    log = bar.write if progress else (log or print)
    say = log if print_every else _silent
    history: dict[str, list[float]] = {key: [] for key in HISTORY_KEYS}
    model.train()
    anomaly_mode = _detect_anomaly() if detect_anomaly else contextlib.nullcontext()
    try:
        with tuned(), anomaly_mode, _stop_after_step() as stop_requested:
            for epoch in range(epochs):
                if steps:
                    say(f"epoch: {epoch + 1}")
                tally = _Tally()
                for step, batch in enumerate(batches):
                    report = run.step(X[batch], y[batch], tally)
                    if steps:
                        bar.update()
                        if print_every and (step % print_every == 0 or step == len(batches) - 1):
                            say(_line(f"step: {step}", report))
                    if stop_requested() and step < len(batches) - 1:
                        raise KeyboardInterrupt  # mid-epoch: the partial epoch is not recorded
                record = run.epoch_record(tally, epoch + 1 if steps else epoch)
                if validation_data is not None:
                    record["val_loss"], record["val_acc"] = _evaluate(
                        model, loss_fn, *validation_data, batch_size, run.score
                    )
                for key, value in record.items():
                    history[key].append(value)
                if steps:
                    say(_line("training", record))
                    if validation_data is not None:
                        say(_validation_line(record["val_acc"], record["val_loss"]))
                else:
                    bar.update()
                    if print_every and (epoch % print_every == 0 or epoch == epochs - 1):
                        say(_epoch_line(record))
                if stop_requested():
                    raise KeyboardInterrupt
    except KeyboardInterrupt:
        log(f"interrupted at epoch {len(history['epoch'])}; returning the history so far")
    finally:
        bar.close()
    return history


def _silent(line: str) -> None:
    """The log of print_every=0."""


class _NoBar:
    """What fit calls on a progress bar, doing nothing: the run shows none."""

    def update(self) -> None:
        """Nothing to advance."""

    def close(self) -> None:
        """Nothing to close."""


_NO_BAR = _NoBar()


def _progress_bar(total: int, unit: str) -> Any:
    """A tqdm bar (a widget in a notebook); tqdm is imported only when a bar is shown."""
    from tqdm.auto import tqdm

    return tqdm(total=total, unit=unit)


class _Tally:
    """The book's accumulated sums over an epoch's steps, and the per-step figures."""

    def __init__(self) -> None:
        self.loss_sum: Any = 0  # the book's `accumulated_sum = 0`, summed in its dtypes
        self.hits: Any = 0
        self.count = 0
        self.steps: list[dict[str, Any]] = []


class _Run:
    """One training run's step: the book's order of forward, losses, accuracy and update."""

    def __init__(
        self, model: Any, loss_fn: Any, optimizer: Optimizer, score: _Score, *, steps: bool
    ) -> None:
        self.model, self.loss_fn, self.optimizer, self.score = model, loss_fn, optimizer, score
        self.steps = steps  # the book's Model: sum the sample losses over the epoch

    def step(self, inputs: np.ndarray, targets: np.ndarray, tally: _Tally) -> dict[str, Any]:
        """Train on one batch; return its figures (lr: the rate this step used)."""
        outputs = self.model(Tensor(inputs))
        data_loss = self.loss_fn(outputs, targets)
        reg_loss = nn.regularization_loss(self.model)
        loss = data_loss + reg_loss if reg_loss.requires_grad else data_loss
        acc, hits, count = self.score(outputs.data, targets, data_loss)
        if self.steps:
            tally.loss_sum += _sample_loss_sum(self.loss_fn, outputs, targets, data_loss)
        tally.hits += hits
        tally.count += count
        lr = self.optimizer.current_learning_rate  # before the step: the book's ch. 10-17 log
        self.optimizer.zero_grad()
        loss.backward()
        self.optimizer.step()
        report = {"acc": acc, "loss": loss.item(), "data_loss": data_loss.item()}
        report.update(reg_loss=reg_loss.item(), lr=lr, n=len(targets))
        tally.steps.append(report)
        return report | {"lr": self.optimizer.current_learning_rate}  # the rate it used

    def epoch_record(self, tally: _Tally, epoch: int) -> dict[str, Any]:
        """The epoch's figures: the book's Model's accumulated ones, or the ch. 10-17 step's."""
        if self.steps:  # Loss.calculate_accumulated: the penalty of the weights after the epoch
            data = tally.loss_sum / sum(step["n"] for step in tally.steps)
            with no_grad():
                reg = nn.regularization_loss(self.model).data[()]
            return {
                "epoch": epoch,
                "acc": float(tally.hits / tally.count),
                "loss": float(data + reg),
                "data_loss": float(data),
                "reg_loss": float(reg),
                "lr": self.optimizer.current_learning_rate,
            }
        if len(tally.steps) == 1:  # full batch, the book's ch. 10-17 loop: the step's figures
            record = dict(tally.steps[0])
            del record["n"]
            return {"epoch": epoch, **record}
        n = sum(step["n"] for step in tally.steps)
        means = {
            key: sum(step[key] * step["n"] for step in tally.steps) / n
            for key in ("acc", "data_loss", "reg_loss")
        }
        means["loss"] = means["data_loss"] + means["reg_loss"]
        return {"epoch": epoch, **means, "lr": tally.steps[-1]["lr"]}


def _line(head: str, record: dict[str, Any]) -> str:
    """The book's Model line: `step: S, ...` or `training, ...`."""
    return (
        f"{head}, acc: {record['acc']:.3f}, loss: {record['loss']:.3f} "
        f"(data_loss: {record['data_loss']:.3f}, reg_loss: {record['reg_loss']:.3f}), "
        f"lr: {record['lr']}"
    )


def _validation_line(accuracy: float, loss: float) -> str:
    return f"validation, acc: {accuracy:.3f}, loss: {loss:.3f}"


def _epoch_line(record: dict[str, float]) -> str:
    """The book's chapters 10-17 line, with validation figures appended when present."""
    line = _line(f"epoch: {record['epoch']}", record)
    if "val_loss" in record:
        line += f", val_acc: {record['val_acc']:.3f}, val_loss: {record['val_loss']:.3f}"
    return line
