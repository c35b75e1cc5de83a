"""Images (ch. 19): png folders by label, Fashion-MNIST from its folders or IDX files, errors."""

from __future__ import annotations

import gzip
import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest
from test_chapters import fashion_mnist_labels

from tinygrad_nnfs import images
from tinygrad_nnfs.images import FASHION_MNIST_LABELS, fashion_mnist, load_image_folder

Image = pytest.importorskip("PIL.Image")

IDX_NAMES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)


# ---- test data --------------------------------------------------------------------------------


def pixels(seed: int, shape: tuple[int, int] = (3, 5)) -> np.ndarray:
    """A uint8 image with known, distinct values (height != width catches a transpose)."""
    return ((np.arange(shape[0] * shape[1]).reshape(shape) * 7 + seed * 31) % 256).astype(np.uint8)


def write_png(file: Path, array: np.ndarray) -> None:
    file.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array).save(file)


def make_folder(root: Path, layout: dict[str, list[str]], shape=(3, 5)) -> list[np.ndarray]:
    """Write root/<label>/<file> for `layout`; return each image's array in written order."""
    written = []
    for label, files in layout.items():
        (root / label).mkdir(parents=True, exist_ok=True)
        for name in files:
            array = pixels(len(written), shape)
            write_png(root / label / name, array)
            written.append(array)
    return written


