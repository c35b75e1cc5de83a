"""Module discovery, modes, state dicts and .npz save/load (validated, atomic, no pickle)."""

from __future__ import annotations

import os
from collections import OrderedDict

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from tinygrad_nnfs import Tensor
from tinygrad_nnfs.nn import Dense, Dropout, Module, ReLU, Sequential


class Net(Module):
    """The book's 2-64-3 network, with an independent stream per layer."""

    def __init__(self, seed=0, dtype=None):
        super().__init__()
        self.dense1 = Dense(2, 64, rng=seed, dtype=dtype)
        self.activation1 = ReLU()
        self.dense2 = Dense(64, 3, rng=seed + 1, dtype=dtype)

    def forward(self, inputs):
        self.output = self.dense2(self.activation1(self.dense1(inputs)))  # a cached non-leaf
        return self.output


def snapshot(model):
    return {name: (param, param.data.copy()) for name, param in model.named_parameters()}


def assert_unchanged(model, before):
    after = dict(model.named_parameters())
    assert list(after) == list(before)
    for name, (param, data) in before.items():
        assert after[name] is param
        assert param.data.dtype == data.dtype
        assert_array_equal(param.data, data)


# ---- discovery ----------------------------------------------------------------------------------
def test_named_parameters_follow_attribute_paths_in_definition_order():
    class Block(Module):
        def __init__(self):  # no super().__init__(): still a working Module
            self.dense = Dense(2, 3)
            self.activation = ReLU()
            self.scale = Tensor(1.0, requires_grad=True)
            self.constant = Tensor([2.0])  # requires no grad: not a parameter

    class Model(Module):
        def __init__(self):
            self.dense1 = Dense(2, 4)
            self.block = Block()
            self.heads = [Dense(3, 1), Dense(3, 1)]
            self.pair = (ReLU(), Dense(1, 1))
            self.note = "not a module"

    model = Model()
    assert [name for name, _ in model.named_parameters()] == [
        "dense1.weights",
        "dense1.biases",
        "block.dense.weights",
        "block.dense.biases",
        "block.scale",
        "heads.0.weights",
        "heads.0.biases",
        "heads.1.weights",
        "heads.1.biases",
        "pair.1.weights",
        "pair.1.biases",
    ]
    assert model.parameters()[0] is model.dense1.weights
    assert model.block.training
    assert [type(m).__name__ for m in model.children()] == [
        "Dense",
        "Block",
        "Dense",
        "Dense",
        "ReLU",
        "Dense",
    ]
    assert len(list(model.modules())) == 9


def test_cached_outputs_are_not_parameters():
    model = Net()
    model(np.ones((2, 2), dtype=np.float32))
    assert model.output.requires_grad
    assert list(model.state_dict()) == [
        "dense1.weights",
        "dense1.biases",
        "dense2.weights",
        "dense2.biases",
    ]


def test_shared_modules_and_tensors_appear_once():
    class Tied(Module):
        def __init__(self):
            self.first = Dense(3, 3)
            self.second = self.first
            self.weights = self.first.weights

    assert [name for name, _ in Tied().named_parameters()] == ["first.weights", "first.biases"]


def test_sequential_names_children_by_position_and_chains_them():
    model = Sequential(Dense(2, 4, rng=0), ReLU(), Dense(4, 3, rng=1))
    assert [name for name, _ in model.named_parameters()] == [
        "0.weights",
        "0.biases",
        "2.weights",
        "2.biases",
    ]
    inputs = np.random.RandomState(0).randn(5, 2).astype(np.float32)
    assert_array_equal(model(inputs).data, model[2](model[1](model[0](inputs))).data)
    assert len(model) == 3
    assert model[-1] is model[2]
    assert [type(m).__name__ for m in model[1:]] == ["ReLU", "Dense"]
    assert repr(model) == "Sequential(\n  (0): Dense(2, 4)\n  (1): ReLU()\n  (2): Dense(4, 3)\n)"


