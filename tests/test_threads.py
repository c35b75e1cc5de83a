"""Threads: grad and anomaly modes are per thread; backward passes share leaves exactly."""

from __future__ import annotations

import sys
import threading

import numpy as np
import pytest

from tinygrad_nnfs import (
    Tensor,
    datasets,
    detect_anomaly,
    enable_grad,
    is_grad_enabled,
    manual_seed,
    nn,
    no_grad,
    optim,
)
from tinygrad_nnfs.train import evaluate, fit


def _in_threads(count: int, work) -> list:
    """Run work(index, barrier) in `count` threads started together; return their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list = []

    def run(index: int) -> None:
        try:
            results[index] = work(index, barrier)
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return results


def test_no_grad_in_one_thread_leaves_the_others_recording():
    inside = threading.Event()
    release = threading.Event()

    def quiet(index, barrier):
        with no_grad():
            inside.set()
            release.wait(5)
            return is_grad_enabled()

    thread = threading.Thread(target=quiet, args=(0, None))
    thread.start()
    inside.wait(5)
    x = Tensor([1.0], requires_grad=True)
    recorded = (x * 2).requires_grad, is_grad_enabled()
    release.set()
    thread.join()
    assert recorded == (True, True)


def test_a_new_thread_starts_recording_without_anomaly_checks():
    with no_grad(), detect_anomaly():
        seen = _in_threads(1, lambda i, b: (is_grad_enabled(), (Tensor([0.0]).log()).data[0]))
    assert seen[0][0] is True and seen[0][1] == -np.inf  # no FloatingPointError there


def test_enable_grad_records_inside_no_grad():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        assert not (x * 2).requires_grad
        with enable_grad():
            assert (x * 2).requires_grad and is_grad_enabled()
        assert not is_grad_enabled()

    @enable_grad()
    def doubled(t):
        return t * 2

    with no_grad():
        assert doubled(x).requires_grad


def test_evaluate_in_two_threads_leaves_grad_mode_on():
    manual_seed(0)
    X, y = datasets.spiral_data(20, 3)
    model = nn.Sequential(nn.Dense(2, 4), nn.ReLU(), nn.Dense(4, 3))

    def work(index, barrier):
        barrier.wait()
        for _ in range(50):
            evaluate(model, nn.SoftmaxCrossEntropy(), X, y)
        return is_grad_enabled()

    assert _in_threads(2, work) == [True, True]
    assert is_grad_enabled()


def test_fit_with_validation_in_two_threads_trains_both_models():
    manual_seed(0)
    X, y = datasets.spiral_data(20, 3)
    models = [
        nn.Sequential(nn.Dense(2, 4, rng=i), nn.ReLU(), nn.Dense(4, 3, rng=i)) for i in (1, 2)
    ]

    def work(index, barrier):
        model = models[index]
        barrier.wait()
        return fit(
            model, nn.SoftmaxCrossEntropy(), optim.Adam(model.parameters()), X, y, epochs=30,
            validation_data=(X, y), print_every=0,
        )["loss"]  # fmt: skip

    for losses in _in_threads(2, work):
        assert len(losses) == 30 and losses[-1] < losses[0]


@pytest.fixture
def frequent_switches():
    """Switch threads every microsecond, so that a race shows within a few hundred rounds."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


@pytest.mark.parametrize("threads", [2, 4])
def test_backward_passes_in_threads_add_every_gradient_into_a_shared_leaf(
    threads, frequent_switches
):
    shared = Tensor(np.ones((8, 8)), requires_grad=True)
    rounds = 300

    def work(index, barrier):
        barrier.wait()
        for _ in range(rounds):
            ((shared * 1.0) + (shared * 1.0)).sum().backward()  # two uses: accumulation

    _in_threads(threads, work)
    np.testing.assert_array_equal(shared.grad.data, np.full((8, 8), 2.0 * threads * rounds))
