"""`python -m tinygrad_nnfs demo`: train the book's spiral classifier, test it, draw its graph;
`python -m tinygrad_nnfs sweep`: compare its settings over seeds and folds, in parallel."""

from __future__ import annotations

import argparse
import collections
import importlib
import time
from collections.abc import Sequence
from pathlib import Path

from tinygrad_nnfs import datasets, nn, sweep
from tinygrad_nnfs.graph import draw_graph
from tinygrad_nnfs.sweep import BOOK_DEFAULTS, BOOK_METRICS, OPTIMIZERS
from tinygrad_nnfs.tensor import Tensor, nnfs_init
from tinygrad_nnfs.train import evaluate, fit

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m tinygrad_nnfs",
        description="tinygrad_nnfs: autograd for readers of Neural Networks from Scratch.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser(
        "demo",
        help="train the book's spiral classifier, test it out of sample, draw its graph",
        description=(
            "Train the book's 2-64-3 spiral classifier (nnfs_init, spiral_data(100, 3), "
            "Dense-ReLU-Dense, softmax cross-entropy, Adam(0.05, decay=5e-7), 10,001 epochs), "
            "print the book's log lines, report accuracy and loss on a fresh spiral set, and "
            "render the graph of one training step."
        ),
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    demo.add_argument(
        "--optimizer",
        choices=sorted(OPTIMIZERS),
        default="adam",
        help="optimizer, with the book's learning rate and decay for it",
    )
    demo.add_argument(
        "--learning-rate", type=float, default=None, help="override the optimizer's learning rate"
    )
    demo.add_argument(
        "--decay", type=float, default=None, help="override the optimizer's learning-rate decay"
    )
    demo.add_argument("--epochs", type=int, default=10001, help="training epochs")
    demo.add_argument("--hidden", type=int, default=64, help="neurons in the hidden layer")
    demo.add_argument(
        "--l2",
        type=float,
        default=0.0,
        help="L2 strength on the hidden layer's weights and biases (book: 5e-4)",
    )
    demo.add_argument(
        "--dropout", type=float, default=0.0, help="dropout rate after the hidden layer (book: 0.1)"
    )
    demo.add_argument("--samples", type=int, default=100, help="spiral samples per class")
    demo.add_argument("--classes", type=int, default=3, help="spiral classes")
    demo.add_argument(
        "--seed", type=int, default=0, help="seed of the library stream (NumPy's global one)"
    )
    demo.add_argument(
        "--dtype",
        choices=["float32", "float64"],
        default="float32",
        help="float dtype of data and parameters",
    )
    demo.add_argument(
        "--matmul-precision",
        choices=["float64", "native"],
        default="float64",
        help="float64: float32 matmuls in float64, rounded (the book's nnfs.init(), the same "
        "log on every machine); native: the machine's float32 BLAS",
    )
    demo.add_argument("--print-every", type=int, default=100, help="epochs between log lines")
    demo.add_argument(
        "--out",
        type=Path,
        default=Path("spiral_graph.svg"),
        help="where to write the rendered graph of one training step (.svg, .png or .pdf)",
    )
    demo.add_argument(
        "--plot",
        type=Path,
        default=None,
        metavar="DIR",
        help="also write DIR/history.png and DIR/decision_regions.png (needs matplotlib: "
        'pip install "tinygrad_nnfs[plot]")',
    )
    demo.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    _add_sweep(commands)
    return parser


