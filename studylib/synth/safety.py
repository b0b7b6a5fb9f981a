"""Vital signs, laboratory panels and adverse events of a synthetic cohort (``vitals.csv``,
``labs.csv``, ``adverse_events.csv``), consistent with its ``dosing.csv``.

The doses held and the cycles stopped in ``dosing.csv`` are decided first (:mod:`.dosing`);
this module then writes what the nurse and the laboratory recorded before each dose so that
the protocol's ``[safety]`` criteria, applied by :func:`studylib.safety.dose_decisions`, give
exactly that decision: every dose given meets no criterion, every single hold meets one hold
criterion, and the slot where a cycle stops meets a stop criterion (or the protocol's number
of relative criteria at once). The hold reasons in ``dosing.csv`` are then the decision's own
words. The check is made on the generated records, so a cohort that disagreed would not be
written. Values are drawn inside the protocol's bounds, never from numbers written here, so a
trial folder with another protocol gets records that follow its criteria.

Toxicity grows with the doses given in a cycle (capillary leak: heart rate and weight up,
blood pressure and urine output down; creatinine and bilirubin up; platelets, lymphocytes and
albumin down) and resolves between cycles. Adverse events come from the graded laboratory
values and weights (CTCAE v5.0, :func:`studylib.safety.lab_grades`), from the vital signs
that held or stopped a dose, and from the common clinical toxicities of high-dose IL-2 at the
frequencies below (synthetic choices). The grade >= 3 rates of hypotension and bilirubin fall in
the published ranges of :data:`PUBLISHED_GRADE3`.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from studylib.dictionary import TABLES
from studylib.errors import SynthError
from studylib.protocol import Protocol, SafetyCriterion
from studylib.safety.bounds import TYPICAL, healthy_range, inside
from studylib.safety.delivery import recorded_action
from studylib.safety.labs import lab_grades
from studylib.synth.screening import POUND_KG
from studylib.units import parse_quantities

__all__ = ["safety_records", "PUBLISHED_GRADE3", "VITAL_COLUMNS", "LAB_COLUMNS"]

#: Grade 3-4 rates published for high-dose IL-2 (per patient treated): the synthetic cohort's
#: rates lie within them. Hypotension: 81% in the first and 31% in the last patients of 1241
#: treated at the NCI, 1985-1997 (Kammula et al., Cancer 1998;83:797-805). Bilirubin: 12% at
#: 600,000 and 34% at 720,000 IU/kg in melanoma (Target Oncol 2014;9:63-71).
PUBLISHED_GRADE3 = {"Hypotension": (31.0, 81.0), "Blood bilirubin increased": (12.0, 34.0)}

#: Columns of ``vitals.csv`` and ``labs.csv`` as written: the data dictionary's.
VITAL_COLUMNS = [column.name for column in TABLES["vitals"].columns]
LAB_COLUMNS = [column.name for column in TABLES["labs"].columns]
# The label's events and durations other than mental status: recorded "N" (absent) and "0 h",
# so that every criterion is judged.
_ABSENT_EVENTS = [
    c.name
    for c in TABLES["vitals"].columns
    if c.kind == "yes_no" and c.name != "mental_status_change"
]
_DURATIONS = [c.name for c in TABLES["vitals"].columns if c.kind == "quantity" and c.unit == "h"]

_LAB_CAUSES = {"creatinine", "platelets", "bilirubin", "bicarbonate"}
_STOPPED = re.compile(r"^cycle stopped after dose slot (\d+):", re.IGNORECASE)
_MINUTE = np.timedelta64(1, "m")

# Synthetic choices: the clinical toxicities of high-dose IL-2 per cycle (probability, and the
# share of grades 1, 2, 3), and of SBRT per course of radiation.
_CLINICAL = {
    "Fever": (0.85, (0.7, 0.3, 0.0)),
    "Chills": (0.7, (0.6, 0.4, 0.0)),
    "Nausea": (0.5, (0.6, 0.4, 0.0)),
    "Vomiting": (0.35, (0.6, 0.4, 0.0)),
    "Diarrhea": (0.45, (0.5, 0.4, 0.1)),
    "Fatigue": (0.6, (0.5, 0.5, 0.0)),
    "Rash maculo-papular": (0.3, (0.6, 0.4, 0.0)),
    "Pruritus": (0.35, (0.6, 0.4, 0.0)),
    "Edema limbs": (0.25, (0.6, 0.4, 0.0)),
    "Capillary leak syndrome": (0.15, (0.0, 0.7, 0.3)),
}
_HYPOTENSION_GRADE3 = 0.17  # per cycle, treated with fluids or pressors between doses
_HYPOTENSION_GRADE2 = 0.35
_LINE_INFECTION = 0.04  # per patient: catheter related infection, grade 3, serious
_PNEUMONITIS = 0.05  # per SBRT course: grade 2, related to SBRT
_SERIOUS_GRADE3 = 0.1  # share of clinical grade 3 events that prolonged the admission


def _draw(c: SafetyCriterion, key: str, rng: np.random.Generator) -> float:
    """A random value meeting criterion ``c`` (a yes/no criterion needs no draw)."""
    return inside(c, key) if c.when is not None else inside(c, key, rng.random())


def _criteria(protocol: Protocol) -> dict[str, list[SafetyCriterion]]:
    """The protocol's criteria the generator can meet, by observation."""
    out: dict[str, list[SafetyCriterion]] = {}
    for c in protocol.safety.criteria:
        if c.observation in TYPICAL:
            out.setdefault(c.observation, []).append(c)
    return out


