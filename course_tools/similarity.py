"""Which pairs of students handed in answers that look copied: one problem set, every pair.

Run from the course directory, like the grading command::

    python -m course_tools.similarity ps2_vjp_rules [--threshold 0.6] [--top 20]

For each submission in ``submitted/<student>/<ps>/`` it takes the code of the answer cells
(the cells the release notebook in ``assignments/<ps>/`` marks as solution cells) minus the
starter code the release already had, and normalises it: comments, docstrings, blank lines
and dead code go, local names become ``v0, v1, ...`` in the order they are bound, numbers
and strings become ``N`` and ``'S'``, the operands of ``+`` and ``*`` are sorted, and each
function is compared on its own, so that reordering them changes nothing. The normalised
code of each answer cell is cut into overlapping runs of K tokens, its fingerprints (all of
them: answers are short, and winnowing would throw evidence away), and an inverted index from
fingerprint to students, as a 0/1 matrix times its transpose, counts what every pair shares
at once.

A fingerprint is worth log((n + 1) / k) when k of the n students have it: code the whole
class writes the same way (``return lambda g: g * ans``) is worth about nothing, and a
coincidence on common code counts for less than one on rare code. Per answer cell, a pair's
score is the weight of the fingerprints the two share over the weight of the smaller of the
two answers, both less what that answer would share by chance with a classmate drawn at
random. The pair's score averages the cells, each weighted by the square root of that
distinctive weight (a long answer counts for more than a one-liner, but no single answer
decides), and is never divided by less than MIN_EVIDENCE, so that two nearly empty
notebooks cannot look alike. 1 means that everything distinctive in the shorter answers is
in the other notebook too; 0 means no more in common than two classmates at random.

Pairs at or above the threshold are printed, and written with their per-cell scores and
both normalised codes side by side to ``feedback/<ps>_similarity.csv`` and ``.html``. A high
score is a reason for a person to read the two notebooks, not proof of copying.
See docs/grading_a_class.md.
"""

import argparse
import ast
import builtins
import csv
import html
import io
import json
import math
import sys
import time
import tokenize
from collections import defaultdict
from pathlib import Path

from .grade import read_notebook

K = 8                 # tokens per fingerprint
MIN_EVIDENCE = 20.0   # the least total cell weight a pair's score is divided by
THRESHOLD = 0.6       # pairs at or above this are reported
CELL_SHOWN = 0.8      # per-cell score at which the printed table names the cell

# Modules whose names (and attributes) are kept; an alias of one becomes its usual name.
MODULES = {"numpy": "np", "minigrad": "mg", "minigrad.numpy": "mnp", "math": "math",
           "scipy": "scipy", "course_tools.grading": "G"}
COMMUTATIVE = (ast.Add, ast.Mult, ast.BitAnd, ast.BitOr, ast.BitXor)
DEFS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
DISCLAIMER = ("A high score is a reason to read the two notebooks side by side, not proof of "
              "copying: students who worked from the same lecture example, a study group's "
              "whiteboard or a tutor's hint can write the same code honestly.")


# ------------------------------------------------------------------------------ the course

def _course_dirs(root):
    """(release, source, submitted, feedback) folders, as nbgrader_config.py names them."""
    names = {"release_directory": "release", "source_directory": "source",
             "submitted_directory": "submitted", "feedback_directory": "feedback"}
    config_file = root / "nbgrader_config.py"
    if config_file.exists():
        from traitlets.config.loader import PyFileConfigLoader
        course = PyFileConfigLoader(config_file.name, path=str(root)).load_config().CourseDirectory
        names = {key: course.get(key, default) for key, default in names.items()}
    return [root / names[key] for key in ("release_directory", "source_directory",
                                          "submitted_directory", "feedback_directory")]


def _source(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def _meta(cell):
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return meta if isinstance(meta, dict) else {}


def _without_solutions(source):
    """A solution cell as the release has it: the text between the markers taken out."""
    kept, inside = [], False
    for line in source.splitlines():
        if "### BEGIN SOLUTION" in line:
            inside = True
        elif "### END SOLUTION" in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept)


