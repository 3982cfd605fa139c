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

# The course's exchange (release, fetch, submit, collect) is the folder exchange/ of this
# clone, never committed, created here so that the Assignment List panel and
# `nbgrader collect` find it. On a shared JupyterHub, point it at a folder every user can
# reach, e.g. c.Exchange.root = "/srv/nbgrader/exchange".
import os  # noqa: E402

c.Exchange.root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exchange")
os.makedirs(c.Exchange.root, exist_ok=True)

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

# ---- Grading safely (see docs/grading_a_class.md) ----------------------------------------
# One pipeline for `nbgrader autograde`, the Formgrader and `python -m course_tools.grade`:
# the kit's preprocessors, and every kernel started inside the sandbox of
# course_tools/sandbox.py (bubblewrap: no network, no instructor files, its own /tmp).
from course_tools.pipeline import configure  # noqa: E402

configure(c, root=__file__.rsplit("/", 1)[0] if "/" in __file__ else ".")  # noqa: F821
c.SandboxKernelManager.memory_limit = 2 * 1024 ** 3    # bytes of address space per process
c.SandboxKernelManager.process_limit = 256             # processes and threads at once
c.SandboxKernelManager.disk_limit = 200 * 1000 ** 2    # bytes of scratch (tmpfs) and per file
c.SandboxKernelManager.cpu_limit = 900                 # CPU seconds per process
c.SandboxKernelManager.wall_limit = 1800               # seconds a kernel may live
c.SandboxKernelManager.sandbox = True                  # False grades with the grader's rights
