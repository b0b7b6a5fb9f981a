"""The RECIST engine follows the protocol it is given: every threshold of the variant test
protocol (tests/fixtures/protocol_variant.toml), on both sides, against the bundled one.

Variant ruleset recist1.1: PR at -35%, PD at +25% and 6 mm over the nadir, measurable from
12 mm (nodes 16 mm short axis), nodes pathological from 11 mm, too small = 4 mm, at most
4 targets and 3 per organ; [response]: SD from day 56, confirmation after 35 days, at most
2 NE between; primary week 16, crossover response 9 weeks after the crossover course starts,
assessment window 4 days.
"""

from __future__ import annotations

import pandas as pd
import pytest
from recist_frames import Patient, day, frames

from studylib.errors import DataError, ResponseError
from studylib.protocol import PROTOCOL
from studylib.recist.bor import best_overall_response, protocol_bor_options
from studylib.recist.lesions import baseline_problems, lesion_table, measurability
from studylib.recist.local_control import local_control
from studylib.recist.rulesets import get_ruleset, ruleset_names, thresholds
from studylib.recist.timepoint import overall_response, timepoint_responses
from studylib.recist.variants import (
    crossover_cutoffs,
    crossover_sbrt_starts,
    primary_cutoffs,
    primary_response,
)


def target(patient: Patient, protocol, column="target_response", **options) -> list[str]:
    out = timepoint_responses(*frames(patient), protocol=protocol, **options)
    return out[column].tolist()


def checks(patient: Patient, protocol) -> set[tuple[str, str]]:
    found = baseline_problems(*frames(patient), protocol=protocol)
    return set(zip(found["lesion_id"].fillna("-"), found["check"], strict=True))


# -- rulesets ----------------------------------------------------------------------------------


def test_ruleset_lookup_reads_the_protocol_given(variant_protocol):
    """The same name gives each protocol's own numbers; the default ruleset is the file's."""
    assert ruleset_names(variant_protocol) == ["protocol", "recist1.0", "recist1.1"]
    ours, bundled = thresholds("recist1.1", variant_protocol), thresholds("recist1.1")
    assert (ours.pr_change_from_baseline_pct, ours.pd_change_pct, ours.pd_min_increase_mm) == (
        -35,
        25,
        6,
    )
    assert (bundled.pr_change_from_baseline_pct, bundled.pd_change_pct) == (-30, 20)
    assert get_ruleset(None, variant_protocol) == variant_protocol.response.ruleset()
    assert thresholds(protocol=variant_protocol) == ours


# -- target response at each threshold --------------------------------------------------------


@pytest.mark.parametrize(
    ("follow_up", "variant", "bundled"),
    [
        (65.0, "PR", "PR"),  # exactly -35%
        (65.1, "SD", "PR"),  # -34.9%: PR under the bundled -30%, not under -35%
        (70.0, "SD", "PR"),  # -30%
    ],
)
def test_partial_response_at_the_variant_threshold(variant_protocol, follow_up, variant, bundled):
    """PR at -35% from baseline, inclusive; -34.9% is SD under the variant."""
    p = Patient().targets(60, 40).follow(56, follow_up - 40 * 0.65, 40 * 0.65)
    assert target(p, variant_protocol) == [variant]
    assert target(p, PROTOCOL) == [bundled]


@pytest.mark.parametrize(
    ("nadir", "follow_up", "variant", "bundled"),
    [
        (24.0, 30.0, "PD", "PD"),  # +25% and +6 mm
        (23.6, 29.5, "SD", "PD"),  # +25% but +5.9 mm
        (40.0, 49.9, "SD", "PD"),  # +24.75% (+9.9 mm): below +25%
        (50.0, 62.5, "PD", "PD"),  # +25% and +12.5 mm
    ],
)
def test_progression_needs_25_percent_and_6_mm_over_the_nadir(
    variant_protocol, nadir, follow_up, variant, bundled
):
    """PD at +25% and +6 mm over the nadir under the variant (bundled: +20% and 5 mm)."""
    p = Patient().targets(nadir + 10).follow(56, nadir).follow(112, follow_up)
    assert target(p, variant_protocol)[-1] == variant
    assert target(p, PROTOCOL)[-1] == bundled


