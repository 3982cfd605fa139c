"""Helpers for tests that run nbgrader on a temporary copy of the course.

nbgrader reads ./nbgrader_config.py from the directory it runs in, so every command runs
with the course copy as its working directory. Submissions are built from the release
notebooks in assignments/, with answer cells filled from solutions/ or replaced by a
deliberately wrong answer.
"""

import os
import re
import shutil
import sys
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
PROBLEM_SETS = ("ps1_finite_differences", "ps2_vjp_rules", "ps3_jvp_rules", "ps4_backprop_by_hand",
                "ps5_autodiff_engine")


def make_course(dest):
    """Copy the course (config, solutions/, assignments/) into `dest`; return its path."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "nbgrader_config.py", dest / "nbgrader_config.py")
    for name in ("solutions", "assignments"):
        shutil.copytree(REPO / name, dest / name)
    return dest


class Course:
    """nbgrader's Python API on a course directory, configured by its nbgrader_config.py."""

    def __init__(self, root):
        from nbgrader.apps import NbGraderAPI
        from nbgrader.coursedir import CourseDirectory

        self.root = Path(root)
        config = load_config(self.root)
        config.CourseDirectory.root = str(self.root)
        self.api = NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)

    def _run(self, what, *args, **kwargs):
        # nbgrader runs `alembic` from PATH to set up the gradebook: use this environment's.
        old_path = os.environ.get("PATH", "")
        os.environ["PATH"] = str(Path(sys.executable).parent) + os.pathsep + old_path
        try:
            result = getattr(self.api, what)(*args, **kwargs)
        finally:
            os.environ["PATH"] = old_path
        assert result["success"], f"nbgrader {what}{args} failed:\n{result.get('error') or result.get('log')}"
        return result

    def generate_assignment(self, ps):
        return self._run("generate_assignment", ps, force=True)

    def autograde(self, ps, student):
        return self._run("autograde", ps, student, force=True)

    def generate_feedback(self, ps, student=None):
        """Feedback for ``student``, or for every graded student of ``ps``."""
        return self._run("generate_feedback", ps, student, force=True)


def notebook_path(root, ps):
    return Path(root) / ps / f"{ps}.ipynb"


def read(path):
    return nbformat.read(str(path), as_version=4)


def grade_id(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")


def is_answer(cell):
    return cell.get("metadata", {}).get("nbgrader", {}).get("solution", False)


def strip_solution_markers(source):
    return "\n".join(line for line in source.splitlines()
                     if "### BEGIN SOLUTION" not in line and "### END SOLUTION" not in line)


def hidden_blocks(source):
    """The text between the hidden-test markers of a cell."""
    return re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", source, re.S)


def solution_regions(source):
    return re.findall(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", source, re.S)


def solved(ps, root=REPO):
    """The release notebook of `ps` with every answer cell filled in from solutions/."""
    source = {grade_id(c): c for c in read(notebook_path(Path(root) / "solutions", ps)).cells}
    nb = read(notebook_path(Path(root) / "assignments", ps))
    for cell in nb.cells:
        if is_answer(cell):
            cell.source = strip_solution_markers(source[grade_id(cell)].source)
    return nb


def untouched(ps, root=REPO):
    return read(notebook_path(Path(root) / "assignments", ps))


def with_answer(nb, answer_id, source):
    """A copy of `nb` whose answer cell `answer_id` holds `source`."""
    nb = nbformat.from_dict(nbformat.reader.reads(nbformat.writes(nb)))
    cells = [c for c in nb.cells if grade_id(c) == answer_id]
    assert cells, f"no cell {answer_id!r}"
    cells[0].source = source
    return nb


def replace_in_answer(nb, answer_id, old, new):
    """A copy of `nb` where `old` becomes `new` in answer cell `answer_id` (must occur)."""
    cell = [c for c in nb.cells if grade_id(c) == answer_id][0]
    assert old in cell.source, f"{old!r} not in cell {answer_id!r}"
    return with_answer(nb, answer_id, cell.source.replace(old, new))


def insert_cell_after(nb, after_id, source):
    """A copy of `nb` with a new (student) code cell right after cell `after_id`."""
    nb = nbformat.from_dict(nbformat.reader.reads(nbformat.writes(nb)))
    index = [i for i, c in enumerate(nb.cells) if grade_id(c) == after_id][0]
    nb.cells.insert(index + 1, nbformat.v4.new_code_cell(source))
    return nb


def submit(course, student, ps, nb):
    path = notebook_path(Path(course) / "submitted" / student, ps)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(path))
    return path


def scores(course, ps):
    """{student: {"total": score, "max": max_score, grade_id: score of that test cell}}."""
    from nbgrader.api import Gradebook

    out = {}
    with Gradebook(f"sqlite:///{Path(course) / 'gradebook.db'}") as gb:
        for submission in gb.assignment_submissions(ps):
            entry = {"total": submission.score, "max": submission.max_score}
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    entry[grade.name] = grade.score
            out[submission.student_id] = entry
    return out


def grade_cells(ps, root=REPO):
    """{grade_id: points} of the test cells of `ps`."""
    return {grade_id(c): c.metadata.nbgrader["points"]
            for c in read(notebook_path(Path(root) / "solutions", ps)).cells
            if c.get("metadata", {}).get("nbgrader", {}).get("grade")}


def load_config(course):
    """The course's nbgrader configuration, as nbgrader would load it."""
    from traitlets.config.loader import PyFileConfigLoader

    loader = PyFileConfigLoader("nbgrader_config.py", path=str(Path(course).resolve()))
    return loader.load_config()
