"""conv2d, max_pool2d, avg_pool2d and the image layers: PyTorch as the reference, and their
first and second derivatives against central differences."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from tinygrad_nnfs import Model, Tensor, functional, manual_seed, nn, ops, optim
from tinygrad_nnfs.nn import functional as F
from tinygrad_nnfs.testing import arrays, assert_grad_matches_numeric
from tinygrad_nnfs.train import fit

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@st.composite
def conv_settings(draw, max_side=6):
    """(x shape, w shape, stride, padding) with the kernel inside the padded image."""
    n, c, o = (draw(st.integers(1, 2)) for _ in range(3))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    stride = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    sides = [
        draw(st.integers(max(1, k - 2 * p), max_side)) for k, p in zip(kernel, padding, strict=True)
    ]
    return (n, c, *sides), (o, c, *kernel), stride, padding


@st.composite
def pool_settings(draw, max_side=6):
    """(x shape, kernel, stride or None) with the kernel inside the image."""
    n, c = draw(st.integers(1, 2)), draw(st.integers(1, 2))
    kernel = (draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    sides = [draw(st.integers(k, max_side)) for k in kernel]
    stride = draw(st.none() | st.tuples(st.integers(1, 3), st.integers(1, 3)))
    return (n, c, *sides), kernel, stride


def distinct_array(x):
    """x's values replaced by distinct ones 0.1 apart (max pooling without ties), in x's order."""
    order = np.argsort(np.argsort(x, axis=None)).reshape(x.shape)
    return order * 0.1 - 1.0


def distinct(data, shape):
    """Values of `shape` 0.1 apart in a drawn order: max pooling without ties."""
    order = data.draw(st.permutations(range(int(np.prod(shape)))))
    return (np.array(order, dtype=np.float64) * 0.1 - 1).reshape(shape)


@pytest.fixture(scope="module")
def torch():
    """PyTorch, the reference where installed (the loop references below hold without it)."""
    return pytest.importorskip("torch")


def torch_result(torch, fn, *arrays):
    """fn on float64 torch tensors: (output, gradients of sum(output * cotangent))."""
    tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = fn(*tensors)
    cotangent = np.random.RandomState(0).standard_normal(tuple(out.shape))
    out.backward(torch.tensor(cotangent))
    return out.detach().numpy(), [t.grad.numpy() for t in tensors], cotangent


def assert_matches_torch(torch, ours, theirs, *arrays):
    """ours on Tensors equals theirs on torch tensors, value and gradients, to 1e-10."""
    expected, expected_grads, cotangent = torch_result(torch, theirs, *arrays)
    copies = [a.copy() for a in arrays]
    tensors = [Tensor(a, requires_grad=True) for a in arrays]
    out = ours(*tensors)
    assert out.dtype == np.float64
    assert_allclose(out.data, expected, rtol=0, atol=1e-10)
    out.backward(cotangent)
    for tensor, grad, array, copy in zip(tensors, expected_grads, arrays, copies, strict=True):
        assert_allclose(tensor.grad.data, grad, rtol=0, atol=1e-10)
        assert_array_equal(array, copy)  # inputs are not mutated


# ---- values and first derivatives against PyTorch ---------------------------------------
@given(data=st.data(), setting=conv_settings(), bias=st.booleans())
def test_conv2d_matches_torch(torch, data, setting, bias):
    TF = torch.nn.functional
    x_shape, w_shape, stride, padding = setting
    x, w = data.draw(arrays(x_shape)), data.draw(arrays(w_shape))
    if bias:
        b = data.draw(arrays((w_shape[0],)))
        assert_matches_torch(
            torch,
            lambda x, w, b: F.conv2d(x, w, b, stride=stride, padding=padding),
            lambda x, w, b: TF.conv2d(x, w, b, stride=stride, padding=padding),
            x,
            w,
            b,
        )
    else:
        assert_matches_torch(
            torch,
            lambda x, w: x.conv2d(w, stride=stride, padding=padding),
            lambda x, w: TF.conv2d(x, w, stride=stride, padding=padding),
            x,
            w,
        )


@given(data=st.data(), setting=pool_settings())
def test_max_pool2d_matches_torch(torch, data, setting):
    TF = torch.nn.functional
    shape, kernel, stride = setting
    # Ties included: both send a window's gradient to its first maximum.
    x = data.draw(arrays(shape, elements=st.sampled_from([-1.0, 0.0, 0.5, 2.0])))
    assert_matches_torch(
        torch,
        lambda x: F.max_pool2d(x, kernel, stride),
        lambda x: TF.max_pool2d(x, kernel, stride),
        x,
    )


@given(data=st.data(), setting=pool_settings())
def test_avg_pool2d_matches_torch(torch, data, setting):
    TF = torch.nn.functional
    shape, kernel, stride = setting
    x = data.draw(arrays(shape))
    assert_matches_torch(
        torch, lambda x: x.avg_pool2d(kernel, stride), lambda x: TF.avg_pool2d(x, kernel, stride), x
    )


# ---- values against loops over every output pixel (no PyTorch needed) ----------------------
def _loop_conv2d(x, w, b, stride, padding):
    x = np.pad(x, ((0, 0), (0, 0), (padding[0],) * 2, (padding[1],) * 2))
    (n, _, height, width), (out_channels, _, kh, kw) = x.shape, w.shape
    rows, cols = (height - kh) // stride[0] + 1, (width - kw) // stride[1] + 1
    out = np.zeros((n, out_channels, rows, cols))
    for i, j in np.ndindex(rows, cols):
        window = x[:, :, i * stride[0] : i * stride[0] + kh, j * stride[1] : j * stride[1] + kw]
        out[:, :, i, j] = np.einsum("nchw,ochw->no", window, w)
    return out if b is None else out + b[None, :, None, None]


def _loop_pool2d(reduce, x, kernel, stride):
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    stride = (kh, kw) if stride is None else (stride, stride) if isinstance(stride, int) else stride
    rows, cols = (x.shape[2] - kh) // stride[0] + 1, (x.shape[3] - kw) // stride[1] + 1
    out = np.zeros((*x.shape[:2], rows, cols))
    for i, j in np.ndindex(rows, cols):
        window = x[:, :, i * stride[0] : i * stride[0] + kh, j * stride[1] : j * stride[1] + kw]
        out[:, :, i, j] = reduce(window, axis=(2, 3))
    return out


@given(data=st.data(), setting=conv_settings(), bias=st.booleans())
def test_conv2d_values_match_a_loop_over_output_pixels(data, setting, bias):
    x_shape, w_shape, stride, padding = setting
    x, w = data.draw(arrays(x_shape)), data.draw(arrays(w_shape))
    b = data.draw(arrays((w_shape[0],))) if bias else None
    out = F.conv2d(Tensor(x), Tensor(w), None if b is None else Tensor(b), stride, padding)
    assert_allclose(out.data, _loop_conv2d(x, w, b, stride, padding), rtol=0, atol=1e-12)


@given(data=st.data(), setting=pool_settings())
def test_pool2d_values_match_a_loop_over_output_pixels(data, setting):
    shape, kernel, stride = setting
    x = data.draw(arrays(shape))
    expected_max = _loop_pool2d(np.max, x, kernel, stride)
    assert_array_equal(F.max_pool2d(Tensor(x), kernel, stride).data, expected_max)
    expected_mean = _loop_pool2d(np.mean, x, kernel, stride)
    assert_allclose(F.avg_pool2d(Tensor(x), kernel, stride).data, expected_mean, atol=1e-12)


def test_max_pool2d_sends_a_tie_to_the_first_maximum():
    x = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    x.max_pool2d(2).sum().backward()
    assert_array_equal(x.grad.data, [[[[1.0, 0.0], [0.0, 0.0]]]])


def test_conv2d_keeps_float32_and_skips_the_gradient_of_a_constant_input():
    x = Tensor(np.ones((2, 1, 5, 5), np.float32))
    w = Tensor(np.ones((3, 1, 3, 3), np.float32), requires_grad=True)
    out = x.conv2d(w, stride=2, padding=1)
    assert out.shape == (2, 3, 3, 3) and out.dtype == np.float32
    out.sum().backward()
    assert x.grad is None and w.grad.dtype == np.float32


# ---- first and second derivatives against central differences ------------------------------
@settings(max_examples=15)
@given(data=st.data(), setting=conv_settings(max_side=5))
def test_conv2d_is_twice_differentiable(data, setting):
    x_shape, w_shape, stride, padding = setting
    x, w = data.draw(arrays(x_shape)), data.draw(arrays(w_shape))
    b = data.draw(arrays((w_shape[0],)))
    assert_grad_matches_numeric(
        lambda x, w, b: x.conv2d(w, b, stride=stride, padding=padding), x, w, b, order=2
    )


@settings(max_examples=15)
@given(data=st.data(), setting=pool_settings())
def test_max_pool2d_is_twice_differentiable(data, setting):
    shape, kernel, stride = setting
    x = distinct(data, shape)
    # Squared, so that the second derivative is not zero everywhere.
    assert_grad_matches_numeric(lambda x: x.max_pool2d(kernel, stride) ** 2, x, order=2)


@settings(max_examples=15)
@given(data=st.data(), setting=pool_settings())
def test_avg_pool2d_is_twice_differentiable(data, setting):
    shape, kernel, stride = setting
    x = data.draw(arrays(shape))
    assert_grad_matches_numeric(lambda x: x.avg_pool2d(kernel, stride) ** 2, x, order=2)


def test_a_small_cnn_has_a_hessian_vector_product_as_torch_does(torch):
    TF = torch.nn.functional
    rng = np.random.RandomState(0)
    x = rng.standard_normal((2, 1, 6, 6))
    w1, w2 = rng.standard_normal((2, 1, 3, 3)), rng.standard_normal((2, 2, 2, 2))
    v = rng.standard_normal(w1.shape)

    def ours(w):
        hidden = Tensor(x).conv2d(w, padding=1).tanh().max_pool2d(2).avg_pool2d(1)
        return (hidden.conv2d(Tensor(w2), stride=2) ** 2).sum()

    def theirs(w):
        hidden = TF.avg_pool2d(TF.max_pool2d(TF.conv2d(torch.tensor(x), w, padding=1).tanh(), 2), 1)
        return (TF.conv2d(hidden, torch.tensor(w2), stride=2) ** 2).sum()

    _, expected = torch.autograd.functional.hvp(theirs, torch.tensor(w1), torch.tensor(v))
    assert_allclose(functional.hvp(ours, w1, v).data, expected.numpy(), rtol=1e-10, atol=1e-10)


# ---- errors ---------------------------------------------------------------------------------
X, W = np.zeros((2, 3, 5, 5)), np.zeros((4, 3, 3, 3))


@pytest.mark.parametrize(
    ("call", "error", "match"),
    [
        (lambda: F.conv2d(X[0], W), ValueError, r"conv2d: x must be a batch .* \(3, 5, 5\)"),
        (lambda: F.conv2d(X, W[0]), ValueError, r"conv2d: w must have shape .* \(3, 3, 3\)"),
        (
            lambda: F.conv2d(X, np.zeros((4, 2, 3, 3))),
            ValueError,
            r"x of shape \(2, 3, 5, 5\) has 3 channels but w of shape \(4, 2, 3, 3\) takes 2",
        ),
        (lambda: F.conv2d(X, W, np.zeros(3)), ValueError, r"one bias per output channel.*\(4,\)"),
        (lambda: F.conv2d(X, np.zeros((4, 3, 6, 6))), ValueError, "larger than the padded input"),
        (lambda: F.conv2d(X, W, stride=0), ValueError, "stride must be >= 1, got 0"),
        (lambda: F.conv2d(X, W, stride=(1, 2, 3)), ValueError, r"stride must be an int or a pair"),
        (lambda: F.conv2d(X, W, stride=1.5), TypeError, "stride must be an int or a pair"),
        (lambda: F.conv2d(X, W, padding=-1), ValueError, "padding must be >= 0, got -1"),
        (lambda: F.conv2d(X.astype(int), W), TypeError, "conv2d: expected a float tensor"),
        (lambda: F.max_pool2d(X, 6), ValueError, r"max_pool2d: kernel_size \(6, 6\) is larger"),
        (lambda: F.max_pool2d(X, 2, stride=0), ValueError, "max_pool2d: stride must be >= 1"),
        (lambda: F.avg_pool2d(X[0], 2), ValueError, "avg_pool2d: x must be a batch of images"),
        (lambda: nn.Conv2d(3, 4, 0), ValueError, "Conv2d: kernel_size must be >= 1"),
        (lambda: nn.Conv2d(3, 4, 3)(X[:, :2]), ValueError, r"expected inputs of shape \(batch, 3"),
        (lambda: nn.Flatten()(np.zeros(3)), ValueError, r"Flatten: .* got shape \(3,\)"),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# ---- the layers -------------------------------------------------------------------------------
def test_conv2d_layer_draws_he_scaled_weights_from_the_library_stream():
    manual_seed(3)
    layer = nn.Conv2d(2, 4, (3, 2), dtype=np.float64)
    expected = np.sqrt(2 / (2 * 3 * 2)) * np.random.RandomState(3).randn(4, 2, 3, 2)
    assert_allclose(layer.weights.data, expected, rtol=1e-15)
    assert_array_equal(layer.biases.data, np.zeros(4))
    assert [name for name, _ in layer.named_parameters()] == ["weights", "biases"]
    assert nn.Conv2d(1, 2, 3).weights.dtype == np.float32  # the default float dtype
    assert_array_equal(
        nn.Conv2d(1, 2, 3, rng=5, weight_scale=0.01).weights.data,
        (0.01 * np.random.RandomState(5).randn(2, 1, 3, 3).astype(np.float32)),
    )
    assert repr(layer) == "Conv2d(2, 4, kernel_size=(3, 2), stride=(1, 1), padding=(0, 0))"


def test_layers_compute_what_the_functions_do():
    x = np.random.RandomState(0).standard_normal((2, 2, 6, 6))
    conv = nn.Conv2d(2, 3, 3, stride=2, padding=1, rng=0, dtype=np.float64)
    expected = F.conv2d(x, conv.weights, conv.biases, stride=2, padding=1).data
    assert_array_equal(conv(x).data, expected)
    assert_array_equal(nn.MaxPool2d(3, 1)(x).data, F.max_pool2d(x, 3, 1).data)
    assert_array_equal(nn.AvgPool2d(2)(x).data, F.avg_pool2d(x, 2).data)
    assert nn.MaxPool2d(2).stride == (2, 2) and repr(nn.AvgPool2d(2, 1)).startswith("AvgPool2d(")
    assert nn.Flatten()(x).shape == (2, 72)
    assert functional.conv2d is F.conv2d and nn.functional is F


def cnn(rng=0):
    return [
        nn.Conv2d(1, 4, 3, padding=1, rng=rng),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(4, 4, 3, rng=rng + 1),
        nn.AvgPool2d(2),
        nn.Flatten(),
        nn.Dense(4, 3, rng=rng + 2),
    ]


def images(n=30):
    """Three classes of 8x8 images: a bright top, left or diagonal."""
    rng = np.random.RandomState(0)
    y = np.arange(n) % 3
    X = rng.uniform(0, 0.3, (n, 1, 8, 8)).astype(np.float32)
    X[y == 0, :, :3, :] += 1
    X[y == 1, :, :, :3] += 1
    X[y == 2] += np.eye(8, dtype=np.float32)
    return X, y


def test_a_cnn_trains_with_fit():
    X, y = images()
    model = nn.Sequential(*cnn())
    history = fit(
        model,
        nn.SoftmaxCrossEntropy(),
        optim.Adam(model.parameters(), learning_rate=0.02),
        X,
        y,
        epochs=30,
        print_every=0,
    )
    assert history["loss"][-1] < history["loss"][0] / 2
    assert history["acc"][-1] > 0.9


def test_a_cnn_model_trains_saves_and_loads(tmp_path, capsys):
    X, y = images()
    model = Model()
    for layer in cnn():
        model.add(layer)
    model.add(nn.Softmax())
    model.set(
        loss=nn.CategoricalCrossentropy(),
        optimizer=optim.Adam(learning_rate=0.02),
        accuracy="categorical",
    )
    model.finalize()
    model.train(X, y, epochs=3, batch_size=10, print_every=100)
    loss, accuracy = model.evaluate(X, y)
    path = tmp_path / "cnn.model"
    model.save(path)
    manual_seed(0)
    stream = np.random.RandomState(0).randn()
    loaded = Model.load(path)
    assert tmp_path.joinpath("cnn.model").exists()
    assert_array_equal(loaded.predict(X, batch_size=7), model.predict(X))
    assert loaded.evaluate(X, y) == (loss, accuracy)
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    assert loaded.layers[0].padding == (1, 1) and loaded.layers[0].weights.dtype == np.float32
    assert Tensor.randn(1).item() == np.float32(stream)  # loading drew nothing from the stream
    loaded.train(X, y, epochs=1, batch_size=10, print_every=100)
    assert "validation, acc:" in capsys.readouterr().out


def test_pytorch_options_bias_false_pool_padding_and_flatten_dims(tmp_path):
    # nn.Conv2d(bias=False), pools with padding (-inf for max; zeros counted for avg, as
    # PyTorch's count_include_pad), nn.Flatten(start_dim, end_dim): PyTorch's habits
    rng = np.random.RandomState(0)
    x = rng.standard_normal((2, 1, 5, 5))
    conv = nn.Conv2d(1, 2, 3, padding=1, bias=False, rng=0)
    assert conv.biases is None and len(list(conv.parameters())) == 1
    assert "bias=False" in repr(conv)
    assert_allclose(conv(x).data, _loop_conv2d(x, conv.weights.data, None, (1, 1), (1, 1)))
    padded = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)), constant_values=-np.inf)
    assert_array_equal(F.max_pool2d(x, 3, 2, padding=1).data, _loop_pool2d(np.max, padded, 3, 2))
    zeros = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    expected = _loop_pool2d(np.mean, zeros, 3, 2)
    assert_allclose(nn.AvgPool2d(3, 2, padding=1)(x).data, expected, atol=1e-12)
    assert_grad_matches_numeric(lambda t: F.max_pool2d(t, 3, 2, padding=1), distinct_array(x))
    assert_grad_matches_numeric(lambda t: t.avg_pool2d(3, 2, padding=1).square(), x, order=2)
    with pytest.raises(ValueError, match=r"max_pool2d: padding \(2, 2\) is more than half"):
        F.max_pool2d(x, 3, padding=2)
    assert nn.Flatten(0, -1)(x).shape == (50,)
    assert nn.Flatten(start_dim=2)(x).shape == (2, 1, 25)
    model = Model()
    for layer in (conv, nn.MaxPool2d(3, 2, padding=1), nn.Flatten(1), nn.Dense(18, 2)):
        model.add(layer)
    model.set(loss=nn.MeanSquaredError(), optimizer=optim.SGD(learning_rate=0.01))
    model.finalize()
    model.save(tmp_path / "model.npz")
    loaded = Model.load(tmp_path / "model.npz")
    assert loaded.layers[0].biases is None and loaded.layers[1].padding == (1, 1)
    assert_array_equal(loaded.predict(x), model.predict(x))


# ---- the benchmark computes like with like (nothing is timed) -------------------------------
def test_conv_benchmark_contenders_agree(torch):
    sys.path.insert(0, str(BENCHMARKS))
    try:
        import conv
    finally:
        sys.path.remove(str(BENCHMARKS))
    threads = torch.get_num_threads()
    try:
        steps = conv.contenders(torch)
        ours, theirs = steps["ours"](), steps["pytorch"]()
    finally:
        torch.set_num_threads(threads)
    assert len(ours) == len(theirs) == 5
    for mine, reference in zip(ours, theirs, strict=True):
        assert_allclose(mine, reference, rtol=1e-4, atol=1e-4 * np.abs(reference).max())


def test_ops_are_exported():
    assert {"Conv2d", "MaxPool2d", "AvgPool2d"} <= set(ops.__all__)
