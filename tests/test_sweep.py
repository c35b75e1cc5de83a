"""sweep: grids, the same bits on every backend, faults, resuming, results; and the CLI."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tinygrad_nnfs import datasets, manual_seed, nn, sweep
from tinygrad_nnfs.__main__ import main
from tinygrad_nnfs.tensor import set_default_dtype

distributed = pytest.importorskip("dask.distributed")
pytest.importorskip("joblib")

# The book's spiral experiment, small enough for a test: 20 epochs on 3 x 20 points.
TINY = {"epochs": 20, "samples": 20}
CONFIGS = sweep.grid(
    optimizer=["sgd", "adam"], dropout=[0.0, 0.2], **{k: [v] for k, v in TINY.items()}
)


@pytest.fixture(scope="module")
def dask_client():
    """A real Dask cluster of two worker processes, one thread each, for this module."""
    with (
        distributed.LocalCluster(
            n_workers=2, processes=True, threads_per_worker=1, dashboard_address=":0"
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        yield client


def library_streams(config, seed, fold):
    """An experiment that leaves rng= out: the library stream and NumPy's global one."""
    layer = nn.Dense(2, 3)
    return {"weight": float(layer.weights.data[0, 0]), "noise": float(np.random.rand())}


def faulty(config, seed, fold):
    """Raises, diverges, returns junk or succeeds, as its config says."""
    if config["fault"] == "raise":
        raise ValueError(f"bad seed {seed}")
    if config["fault"] == "diverge":
        return {"loss": float("inf"), "acc": 0.5}
    if config["fault"] == "nan":
        return {"loss": 0.5, "acc": np.float32("nan")}
    if config["fault"] == "junk":
        return [1, 2]
    return {"loss": 0.25 + seed, "acc": 0.5}


def dies_once(config, seed, fold):
    """SIGKILLs its own process the first time it runs (a marker file remembers), then works."""
    marker = Path(config["marker"])
    if config["dies"] and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    time.sleep(0.2)  # long enough to be in flight beside the task that dies
    return {"seed": float(seed)}


def always_dies(config, seed, fold):
    """Kills its process every time when config["dies"], else returns quickly."""
    if config["dies"]:
        os.kill(os.getpid(), signal.SIGKILL)
    return {"seed": float(seed)}


def fold_of(config, seed, fold):
    """The validation fold's first index, from datasets.kfold as the contract says."""
    k, index = fold
    _, val_idx = list(datasets.kfold(12, k, rng=seed))[index]
    return {"k": k, "index": index, "first": int(val_idx[0])}


# ---- grid ------------------------------------------------------------------------------------
def test_grid_varies_the_last_axis_fastest():
    assert sweep.grid(a=[1, 2], b=["x", "y", "z"]) == [
        {"a": 1, "b": "x"},
        {"a": 1, "b": "y"},
        {"a": 1, "b": "z"},
        {"a": 2, "b": "x"},
        {"a": 2, "b": "y"},
        {"a": 2, "b": "z"},
    ]
    assert sweep.grid() == [{}]
    assert sweep.grid(lr=np.array([0.1, 0.2]))[1] == {"lr": 0.2}


def test_grid_rejects_an_empty_axis_by_name():
    with pytest.raises(ValueError, match="axis 'l2' has no values"):
        sweep.grid(optimizer=["sgd"], l2=[])
    with pytest.raises(TypeError, match=r"optimizer=\['adam'\]"):
        sweep.grid(optimizer="adam")


# ---- the same bits everywhere ------------------------------------------------------------------
def test_run_records_are_identical_on_every_backend(dask_client):
    runs = {
        "sequential": sweep.run(
            sweep.book_experiment, CONFIGS, seeds=(0, 1), backend="sequential", progress=False
        ),
        "loky n_jobs=2": sweep.run(
            sweep.book_experiment, CONFIGS, seeds=(0, 1), backend="loky", n_jobs=2, progress=False
        ),
        "loky n_jobs=1": sweep.run(
            sweep.book_experiment, CONFIGS, seeds=(0, 1), backend="loky", n_jobs=1, progress=False
        ),
        "dask": sweep.run(
            sweep.book_experiment,
            CONFIGS,
            seeds=(0, 1),
            backend="dask",
            client=dask_client,
            progress=False,
        ),
    }
    reference = runs.pop("sequential").records
    assert len(reference) == 8 and all(record["error"] is None for record in reference)
    assert [(r["config"]["optimizer"], r["seed"]) for r in reference[:4]] == [
        ("sgd", 0),
        ("sgd", 1),
        ("sgd", 0),
        ("sgd", 1),
    ]
    for name, result in runs.items():
        assert result.records == reference, name
    # dropout draws its masks from the task's stream: it changes the result
    assert reference[0]["metrics"] != reference[2]["metrics"]


