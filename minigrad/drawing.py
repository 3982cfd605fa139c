"""Pictures of a traced computation: every node with its forward value and its adjoint.

``draw_graph`` takes the ``Graph`` that ``minigrad.trace_graph`` returns and draws it with
matplotlib alone, so it works on Binder and in headless runs without graphviz. Nodes are
placed in columns by their distance from the inputs, so the picture reads left to right
like the program, and the backward pass reads right to left. A graph too deep to fit the
width of a notebook is drawn top to bottom instead (the columns become rows), so the
picture grows downwards, where a notebook has room, and its text keeps its size.

The same node names (``x`` for an input, ``t0, t1, ...`` for intermediate results) are
used by the backward-pass stepper in :mod:`minigrad.widgets`, which is why the naming and
the one-line description of a node live here.
"""

import numpy as np
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
from matplotlib.path import Path

__all__ = ["draw_graph", "draw_function", "node_names", "node_expression", "format_array"]

# How a primitive reads in ordinary notation. Binary operators are written infix;
# anything not listed is written as a call, ``name(a, b)``.
_INFIX = {
    "add": "+", "subtract": "-", "multiply": "*", "divide": "/", "true_divide": "/",
    "power": "**", "matmul": "@", "dot": "@",
}
_PREFIX = {"negative": "-"}

# Colours: inputs blue, constants grey, intermediate results cream, the output green.
_FACE = {"input": "#dbe9f6", "const": "#eeeeee", "op": "#fdf6e3", "output": "#dff0d8"}
_EDGE = {"input": "#3a6ea5", "const": "#9a9a9a", "op": "#8a7a50", "output": "#3c763d"}
_ADJOINT_COLOUR = "#b0306a"
_HIGHLIGHT_FACE = "#ffe1b3"
_HIGHLIGHT_EDGE = "#e07b00"

# Sizes, in the data units the layout uses: a monospace character of the 8 pt labels is
# about 0.135 units wide when one unit is drawn 0.5 inch long.
_INCH_PER_UNIT = 0.5
_CHAR_WIDTH = 0.135
_MAX_CHARS = 40
# Widest picture, in inches, drawn left to right; a notebook shows about 10 inches at
# full size. Wider graphs are drawn top to bottom.
MAX_WIDTH = 10.0


def format_array(value, digits=3, max_items=3):
    """Compact text for a value in a box: a number, a few numbers, or just the shape.

    A box has room for about twenty characters, so arrays with more than ``max_items``
    entries are shown by their shape (``array(3, 4)``), which is what a reader checks first.
    """
    if value is None:
        return "?"
    arr = np.asarray(value)
    if arr.ndim == 0:
        return _format_number(arr.item(), digits)
    if arr.size <= max_items:
        return "[" + ", ".join(_format_number(v, digits) for v in arr.ravel().tolist()) + "]"
    return "array" + str(tuple(arr.shape)).replace(",)", ")")


def _format_number(v, digits):
    if isinstance(v, complex):
        return f"{v:.{digits}g}"
    if isinstance(v, (bool, np.bool_)):
        return str(v)
    v = float(v)
    if v == 0:
        return "0"
    return f"{v:.{digits}g}"


def _kind(graph, node):
    if node.id == graph.output:
        return "output"
    if node.op in ("input", "const"):
        return node.op
    return "op"


def node_names(graph, names=None):
    """A short name for every node: the argument name for inputs, the value for constants,
    and ``t0, t1, ...`` in forward order for the rest (the output included).

    ``names`` (dict id -> str) overrides any of them, e.g. ``{graph.output: "c"}``.
    """
    result = {}
    counter = 0
    for node in graph.nodes:
        if node.op == "input":
            result[node.id] = node.label or f"x{node.id}"
        elif node.op == "const":
            result[node.id] = format_array(node.value)
        else:
            result[node.id] = f"t{counter}"
            counter += 1
    if names:
        result.update(names)
    return result


