"""Gradebook plumbing for grading in parallel: scratch copies, and whole submissions copied back.

Parallel grading keeps one writer on the course's gradebook. Each grading process works in a
private scratch SQLite gradebook that holds only the problem set (its notebooks and cells, as
:func:`copy_assignment` copies them from the course's gradebook, SQLite or PostgreSQL alike);
nbgrader autogrades into it as usual. When a submission is done, :func:`submission_record`
reads its grades out of the scratch gradebook, and the parent process writes them into the
course's gradebook with :func:`store_submission`, in one transaction: the course's gradebook
only ever holds whole submissions, whatever interrupts the batch.
"""

from datetime import timedelta


def copy_assignment(source, target, assignment):
    """Copy ``assignment`` (notebooks, grade, solution, task and source cells) between gradebooks."""
    found = source.find_assignment(assignment)
    target.update_or_create_assignment(assignment, duedate=found.duedate)
    for nb in found.notebooks:
        target.update_or_create_notebook(nb.name, assignment, kernelspec=nb.kernelspec)
        for cell in nb.grade_cells:
            target.update_or_create_grade_cell(cell.name, nb.name, assignment,
                                               max_score=cell.max_score, cell_type=cell.cell_type)
        for cell in nb.solution_cells:
            target.update_or_create_solution_cell(cell.name, nb.name, assignment)
        for cell in nb.task_cells:
            target.update_or_create_task_cell(cell.name, nb.name, assignment,
                                              max_score=cell.max_score, cell_type=cell.cell_type)
        for cell in nb.source_cells:
            target.update_or_create_source_cell(cell.name, nb.name, assignment,
                                                cell_type=cell.cell_type, locked=cell.locked,
                                                source=cell.source, checksum=cell.checksum)


def make_scratch(db_url, course_id, assignment, path):
    """A new SQLite gradebook at ``path`` holding ``assignment`` as the gradebook at ``db_url`` has it."""
    from nbgrader.api import Gradebook
    url = f"sqlite:///{path}"
    with Gradebook(db_url, course_id) as master:
        create_like(master, url)
        with Gradebook(url, course_id) as scratch:
            copy_assignment(master, scratch, assignment)
    return url


def create_like(master, url):
    """Make the empty gradebook at ``url`` as nbgrader makes one (its tables, stamped with a
    schema version), with the schema version of ``master``.

    nbgrader stamps a new gradebook with the version that ``alembic heads``, run in a process
    of its own, prints: seconds, paid on every batch for the scratch gradebook. A master
    without a version leaves the new gradebook empty, for nbgrader to make.
    """
    from nbgrader.api import Base
    from sqlalchemy import create_engine, inspect, text
    try:
        version = master.db.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except Exception:  # noqa: BLE001 - no version table: nbgrader makes the gradebook
        master.db.rollback()
        return
    engine = create_engine(url, future=True)
    try:
        if version is None or inspect(engine).get_table_names():
            return
        Base.metadata.create_all(bind=engine)
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE alembic_version (version_num VARCHAR(32) NOT NULL)"))
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES (:version)"),
                         {"version": version})
    finally:
        engine.dispose()


def set_extension(gb, assignment, student, seconds):
    """Give ``student`` the extension the course's gradebook gives them (late penalties)."""
    gb.update_or_create_student(student)
    gb.update_or_create_submission(assignment, student, extension=timedelta(seconds=seconds))


def extension_seconds(gb, assignment, student):
    """The extension the gradebook grants ``student`` on ``assignment``, in seconds, or None."""
    from nbgrader.api import MissingEntry
    try:
        extension = gb.find_submission(assignment, student).extension
    except MissingEntry:
        return None
    return extension.total_seconds() if extension else None


def submission_record(gb, assignment, student):
    """What autograding wrote for one submission, as plain JSON values."""
    submission = gb.find_submission(assignment, student)
    notebooks = {}
    for nb in submission.notebooks:
        notebooks[nb.name] = {
            "late_submission_penalty": nb.late_submission_penalty,
            "grades": {g.name: g.auto_score for g in nb.grades},
            "comments": {c.name: c.auto_comment for c in nb.comments},
        }
    return {"timestamp": submission.timestamp.isoformat() if submission.timestamp else None,
            "notebooks": notebooks}


