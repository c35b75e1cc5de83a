"""Optimizers: bit-exact against the book's arithmetic, decay, state_dict and every error."""

from __future__ import annotations

import copy
import io
import pickle
import warnings
from collections import Counter
from collections.abc import Mapping

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from tinygrad_nnfs import Tensor
from tinygrad_nnfs.optim import SGD, Adagrad, Adam, Optimizer, RMSprop

SHAPES = [(3, 4), (1, 4), (5,), ()]
STEPS = 50


def make_params(dtype: type = np.float64) -> list[Tensor]:
    rng = np.random.default_rng(0)
    return [Tensor(rng.standard_normal(s).astype(dtype), requires_grad=True) for s in SHAPES]


def make_gradients(steps: int, dtype: type = np.float64) -> list[list[np.ndarray | None]]:
    """Per step, one gradient per parameter; None now and then, for a parameter to skip."""
    rng = np.random.default_rng(1)
    return [
        [
            None if (step + index) % 7 == 3 else rng.standard_normal(shape).astype(dtype)
            for index, shape in enumerate(SHAPES)
        ]
        for step in range(steps)
    ]


def run(optimizer: Optimizer, gradients: list[list[np.ndarray | None]]) -> list[float]:
    """Step through the gradients; return current_learning_rate after every step."""
    rates = []
    for step_gradients in gradients:
        for param, grad in zip(optimizer.params, step_gradients, strict=True):
            param.grad = grad
        optimizer.step()
        rates.append(optimizer.current_learning_rate)
    return rates


def decayed(learning_rate: float, decay: float, iterations: int) -> float:
    return learning_rate * (1.0 / (1.0 + decay * iterations))


# ---- the book's rules, written out parameter by parameter ----------------------------------


def reference(rule):
    """The book's loop: decay the rate, apply `rule` parameter by parameter, count the step."""

    def run_rule(weights, gradients, learning_rate, decay, **hyperparameters):
        weights = [w.copy() for w in weights]
        states = [{} for _ in weights]
        rates = []
        for t, step_gradients in enumerate(gradients):
            lr = decayed(learning_rate, decay, t)
            for i, g in enumerate(step_gradients):
                if g is not None:
                    weights[i] += rule(g, lr, t, states[i], **hyperparameters)
            rates.append(lr)
        return weights, rates

    return run_rule


@reference
def reference_sgd(g, lr, t, state, momentum):
    if not momentum:
        return -lr * g
    u = momentum * state.get("u", np.zeros_like(g)) - lr * g
    state["u"] = u
    return u


@reference
def reference_adagrad(g, lr, t, state, epsilon):
    state["cache"] = state.get("cache", np.zeros_like(g)) + g**2
    return -lr * g / (np.sqrt(state["cache"]) + epsilon)


@reference
def reference_rmsprop(g, lr, t, state, epsilon, rho):
    state["cache"] = rho * state.get("cache", np.zeros_like(g)) + (1 - rho) * g**2
    return -lr * g / (np.sqrt(state["cache"]) + epsilon)


@reference
def reference_adam(g, lr, t, state, epsilon, beta_1, beta_2):
    m = state["m"] = beta_1 * state.get("m", np.zeros_like(g)) + (1 - beta_1) * g
    v = state["v"] = beta_2 * state.get("v", np.zeros_like(g)) + (1 - beta_2) * g**2
    m_hat = m / (1 - beta_1 ** (t + 1))
    v_hat = v / (1 - beta_2 ** (t + 1))
    return -lr * m_hat / (np.sqrt(v_hat) + epsilon)


