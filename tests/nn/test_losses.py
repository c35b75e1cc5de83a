"""Every loss against a NumPy transcription of the book's class, gradchecked, with its errors."""

from __future__ import annotations

import warnings

import book_reference as book
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from numpy.testing import assert_allclose, assert_array_equal

from tinygrad_nnfs import Tensor
from tinygrad_nnfs.functional import hessian
from tinygrad_nnfs.nn import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    MeanAbsoluteError,
    MeanSquaredError,
    SoftmaxCrossEntropy,
)
from tinygrad_nnfs.testing import arrays, assert_grad_matches_numeric, well_conditioned


# ---- the book's NumPy code (ch. 5, 16, 17): forward, then Loss.calculate's np.mean --------------
def book_softmax(inputs):
    activation = book.Activation_Softmax()
    activation.forward(inputs)
    return activation.output


def book_categorical_crossentropy(y_pred, y_true):
    return book.Loss_CategoricalCrossentropy().calculate(y_pred, y_true)


def book_binary_crossentropy(y_pred, y_true):
    y_pred_clipped = np.clip(y_pred, 1e-7, 1 - 1e-7)
    sample_losses = -(y_true * np.log(y_pred_clipped) + (1 - y_true) * np.log(1 - y_pred_clipped))
    return np.mean(np.mean(sample_losses, axis=-1))


def book_mean_squared_error(y_pred, y_true):
    return np.mean(np.mean((y_true - y_pred) ** 2, axis=-1))


def book_mean_absolute_error(y_pred, y_true):
    return np.mean(np.mean(np.abs(y_true - y_pred), axis=-1))


# The book's backward passes (ch. 16, 17, 22). CCE divides by the clipped p (the book's divides
# by p, infinite at 0), and MAE has the derivative's sign (the book's code flips it).
def book_categorical_crossentropy_backward(dvalues, y_true):
    labels = len(dvalues[0])
    if len(y_true.shape) == 1:
        y_true = np.eye(labels, dtype=dvalues.dtype)[y_true]
    return -y_true / np.clip(dvalues, 1e-7, 1 - 1e-7) / len(dvalues)


def book_binary_crossentropy_backward(dvalues, y_true):
    samples, outputs = len(dvalues), len(dvalues[0])
    clipped_dvalues = np.clip(dvalues, 1e-7, 1 - 1e-7)
    dinputs = -(y_true / clipped_dvalues - (1 - y_true) / (1 - clipped_dvalues)) / outputs
    return dinputs / samples


def book_mean_squared_error_backward(dvalues, y_true):
    samples, outputs = len(dvalues), len(dvalues[0])
    dinputs = -2 * (y_true - dvalues) / outputs
    return dinputs / samples


def book_mean_absolute_error_backward(dvalues, y_true):
    samples, outputs = len(dvalues), len(dvalues[0])
    dinputs = -np.sign(y_true - dvalues) / outputs
    return dinputs / samples


# ---- strategies ---------------------------------------------------------------------------------
@st.composite
def classification(draw, elements=None):
    """(predictions (n, classes) float64, sparse labels (n,))."""
    n = draw(st.integers(1, 6))
    classes = draw(st.integers(2, 5))
    predictions = draw(arrays((n, classes), elements=elements))
    labels = draw(hnp.arrays(np.int64, n, elements=st.integers(0, classes - 1)))
    return predictions, labels


def one_hot(labels, classes):
    return np.eye(classes, dtype=np.int64)[labels]


probabilities = st.floats(0.0, 1.0)  # 0 and 1 exercise the clip
inside_clip = st.floats(0.05, 0.95)  # away from clip's kinks, for finite differences


# ---- SoftmaxCrossEntropy ------------------------------------------------------------------------
@given(case=classification())
def test_softmax_cross_entropy_value_is_the_books(case):
    logits, labels = case
    expected = book_categorical_crossentropy(book_softmax(logits), labels)
    loss = SoftmaxCrossEntropy()
    assert_array_equal(loss(logits, labels).data, expected)
    assert_array_equal(loss(logits, one_hot(labels, logits.shape[1])).data, expected)


