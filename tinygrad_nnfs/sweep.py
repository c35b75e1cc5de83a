"""Sweeps: a grid of experiments run in parallel on an existing engine, and their results.

The book's method is comparing runs: optimizers and their settings (ch. 10), k-fold
validation (ch. 12), penalties (ch. 14). `run` sends one task per (config, seed, fold) to
joblib's process pool on this machine, a Dask cluster or Ray, and gathers the records in
a `SweepResult`. joblib, dask and matplotlib are optional extras, imported by the backend
or method that needs them: `pip install "tinygrad_nnfs[sweep]"` (joblib), `[dask]`, `[ray]`,
`[plot]`.
"""

from __future__ import annotations

import collections
import contextlib
import csv
import hashlib
import importlib
import itertools
import json
import math
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import numpy as np

from tinygrad_nnfs import datasets, nn, optim, tensor
from tinygrad_nnfs._checks import check_int, is_real
from tinygrad_nnfs.engine import settings
from tinygrad_nnfs.tensor import get_default_dtype, set_default_dtype
from tinygrad_nnfs.train import _NO_BAR, _silent, evaluate, fit

__all__ = ["SweepResult", "book_experiment", "grid", "run"]

Experiment = Callable[[dict[str, Any], int, tuple[int, int] | None], Mapping[str, float]]
Record = dict[str, Any]

BACKENDS = ("sequential", "loky", "dask", "ray")
RETRIES = 3  # reruns of a task whose worker died, as Dask's allowed-failures default
# What a joblib user expects of its workers: BLAS pools of cpu_count // n_jobs threads.
_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")

# The book's settings for each optimizer on the spiral (chapter 10).
OPTIMIZERS = {
    "sgd": (optim.SGD, {"learning_rate": 1.0, "decay": 1e-3, "momentum": 0.9}),
    "adagrad": (optim.Adagrad, {"learning_rate": 1.0, "decay": 1e-4}),
    "rmsprop": (optim.RMSprop, {"learning_rate": 0.02, "decay": 1e-5, "rho": 0.999}),
    "adam": (optim.Adam, {"learning_rate": 0.05, "decay": 5e-7}),
}
# book_experiment's config keys and defaults: the book's ch. 10 Adam run, with fewer epochs.
# None: the book's setting for the optimizer (OPTIMIZERS); momentum is SGD's alone.
BOOK_DEFAULTS: dict[str, Any] = {
    "optimizer": "adam",
    "learning_rate": None,
    "decay": None,
    "momentum": None,
    "l2": 0.0,
    "hidden": 64,
    "dropout": 0.0,
    "epochs": 1001,
    "samples": 100,
}
BOOK_METRICS = ("loss", "acc", "val_loss", "val_acc")


def grid(**axes: Iterable[Any]) -> list[dict[str, Any]]:
    """The Cartesian product of the axes as config dicts, the last axis varying fastest.

    `grid(optimizer=["sgd", "adam"], l2=[0, 5e-4])` -> 4 configs; no axes -> `[{}]`.
    """
    values = {}
    for name, axis in axes.items():
        if isinstance(axis, str | bytes | Mapping) or not isinstance(axis, Iterable):
            raise TypeError(
                f"grid: axis {name!r} must be a list of values, got {type(axis).__name__} "
                f"{axis!r}; write {name}=[{axis!r}] for a single value"
            )
        values[name] = list(axis)
        if not values[name]:
            raise ValueError(f"grid: axis {name!r} has no values; give it at least one")
    return [dict(zip(values, combo, strict=True)) for combo in itertools.product(*values.values())]


@dataclass(frozen=True)
class _Task:
    """One (config, seed, fold) of a sweep; `folds` is k for k-fold sweeps, else None."""

    config: dict[str, Any]
    seed: int
    fold: int | None
    folds: int | None

    @property
    def key(self) -> str:
        return _key(self.config, self.seed, self.fold)

    def record(self, metrics: dict[str, float] | None = None, error: str | None = None) -> Record:
        return {
            "config": self.config,
            "seed": self.seed,
            "fold": self.fold,
            "metrics": {} if metrics is None else metrics,
            "error": error,
        }