def fake_fashion(folder: Path, shape=(28, 28)) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A small fashion_mnist_images folder: train 3 classes x 2 images, test 3 x 1."""
    parts = {}
    seed = 0
    for part, per_class in (("train", 2), ("test", 1)):
        X, y = [], []
        for label in (0, 1, 2):
            for index in range(per_class):
                array = pixels(seed, shape)
                seed += 1
                write_png(folder / part / str(label) / f"{index:04}.png", array)
                X.append(array)
                y.append(label)
        parts[part] = (np.stack(X), np.array(y))
    return parts


def write_idx(file: Path, array: np.ndarray, compress: bool = False) -> None:
    """An IDX file of unsigned bytes, as the Fashion-MNIST project ships them."""
    header = np.array([0x0800 + array.ndim, *array.shape], dtype=">u4").tobytes()
    data = header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()
    file.write_bytes(gzip.compress(data) if compress else data)


def fake_idx(folder: Path, parts, compress: bool = False) -> None:
    suffix = ".gz" if compress else ""
    folder.mkdir(parents=True, exist_ok=True)
    X, y = parts["train"]
    X_test, y_test = parts["test"]
    for name, array in zip(IDX_NAMES, (X, y, X_test, y_test), strict=True):
        write_idx(folder / (name + suffix), array, compress)


def no_pillow(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "PIL", None)
    monkeypatch.setitem(sys.modules, "PIL.Image", None)


# ---- load_image_folder ------------------------------------------------------------------------


def test_load_image_folder_values_dtypes_and_file_order(tmp_path):
    written = make_folder(
        tmp_path, {"1": ["0002.png", "0000.png", "0001.png"], "0": ["b.png", "a.png"]}
    )
    X, y = load_image_folder(tmp_path)
    assert X.dtype == np.uint8 and X.shape == (5, 3, 5)
    assert y.dtype == np.int64
    np.testing.assert_array_equal(y, [0, 0, 1, 1, 1])
    # label 0: a.png, b.png; label 1: 0000, 0001, 0002 (written as 3, 4 then 0, 1, 2)
    expected = [written[4], written[3], written[1], written[2], written[0]]
    np.testing.assert_array_equal(X, np.stack(expected))
    assert X.flags.writeable and X.flags.c_contiguous


def test_load_image_folder_accepts_str_paths(tmp_path):
    make_folder(tmp_path, {"0": ["a.png"]})
    X, y = load_image_folder(str(tmp_path))
    assert X.shape == (1, 3, 5) and y.tolist() == [0]


def test_int_labels_sort_numerically_and_files_by_name(tmp_path):
    written = make_folder(
        tmp_path, {"9": ["x.png"], "10": ["b.png", "a.png", "10.png"], "2": ["y.png"]}
    )
    X, y = load_image_folder(tmp_path)
    assert y.tolist() == [2, 9, 10, 10, 10]
    # in "10": "10.png" < "a.png" < "b.png" by name
    expected = [written[4], written[0], written[3], written[2], written[1]]
    np.testing.assert_array_equal(X, np.stack(expected))


def test_negative_int_folder_names_are_ints(tmp_path):
    make_folder(tmp_path, {"-1": ["a.png"], "1": ["a.png"]})
    _, y = load_image_folder(tmp_path)
    assert y.dtype == np.int64 and y.tolist() == [-1, 1]


def test_non_int_folder_names_give_str_labels_sorted_as_strings(tmp_path):
    make_folder(tmp_path, {"dog": ["a.png"], "cat": ["a.png", "b.png"], "7": ["a.png"]})
    _, y = load_image_folder(tmp_path)
    assert y.dtype.kind == "U"
    assert y.tolist() == ["7", "cat", "cat", "dog"]


def test_non_png_files_and_hidden_entries_are_ignored(tmp_path):
    written = make_folder(tmp_path, {"0": ["a.png", "B.PNG"], "1": ["c.png"]})
    (tmp_path / "0" / "notes.txt").write_text("not an image")
    Image.fromarray(pixels(9)).save(tmp_path / "0" / "d.jpg")
    (tmp_path / "0" / "nested").mkdir()
    (tmp_path / "readme.txt").write_text("labels are folders")
    make_folder(tmp_path / ".ipynb_checkpoints", {"0": ["a.png"]})
    write_png(tmp_path / "1" / ".hidden.png", pixels(8))
    X, y = load_image_folder(tmp_path)
    assert y.tolist() == [0, 0, 1]
    # "B.PNG" sorts before "a.png" (upper case first) and is read: the suffix is any case
    np.testing.assert_array_equal(X, np.stack([written[1], written[0], written[2]]))


def test_grayscale_rgb_is_exact_and_other_modes_convert_as_pillow_does(tmp_path):
    gray = pixels(3)
    rgb = np.random.default_rng(0).integers(0, 256, (3, 5, 3), dtype=np.uint8)
    write_png(tmp_path / "0" / "a_gray_rgb.png", np.repeat(gray[..., None], 3, axis=2))
    write_png(tmp_path / "0" / "b_rgb.png", rgb)
    rgba = np.concatenate([rgb, np.zeros((3, 5, 1), np.uint8)], axis=2)  # fully transparent
    write_png(tmp_path / "0" / "c_rgba.png", rgba)
    Image.fromarray(gray).convert("P").save(tmp_path / "0" / "d_palette.png")
    Image.fromarray(gray).convert("1").save(tmp_path / "0" / "e_bilevel.png")
    X, y = load_image_folder(tmp_path)
    assert X.dtype == np.uint8 and X.shape == (5, 3, 5) and y.tolist() == [0] * 5
    np.testing.assert_array_equal(X[0], gray)
    as_l = np.asarray(Image.fromarray(rgb).convert("L"))
    np.testing.assert_array_equal(X[1], as_l)
    np.testing.assert_array_equal(X[2], as_l)  # alpha is dropped, not composited
    with Image.open(tmp_path / "0" / "d_palette.png") as palette:
        np.testing.assert_array_equal(X[3], np.asarray(palette.convert("L")))
    assert set(np.unique(X[4]).tolist()) <= {0, 255}


def test_16_bit_images_are_refused(tmp_path):
    write_png(tmp_path / "0" / "deep.png", np.full((3, 5), 1000, dtype=np.uint16))
    with pytest.raises(ValueError, match=r"deep\.png.*16-bit.*8-bit"):
        load_image_folder(tmp_path)


def test_images_of_different_sizes_name_the_file_and_both_sizes(tmp_path):
    write_png(tmp_path / "0" / "a.png", pixels(0, (3, 5)))
    write_png(tmp_path / "1" / "big.png", pixels(1, (4, 6)))
    with pytest.raises(ValueError, match=r"big\.png' is 4x6 .*a\.png' is 3x5"):
        load_image_folder(tmp_path)


def test_missing_folder(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match=r"load_image_folder: .*nowhere.*does not exist"):
        load_image_folder(missing)
    (tmp_path / "file.png").write_bytes(b"")
    with pytest.raises(FileNotFoundError, match="not a folder"):
        load_image_folder(tmp_path / "file.png")


def test_folder_without_label_folders(tmp_path):
    with pytest.raises(FileNotFoundError, match="has no label folders"):
        load_image_folder(tmp_path)
    write_png(tmp_path / "loose.png", pixels(0))
    with pytest.raises(FileNotFoundError, match="holds png files directly"):
        load_image_folder(tmp_path)


def test_label_folder_without_png_files(tmp_path):
    make_folder(tmp_path, {"0": ["a.png"]})
    (tmp_path / "1").mkdir()
    (tmp_path / "1" / "a.txt").write_text("")
    with pytest.raises(FileNotFoundError, match=r"label folder '.*1' has no png files"):
        load_image_folder(tmp_path)


def test_the_parent_of_the_label_folders_gets_a_hint(tmp_path):
    fake_fashion(tmp_path / "fashion_mnist_images", shape=(3, 5))
    with pytest.raises(FileNotFoundError, match=r"fashion_mnist_images/train, not"):
        load_image_folder(tmp_path / "fashion_mnist_images")


def test_two_folders_with_the_same_int_label(tmp_path):
    make_folder(tmp_path, {"1": ["a.png"], "01": ["a.png"]})
    with pytest.raises(ValueError, match=r"'01' and '1' .* both label 1"):
        load_image_folder(tmp_path)


def test_unreadable_png(tmp_path):
    (tmp_path / "0").mkdir()
    (tmp_path / "0" / "broken.png").write_bytes(b"not a png at all")
    with pytest.raises(ValueError, match=r"cannot read the png file '.*broken\.png'"):
        load_image_folder(tmp_path)


def test_missing_pillow_says_how_to_install_it(tmp_path, monkeypatch):
    make_folder(tmp_path, {"0": ["a.png"]})
    no_pillow(monkeypatch)
    with pytest.raises(ImportError, match=r'pip install "tinygrad_nnfs\[images\]"'):
        load_image_folder(tmp_path)


def test_the_module_imports_without_pillow(monkeypatch):
    no_pillow(monkeypatch)
    spec = importlib.util.spec_from_file_location("_images_without_pillow", images.__file__)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert sorted(module.__all__) == ["FASHION_MNIST_LABELS", "fashion_mnist", "load_image_folder"]


# ---- fashion_mnist ----------------------------------------------------------------------------


def test_labels_are_the_books():
    assert fashion_mnist_labels == FASHION_MNIST_LABELS  # Ch22_Final.py's, transcribed
    assert list(FASHION_MNIST_LABELS) == list(range(10))


@pytest.mark.parametrize("form", ["folder", "parent"])
def test_fashion_mnist_from_the_books_folder_or_its_parent(tmp_path, form):
    parts = fake_fashion(tmp_path / "fashion_mnist_images")
    path = tmp_path / "fashion_mnist_images" if form == "folder" else tmp_path
    X, y, X_test, y_test = fashion_mnist(path)
    for got, want in ((X, parts["train"][0]), (X_test, parts["test"][0])):
        assert got.dtype == np.uint8 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    for got, want in ((y, parts["train"][1]), (y_test, parts["test"][1])):
        assert got.dtype == np.int64
        np.testing.assert_array_equal(got, want)
    assert X.shape == (6, 28, 28) and y.tolist() == [0, 0, 1, 1, 2, 2]
    assert X_test.shape == (3, 28, 28) and y_test.tolist() == [0, 1, 2]


@pytest.mark.parametrize("compress", [False, True])
def test_fashion_mnist_from_idx_files_matches_the_folders(tmp_path, monkeypatch, compress):
    parts = fake_fashion(tmp_path / "fashion_mnist_images")
    from_folders = fashion_mnist(tmp_path)
    fake_idx(tmp_path / "idx", parts, compress)
    no_pillow(monkeypatch)  # the IDX files need no Pillow
    from_idx = fashion_mnist(tmp_path / "idx")
    for got, want in zip(from_idx, from_folders, strict=True):
        assert got.dtype == want.dtype and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    assert from_idx[1].dtype == np.int64 and from_idx[0].flags.writeable


def test_idx_files_gzipped_under_a_plain_name_are_read(tmp_path):
    parts = fake_fashion(tmp_path / "fashion_mnist_images", shape=(3, 5))
    fake_idx(tmp_path / "idx", parts, compress=True)
    for name in IDX_NAMES:  # e.g. a browser that kept the content but dropped ".gz"
        (tmp_path / "idx" / f"{name}.gz").rename(tmp_path / "idx" / name)
    X, y, X_test, y_test = fashion_mnist(tmp_path / "idx")
    np.testing.assert_array_equal(X, parts["train"][0])
    np.testing.assert_array_equal(y, parts["train"][1])
    np.testing.assert_array_equal(X_test, parts["test"][0])
    np.testing.assert_array_equal(y_test, parts["test"][1])


def test_a_plain_idx_file_is_preferred_to_its_gz(tmp_path):
    parts = fake_fashion(tmp_path / "fashion_mnist_images", shape=(3, 5))
    fake_idx(tmp_path / "idx", parts)
    (tmp_path / "idx" / f"{IDX_NAMES[0]}.gz").write_bytes(b"corrupt, and never read")
    X, *_ = fashion_mnist(tmp_path / "idx")
    np.testing.assert_array_equal(X, parts["train"][0])


@pytest.mark.parametrize("where", ["nowhere", "empty"])
def test_missing_data_says_where_and_how_the_book_gets_it(tmp_path, where):
    path = tmp_path / where
    if where == "empty":
        path.mkdir()
    with pytest.raises(FileNotFoundError) as info:
        fashion_mnist(path)
    message = str(info.value)
    assert message.startswith("fashion_mnist: ") and where in message
    assert "https://nnfs.io/datasets/fashion_mnist_images.zip" in message
    assert "fashion_mnist_images" in message.replace("fashion_mnist_images.zip", "")
    assert "train-images-idx3-ubyte" in message and "Fashion-MNIST project" in message


def test_a_zip_file_is_to_be_unzipped(tmp_path):
    (tmp_path / "fashion_mnist_images.zip").write_bytes(b"PK")
    with pytest.raises(FileNotFoundError, match=r"unzip it first.*nnfs\.io"):
        fashion_mnist(tmp_path / "fashion_mnist_images.zip")


def test_one_part_of_the_data_is_pointed_at_its_parent(tmp_path):
    fake_fashion(tmp_path / "fashion_mnist_images", shape=(3, 5))
    with pytest.raises(FileNotFoundError, match="pass its parent"):
        fashion_mnist(tmp_path / "fashion_mnist_images" / "train")


def test_a_missing_test_folder(tmp_path):
    make_folder(tmp_path / "fashion_mnist_images" / "train", {"0": ["a.png"]})
    with pytest.raises(FileNotFoundError, match=r"not the folder '.*test'.*nnfs\.io"):
        fashion_mnist(tmp_path)


def test_an_empty_label_folder_in_the_books_folder(tmp_path):
    fake_fashion(tmp_path, shape=(3, 5))
    (tmp_path / "test" / "3").mkdir()
    with pytest.raises(FileNotFoundError, match=r"fashion_mnist: the label folder .*3' has no png"):
        fashion_mnist(tmp_path)


def test_fashion_mnist_folders_need_int_labels(tmp_path):
    fake_fashion(tmp_path, shape=(3, 5))
    make_folder(tmp_path / "test", {"shoe": ["a.png"]})
    with pytest.raises(ValueError, match=r"must be class numbers.*'shoe'"):
        fashion_mnist(tmp_path)


def test_train_and_test_images_must_have_the_same_size(tmp_path):
    fake_fashion(tmp_path / "train_part", shape=(3, 5))
    fake_fashion(tmp_path / "test_part", shape=(4, 4))
    (tmp_path / "train_part" / "train").rename(tmp_path / "train")
    (tmp_path / "test_part" / "test").rename(tmp_path / "test")
    with pytest.raises(ValueError, match=r"are 3x5 .* are 4x4"):
        fashion_mnist(tmp_path)


def test_fashion_mnist_folders_without_pillow(tmp_path, monkeypatch):
    fake_fashion(tmp_path, shape=(3, 5))
    no_pillow(monkeypatch)
    with pytest.raises(ImportError, match=r"fashion_mnist: .*tinygrad_nnfs\[images\]"):
        fashion_mnist(tmp_path)


def test_some_idx_files_missing(tmp_path):
    parts = fake_fashion(tmp_path / "fashion_mnist_images", shape=(3, 5))
    fake_idx(tmp_path / "idx", parts)
    (tmp_path / "idx" / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match=r"but not t10k-labels-idx1-ubyte\(\.gz\)"):
        fashion_mnist(tmp_path / "idx")


def corrupt_idx(tmp_path, name: str, data: bytes) -> Path:
    """A valid IDX folder whose file `name` is replaced by `data`; returns the folder."""
    parts = fake_fashion(tmp_path / "fashion_mnist_images", shape=(3, 5))
    fake_idx(tmp_path / "idx", parts)
    (tmp_path / "idx" / name).write_bytes(data)
    return tmp_path / "idx"


def test_idx_with_a_wrong_magic_number(tmp_path):
    labels = tmp_path / "labels.bin"
    write_idx(labels, np.arange(6, dtype=np.uint8))  # a labels file in the images' place
    folder = corrupt_idx(tmp_path, "train-images-idx3-ubyte", labels.read_bytes())
    with pytest.raises(ValueError, match=r"train-images-idx3-ubyte' is not an IDX.*0x00000801"):
        fashion_mnist(folder)
    (folder / "train-images-idx3-ubyte").write_bytes(b"\x00\x00")
    with pytest.raises(ValueError, match="too short"):
        fashion_mnist(folder)


def test_truncated_and_padded_idx(tmp_path):
    folder = corrupt_idx(tmp_path, "t10k-images-idx3-ubyte", b"")
    whole = tmp_path / "whole"
    write_idx(whole, np.zeros((3, 3, 5), np.uint8))
    data = whole.read_bytes()
    (folder / "t10k-images-idx3-ubyte").write_bytes(data[:-1])
    with pytest.raises(ValueError, match=r"t10k-images-idx3-ubyte' is truncated.*\(3, 3, 5\)"):
        fashion_mnist(folder)
    (folder / "t10k-images-idx3-ubyte").write_bytes(data[:10])  # inside the header
    with pytest.raises(ValueError, match=r"truncated.*header"):
        fashion_mnist(folder)
    (folder / "t10k-images-idx3-ubyte").write_bytes(data + b"\x00")
    with pytest.raises(ValueError, match=r"is corrupt.*61 bytes"):
        fashion_mnist(folder)


def test_corrupt_gzip(tmp_path):
    packed = gzip.compress(np.array([0x0801, 6], dtype=">u4").tobytes() + bytes(6))
    folder = corrupt_idx(tmp_path, "train-labels-idx1-ubyte", packed[:-5])
    with pytest.raises(
        ValueError, match=r"train-labels-idx1-ubyte' is a corrupt or truncated gzip"
    ):
        fashion_mnist(folder)


def test_image_and_label_counts_must_match(tmp_path):
    folder = corrupt_idx(tmp_path, "train-labels-idx1-ubyte", b"")
    write_idx(folder / "train-labels-idx1-ubyte", np.zeros(5, np.uint8))
    with pytest.raises(ValueError, match=r"holds 6 images but .*labels-idx1-ubyte' holds 5 labels"):
        fashion_mnist(folder)


def test_idx_train_and_test_sizes_must_match(tmp_path):
    folder = corrupt_idx(tmp_path, "t10k-images-idx3-ubyte", b"")
    write_idx(folder / "t10k-images-idx3-ubyte", np.zeros((3, 4, 4), np.uint8))
    with pytest.raises(ValueError, match=r"are 3x5 .* are 4x4"):
        fashion_mnist(folder)