def zero_record(gb, assignment):
    """A record that scores every test of ``assignment`` 0 (a submission that could not be graded)."""
    found = gb.find_assignment(assignment)
    return {"timestamp": None, "notebooks": {
        nb.name: {"late_submission_penalty": None,
                  "grades": {c.name: 0.0 for c in list(nb.grade_cells) + list(nb.task_cells)},
                  "comments": {}}
        for nb in found.notebooks}}


def _new_submission(gb, assignment, student):
    """A submission mirroring the assignment, added to the session but not committed
    (what ``Gradebook.add_submission`` builds, without its commit)."""
    from nbgrader.api import Comment, Grade, SubmittedAssignment, SubmittedNotebook
    found, who = gb.find_assignment(assignment), gb.find_student(student)
    # Built first, added last: the session takes in what hangs from the submission when it
    # is added (SQLAlchemy 2 does not cascade along backrefs), and nothing is flushed half-made.
    with gb.db.no_autoflush:
        submission = SubmittedAssignment(assignment=found, student=who)
        for notebook in found.notebooks:
            nb = SubmittedNotebook(notebook=notebook, assignment=submission)
            for cell in notebook.grade_cells:
                Grade(cell_id=cell.id, notebook=nb)
            for cell in notebook.solution_cells:
                Comment(cell_id=cell.id, notebook=nb)
            for cell in notebook.task_cells:
                Comment(cell_id=cell.id, notebook=nb)
                Grade(cell_id=cell.id, notebook=nb)
        gb.db.add(submission)
    return submission


def store_submission(gb, assignment, student, record):
    """Write one graded submission into the course's gradebook, in one transaction.

    Manual scores stay; as nbgrader's ``SaveAutoGrades`` does, a grade that has a manual
    score, or no automatic one, is marked as needing manual grading.
    """
    from nbgrader import utils
    from nbgrader.api import MissingEntry
    gb.update_or_create_student(student)
    try:
        try:
            submission = gb.find_submission(assignment, student)
        except MissingEntry:
            submission = _new_submission(gb, assignment, student)
        if record.get("timestamp"):
            submission.timestamp = utils.parse_utc(record["timestamp"])
        for nb in submission.notebooks:
            written = record["notebooks"].get(nb.name)
            if written is None:
                continue
            if "late_submission_penalty" in written:
                nb.late_submission_penalty = written["late_submission_penalty"]
            # By cell id: the name of a grade not yet flushed to the database is not loaded.
            cells = nb.notebook
            names = {c.id: c.name for c in list(cells.grade_cells) + list(cells.solution_cells)
                     + list(cells.task_cells)}
            for grade in nb.grades:
                name = names.get(grade.cell_id)
                if name in written["grades"]:
                    grade.auto_score = written["grades"][name]
                    grade.needs_manual_grade = (grade.manual_score is not None
                                                or grade.auto_score is None)
            for comment in nb.comments:
                name = names.get(comment.cell_id)
                if name in written["comments"]:
                    comment.auto_comment = written["comments"][name]
        gb.db.commit()
    except BaseException:
        gb.db.rollback()
        raise


def autograded_students(gb, assignment):
    """Students whose submission of ``assignment`` has every autograded test scored."""
    done = set()
    for submission in gb.find_assignment(assignment).submissions:
        grades = [g for nb in submission.notebooks for g in nb.grades
                  if g.cell.type == "GradeCell" and g.cell.cell_type == "code"]
        if grades and all(g.auto_score is not None for g in grades):
            done.add(submission.student_id)
    return done


__all__ = ["autograded_students", "copy_assignment", "create_like", "extension_seconds",
           "make_scratch", "set_extension", "store_submission", "submission_record",
           "zero_record"]