def _fmt(values: np.ndarray, template: str, unit: str) -> np.ndarray:
    return np.char.add(np.char.mod(template, np.asarray(values, dtype=float)), unit)


def _write_count(value: np.ndarray, style: np.ndarray, digits: int = 1) -> np.ndarray:
    return np.select(
        [style == "giga", style == "kilo"],
        [_fmt(value, f"%.{digits}f", " x10^9/L"), _fmt(value, f"%.{digits}f", " K/uL")],
        _fmt(np.round(value * 1000, -1), "%.0f", "/uL"),
    )


def _write_chemistry(value, si, per_mg_dl, digits, molar="µmol/L") -> np.ndarray:
    return np.where(
        si, _fmt(value * per_mg_dl, "%.0f", f" {molar}"), _fmt(value, f"%.{digits}f", " mg/dL")
    )


def _patients(screening: pd.DataFrame) -> pd.DataFrame:
    """Baselines and the units each patient's laboratory writes, from ``screening.csv``."""
    s = screening.set_index("patient_id")
    out = pd.DataFrame(index=s.index)
    out["weight_kg"] = parse_quantities(s["weight"], "kg", to="kg")["magnitude"].to_numpy()
    out["pounds"] = s["weight"].fillna("").str.contains("lb").to_numpy()
    for name in ("creatinine", "bilirubin"):
        out[name] = parse_quantities(s[name], "mg/dL", to="mg/dL", analyte=name)[
            "magnitude"
        ].to_numpy()
    out["si"] = s["creatinine"].fillna("").str.contains("mol").to_numpy()
    for name in ("ast", "alt", "ast_uln", "alt_uln"):
        out[name] = parse_quantities(s[name], "U/L", to="U/L")["magnitude"].to_numpy()
    out["hgb"] = parse_quantities(s["hgb"], "g/dL", to="g/dL", analyte="hemoglobin")[
        "magnitude"
    ].to_numpy()
    out["hgb_si"] = s["hgb"].fillna("").str.contains("g/L").to_numpy()
    wbc = s["wbc"].fillna("")
    out["count_style"] = np.select(
        [wbc.str.contains("10^9", regex=False), wbc.str.contains("K/")], ["giga", "kilo"], "micro"
    )
    out["male"] = (s["sex"] == "M").to_numpy()
    return out


