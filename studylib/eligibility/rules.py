"""Criteria about the patient: diagnosis, age, performance status, pregnancy, consent, history.

Each evaluator takes the typed records (:func:`studylib.eligibility.values.read_records`) and
the protocol, and returns, for every record, a status, a reason with the values compared, and
what would resolve a ``review`` or ``missing``. Each is registered under the ``rule`` name that
a criterion of the protocol file gives (:mod:`studylib.eligibility.registry`); thresholds come
from the protocol's ``[eligibility]``, ids and quotes from its ``[[eligibility.criteria]]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.eligibility import text
from studylib.eligibility.registry import Evaluator, evaluator
from studylib.eligibility.values import YES_NO_FIELDS, name_key
from studylib.eligibility.verdicts import is_false, is_true, outcome, rowwise
from studylib.errors import ProtocolError
from studylib.protocol import Criterion, Protocol
from studylib.units import Q_
from studylib.wording import and_list, hours, or_list, plural, whole_hours

__all__ = [
    "histology",
    "histology_subtype",
    "agreement",
    "age",
    "ecog",
    "pregnancy_test",
    "consent",
    "brain_mets",
    "prior_radiation",
    "infection",
    "pregnant_or_lactating",
    "cardiac_ischemia",
    "chronic_steroids",
]


def _judge_flag(
    v: pd.DataFrame, field: str, *, fails_when: bool, yes: str, no: str, unknown: str, ask: str
) -> pd.DataFrame:
    """A criterion decided by one yes/no field; ``fails_when`` is the answer that excludes."""
    flag = v[field]
    failing = is_true(flag) if fails_when else is_false(flag)
    passing = is_false(flag) if fails_when else is_true(flag)
    status = np.select([failing, passing], ["fail", "pass"], "missing")
    said = {"pass": no if fails_when else yes, "fail": yes if fails_when else no}
    reason = [said.get(s, unknown) for s in status]
    resolve = [ask if s == "missing" else "" for s in status]
    return outcome(v.index, status, reason, resolve)


def _flag_rule(name: str, field: str, **words: object) -> Evaluator:
    """Register rule ``name``: a criterion decided by the yes/no ``field`` alone."""

    @evaluator(name)
    def rule(v: pd.DataFrame, criterion: Criterion, protocol: Protocol) -> pd.DataFrame:
        return _judge_flag(v, field, **words)

    rule.__doc__ = f"Decided by ``{field}``: {'yes' if words['fails_when'] else 'no'} excludes."
    return rule


@evaluator("histology", options=("diagnosis",))
def histology(v: pd.DataFrame, criterion: Criterion, protocol: Protocol) -> pd.DataFrame:
    """The criterion's ``diagnosis`` (``"melanoma"``) confirmed by biopsy or cytology."""
    diagnosis = str(criterion.options["diagnosis"]).strip()
    sentence = diagnosis[:1].upper() + diagnosis[1:]
    return _judge_flag(
        v,
        "histology_confirmed",
        fails_when=False,
        yes=f"{sentence} is confirmed by biopsy or cytology (histology_confirmed: yes).",
        no=f"{sentence} is not confirmed by biopsy or cytology (histology_confirmed: no).",
        unknown=f"Confirmation of {diagnosis} by biopsy or cytology is not recorded.",
        ask=f"Record whether {diagnosis} was confirmed by biopsy or cytology"
        " (histology_confirmed).",
    )


def _spoken(name: str) -> str:
    """A protocol name as words: ``"clear_cell"`` -> ``"clear cell"``."""
    return name.replace("_", " ")


