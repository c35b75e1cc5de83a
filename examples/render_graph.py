"""Draw the graph of one forward and backward pass of a tiny network; writes docs/graph.svg.

Run `python examples/render_graph.py`. In Jupyter, `loss.draw()` alone shows the same picture.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tinygrad_nnfs import Tensor, draw_graph

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "graph.svg"


def parameter(array: np.ndarray, name: str) -> Tensor:
    """A float32 leaf that requires grad, named as the layer attribute it stands for."""
    return Tensor(array, requires_grad=True, dtype=np.float32, name=name)


def main() -> None:
    """Two Dense-like layers with ReLU between them and a mean squared error, after backward."""
    rng = np.random.RandomState(0)
    inputs = Tensor(rng.randn(4, 2), dtype=np.float32, name="inputs")
    targets = Tensor(rng.randn(4, 1), dtype=np.float32, name="targets")
    # The book's initialisation: small random weights, zero biases.
    weights1 = parameter(0.01 * rng.randn(2, 3), "dense1.weights")
    biases1 = parameter(np.zeros((1, 3)), "dense1.biases")
    weights2 = parameter(0.01 * rng.randn(3, 1), "dense2.weights")
    biases2 = parameter(np.zeros((1, 1)), "dense2.biases")

    hidden = (inputs @ weights1 + biases1).relu()
    outputs = hidden @ weights2 + biases2
    loss = ((outputs - targets) ** 2).mean()
    loss.name = "loss"
    loss.backward()

    graph = draw_graph(loss, rankdir="TB")  # top to bottom: narrow enough for a README
    OUTPUT.write_text(graph.pipe(format="svg", encoding="utf-8"), encoding="utf-8")
    print(f"wrote {OUTPUT}")


if __name__ == "__main__":
    main()
