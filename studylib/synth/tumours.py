"""Tumour lesions and their measurements at every scan (``lesions.csv``, ``assessments.csv``).

The measurements are designed backwards from each patient's planned response (see
:mod:`studylib.synth.plan`). The sum of the non-irradiated target lesions moves by a factor of
the baseline chosen well inside each RECIST 1.1 category, so that measurement noise (a few per
cent per lesion, rounded to whole millimetres) cannot move a patient across a threshold:

============  ==========================================================================
response      non-irradiated target sum, relative to baseline (or nadir for growth)
============  ==========================================================================
CR            every non-nodal target 0 mm, nodes below the pathological short axis,
              non-target lesions absent
PR            -40% to -65% of baseline
SD            -5% to -18% of baseline, within 5% of the previous scan
PD            +38% or more over the nadir, with a new lesion, or with unequivocal
              progression of a non-target lesion
============  ==========================================================================

Progressive disease as best response is seen on the first scan; stable disease holds on the
first scan (after the minimum SD interval); a complete or partial response holds on the
primary scan. Lesions not evaluated at a scan (diameter empty) appear only where the primary
scan decides the response. Target lesions are at most the ruleset's total and per-organ
maxima (irradiated ones included), non-nodal targets measurable, nodes by short axis.

Lesions treated with SBRT are flagged ``irradiated`` with the date of their last fraction:
arm B's are targets that shrink (local control); a crossover patient's are non-target lesions,
so that leaving them out never changes the response of the first course. Crossover patients
progress by growth of their targets and then respond from the crossover baseline as planned.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from studylib.protocol import Protocol
from studylib.synth import calendar as cal
from studylib.synth.plan import timepoints

__all__ = ["measure_cohort", "SCAN_KEYS"]

#: Scans in design order: baseline, the protocol's scheduled scans, the crossover baseline.
SCAN_KEYS = ("0", "1", "2", "3", "xo")
_BASE, _FIRST, _PRIMARY, _LATER, _XO = range(5)
_CR = 0.0  # factor marking a complete response

_EXTRA_ORGANS = np.array(["lung", "liver", "lymph_node", "soft_tissue", "adrenal", "spleen"])
_EXTRA_WEIGHTS = np.array([0.25, 0.2, 0.25, 0.15, 0.1, 0.05])
_NONTARGET_ORGANS = np.array(["bone", "lung", "lymph_node", "soft_tissue", "liver", "peritoneum"])
_NEW_ORGANS = np.array(["liver", "lung", "soft_tissue", "bone", "brain", "adrenal"])
_NOISE_SD, _NOISE_MAX = 0.03, 0.07
_NOT_EVALUATED_SHARE = 0.08
_EQUIVOCAL_SHARE = 0.12
_METHODS, _METHOD_P = np.array(["CT", "PET", "MRI"]), (0.6, 0.3, 0.1)
# iRECIST (plan column ``beyond_progression``): on the scan after a first progression, a
# pseudo-progression's target sum is this share of baseline (a partial response well inside
# -30%) and its new lesion is gone; a confirmed progression's target sum grows by this factor
# more (well over the 5 mm that confirms), or its new lesion by _NEW_GROWTH.
_PSEUDO_RESPONSE = (0.50, 0.62)
_FURTHER_GROWTH = (1.35, 1.45)
_NEW_GROWTH = 1.8


def _u(rng, low, high, n):
    return rng.uniform(low, high, n)


def _design_factors(plan: pd.DataFrame, rng) -> tuple[np.ndarray, np.ndarray]:
    """Per patient and scan: the factor of the non-irradiated target sum, and of irradiated
    targets (local control). ``_CR`` marks a complete response."""
    n = len(plan)
    bor = plan["bor"].to_numpy()
    progress = plan["progress_at"].to_numpy()
    mech = plan["pd_mechanism"].to_numpy()
    xo_bor = plan["crossover_bor"].to_numpy()
    crossover = plan["crossover"].to_numpy()
    f = np.ones((n, len(SCAN_KEYS)))
    draw = rng.random(n)

    first = np.ones(n)
    cr, pr, sd, pd_ = (bor == k for k in ("CR", "PR", "SD", "PD"))
    first[cr] = np.where(draw[cr] < 0.3, _CR, _u(rng, 0.35, 0.55, cr.sum()))
    early = plan["responds_at"].to_numpy() == _FIRST
    first[pr] = np.where(early[pr], _u(rng, 0.40, 0.60, pr.sum()), _u(rng, 0.84, 0.93, pr.sum()))
    first[sd] = _u(rng, 0.82, 0.95, sd.sum())
    grows = pd_ & (mech == "target")
    first[pd_] = np.where(
        grows[pd_], _u(rng, 1.38, 1.60, pd_.sum()), _u(rng, 0.95, 1.08, pd_.sum())
    )
    f[:, _FIRST] = first

    primary = first.copy()
    primary[cr] = _CR
    responded = pr & early
    primary[responded] = first[responded] * _u(rng, 0.80, 0.98, responded.sum())
    primary[pr & ~responded] = _u(rng, 0.40, 0.55, (pr & ~responded).sum())
    growth = {"target": (1.38, 1.55), "new": (0.97, 1.03)}
    stable = (0.96, 1.04)
    for mask, ranges in (
        (sd & (progress == _PRIMARY) & (mech == "target"), growth["target"]),
        (sd & (progress == _PRIMARY) & (mech == "new"), growth["new"]),
        (sd & (progress != _PRIMARY), stable),
    ):
        primary[mask] = first[mask] * _u(rng, *ranges, mask.sum())
    f[:, _PRIMARY] = primary

    later = primary.copy()
    later[cr] = _CR
    keep = (pr | sd) & (progress != _LATER)
    later[keep] = primary[keep] * np.where(
        pr[keep], _u(rng, 0.90, 1.0, keep.sum()), _u(rng, 0.97, 1.03, keep.sum())
    )
    for name, (low, high) in (("target", (1.40, 1.60)), ("new", (0.98, 1.05))):
        mask = (pr | sd) & (progress == _LATER) & (mech == name)
        later[mask] = primary[mask] * _u(rng, low, high, mask.sum())

    # Crossover: more growth by the crossover baseline, then the crossover response from it.
    xo_base = first * _u(rng, 1.08, 1.20, n)
    f[:, _XO] = np.where(crossover, xo_base, 1.0)
    xo_factor = np.select(
        [xo_bor == "CR", xo_bor == "PR", xo_bor == "SD", xo_bor == "PD"],
        [np.zeros(n), _u(rng, 0.40, 0.55, n), _u(rng, 0.88, 1.02, n), _u(rng, 1.38, 1.55, n)],
        1.0,
    )
    later[crossover] = np.where(xo_bor[crossover] == "CR", _CR, (xo_base * xo_factor)[crossover])
    f[:, _LATER] = later

    # iRECIST: the scan after a first progression shows a response (pseudo-progression) or
    # further growth (confirmed progression). ``draw`` is not used for progressors above, so no
    # further number is drawn and the rest of the cohort stays as it was.
    beyond = plan["beyond_progression"].to_numpy()
    rows = np.flatnonzero(beyond != "")
    at = f[rows, progress[rows]]
    f[rows, progress[rows] + 1] = np.select(
        [beyond[rows] == "pseudo_progression", mech[rows] == "target"],
        [
            _PSEUDO_RESPONSE[0] + np.diff(_PSEUDO_RESPONSE)[0] * draw[rows],
            at * (_FURTHER_GROWTH[0] + np.diff(_FURTHER_GROWTH)[0] * draw[rows]),
        ],
        at,
    )

    local = np.ones((n, len(SCAN_KEYS)))
    local[:, _FIRST] = _u(rng, 0.55, 0.80, n)
    local[:, _PRIMARY] = local[:, _FIRST] * _u(rng, 0.70, 0.95, n)
    local[:, _LATER] = local[:, _PRIMARY] * _u(rng, 0.80, 1.0, n)
    return f, local


def _last(timeline: pd.DataFrame, prefix: str) -> np.ndarray:
    """The last fraction day of each patient among the columns starting with ``prefix``."""
    return np.max([timeline[c].to_numpy() for c in timeline if c.startswith(prefix)], axis=0)


def _lesions(plan, timeline, foci, rng, protocol: Protocol) -> pd.DataFrame:
    """Every lesion of the enrolled patients (one row each), before ids are given."""
    rules = protocol.response.ruleset(protocol.response.primary_ruleset)
    tp = timepoints(protocol)
    enrolled = plan["outcome"].eq("enrolled").to_numpy()
    crossover = plan["crossover"].to_numpy()
    sbrt_arms = [a.code for a in protocol.arms if a.receives_sbrt]
    gets_sbrt = np.isin(plan["arm"].to_numpy(), sbrt_arms)
    progress = plan["progress_at"].to_numpy()
    mech = plan["pd_mechanism"].to_numpy()
    bor = plan["bor"].to_numpy()
    last_fraction = _last(timeline, "sbrt_given_")
    last_xo = _last(timeline, "xo_sbrt_")
    measurable = float(rules.measurable_min.to("mm").magnitude)
    node_min = float(rules.node_measurable_min.to("mm").magnitude)

    # 1. SBRT foci of enrolled patients: targets, or non-targets for crossover patients.
    f = foci[enrolled[foci["row"].to_numpy()]]
    rows = f["row"].to_numpy()
    irradiated_on = np.where(
        gets_sbrt[rows], last_fraction[rows], np.where(crossover[rows], last_xo[rows], cal.NONE)
    )
    # A focus in a nodal site ([sbrt.sites].nodal) is a lymph node, measured by its short axis
    # (screening already gives it a measurable size).
    focus_nodal = np.isin(f["site"].to_numpy(), list(protocol.sbrt.nodal_sites))
    sbrt = pd.DataFrame(
        {
            "row": rows,
            "role": np.where(crossover[rows], "non_target", "target"),
            "site": f["site"].to_numpy(),
            "nodal": focus_nodal,
            "irradiated_on": irradiated_on,
            "base": f["diameter_mm"].to_numpy().astype(float),
            "kind": "sbrt",
            "focus": f.index.to_numpy(),
        }
    )
    targets_from_sbrt = np.bincount(rows[~crossover[rows]], minlength=len(plan))

    # 2. Further targets in distinct organs (so no organ holds more than two targets).
    people = np.flatnonzero(enrolled)
    wanted = rng.integers(2, 4, len(people))
    extra = np.minimum(wanted, rules.max_targets - targets_from_sbrt[people])
    keys = np.log(_EXTRA_WEIGHTS)[None, :] - np.log(-np.log(rng.random((len(people), 6))))
    order = np.argsort(-keys, axis=1, kind="stable")
    e_rows = np.repeat(np.arange(len(people)), extra)
    rank = np.arange(len(e_rows)) - np.repeat(np.cumsum(extra) - extra, extra)
    organ = _EXTRA_ORGANS[order[e_rows, rank]]
    nodal = organ == "lymph_node"
    base = np.where(
        nodal,
        rng.integers(int(node_min) + 1, 33, len(e_rows)),
        rng.integers(int(measurable) + 4, 46, len(e_rows)),
    ).astype(float)
    extras = pd.DataFrame(
        {
            "row": people[e_rows],
            "role": "target",
            "site": organ,
            "nodal": nodal,
            "irradiated_on": cal.NONE,
            "base": base,
            "kind": "extra",
            "focus": -1,
        }
    )

    # 3. Non-target lesions (diameter not measured); one at least where it will progress.
    count = rng.choice(3, size=len(people), p=(0.3, 0.45, 0.25))
    needs = (progress[people] > 0) & (mech[people] == "nontarget")
    count = np.where(needs, np.maximum(count, 1), count)
    n_rows = np.repeat(people, count)
    n_organ = _NONTARGET_ORGANS[rng.integers(0, len(_NONTARGET_ORGANS), len(n_rows))]
    first_nt = np.r_[True, n_rows[1:] != n_rows[:-1]] if len(n_rows) else np.array([], bool)
    nontargets = pd.DataFrame(
        {
            "row": n_rows,
            "role": "non_target",
            "site": n_organ,
            "nodal": n_organ == "lymph_node",
            "irradiated_on": cal.NONE,
            "base": np.nan,
            "kind": "nt",
            "focus": -1,
            "progresses": first_nt & needs[np.searchsorted(people, n_rows)],
        }
    )

    # 4. New lesions where progression shows one; equivocal ones that come to nothing.
    new_people = people[(progress[people] > 0) & (mech[people] == "new")]
    new = pd.DataFrame(
        {
            "row": new_people,
            "role": "new",
            "site": _NEW_ORGANS[rng.integers(0, len(_NEW_ORGANS), len(new_people))],
            "nodal": False,
            "irradiated_on": cal.NONE,
            "base": rng.integers(8, 26, len(new_people)).astype(float),
            "kind": "new",
            "focus": -1,
            "appears": progress[new_people],
        }
    )
    candidates = people[np.isin(bor[people], ["PR", "SD"]) & ~crossover[people]]
    candidates = candidates[candidates > 0]
    doubtful = candidates[rng.random(len(candidates)) < _EQUIVOCAL_SHARE]
    equivocal = pd.DataFrame(
        {
            "row": doubtful,
            "role": "new",
            "site": "lung",
            "nodal": False,
            "irradiated_on": cal.NONE,
            "base": rng.integers(4, 7, len(doubtful)).astype(float),
            "kind": "equivocal",
            "focus": -1,
            "appears": tp.first,
        }
    )
    lesions = pd.concat([sbrt, extras, nontargets, new, equivocal], ignore_index=True)
    lesions["progresses"] = lesions["progresses"].eq(True)
    lesions["appears"] = lesions["appears"].fillna(-1).astype(np.int64)
    role_order = lesions["role"].map({"target": 0, "non_target": 1, "new": 2})
    lesions = lesions.assign(role_order=role_order).sort_values(
        ["row", "role_order", "appears"], kind="stable", ignore_index=True
    )
    prefix = lesions["role"].map({"target": "T", "non_target": "NT", "new": "NEW"})
    number = lesions.groupby(["row", "role"], sort=False).cumcount() + 1
    lesions["lesion_id"] = prefix + number.map("{:02d}".format)
    return lesions


def measure_cohort(
    plan: pd.DataFrame,
    timeline: pd.DataFrame,
    foci: pd.DataFrame,
    rng: np.random.Generator,
    protocol: Protocol,
):
    """``lesions.csv`` and ``assessments.csv`` frames, and each SBRT focus's lesion id
    (aligned with ``foci``; empty for patients who were not enrolled)."""
    rules = protocol.response.ruleset(protocol.response.primary_ruleset)
    node_normal = float(rules.node_pathological_min.to("mm").magnitude)
    too_small = float(rules.too_small_default.to("mm").magnitude)
    factor, local = _design_factors(plan, rng)
    lesions = _lesions(plan, timeline, foci, rng, protocol)
    ids = plan["patient_id"].to_numpy()
    method = rng.choice(_METHODS, size=len(plan), p=_METHOD_P)

    dates = np.stack([timeline[f"scan_{k}"].to_numpy() for k in SCAN_KEYS], axis=1)
    done = np.stack([timeline[f"did_scan_{k}"].to_numpy() for k in SCAN_KEYS], axis=1)
    n_les = len(lesions)
    row = lesions["row"].to_numpy()
    appears = lesions["appears"].to_numpy()
    scan = np.tile(np.arange(len(SCAN_KEYS)), n_les)
    les = np.repeat(np.arange(n_les), len(SCAN_KEYS))
    # A new lesion is recorded where it appears, and again on the scan after when iRECIST
    # follows it (plan column ``beyond_progression``).
    beyond = plan["beyond_progression"].to_numpy()
    followed = (lesions["kind"].to_numpy() == "new") & (beyond[row] != "")
    again = followed[les] & (scan == appears[les] + 1)
    keep = done[row[les], scan] & ((appears[les] == -1) | (appears[les] == scan) | again)
    again = again[keep]
    scan, les = scan[keep], les[keep]
    prow = row[les]
    m = len(les)

    role = lesions["role"].to_numpy()[les]
    kind = lesions["kind"].to_numpy()[les]
    nodal = lesions["nodal"].to_numpy()[les]
    base = lesions["base"].to_numpy()[les]
    irradiated_on = lesions["irradiated_on"].to_numpy()[les]
    crossover = plan["crossover"].to_numpy()[prow]
    target_irradiated = (role == "target") & (irradiated_on != cal.NONE)
    f = np.where(target_irradiated, local[prow, scan], factor[prow, scan])
    f[role == "new"] = 1.0
    f[again] = np.where(beyond[prow[again]] == "pseudo_progression", _CR, _NEW_GROWTH)
    noise = np.clip(rng.normal(0, _NOISE_SD, m), -_NOISE_MAX, _NOISE_MAX)
    noise[scan == _BASE] = 0.0
    value = np.round(base * f * (1 + noise))
    complete = f == _CR
    value[complete & ~nodal] = 0.0
    value[complete & nodal] = rng.integers(4, int(node_normal), int((complete & nodal).sum()))
    diameter = np.where(np.isin(role, ["target", "new"]), value, np.nan)
    state = np.full(m, "", dtype=object)

    # Shrunken targets close to the default size are reported too small to measure (RECIST
    # counts them at the default, a little below their size, so a response only deepens).
    small = (role == "target") & (diameter > 0) & (diameter < too_small + 3) & ~nodal
    state[small] = "too_small"
    diameter[small] = np.nan

    # Non-target lesions: present, absent with a complete response, or progressing.
    nt = role == "non_target"
    state[nt] = "present"
    whole_cr = factor[prow, scan] == _CR
    state[nt & whole_cr] = "absent"
    progress_scan = plan["progress_at"].to_numpy()[prow]
    progresses = lesions["progresses"].to_numpy()[les]
    state[nt & progresses & (scan == progress_scan)] = "unequivocal_progression"
    xo_bor = plan["crossover_bor"].to_numpy()[prow]
    shrunk = nt & crossover & (scan == _LATER) & (irradiated_on != cal.NONE) & (xo_bor == "PR")
    state[shrunk] = np.where(rng.random(int(shrunk.sum())) < 0.5, "absent", "present")
    state[(role == "new") & (kind == "new")] = "unequivocal"
    state[again & (f == _CR)] = ""  # measured again: 0 mm, gone
    state[(role == "new") & (kind == "equivocal")] = "equivocal"

    # A target lesion not evaluated now and then, only where the primary scan decides.
    bor = plan["bor"].to_numpy()
    decided_later = (
        np.isin(bor, ["CR", "PR", "SD"])
        & ~plan["crossover"].to_numpy()
        & ~np.isin(plan["progress_at"].to_numpy(), [_FIRST, _PRIMARY])
    )
    decided_later[0] = False  # the demo patient shows every measurement
    unlucky = rng.random(len(plan)) < _NOT_EVALUATED_SHARE
    missing_patients = np.flatnonzero(decided_later & unlucky)
    candidate = (
        np.isin(prow, missing_patients)
        & (scan == _FIRST)
        & (role == "target")
        & (irradiated_on == cal.NONE)
        & ~complete
    )
    first_candidate = np.zeros(m, dtype=bool)
    picks = np.flatnonzero(candidate)
    first_candidate[picks[np.unique(prow[picks], return_index=True)[1]]] = True
    diameter[first_candidate] = np.nan
    state[first_candidate] = ""

    pet = method[prow] == "PET"
    ratio = np.where(np.isnan(diameter), 1.0, f)
    avid = np.where(
        complete | (state == "absent") | (kind == "equivocal"),
        "N",
        np.where((ratio < 0.5) & (rng.random(m) < 0.5), "N", "Y"),
    )
    avid = np.where(scan == _BASE, "Y", avid)
    avid = np.where(pet, avid, "")

    order = np.lexsort((les, dates[prow, scan], prow))
    assessments = pd.DataFrame(
        {
            "patient_id": ids[prow][order],
            "lesion_id": lesions["lesion_id"].to_numpy()[les][order],
            "date": cal.format_dates(dates[prow, scan])[order],
            "diameter_mm": np.where(
                np.isnan(diameter), "", np.char.mod("%.0f", np.nan_to_num(diameter))
            )[order],
            "state": state[order].astype(str),
            "method": method[prow][order],
            "pet_avid": avid[order],
        }
    )
    table = pd.DataFrame(
        {
            "patient_id": ids[row],
            "lesion_id": lesions["lesion_id"].to_numpy(),
            "role": lesions["role"].to_numpy(),
            "site": lesions["site"].to_numpy(),
            "nodal": np.where(lesions["nodal"].to_numpy(), "Y", "N"),
            "irradiated": np.where(lesions["irradiated_on"].to_numpy() != cal.NONE, "Y", "N"),
            "irradiated_on": cal.format_dates(lesions["irradiated_on"].to_numpy()),
        }
    )
    focus_lesion = pd.Series("", index=foci.index, dtype=object)
    linked = lesions[lesions["focus"] >= 0]
    focus_lesion[linked["focus"].to_numpy()] = linked["lesion_id"].to_numpy()
    return table, assessments, focus_lesion.to_numpy()
