"""Chapter 13: training dataset. The book prints no program for this chapter.

The chapter's data preparation, on chapter 11's spiral classifier: features should be
scaled to a small common range such as [-1, 1] or [0, 1], with the scaling learned from
the training data only and then applied unchanged to the validation, test and prediction
data. Here feature 0 of the spiral is put in other units (x0 * 1000 + 5000: thousands,
while feature 1 stays within [-1, 1]); datasets.Scaler learns each feature's min and max
on the training set and maps both sets with them. The network trains on the raw and on
the scaled features, and each is tested on new data prepared the same way.
Run `python examples/chapters/ch13.py`.
"""

from __future__ import annotations

from tinygrad_nnfs import datasets, nn, nnfs_init, optim
from tinygrad_nnfs.train import evaluate, fit


def spiral_in_other_units(samples: int):
    """spiral_data(samples, 3) with feature 0 measured in other units: x0 * 1000 + 5000."""
    X, y = datasets.spiral_data(samples=samples, classes=3)
    X[:, 0] = X[:, 0] * 1000 + 5000
    return X, y


def main(*, epochs: int = 2001, samples: int = 100):
    """Train on raw and on scaled features; return {"raw"/"scaled": (test loss, test acc)}."""
    nnfs_init()
    X, y = spiral_in_other_units(samples)
    X_test, y_test = spiral_in_other_units(samples)

    scaler = datasets.Scaler(feature_range=(-1, 1)).fit(X)  # the training data only
    prepared = {"raw": (X, X_test), "scaled": (scaler.transform(X), scaler.transform(X_test))}

    results = {}
    for name, (inputs, test_inputs) in prepared.items():
        lows, highs = inputs.min(axis=0), inputs.max(axis=0)
        print(f"{name}: feature 0 in [{lows[0]:.4g}, {highs[0]:.4g}], "
              f"feature 1 in [{lows[1]:.4g}, {highs[1]:.4g}]")  # fmt: skip
        model = nn.Sequential(nn.Dense(2, 64), nn.ReLU(), nn.Dense(64, 3))
        loss_function = nn.SoftmaxCrossEntropy()
        optimizer = optim.Adam(model.parameters(), learning_rate=0.05, decay=5e-7)
        history = fit(
            model, loss_function, optimizer, inputs, y, epochs=epochs, print_every=0, progress=False
        )
        loss, accuracy = evaluate(model, loss_function, test_inputs, y_test)
        print(f"  training, acc: {history['acc'][-1]:.3f}, loss: {history['loss'][-1]:.3f}")
        print(f"  validation, acc: {accuracy:.3f}, loss: {loss:.3f}")
        results[name] = (loss, accuracy)

    # The scaler maps back to the original units (e.g. for predictions of scaled targets)
    error = abs(scaler.inverse_transform(prepared["scaled"][0]) - X).max(axis=0)
    print(f"inverse_transform: largest errors {error[0]:.2g} and {error[1]:.2g} (float32)")
    return results


if __name__ == "__main__":
    main()
