"""Errors that say what is wrong, where, and what was expected.

A :class:`DataError` collects every :class:`Problem` found in a trial folder so that a user
fixes them all in one pass, instead of meeting them one at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem", "DataError"]


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


class DataError(ValueError):
    """Invalid trial data. ``.problems`` lists every problem found, in file order."""

    def __init__(self, problems: list[Problem], context: str = "") -> None:
        self.problems = list(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in {context or 'the trial data'}"
        super().__init__(head + ":\n" + "\n".join(f"  - {p}" for p in self.problems))

    def for_patient(self, patient_id: str) -> list[Problem]:
        """The problems found on rows that belong to one patient."""
        return [p for p in self.problems if p.patient_id == patient_id]
