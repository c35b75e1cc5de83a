"""Figures of a fit() history and of a 2-D classifier's decision regions (the book's plots).

Needs matplotlib, the optional extra `plot`: `pip install "tinygrad_nnfs[plot]"`. Figures
are drawn on matplotlib's Agg canvas without pyplot, so no window opens and no global
state changes; each function returns the `matplotlib.figure.Figure` and saves it to `path`
(png, svg or pdf, from the suffix) when one is given.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tinygrad_nnfs._checks import is_int
from tinygrad_nnfs.tensor import Tensor, _as_array, get_default_dtype, no_grad

try:
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.colors import ListedColormap
    from matplotlib.figure import Figure
except ImportError as error:
    raise ImportError(
        f"tinygrad_nnfs.plot needs matplotlib ({error}); install it with the extra: "
        f'pip install "tinygrad_nnfs[plot]"'
    ) from error

__all__ = ["plot_decision_regions", "plot_history"]

# (panel title, the history keys drawn in it); a key with an empty list is skipped.
_PANELS = (
    ("loss", ("loss", "data_loss", "reg_loss", "val_loss")),
    ("accuracy", ("acc", "val_acc")),
    ("learning rate", ("lr",)),
)


def plot_history(
    history: Mapping[str, Sequence[float]], path: str | os.PathLike[str] | None = None
) -> Figure:
    """Loss, accuracy and learning-rate curves of a fit() history, side by side (1200x360 px).

    The loss panel adds data_loss and reg_loss when there is a penalty (reg_loss not all
    zero) and val_loss when fit() validated; the accuracy panel adds val_acc likewise.
    """
    if not isinstance(history, Mapping):
        raise TypeError(
            f"plot_history: expected the dict returned by fit(), got {type(history).__name__}"
        )
    if not len(history.get("loss", ())):
        raise ValueError(
            f"plot_history: the history has no 'loss' values (keys {sorted(history)}); "
            f"pass the dict returned by fit()"
        )
    epochs = np.asarray(history.get("epoch", range(len(history["loss"]))))
    penalised = np.any(np.asarray(history.get("reg_loss", ())) != 0)
    figure = _figure((12, 3.6))
    for axes, (title, keys) in zip(figure.subplots(1, len(_PANELS)), _PANELS, strict=True):
        for key in keys:
            values = history.get(key, ())
            if not len(values) or (key in ("data_loss", "reg_loss") and not penalised):
                continue
            if len(values) != len(epochs):
                raise ValueError(
                    f"plot_history: history[{key!r}] has {len(values)} values for "
                    f"{len(epochs)} epochs; pass the history fit() returned, unedited"
                )
            axes.plot(epochs, values, label=key, linestyle="--" if key.startswith("val") else "-")
        axes.set(title=title, xlabel="epoch")
        axes.legend(fontsize="small")
    return _finish(figure, path)


def plot_decision_regions(
    model: Any,
    X: Any,
    y: Any,
    path: str | os.PathLike[str] | None = None,
    resolution: int = 200,
) -> Figure:
    """The class a 2-D classifier picks over a grid around X, with the points colored by y.

    model(inputs (n, 2)) returns class scores (n, classes), whose argmax is the class, or
    sigmoid outputs (n, 1), thresholded at 0.5. It runs under no_grad() and, if it has
    eval(), in eval mode (training mode is restored). y holds labels (n,), one-hot rows
    (n, classes) or binary targets (n, 1). The grid has resolution x resolution points.
    """
    points = _as_array(X)
    if points.ndim != 2 or points.shape[1] != 2 or len(points) == 0:
        raise ValueError(
            f"plot_decision_regions: X must have shape (n_samples, 2), got {points.shape}; "
            f"decision regions are drawn for 2-D inputs only"
        )
    if not np.isfinite(points).all():
        raise ValueError(
            "plot_decision_regions: X contains NaN or inf; pass finite points (drop those rows)"
        )
    if not callable(model):
        raise TypeError(
            f"plot_decision_regions: model must be callable (a Module), got {type(model).__name__}"
        )
    labels = _labels(y, len(points))
    if not is_int(resolution) or resolution < 2:
        raise ValueError(
            f"plot_decision_regions: resolution must be an int >= 2, got {resolution!r}"
        )
    dtype = points.dtype if points.dtype.kind == "f" else get_default_dtype()
    low, high = points.min(axis=0), points.max(axis=0)
    margin = 0.1 * np.where(high > low, high - low, 1.0)
    xs, ys = np.linspace(low - margin, high + margin, resolution).T
    grid = np.stack(np.meshgrid(xs, ys), axis=-1).reshape(-1, 2).astype(dtype)
    regions, n_outputs = _predict(model, np.concatenate([grid, points.astype(dtype)]))
    accuracy = np.mean(regions[len(grid) :] == labels)
    n_classes = max(n_outputs, int(labels.max()) + 1)
    colors = ListedColormap(matplotlib.colormaps["brg"](np.linspace(0, 1, n_classes)))
    palette = {"cmap": colors, "vmin": -0.5, "vmax": n_classes - 0.5}  # class i -> color i
    figure = _figure((6, 6))
    axes = figure.subplots()
    axes.imshow(
        regions[: len(grid)].reshape(resolution, resolution),
        extent=(xs[0], xs[-1], ys[0], ys[-1]),
        origin="lower",
        aspect="auto",
        interpolation="nearest",
        alpha=0.3,
        **palette,
    )
    axes.scatter(*points.T, c=labels, s=12, edgecolors="k", linewidths=0.5, **palette)
    axes.set(title=f"decision regions (accuracy {accuracy:.3f} on the points shown)")
    return _finish(figure, path)


def _labels(y: Any, n_samples: int) -> np.ndarray:
    """Class indices (n,) from labels (n,), one-hot rows (n, classes) or binary targets (n, 1)."""
    labels = _as_array(y)
    if labels.ndim == 2:
        labels = labels[:, 0] if labels.shape[1] == 1 else labels.argmax(axis=1)
    if labels.shape != (n_samples,) or labels.dtype.kind not in "biuf":
        raise ValueError(
            f"plot_decision_regions: y must hold one label per sample ({n_samples},), one-hot "
            f"rows or binary targets ({n_samples}, 1); got shape {np.shape(y)}"
        )
    if labels.min() < 0 or np.any(labels != np.round(labels)):
        raise ValueError("plot_decision_regions: y must hold class indices 0, 1, ...")
    return labels.astype(int)


def _predict(model: Any, inputs: np.ndarray) -> tuple[np.ndarray, int]:
    """(the class of each row, the number of classes the model's outputs stand for)."""
    was_training = getattr(model, "training", False)
    if hasattr(model, "eval"):
        model.eval()
    try:
        with no_grad():
            outputs = model(Tensor(inputs))
    finally:
        if was_training:
            model.train()
    outputs = _as_array(outputs)
    if outputs.ndim != 2 or len(outputs) != len(inputs):
        raise ValueError(
            f"plot_decision_regions: the model must return (n_samples, n_classes) scores or "
            f"(n_samples, 1) sigmoid outputs; for inputs {inputs.shape} it returned "
            f"{outputs.shape}"
        )
    if outputs.shape[1] == 1:
        return (outputs[:, 0] > 0.5).astype(int), 2
    return outputs.argmax(axis=1), outputs.shape[1]


def _figure(size: tuple[float, float]) -> Figure:
    """A figure of `size` inches at 100 dpi on its own Agg canvas (no pyplot, no window)."""
    figure = Figure(figsize=size, dpi=100, layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def _finish(figure: Figure, path: str | os.PathLike[str] | None) -> Figure:
    """Save the figure to `path` when given (format from the suffix); return it."""
    if path is not None:
        figure.savefig(path)
    return figure
