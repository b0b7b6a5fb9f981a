"""Benchmark: RECIST responses of 10,000 patients x 8 timepoints x 6 lesions.

Times :func:`studylib.recist.timepoint.timepoint_responses` (vectorised over the cohort)
against a straightforward per-patient loop that applies the same rules patient by patient,
timepoint by timepoint, in the same run, and prints rows per second and their ratio. Then
times :func:`studylib.recist.bor.best_overall_response` on the 70,000 timepoints that gives,
unconfirmed and confirmed, against a per-patient loop over the visits. Each loop runs on a
sample of patients (it would take minutes on all of them); its results are checked against the
engine's for that sample so that both compute the same thing. Every timing is the best of
``--repeat`` runs, so that another process on a shared machine does not decide the ratio.

The input comes from a small generator below with exactly the issue's shape (4 targets, one
non-target and one new lesion per patient, 8 scans). ``studylib.synth`` designs cohorts shaped
like the trial (at most 4 scans), so it is timed as a second, smaller workload.

Run: ``.venv/bin/python benchmarks/bench_recist.py [--patients 10000] [--loop-sample 200]
[--repeat 3]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from studylib.recist.bor import BOR_ORDER, best_overall_response
from studylib.recist.rulesets import thresholds
from studylib.recist.timepoint import overall_response, timepoint_responses

TIMEPOINTS = 8
TARGETS = 4  # + one non-target + one new lesion = 6 lesions


def generate(patients: int, seed: int = 20110701) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Synthetic lesions and assessments: ``patients`` x 8 scans x 6 lesions (all rows)."""
    rng = np.random.default_rng(seed)
    ids = np.char.add("B", np.char.zfill(np.arange(patients).astype(str), 6))
    lesion_ids = np.array([f"T{n}" for n in range(1, TARGETS + 1)] + ["NT1", "N1"])
    roles = np.array(["target"] * TARGETS + ["non_target", "new"])
    n_les = len(lesion_ids)
    lesions = pd.DataFrame(
        {
            "patient_id": np.repeat(ids, n_les),
            "lesion_id": np.tile(lesion_ids, patients),
            "role": np.tile(roles, patients),
            "site": np.tile(
                np.array(["lung", "liver", "lymph_node", "adrenal", "bone", "skin"]), patients
            ),
            "nodal": np.tile(np.array([False, False, True, False, False, False]), patients),
            "irradiated": False,
        }
    )
    # Each patient's targets follow a trend (shrink, stable or grow) with noise.
    trend = rng.choice([-0.12, -0.03, 0.0, 0.06], size=patients)
    base = rng.uniform(15, 60, size=(patients, TARGETS))
    steps = np.arange(TIMEPOINTS)
    factor = np.clip(1 + trend[:, None] * steps[None, :], 0, None)
    size = (
        base[:, None, :] * factor[:, :, None] * rng.normal(1, 0.04, (patients, TIMEPOINTS, TARGETS))
    )
    size = np.round(np.clip(size, 0, None), 0)
    size[rng.random(size.shape) < 0.02] = np.nan  # not evaluated
    size[:, 0, :] = np.round(base, 0)
    state_t = np.where(rng.random(size.shape) < 0.02, "too_small", "")
    nt = rng.choice(
        ["present", "absent", "unequivocal_progression", ""],
        p=[0.85, 0.08, 0.03, 0.04],
        size=(patients, TIMEPOINTS),
    )
    nt[:, 0] = "present"
    appears = rng.integers(1, 3 * TIMEPOINTS, size=patients)  # most patients: no new lesion
    new = np.where(
        steps[None, :] >= appears[:, None],
        np.where(rng.random((patients, TIMEPOINTS)) < 0.3, "equivocal", "unequivocal"),
        "",
    )
    dates = pd.Timestamp("2012-01-02") + pd.to_timedelta(
        np.arange(TIMEPOINTS) * 49 + rng.integers(0, 5, TIMEPOINTS), unit="D"
    )
    diameter = np.concatenate([size, np.full((patients, TIMEPOINTS, 2), np.nan)], axis=2)
    state = np.concatenate([state_t, nt[:, :, None], new[:, :, None]], axis=2)
    assessments = pd.DataFrame(
        {
            "patient_id": np.repeat(ids, TIMEPOINTS * n_les),
            "lesion_id": np.tile(lesion_ids, patients * TIMEPOINTS),
            "date": np.tile(np.repeat(dates.to_numpy(), n_les), patients),
            "diameter_mm": diameter.reshape(-1),
            "state": pd.Series(state.reshape(-1)).replace("", None),
        }
    )
    return lesions, assessments