@given(case=classification())
def test_softmax_cross_entropy_gradient_is_softmax_minus_onehot_over_n(case):
    logits, labels = case
    tensor = Tensor(logits, requires_grad=True)
    SoftmaxCrossEntropy()(tensor, labels).backward()
    expected = (book_softmax(logits) - one_hot(labels, logits.shape[1])) / len(labels)
    assert_allclose(tensor.grad.data, expected, rtol=1e-12, atol=1e-15)
    assert_grad_matches_numeric(lambda z: SoftmaxCrossEntropy()(z, labels), logits, order=2)
    onehot = one_hot(labels, logits.shape[1])
    assert_grad_matches_numeric(lambda z: SoftmaxCrossEntropy()(z, onehot), logits, order=2)


def test_softmax_cross_entropy_is_finite_for_logits_of_1e4():
    logits = Tensor([[1e4, 0.0, -1e4], [0.0, 1e4, 0.0]], dtype=np.float64, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        value = SoftmaxCrossEntropy()(logits, [0, 2])
        value.backward()
    assert_allclose(value.item(), -np.log(1e-7) / 2)
    assert np.all(np.isfinite(logits.grad.data))
    assert_allclose(logits.grad.data, [[0, 0, 0], [0, 0.5, -0.5]], atol=1e-12)


def test_softmax_cross_entropy_rejects_soft_labels():
    with pytest.raises(ValueError, match="exactly one 1 per row"):
        SoftmaxCrossEntropy()(np.zeros((2, 3)), [[0.5, 0.5, 0], [0, 0, 1]])


# ---- CategoricalCrossentropy --------------------------------------------------------------------
@given(case=classification(elements=probabilities))
def test_categorical_crossentropy_value_is_the_books(case):
    probs, labels = case
    loss = CategoricalCrossentropy()
    assert_array_equal(loss(probs, labels).data, book_categorical_crossentropy(probs, labels))
    onehot = one_hot(labels, probs.shape[1])
    assert_array_equal(loss(probs, onehot).data, book_categorical_crossentropy(probs, onehot))


@given(case=classification(elements=inside_clip))
def test_categorical_crossentropy_gradchecks(case):
    probs, labels = case
    onehot = one_hot(labels, probs.shape[1])
    assert_grad_matches_numeric(lambda p: CategoricalCrossentropy()(p, labels), probs, order=2)
    assert_grad_matches_numeric(lambda p: CategoricalCrossentropy()(p, onehot), probs, order=2)


def test_categorical_crossentropy_gradient_at_a_clipped_wrong_prediction_is_large():
    probs = Tensor([[0.0, 1.0], [0.5, 0.5]], dtype=np.float64, requires_grad=True)
    CategoricalCrossentropy()(probs, [0, 1]).backward()
    # the book's -1 / p / n at the clipped p = 1e-7, not the clip's zero derivative
    assert_array_equal(probs.grad.data, [[-1 / 1e-7 / 2, 0], [0, -1 / 0.5 / 2]])


def test_binary_crossentropy_gradient_at_a_saturated_wrong_prediction_is_large():
    probs = Tensor([[0.0], [1.0]], dtype=np.float64, requires_grad=True)
    BinaryCrossentropy()(probs, np.array([[1], [0]])).backward()
    clipped = np.array([[1e-7], [1 - 1e-7]])
    assert_array_equal(probs.grad.data, [[-(1 / clipped[0, 0]) / 2], [1 / (1 - clipped[1, 0]) / 2]])


probabilities_with_ends = st.one_of(st.sampled_from([0.0, 1e-9, 1.0]), st.floats(0, 1))
BACKWARDS = {
    "categorical": (CategoricalCrossentropy, book_categorical_crossentropy_backward),
    "binary": (BinaryCrossentropy, book_binary_crossentropy_backward),
    "squared": (MeanSquaredError, book_mean_squared_error_backward),
    "absolute": (MeanAbsoluteError, book_mean_absolute_error_backward),
}


@pytest.mark.parametrize("name", BACKWARDS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@given(data=st.data())
def test_loss_gradients_are_the_books_formulas_bit_for_bit(name, dtype, data):
    loss, book_backward = BACKWARDS[name]
    if name == "categorical":
        probs, labels = data.draw(classification(elements=probabilities_with_ends))
        onehot = one_hot(labels, probs.shape[1]).astype(dtype)
        targets = data.draw(st.sampled_from([labels, onehot]))
    else:
        probs, targets = data.draw(regression(elements=probabilities_with_ends))
        if name == "binary":
            targets = (targets > 0).astype(np.uint8)  # the book's labels
    predictions = Tensor(probs, dtype=dtype, requires_grad=True)
    loss()(predictions, targets).backward()
    if targets.dtype.kind == "f":  # outside nnfs_init() float targets take the predictions' dtype
        targets = targets.astype(dtype)
    expected = book_backward(probs.astype(dtype), targets)
    assert_array_equal(predictions.grad.data, expected, strict=True)


# ---- labels -------------------------------------------------------------------------------------
CLASSIFIERS = [SoftmaxCrossEntropy, CategoricalCrossentropy]
PROBS = np.full((2, 3), 1 / 3)


@pytest.mark.parametrize("loss", CLASSIFIERS)
@pytest.mark.parametrize("labels", [np.array([0, 2]), [0, 2], Tensor([0, 2]), np.uint8([0, 2])])
def test_classification_losses_take_labels_as_array_list_or_tensor(loss, labels):
    assert_allclose(
        loss()(PROBS, labels).item(),
        np.log(3),  # uniform probabilities, and softmax of equal logits
        rtol=1e-6,
    )


@pytest.mark.parametrize("loss", CLASSIFIERS)
@pytest.mark.parametrize("bad", [3, -1, 10])
def test_classification_labels_out_of_range_name_label_and_class_count(loss, bad):
    with pytest.raises(ValueError, match=rf"label {bad} is out of range for 3 classes"):
        loss()(PROBS, [0, bad])


@pytest.mark.parametrize("loss", CLASSIFIERS)
def test_classification_sparse_labels_must_be_integers(loss):
    with pytest.raises(TypeError, match=r"labels must be integers, got dtype float64"):
        loss()(PROBS, [0.0, 1.0])


@pytest.mark.parametrize("loss", CLASSIFIERS)
@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (np.array([0, 1, 2]), r"labels of shape \(3,\) do not match predictions of shape \(2, 3\)"),
        (np.eye(4)[:2], r"labels of shape \(2, 4\) do not match predictions of shape \(2, 3\)"),
        (np.zeros((2, 3, 1), int), r"labels of shape \(2, 3, 1\) do not match predictions"),
        (np.array(1), r"labels of shape \(\) do not match predictions"),
    ],
)
def test_classification_labels_of_the_wrong_shape_name_both_shapes(loss, labels, message):
    with pytest.raises(ValueError, match=message):
        loss()(PROBS, labels)


