"""A Jupyter server extension: nbgrader's Validate dialog, with a summary first.

nbgrader's Validate button lists every failing test cell, each with its whole source and
error, and nothing else: for an untouched problem set that is a long scroll with no count.
This extension keeps nbgrader's dialog and adds, as its first entry, the summary a student
needs: how many tests pass, and each failing test by name with its one-line reason. On a
notebook without tests (a lecture) it says so, instead of nbgrader's "Success! Your
notebook passes all the tests."

Enabled by the student set-up, ``binder/jupyter_config/jupyter_server_config.json`` (on
Binder and with ``python -m course_tools.lab``). It wraps
``ValidateAssignmentHandler.validate_notebook`` of nbgrader 0.9's validate server extension;
the result keeps nbgrader's format, so nbgrader's own dialog shows it.
"""

import html
import json
import re
from pathlib import Path

NO_TESTS = ("This notebook has no graded tests, so there is nothing to validate: it is a "
            "lecture or a notebook of your own. Its self-check cells, run in order, tell you "
            "how you are doing. Validate checks the problem sets in assignments/.")


# nbgrader's dialog puts "The following cell failed:" above every entry. Above the summary
# (the first entry) that label is wrong, so the entry's HTML hides it.
# Long lines wrap instead of running off the dialog's right edge.
_NO_LABEL = ("<style>#validation-message > div:first-child { display: none; } "
             "#validation-message pre { white-space: pre-wrap; }</style>")


def _one_line(error_html):
    """The last line of an error (its exception and message), as plain text."""
    text = html.unescape(re.sub(r"<[^>]+>", "", error_html or ""))
    text = re.sub(r"\x1b\[[0-9;]*m", "", text)
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    line = lines[-1] if lines else "failed"
    if line.rstrip(":").strip() == "NotImplementedError":
        return "not written yet (it raises NotImplementedError)"
    return line if len(line) <= 300 else line[:297] + "..."


def _test_cells(path):
    """[(grade_id, points, source)] of the notebook's test cells, in order."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    cells = []
    for cell in nb.get("cells", []):
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if cell.get("cell_type") == "code" and meta.get("grade") and not meta.get("solution"):
            source = cell.get("source", "")
            cells.append((meta.get("grade_id", "?"), meta.get("points", 0),
                          "".join(source) if isinstance(source, list) else source))
    return cells


def summarize(result, path):
    """nbgrader's validate result for the notebook at `path`, with a summary first."""
    if not isinstance(result, dict) or not result.get("success"):
        return result
    value = result.get("value")
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return result
    if not isinstance(value, dict):
        return result
    tests = _test_cells(path)
    if tests is None:
        return result
    if not tests and not value.get("changed") and not value.get("type_changed"):
        return {"success": True, "value": {"failed": [{"source": NO_TESTS, "error": _NO_LABEL}]}}
    failed = value.get("failed")
    if not isinstance(failed, list) or not failed:
        return result
    by_source = {source.strip(): (name, points) for name, points, source in tests}
    rows = []
    for entry in failed:
        name, points = by_source.get(str(entry.get("source", "")).strip(), ("a test", 0))
        rows.append((name, points, _one_line(entry.get("error", ""))))
    total = len(tests)
    passing = max(total - len(rows), 0)
    items = "".join(f"<li><b>{html.escape(name)}</b> ({points:g} point{'s' if points != 1 else ''}): "
                    f"{html.escape(reason)}</li>" for name, points, reason in rows)
    summary = {
        "source": (f"Summary: {passing} of {total} tests pass here (their hidden parts run "
                   f"when you hand in). Failing: {', '.join(name for name, _, _ in rows)}."),
        "error": f"{_NO_LABEL}<ul>{items}</ul>The failing tests follow, each with its code "
                 f"and its error.",
    }
    value = dict(value, failed=[summary] + failed)
    return dict(result, value=value)


def _patch():
    from nbgrader.server_extensions.validate_assignment import handlers

    handler = handlers.ValidateAssignmentHandler
    if getattr(handler.validate_notebook, "_summarized", False):
        return
    original = handler.validate_notebook

    def validate_notebook(self, path):
        result = original(self, path)
        try:
            full = (Path(self.root_dir) / path).resolve()
            return summarize(result, full)
        except Exception:  # noqa: BLE001 - the summary must never hide nbgrader's result
            self.log.exception("course_tools.validate_summary could not summarize")
            return result

    validate_notebook._summarized = True
    handler.validate_notebook = validate_notebook


def _jupyter_server_extension_points():
    return [{"module": "course_tools.validate_summary"}]


def _load_jupyter_server_extension(serverapp):
    _patch()
    serverapp.log.info("course_tools.validate_summary: Validate shows a summary first")
