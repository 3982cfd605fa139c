"""A widget that walks the backward pass of a traced graph one node at a time.

Reverse mode visits the nodes from the output back to the inputs. When a node is visited
its adjoint is complete (every path from it to the output has already pushed its share),
so the node can push ``adjoint(node) * local derivative`` on to each of its parents. The
stepper shows exactly that: visited nodes show their adjoints, the current node is
highlighted, and one line of text says what the step adds to which parent.

The picture is rendered to a PNG inside an ``ipywidgets.Image``: it redraws the same way in
JupyterLab, in the classic notebook and in a test, with no interactive matplotlib backend.
"""

import io

import numpy as np
import ipywidgets as widgets

from .drawing import draw_graph, format_array, node_expression, node_names

__all__ = ["BackwardStepper", "step_explanation"]

# What a visited node adds to each parent's adjoint, written in the program's notation:
# {g} is the node's adjoint, {a} and {b} its first and second argument, {t} the node.
# Only the words live here; every number shown is the one the real backward pass sent
# (recorded by trace_graph), so the stepper cannot disagree with the pass it shows.
_CONTRIBUTIONS = {
    "add": ("{g}", "{g}"),
    "subtract": ("{g}", "-{g}"),
    "multiply": ("{g} * {b}", "{g} * {a}"),
    "divide": ("{g} * 1/{b}", "{g} * (-{a}/{b}**2)"),
    "power": ("{g} * {b}*{a}**({b}-1)", "{g} * log({a})*{t}"),
    "negative": ("-{g}",),
    "log": ("{g} * 1/{a}",),
    "exp": ("{g} * {t}",),
    "sqrt": ("{g} * 1/(2*{t})",),
    "square": ("{g} * 2*{a}",),
    "sin": ("{g} * cos({a})",),
    "cos": ("{g} * (-sin({a}))",),
    "tanh": ("{g} * (1 - {t}**2)",),
    "matmul": ("{g} @ {b}ᵀ", "{a}ᵀ @ {g}"),   # vectors read as columns
    "sum": ("{g} broadcast to the shape of {a}",),
    "mean": ("{g} / size, broadcast to the shape of {a}",),
}


# Elementwise binary operations broadcast; their VJPs sum the cotangent back down
# (mg.unbroadcast) to the shape of an argument that was broadcast.
_BROADCASTING = {"add", "subtract", "multiply", "divide", "power", "maximum", "minimum"}


def step_explanation(graph, node_id, names=None):
    """What the backward pass does when it visits ``node_id``: a line about the node, then
    one line per parent saying what is added to that parent's adjoint."""
    names = node_names(graph, names)
    node = graph.nodes[node_id]
    out = names[graph.output]
    name = names[node_id]
    adj = format_array(node.adjoint)
    if node_id == graph.output:
        head = (f"Start at the output {node_expression(graph, node_id, names)}: "
                f"∂{out}/∂{out} = 1 (the seed).")
    elif node.op == "input":
        return (f"{name} is an input: every path has reached it, so its adjoint "
                f"∂{out}/∂{name} = {adj} is the gradient with respect to {name}.")
    else:
        head = (f"Visit {node_expression(graph, node_id, names)}: its adjoint is complete, "
                f"∂{out}/∂{name} = {adj}.")
    if node.op in ("input", "const") or not node.parents:
        return head
    parents = [graph.nodes[p] for p in node.parents]
    g_name = f"adjoint({name})"
    fill = {"g": g_name, "t": name}
    fill.update(zip("ab", (names[p.id] for p in parents)))
    rules = _CONTRIBUTIONS.get(node.op)
    sent = iter(node.pushes)
    pushes = []
    for k, parent in enumerate(parents):
        if parent.op == "const":
            continue
        target = f"adjoint({names[parent.id]}) += "
        if rules is not None and k < len(rules):
            text = target + rules[k].format(**fill)
        else:
            text = target + f"VJP of {node.op} applied to {g_name}"
        value = next(sent, None)
        if value is not None:
            text += f" = {format_array(value)}"
        if np.shape(parent.value) != np.shape(node.value) and node.op in _BROADCASTING:
            text += f" (summed down to {names[parent.id]}'s shape {np.shape(parent.value)})"
        pushes.append(text)
    if not pushes:
        return head + "\nIts arguments are constants: nothing to push."
    return head + "\nPush it to the parents:\n" + "\n".join("    " + p for p in pushes)