@pytest.mark.parametrize(("short_axis", "variant"), [(10.9, "CR"), (11.0, "PR")])
def test_complete_response_needs_nodes_below_11_mm(variant_protocol, short_axis, variant):
    """A nodal target below the variant's pathological 11 mm counts as gone (CR)."""
    p = Patient().targets(20, 40, nodal=(2,)).follow(56, 0, short_axis)
    assert target(p, variant_protocol) == [variant]
    assert target(p, PROTOCOL) == ["PR"]  # 10.9 and 11 are both >= the bundled 10 mm


def test_too_small_to_measure_counts_4_mm(variant_protocol):
    """A target too small to measure adds the variant's default of 4 mm to the sum."""
    p = Patient().targets(30, 20).follow(56, 20, "too_small")
    out = timepoint_responses(*frames(p), protocol=variant_protocol)
    assert out["sum_mm"].tolist() == [24.0]
    assert timepoint_responses(*frames(p))["sum_mm"].tolist() == [25.0]


# -- baseline: measurability and target limits -------------------------------------------------


@pytest.mark.parametrize(
    ("diameter", "nodal", "variant", "bundled"),
    [
        (11.9, False, "non_measurable", "measurable"),
        (12.0, False, "measurable", "measurable"),
        (15.9, True, "pathological_node", "measurable"),
        (16.0, True, "measurable", "measurable"),
        (10.9, True, "normal_node", "pathological_node"),
        (11.0, True, "pathological_node", "pathological_node"),
    ],
)
def test_measurability_follows_the_variant_sizes(
    variant_protocol, diameter, nodal, variant, bundled
):
    """Measurable from 12 mm, nodes from 16 mm short axis, pathological nodes from 11 mm."""
    assert measurability([diameter], [nodal], protocol=variant_protocol).tolist() == [variant]
    assert measurability([diameter], [nodal]).tolist() == [bundled]
    p = Patient().lesion("L1", nodal=nodal).scan(0, L1=diameter)
    table = lesion_table(*frames(p), protocol=variant_protocol)
    assert table["measurability"].tolist() == [variant]


@pytest.mark.parametrize(("diameter", "found"), [(11.9, True), (12.0, False)])
def test_a_target_below_12_mm_is_reported(variant_protocol, diameter, found):
    p = Patient().targets(diameter)
    assert (("T1", "target_too_small") in checks(p, variant_protocol)) is found
    assert ("T1", "target_too_small") not in checks(p, PROTOCOL)


@pytest.mark.parametrize(("count", "found"), [(4, False), (5, True)])
def test_at_most_four_targets(variant_protocol, count, found):
    """Four targets in four organs are allowed, five are not (bundled: five allowed)."""
    p = Patient().targets(*[20] * count)
    assert (("-", "too_many_targets") in checks(p, variant_protocol)) is found
    assert ("-", "too_many_targets") not in checks(p, PROTOCOL)


@pytest.mark.parametrize(("count", "found"), [(3, False), (4, True)])
def test_at_most_three_targets_per_organ(variant_protocol, count, found):
    """Three targets in one organ are allowed, four are not (bundled: at most two)."""
    p = Patient()
    for n in range(1, count + 1):
        p.lesion(f"T{n}", site="liver")
    p.scan(0, **{f"T{n}": 20 for n in range(1, count + 1)})
    assert (("-", "too_many_targets_in_organ") in checks(p, variant_protocol)) is found
    assert ("-", "too_many_targets_in_organ") in checks(p, PROTOCOL)


# -- best overall response ---------------------------------------------------------------------


REF = pd.Timestamp("2024-01-01")


def best(visits: list[tuple[int, str]], protocol, **options) -> str:
    rows = pd.DataFrame(
        [{"patient_id": "P", "date": REF + pd.Timedelta(days=n), "response": c} for n, c in visits]
    )
    return best_overall_response(rows, {"P": REF}, protocol=protocol, **options)["bor"].iloc[0]


def test_bor_defaults_are_the_protocols(variant_protocol):
    """SD minimum, confirmation interval and NE allowed come from [response]."""
    assert protocol_bor_options(variant_protocol) == {
        "sd_min_days": 56,
        "confirm_min_days": 35,
        "max_ne_between": 2,
    }
    assert protocol_bor_options() == {
        "sd_min_days": 42,
        "confirm_min_days": 28,
        "max_ne_between": 1,
    }


@pytest.mark.parametrize(("on_day", "variant", "bundled"), [(55, "NE", "SD"), (56, "SD", "SD")])
def test_stable_disease_counts_from_day_56(variant_protocol, on_day, variant, bundled):
    assert best([(on_day, "SD")], variant_protocol) == variant
    assert best([(on_day, "SD")], PROTOCOL) == bundled


