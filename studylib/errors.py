"""The one family of errors: each says what is wrong, where, and what was expected.

Every error studylib raises on purpose derives from :class:`StudylibError`, so a caller (the
batch, a notebook's parameters cell) can tell a message meant for people from a bug. Each is
also a :class:`ValueError`, the contract of every public function that refuses its input.

- :class:`DataError`: a trial folder's files; collects every :class:`Problem` found so that a
  user fixes them all in one pass, instead of meeting them one at a time.
- :class:`ProtocolError`: a protocol file with a missing entry, a bad unit or a number out of
  range.
- :class:`ResponseError`: response codes or lesion data the response engine cannot judge.
- :class:`BatchError`: a batch request that cannot run.
- :class:`SynthError`: a synthetic-cohort request the generator refuses.

>>> issubclass(DataError, StudylibError) and issubclass(DataError, ValueError)
True
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "StudylibError",
    "Problem",
    "DataError",
    "ProtocolError",
    "ResponseError",
    "BatchError",
    "SynthError",
]


class StudylibError(ValueError):
    """Base of every error studylib raises for people to read: the message says what to do."""


class ProtocolError(StudylibError):
    """The protocol file is malformed: a missing entry, a bad unit or a number out of range."""


class ResponseError(StudylibError):
    """Tumour-response input the engine cannot judge (an unknown response code, a lesion
    table that contradicts itself)."""


class BatchError(StudylibError):
    """A batch request that cannot run; the message says what to change."""


class SynthError(StudylibError):
    """A request the generator refuses: it says why and what would be accepted."""


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
        shown = "" if self.value is None else f": {self.value!r}"
        whose = f" (patient {self.patient_id})" if self.patient_id else ""
        return f"{where}{shown}: {self.expected}{whose}"


class DataError(StudylibError):
    """Invalid trial data. ``.problems`` lists every problem found, in file order."""

    def __init__(self, problems: list[Problem], context: str = "") -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {context or 'the trial data'}"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))

    def for_patient(self, patient_id: str) -> list[Problem]:
        """The problems found on rows that belong to one patient."""
        return [p for p in self.problems if p.patient_id == patient_id]
