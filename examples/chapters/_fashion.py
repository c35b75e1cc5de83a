"""Chapters 19-22's Fashion-MNIST: the book's folder, or a small generated one in its layout.

The book downloads https://nnfs.io/datasets/fashion_mnist_images.zip and unzips it into
fashion_mnist_images (train/<label>/*.png and test/<label>/*.png, 28x28 grayscale). Where
that folder is absent, data_folder() writes a stand-in in the same layout to a temporary
folder (removed at exit): per class a fixed pattern (a shared one plus the class's own)
and noise, drawn from a seeded stream of its own, so the book's np.random draws stay the
book's and the stand-in is the same on every run.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

import numpy as np


def _temporary_folder() -> str:
    folder = tempfile.mkdtemp(prefix="nnfs_chapters_")
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def write_stand_in(folder: str, *, train: int = 40, test: int = 10, seed: int = 0) -> None:
    """Write 10 classes x (`train` + `test`) 28x28 grayscale pngs in the book's layout."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    shared, own = rng.uniform(0, 255, (7, 7)), rng.uniform(-40, 40, (10, 7, 7))
    patterns = np.kron(shared + own, np.ones((4, 4)))  # per class: 7x7 blocks of 4x4 pixels
    for part, count in (("train", train), ("test", test)):
        for label, pattern in enumerate(patterns):
            os.makedirs(os.path.join(folder, part, str(label)))
            for index in range(count):
                image = np.clip(pattern + rng.normal(0, 80, pattern.shape), 0, 255)
                file = os.path.join(folder, part, str(label), f"{index:04d}.png")
                Image.fromarray(image.astype(np.uint8)).save(file)


def data_folder(path: str = "fashion_mnist_images") -> str:
    """`path` if it is a folder, else a generated stand-in (and one printed line saying so)."""
    if os.path.isdir(path):
        return path
    folder = os.path.join(_temporary_folder(), "fashion_mnist_images")
    write_stand_in(folder)
    print(f"no folder {path}: using a generated stand-in (10 classes x 40 + 10 images) in {folder}")
    return folder


def photos(folder: str, names: dict[int, str]) -> list[str]:
    """Stand-ins for the book's photos (tshirt.png, pants.png): for each label in `names`, the
    first test image of that class, dark on light as a photo is (inverted), at 3x the size."""
    from PIL import Image

    out = _temporary_folder()
    files = []
    for label, name in names.items():
        images = os.path.join(folder, "test", str(label))
        with Image.open(os.path.join(images, sorted(os.listdir(images))[0])) as image:
            photo = 255 - np.kron(np.asarray(image.convert("L")), np.ones((3, 3), np.uint8))
        files.append(os.path.join(out, name))
        Image.fromarray(photo).save(files[-1])
    print(f"photos {', '.join(names.values())} made from test images of {folder} in {out}")
    return files
