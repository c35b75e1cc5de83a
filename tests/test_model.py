"""Model: the book's chapter 18-22 class, side by side with the book's own Model."""

from __future__ import annotations

import contextlib
import io

import book_chapters as book
import numpy as np
import pytest
from book_reference import nnfs_init_numpy
from book_reference import spiral_data as book_spiral_data
from numpy.testing import assert_array_equal

from tinygrad_nnfs import Model, datasets, manual_seed, nn, nnfs_init, optim, set_default_dtype

# Each network, ours and the book's, layer by layer; `stream` draws the book's weights.
OUR_NETWORKS = {
    "classifier": lambda: [
        nn.Dense(2, 32, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4),
        nn.ReLU(),
        nn.Dropout(0.1),
        nn.Dense(32, 3),
        nn.Softmax(),
    ],
    "binary": lambda: [nn.Dense(2, 16), nn.ReLU(), nn.Dense(16, 1), nn.Sigmoid()],
    "regression": lambda: [nn.Dense(1, 32), nn.ReLU(), nn.Dense(32, 1), nn.Identity()],
}
BOOK_NETWORKS = {
    "classifier": lambda stream: [
        book.Layer_Dense(2, 32, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4, rng=stream),
        book.Activation_ReLU(),
        book.Layer_Dropout(0.1, rng=stream),
        book.Layer_Dense(32, 3, rng=stream),
        book.Activation_Softmax(),
    ],
    "binary": lambda stream: [
        book.Layer_Dense(2, 16, rng=stream),
        book.Activation_ReLU(),
        book.Layer_Dense(16, 1, rng=stream),
        book.Activation_Sigmoid(),
    ],
    "regression": lambda stream: [
        book.Layer_Dense(1, 32, rng=stream),
        book.Activation_ReLU(),
        book.Layer_Dense(32, 1, rng=stream),
        book.Activation_Linear(),
    ],
}
SETTINGS = {  # loss, optimizer settings, accuracy: ours, then the book's
    "classifier": (
        (nn.CategoricalCrossentropy, "categorical"),
        (book.Loss_CategoricalCrossentropy, book.Accuracy_Categorical),
        {"learning_rate": 0.05, "decay": 5e-5},
    ),
    "binary": (
        (nn.BinaryCrossentropy, "binary"),
        (book.Loss_BinaryCrossentropy, lambda: book.Accuracy_Categorical(binary=True)),
        {"decay": 5e-7},
    ),
    "regression": (
        (nn.MeanSquaredError, "regression"),
        (book.Loss_MeanSquaredError, book.Accuracy_Regression),
        {"learning_rate": 0.005, "decay": 1e-3},
    ),
}


def _data(kind, spiral, sine):
    """Training and validation data of the book's generators, in program order."""
    if kind == "regression":
        X, y = sine(200)
        return X, y, X[3::7], y[3::7]
    classes = 3 if kind == "classifier" else 2
    X, y = spiral(60, classes)
    X_val, y_val = spiral(20, classes)
    if kind == "binary":
        return X, y.reshape(-1, 1), X_val, y_val.reshape(-1, 1)
    return X, y, X_val, y_val


def _book_model(kind, stream, log):
    (_, _), (loss, accuracy), settings = SETTINGS[kind]
    model = book.Model(log=log)
    for layer in BOOK_NETWORKS[kind](stream):
        model.add(layer)
    model.set(loss=loss(), optimizer=book.Optimizer_Adam(**settings), accuracy=accuracy())
    model.finalize()
    return model


def _our_model(kind):
    (loss, accuracy), _, settings = SETTINGS[kind]
    model = Model()
    for layer in OUR_NETWORKS[kind]():
        model.add(layer)
    model.set(loss=loss(), optimizer=optim.Adam(**settings), accuracy=accuracy)
    model.finalize()
    return model


def _run_ours(model, X, y, X_val, y_val, **options):
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        history = model.train(X, y, validation_data=(X_val, y_val), **options)
        model.evaluate(X_val, y_val)
    return printed.getvalue().splitlines(), history


TRAINING = [{"epochs": 12, "print_every": 5}, {"epochs": 3, "batch_size": 16, "print_every": 2}]


