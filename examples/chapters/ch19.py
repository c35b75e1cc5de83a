"""Chapter 19: a real dataset. The book's final program (Ch19_Final.py).

Fashion-MNIST from the book's folder fashion_mnist_images (train/<label>/*.png and
test/<label>/*.png; see _fashion.py for the small stand-in used when it is absent),
read by datasets.fashion_mnist (the book's load_mnist_dataset, with Pillow for cv2). The
training set is shuffled with np.random.shuffle (after nnfs_init() NumPy's global stream
is the library's, as after the book's nnfs.init()), the images are flattened and scaled to
[-1, 1], and the book's Model trains Dense(784, 128), ReLU, Dense(128, 128), ReLU,
Dense(128, 10), Softmax with categorical cross-entropy and Adam(decay=1e-3) for 10 epochs
in batches of 128, printing the book's step, training and validation lines.

`dtype="float64"` runs the book's code as it runs without nnfs.init()'s float32 patches.
Run `python examples/chapters/ch19.py` (from the folder holding fashion_mnist_images).
"""

from __future__ import annotations

import numpy as np
from _fashion import data_folder

from tinygrad_nnfs import Model, datasets, nn, nnfs_init, optim


def fashion_model(n_inputs: int) -> Model:
    """The book's model: Dense(n_inputs, 128), ReLU, Dense(128, 128), ReLU, Dense(128, 10)."""
    model = Model()
    model.add(nn.Dense(n_inputs, 128))
    model.add(nn.ReLU())
    model.add(nn.Dense(128, 128))
    model.add(nn.ReLU())
    model.add(nn.Dense(128, 10))
    model.add(nn.Softmax())
    return model


def train(*, epochs: int, batch_size: int, path: str, dtype: str):
    """The book's chapter-19 program; return (history, model, X_test, y_test)."""
    nnfs_init(default_dtype=dtype, dot_precision_workaround=dtype == "float32")

    # Create dataset
    X, y, X_test, y_test = datasets.fashion_mnist(data_folder(path))

    # Shuffle the training dataset
    keys = np.array(range(X.shape[0]))
    np.random.shuffle(keys)
    X = X[keys]
    y = y[keys]

    # Scale and reshape samples
    X = (X.reshape(X.shape[0], -1).astype(np.float32) - 127.5) / 127.5
    X_test = (X_test.reshape(X_test.shape[0], -1).astype(np.float32) - 127.5) / 127.5

    # Instantiate the model, set loss, optimizer and accuracy objects, finalize it
    model = fashion_model(X.shape[1])
    model.set(
        loss=nn.CategoricalCrossentropy(),
        optimizer=optim.Adam(decay=1e-3),
        accuracy="categorical",
    )
    model.finalize()

    # Train the model
    history = model.train(
        X,
        y,
        validation_data=(X_test, y_test),
        epochs=epochs,
        batch_size=batch_size,
        print_every=100,
    )
    return history, model, X_test, y_test


def main(
    *,
    epochs: int = 10,
    batch_size: int = 128,
    path: str = "fashion_mnist_images",
    dtype: str = "float32",
):
    """Train the book's Fashion-MNIST model; return (history, model)."""
    history, model, _, _ = train(epochs=epochs, batch_size=batch_size, path=path, dtype=dtype)
    return history, model


if __name__ == "__main__":
    main()
