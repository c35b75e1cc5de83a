"""Training does not leak: memory stays flat over 2,000 steps and each step's graph is freed."""

from __future__ import annotations

import gc
import os
import weakref

import pytest

from tinygrad_nnfs import datasets, manual_seed, nn, optim
from tinygrad_nnfs.train import fit

STATM = "/proc/self/statm"
MIB = 2**20


def resident_bytes() -> int:
    """This process's resident set size (the second field of /proc/self/statm, in pages)."""
    with open(STATM) as file:
        return int(file.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def spiral_training():
    """(model, optimizer, X, y): the book's spiral net, small, with L2 and dropout."""
    manual_seed(0)
    X, y = datasets.spiral_data(30, 3)
    model = nn.Sequential(
        nn.Dense(2, 16, weight_regularizer_l2=5e-4), nn.ReLU(), nn.Dropout(0.1), nn.Dense(16, 3)
    )
    optimizer = optim.Adam(model.parameters(), learning_rate=0.02, decay=1e-4)
    return model, optimizer, X, y


def hand_loop(model, optimizer, X, y, steps):
    """The book's loop, written out."""
    loss_fn = nn.SoftmaxCrossEntropy()
    for _ in range(steps):
        loss = loss_fn(model(X), y) + nn.regularization_loss(model)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()


def fit_loop(model, optimizer, X, y, steps):
    fit(model, nn.SoftmaxCrossEntropy(), optimizer, X, y, epochs=steps, print_every=0)


@pytest.mark.skipif(not os.path.exists(STATM), reason="needs /proc/self/statm (Linux)")
@pytest.mark.parametrize("train", [hand_loop, fit_loop])
def test_memory_stays_flat_over_2000_training_steps(train):
    model, optimizer, X, y = spiral_training()
    train(model, optimizer, X, y, 200)  # warm-up: NumPy's and the allocator's caches fill
    gc.collect()
    before = resident_bytes()
    train(model, optimizer, X, y, 2000)
    gc.collect()
    growth = resident_bytes() - before
    # fit's history of 2,000 epochs takes about 0.5 MiB; one leaked graph a step would be ~100.
    assert growth < 5 * MIB, f"resident memory grew {growth / MIB:.1f} MiB in 2,000 steps"


def test_each_steps_graph_is_freed_when_the_next_step_rebinds_its_variables():
    # Watch an intermediate tensor, its op node and its data array, which only that step's
    # graph holds. No gc.collect(): the graph has no reference cycles, so reference
    # counting alone must free it.
    model, optimizer, X, y = spiral_training()
    loss_fn = nn.SoftmaxCrossEntropy()
    watched = []
    for _ in range(4):
        hidden = model[1](model[0](X))
        loss = loss_fn(model[3](model[2](hidden)), y) + nn.regularization_loss(model)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        watched.append([weakref.ref(hidden), weakref.ref(hidden._ctx), weakref.ref(hidden.data)])
        *earlier, latest = watched
        assert all(ref() is not None for ref in latest)  # `hidden` and `loss` still hold it
        assert all(ref() is None for refs in earlier for ref in refs)


def test_fit_keeps_no_graph_of_earlier_steps():
    model, optimizer, X, y = spiral_training()
    watched = []

    def loss_fn(outputs, targets):
        # The graph of the step before is still bound to fit's `loss` until this call returns;
        # the one before that must be gone.
        assert all(node() is None for node in watched[:-1])
        watched.append(weakref.ref(outputs._ctx))
        return nn.SoftmaxCrossEntropy()(outputs, targets)

    fit(model, loss_fn, optimizer, X, y, epochs=5, print_every=0, accuracy=lambda *_: 0.0)
    assert len(watched) == 5
    assert all(node() is None for node in watched)
