"""The workbook's one vocabulary: yes/no spellings, lesion roles and states, response codes.

Every module that reads a yes/no value, a lesion role or a response code takes it from here,
so that the loader, the engines and the widgets accept exactly the same words and order the
response categories the same way.

>>> yes_no("Y"), yes_no(" no "), yes_no(1), yes_no(None)
(True, False, True, None)
>>> yes_no("t")
Traceback (most recent call last):
...
ValueError: 't' is not yes or no (Y/N, yes/no, true/false, 1/0)
>>> RESPONSE_CODES.index("PR") < RESPONSE_CODES.index("SD")
True
"""

from __future__ import annotations

from numbers import Real

import numpy as np
import pandas as pd

__all__ = [
    "YES",
    "NO",
    "YES_NO_EXPECTED",
    "yes_no",
    "yes_no_series",
    "LESION_ROLES",
    "LESION_STATES",
    "IMAGING_METHODS",
    "TARGET_CODES",
    "NONTARGET_CODES",
    "RESPONSE_CODES",
    "BOR_ORDER",
    "SAME_DATE_ORDER",
    "DISEASE_CONTROL",
    "IRECIST_CODES",
    "IBOR_ORDER",
    "IRECIST_SAME_DATE_ORDER",
    "IRECIST_OF_RECIST",
]

#: Spellings of yes and of no (compared after stripping blanks and lower-casing).
YES = frozenset({"y", "yes", "true", "1"})
NO = frozenset({"n", "no", "false", "0"})
#: What a yes/no value must look like, as error messages say it.
YES_NO_EXPECTED = "yes or no (Y/N, yes/no, true/false, 1/0)"


def yes_no(value: object) -> bool | None:
    """One yes/no value as ``True``/``False``; ``None`` when missing (``None``, NaN, ``""``).

    Accepts the spellings of :data:`YES` and :data:`NO` in any case, Python and numpy bools,
    and the numbers 0 and 1.

    Raises
    ------
    ValueError
        For anything else, quoting the value.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return None
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, Real) and float(value) in (0.0, 1.0):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text == "":
            return None
        if text in YES or text in NO:
            return text in YES
    raise ValueError(f"{value!r} is not {YES_NO_EXPECTED}")


def yes_no_series(values: pd.Series) -> tuple[pd.Series, pd.Series]:
    """A column of yes/no values as a nullable boolean Series, and the mask of unreadable ones.

    Missing values (empty text, NA) stay missing; unreadable values are missing too and marked
    in the mask, so that the caller reports them with their row (nothing is guessed).

    >>> result, bad = yes_no_series(pd.Series(["Y", "no", "", "maybe", True]))
    >>> result.tolist(), bad.tolist()
    ([True, False, <NA>, <NA>, True], [False, False, False, True, False])
    """
    if pd.api.types.is_bool_dtype(values):
        return values.astype("boolean"), pd.Series(False, index=values.index)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    read, unreadable = [], []
    for value in uniques:
        try:
            read.append(yes_no(value))
            unreadable.append(False)
        except ValueError:
            read.append(None)
            unreadable.append(True)
    table = pd.array([*read, None], dtype="boolean")
    result = pd.Series(table[codes], index=values.index, dtype="boolean")
    flags = np.append(np.asarray(unreadable, dtype=bool), False)
    return result, pd.Series(flags[codes], index=values.index)


#: Lesion roles of ``lesions.csv`` (RECIST 1.1 sections 3.2-3.3).
LESION_ROLES = ("target", "non_target", "new")
#: The states each role may carry in ``assessments.csv``; an empty state is always allowed
#: (target: measured; non-target and new: not evaluated).
LESION_STATES = {
    "target": ("too_small",),
    "non_target": ("present", "absent", "unequivocal_progression"),
    "new": ("equivocal", "unequivocal"),
}
#: Imaging methods of ``assessments.csv``.
IMAGING_METHODS = ("CT", "MRI", "PET")

#: Target-lesion response codes (RECIST 1.1 section 4.3.1).
TARGET_CODES = ("CR", "PR", "SD", "PD", "NE", "ND")
#: Non-target response codes (RECIST 1.1 section 4.3.3).
NONTARGET_CODES = ("CR", "NON-CR/NON-PD", "PD", "NE", "ND")
#: Overall response codes of a time point, best first (RECIST 1.1 tables 1 and 2).
RESPONSE_CODES = ("CR", "PR", "SD", "NON-CR/NON-PD", "PD", "NE", "ND")
#: Best overall response codes, best first; MISSING: no assessment at all.
BOR_ORDER = (*RESPONSE_CODES, "MISSING")
#: Which code wins when two assessments share a date: the worse news first.
SAME_DATE_ORDER = ("PD", "NON-CR/NON-PD", "SD", "PR", "CR", "NE", "ND")
#: Codes that count as disease control (RECIST 1.1 section 4.4, with the SD minimum).
DISEASE_CONTROL = ("CR", "PR", "SD", "NON-CR/NON-PD")

#: iRECIST timepoint response codes (Seymour et al. 2017, Table 2), best first; ND as in RECIST.
IRECIST_CODES = ("iCR", "iPR", "iSD", "NON-iCR/NON-iUPD", "iUPD", "iCPD", "NE", "ND")
#: iRECIST best overall response codes, best first (Seymour et al. 2017, Table 3, and
#: admiralonco's iRECIST vignette): a confirmed progression is a definite result and ranks
#: above one left unconfirmed. MISSING: no assessment at all.
IBOR_ORDER = ("iCR", "iPR", "iSD", "NON-iCR/NON-iUPD", "iCPD", "iUPD", "NE", "ND", "MISSING")
#: Which iRECIST code wins when two assessments share a date: the worse news first.
IRECIST_SAME_DATE_ORDER = ("iCPD", "iUPD", "NON-iCR/NON-iUPD", "iSD", "iPR", "iCR", "NE", "ND")
#: The iRECIST name of a RECIST 1.1 result that is not progression.
IRECIST_OF_RECIST = {
    "CR": "iCR",
    "PR": "iPR",
    "SD": "iSD",
    "NON-CR/NON-PD": "NON-iCR/NON-iUPD",
    "NE": "NE",
    "ND": "ND",
}
