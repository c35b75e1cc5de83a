"""examples/*.py: each runs with tiny epochs and prints its table or log lines; each is short.

examples/chapters/*.py, the book's chapter programs, are run side by side with the book's
code in tests/test_chapters.py; the two chapters without a program in the book (12 and
13) are run here.
"""

import importlib.util
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"

# example name -> (keyword arguments for its main(), texts its output must contain)
CASES = {
    "optimizers": (
        {"epochs": 3},
        ["optimizer", "SGD ", "SGD+momentum", "Adagrad", "RMSprop", "Adam"],
    ),
    "out_of_sample": (
        {"epochs": 3, "print_every": 1},
        [
            "epoch: 0, acc: 0.360, loss: 1.099 (data_loss: 1.099, reg_loss: 0.000), lr: 0.05",
            "validation, acc: ",
            "gap",
        ],
    ),
    "regularization": ({"epochs": 3}, ["none", "L2 5e-4", "L1 5e-4", "loss gap"]),
    "dropout": ({"epochs": 3}, ["no dropout", "Dropout(0.1)", "loss gap is"]),
    "binary_logistic": (
        {"epochs": 3, "print_every": 1},
        ["epoch: 0, acc: 0.500, loss: 0.693", "epoch: 2, ", "validation, acc: ", "train"],
    ),
    "regression": ({"epochs": 3, "samples": 50}, ["float64", "0.01 * randn", "0.1 * randn"]),
    "choose_l2_by_kfold": (
        {"epochs": 3, "samples": 20},
        ["L2 strength", "0.0001", "0.005", "best L2 strength", "out-of-sample test acc"],
    ),
    "scaling": ({"epochs": 3}, ["raw", "[4021, 5969]", "scaled", "[-1, 1]", "/64"]),
    "second_derivatives": (
        {"epochs": 3},
        [
            "newton step 0: f = 6.776e+00 at [-1.2  1. ]",
            "e-14 at [1. 1.]",  # step 7: Newton's quadratic convergence to the minimum
            "epoch 2: loss ",
            "curvature along the gradient: ",
            "gradgradcheck(Cube): True",
        ],
    ),
    "sweep_optimizers": (
        {"epochs": 3, "samples": 10, "seeds": 2, "backend": "sequential"},
        ["8 runs", "optimizer", "sgd", "adagrad", "rmsprop", "adam", "val_acc mean", "best: "],
    ),
    "fashion_cnn": (
        {"path": "no-such-folder", "epochs": 1, "samples_per_class": 8},
        ["a generated stand-in", "after 1 epochs on 80 images", "dense network ", "CNN "],
    ),
}


# chapter script -> (keyword arguments for its main(), texts its output must contain)
CHAPTER_CASES = {
    "ch12": (
        {"epochs": 3, "samples": 20, "print_every": 1},
        [
            "epoch: 2, acc: ",
            ", val_acc: ",
            "fold 5/5: validation, acc: ",
            "5-fold mean: acc: ",
            "test, acc: ",
        ],
    ),
    "ch13": (
        {"epochs": 3, "samples": 20},
        [
            "raw: feature 0 in [",
            "scaled: feature 0 in [-1, 1], feature 1 in [-1, 1]",
            "  validation, acc: ",
            "inverse_transform: largest errors ",
        ],
    ),
}


def load(name, folder=EXAMPLES):
    """Import <folder>/<name>.py as a module without running its __main__ block."""
    module_name = f"example_{name}" if folder == EXAMPLES else f"example_{folder.name}_{name}"
    spec = importlib.util.spec_from_file_location(module_name, folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", list(CASES))
def test_example_prints_its_results(name, capsys):
    kwargs, expected = CASES[name]
    load(name).main(**kwargs)
    printed = capsys.readouterr().out
    for text in expected:
        assert text in printed, f"examples/{name}.py did not print {text!r}:\n{printed}"


@pytest.mark.parametrize("name", list(CHAPTER_CASES))
def test_chapter_without_a_book_program_prints_its_results(name, capsys):
    kwargs, expected = CHAPTER_CASES[name]
    load(name, EXAMPLES / "chapters").main(**kwargs)
    printed = capsys.readouterr().out
    for text in expected:
        assert text in printed, f"examples/chapters/{name}.py did not print {text!r}:\n{printed}"


SCRIPTS = sorted([*EXAMPLES.glob("*.py"), *EXAMPLES.glob("chapters/*.py")])


def test_every_chapter_from_10_to_22_has_a_script():
    names = {path.name for path in SCRIPTS if path.parent.name == "chapters"}
    assert {f"ch{chapter}.py" for chapter in range(10, 23)} <= names


@pytest.mark.parametrize("path", SCRIPTS, ids=lambda path: str(path.relative_to(EXAMPLES)))
def test_example_stays_under_100_lines(path):
    assert len(path.read_text().splitlines()) < 100
