"""Module discovery, modes, state dicts and .npz save/load (validated, atomic, no pickle)."""

from __future__ import annotations

import errno
import os
import re
import signal
import subprocess
import sys
import uuid
import warnings
from collections import OrderedDict

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import tinygrad_nnfs.nn.module as module_py
from tinygrad_nnfs import Tensor
from tinygrad_nnfs.nn import Dense, Dropout, Module, ReLU, Sequential

if os.name == "posix":
    import fcntl

posix_only = pytest.mark.skipif(os.name != "posix", reason="flock and SIGKILL are POSIX")


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


def test_load_state_dict_casts_every_array_before_writing_any():
    # A float64 checkpoint loaded into a float16 model: 1e6 is beyond float16's 65504.
    model = Net(seed=0, dtype=np.float16)
    state = Net(seed=10, dtype=np.float64).state_dict()
    state["dense2.biases"][0, 1] = 1e6  # the last parameter: the other three would load first
    before = snapshot(model)
    message = (
        r"load_state_dict: key 'dense2.biases' holds values beyond the range of float16 "
        r"\(largest 65504\), which load as inf"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match=message):
            model.load_state_dict(state)
    assert_unchanged(model, before)

    with pytest.warns(RuntimeWarning, match=message):
        model.load_state_dict(state)
    assert model.dense2.biases.data[0, 1] == np.inf
    assert_array_equal(model.dense1.weights.data, state["dense1.weights"].astype(np.float16))


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


def temporary_of(directory, filename="model.npz"):
    """A file named as save() names its temporary files, holding half an archive."""
    path = directory / f".{filename}.{uuid.uuid4().hex}.tmp"
    path.write_bytes(b"PK\x03\x04 half an archive")
    return path


@posix_only
def test_save_removes_the_temporary_files_no_save_holds(tmp_path):
    path = tmp_path / "model.npz"
    dead, live = temporary_of(tmp_path), temporary_of(tmp_path)
    others = [temporary_of(tmp_path, "model.npz.old"), tmp_path / ".model.npz.notes.tmp"]
    others[1].write_bytes(b"the user's own file")
    with open(live, "rb") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as a save in another process holds its own
        Net(seed=3).save(path)
        assert not dead.exists()
        assert live.exists()
    Net(seed=3).save(path)  # the holder is gone: its file is an orphan now
    assert sorted(os.listdir(tmp_path)) == sorted(["model.npz", *(other.name for other in others)])


# The child blocks inside the write, after the archive is written, until it is killed.
SAVE_AND_BLOCK = """
import sys
import numpy as np
from tinygrad_nnfs.nn import Dense

savez = np.savez

def savez_and_block(file, **arrays):
    savez(file, **arrays)
    file.flush()
    print("writing", flush=True)
    sys.stdin.read()

np.savez = savez_and_block
Dense(1000, 1000, rng=0).save(sys.argv[1])
"""


@posix_only
def test_a_save_after_kill_9_removes_what_the_killed_save_left(tmp_path):
    path = tmp_path / "model.npz"
    child = subprocess.Popen(
        [sys.executable, "-c", SAVE_AND_BLOCK, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout.readline() == "writing\n"
        (orphan,) = os.listdir(tmp_path)
        Net(seed=3).save(path)  # a concurrent save keeps the live child's temporary file
        assert sorted(os.listdir(tmp_path)) == sorted([orphan, "model.npz"])
        os.kill(child.pid, signal.SIGKILL)
        assert child.wait() == -signal.SIGKILL
    finally:
        child.kill()
        child.communicate()
    assert (tmp_path / orphan).stat().st_size > 4_000_000  # what kill -9 leaves behind
    Net(seed=4).save(path)
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
    model = Net(seed=0)
    model.load(path)
    assert_array_equal(model.dense1.weights.data, Net(seed=4).dense1.weights.data)


@posix_only
def test_save_makes_a_new_temporary_file_when_a_cleanup_took_its_own(tmp_path, monkeypatch):
    flock, taken = fcntl.flock, []

    def flock_after_another_saves_cleanup(file, operation):
        if not taken:  # between the file's creation and its lock
            taken.append(file.name)
            os.remove(file.name)
        flock(file, operation)

    monkeypatch.setattr(fcntl, "flock", flock_after_another_saves_cleanup)
    path = Net(seed=3).save(tmp_path / "model.npz")
    assert len(taken) == 1
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]
    model = Net(seed=0)
    model.load(path)
    assert_array_equal(model.dense1.weights.data, Net(seed=3).dense1.weights.data)


@posix_only
def test_save_works_on_a_file_system_without_locks_and_removes_nothing(tmp_path, monkeypatch):
    def no_locks(file, operation):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    stale = temporary_of(tmp_path)  # whether a save holds it cannot be told: it stays
    Net(seed=3).save(tmp_path / "model.npz")
    assert sorted(os.listdir(tmp_path)) == [stale.name, "model.npz"]


def permission_message(path, directory):
    return (
        rf"save: cannot write {re.escape(repr(str(path)))}: the directory "
        rf"{re.escape(repr(str(directory)))} is not writable .* make it writable "
        rf"\(chmod u\+w .*\) or save to another directory"
    )


@pytest.mark.skipif(
    os.name != "posix" or os.geteuid() == 0, reason="needs POSIX modes, which root ignores"
)
def test_save_into_a_read_only_directory_names_the_path_and_the_directory(tmp_path):
    directory = tmp_path / "read-only"
    directory.mkdir()
    stale = temporary_of(directory)  # cannot be removed either: no error of its own
    directory.chmod(0o500)
    try:
        with pytest.raises(
            PermissionError, match=permission_message(directory / "m.npz", directory)
        ):
            Net().save(directory / "m.npz")
        assert os.listdir(directory) == [stale.name]
    finally:
        directory.chmod(0o700)


def test_a_refused_temporary_file_is_a_permission_error_naming_the_path(tmp_path, monkeypatch):
    # Also as root (CI), whom chmod does not stop: the file system refuses the temporary file.
    def refuse_new_files(file, mode="r", *args, **kwargs):
        if "x" in mode:
            raise PermissionError(errno.EACCES, "Permission denied", file)
        return open(file, mode, *args, **kwargs)

    monkeypatch.setattr(module_py, "open", refuse_new_files, raising=False)
    with pytest.raises(PermissionError, match=permission_message(tmp_path / "m.npz", tmp_path)):
        Net().save(tmp_path / "m.npz")
    assert os.listdir(tmp_path) == []