def _slots(dosing: pd.DataFrame, max_doses: int) -> pd.DataFrame:
    """The IL-2 slots, with what was recorded, the toxicity so far in the cycle (0-1) and
    the slot the cycle stopped after."""
    slots = dosing[dosing["treatment"] == "il2"].copy()
    slots["cycle"] = slots["cycle"].astype(int)
    slots["number"] = slots["number"].astype(int)
    slots["scheduled"] = pd.to_datetime(slots["scheduled_at"]).to_numpy()
    slots["recorded"] = recorded_action(slots).to_numpy()
    given = (slots["status"] == "given").astype(int)
    before = given.groupby([slots["patient_id"], slots["cycle"]]).cumsum() - given
    slots["tox"] = (before / max_doses).to_numpy()
    slots["after"] = slots["hold_reason"].fillna("").str.extract(_STOPPED)[0]
    return slots


def safety_records(
    screening: pd.DataFrame,
    dosing: pd.DataFrame,
    rng: np.random.Generator,
    protocol: Protocol,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.Series]:
    """``vitals.csv``, ``labs.csv``, ``adverse_events.csv`` and the hold reasons of
    ``dosing.csv`` (indexed like ``dosing``), all as text.

    Raises
    ------
    SynthError
        If the protocol has no ``[safety]`` section, or no criterion the generator can meet
        for a hold or a stop (a generator that cannot explain its holds refuses to write).
    """
    if protocol.safety is None:
        raise SynthError(f"{protocol.name} has no [safety] section: holds cannot be explained")
    criteria = _criteria(protocol)
    patients = _patients(screening)
    slots = _slots(dosing, protocol.il2.max_doses_per_cycle)
    assessed = slots[slots["recorded"].isin(["give", "hold", "stop"])].copy()
    n = len(assessed)
    pid = assessed["patient_id"].to_numpy()
    base = patients.loc[pid]
    tox = assessed["tox"].to_numpy()
    sens = np.exp(rng.normal(0, 0.5, (len(patients), 6)))  # each patient's sensitivity
    sens = pd.DataFrame(sens, index=patients.index).loc[pid].to_numpy()

    def healthy(key, value):
        low, high = healthy_range(criteria.get(key, []), key)
        return np.clip(value, low, high)

    vit = {
        "heart_rate": healthy("heart_rate", 80 + 18 * tox * sens[:, 0] + rng.normal(0, 5, n)),
        "systolic_bp": healthy("systolic_bp", 122 - 22 * tox * sens[:, 1] + rng.normal(0, 7, n)),
        "o2_saturation": healthy("o2_saturation", 97.5 - 3 * tox + rng.normal(0, 1, n)),
        "urine_output_8h": healthy(
            "urine_output_8h", 650 - 380 * tox * sens[:, 2] + rng.normal(0, 80, n)
        ),
        "weight": healthy("weight", 12 * tox * sens[:, 3] + rng.normal(0, 0.6, n)),
        "mental_status_change": np.zeros(n),
    }
    stat: dict[str, np.ndarray] = {}
    cause = np.full(n, "", dtype=object)  # the observations set to meet a criterion
    recorded = assessed["recorded"].to_numpy()
    hold_choices = [c for cs in criteria.values() for c in cs if c.action == "hold"]
    # A single hold comes from a vital sign; weight gain builds up over a cycle, so it stops
    # a cycle with other relative criteria instead of holding one dose early.
    single_holds = [
        c for c in hold_choices if c.observation not in _LAB_CAUSES and not c.change_from
    ]
    hold_choices = [c for c in hold_choices if c.observation not in _LAB_CAUSES]
    stop_choices = [c for cs in criteria.values() for c in cs if c.action == "stop"]
    relative = [c for c in hold_choices if c.kind == "relative"]
    need = protocol.safety.relative_criteria_to_stop
    by_key = {c.observation: c for c in relative}  # one relative criterion per observation
    if not single_holds or not (stop_choices or len(by_key) >= need):
        raise SynthError(f"{protocol.name}: no [safety] criterion the generator can meet")
    stops: list[object] = list(stop_choices)
    if len(by_key) >= need:
        stops.append("relative")
    for row in np.flatnonzero(recorded == "hold"):
        c = single_holds[rng.integers(len(single_holds))]
        vit[c.observation][row] = _draw(c, c.observation, rng)
        cause[row] = c.observation
    for row in np.flatnonzero(recorded == "stop"):
        choice = stops[rng.integers(len(stops))]
        if choice == "relative":
            keys = [str(k) for k in rng.permutation(sorted(by_key))[:need]]
            for key in keys:
                vit[key][row] = _draw(by_key[key], key, rng)
            cause[row] = " ".join(keys)
        elif choice.observation in _LAB_CAUSES:
            stat.setdefault(choice.observation, np.full(n, np.nan))[row] = _draw(
                choice, choice.observation, rng
            )
            cause[row] = choice.observation
        else:
            vit[choice.observation][row] = _draw(choice, choice.observation, rng)
            cause[row] = choice.observation
    assessed["measured"] = assessed["scheduled"].to_numpy() - 30 * _MINUTE
    vitals = _vitals_table(assessed, base, vit)
    labs_typed, labs = _labs_tables(assessed, patients, stat, sens, criteria, rng)
    judged = _judged(vitals, labs_typed, screening, dosing, protocol)
    _check(judged)
    hold_reason = dosing["hold_reason"].copy()
    hold_reason[slots.index] = _hold_reasons(slots, judged)
    events = _adverse_events(assessed, vitals, labs_typed, screening, dosing, cause, rng)
    return vitals, labs, events, hold_reason


