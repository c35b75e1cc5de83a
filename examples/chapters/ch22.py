"""Chapter 22: prediction / inference. The book's final program (Ch22_Final.py).

`Model.load` reads the model chapter 21 saved (fashion_mnist.model; when it is absent this
script runs chapter 21's program first to make it), and the model predicts the class of
photos: each is read as grayscale, resized to 28x28, inverted (the photos are dark on
light, Fashion-MNIST's items light on dark), flattened and scaled to [-1, 1] as the
training data was. `predict` gives the softmax confidences, the output layer's
`predictions` the class, FASHION_MNIST_LABELS its name. The book uses its photos
tshirt.png and pants.png (read with cv2; here Pillow): without them in the current folder,
stand-ins are made from test images of the data (see _fashion.py).

`dtype="float64"` runs the book's code as it runs without nnfs.init()'s float32 patches.
Run `python examples/chapters/ch22.py` (from the folder holding fashion_mnist_images).
"""

from __future__ import annotations

import os

import ch21
import numpy as np
from _fashion import data_folder, photos
from PIL import Image

from tinygrad_nnfs import Model, datasets, nnfs_init

BOOK_PHOTOS = {0: "tshirt.png", 1: "pants.png"}  # the book's photos and what they show


def main(
    *,
    path: str = "fashion_mnist_images",
    model_path: str = "fashion_mnist.model",
    images: list[str] | None = None,
    epochs: int = 10,
    dtype: str = "float32",
):
    """Predict the class of each image; return [(confidences, label name)] per image."""
    nnfs_init(default_dtype=dtype, dot_precision_workaround=dtype == "float32")

    folder = data_folder(path)
    if not os.path.exists(model_path):
        print(f"no {model_path}: running chapter 21's program to make it")
        parameters_path = os.path.splitext(model_path)[0] + ".parms"
        ch21.main(
            epochs=epochs,
            path=folder,
            parameters_path=parameters_path,
            model_path=model_path,
            dtype=dtype,
        )
    if images is None:
        images = list(BOOK_PHOTOS.values())
        if not all(os.path.exists(image) for image in images):
            images = photos(folder, BOOK_PHOTOS)

    results = []
    for image in images:
        # Read an image, resize it to the size of Fashion-MNIST images, invert its colors
        image_data = np.asarray(Image.open(image).convert("L").resize((28, 28)))
        image_data = 255 - image_data

        # Reshape and scale pixel data
        image_data = (image_data.reshape(1, -1).astype(np.float32) - 127.5) / 127.5

        # Load the model
        model = Model.load(model_path)

        # Predict on the image
        confidences = model.predict(image_data)

        # Get prediction instead of confidence levels
        predictions = model.output_layer_activation.predictions(confidences)

        # Get label name from label index
        prediction = datasets.FASHION_MNIST_LABELS[predictions[0]]

        print(prediction)
        results.append((confidences, prediction))

    return results


if __name__ == "__main__":
    main()
