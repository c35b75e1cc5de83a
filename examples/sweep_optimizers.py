"""Chapter 10 as one sweep: the book's four optimizers over several seeds, in parallel.

sweep.book_experiment trains the book's 2-64-3 spiral network with each optimizer at the
book's chapter 10 settings (SGD with momentum, Adagrad, RMSprop, Adam); sweep.run spreads
the runs over joblib's worker processes, one per core, and the table gives each optimizer's
mean and std over the seeds of the accuracy on a fresh spiral set. The same sweep from the
command line: `python -m tinygrad_nnfs sweep --optimizer sgd adagrad rmsprop adam
--epochs 10001 --seeds 3`. Run `python examples/sweep_optimizers.py` (needs joblib:
`pip install "tinygrad_nnfs[sweep]"`).
"""

from __future__ import annotations

from tinygrad_nnfs import sweep


def main(*, epochs: int = 10001, samples: int = 100, seeds: int = 3, backend: str = "loky") -> None:
    """Print each optimizer's validation accuracy (mean and std over seeds) and the best."""
    configs = sweep.grid(optimizer=list(sweep.OPTIMIZERS), epochs=[epochs], samples=[samples])
    result = sweep.run(sweep.book_experiment, configs, seeds=range(seeds), backend=backend)
    print(f"{len(result.records)} runs: spiral_data({samples}, 3), {epochs} epochs each")
    print(result.table("val_acc"))
    print(f"best: {result.best('val_acc')}")


if __name__ == "__main__":
    main()
