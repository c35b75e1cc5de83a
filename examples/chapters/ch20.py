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

from ch19 import train


def main(
    *,
    epochs: int = 10,
    batch_size: int = 128,
    path: str = "fashion_mnist_images",
    dtype: str = "float32",
):
    """Train the book's Fashion-MNIST model and evaluate it; return (history, model)."""
    history, model, X_test, y_test = train(
        epochs=epochs, batch_size=batch_size, path=path, dtype=dtype
    )

    # Evaluate the model
    model.evaluate(X_test, y_test)

    return history, model


if __name__ == "__main__":
    main()
