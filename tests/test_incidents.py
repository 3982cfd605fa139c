"""The grader's incidents (course_tools/incidents.py): each type says itself in a sentence."""

import dataclasses

from course_tools import incidents as I


def test_cell_changes_of_one_kind_make_one_sentence():
    found = [I.CellTotals({"test": 3, "answer": 2})] + [
        I.CellChanged("deleted", "test", name) for name in ("t1", "t2", "t3")]
    assert I.describe(found) == ["all 3 test cells were deleted; restored from the gradebook"]
    two = [I.CellChanged("edited", "test", "t1"), I.CellChanged("edited", "test", "t2"),
           I.CellChanged("retyped", "read-only", "setup", "markdown")]
    assert I.describe(two) == [
        "test cells 't1' and 't2' were edited; the original text was restored",
        "read-only cell 'setup' was turned into Markdown; restored as it was"]


def test_kernel_incidents_name_the_cell_and_come_after_cell_changes():
    found = [I.KernelDied("'test_b'"), I.CellTimedOut("'test_a'", 60),
             I.LimitHit("3", "memory"), I.LimitHit("3", "memory"),
             I.CellChanged("deleted", "answer", "a1")]
    assert I.describe(found) == [
        "answer cell 'a1' was deleted",
        "cell 'test_a' timed out after 60 s",
        "kernel died while running cell 'test_b'; the cells after it were not run",
        "cell 3 hit the sandbox's memory limit"]


def test_tampering_in_answers_is_one_sentence_and_in_a_test_says_it_scores_zero():
    found = [I.Tampered("4", False, ("numpy.allclose",)), I.Tampered("5", False, ("builtins.abs",)),
             I.Tampered("'test_x'", True, ("mg.check_grads",))]
    assert I.describe(found) == [
        "a cell replaced numpy.allclose, builtins.abs; put back before the next cell ran",
        "mg.check_grads replaced while test 'test_x' ran; that test scores 0"]


def test_every_incident_type_says_something():
    examples = {I.UnknownCell: ("x",), I.CellTimedOut: ("1", 5), I.ExitCalled: ("1",),
                I.KernelDied: ("1",), I.KernelUnresponsive: ("1", 5), I.LimitHit: ("1", "disk"),
                I.JudgeFailed: ("boom",), I.OutputTruncated: (52_000_000,),
                I.Tampered: ("1", True, ("a",)), I.CellChanged: ("edited", "test", "t")}
    for kind in I.ORDER:
        if kind is I.CellTotals:
            continue
        assert dataclasses.is_dataclass(kind), kind
        said = I.describe([kind(*examples[kind])])
        assert len(said) == 1 and said[0], kind
    assert I.describe([I.OutputTruncated(52_000_000)]) == ["output truncated (52 MB printed)"]
