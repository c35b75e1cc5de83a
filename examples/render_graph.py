"""Draw the graph of one training step of a tiny spiral network; writes docs/graph.svg.

The book's network in miniature (Dense, ReLU, Dense, softmax cross-entropy) on 6 spiral
samples, after backward(), so every box shows its gradient. The layers name their
parameters after their attributes (dense1.weights) and the loss names itself softmax_xent.
Run `python examples/render_graph.py`. In Jupyter, `loss.draw()` alone shows the same picture.
"""

from __future__ import annotations

from pathlib import Path

from tinygrad_nnfs import Tensor, datasets, draw_graph, manual_seed, nn

OUTPUT = Path(__file__).resolve().parent.parent / "docs" / "graph.svg"


class SpiralNet(nn.Module):
    """Dense(2, 3) -> ReLU -> Dense(3, 3): the book's 2-64-3 network, narrowed to fit a page."""

    def __init__(self) -> None:
        self.dense1 = nn.Dense(2, 3)
        self.activation1 = nn.ReLU()
        self.dense2 = nn.Dense(3, 3)

    def forward(self, inputs: Tensor) -> Tensor:
        return self.dense2(self.activation1(self.dense1(inputs)))


def main(output: Path = OUTPUT) -> None:
    """One forward and backward pass on spiral_data(2, 3), rendered top to bottom as svg."""
    manual_seed(0)
    X, y = datasets.spiral_data(samples=2, classes=3)  # 6 samples, 2 per class
    model = SpiralNet()
    loss = nn.SoftmaxCrossEntropy()(model(Tensor(X, name="X")), y)
    loss.backward()
    graph = draw_graph(loss, rankdir="TB")  # top to bottom: narrow enough for a README
    output.write_text(graph.pipe(format="svg", encoding="utf-8"), encoding="utf-8")
    print(f"wrote {output}")


if __name__ == "__main__":
    main()