@pytest.mark.parametrize("loss", CLASSIFIERS)
@pytest.mark.parametrize("shape", [(3,), (2, 3, 1)])
def test_classification_predictions_must_be_2d(loss, shape):
    with pytest.raises(ValueError, match=rf"predictions must be 2-D .* got shape \({shape[0]}"):
        loss()(np.ones(shape), [0])


# ---- BinaryCrossentropy -------------------------------------------------------------------------
@st.composite
def regression(draw, elements=None, integer_targets=False):
    shape = draw(st.tuples(st.integers(1, 5), st.integers(1, 3)))
    predictions = draw(arrays(shape, elements=elements))
    if integer_targets:
        return predictions, draw(hnp.arrays(np.int64, shape, elements=st.integers(0, 1)))
    return predictions, draw(arrays(shape))


@given(case=regression(elements=probabilities, integer_targets=True))
def test_binary_crossentropy_value_is_the_books(case):
    probs, targets = case
    value = BinaryCrossentropy()(probs, targets)
    assert_array_equal(value.data, book_binary_crossentropy(probs, targets))


@given(case=regression(elements=inside_clip, integer_targets=True))
def test_binary_crossentropy_gradchecks(case):
    probs, targets = case
    assert_grad_matches_numeric(lambda p: BinaryCrossentropy()(p, targets), probs, order=2)


