"""The benchmark cases B1-B4: each returns its contenders as zero-argument callables."""

from __future__ import annotations

import gc
import itertools
import statistics
import time
import tracemalloc
from collections.abc import Callable, Iterator
from typing import Any

import book_reference as book
from book_chapters import Optimizer_Adam

from tinygrad_nnfs import manual_seed, nn, optim, set_default_dtype, set_matmul_precision
from tinygrad_nnfs.tensor import Tensor

MS, US = (1e-3, "ms"), (1e-6, "us")
MLP_SIZES = [784, 256, 128, 10]  # B2's layer widths
Case = tuple[str, dict[str, Callable[[], Any]], tuple[float, str], int]


def all_cases(np: Any, torch: Any) -> Iterator[Case]:
    """Every timed case, in the order of the tables."""
    for dtype in ("float32", "float64"):
        yield (f"B1 spiral-book epoch {dtype}", spiral_contenders(np, torch, dtype), MS, 200)
    yield (
        "B1 ... float32, nnfs_init",
        spiral_contenders(np, None, "float32", nnfs_dot=True),
        MS,
        200,
    )
    yield ("B2 mlp step 784-256-128-10 b128", mlp_contenders(np, torch), MS, 20)
    for side in (1, 10):
        per_op = (US[0] * CHAIN, US[1])  # a chain's time divided by its op count
        yield (
            f"B3 op overhead {side}x{side} (per op)",
            chain_contenders(np, torch, side),
            per_op,
            20,
        )


# ---- B1: the book's spiral network --------------------------------------------------------
def spiral_contenders(
    np: Any, torch: Any, dtype: str, *, nnfs_dot: bool = False
) -> dict[str, Callable[[], Any]]:
    """The book's 2-64-3 network on spiral_data(100, 3), Adam(0.05, decay=5e-7), full batch.

    `nnfs_dot`: matmuls as under nnfs.init(), float64 rounded to float32: the book's np.dot
    patched as nnfs.init() patches it, ours under set_matmul_precision("float64").
    """
    X, y, rng = spiral_setup(np, dtype)
    twins = [np.random.RandomState() for _ in range(2)]
    for twin in twins:
        twin.set_state(rng.get_state())  # the book's, our and the floor's weights: the same draws
    epochs = book.train_book_network(X, y, rng, Optimizer_Adam(0.05, 5e-7), 10**9, dtype=dtype)
    contenders = {"numpy": lambda: next(epochs), "ours": _ours_epoch(np, X, y, dtype, twins[0])}
    if nnfs_dot:
        contenders = {
            name: _with_nnfs_dot(np, epoch, ours=name == "ours")
            for name, epoch in contenders.items()
        }
    else:
        contenders["floor"] = _floor_epoch(np, X, y, dtype, twins[1])
    if torch is not None:
        contenders["torch"] = _torch_epoch(torch, X, y)
    return contenders


def _with_nnfs_dot(np: Any, epoch: Callable[[], Any], *, ours: bool) -> Callable[[], Any]:
    """`epoch` with nnfs.init()'s matmuls: two attribute swaps per call, next to ~0.2 ms."""
    original_dot = np.dot

    def nnfs_dot(*arrays: Any, **options: Any) -> Any:  # nnfs.init()'s np.dot
        return original_dot(*[a.astype("float64") for a in arrays], **options).astype("float32")

    def run() -> Any:
        if ours:
            set_matmul_precision("float64")
        else:
            np.dot = nnfs_dot
        try:
            return epoch()
        finally:
            np.dot = original_dot
            set_matmul_precision("native")

    return run


def spiral_setup(np: Any, dtype: str) -> tuple[Any, Any, Any]:
    """The book's spiral data in `dtype`, and its stream where the book draws the weights."""
    rng = np.random.RandomState(0)
    X, y = book.spiral_data(100, 3, rng)
    return X.astype(dtype), y, rng


