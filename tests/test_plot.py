"""tinygrad_nnfs.plot: history curves and decision regions rendered to real PNG files."""

from __future__ import annotations

import importlib
import subprocess
import sys

import numpy as np
import pytest
from matplotlib.figure import Figure
from matplotlib.image import imread

from tinygrad_nnfs import datasets, manual_seed, nn, optim, plot
from tinygrad_nnfs.tensor import is_grad_enabled
from tinygrad_nnfs.train import fit

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def assert_png(path, height, width):
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 0
    assert imread(path).shape[:2] == (height, width)


def train(epochs=3, l2=0.0, **options):
    manual_seed(0)
    X, y = datasets.spiral_data(20, 3)
    model = nn.Sequential(nn.Dense(2, 8, weight_regularizer_l2=l2), nn.ReLU(), nn.Dense(8, 3))
    optimizer = optim.Adam(model.parameters(), learning_rate=0.05)
    history = fit(model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs=epochs, **options)
    return model, X, y, history


def labels(axes):
    return [line.get_label() for line in axes.get_lines()]


class Halves(nn.Module):
    """Class 1 left of x = 0, class 0 right of it; records its mode and grad state."""

    def forward(self, inputs):
        self.seen = (self.training, is_grad_enabled())
        return inputs @ np.array([[1.0, -1.0], [0.0, 0.0]], dtype=inputs.dtype)


class Sigmoid(nn.Module):
    """One sigmoid output: above 0.5 (class 1) exactly where x > 0."""

    def forward(self, inputs):
        return inputs[:, :1].sigmoid()


# ---- plot_history -------------------------------------------------------------------------------
def test_plot_history_draws_every_curve_fit_recorded(tmp_path):
    *_, history = train(l2=5e-4, validation_split=0.25, print_every=0)
    figure = plot.plot_history(history, tmp_path / "history.png")
    assert isinstance(figure, Figure)
    assert_png(tmp_path / "history.png", 360, 1200)
    loss, accuracy, lr = figure.axes
    assert labels(loss) == ["loss", "data_loss", "reg_loss", "val_loss"]
    assert labels(accuracy) == ["acc", "val_acc"]
    assert labels(lr) == ["lr"]
    np.testing.assert_array_equal(loss.get_lines()[3].get_ydata(), history["val_loss"])


def test_plot_history_leaves_out_what_fit_did_not_record(tmp_path):
    *_, history = train(print_every=0)
    loss, accuracy, _ = plot.plot_history(history).axes
    assert labels(loss) == ["loss"] and labels(accuracy) == ["acc"]
    assert list(tmp_path.iterdir()) == []  # no path: nothing saved


def test_plot_history_errors():
    with pytest.raises(TypeError, match="plot_history: expected the dict returned by fit"):
        plot.plot_history([1.0, 0.5])
    with pytest.raises(ValueError, match=r"no 'loss' values \(keys \['acc'\]\)"):
        plot.plot_history({"acc": [0.5]})
    with pytest.raises(ValueError, match=r"history\['acc'\] has 1 values for 2 epochs"):
        plot.plot_history({"loss": [1.0, 0.5], "acc": [0.5]})


# ---- plot_decision_regions ----------------------------------------------------------------------
def test_plot_decision_regions_renders_a_trained_spiral_model(tmp_path):
    model, X, y, _ = train(epochs=5, print_every=0)
    figure = plot.plot_decision_regions(model, X, y, tmp_path / "regions.png", resolution=50)
    assert_png(tmp_path / "regions.png", 600, 600)
    (axes,) = figure.axes
    assert axes.images[0].get_array().shape == (50, 50)
    assert set(np.unique(axes.images[0].get_array())) <= {0, 1, 2}
    np.testing.assert_array_equal(axes.collections[0].get_array(), y)
    assert model.training  # restored after the eval-mode pass


def test_plot_decision_regions_is_the_argmax_over_the_grid_in_eval_mode_without_grad():
    X = np.array([[-1.0, -1.0], [1.0, 1.0]])
    model = Halves()
    regions = plot.plot_decision_regions(model, X, [1, 0], resolution=4).axes[0].images[0]
    np.testing.assert_array_equal(regions.get_array(), [[1, 1, 0, 0]] * 4)
    assert model.seen == (False, False)
    assert model.training
    assert "accuracy 1.000" in regions.axes.get_title()


def test_plot_decision_regions_takes_a_numpy_int_resolution():
    axes = plot.plot_decision_regions(Halves(), np.eye(2), [0, 1], resolution=np.int64(3)).axes[0]
    assert axes.images[0].get_array().shape == (3, 3)


def test_plot_decision_regions_thresholds_one_sigmoid_output_at_half():
    X = np.array([[-1.0, 0.0], [1.0, 1.0], [0.5, -1.0]])
    y = np.array([[0.0], [1.0], [0.0]])  # binary targets (n, 1), as BinaryCrossentropy takes
    axes = plot.plot_decision_regions(Sigmoid(), X, y, resolution=2).axes[0]
    np.testing.assert_array_equal(axes.images[0].get_array(), [[0, 1], [0, 1]])
    assert "accuracy 0.667" in axes.get_title()


@pytest.mark.parametrize(
    ("X", "y", "options", "message"),
    [
        (np.zeros((4, 3)), [0] * 4, {}, r"X must have shape \(n_samples, 2\), got \(4, 3\)"),
        (
            np.zeros((4, 2)),
            [0] * 3,
            {},
            r"y must hold one label per sample \(4,\).*got shape \(3,\)",
        ),
        (np.zeros((2, 2)), [0, -1], {}, "y must hold class indices"),
        (np.zeros((2, 2)), [0, 1], {"resolution": 1}, "resolution must be an int >= 2, got 1"),
    ],
)
def test_plot_decision_regions_errors(X, y, options, message):
    with pytest.raises(ValueError, match=f"plot_decision_regions: {message}"):
        plot.plot_decision_regions(Halves(), X, y, **options)


def test_plot_decision_regions_needs_class_scores():
    class Flat(nn.Module):
        def forward(self, inputs):
            return inputs.sum(axis=1)

    with pytest.raises(ValueError, match=r"must return \(n_samples, n_classes\).*returned \(6,\)"):
        plot.plot_decision_regions(Flat(), np.zeros((2, 2)), [0, 1], resolution=2)


# ---- the optional dependency --------------------------------------------------------------------
def test_importing_the_package_does_not_import_plot_or_matplotlib():
    code = "import sys, tinygrad_nnfs; print(*(m in sys.modules for m in sys.argv[1:]))"
    modules = ["tinygrad_nnfs.plot", "matplotlib"]
    result = subprocess.run(
        [sys.executable, "-c", code, *modules], capture_output=True, text=True, check=True
    )
    assert result.stdout.split() == ["False", "False"]


def test_missing_matplotlib_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.delitem(sys.modules, "tinygrad_nnfs.plot")
    with pytest.raises(ImportError, match=r'pip install "tinygrad_nnfs\[plot\]"'):
        importlib.import_module("tinygrad_nnfs.plot")
    monkeypatch.undo()
    assert sys.modules["tinygrad_nnfs.plot"] is plot