@evaluator("histology_subtype", options=("diagnosis", "subtypes"))
def histology_subtype(v: pd.DataFrame, criterion: Criterion, protocol: Protocol) -> pd.DataFrame:
    """The criterion's ``diagnosis`` confirmed by biopsy or cytology, with a predominant
    histological subtype among its ``subtypes`` (NCT02306954: "predominant conventional (clear
    cell) renal cancer").

    A confirmation recorded as no fails, and so does a recorded subtype the criterion does not
    admit; a confirmed diagnosis of an admitted subtype passes; anything else is missing.
    """
    diagnosis = str(criterion.options["diagnosis"]).strip()
    sentence = diagnosis[:1].upper() + diagnosis[1:]
    admitted = [name_key(name) for name in criterion.options["subtypes"]]
    required = or_list(_spoken(name) for name in admitted)
    confirmed = v["histology_confirmed"]
    subtype = pd.Series(v["histology_subtype"], index=v.index, dtype=object)
    recorded = subtype.notna()
    other = recorded & ~subtype.isin(admitted)
    status = np.select(
        [is_false(confirmed), other, is_true(confirmed) & subtype.isin(admitted)],
        ["fail", "fail", "pass"],
        "missing",
    )

    def reason(s: str, yes: object, kind: object) -> str:
        said = f"histology_subtype: {kind}"
        if s == "fail" and yes is False:
            return f"{sentence} is not confirmed by biopsy or cytology (histology_confirmed: no)."
        if s == "fail":
            return f"The predominant subtype is {_spoken(kind)} ({said}); {required} is required."
        if s == "pass":
            return (
                f"{sentence} is confirmed by biopsy or cytology, predominantly {_spoken(kind)}"
                f" (histology_confirmed: yes; {said})."
            )
        absent = []
        if yes is None:
            absent.append(f"confirmation of {diagnosis} by biopsy or cytology")
        if kind is None:
            absent.append(f"the predominant subtype of the {diagnosis}")
        text_ = and_list(absent)
        return f"{text_[:1].upper()}{text_[1:]} {'is' if len(absent) == 1 else 'are'} not recorded."

    def resolve(s: str, yes: object, kind: object) -> str:
        if s != "missing":
            return ""
        asks = []
        if yes is None:
            asks.append(
                f"whether {diagnosis} was confirmed by biopsy or cytology (histology_confirmed)"
            )
        if kind is None:
            asks.append(
                f"the predominant subtype from the pathology report (histology_subtype;"
                f" {required} is required)"
            )
        return f"Record {and_list(asks)}."

    yes = [None if pd.isna(x) else bool(x) for x in confirmed]
    kinds = [None if pd.isna(x) else x for x in subtype]
    return outcome(
        v.index, status, rowwise(reason, status, yes, kinds), rowwise(resolve, status, yes, kinds)
    )


#: The groups an agreement may be limited to (``applies_to``): whether a record is in the
#: group, outside it, or unknown, and the words and record values that say so.
_GROUPS = {
    "childbearing_potential": (
        lambda v: is_true(v["childbearing_potential"]),
        lambda v: is_false(v["childbearing_potential"]),
        "women of childbearing potential",
        "childbearing_potential: no",
    ),
    "male": (
        lambda v: v["sex"].eq("M").fillna(False).astype(bool),
        lambda v: v["sex"].eq("F").fillna(False).astype(bool),
        "men",
        "sex: F",
    ),
}


def _agreement_options(criterion: Criterion, protocol: Protocol) -> tuple[str, list[str]]:
    """The criterion's yes/no ``field`` and ``applies_to`` groups, checked against the data
    dictionary and :data:`_GROUPS`."""
    field = criterion.options["field"]
    groups = criterion.options.get("applies_to", [])
    where = f"{protocol.path}: [[eligibility.criteria]] {criterion.id}"
    if field not in YES_NO_FIELDS:
        raise ProtocolError(
            f"{where}: field = {field!r}: expected a yes/no column of screening.csv"
            f" ({', '.join(YES_NO_FIELDS)})"
        )
    unknown = [g for g in groups if g not in _GROUPS] if isinstance(groups, list) else [groups]
    if unknown:
        raise ProtocolError(
            f"{where}: applies_to = {groups!r}: expected a list of {', '.join(_GROUPS)}"
        )
    return field, groups


@evaluator("agreement", options=("field", "agrees_to"))
def agreement(v: pd.DataFrame, criterion: Criterion, protocol: Protocol) -> pd.DataFrame:
    """The patient agrees to what the criterion's ``agrees_to`` says, recorded as yes in its
    yes/no ``field`` (NCT02306954: joining the PROCLAIM registry; avoiding pregnancy).

    With ``applies_to`` (``childbearing_potential``, ``male``), the criterion does not apply to
    a record known to be in none of those groups.
    """
    field, groups = _agreement_options(criterion, protocol)
    what = str(criterion.options["agrees_to"]).strip()
    flag = v[field]
    outside = pd.Series(bool(groups), index=v.index)
    for group in groups:
        outside &= _GROUPS[group][1](v)
    status = np.select(
        [outside.to_numpy(dtype=bool), is_true(flag), is_false(flag)],
        ["not_applicable", "pass", "fail"],
        "missing",
    )
    only = and_list(_GROUPS[g][2] for g in groups)
    facts = "; ".join(_GROUPS[g][3] for g in groups)
    said = {
        "pass": f"The patient agrees to {what} ({field}: yes).",
        "fail": f"The patient does not agree to {what} ({field}: no).",
        "missing": f"Whether the patient agrees to {what} is not recorded.",
        "not_applicable": f"Applies only to {only}; not this patient ({facts}).",
    }
    ask = f"Record whether the patient agrees to {what} ({field})."
    return outcome(
        v.index, status, [said[s] for s in status], [ask if s == "missing" else "" for s in status]
    )


