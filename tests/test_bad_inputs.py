"""A careless user's bad inputs: each raises an error naming the function, the value and the fix.

One row per bad input: (the call, the exception type, a regex the message must match). Every
regex starts with the op, layer or function the user called, so a bare NumPy message fails it,
and the error must be raised by this library (not deep inside NumPy or matplotlib).
"""

from __future__ import annotations

import os
import traceback

import numpy as np
import pytest

import tinygrad_nnfs
from tinygrad_nnfs import (
    Tensor,
    datasets,
    draw_graph,
    gradcheck,
    manual_seed,
    nn,
    optim,
    set_default_dtype,
)
from tinygrad_nnfs.train import evaluate, fit

PACKAGE_DIR = os.path.dirname(os.path.abspath(tinygrad_nnfs.__file__))
NAN, INF = float("nan"), float("inf")


def x():
    """A fresh (2, 3) float64 leaf that requires grad."""
    return Tensor(np.ones((2, 3)), requires_grad=True)


def model():
    return nn.Sequential(nn.Dense(2, 4, rng=0), nn.ReLU(), nn.Dense(4, 3, rng=1))


def spiral():
    return datasets.spiral_data(5, 3, rng=0)


def fit_with(**changes):
    """fit() a tiny spiral classifier for one silent epoch, with some arguments replaced."""
    net = model()
    X, y = spiral()
    args = {
        "model": net,
        "loss_fn": nn.SoftmaxCrossEntropy(),
        "optimizer": optim.SGD(net.parameters()),
        "X": X,
        "y": y,
    }
    kwargs = {"print_every": 0}
    for name, value in changes.items():
        (args if name in args else kwargs)[name] = value
    return fit(*args.values(), **kwargs)


def evaluate_with(X, y, **kwargs):
    return evaluate(model(), nn.SoftmaxCrossEntropy(), X, y, **kwargs)


def state_with(value):
    """A state dict of model() with every value replaced by `value`."""
    return {name: value for name in model().state_dict()}


def plot():
    return pytest.importorskip("tinygrad_nnfs.plot")


def regions(X, y, **kwargs):
    """plot_decision_regions of model() on (X, y)."""
    return plot().plot_decision_regions(model(), X, y, **kwargs)


def scaler():
    """A Scaler fitted on one feature."""
    return datasets.Scaler().fit([[0.0], [1.0]])


def row(name, call, error, match):
    return pytest.param(call, error, match, id=name)


