"""draw_graph: real svg files rendered by Graphviz's dot, checked node by node."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import numpy as np
import pytest

from tinygrad_nnfs import Tensor, draw_graph
from tinygrad_nnfs.graph import GraphDiagram, GraphvizNotFoundError

SVG = "{http://www.w3.org/2000/svg}"


def _svg_nodes(graph: graphviz.Digraph, directory: Path) -> dict[str, str]:
    """Render with the real dot program; map each node's id (t3, op3, more) to its text."""
    path = graph.render(directory / "graph", format="svg")
    nodes = {}
    for group in ET.parse(path).getroot().iter(f"{SVG}g"):
        if group.get("class") == "node":
            title = group.find(f"{SVG}title").text
            nodes[title] = " ".join(text.text or "" for text in group.iter(f"{SVG}text"))
    return nodes


def _svg_edges(path: str) -> list[str]:
    """The 'tail->head' title of every edge in a rendered svg."""
    groups = ET.parse(path).getroot().iter(f"{SVG}g")
    return [g.find(f"{SVG}title").text for g in groups if g.get("class") == "edge"]


def _tensor_nodes(nodes: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in nodes.items() if re.fullmatch(r"t\d+", k)}


def _op_nodes(nodes: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in nodes.items() if re.fullmatch(r"op\d+", k)}


def _node_named(nodes: dict[str, str], name: str) -> str:
    """The text of the one tensor node whose title line is `name`."""
    (text,) = [v for v in _tensor_nodes(nodes).values() if v.split(" (")[0] == name]
    return text


def _two_layer() -> tuple[Tensor, dict[str, Tensor]]:
    """relu(x @ w + b) @ w2 + b2, summed: 5 leaves and 6 ops."""
    rng = np.random.RandomState(0)
    x = Tensor(rng.randn(4, 2), dtype=np.float32, name="x")
    w = Tensor(rng.randn(2, 3), requires_grad=True, dtype=np.float32, name="w")
    b = Tensor(np.zeros((1, 3)), requires_grad=True, dtype=np.float32, name="b")
    w2 = Tensor(rng.randn(3, 1), requires_grad=True, dtype=np.float32, name="w2")
    b2 = Tensor([[0.5]], requires_grad=True, name="b2")
    loss = ((x @ w + b).relu() @ w2 + b2).sum()
    loss.name = "loss"
    return loss, {"x": x, "w": w, "b": b, "w2": w2, "b2": b2}


def _chain(n_ops: int) -> Tensor:
    x = Tensor([1.0], requires_grad=True, name="x")
    out = x
    for _ in range(n_ops):
        out = out + 1.0
    out.name = "out"
    return out


def test_draw_graph_one_node_per_tensor_and_per_op(tmp_path):
    loss, _ = _two_layer()
    nodes = _svg_nodes(draw_graph(loss), tmp_path)
    assert len(_tensor_nodes(nodes)) == 11
    assert sorted(_op_nodes(nodes).values()) == ["Add", "Add", "MatMul", "MatMul", "ReLU", "Sum"]
    assert len(nodes) == 17
    assert "(4, 2) float32" in _node_named(nodes, "x")
    assert "(2, 3) float32" in _node_named(nodes, "w")
    assert "() float32" in _node_named(nodes, "loss")
    assert "(4, 3) float32" in _node_named(nodes, "ReLU")  # unnamed tensors take their op's name


def test_draw_graph_edges_run_input_to_op_to_output(tmp_path):
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    b = Tensor([3.0, 4.0], name="b")
    out = a * b
    path = draw_graph(out).render(tmp_path / "graph", format="svg")
    assert sorted(_svg_edges(path)) == ["op0->t0", "t1->op0", "t2->op0"]


def test_draw_graph_grad_shown_after_backward_only(tmp_path):
    loss, leaves = _two_layer()
    before = _svg_nodes(draw_graph(loss), tmp_path)
    assert not any("grad" in text for text in before.values())
    loss.backward()
    after = _tensor_nodes(_svg_nodes(draw_graph(loss), tmp_path))
    assert sum("grad" in text for text in after.values()) == 10  # all but the input x
    assert "grad" not in _node_named(after, "x")
    assert "grad 1" in _node_named(after, "loss")
    assert "grad [[4]]" in _node_named(after, "b2")  # d(sum)/d(b2) sums over the 4 rows
    w2 = leaves["w2"].numpy()  # relu's output (4, 3) gets w2.T in every row
    stats = f"grad mean {w2.mean():.4g} min {w2.min():.4g} max {w2.max():.4g}"
    assert stats in _node_named(after, "ReLU")


