"""Numerical trouble: detect_anomaly(), fit(detect_anomaly=True), non-finite loss warnings, and
losses and softmax that stay finite at the extremes (logits of 1e4, probabilities of 0 and 1)."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from tinygrad_nnfs import Tensor, detect_anomaly, nn, optim
from tinygrad_nnfs.train import fit

HERE = re.escape(__file__)
# NumPy warns before detect_anomaly raises; here that is the point, not noise to report.
pytestmark = pytest.mark.filterwarnings(
    "ignore:(invalid value|divide by zero|overflow) encountered:RuntimeWarning"
)


def leaf(values):
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


# ---- detect_anomaly(): forward, backward, decorator, scope ------------------------------------
def test_detect_anomaly_names_op_shapes_and_user_line_for_log_of_a_negative():
    x = leaf([[1.0, -1.0]])
    with detect_anomaly(), pytest.raises(FloatingPointError) as caught:
        x.log()  # the line the error points to
    message = str(caught.value)
    assert message.startswith("detect_anomaly: Log produced NaN or inf in its forward")
    assert "input shapes [(1, 2)]" in message
    assert re.search(rf"created at {HERE}:\d+ in test_\w+: x\.log\(\)  # the line", message)


def test_detect_anomaly_names_div_for_zero_over_zero():
    x = leaf([0.0, 1.0])
    with (
        detect_anomaly(),
        pytest.raises(
            FloatingPointError,
            match=rf"Div produced NaN or inf in its forward; input shapes \[\(2,\), \(2,\)\]; "
            rf"created at {HERE}:\d+ .*ratio = x / x",
        ),
    ):
        ratio = x / x  # noqa: F841


def test_detect_anomaly_catches_a_backward_nan_inf_from_sqrt_at_zero():
    x = leaf([0.0, 4.0])
    with detect_anomaly():
        root = x.sqrt()  # finite forward: sqrt(0) = 0
        with pytest.raises(
            FloatingPointError,
            match=rf"Sqrt produced NaN or inf in its backward; input shapes \[\(2,\)\]; "
            rf"created at {HERE}:\d+ .*root = x\.sqrt\(\)",
        ):
            root.sum().backward()


def test_detect_anomaly_says_when_the_inputs_already_held_nan():
    x = Tensor([np.nan, 1.0])
    with detect_anomaly(), pytest.raises(FloatingPointError, match=r"Exp .*inputs already held"):
        x.exp()


def test_detect_anomaly_works_as_a_decorator():
    @detect_anomaly()
    def log_of(values):
        return leaf(values).log()

    assert_allclose(log_of([1.0]).data, [0.0])
    with pytest.raises(FloatingPointError, match=r"Log produced NaN or inf in its forward"):
        log_of([-1.0])


def test_detect_anomaly_has_no_effect_outside_and_is_restored_after_an_error():
    x = leaf([-1.0])
    with pytest.raises(FloatingPointError), detect_anomaly():
        x.log()
    with pytest.warns(RuntimeWarning, match="invalid value"):  # NumPy's warning, no raise
        assert np.isnan(x.log().item())


@pytest.mark.parametrize("divisor", [0, 0.0, np.array(0.0), "tensor"])
def test_division_by_zero_is_inf_or_nan_without_a_warning(divisor):
    x = Tensor([1.0, -1.0, 0.0], requires_grad=True)
    if isinstance(divisor, str):
        divisor = Tensor([0.0, 0.0, 0.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x / divisor
        out.backward(np.ones(3))
    assert_array_equal(out.data, [np.inf, -np.inf, np.nan])
    assert_array_equal(x.grad.data, [np.inf, np.inf, np.inf])  # d(x / 0)/dx = 1 / 0


def test_division_by_zero_still_raises_under_detect_anomaly():
    with (
        pytest.raises(FloatingPointError, match="Div produced NaN or inf in its forward"),
        detect_anomaly(),
    ):
        Tensor([1.0]) / 0


def test_log_of_zero_is_minus_inf_with_an_infinite_slope_and_no_warning():
    x = Tensor([0.0, 1.0], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = x.log()
        out.sum().backward()
    assert out.data.tolist() == [-np.inf, 0.0]
    assert x.grad.data.tolist() == [np.inf, 1.0]


# ---- fit(detect_anomaly=True) -------------------------------------------------------------------
def diverging_fit(**options):
    """A linear regression whose huge learning rate overflows float32 on the second epoch."""
    model = nn.Sequential(nn.Dense(1, 1, rng=0))
    X = np.linspace(-1, 1, 8, dtype=np.float32).reshape(-1, 1)
    optimizer = optim.SGD(model.parameters(), learning_rate=1e30)
    return fit(
        model, nn.MeanSquaredError(), optimizer, X, 3 * X, epochs=3, print_every=0, **options
    )


def test_fit_with_detect_anomaly_raises_at_the_first_op_that_overflows():
    with pytest.raises(
        FloatingPointError,
        match=rf"detect_anomaly: MeanSquaredError produced NaN or inf in its forward; input "
        rf"shapes \[\(8, 1\), \(8, 1\)\]; created at {HERE}:\d+ in diverging_fit: return fit\(",
    ):
        diverging_fit(detect_anomaly=True)
    x = leaf([-1.0])
    with pytest.warns(RuntimeWarning):  # the mode ended with fit
        x.log()


def test_fit_without_detect_anomaly_warns_that_the_loss_is_not_finite():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = diverging_fit()
    assert np.isfinite(history["loss"][0]) and not np.isfinite(history["loss"][-1])
    ours = [str(w.message) for w in caught if str(w.message).startswith("MeanSquaredError")]
    assert ours and "detect_anomaly()" in ours[0]


# ---- a loss that is not finite warns, with or without detect_anomaly ---------------------
NON_FINITE = [
    (nn.SoftmaxCrossEntropy, [[np.inf, 0.0]], [0]),
    (nn.CategoricalCrossentropy, [[np.nan, 1.0]], [0]),
    (nn.BinaryCrossentropy, [[np.nan]], [[1.0]]),
    (nn.MeanSquaredError, [[np.inf]], [[0.0]]),
    (nn.MeanAbsoluteError, [[-np.inf]], [[0.0]]),
]


@pytest.mark.parametrize(("loss", "predictions", "targets"), NON_FINITE)
def test_non_finite_loss_warns_naming_the_loss_and_pointing_to_detect_anomaly(
    loss, predictions, targets
):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # NumPy's inf - inf warnings, re-emitted by pytest.warns
        with pytest.warns(
            RuntimeWarning,
            match=rf"^{loss.__name__}: the loss is (nan|inf); run the forward pass under "
            rf"tinygrad_nnfs\.detect_anomaly\(\)",
        ):
            value = loss()(np.array(predictions), targets)
    assert not np.isfinite(value.item())


# ---- finite at the extremes ----------------------------------------------------------------
# Every prediction is as wrong as it can be: the book's clip caps each term at -log(1e-7).
EXTREMES = [
    pytest.param(
        nn.SoftmaxCrossEntropy, [[1e4, 0.0, -1e4], [-1e4, -1e4, 1e4]], [2, 0], id="logits_1e4"
    ),
    pytest.param(nn.CategoricalCrossentropy, [[0.0, 1.0], [1.0, 0.0]], [0, 1], id="probs_0_1"),
    pytest.param(
        nn.CategoricalCrossentropy, [[0.0, 1.0], [1.0, 0.0]], [[1, 0], [0, 1]], id="one_hot_0_1"
    ),
    pytest.param(
        nn.BinaryCrossentropy, [[0.0, 1.0], [1.0, 0.0]], [[1.0, 0.0], [0.0, 1.0]], id="binary_0_1"
    ),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(("loss", "predictions", "targets"), EXTREMES)
def test_losses_stay_finite_at_the_extremes_under_detect_anomaly(loss, predictions, targets, dtype):
    # detect_anomaly() checks every forward and backward result, not only the loss's value.
    predictions = Tensor(predictions, dtype=dtype, requires_grad=True)
    with warnings.catch_warnings(), detect_anomaly():
        warnings.simplefilter("error")
        value = loss()(predictions, targets)
        value.backward()
    # In float32, 1 - (1 - 1e-7) is 1.19e-7: within 2% of the float64 cap.
    assert_allclose(value.item(), -np.log(1e-7), rtol=2e-2)
    assert np.isfinite(predictions.grad.data).all()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_then_categorical_crossentropy_stays_finite_for_logits_of_1e4(dtype):
    logits = Tensor([[1e4, 0.0, -1e4]], dtype=dtype, requires_grad=True)
    with warnings.catch_warnings(), detect_anomaly():
        warnings.simplefilter("error")
        probs = nn.Softmax()(logits)
        value = nn.CategoricalCrossentropy()(probs, [2])
        value.backward()
    assert probs.data.tolist() == [[1.0, 0.0, 0.0]]
    assert_allclose(value.item(), -np.log(1e-7), rtol=1e-3)
    assert np.isfinite(logits.grad.data).all()