def _vitals_table(assessed, base, vit) -> pd.DataFrame:
    weight = base["weight_kg"].to_numpy() * (1 + vit["weight"] / 100)
    pounds = base["pounds"].to_numpy()
    table = pd.DataFrame(
        {
            "patient_id": assessed["patient_id"].to_numpy(),
            "cycle": assessed["cycle"].astype(str).to_numpy(),
            "number": assessed["number"].astype(str).to_numpy(),
            "measured_at": np.datetime_as_string(
                assessed["measured"].to_numpy().astype("datetime64[m]"), unit="m"
            ),
            "heart_rate": _fmt(np.round(vit["heart_rate"]), "%.0f", " bpm"),
            "systolic_bp": _fmt(np.round(vit["systolic_bp"]), "%.0f", " mmHg"),
            "o2_saturation": _fmt(np.round(vit["o2_saturation"]), "%.0f", " %"),
            "urine_output_8h": _fmt(np.round(vit["urine_output_8h"] / 5) * 5, "%.0f", " mL"),
            "weight": np.where(
                pounds,
                _fmt(np.round(weight / POUND_KG, 1), "%.1f", " lb"),
                _fmt(np.round(weight, 1), "%.1f", " kg"),
            ),
            "mental_status_change": np.where(vit["mental_status_change"] > 0.5, "Y", "N"),
        }
    )
    for column in _ABSENT_EVENTS:
        table[column] = "N"
    for column in _DURATIONS:
        table[column] = "0 h"
    return table[VITAL_COLUMNS]


