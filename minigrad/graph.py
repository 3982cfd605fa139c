"""The traced graph of a function, laid out for drawing and for stepping through.

`trace_graph(f, *args)` runs f on a recording reverse trace, then the backward pass, and
returns every node with its forward value and its adjoint (d output / d node).
"""
import inspect
from dataclasses import dataclass, field

import numpy as np

from .reverse import ReverseTrace, VJPNode, backward_pass
from .tracer import Box, call_traced


@dataclass
class GraphNode:
    id: int
    op: str                 # primitive name, or 'input' / 'const'
    label: str              # argument name for inputs, else the op
    parents: list
    value: object
    adjoint: object = None
    pushes: list = field(default_factory=list)   # what the backward pass sent each traced
                                                 # parent, in the order of `parents`


@dataclass
class Graph:
    nodes: list = field(default_factory=list)
    output: int = None
    backward_order: list = field(default_factory=list)

    def __repr__(self):
        lines = [f"Graph with {len(self.nodes)} nodes, output #{self.output}:"]
        for n in self.nodes:
            args = ", ".join(f"#{i}" for i in n.parents)
            lines.append(f"  #{n.id} {n.label} = {n.op}({args})" if n.parents
                         else f"  #{n.id} {n.label} ({n.op})")
        return "\n".join(lines)


class _RecordingTrace(ReverseTrace):
    """A reverse trace that also notes each node and the constants it used."""

    def __init__(self, graph):
        super().__init__()
        self.graph, self.ids = graph, {}

    def add(self, node, op, label, parents, value):
        self.ids[node] = len(self.graph.nodes)
        self.graph.nodes.append(GraphNode(len(self.graph.nodes), op, label, parents, value))

    def lift(self, prim, ans, args, kwargs, argnums, boxes):
        box = super().lift(prim, ans, args, kwargs, argnums, boxes)
        parents = []
        for i, arg in enumerate(args):
            if i in argnums:
                parents.append(self.ids[boxes[argnums.index(i)]._node])
            elif isinstance(arg, (int, float, np.ndarray, np.generic)) and not isinstance(arg, bool):
                const = VJPNode((), (), (), None, np.shape(arg))
                self.add(const, "const", _short(arg), [], arg)
                parents.append(self.ids[const])
        self.add(box._node, prim.name, prim.name, parents, ans)
        return box


def _short(value):
    return f"{float(value):.3g}" if np.ndim(value) == 0 else f"array{np.shape(value)}"


def trace_graph(fun, *args, argnames=None):
    """Trace scalar-valued `fun(*args)`; return its Graph with values and adjoints."""
    if argnames is None:
        params = list(inspect.signature(fun).parameters)
        argnames = params[:len(args)] if len(params) >= len(args) else [
            f"x{i}" for i in range(len(args))]
    graph = Graph()
    trace = _RecordingTrace(graph)
    boxes = []
    for name, x in zip(argnames, args):
        node = VJPNode((), (), (), None, np.shape(x))
        trace.add(node, "input", name, [], x)
        boxes.append(trace.box_type(x, trace, node))
    ans = call_traced(fun, boxes)
    if not (isinstance(ans, Box) and ans._trace is trace):
        raise ValueError("trace_graph: the output does not depend on the inputs.")
    if np.ndim(ans._value) != 0:
        raise ValueError(f"trace_graph needs a scalar output; got shape {np.shape(ans._value)}.")
    graph.output = trace.ids[ans._node]

    def visit(node, g):
        graph.nodes[trace.ids[node]].adjoint = g
        graph.backward_order.append(trace.ids[node])
    def push(node, parent, g):
        graph.nodes[trace.ids[node]].pushes.append(g)
    backward_pass(np.ones_like(ans._value, dtype=float), ans._node, on_visit=visit,
                  on_push=push)
    for n in graph.nodes:
        if n.adjoint is None:
            n.adjoint = np.zeros_like(np.asarray(n.value, dtype=float))
    return graph