class BackwardStepper:
    """Prev / Next buttons and a slider that walk ``graph.backward_order`` node by node.

    Step 0 is the state after the forward pass (values only). Step k >= 1 visits
    ``graph.backward_order[k - 1]``: it is highlighted, the nodes visited so far show their
    adjoints, and ``.explanation`` says what the step pushes to which parent.

    Display it by leaving it as the last expression of a cell (or ``display(stepper.widget)``).
    """

    def __init__(self, graph, names=None, dpi=90):
        self.graph = graph
        self.names = node_names(graph, names)
        self.order = list(graph.backward_order)
        self.n_steps = len(self.order)
        self.dpi = dpi
        self.step = 0
        self.figure = None

        narrow = widgets.Layout(width="90px")
        self.prev_button = widgets.Button(description="◀ Prev", layout=narrow)
        self.next_button = widgets.Button(description="Next ▶", layout=narrow)
        self.slider = widgets.IntSlider(value=0, min=0, max=self.n_steps, step=1,
                                        description="step", continuous_update=False)
        self.text = widgets.HTML()
        self.image = widgets.Image(format="png",
                                   layout=widgets.Layout(max_width="100%", height="auto"))
        self.prev_button.on_click(lambda _button: self.prev())
        self.next_button.on_click(lambda _button: self.next())
        self.slider.observe(self._on_slider, names="value")
        self.widget = widgets.VBox([
            widgets.HBox([self.prev_button, self.next_button, self.slider]),
            self.text, self.image,
        ])
        self._redraw()

    # --- state --------------------------------------------------------------------
    @property
    def current(self):
        """Id of the node being visited, or None before the backward pass starts."""
        return self.order[self.step - 1] if self.step > 0 else None

    @property
    def visited(self):
        """Ids of the nodes whose adjoint is complete at this step."""
        if self.step == self.n_steps:
            return [n.id for n in self.graph.nodes]
        return self.order[: self.step]

    @property
    def explanation(self):
        if self.step == 0:
            return ("Forward pass done: every box shows its value. Press Next to run the "
                    "backward pass from the output, one node at a time.")
        text = step_explanation(self.graph, self.current, self.names)
        return f"Step {self.step} of {self.n_steps}. {text}"

    def next(self):
        self.go_to(self.step + 1)

    def prev(self):
        self.go_to(self.step - 1)

    def go_to(self, step):
        step = int(min(max(step, 0), self.n_steps))
        if step == self.step and self.figure is not None:
            return
        self.step = step
        if self.slider.value != step:
            self.slider.value = step  # fires _on_slider, which finds nothing to do
        self._redraw()

    def _on_slider(self, change):
        if change["new"] != self.step:
            self.go_to(change["new"])

    # --- picture ------------------------------------------------------------------
    def _redraw(self):
        if self.figure is None:
            self.figure = draw_graph(self.graph, show_adjoints=self.visited,
                                     highlight=self.current, names=self.names)
        else:
            self.figure.clear()
            draw_graph(self.graph, show_adjoints=self.visited, highlight=self.current,
                       names=self.names, ax=self.figure.add_subplot())
        buf = io.BytesIO()
        self.figure.savefig(buf, format="png", dpi=self.dpi)
        self.image.value = buf.getvalue()
        self.text.value = (f"<div style='font-family:monospace; white-space:pre-wrap'>"
                           f"{_html_escape(self.explanation)}</div>")
        self.prev_button.disabled = self.step == 0
        self.next_button.disabled = self.step == self.n_steps

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def _html_escape(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