def _key(config: Mapping[str, Any], seed: int, fold: int | None) -> str:
    """A task's identity, the same in every process: its JSON with sorted keys."""
    return json.dumps([config, seed, fold], sort_keys=True)


def run(
    experiment: Experiment,
    configs: Iterable[Mapping[str, Any]],
    *,
    seeds: Iterable[int] = (0,),
    folds: int | None = None,
    backend: str = "loky",
    n_jobs: int = -1,
    client: Any = None,
    out: str | os.PathLike[str] | None = None,
    progress: bool = True,
) -> SweepResult:
    """Run `experiment(config, seed, fold)` once per (config, seed, fold); gather the records.

    Args:
        experiment: `(config, seed, fold) -> {metric: number}`; process backends send it
            with cloudpickle.
        configs: JSON-able dicts, e.g. from `grid`; each config appears once.
        seeds: the seeds each config runs with.
        folds: k for k-fold validation: `fold` is then (k, i) for i in 0..k-1, else None.
        backend: "sequential" (this process), "loky" (joblib's processes, `n_jobs` of them,
            -1 for one per core), "dask" (`client`, or a local cluster of `n_jobs` worker
            processes started and closed for the run) or "ray" (joblib's Ray backend).
        out: a JSON-lines file each finished record is appended to; a rerun with the same
            file runs only the tasks it lacks.
        progress: show a progress bar over the tasks.

    Each task runs under the caller's library settings (default dtype, matmul precision,
    nnfs_init's dtypes) with the library stream and NumPy's global stream seeded from the
    task alone (restored after), so records are the same bits on every backend and for
    any n_jobs. A task that raises is recorded with the error's type and message, one
    with a NaN or inf metric as diverged; a task whose worker process dies is rerun up to
    3 times. Ctrl-C stops the sweep and returns the records finished so far.
    """
    if not callable(experiment):
        raise TypeError(
            f"sweep.run: experiment must be a function (config, seed, fold) -> metrics, got "
            f"{type(experiment).__name__}"
        )
    configs = _checked_configs(configs)
    seeds = _checked_seeds(seeds)
    if folds is not None:
        check_int(folds, "sweep.run", "folds", minimum=2, expected="an int (k of k-fold) or None")
    if backend not in BACKENDS:
        raise ValueError(f"sweep.run: backend must be one of {BACKENDS}, got {backend!r}")
    if check_int(n_jobs, "sweep.run", "n_jobs") == 0:
        raise ValueError("sweep.run: n_jobs must be a positive int, or -1 for one per core")
    if client is not None and backend != "dask":
        raise ValueError(
            f"sweep.run: client= is a Dask client, for backend='dask' (got {backend!r})"
        )
    fold_indices: Sequence[int | None] = [None] if folds is None else range(folds)
    tasks = [
        _Task(config, seed, fold, folds)
        for config in configs
        for seed in seeds
        for fold in fold_indices
    ]
    done = {} if out is None else _read_records(Path(out), {task.key for task in tasks})
    pending = [task for task in tasks if task.key not in done]
    run_one = _TaskRunner(experiment, _library_settings())
    journal = _open_journal(Path(out)) if out is not None else None
    bar = _progress_bar(len(tasks), len(done)) if progress else _NO_BAR
    interrupted = False
    try:
        if pending:
            for record in _records(backend, pending, run_one, n_jobs, client):
                done[_key(record["config"], record["seed"], record["fold"])] = record
                if journal is not None:
                    journal.write(json.dumps(record) + "\n")
                    journal.flush()
                bar.update()
    except KeyboardInterrupt:
        interrupted = True
    finally:
        bar.close()
        if journal is not None:
            journal.close()
    if interrupted:
        print(f"sweep: interrupted; {len(done)} of {len(tasks)} tasks finished", file=sys.stderr)
    return SweepResult([done[task.key] for task in tasks if task.key in done])


def _progress_bar(total: int, finished: int) -> Any:
    """A tqdm bar over the tasks, from those an out= file already holds."""
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=finished, unit="task")


