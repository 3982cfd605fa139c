"""The Validate dialog's summary (course_tools/validate_summary.py), on nbgrader's own result."""

from pathlib import Path

import course_utils as cu
from course_tools.validate_summary import NO_TESTS, summarize

ROOT = Path(__file__).resolve().parents[1]


def _validate(path):
    from nbgrader.validator import Validator
    return {"success": True, "value": Validator(config=cu.load_config(ROOT)).validate(str(path))}


def test_an_untouched_problem_set_gets_a_count_and_each_failing_test_by_name():
    path = cu.notebook_path(ROOT / "assignments", "ps4_backprop_by_hand")
    raw = _validate(path)
    result = summarize(raw, path)
    failed = result["value"]["failed"]
    names = list(cu.grade_cells("ps4_backprop_by_hand"))
    assert len(failed) == len(raw["value"]["failed"]) + 1 == len(names) + 1
    summary = failed[0]
    assert summary["source"].startswith(f"Summary: 0 of {len(names)} tests pass")
    for name in names:
        assert name in summary["source"] and f"<b>{name}</b>" in summary["error"]
    assert summary["error"].count("not written yet") == len(names)
    assert failed[1:] == raw["value"]["failed"]      # nbgrader's entries, unchanged


def test_a_solved_problem_set_keeps_nbgrader_success(tmp_path):
    import nbformat
    path = tmp_path / "ps4.ipynb"
    nbformat.write(cu.solved("ps4_backprop_by_hand"), path)
    raw = _validate(path)
    assert summarize(raw, path) == raw and "failed" not in raw["value"]


def test_a_lecture_says_it_has_no_tests():
    path = ROOT / "lectures" / "01_chain_rule.ipynb"
    result = summarize(_validate(path), path)
    assert result["value"]["failed"][0]["source"] == NO_TESTS


def test_errors_and_odd_results_pass_through():
    assert summarize({"success": False, "value": "boom"}, "x") == {"success": False, "value": "boom"}
    assert summarize({"success": True, "value": "not json"}, "x")["value"] == "not json"


def test_a_notebook_is_read_with_this_pythons_language_info():
    from course_tools.language_info import fill, kernel_language_info
    model = {"type": "notebook", "content": {"metadata": {
        "kernelspec": {"name": "python3"}, "language_info": {"name": "python"}}}}
    info = fill(model)["content"]["metadata"]["language_info"]
    assert info == kernel_language_info() and info["version"].startswith("3.")
    other = {"type": "notebook", "content": {"metadata": {"kernelspec": {"name": "julia-1.10"}}}}
    assert "language_info" not in fill(other)["content"]["metadata"]
    assert fill({"type": "file", "content": "x"}) == {"type": "file", "content": "x"}
    assert fill({"type": "notebook", "content": None}) == {"type": "notebook", "content": None}
