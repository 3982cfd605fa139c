"""Reverse mode: record the graph on the way forward, then walk it backwards with VJPs.

A VJP *maker* is registered per argument of a primitive: `maker(ans, *args, **kwargs)`
runs during the forward pass and returns a closure `g -> cotangent for that argument`.
Work that depends only on forward values (a mask, a transpose, a reciprocal) is done once
in the maker, not once per cotangent. `None` for a maker means the derivative is zero.

The backward pass visits each node once, after all of its children, and *adds* the
cotangents that arrive along every path (fan-out). It uses an explicit stack, not
recursion, so a graph of a hundred thousand nodes costs linear time and no stack depth.
"""
import numpy as np

from .tracer import (Box, Trace, as_primal, call_traced, check_options, debug,
                     derivative_dtype, missing_rule, paused_gc, rule_lookup, shape_hint,
                     shape_of, zeros_like_value)


class VJPNode:
    """A value in the recorded graph: where it came from and how to send cotangents back."""

    __slots__ = ("parents", "vjps", "argnums", "prim", "shape")

    def __init__(self, parents, vjps, argnums, prim, shape):
        self.parents = parents      # nodes of the traced arguments
        self.vjps = vjps            # one closure g -> cotangent per parent
        self.argnums = argnums      # which argument of `prim` each parent was
        self.prim = prim            # the primitive that made it (None for an input)
        self.shape = shape          # the value's shape, to check cotangents against


class ReverseTrace(Trace):
    def lift(self, prim, ans, args, kwargs, argnums, boxes):
        rule_for = prim.vjp_rule_for
        if rule_for is None:
            raise missing_rule(prim, "defvjp", "reverse mode (grad, vjp, jacrev)")
        if kwargs:
            check_options(prim, kwargs)
        parents, vjps, used = [], [], []
        for argnum, box in zip(argnums, boxes):
            maker = rule_for(argnum)
            if maker is not None:
                parents.append(box._node)
                vjps.append(maker(ans, *args, **kwargs))
                used.append(argnum)
        node = VJPNode(parents, vjps, used, prim, shape_of(ans))
        return self.box_type(ans, self, node)


def defvjp(prim, *makers, rule_for=None):
    """Register reverse-mode rules: one maker per positional argument of `prim`, or, for
    a primitive with any number of arguments, `rule_for(argnum) -> maker or None`.

    `maker(ans, *args, **kwargs)` returns `lambda g: cotangent` for its argument, where
    `g` has the shape of `ans` and the cotangent must have the shape of that argument.
    Write makers with `minigrad.numpy` functions so that they can be differentiated again.
    """
    prim.vjp_rule_for = rule_lookup(prim, makers, "mg.defvjp", rule_for)


def backward_pass(g, end_node, on_visit=None, on_push=None, keep=None, release=False):
    """Propagate cotangent `g` from `end_node` to every node it depends on.

    Returns a dict node -> total cotangent, for the nodes in `keep` (default: all). Keeping
    only the inputs' lets every other cotangent be freed as soon as it has been passed on,
    so the pass reuses memory instead of holding one array per node. With `release`, each
    node also lets go of its VJP closures once they have run, and with them the forward
    values they kept (a mask, an activation): memory is freed as early as in a hand-written
    backward pass, and the graph cannot be walked again.
    For drawing and stepping, `on_visit(node, g)`
    is called as each node's cotangent is complete, in the order the pass visits the
    nodes, and `on_push(node, parent, g)` with each contribution it sends to a parent.
    """
    with paused_gc():
        return _backward_pass(g, end_node, on_visit, on_push, keep, release)


def _backward_pass(g, end_node, on_visit, on_push, keep, release):
    children = {end_node: 0}
    stack = [end_node]
    while stack:                                   # count each node's children
        node = stack.pop()
        for parent in node.parents:
            if parent not in children:
                children[parent] = 0
                stack.append(parent)
            children[parent] += 1
    totals, done = {end_node: g}, {}
    ready = [end_node]
    while ready:                                   # visit nodes whose children are all done
        node = ready.pop()
        g = totals.pop(node)
        if keep is None or node in keep:
            done[node] = g
        if on_visit is not None:
            on_visit(node, g)
        for parent, vjp, argnum in zip(node.parents, node.vjps, node.argnums):
            parent_g = vjp(g)
            if debug.nans or shape_of(parent_g) != parent.shape:
                _check_cotangent(node.prim, argnum, node, parent, parent_g)
            if on_push is not None:
                on_push(node, parent, parent_g)
            previous = totals.get(parent)
            totals[parent] = parent_g if previous is None else previous + parent_g
            children[parent] -= 1
            if children[parent] == 0:
                ready.append(parent)
        if release:
            node.vjps = vjp = ()
    return done


def _check_cotangent(prim, argnum, node, parent, g):
    shape = shape_of(g)
    if shape != parent.shape:
        raise ValueError(
            f"The VJP rule of '{prim.name}' returned a cotangent of shape {shape} for "
            f"argument {argnum}, which has shape {parent.shape}: "
            f"{shape_hint(shape, parent.shape, node.shape, 'rev')}.")
    debug.check_derivative(prim, "backward", argnum, g)


def make_vjp(fun, primals, once=False):
    """Run `fun(*primals)` on a new reverse trace.

    Returns `(ans, vjp_fn)` where `vjp_fn(g)` gives one cotangent per primal. All of
    minigrad's reverse-mode operators go through here. With `once` (for `grad`), `vjp_fn`
    may be called one time only, and frees the graph as it walks it (`release` above).
    """
    trace = ReverseTrace()
    starts = [VJPNode((), (), (), None, shape_of(x)) for x in primals]
    ans = call_traced(fun, [trace.box_type(x, trace, node) for x, node in zip(primals, starts)])
    out_shape = shape_of(ans)
    walked = False

    def vjp_fn(g):
        nonlocal walked
        if walked:
            raise RuntimeError("This VJP function was made for one call (once=True) and has "
                               "freed its graph; make a new one with make_vjp.")
        if isinstance(g, (list, tuple)):
            g = np.asarray(g)
        if not isinstance(g, Box) and np.result_type(g).kind != "f":     # ints, bools
            g = np.asarray(g, dtype=derivative_dtype(ans))
        if np.shape(g) != out_shape:
            raise ValueError(
                f"The cotangent has shape {np.shape(g)}, but the function's output has "
                f"shape {out_shape}: they must match.")
        if not (isinstance(ans, Box) and ans._trace is trace):
            return tuple(zeros_like_value(x) for x in primals)   # output ignores inputs
        walked = once
        grads = backward_pass(g, ans._node, keep=set(starts), release=once)
        return tuple(as_primal(grads[n], x) if n in grads else zeros_like_value(x)
                     for n, x in zip(starts, primals))

    value = ans._value if isinstance(ans, Box) and ans._trace is trace else ans
    return value, vjp_fn
