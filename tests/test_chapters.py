"""examples/chapters/chNN.py, each run side by side with the book's code of its chapter.

Each chapter script's main() runs on shrunken settings (few epochs, small data) next to the
book's program on the same settings: tests/book_reference.py (ch. 10-14) and
tests/book_chapters.py (ch. 15-22). float32 is the book's setting: the book's code under
the real nnfs.init() (book_reference.nnfs_init_numpy(), the nnfs package's generators,
np.random as the stream) against the script under nnfs_init(). float64 is the book's code
without nnfs.init()'s patches, drawing from np.random.RandomState(0), against the script's
dtype="float64" (nnfs_init(default_dtype="float64", dot_precision_workaround=False): the
library stream is NumPy's global one, seeded with 0, and matmuls are native float64).
Asserted: the printed lines at the book's epochs, every per-epoch value both have (==),
the validation figures, the final weights (assert_array_equal) and, for ch. 22, the
predictions. Chapters 12 and 13 have no program in the book: tests/test_examples.py runs them.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import re
from pathlib import Path

import book_chapters as book
import book_reference as ref
import numpy as np
import pytest
from nnfs.datasets import sine_data
from numpy.testing import assert_array_equal
from PIL import Image

CHAPTERS = Path(__file__).resolve().parent.parent / "examples" / "chapters"
DTYPES = ["float32", "float64"]


@pytest.fixture(scope="module", autouse=True)
def _chapters_importable():
    """The scripts import their neighbours (_fashion, ch21), as when run from their folder."""
    with pytest.MonkeyPatch.context() as patch:
        patch.syspath_prepend(str(CHAPTERS))
        yield


@contextlib.contextmanager
def book_setting(dtype):
    """(stream, spiral_data(samples, classes)) of the book's code in `dtype`'s setting."""
    if dtype == "float32":
        with ref.nnfs_init_numpy():
            from nnfs.datasets import spiral_data

            yield np.random, spiral_data
    else:
        stream = np.random.RandomState(0)
        yield stream, lambda samples, classes: ref.spiral_data(samples, classes, stream)


def run_script(name, **options):
    """(the lines examples/chapters/<name>.py's main() printed, what it returned)."""
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        result = importlib.import_module(name).main(**options)
    return printed.getvalue().splitlines(), result


def epoch_of(line):
    match = re.match(r"epoch: (\d+),", line)
    return None if match is None else int(match[1])


def book_line(epoch, h, *, penalties=True):
    """The chapter 10-17 line (penalties: the ch. 14-17 form) of one epoch's values."""
    middle = f" (data_loss: {h['data_loss']:.3f}, reg_loss: {h['reg_loss']:.3f})"
    return (
        f"epoch: {epoch}, acc: {h['acc']:.3f}, loss: {h['loss']:.3f}"
        + (middle if penalties else "")
        + f", lr: {h['lr']}"
    )


def assert_same_weights(ours, theirs):
    for mine, (weights, biases) in zip(ours, theirs, strict=True):
        assert_array_equal(mine[0], weights, strict=True)
        assert_array_equal(mine[1], biases, strict=True)


def dense_parameters(layers):
    """[(weights, biases)] of the Dense layers of a list or nn.Sequential."""
    return [tuple(p.data for p in layer.parameters()) for layer in layers if layer.parameters()]


def assert_same_fit(lines, history, book_lines, book_history, epochs, *, fit=True, penalties=True):
    """Printed lines and per-epoch values of a chapter 10-17 run against the book's.

    The book prints every 100th epoch; `fit` also prints the last one: that line must be
    the book's line of the book's values at that epoch.
    """
    last = epochs - 1
    if fit and last % 100:
        assert [line for line in lines if epoch_of(line) == last] == [
            book_line(last, book_history[last], penalties=penalties)
        ]
        lines = [line for line in lines if epoch_of(line) != last]
    assert lines == book_lines
    assert len(book_history) == epochs
    shared = book_history[0].keys() & history.keys()  # ch. 10 and 11 keep no data/reg loss
    assert shared >= {"loss", "acc", "lr"}
    for key in shared:
        assert history[key] == [h[key] for h in book_history], f"{key} differs from the book's"
    if "epoch" in history:
        assert history["epoch"] == list(range(epochs))


# ---- chapters 10, 11 and 14: the book's hand-written network (book_reference) -----------------


def book_spiral_program(X, y, stream, spiral, epochs, *, l2, learning_rate, penalties):
    """Ch10/11/14_Final.py: train, print every 100 epochs, validate on new spiral data."""
    optimizer = book.Optimizer_Adam(learning_rate=learning_rate, decay=5e-7)
    log, history = [], []
    for record in ref.train_book_network(X, y, stream, optimizer, epochs, l2=l2):
        epoch, loss, accuracy, lr, dense1, dense2, data_loss, reg_loss = record
        h = {"loss": loss, "data_loss": data_loss, "reg_loss": reg_loss, "acc": accuracy, "lr": lr}
        history.append({key: float(value) for key, value in h.items()})
        if not epoch % 100:
            log.append(book_line(epoch, h, penalties=penalties))
    X_test, y_test = spiral(100, 3)  # the book's validation pass, after training
    activation1 = ref.Activation_ReLU()
    loss_activation = ref.Activation_Softmax_Loss_CategoricalCrossentropy()
    dense1.forward(X_test)
    activation1.forward(dense1.output)
    dense2.forward(activation1.output)
    loss = loss_activation.forward(dense2.output, y_test)
    accuracy = np.mean(np.argmax(loss_activation.output, axis=1) == y_test)
    log.append(f"validation, acc: {accuracy:.3f}, loss: {loss:.3f}")
    validation = {"acc": float(accuracy), "loss": float(loss)}
    return (
        log,
        history,
        [(dense1.weights, dense1.biases), (dense2.weights, dense2.biases)],
        validation,
    )


SPIRAL_CHAPTERS = {  # chapter: (L2 on dense1, Adam's learning rate, the ch. 14 line)
    "ch10": (0.0, 0.05, False),
    "ch11": (0.0, 0.05, False),
    "ch14": (5e-4, 0.02, True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chapter", sorted(SPIRAL_CHAPTERS))
def test_spiral_chapter_is_the_books_program(chapter, dtype):
    l2, learning_rate, penalties = SPIRAL_CHAPTERS[chapter]
    epochs = 251
    with book_setting(dtype) as (stream, spiral):
        X, y = spiral(100, 3)
        book_log, book_history, book_weights, book_validation = book_spiral_program(
            X, y, stream, spiral, epochs, l2=l2, learning_rate=learning_rate, penalties=penalties
        )
    lines, (history, layers, *validation) = run_script(chapter, epochs=epochs, dtype=dtype)
    if chapter == "ch10":  # Ch10_Final.py has no validation pass
        book_log, book_validation = book_log[:-1], None
    assert_same_fit(
        lines, history, book_log, book_history, epochs, fit=chapter == "ch14", penalties=penalties
    )
    assert (validation[0] if validation else None) == book_validation
    assert_same_weights(dense_parameters(layers), book_weights)


# ---- chapters 15-17: the book's final scripts (book_chapters.run_ch15/16/17) -------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_ch15_is_the_books_program(dtype):
    epochs = 151
    with book_setting(dtype) as (stream, spiral):
        X, y = spiral(100, 3)
        run = book.run_ch15(X, y, stream, epochs=epochs, test_data=lambda: spiral(50, 3))
    options = {"epochs": epochs, "samples": 100, "test_samples": 50, "dtype": dtype}
    lines, (history, model, validation) = run_script("ch15", **options)
    assert_same_fit(lines, history, run.log, run.history, epochs)
    assert validation == run.validation
    assert_same_weights(dense_parameters(model), [(d.weights, d.biases) for d in run.layers])


@pytest.mark.parametrize("dtype", DTYPES)
def test_ch16_is_the_books_program(dtype):
    epochs = 251
    with book_setting(dtype) as (stream, spiral):
        X, y = spiral(100, 2)
        run = book.run_ch16(X, y, stream, epochs=epochs, test_data=lambda: spiral(100, 2))
    lines, (history, model, validation) = run_script("ch16", epochs=epochs, dtype=dtype)
    assert_same_fit(lines, history, run.log, run.history, epochs)
    assert validation == run.validation
    assert_same_weights(dense_parameters(model), [(d.weights, d.biases) for d in run.layers])


@pytest.mark.parametrize("dtype", DTYPES)
def test_ch17_is_the_books_program(dtype, tmp_path):
    epochs = 151
    with book_setting(dtype) as (stream, _):
        X, y = sine_data(200)
        run = book.run_ch17(X, y, stream, epochs=epochs)
        layers = run.layers
        outputs = X  # the book's plotted outputs: its forward pass on sine_data() again
        for index, layer in enumerate(layers):
            layer.forward(outputs, training=False)
            outputs = np.maximum(0, layer.output) if index < 2 else layer.output
    plot = tmp_path / "sine.png"
    options = {"epochs": epochs, "samples": 200, "plot": str(plot), "dtype": dtype}
    lines, (history, model, predictions) = run_script("ch17", **options)
    assert lines[-1] == f"wrote {plot}: the sine and the model's output" and plot.stat().st_size
    assert_same_fit(lines[:-1], history, run.log, run.history, epochs)
    assert_same_weights(dense_parameters(model), [(d.weights, d.biases) for d in layers])
    assert_array_equal(predictions, outputs, strict=True)


# ---- chapter 18: the book's Model (book_chapters.Model) ----------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
def test_ch18_is_the_books_program(dtype):
    epochs, neurons = 3, 32
    lines = []
    with book_setting(dtype) as (stream, spiral):
        X, y = spiral(100, 3)
        X_test, y_test = spiral(30, 3)
        model = book.Model(log=lines.append)
        model.add(
            book.Layer_Dense(
                2, neurons, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4, rng=stream
            )
        )
        model.add(book.Activation_ReLU())
        model.add(book.Layer_Dropout(0.1, rng=stream))
        model.add(book.Layer_Dense(neurons, 3, rng=stream))
        model.add(book.Activation_Softmax())
        model.set(
            loss=book.Loss_CategoricalCrossentropy(),
            optimizer=book.Optimizer_Adam(learning_rate=0.05, decay=5e-5),
            accuracy=book.Accuracy_Categorical(),
        )
        model.finalize()
        model.train(X, y, validation_data=(X_test, y_test), epochs=epochs, print_every=100)
    options = {"epochs": epochs, "samples": 100, "test_samples": 30, "neurons": neurons}
    ours, (history, our_model) = run_script("ch18", dtype=dtype, **options)
    assert ours == lines and len(lines) == 4 * epochs
    assert history["epoch"] == list(range(1, epochs + 1))
    assert_same_weights(our_model.get_parameters(), model.get_parameters())


# ---- chapters 19-22: Fashion-MNIST, on a small generated folder in the book's layout -----------


@pytest.fixture(scope="module")
def fashion_folder(tmp_path_factory):
    """10 classes x (30 training + 5 test) 28x28 pngs in the book's layout."""
    import _fashion

    folder = tmp_path_factory.mktemp("fashion") / "fashion_mnist_images"
    _fashion.write_stand_in(str(folder), train=30, test=5)
    return str(folder)


# Ch22_Final.py's label index to label name relation
fashion_mnist_labels = {
    0: "T-shirt/top",
    1: "Trouser",
    2: "Pullover",
    3: "Dress",
    4: "Coat",
    5: "Sandal",
    6: "Shirt",
    7: "Sneaker",
    8: "Bag",
    9: "Ankle boot",
}


def load_mnist_dataset(dataset, path):
    """The book's load_mnist_dataset (Ch19_Final.py). Deviations: os.listdir sorted (the
    book's order is the file system's; sorted, both programs read the same order), and
    Pillow for cv2.imread(..., cv2.IMREAD_UNCHANGED): the same uint8 values of these 8-bit
    grayscale pngs."""
    labels = sorted(os.listdir(os.path.join(path, dataset)))
    X = []
    y = []
    for label in labels:
        for file in sorted(os.listdir(os.path.join(path, dataset, label))):
            with Image.open(os.path.join(path, dataset, label, file)) as image:
                X.append(np.asarray(image))
            y.append(label)
    return np.array(X), np.array(y).astype("uint8")


def create_data_mnist(path):
    """The book's create_data_mnist (Ch19_Final.py)."""
    X, y = load_mnist_dataset("train", path)
    X_test, y_test = load_mnist_dataset("test", path)
    return X, y, X_test, y_test


def book_fashion_model(n_inputs, stream, log, *, optimizer=True):
    model = book.Model(log=log)
    model.add(book.Layer_Dense(n_inputs, 128, rng=stream))
    model.add(book.Activation_ReLU())
    model.add(book.Layer_Dense(128, 128, rng=stream))
    model.add(book.Activation_ReLU())
    model.add(book.Layer_Dense(128, 10, rng=stream))
    model.add(book.Activation_Softmax())
    model.set(
        loss=book.Loss_CategoricalCrossentropy(),
        optimizer=book.Optimizer_Adam(decay=1e-3) if optimizer else None,
        accuracy=book.Accuracy_Categorical(),
    )
    model.finalize()
    return model


def book_fashion_program(chapter, path, stream, epochs, log, files=None):
    """Ch19_Final.py, and the additions of chapters 20 (evaluate) and 21 (save and load the
    parameters and the model, in `files`' folder); returns the final model."""
    X, y, X_test, y_test = create_data_mnist(path)
    keys = np.array(range(X.shape[0]))
    stream.shuffle(keys)  # the book: np.random.shuffle(keys)
    X = X[keys]
    y = y[keys]
    X = (X.reshape(X.shape[0], -1).astype(np.float32) - 127.5) / 127.5
    X_test = (X_test.reshape(X_test.shape[0], -1).astype(np.float32) - 127.5) / 127.5
    model = book_fashion_model(X.shape[1], stream, log)
    model.train(
        X, y, validation_data=(X_test, y_test), epochs=epochs, batch_size=128, print_every=100
    )
    if chapter >= 20:
        model.evaluate(X_test, y_test)
    if chapter >= 21:
        model.save_parameters(files / "fashion_mnist.parms")
        model = book_fashion_model(X.shape[1], stream, log, optimizer=False)
        model.load_parameters(files / "fashion_mnist.parms")
        model.evaluate(X_test, y_test)
        model.save(files / "fashion_mnist.model")
        model = book.Model.load(files / "fashion_mnist.model")
        model.log = log  # the pickled log is a copy of the list's append: print again to ours
        model.evaluate(X_test, y_test)
    return model


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chapter", [19, 20, 21])
def test_fashion_chapter_is_the_books_program(chapter, dtype, fashion_folder, tmp_path):
    epochs = 2
    book_lines = []
    with book_setting(dtype) as (stream, _):
        theirs = book_fashion_program(
            chapter, fashion_folder, stream, epochs, book_lines.append, tmp_path
        )
    options = {"epochs": epochs, "path": fashion_folder, "dtype": dtype}
    if chapter == 21:
        options["parameters_path"] = str(tmp_path / "ours.parms")
        options["model_path"] = str(tmp_path / "ours.model")
    lines, (history, model) = run_script(f"ch{chapter}", **options)
    assert lines == book_lines
    per_epoch = 5  # epoch: N, step: 0, step: 2 (of 3 batches of 128), training, validation
    assert len(lines) == epochs * per_epoch + {19: 0, 20: 1, 21: 3}[chapter]
    assert history["epoch"] == list(range(1, epochs + 1))
    assert_same_weights(model.get_parameters(), theirs.get_parameters())


@pytest.mark.parametrize("dtype", DTYPES)
def test_ch22_is_the_books_program(dtype, fashion_folder, tmp_path, capsys):
    import _fashion

    images = _fashion.photos(fashion_folder, {0: "tshirt.png", 1: "pants.png"})
    capsys.readouterr()
    epochs = 2
    book_lines, book_results = [], []
    with book_setting(dtype) as (stream, _):
        book_fashion_program(21, fashion_folder, stream, epochs, book_lines.append, tmp_path)
        for file in images:  # Ch22_Final.py, for each photo
            # Deviation: Pillow for cv2.imread(file, cv2.IMREAD_GRAYSCALE) and cv2.resize
            with Image.open(file) as image:
                image_data = np.asarray(image.convert("L").resize((28, 28)))
            image_data = 255 - image_data
            image_data = (image_data.reshape(1, -1).astype(np.float32) - 127.5) / 127.5
            model = book.Model.load(tmp_path / "fashion_mnist.model")
            confidences = model.predict(image_data)
            predictions = model.output_layer_activation.predictions(confidences)
            prediction = fashion_mnist_labels[predictions[0]]
            book_results.append((confidences, prediction))
    model_path = tmp_path / "ours.model"
    options = {"path": fashion_folder, "model_path": str(model_path), "images": images}
    for first in (True, False):  # without the model (chapter 21 runs first), then with it
        lines, results = run_script("ch22", epochs=epochs, dtype=dtype, **options)
        made = [f"no {model_path}: running chapter 21's program to make it", *book_lines]
        assert lines == (made if first else []) + [label for _, label in book_results]
        for (confidences, label), (theirs, their_label) in zip(results, book_results, strict=True):
            assert_array_equal(confidences, theirs, strict=True)
            assert label == their_label


def test_a_missing_fashion_folder_gets_a_generated_stand_in(tmp_path, capsys):
    import _fashion

    from tinygrad_nnfs import datasets

    folder = _fashion.data_folder(str(tmp_path / "absent"))
    assert capsys.readouterr().out == (
        f"no folder {tmp_path / 'absent'}: using a generated stand-in (10 classes x 40 + 10 "
        f"images) in {folder}\n"
    )
    X, y, X_test, y_test = datasets.fashion_mnist(folder)
    assert X.shape == (400, 28, 28) and X_test.shape == (100, 28, 28) and X.dtype == np.uint8
    assert np.bincount(y).tolist() == [40] * 10 and np.bincount(y_test).tolist() == [10] * 10
    again = datasets.fashion_mnist(_fashion.data_folder(str(tmp_path / "absent")))
    for mine, same in zip((X, y, X_test, y_test), again, strict=True):
        assert_array_equal(mine, same)  # the same stand-in on every run
    assert _fashion.data_folder(folder) == folder  # an existing folder is used as it is
    assert capsys.readouterr().out.count("\n") == 1
