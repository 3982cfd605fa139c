"""The grader's judge: verdicts of test cells, computed outside the student's kernel.

``GuardedExecute`` (course_tools/preprocessors.py) runs this module in a fresh process of
the grader after a notebook has run, with one JSON request per graded test cell on stdin::

    {"source": <the test cell's text, from the gradebook>, "records": [...], "seed": N}

and reads one JSON verdict per line on stdout: ``{"passed": true|false|null, "message"}``
(``null``: the cell has no check the judge can replay, so the kernel's result stands).

For each call ``G.check_*(...)`` written in the cell, in order, the judge replays the check
against the answers the kernel recorded for it (see channel.py): the inputs come from the
grader's seed, the references and the comparison from this process. A check that did not
run in the kernel, answers that do not fit the questions, or extra records, fail the cell.
"""

import ast
import inspect
import json
import sys

import course_tools.grading as _package

from . import channel

_grading = vars(_package)   # the package's namespace: its public checks, wrapped


class Unjudgeable(Exception):
    """The test cell calls a check in a form the judge cannot replay (an instructor's matter)."""


class StudentName:
    """Stands for a name the test cell passes to a check: the student's function."""

    def __init__(self, name):
        self.name = name

    def __call__(self, *args, **kwargs):
        raise channel.ReplayDiverged("the judge never calls student code")

    def __repr__(self):
        return self.name


def _check_name(call):
    func = call.func
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    return name if isinstance(name, str) and name.startswith("check_") else None


def _argument(node):
    if isinstance(node, ast.Name):
        return StudentName(node.id)
    try:
        return ast.literal_eval(node)
    except (ValueError, SyntaxError, TypeError, RecursionError) as exc:
        raise Unjudgeable(f"an argument is neither a name nor a literal: "
                          f"{ast.unparse(node)[:80]}") from exc


def expected_checks(source):
    """[(name, args, kwargs)] of the checks the cell calls, in source order.

    Each must be a statement of its own, with the student's functions as names and every
    other argument a literal, so that the judge knows the call without running the cell.
    """
    tree = ast.parse(source)
    top = [stmt.value for stmt in tree.body
           if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)
           and _check_name(stmt.value)]
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _check_name(node) and not any(node is c for c in top):
            raise Unjudgeable(f"{_check_name(node)} is called inside another statement")
    found = []
    for call in top:
        name = _check_name(call)
        if not hasattr(_grading.get(name), "__wrapped__"):
            raise Unjudgeable(f"{name} is not a check of course_tools.grading")
        if any(isinstance(a, ast.Starred) for a in call.args) or any(
                k.arg is None for k in call.keywords):
            raise Unjudgeable(f"{name} is called with * or ** arguments")
        found.append((name, [_argument(a) for a in call.args],
                      {k.arg: _argument(k.value) for k in call.keywords}))
    return found


def _describe(name, args, kwargs):
    check = _grading[name].__wrapped__
    try:
        bound = inspect.signature(check).bind(*args, **kwargs)
        bound.apply_defaults()
        seed = bound.arguments.get("seed", 0)
    except TypeError:
        seed = 0
    shown = [a.name if isinstance(a, StudentName) else repr(a) for a in args]
    shown += [f"{k}={v!r}" for k, v in kwargs.items() if k != "seed"]
    inputs = "inputs drawn at grading time" if seed is None else "the visible inputs"
    return f"{name}({', '.join(shown)}) on {inputs}"


def judge_cell(source, records, seed):
    """The verdict of one test cell: (passed, message); passed None when not replayable."""
    try:
        checks = expected_checks(source)
    except SyntaxError:
        return None, ""
    except Unjudgeable as exc:
        return False, f"This test cannot be judged by the grader ({exc}); tell your instructor."
    if not checks:
        return None, ""
    records = [r for r in records if isinstance(r, dict)]
    passed = []
    for index, (name, args, kwargs) in enumerate(checks):
        check = _grading[name]
        if index >= len(records):
            return False, (f"{_describe(name, args, kwargs)} did not run in the notebook (an "
                           f"earlier line of this test stopped it, or the kernel did), so it "
                           f"scores nothing.")
        record = records[index]
        if "error" in record:
            return False, f"The answers recorded for {name} could not be read: {record['error']}."
        key = channel.check_key(check.__wrapped__, args, kwargs)
        if record.get("check") != name or record.get("key") != key:
            return False, (f"The notebook ran a different check ({str(record.get('key'))[:120]}) "
                           f"where this test runs {key}: the test was changed while it ran.")
        try:
            channel.replay(check, args, kwargs, record, seed)
        except channel.GradingError as exc:
            return False, str(exc)
        except Exception as exc:  # noqa: BLE001 - odd answers must not crash the judge
            return False, (f"{name} could not use the answers your code gave "
                           f"({type(exc).__name__}: {str(exc)[:300]}).")
        passed.append(_describe(name, args, kwargs))
    if len(records) > len(checks):
        return False, (f"The notebook recorded {len(records)} checks while this test runs "
                       f"{len(checks)}: the test was changed while it ran.")
    return True, "Passed (judged by the grader): " + "; ".join(passed) + "."


def main():
    out = sys.stdout
    sys.stdout = sys.stderr       # only verdicts go to the real stdout
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            request = json.loads(line)
            passed, message = judge_cell(str(request.get("source", "")),
                                         list(request.get("records") or []),
                                         int(request.get("seed")))
        except Exception as exc:  # noqa: BLE001 - one verdict per request, always
            passed, message = False, f"the grader's judge failed on this test: {type(exc).__name__}: {exc}"
        out.write(json.dumps({"passed": passed, "message": message}) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