def _add_sweep(commands: argparse._SubParsersAction) -> None:
    command = commands.add_parser(
        "sweep",
        help="train the book's spiral classifier over a grid of settings, seeds and folds",
        description=(
            "Run sweep.book_experiment (the demo's network, trained by fit) once per "
            "combination of the values given, per seed and fold, on joblib's processes, a "
            "Dask cluster or Ray, and print each setting's mean and std of the metric. Each "
            "config option takes space-separated values; one left out keeps its default. "
            "Example: --optimizer sgd adagrad rmsprop adam --seeds 3"
        ),
    )
    command.add_argument(
        "--optimizer",
        nargs="+",
        choices=list(OPTIMIZERS),
        metavar="NAME",
        help=f"optimizers: {', '.join(OPTIMIZERS)} (default: adam)",
    )
    for key, default in BOOK_DEFAULTS.items():
        if key != "optimizer":
            shown = "the book's ch. 10 setting for the optimizer" if default is None else default
            command.add_argument(
                f"--{key.replace('_', '-')}",
                nargs="+",
                type=int if isinstance(default, int) else float,
                metavar=key.upper(),
                help=f"values of {key} (default: {shown})",
            )
    command.add_argument(
        "--seeds", type=int, default=1, metavar="N", help="seeds 0 .. N-1 (default: 1)"
    )
    command.add_argument(
        "--folds", type=int, metavar="K", help="K-fold validation (default: a fresh set)"
    )
    command.add_argument(
        "--metric",
        choices=BOOK_METRICS,
        default="val_acc",
        help="the metric tabulated and plotted (default: val_acc)",
    )
    command.add_argument(
        "--backend",
        choices=sweep.BACKENDS,
        help="where the tasks run (default: dask with --scheduler, else loky)",
    )
    command.add_argument(
        "--scheduler", metavar="ADDRESS", help="a Dask scheduler's address, e.g. tcp://host:8786"
    )
    command.add_argument(
        "--n-jobs",
        type=int,
        default=-1,
        metavar="N",
        help="worker processes (default: -1, one per core)",
    )
    command.add_argument(
        "--out",
        type=Path,
        metavar="PATH",
        help="JSON-lines file of finished runs; a rerun resumes from it",
    )
    command.add_argument(
        "--csv", type=Path, metavar="PATH", help="write one row per run to this CSV file"
    )
    command.add_argument(
        "--plot",
        type=Path,
        metavar="PATH",
        help='plot the metric per setting to this png, svg or pdf (needs "tinygrad_nnfs[plot]")',
    )
    command.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def demo(args: argparse.Namespace) -> None:
    """Run the book's program with the command line's settings."""
    if args.plot is not None:
        # matplotlib is an optional extra: fail on a missing one before training, not after
        from tinygrad_nnfs import plot
    # The book's nnfs.init(): its seed, dtypes and float64 matmuls, so the log is the book's
    # code's line for line on any machine.
    nnfs_init(
        dot_precision_workaround=args.matmul_precision == "float64",
        default_dtype=args.dtype,
        random_seed=args.seed,
    )
    X, y = datasets.spiral_data(args.samples, args.classes)
    layers: list[nn.Module] = [
        nn.Dense(2, args.hidden, weight_regularizer_l2=args.l2, bias_regularizer_l2=args.l2),
        nn.ReLU(),
    ]
    if args.dropout:
        layers.append(nn.Dropout(args.dropout))
    layers.append(nn.Dense(args.hidden, args.classes))
    model = nn.Sequential(*layers)  # names its parameters "0.weights", ... for the graph
    loss_fn = nn.SoftmaxCrossEntropy()
    optimizer_class, settings = OPTIMIZERS[args.optimizer]
    settings = dict(settings)
    if args.learning_rate is not None:
        settings["learning_rate"] = args.learning_rate
    if args.decay is not None:
        settings["decay"] = args.decay
    optimizer = optimizer_class(model.parameters(), **settings)
    options = ", ".join(f"{key}={value}" for key, value in settings.items())
    print(f"model: {model}; loss: softmax cross-entropy; {optimizer_class.__name__}({options})")

    start = time.perf_counter()
    history = fit(
        model,
        loss_fn,
        optimizer,
        X,
        y,
        epochs=args.epochs,
        print_every=args.print_every,
        progress=False if args.no_progress else None,
    )
    seconds = time.perf_counter() - start
    per_epoch = 1e3 * seconds / args.epochs
    print(f"trained {args.epochs} epochs in {seconds:.2f} s ({per_epoch:.3f} ms/epoch)")

    X_test, y_test = datasets.spiral_data(args.samples, args.classes)
    test_loss, test_acc = evaluate(model, loss_fn, X_test, y_test)
    print(f"validation, acc: {test_acc:.3f}, loss: {test_loss:.3f}")

    step_loss = loss_fn(model(Tensor(X, name="X")), y)
    penalty = nn.regularization_loss(model)
    if penalty.requires_grad:
        step_loss = step_loss + penalty
    step_loss.backward()
    print(f"graph of one training step: {_render(step_loss, args.out)}")

    if args.plot is not None:
        args.plot.mkdir(parents=True, exist_ok=True)
        plot.plot_history(history, args.plot / "history.png")
        plot.plot_decision_regions(model, X, y, args.plot / "decision_regions.png")
        print(f"plots: {args.plot / 'history.png'}, {args.plot / 'decision_regions.png'}")