def _labs_tables(assessed, patients, stat, sens, criteria, rng):
    """The daily panels at 06:00 of each day a cycle has a dose assessed, and a panel drawn
    90 minutes before a dose that a laboratory value stopped: typed (for checking) and text."""
    day = assessed["scheduled"].dt.normalize()
    per_day = (
        assessed.assign(day=day, sens=list(sens))
        .groupby(["patient_id", "cycle", "day"], sort=True)
        .agg(tox=("tox", "min"), sens=("sens", "first"))
        .reset_index()
    )
    per_day["collected"] = per_day["day"] + pd.Timedelta(hours=6)
    statted = (
        ~np.isnan(np.column_stack([v for v in stat.values()])).all(axis=1)
        if stat
        else (np.zeros(len(assessed), dtype=bool))
    )
    extra = assessed[statted].assign(sens=list(sens[statted]))
    extra = extra.assign(collected=extra["scheduled"] - pd.Timedelta(minutes=90))
    panels = pd.concat(
        [per_day, extra[["patient_id", "cycle", "tox", "sens", "collected"]]], ignore_index=True
    )
    k = len(panels)
    p = patients.loc[panels["patient_id"]]
    s = np.stack(panels["sens"].to_numpy())
    tox = panels["tox"].to_numpy()
    noise = rng.normal(0, 1, (k, 8))

    def healthy(key, value):
        low, high = healthy_range(criteria.get(key, []), key)
        return np.clip(value, max(low, 0.01), high)

    values = {
        "creatinine": healthy("creatinine", p["creatinine"].to_numpy() * (1 + 1.0 * tox * s[:, 4])),
        "bilirubin": healthy(
            "bilirubin", p["bilirubin"].to_numpy() * (1 + 3.4 * tox * s[:, 5]) + 0.05 * noise[:, 0]
        ),
        "ast": p["ast"].to_numpy() * (1 + 2.2 * tox * s[:, 5]),
        "alt": p["alt"].to_numpy() * (1 + 2.0 * tox * s[:, 5]),
        "platelets": healthy("platelets", 240 * (1 - 0.5 * tox * s[:, 2]) + 25 * noise[:, 1]),
        "hemoglobin": np.maximum(p["hgb"].to_numpy() - 2.2 * tox + 0.3 * noise[:, 2], 7.0),
        "wbc": np.maximum(7.0 + 1.2 * noise[:, 3], 2.0),
        "lymphocytes": np.maximum(1.6 * (1 - 0.85 * tox * s[:, 0]) + 0.1 * noise[:, 4], 0.15),
        "albumin": np.maximum(4.1 - 1.4 * tox + 0.1 * noise[:, 5], 1.8),
        "bicarbonate": healthy("bicarbonate", 25 - 5 * tox + 0.8 * noise[:, 6]),
    }
    values["neutrophils"] = values["wbc"] * 0.62
    for key, stat_values in stat.items():
        rows = np.flatnonzero(~np.isnan(stat_values))
        values[key][len(per_day) + np.searchsorted(np.flatnonzero(statted), rows)] = stat_values[
            rows
        ]
    si, style = p["si"].to_numpy(), p["count_style"].to_numpy()
    hgb_si, male = p["hgb_si"].to_numpy(), p["male"].to_numpy()
    text = {
        "patient_id": panels["patient_id"].to_numpy(),
        "collected_at": np.datetime_as_string(
            panels["collected"].to_numpy().astype("datetime64[m]"), unit="m"
        ),
        "creatinine": _write_chemistry(values["creatinine"], si, 88.42, 2),
        "creatinine_uln": np.where(si, "106 µmol/L", "1.2 mg/dL"),
        "bilirubin": _write_chemistry(values["bilirubin"], si, 17.1, 1),
        "bilirubin_uln": np.where(si, "21 µmol/L", "1.2 mg/dL"),
        "ast": _fmt(np.round(values["ast"]), "%.0f", " U/L"),
        "ast_uln": _fmt(p["ast_uln"].to_numpy(), "%.0f", " U/L"),
        "alt": _fmt(np.round(values["alt"]), "%.0f", " U/L"),
        "alt_uln": _fmt(p["alt_uln"].to_numpy(), "%.0f", " U/L"),
        "platelets": _write_count(np.round(values["platelets"]), style, 0),
        "platelets_lln": _write_count(np.full(k, 150.0), style, 0),
        "hemoglobin": np.where(
            hgb_si,
            _fmt(np.round(values["hemoglobin"] * 10), "%.0f", " g/L"),
            _fmt(values["hemoglobin"], "%.1f", " g/dL"),
        ),
        "hemoglobin_lln": np.where(
            hgb_si, np.where(male, "135 g/L", "120 g/L"), np.where(male, "13.5 g/dL", "12.0 g/dL")
        ),
        "wbc": _write_count(values["wbc"], style),
        "wbc_lln": _write_count(np.full(k, 4.0), style),
        "neutrophils": _write_count(values["neutrophils"], style),
        "neutrophils_lln": _write_count(np.full(k, 1.8), style),
        "lymphocytes": _write_count(values["lymphocytes"], style, 2),
        "lymphocytes_lln": _write_count(np.full(k, 1.0), style),
        "albumin": np.where(
            hgb_si,
            _fmt(np.round(values["albumin"] * 10), "%.0f", " g/L"),
            _fmt(values["albumin"], "%.1f", " g/dL"),
        ),
        "albumin_lln": np.where(hgb_si, "35 g/L", "3.5 g/dL"),
        "bicarbonate": _fmt(np.round(values["bicarbonate"]), "%.0f", " mmol/L"),
    }
    labs = pd.DataFrame(text)[LAB_COLUMNS]
    order = np.lexsort((labs["collected_at"].to_numpy(), labs["patient_id"].to_numpy()))
    labs = labs.iloc[order].reset_index(drop=True)
    typed = labs.assign(
        collected_at=pd.to_datetime(labs["collected_at"]),
        cycle=panels["cycle"].to_numpy()[order],
    )
    return typed, labs