def loop_timepoint_responses(lesions: pd.DataFrame, assessments: pd.DataFrame) -> pd.DataFrame:
    """The same rules written the straightforward way: one patient, then one date, at a time."""
    t = thresholds("recist1.1")
    out = []
    for patient_id, rows in assessments.groupby("patient_id"):
        les = lesions[lesions["patient_id"] == patient_id].set_index("lesion_id")
        targets = list(les.index[les["role"] == "target"])
        nontargets = list(les.index[les["role"] == "non_target"])
        news = list(les.index[les["role"] == "new"])
        dates = sorted(rows["date"].unique())
        baseline = nadir = None
        for number, date in enumerate(dates):
            at = rows[rows["date"] == date].set_index("lesion_id")
            values = {}
            for lesion in targets:
                if lesion in at.index:
                    d, s = at.at[lesion, "diameter_mm"], at.at[lesion, "state"]
                    if pd.isna(d) and s == "too_small":
                        d = t.too_small_default_mm
                    if not pd.isna(d):
                        values[lesion] = d
            total = sum(values.values()) if values else np.nan
            complete = len(values) == len(targets)
            if number == 0:
                baseline = total if complete else None
                nadir = baseline
                continue
            if baseline is None:
                target = "NE"
            else:
                left = [
                    d
                    for lesion, d in values.items()
                    if (d >= t.node_pathological_min_mm if les.at[lesion, "nodal"] else d > 0)
                ]
                rise = total - nadir
                if complete and not left:
                    target = "CR"
                elif (
                    values
                    and rise >= t.pd_min_increase_mm - 1e-9
                    and rise > 1e-9
                    and (nadir == 0 or rise / nadir * 100 >= t.pd_change_pct - 1e-9)
                ):
                    target = "PD"
                elif not complete:
                    target = "NE"
                elif (total - baseline) / baseline * 100 <= t.pr_change_from_baseline_pct + 1e-9:
                    target = "PR"
                else:
                    target = "SD"
            states = [at.at[x, "state"] if x in at.index else None for x in nontargets]
            if not nontargets:
                nontarget = "ND"
            elif "unequivocal_progression" in states:
                nontarget = "PD"
            elif any(pd.isna(s) for s in states):
                nontarget = "NE"
            elif all(s == "absent" for s in states):
                nontarget = "CR"
            else:
                nontarget = "NON-CR/NON-PD"
            new_states = [at.at[x, "state"] for x in news if x in at.index]
            new = (
                "unequivocal"
                if "unequivocal" in new_states
                else "equivocal"
                if "equivocal" in new_states
                else "none"
            )
            out.append(
                {
                    "patient_id": patient_id,
                    "date": date,
                    "sum_mm": total,
                    "target_response": target,
                    "nontarget_response": nontarget,
                    "new_lesions": new,
                    "overall_response": overall_response(target, nontarget, new),
                }
            )
            if complete:
                nadir = min(nadir, total)
    return pd.DataFrame(out)


_BOR_RANK = {code: rank for rank, code in enumerate(BOR_ORDER)}


def loop_best_overall_response(
    responses: pd.DataFrame,
    references: pd.Series,
    *,
    confirm: bool,
    sd_min_days: int = 42,
    confirm_min_days: int = 28,
    max_ne_between: int = 1,
) -> pd.DataFrame:
    """RECIST 1.1 section 4.4 written the straightforward way: one patient, one visit at a time.

    Same rules as the engine's defaults (admiralonco): visits after the first PD are not
    counted; SD before the SD minimum is NE; with ``confirm`` a CR/PR needs a later CR (CR/PR
    for a PR) at least ``confirm_min_days`` later with only CR (CR/PR) and at most
    ``max_ne_between`` NE in between and no PR after a CR, else it counts as SD (NE before the
    SD minimum); the best category wins, the earliest visit on ties.
    """
    out = []
    for patient_id, rows in responses.groupby("patient_id", sort=True):
        rows = rows.sort_values("date")
        visits = list(zip(rows["date"], rows["overall_response"], strict=True))
        codes = [code for _, code in visits]
        if "PD" in codes:
            visits = visits[: codes.index("PD") + 1]
        sd_from = references[patient_id] + pd.Timedelta(days=sd_min_days)
        best, best_date = "MISSING", pd.NaT
        for i, (date, code) in enumerate(visits):
            category = code
            if code in ("SD", "NON-CR/NON-PD") and date < sd_from:
                category = "NE"
            elif (
                confirm
                and code in ("CR", "PR")
                and not _confirmed(visits, i, confirm_min_days, max_ne_between)
            ):
                category = "SD" if date >= sd_from else "NE"
            if _BOR_RANK[category] < _BOR_RANK[best]:
                best, best_date = category, date
        out.append({"patient_id": patient_id, "bor": best, "date": best_date})
    return pd.DataFrame(out)


def _confirmed(visits: list, i: int, min_days: int, max_ne: int) -> bool:
    """Whether the CR or PR of visit ``i`` is confirmed by the first qualifying later visit."""
    date, code = visits[i]
    closers = ("CR",) if code == "CR" else ("CR", "PR")
    allowed = ("CR", "NE") if code == "CR" else ("CR", "PR", "NE")
    for j in range(i + 1, len(visits)):
        later, later_code = visits[j]
        if later_code in closers and (later - date).days >= min_days:
            between = [c for _, c in visits[i + 1 : j + 1]]
            if any(c not in allowed for c in between) or between.count("NE") > max_ne:
                return False
            return not ("CR" in between and "PR" in between[between.index("CR") + 1 :])
    return False


