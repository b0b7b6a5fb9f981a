"""Cohort figures: each runs, returns a Figure with the expected artists, and writes a PNG."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.colors import to_rgba
from matplotlib.container import BarContainer
from matplotlib.figure import Figure
from matplotlib.transforms import Bbox
from test_analysis_endpoints import build_trial

from studylib.analysis import analyse_cohort
from studylib.analysis.flow import participant_flow
from studylib.analysis.survival import survival_by_arm
from studylib.data import load_cohort
from studylib.plots.cohort import (
    RESPONSE_COLOURS,
    cohort_figures,
    consort,
    kaplan_meier,
    save_cohort_figures,
    spider,
    swimmer,
    waterfall,
)
from studylib.protocol import PROTOCOL

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _png(fig: Figure, path) -> bytes:
    fig.savefig(path, dpi=60)
    return path.read_bytes()[:8]


BEST = pd.DataFrame(
    {
        "patient_id": ["A1", "A2", "A3", "B1", "B2", "B3", "B4", "B5"],
        "arm": list("AAABBBBB"),
        "best_pct_change": [-40.0, 10.0, 35.0, -100.0, -50.0, -5.0, 25.0, np.nan],
        "bor": ["PR", "SD", "PD", "CR", "PR", "SD", "PD", "NE"],
    }
)


def test_waterfall_has_one_bar_per_measured_patient_and_threshold_lines(tmp_path):
    """3 bars in arm A, 4 in arm B (B5 has no value), lines at -30% and +20%, sorted."""
    fig = waterfall(BEST)
    assert isinstance(fig, Figure)
    ax_a, ax_b = fig.axes[:2]
    bars_a = [c for c in ax_a.containers if isinstance(c, BarContainer)][0]
    bars_b = [c for c in ax_b.containers if isinstance(c, BarContainer)][0]
    assert (len(bars_a), len(bars_b)) == (3, 4)
    assert ax_a.get_title().endswith("(n = 3)")
    assert ax_b.get_title().endswith("(n = 4 of 5 measured)")
    heights = [bar.get_height() for bar in bars_b]
    assert heights == sorted(heights, reverse=True)
    levels = {line.get_ydata()[0] for line in ax_a.lines}
    assert {-30.0, 20.0, 0.0} <= levels
    colours = [tuple(bar.get_facecolor()) for bar in bars_b]
    assert colours[-1] == to_rgba(RESPONSE_COLOURS["CR"])
    assert _png(fig, tmp_path / "waterfall.png") == PNG_MAGIC


def test_waterfall_thresholds_follow_the_ruleset():
    """The registry's ruleset ('protocol') draws its own PR/PD thresholds from protocol.toml."""
    rules = PROTOCOL.response.ruleset("protocol")
    fig = waterfall(BEST, ruleset="protocol")
    levels = {line.get_ydata()[0] for line in fig.axes[0].lines}
    assert {rules.pr_change_from_baseline, rules.pd_change_from_nadir} <= levels


CHANGES = pd.DataFrame(
    {
        "patient_id": ["A1", "A1", "A2", "B1", "B1", "B2"],
        "arm": list("AAABBB"),
        "week": [7.0, 14.0, 7.0, 7.0, 14.0, 7.0],
        "pct_change_baseline": [-20.0, -40.0, 30.0, -50.0, -100.0, 5.0],
        "bor": ["PR", "PR", "PD", "CR", "CR", "SD"],
    }
)


def test_spider_has_one_line_per_patient_starting_at_zero(tmp_path):
    """Two patients per arm, each line starting at week 0 and 0%, threshold lines added."""
    fig = spider(CHANGES)
    ax_a, ax_b = fig.axes[:2]
    patients_a = [line for line in ax_a.lines if line.get_label() in {"A1", "A2"}]
    patients_b = [line for line in ax_b.lines if line.get_label() in {"B1", "B2"}]
    assert (len(patients_a), len(patients_b)) == (2, 2)
    a1 = next(line for line in patients_a if line.get_label() == "A1")
    assert list(a1.get_xdata()) == [0.0, 7.0, 14.0]
    assert list(a1.get_ydata()) == [0.0, -20.0, -40.0]
    assert _png(fig, tmp_path / "spider.png") == PNG_MAGIC