def test_draw_graph_summarizes_tiny_arrays_by_value_and_others_by_stats(tmp_path):
    tiny = Tensor([1.23456, -2.0, 1e-5], requires_grad=True, name="tiny")
    big = Tensor(np.arange(10.0), name="big")
    nodes = _svg_nodes(draw_graph(tiny.sum() + big), tmp_path)
    assert "data [1.235, -2, 1e-05]" in _node_named(nodes, "tiny")
    assert "data mean 4.5 min 0 max 9" in _node_named(nodes, "big")
    matrix = Tensor([[1.0, 2.0], [3.0, 4.0]], name="m")
    assert "data [[1, 2], [3, 4]]" in _node_named(_svg_nodes(draw_graph(matrix), tmp_path), "m")


def test_draw_graph_show_flags_remove_summaries(tmp_path):
    loss, _ = _two_layer()
    loss.backward()
    no_data = _svg_nodes(draw_graph(loss, show_data=False), tmp_path)
    assert not any("data" in text for text in no_data.values())
    assert any("grad" in text for text in no_data.values())
    no_grad = _svg_nodes(draw_graph(loss, show_grad=False), tmp_path)
    assert not any("grad" in text for text in no_grad.values())
    assert any("data" in text for text in no_grad.values())


def test_draw_graph_rankdir_reaches_the_source():
    loss, _ = _two_layer()
    assert "rankdir=LR" in draw_graph(loss).source
    assert "rankdir=TB" in draw_graph(loss, rankdir="TB").source


def test_draw_graph_collapses_beyond_max_nodes(tmp_path):
    out = _chain(500)  # 501 tensors
    graph = draw_graph(out, max_nodes=40)
    nodes = _svg_nodes(graph, tmp_path)
    assert len(_tensor_nodes(nodes)) == 40
    assert len(_op_nodes(nodes)) == 40
    assert nodes["more"] == "... 461 more nodes"
    assert _node_named(nodes, "out") == nodes["t0"]  # the nodes kept are those nearest the output
    assert "x" not in [text.split(" (")[0] for text in nodes.values()]
    edges = _svg_edges(str(tmp_path / "graph.svg"))
    assert [e for e in edges if e.startswith("more")] == ["more->op39"]


def test_draw_graph_keeps_the_tensors_nearest_the_output(tmp_path):
    near = Tensor([2.0], requires_grad=True, name="near")
    nodes = _svg_nodes(draw_graph(_chain(100) + near, max_nodes=3), tmp_path)
    assert sorted(text.split(" (")[0] for text in _tensor_nodes(nodes).values()) == [
        "Add",
        "near",
        "out",
    ]
    assert nodes["more"] == "... 100 more nodes"


def test_draw_graph_links_the_collapsed_node_once_per_op(tmp_path):
    a = Tensor([1.0], requires_grad=True, name="a")
    b = Tensor([2.0], requires_grad=True, name="b")
    nodes = _svg_nodes(draw_graph(a * b, max_nodes=1), tmp_path)
    assert nodes["more"] == "... 2 more nodes"
    assert sorted(_svg_edges(str(tmp_path / "graph.svg"))) == ["more->op0", "op0->t0"]


def test_draw_graph_no_collapse_node_when_graph_fits(tmp_path):
    out = _chain(9)  # exactly 10 tensors
    nodes = _svg_nodes(draw_graph(out, max_nodes=10), tmp_path)
    assert len(_tensor_nodes(nodes)) == 10
    assert "more" not in nodes


def test_draw_graph_walks_100000_ops_without_recursion():
    graph = draw_graph(_chain(100_000), max_nodes=60)
    assert len(re.findall(r"^\tt\d+ \[", graph.source, flags=re.MULTILINE)) == 60
    assert "... 99941 more nodes" in graph.source


def test_draw_graph_tensor_used_twice_appears_once(tmp_path):
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    nodes = _svg_nodes(draw_graph(a * a + a), tmp_path)
    assert len(_tensor_nodes(nodes)) == 3
    assert sum(text.startswith("a ") for text in nodes.values()) == 1
    edges = _svg_edges(str(tmp_path / "graph.svg"))
    assert edges.count("t2->op1") == 2  # a enters Mul twice, as x * x


def test_draw_graph_skips_python_number_operands(tmp_path):
    a = Tensor([1.0, 2.0], requires_grad=True, name="a")
    path = draw_graph(a * 2.0).render(tmp_path / "graph", format="svg")
    assert sorted(_svg_edges(path)) == ["op0->t0", "t1->op0"]