@pytest.mark.parametrize(("gap", "variant", "bundled"), [(34, "SD", "PR"), (35, "PR", "PR")])
def test_confirmation_needs_35_days(variant_protocol, gap, variant, bundled):
    """A PR is confirmed by a PR 35 days later or more (bundled: 28)."""
    visits = [(60, "PR"), (60 + gap, "PR")]
    assert best(visits, variant_protocol, confirm=True) == variant
    assert best(visits, PROTOCOL, confirm=True) == bundled


@pytest.mark.parametrize(("ne", "variant", "bundled"), [(2, "PR", "SD"), (3, "SD", "SD")])
def test_two_ne_between_a_response_and_its_confirmation(variant_protocol, ne, variant, bundled):
    """At most 2 NE between (bundled: 1)."""
    visits = [(60, "PR"), *[(70 + 10 * i, "NE") for i in range(ne)], (120, "PR")]
    assert best(visits, variant_protocol, confirm=True) == variant
    assert best(visits, PROTOCOL, confirm=True) == bundled


def test_an_option_given_wins_over_the_protocol(variant_protocol):
    assert best([(42, "SD")], variant_protocol, sd_min_days=42) == "SD"


def test_unknown_response_codes_are_a_response_error():
    """An unknown code is a ResponseError, which is a DataError and a ValueError."""
    with pytest.raises(ResponseError) as caught:
        best([(60, "iCR")], PROTOCOL)
    assert isinstance(caught.value, DataError) and isinstance(caught.value, ValueError)
    assert caught.value.problems[0].value == "iCR"
    with pytest.raises(ResponseError, match="'XX'"):
        overall_response("XX", "CR", "none")


# -- analysis windows --------------------------------------------------------------------------


def test_primary_window_is_week_16_plus_4_days(variant_protocol):
    assert primary_cutoffs({"P": day(0)}, protocol=variant_protocol)["P"] == day(7 * 16 + 4)
    assert primary_cutoffs({"P": day(0)})["P"] == day(7 * 14 + 7)


def test_crossover_window_is_9_weeks_plus_4_days(variant_protocol):
    assert crossover_cutoffs({"P": day(0)}, protocol=variant_protocol)["P"] == day(9 * 7 + 4)
    assert crossover_cutoffs({"P": day(0)})["P"] == day(7 * 7 + 7)


def test_only_the_variants_control_arm_crosses_over(variant_protocol):
    """[crossover].from_arm is C in the variant: its SBRT is a crossover, R's is not."""
    randomization = pd.DataFrame(
        {"patient_id": ["C1", "R1"], "arm": ["C", "R"], "crossover": [True, True]}
    )
    dosing = pd.DataFrame(
        {
            "patient_id": ["C1", "R1"],
            "treatment": ["sbrt", "sbrt"],
            "cycle": [4, 1],
            "status": ["given", "given"],
            "given_at": ["2024-05-01T09:00", "2024-01-03T09:00"],
        }
    )
    starts = crossover_sbrt_starts(dosing, randomization, protocol=variant_protocol)
    assert starts.to_dict() == {"C1": pd.Timestamp("2024-05-01")}
    assert crossover_sbrt_starts(dosing, randomization).empty


def test_primary_response_counts_scans_of_the_variant_window(variant_protocol):
    """A scan on day 116 (week 16 + 4 days) counts under the variant, not under the bundled
    protocol (day 105 is its last)."""
    p = Patient().targets(50).follow(56, 30).follow(116, 10)
    lesions, assessments = frames(p)
    ours = primary_response(lesions, assessments, {"P001": day(0)}, protocol=variant_protocol)
    bundled = primary_response(lesions, assessments, {"P001": day(0)})
    assert ours["date"].tolist() == [day(56), day(116)]
    assert bundled["date"].tolist() == [day(56)]


def test_local_control_uses_the_variant_thresholds(variant_protocol):
    """An irradiated lesion 34.9% smaller is a local PR under -30% only."""
    p = Patient().lesion("T1", irradiated=True, irradiated_on=1).scan(0, T1=100).scan(56, T1=65.1)
    ours = local_control(*frames(p), protocol=variant_protocol)["local_response"].tolist()
    assert ours == ["SD"]
    assert local_control(*frames(p))["local_response"].tolist() == ["PR"]
