"""Grading helpers for the kit's problem sets.

Every problem set imports this package in its first, read-only cell, before any student
code runs; its visible and hidden tests then call the ``check_*`` functions it exports.
One idea per module:

- ``_core``: what every check shares: references taken at import time, plain-float
  arithmetic, seeded draws, :func:`_call_student` (the one way into student code, with
  minigrad's differentiation refused), the complex-step reference, and the sentences that
  explain a wrong shape or value;
- ``ops``: the operations problem sets 2 and 3 write rules for, and the shape classes
  their hidden checks enumerate;
- ``rules`` (problem sets 2 and 3), ``finite_differences`` (1), ``jacobians`` (3),
  ``models`` (2 and 4), ``engine`` (5): the checks of each problem set;
- ``channel`` and ``judge``: recording the student's answers in the kernel, and the
  grader's replay that gives the verdicts (see "Verdicts the kernel cannot forge" in
  docs/grading_a_class.md).

They grade against mathematics, never against stored answers: inputs, cotangents and
tangents are drawn when the check runs, and a rule is compared with an exact derivative of
the package's own numpy definition of the operation. Reading this package, or a test that
calls it, therefore gives no answer away.

Every case on every run. A hidden check (seed=None) enumerates each shape class it grades,
each time: for the reductions every axis of 1-d to 3-d arrays (negative, non-negative and
None) with and without keepdims, each also with the reduced axis of length 1 and with
another axis of length 1; for broadcasting a scalar, missing leading axes and a length-1
axis in every position of either operand, and both operands broadcast at once; for the
elementwise ops scalars and length-1 axes; for matrix shapes every size that can be 1
being 1, and a square case. Only the sizes of the axes that are not meant to be 1, and
the values, are drawn (see `_cases_*`). A visible check (a fixed seed) runs one small case.

Exact references. The derivative a rule is compared with is computed by complex step,
Im f(a + i h u) / h with h = 1e-30 (`_directional`): there is no subtraction, so it is J u to
rounding for an analytic f, and the tolerance is 1e-12 relative (`_RTOL`). A rule that takes
finite differences of the forward function is off by 1e-10 or more at any step and fails;
only for the affine `linear`, whose central differences are exact, can such a rule not be
told apart. The forward definitions are written to accept complex input: the shift by the
maximum in softmax and logsumexp uses the real part (a constant that cancels exactly), and
the stable sigmoid and softplus branch on the real part. Where a function is not analytic
the inputs are kept away from the points where it is not: hypot and norm get entries with
|v| >= 0.4 (their kink is at 0), and the max in logsumexp is only a shift. Problem set 1
grades finite differences themselves, against analytic derivatives and against the formula
at a given step (a numerical gradient or Jacobian is asked for with h = 1e-3 and must be the
central difference with that step to 1e-8: a forward difference is off by h/2 times the
second derivative there, h/4 or more for the gradient's functions), on functions whose
entries are coupled (so an entry left moved while the next is stepped shows), and the
caller's x must come back unchanged. Orders of accuracy are also measured where f'' = 0,
so orders written down instead of measured fail.

Which method produced a number. The transpose identity gets a function with one primitive
that forward and reverse mode differentiate by different factors on purpose
(`_mode_tagged`), so <v, J u> must carry the JVP's factor and <J^T v, u> the VJP's. The
classifiers are trained and tested on fresh data laid out unlike the notebook's (4 blob
classes instead of 3; the ring, not the disc, labelled 1), so a trainer that reads the
notebook's global data instead of its arguments fails.

A student cell runs in the same Python process as the tests, so it may replace
``np.allclose``, ``np.testing.*``, ``mg.check_grads`` or even ``builtins.abs`` before the
tests run. This module does not use any of them while grading:

- references to the functions it needs are taken once, at import time, and built-in names
  resolve through a private copy of the builtins made at import time;
- whatever a rule returns is copied into a plain float64 ``ndarray`` with the C function
  ``np.array`` (so an ndarray subclass or an object with tricks in ``__array__`` loses
  them), and compared with Python floats from ``ndarray.tolist()``;
- while a hand-written rule runs, minigrad's differentiation entry points
  (``minigrad.reverse.make_vjp`` and ``minigrad.forward.make_jvp``, through which every
  differential operator goes) and its finite-difference tools refuse to work, so a rule
  that asks minigrad for the derivative raises instead of earning points. The refusal
  swaps the functions' code, so it also catches aliases a student took earlier.

What this module cannot do is protect itself from a cell that deliberately rewrites
``course_tools.grading`` (or the interpreter) before the tests run: nothing in one Python
process can. Such a cell has to name this module, ``sys.modules``, ``builtins`` or a
``__code__`` attribute; :func:`audit_source` lists those names so that graders can look.
"""


import builtins as _builtins_module

# A private copy of the builtins, as in every module of the package: names this package
# resolves at run time do not go through the builtins module a student cell can change.
__builtins__ = dict(vars(_builtins_module))

from . import channel as _channel  # noqa: E402
from .channel import GradingError  # noqa: F401 (the checks raise it; tests catch it as G.GradingError)

# The modules, one idea each. Their names (private helpers too) are re-exported here, so
# that `G.check_vjp_maker` and, for the kit's own tests, `G._seed` keep working.
from . import _core, engine, finite_differences, jacobians, models, ops, rules

for _module in (_core, ops, rules, finite_differences, jacobians, models, engine):
    globals().update({k: v for k, v in vars(_module).items()
                      if not k.startswith("__") and k not in ("GradingError",)})

__all__ = [
    "OPS",
    "audit_source",
    "autodiff_refused",
    "check_choose_mode",
    "check_convergence_order",
    "check_difference_quotients",
    "check_jacobian_builder",
    "check_jvp_stability",
    "check_jvp_rule",
    "check_logsumexp_forward",
    "check_mlp_classifier",
    "check_mlp_gradients",
    "check_mlp_loss_and_grads",
    "check_numerical_gradient",
    "check_numerical_jacobian",
    "check_observed_orders",
    "check_rel_error",
    "check_registered_jvp",
    "check_registered_vjp",
    "check_softmax_classifier",
    "check_transpose_identity",
    "check_vjp_maker",
    "check_vjp_stability",
    "make_blobs",
    "make_rings",
]

__all__ += engine.__all__

# ---------------------------------------------------------------------------------------
# Under grading: every check records in the kernel and is replayed by the judge
# ---------------------------------------------------------------------------------------

for _name in [n for n in __all__ if n.startswith("check_")]:
    globals()[_name] = _channel.judged(globals()[_name])
_channel.start_recording_from_environment()
