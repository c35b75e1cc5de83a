"""Chapter 17: regression. The book's final program (Ch17_Final.py).

A network fits one period of a sine: sine_data()'s 1,000 points, Dense(1, 64), ReLU,
Dense(64, 64), ReLU, Dense(64, 1) and a linear output (nn.Identity, the book's
Activation_Linear), mean squared error and Adam(learning_rate=0.005, decay=1e-3). For this
chapter the book draws the weights as 0.1 * randn instead of 0.01 * randn:
`nn.Dense(..., weight_scale=0.1)`. Accuracy is the book's: predictions within
std(y) / 250 of the target. `fit` prints the book's line every 100 epochs (and the last).

The book then plots the sine and the model's output on sine_data() with matplotlib; here
the figure is written to `plot` (a png; None: no figure), as no window may be at hand.
`dtype="float64"` runs the book's code as it runs without nnfs.init()'s float32 patches.
Run `python examples/chapters/ch17.py`.
"""

from __future__ import annotations

from tinygrad_nnfs import datasets, nn, nnfs_init, no_grad, optim
from tinygrad_nnfs.train import fit


def main(
    *,
    epochs: int = 10001,
    samples: int = 1000,
    plot: str | None = "ch17_sine.png",
    dtype: str = "float32",
):
    """Fit the sine; write the figure to `plot`; return (history, model, test predictions)."""
    nnfs_init(default_dtype=dtype, dot_precision_workaround=dtype == "float32")

    X, y = datasets.sine_data(samples)

    model = nn.Sequential(
        nn.Dense(1, 64, weight_scale=0.1),
        nn.ReLU(),
        nn.Dense(64, 64, weight_scale=0.1),
        nn.ReLU(),
        nn.Dense(64, 1, weight_scale=0.1),
        nn.Identity(),
    )
    loss_function = nn.MeanSquaredError()
    optimizer = optim.Adam(model.parameters(), learning_rate=0.005, decay=1e-3)

    history = fit(model, loss_function, optimizer, X, y, epochs=epochs, progress=False)

    X_test, y_test = datasets.sine_data(samples)
    with no_grad():
        predictions = model(X_test).data

    if plot:
        from matplotlib.figure import Figure  # pip install matplotlib

        figure = Figure()
        axes = figure.subplots()
        axes.plot(X_test, y_test)
        axes.plot(X_test, predictions)
        figure.savefig(plot)
        print(f"wrote {plot}: the sine and the model's output")

    return history, model, predictions


if __name__ == "__main__":
    main()