consent = _flag_rule(
    "consent",
    "consent_signed",
    fails_when=False,
    yes="The study-specific consent form is signed (consent_signed: yes).",
    no="The study-specific consent form is not signed (consent_signed: no).",
    unknown="Whether the study-specific consent form is signed is not recorded.",
    ask="Record whether the patient signed the study-specific consent form (consent_signed).",
)

prior_radiation = _flag_rule(
    "prior_radiation",
    "prior_rt_to_sbrt_sites",
    fails_when=True,
    yes="A site proposed for SBRT was irradiated before (prior_rt_to_sbrt_sites: yes).",
    no="No site proposed for SBRT was irradiated before (prior_rt_to_sbrt_sites: no).",
    unknown="Previous radiation to the sites proposed for SBRT is not recorded.",
    ask="Check the radiation history of each site proposed for SBRT (prior_rt_to_sbrt_sites).",
)

infection = _flag_rule(
    "infection",
    "active_infection",
    fails_when=True,
    yes="Active systemic, pulmonary or pericardial infection (active_infection: yes).",
    no="No active systemic, pulmonary or pericardial infection (active_infection: no).",
    unknown="Active systemic, pulmonary or pericardial infection is not recorded.",
    ask="Record whether the patient has an active systemic, pulmonary or pericardial "
    "infection (active_infection).",
)

cardiac_ischemia = _flag_rule(
    "cardiac_ischemia",
    "cardiac_ischemia",
    fails_when=True,
    yes="Ischaemia on exercise tolerance test, stress thallium study or baseline EKG "
    "(cardiac_ischemia: yes).",
    no="No ischaemia on exercise tolerance test, stress thallium study or baseline EKG "
    "(cardiac_ischemia: no).",
    unknown="The result of the cardiac testing (exercise tolerance test, stress thallium study "
    "or baseline EKG) is not recorded.",
    ask="Record whether cardiac testing showed ischaemia (cardiac_ischemia).",
)

chronic_steroids = _flag_rule(
    "chronic_steroids",
    "chronic_steroids",
    fails_when=True,
    yes="The patient requires chronic steroids (chronic_steroids: yes).",
    no="The patient does not require chronic steroids (chronic_steroids: no).",
    unknown="Whether the patient requires chronic steroids is not recorded.",
    ask="Record whether the patient requires chronic steroids (chronic_steroids).",
)


def _male(v: pd.DataFrame) -> pd.Series:
    return v["sex"].eq("M").fillna(False).astype(bool)


@evaluator("pregnant_or_lactating")
def pregnant_or_lactating(
    v: pd.DataFrame, criterion: Criterion, protocol: Protocol
) -> pd.DataFrame:
    """Pregnant or lactating women are excluded; for men the criterion does not apply."""
    flag = v["pregnant_or_lactating"]
    male = _male(v)
    status = np.select(
        [is_true(flag), male, is_false(flag)], ["fail", "not_applicable", "pass"], "missing"
    )
    reason = [
        {
            "fail": "The patient is pregnant or lactating (pregnant_or_lactating: yes).",
            "pass": "The patient is neither pregnant nor lactating (pregnant_or_lactating: no).",
            "not_applicable": "Male patient.",
            "missing": "Whether the patient is pregnant or lactating is not recorded.",
        }[s]
        for s in status
    ]
    resolve = [
        "Record whether the patient is pregnant or lactating (pregnant_or_lactating)."
        if s == "missing"
        else ""
        for s in status
    ]
    return outcome(v.index, status, reason, resolve)


def _turns(born: pd.Timestamp, years: int) -> pd.Timestamp:
    """The date a person born on ``born`` reaches ``years`` (29 February: on 1 March)."""
    try:
        return born.replace(year=born.year + years)
    except ValueError:
        return pd.Timestamp(born.year + years, 3, 1)