# 252 bad inputs: every row below is one (the count goes in the hardening report).
# fmt: off
BAD_INPUTS = [
    # ---- Tensor data and dtypes -----------------------------------------------------------------
    row("tensor-of-str", lambda: Tensor("abc"), TypeError, r"^Tensor: data must be numeric.*<U3"),
    row("tensor-of-none", lambda: Tensor(None), TypeError, r"^Tensor: .*object from NoneType"),
    row("tensor-of-dict", lambda: Tensor({}), TypeError, r"^Tensor: .*object from dict"),
    row("tensor-of-complex", lambda: Tensor(1 + 2j), TypeError, r"^Tensor: .*complex128"),
    row("tensor-ragged", lambda: Tensor([[1.0], [2.0, 3.0]]), TypeError, r"^Tensor: .*ragged"),
    row("tensor-of-tensors", lambda: Tensor([x(), x()]), TypeError, r"^Tensor: .*object"),
    row("tensor-of-datetimes", lambda: Tensor(np.array(["2020-01-01"], dtype="M8[D]")), TypeError,
        r"^Tensor: data must be numeric.*datetime64"),
    row("tensor-dtype-str", lambda: Tensor([1.0], dtype=str), TypeError,
        r"^Tensor: dtype must be float, int or bool, got <U0; pass e\.g\. np\.float32"),
    row("tensor-dtype-unknown", lambda: Tensor([1.0], dtype="floot32"), TypeError,
        r"^Tensor: 'floot32' is not a dtype.*np\.float32"),
    row("tensor-dtype-object", lambda: Tensor([1.0], dtype=object), TypeError,
        r"^Tensor: dtype must be float, int or bool, got object"),
    row("tensor-int-requires-grad", lambda: Tensor([1, 2], requires_grad=True), TypeError,
        r"^Tensor: only float tensors can require grad; got dtype int64.*dtype=np\.float32"),
    row("tensor-bool-requires-grad", lambda: Tensor([True], requires_grad=True), TypeError,
        r"^Tensor: only float tensors can require grad; got dtype bool"),
    row("set-default-dtype-int", lambda: set_default_dtype(np.int32), TypeError,
        r"^set_default_dtype: expected a float dtype, got int32"),
    row("set-default-dtype-unknown", lambda: set_default_dtype("float33"), TypeError,
        r"^set_default_dtype: 'float33' is not a dtype"),
    row("astype-str", lambda: x().astype(str), TypeError, r"^astype: dtype must be float, int"),
    row("astype-unknown", lambda: x().astype("f3"), TypeError, r"^astype: 'f3' is not a dtype"),
    row("manual-seed-negative", lambda: manual_seed(-1), ValueError,
        r"^manual_seed: seed must be in 0\.\.2\*\*32 - 1, got -1"),
    row("manual-seed-too-big", lambda: manual_seed(2**32), ValueError,
        r"^manual_seed: seed must be in .*got 4294967296"),
    row("manual-seed-float", lambda: manual_seed(1.5), TypeError,
        r"^manual_seed: seed must be an int, got float 1\.5"),
    row("manual-seed-str", lambda: manual_seed("0"), TypeError,
        r"^manual_seed: seed must be an int, got str '0'"),
    # ---- constructors ---------------------------------------------------------------------------
    row("randn-negative", lambda: Tensor.randn(-1), ValueError,
        r"^Tensor\.randn: shape \(-1,\) has a negative side; every side must be >= 0"),
    row("randn-float", lambda: Tensor.randn(2.5), TypeError,
        r"^Tensor\.randn: every side of shape must be an int, got float 2\.5"),
    row("randn-str", lambda: Tensor.randn("3"), TypeError, r"^Tensor\.randn: .*got str '3'"),
    row("randn-bool", lambda: Tensor.randn(True), TypeError, r"^Tensor\.randn: .*got bool True"),
    row("randn-bad-rng", lambda: Tensor.randn(2, rng="seed"), TypeError,
        r"^rng: expected None, an int, a RandomState or a Generator, got 'seed'"),
    row("zeros-negative", lambda: Tensor.zeros(2, -3), ValueError,
        r"^Tensor\.zeros: shape \(2, -3\) has a negative side"),
    row("zeros-float-tuple", lambda: Tensor.zeros((2.0, 3)), TypeError,
        r"^Tensor\.zeros: every side of shape must be an int, got float 2\.0 in \(2\.0, 3\)"),
    row("ones-negative", lambda: Tensor.ones(-2), ValueError, r"^Tensor\.ones: shape \(-2,\)"),
    row("ones-none", lambda: Tensor.ones(None), TypeError, r"^Tensor\.ones: .*NoneType None"),
    row("zeros-int-requires-grad", lambda: Tensor.zeros(2, dtype=np.int64, requires_grad=True),
        TypeError, r"^Tensor: only float tensors can require grad"),
    row("uniform-low-above-high", lambda: Tensor.uniform(3, low=1.0, high=0.0), ValueError,
        r"^Tensor\.uniform: low \(1\.0\) must not exceed high \(0\.0\)"),
    row("uniform-nan-low", lambda: Tensor.uniform(3, low=NAN), ValueError,
        r"^Tensor\.uniform: low must be finite, got nan"),
    row("uniform-inf-high", lambda: Tensor.uniform(3, high=INF), ValueError,
        r"^Tensor\.uniform: high must be finite, got inf"),
    row("uniform-str-high", lambda: Tensor.uniform(3, high="1"), TypeError,
        r"^Tensor\.uniform: high must be a number, got str '1'"),
    row("uniform-negative", lambda: Tensor.uniform(-3), ValueError, r"^Tensor\.uniform: shape"),
    row("eye-negative", lambda: Tensor.eye(-1), ValueError, r"^Tensor\.eye: n must be >= 0"),
    row("eye-float", lambda: Tensor.eye(2.5), TypeError,
        r"^Tensor\.eye: n must be an int, got float 2\.5"),
    row("arange-zero-step", lambda: Tensor.arange(0, 1, 0), ValueError,
        r"^Tensor\.arange\(0, 1, 0\): .*non-zero step"),
    row("arange-no-stop", lambda: Tensor.arange(), TypeError, r"^Tensor\.arange\(\): .*stop"),
    row("arange-str", lambda: Tensor.arange("5"), TypeError, r"^Tensor\.arange\('5',\): "),
    row("concatenate-empty", lambda: Tensor.concatenate([]), ValueError,
        r"^concatenate: got no tensors; pass a non-empty list"),
    row("concatenate-mismatch", lambda: Tensor.concatenate([x(), Tensor(np.ones((2, 4)))]),
        ValueError, r"^Concatenate: cannot apply to input shapes \(2, 3\), \(2, 4\)"),
    row("concatenate-axis", lambda: Tensor.concatenate([x(), x()], axis=2), ValueError,
        r"^Concatenate: .*axis 2 is out of bounds"),
    row("concatenate-0d", lambda: Tensor.concatenate([Tensor(1.0), Tensor(2.0)]), ValueError,
        r"^Concatenate: cannot apply to input shapes \(\), \(\)"),
    row("stack-empty", lambda: Tensor.stack([]), ValueError, r"^stack: got no tensors"),
    row("stack-axis", lambda: Tensor.stack([x(), x()], axis=9), ValueError,
        r"^stack: axis 9 is out of range .* 2 dimensions \(valid: -3\.\.2\)"),
    row("stack-mismatch", lambda: Tensor.stack([x(), Tensor(np.ones((3, 2)))]), ValueError,
        r"^Concatenate: cannot apply to input shapes \(1, 2, 3\), \(1, 3, 2\)"),
    # ---- operands and broadcasting --------------------------------------------------------------
    row("add-str", lambda: x() + "a", TypeError, r"^add: unsupported operand of type str"),
    row("radd-none", lambda: None + x(), TypeError, r"unsupported operand"),
    row("mul-object", lambda: x() * object(), TypeError, r"^mul: unsupported operand of type"),
    row("sub-str-array", lambda: x() - np.array(["a", "b", "c"]), TypeError,
        r"^sub: bad operand: Tensor: data must be numeric"),
    row("div-dict", lambda: x() / {}, TypeError, r"^div: unsupported operand of type dict"),
    row("pow-str", lambda: x() ** "2", TypeError, r"^pow: unsupported operand of type str"),
    row("add-shapes", lambda: x() + np.ones(4), ValueError,
        r"^Add: cannot apply to input shapes \(2, 3\), \(4,\)"),
    row("mul-shapes", lambda: x() * Tensor(np.ones((3, 2))), ValueError,
        r"^Mul: cannot apply to input shapes \(2, 3\), \(3, 2\)"),
    row("maximum-shapes", lambda: x().maximum(np.ones(4)), ValueError,
        r"^Maximum: cannot apply to input shapes \(2, 3\), \(4,\)"),
    row("minimum-str", lambda: x().minimum("0"), TypeError, r"^minimum: unsupported operand"),
    row("compare-shapes", lambda: x() < np.ones(4), ValueError,
        r"^less: operands could not be broadcast together with shapes \(2,3\) \(4,\)"),
    row("compare-str", lambda: x() == "a", TypeError, r"^equal: unsupported operand of type str"),
    # ---- matmul ---------------------------------------------------------------------------------
    row("matmul-0d-left", lambda: Tensor(2.0) @ x(), ValueError,
        r"^MatMul: cannot apply to input shapes \(\), \(2, 3\): .*at least 1 dimension; use \*"),
    row("matmul-0d-right", lambda: x() @ Tensor(2.0), ValueError, r"^MatMul: .*use \*"),
    row("matmul-number", lambda: x() @ 2.0, ValueError, r"^MatMul: .*at least 1 dimension"),
    row("matmul-misaligned", lambda: x() @ x(), ValueError,
        r"^MatMul: .*shapes \(2, 3\) and \(2, 3\) do not align \(3 != 2\).*\.T"),
    row("matmul-batch", lambda: Tensor(np.ones((2, 2, 3))) @ Tensor(np.ones((3, 3, 1))), ValueError,
        r"^MatMul: .*batch dimensions do not broadcast"),
    row("matmul-str", lambda: x() @ "a", TypeError, r"^matmul: unsupported operand of type str"),
    # ---- reductions -----------------------------------------------------------------------------
    row("tensor-requires-grad-str", lambda: Tensor([1.0], requires_grad="no"), TypeError,
        r"^Tensor: requires_grad must be True or False, got str 'no'"),
    row("grad-complex", lambda: setattr(x(), "grad", np.ones((2, 3), complex)), TypeError,
        r"^grad: a gradient must hold real numbers, got dtype complex128"),
    row("concatenate-axis-str", lambda: Tensor.concatenate([x(), x()], axis="0"), TypeError,
        r"^concatenate: axis must be an int, got str '0'"),
    row("sum-axis-5", lambda: x().sum(axis=5), ValueError,
        r"^sum: axis 5 is out of range for a tensor with 2 dimensions \(valid: -2\.\.1\)"),
    row("sum-axis-negative", lambda: x().sum(axis=-3), ValueError, r"^sum: axis -3 is out"),
    row("sum-axis-float", lambda: x().sum(axis=1.5), TypeError,
        r"^sum: axis must be None, an int, or a tuple or list of ints, got float 1\.5"),
    row("sum-axis-str", lambda: x().sum(axis="0"), TypeError, r"^sum: axis must be .*str '0'"),
    row("sum-axis-list-of-str", lambda: x().sum(axis=[0, "1"]), TypeError,
        r"^sum: every axis must be an int, got str '1' in \(0, '1'\)"),
    row("sum-axis-bool", lambda: x().sum(axis=True), TypeError,
        r"^sum: every axis must be an int, got bool True"),
    row("sum-axis-repeated", lambda: x().sum(axis=(0, -2)), ValueError,
        r"^sum: axis \(0, -2\) repeats an axis"),
    row("sum-axis-on-0d", lambda: Tensor(1.0).sum(axis=1), ValueError, r"^sum: axis 1 is out"),
    row("mean-axis-5", lambda: x().mean(axis=5), ValueError, r"^mean: axis 5 is out of range"),
    row("mean-of-empty", lambda: Tensor(np.array([])).mean(), ValueError,
        r"^mean: a tensor of shape \(0,\) has no elements to average over axis None"),
    row("mean-of-empty-axis", lambda: Tensor(np.ones((0, 3))).mean(axis=0), ValueError,
        r"^mean: a tensor of shape \(0, 3\) has no elements to average over axis 0"),
    row("max-axis-tuple", lambda: x().max(axis=(0, 4)), ValueError, r"^max: axis \(0, 4\)"),
    row("max-of-empty", lambda: Tensor(np.array([])).max(), ValueError,
        r"^Max: cannot apply to input shapes \(0,\): zero-size array"),
    row("min-axis-float", lambda: x().min(axis=0.0), TypeError, r"^min: axis must be None"),
    row("logsumexp-axis", lambda: x().logsumexp(axis=9), ValueError, r"^logsumexp: axis 9"),
    row("logsumexp-int", lambda: Tensor([1, 2]).logsumexp(), TypeError,
        r"^logsumexp: expected a float tensor, got dtype int64.*astype\(np\.float32\)"),
    row("argmax-axis", lambda: x().argmax(axis=5), ValueError, r"^argmax: axis 5 is out"),
    row("argmin-axis", lambda: x().argmin(axis=-3), ValueError, r"^argmin: axis -3 is out"),
    row("argmax-axis-str", lambda: x().argmax(axis="1"), TypeError, r"^argmax: axis must be"),
    # ---- softmax --------------------------------------------------------------------------------
    row("softmax-int", lambda: Tensor([1, 2, 3]).softmax(), TypeError,
        r"^softmax: expected a float tensor, got dtype int64; .*\.astype\(np\.float32\)"),
    row("softmax-bool", lambda: Tensor([True]).softmax(), TypeError, r"^softmax: .*dtype bool"),
    row("softmax-axis", lambda: x().softmax(axis=5), ValueError, r"^softmax: axis 5 is out"),
    row("log-softmax-int", lambda: Tensor([[1, 2]]).log_softmax(), TypeError,
        r"^log_softmax: expected a float tensor, got dtype int64"),
    row("log-softmax-axis", lambda: x().log_softmax(axis=2), ValueError, r"axis 2 is out"),
    row("softmax-module-axis", lambda: nn.Softmax(axis=3)(x()), ValueError,
        r"^softmax: axis 3 is out of range"),
    # ---- elementwise ----------------------------------------------------------------------------
    row("clip-lo-above-hi", lambda: x().clip(1.0, -1.0), ValueError,
        r"^clip: lo \(1\.0\) must not exceed hi \(-1\.0\)"),
    row("clip-nan", lambda: x().clip(NAN, 1.0), ValueError,
        r"^clip: lo is NaN; pass a number, or None for no bound"),
    row("clip-str", lambda: x().clip(0.0, "1"), TypeError,
        r"^clip: hi must be a number or None, got str '1'"),
    row("clip-array", lambda: x().clip(np.zeros(3), 1.0), TypeError, r"^clip: lo must be"),
    row("dropout-rate-1", lambda: x().dropout(1.0), ValueError,
        r"^dropout: rate must be in \[0, 1\), got 1\.0"),
    row("dropout-rate-negative", lambda: x().dropout(-0.1), ValueError, r"^dropout: rate must"),
    row("dropout-rate-nan", lambda: x().dropout(NAN), ValueError, r"^dropout: rate .* got nan"),
    row("dropout-rate-str", lambda: x().dropout("0.5"), TypeError,
        r"^dropout: rate must be a number, got str '0\.5'"),
    # ---- shape ----------------------------------------------------------------------------------
    row("reshape-size", lambda: x().reshape(4, 2), ValueError,
        r"^Reshape: cannot apply to input shapes \(2, 3\): cannot reshape array of size 6"),
    row("reshape-two-unknown", lambda: x().reshape(-1, -1), ValueError,
        r"^Reshape: .*only specify one unknown dimension"),
    row("reshape-float", lambda: x().reshape(2.0, 3), TypeError,
        r"^reshape: every side of shape must be an int, got float 2\.0 in \(2\.0, 3\)"),
    row("reshape-str", lambda: x().reshape("6"), TypeError, r"^reshape: .*got str '6'"),
    row("transpose-repeated", lambda: x().transpose(0, -2), ValueError,
        r"^transpose: axes \(0, -2\) are not a permutation of the axes of a tensor of shape "
        r"\(2, 3\); pass each of 0\.\.1 once"),
    row("transpose-out-of-range", lambda: x().transpose(0, 5), ValueError,
        r"^transpose: axes \(0, 5\) are not a permutation"),
    row("transpose-too-few", lambda: x().transpose(0), ValueError, r"^transpose: axes \(0,\)"),
    row("transpose-float", lambda: x().transpose(1.0, 0), TypeError,
        r"^transpose: every axis must be an int, got float 1\.0"),
    row("flatten-axis", lambda: x().flatten(5), ValueError, r"^flatten: axis 5 is out of range"),
    row("flatten-reversed", lambda: Tensor(np.ones((2, 3, 4))).flatten(2, 0), ValueError,
        r"^flatten: start_dim 2 comes after end_dim 0 .*start_dim <= end_dim"),
    row("flatten-float", lambda: x().flatten(0.5), TypeError, r"^flatten: axis must be None"),
    row("expand-incompatible", lambda: x().expand(4, 3), ValueError,
        r"^Expand: cannot apply to input shapes \(2, 3\).*\(4,3\)"),
    row("expand-fewer-dims", lambda: x().expand(3), ValueError, r"^Expand: cannot apply"),
    row("expand-float", lambda: x().expand(2, 3.0), TypeError,
        r"^expand: every side of shape must be an int, got float 3\.0"),
    row("squeeze-non-one", lambda: x().squeeze(0), ValueError,
        r"^squeeze: shape \(2, 3\), axis 0: .*size not equal to one"),
    row("squeeze-axis", lambda: x().squeeze(5), ValueError, r"^squeeze: axis 5 is out of range"),
    row("squeeze-str", lambda: x().squeeze("0"), TypeError, r"^squeeze: axis must be None"),
    row("unsqueeze-axis", lambda: x().unsqueeze(5), ValueError,
        r"^unsqueeze: axis 5 is out of range for inserting .* \(valid: -3\.\.2\)"),
    row("unsqueeze-float", lambda: x().unsqueeze(1.0), TypeError,
        r"^unsqueeze: axis must be an int, got float 1\.0"),
    # ---- indexing -------------------------------------------------------------------------------
    row("index-out-of-range", lambda: x()[5], IndexError,
        r"^Index: index 5 is out of bounds for axis 0 with size 2 \(tensor shape \(2, 3\)\)"),
    row("index-negative-out-of-range", lambda: x()[:, -4], IndexError, r"^Index: index -4"),
    row("index-array-out-of-range", lambda: x()[np.array([0, 7])], IndexError,
        r"^Index: index 7 is out of bounds"),
    row("index-tensor-out-of-range", lambda: x()[Tensor([2])], IndexError, r"^Index: index 2"),
    row("index-float", lambda: x()[1.5], IndexError, r"^Index: only integers, slices"),
    row("index-str", lambda: x()["a"], IndexError, r"^Index: only integers"),
    row("index-too-many", lambda: x()[0, 0, 0], IndexError, r"^Index: too many indices"),
    row("index-mask-shape", lambda: x()[np.array([True, False, True])], IndexError,
        r"^Index: boolean index did not match"),
    row("index-0d", lambda: Tensor(1.0)[0], IndexError, r"^Index: too many indices.*shape \(\)"),
    # ---- conversions ----------------------------------------------------------------------------
    row("item-of-many", lambda: x().item(), ValueError,
        r"^item: only one-element tensors convert, got shape \(2, 3\)"),
    row("item-of-empty", lambda: Tensor(np.array([])).item(), ValueError, r"^item: .*\(0,\)"),
    row("bool-of-many", lambda: bool(x() > 0), ValueError,
        r"^bool: the truth value of a Tensor of shape \(2, 3\) is ambiguous"),
    row("len-of-0d", lambda: len(Tensor(1.0)), TypeError,
        r"^len: a 0-d Tensor has no length; use \.item\(\)"),
    row("iter-of-0d", lambda: list(Tensor(1.0)), TypeError,
        r"^iter: a 0-d Tensor is not iterable; use \.item\(\)"),
    row("grad-wrong-shape", lambda: setattr(x(), "grad", np.ones(3)), ValueError,
        r"^grad: shape \(3,\) does not match tensor shape \(2, 3\)"),
    # ---- backward -------------------------------------------------------------------------------
    row("backward-no-grad", lambda: Tensor([1.0]).exp().backward(), RuntimeError,
        r"^backward: this tensor \(shape \(1,\)\) does not require grad"),
    row("backward-non-scalar", lambda: (x() * 2).backward(), RuntimeError,
        r"^backward: gradient can be implied only for one-element outputs, got shape \(2, 3\)"),
    row("backward-gradient-shape", lambda: (x() * 2).backward(np.ones(3)), ValueError,
        r"^backward: gradient has shape \(3,\) but the tensor has shape \(2, 3\)"),
    row("backward-gradient-str", lambda: (x() * 2).backward("ones"), TypeError,
        r"^backward: gradient must hold numbers, got dtype <U4"),
    row("backward-gradient-nan", lambda: (x() * 2).backward(np.full((2, 3), NAN)), ValueError,
        r"^backward: gradient holds NaN or inf; pass a finite gradient"),
    row("backward-gradient-inf", lambda: x().sum().backward(np.array(INF)), ValueError,
        r"^backward: gradient holds NaN or inf"),
    # ---- nn layers ------------------------------------------------------------------------------
    row("dense-zero-inputs", lambda: nn.Dense(0, 3), ValueError,
        r"^Dense: n_inputs must be positive, got 0"),
    row("dense-negative-neurons", lambda: nn.Dense(2, -3), ValueError,
        r"^Dense: n_neurons must be positive, got -3"),
    row("dense-float-inputs", lambda: nn.Dense(2.5, 3), TypeError,
        r"^Dense: n_inputs must be an int, got float 2\.5"),
    row("dense-str-neurons", lambda: nn.Dense(2, "3"), TypeError,
        r"^Dense: n_neurons must be an int, got str '3'"),
    row("dense-int-dtype", lambda: nn.Dense(2, 3, dtype=np.int32), TypeError,
        r"^Dense\(2, 3\): dtype must be a float dtype, got int32"),
    row("dense-bogus-dtype", lambda: nn.Dense(2, 3, dtype="bogus"), TypeError,
        r"^Dense\(2, 3\): 'bogus' is not a dtype .*; pass e\.g\. np\.float32"),
    row("dense-negative-l2", lambda: nn.Dense(2, 3, weight_regularizer_l2=-1e-4), ValueError,
        r"^Dense\(2, 3\): weight_regularizer_l2 must be a finite number >= 0"),
    row("dense-nan-l1", lambda: nn.Dense(2, 3, bias_regularizer_l1=NAN), ValueError,
        r"^Dense\(2, 3\): bias_regularizer_l1 .*got nan"),
    row("dense-wrong-features", lambda: nn.Dense(2, 3)(np.ones((4, 5))), ValueError,
        r"^Dense\(2, 3\): expected inputs with 2 features \(last axis\), got 5 .*\(n_samples, 2\)"),
    row("dense-scalar-input", lambda: nn.Dense(2, 3)(1.0), ValueError,
        r"^Dense\(2, 3\): expected inputs with 2 features .*got a scalar"),
    row("dense-str-input", lambda: nn.Dense(2, 3)([["a", "b"]]), TypeError,
        r"^Tensor: data must be numeric"),
    row("dropout-layer-rate-1", lambda: nn.Dropout(1), ValueError,
        r"^Dropout: rate \(the fraction of units dropped\) must be in \[0, 1\), got 1"),
    row("dropout-layer-rate-str", lambda: nn.Dropout("0.1"), TypeError,
        r"^Dropout: rate must be a number, got str"),
    row("sequential-non-module", lambda: nn.Sequential(nn.ReLU(), len), TypeError,
        r"^Sequential: argument 1 is a builtin_function_or_method, not a Module"),
    row("sequential-index-range", lambda: model()[3], IndexError,
        r"^Sequential: index 3 out of range for 3 modules"),
    row("sequential-index-str", lambda: model()["0"], TypeError,
        r"^Sequential: index must be an int or a slice, got str '0'"),
    row("regularization-loss-non-module", lambda: nn.regularization_loss([1]), TypeError,
        r"^regularization_loss: expected a Module .*got list"),
    # ---- losses ---------------------------------------------------------------------------------
    row("xent-label-too-big", lambda: nn.SoftmaxCrossEntropy()(np.ones((2, 3)), [0, 3]), ValueError,
        r"^SoftmaxCrossEntropy: label 3 is out of range for 3 classes"),
    row("xent-label-negative", lambda: nn.CategoricalCrossentropy()(np.ones((2, 3)), [-1, 0]),
        ValueError, r"^CategoricalCrossentropy: label -1 is out of range for 3 classes"),
    row("xent-float-labels", lambda: nn.SoftmaxCrossEntropy()(np.ones((2, 3)), [0.0, 1.0]),
        TypeError, r"^SoftmaxCrossEntropy: sparse labels must be integers.*y\.astype\(int\)"),
    row("xent-str-labels", lambda: nn.SoftmaxCrossEntropy()(np.ones((2, 3)), ["a", "b"]), TypeError,
        r"^SoftmaxCrossEntropy: sparse labels must be integers, got dtype <U1"),
    row("xent-label-count", lambda: nn.SoftmaxCrossEntropy()(np.ones((2, 3)), [0, 1, 2]),
        ValueError, r"^SoftmaxCrossEntropy: labels of shape \(3,\) do not match .*\(2, 3\)"),
    row("xent-scalar-label", lambda: nn.SoftmaxCrossEntropy()(np.ones((2, 3)), 1), ValueError,
        r"^SoftmaxCrossEntropy: labels of shape \(\) do not match"),
    row("xent-soft-labels", lambda: nn.SoftmaxCrossEntropy()(np.ones((1, 2)), [[0.5, 0.5]]),
        ValueError, r"^SoftmaxCrossEntropy: one-hot labels must hold exactly one 1 per row"),
    row("xent-1d-predictions", lambda: nn.CategoricalCrossentropy()(np.ones(3), [0, 1, 2]),
        ValueError, r"^CategoricalCrossentropy: predictions must be 2-D .*got shape \(3,\)"),
    row("xent-no-classes", lambda: nn.SoftmaxCrossEntropy()(np.ones((2, 0)), [0, 0]), ValueError,
        r"^SoftmaxCrossEntropy: predictions of shape \(2, 0\) hold no classes"),
    row("xent-empty-batch", lambda: nn.SoftmaxCrossEntropy()(np.ones((0, 3)), []), ValueError,
        r"^SoftmaxCrossEntropy: predictions of shape \(0, 3\) hold no samples"),
    row("xent-int-predictions", lambda: nn.SoftmaxCrossEntropy()([[1, 2]], [0]), TypeError,
        r"^SoftmaxCrossEntropy: predictions must be floats, got dtype int64"),
    row("bce-targets-shape", lambda: nn.BinaryCrossentropy()(np.ones((3, 1)), np.ones(3)),
        ValueError, r"^BinaryCrossentropy: targets of shape \(3,\) .*y\.reshape\(-1, 1\)"),
    row("bce-str-targets", lambda: nn.BinaryCrossentropy()(np.ones((1, 1)), [["1"]]), TypeError,
        r"^BinaryCrossentropy: targets must be numbers, got dtype <U1"),
    row("mse-none-targets", lambda: nn.MeanSquaredError()(np.ones((2, 1)), None), TypeError,
        r"^MeanSquaredError: targets must be numbers, got dtype object"),
    row("mae-targets-shape", lambda: nn.MeanAbsoluteError()(np.ones((2, 2)), np.ones((2, 3))),
        ValueError, r"^MeanAbsoluteError: targets of shape \(2, 3\) do not match .*\(2, 2\)"),
    # ---- Module state and files -----------------------------------------------------------------
    row("load-state-str-values", lambda: model().load_state_dict(state_with("abc")), ValueError,
        r"^load_state_dict: key '0\.weights' holds str data \(dtype <U3\), not an array"),
    row("load-state-none-values", lambda: model().load_state_dict(state_with(None)), ValueError,
        r"^load_state_dict: key '0\.weights' holds NoneType data"),
    row("load-state-scalar-values", lambda: model().load_state_dict(state_with(1.0)), ValueError,
        r"^load_state_dict: key '0\.weights' has shape \(\) but .* \(2, 4\)"),
    row("load-state-int-arrays", lambda: model().load_state_dict(state_with(np.ones((2, 4), int))),
        ValueError, r"^load_state_dict: key '0\.weights' has dtype int64 but .*float"),
    row("load-state-missing-key", lambda: model().load_state_dict({}), ValueError,
        r"^load_state_dict: missing keys \['0\.weights'"),
    row("load-state-list", lambda: model().load_state_dict([]), TypeError,
        r"^load_state_dict: expected a mapping name -> array"),
    row("save-path-none", lambda: model().save(None), TypeError,
        r"^save: path must be a str or os\.PathLike .*got NoneType None"),
    row("save-missing-directory", lambda: model().save(os.path.join("no-such-dir", "m")),
        FileNotFoundError, r"^save: no such directory '.*no-such-dir'.*os\.makedirs"),
    row("load-path-int", lambda: model().load(3), TypeError, r"^load: path must be a str"),
    row("load-missing-file", lambda: model().load("no-such-model"), FileNotFoundError,
        r"^load: no such file 'no-such-model\.npz'; save the model first"),
    # ---- optimizers -----------------------------------------------------------------------------
    row("sgd-lr-nan", lambda: optim.SGD(model().parameters(), learning_rate=NAN), ValueError,
        r"^SGD: learning_rate must be finite and >= 0, got nan"),
    row("sgd-lr-negative", lambda: optim.SGD(model().parameters(), learning_rate=-1), ValueError,
        r"^SGD: learning_rate must be finite and >= 0, got -1\.0"),
    row("sgd-lr-str", lambda: optim.SGD(model().parameters(), learning_rate="0.1"), TypeError,
        r"^SGD: learning_rate must be a real number, got str"),
    row("sgd-momentum-1", lambda: optim.SGD(model().parameters(), momentum=1.0), ValueError,
        r"^SGD: momentum must be in \[0, 1\), got 1\.0"),
    row("adam-beta-negative", lambda: optim.Adam(model().parameters(), beta_2=-0.1), ValueError,
        r"^Adam: beta_2 must be in \[0, 1\), got -0\.1"),
    row("adam-epsilon-inf", lambda: optim.Adam(model().parameters(), epsilon=INF), ValueError,
        r"^Adam: epsilon must be finite and >= 0, got inf"),
    row("rmsprop-rho-nan", lambda: optim.RMSprop(model().parameters(), rho=NAN), ValueError,
        r"^RMSprop: rho must be in \[0, 1\), got nan"),
    row("adagrad-decay-negative", lambda: optim.Adagrad(model().parameters(), decay=-1e-3),
        ValueError, r"^Adagrad: decay must be finite and >= 0"),
    row("optimizer-empty-params", lambda: optim.Adam([]), ValueError,
        r"^Adam: params is empty; pass the tensors to optimise"),
    row("optimizer-tensor-params", lambda: optim.SGD(x()), TypeError,
        r"^SGD: params must be an iterable of Tensors .*\[tensor\]"),
    row("optimizer-named-params", lambda: optim.SGD(model().named_parameters()), TypeError,
        r"^SGD: params\[0\] is a tuple, not a Tensor"),
    row("optimizer-constant-param", lambda: optim.SGD([Tensor([1.0])]), ValueError,
        r"^SGD: params\[0\] \(shape \(1,\)\) does not require grad"),
    row("optimizer-load-state-none", lambda: optim.SGD(model().parameters()).load_state_dict(None),
        TypeError, r"^SGD\.load_state_dict: expected a mapping .*, got NoneType"),
    # ---- datasets -------------------------------------------------------------------------------
    row("spiral-negative", lambda: datasets.spiral_data(-1, 3), ValueError,
        r"^spiral_data: samples must be >= 1, got -1"),
    row("spiral-float", lambda: datasets.spiral_data(100, 2.0), TypeError,
        r"^spiral_data: classes must be an int, got float 2\.0"),
    row("vertical-zero-classes", lambda: datasets.vertical_data(10, 0), ValueError,
        r"^vertical_data: classes must be >= 1, got 0"),
    row("sine-negative", lambda: datasets.sine_data(-5), ValueError, r"^sine_data: samples"),
    row("split-fraction-1", lambda: datasets.train_val_split(*spiral(), val_fraction=1.0),
        ValueError, r"^train_val_split: val_fraction must be in \(0, 1\), got 1\.0"),
    row("split-fraction-nan", lambda: datasets.train_val_split(*spiral(), val_fraction=NAN),
        ValueError, r"^train_val_split: val_fraction must be in \(0, 1\), got nan"),
    row("split-mismatch", lambda: datasets.train_val_split(np.ones((4, 2)), np.ones(3)), ValueError,
        r"^train_val_split: X \(shape \(4, 2\)\) and y \(shape \(3,\)\)"),
    row("split-one-sample", lambda: datasets.train_val_split([[1.0]], [0]), ValueError,
        r"^train_val_split: need at least 2 samples to split, got 1"),
    row("kfold-k-1", lambda: datasets.kfold(10, 1), ValueError, r"^kfold: k must be >= 2"),
    row("kfold-k-too-big", lambda: datasets.kfold(3, 5), ValueError,
        r"^kfold: k \(5\) exceeds n_samples \(3\)"),
    row("scaler-range-reversed", lambda: datasets.Scaler((1, -1)), ValueError,
        r"^Scaler: feature_range must be finite with low < high, got \(1, -1\)"),
    row("scaler-unfitted", lambda: datasets.Scaler().transform(np.ones((2, 2))), RuntimeError,
        r"^Scaler\.transform: the scaler is not fitted; call fit\(X_train\) first"),
    row("scaler-fit-1d", lambda: datasets.Scaler().fit(np.ones(3)), ValueError,
        r"^Scaler\.fit: X must be 2-D .*X\.reshape\(-1, 1\)"),
    row("scaler-fit-nan", lambda: datasets.Scaler().fit([[NAN]]), ValueError,
        r"^Scaler\.fit: X contains NaN or inf"),
    row("scaler-transform-inf", lambda: scaler().transform([[INF]]),
        ValueError, r"^Scaler\.transform: X contains NaN or inf"),
    row("scaler-transform-features", lambda: scaler().transform(np.ones((2, 2))), ValueError,
        r"^Scaler\.transform: X has 2 features .*fitted on 1"),
    # ---- fit and evaluate -----------------------------------------------------------------------
    row("fit-empty-X", lambda: fit_with(X=np.zeros((0, 2)), y=np.zeros(0, dtype=int)), ValueError,
        r"^fit: X and y hold no samples; pass at least one"),
    row("fit-X-none", lambda: fit_with(X=None), TypeError,
        r"^fit: X must hold numbers, got dtype object"),
    row("fit-X-scalar", lambda: fit_with(X=3.0), ValueError,
        r"^fit: X must have one row per sample \(axis 0\), got a scalar 3\.0"),
    row("fit-X-str", lambda: fit_with(X=np.full((15, 2), "a")), TypeError,
        r"^fit: X must hold numbers, got dtype <U1"),
    row("fit-X-nan", lambda: fit_with(X=np.full((15, 2), NAN)), ValueError,
        r"^fit: X contains NaN or inf; clean the data"),
    row("fit-y-inf", lambda: fit_with(y=np.full(15, INF)), ValueError,
        r"^fit: y contains NaN or inf"),
    row("fit-mismatch", lambda: fit_with(y=np.zeros(14, dtype=int)), ValueError,
        r"^fit: X has 15 samples but y has 14; pass one label per row"),
    row("fit-epochs-0", lambda: fit_with(epochs=0), ValueError,
        r"^fit: epochs must be a positive int, got 0"),
    row("fit-epochs-float", lambda: fit_with(epochs=2.0), ValueError, r"^fit: epochs .*2\.0"),
    row("fit-epochs-bool", lambda: fit_with(epochs=True), ValueError, r"^fit: epochs .*True"),
    row("fit-batch-size-0", lambda: fit_with(batch_size=0), ValueError,
        r"^fit: batch_size must be a positive int or None, got 0"),
    row("fit-print-every-negative", lambda: fit_with(print_every=-1), ValueError,
        r"^fit: print_every must be an int >= 0 \(0 logs nothing\), got -1"),
    row("fit-model-int", lambda: fit_with(model=3), TypeError,
        r"^fit: model must be an nn\.Module such as nn\.Sequential\(\.\.\.\), got int"),
    row("fit-optimizer-str", lambda: fit_with(optimizer="adam"), TypeError,
        r"^fit: optimizer must be an optim optimizer .*got str"),
    row("fit-loss-not-callable", lambda: fit_with(loss_fn=3), TypeError,
        r"^fit: loss_fn must be callable, got int 3"),
    row("fit-log-not-callable", lambda: fit_with(log="stdout"), TypeError,
        r"^fit: log must be callable, got str 'stdout'"),
    row("fit-validation-not-pair", lambda: fit_with(validation_data=np.ones((3, 2))), TypeError,
        r"^fit: validation_data must be a pair \(X_val, y_val\), got ndarray"),
    row("fit-validation-mismatch", lambda: fit_with(validation_data=(np.ones((3, 2)), [0])),
        ValueError, r"^fit: validation_data: X has 3 samples but y has 1"),
    row("fit-validation-both",
        lambda: fit_with(validation_split=0.2, validation_data=(np.ones((3, 2)), [0, 1, 2])),
        ValueError, r"^fit: pass validation_data or validation_split, not both"),
    row("fit-validation-split-2", lambda: fit_with(validation_split=2.0), ValueError,
        r"^train_val_split: val_fraction must be in \(0, 1\), got 2\.0"),
    row("fit-wrong-features", lambda: fit_with(X=np.ones((15, 3))), ValueError,
        r"^Dense\(2, 4\): expected inputs with 2 features"),
    row("fit-float-labels", lambda: fit_with(y=np.zeros(15)), TypeError,
        r"^SoftmaxCrossEntropy: sparse labels must be integers"),
    row("evaluate-empty", lambda: evaluate_with(np.zeros((0, 2)), []), ValueError,
        r"^evaluate: X and y hold no samples"),
    row("evaluate-mismatch", lambda: evaluate_with(np.ones((3, 2)), [0]), ValueError,
        r"^evaluate: X has 3 samples but y has 1"),
    row("evaluate-batch-size-0", lambda: evaluate_with(*spiral(), batch_size=0), ValueError,
        r"^evaluate: batch_size must be a positive int or None, got 0"),
    # ---- gradcheck and draw_graph ---------------------------------------------------------------
    row("gradcheck-not-callable", lambda: gradcheck(3, np.ones(2)), TypeError,
        r"^gradcheck: fn must be a function of Tensors returning a Tensor, got int 3"),
    row("gradcheck-no-inputs", lambda: gradcheck(lambda: x().sum()), ValueError,
        r"^gradcheck: none of the 0 inputs holds floats, so there is nothing to differentiate"),
    row("gradcheck-int-inputs", lambda: gradcheck(lambda a: x().sum(), [1, 2]), ValueError,
        r"^gradcheck: none of the 1 inputs holds floats"),
    row("gradcheck-eps-0", lambda: gradcheck(lambda a: a * 2, np.ones(2), eps=0), ValueError,
        r"^gradcheck: eps must be finite and > 0, got 0"),
    row("gradcheck-atol-nan", lambda: gradcheck(lambda a: a, np.ones(2), atol=NAN), ValueError,
        r"^gradcheck: atol must be finite and >= 0, got nan"),
    row("gradcheck-rtol-str", lambda: gradcheck(lambda a: a, np.ones(2), rtol="1e-3"), TypeError,
        r"^gradcheck: rtol must be a number, got str"),
    row("gradcheck-returns-array", lambda: gradcheck(lambda a: a.data, np.ones(2)), TypeError,
        r"^gradcheck: fn must return a Tensor, got ndarray"),
    row("draw-graph-not-tensor", lambda: draw_graph(np.ones(2)), TypeError,
        r"^draw_graph: expected a Tensor, got ndarray"),
    row("draw-graph-rankdir", lambda: draw_graph(x(), rankdir="up"), ValueError,
        r"^draw_graph: rankdir must be one of \('LR', 'RL', 'TB', 'BT'\), got 'up'"),
    row("draw-graph-max-nodes", lambda: draw_graph(x(), max_nodes=0), ValueError,
        r"^draw_graph: max_nodes must be a positive int, got 0"),
    # ---- plot -----------------------------------------------------------------------------------
    row("plot-history-list", lambda: plot().plot_history([1.0]), TypeError,
        r"^plot_history: expected the dict returned by fit\(\), got list"),
    row("plot-history-empty", lambda: plot().plot_history({}), ValueError,
        r"^plot_history: the history has no 'loss' values"),
    row("plot-history-ragged", lambda: plot().plot_history({"loss": [1.0, 0.5], "epoch": [0]}),
        ValueError, r"^plot_history: history\['loss'\] has 2 values for 1 epochs"),
    row("plot-regions-3-features", lambda: regions(np.ones((3, 3)), [0, 1, 2]), ValueError,
        r"^plot_decision_regions: X must have shape \(n_samples, 2\), got \(3, 3\)"),
    row("plot-regions-nan", lambda: regions(np.full((3, 2), NAN), [0, 1, 2]), ValueError,
        r"^plot_decision_regions: X contains NaN or inf"),
    row("plot-regions-labels", lambda: regions(*spiral()[:1], [0]),
        ValueError, r"^plot_decision_regions: y must hold one label per sample \(15,\)"),
    row("plot-regions-negative-label", lambda: regions(np.ones((2, 2)), [0, -1]), ValueError,
        r"^plot_decision_regions: y must hold class indices"),
    row("plot-regions-resolution", lambda: regions(*spiral(), resolution=1), ValueError,
        r"^plot_decision_regions: resolution must be an int >= 2, got 1"),
    row("plot-regions-model", lambda: plot().plot_decision_regions("net", *spiral()), TypeError,
        r"^plot_decision_regions: model must be callable \(a Module\), got str"),
]
# fmt: on


@pytest.mark.parametrize(("call", "error", "match"), BAD_INPUTS)
def test_bad_input_raises_a_clear_error_from_the_library(call, error, match):
    with pytest.raises(error, match=match) as caught:
        call()
    raised_in = traceback.extract_tb(caught.value.__traceback__)[-1].filename
    assert os.path.abspath(raised_in).startswith(PACKAGE_DIR), (
        f"raised from {raised_in}, outside tinygrad_nnfs"
    )


def test_empty_tensors_are_allowed_where_numpy_has_an_answer():
    # Not a bad input: empty batches are legal, as in NumPy and PyTorch; the rows above cover
    # the ops that have no answer for them (mean, max, item, losses, fit).
    empty = Tensor(np.ones((0, 3)), requires_grad=True)
    assert empty.sum().item() == 0.0
    assert empty.mean(axis=1).shape == (0,)
    (empty * 2).sum().backward()
    assert empty.grad.shape == (0, 3)