@pytest.mark.parametrize("options", TRAINING, ids=["full-batch", "mini-batches"])
@pytest.mark.parametrize("kind", sorted(OUR_NETWORKS))
def test_model_under_nnfs_init_prints_the_books_models_lines(kind, options):
    book_lines = []
    with nnfs_init_numpy():  # the book's Model in its float32 setting
        from nnfs.datasets import sine_data, spiral_data

        X, y, X_val, y_val = _data(kind, spiral_data, sine_data)
        theirs = _book_model(kind, np.random, book_lines.append)
        theirs.train(X, y, validation_data=(X_val, y_val), **options)
        theirs.evaluate(X_val, y_val)
        book_predictions = theirs.predict(X_val, batch_size=7)
    nnfs_init()
    ours_data = _data(kind, datasets.spiral_data, datasets.sine_data)
    ours = _our_model(kind)
    for mine, their in zip(ours_data, (X, y, X_val, y_val), strict=True):
        assert_array_equal(mine, their, strict=True)
    lines, history = _run_ours(ours, *ours_data, **options)
    assert lines == book_lines
    assert history["epoch"] == list(range(1, options["epochs"] + 1))
    predictions = ours.predict(X_val, batch_size=7)
    assert_array_equal(predictions, book_predictions, strict=True)
    assert_array_equal(
        ours.output_layer_activation.predictions(predictions),
        theirs.output_layer_activation.predictions(book_predictions),
    )
    for mine, (weights, biases) in zip(ours.get_parameters(), theirs.get_parameters(), strict=True):
        assert_array_equal(mine[0], weights, strict=True)
        assert_array_equal(mine[1], biases, strict=True)


@pytest.mark.parametrize("kind", sorted(OUR_NETWORKS))
def test_model_in_float64_prints_the_books_models_lines(kind):
    stream = np.random.RandomState(0)
    book_lines = []

    def sine(samples):
        X = np.arange(samples).reshape(-1, 1) / samples
        return X, np.sin(2 * np.pi * X).reshape(-1, 1)

    X, y, X_val, y_val = _data(kind, lambda n, c: book_spiral_data(n, c, stream), sine)
    theirs = _book_model(kind, stream, book_lines.append)
    theirs.train(X, y, validation_data=(X_val, y_val), **TRAINING[1])
    theirs.evaluate(X_val, y_val)
    set_default_dtype(np.float64)
    manual_seed(0)
    X, y, X_val, y_val = _data(kind, datasets.spiral_data, datasets.sine_data)
    ours = _our_model(kind)
    lines, _ = _run_ours(ours, X, y, X_val, y_val, **TRAINING[1])
    assert lines == book_lines


def _small_model(optimizer=None):
    model = Model()
    model.add(nn.Dense(2, 8))
    model.add(nn.ReLU())
    model.add(nn.Dense(8, 3))
    model.add(nn.Softmax())
    model.set(
        loss=nn.CategoricalCrossentropy(), optimizer=optimizer or optim.Adam(learning_rate=0.01)
    )
    model.finalize()
    return model


def test_model_hands_the_optimizer_its_parameters_at_finalize():
    optimizer = optim.SGD(learning_rate=0.5)
    model = _small_model(optimizer)
    assert optimizer.params == model.network.parameters()
    model.finalize()  # again: the same parameters are fine
    other = _small_model()
    with pytest.raises(ValueError, match="the optimizer already holds other parameters"):
        other.set(optimizer=optim.SGD(model.network.parameters()))
        other.finalize()


def test_model_parameters_get_and_set():
    model, twin = _small_model(), _small_model()
    parameters = model.get_parameters()
    assert [tuple(p.shape for p in layer) for layer in parameters] == [
        ((2, 8), (1, 8)),
        ((8, 3), (1, 3)),
    ]
    twin.set_parameters(parameters)
    for mine, theirs in zip(model.get_parameters(), twin.get_parameters(), strict=True):
        for a, b in zip(mine, theirs, strict=True):
            assert_array_equal(a, b)
    before = twin.get_parameters()
    with pytest.raises(ValueError, match="expected parameters for 2 trainable layers"):
        twin.set_parameters(parameters[:1])
    with pytest.raises(ValueError, match=r"key '2.weights' has shape \(3, 8\)"):
        twin.set_parameters([parameters[0], (parameters[1][0].T, parameters[1][1])])
    for mine, theirs in zip(before, twin.get_parameters(), strict=True):  # untouched
        assert_array_equal(mine[0], theirs[0])


def test_model_save_and_load_parameters_use_the_path_as_given(tmp_path):
    model, twin = _small_model(), _small_model()
    path = tmp_path / "spiral.parms"
    model.save_parameters(path)
    assert path.exists() and not (tmp_path / "spiral.parms.npz").exists()
    twin.load_parameters(path)
    assert_array_equal(twin.get_parameters()[1][0], model.get_parameters()[1][0])
    with pytest.raises(FileNotFoundError, match="no such file"):
        twin.load_parameters(tmp_path / "missing.parms")
    (tmp_path / "bad.parms").write_bytes(b"not an archive")
    with pytest.raises(ValueError, match=r"bad\.parms.* not a readable \.npz"):
        twin.load_parameters(tmp_path / "bad.parms")


