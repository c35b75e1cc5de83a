"""Tensor: construction, dtypes, errors, attributes, constructors, randomness, backward, no_grad."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from tinygrad_nnfs import Function, Tensor, manual_seed, no_grad, set_default_dtype
from tinygrad_nnfs.tensor import get_default_dtype
from tinygrad_nnfs.testing import assert_grad_matches_numeric


# ---- construction and dtypes -----------------------------------------------------------------
def test_tensor_float_list_and_scalar_get_float32_by_default():
    assert Tensor([[1.0, 2.0], [3.0, 4.0]]).dtype == np.float32
    assert Tensor(1.5).dtype == np.float32


def test_tensor_default_dtype_can_be_float64(float64):
    assert get_default_dtype() == np.float64
    assert Tensor([1.0, 2.0]).dtype == np.float64
    assert Tensor.zeros(2).dtype == np.float64
    assert Tensor.randn(2, rng=0).dtype == np.float64


def test_tensor_default_dtype_fixture_restored():
    assert get_default_dtype() == np.float32


def test_set_default_dtype_rejects_non_float():
    with pytest.raises(TypeError, match=r"float dtype.*int64"):
        set_default_dtype(np.int64)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int32, np.int64, bool])
def test_tensor_ndarray_keeps_dtype(dtype):
    array = np.ones((2, 3), dtype=dtype)
    assert Tensor(array).dtype == dtype


def test_tensor_int_and_bool_lists_stay_int64_and_bool():
    assert Tensor([1, 2, 3]).dtype == np.int64
    assert Tensor([True, False]).dtype == np.bool_


def test_tensor_dtype_argument_casts():
    x = Tensor([1, 2], dtype=np.float64)
    assert x.dtype == np.float64
    assert_array_equal(x.data, [1.0, 2.0])


def test_tensor_from_tensor_copies_nothing_but_data():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Tensor(x)
    assert y.data is x.data
    assert not y.requires_grad


@pytest.mark.parametrize(
    ("make", "dtype"),
    [
        (lambda x: x * 2.0, np.float32),
        (lambda x: 2.0 * x, np.float32),
        (lambda x: 2.0 - x, np.float32),
        (lambda x: x**2, np.float32),
        (lambda x: 2.0**x, np.float32),
        (lambda x: x / 3, np.float32),
        (lambda x: x.mean(), np.float32),
        (lambda x: x * np.ones(2), np.float64),
    ],
)
def test_tensor_python_scalars_never_upcast_float32(make, dtype):
    x = Tensor([1.0, 2.0], requires_grad=True)
    out = make(x)
    assert out.dtype == dtype
    out.sum().backward()
    assert x.grad.dtype == np.float32


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64, np.int64])
@pytest.mark.parametrize("number", [1.0001, -2.5, 0.0, -0.0, float("nan"), float("inf"), 1e40])
@pytest.mark.parametrize(
    ("make", "derivative"),
    [
        (lambda x, c: x + c, lambda ones, c: ones),
        (lambda x, c: c + x, lambda ones, c: ones),
        (lambda x, c: x - c, lambda ones, c: ones),
        (lambda x, c: c - x, lambda ones, c: -ones),
        (lambda x, c: x * c, lambda ones, c: ones * c),
        (lambda x, c: c * x, lambda ones, c: c * ones),
    ],
)
def test_tensor_python_float_operands_give_numpys_bits(make, derivative, number, dtype):
    # A float operand goes to the op as a 0-d array of a float tensor's dtype: the values,
    # signed zeros, NaN and overflow are NumPy's for the Python float, forward and backward.
    array = np.array([-1.5, 0.0, 3.0]).astype(dtype)
    with np.errstate(all="ignore"):
        expected = make(array, number)
        x = Tensor(array, requires_grad=array.dtype.kind == "f")
        out = make(x, number)
        assert out.dtype == expected.dtype
        assert out.data.tobytes() == expected.tobytes()
        if x.requires_grad:
            ones = np.ones_like(array)
            out.backward(ones)
            assert x.grad.data.tobytes() == derivative(ones, number).tobytes()


# ---- errors ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("abc", "numeric"),
        (["a", "b"], "numeric"),
        ([[1.0, 2.0], [3.0]], "ragged"),
        (object(), "numeric"),
        ([object()], "numeric"),
        (None, "numeric"),
    ],
)
def test_tensor_rejects_non_numeric_data(data, message):
    with pytest.raises(TypeError, match=message):
        Tensor(data)


@pytest.mark.parametrize(
    "make",
    [
        lambda x: x + "a",
        lambda x: "a" + x,
        lambda x: x * "a",
        lambda x: x - None,
        lambda x: x / object(),
        lambda x: x ** "a",
        lambda x: x @ "a",
        lambda x: x < "a",
        lambda x: x.maximum("a"),
        lambda x: x + np.array(["a", "b"]),
    ],
)
def test_tensor_string_or_object_operand_is_type_error(make):
    with pytest.raises(TypeError, match="operand"):
        make(Tensor([1.0, 2.0]))


@pytest.mark.parametrize("data", [[1, 2], np.array([True, False]), np.arange(3)])
def test_tensor_integer_data_cannot_require_grad(data):
    with pytest.raises(TypeError, match="only float tensors can require grad"):
        Tensor(data, requires_grad=True)


@pytest.mark.parametrize(
    ("make", "op"),
    [
        (lambda x, y: x + y, "Add"),
        (lambda x, y: x - y, "Sub"),
        (lambda x, y: x * y, "Mul"),
        (lambda x, y: x / y, "Div"),
        (lambda x, y: x.maximum(y), "Maximum"),
    ],
)
def test_tensor_broadcast_mismatch_names_op_and_shapes(make, op):
    x, y = Tensor(np.ones((2, 3))), Tensor(np.ones((4,)))
    with pytest.raises(ValueError, match=rf"{op}.*\(2, 3\).*\(4,\)"):
        make(x, y)


def test_tensor_matmul_mismatch_names_op_and_shapes():
    x, w = Tensor(np.ones((3, 4))), Tensor(np.ones((5, 2)))
    with pytest.raises(ValueError, match=r"MatMul.*\(3, 4\).*\(5, 2\).*4 != 5"):
        x @ w


def test_tensor_matmul_of_scalar_is_value_error():
    with pytest.raises(ValueError, match=r"MatMul.*at least 1 dimension"):
        Tensor(2.0) @ Tensor([1.0])


def test_backward_non_scalar_without_gradient_names_shape():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"one-element.*\(2, 3\)"):
        y.backward()


def test_backward_without_requires_grad_is_runtime_error():
    y = Tensor([1.0, 2.0]).sum()
    with pytest.raises(RuntimeError, match=r"shape \(\)\) does not require grad"):
        y.backward()


def test_backward_wrong_shape_gradient_names_both_shapes():
    y = Tensor(np.ones((2, 3)), requires_grad=True) * 2
    with pytest.raises(ValueError, match=r"\(3, 2\).*\(2, 3\)"):
        y.backward(np.ones((3, 2)))


def test_backward_accepts_tensor_gradient():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    (x * 3).backward(Tensor(np.full((2, 3), 2.0)))
    assert_array_equal(x.grad.data, np.full((2, 3), 6.0))


def test_backward_gradient_is_cast_to_tensor_dtype_and_left_untouched():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 3
    gradient = np.array([1.0, 2.0])
    y.backward(gradient)
    y.backward(gradient)
    assert y.grad.dtype == np.float32
    assert_array_equal(gradient, [1.0, 2.0])
    assert_array_equal(x.grad.data, [6.0, 12.0])


def test_item_of_many_elements_is_value_error():
    with pytest.raises(ValueError, match=r"item.*\(2,\)"):
        Tensor([1.0, 2.0]).item()


def test_grad_setter_checks_shape():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2,\)"):
        x.grad = np.ones(3)
    x.grad = np.ones(2)
    assert_array_equal(x.grad.data, [1.0, 1.0])
    x.grad = None
    assert x.grad is None


# ---- attributes --------------------------------------------------------------------------
def test_tensor_attributes():
    array = np.arange(6.0).reshape(2, 3)
    x = Tensor(array, requires_grad=True, name="x")
    assert x.shape == (2, 3)
    assert x.ndim == 2
    assert x.size == 6
    assert x.dtype == np.float64
    assert x.name == "x"
    assert x.is_leaf
    assert x.grad is None
    assert len(x) == 2
    assert x.numpy() is array
    assert x.tolist() == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert_array_equal(x.T.data, array.T)
    assert x.T.shape == (3, 2)
    assert not x.T.is_leaf
    assert "name='x'" in repr(x)


def test_tensor_item_returns_python_number():
    value = Tensor([[2.5]]).item()
    assert value == 2.5
    assert type(value) is float


def test_tensor_detach_shares_data_and_cuts_graph():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    d = y.detach()
    assert d.data is y.data
    assert not d.requires_grad
    assert d.is_leaf
    out = (d * x).sum()
    out.backward()
    assert_array_equal(x.grad.data, [2.0, 4.0])  # d counted as a constant


# ---- constructors --------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda **kw: Tensor.zeros(2, 3, **kw), np.zeros((2, 3))),
        (lambda **kw: Tensor.zeros((2, 3), **kw), np.zeros((2, 3))),
        (lambda **kw: Tensor.ones(3, **kw), np.ones(3)),
        (lambda **kw: Tensor.eye(3, **kw), np.eye(3)),
        (lambda **kw: Tensor.arange(0.0, 1.0, 0.25, **kw), np.arange(0.0, 1.0, 0.25)),
    ],
)
@pytest.mark.parametrize("dtype", [None, np.float32, np.float64])
def test_constructors_values_dtype_and_requires_grad(make, expected, dtype):
    x = make(dtype=dtype, requires_grad=True)
    assert_array_equal(x.data, expected)
    assert x.dtype == (dtype or np.float32)
    assert x.requires_grad
    assert x.is_leaf


def test_arange_of_ints_is_int64():
    x = Tensor.arange(5)
    assert x.dtype == np.int64
    assert_array_equal(x.data, np.arange(5))
    assert Tensor.arange(2, 5, dtype=np.float64).dtype == np.float64


def test_uniform_bounds_and_dtype():
    x = Tensor.uniform(1000, low=-2.0, high=3.0, rng=0, dtype=np.float64, requires_grad=True)
    assert x.shape == (1000,)
    assert x.dtype == np.float64
    assert x.requires_grad
    assert np.all((x.data >= -2.0) & (x.data < 3.0))


def test_manual_seed_reproduces_randn_and_matches_randomstate():
    manual_seed(7)
    first = Tensor.randn(3, 4, dtype=np.float64)
    manual_seed(7)
    second = Tensor.randn(3, 4, dtype=np.float64)
    assert_array_equal(first.data, second.data)
    assert_array_equal(first.data, np.random.RandomState(7).randn(3, 4))


def test_manual_seed_randn_float32_is_cast_of_the_book_draw():
    manual_seed(0)
    x = Tensor.randn(2, 5)
    assert x.dtype == np.float32
    assert_array_equal(x.data, np.random.RandomState(0).randn(2, 5).astype(np.float32))


def test_manual_seed_drives_uniform_in_program_order():
    manual_seed(3)
    a = Tensor.randn(2, dtype=np.float64)
    b = Tensor.uniform(3, low=-1.0, high=1.0, dtype=np.float64)
    stream = np.random.RandomState(3)
    assert_array_equal(a.data, stream.randn(2))
    assert_array_equal(b.data, stream.uniform(-1.0, 1.0, 3))


@pytest.mark.parametrize(
    ("rng", "reference"),
    [
        (5, lambda: np.random.RandomState(5).randn(4)),
        (np.random.RandomState(5), lambda: np.random.RandomState(5).randn(4)),
        (np.random.default_rng(5), lambda: np.random.default_rng(5).standard_normal(4)),
    ],
)
def test_rng_argument_is_independent_stream(rng, reference):
    manual_seed(11)
    x = Tensor.randn(4, rng=rng, dtype=np.float64)
    assert_array_equal(x.data, reference())
    after = Tensor.randn(3, dtype=np.float64)
    assert_array_equal(after.data, np.random.RandomState(11).randn(3))  # not advanced


def test_rng_argument_rejects_other_types():
    with pytest.raises(TypeError, match="rng"):
        Tensor.randn(2, rng="seed")


# ---- backward --------------------------------------------------------------------------------
def test_backward_twice_accumulates_into_leaves():
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    loss = (x * x).sum()
    loss.backward()
    assert_array_equal(x.grad.data, [2.0, 4.0, 6.0])
    loss.backward()
    assert_array_equal(x.grad.data, [4.0, 8.0, 12.0])


def test_backward_into_leaf_twice_from_two_graphs():
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x * 3).sum().backward()
    (x * x).sum().backward()
    assert_array_equal(x.grad.data, [5.0, 7.0])


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        (lambda x: x * x, [2.0, -4.0]),
        (lambda x: x + x, [2.0, 2.0]),
        (lambda x: x - x, [0.0, 0.0]),
        (lambda x: (x + x) * x, [4.0, -8.0]),
        (lambda x: x.reshape(2) + x.exp().log(), [2.0, 2.0]),
    ],
)
def test_tensor_used_twice_gets_both_contributions(make, expected):
    x = Tensor([1.0, -2.0], requires_grad=True, dtype=np.float64)
    make(x).sum().backward()
    np.testing.assert_allclose(x.grad.data, expected, rtol=1e-12)


def test_backward_does_not_touch_shared_gradient_arrays():
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = Tensor([3.0, 4.0], requires_grad=True)
    s = x + y  # Add hands the same gradient array to both parents
    (s + x).sum().backward()
    assert_array_equal(x.grad.data, [2.0, 2.0])
    assert_array_equal(y.grad.data, [1.0, 1.0])


def test_non_leaf_grad_holds_last_backward_only():
    x = Tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 3
    loss = (hidden * hidden).sum()
    loss.backward()
    loss.backward()
    assert_array_equal(hidden.grad.data, [6.0, 12.0])
    assert_array_equal(x.grad.data, [36.0, 72.0])
    assert_array_equal(loss.grad.data, 1.0)


def test_backward_waits_for_every_consumer_inside_the_graph_only():
    # h has three recorded consumers: one outside the loss's graph, two inside it; the
    # op made under no_grad is not one of them. Each node is processed after its consumers.
    x = Tensor([0.5, -1.0], requires_grad=True, dtype=np.float64)
    h = x * 3.0
    unused = h * 5.0
    with no_grad():
        h * 7.0
    a = h.exp()
    loss = (a + h * a).sum()
    loss.backward()
    h3 = 3.0 * x.data
    assert_allclose(x.grad.data, 3 * (np.exp(h3) + np.exp(h3) + h3 * np.exp(h3)), rtol=1e-12)
    assert unused.grad is None


def test_backward_clears_old_grads_behind_an_op_that_passes_no_gradient():
    class StopGradient(Function):
        def forward(self, x: np.ndarray) -> np.ndarray:
            return x.copy()

        def backward(self, grad: np.ndarray) -> None:
            return None

    x = Tensor([1.0, 2.0], requires_grad=True)
    hidden = x * 3
    hidden.sum().backward()
    (StopGradient.apply(hidden * 2).sum() + (x * 5).sum()).backward()
    assert hidden.grad is None  # reached by the second backward, which gave it nothing
    assert_array_equal(x.grad.data, [8.0, 8.0])


def test_backward_through_a_copied_graph_whose_nodes_share_creation_numbers():
    x = Tensor(np.ones((2, 3)), requires_grad=True, dtype=np.float64)
    hidden = (x * 2).exp()
    twin = copy.deepcopy(hidden)  # the same creation numbers, its own leaf
    (hidden * twin).sum().backward()
    assert_allclose(x.grad.data, 2 * np.exp(4.0), rtol=1e-12)
    (leaf,) = [t for t in twin._ctx.parents[0]._ctx.parents if isinstance(t, Tensor)]
    assert_allclose(leaf.grad.data, 2 * np.exp(4.0), rtol=1e-12)


def test_an_input_that_did_not_require_grad_in_forward_gets_none_through_that_op():
    x = Tensor([1.0, 2.0], requires_grad=True)
    w = Tensor([3.0, 4.0], requires_grad=True)
    hidden = x * 2
    hidden.requires_grad = False
    a = hidden * w  # recorded through w; hidden does not require grad at this moment
    assert a._ctx.needs_input_grad == (False, True)
    hidden.requires_grad = True
    (a + hidden * 5).sum().backward()  # the graph is fixed in forward, as in PyTorch
    assert_array_equal(hidden.grad.data, [5.0, 5.0])
    assert_array_equal(x.grad.data, [10.0, 10.0])
    assert_array_equal(w.grad.data, hidden.data)


def test_backward_through_a_ladder_matches_finite_differences():
    def ladder(x: Tensor) -> Tensor:
        value = x
        for _ in range(30):  # every rung feeds the next one twice, through two paths
            value = value * 0.9 + value.tanh() * 0.1
        return value

    assert_grad_matches_numeric(ladder, np.array([0.3, -0.7, 1.1]), order=2)


def test_backward_on_leaf_seeds_its_grad():
    x = Tensor(2.0, requires_grad=True)
    x.backward()
    x.backward()
    assert x.grad.item() == 2.0


def test_backward_leaves_without_requires_grad_untouched():
    x = Tensor([1.0, 2.0], requires_grad=True)
    c = Tensor([3.0, 4.0])
    (x * c).sum().backward()
    assert c.grad is None
    assert_array_equal(x.grad.data, [3.0, 4.0])


def test_backward_long_chain_has_no_recursion_error():
    x = Tensor(np.ones(2), requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y + 1.0
    y.sum().backward()
    assert_array_equal(x.grad.data, [1.0, 1.0])
    assert y.data[0] == 100_001.0


def test_backward_wide_graph():
    x = Tensor(np.ones(3), requires_grad=True)
    terms = [x * float(i) for i in range(20_000)]
    total = Tensor.stack(terms).sum()
    total.backward()
    assert_array_equal(x.grad.data, np.full(3, sum(range(20_000))))


def test_graph_stays_inspectable_after_backward():
    x = Tensor([1.0, 2.0], requires_grad=True, name="x")
    w = Tensor([3.0, 4.0], requires_grad=True, name="w")
    loss = (x * w).sum()
    loss.backward()
    loss.backward()
    product = loss._ctx.parents[0]
    assert product._ctx.parents == (x, w)
    assert_array_equal(product.grad.data, [1.0, 1.0])
    assert_array_equal(w.grad.data, [2.0, 4.0])


# ---- no_grad ---------------------------------------------------------------------------------
def test_no_grad_context_records_nothing():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        y = (x * 2).exp().sum()
    assert not y.requires_grad
    assert y.is_leaf
    assert (x * 2).requires_grad  # restored on exit
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_decorator_records_nothing():
    @no_grad()
    def forward(t: Tensor) -> Tensor:
        return t * t

    x = Tensor([1.0, 2.0], requires_grad=True)
    y = forward(x)
    assert not y.requires_grad
    assert y._ctx is None
    assert_array_equal(y.data, [1.0, 4.0])
    assert (x * x).requires_grad


def test_no_grad_restores_state_after_exception():
    x = Tensor([1.0], requires_grad=True)
    with pytest.raises(ZeroDivisionError), no_grad():
        1 / 0  # noqa: B018
    assert (x * 2).requires_grad


def test_no_grad_nested_restores_outer_state():
    x = Tensor([1.0], requires_grad=True)
    with no_grad():
        with no_grad():
            pass
        assert not (x * 2).requires_grad
    assert (x * 2).requires_grad