def _render(loss: Tensor, path: Path) -> str:
    """Render the graph to path; without Graphviz's dot, write its source and say so."""
    graph = draw_graph(loss)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        return graph.render(outfile=path, cleanup=True)
    except RuntimeError as error:
        source = path.with_suffix(".gv")
        source.write_text(graph.source)
        return f"{source} (Graphviz source only: {error})"


def sweep_command(args: argparse.Namespace) -> None:
    """Run book_experiment over the command line's grid; print the table and the best."""
    if args.plot is not None:  # matplotlib, an optional extra: fail before the sweep, not after
        importlib.import_module("tinygrad_nnfs.plot")
    axes = {key: getattr(args, key) for key in BOOK_DEFAULTS if getattr(args, key) is not None}
    configs = sweep.grid(**axes)
    backend = args.backend or ("dask" if args.scheduler else "loky")
    shape = f"{len(configs)} configs x {args.seeds} seeds"
    if args.folds:
        shape += f" x {args.folds} folds"
    tasks = len(configs) * args.seeds * (args.folds or 1)
    where = f"dask ({args.scheduler})" if args.scheduler else backend
    print(f"book_experiment: {shape} = {tasks} tasks on {where}")
    client = sweep._import_dask().Client(args.scheduler) if args.scheduler else None
    try:
        result = sweep.run(
            sweep.book_experiment,
            configs,
            seeds=range(args.seeds),
            folds=args.folds,
            backend=backend,
            n_jobs=args.n_jobs,
            client=client,
            out=args.out,
            progress=not args.no_progress,
        )
    finally:
        if client is not None:
            client.close()
    errors = collections.Counter(r["error"] for r in result.records if r["error"] is not None)
    for error, count in errors.items():
        print(f"failed {count}x: {error}")
    if sum(errors.values()) == len(result.records):
        raise SystemExit("sweep: no run finished")
    print(result.table(args.metric))
    mode = "min" if args.metric.endswith("loss") else "max"
    print(f"best {args.metric}: {result.best(args.metric, mode=mode)}")
    if args.csv is not None:
        result.to_csv(args.csv)
        print(f"csv: {args.csv}")
    if args.plot is not None:
        result.plot(args.metric, args.plot)
        print(f"plot: {args.plot}")


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of `python -m tinygrad_nnfs` and the `tinygrad-nnfs` script."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "demo":
        demo(args)
    elif args.command == "sweep":
        if args.scheduler and args.backend not in (None, "dask"):
            parser.error(
                f"--scheduler is a Dask scheduler's address: not with --backend {args.backend}"
            )
        if args.seeds < 1:
            parser.error(f"--seeds must be at least 1, got {args.seeds}")
        if args.folds is not None and args.folds < 2:
            parser.error(f"--folds must be at least 2 (k-fold validation), got {args.folds}")
        if args.n_jobs is not None and (args.n_jobs == 0 or args.n_jobs < -1):
            parser.error(
                f"--n-jobs must be a positive number of workers or -1 (one per core), "
                f"got {args.n_jobs}"
            )
        sweep_command(args)


if __name__ == "__main__":
    main()