def test_a_saved_model_loads_evaluates_predicts_and_goes_on_training(tmp_path):
    nnfs_init()
    X, y = datasets.spiral_data(40, 3)
    model = _small_model(optim.Adam(learning_rate=0.05, decay=1e-3))
    with contextlib.redirect_stdout(io.StringIO()):
        model.train(X, y, epochs=3, batch_size=32)
    path = tmp_path / "spiral.model"
    model.save(path)
    loaded = Model.load(path)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.optimizer.iterations == model.optimizer.iterations == 12
    assert_array_equal(loaded.predict(X), model.predict(X), strict=True)
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        assert loaded.evaluate(X, y) == model.evaluate(X, y)
        first, second = (m.train(X, y, epochs=2, batch_size=32) for m in (model, loaded))
    assert first == second  # the same Adam state: the same steps
    lines = printed.getvalue().splitlines()
    assert lines[0] == lines[1] and lines[0].startswith("validation, acc: ")


def test_model_save_refuses_what_load_cannot_rebuild(tmp_path):
    class Square(nn.Module):
        def forward(self, inputs):
            return inputs * inputs

    model = Model()
    model.add(nn.Dense(2, 3))
    model.add(Square())
    model.set(loss=nn.MeanSquaredError(), optimizer=optim.SGD())
    model.finalize()
    with pytest.raises(TypeError, match=r"cannot save the layer Square\(\).*save_parameters"):
        model.save(tmp_path / "m.model")
    assert not (tmp_path / "m.model").exists()


def test_model_load_names_files_that_are_not_models(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Model.load: no such file .*missing\.model"):
        Model.load(tmp_path / "missing.model")
    _small_model().save_parameters(tmp_path / "weights.npz")
    with pytest.raises(ValueError, match=r"weights\.npz' is not a model written by Model.save"):
        Model.load(tmp_path / "weights.npz")


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda m: m.add(np.zeros(3)), TypeError, "Model.add: expected an nn.Module"),
        (lambda m: m.set(accuracy="exact"), ValueError, "accuracy must be one of categorical"),
        (lambda m: m.set(optimizer="adam"), TypeError, "optimizer must be an optimizer"),
        (lambda m: m.finalize(), ValueError, "the model has no layers"),
        (lambda m: m.train([[0.0]], [0]), RuntimeError, r"call model.finalize\(\) first"),
        (lambda m: m.predict([[0.0]]), RuntimeError, r"call model.finalize\(\) first"),
        (lambda m: _small_model().predict([]), ValueError, r"predict: X of shape \(0,\) holds"),
        (lambda m: _small_model().predict([[0.0, 1]], batch_size=0), ValueError, "batch_size"),
    ],
)
def test_model_misuse_says_what_to_do(call, error, message):
    with pytest.raises(error, match=message):
        call(Model())


def test_model_without_optimizer_evaluates_but_does_not_train():
    model = Model()
    model.add(nn.Dense(2, 3))
    model.add(nn.Softmax())
    model.set(loss=nn.CategoricalCrossentropy())
    model.finalize()
    with contextlib.redirect_stdout(io.StringIO()):
        loss, accuracy = model.evaluate([[0.0, 1.0]], [1])
    assert loss == pytest.approx(np.log(3), rel=0.05) and accuracy in (0.0, 1.0)
    with pytest.raises(RuntimeError, match="set an optimizer first"):
        model.train([[0.0, 1.0]], [1])


def test_model_train_shows_a_progress_bar_in_a_terminal_or_notebook(monkeypatch, capsys):
    import tinygrad_nnfs.model as model_module

    model = _small_model()
    X, y = np.zeros((8, 2), np.float32), np.zeros(8, np.int64)
    monkeypatch.setattr(model_module, "_interactive", lambda: True)
    model.train(X, y, epochs=2, batch_size=4)
    shown = capsys.readouterr()
    assert "4/4" in shown.err  # two epochs of two steps, on stderr
    assert shown.out.count("training, acc: ") == 2  # the book's lines, above the bar
    monkeypatch.setattr(model_module, "_interactive", lambda: False)
    model.train(X, y, epochs=1)
    assert capsys.readouterr().err == ""