def test_run_kfold_records_are_identical_on_every_backend(dask_client):
    configs = sweep.grid(optimizer=["rmsprop"], l2=[0.0, 5e-4], epochs=[20], samples=[20])
    options = {"seeds": (3,), "folds": 3, "progress": False}
    sequential = sweep.run(sweep.book_experiment, configs, backend="sequential", **options)
    loky = sweep.run(sweep.book_experiment, configs, backend="loky", n_jobs=2, **options)
    dask = sweep.run(sweep.book_experiment, configs, backend="dask", client=dask_client, **options)
    assert [record["fold"] for record in sequential.records] == [0, 1, 2, 0, 1, 2]
    assert loky.records == sequential.records
    assert dask.records == sequential.records


def test_run_gives_experiments_the_contracts_folds():
    result = sweep.run(fold_of, [{}], seeds=(0, 5), folds=4, backend="sequential", progress=False)
    for record in result.records:
        _, val_idx = list(datasets.kfold(12, 4, rng=record["seed"]))[record["fold"]]
        assert record["metrics"] == {"k": 4, "index": record["fold"], "first": val_idx[0]}


def test_run_starts_a_local_dask_cluster_for_the_run():
    configs = sweep.grid(samples=[10], epochs=[5], hidden=[4, 8])
    sequential = sweep.run(sweep.book_experiment, configs, backend="sequential", progress=False)
    dask = sweep.run(sweep.book_experiment, configs, backend="dask", n_jobs=2, progress=False)
    assert dask.records == sequential.records


def test_run_ignores_the_callers_random_state_and_leaves_it_alone():
    configs = sweep.grid(index=[0, 1, 2])
    results, after = [], []
    for seed in (1, 2):
        manual_seed(seed)
        np.random.seed(seed)
        results.append(sweep.run(library_streams, configs, backend="sequential", progress=False))
        after.append((nn.Dense(1, 1).weights.item(), np.random.rand()))
    assert results[0].records == results[1].records
    weights = [record["metrics"]["weight"] for record in results[0].records]
    assert len(set(weights)) == 3  # each task has its own stream
    for seed, drawn in zip((1, 2), after, strict=True):
        manual_seed(seed)
        np.random.seed(seed)
        assert drawn == (nn.Dense(1, 1).weights.item(), np.random.rand())


def test_run_seeds_the_library_stream_alike_on_every_backend(dask_client):
    configs = sweep.grid(index=[0, 1, 2, 3])
    sequential = sweep.run(library_streams, configs, backend="sequential", progress=False)
    loky = sweep.run(library_streams, configs, backend="loky", n_jobs=2, progress=False)
    dask = sweep.run(library_streams, configs, backend="dask", client=dask_client, progress=False)
    assert loky.records == sequential.records == dask.records


def test_run_uses_the_callers_library_settings():
    configs = sweep.grid(optimizer=["adam"], epochs=[20], samples=[20])
    float32 = sweep.run(sweep.book_experiment, configs, backend="sequential", progress=False)
    set_default_dtype(np.float64)  # conftest puts float32 back
    sequential = sweep.run(sweep.book_experiment, configs, backend="sequential", progress=False)
    loky = sweep.run(sweep.book_experiment, configs, backend="loky", n_jobs=2, progress=False)
    assert loky.records == sequential.records
    assert sequential.records != float32.records


# ---- book_experiment ---------------------------------------------------------------------------
def test_book_experiment_defaults_are_the_books_ch10_adam():
    defaults = sweep.book_experiment(TINY, 0, None)
    spelled_out = sweep.book_experiment(
        {"optimizer": "adam", "learning_rate": 0.05, "decay": 5e-7, **TINY}, 0, None
    )
    assert defaults == spelled_out
    assert list(defaults) == ["loss", "acc", "val_loss", "val_acc"]
    other_rate = sweep.book_experiment({"learning_rate": 0.02, **TINY}, 0, None)
    assert other_rate != defaults


