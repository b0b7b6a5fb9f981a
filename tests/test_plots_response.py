"""Spider and waterfall figures: what they draw, with the ruleset's reference lines."""

from __future__ import annotations

import pytest
from recist_frames import Patient, frames

from studylib.plots.response import RESPONSE_COLOURS, spider_plot, waterfall_plot
from studylib.recist.lesions import lesion_measurements
from studylib.recist.timepoint import best_percent_change, timepoint_responses


def patient() -> Patient:
    p = Patient().lesion("T1").lesion("T2").lesion("T3", irradiated=True)
    return p.follow(0, 20, 30, 40).follow(49, 10, 20, 10).follow(98, 14, 22, 5)


def test_spider_plot_draws_each_lesion_the_sum_and_the_threshold_lines():
    """One line per lesion (SBRT dashed), the sum from 0%, -30% and +20% lines, responses."""
    lesions, assessments = frames(patient())
    fig = spider_plot(
        lesion_measurements(lesions, assessments), timepoint_responses(lesions, assessments)
    )
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert "T3 (SBRT, not in response)" in labels and "sum of diameters" in labels
    total = next(line for line in ax.get_lines() if line.get_label() == "sum of diameters")
    assert list(total.get_ydata()) == pytest.approx([0.0, -40.0, -28.0])
    levels = {
        line.get_ydata()[0]
        for line in ax.get_lines()
        if line.get_linestyle() == "--" and line.get_label().startswith(("PR", "+"))
    }
    assert levels == {-30.0, 20.0}
    assert [a.get_text() for a in ax.texts] == ["PR", "PD"]
    dashed = next(line for line in ax.get_lines() if line.get_label().startswith("T3"))
    assert dashed.get_linestyle() == "--"


@pytest.mark.parametrize(
    ("ruleset", "label"),
    [
        ("recist1.1", "+20%: PD is judged from the nadir and needs +5 mm"),
        ("recist1.0", "+20%: PD is judged from the nadir"),
        ("protocol", "+20%: PD is judged from the baseline sum and needs +5 mm"),
    ],
)
def test_progression_line_says_what_the_ruleset_measures_progression_from(ruleset, label):
    """The legend of the +20% line names the ruleset's PD reference and minimum increase."""
    lesions, assessments = frames(patient())
    fig = spider_plot(
        lesion_measurements(lesions, assessments),
        timepoint_responses(lesions, assessments, ruleset=ruleset),
        ruleset=ruleset,
    )
    assert label in [line.get_label() for line in fig.axes[0].get_lines()]


def test_spider_plot_needs_a_patient_when_there_are_several():
    """With several patients the one to draw must be named."""
    other = Patient("P002").targets(30).follow(49, 20)
    lesions, assessments = frames(patient(), other)
    measurements = lesion_measurements(lesions, assessments)
    with pytest.raises(ValueError, match="patient_id"):
        spider_plot(measurements, timepoint_responses(lesions, assessments))
    fig = spider_plot(measurements, timepoint_responses(lesions, assessments), patient_id="P002")
    assert fig.axes[0].get_title().startswith("Patient P002")


def test_waterfall_bars_are_sorted_and_coloured_by_response():
    """Bars go from largest growth to largest shrinkage, each in its response's colour."""
    a = Patient("P001").targets(50).follow(49, 10)
    b = Patient("P002").targets(50).follow(49, 60)
    c = Patient("P003").targets(50).follow(49, 45)
    best = best_percent_change(timepoint_responses(*frames(a, b, c)))
    fig = waterfall_plot(best, {"P001": "PR", "P002": "PD", "P003": "SD"})
    bars = fig.axes[0].patches
    assert [bar.get_height() for bar in bars] == pytest.approx([20.0, -10.0, -80.0])
    from matplotlib.colors import to_hex

    assert [to_hex(bar.get_facecolor()) for bar in bars] == [
        to_hex(RESPONSE_COLOURS["PD"]),
        to_hex(RESPONSE_COLOURS["SD"]),
        to_hex(RESPONSE_COLOURS["PR"]),
    ]


def test_waterfall_rejects_unknown_categories():
    """A response code with no colour is an error, not a silent grey bar."""
    best = best_percent_change(timepoint_responses(*frames(Patient().targets(50).follow(49, 10))))
    with pytest.raises(ValueError, match="PARTIAL"):
        waterfall_plot(best, {"P001": "PARTIAL"})


def test_reference_lines_follow_the_protocol_given(variant_protocol):
    """Under the variant protocol the lines are its -35% and +25% (6 mm)."""
    lesions, assessments = frames(patient())
    responses = timepoint_responses(lesions, assessments, protocol=variant_protocol)
    fig = spider_plot(
        lesion_measurements(lesions, assessments, protocol=variant_protocol),
        responses,
        protocol=variant_protocol,
    )
    labels = [line.get_label() for line in fig.axes[0].get_lines()]
    assert "PR: -35% from baseline" in labels
    assert "+25%: PD is judged from the nadir and needs +6 mm" in labels
    best = best_percent_change(responses)
    waterfall = waterfall_plot(best, {"P001": "PR"}, protocol=variant_protocol)
    levels = {line.get_ydata()[0] for line in waterfall.axes[0].get_lines()}
    assert {-35.0, 25.0} <= levels
