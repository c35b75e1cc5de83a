"""The book's image data (ch. 19): folders of png images by label, and Fashion-MNIST.

Nothing is downloaded. Reading png files needs Pillow (`pip install "tinygrad_nnfs[images]"`),
imported only when png files are read; the original IDX files are read with NumPy alone.
"""

from __future__ import annotations

import gzip
import os
import re
import zlib
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["FASHION_MNIST_LABELS", "fashion_mnist", "load_image_folder"]

FASHION_MNIST_LABELS: dict[int, str] = {
    0: "T-shirt/top",
    1: "Trouser",
    2: "Pullover",
    3: "Dress",
    4: "Coat",
    5: "Sandal",
    6: "Shirt",
    7: "Sneaker",
    8: "Bag",
    9: "Ankle boot",
}

_BOOK_ZIP = "https://nnfs.io/datasets/fashion_mnist_images.zip"
_IDX_NAMES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}
_WHERE_DATA = (
    "expected the book's folder fashion_mnist_images (holding train/<label>/*.png and "
    "test/<label>/*.png), a folder containing fashion_mnist_images, or a folder holding the "
    f"original IDX files {', '.join(_IDX_NAMES.values())} (each optionally .gz). Nothing is "
    f"downloaded: the book downloads {_BOOK_ZIP} and unzips it into a folder "
    "fashion_mnist_images; the original IDX files from the Fashion-MNIST project "
    "(https://github.com/zalandoresearch/fashion-mnist) also work"
)
_INT_NAME = re.compile(r"-?[0-9]+")
# Pillow modes with more than 8 bits per pixel: convert("L") would clip them, not scale them.
_WIDE_MODES = re.compile(r"I(;.*)?|F")


def load_image_folder(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray]:
    """Read `path/<label>/*.png` into (X uint8 (n, H, W), y): labels sorted, files by name.

    Label folders are the subfolders of `path` (hidden ones, starting with ".", are skipped).
    When every folder name is an int ("0", "10", "-1") y is int64 and the labels sort
    numerically ("10" after "9"); otherwise y holds the folder names as a str array, sorted
    as strings. Within a label the files whose names end in ".png" (any case) are read in
    sorted name order; other files and subfolders are ignored. Grayscale ("L") images are
    kept as they are; other 8-bit modes ("1", "P", "LA", "RGB", "RGBA", ...) are converted
    with Pillow's convert("L"), which drops alpha and takes the ITU-R 601-2 luma of colour.
    16-bit and float images are a ValueError (convert("L") would clip them). All images must
    have the same size. A missing folder, or one with no label folders or a label folder
    without png files, is a FileNotFoundError. Needs Pillow.
    """
    return _read_folder("load_image_folder", Path(path))