def test_book_experiment_rejects_unknown_keys_and_misplaced_momentum():
    with pytest.raises(ValueError, match=r"unknown config keys \['lr'\]"):
        sweep.book_experiment({"lr": 0.1}, 0, None)
    with pytest.raises(ValueError, match="momentum is SGD's setting"):
        sweep.book_experiment({"optimizer": "adam", "momentum": 0.5, **TINY}, 0, None)
    with pytest.raises(ValueError, match="optimizer must be one of"):
        sweep.book_experiment({"optimizer": "lbfgs"}, 0, None)


# ---- faults ----------------------------------------------------------------------------------
@pytest.mark.parametrize("backend", ["sequential", "loky"])
def test_run_records_raising_and_diverging_tasks_while_others_finish(backend):
    configs = sweep.grid(fault=["none", "raise", "diverge", "nan", "junk", "also none"])
    result = sweep.run(faulty, configs, seeds=(0, 1), backend=backend, n_jobs=2, progress=False)
    errors = {(r["config"]["fault"], r["seed"]): r["error"] for r in result.records}
    assert errors == {
        ("none", 0): None,
        ("none", 1): None,
        ("raise", 0): "ValueError: bad seed 0",
        ("raise", 1): "ValueError: bad seed 1",
        ("diverge", 0): "diverged: loss is inf",
        ("diverge", 1): "diverged: loss is inf",
        ("nan", 0): "diverged: acc is nan",
        ("nan", 1): "diverged: acc is nan",
        ("junk", 0): "TypeError: the experiment returned list, not a dict of metrics",
        ("junk", 1): "TypeError: the experiment returned list, not a dict of metrics",
        ("also none", 0): None,
        ("also none", 1): None,
    }
    assert result.records[-1]["metrics"] == {"loss": 1.25, "acc": 0.5}
    assert "0.750" in result.table("loss")  # the two good configs' mean; failures left out


@pytest.mark.parametrize("backend", ["loky", "dask"])
def test_run_reruns_a_task_whose_worker_dies(backend, tmp_path, request):
    client = request.getfixturevalue("dask_client") if backend == "dask" else None
    marker = str(tmp_path / "died")
    configs = [{"index": index, "dies": index == 1, "marker": marker} for index in range(3)]
    result = sweep.run(
        dies_once, configs, seeds=(0, 1), backend=backend, n_jobs=2, client=client, progress=False
    )
    assert (tmp_path / "died").exists()  # the worker really died once
    assert [record["error"] for record in result.records] == [None] * 6
    assert [record["metrics"]["seed"] for record in result.records] == [0, 1] * 3


def test_run_fails_a_task_that_always_kills_its_worker_after_three_reruns():
    configs = [{"index": index, "dies": index == 1} for index in range(3)]
    result = sweep.run(always_dies, configs, backend="loky", n_jobs=2, progress=False)
    errors = [record["error"] for record in result.records]
    assert errors[0] is None and errors[2] is None
    assert errors[1].startswith("TerminatedWorkerError: the worker running this task died 4 times")


def test_run_returns_the_finished_records_on_ctrl_c(tmp_path):
    calls = []

    def interrupted_third(config, seed, fold):
        calls.append(config["index"])
        if config["index"] == 2:
            raise KeyboardInterrupt
        return {"index": float(config["index"])}

    out = tmp_path / "sweep.jsonl"
    result = sweep.run(
        interrupted_third, sweep.grid(index=range(5)), backend="sequential", out=out, progress=False
    )
    assert [record["config"]["index"] for record in result.records] == [0, 1]
    assert calls == [0, 1, 2]
    assert len(out.read_text().splitlines()) == 2


