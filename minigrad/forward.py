"""Forward mode: carry a tangent beside every value, through the same primitives.

A JVP rule is registered per argument of a primitive: `rule(tangent, ans, *args,
**kwargs)` returns that argument's contribution to the output's tangent. The contributions
of all traced arguments are added. Nothing is recorded: once an operation is done its
tangent is known, so forward mode needs no graph and no backward pass, and costs one
pass per input direction instead of one per output.
"""
import numpy as np

from .tracer import (Box, Trace, call_traced, cast_like_primal, check_options, debug,
                     missing_rule, rule_lookup, shape_of, zeros_like_value)


class JVPNode:
    __slots__ = ("tangent",)

    def __init__(self, tangent):
        self.tangent = tangent


class ForwardTrace(Trace):
    # np.broadcast_to as a primitive, so that an outer trace sees a broadcast tangent:
    # minigrad.numpy sets its own (the core knows no primitive).
    broadcast_to = None

    def lift(self, prim, ans, args, kwargs, argnums, boxes):
        rule_for = prim.jvp_rule_for
        if rule_for is None:
            raise missing_rule(prim, "defjvp", "forward mode (jvp, jacfwd, hessian)")
        if kwargs:
            check_options(prim, kwargs)
        out_shape = shape_of(ans)
        tangent = None
        for argnum, box in zip(argnums, boxes):
            rule = rule_for(argnum)
            if rule is None:
                continue
            part = rule(box._node.tangent, ans, *args, **kwargs)
            if shape_of(part) != out_shape:
                part = self._broadcast_contribution(prim, argnum, part, out_shape)
            if debug.nans:
                debug.check_derivative(prim, "forward", argnum, part)
            tangent = part if tangent is None else tangent + part
        if tangent is None:         # no argument moves the output: its tangent is zero
            return ans
        return self.box_type(ans, self, JVPNode(tangent))

    def _broadcast_contribution(self, prim, argnum, part, out_shape):
        """An argument that was broadcast contributes a tangent of its own, smaller shape."""
        try:
            np.broadcast_shapes(shape_of(part), out_shape)
        except ValueError:
            raise ValueError(
                f"The JVP rule of '{prim.name}' for argument {argnum} returned a tangent of "
                f"shape {shape_of(part)}, which does not fit the output's shape {out_shape}."
            ) from None
        return self.broadcast_to(part, out_shape)


def defjvp(prim, *rules, rule_for=None):
    """Register forward-mode rules: one per positional argument of `prim`, or, for a
    primitive with any number of arguments, `rule_for(argnum) -> rule or None`.

    `rule(tangent, ans, *args, **kwargs)` returns the output-tangent contribution of that
    argument, given its tangent (same shape as the argument). `None` means zero.
    """
    prim.jvp_rule_for = rule_lookup(prim, rules, "mg.defjvp", rule_for)


def make_jvp(fun, primals, tangents):
    """Run `fun(*primals)` on a new forward trace, seeding each primal with its tangent.

    Returns `(ans, tangent_out)`. All of minigrad's forward-mode operators go through here.
    """
    trace = ForwardTrace()
    ans = call_traced(fun, [trace.box_type(x, trace, JVPNode(t)) for x, t in zip(primals, tangents)])
    if isinstance(ans, Box) and ans._trace is trace:
        # in the output's dtype, as in JAX: rules may mix in float64 constants
        return ans._value, cast_like_primal(ans._node.tangent, ans._value)
    return ans, zeros_like_value(ans)        # the output does not depend on the inputs