def test_sequential_errors():
    with pytest.raises(TypeError, match="Sequential: argument 1 is a function, not a Module"):
        Sequential(ReLU(), lambda x: x)
    with pytest.raises(IndexError, match="index 2 out of range for 2 modules"):
        Sequential(ReLU(), ReLU())[2]


def test_forward_must_be_defined():
    with pytest.raises(NotImplementedError, match="Module must define forward"):
        Module()(1)


def test_zero_grad_clears_every_parameter():
    model = Net()
    model(np.ones((3, 2), dtype=np.float32)).sum().backward()
    assert all(param.grad is not None for param in model.parameters())
    model.zero_grad()
    assert all(param.grad is None for param in model.parameters())


def test_train_and_eval_are_recursive_and_return_self():
    model = Sequential(Dense(2, 2), Sequential(Dropout(0.5), ReLU()))
    assert model.training
    assert model.eval() is model
    assert not any(module.training for module in model.modules())
    assert model.train() is model
    assert all(module.training for module in model.modules())


# ---- state dicts --------------------------------------------------------------------------------
def test_state_dict_is_an_ordered_copy():
    model = Net()
    state = model.state_dict()
    assert isinstance(state, OrderedDict)
    assert list(state) == [name for name, _ in model.named_parameters()]
    state["dense1.weights"][...] = 7
    assert not np.any(model.dense1.weights.data == 7)
    model.dense1.biases.data[...] = 3
    assert not np.any(state["dense1.biases"] == 3)


def test_load_state_dict_copies_in_place_and_keeps_dtypes():
    model, source = Net(seed=0), Net(seed=10, dtype=np.float64)
    weights = model.dense1.weights
    array = weights.data
    model.load_state_dict(source.state_dict())
    assert model.dense1.weights is weights and weights.data is array
    assert weights.dtype == np.float32
    assert_array_equal(weights.data, source.dense1.weights.data.astype(np.float32))


def test_load_state_dict_accepts_tensors_and_follows_reassigned_data():
    model, source = Net(seed=0), Net(seed=10)
    model.dense2.biases.data = np.zeros((1, 3), dtype=np.float32)  # the user swaps the array
    state = {name: Tensor(value) for name, value in source.state_dict().items()}
    model.load_state_dict(state)
    assert_array_equal(model.dense2.biases.data, source.dense2.biases.data)
    assert_array_equal(model.state_dict()["dense2.weights"], source.dense2.weights.data)


def bad_states():
    good = Net(seed=10).state_dict()  # differs from Net(seed=0) everywhere
    missing = OrderedDict(good)
    del missing["dense2.biases"]
    unexpected = OrderedDict(good, extra=np.zeros(1, dtype=np.float32))
    wrong_shape = OrderedDict(good)
    wrong_shape["dense2.biases"] = np.zeros((3,), dtype=np.float32)
    wrong_kind = OrderedDict(good)
    wrong_kind["dense2.biases"] = np.zeros((1, 3), dtype=np.int64)
    return [
        (missing, r"missing keys \['dense2.biases'\]"),
        (unexpected, r"unexpected keys \['extra'\]"),
        (wrong_shape, r"'dense2.biases' has shape \(3,\) but the parameter has shape \(1, 3\)"),
        (wrong_kind, r"'dense2.biases' has dtype int64 but the parameter is float32"),
    ]


@pytest.mark.parametrize(("state", "message"), bad_states())
def test_load_state_dict_errors_leave_the_model_untouched(state, message):
    model = Net(seed=0)
    before = snapshot(model)
    with pytest.raises(ValueError, match=message):
        model.load_state_dict(state)
    assert_unchanged(model, before)


def test_load_state_dict_rejects_read_only_parameters_before_writing():
    model = Net(seed=0)
    model.dense2.biases.data = np.broadcast_to(np.float32(0), (1, 3))
    before = snapshot(model)
    with pytest.raises(ValueError, match=r"'dense2.biases' is read-only"):
        model.load_state_dict(Net(seed=10).state_dict())
    assert_unchanged(model, before)


