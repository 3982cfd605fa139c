"""Copy detection (course_tools.similarity) on generated classes of ps2_vjp_rules: honest
students who wrote their answers independently in different styles, copiers who disguised
another's notebook, partial copiers, and the notebooks a real class hands in (not JSON, an
answer cell deleted, one student, none). See tests/similarity_class.py for the class."""

import csv
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

import course_utils as cu
import similarity_class as sc
from course_tools import similarity

ROOT = Path(__file__).resolve().parents[1]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
PS = sc.PS
THRESHOLD = similarity.THRESHOLD
PARTIALS = [["logsumexp_forward", "logsumexp_vjp", "hypot_vjp"], ["linear_vjp", "softmax_vjp", "norm_vjp"]]


def run(course, *args, check=True):
    return subprocess.run([sys.executable, "-m", "course_tools.similarity", PS, *args], cwd=course,
                          env=ENV, check=check, capture_output=True, text=True, timeout=300)


def pairs(course):
    """{(a, b): row} of feedback/<ps>_similarity.csv, the pair in alphabetical order."""
    with open(Path(course) / "feedback" / f"{PS}_similarity.csv", newline="", encoding="utf-8") as f:
        return {tuple(sorted((r["student_a"], r["student_b"]))): r for r in csv.DictReader(f)}


def key(a, b):
    return tuple(sorted((a, b)))


@pytest.fixture(scope="module")
def klass(tmp_path_factory):
    """40 honest students, 6 copiers (one answer each rewritten), 2 copying 3 of 8 cells;
    scored with --threshold 0, so the CSV holds every pair with anything in common."""
    course = cu.make_course(tmp_path_factory.mktemp("similarity") / "course")
    honest, copied, partial = sc.make_class(course, 40, 6, PARTIALS, seed=0)
    result = run(course, "--threshold", "0", "--top", "100")
    return course, honest, copied, partial, pairs(course), result