# ---- regression ---------------------------------------------------------------------------------
@given(case=regression())
def test_mean_squared_error_value_is_the_books_and_gradchecks(case):
    predictions, targets = case
    value = MeanSquaredError()(predictions, targets)
    assert_array_equal(value.data, book_mean_squared_error(predictions, targets))
    assert_grad_matches_numeric(lambda p: MeanSquaredError()(p, targets), predictions, order=2)


@given(case=regression())
def test_mean_absolute_error_value_is_the_books(case):
    predictions, targets = case
    value = MeanAbsoluteError()(predictions, targets)
    assert_array_equal(value.data, book_mean_absolute_error(predictions, targets))


@given(case=regression())
def test_mean_absolute_error_gradchecks_away_from_zero_residuals(case):
    predictions, offsets = case  # |offset| >= 0.1 keeps finite differences off the kink
    targets = predictions + offsets
    assert_grad_matches_numeric(lambda p: MeanAbsoluteError()(p, targets), predictions, order=2)


def test_mean_absolute_error_gradient_is_zero_at_a_zero_residual():
    predictions = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, dtype=np.float64)
    targets = np.array([[1.0, 0.0], [5.0, 4.0]])
    MeanAbsoluteError()(predictions, targets).backward()
    # d|y - p|/dp = -sign(y - p), with sign(0) = 0 as the book's np.sign, over outputs * samples
    assert_array_equal(predictions.grad.data, -np.sign(targets - predictions.data) / 4)


REGRESSORS = [BinaryCrossentropy, MeanSquaredError, MeanAbsoluteError]


# ---- second derivatives over shapes, soft targets and a graph around the loss --------------------
# The loss is the root in the tests above: its incoming gradient is a constant 1. Multiplied by
# a function of the predictions, that gradient depends on them too, so each loss's backward is
# differentiated with respect to it as well. Regression losses average the last axis of
# predictions of any rank (1-D: one sample of n outputs).
@st.composite
def regression_case(draw, elements, targets):
    shape = draw(st.lists(st.integers(1, 3), min_size=1, max_size=3).map(tuple))
    return draw(arrays(shape, elements=elements)), draw(arrays(shape, elements=targets))


SECOND_ORDER_REGRESSORS = {  # loss, prediction elements, target elements
    "binary": (BinaryCrossentropy, inside_clip, st.floats(0.0, 1.0)),  # soft targets too
    "squared": (MeanSquaredError, well_conditioned(), well_conditioned()),
    "absolute": (MeanAbsoluteError, well_conditioned(0.1, 0.9), well_conditioned(1.1, 2.0)),
}  # absolute: |p| < 1 < |y|, so no residual is near MAE's kink at 0


@pytest.mark.parametrize("name", SECOND_ORDER_REGRESSORS)
@given(data=st.data())
def test_regression_loss_second_derivatives_over_shapes_and_upstream(name, data):
    loss, elements, target_elements = SECOND_ORDER_REGRESSORS[name]
    predictions, targets = data.draw(regression_case(elements, target_elements))
    assert_grad_matches_numeric(lambda p: loss()(p, targets), predictions, order=2)
    assert_grad_matches_numeric(lambda p: loss()(p, targets) * (p * p).sum(), predictions, order=2)


