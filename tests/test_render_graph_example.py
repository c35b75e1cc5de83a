"""examples/render_graph.py: the picture in the README is a real network's training step."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "render_graph.py"


def test_render_graph_example_draws_named_layers_and_loss(tmp_path, capsys):
    spec = importlib.util.spec_from_file_location("render_graph_example", EXAMPLE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    output = tmp_path / "graph.svg"
    module.main(output)
    assert f"wrote {output}" in capsys.readouterr().out
    svg = output.read_text()
    assert svg.startswith("<?xml")
    titles = re.findall(r'font-weight="bold"[^>]*>([^<]+)<', svg)
    for name in ["X", "dense1.weights", "dense1.biases", "dense2.weights", "dense2.biases"]:
        assert name in titles
    assert titles.count("softmax_xent") == 1 and "(6, 3) float32" in svg
