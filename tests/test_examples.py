"""examples/*.py: each runs with tiny epochs and prints its table or log lines; each is short."""

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
}


def load(name):
    """Import examples/<name>.py as a module without running its __main__ block."""
    spec = importlib.util.spec_from_file_location(f"example_{name}", EXAMPLES / f"{name}.py")
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


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.py")), ids=lambda path: path.name)
def test_example_stays_under_100_lines(path):
    assert len(path.read_text().splitlines()) < 100
