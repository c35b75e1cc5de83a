"""draw_graph: the graph behind a tensor as a graphviz.Digraph (inline in Jupyter, or render())."""

from __future__ import annotations

import html
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import graphviz
import numpy as np

from tinygrad_nnfs._checks import is_int
from tinygrad_nnfs.engine import grad_array

if TYPE_CHECKING:  # Tensor.draw imports this module, so the import is for type hints only
    from tinygrad_nnfs.tensor import Tensor

__all__ = ["GraphDiagram", "GraphvizNotFoundError", "draw_graph"]

RANKDIRS = ("LR", "RL", "TB", "BT")
MAX_LISTED = 6  # arrays up to this many elements show their values, larger ones a summary
DIGITS = 4  # significant digits of every number in a label

_INSTALL_HINT = (
    "Install the Graphviz programs (the pip package `graphviz` alone is not enough): "
    "`apt-get install graphviz` (Debian/Ubuntu), `brew install graphviz` (macOS), "
    "`conda install graphviz` (conda), or see https://graphviz.org/download/. "
    "Without them the DOT text is still available as `.source`."
)

_TENSOR_BOX = {"shape": "box", "margin": "0.05"}
_PARAMETER_STYLE = {
    **_TENSOR_BOX,
    "style": "filled,bold",
    "fillcolor": "lightblue",
    "penwidth": "2",
}
_ACTIVATION_STYLE = {**_TENSOR_BOX, "style": "filled", "fillcolor": "white"}
_CONSTANT_STYLE = {
    **_TENSOR_BOX,
    "style": "filled,dashed",
    "fillcolor": "grey92",
    "color": "grey45",
}
_OP_STYLE = {"shape": "ellipse", "style": "filled", "fillcolor": "lightyellow"}
_MORE_STYLE = {"shape": "box", "style": "dashed,rounded", "color": "grey45"}


class GraphvizNotFoundError(graphviz.ExecutableNotFound):
    """Rendering needs Graphviz's `dot` program, which is not installed or not on PATH."""

    def __init__(self, message: str) -> None:
        # graphviz's own __init__ builds its message from a command list; ours is finished text
        RuntimeError.__init__(self, message)


@contextmanager
def _explain_missing_graphviz() -> Iterator[None]:
    """Turn graphviz's bare ExecutableNotFound into one that says how to install Graphviz."""
    try:
        yield
    except GraphvizNotFoundError:
        raise
    except graphviz.ExecutableNotFound as error:
        raise GraphvizNotFoundError(
            f"draw_graph: cannot render ({error}). {_INSTALL_HINT}"
        ) from None