CASES = [
    (SGD, reference_sgd, dict(learning_rate=1.0, decay=0.0, momentum=0.0)),
    (SGD, reference_sgd, dict(learning_rate=0.5, decay=1e-2, momentum=0.0)),
    (SGD, reference_sgd, dict(learning_rate=1.0, decay=1e-3, momentum=0.9)),
    (Adagrad, reference_adagrad, dict(learning_rate=1.0, decay=0.0, epsilon=1e-7)),
    (Adagrad, reference_adagrad, dict(learning_rate=0.3, decay=1e-4, epsilon=1e-5)),
    (RMSprop, reference_rmsprop, dict(learning_rate=0.001, decay=0.0, epsilon=1e-7, rho=0.9)),
    (RMSprop, reference_rmsprop, dict(learning_rate=0.02, decay=1e-5, epsilon=1e-7, rho=0.999)),
    (
        Adam,
        reference_adam,
        dict(learning_rate=0.001, decay=0.0, epsilon=1e-7, beta_1=0.9, beta_2=0.999),
    ),
    (
        Adam,
        reference_adam,
        dict(learning_rate=0.05, decay=5e-7, epsilon=1e-7, beta_1=0.9, beta_2=0.999),
    ),
    (
        Adam,
        reference_adam,
        dict(learning_rate=0.02, decay=1e-3, epsilon=1e-5, beta_1=0.5, beta_2=0.9),
    ),
]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("cls", "reference", "options"), CASES)
def test_optimizer_matches_spec_bit_exactly(cls, reference, options, dtype):
    params = make_params(dtype)
    gradients = make_gradients(STEPS, dtype)
    expected, expected_rates = reference([p.data for p in params], gradients, **options)
    optimizer = cls(params, **options)
    assert optimizer.current_learning_rate == options["learning_rate"]
    rates = run(optimizer, gradients)
    assert rates == expected_rates
    assert optimizer.iterations == STEPS
    for param, weights in zip(params, expected, strict=True):
        assert param.dtype == dtype
        np.testing.assert_array_equal(param.data, weights)


def test_optimizer_moves_only_parameters_nothing_else_references():
    # A step adds into one flat buffer when the parameters are views of it; an array that
    # something else holds (here a user's variable and a recorded forward pass) stays put.
    held = Tensor(np.ones((2, 3)), requires_grad=True)
    alone = Tensor(np.ones(3), requires_grad=True)
    loss = (held * alone).sum()  # the graph keeps held's and alone's arrays
    reference = held.data
    optimizer = SGD([held, alone], learning_rate=0.5)
    assert held.data is reference
    loss.backward()
    optimizer.step()
    assert held.data is reference
    np.testing.assert_array_equal(held.data, np.full((2, 3), 0.5))
    np.testing.assert_array_equal(alone.data, np.zeros(3))  # its gradient: 2 per element
    fresh = [Tensor(np.ones(4), requires_grad=True), Tensor(np.zeros((2, 2)), requires_grad=True)]
    optimizer = SGD(fresh, learning_rate=0.5)
    assert fresh[0].data.base is fresh[1].data.base is not None  # moved into one buffer
    for param in fresh:
        param.grad = np.ones(param.shape)
    optimizer.step()
    np.testing.assert_array_equal(fresh[0].data, np.full(4, 0.5))
    np.testing.assert_array_equal(fresh[1].data, np.full((2, 2), -0.5))


@pytest.mark.parametrize("layout", ["C", "F"])
@pytest.mark.parametrize(("cls", "reference", "options"), CASES)
def test_optimizer_updates_a_replaced_data_array_bit_exactly(cls, reference, options, layout):
    # A step adds into each parameter's array through a flat view of it: assigning .data
    # (a contiguous copy, or a Fortran-ordered one, which no flat view reaches) between
    # steps must update the new array, with the same bits.
    params = make_params()
    gradients = make_gradients(STEPS, np.float64)
    half = STEPS // 2
    expected, _ = reference([p.data for p in params], gradients, **options)
    optimizer = cls(params, **options)
    run(optimizer, gradients[:half])
    for param in params:
        param.data = np.array(param.data, order=layout)
    new_arrays = [param.data for param in params]
    run(optimizer, gradients[half:])
    for param, array, weights in zip(params, new_arrays, expected, strict=True):
        assert param.data is array
        np.testing.assert_array_equal(param.data, weights)


