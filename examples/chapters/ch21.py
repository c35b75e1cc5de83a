"""Chapter 21: saving and loading models. The book's chapter-21 program (not in its repository).

Chapter 20's program (Fashion-MNIST, the book's Model trained and evaluated), then the
chapter's additions: `save_parameters` writes the trained weights and biases to
fashion_mnist.parms; a new model of the same layers, set with a loss and an accuracy but
no optimizer (it only evaluates), takes them with `load_parameters` and evaluates to the
same line; `save` writes that whole model to fashion_mnist.model, and `Model.load` reads
it back, ready to evaluate (and predict: chapter 22). The library's files are .npz
archives (no pickle), under the book's names.
When the folder fashion_mnist_images is absent, a small generated stand-in is used (see
_fashion.py). `dtype="float64"` runs the book's code as it runs without nnfs.init()'s float32
patches. Run `python examples/chapters/ch21.py` (from the folder holding
fashion_mnist_images); it writes the two files to the current folder, as the book does.
"""

from __future__ import annotations

from ch19 import fashion_model, train

from tinygrad_nnfs import Model, nn


def main(
    *,
    epochs: int = 10,
    batch_size: int = 128,
    path: str = "fashion_mnist_images",
    parameters_path: str = "fashion_mnist.parms",
    model_path: str = "fashion_mnist.model",
    dtype: str = "float32",
):
    """Train, evaluate, save and load the book's model; return (history, loaded model)."""
    # Chapter 20's program: the book's model trained on Fashion-MNIST, then evaluated
    history, model, X_test, y_test = train(
        epochs=epochs, batch_size=batch_size, path=path, dtype=dtype
    )
    model.evaluate(X_test, y_test)

    # Save the parameters
    model.save_parameters(parameters_path)

    # A new model of the same layers, without an optimizer: it only evaluates
    model = fashion_model(X_test.shape[1])
    model.set(loss=nn.CategoricalCrossentropy(), accuracy="categorical")
    model.finalize()

    # Load the parameters and evaluate the model
    model.load_parameters(parameters_path)
    model.evaluate(X_test, y_test)

    # Save the model, load it and evaluate the loaded model
    model.save(model_path)
    model = Model.load(model_path)
    model.evaluate(X_test, y_test)

    return history, model


if __name__ == "__main__":
    main()