class GraphDiagram(graphviz.Digraph):
    """A graphviz.Digraph whose render()/pipe() say how to install Graphviz if it is missing."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        """Save the DOT source and render it with Graphviz (see graphviz.Digraph.render)."""
        with _explain_missing_graphviz():
            return super().render(*args, **kwargs)

    def pipe(self, *args: Any, **kwargs: Any) -> bytes | str:
        """The rendered graph as bytes, or str given `encoding` (see graphviz.Digraph.pipe).

        Jupyter's inline display goes through here too.
        """
        with _explain_missing_graphviz():
            return super().pipe(*args, **kwargs)


def draw_graph(
    tensor: Tensor,
    *,
    rankdir: str = "LR",
    show_data: bool = True,
    show_grad: bool = True,
    max_nodes: int = 60,
) -> GraphDiagram:
    """The graph that produced `tensor`: a box per tensor, an ellipse per op (inputs -> op -> out).

    Tensor boxes show the name (else the op that made the tensor, or "input" for an unnamed
    leaf that requires grad and "const" for one that does not), shape and dtype and, if asked,
    a summary of the data and of the gradient. Parameters (leaves that require grad) are
    light blue and bold, activations white, constants grey and dashed. Only the `max_nodes`
    tensors nearest the output are drawn; the rest become one "... N more nodes" box.
    `rankdir` is Graphviz's layout direction: "LR", "RL", "TB" or "BT".
    """
    if not hasattr(tensor, "_ctx"):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    if rankdir not in RANKDIRS:
        raise ValueError(f"draw_graph: rankdir must be one of {RANKDIRS}, got {rankdir!r}")
    if not is_int(max_nodes) or max_nodes < 1:
        raise ValueError(
            f"draw_graph: max_nodes must be a positive int, got {max_nodes!r}; "
            f"pass e.g. max_nodes=200 to draw more of a large graph"
        )
    tensors, index = _nearest_first(tensor)
    shown = tensors[:max_nodes]
    graph = GraphDiagram(graph_attr={"rankdir": rankdir}, node_attr={"fontsize": "11"})
    collapsed = False
    for i, node in enumerate(shown):
        graph.node(f"t{i}", _tensor_label(node, show_data, show_grad), **_tensor_style(node))
        if node._ctx is None:
            continue
        graph.node(f"op{i}", type(node._ctx).__name__, **_OP_STYLE)
        frontier = False
        for parent in node._ctx.tensor_parents():  # number operands are not drawn
            j = index[id(parent)]
            if j < max_nodes:
                graph.edge(f"t{j}", f"op{i}")
            elif not frontier:  # one edge per op, however many of its inputs are hidden
                frontier = collapsed = True
                graph.edge("more", f"op{i}")
        graph.edge(f"op{i}", f"t{i}")
    if collapsed:
        graph.node("more", f"... {len(tensors) - len(shown)} more nodes", **_MORE_STYLE)
    return graph


def _nearest_first(root: Tensor) -> tuple[list[Tensor], dict[int, int]]:
    """Every tensor of root's graph once, breadth-first from root (iterative: graphs run deep)."""
    tensors = [root]
    index = {id(root): 0}
    for node in tensors:  # the list grows while we walk it: a queue without pops
        if node._ctx is None:
            continue
        for parent in node._ctx.tensor_parents():
            if id(parent) not in index:
                index[id(parent)] = len(tensors)
                tensors.append(parent)
    return tensors, index


def _tensor_style(tensor: Tensor) -> dict[str, str]:
    """Graphviz attributes that tell parameters, activations and constants apart."""
    if tensor._ctx is not None:
        return _ACTIVATION_STYLE
    return _PARAMETER_STYLE if tensor.requires_grad else _CONSTANT_STYLE


def _tensor_label(tensor: Tensor, show_data: bool, show_grad: bool) -> str:
    """An HTML-like Graphviz label: title, shape and dtype, then the data and grad summaries."""
    if tensor.name is not None:
        title = str(tensor.name)
    elif tensor._ctx is not None:
        title = type(tensor._ctx).__name__
    else:
        title = "input" if tensor.requires_grad else "const"
    rows = [f"<B>{html.escape(title)}</B>", html.escape(f"{tensor.shape} {tensor.dtype}")]
    if show_data:
        rows.append(f'<FONT POINT-SIZE="9">data {html.escape(_summarize(tensor.data))}</FONT>')
    if show_grad and tensor._grad is not None:
        grad = html.escape(_summarize(grad_array(tensor)))
        rows.append(f'<FONT POINT-SIZE="9" COLOR="firebrick">grad {grad}</FONT>')
    cells = "".join(f"<TR><TD>{row}</TD></TR>" for row in rows)
    return f'<<TABLE BORDER="0" CELLBORDER="0" CELLSPACING="0" CELLPADDING="1">{cells}</TABLE>>'


def _summarize(array: np.ndarray) -> str:
    """The values of a tiny array, else its mean, min and max; 4 significant digits."""
    array = np.asarray(array)
    if array.size <= MAX_LISTED:
        text = np.array2string(
            array, separator=", ", formatter={"float_kind": lambda v: f"{v:.{DIGITS}g}"}
        )
        return " ".join(text.split())  # one line: a label row cannot hold a matrix's newlines
    with np.errstate(all="ignore"):  # inf - inf inside the mean is nan, which is the answer
        stats = (np.mean(array), np.min(array), np.max(array))
    mean, low, high = (f"{float(v):.{DIGITS}g}" for v in stats)
    return f"mean {mean} min {low} max {high}"
