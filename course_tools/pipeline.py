"""The one nbgrader pipeline of the kit, for ``nbgrader autograde``, the Formgrader and
``python -m course_tools.grade`` alike.

``nbgrader_config.py`` calls :func:`configure` on its config; the grading command loads that
file, so both get the same preprocessors and the same sandboxed kernels
(:mod:`course_tools.sandbox`).
"""

from pathlib import Path


def configure(c, root=None):
    """Set the kit's sanitize and autograde preprocessors and its kernel manager on ``c``."""
    from nbconvert.preprocessors import ClearMetadataPreprocessor
    from nbgrader.preprocessors import (AssignLatePenalties, CheckCellMetadata, ClearOutput,
                                        DeduplicateIds, IgnorePattern, LimitOutput,
                                        OverwriteCells, OverwriteKernelspec, SaveAutoGrades)

    from .preprocessors import GradingChannel, GuardedExecute, InspectCells

    c.Autograde.sanitize_preprocessors = [
        ClearOutput, InspectCells, DeduplicateIds, OverwriteKernelspec, OverwriteCells,
        CheckCellMetadata]
    c.Autograde.autograde_preprocessors = [
        GradingChannel, GuardedExecute, IgnorePattern, ClearMetadataPreprocessor, LimitOutput,
        SaveAutoGrades, AssignLatePenalties, CheckCellMetadata]
    c.OverwriteCells.add_missing_cells = True
    # Feedback: the kit's template (same name as nbgrader's, found first) and its
    # preprocessor, for formulas without network and no grader paths (course_tools/feedback.py).
    from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
    from nbgrader.preprocessors import GetGrades

    from .feedback import TEMPLATES, OfflineFeedback
    # nbgrader's own templates stay on the list after the kit's: the Formgrader finds its
    # pages there (its template "formgrade"), and this setting replaces the one it makes.
    import nbgrader.server_extensions.formgrader as formgrader
    nbgrader_templates = Path(formgrader.__file__).parent / "templates"
    c.HTMLExporter.extra_template_basedirs = [str(TEMPLATES), str(nbgrader_templates)]
    c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, OfflineFeedback]
    c.GuardedExecute.kernel_manager_class = "course_tools.sandbox.SandboxKernelManager"
    if root is not None:
        c.InspectCells.release_directory = str(Path(root) / "assignments")
    return c