def node_expression(graph, node_id, names):
    """How a node was computed, in the program's notation: ``t1 = t0 / s``."""
    node = graph.nodes[node_id]
    name = names[node_id]
    if node.op in ("input", "const"):
        return name
    args = [names[p] for p in node.parents]
    op = node.op
    if op in _INFIX and len(args) == 2:
        rhs = f"{args[0]} {_INFIX[op]} {args[1]}"
    elif op in _PREFIX and len(args) == 1:
        rhs = f"{_PREFIX[op]}{args[0]}"
    else:
        label = node.label if node.label and node.label != op else op
        rhs = f"{label}({', '.join(args)})"
    return f"{name} = {rhs}"


def _depths(graph):
    """Column of each node: longest path from any input. Constants sit one column before
    the first node that uses them, so their arrows stay short."""
    depth = {}
    for node in graph.nodes:  # forward order is topological
        if node.op in ("input", "const") or not node.parents:
            depth[node.id] = 0
        else:
            depth[node.id] = 1 + max(depth[p] for p in node.parents)
    children = {n.id: [] for n in graph.nodes}
    for node in graph.nodes:
        for p in node.parents:
            children[p].append(node.id)
    for node in graph.nodes:
        if node.op == "const" and children[node.id]:
            depth[node.id] = max(0, min(depth[c] for c in children[node.id]) - 1)
    return depth, children


def _layout(graph):
    """Column and row of every node, and the route of every edge.

    Columns come from ``_depths``. An edge that skips columns gets a waypoint in each
    column it crosses; waypoints take a row like nodes do, so long edges run between boxes
    instead of through them. Rows are ordered by the mean row of the neighbours (a few
    barycentre sweeps each way), which removes most crossings.
    Returns (depth, row, routes) with routes[(parent, child)] = list of waypoint keys.
    """
    depth, _ = _depths(graph)
    n_cols = max(depth.values()) + 1
    columns = [[] for _ in range(n_cols)]
    ups = {}      # key -> keys in the column to the left (nodes or waypoints)
    downs = {}    # key -> keys in the column to the right
    for node in graph.nodes:
        columns[depth[node.id]].append(node.id)
        ups.setdefault(node.id, [])
        downs.setdefault(node.id, [])
    routes = {}
    for node in graph.nodes:
        for k, p in enumerate(node.parents):
            prev = p
            route = []
            for col in range(depth[p] + 1, depth[node.id]):
                key = ("via", p, node.id, k, col)
                columns[col].append(key)
                ups[key], downs[key] = [], []
                downs[prev].append(key)
                ups[key].append(prev)
                route.append(key)
                prev = key
            downs[prev].append(node.id)
            ups[node.id].append(prev)
            routes[(p, node.id, k)] = route

    row = {}

    def renumber(col):
        for i, key in enumerate(col):
            row[key] = i - (len(col) - 1) / 2

    for col in columns:
        renumber(col)

    def sweep(cols, neighbours, fallback):
        for col in cols:
            keyed = []
            for i, key in enumerate(col):
                nb = neighbours[key] or fallback[key]  # a constant has no parents
                keyed.append((np.mean([row[k] for k in nb]) if nb else row[key], i, key))
            keyed.sort(key=lambda t: (t[0], t[1]))
            col[:] = [key for _, _, key in keyed]
            renumber(col)

    for _ in range(4):
        sweep(columns[1:], ups, downs)
        sweep(columns[-2::-1], downs, ups)
    sweep(columns[1:], ups, downs)
    return depth, row, routes, columns