# ---- out= ------------------------------------------------------------------------------------
def test_run_out_resumes_after_a_crash_cut_the_last_line(tmp_path):
    out = tmp_path / "runs" / "sweep.jsonl"
    configs = sweep.grid(fault=["none", "raise", "diverge"])
    full = sweep.run(faulty, configs, seeds=(0, 1), backend="sequential", out=out, progress=False)
    lines = out.read_text().splitlines()
    assert [json.loads(line) for line in lines] == full.records
    out.write_text("\n".join(lines[:4]) + "\n" + lines[4][: len(lines[4]) // 2])  # a cut line

    calls = []

    def counted(config, seed, fold):
        calls.append((config["fault"], seed))
        return faulty(config, seed, fold)

    resumed = sweep.run(
        counted, configs, seeds=(0, 1), backend="sequential", out=out, progress=False
    )
    assert calls == [("diverge", 0), ("diverge", 1)]  # the cut task and the one never written
    assert resumed.records == full.records
    again = sweep.run(counted, configs, seeds=(0, 1), backend="sequential", out=out, progress=False)
    assert again.records == full.records and len(calls) == 2  # nothing left to run
    assert len(out.read_text().splitlines()) == 7  # the cut line stays, on its own line


def test_run_out_resumes_on_loky_with_the_same_records(tmp_path):
    out = tmp_path / "sweep.jsonl"
    configs = sweep.grid(index=[0, 1, 2, 3])
    first = sweep.run(
        library_streams, configs[:2], backend="loky", n_jobs=2, out=out, progress=False
    )
    both = sweep.run(library_streams, configs, backend="loky", n_jobs=2, out=out, progress=False)
    assert both.records[:2] == first.records
    sequential = sweep.run(library_streams, configs, backend="sequential", progress=False)
    assert both.records == sequential.records


# ---- arguments -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("options", "error", "match"),
    [
        ({"backend": "threads"}, ValueError, "backend must be one of"),
        ({"folds": 1}, ValueError, "folds must be >= 2"),
        ({"seeds": 3}, TypeError, r"seeds must be a list of ints such as range\(3\)"),
        ({"seeds": (1, 1)}, ValueError, "seeds must be distinct"),
        ({"n_jobs": 0}, ValueError, "n_jobs must be a positive int, or -1"),
        ({"client": object()}, ValueError, "client= is a Dask client, for backend='dask'"),
    ],
)
def test_run_rejects_bad_options(options, error, match):
    with pytest.raises(error, match=match):
        sweep.run(faulty, [{"fault": "none"}], progress=False, **options)


def test_run_rejects_bad_configs():
    with pytest.raises(ValueError, match="appears twice"):
        sweep.run(faulty, [{"fault": "none"}, {"fault": "none"}], progress=False)
    with pytest.raises(TypeError, match="must hold JSON values"):
        sweep.run(faulty, [{"fault": object()}], progress=False)
    with pytest.raises(TypeError, match="must be a function"):
        sweep.run("book", [{}], progress=False)


def test_sweep_import_needs_no_optional_dependency(tmp_path):
    code = (
        "import sys\n"
        "for name in ('joblib', 'dask', 'distributed', 'matplotlib', 'ray'):\n"
        "    sys.modules[name] = None\n"
        "from tinygrad_nnfs import sweep\n"
        "result = sweep.run(sweep.book_experiment, [{'epochs': 2, 'samples': 5}],\n"
        "                   backend='sequential', progress=False)\n"
        "assert result.records[0]['error'] is None\n"
        "for backend, extra in (('loky', 'sweep'), ('dask', 'dask'), ('ray', 'ray')):\n"
        "    try:\n"
        "        sweep.run(sweep.book_experiment, [{}], backend=backend, progress=False)\n"
        "    except ImportError as error:\n"
        "        assert f'pip install \"tinygrad_nnfs[{extra}]\"' in str(error), error\n"
        "    else:\n"
        "        raise AssertionError(backend)\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.stdout.strip() == "ok", done.stderr


# ---- results ---------------------------------------------------------------------------------
def record(config, seed, acc, error=None):
    return {"config": config, "seed": seed, "fold": None, "metrics": {"acc": acc}, "error": error}


RESULT = sweep.SweepResult(
    [
        record({"optimizer": "sgd", "l2": 0.0}, 0, 0.5),
        record({"optimizer": "sgd", "l2": 0.0}, 1, 0.7),
        record({"optimizer": "adam", "l2": 5e-4}, 0, 0.75),
        record({"optimizer": "adam", "l2": 5e-4}, 1, 0.875),
        record({"optimizer": "adam", "l2": 5e-4}, 2, float("nan"), "diverged: acc is nan"),
    ]
)


def test_result_table_shows_mean_and_std_per_config():
    assert RESULT.table("acc").splitlines() == [
        "optimizer  l2      acc mean    std  runs  failed",
        "sgd        0          0.600  0.100     2       0",
        "adam       0.0005     0.812  0.062     2       1",
    ]
    with pytest.raises(ValueError, match=r"no record has metric 'loss'; metrics: \['acc'\]"):
        RESULT.table("loss")


def test_result_best_picks_the_best_mean():
    assert RESULT.best("acc") == {"optimizer": "adam", "l2": 5e-4}
    assert RESULT.best("acc", mode="min") == {"optimizer": "sgd", "l2": 0.0}
    with pytest.raises(ValueError, match="mode must be 'max' or 'min'"):
        RESULT.best("acc", mode="mean")


def test_result_to_csv_writes_one_row_per_record(tmp_path):
    RESULT.to_csv(tmp_path / "sweep.csv")
    with open(tmp_path / "sweep.csv", newline="") as file:
        rows = list(csv.DictReader(file))
    assert list(rows[0]) == ["optimizer", "l2", "seed", "fold", "acc", "error"]
    assert [row["acc"] for row in rows] == ["0.5", "0.7", "0.75", "0.875", "nan"]
    assert rows[4]["error"] == "diverged: acc is nan" and rows[0]["error"] == ""


def test_result_plot_renders_a_png(tmp_path):
    image = pytest.importorskip("matplotlib.image")
    figure = RESULT.plot("acc", tmp_path / "sweep.png")
    pixels = image.imread(tmp_path / "sweep.png")
    assert pixels.shape[0] == 400 and pixels.std() > 0  # 4 inches at 100 dpi, not blank
    labels = [label.get_text() for label in figure.axes[0].get_xticklabels()]
    assert labels == ["optimizer=sgd\nl2=0", "optimizer=adam\nl2=0.0005"]


def test_run_progress_bar_counts_tasks(capsys):
    sweep.run(faulty, sweep.grid(fault=["none"]), seeds=(0, 1, 2), backend="sequential")
    assert "3/3" in capsys.readouterr().err


# ---- python -m tinygrad_nnfs sweep -------------------------------------------------------------
CLI_TINY = ["--epochs", "20", "--samples", "20", "--no-progress"]


def test_cli_sweep_prints_the_table_and_writes_csv_plot_and_out(tmp_path, capsys):
    paths = {name: tmp_path / f"sweep.{name}" for name in ("csv", "png", "jsonl")}
    main(
        [
            "sweep",
            "--optimizer",
            "sgd",
            "adam",
            "--l2",
            "0",
            "5e-4",
            "--seeds",
            "2",
            "--backend",
            "sequential",
            "--csv",
            str(paths["csv"]),
            "--plot",
            str(paths["png"]),
            "--out",
            str(paths["jsonl"]),
            *CLI_TINY,
        ]
    )
    printed = capsys.readouterr().out
    configs = sweep.grid(optimizer=["sgd", "adam"], l2=[0.0, 5e-4], epochs=[20], samples=[20])
    expected = sweep.run(sweep.book_experiment, configs, seeds=range(2), progress=False)
    assert expected.table("val_acc") in printed
    assert f"best val_acc: {expected.best('val_acc')}" in printed
    assert [json.loads(line) for line in paths["jsonl"].read_text().splitlines()] == (
        expected.records
    )
    assert len(paths["csv"].read_text().splitlines()) == 9
    assert paths["png"].read_bytes().startswith(b"\x89PNG")


def test_cli_sweep_folds_and_metric(capsys):
    main(["sweep", "--hidden", "4", "8", "--folds", "2", "--metric", "val_loss", *CLI_TINY])
    printed = capsys.readouterr().out
    configs = sweep.grid(hidden=[4, 8], epochs=[20], samples=[20])
    expected = sweep.run(sweep.book_experiment, configs, folds=2, progress=False)
    assert expected.table("val_loss") in printed
    assert f"best val_loss: {expected.best('val_loss', mode='min')}" in printed


def test_cli_sweep_on_a_dask_scheduler(dask_client, capsys):
    address = dask_client.scheduler.address
    main(["sweep", "--optimizer", "rmsprop", "--scheduler", address, *CLI_TINY])
    printed = capsys.readouterr().out
    configs = sweep.grid(optimizer=["rmsprop"], epochs=[20], samples=[20])
    expected = sweep.run(sweep.book_experiment, configs, backend="sequential", progress=False)
    assert expected.table("val_acc") in printed
    assert "on dask" in printed


def test_cli_sweep_rejects_a_scheduler_with_another_backend():
    with pytest.raises(SystemExit):
        main(["sweep", "--scheduler", "tcp://127.0.0.1:1", "--backend", "loky"])


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [("--folds", "1", "--folds must be at least 2"), ("--n-jobs", "0", "--n-jobs must be")],
)
def test_cli_sweep_rejects_bad_counts_with_a_usage_error(option, value, message, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["sweep", option, value, "--epochs", "2"])
    assert exit_info.value.code == 2  # argparse's usage error, not a traceback
    assert message in capsys.readouterr().err
