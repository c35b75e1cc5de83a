"""Chapter 10: optimizers. The book's final program (Ch10_Final.py) on the library.

The spiral classifier of chapters 1-9 (Dense(2, 64), ReLU, Dense(64, 3), softmax with
categorical cross-entropy) trained with Adam(learning_rate=0.05, decay=5e-7), printing the
book's line every 100 epochs: `epoch: N, acc: A, loss: L, lr: LR`. The book's loop, written
out: forward, loss, accuracy, backward (here: `loss.backward()`), update (`optimizer.step()`,
which also does the book's pre_update_params decay and post_update_params count).

`dtype="float64"` runs the book's code as it runs without nnfs.init()'s float32 patches.
Run `python examples/chapters/ch10.py`.
"""

from __future__ import annotations

import numpy as np

from tinygrad_nnfs import datasets, nn, nnfs_init, optim


def main(*, epochs: int = 10001, samples: int = 100, dtype: str = "float32"):
    """Train the book's chapter-10 network; return (history, [dense1, dense2])."""
    nnfs_init(default_dtype=dtype, dot_precision_workaround=dtype == "float32")

    X, y = datasets.spiral_data(samples=samples, classes=3)

    dense1 = nn.Dense(2, 64)
    activation1 = nn.ReLU()
    dense2 = nn.Dense(64, 3)
    loss_activation = nn.SoftmaxCrossEntropy()  # softmax and cross-entropy, fused
    optimizer = optim.Adam(
        dense1.parameters() + dense2.parameters(), learning_rate=0.05, decay=5e-7
    )

    history = {"loss": [], "acc": [], "lr": []}
    for epoch in range(epochs):
        output = dense2(activation1(dense1(X)))  # the logits
        loss = loss_activation(output, y)

        predictions = np.argmax(output.softmax(axis=1).data, axis=1)
        accuracy = np.mean(predictions == y)

        history["loss"].append(loss.item())
        history["acc"].append(float(accuracy))
        history["lr"].append(optimizer.current_learning_rate)
        if not epoch % 100:
            print(
                f"epoch: {epoch}, "
                + f"acc: {accuracy:.3f}, "
                + f"loss: {loss.item():.3f}, "
                + f"lr: {optimizer.current_learning_rate}"
            )

        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    return history, [dense1, dense2]


if __name__ == "__main__":
    main()
