"""The book's program on the engine against the book's hand-written NumPy, from the same seed."""

import numpy as np
import pytest
from book_reference import (
    Optimizer_Adagrad,
    Optimizer_Adam,
    Optimizer_RMSprop,
    Optimizer_SGD,
    spiral_data,
    train_book_network,
)

from tinygrad_nnfs import datasets, manual_seed, nn, optim
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


def _book_model(hidden: int = 64, l2: float = 0.0) -> nn.Sequential:
    return nn.Sequential(
        nn.Dense(2, hidden, weight_regularizer_l2=l2, bias_regularizer_l2=l2),
        nn.ReLU(),
        nn.Dense(hidden, 3),
    )


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
        _epoch, book_loss, book_acc, book_lr, dense1, dense2 = record
        outputs = model(X)
        loss = loss_fn(outputs, y) + nn.regularization_loss(model)
        acc = np.mean(np.argmax(outputs.data, axis=1) == y)
        lr = optimizer.current_learning_rate
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        assert loss.item() == pytest.approx(book_loss, rel=1e-12, abs=1e-15)
        assert acc == book_acc
        assert lr == book_lr
    for ours, theirs in [
        (model[0].weights, dense1.weights),
        (model[0].biases, dense1.biases),
        (model[2].weights, dense2.weights),
        (model[2].biases, dense2.biases),
    ]:
        np.testing.assert_allclose(ours.data, theirs, rtol=1e-12, atol=1e-15)


def _book_run(epochs: int) -> tuple[list[str], dict]:
    manual_seed(0)
    X, y = datasets.spiral_data(100, 3)
    model = _book_model()
    optimizer = optim.Adam(model.parameters(), learning_rate=0.05, decay=5e-7)
    lines: list[str] = []
    history = fit(model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs=epochs, log=lines.append)
    return lines, history


def test_book_program_reaches_the_reference_behaviour():
    lines, history = _book_run(10001)
    assert len(lines) == 101
    assert lines[-1].startswith("epoch: 10000, acc: ")
    assert lines[-1].endswith("lr: 0.04975126853296942")
    assert history["loss"][-1] < 0.1
    assert history["acc"][-1] > 0.93


def test_book_program_is_deterministic_for_a_seed():
    first, second = _book_run(300), _book_run(300)
    assert first[0] == second[0]
    assert first[1] == second[1]