COURSES = pd.DataFrame(
    {
        "patient_id": ["A1", "A1", "A1", "A1", "B1", "B1", "B1", "B1", "B1"],
        "arm": list("AAAABBBBB"),
        "event": [
            "il2_cycle",
            "progression",
            "death",
            "follow_up",
            "sbrt",
            "il2_cycle",
            "PR",
            "alive",
            "follow_up",
        ],
        "months": [0.5, 4.0, 12.0, 12.0, 0.3, 0.4, 1.8, 60.0, 60.0],
    }
)
COURSES["weeks"] = COURSES["months"] * 4.348


def _labels(ax) -> list[str]:
    return sorted(c.get_label() for c in ax.collections if isinstance(c, PathCollection))


def test_swimmer_has_one_bar_per_patient_and_markers_per_event(tmp_path):
    """Both panels have one bar per patient; treatment events left, follow-up events right."""
    fig = swimmer(COURSES)
    treatment, follow = fig.axes[:2]
    for ax, time in ((treatment, "weeks"), (follow, "months")):
        bars = [c for c in ax.containers if isinstance(c, BarContainer)][0]
        ends = COURSES.loc[COURSES["event"] == "follow_up", time]
        assert sorted(bar.get_width() for bar in bars) == sorted(ends)
    assert _labels(treatment) == ["IL-2 cycle start", "PR", "Progression", "SBRT fraction"]
    assert _labels(follow) == ["Alive at last contact", "Death", "Progression"]
    assert [t.get_text() for t in treatment.get_yticklabels()] == ["B1", "A1"]
    assert treatment.get_xlim()[1] == pytest.approx(1.8 * 4.348 * 1.1)
    assert _png(fig, tmp_path / "swimmer.png") == PNG_MAGIC


def _survival():
    times = pd.DataFrame(
        {
            "arm": list("AAAAAABBBBBB"),
            "os_months": [12, 24, 36, 48, 72, 84, 6, 9, 15, 20, 30, 70.0],
            "os_event": [1, 0, 1, 1, 0, 0, 1, 1, 1, 0, 1, 0],
        }
    )
    times["os_event"] = times["os_event"].astype(bool)
    return survival_by_arm(times, "os")


def test_kaplan_meier_draws_both_arms_with_numbers_at_risk(tmp_path):
    """Two step curves with bands, censoring ticks, and a twin axis carrying the counts."""
    result = _survival()
    fig = kaplan_meier(result)
    ax = fig.axes[0]
    labels = [line.get_label() for line in ax.get_lines()]
    assert any("arm A" in label for label in labels) and any("arm B" in label for label in labels)
    assert len(ax.collections) >= 2  # confidence bands
    assert len(fig.axes) == 2  # the at-risk table lives on a twin axis
    at_risk = " ".join(t.get_text() for t in fig.axes[1].get_xticklabels())
    assert "At risk" in at_risk and "6" in at_risk
    text = " ".join(t.get_text() for t in ax.texts)
    assert "Log-rank p" in text and f"{result.logrank_p:.3f}" in text
    assert _png(fig, tmp_path / "km.png") == PNG_MAGIC


def test_kaplan_meier_without_numbers_at_risk():
    """at_risk=False leaves one axis."""
    assert len(kaplan_meier(_survival(), at_risk=False).axes) == 1


def test_consort_draws_every_box_with_its_count(tmp_path):
    """Ten boxes, each a text artist naming its count, and arrows between them."""
    screening = pd.DataFrame(
        {
            "patient_id": ["P1", "P2", "P3", "P4"],
            "consent_signed": pd.array([True, True, False, True], dtype="boolean"),
            "screening_outcome": [
                "enrolled",
                "excluded_after_consent",
                "screen_failure",
                "enrolled",
            ],
            "outcome_reason": ["", "insurance issues", "ECOG 2", ""],
        }
    )
    randomization = pd.DataFrame(
        {
            "patient_id": ["P1", "P4"],
            "arm": ["A", "B"],
            "crossover": pd.array([True, False], dtype="boolean"),
        }
    )
    fig = consort(participant_flow(screening, randomization))
    ax = fig.axes[0]
    boxes = {t.get_gid(): t.get_text() for t in ax.texts if t.get_gid()}
    assert len(boxes) == 10
    assert boxes["screened"].endswith("n = 4")
    assert "insurance issues: 1" in boxes["excluded"]
    assert "n = 1" in boxes["crossover"]
    arrows = [t for t in ax.texts if not t.get_gid()]
    assert len(arrows) == 9
    assert _png(fig, tmp_path / "consort.png") == PNG_MAGIC


