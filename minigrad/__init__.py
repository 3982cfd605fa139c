"""minigrad: a small numpy autodiff library for learning how backpropagation works.

    import minigrad as mg
    import minigrad.numpy as mnp

    f = lambda x: mnp.sum(mnp.tanh(x) ** 2)
    mg.grad(f)(x)            # reverse mode
    mg.jvp(f, (x,), (v,))    # forward mode

Reverse mode (`reverse.py`) records a graph and walks it backwards with vector-Jacobian
products; forward mode (`forward.py`) pushes tangents along with values. Both go through
the same primitives (`numpy/`), each with its own table of rules.
"""
from . import numpy  # noqa: F401  (registers the primitives' rules)
from .checker import check_grads
from .forward import defjvp
from .graph import trace_graph
from .numerical import (backward_difference, central_difference, forward_difference,
                        numerical_gradient, numerical_jacobian, rel_error, step_size_errors)
from .numpy.vjps import unbroadcast
from .reverse import defvjp
from .tracer import Box, Primitive, debug_nans, primitive, value_of
from .transforms import grad, hessian, jacfwd, jacrev, jvp, value_and_grad, vjp

__all__ = [
    "grad", "value_and_grad", "vjp", "jvp", "jacrev", "jacfwd", "hessian",
    "primitive", "defvjp", "defjvp", "unbroadcast", "Primitive", "Box", "value_of",
    "check_grads", "rel_error", "numerical_gradient", "numerical_jacobian",
    "forward_difference", "backward_difference", "central_difference", "step_size_errors",
    "trace_graph", "debug_nans",
]
