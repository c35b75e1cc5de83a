"""Chapter 18: model object. The book's final program (Ch18_Final.py).

The book's Model class: `add` the layers, `set` the loss, optimizer and accuracy,
`finalize`, `train`. Chapter 15's spiral classifier made wider (512 neurons, L2 5e-4 on the
first layer, Dropout(0.1)), with a Softmax output and categorical cross-entropy, which the
Model trains through the fused softmax cross-entropy as the book's Model does, and
Adam(learning_rate=0.05, decay=5e-5). Every epoch prints the book's Model lines:
`epoch: N`, `step: 0, acc: ...`, `training, acc: ...` and `validation, acc: ..., loss: ...`.

The book trains 10,000 epochs, which take 6 minutes or more here (each epoch also runs the
validation pass): the default is 500 (about 20 s); `main(epochs=10000)` runs the book's.
`dtype="float64"` runs the book's code as it runs without nnfs.init()'s float32 patches.
Run `python examples/chapters/ch18.py`.
"""

from __future__ import annotations

from tinygrad_nnfs import Model, datasets, nn, nnfs_init, optim


def main(
    *,
    epochs: int = 500,
    samples: int = 1000,
    test_samples: int = 100,
    neurons: int = 512,
    dtype: str = "float32",
):
    """Train the book's chapter-18 model; return (history, model)."""
    nnfs_init(default_dtype=dtype, dot_precision_workaround=dtype == "float32")

    # Create dataset
    X, y = datasets.spiral_data(samples=samples, classes=3)
    X_test, y_test = datasets.spiral_data(samples=test_samples, classes=3)

    # Instantiate the model
    model = Model()

    # Add layers
    model.add(nn.Dense(2, neurons, weight_regularizer_l2=5e-4, bias_regularizer_l2=5e-4))
    model.add(nn.ReLU())
    model.add(nn.Dropout(0.1))
    model.add(nn.Dense(neurons, 3))
    model.add(nn.Softmax())

    # Set loss, optimizer and accuracy objects
    model.set(
        loss=nn.CategoricalCrossentropy(),
        optimizer=optim.Adam(learning_rate=0.05, decay=5e-5),
        accuracy="categorical",
    )

    # Finalize the model
    model.finalize()

    # Train the model
    history = model.train(X, y, validation_data=(X_test, y_test), epochs=epochs, print_every=100)

    return history, model


if __name__ == "__main__":
    main()
