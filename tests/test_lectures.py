"""Every lecture runs top to bottom headless, as a student would run it."""
import pathlib
import time

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[1]
LECTURES = sorted((ROOT / "lectures").glob("[0-9][0-9]_*.ipynb"))
TIMES = {}


def test_the_deck_has_its_lectures():
    assert len(LECTURES) >= 7, [p.name for p in LECTURES]


@pytest.mark.timeout(300)
@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.stem)
def test_lecture_runs_headless(path):
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=120, kernel_name="python3",
                            resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()          # raises CellExecutionError, naming the cell, on any error
    TIMES[path.stem] = time.perf_counter() - start
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    print(f"{path.stem}: {TIMES[path.stem]:.1f} s")


def test_lectures_open_with_goals_and_close_with_a_summary_and_what_next():
    for path in LECTURES:
        markdown = [c.source for c in nbformat.read(path, as_version=4).cells
                    if c.cell_type == "markdown"]
        assert "goal" in markdown[0].lower(), path.name
        assert any(line.strip() == "## Summary" for m in markdown for line in m.splitlines()), \
            path.name
        assert "next" in markdown[-1].lower(), path.name