def _typed_vitals(vitals: pd.DataFrame) -> pd.DataFrame:
    return vitals.assign(
        cycle=vitals["cycle"].astype(int),
        number=vitals["number"].astype(int),
        measured_at=pd.to_datetime(vitals["measured_at"]),
    )


def _typed_dosing(dosing: pd.DataFrame) -> pd.DataFrame:
    return dosing.assign(
        cycle=dosing["cycle"].astype(int),
        number=dosing["number"].astype(int),
        scheduled_at=pd.to_datetime(dosing["scheduled_at"]),
    )


def _judged(vitals, labs_typed, screening, dosing, protocol) -> pd.DataFrame:
    from studylib.safety.slots import judge_slots

    return judge_slots(
        _typed_dosing(dosing), _typed_vitals(vitals), labs_typed, screening, protocol=protocol
    )


def _check(judged: pd.DataFrame) -> None:
    wrong = judged[judged["assessed"] & (judged["action"] != judged["recorded"])]
    if len(wrong):
        first = wrong.iloc[0]
        raise SynthError(
            f"generator error: {len(wrong)} dose slots whose records do not explain what"
            f" dosing.csv records (first: {first['patient_id']} cycle {first['cycle']} dose"
            f" {first['number']}: recorded {first['recorded']}, criteria say {first['action']}:"
            f" {first['reasons']})"
        )


def _hold_reasons(slots: pd.DataFrame, judged: pd.DataFrame) -> pd.Series:
    """The decision's words for each held slot; the slots after a stop repeat the stop's."""
    judged = judged.copy()
    judged["why"] = judged["reasons"].str.replace(
        r"\s*Not judged \(not recorded\):.*$", "", regex=True
    )
    key = ["patient_id", "cycle", "number"]
    why = judged.set_index(key)["why"]
    reason = pd.Series("", index=slots.index, dtype=object)
    index = pd.MultiIndex.from_frame(slots[key])
    held = (slots["recorded"] == "hold").to_numpy()
    reason[held] = why.reindex(index).to_numpy()[held]
    stops = judged[judged["recorded"] == "stop"].set_index(["patient_id", "cycle"])
    stopped = slots["recorded"].isin(["stop", "stopped"]).to_numpy()
    pairs = pd.MultiIndex.from_frame(slots[["patient_id", "cycle"]])
    first = stops["number"].reindex(pairs).to_numpy()[stopped]
    words = stops["why"].reindex(pairs).to_numpy()[stopped]
    reason[stopped] = [
        f"cycle stopped after dose slot {int(f) - 1}: {w}"
        for f, w in zip(first, words, strict=True)
    ]
    return reason


# The adverse event a vital sign that held or stopped a dose is recorded as, and its grade
# for a hold and for a stop (CTCAE v5.0: hypotension and hypoxia needing intervention are
# grade 3; a tachycardia needing urgent intervention, as at a stop, is grade 3).
_VITAL_EVENTS = {
    "systolic_bp": ("Hypotension", 3, 3),
    "heart_rate": ("Sinus tachycardia", 2, 3),
    "o2_saturation": ("Hypoxia", 3, 3),
    "mental_status_change": ("Confusion", 2, 3),
}


