"""The book's program on the engine against the book's code, from the same seed, side by side.

float64: the book's hand-written NumPy (tests/book_reference.py). float32: the same code run
under the real `nnfs.init()`, against the library under `nnfs_init()`. Both must agree to the
last bit at every epoch; nothing here depends on the machine's BLAS kernel.
"""

import numpy as np
import pytest
from book_chapters import Optimizer_Adagrad, Optimizer_Adam, Optimizer_RMSprop, Optimizer_SGD
from book_reference import nnfs_init_numpy, spiral_data, train_book_network

from tinygrad_nnfs import datasets, manual_seed, nn, nnfs_init, optim
from tinygrad_nnfs.train import fit

# The book's chapter-10 settings for each optimizer.
OPTIMIZERS = {
    "sgd": (optim.SGD, Optimizer_SGD, {"decay": 1e-3, "momentum": 0.9}),
    "adagrad": (optim.Adagrad, Optimizer_Adagrad, {"decay": 1e-4}),
    "rmsprop": (
        optim.RMSprop,
        Optimizer_RMSprop,
        {"learning_rate": 0.02, "decay": 1e-5, "rho": 0.999},
    ),
    "adam": (optim.Adam, Optimizer_Adam, {"learning_rate": 0.05, "decay": 5e-7}),
}
ADAM = {"learning_rate": 0.05, "decay": 5e-7}


def _book_model(hidden: int = 64, l2: float = 0.0) -> nn.Sequential:
    return nn.Sequential(
        nn.Dense(2, hidden, weight_regularizer_l2=l2, bias_regularizer_l2=l2),
        nn.ReLU(),
        nn.Dense(hidden, 3),
    )


def _book_log_line(epoch, accuracy, loss, data_loss, regularization_loss, lr) -> str:
    """The line the book's chapter-14 program prints."""
    return (
        f"epoch: {epoch}, acc: {accuracy:.3f}, loss: {loss:.3f} (data_loss: {data_loss:.3f}, "
        f"reg_loss: {regularization_loss:.3f}), lr: {lr}"
    )


def _book_trajectory(X, y, rng, epochs: int) -> tuple[dict, list[str], list[np.ndarray]]:
    """Loss, accuracy and lr per epoch of the book's Adam program, its log and final weights."""
    trajectory = {"loss": [], "acc": [], "lr": []}
    lines = []
    for record in train_book_network(X, y, rng, Optimizer_Adam(**ADAM), epochs):
        epoch, loss, accuracy, lr, dense1, dense2, data_loss, reg_loss = record
        for key, value in zip(trajectory, (loss, accuracy, lr), strict=True):
            trajectory[key].append(float(value))
        if epoch % 100 == 0 or epoch == epochs - 1:
            lines.append(_book_log_line(epoch, accuracy, loss, data_loss, reg_loss, lr))
    weights = [dense1.weights, dense1.biases, dense2.weights, dense2.biases]
    return trajectory, lines, [w.copy() for w in weights]


def _our_trajectory(X, y, epochs: int) -> tuple[dict, list[str], list[np.ndarray]]:
    model = _book_model()
    optimizer = optim.Adam(model.parameters(), **ADAM)
    lines: list[str] = []
    history = fit(model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs=epochs, log=lines.append)
    return history, lines, [p.data for p in model.parameters()]


def _assert_same_run(ours, book) -> None:
    (history, lines, weights), (trajectory, book_lines, book_weights) = ours, book
    for key, values in trajectory.items():
        assert history[key] == values, f"{key} differs from the book's"
    assert lines == book_lines
    for mine, theirs in zip(weights, book_weights, strict=True):
        assert mine.dtype == theirs.dtype
        np.testing.assert_array_equal(mine, theirs)


def test_book_program_under_nnfs_init_is_the_books_code_bit_for_bit():
    with nnfs_init_numpy():  # the book's code in its float32 setting
        from nnfs.datasets import spiral_data as nnfs_spiral_data

        X_book, y_book = nnfs_spiral_data(100, 3)
        book = _book_trajectory(X_book, y_book, np.random, 10001)
    nnfs_init()
    X, y = datasets.spiral_data(100, 3)
    assert (X.dtype, y.dtype) == (X_book.dtype, y_book.dtype) == (np.float32, np.uint8)
    np.testing.assert_array_equal(X, X_book)
    ours = _our_trajectory(X, y, 10001)
    _assert_same_run(ours, book)
    assert ours[1][-1].endswith("lr: 0.04975126853296942")
    assert ours[0]["loss"][-1] < ours[0]["loss"][0] / 5  # it learned (the same run as the book)


def test_book_program_in_float64_is_the_books_code_bit_for_bit(float64):
    rng = np.random.RandomState(0)
    X_book, y_book = spiral_data(100, 3, rng)
    book = _book_trajectory(X_book, y_book, rng, 10001)
    manual_seed(0)
    X, y = datasets.spiral_data(100, 3)
    np.testing.assert_array_equal(X, X_book)
    _assert_same_run(_our_trajectory(X, y, 10001), book)


@pytest.mark.parametrize("l2", [0.0, 5e-4])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_book_program_matches_hand_written_numpy_for_200_epochs(float64, name, l2):
    ours_class, book_class, settings = OPTIMIZERS[name]
    manual_seed(0)
    X, y = datasets.spiral_data(100, 3)
    model = _book_model(l2=l2)
    optimizer = ours_class(model.parameters(), **settings)
    loss_fn = nn.SoftmaxCrossEntropy()

    rng = np.random.RandomState(0)
    X_book, y_book = spiral_data(100, 3, rng)
    np.testing.assert_array_equal(X, X_book)
    book = train_book_network(X_book, y_book, rng, book_class(**settings), epochs=200, l2=l2)

    for record in book:
        _epoch, book_loss, book_acc, book_lr, dense1, dense2, *_ = record
        outputs = model(X)
        loss = loss_fn(outputs, y) + nn.regularization_loss(model)
        acc = np.mean(np.argmax(outputs.data, axis=1) == y)
        lr = optimizer.current_learning_rate
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert (loss.item(), acc, lr) == (book_loss, book_acc, book_lr)
    book_params = [dense1.weights, dense1.biases, dense2.weights, dense2.biases]
    for ours, theirs in zip(model.parameters(), book_params, strict=True):
        np.testing.assert_array_equal(ours.data, theirs)


def _native_run(epochs: int) -> tuple[list[str], dict]:
    manual_seed(0)
    X, y = datasets.spiral_data(100, 3)
    model = _book_model()
    optimizer = optim.Adam(model.parameters(), **ADAM)
    lines: list[str] = []
    history = fit(model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs=epochs, log=lines.append)
    return lines, history


def test_book_program_is_deterministic_for_a_seed():
    first, second = _native_run(300), _native_run(300)
    assert first[0] == second[0]
    assert first[1] == second[1]
