"""What the class got wrong: one problem set's graded test cells, passed and failed by reason.

Run from the course directory after a batch::

    python -m course_tools.report ps2_vjp_rules

Pass or fail comes from the gradebook (a test cell passed when its auto score is its full
score); the reason for a failure is read from the error text the grader wrote into the
failing cell of the graded notebook (``autograded/<student>/<ps>/``). The table is printed
and written, with a bar chart (PNG) and an HTML page, to ``feedback/<ps>_class_report.*``.
"""

import argparse
import csv
import html
import json
import re
import sys
from pathlib import Path

# First match wins; the phrases are those the checks of course_tools.grading write.
REASONS = [
    ("not written", r"not written yet|NotImplementedError"),
    ("ignores the cotangent", r"ignores g\b|ignores the cotangent"),
    ("transposed", r"transposed"),
    ("missing unbroadcast", r"unbroadcast"),
    ("constant factor", r"constant factor"),
    ("sign", r"\bsign\b.*minus the right value|wrong sign"),
    ("unstable/NaN", r"\bNaN\b|\binf\b|overflow|unstable"),
    # problem set 5: the engine
    ("recursion", r"recursed deeper|recursion limit|RecursionError"),
    ("visits nodes twice", r"appears twice|visiting each node once|visited twice"),
    ("order", r"comes before its parent|output comes first"),
    ("fan-out not added", r"only the share|missing the share"),
    ("memory (checkpointing)", r"alive at once|the layers ran"),
    ("reflected operator", r"reflected method"),
]
COLUMNS = ["passed"] + [name for name, _ in REASONS] + ["other"]


def classify(text):
    """The recognisable reason in a failing cell's error text, or "other"."""
    for name, pattern in REASONS:
        if re.search(pattern, text or "", re.IGNORECASE):
            return name
    return "other"


def _cell_errors(path):
    """{grade_id: error text} of the test cells in one graded notebook."""
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    found = {}
    for cell in nb.get("cells", []):
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.get("cell_type") != "code" or not meta.get("grade") or meta.get("solution"):
            continue
        text = []
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                text.append(f"{out.get('ename', '')}: {out.get('evalue', '')}")
                text += out.get("traceback", [])
            elif out.get("name") == "stderr":
                t = out.get("text", "")
                text.append("".join(t) if isinstance(t, list) else t)
        found[meta.get("grade_id")] = re.sub(r"\x1b\[[0-9;]*m", "", "\n".join(text))
    return found


def collect(root, assignment, db_url=None):
    """{test cell: {column: count}} for one problem set, from the gradebook and notebooks."""
    from nbgrader.api import Gradebook, MissingEntry
    root = Path(root)
    db_url = db_url or f"sqlite:///{(root / 'gradebook.db').resolve()}"
    table = {}
    with Gradebook(db_url) as gb:
        try:
            assignment_row = gb.find_assignment(assignment)
        except MissingEntry:
            raise SystemExit(f"{assignment} is not in the gradebook")
        for nb in assignment_row.notebooks:
            for cell in nb.grade_cells:
                if cell.cell_type == "code":
                    table.setdefault(cell.name, {c: 0 for c in COLUMNS})
        for submission in gb.assignment_submissions(assignment):
            student = submission.student.id
            for nb in submission.notebooks:
                errors = _cell_errors(root / "autograded" / student / assignment / f"{nb.name}.ipynb")
                for grade in nb.grades:
                    if grade.cell.cell_type != "code" or grade.name not in table:
                        continue
                    score = grade.score or 0.0
                    if score >= grade.max_score:
                        table[grade.name]["passed"] += 1
                    else:
                        table[grade.name][classify(errors.get(grade.name, ""))] += 1
    return table


def render(table, assignment, out_dir):
    """Write <ps>_class_report.csv/.png/.html into out_dir; return the printed table."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"{assignment}_class_report"
    with open(f"{stem}.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["test cell"] + COLUMNS)
        for name, row in table.items():
            w.writerow([name] + [row[c] for c in COLUMNS])
    # The printed table and the page show the reasons that occur (the CSV has them all).
    shown = ["passed"] + [c for c in COLUMNS[1:-1] if any(r[c] for r in table.values())] + ["other"]
    width = max([len("test cell")] + [len(n) for n in table])
    heads = [c if len(c) < 12 else c[:11] for c in shown]
    lines = [f"{'test cell':<{width}}  " + "  ".join(f"{h:>11}" for h in heads)]
    for name, row in table.items():
        lines.append(f"{name:<{width}}  " + "  ".join(f"{row[c]:>11}" for c in shown))
    text = "\n".join(lines)

    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    names = list(table)
    fig, ax = plt.subplots(figsize=(max(6, 0.9 * len(names)), 4.5))
    bottom = [0] * len(names)
    for column in COLUMNS:
        values = [table[n][column] for n in names]
        if any(values):
            ax.bar(names, values, bottom=bottom, label=column)
            bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_ylabel("submissions")
    ax.set_title(f"{assignment}: test cells passed, and failed by reason")
    ax.tick_params(axis="x", rotation=45)
    for label in ax.get_xticklabels():
        label.set_ha("right")
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1, 1))
    fig.tight_layout()
    fig.savefig(f"{stem}.png", dpi=100)
    plt.close(fig)

    rows = "".join("<tr><th>" + html.escape(n) + "</th>" + "".join(
        f"<td>{table[n][c]}</td>" for c in shown) + "</tr>" for n in names)
    Path(f"{stem}.html").write_text(
        f"<!doctype html><meta charset='utf-8'><title>{html.escape(assignment)} class report"
        f"</title><h1>{html.escape(assignment)}: what the class got wrong</h1>"
        f"<table border='1' cellpadding='4'><tr><th>test cell</th>"
        + "".join(f"<th>{html.escape(c)}</th>" for c in shown) + f"</tr>{rows}</table>"
        f"<p><img src='{stem.name}.png' alt='bar chart of the table'></p>", encoding="utf-8")
    return text


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m course_tools.report",
                                description="Per test cell: how many passed, how many failed "
                                            "for each recognisable reason.")
    p.add_argument("assignment")
    p.add_argument("--root", default=".")
    p.add_argument("--db-url", default=None, help="gradebook URL (default: sqlite gradebook.db)")
    p.add_argument("--out", default=None, help="output folder (default: <root>/feedback)")
    args = p.parse_args(argv)
    table = collect(args.root, args.assignment, args.db_url)
    out = args.out or Path(args.root) / "feedback"
    print(render(table, args.assignment, out))
    print(f"written: {Path(out) / (args.assignment + '_class_report')}.csv, .png, .html")
    return 0


if __name__ == "__main__":
    sys.exit(main())