def _time(repeat: int, function, *args, **kwargs) -> tuple[float, object]:
    """The best of ``repeat`` runs, in seconds, and the result."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        result = function(*args, **kwargs)
        best = min(best, time.perf_counter() - start)
    return best, result


def _ratio_line(ratio: float, seconds: float) -> str:
    met = ratio >= 20 and seconds < 2
    return (
        f"ratio engine/loop : {ratio:7.1f}x  (aim: >= 20x; engine aim: < 2 s, "
        f"{'met' if met else 'NOT met'})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--loop-sample", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3, help="best of this many runs")
    args = parser.parse_args()
    repeat = max(1, args.repeat)

    lesions, assessments = generate(args.patients)
    rows = len(assessments)
    print(
        f"input: {args.patients:,} patients x {TIMEPOINTS} timepoints x "
        f"{lesions.groupby('patient_id').size().iloc[0]} lesions = {rows:,} assessment rows"
    )
    # Backdating of confirmed new lesions is off: the loop does not implement it.
    timepoint_responses(lesions.head(60), assessments.head(480), backdate_new_lesions=False)
    seconds, engine = _time(
        repeat, timepoint_responses, lesions, assessments, backdate_new_lesions=False
    )
    print(
        f"vectorised engine : {seconds:7.3f} s  {rows / seconds:12,.0f} rows/s  "
        f"({len(engine):,} timepoints)"
    )

    sample = sorted(lesions["patient_id"].unique())[: args.loop_sample]
    sample_lesions = lesions[lesions["patient_id"].isin(sample)]
    sample_rows = assessments[assessments["patient_id"].isin(sample)]
    loop_seconds, looped = _time(repeat, loop_timepoint_responses, sample_lesions, sample_rows)
    loop_rate = len(sample_rows) / loop_seconds
    print(
        f"per-patient loop  : {loop_seconds:7.3f} s  {loop_rate:12,.0f} rows/s  "
        f"({len(sample):,} patients sampled, {len(sample_rows):,} rows)"
    )

    mine = engine[engine["patient_id"].isin(sample)].reset_index(drop=True)
    columns = [
        "patient_id",
        "date",
        "target_response",
        "nontarget_response",
        "new_lesions",
        "overall_response",
    ]
    pd.testing.assert_frame_equal(mine[columns], looped[columns], check_dtype=False)
    np.testing.assert_allclose(mine["sum_mm"], looped["sum_mm"].astype(float))
    print(f"results identical on the sample: {len(looped):,} timepoints")
    print(_ratio_line((rows / seconds) / loop_rate, seconds))

    # Best overall response of every patient from those timepoints, from the baseline scan.
    references = engine.groupby("patient_id")["baseline_date"].first()
    n_tp = len(engine)
    in_sample = engine["patient_id"].isin(sample)
    for confirm in (False, True):
        what = "confirmed" if confirm else "unconfirmed"
        print(f"best overall response, {what}, of {len(references):,} patients:")
        seconds, best = _time(repeat, best_overall_response, engine, references, confirm=confirm)
        print(f"vectorised engine : {seconds:7.3f} s  {n_tp / seconds:12,.0f} timepoints/s")
        loop_seconds, looped = _time(
            repeat, loop_best_overall_response, engine[in_sample], references, confirm=confirm
        )
        loop_rate = in_sample.sum() / loop_seconds
        print(
            f"per-patient loop  : {loop_seconds:7.3f} s  {loop_rate:12,.0f} timepoints/s  "
            f"({len(sample):,} patients sampled)"
        )
        mine = best[best["patient_id"].isin(sample)].reset_index(drop=True)
        pd.testing.assert_frame_equal(
            mine[["patient_id", "bor", "date"]], looped, check_dtype=False
        )
        counts = ", ".join(f"{k} {v:,}" for k, v in best["bor"].value_counts().items())
        print(f"results identical on the sample ({counts} overall)")
        print(_ratio_line((n_tp / seconds) / loop_rate, seconds))

    try:
        from studylib.synth.cohort import generate as synth_generate
    except ImportError:
        return 0
    cohort = synth_generate(patients=14_300, seed=1)
    synth_lesions, synth_rows = cohort.tables["lesions"], cohort.tables["assessments"]
    synth_seconds, _ = _time(repeat, timepoint_responses, synth_lesions, synth_rows)
    print(
        f"studylib.synth    : {synth_seconds:7.3f} s  {len(synth_rows) / synth_seconds:12,.0f} "
        f"rows/s  ({synth_lesions['patient_id'].nunique():,} patients with lesions, "
        f"{len(synth_rows):,} rows, trial-shaped scans)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
