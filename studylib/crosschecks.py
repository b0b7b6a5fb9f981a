"""Rows of a trial folder checked against each other.

Every patient, lesion and SBRT focus referred to exists; screening and randomisation agree;
only the protocol's crossover arm crosses over; an IL-2 dose is an activity (IU) and an SBRT
dose a radiation dose (Gy); and the dates follow one another as ``data/README.md`` promises
(birth, screening, randomisation, doses and SBRT, scans, progression, death, last contact).

A check runs only on files that could be read whole (``usable``): a file that could not be
read, or lacks a required column, is already one problem, and every check against it would
only repeat that problem once per row. A file with a header and no rows, while others refer
to it, is one problem too, not one per referring row.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from studylib.dictionary import TABLES
from studylib.errors import Problem
from studylib.protocol import Protocol
from studylib.safety.ctcae import CTCAE
from studylib.units import format_quantity, parse_quantities
from studylib.wording import and_list

__all__ = ["check_across", "calendar_days", "Report"]

#: ``report(table, mask, column, expected)``: one problem per row of ``table`` in ``mask``.
Report = Callable[[str, pd.Series, str, str], None]


def calendar_days(values: pd.Series) -> pd.Series:
    """The calendar day of each date or date-time as written (its own UTC offset kept, not
    converted), as naive dates, so that dates and times of any zone compare by day."""
    if pd.api.types.is_datetime64_any_dtype(values) and getattr(values.dt, "tz", None) is None:
        return values.dt.normalize()
    days = [pd.NaT if pd.isna(stamp) else pd.Timestamp(stamp.date()) for stamp in values]
    return pd.Series(days, index=values.index, dtype="datetime64[ns]")


def check_across(
    frames: dict[str, pd.DataFrame],
    usable: set[str],
    present: dict[str, set[str]],
    report: Report,
    add: Callable[[Problem], None],
    protocol: Protocol,
) -> None:
    """Run every cross-row check whose files are all usable.

    Parameters
    ----------
    frames
        The loaded tables by name.
    usable
        The tables that were read whole.
    present
        The columns each file's header has (an absent optional column is not checked).
    report
        Records one problem per row of a mask.
    add
        Records one problem about a whole file.
    protocol
        The protocol of the folder (its crossover arm, its dose examples).
    """
    empty = _empty_targets(frames, usable, add)
    _references(frames, usable - empty, report)
    _lesions(frames, usable, report)
    if {"screening", "randomization"} <= usable - empty:
        _enrolment(frames, report, add)
    if "randomization" in usable:
        _crossover(frames, report, protocol)
    if "dosing" in usable:
        _doses(frames, report, protocol)
    _order(frames, usable, present, report, add)
    _safety(frames, usable, present, report)


def _flag(values: pd.Series) -> pd.Series:
    """True where ``values`` is true; missing counts as false."""
    return pd.Series(values).astype("boolean").fillna(False).astype(bool)


def _empty_targets(
    frames: dict[str, pd.DataFrame], usable: set[str], add: Callable[[Problem], None]
) -> set[str]:
    """Files with a header and no rows that other files refer to: one problem each."""
    referring: dict[str, list[str]] = {}
    for name, table in TABLES.items():
        if name not in usable or frames[name].empty:
            continue
        for column, target in table.references:
            if column == "patient_id" and target in usable and frames[target].empty:
                referring.setdefault(target, []).append(f"{len(frames[name])} in {table.filename}")
    screening = frames["screening"]
    if "randomization" in usable and frames["randomization"].empty and "screening" in usable:
        enrolled = int((screening["screening_outcome"] == "enrolled").sum())
        if enrolled:
            referring.setdefault("randomization", []).insert(
                0, f"{enrolled} patients screened as 'enrolled' in screening.csv"
            )
    for target, sources in referring.items():
        add(
            Problem(
                TABLES[target].filename,
                None,
                None,
                None,
                f"rows: the file has a header and no rows, yet {and_list(sources)} refer to it (was"
                " it saved before its rows were pasted in?)",
            )
        )
    return set(referring)


def _references(frames: dict[str, pd.DataFrame], usable: set[str], report: Report) -> None:
    """Rows that name a patient the referenced file does not list."""
    for name, table in TABLES.items():
        for column, target in table.references:
            if column != "patient_id" or name not in usable or target not in usable:
                continue
            frame = frames[name]
            known = set(frames[target]["patient_id"].dropna())
            bad = frame["patient_id"].notna() & ~frame["patient_id"].isin(known)
            report(name, bad, "patient_id", f"a patient listed in {target}.csv")


def _lesions(frames: dict[str, pd.DataFrame], usable: set[str], report: Report) -> None:
    """Measurements and SBRT foci of lesions that lesions.csv does not list."""
    if "lesions" not in usable:
        return
    lesions = frames["lesions"]
    keys = set(zip(lesions["patient_id"], lesions["lesion_id"], strict=True))
    for name in ("assessments", "sbrt_sites"):
        if name not in usable:
            continue
        frame = frames[name]
        pairs = list(zip(frame["patient_id"], frame["lesion_id"], strict=True))
        bad = pd.Series(
            [not pd.isna(lesion) and (patient, lesion) not in keys for patient, lesion in pairs],
            index=frame.index,
            dtype=bool,
        )
        for patient in frame.loc[bad, "patient_id"].unique():
            of_patient = bad & (frame["patient_id"] == patient)
            report(
                name,
                of_patient,
                "lesion_id",
                f"a lesion of patient {patient} listed in lesions.csv",
            )


def _enrolment(
    frames: dict[str, pd.DataFrame], report: Report, add: Callable[[Problem], None]
) -> None:
    """Screening says 'enrolled' exactly for the patients randomization.csv lists."""
    screening, randomization = frames["screening"], frames["randomization"]
    outcome = screening.drop_duplicates("patient_id").set_index("patient_id")["screening_outcome"]
    should_enrol = set(outcome[outcome == "enrolled"].index)
    enrolled = set(randomization["patient_id"].dropna())
    for patient in sorted(should_enrol - enrolled):
        add(
            Problem(
                "randomization.csv",
                None,
                "patient_id",
                patient,
                "every patient screened as 'enrolled' needs a randomization row",
                patient_id=patient,
            )
        )
    screened = set(screening["patient_id"].dropna())
    wrong = randomization["patient_id"].isin(screened - should_enrol)
    report("randomization", wrong, "patient_id", "a patient whose screening_outcome is 'enrolled'")


def _crossover(frames: dict[str, pd.DataFrame], report: Report, protocol: Protocol) -> None:
    # The protocol's crossover gives its arm without SBRT SBRT after progression; in the
    # other arm it would be a typing error, and the response engine would look for a
    # crossover that cannot exist.
    randomization = frames["randomization"]
    origin = protocol.crossover.from_arm
    for arm in randomization["arm"].dropna().unique():
        if arm == origin:
            continue
        wrong = _flag(randomization["crossover"]) & _flag(randomization["arm"] == arm)
        report(
            "randomization",
            wrong,
            "crossover",
            f"N: only arm {origin} patients cross over (this patient is in arm {arm})",
        )


def _doses(frames: dict[str, pd.DataFrame], report: Report, protocol: Protocol) -> None:
    """An IL-2 dose must be an activity (IU) and an SBRT dose a radiation dose (Gy)."""
    dosing = frames["dosing"]
    units = {
        "il2": ("IU", format_quantity(protocol.il2.vial_content), "an IL-2"),
        "sbrt": ("Gy", format_quantity(protocol.sbrt.dose_per_fraction), "an SBRT"),
    }
    for treatment, (unit, example, row) in units.items():
        rows = _flag(dosing["treatment"] == treatment) & dosing["dose"].notna()
        if not rows.any():
            continue
        checked = parse_quantities(dosing["dose"].where(rows), unit)
        report(
            "dosing",
            checked["error"] != "",
            "dose",
            f"a dose in {unit} (or convertible) for {row} row, such as '{example}'",
        )


def _order(
    frames: dict[str, pd.DataFrame],
    usable: set[str],
    present: dict[str, set[str]],
    report: Report,
    add: Callable[[Problem], None],
) -> None:
    """Dates that must follow one another (a date out of order is a typing error)."""
    screening, randomization = frames["screening"], frames["randomization"]
    followup, dosing, lesions = frames["followup"], frames["dosing"], frames["lesions"]
    assessments = frames["assessments"]

    def of_patient(frame: pd.DataFrame, source: pd.DataFrame, column: str) -> pd.Series:
        by_patient = source.drop_duplicates("patient_id").set_index("patient_id")[column]
        # an empty or partial map gives NaN: keep the dates' type so they compare
        return pd.to_datetime(frame["patient_id"].map(by_patient))

    def randomized(frame: pd.DataFrame) -> pd.Series:
        return of_patient(frame, randomization, "randomized_on")

    def last_contact(frame: pd.DataFrame) -> pd.Series:
        return of_patient(frame, followup, "last_contact_on")

    given_day = calendar_days(dosing["given_at"])
    last_seen = "the last contact (last_contact_on in followup.csv)"
    # (file, column, files it needs, rows out of order, what was expected)
    rules = [
        (
            "screening",
            "birth_date",
            {"screening"},
            lambda: screening["birth_date"] >= screening["screening_date"],
            "a birth date before the screening date",
        ),
        (
            "randomization",
            "randomized_on",
            {"randomization", "screening"},
            lambda: (
                randomization["randomized_on"]
                < of_patient(randomization, screening, "screening_date")
            ),
            "a randomisation date on or after the screening date",
        ),
        (
            "followup",
            "progressed_on",
            {"followup", "randomization"},
            lambda: followup["progressed_on"] < randomized(followup),
            "a progression date on or after randomisation",
        ),
        (
            "followup",
            "progressed_on",
            {"followup"},
            lambda: followup["progressed_on"] > followup["last_contact_on"],
            "a progression date on or before the last contact",
        ),
        (
            "followup",
            "died_on",
            {"followup", "randomization"},
            lambda: followup["died_on"] < randomized(followup),
            "a death date on or after randomisation",
        ),
        (
            "followup",
            "last_contact_on",
            {"followup"},
            lambda: (
                followup["died_on"].notna() & (followup["last_contact_on"] != followup["died_on"])
            ),
            "the date of death, when the patient died",
        ),
        (
            "followup",
            "last_contact_on",
            {"followup", "randomization"},
            lambda: followup["last_contact_on"] < randomized(followup),
            "a last contact on or after randomisation",
        ),
        (
            "dosing",
            "given_at",
            {"dosing"},
            lambda: (dosing["status"] == "held") & dosing["given_at"].notna(),
            "empty: the dose was held",
        ),
        (
            "dosing",
            "given_at",
            {"dosing", "randomization"},
            lambda: given_day < randomized(dosing),
            "a time on or after randomisation (treatment follows randomisation)",
        ),
        (
            "dosing",
            "given_at",
            {"dosing", "followup"},
            lambda: given_day > last_contact(dosing),
            f"a time on or before {last_seen}",
        ),
        (
            "lesions",
            "irradiated_on",
            {"lesions"},
            lambda: (lesions["irradiated"] == False) & lesions["irradiated_on"].notna(),  # noqa: E712
            "empty: the lesion is not irradiated (irradiated is N)",
        ),
        (
            "lesions",
            "irradiated_on",
            {"lesions", "randomization"},
            lambda: lesions["irradiated_on"] < randomized(lesions),
            "a date on or after randomisation (SBRT on study follows randomisation)",
        ),
        (
            "lesions",
            "irradiated_on",
            {"lesions", "followup"},
            lambda: lesions["irradiated_on"] > last_contact(lesions),
            f"a date on or before {last_seen}",
        ),
        (
            "assessments",
            "date",
            {"assessments", "followup"},
            lambda: assessments["date"] > last_contact(assessments),
            f"a scan date on or before {last_seen}",
        ),
    ]
    for name, column, needs, rows, expected in rules:
        if needs <= usable and column in present[name]:
            report(name, _flag(rows()), column, expected)
    _given_needs_a_time(dosing, usable, present, report, add)


def _given_needs_a_time(
    dosing: pd.DataFrame,
    usable: set[str],
    present: dict[str, set[str]],
    report: Report,
    add: Callable[[Problem], None],
) -> None:
    """A dose marked given needs the time it was given: one problem per row, or one for the
    file when it has no ``given_at`` column at all."""
    if "dosing" not in usable:
        return
    given = _flag(dosing["status"] == "given")
    if "given_at" in present["dosing"]:
        report(
            "dosing",
            given & dosing["given_at"].isna(),
            "given_at",
            "the time the dose was given (status is 'given')",
        )
    elif given.any():
        add(
            Problem(
                "dosing.csv",
                None,
                "given_at",
                None,
                f"this column, absent from the header: {int(given.sum())} doses have status"
                " 'given' and each needs the time it was given",
            )
        )


def _safety(
    frames: dict[str, pd.DataFrame],
    usable: set[str],
    present: dict[str, set[str]],
    report: Report,
) -> None:
    """An adverse event ends on or after it starts, with a grade its CTCAE v5.0 term defines;
    a row of vital signs belongs to an IL-2 dose slot of ``dosing.csv``."""
    if "adverse_events" in usable:
        events = frames["adverse_events"]
        if "end_date" in present["adverse_events"]:
            report(
                "adverse_events",
                _flag(events["end_date"] < events["start_date"]),
                "end_date",
                "an end date on or after the start date (start_date)",
            )
        known = events["term"].isin(CTCAE.event_terms) & events["grade"].notna()
        grades = (
            events["term"]
            .where(known)
            .map(lambda term: CTCAE.event(term).grades if isinstance(term, str) else ())
        )
        undefined = known & pd.Series(
            [
                int(g) not in defined if ok else False
                for g, defined, ok in zip(events["grade"], grades, known, strict=True)
            ],
            index=events.index,
        )
        expected = [
            f"a grade CTCAE v5.0 defines for {term}: {and_list(map(str, defined))}" if ok else ""
            for term, defined, ok in zip(events["term"], grades, undefined, strict=True)
        ]
        report("adverse_events", undefined, "grade", pd.Series(expected, index=events.index))
    if {"vitals", "dosing"} <= usable:
        vitals, dosing = frames["vitals"], frames["dosing"]
        il2 = dosing[_flag(dosing["treatment"] == "il2")]
        slots = pd.MultiIndex.from_frame(il2[["patient_id", "cycle", "number"]])
        rows = pd.MultiIndex.from_frame(vitals[["patient_id", "cycle", "number"]])
        report(
            "vitals",
            pd.Series(~rows.isin(slots), index=vitals.index)
            & vitals[["patient_id", "cycle", "number"]].notna().all(axis=1),
            "number",
            "a dose slot of dosing.csv: an IL-2 row with this patient_id, cycle and number",
        )
