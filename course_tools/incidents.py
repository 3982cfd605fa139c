"""What the grader noticed while it graded one notebook, each kind of incident a type.

The preprocessors (:mod:`course_tools.preprocessors`) record incidents as they meet them;
the grading command turns them into the sentences of its WARNING lines and summary table
with :func:`describe`. Each type says itself: ``sentences`` turns the incidents of one type
into sentences (most one per incident; cell changes are grouped, so that twelve deleted
test cells make one sentence, not twelve).
"""

from __future__ import annotations

from dataclasses import dataclass


def _human(n, small="characters"):
    """52 MB, 1.5 kB, 300 characters: a size for a log line."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.{0 if n >= 10 * scale else 1}f} {unit}"
    return f"{n:g} {small}"


class Incident:
    """One thing the grader noticed in one notebook."""

    def sentence(self) -> str:
        raise NotImplementedError

    @classmethod
    def sentences(cls, incidents, context):
        return [i.sentence() for i in incidents]


@dataclass(frozen=True)
class CellTotals(Incident):
    """How many graded cells of each kind (test, read-only, answer) the gradebook knows."""
    counts: dict

    @classmethod
    def sentences(cls, incidents, context):
        return []


def _names(items, total=None, kind="test"):
    if total and len(items) == total and total > 2:
        return f"all {total} {kind} cells"
    quoted = [f"'{name}'" for name in items]
    if len(quoted) > 4:
        quoted = quoted[:3] + [f"{len(quoted) - 3} more"]
    cells = f"{kind} cell" + ("s" if len(items) > 1 else "")
    return cells + " " + (quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1])


def _some(names, most=8):
    if len(names) <= most:
        return ", ".join(names)
    return ", ".join(names[:most]) + f" and {len(names) - most} more"


@dataclass(frozen=True)
class CellChanged(Incident):
    """A graded or read-only cell was deleted, edited, retyped, duplicated or re-labelled."""
    change: str            # one of SAYS
    kind: str              # "test", "read-only" or "answer"
    name: str
    detail: object = None  # retyped: the new cell type; duplicated: how many copies

    SAYS = {"deleted": "deleted; restored from the gradebook",
            "edited": "edited; the original text was restored",
            "retyped": "turned into {}; restored as it was",
            "duplicated": "duplicated; only one copy was graded, with its original text",
            "metadata": "given other grading metadata; restored"}

    @classmethod
    def sentences(cls, incidents, context):
        totals = context.get("totals", {})
        out = []
        for change, says in cls.SAYS.items():
            for kind in ("test", "read-only", "answer"):
                found = [i for i in incidents if i.change == change and i.kind == kind]
                if not found or (kind == "answer" and change != "deleted"):
                    continue
                names = [i.name for i in found]
                verb = "was" if len(names) == 1 else "were"
                text = says.format(str(found[0].detail).capitalize()) if change == "retyped" else says
                if kind == "answer":
                    text = "deleted"
                out.append(f"{_names(names, totals.get(kind), kind)} {verb} {text}")
        return out


@dataclass(frozen=True)
class UnknownCell(Incident):
    name: str

    def sentence(self):
        return (f"a cell claims to be graded cell '{self.name}', which the gradebook does not "
                f"know; run as an ordinary cell")


@dataclass(frozen=True)
class CellTimedOut(Incident):
    cell: str
    seconds: float

    def sentence(self):
        return f"cell {self.cell} timed out after {self.seconds:g} s"


@dataclass(frozen=True)
class ExitCalled(Incident):
    cell: str

    def sentence(self):
        return f"cell {self.cell} calls exit(); ignored, so the rest was graded"


@dataclass(frozen=True)
class KernelDied(Incident):
    cell: str

    def sentence(self):
        return f"kernel died while running cell {self.cell}; the cells after it were not run"


@dataclass(frozen=True)
class KernelUnresponsive(Incident):
    cell: str
    seconds: float

    def sentence(self):
        return (f"kernel stopped responding in cell {self.cell} (still busy after the "
                f"{self.seconds:g} s timeout and the interrupt); the cells after it were not run")


@dataclass(frozen=True)
class LimitHit(Incident):
    cell: str
    limit: str             # "memory", "process" or "disk"

    def sentence(self):
        return f"cell {self.cell} hit the sandbox's {self.limit} limit"

    @classmethod
    def sentences(cls, incidents, context):
        return [i.sentence() for i in dict.fromkeys(incidents)]


@dataclass(frozen=True)
class JudgeFailed(Incident):
    problem: str

    def sentence(self):
        return f"the grader's judge failed ({self.problem}); its test cells scored 0"

    @classmethod
    def sentences(cls, incidents, context):
        return [incidents[0].sentence()]


@dataclass(frozen=True)
class OutputTruncated(Incident):
    printed: int           # characters the notebook printed

    def sentence(self):
        return f"output truncated ({_human(self.printed)} printed)"


@dataclass(frozen=True)
class Tampered(Incident):
    """A cell replaced what the kernel guard watches (put back after the cell)."""
    cell: str
    in_test: bool
    replaced: tuple

    @classmethod
    def sentences(cls, incidents, context):
        out = []
        in_answers = [i for i in incidents if not i.in_test]
        if in_answers:
            names = list(dict.fromkeys(n for i in in_answers for n in i.replaced))
            out.append(f"a cell replaced {_some(names)}; put back before the next cell ran")
        for i in incidents:
            if i.in_test:
                out.append(f"{_some(list(i.replaced))} replaced while test {i.cell} ran; that "
                           f"test scores 0")
        return out


# The order of the sentences: what happened to the cells first, then to the kernel.
ORDER = (CellTotals, CellChanged, UnknownCell, CellTimedOut, ExitCalled, KernelDied,
         KernelUnresponsive, LimitHit, JudgeFailed, OutputTruncated, Tampered)


def describe(incidents):
    """The sentences for one notebook's incidents, grouped by type, in ORDER."""
    totals = [i.counts for i in incidents if isinstance(i, CellTotals)]
    context = {"totals": totals[-1] if totals else {}}
    out = []
    for kind in ORDER:
        found = [i for i in incidents if type(i) is kind]
        if found:
            out += kind.sentences(found, context)
    unknown = [i for i in incidents if type(i) not in ORDER]
    out += [i.sentence() for i in unknown]
    return out
