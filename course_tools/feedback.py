"""The feedback page students get: readable offline, without the grader's file paths.

nbgrader's feedback HTML loads MathJax from a CDN (so on a machine without network, or
opened from a file, every formula shows as raw LaTeX), lists test cells as "Test cell"
without their names, lets long verdict lines run off the right edge, and repeats the
file paths of the grader's machine that appear in tracebacks. The kit's feedback keeps
nbgrader's pipeline and changes that:

- :class:`OfflineFeedback` (a preprocessor of ``GenerateFeedback``) turns the LaTeX of
  markdown cells into MathML, which browsers draw themselves (no script, no network), and
  replaces the grader's paths in outputs with short names (``<python>``, ``<kit>``, ...);
- the template ``course_tools/templates/feedback`` (used in place of nbgrader's, same
  name) names every graded cell with its score, wraps long lines, and loads no script.
"""

import html
import os
import re
import sys
import tempfile
from pathlib import Path

from nbconvert.preprocessors import Preprocessor
from traitlets import Bool

KIT = Path(__file__).resolve().parents[1]
TEMPLATES = Path(__file__).resolve().parent / "templates"

# $$...$$ (display) or $...$ (inline), not \$; code spans are left alone (see _math_outside_code)
_MATH = re.compile(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<![\\$])\$(?!\s)(.+?)(?<![\s\\])\$(?!\d)", re.S)
_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)


def to_mathml(tex, display):
    """MathML for one formula; the LaTeX itself, escaped, if it cannot be converted."""
    try:
        from latex2mathml.converter import convert
        out = convert(tex.strip(), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - a formula the converter does not know stays readable
        return f"<code>{html.escape(tex)}</code>"
    return out.replace("\n", " ")


def markdown_with_mathml(source):
    """The markdown with every formula outside code replaced by MathML."""
    parts = _CODE.split(source)
    for i in range(0, len(parts), 2):          # even parts are outside code
        parts[i] = _MATH.sub(lambda m: (
            "\n\n" + to_mathml(m.group(1), True) + "\n\n" if m.group(1) is not None
            else to_mathml(m.group(2), False)), parts[i])
    return "".join(parts)


def _path_names():
    """(prefix, short name) of the grader's paths, longest first."""
    home = os.path.expanduser("~")
    names = [(sys.prefix, "<python>"), (sys.base_prefix, "<python>"), (str(KIT), "<kit>"),
             (tempfile.gettempdir(), "<tmp>"), (home, "~")]
    names = [(str(Path(p)), n) for p, n in names if p and p not in ("/", "")]
    return sorted(set(names), key=lambda pn: -len(pn[0]))


def scrub_paths(text, names=None):
    for prefix, name in names or _path_names():
        text = text.replace(prefix + os.sep, name + "/").replace(prefix, name)
    return text


class OfflineFeedback(Preprocessor):
    """MathML for the formulas of markdown cells; no grader paths in outputs."""

    enabled = Bool(True).tag(config=True)   # nbgrader registers it without enabling it

    def preprocess(self, nb, resources):
        self._names = _path_names()
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type == "markdown":
            cell.source = markdown_with_mathml(cell.source)
        for output in cell.get("outputs", []):
            if "text" in output:
                output["text"] = scrub_paths(output["text"], self._names)
            if "traceback" in output:
                output["traceback"] = [scrub_paths(t, self._names) for t in output["traceback"]]
            if "evalue" in output:
                output["evalue"] = scrub_paths(output["evalue"], self._names)
            data = output.get("data", {})
            for mime in ("text/plain", "text/html"):
                if isinstance(data.get(mime), str):
                    data[mime] = scrub_paths(data[mime], self._names)
        return cell, resources