@evaluator("age")
def age(v: pd.DataFrame, criterion: Criterion, protocol: Protocol) -> pd.DataFrame:
    """Age in whole years on the screening date, from the birth date, at least
    ``minimum_age``.

    A birthday on the screening date counts ([eligibility].reading_comparisons); someone born
    on 29 February has a birthday on 1 March in other years.
    """
    min_age = int(round(protocol.eligibility.minimum_age.to("year").magnitude))
    born, screened = v["birth_date"], v["screening_date"]
    before_birthday = (screened.dt.month < born.dt.month) | (
        (screened.dt.month == born.dt.month) & (screened.dt.day < born.dt.day)
    )
    years = screened.dt.year - born.dt.year - before_birthday.astype(int)
    known = born.notna() & screened.notna()
    status = np.select([~known, years >= min_age], ["missing", "pass"], "fail")
    minimum = plural(min_age, "year")

    def reason(s: str, b: pd.Timestamp, d: pd.Timestamp, y: float) -> str:
        if s == "missing":
            absent = [n for n, x in (("birth date", b), ("screening date", d)) if pd.isna(x)]
            return f"The {and_list(absent)} {'is' if len(absent) == 1 else 'are'} not recorded."
        said = f"Age {plural(int(y), 'year')} on {text.date_text(d)} (born {text.date_text(b)})"
        if s == "pass":
            return f"{said}: at least {minimum}."
        birthday = text.date_text(_turns(b, min_age))
        return f"{said} is below {minimum}; the patient turns {min_age} on {birthday}."

    def resolve(s: str, b: pd.Timestamp, d: pd.Timestamp) -> str:
        if s != "missing":
            return ""
        absent = [
            f"the {name.replace('_', ' ')} ({name})"
            for name, x in (("birth_date", b), ("screening_date", d))
            if pd.isna(x)
        ]
        return f"Record {and_list(absent)}."

    return outcome(
        v.index,
        status,
        rowwise(reason, status, born, screened, years),
        rowwise(resolve, status, born, screened),
    )


@evaluator("ecog")
def ecog(v: pd.DataFrame, criterion: Criterion, protocol: Protocol) -> pd.DataFrame:
    """ECOG performance status at most ``max_ecog``."""
    score = v["ecog"]
    top = protocol.eligibility.max_ecog
    status = np.select(
        [score.isna().to_numpy(), (score <= top).fillna(False).to_numpy(dtype=bool)],
        ["missing", "pass"],
        "fail",
    )

    def reason(s: str, x: object) -> str:
        if s == "missing":
            return "The ECOG performance status is not recorded."
        verdict = f"within 0-{top}" if s == "pass" else f"above {top} (0-{top} required)"
        return f"ECOG performance status {x} is {verdict}."

    resolve = [
        "Record the ECOG performance status (ecog)." if s == "missing" else "" for s in status
    ]
    return outcome(v.index, status, rowwise(reason, status, score), resolve)


_BRAIN = {
    "none": ("pass", "No brain metastases (brain_mets: none)."),
    "radiosurgery_candidate": (
        "pass",
        "Brain metastases that are candidates for radiosurgery (brain_mets: "
        "radiosurgery_candidate).",
    ),
    "not_radiosurgery_candidate": (
        "fail",
        "Brain metastases that are not candidates for radiosurgery (brain_mets: "
        "not_radiosurgery_candidate).",
    ),
}


@evaluator("brain_mets")
def brain_mets(v: pd.DataFrame, criterion: Criterion, protocol: Protocol) -> pd.DataFrame:
    """Brain metastases exclude unless they can be treated with radiosurgery."""
    missing = ("missing", "Whether the patient has brain metastases is not recorded.")
    judged = [_BRAIN.get(x, missing) if x is not None else missing for x in v["brain_mets"]]
    status = [s for s, _ in judged]
    resolve = [
        "Record brain metastases from the staging brain imaging (brain_mets: none, "
        "radiosurgery_candidate or not_radiosurgery_candidate)."
        if s == "missing"
        else ""
        for s in status
    ]
    return outcome(v.index, status, [r for _, r in judged], resolve)


def _when(stamp: pd.Timestamp, utc: bool) -> str:
    return text.datetime_text(stamp) + (" UTC" if utc else "")


def _gap(delta: pd.Timedelta) -> str:
    """A time between two moments, in hours as the window is worded (``"80.5 hours"``)."""
    return hours(Q_(abs(pd.Timedelta(delta).total_seconds()) / 3600, "hour"))


