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


def test_lectures_start_with_learning_goals():
    for path in LECTURES:
        first = nbformat.read(path, as_version=4).cells[0]
        assert first.cell_type == "markdown" and "goal" in first.source.lower(), path.name