def spiral_model(np: Any, dtype: str, rng: Any) -> tuple[nn.Module, nn.Module, optim.Adam]:
    """The book's 2-64-3 network (weights drawn from `rng`), its loss and its optimizer."""
    set_default_dtype(np.dtype(dtype))
    model = nn.Sequential(nn.Dense(2, 64, rng=rng), nn.ReLU(), nn.Dense(64, 3, rng=rng))
    loss_fn = nn.SoftmaxCrossEntropy()
    return model, loss_fn, optim.Adam(model.parameters(), learning_rate=0.05, decay=5e-7)


def _ours_epoch(np: Any, X: Any, y: Any, dtype: str, rng: Any) -> Callable[[], Any]:
    model, loss_fn, optimizer = spiral_model(np, dtype, rng)

    def epoch() -> Any:
        outputs = model(X)
        loss = loss_fn(outputs, y)
        penalty = nn.regularization_loss(model)
        if penalty.requires_grad:
            loss = loss + penalty
        accuracy = np.mean(np.argmax(outputs.data, axis=1) == y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return accuracy

    return epoch


def _floor_epoch(np: Any, X: Any, y: Any, dtype: str, rng: Any) -> Callable[[], Any]:
    """The NumPy calls of our epoch with no engine around them: the floor of any engine that
    keeps the book's bits. Hand-fused as the library's ops compute it (its softmax on a
    transposed copy, the gradient of softmax-CE as probs / n, one flat Adam pass), with the
    parameters and their gradients as views of flat buffers."""
    sizes = [(2, 64), (1, 64), (64, 3), (1, 3)]
    stops = np.cumsum([a * b for a, b in sizes]).tolist()
    flat, grads = np.zeros(stops[-1], dtype), np.zeros(stops[-1], dtype)
    w1, b1, w2, b2 = (flat[a - n : a].reshape(s) for a, n, s in _parts(sizes, stops))
    d_w1, d_b1, d_w2, d_b2 = (grads[a - n : a].reshape(s) for a, n, s in _parts(sizes, stops))
    w1[...] = 0.01 * rng.randn(2, 64).astype(dtype)  # the book's draws, in its order
    w2[...] = 0.01 * rng.randn(64, 3).astype(dtype)
    momentums, cache = np.zeros_like(flat), np.zeros_like(flat)
    n, zeros = len(y), np.zeros((len(y), 64), dtype)
    picked = np.arange(0, n * 3, 3) + y
    constants = (1e-7, 1 - 1e-7, 0.9, 0.999, 1e-7)
    low, high, b_1, b_2, epsilon = (np.full((), value, dtype) for value in constants)
    steps = itertools.count()

    def epoch() -> Any:
        hidden = X @ w1
        hidden += b1
        relu = np.maximum(hidden, zeros)
        logits = relu @ w2
        logits += b2
        columns = logits.T.copy()
        columns -= np.maximum.reduce(columns, axis=0)
        np.exp(columns, out=columns)
        columns /= np.add.reduce(columns, axis=0)
        probs = columns.T.copy()
        picked_probs = probs.reshape(-1)[picked]
        np.add.reduce(np.log(np.minimum(np.maximum(picked_probs, low), high))) / -n  # the loss
        accuracy = np.mean(np.argmax(logits, axis=1) == y)
        d_logits = probs / n
        d_logits.reshape(-1)[picked] = (picked_probs - 1) / n
        np.matmul(relu.T, d_logits, out=d_w2)
        np.add.reduce(d_logits, axis=0, keepdims=True, out=d_b2)
        d_hidden = (d_logits @ w2.T) * (relu > 0)
        np.matmul(X.T, d_hidden, out=d_w1)
        np.add.reduce(d_hidden, axis=0, keepdims=True, out=d_b1)
        step = next(steps)
        learning_rate = 0.05 * (1.0 / (1.0 + 5e-7 * step))
        scratch, denominator = np.empty_like(grads), np.empty_like(grads)
        np.multiply(momentums, b_1, momentums)
        np.add(momentums, np.multiply(grads, 1 - b_1, scratch), momentums)
        np.multiply(cache, b_2, cache)
        np.add(cache, np.multiply(np.square(grads, scratch), 1 - b_2, scratch), cache)
        update = np.divide(momentums, 1 - 0.9 ** (step + 1), scratch)
        np.divide(cache, 1 - 0.999 ** (step + 1), denominator)
        np.sqrt(denominator, denominator)
        denominator += epsilon
        update *= -learning_rate
        update /= denominator
        np.add(flat, update, flat)
        return accuracy

    epoch.parameters = flat  # type: ignore[attr-defined]  # (for tests/test_benchmarks.py)
    return epoch


def _parts(sizes: list[tuple[int, int]], stops: list[int]) -> Iterator[tuple[int, int, Any]]:
    """(stop, size, shape) of each parameter's part of a flat buffer."""
    for shape, stop in zip(sizes, stops, strict=True):
        yield stop, shape[0] * shape[1], shape


def _torch_epoch(torch: Any, X: Any, y: Any) -> Callable[[], Any]:
    inputs, labels = torch.from_numpy(X), torch.from_numpy(y.astype("int64"))
    dtype = inputs.dtype
    params = [
        (0.01 * torch.randn(2, 64, dtype=dtype)).requires_grad_(),
        torch.zeros(1, 64, dtype=dtype, requires_grad=True),
        (0.01 * torch.randn(64, 3, dtype=dtype)).requires_grad_(),
        torch.zeros(1, 3, dtype=dtype, requires_grad=True),
    ]
    optimizer = torch.optim.Adam(params, lr=0.05, eps=1e-7)
    steps = [0]

    def epoch() -> Any:
        w1, b1, w2, b2 = params
        outputs = torch.relu(inputs @ w1 + b1) @ w2 + b2
        loss = torch.nn.functional.cross_entropy(outputs, labels)
        accuracy = (outputs.argmax(1) == labels).double().mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.param_groups[0]["lr"] = 0.05 * (1.0 / (1.0 + 5e-7 * steps[0]))
        optimizer.step()
        steps[0] += 1
        return accuracy

    return epoch


# ---- B2: an MLP on MNIST-sized batches ----------------------------------------------------
def mlp_contenders(np: Any, torch: Any, only: str | None = None) -> dict[str, Callable[[], Any]]:
    """784-256-128-10 ReLU, softmax-CE, Adam, float32, batch 128; plus its 8 matmuls alone."""
    X, y = mlp_batches(np)
    builders = {
        "numpy": lambda: _book_mlp_step(np, X, y, MLP_SIZES),
        "ours": lambda: ours_mlp_step(np, X, y, MLP_SIZES),
        "torch": lambda: _torch_mlp_step(torch, X, y, MLP_SIZES),
        "8 matmuls": lambda: _matmul_floor(np, X[0], MLP_SIZES),
    }
    names = [only] if only else [name for name in builders if torch is not None or name != "torch"]
    return {name: builders[name]() for name in names}


def _book_mlp_step(np: Any, X: Any, y: Any, sizes: list[int]) -> Callable[[], Any]:
    rng = np.random.RandomState(1)
    layers = [book.Layer_Dense(a, b, rng) for a, b in itertools.pairwise(sizes)]
    for layer in layers:
        layer.weights = layer.weights.astype("float32")
        layer.biases = layer.biases.astype("float32")
    relus = [book.Activation_ReLU() for _ in layers[:-1]]
    loss_activation = book.Activation_Softmax_Loss_CategoricalCrossentropy()
    optimizer = Optimizer_Adam()

    batches = _cycle(X, y)

    def step() -> Any:
        inputs, labels = next(batches)
        for layer, relu in zip(layers, [*relus, None], strict=True):
            layer.forward(inputs)
            if relu is not None:
                relu.forward(layer.output)
                inputs = relu.output
        loss = loss_activation.forward(layers[-1].output, labels)
        loss_activation.backward(loss_activation.output, labels)
        grad = loss_activation.dinputs
        for layer, relu in zip(layers[::-1], [None, *relus[::-1]], strict=True):
            if relu is not None:
                relu.backward(grad)
                grad = relu.dinputs
            layer.backward(grad)
            grad = layer.dinputs
        optimizer.pre_update_params()
        for layer in layers:
            optimizer.update_params(layer)
        optimizer.post_update_params()
        return loss

    return step


def mlp_batches(np: Any) -> tuple[Any, Any]:
    """64 random batches of 128 MNIST-sized samples and their labels."""
    rng = np.random.RandomState(0)
    # A pool of batches cycled through: a net that memorised one batch would see
    # vanishing, denormal gradients, which time the CPU's slow path instead of the engine.
    X = rng.standard_normal((64, 128, 784)).astype("float32")
    return X, rng.randint(0, 10, (64, 128))


def ours_mlp_step(np: Any, X: Any, y: Any, sizes: list[int]) -> Callable[[], Any]:
    """One B2 training step of tinygrad_nnfs."""
    set_default_dtype(np.float32)
    manual_seed(1)
    model = nn.Sequential(
        nn.Dense(784, 256), nn.ReLU(), nn.Dense(256, 128), nn.ReLU(), nn.Dense(128, 10)
    )
    loss_fn = nn.SoftmaxCrossEntropy()
    optimizer = optim.Adam(model.parameters())
    batches = _cycle(X, y)

    def step() -> Any:
        inputs, labels = next(batches)
        loss = loss_fn(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def _torch_mlp_step(torch: Any, X: Any, y: Any, sizes: list[int]) -> Callable[[], Any]:
    batches = _cycle(torch.from_numpy(X), torch.from_numpy(y.astype("int64")))
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 256),
        torch.nn.ReLU(),
        torch.nn.Linear(256, 128),
        torch.nn.ReLU(),
        torch.nn.Linear(128, 10),
    )
    optimizer = torch.optim.Adam(model.parameters(), eps=1e-7)

    def step() -> Any:
        inputs, labels = next(batches)
        loss = torch.nn.functional.cross_entropy(model(inputs), labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        return loss

    return step


def mlp_peak_rss(name: str) -> int:
    """Peak resident bytes that 50 B2 steps of one contender add to its process."""
    import numpy as np

    torch = None
    if name == "torch":
        import torch
    np.ones(1) @ np.ones(1)  # load BLAS before the baseline is read
    baseline = _rss_bytes()
    step = mlp_contenders(np, torch, only=name)[name]
    for _ in range(50):
        step()
    return _peak_rss_bytes() - baseline


def _cycle(X: Any, y: Any) -> Iterator[tuple[Any, Any]]:
    """Batches (X[i], y[i]) round and round, the same order for every contender."""
    return itertools.cycle(list(zip(X, y, strict=True)))


def _matmul_floor(np: Any, X: Any, sizes: list[int]) -> Callable[[], Any]:
    """The step's necessary matmuls: 3 forward, 3 weight gradients, 2 input gradients."""
    rng = np.random.RandomState(2)
    weights = [rng.standard_normal((a, b)).astype("float32") for a, b in itertools.pairwise(sizes)]
    h1, h2 = X @ weights[0], (X @ weights[0]) @ weights[1]
    d3 = rng.standard_normal((128, 10)).astype("float32")
    d2, d1 = d3 @ weights[2].T, (d3 @ weights[2].T) @ weights[1].T

    def matmuls() -> Any:
        return (
            X @ weights[0],
            h1 @ weights[1],
            h2 @ weights[2],
            h2.T @ d3,
            h1.T @ d2,
            X.T @ d1,
            d3 @ weights[2].T,
            d2 @ weights[1].T,
        )

    return matmuls


# ---- B3: per-op overhead ------------------------------------------------------------------
CHAIN = 200  # ops per chain: mul by a scalar, add a scalar, tanh, repeating


def chain_contenders(np: Any, torch: Any, side: int) -> dict[str, Callable[[], Any]]:
    """A chain of 200 tiny ops, forward and backward; times are per op."""
    x = np.full((side, side), 0.5, dtype="float32")
    kinds = [i % 3 for i in range(CHAIN)]
    leaf = Tensor(x, requires_grad=True)

    def raw() -> Any:  # the same NumPy calls, derivatives written by hand
        outputs, value = [], x
        for kind in kinds:
            value = value * 1.0001 if kind == 0 else value + 0.0001 if kind == 1 else np.tanh(value)
            outputs.append(value)
        grad = np.ones_like(value)
        for kind, out in zip(reversed(kinds), reversed(outputs), strict=True):
            if kind == 0:
                grad = grad * 1.0001
            elif kind == 2:
                grad = grad * (1 - out * out)
        return grad

    def ours() -> Any:
        value = leaf
        for kind in kinds:
            value = value * 1.0001 if kind == 0 else value + 0.0001 if kind == 1 else value.tanh()
        leaf.grad = None
        value.backward(np.ones_like(value.data))
        return leaf.grad

    contenders = {"numpy": raw, "ours": ours}
    if torch is not None:
        tleaf = torch.from_numpy(x.copy()).requires_grad_()

        def torch_chain() -> Any:
            value = tleaf
            for kind in kinds:
                value = (
                    value * 1.0001 if kind == 0 else value + 0.0001 if kind == 1 else value.tanh()
                )
            tleaf.grad = None
            value.backward(torch.ones_like(value))
            return tleaf.grad

        contenders["torch"] = torch_chain
    return contenders


# ---- B4: a deep chain ---------------------------------------------------------------------
STEPS = 100_000  # chained steps of two ops each
REPEATS = 3  # B4 runs, of which the median is reported


def deep_chain_report(np: Any, torch: Any) -> list[str]:
    """Time, peak memory and memory after release of a 200,000-op chain and its backward."""

    def build_and_backward() -> Tensor:
        leaf = Tensor(np.ones(1), requires_grad=True)
        value = leaf
        for _ in range(STEPS):
            value = value * 1.00001 + 1e-6
        value.backward(np.ones(1))
        return value

    gc.collect()
    before = _rss_bytes()
    start = time.perf_counter()
    graph = build_and_backward()
    times = [time.perf_counter() - start]
    with_graph = _rss_bytes()
    del graph
    gc.collect()
    after = _rss_bytes()
    for _ in range(REPEATS - 1):
        gc.collect()
        start = time.perf_counter()
        build_and_backward()
        times.append(time.perf_counter() - start)
    seconds = statistics.median(times)
    tracemalloc.start()
    graph = build_and_backward()
    peak = tracemalloc.get_traced_memory()[1]
    del graph
    gc.collect()
    left = tracemalloc.get_traced_memory()[0]  # Python allocations still alive
    tracemalloc.stop()
    mib = 2**20
    lines = [
        f"\nB4 deep chain: {STEPS:,} steps ({2 * STEPS:,} ops) forward + backward: {seconds:.3f} s "
        f"(median of {REPEATS})",
        f"   traced peak {peak / mib:.0f} MiB, {left / mib:.1f} MiB left after the drop; "
        f"RSS +{(with_graph - before) / mib:.0f} MiB with the graph alive, "
        f"+{(after - before) / mib:.0f} MiB after (freed heap that glibc keeps for reuse)",
    ]
    if torch is not None:
        seconds = _torch_deep_chain_seconds(torch)
        lines.append(f"   torch, the same chain: {seconds:.3f} s (median of {REPEATS})")
    return lines


def _torch_deep_chain_seconds(torch: Any) -> float:
    times = []
    for _ in range(REPEATS):
        gc.collect()
        start = time.perf_counter()
        leaf = torch.ones(1, dtype=torch.float64, requires_grad=True)
        value = leaf
        for _ in range(STEPS):
            value = value * 1.00001 + 1e-6
        value.backward(torch.ones(1, dtype=torch.float64))
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _peak_rss_bytes() -> int:
    """This process's resident high-water mark (VmHWM: unlike ru_maxrss, not the parent's)."""
    with open("/proc/self/status") as status:
        line = next(line for line in status if line.startswith("VmHWM:"))
    return int(line.split()[1]) * 1024


def _rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * 4096