def answer_cells(release, source, ps):
    """{notebook: {grade_id: starter code}} of the problem set's answer cells, in order."""
    folder, strip = release / ps, False
    if not sorted(folder.glob("*.ipynb")):
        folder, strip = source / ps, True   # not released yet: the solutions minus answers
    found = {}
    for path in sorted(folder.glob("*.ipynb")):
        nb = json.loads(path.read_text(encoding="utf-8"))
        cells = {}
        for cell in nb.get("cells", []):
            meta = _meta(cell)
            if cell.get("cell_type") == "code" and meta.get("solution") and meta.get("grade_id"):
                text = _source(cell)
                cells[meta["grade_id"]] = _without_solutions(text) if strip else text
        found[path.stem] = cells
    if not found:
        raise SystemExit(f"no notebooks of {ps} in {release / ps} or {source / ps}")
    return found


def release_names(release, source, ps):
    """Names the notebooks define or import at top level: kept as they are, not renamed."""
    names = set(dir(builtins))
    folder = release / ps if sorted((release / ps).glob("*.ipynb")) else source / ps
    for path in folder.glob("*.ipynb"):
        for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            try:
                tree = ast.parse(_without_solutions(_source(cell)))
            except (SyntaxError, ValueError):
                continue
            for node in tree.body:
                if isinstance(node, DEFS):
                    names.add(node.name)
                elif isinstance(node, (ast.Import, ast.ImportFrom)):
                    names |= {a.asname or a.name.split(".")[0] for a in node.names}
    return names


# ------------------------------------------------------------------------------ normalising

def _subtract(stmts, starter):
    """The statements the student wrote: the starter's own ones taken out, def by def."""
    given = {ast.dump(s) for s in starter}
    defs = {s.name: s for s in starter if isinstance(s, DEFS)}
    kept = []
    for s in stmts:
        if isinstance(s, DEFS) and type(defs.get(s.name)) is type(s):
            s.body = _subtract(s.body, defs[s.name].body)
            kept.append(s)
        elif ast.dump(s) not in given:
            kept.append(s)
    return kept


def _falsy(node):
    return isinstance(node, ast.Constant) and not node.value


class _Clean(ast.NodeTransformer):
    """Drop what does not run or does nothing: docstrings, pass, if False, code after a
    return, and (inside functions) assignments to names nothing reads."""

    def __init__(self, loaded):
        self.loaded, self.depth = loaded, 0

    def visit_FunctionDef(self, node):
        node.returns = None
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_arg(self, node):
        node.annotation = None
        return node

    def generic_visit(self, node):
        super().generic_visit(node)
        for field in ("body", "orelse", "finalbody"):
            stmts = getattr(node, field, None)
            if isinstance(stmts, list) and stmts and isinstance(stmts[0], ast.stmt):
                setattr(node, field, self._body(stmts))
        return node

    def _body(self, stmts):
        kept = []
        for s in stmts:
            if isinstance(s, ast.Pass) or (isinstance(s, ast.Expr) and isinstance(s.value, ast.Constant)):
                continue
            if isinstance(s, ast.While) and _falsy(s.test):
                continue
            if isinstance(s, ast.If) and isinstance(s.test, ast.Constant):
                kept += s.orelse if _falsy(s.test) else s.body
                continue
            if (self.depth and isinstance(s, ast.Assign)
                    and all(isinstance(t, ast.Name) and t.id not in self.loaded for t in s.targets)):
                continue
            kept.append(s)
            if isinstance(s, (ast.Return, ast.Raise, ast.Continue, ast.Break)):
                break
        return kept


class _Bindings(ast.NodeVisitor):
    """Local names in the order they are bound (parameters first, comprehension targets
    before the expression that uses them), whatever order the operands are written in."""

    def __init__(self):
        self.names = []

    def add(self, name):
        if name not in self.names:
            self.names.append(name)

    def visit_arg(self, node):
        self.add(node.arg)

    def visit_Name(self, node):
        if not isinstance(node.ctx, ast.Load):
            self.add(node.id)

    def visit_FunctionDef(self, node):
        self.add(node.name)
        self.visit(node.args)
        for s in node.body:
            self.visit(s)

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Lambda(self, node):
        self.visit(node.args)
        self.visit(node.body)

    def visit_ExceptHandler(self, node):
        if node.name:
            self.add(node.name)
        self.generic_visit(node)

    def visit_Import(self, node):
        for a in node.names:
            if a.name not in MODULES:
                self.add(a.asname or a.name.split(".")[0])

    def visit_ImportFrom(self, node):
        if node.module not in MODULES:
            for a in node.names:
                self.add(a.asname or a.name)

    def _comprehension(self, node):
        for generator in node.generators:
            self.visit(generator)
        for field in ("key", "value", "elt"):
            if hasattr(node, field):
                self.visit(getattr(node, field))

    visit_ListComp = visit_SetComp = visit_DictComp = visit_GeneratorExp = _comprehension


