"""Benchmark: timepoint responses of 10,000 patients x 8 timepoints x 6 lesions.

Times :func:`studylib.recist.timepoint.timepoint_responses` (vectorised over the cohort)
against a straightforward per-patient loop that applies the same rules patient by patient,
timepoint by timepoint, in the same run, and prints rows per second and their ratio. The loop
runs on a sample of patients (it would take minutes on all of them); its results are checked
against the engine's for that sample so that both compute the same thing.

The input comes from a small generator below with exactly the issue's shape (4 targets, one
non-target and one new lesion per patient, 8 scans). ``studylib.synth`` designs cohorts shaped
like the trial (at most 4 scans), so it is timed as a second, smaller workload.

Run: ``.venv/bin/python benchmarks/bench_recist.py [--patients 10000] [--loop-sample 300]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

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


def _time(function, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--patients", type=int, default=10_000)
    parser.add_argument("--loop-sample", type=int, default=300)
    args = parser.parse_args()

    lesions, assessments = generate(args.patients)
    rows = len(assessments)
    print(
        f"input: {args.patients:,} patients x {TIMEPOINTS} timepoints x "
        f"{lesions.groupby('patient_id').size().iloc[0]} lesions = {rows:,} assessment rows"
    )
    # Backdating of confirmed new lesions is off: the loop does not implement it.
    timepoint_responses(lesions.head(60), assessments.head(480), backdate_new_lesions=False)
    seconds, engine = _time(timepoint_responses, lesions, assessments, backdate_new_lesions=False)
    print(
        f"vectorised engine : {seconds:7.3f} s  {rows / seconds:12,.0f} rows/s  "
        f"({len(engine):,} timepoints)"
    )

    sample = sorted(lesions["patient_id"].unique())[: args.loop_sample]
    sample_lesions = lesions[lesions["patient_id"].isin(sample)]
    sample_rows = assessments[assessments["patient_id"].isin(sample)]
    loop_seconds, looped = _time(loop_timepoint_responses, sample_lesions, sample_rows)
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
    ratio = (rows / seconds) / loop_rate
    print(
        f"ratio engine/loop : {ratio:7.1f}x  (aim: >= 20x; engine aim: < 2 s, "
        f"{'met' if ratio >= 20 and seconds < 2 else 'NOT met'})"
    )

    try:
        from studylib.synth.cohort import generate as synth_generate
    except ImportError:
        return 0
    cohort = synth_generate(patients=14_300, seed=1)
    synth_lesions, synth_rows = cohort.tables["lesions"], cohort.tables["assessments"]
    synth_seconds, _ = _time(timepoint_responses, synth_lesions, synth_rows)
    print(
        f"studylib.synth    : {synth_seconds:7.3f} s  {len(synth_rows) / synth_seconds:12,.0f} "
        f"rows/s  ({synth_lesions['patient_id'].nunique():,} patients with lesions, "
        f"{len(synth_rows):,} rows, trial-shaped scans)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