@pytest.mark.parametrize("form", ["fortran", "recorded"])
@pytest.mark.parametrize(("cls", "reference", "options"), CASES)
def test_optimizer_steps_on_fortran_and_recorded_gradients_bit_exactly(
    cls, reference, options, form
):
    # The one-pass step flattens each gradient in its logical (C) order, whatever its layout;
    # a backward(create_graph=True) leaves Tensors as gradients, whose arrays step with the
    # same bits.
    params = make_params()
    gradients = make_gradients(STEPS, np.float64)
    expected, _ = reference([p.data for p in params], gradients, **options)
    optimizer = cls(params, **options)
    for step_gradients in gradients:
        optimizer.zero_grad()
        for param, grad in zip(params, step_gradients, strict=True):
            if grad is None:
                continue
            if form == "fortran":
                param.grad = np.array(grad, order="F")
            else:
                (param * Tensor(grad)).sum().backward(create_graph=True)
                assert isinstance(param._grad, Tensor)
        optimizer.step()
    for param, weights in zip(params, expected, strict=True):
        np.testing.assert_array_equal(param.data, weights)


@pytest.mark.parametrize("cls", [SGD, Adagrad, RMSprop, Adam])
def test_optimizer_casts_integer_gradients_on_either_pass(cls):
    # An integer gradient set by hand is a float one of the parameter's dtype, whether the
    # step takes every parameter in one pass or (one has no gradient) parameter by parameter.
    results = []
    for other_grad in (np.ones(4, np.float32), None):
        params = [Tensor(np.ones(4, np.float32), requires_grad=True) for _ in range(2)]
        optimizer = cls(params)
        params[0].grad = np.array([1, 2, 3, 4])
        params[1].grad = other_grad
        optimizer.step()
        results.append(params[0].data)
    expected = [Tensor(np.ones(4, np.float32), requires_grad=True)]
    optimizer = cls(expected)
    expected[0].grad = np.array([1, 2, 3, 4], np.float32)
    optimizer.step()
    for result in results:
        assert_array_equal(result, expected[0].data, strict=True)


@pytest.mark.parametrize(("cls", "reference", "options"), CASES)
def test_optimizer_with_mixed_dtypes_matches_spec_bit_exactly(cls, reference, options):
    # Parameters of each dtype share flat buffers; a mix makes one group per dtype.
    dtypes = [np.float32, np.float64, np.float64, np.float32]
    params = [
        Tensor(p.data.astype(d), requires_grad=True)
        for p, d in zip(make_params(), dtypes, strict=True)
    ]
    gradients = [
        [None if g is None else g.astype(d) for g, d in zip(step, dtypes, strict=True)]
        for step in make_gradients(STEPS)
    ]
    expected, _ = reference([p.data for p in params], gradients, **options)
    run(cls(params, **options), gradients)
    for param, weights, dtype in zip(params, expected, dtypes, strict=True):
        assert param.dtype == dtype
        np.testing.assert_array_equal(param.data, weights)


@pytest.mark.parametrize(
    ("cls", "defaults"),
    [
        (SGD, dict(learning_rate=1.0, decay=0.0, momentum=0.0)),
        (Adagrad, dict(learning_rate=1.0, decay=0.0, epsilon=1e-7)),
        (RMSprop, dict(learning_rate=0.001, decay=0.0, epsilon=1e-7, rho=0.9)),
        (Adam, dict(learning_rate=0.001, decay=0.0, epsilon=1e-7, beta_1=0.9, beta_2=0.999)),
    ],
)
def test_optimizer_defaults_are_the_books(cls, defaults):
    optimizer = cls(make_params())
    assert {name: getattr(optimizer, name) for name in defaults} == defaults
    assert optimizer.current_learning_rate == defaults["learning_rate"]
    assert optimizer.iterations == 0