def draw_graph(graph, *, show_adjoints=True, highlight=None, ax=None, names=None,
               title=None, direction="auto", max_width=MAX_WIDTH):
    """Draw a traced graph: one box per node with its forward value and its adjoint.

    graph: the result of ``minigrad.trace_graph(f, *args)``.
    show_adjoints: True (all), False (none), or a collection of node ids whose adjoint is
        shown; the stepper uses this to reveal adjoints in the order the backward pass
        computes them.
    highlight: a node id drawn emphasised (or None).
    ax: an existing matplotlib Axes to draw into; otherwise a new Figure is made.
    names: dict id -> name overriding the default names (see ``node_names``).
    title: optional title above the graph.
    direction: "right" (inputs on the left, data flowing right), "down" (inputs at the
        top), or "auto": "right" unless that picture would be wider than ``max_width``
        inches, then "down".
    Returns the Figure; ``fig.direction`` says which way it was drawn.
    """
    names = node_names(graph, names)
    out_name = names[graph.output]
    if show_adjoints is True:
        shown = {n.id for n in graph.nodes}
    elif show_adjoints is False or show_adjoints is None:
        shown = set()
    else:
        shown = set(show_adjoints)

    # The three lines of every box, worked out first: the widest one sets the box width.
    # Adjoint lines count even when hidden, so the stepper's pictures all have one size.
    lines = {}
    for node in graph.nodes:
        if node.op == "const":
            lines[node.id] = ("const " + format_array(node.value),)
        else:
            adj = getattr(node, "adjoint", None)
            lines[node.id] = (_fit(node_expression(graph, node.id, names), _MAX_CHARS),
                              _fit("value " + format_array(node.value), _MAX_CHARS),
                              _fit(f"∂{out_name}/∂{names[node.id]} = " + format_array(adj),
                                   _MAX_CHARS))
    widest = max(len(t) for texts in lines.values() for t in texts)

    depth, row, routes, columns = _layout(graph)
    w, h = max(2.3, _CHAR_WIDTH * widest + 0.35), 1.12   # box size of an operation or input
    h_const = 0.5                                         # constants are small: only their value
    n_cols = len(columns)
    if direction == "auto":
        wide = _INCH_PER_UNIT * (n_cols * (w + 0.85) - 0.85 + 0.3)
        direction = "right" if wide <= max_width else "down"
    if direction not in ("right", "down"):
        raise ValueError(f"direction must be 'right', 'down' or 'auto', got {direction!r}")
    down = direction == "down"
    if down:   # columns of the layout become rows of the picture
        step_col, step_row = h + 0.75, w + 0.45
    else:
        step_col, step_row = w + 0.85, 1.45

    def xy(key):
        col = depth[key] if not isinstance(key, tuple) else key[-1]
        if down:
            return row[key] * step_row, -col * step_col
        return col * step_col, -row[key] * step_row

    points_all = [xy(key) for col in columns for key in col]
    x_lo = min(p[0] for p in points_all) - w / 2 - 0.15
    x_hi = max(p[0] for p in points_all) + w / 2 + 0.15
    y_lo = min(p[1] for p in points_all) - h / 2 - 0.15
    y_hi = max(p[1] for p in points_all) + h / 2 + 0.15

    if ax is None:
        size = (max(3.0, _INCH_PER_UNIT * (x_hi - x_lo)) + 0.2,
                max(1.5, _INCH_PER_UNIT * (y_hi - y_lo)) + (0.45 if title else 0.2))
        fig = plt.figure(figsize=size, layout="constrained")
        plt.close(fig)  # the caller shows it (last expression of a cell); pyplot must not
        ax = fig.add_subplot()
    else:
        fig = ax.figure
    ax.set_axis_off()
    fig.direction = direction

    def height(nid):
        return h_const if graph.nodes[nid].op == "const" else h

    # Where arrows leave and enter a box: spread along its side so they stay apart.
    def spread(i, n, side):
        if n <= 1:
            return 0.0
        span = min(side * 0.6, (0.5 if down else 0.22) * (n - 1))
        return span / 2 - span * i / (n - 1)

    def leave(nid, i, n):      # where the i-th of n arrows leaves node nid
        x, y = xy(nid)
        if down:
            return x - spread(i, n, w), y - height(nid) / 2
        return x + w / 2, y + spread(i, n, height(nid))

    def enter(nid, k, n):      # where the k-th of n arrows enters node nid
        x, y = xy(nid)
        if down:
            return x - spread(k, n, w), y + height(nid) / 2
        return x - w / 2, y + spread(k, n, height(nid))

    def through(key):          # an edge crossing a column passes its waypoint
        x, y = xy(key)
        if down:
            return [(x, y + h / 2), (x, y - h / 2)]
        return [(x - w / 2, y), (x + w / 2, y)]

    out_edges = {n.id: [] for n in graph.nodes}
    for node in graph.nodes:
        for k, p in enumerate(node.parents):
            out_edges[p].append((node.id, k))

    def first_hop(p, child, k):   # top first (left to right) or left first (downwards)
        route = routes[(p, child, k)]
        x, y = xy(route[0] if route else child)
        return x if down else -y

    for p, edges in out_edges.items():  # order outgoing arrows by where they go
        edges.sort(key=lambda e: first_hop(p, *e))

    for node in graph.nodes:  # arrows first, so boxes sit on top of them
        n_in = len(node.parents)
        for k, p in enumerate(node.parents):
            i_out = out_edges[p].index((node.id, k))
            points = [leave(p, i_out, len(out_edges[p]))]
            for key in routes[(p, node.id, k)]:
                points += through(key)
            points.append(enter(node.id, k, n_in))
            _draw_route(ax, points, emphasised=node.id == highlight)

    for node in graph.nodes:
        x, y = xy(node.id)
        kind = _kind(graph, node)
        hl = highlight is not None and node.id == highlight
        bh = height(node.id)
        box = FancyBboxPatch(
            (x - w / 2, y - bh / 2), w, bh, boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=_HIGHLIGHT_FACE if hl else _FACE[kind],
            edgecolor=_HIGHLIGHT_EDGE if hl else _EDGE[kind],
            lw=2.8 if hl else 1.2, zorder=3, gid=f"node-{node.id}")
        ax.add_patch(box)
        text = dict(ha="center", va="center", family="monospace", zorder=4)
        if kind == "const":
            ax.text(x, y, lines[node.id][0], fontsize=8, color="#555555", **text)
            continue
        header, value, adjoint = lines[node.id]
        ax.text(x, y + 0.3, header, fontsize=8.5, fontweight="bold", **text)
        ax.text(x, y + 0.0, value, fontsize=8, **text)
        if node.id in shown:
            ax.text(x, y - 0.3, adjoint, fontsize=8, color=_ADJOINT_COLOUR,
                    gid=f"adjoint-{node.id}", **text)

    ax.set_xlim(x_lo, x_hi)
    ax.set_ylim(y_lo, y_hi)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def _draw_route(ax, points, emphasised=False):
    """An arrow along straight segments through ``points``. Emphasised arrows are the
    ones the backward pass is sending adjoints back along at the highlighted node."""
    codes = [Path.MOVETO] + [Path.LINETO] * (len(points) - 1)
    arrow = FancyArrowPatch(path=Path(points, codes), arrowstyle="-|>",
                            mutation_scale=13 if emphasised else 11,
                            color=_HIGHLIGHT_EDGE if emphasised else "#7a7a7a",
                            lw=2.2 if emphasised else 1.1, shrinkA=1, shrinkB=1,
                            zorder=2 if emphasised else 1)
    ax.add_patch(arrow)


def _fit(text, width):
    return text if len(text) <= width else text[: width - 1] + "…"


def draw_function(f, *args, argnames=None, **draw_kw):
    """Trace ``f`` at ``args`` (forward and backward pass) and draw its graph."""
    from . import trace_graph

    graph = trace_graph(f, *args, argnames=argnames)
    return draw_graph(graph, **draw_kw)