@pytest.mark.parametrize("form", ["sparse", "one-hot"])
@given(case=classification(elements=inside_clip))
def test_categorical_crossentropy_second_derivatives_inside_a_larger_graph(form, case):
    probs, labels = case
    targets = labels if form == "sparse" else one_hot(labels, probs.shape[1])
    assert_grad_matches_numeric(
        lambda p: CategoricalCrossentropy()(p, targets) * (p * p).sum(), probs, order=2
    )
    # after a softmax, as the book's models have it: its Hessian is the fused loss's
    assert_grad_matches_numeric(
        lambda z: CategoricalCrossentropy()(z.softmax(), targets), probs, order=2
    )


@pytest.mark.parametrize("form", ["sparse", "one-hot"])
@given(case=classification())
def test_softmax_cross_entropy_second_derivatives_inside_a_larger_graph(form, case):
    logits, labels = case
    targets = labels if form == "sparse" else one_hot(labels, logits.shape[1])
    assert_grad_matches_numeric(
        lambda z: SoftmaxCrossEntropy()(z.tanh() * 2, targets) * (z * z).sum(), logits, order=2
    )


def test_softmax_cross_entropy_hessian_is_the_softmax_jacobian_over_n():
    # d2 L / dz_i dz_j = (diag(p_i) - p_i p_i^T) / n within a row, 0 across rows
    logits = np.array([[0.5, -1.0, 1.5], [0.2, 0.1, -0.3]])
    hess = hessian(lambda z: SoftmaxCrossEntropy()(z, [2, 0]), logits).data
    probs = book_softmax(logits)
    for i in range(2):
        row = (np.diag(probs[i]) - np.outer(probs[i], probs[i])) / 2
        assert_allclose(hess[i, :, i, :], row, rtol=1e-12, atol=1e-15)
    assert_array_equal(hess[0, :, 1, :], 0)


@pytest.mark.parametrize("loss", REGRESSORS)
def test_regression_targets_of_shape_n_for_predictions_n_1_say_reshape(loss):
    with pytest.raises(
        ValueError, match=r"\(4,\) do not match predictions of shape \(4, 1\).*reshape"
    ):
        loss()(np.full((4, 1), 0.5), np.ones(4))


@pytest.mark.parametrize("loss", REGRESSORS)
def test_regression_targets_of_another_shape_name_both_shapes(loss):
    with pytest.raises(
        ValueError, match=r"targets of shape \(4, 2\) .* predictions of shape \(4, 1\)"
    ):
        loss()(np.full((4, 1), 0.5), np.ones((4, 2)))


@pytest.mark.parametrize("loss", REGRESSORS)
def test_regression_targets_must_be_numbers(loss):
    with pytest.raises(TypeError, match="targets must be numbers"):
        loss()(np.full((2, 1), 0.5), np.array([["a"], ["b"]]))


# ---- every loss ---------------------------------------------------------------------------------
ALL = [
    (SoftmaxCrossEntropy, [0, 1], "softmax_xent"),
    (CategoricalCrossentropy, [0, 1], "categorical_xent"),
    (BinaryCrossentropy, np.ones((2, 2)), "binary_xent"),
    (MeanSquaredError, np.ones((2, 2)), "mse"),
    (MeanAbsoluteError, np.ones((2, 2)), "mae"),
]


@pytest.mark.parametrize(("loss", "targets", "name"), ALL)
def test_loss_is_a_named_0d_tensor_in_the_predictions_dtype(loss, targets, name):
    predictions = Tensor([[0.25, 0.75], [0.5, 0.5]], requires_grad=True)
    value = loss()(predictions, targets)
    assert value.shape == ()
    assert value.dtype == np.float32
    assert value.name == name
    value.backward()
    assert predictions.grad.shape == (2, 2)


@pytest.mark.parametrize(("loss", "targets", "name"), ALL)
def test_loss_rejects_an_empty_batch(loss, targets, name):
    with pytest.raises(
        ValueError, match=rf"{loss.__name__}: predictions of shape \(0, 2\) hold no"
    ):
        loss()(np.ones((0, 2)), np.asarray(targets)[:0])