def test_optimizer_decay_reaches_the_books_logged_rate():
    # The book logs epoch 10000 before that epoch's step, i.e. after 10,000 steps, so the
    # printed rate is the one computed with iterations == 9999.
    param = Tensor(np.zeros(1), requires_grad=True)
    optimizer = Adam([param], learning_rate=0.05, decay=5e-7)
    param.grad = np.ones(1)
    for _ in range(10_000):
        optimizer.step()
    assert optimizer.iterations == 10_000
    assert optimizer.current_learning_rate == 0.04975126853296942
    assert optimizer.current_learning_rate == 0.05 * (1.0 / (1.0 + 5e-7 * 9999))


@pytest.mark.parametrize("cls", [SGD, Adagrad, RMSprop, Adam])
def test_optimizer_float32_params_and_state_stay_float32(cls):
    params = make_params(np.float32)
    arrays = [p.data for p in params]
    optimizer = cls(params, learning_rate=0.1, decay=1e-3)
    run(optimizer, make_gradients(5, np.float32))
    for param, array in zip(params, arrays, strict=True):
        assert param.dtype == np.float32
        assert param.data is array  # updated in place: views and references stay valid
    for key, value in optimizer.state_dict().items():
        if isinstance(value, np.ndarray):
            assert value.dtype == np.float32, key


def test_optimizer_skips_params_without_grad():
    params = make_params()
    before = [p.data.copy() for p in params]
    optimizer = Adam(params, learning_rate=0.1)
    params[1].grad = np.ones(SHAPES[1])
    optimizer.step()
    for index, (param, array) in enumerate(zip(params, before, strict=True)):
        assert np.array_equal(param.data, array) == (index != 1)
    assert optimizer.iterations == 1


def test_optimizer_accepts_a_generator_and_zero_grad_clears_every_grad():
    params = make_params()
    optimizer = SGD(p for p in params)
    assert optimizer.params == params
    for param in params:
        param.grad = np.ones(param.shape)
    optimizer.zero_grad()
    assert all(param.grad is None for param in params)


# ---- state_dict ------------------------------------------------------------------------------

RESUMABLE = [
    (SGD, dict(learning_rate=0.5, decay=1e-2, momentum=0.9)),
    (SGD, dict(learning_rate=0.5, decay=1e-2)),
    (Adagrad, dict(learning_rate=0.3, decay=1e-2)),
    (RMSprop, dict(learning_rate=0.01, decay=1e-2, rho=0.95)),
    (Adam, dict(learning_rate=0.05, decay=1e-2, beta_1=0.8)),
]


@pytest.mark.parametrize(("cls", "options"), RESUMABLE)
def test_optimizer_state_dict_resumes_bit_exactly(cls, options):
    gradients = make_gradients(40)
    params = make_params()
    optimizer = cls(params, **options)
    run(optimizer, gradients[:20])
    saved = optimizer.state_dict()
    checkpoint = [p.data.copy() for p in params]
    run(optimizer, gradients[20:])

    resumed_params = [Tensor(array, requires_grad=True) for array in checkpoint]
    resumed = cls(resumed_params)  # the book's defaults: load_state_dict restores options
    resumed.load_state_dict(saved)
    assert resumed.iterations == 20
    assert resumed.current_learning_rate == saved["current_learning_rate"]
    run(resumed, gradients[20:])
    for param, resumed_param in zip(params, resumed_params, strict=True):
        np.testing.assert_array_equal(resumed_param.data, param.data)
    final, resumed_final = optimizer.state_dict(), resumed.state_dict()
    assert final.keys() == resumed_final.keys()
    for key, value in final.items():
        np.testing.assert_array_equal(resumed_final[key], value)


