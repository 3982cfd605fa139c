# System-wide nbgrader configuration for the hub (install as /etc/jupyter/nbgrader_config.py).
# Every user's server reads it: students get the course id and the exchange; the grader's
# course directory has the kit's own nbgrader_config.py (sandboxed autograding).
c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "minigrad-kit"
c.Exchange.root = "/srv/nbgraderexchange"