class _Rename(ast.NodeTransformer):
    """Locals become v0, v1, ...; the student's own helpers `helper`; other unknown globals
    `glob`; library and notebook names stay; literals are abstracted."""

    def __init__(self, local, keep, helpers, aliases):
        self.local = {name: f"v{i}" for i, name in enumerate(local)}
        self.keep, self.helpers, self.aliases = keep, helpers, aliases

    def name(self, name):
        if name in self.local:
            return self.local[name]
        if name in self.aliases:
            return self.aliases[name]
        if name in self.keep:
            return name
        return "helper" if name in self.helpers else "glob"

    def visit_Name(self, node):
        node.id = self.name(node.id)
        return node

    def visit_arg(self, node):
        node.arg = self.name(node.arg)
        return node

    def visit_FunctionDef(self, node):
        if node.name in self.local or node.name in self.helpers:
            node.name = self.name(node.name)
        node.decorator_list = []
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ExceptHandler(self, node):
        if node.name:
            node.name = self.name(node.name)
        self.generic_visit(node)
        return node

    def visit_Global(self, node):
        node.names = [self.name(n) for n in node.names]
        return node

    visit_Nonlocal = visit_Global

    def visit_Constant(self, node):
        value = node.value
        if isinstance(value, (str, bytes)):
            return ast.copy_location(ast.Constant("S"), node)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            if value in (0, 1, 2):
                return ast.copy_location(ast.Constant(int(value)), node)
            return ast.copy_location(ast.Name("N", ast.Load()), node)
        return node

    def visit_JoinedStr(self, node):
        return ast.copy_location(ast.Constant("S"), node)


class _Commute(ast.NodeTransformer):
    """a * b and b * a, a + b + c in any order: one form (the operands sorted)."""

    def visit_BinOp(self, node):
        self.generic_visit(node)
        if not isinstance(node.op, COMMUTATIVE):
            return node
        operands, stack = [], [node]
        while stack:
            item = stack.pop()
            if isinstance(item, ast.BinOp) and type(item.op) is type(node.op):
                stack += [item.right, item.left]
            else:
                operands.append(item)
        operands.sort(key=ast.dump)
        result = operands[0]
        for operand in operands[1:]:
            result = ast.BinOp(result, type(node.op)(), operand)
        return ast.copy_location(result, node)


def _tokens(text):
    """The token strings of normalised code (line ends and indentation as tokens too)."""
    out = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(text).readline):
            if tok.type in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER):
                continue
            out.append({tokenize.NEWLINE: ";", tokenize.INDENT: "{",
                        tokenize.DEDENT: "}"}.get(tok.type, tok.string))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        out += text.split()
    return out