def test_optimizer_state_dict_holds_copies_and_survives_savez():
    params = make_params()
    optimizer = Adam(params, learning_rate=0.1, decay=1e-3)
    run(optimizer, make_gradients(3))
    saved = optimizer.state_dict()
    assert saved["iterations"] == 3
    assert saved["beta_1"] == 0.9
    assert {f"momentums.{i}" for i in range(len(SHAPES))} <= saved.keys()
    saved["momentums.0"] += 1.0
    assert not np.array_equal(optimizer.state_dict()["momentums.0"], saved["momentums.0"])

    buffer = io.BytesIO()
    np.savez(buffer, **optimizer.state_dict())
    buffer.seek(0)
    with np.load(buffer) as archive:
        loaded = dict(archive)
    fresh = Adam(make_params())
    fresh.load_state_dict(loaded)
    assert fresh.iterations == 3 and isinstance(fresh.iterations, int)
    assert fresh.current_learning_rate == optimizer.current_learning_rate
    assert fresh.decay == 1e-3


def test_sgd_load_state_dict_switches_momentum_on_and_off():
    with_momentum = SGD(make_params(), momentum=0.9)
    run(with_momentum, make_gradients(2))
    plain = SGD(make_params())
    plain.load_state_dict(with_momentum.state_dict())
    assert plain.momentum == 0.9
    assert "momentums.0" in plain.state_dict()
    plain.load_state_dict(SGD(make_params()).state_dict())
    assert plain.momentum == 0.0
    assert "momentums.0" not in plain.state_dict()


def _corrupt(state, key, value):
    state = copy.deepcopy(state)
    if value is KeyError:
        del state[key]
    else:
        state[key] = value
    return state


@pytest.mark.parametrize(
    ("key", "value", "error", "match"),
    [
        ("beta_2", KeyError, ValueError, r"missing keys \['beta_2'\]"),
        ("cache.3", KeyError, ValueError, r"missing keys \['cache.3'\]"),
        ("cache.4", np.zeros(3), ValueError, r"unexpected keys \['cache.4'\]"),
        ("momentums.0", np.zeros((4, 3)), ValueError, r"momentums.0 has shape \(4, 3\).*\(3, 4\)"),
        ("momentums.1", np.zeros((1, 4), dtype=np.int64), TypeError, "momentums.1.*int64"),
        ("cache.2", [0.0] * 5, TypeError, "cache.2 must be a float ndarray, got list"),
        ("beta_1", 1.0, ValueError, r"beta_1 must be in \[0, 1\), got 1.0"),
        ("learning_rate", -0.1, ValueError, "learning_rate must be finite and >= 0"),
        ("decay", "fast", TypeError, "decay must be a real number, got str"),
        ("epsilon", np.zeros(2), ValueError, r"epsilon must be a scalar, got shape \(2,\)"),
        ("iterations", -1, ValueError, "iterations must be an int >= 0, got -1"),
        ("iterations", 2.5, ValueError, "iterations must be an int >= 0, got 2.5"),
        ("current_learning_rate", float("nan"), ValueError, "current_learning_rate.*nan"),
    ],
)
def test_optimizer_load_state_dict_validates_before_changing_anything(key, value, error, match):
    optimizer = Adam(make_params(), learning_rate=0.1)
    run(optimizer, make_gradients(3))
    donor = Adam(make_params(), learning_rate=0.2, decay=0.5)
    run(donor, make_gradients(5))
    before = optimizer.state_dict()
    with pytest.raises(error, match=match):
        optimizer.load_state_dict(_corrupt(donor.state_dict(), key, value))
    after = optimizer.state_dict()
    assert after.keys() == before.keys()
    for name, value_before in before.items():
        np.testing.assert_array_equal(after[name], value_before)


