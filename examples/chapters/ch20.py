"""Chapter 20: model evaluation. The book's chapter-20 program (not in the book's repository).

Chapter 19's program (Fashion-MNIST, shuffled and scaled, the book's Model trained for 10
epochs in batches of 128 with a validation pass after each), then the chapter's addition:
`model.evaluate(X_test, y_test)`, the book's evaluate, which prints
`validation, acc: ..., loss: ...` for the data it is given (in batches with batch_size=).
When the folder fashion_mnist_images is absent, a small generated stand-in is used (see
_fashion.py).

`dtype="float64"` runs the book's code as it runs without nnfs.init()'s float32 patches.
Run `python examples/chapters/ch20.py` (from the folder holding fashion_mnist_images).
"""

from __future__ import annotations

import numpy as np
from _fashion import data_folder

from tinygrad_nnfs import Model, datasets, nn, nnfs_init, optim


def main(
    *,
    epochs: int = 10,
    batch_size: int = 128,
    path: str = "fashion_mnist_images",
    dtype: str = "float32",
):
    """Train the book's Fashion-MNIST model and evaluate it; return (history, model)."""
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

    # Instantiate the model
    model = Model()

    # Add layers
    model.add(nn.Dense(X.shape[1], 128))
    model.add(nn.ReLU())
    model.add(nn.Dense(128, 128))
    model.add(nn.ReLU())
    model.add(nn.Dense(128, 10))
    model.add(nn.Softmax())

    # Set loss, optimizer and accuracy objects
    model.set(
        loss=nn.CategoricalCrossentropy(),
        optimizer=optim.Adam(decay=1e-3),
        accuracy="categorical",
    )

    # Finalize the model
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

    # Evaluate the model
    model.evaluate(X_test, y_test)

    return history, model


if __name__ == "__main__":
    main()