@pytest.mark.parametrize(("loss", "targets", "name"), ALL)
def test_loss_rejects_integer_predictions(loss, targets, name):
    with pytest.raises(TypeError, match=rf"{loss.__name__}: predictions must be floats"):
        loss()(np.ones((2, 2), dtype=np.int64), targets)


@pytest.mark.parametrize("loss", [MeanSquaredError, MeanAbsoluteError, SoftmaxCrossEntropy])
def test_non_finite_loss_warns_at_the_callers_line_and_points_to_detect_anomaly(loss):
    predictions = np.array([[np.nan, 1.0], [0.0, 1.0]])
    targets = [0, 1] if loss is SoftmaxCrossEntropy else np.ones((2, 2))
    with pytest.warns(RuntimeWarning, match=rf"{loss.__name__}: the loss is nan.*detect_anomaly"):
        loss()(predictions, targets)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        loss()(predictions, targets)
    assert caught[-1].filename == __file__


@pytest.mark.parametrize(("loss", "targets", "name"), ALL)
def test_sample_losses_are_the_books_per_sample_losses_their_mean_the_value(loss, targets, name):
    predictions = np.array([[0.25, 0.75], [0.5, 0.5]], dtype=np.float32)
    samples = loss().sample_losses(predictions, targets)
    assert samples.shape == (2,) and samples.dtype == np.float32
    assert_array_equal(np.mean(samples), loss()(predictions, targets).data)
    if loss is CategoricalCrossentropy:
        assert_array_equal(samples, -np.log(np.clip(predictions, 1e-7, 1 - 1e-7)[[0, 1], [0, 1]]))


@pytest.mark.parametrize(
    ("predictions", "targets", "message"),
    [
        ([[2.5], [-1.0]], [[1], [0]], r"predictions must lie in \[0, 1\], got values from -1\.0"
         r" to 2\.5; put a Sigmoid before the loss"),
        ([[0.5], [0.5]], [[2], [0]], r"targets must lie in \[0, 1\].*labels 0 and 1"),
    ],
)  # fmt: skip
def test_binary_crossentropy_rejects_values_outside_zero_one(predictions, targets, message):
    with pytest.raises(ValueError, match=rf"BinaryCrossentropy: {message}"):
        BinaryCrossentropy()(np.array(predictions), np.array(targets))


@pytest.mark.parametrize("loss", [BinaryCrossentropy, CategoricalCrossentropy])
def test_clipped_losses_stay_finite_in_float16(loss):
    probs = Tensor(np.array([[1.0, 0.0], [0.0, 1.0]], np.float16), requires_grad=True)
    targets = np.array([[1, 0], [0, 1]]) if loss is BinaryCrossentropy else np.array([0, 1])
    value = loss()(probs, targets)
    value.backward()
    assert value.dtype == np.float16 and np.isfinite(value.item()) and value.item() < 1e-3
    assert np.isfinite(probs.grad.data).all()


@pytest.mark.parametrize(
    ("loss", "targets"),
    [
        (MeanSquaredError, np.ones((2, 3))),
        (MeanAbsoluteError, np.ones((2, 3))),
        (BinaryCrossentropy, np.full((2, 3), 0.5)),
        (CategoricalCrossentropy, np.full((2, 3), 1 / 3)),
        (SoftmaxCrossEntropy, np.eye(3)[[0, 2]]),
    ],
)
def test_targets_that_require_grad_are_refused_not_silently_constant(loss, targets):
    predictions = Tensor(np.full((2, 3), 0.4), requires_grad=True)
    with pytest.raises(ValueError, match=rf"^{loss.__name__}: the targets require grad.*detach"):
        loss()(predictions, Tensor(targets, requires_grad=True))
    assert np.isfinite(loss()(predictions, Tensor(targets)).item())  # constants are fine