def test_optimizer_load_state_dict_rejects_other_param_counts_and_non_dicts():
    optimizer = Adagrad(make_params())
    fewer = Adagrad(make_params()[:2])
    with pytest.raises(ValueError, match=r"missing keys \['cache.2', 'cache.3'\].*same 4 param"):
        optimizer.load_state_dict(fewer.state_dict())
    with pytest.raises(
        ValueError,
        match=r"Adagrad.load_state_dict: unexpected keys \['beta_1', 'beta_2', 'momentums.0'",
    ):
        optimizer.load_state_dict(Adam(make_params()).state_dict() | {"epsilon": 1e-7})
    with pytest.raises(
        TypeError,
        match=r"Adagrad.load_state_dict: expected a mapping such as state_dict\(\) or "
        r"np.load\(path\), got list",
    ):
        optimizer.load_state_dict([])


class CountingMapping(Mapping):
    """A read-only mapping that counts how often each key is read, as an NpzFile would cost."""

    def __init__(self, items):
        self._items = items
        self.reads = Counter()

    def __getitem__(self, key):
        self.reads[key] += 1
        return self._items[key]

    def __iter__(self):
        return iter(self._items)

    def __len__(self):
        return len(self._items)


def test_optimizer_load_state_dict_takes_np_load_of_its_savez_reading_each_key_once(tmp_path):
    params = make_params()
    optimizer = Adam(params, learning_rate=0.05, decay=1e-2)
    gradients = make_gradients(10)
    run(optimizer, gradients[:5])
    checkpoint = [Tensor(p.data.copy(), requires_grad=True) for p in params]
    path = tmp_path / "adam.npz"
    np.savez(path, **optimizer.state_dict())
    resumed = Adam(checkpoint)
    with np.load(path) as archive:
        resumed.load_state_dict(archive)  # scalars come back as 0-d arrays
    assert resumed.iterations == 5 and type(resumed.iterations) is int
    assert resumed.decay == 1e-2 and resumed.learning_rate == 0.05
    run(optimizer, gradients[5:])
    run(resumed, gradients[5:])
    for param, resumed_param in zip(params, checkpoint, strict=True):
        assert_array_equal(resumed_param.data, param.data)

    counting = CountingMapping(optimizer.state_dict())
    resumed.load_state_dict(counting)
    assert set(counting.reads.values()) == {1}
    assert counting.reads.keys() == optimizer.state_dict().keys()


