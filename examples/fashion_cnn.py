"""A small CNN on the book's Fashion-MNIST, next to the book's dense network (ch. 19-22).

    python examples/fashion_cnn.py [path/to/fashion_mnist_images] [epochs]

The data is read with datasets.fashion_mnist(path), the book's folder layout (or the
original IDX files). When the files are absent a generated stand-in is written, as IDX
files in a temporary folder, and read the same way: ten classes of 28x28 stripes, bars and
blocks, shifted at random and noisy, so that the example runs anywhere.
"""

import sys
import tempfile
from pathlib import Path

import numpy as np

from tinygrad_nnfs import Model, datasets, manual_seed, nn, optim


def write_stand_in(folder, samples_per_class, rng):
    """Ten classes of 28x28 uint8 patterns as the four Fashion-MNIST IDX files in `folder`."""
    for images_name, labels_name, count in (
        ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", samples_per_class),
        ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", max(1, samples_per_class // 4)),
    ):
        labels = np.repeat(np.arange(10, dtype=np.uint8), count)
        images = rng.uniform(0, 60, (len(labels), 28, 28))
        for image, label in zip(images, labels, strict=True):
            row, column = rng.randint(4, 20, size=2)
            if label < 4:  # a horizontal bar, thicker for each class
                image[row : row + label + 2, 4:24] += 180
            elif label < 8:  # a vertical bar
                image[4:24, column : column + label - 2] += 180
            elif label == 8:  # a block
                image[row : row + 6, column : column + 6] += 180
            else:  # a diagonal
                image[np.arange(28), (np.arange(28) + column) % 28] += 180
        header = np.array([0x0803, len(labels), 28, 28], ">u4").tobytes()
        (folder / images_name).write_bytes(
            header + np.clip(images, 0, 255).astype(np.uint8).tobytes()
        )
        (folder / labels_name).write_bytes(
            np.array([0x0801, len(labels)], ">u4").tobytes() + labels.tobytes()
        )


def dense_layers():
    """The book's chapter 19-22 network."""
    return [nn.Flatten(), nn.Dense(784, 128), nn.ReLU(), nn.Dense(128, 128), nn.ReLU(),
            nn.Dense(128, 10), nn.Softmax()]  # fmt: skip


def cnn_layers():
    """Two convolutions and max pooling, then a small dense head."""
    return [nn.Conv2d(1, 8, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(8, 16, 3), nn.ReLU(),
            nn.MaxPool2d(2), nn.Flatten(), nn.Dense(16 * 5 * 5, 64), nn.ReLU(),
            nn.Dense(64, 10), nn.Softmax()]  # fmt: skip


def test_accuracy(layers, X, y, X_test, y_test, epochs, batch_size):
    model = Model()
    for layer in layers:
        model.add(layer)
    model.set(
        loss=nn.CategoricalCrossentropy(),
        optimizer=optim.Adam(learning_rate=0.001, decay=1e-3),
        accuracy="categorical",
    )
    model.finalize()
    model.train(X, y, epochs=epochs, batch_size=batch_size, print_every=10**9)
    return model.evaluate(X_test, y_test, batch_size=batch_size)[1]


def main(path="fashion_mnist_images", epochs=5, batch_size=128, samples_per_class=200):
    manual_seed(0)
    rng = np.random.RandomState(0)
    with tempfile.TemporaryDirectory() as scratch:
        if not Path(path).exists():
            path = Path(scratch)
            write_stand_in(path, samples_per_class, rng)
            print(f"no Fashion-MNIST at the path given: a generated stand-in, "
                  f"{samples_per_class} images per class")  # fmt: skip
        X, y, X_test, y_test = datasets.fashion_mnist(path)
    # The book's preparation: shuffled, scaled to [-1, 1]; (n, 1, 28, 28) for the convolutions.
    keys = rng.permutation(len(X))
    X, y = X[keys], y[keys]
    X = ((X.astype(np.float32) - 127.5) / 127.5)[:, None]
    X_test = ((X_test.astype(np.float32) - 127.5) / 127.5)[:, None]
    results = {}
    for name, layers in (("dense network", dense_layers), ("CNN", cnn_layers)):
        results[name] = test_accuracy(layers(), X, y, X_test, y_test, epochs, batch_size)
    print(f"test accuracy after {epochs} epochs on {len(X)} images:")
    for name, accuracy in results.items():
        print(f"  {name:<14}{accuracy:.3f}")


if __name__ == "__main__":
    main(*sys.argv[1:2], *(int(arg) for arg in sys.argv[2:3]))
