"""Tools for running the kit's course: ``python -m course_tools.grade <problem set>`` grades
a whole class with nbgrader (see docs/grading_a_class.md)."""