def fashion_mnist(
    path: str | os.PathLike[str],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The book's Fashion-MNIST from disk: (X, y, X_test, y_test), X uint8 (n, 28, 28), y int64.

    `path` is the book's fashion_mnist_images folder (holding train/<label>/ and
    test/<label>/, read as load_image_folder reads them; needs Pillow), a folder containing
    fashion_mnist_images, or a folder holding the original IDX files train-images-idx3-ubyte,
    train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each plain or
    gzipped (read with NumPy; a plain file is preferred to its .gz). The png folders win when
    both forms are present. Class names are in FASHION_MNIST_LABELS. Nothing is downloaded:
    missing data is a FileNotFoundError saying where it is expected and how to get it.
    """
    where = "fashion_mnist"
    root = Path(path)
    if not root.is_dir():
        problem = "does not exist" if not root.exists() else "is a file, not a folder"
        if root.is_file() and root.suffix.lower() == ".zip":
            problem += " (unzip it first)"
        raise FileNotFoundError(f"{where}: '{root}' {problem}; {_WHERE_DATA}")
    for folder in (root, root / "fashion_mnist_images"):
        parts = {part: folder / part for part in ("train", "test")}
        if any(part.is_dir() for part in parts.values()):
            missing = [str(part) for part in parts.values() if not part.is_dir()]
            if missing:
                raise FileNotFoundError(
                    f"{where}: found '{folder}' but not the folder '{missing[0]}'; {_WHERE_DATA}"
                )
            X, y = _read_folder(where, parts["train"])
            X_test, y_test = _read_folder(where, parts["test"])
            for part, labels in ((parts["train"], y), (parts["test"], y_test)):
                if labels.dtype.kind != "i":
                    names = sorted(name for name in labels.tolist() if not _int_name(name))
                    raise ValueError(
                        f"{where}: the label folders in '{part}' must be class numbers "
                        f"(0 to 9), got the folder name {names[0]!r}"
                    )
            _check_same_size(where, parts["train"], X, parts["test"], X_test)
            return X, y, X_test, y_test
    files = {key: _idx_file(root, name) for key, name in _IDX_NAMES.items()}
    found = [file for file in files.values() if file is not None]
    if not found:
        hint = ""
        if root.name in ("train", "test"):
            hint = " (it looks like one part of the data: pass its parent)"
        raise FileNotFoundError(f"{where}: no Fashion-MNIST data in '{root}'{hint}; {_WHERE_DATA}")
    if len(found) < len(files):
        missing = [f"{_IDX_NAMES[key]}(.gz)" for key, file in files.items() if file is None]
        raise FileNotFoundError(
            f"{where}: '{root}' holds some IDX files but not {', '.join(missing)}; {_WHERE_DATA}"
        )
    X, y = _read_idx_pair(where, files["train_images"], files["train_labels"])
    X_test, y_test = _read_idx_pair(where, files["test_images"], files["test_labels"])
    _check_same_size(where, files["train_images"], X, files["test_images"], X_test)
    return X, y, X_test, y_test


# ---- png folders ------------------------------------------------------------------------------


def _read_folder(where: str, root: Path) -> tuple[np.ndarray, np.ndarray]:
    """load_image_folder's work, its errors naming `where`."""
    if not root.is_dir():
        problem = "does not exist" if not root.exists() else "is a file, not a folder"
        raise FileNotFoundError(
            f"{where}: the image folder '{root}' {problem}; expected {root}/<label>/*.png"
            f"{_fashion_hint(where)}"
        )
    folders = [entry for entry in root.iterdir() if entry.is_dir() and _visible(entry)]
    if not folders:
        loose = " (it holds png files directly: put them in subfolders named by label)"
        if not any(_is_png(entry) for entry in root.iterdir()):
            loose = ""
        raise FileNotFoundError(
            f"{where}: '{root}' has no label folders{loose}; expected {root}/<label>/*.png"
            f"{_fashion_hint(where)}"
        )
    labels, folders = _sorted_labels(where, root, folders)
    files_by_label = []
    for folder in folders:
        files = sorted((entry for entry in folder.iterdir() if _is_png(entry)), key=_name_key)
        if not files:
            nested = any(entry.is_dir() and _visible(entry) for entry in folder.iterdir())
            hint = (
                "; it holds folders, so pass a folder whose subfolders hold the images "
                "(e.g. fashion_mnist_images/train, not fashion_mnist_images)"
                if nested
                else ""
            )
            raise FileNotFoundError(
                f"{where}: the label folder '{folder}' has no png files{hint}{_fashion_hint(where)}"
            )
        files_by_label.append(files)
    image_class = _import_pil(where)
    first = files_by_label[0][0]
    shape = _read_png(where, image_class, first).shape
    X = np.empty((sum(map(len, files_by_label)), *shape), dtype=np.uint8)
    row = 0
    for files in files_by_label:
        for file in files:
            image = _read_png(where, image_class, file)
            if image.shape != shape:
                raise ValueError(
                    f"{where}: '{file}' is {_size(image.shape)} but '{first}' is "
                    f"{_size(shape)}; all images must have the same size (resize them first)"
                )
            X[row] = image
            row += 1
    counts = [len(files) for files in files_by_label]
    return X, np.repeat(labels, counts)


def _sorted_labels(where: str, root: Path, folders: list[Path]) -> tuple[np.ndarray, list[Path]]:
    """The labels (int64 if all folder names are ints, else str) and folders, sorted by label."""
    if not all(_int_name(folder.name) for folder in folders):
        folders = sorted(folders, key=_name_key)
        return np.array([folder.name for folder in folders], dtype=str), folders
    by_label: dict[int, Path] = {}
    for folder in sorted(folders, key=_name_key):
        label = int(folder.name)
        if label in by_label:
            raise ValueError(
                f"{where}: the folders '{by_label[label].name}' and '{folder.name}' in '{root}' "
                f"are both label {label}; merge or rename them"
            )
        by_label[label] = folder
    labels = sorted(by_label)
    return np.array(labels, dtype=np.int64), [by_label[label] for label in labels]


