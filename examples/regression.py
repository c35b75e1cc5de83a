"""Chapter 17: regression, fitting a sine wave with mean squared error.

The book's program: sine_data(), Dense(1, 64) ReLU Dense(64, 64) ReLU Dense(64, 1) with a
linear output, MeanSquaredError and Adam(learning_rate=0.005, decay=1e-3), scored with the
book's precision accuracy (|prediction - y| < std(y) / 250). For this chapter the book
changes the weight initialisation from 0.01 * randn to 0.1 * randn. Dense keeps 0.01, so to
get the book's 0.1 rescale the drawn weights in place: `dense.weights.data *= 10` (the same
draw at the new scale). Both initialisations are trained from the same seed, in float64 like
the book's NumPy code, and compared. The book trains 10,001 epochs: pass epochs=10001.
Run `python examples/regression.py`.
"""

from __future__ import annotations

from tinygrad_nnfs import datasets, manual_seed, nn, optim, set_default_dtype
from tinygrad_nnfs.train import fit


def main(*, epochs: int = 1001, samples: int = 1000, dtype: str = "float64", seed: int = 0) -> None:
    """Fit the sine with 0.01 * randn and with 0.1 * randn weights; print accuracy and loss."""
    set_default_dtype(dtype)
    print(f"sine_data({samples}), Dense(1, 64) ReLU Dense(64, 64) ReLU Dense(64, 1), {dtype}")
    print(f"{'weights':<14}{'epochs':>7}{'acc':>7}{'loss':>11}")
    loss_fn = nn.MeanSquaredError()
    for multiplier in (1, 10):  # Dense draws 0.01 * randn; x10 gives the book's 0.1 * randn
        manual_seed(seed)  # the same draws in both runs; only their scale differs
        X, y = datasets.sine_data(samples)
        dense1, dense2, dense3 = nn.Dense(1, 64), nn.Dense(64, 64), nn.Dense(64, 1)
        for dense in (dense1, dense2, dense3):
            dense.weights.data *= multiplier
        model = nn.Sequential(dense1, nn.ReLU(), dense2, nn.ReLU(), dense3)
        optimizer = optim.Adam(model.parameters(), learning_rate=0.005, decay=1e-3)
        history = fit(model, loss_fn, optimizer, X, y, epochs=epochs, print_every=0, progress=False)
        init = f"{0.01 * multiplier:g} * randn"
        print(f"{init:<14}{epochs:>7}{history['acc'][-1]:>7.3f}{history['loss'][-1]:>11.2e}")


if __name__ == "__main__":
    main()
