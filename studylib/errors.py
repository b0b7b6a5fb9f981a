"""The one family of errors: each says what is wrong, where, and what was expected.

Every error studylib raises on purpose derives from :class:`StudylibError`, so a caller (the
batch, a notebook's parameters cell) can tell a message meant for people from a bug. Each is
also a :class:`ValueError`, the contract of every public function that refuses its input.

- :class:`DataError`: a trial folder's files; collects every :class:`Problem` found so that a
  user fixes them all in one pass, instead of meeting them one at a time.
- :class:`ProtocolError`: a protocol file with a missing entry, a bad unit or a number out of
  range.
- :class:`ResponseError`: response codes or lesion data the response engine cannot judge (a
  :class:`DataError`, with its problems).
- :class:`BatchError`: a batch request that cannot run.
- :class:`SynthError`: a synthetic-cohort request the generator refuses.
- :class:`ParameterError`: a notebook parameter that is unknown, of the wrong type, or names
  nothing in the data; shown in a notebook as its message alone, without a traceback.

>>> issubclass(DataError, StudylibError) and issubclass(DataError, ValueError)
True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "StudylibError",
    "Problem",
    "DataError",
    "ProtocolError",
    "ResponseError",
    "BatchError",
    "SynthError",
    "ParameterError",
    "quote_value",
]

#: Longest value quoted whole in a message; a longer one is cut and its length said (a cell
#: of a badly exported file can hold the rest of the file).
QUOTED_MAX = 60


def quote_value(value: object) -> str:
    """``repr`` of a value as written, cut to a readable length.

    >>> quote_value("9 g")
    "'9 g'"
    >>> quote_value("x" * 100)
    "'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' (100 characters)"
    """
    shown = repr(value)
    if len(shown) <= QUOTED_MAX:
        return shown
    return f"{shown[: QUOTED_MAX - 5]}...{shown[0]} ({len(str(value)):,} characters)"


class StudylibError(ValueError):
    """Base of every error studylib raises for people to read: the message says what to do."""


class ProtocolError(StudylibError):
    """The protocol file is malformed: a missing entry, a bad unit or a number out of range."""


class BatchError(StudylibError):
    """A batch request that cannot run; the message says what to change."""


class SynthError(StudylibError):
    """A request the generator refuses: it says why and what would be accepted."""


class ParameterError(StudylibError):
    """A notebook parameter that is unknown, of the wrong type, or names nothing in the data.

    IPython shows an exception's ``_render_traceback_`` instead of its traceback, and so do
    papermill's and the batch's reports: the reader set a parameter and needs the sentence
    saying which one and what to write, not the code that checked it.
    """

    def _render_traceback_(self) -> list[str]:
        first, *rest = str(self).splitlines() or [""]
        return [f"{type(self).__name__}: {first}", *rest]


@dataclass(frozen=True)
class Problem:
    """One bad value: where it is, what it is, and what was expected.

    ``line`` is the line number in the file as a text editor shows it (the header is line 1,
    after any comment lines); it is ``None`` for problems with a whole file or column.
    """

    file: str
    line: int | None
    column: str | None
    value: object
    expected: str
    patient_id: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column is not None:
            where += f", column {self.column!r}"
        shown = "" if self.value is None else f": {quote_value(self.value)}"
        whose = f" (patient {self.patient_id})" if self.patient_id else ""
        return f"{where}{shown}: {self.expected}{whose}"


class DataError(StudylibError):
    """Invalid trial data. ``.problems`` lists every problem found, in file order.

    The message lists the first :attr:`SHOWN` problems and counts the others; ``report``, when
    given, is the file that lists them all (the loader writes it), and the message says where.
    """

    #: Problems written in the message; a longer list is counted, and kept whole in .problems.
    SHOWN = 40

    def __init__(
        self, problems: list[Problem], context: str = "", *, report: str | Path | None = None
    ) -> None:
        self.problems = list(problems)
        self.report = None if report is None else Path(report)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {context or 'the trial data'}"
        lines = [f"  - {p}" for p in self.problems[: self.SHOWN]]
        hidden = count - len(lines)
        if hidden:
            where = (
                f"all {count} are listed in {self.report}"
                if self.report is not None
                else "all are in this error's .problems"
            )
            lines.append(f"  ... and {hidden} more problem{'s' if hidden != 1 else ''}: {where}")
        super().__init__(head + ":\n" + "\n".join(lines))

    def for_patient(self, patient_id: str) -> list[Problem]:
        """The problems found on rows that belong to one patient."""
        return [p for p in self.problems if p.patient_id == patient_id]


class ResponseError(DataError):
    """Tumour-response input the engine cannot judge (an unknown response code, a lesion
    table that contradicts itself).

    A :class:`DataError` of the response engine: ``.problems`` lists every bad value of a
    table; a message alone (``ResponseError("...")``) is accepted for a single value.

    >>> error = ResponseError([Problem("responses", None, "response", "iCR", "a RECIST code")])
    >>> isinstance(error, DataError), len(error.problems)
    (True, 1)
    >>> ResponseError("unknown target response code 'XX'").problems
    []
    """

    def __init__(self, problems: list[Problem] | str, context: str = "") -> None:
        if isinstance(problems, str):
            self.problems, self.report = [], None
            StudylibError.__init__(self, problems)
        else:
            super().__init__(problems, context or "the response data")