def test_load_state_dict_needs_a_mapping():
    with pytest.raises(TypeError, match=r"expected a mapping name -> array.*got list"):
        Net().load_state_dict([np.zeros(3)])


# ---- save / load --------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_save_load_round_trip_is_bit_exact(tmp_path, dtype):
    source, model = Net(seed=3, dtype=dtype), Net(seed=0, dtype=dtype)
    path = source.save(tmp_path / "model.npz")
    assert path == str(tmp_path / "model.npz")
    model.load(path)
    for (name, param), (_, expected) in zip(
        model.named_parameters(), source.named_parameters(), strict=True
    ):
        assert param.dtype == dtype, name
        assert_array_equal(param.data, expected.data)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


def test_save_and_load_append_npz_like_numpy(tmp_path):
    source, model = Net(seed=3), Net(seed=0)
    assert source.save(tmp_path / "model") == str(tmp_path / "model.npz")
    model.load(tmp_path / "model")
    assert_array_equal(model.dense1.weights.data, source.dense1.weights.data)
    with np.load(tmp_path / "model.npz", allow_pickle=False) as archive:
        assert archive.files == list(source.state_dict())


def test_load_missing_file_names_the_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"load: no such file .*nowhere\.npz"):
        Net().load(tmp_path / "nowhere.npz")


def write_truncated(path):
    Net(seed=3).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def write_garbage(path):
    path.write_bytes(b"not an archive at all" * 10)


def write_single_array(path):
    with open(path, "wb") as file:
        np.save(file, np.zeros(3))


def write_pickled_object(path):
    with open(path, "wb") as file:
        np.savez(file, **{"dense1.weights": np.array([{}], dtype=object)})


@pytest.mark.parametrize(
    ("write", "message"),
    [
        (write_truncated, "is not a readable .npz archive"),
        (write_garbage, "is not a readable .npz archive"),
        (write_single_array, "holds a single array"),
        (write_pickled_object, "is not a readable .npz archive"),  # allow_pickle=False
    ],
)
def test_load_corrupt_file_is_a_value_error_naming_the_file(tmp_path, write, message):
    path = tmp_path / "model.npz"
    write(path)
    model = Net(seed=0)
    before = snapshot(model)
    with pytest.raises(ValueError, match=rf"load: '.*model\.npz' {message}"):
        model.load(path)
    assert_unchanged(model, before)


@pytest.mark.parametrize(("state", "message"), bad_states())
def test_load_mismatched_file_names_file_and_key_and_leaves_the_model_untouched(
    tmp_path, state, message
):
    path = tmp_path / "other.npz"
    np.savez(path, **state)
    model = Net(seed=0)
    before = snapshot(model)
    with pytest.raises(ValueError, match=rf"load: '.*other\.npz': load_state_dict: .*{message}"):
        model.load(path)
    assert_unchanged(model, before)


def failing_savez(file, **arrays):
    file.write(b"PK\x03\x04 half an archive")
    raise OSError("disk full")


def failing_replace(source, destination):
    raise OSError("cross-device link")


@pytest.mark.parametrize(
    ("target", "name", "replacement", "message"),
    [(np, "savez", failing_savez, "disk full"), (os, "replace", failing_replace, "cross-device")],
)
def test_interrupted_save_keeps_the_previous_file_and_no_temporary(
    tmp_path, monkeypatch, target, name, replacement, message
):
    path = tmp_path / "model.npz"
    Net(seed=3).save(path)
    good = path.read_bytes()
    monkeypatch.setattr(target, name, replacement)
    with pytest.raises(OSError, match=message):
        Net(seed=0).save(path)
    monkeypatch.undo()
    assert path.read_bytes() == good
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
    model = Net(seed=0)
    model.load(path)
    assert_array_equal(model.dense1.weights.data, Net(seed=3).dense1.weights.data)