def test_every_copy_is_above_the_threshold_and_no_honest_pair_is(klass):
    course, honest, copied, partial, found, _ = klass
    planted = {key(c, v) for c, v in copied.items()} | {key(p, v) for p, (v, _) in partial.items()}
    copy_scores = sorted(float(found[key(c, v)]["score"]) for c, v in copied.items())
    others = sorted(float(r["score"]) for k, r in found.items() if k not in planted)
    honest_scores = [float(found[key(a, b)]["score"]) if key(a, b) in found else 0.0
                     for i, a in enumerate(honest) for b in honest[i + 1:]]
    median = sorted(honest_scores)[len(honest_scores) // 2]
    print(f"copy pairs {copy_scores}; highest other pair {others[-1]:.3f} of {len(others)}; "
          f"median honest pair {median:.3f}")
    assert copy_scores[0] >= THRESHOLD
    assert others[-1] < THRESHOLD
    # Two classmates who did not copy have about nothing in common beyond chance.
    assert median < 0.15
    # Each copy's rewritten answer is the one cell that does not match.
    for c, v in copied.items():
        cells = found[key(c, v)]
        alike = [g for g in sc.CELLS if cells[g] and float(cells[g]) >= 0.9]
        assert len(alike) >= 6, (c, v, cells)


def test_partial_copies_score_in_between_and_show_their_cells(klass):
    course, honest, copied, partial, found, _ = klass
    copy_low = min(float(found[key(c, v)]["score"]) for c, v in copied.items())
    honest_scores = sorted(float(r["score"]) for (a, b), r in found.items() if a in honest and b in honest)
    # Honest pairs that share nothing beyond chance are not in the file: they score 0.
    honest_scores = [0.0] * (len(honest) * (len(honest) - 1) // 2 - len(honest_scores)) + honest_scores
    typical = honest_scores[int(0.95 * len(honest_scores))]
    for p, (victim, taken) in partial.items():
        row = found[key(p, victim)]
        score = float(row["score"])
        print(f"{p} copied {taken} from {victim}: {score:.3f}; copies from {copy_low:.3f}, "
              f"95% of honest pairs below {typical:.3f}",
              {g: row[g] for g in sc.CELLS})
        assert typical < score < copy_low
        for g in taken:
            assert float(row[g]) >= 0.9, (p, g, row[g])


def test_disguises_normalise_to_the_same_code():
    rng = random.Random(3)
    release = sc.release()
    starters = {c["metadata"]["nbgrader"]["grade_id"]: "".join(c["source"]) for c in release["cells"]
                if c.get("metadata", {}).get("nbgrader", {}).get("solution")}
    keep = similarity.release_names(ROOT / "assignments", ROOT / "solutions", PS)
    for _ in range(5):
        names = sc.student_names(rng)
        original = {g: sc.write_cell(g, rng, names) for g in sc.CELLS}
        disguised = sc.disguise(original, rng, names)
        for g in sc.CELLS:
            assert original[g] != disguised[g]
            before = [u for u in similarity.normalise(original[g], starters[g], keep) if u[0] != "helper"]
            after = [u for u in similarity.normalise(disguised[g], starters[g], keep) if u[0] != "helper"]
            assert [u[1] for u in before] == [u[1] for u in after], (original[g], disguised[g])


def test_starter_code_and_common_one_liners_do_not_make_a_pair_suspicious(tmp_path):
    course = cu.make_course(tmp_path / "course")
    rng = random.Random(1)
    template = sc.release()
    everyone = "def sigmoid_vjp(ans, x):\n    return lambda g: g * ans * (1.0 - ans)\n\nmg.defvjp(sigmoid, sigmoid_vjp)\n"
    unusual = ("def sigmoid_vjp(ans, x):\n    return lambda g: g * sigmoid(x) * (1 - sigmoid(x)) + 0 * ans\n\n"
               "mg.defvjp(sigmoid, sigmoid_vjp)\n")
    lecture = cu.strip_solution_markers(next(
        "".join(c["source"]) for c in json.loads((ROOT / "solutions" / PS / f"{PS}.ipynb").read_text())["cells"]
        if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") == "train_classifier"))
    for i in range(20):
        cells = sc.honest(rng)
        cells["sigmoid_vjp"] = everyone
        if i % 2:   # half the class types in the training loop the lecture showed
            cells["train_classifier"] = lecture
        sc.submit(course, f"h{i:02d}", sc.notebook(template, cells))
    # Two students who wrote only the one-liner the whole class writes, two who handed in
    # the release untouched, and two who share one unusual one-liner and nothing else.
    for student in ("lazy1", "lazy2"):
        sc.submit(course, student, sc.notebook(template, {"sigmoid_vjp": everyone}))
    for student in ("blank1", "blank2"):
        sc.submit(course, student, template)
    for student in ("odd1", "odd2"):
        sc.submit(course, student, sc.notebook(template, {"sigmoid_vjp": unusual}))
    run(course, "--threshold", "0")
    found = pairs(course)
    scores = {k: float(found[k]["score"]) if k in found else 0.0
              for k in (("lazy1", "lazy2"), ("blank1", "blank2"), ("odd1", "odd2"))}
    lecture_pairs = [float(found[key(f"h{i:02d}", f"h{j:02d}")]["score"])
                     for i in range(1, 20, 2) for j in range(i + 2, 20, 2)]
    print(scores, f"pairs who both typed in the lecture's loop: up to {max(lecture_pairs):.3f}")
    assert max(lecture_pairs) < THRESHOLD
    assert scores[("blank1", "blank2")] == 0.0
    assert scores[("lazy1", "lazy2")] < 0.1
    assert scores[("odd1", "odd2")] < THRESHOLD
    # The unusual answer is still a whole match in its cell, for whoever looks.
    assert float(found[("odd1", "odd2")]["sigmoid_vjp"]) > 0.9


def test_default_run_reports_the_copies_for_a_person_to_read(klass):
    course, honest, copied, partial, _, _ = klass
    result = run(course)
    found = pairs(course)
    assert set(found) == {key(c, v) for c, v in copied.items()}
    scores = [float(r["score"]) for r in found.values()]
    assert scores == sorted(scores, reverse=True)
    out = result.stdout
    print(out)
    assert f"Similarity of {PS}: 48 submissions, 1128 pairs, 8 answer cells" in out
    assert "not proof of copying" in out
    assert f"{len(copied)} pairs at or above {THRESHOLD:.2f}" in out
    for c, v in copied.items():
        assert any(c in line and v in line for line in out.splitlines())
    page = (Path(course) / "feedback" / f"{PS}_similarity.html").read_text(encoding="utf-8")
    assert "not proof of copying" in page
    assert "<script" not in page and "http" not in page and "src=" not in page
    c, v = next(iter(copied.items()))
    assert f"{c} &amp; {v}" in page or f"{v} &amp; {c}" in page
    # The normalised code of both, side by side: local names gone, the library's kept.
    assert "return lambda v" in page and "np." in page and "<mark>" in page
    assert "My own solution" not in page and "unused" not in page


def test_a_broken_notebook_is_skipped_and_a_missing_cell_is_compared_without_it(tmp_path):
    course = cu.make_course(tmp_path / "course")
    honest, copied, _ = sc.make_class(course, 6, 0, seed=2)
    original = json.loads((Path(course) / "submitted" / "h000" / PS / f"{PS}.ipynb").read_text())
    original["cells"] = [c for c in original["cells"]
                         if c.get("metadata", {}).get("nbgrader", {}).get("grade_id") != "softmax_vjp"]
    sc.submit(course, "nocell", original)
    sc.submit(course, "broken", '{"cells": [}')
    result = run(course)
    print(result.stdout, result.stderr)
    assert "WARNING broken: notebook is not valid JSON (line 1, column 12" in result.stderr
    assert "; skipped" in result.stderr
    assert "WARNING nocell: answer cell 'softmax_vjp' missing; compared without it" in result.stderr
    assert "7 submissions, 21 pairs" in result.stdout
    found = pairs(course)
    assert ("h000", "nocell") in found
    assert found[("h000", "nocell")]["softmax_vjp"] == ""
    assert not any("broken" in k for k in found)


def test_a_class_of_one_and_an_empty_class(tmp_path):
    course = cu.make_course(tmp_path / "course")
    empty = run(course, check=False)
    assert empty.returncode != 0
    assert f"no submissions of {PS} in" in empty.stderr
    sc.make_class(course, 1, 0)
    one = run(course)
    assert "1 submission, 0 pairs" in one.stdout
    assert "No pair scores" in one.stdout
    assert pairs(course) == {}


def test_a_class_of_300_in_well_under_a_minute(tmp_path):
    course = cu.make_course(tmp_path / "course")
    honest, copied, _ = sc.make_class(course, 270, 30, seed=7)
    started = time.monotonic()
    result = run(course)
    seconds = time.monotonic() - started
    found = pairs(course)
    print(f"300 submissions, 44850 pairs: {seconds:.1f} s; {len(found)} pairs reported")
    assert "300 submissions, 44850 pairs" in result.stdout
    assert seconds < 30
    assert {key(c, v) for c, v in copied.items()} <= set(found)
