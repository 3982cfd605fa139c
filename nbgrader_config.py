# nbgrader configuration of the minigrad kit's course.
#
# nbgrader reads this file from the directory it runs in: run every `nbgrader ...`
# command from the repository root. Instructors edit problem sets in solutions/ and
# generate the student versions into assignments/:
#
#     nbgrader generate_assignment ps2_vjp_rules --force
#
# See docs/course_guide.md for the whole cycle (collect, autograde, feedback, export).

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "minigrad-kit"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "assignments"

# Every problem set runs in the kit's own Python kernel.
c.Execute.kernel_name = "python3"

# Seconds a single cell may run before it is interrupted and marked as failed. The slowest
# honest cells (a short training loop, a timing comparison) take a few seconds; anything
# past a minute is a runaway loop, and the rest of the notebook is still graded.
c.Execute.timeout = 60
c.ExecutePreprocessor.timeout = 60

# A deleted test cell comes back from the gradebook and is graded, instead of scoring
# zero and waiting for manual grading.
c.OverwriteCells.add_missing_cells = True

# Keep a runaway print loop from bloating the graded notebook and its feedback page.
c.LimitOutput.max_lines = 1000
c.LimitOutput.max_traceback = 100