def _adverse_events(assessed, vitals, labs_typed, screening, dosing, cause, rng) -> pd.DataFrame:
    frames = []
    grades = lab_grades(labs_typed, screening, _typed_vitals(vitals))
    grades = grades[grades["grade"].fillna(0) > 0]
    cycle_of = _cycle_lookup(assessed)
    frames.append(
        pd.DataFrame(
            {
                "patient_id": grades["patient_id"].to_numpy(),
                "cycle": cycle_of(grades["patient_id"], grades["collected_at"]),
                "term": grades["term"].to_numpy(),
                "grade": grades["grade"].astype(int).to_numpy(),
                "start": grades["collected_at"].dt.normalize().to_numpy(),
                "source": "lab",
            }
        )
    )
    vital_rows = []
    for row in np.flatnonzero(cause != ""):
        slot = assessed.iloc[row]
        keys = str(cause[row]).split()
        for key in keys:
            if key in _VITAL_EVENTS:
                term, hold, stop = _VITAL_EVENTS[key]
                # a stop by one criterion is by an absolute one; by several, each is relative
                grade = stop if slot["recorded"] == "stop" and len(keys) == 1 else hold
                vital_rows.append(
                    (
                        slot["patient_id"],
                        slot["cycle"],
                        term,
                        grade,
                        slot["scheduled"].normalize(),
                        slot["recorded"],
                    )
                )
    frames.append(
        pd.DataFrame(
            vital_rows, columns=["patient_id", "cycle", "term", "grade", "start", "source"]
        )
    )
    cycles = assessed.groupby(["patient_id", "cycle"], sort=True)["scheduled"].min()
    k = len(cycles)
    first = cycles.dt.normalize().to_numpy()
    low_bp = pd.MultiIndex.from_tuples(
        [(r[0], r[1]) for r in vital_rows if r[2] == "Hypotension"], names=["patient_id", "cycle"]
    )
    u = rng.random(k)
    clinical_bp = (u < _HYPOTENSION_GRADE3 + _HYPOTENSION_GRADE2) & ~cycles.index.isin(low_bp)
    frames.append(
        pd.DataFrame(
            {
                "patient_id": cycles.index.get_level_values(0)[clinical_bp],
                "cycle": cycles.index.get_level_values(1)[clinical_bp],
                "term": "Hypotension",
                "grade": np.where(u < _HYPOTENSION_GRADE3, 3, 2)[clinical_bp],
                "start": first[clinical_bp]
                + rng.integers(1, 4, k)[clinical_bp].astype("timedelta64[D]"),
                "source": "clinical",
            }
        )
    )
    for term, (p, shares) in _CLINICAL.items():
        hit = rng.random(k) < p
        frames.append(
            pd.DataFrame(
                {
                    "patient_id": cycles.index.get_level_values(0)[hit],
                    "cycle": cycles.index.get_level_values(1)[hit],
                    "term": term,
                    "grade": 1 + rng.choice(3, size=k, p=shares)[hit],
                    "start": first[hit] + rng.integers(0, 5, k)[hit].astype("timedelta64[D]"),
                    "source": "clinical",
                }
            )
        )
    starts = assessed.groupby("patient_id")["scheduled"].min().dt.normalize()
    # line infections are rare: exactly the share of patients, not a draw that may triple it
    infected = np.zeros(len(starts), dtype=bool)
    infected[rng.choice(len(starts), round(_LINE_INFECTION * len(starts)), replace=False)] = True
    frames.append(
        pd.DataFrame(
            {
                "patient_id": starts.index[infected],
                "cycle": 1,
                "term": "Catheter related infection",
                "grade": 3,
                "start": starts.to_numpy()[infected] + np.timedelta64(3, "D"),
                "source": "infection",
            }
        )
    )
    sbrt = dosing[(dosing["treatment"] == "sbrt") & (dosing["status"] == "given")]
    courses = sbrt.groupby(["patient_id", "cycle"], sort=True)["given_at"].max()
    pneumonitis = rng.random(len(courses)) < _PNEUMONITIS
    frames.append(
        pd.DataFrame(
            {
                "patient_id": courses.index.get_level_values(0)[pneumonitis],
                "cycle": courses.index.get_level_values(1)[pneumonitis].astype(int),
                "term": "Pneumonitis",
                "grade": 2,
                "start": pd.to_datetime(courses.to_numpy()[pneumonitis]).normalize()
                + pd.Timedelta(days=30),
                "source": "sbrt",
            }
        )
    )
    events = pd.concat([f for f in frames if len(f)], ignore_index=True)
    events["start"] = pd.to_datetime(events["start"])
    # One event per patient, cycle and term: its worst grade, from its first day.
    rank = {"stop": 0, "hold": 1, "infection": 2, "sbrt": 3, "clinical": 4, "lab": 5}
    events["rank"] = events["source"].map(rank)
    events = events.sort_values(
        ["patient_id", "cycle", "term", "grade", "rank"],
        ascending=[True, True, True, False, True],
        kind="stable",
    )
    worst = (
        events.groupby(["patient_id", "cycle", "term"], sort=True)
        .agg(grade=("grade", "first"), source=("source", "first"), start=("start", "min"))
        .reset_index()
    )
    days = np.where(worst["source"] == "sbrt", 21, rng.integers(1, 7, len(worst)))
    worst["end"] = worst["start"] + pd.to_timedelta(days, unit="D")
    return _events_table(worst, sbrt, rng)