def _unit(node, keep, helpers, aliases):
    """(display code, tokens) of one function (or of a cell's other statements)."""
    module = node if isinstance(node, ast.Module) else ast.Module([node], [])
    loaded = {n.id for n in ast.walk(module) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    module = _Clean(loaded).visit(module)
    bindings = _Bindings()
    for s in module.body:
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            bindings.visit(s.args)      # the function's own name is the starter's: kept
            for inner in s.body:
                bindings.visit(inner)
        else:
            bindings.visit(s)
    module = _Commute().visit(_Rename(bindings.names, keep, helpers, aliases).visit(module))
    ast.fix_missing_locations(module)
    if not module.body:
        return "", []
    body = module.body[0].body if isinstance(node, ast.FunctionDef) else module.body
    text = "\n".join(ast.unparse(s) for s in body)
    if isinstance(node, ast.FunctionDef) and not body:
        module.body[0].body = [ast.Pass()]
    return ast.unparse(module), _tokens(text)


def normalise(source, starter, keep):
    """[(label, display code, tokens)] of the code a student wrote in one answer cell."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        given = {line.strip() for line in starter.splitlines()}
        lines = [line for line in source.splitlines()
                 if line.strip() and line.strip() not in given and not line.strip().startswith("#")]
        text = "\n".join(lines)
        return [("(does not parse)", text, _tokens(text))] if lines else []
    try:
        starter_body = ast.parse(starter).body
    except (SyntaxError, ValueError):
        starter_body = []
    starter_defs = [s.name for s in starter_body if isinstance(s, DEFS)]
    body = _subtract(tree.body, starter_body)
    helpers = {s.name for s in body if isinstance(s, DEFS) and s.name not in starter_defs}
    aliases = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases.update({a.asname: MODULES[a.name] for a in node.names
                            if a.asname and a.name in MODULES})
        elif isinstance(node, ast.ImportFrom) and node.module in MODULES:
            aliases.update({a.asname or a.name: a.name for a in node.names})
    units, rest = [], []
    for s in body:
        if isinstance(s, (ast.FunctionDef, ast.AsyncFunctionDef)):
            units.append((s.name, s))
        elif isinstance(s, ast.ClassDef):
            others = []
            for item in s.body:
                if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    units.append((f"{s.name}.{item.name}", item))
                else:
                    others.append(item)
            if others:
                units.append((f"{s.name} (class body)", ast.Module(others, [])))
        else:
            rest.append(s)
    if rest:
        units.append(("(top level)", ast.Module(rest, [])))
    out = []
    for label, node in units:
        if label in helpers:
            label = "helper"
        text, tokens = _unit(node, keep, helpers, aliases)
        if tokens:
            out.append((label, text, tokens))
    # Functions in a fixed order (the starter's, then the student's own by their code).
    order = {name: i for i, name in enumerate(starter_defs)}
    out.sort(key=lambda u: (order.get(u[0].split(".")[0], len(order)), u[0], u[1]))
    return out


def fingerprints(units):
    """The hashed K-token runs of a cell's units (a unit shorter than K is one run)."""
    found = set()
    for _, _, tokens in units:
        if len(tokens) < K:
            found.add(hash(tuple(tokens)))
        for i in range(len(tokens) - K + 1):
            found.add(hash(tuple(tokens[i:i + K])))
    return found


# ------------------------------------------------------------------------------ the class

def read_class(root, ps):
    """{student: {cell: (units, fingerprints)}}, the cells, [(student, what was wrong)] and
    the number of submission folders (readable or not)."""
    release, source, submitted, _ = _course_dirs(root)
    notebooks = answer_cells(release, source, ps)
    keep = release_names(release, source, ps)
    several = len(notebooks) > 1
    cells = [f"{nb}:{c}" if several else c for nb, ids in notebooks.items() for c in ids]
    students, notes = {}, []
    folders = sorted(p for p in submitted.glob(f"*/{ps}") if p.is_dir())
    for folder in folders:
        student, answers, missing = folder.parent.name, {}, []
        for name, starters in notebooks.items():
            path = folder / f"{name}.ipynb"
            if not path.exists():
                notes.append((student, f"no {name}.ipynb in the submission; skipped"))
                answers = None
                break
            nb, problem = read_notebook(path, 100e6)
            if problem:
                notes.append((student, f"{problem}; skipped"))
                answers = None
                break
            written = defaultdict(list)
            for cell in nb["cells"]:
                grade_id = _meta(cell).get("grade_id")
                if cell.get("cell_type") == "code" and grade_id in starters:
                    written[grade_id].append(_source(cell))
            for grade_id, starter in starters.items():
                label = f"{name}:{grade_id}" if several else grade_id
                if grade_id not in written:
                    missing.append(label)
                units = normalise("\n".join(written.get(grade_id, [])), starter, keep)
                answers[label] = (units, fingerprints(units))
        if answers is None:
            continue
        if missing:
            notes.append((student, f"answer cell{'s' if len(missing) > 1 else ''} "
                                   f"{', '.join(repr(m) for m in missing)} missing; compared "
                                   f"without {'them' if len(missing) > 1 else 'it'}"))
        students[student] = answers
    return students, cells, notes, len(folders)


def weight(holders, students):
    """What a fingerprint that `holders` of the class's `students` have is worth: the rarer,
    the more (its inverse document frequency); one everybody has is worth about 0."""
    return math.log((students + 1) / holders)


def score_pairs(students, cells):
    """[{a, b, score, shared, cells: {cell: score or None}}] of every pair sharing anything
    beyond chance, highest first.

    Per cell: a 0/1 matrix of students by the fingerprints at least two of them have, times
    its weighted transpose, gives the weight every pair shares (the inverted index's counts,
    for all pairs at once). From it and from the smaller answer's weight, both less what the
    smaller answer would share with a classmate drawn at random, comes the cell's score; the
    pair's is the cells' average, each weighted by the square root of that distinctive
    weight, so that long answers count for more but one long answer does not decide it."""
    import numpy as np

    names = sorted(students)
    n = len(names)
    shared = np.zeros((len(cells), n, n))
    room = np.zeros((len(cells), n, n))
    for ci, cell in enumerate(cells):
        holders = defaultdict(list)
        for si, student in enumerate(names):
            for h in students[student][cell][1]:
                holders[h].append(si)
        mass, chance = np.zeros(n), np.zeros(n)
        columns, weights = {}, []
        for h, who in holders.items():
            w = weight(len(who), n)
            mass[who] += w
            chance[who] += w * (len(who) - 1) / max(1, n - 1)
            if len(who) > 1:
                columns[h] = len(columns)
                weights.append(w)
        common = np.zeros((n, n))
        if columns:
            a = np.zeros((n, len(columns)))
            for h, column in columns.items():
                a[holders[h], column] = 1.0
            common = (a * np.array(weights)) @ a.T
        # The smaller answer of each pair, and what it shares with anyone by chance.
        expected = np.where(mass[:, None] <= mass[None, :], chance[:, None], chance[None, :])
        room[ci] = np.maximum(np.minimum.outer(mass, mass) - expected, 0.0)
        shared[ci] = np.minimum(np.maximum(common - expected, 0.0), room[ci])
    with np.errstate(divide="ignore", invalid="ignore"):
        per_cell = np.where(room > 1e-9, shared / room, np.nan)
    cell_weight = np.sqrt(room)
    evidence = (np.nan_to_num(per_cell) * cell_weight).sum(axis=0)
    score = evidence / np.maximum(cell_weight.sum(axis=0), MIN_EVIDENCE)
    pairs = []
    for i, j in zip(*np.nonzero(np.triu(evidence > 1e-9, k=1))):
        pairs.append({
            "a": names[i], "b": names[j], "shared": float(shared[:, i, j].sum()),
            "score": float(score[i, j]),
            "cells": {c: (None if np.isnan(per_cell[ci, i, j]) else float(per_cell[ci, i, j]))
                      for ci, c in enumerate(cells)}})
    pairs.sort(key=lambda p: (-p["score"], p["a"], p["b"]))
    return pairs


# ------------------------------------------------------------------------------ writing

def _code(students, student, cell):
    return "\n\n".join(text for _, text, _ in students[student][cell][0])


def _side_by_side(left, right):
    """Two <pre> columns; lines the other side has too are marked."""
    lines_l, lines_r = set(left.splitlines()), set(right.splitlines())

    def column(text, other):
        return "\n".join(f"<mark>{html.escape(line)}</mark>" if line.strip() and line in other
                         else html.escape(line) for line in text.splitlines()) or "<i>(nothing written)</i>"
    return (f"<td><pre>{column(left, lines_r)}</pre></td>"
            f"<td><pre>{column(right, lines_l)}</pre></td>")


def _fmt(value):
    return "" if value is None else f"{value:.2f}"


def write(out_dir, ps, students, cells, pairs, threshold, notes):
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"{ps}_similarity"
    flagged = [p for p in pairs if p["score"] >= threshold]
    with open(f"{stem}.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["student_a", "student_b", "score", "shared_weight"] + cells)
        for p in flagged:
            w.writerow([p["a"], p["b"], f"{p['score']:.3f}", f"{p['shared']:.1f}"]
                       + [_fmt(p["cells"][c]) for c in cells])
    rows = "".join(
        f"<tr><td><a href='#pair{i}'>{html.escape(p['a'])} &amp; {html.escape(p['b'])}</a></td>"
        f"<td>{p['score']:.2f}</td>" + "".join(f"<td>{_fmt(p['cells'][c])}</td>" for c in cells)
        + "</tr>" for i, p in enumerate(flagged))
    sections = []
    for i, p in enumerate(flagged):
        parts = [f"<h2 id='pair{i}'>{html.escape(p['a'])} &amp; {html.escape(p['b'])}: "
                 f"{p['score']:.2f}</h2><table class='code'><tr><th></th>"
                 f"<th>{html.escape(p['a'])}</th><th>{html.escape(p['b'])}</th></tr>"]
        for c in cells:
            parts.append(f"<tr><th>{html.escape(c)}<br>{_fmt(p['cells'][c]) or '-'}</th>"
                         + _side_by_side(_code(students, p["a"], c), _code(students, p["b"], c))
                         + "</tr>")
        sections.append("".join(parts) + "</table>")
    skipped = "".join(f"<li>{html.escape(s)}: {html.escape(why)}</li>" for s, why in notes)
    Path(f"{stem}.html").write_text(
        "<!doctype html><meta charset='utf-8'>"
        f"<title>{html.escape(ps)} similarity</title>"
        "<style>body{font-family:sans-serif}td,th{vertical-align:top;padding:4px}"
        "pre{margin:0;white-space:pre-wrap}mark{background:#fde68a}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc}</style>"
        f"<h1>{html.escape(ps)}: pairs of submissions with similar answers</h1>"
        f"<p><b>{html.escape(DISCLAIMER)}</b></p>"
        f"<p>{len(students)} submission{'' if len(students) == 1 else 's'} compared, "
        f"{len(flagged)} pair{'' if len(flagged) == 1 else 's'} at or above "
        f"{threshold:.2f}. A score of 1 means that everything distinctive in the shorter "
        f"answers is in the other notebook too, 0 no more in common than two classmates at "
        f"random; code the whole class writes the same way counts for about nothing. Per "
        f"cell: the same, for that cell (blank: nothing distinctive written). The code below is normalised (local names v0, v1, ..., "
        f"numbers N, strings 'S', comments and dead code gone); lines both have are marked. "
        f"Open the notebooks themselves before you decide anything.</p>"
        + (f"<p>Not compared or compared in part:</p><ul>{skipped}</ul>" if skipped else "")
        + "<table><tr><th>pair</th><th>score</th>"
        + "".join(f"<th>{html.escape(c)}</th>" for c in cells) + f"</tr>{rows}</table>"
        + "".join(sections), encoding="utf-8")
    return stem


def render(pairs, threshold, top):
    """The printed table: the highest pairs at or above the threshold."""
    shown = [p for p in pairs if p["score"] >= threshold][:top]
    if not shown:
        return f"No pair scores {threshold:.2f} or more."
    wa = max([len("student A")] + [len(p["a"]) for p in shown])
    wb = max([len("student B")] + [len(p["b"]) for p in shown])
    lines = [f"{'score':>5}  {'student A':<{wa}}  {'student B':<{wb}}  cells alike (per-cell score "
             f"{CELL_SHOWN} or more)",
             f"{'-' * 5}  {'-' * wa}  {'-' * wb}  {'-' * 30}"]
    for p in shown:
        alike = [c for c, s in p["cells"].items() if s is not None and s >= CELL_SHOWN]
        lines.append(f"{p['score']:>5.2f}  {p['a']:<{wa}}  {p['b']:<{wb}}  {', '.join(alike) or '-'}")
    return "\n".join(lines)


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m course_tools.similarity",
        description="Score every pair of submissions of one problem set for answers that look "
                    "copied, and write the pairs above the threshold for a person to read.")
    p.add_argument("assignment", help="problem set, e.g. ps2_vjp_rules")
    p.add_argument("--threshold", type=float, default=THRESHOLD,
                   help="pairs scoring this much or more are reported (0 to 1; default "
                        f"{THRESHOLD})")
    p.add_argument("--top", type=int, default=20, help="pairs printed (default 20; the files "
                                                       "have every pair above the threshold)")
    p.add_argument("--root", default=".", help="course directory (default: current directory)")
    args = p.parse_args(argv)
    root = Path(args.root).resolve()
    started = time.monotonic()
    students, cells, notes, folders = read_class(root, args.assignment)
    if not folders:
        raise SystemExit(f"no submissions of {args.assignment} in {_course_dirs(root)[2]}")
    n = len(students)
    print(f"Similarity of {args.assignment}: {n} submission{'' if n == 1 else 's'}, "
          f"{n * (n - 1) // 2} pair{'' if n * (n - 1) == 2 else 's'}, {len(cells)} answer cells")
    for student, why in notes:
        print(f"WARNING {student}: {why}", file=sys.stderr)
    pairs = score_pairs(students, cells)
    out = write(_course_dirs(root)[3], args.assignment, students, cells, pairs,
                args.threshold, notes)
    print()
    print(render(pairs, args.threshold, args.top))
    flagged = sum(p["score"] >= args.threshold for p in pairs)
    print(f"\n{flagged} pair{'' if flagged == 1 else 's'} at or above {args.threshold:.2f}, in "
          f"{time.monotonic() - started:.1f} s. Written to {out}.csv, .html")
    print(DISCLAIMER)
    return 0


if __name__ == "__main__":
    sys.exit(main())