def test_optimizer_load_state_dict_casts_everything_before_changing_anything():
    # A float64 checkpoint loaded into float16 parameters: 1e6 is beyond float16's 65504.
    optimizer = Adam(make_params(np.float16), learning_rate=0.1)
    run(optimizer, make_gradients(3, np.float16))
    donor = Adam(make_params(), learning_rate=0.2)
    run(donor, make_gradients(5))
    state = donor.state_dict()
    state["cache.3"] = np.array(1e6)  # the last array: every other one would load first
    before = optimizer.state_dict()
    message = (
        r"Adam.load_state_dict: cache.3 holds values beyond the range of float16 \(largest 65504\)"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(RuntimeWarning, match=message):
            optimizer.load_state_dict(state)
    after = optimizer.state_dict()
    assert after.keys() == before.keys()
    for name, value_before in before.items():
        assert_array_equal(after[name], value_before, strict=True)

    with pytest.warns(RuntimeWarning, match=message):
        optimizer.load_state_dict(state)
    loaded = optimizer.state_dict()
    assert optimizer.iterations == 5 and loaded["cache.3"] == np.inf
    assert_array_equal(loaded["momentums.0"], state["momentums.0"].astype(np.float16), strict=True)


def deepcopy_with_its_params(params, optimizer):
    copied_params, twin = copy.deepcopy((params, optimizer))
    assert all(a is b for a, b in zip(copied_params, twin.params, strict=True))
    return twin


COPIES = {
    "deepcopy-with-params": deepcopy_with_its_params,
    "deepcopy-alone": lambda params, optimizer: copy.deepcopy(optimizer),
    "pickle": lambda params, optimizer: pickle.loads(pickle.dumps(optimizer)),
}


@pytest.mark.parametrize("make_copy", COPIES.values(), ids=COPIES)
@pytest.mark.parametrize(("cls", "options"), RESUMABLE)
def test_optimizer_copy_steps_and_saves_bit_for_bit_like_the_original(cls, options, make_copy):
    params = make_params(np.float32)
    gradients = make_gradients(20, np.float32)
    for step in gradients:
        if step[1] is not None:  # float64: parameter 1 gets its own wider state
            step[1] = step[1].astype(np.float64) / 3
    optimizer = cls(params, **options)
    run(optimizer, gradients[:10])
    twin = make_copy(params, optimizer)
    assert not any(a is b for a, b in zip(twin.params, params, strict=True))
    run(optimizer, gradients[10:])
    run(twin, gradients[10:])
    for param, twin_param in zip(params, twin.params, strict=True):
        assert_array_equal(twin_param.data, param.data, strict=True)
    # The copy's checkpoint reads the arrays its steps updated, not stale copies of them.
    final, twin_final = optimizer.state_dict(), twin.state_dict()
    assert twin_final.keys() == final.keys()
    for key, value in final.items():
        assert_array_equal(twin_final[key], value, strict=True)


@pytest.mark.parametrize("make_copy", COPIES.values(), ids=COPIES)
@pytest.mark.parametrize("held", [False, True], ids=["moved", "held"])
def test_optimizer_copy_updates_its_own_parameters_in_one_pass(make_copy, held):
    # Every gradient present and of the parameters' dtype: the copy's steps take the flat
    # path, whose targets must be the copy's own arrays (moved into its buffer or not).
    params = make_params()
    arrays = [param.data for param in params] if held else None
    gradients = [[np.ones(shape) for shape in SHAPES] for _ in range(3)]
    optimizer = SGD(params, learning_rate=0.5)
    run(optimizer, gradients[:1])
    twin = make_copy(params, optimizer)
    run(optimizer, gradients[1:])
    run(twin, gradients[1:])
    for param, twin_param in zip(params, twin.params, strict=True):
        assert_array_equal(twin_param.data, param.data, strict=True)
    assert arrays is None or all(p.data is a for p, a in zip(params, arrays, strict=True))


# ---- construction errors -----------------------------------------------------------------------


def test_optimizer_rejects_bad_params():
    weights = Tensor(np.ones((2, 2)), requires_grad=True)
    with pytest.raises(TypeError, match=r"SGD: the first argument is params.*learning_rate=3"):
        SGD(3)  # the book's positional learning rate
    with pytest.raises(TypeError, match=r"Adam: params must be .*got Tensor.*\[tensor\]"):
        Adam(weights)
    with pytest.raises(TypeError, match=r"RMSprop: params must be .*got dict"):
        RMSprop({"w": weights})
    with pytest.raises(ValueError, match="Adagrad: params is empty"):
        Adagrad([])
    with pytest.raises(ValueError, match="Adagrad: params is empty"):
        Adagrad(iter(()))
    with pytest.raises(TypeError, match=r"SGD: params\[1\] is a tuple, not a Tensor"):
        SGD([weights, ("w", weights)])
    with pytest.raises(TypeError, match=r"SGD: params\[0\] is a ndarray, not a Tensor"):
        SGD([np.ones(2)])
    with pytest.raises(ValueError, match=r"Adam: params\[0\] \(shape \(3,\)\) does not require"):
        Adam([Tensor(np.ones(3))])
    with pytest.raises(ValueError, match=r"Adam: params\[1\] .* not a leaf"):
        Adam([weights, weights * 2])
    with pytest.raises(ValueError, match=r"SGD: params\[1\] \(shape \(2, 2\)\) appears more"):
        SGD([weights, weights])


@pytest.mark.parametrize(
    ("cls", "name", "value", "error", "match"),
    [
        (SGD, "learning_rate", -1.0, ValueError, "SGD: learning_rate must be finite and >= 0"),
        (Adam, "learning_rate", float("inf"), ValueError, "Adam: learning_rate .* got inf"),
        (Adam, "learning_rate", "0.1", TypeError, "Adam: learning_rate must be a real number"),
        (RMSprop, "decay", -1e-3, ValueError, "RMSprop: decay must be finite and >= 0"),
        (Adagrad, "decay", float("nan"), ValueError, "Adagrad: decay .* got nan"),
        (Adagrad, "epsilon", -1e-7, ValueError, "Adagrad: epsilon must be finite and >= 0"),
        (Adam, "epsilon", None, TypeError, "Adam: epsilon must be a real number, got NoneType"),
        (SGD, "momentum", 1.0, ValueError, r"SGD: momentum must be in \[0, 1\), got 1.0"),
        (SGD, "momentum", -0.5, ValueError, r"SGD: momentum must be in \[0, 1\), got -0.5"),
        (SGD, "momentum", True, TypeError, "SGD: momentum must be a real number, got bool"),
        (RMSprop, "rho", 1.5, ValueError, r"RMSprop: rho must be in \[0, 1\)"),
        (Adam, "beta_1", 1.0, ValueError, r"Adam: beta_1 must be in \[0, 1\)"),
        (Adam, "beta_2", float("nan"), ValueError, r"Adam: beta_2 must be in \[0, 1\), got nan"),
    ],
)
def test_optimizer_rejects_bad_hyperparameters(cls, name, value, error, match):
    with pytest.raises(error, match=match):
        cls(make_params(), **{name: value})


def test_optimizer_hyperparameters_become_python_floats():
    optimizer = Adam(
        make_params(np.float32), learning_rate=np.float64(0.01), beta_1=np.float32(0.5)
    )
    assert type(optimizer.learning_rate) is float
    assert optimizer.beta_1 == 0.5 and type(optimizer.beta_1) is float
    assert repr(optimizer).startswith("Adam(4 params, learning_rate=0.01, decay=0.0")


# ---- made without parameters, for Model.set ------------------------------------------------------
def test_optimizer_made_without_params_gets_them_later():
    book_style = Adam(learning_rate=0.05, decay=5e-7)
    assert book_style.params == [] and book_style.current_learning_rate == 0.05
    with pytest.raises(RuntimeError, match=r"Adam.step: the optimizer has no parameters"):
        book_style.step()
    params, twins = make_params(), make_params()
    book_style._set_params(params)
    reference = Adam(twins, learning_rate=0.05, decay=5e-7)
    for optimizer, group in ((book_style, params), (reference, twins)):
        for param in group:
            param.grad = np.full(param.shape, 0.5, param.dtype)
        optimizer.step()
    for mine, theirs in zip(params, twins, strict=True):
        assert_array_equal(mine.data, theirs.data)


@pytest.mark.parametrize(("cls", "reference", "options"), CASES)
def test_a_wider_gradient_widens_that_parameters_state_as_the_books_numpy(cls, reference, options):
    # After nnfs_init() a float32 bias behind a float64 dropout mask gets a float64
    # gradient: the book's state arrays become float64 and its update is cast back on +=.
    params = make_params(np.float32)
    gradients = make_gradients(STEPS, np.float32)
    for step in gradients:
        if step[1] is not None:
            step[1] = step[1].astype(np.float64) / 3  # not representable in float32
    expected, _ = reference([p.data for p in params], gradients, **options)
    optimizer = cls(params, **options)
    run(optimizer, gradients)
    for param, weights in zip(params, expected, strict=True):
        assert param.dtype == np.float32
        assert_array_equal(param.data, weights, strict=True)
    state = optimizer.state_dict()
    for name in optimizer._param_state(1):
        assert (state[f"{name}.0"].dtype, state[f"{name}.1"].dtype) == (np.float32, np.float64)