def test_consort_arrows_end_on_the_box_borders(analysis):
    """Each arrow stops at the edge of the box it points to, never inside it (over its words)."""
    fig = consort(analysis.flow)
    FigureCanvasAgg(fig).draw()
    renderer = fig.canvas.get_renderer()
    ax = fig.axes[0]
    boxes = {
        t.get_gid(): t.get_bbox_patch().get_window_extent(renderer) for t in ax.texts if t.get_gid()
    }
    arrows = [t.arrow_patch.get_window_extent(renderer) for t in ax.texts if not t.get_gid()]
    assert len(arrows) == 9
    for arrow in arrows:
        for name, box in boxes.items():
            inside = Bbox.intersection(arrow, box)
            # Touching a border is fine; reaching more than a pixel and a half in is not.
            assert inside is None or min(inside.width, inside.height) <= 1.5, name


@pytest.fixture(scope="module")
def analysis(tmp_path_factory):
    folder = build_trial(tmp_path_factory.mktemp("plots") / "trial")
    return analyse_cohort(load_cohort(folder))


def test_every_figure_draws_from_a_whole_analysis(analysis, tmp_path):
    """The figures accept what analyse_cohort returns, end to end, and are saved as PNGs."""
    paths = save_cohort_figures(analysis, tmp_path / "figures")
    assert sorted(p.name for p in paths) == sorted(
        f"cohort_{name}.png"
        for name in ("consort", "waterfall", "spider", "swimmer", "km_pfs", "km_os")
    )
    assert all(p.read_bytes()[:8] == PNG_MAGIC for p in paths)
    figure = cohort_figures(analysis)["waterfall"]
    bars = [c for ax in figure.axes[:2] for c in ax.containers]
    assert sum(len(c) for c in bars) == analysis.best_change["best_pct_change"].notna().sum()


# -- under the variant protocol (arms C and R, -35%/+25%, survival in weeks, 3 years) -----------


@pytest.fixture(scope="module")
def variant_analysis(variant_protocol, data_dir):
    from recist_frames import under_protocol

    return analyse_cohort(under_protocol(load_cohort(data_dir), variant_protocol))


def test_arm_colours_follow_the_protocols_order_of_arms(variant_protocol):
    from studylib.plots.cohort import ARM_PALETTE, arm_colours

    assert arm_colours() == {"A": ARM_PALETTE[0], "B": ARM_PALETTE[1]}
    assert arm_colours(variant_protocol) == {"C": ARM_PALETTE[0], "R": ARM_PALETTE[1]}


def test_variant_figures_name_its_arms_and_draw_its_thresholds(variant_analysis):
    """Panels per arm C and R; the PR and PD lines at -35% and +25%."""
    figures = cohort_figures(variant_analysis)
    for name in ("waterfall", "spider"):
        axes = figures[name].axes[:2]
        titles = [ax.get_title() for ax in axes]
        assert titles[0].startswith("Arm C: IL-2 alone (control)"), name
        assert titles[1].startswith("Arm R: Radiation then IL-2"), name
        levels = {line.get_ydata()[0] for line in axes[0].lines}
        assert {-35.0, 25.0} <= levels and not {-30.0, 20.0} & levels, name


def test_variant_survival_is_drawn_in_weeks_with_a_3_year_landmark(variant_analysis):
    from studylib.plots.cohort import ARM_PALETTE

    ax = cohort_figures(variant_analysis)["km_os"].axes[0]
    assert ax.get_xlabel() == "Weeks since randomisation"
    texts = [t.get_text() for t in ax.texts]
    assert " 3 years" in texts
    assert any("median" in t and "weeks" in t for t in texts)
    curves = {line.get_label(): line.get_color() for line in ax.get_lines()}
    control = next(colour for label, colour in curves.items() if "(arm C)" in label)
    assert to_rgba(control) == to_rgba(ARM_PALETTE[0])


def test_variant_consort_and_swimmer_name_its_arms(variant_analysis):
    figures = cohort_figures(variant_analysis)
    boxes = {t.get_gid(): t.get_text() for t in figures["consort"].axes[0].texts if t.get_gid()}
    assert {"arm_C", "arm_R", "analysed_C", "analysed_R"} <= set(boxes)
    assert "Crossed over to Radiation then IL-2" in boxes["crossover"]
    assert "(crossover counted in arm C)" in boxes["analysed_C"]
    treatment, follow = figures["swimmer"].axes[:2]
    labels = [t.get_text() for t in follow.get_legend().get_texts()]
    assert "Arm C: IL-2 alone (control)" in labels and "Crossover (Radiation then IL-2)" in labels
    assert follow.get_xlabel().startswith("Weeks since randomisation")