def _cycle_lookup(assessed):
    starts = assessed.groupby(["patient_id", "cycle"])["scheduled"].min().reset_index()

    def cycle_of(patient_ids: pd.Series, when: pd.Series) -> np.ndarray:
        left = pd.DataFrame(
            {
                "patient_id": patient_ids.to_numpy(),
                "when": when.to_numpy(),
                "order": np.arange(len(when)),
            }
        ).sort_values("when")
        merged = pd.merge_asof(
            left,
            starts.sort_values("scheduled"),
            left_on="when",
            right_on="scheduled",
            by="patient_id",
            direction="nearest",
        )
        return merged.sort_values("order")["cycle"].to_numpy()

    return cycle_of


def _events_table(frame: pd.DataFrame, sbrt: pd.DataFrame, rng) -> pd.DataFrame:
    frame = frame.sort_values(["patient_id", "start", "term"], kind="stable")
    frame = frame.reset_index(drop=True)
    irradiated = set(sbrt["patient_id"])
    clinical = ~frame["source"].isin(["lab"])
    serious = (clinical & (frame["grade"] >= 4)) | (frame["source"] == "infection")
    serious |= clinical & (frame["grade"] == 3) & (rng.random(len(frame)) < _SERIOUS_GRADE3)
    by_sbrt = frame["source"] == "sbrt"
    number = frame.groupby("patient_id").cumcount() + 1
    return pd.DataFrame(
        {
            "patient_id": frame["patient_id"],
            "ae_id": [f"AE{k:02d}" for k in number],
            "term": frame["term"],
            "grade": frame["grade"].astype(str),
            "start_date": frame["start"].dt.strftime("%Y-%m-%d"),
            "end_date": frame["end"].dt.strftime("%Y-%m-%d"),
            "serious": np.where(serious, "Y", "N"),
            "related_il2": np.where(by_sbrt, "not_related", "related"),
            "related_sbrt": np.where(
                by_sbrt,
                "related",
                np.where(frame["patient_id"].isin(irradiated), "not_related", "not_applicable"),
            ),
            "action_il2": np.select(
                [frame["source"].isin(["hold", "stop"]), by_sbrt],
                ["drug_interrupted", "not_applicable"],
                "dose_not_changed",
            ),
            "outcome": "recovered",
        }
    )[[column.name for column in TABLES["adverse_events"].columns]]