@evaluator("pregnancy_test")
def pregnancy_test(v: pd.DataFrame, criterion: Criterion, protocol: Protocol) -> pd.DataFrame:
    """A negative pregnancy test within ``pregnancy_test_window`` before the first protocol
    treatment.

    For women of childbearing potential only. A positive test fails. A negative test done
    earlier than the window is not a failure of the patient: the criterion asks for a repeat
    test (``review``), due at or after ``planned_start_at`` minus the window. A test exactly at
    the window's start counts. A test after the planned start does not count (``review``: the
    planned start or the test time needs checking).
    """
    limit = protocol.eligibility.pregnancy_test_window
    potential = v["childbearing_potential"]
    result = v["pregnancy_test"].astype(object)
    tested, start = v["pregnancy_test_at"], v["planned_start_at"]
    opens = start - pd.Timedelta(hours=whole_hours(limit))
    negative = result.eq("negative").to_numpy(dtype=bool)
    timed = (tested.notna() & start.notna()).to_numpy(dtype=bool)
    early = timed & (tested < opens).to_numpy(dtype=bool)
    late = timed & (tested > start).to_numpy(dtype=bool)
    not_applicable = is_false(potential) | (potential.isna() & _male(v))
    status = np.select(
        [
            result.eq("positive").to_numpy(dtype=bool),
            not_applicable.to_numpy(),
            potential.isna().to_numpy(),
            ~negative | ~timed,
            early | late,
        ],
        ["fail", "not_applicable", "missing", "missing", "review"],
        "pass",
    )
    window = hours(limit)
    utc = v["pregnancy_test_at_utc"] | v["planned_start_at_utc"]

    def reason(s, r, t, p, z, cbp, male) -> str:
        if s == "not_applicable" and male:
            return "Male patient: no pregnancy test is needed."
        if s == "not_applicable":
            return "Not a woman of childbearing potential (childbearing_potential: no)."
        done = f" on {_when(t, z)}" if not pd.isna(t) else ""
        if s == "fail":
            return f"The pregnancy test{done} is positive."
        if pd.isna(cbp):
            return "Whether the patient is a woman of childbearing potential is not recorded."
        if r == "not_done":
            return "Woman of childbearing potential; no pregnancy test has been done."
        if r != "negative":
            return "Woman of childbearing potential; no pregnancy test result is recorded."
        if pd.isna(t):
            return "A negative pregnancy test is recorded without the time it was done."
        if pd.isna(p):
            return (
                f"Negative pregnancy test{done}, but the planned first protocol treatment is not"
                f" recorded, so the {window} window cannot be checked."
            )
        gap = _gap(p - t)
        first = f"the planned first protocol treatment ({_when(p, z)})"
        if s == "review" and t > p:
            return f"Negative pregnancy test{done}, {gap} after {first}: it must precede it."
        if s == "review":
            return f"Negative pregnancy test{done}, {gap} before {first}: more than {window}."
        return f"Negative pregnancy test{done}, {gap} before {first}: within {window}."

    def resolve(s, r, t, p, o, z, cbp) -> str:
        if s not in ("missing", "review"):
            return ""
        if cbp is None:
            return (
                "Record whether the patient is a woman of childbearing potential"
                " (childbearing_potential); if so, she needs a negative pregnancy test within"
                f" {window} before the first protocol treatment."
            )
        if r == "negative" and pd.isna(t):
            return "Record when the pregnancy test was done (pregnancy_test_at)."
        if pd.isna(p):
            return (
                "Record the planned first protocol treatment (planned_start_at); the pregnancy"
                f" test must be done within {window} before it."
            )
        between = f"at or after {_when(o, z)} and before {_when(p, z)}"
        if s == "review" and t > p:
            return (
                "Check the planned first treatment time (planned_start_at); if treatment has not"
                f" started, repeat the serum or urine pregnancy test {between}."
            )
        if s == "review":
            return (
                f"Repeat the serum or urine pregnancy test {between}; a test before"
                f" {_when(o, z)} is too early."
            )
        return (
            f"Do a serum or urine pregnancy test {between} and record its result and time"
            " (pregnancy_test, pregnancy_test_at)."
        )

    cbp = [None if pd.isna(x) else bool(x) for x in potential]
    return outcome(
        v.index,
        status,
        rowwise(reason, status, result, tested, start, utc, cbp, _male(v)),
        rowwise(resolve, status, result, tested, start, opens, utc, cbp),
    )
