"""Checkpoint and resume: a run saved and reloaded mid-way continues bit for bit."""

import numpy as np

from tinygrad_nnfs import datasets, manual_seed, nn, optim
from tinygrad_nnfs.train import fit


def _setup():
    manual_seed(0)
    X, y = datasets.spiral_data(30, 3)
    model = nn.Sequential(nn.Dense(2, 16, weight_regularizer_l2=5e-4), nn.ReLU(), nn.Dense(16, 3))
    optimizer = optim.Adam(model.parameters(), learning_rate=0.05, decay=1e-3)
    return X, y, model, optimizer


def _train(model, optimizer, X, y, epochs):
    return fit(model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs=epochs, print_every=0)


def test_resume_from_a_checkpoint_matches_an_uninterrupted_run(tmp_path):
    X, y, uninterrupted, optimizer = _setup()
    straight = _train(uninterrupted, optimizer, X, y, 40)

    X, y, model, optimizer = _setup()
    first_half = _train(model, optimizer, X, y, 20)
    model.save(tmp_path / "model.npz")
    np.savez(tmp_path / "optimizer.npz", **optimizer.state_dict())

    _, _, resumed, resumed_optimizer = _setup()  # fresh objects, as after a restart
    resumed.load(tmp_path / "model.npz")
    with np.load(tmp_path / "optimizer.npz") as saved:
        resumed_optimizer.load_state_dict(dict(saved))
    second_half = _train(resumed, resumed_optimizer, X, y, 20)

    assert first_half["loss"] + second_half["loss"] == straight["loss"]
    assert first_half["lr"] + second_half["lr"] == straight["lr"]
    expected = uninterrupted.state_dict()
    for name, weights in resumed.state_dict().items():
        np.testing.assert_array_equal(weights, expected[name], err_msg=name)
