"""Chapter 11: testing with out-of-sample data. The book's final program (Ch11_Final.py).

Chapter 10's program (the spiral classifier trained with Adam(learning_rate=0.05,
decay=5e-7), the book's line every 100 epochs), then the chapter's addition: a new spiral
data set drawn after training, never seen by it, run forward once to print the book's
`validation, acc: A, loss: L`. The gap to the training figures is the overfitting the
chapter is about (the book prints acc 0.983 in training, 0.803 out of sample; NumPy's
float32 exp and log round differently on other CPUs and versions, so the book's own code
prints other figures there, and this script the same ones as the book's code).

`dtype="float64"` runs the book's code as it runs without nnfs.init()'s float32 patches.
Run `python examples/chapters/ch11.py`.
"""

from __future__ import annotations

import numpy as np
from ch10 import main as train

from tinygrad_nnfs import datasets, nn


def main(*, epochs: int = 10001, samples: int = 100, dtype: str = "float32"):
    """Train and test the book's network; return (history, [dense1, dense2], validation)."""
    history, (dense1, dense2) = train(epochs=epochs, samples=samples, dtype=dtype)
    activation1, loss_activation = nn.ReLU(), nn.SoftmaxCrossEntropy()

    # Validate the model on a test data set drawn after training
    X_test, y_test = datasets.spiral_data(samples=samples, classes=3)
    output = dense2(activation1(dense1(X_test)))
    loss = loss_activation(output, y_test)
    predictions = np.argmax(output.softmax(axis=1).data, axis=1)
    accuracy = np.mean(predictions == y_test)
    print(f"validation, acc: {accuracy:.3f}, loss: {loss.item():.3f}")

    return history, [dense1, dense2], {"acc": float(accuracy), "loss": loss.item()}


if __name__ == "__main__":
    main()