def test_draw_graph_labels_unnamed_leaves_input_and_const(tmp_path):
    out = Tensor([1.0, 2.0], requires_grad=True) * Tensor([3.0, 4.0])
    nodes = _svg_nodes(draw_graph(out), tmp_path)
    titles = sorted(text.split(" (")[0] for text in _tensor_nodes(nodes).values())
    assert titles == ["Mul", "const", "input"]


def test_draw_graph_styles_parameters_activations_and_constants_apart():
    loss, _ = _two_layer()
    lines = draw_graph(loss).source.splitlines()

    def node_line(name: str) -> str:
        (line,) = [line for line in lines if f"<B>{name}</B>" in line]
        return line

    parameter, activation, constant = node_line("w"), node_line("ReLU"), node_line("x")
    assert "fillcolor=lightblue" in parameter and "bold" in parameter
    assert "fillcolor=white" in activation and "dashed" not in activation
    assert "dashed" in constant and "lightblue" not in constant and "bold" not in constant


def test_draw_graph_escapes_names(tmp_path):
    a = Tensor([1.0], requires_grad=True, name='a<b>&"c"')
    nodes = _svg_nodes(draw_graph(a.exp()), tmp_path)  # ET.parse fails on a broken svg
    assert _node_named(nodes, 'a<b>&"c"')


def test_draw_graph_of_a_leaf_is_one_node(tmp_path):
    nodes = _svg_nodes(draw_graph(Tensor([1.0, 2.0], name="alone")), tmp_path)
    assert list(nodes) == ["t0"]
    assert nodes["t0"].startswith("alone (2,) float32")


def test_draw_graph_returns_a_digraph_that_renders_svg_png_pdf(tmp_path):
    loss, _ = _two_layer()
    graph = draw_graph(loss)
    assert isinstance(graph, graphviz.Digraph) and type(graph) is GraphDiagram
    assert "<svg" in graph._repr_mimebundle_()["image/svg+xml"]
    png = graph.render(tmp_path / "graph", format="png")
    assert Path(png).read_bytes().startswith(b"\x89PNG")
    pdf = graph.render(tmp_path / "graph", format="pdf")
    assert Path(pdf).read_bytes().startswith(b"%PDF")


def test_tensor_draw_is_draw_graph():
    loss, _ = _two_layer()
    loss.backward()
    assert loss.draw().source == draw_graph(loss).source
    options = {"rankdir": "BT", "show_data": False, "max_nodes": 3}
    assert loss.draw(**options).source == draw_graph(loss, **options).source


def test_draw_graph_without_dot_says_how_to_install(tmp_path, monkeypatch):
    loss, _ = _two_layer()
    graph = draw_graph(loss)
    empty = tmp_path / "empty"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # graphviz looks `dot` up on PATH when rendering
    assert "MatMul" in graph.source
    install = r"apt-get install graphviz.*brew install graphviz.*conda install graphviz.*\.source"
    with pytest.raises(GraphvizNotFoundError, match=install) as error:
        graph.render(tmp_path / "graph", format="svg")
    assert isinstance(error.value, graphviz.ExecutableNotFound)
    assert "draw_graph" in str(error.value) and "dot" in str(error.value)
    with pytest.raises(GraphvizNotFoundError, match=install):
        graph.pipe(format="svg")
    with pytest.raises(GraphvizNotFoundError, match=install):
        graph._repr_mimebundle_()  # what Jupyter calls to show the graph inline


def test_draw_graph_rejects_bad_arguments():
    loss, _ = _two_layer()
    with pytest.raises(TypeError, match=r"draw_graph: expected a Tensor, got ndarray"):
        draw_graph(np.ones(3))
    with pytest.raises(ValueError, match=r"draw_graph: rankdir .* got 'XY'"):
        draw_graph(loss, rankdir="XY")
    with pytest.raises(ValueError, match=r"draw_graph: max_nodes must be a positive int, got 0"):
        draw_graph(loss, max_nodes=0)
    with pytest.raises(ValueError, match=r"draw_graph: max_nodes must be a positive int, got True"):
        draw_graph(loss, max_nodes=True)


def test_draw_graph_takes_a_numpy_int_max_nodes(tmp_path):
    nodes = _svg_nodes(draw_graph(_chain(9), max_nodes=np.int64(3)), tmp_path)
    assert len(_tensor_nodes(nodes)) == 3