def _read_png(where: str, image_class: Any, file: Path) -> np.ndarray:
    """One image as a uint8 (H, W) array, converted to grayscale ("L") if it is not."""
    array = None
    try:
        with image_class.open(file) as image:
            image.load()
            mode = image.mode
            if not _WIDE_MODES.fullmatch(mode):
                array = np.asarray(image if mode == "L" else image.convert("L"), dtype=np.uint8)
    except (OSError, SyntaxError, ValueError) as err:  # UnidentifiedImageError is an OSError
        raise ValueError(f"{where}: cannot read the png file '{file}': {err}") from err
    if array is None:
        raise ValueError(
            f"{where}: '{file}' has Pillow mode {mode!r} (16-bit or float); only 8-bit images "
            f"are read, so convert it to 8-bit grayscale first"
        )
    return array


def _import_pil(where: str) -> Any:
    """Pillow's Image module, or an ImportError saying how to install it."""
    try:
        from PIL import Image
    except ImportError as err:
        raise ImportError(
            f'{where}: reading png images needs Pillow; pip install "tinygrad_nnfs[images]" '
            f"(or pip install pillow). The IDX files of Fashion-MNIST need no Pillow"
        ) from err
    return Image


def _fashion_hint(where: str) -> str:
    return f"; {_WHERE_DATA}" if where == "fashion_mnist" else ""


def _int_name(name: str) -> bool:
    return _INT_NAME.fullmatch(name) is not None


def _visible(entry: Path) -> bool:
    return not entry.name.startswith(".")


def _is_png(entry: Path) -> bool:
    return entry.suffix.lower() == ".png" and _visible(entry) and entry.is_file()


def _name_key(entry: Path) -> str:
    return entry.name


def _size(shape: tuple[int, ...]) -> str:
    return f"{shape[0]}x{shape[1]} (height x width)"


def _check_same_size(
    where: str, train: Path, X: np.ndarray, test: Path, X_test: np.ndarray
) -> None:
    """Raise unless the training and test images have the same height and width."""
    if X.shape[1:] != X_test.shape[1:]:
        raise ValueError(
            f"{where}: the images in '{train}' are {_size(X.shape[1:])} but those in '{test}' "
            f"are {_size(X_test.shape[1:])}; both parts must have images of the same size"
        )


# ---- IDX files --------------------------------------------------------------------------------


def _idx_file(root: Path, name: str) -> Path | None:
    """root/name if it is a file, else root/name.gz if that is, else None."""
    for file in (root / name, root / f"{name}.gz"):
        if file.is_file():
            return file
    return None


def _read_idx_pair(where: str, images: Path, labels: Path) -> tuple[np.ndarray, np.ndarray]:
    """(X uint8 (n, H, W), y int64) from an IDX images file and its IDX labels file."""
    X = _read_idx(where, images, ndim=3)
    y = _read_idx(where, labels, ndim=1).astype(np.int64)
    if len(X) != len(y):
        raise ValueError(
            f"{where}: '{images}' holds {len(X)} images but '{labels}' holds {len(y)} labels; "
            f"the files do not belong together (download them again)"
        )
    return X, y


def _read_idx(where: str, file: Path, ndim: int) -> np.ndarray:
    """An IDX file of unsigned bytes with `ndim` dimensions (gzipped or not) as a uint8 array."""
    data = file.read_bytes()
    if data[:2] == b"\x1f\x8b":  # gzip's magic: decide by content, not by the name
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as err:
            raise ValueError(
                f"{where}: '{file}' is a corrupt or truncated gzip file ({err}); download it again"
            ) from err
    expected = 0x0800 + ndim  # two zero bytes, type 0x08 (unsigned byte), number of dims
    header = 4 + 4 * ndim
    magic = int.from_bytes(data[:4], "big") if len(data) >= 4 else None
    if magic != expected:
        got = "too short for one" if magic is None else f"magic number 0x{magic:08X}"
        raise ValueError(
            f"{where}: '{file}' is not an IDX file of {ndim}-D unsigned bytes ({got}, expected "
            f"magic number 0x{expected:08X}); it is corrupt or not the file its name says"
        )
    if len(data) < header:
        raise ValueError(
            f"{where}: '{file}' is truncated: {len(data)} bytes, shorter than its "
            f"{header}-byte header; download it again"
        )
    shape = tuple(int(dim) for dim in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    size = header + int(np.prod(shape, dtype=np.int64))
    if len(data) != size:
        problem = "truncated" if len(data) < size else "corrupt"
        raise ValueError(
            f"{where}: '{file}' is {problem}: its header gives shape {shape}, "
            f"{size} bytes in all, but it has {len(data)} bytes; download it again"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(shape).copy()