def _records(
    backend: str, tasks: list[_Task], run_one: _TaskRunner, n_jobs: int, client: Any
) -> Iterator[Record]:
    """The tasks' records, as they finish on the backend."""
    if backend == "sequential":
        return map(run_one, tasks)
    if backend == "loky":
        return _loky(tasks, run_one, n_jobs)
    if backend == "dask":
        return _dask(tasks, run_one, n_jobs, client)
    return _ray(tasks, run_one, n_jobs)


def _checked_configs(configs: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The configs as plain JSON values (NumPy scalars made Python numbers), each once."""
    if isinstance(configs, Mapping) or not isinstance(configs, Iterable):
        raise TypeError(
            f"sweep.run: configs must be a list of dicts (e.g. sweep.grid(...)), got "
            f"{type(configs).__name__}"
        )
    checked, seen = [], set()
    for config in configs:
        if not isinstance(config, Mapping) or not all(isinstance(k, str) for k in config):
            raise TypeError(f"sweep.run: each config must be a dict with str keys, got {config!r}")
        try:
            plain = json.loads(json.dumps(dict(config), default=_plain_number))
        except (TypeError, ValueError) as error:
            raise TypeError(
                f"sweep.run: config {config!r} must hold JSON values (numbers, strings, lists): "
                f"{error}"
            ) from None
        key = json.dumps(plain, sort_keys=True)
        if key in seen:
            raise ValueError(f"sweep.run: config {plain} appears twice; give each config once")
        seen.add(key)
        checked.append(plain)
    if not checked:
        raise ValueError("sweep.run: configs is empty; pass at least one, e.g. sweep.grid()")
    return checked


def _plain_number(value: Any) -> Any:
    """json's fallback: a NumPy scalar (np.float64(0.1), from np.linspace) as Python's."""
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"{type(value).__name__} {value!r} is not JSON serializable")


def _checked_seeds(seeds: Iterable[int]) -> list[int]:
    if not isinstance(seeds, Iterable):
        raise TypeError(
            f"sweep.run: seeds must be a list of ints such as range(3), got "
            f"{type(seeds).__name__} {seeds!r}"
        )
    checked = [check_int(seed, "sweep.run", "seeds", minimum=0) for seed in seeds]
    if not checked or len(set(checked)) != len(checked):
        raise ValueError(f"sweep.run: seeds must be distinct and at least one, got {checked}")
    return checked


# ---- tasks: what runs in the worker ----------------------------------------------------------
# Tasks share the process-wide settings: a Dask worker's threads run them one at a time
# (reentrant, for a task that runs a sequential sweep of its own).
_ONE_TASK_AT_A_TIME = threading.RLock()


def _library_settings() -> dict[str, Any]:
    """The process-wide library settings a task needs to compute what the caller would."""
    return {
        "dtype": get_default_dtype().name,
        "numpy_stream": tensor._library_rng is np.random.mtrand._rand,  # after nnfs_init()
        **{name: getattr(settings, name) for name in type(settings).__slots__},
    }


@contextlib.contextmanager
def _task_context(library: dict[str, Any], key: str) -> Iterator[None]:
    """The caller's settings; NumPy's global stream and a fresh library stream seeded from
    the task (one stream, NumPy's, under nnfs_init). Everything is put back after."""
    previous = _library_settings()
    numpy_state, library_stream = np.random.get_state(), tensor._library_rng
    entropy = int.from_bytes(hashlib.sha256(key.encode()).digest(), "big")
    numpy_seed, library_seed = np.random.SeedSequence(entropy).generate_state(2)
    _apply(library)
    np.random.seed(numpy_seed)
    if library["numpy_stream"]:
        tensor._library_rng = np.random.mtrand._rand
    else:
        tensor._library_rng = np.random.RandomState(library_seed)
    try:
        yield
    finally:
        _apply(previous)
        np.random.set_state(numpy_state)
        tensor._library_rng = library_stream


def _apply(library: dict[str, Any]) -> None:
    set_default_dtype(library["dtype"])
    for name in type(settings).__slots__:
        setattr(settings, name, library[name])


class _TaskRunner:
    """Runs one task and makes its record, in whichever process runs it (picklable)."""

    def __init__(self, experiment: Experiment, library: dict[str, Any]) -> None:
        self.experiment, self.library = experiment, library

    def __call__(self, task: _Task) -> Record:
        fold = None if task.fold is None else (task.folds, task.fold)
        with _ONE_TASK_AT_A_TIME, _task_context(self.library, task.key):
            try:
                metrics = self.experiment(dict(task.config), task.seed, fold)
            except Exception as error:
                return task.record(error=f"{type(error).__name__}: {error}")
        return _checked_metrics(task, metrics)


def _checked_metrics(task: _Task, metrics: Any) -> Record:
    """The record of a task that returned: its metrics as floats, or what is wrong with them."""
    if not isinstance(metrics, Mapping):
        return task.record(
            error=f"TypeError: the experiment returned {type(metrics).__name__}, "
            f"not a dict of metrics"
        )
    for name, value in metrics.items():
        if not isinstance(name, str) or not is_real(value):
            return task.record(
                error=f"TypeError: metric {name!r} is {type(value).__name__} {value!r}, "
                f"not a number"
            )
    values = {name: float(value) for name, value in metrics.items()}
    diverged = [f"{name} is {value}" for name, value in values.items() if not math.isfinite(value)]
    return task.record(values, f"diverged: {', '.join(diverged)}" if diverged else None)


# ---- backends: each yields the tasks' records as they finish ------------------------------------
def _optional(module: str, backend: str, extra: str) -> ModuleType:
    """Import an optional dependency, or say which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise ImportError(
            f"sweep.run: backend={backend!r} needs {module.split('.')[0]} ({error}); install it "
            f'with the extra: pip install "tinygrad_nnfs[{extra}]"'
        ) from error


class _Reruns:
    """The worker deaths each task met: it reruns, alone, until it has met RETRIES + 1.

    A process pool does not say which task killed a worker, only which ones were lost.
    Every lost task is charged; running a charged task alone then tells the task that
    kills its worker every time from the ones that only ran beside it.
    """

    def __init__(self) -> None:
        self.deaths: collections.Counter[str] = collections.Counter()

    def suspect(self, task: _Task) -> bool:
        return self.deaths[task.key] > 0

    def lost(
        self, task: _Task, error: Exception, queue: collections.deque[_Task]
    ) -> Iterator[Record]:
        """Queue the task again, or yield its failed record after its last rerun."""
        self.deaths[task.key] += 1
        if self.deaths[task.key] <= RETRIES:
            queue.appendleft(task)
        else:
            died = f"the worker running this task died {self.deaths[task.key]} times"
            yield task.record(error=f"{type(error).__name__}: {died}; {error}")


def _loky(tasks: list[_Task], run_one: _TaskRunner, n_jobs: int) -> Iterator[Record]:
    """joblib's reusable loky pool, at most one task per worker in flight.

    A dead worker breaks the pool and fails every task in flight; a broken pool is
    replaced by the next get_reusable_executor.
    """
    joblib = _optional("joblib", "loky", "sweep")
    loky = importlib.import_module("joblib.externals.loky")
    n_workers = min(joblib.effective_n_jobs(n_jobs), len(tasks))
    threads = str(max(loky.cpu_count() // n_workers, 1))
    env = {name: os.environ.get(name, threads) for name in _THREAD_VARIABLES}
    queue, reruns = collections.deque(tasks), _Reruns()
    running: dict[Any, _Task] = {}
    try:
        while queue or running:
            executor = loky.get_reusable_executor(max_workers=n_workers, env=env)
            while queue and len(running) < n_workers:
                if running and any(map(reruns.suspect, [queue[0], *running.values()])):
                    break
                task = queue.popleft()
                running[executor.submit(run_one, task)] = task
            finished, _ = loky.wait(running, return_when=loky.FIRST_COMPLETED)
            for future in finished:
                task = running.pop(future)
                try:
                    record = future.result()
                except loky.BrokenProcessPool as error:
                    yield from reruns.lost(task, error, queue)
                except Exception as error:  # e.g. an experiment that cannot be pickled
                    yield task.record(error=f"{type(error).__name__}: {error}")
                else:
                    yield record
    finally:
        if running:  # interrupted: stop the tasks in flight too
            executor.shutdown(wait=False, kill_workers=True)


def _dask(tasks: list[_Task], run_one: _TaskRunner, n_jobs: int, client: Any) -> Iterator[Record]:
    """Dask's scheduler: it reruns a task whose worker died (its allowed-failures, 3)."""
    distributed = _import_dask()
    cluster = None
    if client is None:
        joblib = _optional("joblib", "dask", "dask")
        cluster = distributed.LocalCluster(
            n_workers=min(joblib.effective_n_jobs(n_jobs), len(tasks)),
            threads_per_worker=1,
            processes=True,
            dashboard_address=":0",  # any free port: never another cluster's 8787
            scheduler_kwargs={"allowed_failures": RETRIES},
        )
        client = distributed.Client(cluster)
    name = getattr(run_one.experiment, "__name__", "experiment")  # the dashboard's task name
    futures = {
        client.submit(run_one, task, key=f"{name}-{uuid.uuid4().hex}"): task for task in tasks
    }
    try:
        for future in distributed.as_completed(futures):
            try:
                yield future.result()
            except Exception as error:  # KilledWorker after the reruns, or an unpicklable task
                yield futures[future].record(error=f"{type(error).__name__}: {error}")
    finally:
        client.cancel(list(futures))
        if cluster is not None:
            client.close()
            cluster.close()


def _import_dask() -> ModuleType:
    """dask.distributed, or an ImportError naming the extra."""
    return _optional("dask.distributed", "dask", "dask")


def _ray(tasks: list[_Task], run_one: _TaskRunner, n_jobs: int) -> Iterator[Record]:
    """joblib's Ray backend (ray.init() connects to a cluster, or starts a local one).

    It returns a call's results only when all are done, and loses them all when an actor
    dies: so each call is one wave of as many tasks as there are workers.
    """
    joblib = _optional("joblib", "ray", "ray")
    _optional("ray.util.joblib", "ray", "ray").register_ray()
    errors = importlib.import_module("ray.exceptions")
    queue, reruns = collections.deque(tasks), _Reruns()
    with joblib.parallel_config(backend="ray", n_jobs=n_jobs):
        n_workers = joblib.effective_n_jobs(n_jobs)
        while queue:
            wave = [queue.popleft()]
            while (
                queue
                and len(wave) < n_workers
                and not any(map(reruns.suspect, (wave[0], queue[0])))
            ):
                wave.append(queue.popleft())
            try:
                records = joblib.Parallel()(joblib.delayed(run_one)(task) for task in wave)
            except (errors.RayActorError, errors.WorkerCrashedError) as error:
                for task in reversed(wave):
                    yield from reruns.lost(task, error, queue)
            else:
                yield from records


# ---- the out= file ---------------------------------------------------------------------------
def _read_records(path: Path, keys: set[str]) -> dict[str, Record]:
    """The records in the JSON-lines file for the given tasks; lines that do not parse
    (one cut short by a crash) or hold no record are skipped."""
    if not path.exists():
        return {}
    found = {}
    for line in path.read_text().splitlines():
        try:
            record = json.loads(line)
            key = _key(record["config"], record["seed"], record["fold"])
        except (ValueError, TypeError, KeyError):
            continue
        if key in keys and isinstance(record.get("metrics"), dict) and "error" in record:
            found[key] = record
    return found


def _open_journal(path: Path) -> IO[str]:
    """The file opened for appending, after ending a cut-short last line."""
    path.parent.mkdir(parents=True, exist_ok=True)
    journal = path.open("a")
    if path.stat().st_size and not path.read_bytes().endswith(b"\n"):
        journal.write("\n")
    return journal


# ---- results --------------------------------------------------------------------------------
class SweepResult:
    """A sweep's records: `{"config", "seed", "fold", "metrics", "error"}` in task order."""

    def __init__(self, records: list[Record]) -> None:
        self.records = records

    def __repr__(self) -> str:
        failed = sum(record["error"] is not None for record in self.records)
        return f"SweepResult({len(self.records)} records, {failed} failed)"

    def _summary(self, metric: str) -> list[tuple[dict[str, Any], list[float], int]]:
        """(config, the metric's values over seeds and folds, failed runs) per config."""
        if not any(metric in record["metrics"] for record in self.records):
            names = sorted({name for record in self.records for name in record["metrics"]})
            raise ValueError(f"SweepResult: no record has metric {metric!r}; metrics: {names}")
        groups: dict[str, tuple[dict[str, Any], list[float], list[bool]]] = {}
        for record in self.records:
            _, values, failures = groups.setdefault(
                json.dumps(record["config"], sort_keys=True), (record["config"], [], [])
            )
            ok = record["error"] is None and metric in record["metrics"]
            if ok:
                values.append(record["metrics"][metric])
            failures.append(not ok)
        return [(config, values, sum(failures)) for config, values, failures in groups.values()]

    def table(self, metric: str) -> str:
        """One row per config: the metric's mean and std (ddof=0) over seeds and folds."""
        summary = self._summary(metric)
        keys = list(dict.fromkeys(key for config, _, _ in summary for key in config))
        header = [*keys, f"{metric} mean", "std", "runs", "failed"]
        rows = [
            [
                *(_cell(config.get(key, "-")) for key in keys),
                f"{np.mean(values):.3f}" if values else "-",
                f"{np.std(values):.3f}" if values else "-",
                str(len(values)),
                str(failed),
            ]
            for config, values, failed in summary
        ]
        widths = [max(len(row[column]) for row in [header, *rows]) for column in range(len(header))]
        lines = []
        for row in [header, *rows]:
            cells = [
                cell.ljust(width) if column < len(keys) else cell.rjust(width)
                for column, (cell, width) in enumerate(zip(row, widths, strict=True))
            ]
            lines.append("  ".join(cells).rstrip())
        return "\n".join(lines)

    def best(self, metric: str, mode: str = "max") -> dict[str, Any]:
        """The config with the best mean of `metric` ("max" or "min"); the first on a tie."""
        if mode not in ("max", "min"):
            raise ValueError(f"SweepResult.best: mode must be 'max' or 'min', got {mode!r}")
        summary = self._summary(metric)
        scored = [(np.mean(values), config) for config, values, _ in summary if values]
        if not scored:
            raise ValueError(f"SweepResult.best: every run failed, none has metric {metric!r}")
        pick = max if mode == "max" else min
        return dict(pick(scored, key=lambda pair: pair[0])[1])

    def to_csv(self, path: str | os.PathLike[str]) -> None:
        """One row per record: its config keys, seed, fold, metrics and error."""
        keys = list(dict.fromkeys(key for record in self.records for key in record["config"]))
        metrics = list(dict.fromkeys(name for record in self.records for name in record["metrics"]))
        with open(path, "w", newline="") as file:
            writer = csv.writer(file)
            writer.writerow([*keys, "seed", "fold", *metrics, "error"])
            for record in self.records:
                writer.writerow(
                    [
                        *(record["config"].get(key, "") for key in keys),
                        record["seed"],
                        "" if record["fold"] is None else record["fold"],
                        *(record["metrics"].get(name, "") for name in metrics),
                        record["error"] or "",
                    ]
                )

    def plot(self, metric: str, path: str | os.PathLike[str] | None = None) -> Any:
        """The metric's mean per config with std error bars (matplotlib); saved to `path`.

        Returns the matplotlib Figure. Configs are labelled by the keys that vary.
        """
        from tinygrad_nnfs import plot  # matplotlib, the optional extra `plot`

        summary = [(config, values) for config, values, _ in self._summary(metric) if values]
        if not summary:
            raise ValueError(f"SweepResult.plot: every run failed, none has metric {metric!r}")
        configs = [config for config, _ in summary]
        varying = [key for key in configs[0] if len({_cell(c.get(key)) for c in configs}) > 1]
        labels = ["\n".join(f"{k}={_cell(c.get(k))}" for k in varying or c) for c in configs]
        figure = plot._figure((max(4.0, 1.1 * len(summary) + 1.5), 4.0))
        axes = figure.subplots()
        positions = np.arange(len(summary))
        means = [np.mean(values) for _, values in summary]
        stds = [np.std(values) for _, values in summary]
        axes.errorbar(positions, means, yerr=stds, fmt="o", capsize=4)
        axes.set_xticks(positions, labels, fontsize="small")
        runs = "/".join(str(n) for n in sorted({len(values) for _, values in summary}))
        axes.set(title=f"{metric}: mean and std over {runs} runs per config", ylabel=metric)
        axes.grid(axis="y", alpha=0.3)
        return plot._finish(figure, path)


def _cell(value: Any) -> str:
    """A config value as the table and the plot show it (floats in %g)."""
    return f"{value:g}" if isinstance(value, float) else str(value)


# ---- the book's experiment ----------------------------------------------------------------------
def book_experiment(
    config: Mapping[str, Any], seed: int, fold: tuple[int, int] | None
) -> dict[str, float]:
    """The book's spiral classifier (2-hidden-3, ReLU, softmax cross-entropy) trained by `fit`.

    Config keys (BOOK_DEFAULTS): optimizer ("sgd" "adagrad" "rmsprop" "adam"),
    learning_rate, decay, momentum (SGD's; None: the book's ch. 10 setting for the
    optimizer), l2 (on the hidden layer's weights and biases), hidden, dropout (after the
    hidden layer's ReLU), epochs, samples (per class, 3 classes). The data, the initial
    weights and the dropout masks come from streams of `seed` alone, so every config of a
    seed starts from the same data and weights, as the book's comparisons do. Metrics:
    loss and acc of the last epoch (the book's log line), val_loss and val_acc on fold i
    of `datasets.kfold(n, k, rng=seed)` for fold (k, i), else on a fresh spiral set.
    """
    unknown = sorted(set(config) - set(BOOK_DEFAULTS))
    if unknown:
        raise ValueError(
            f"book_experiment: unknown config keys {unknown}; the keys are {list(BOOK_DEFAULTS)}"
        )
    config = BOOK_DEFAULTS | dict(config)
    if config["optimizer"] not in OPTIMIZERS:
        raise ValueError(
            f"book_experiment: optimizer must be one of {list(OPTIMIZERS)}, got "
            f"{config['optimizer']!r}"
        )
    optimizer_class, book_settings = OPTIMIZERS[config["optimizer"]]
    options = dict(book_settings)
    for name in ("learning_rate", "decay", "momentum"):
        if config[name] is not None:
            if name not in options:
                raise ValueError(
                    f"book_experiment: {name} is SGD's setting; {config['optimizer']} has none"
                )
            options[name] = config[name]
    epochs, samples, hidden, l2 = (config[key] for key in ("epochs", "samples", "hidden", "l2"))
    data, fresh, weights, masks = map(np.random.default_rng, np.random.SeedSequence(seed).spawn(4))
    X, y = datasets.spiral_data(samples, 3, rng=data)
    if fold is None:
        X_val, y_val = datasets.spiral_data(samples, 3, rng=fresh)
    else:
        k, index = fold
        fit_idx, val_idx = list(datasets.kfold(len(X), k, rng=seed))[index]
        X, y, X_val, y_val = X[fit_idx], y[fit_idx], X[val_idx], y[val_idx]
    layers: list[nn.Module] = [
        nn.Dense(2, hidden, weight_regularizer_l2=l2, bias_regularizer_l2=l2, rng=weights),
        nn.ReLU(),
    ]
    if config["dropout"]:
        layers.append(nn.Dropout(config["dropout"], rng=masks))
    layers.append(nn.Dense(hidden, 3, rng=weights))
    model = nn.Sequential(*layers)
    loss_fn = nn.SoftmaxCrossEntropy()
    optimizer = optimizer_class(model.parameters(), **options)
    history = fit(
        model, loss_fn, optimizer, X, y, epochs=epochs, print_every=0, progress=False, log=_silent
    )
    if len(history["epoch"]) < epochs:
        raise KeyboardInterrupt  # fit stopped early at Ctrl-C: a cut-short run is no result
    val_loss, val_acc = evaluate(model, loss_fn, X_val, y_val)
    return {
        "loss": history["loss"][-1],
        "acc": history["acc"][-1],
        "val_loss": val_loss,
        "val_acc": val_acc,
    }
