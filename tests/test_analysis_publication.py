"""The published figures as data: marks, internal consistency, and the comparison table."""

from __future__ import annotations

import pytest

from studylib.analysis.publication import (
    COMPUTED,
    DERIVED,
    PUBLISHED,
    SOURCE,
    compare_with_publication,
    published,
)

BY_KEY = {f.key: f for f in PUBLISHED}


def test_every_figure_has_a_mark_a_source_and_a_section():
    """Each figure is SOURCE, DERIVED or COMPUTED – NOT PUBLISHED and cites NCT01416831.md."""
    assert len(BY_KEY) == len(PUBLISHED)
    for figure in PUBLISHED:
        assert figure.mark in (SOURCE, DERIVED, COMPUTED)
        assert figure.section.startswith("NCT01416831.md §")
        assert figure.source_name


def test_statistics_are_never_marked_as_published():
    """Every p-value, odds ratio and interval is a computed check, not a trial result."""
    for figure in PUBLISHED:
        if figure.unit in ("p", "ratio") or "_ci_" in figure.key:
            assert figure.mark == COMPUTED, figure.key
            assert figure.section == "NCT01416831.md §2.4"


def test_sourced_flow_figures():
    """63 screened, 50 consented, 6 excluded, 44 enrolled, 20 in arm A, 7 crossed over."""
    values = {k: BY_KEY[k].value for k in ("screened", "consented", "excluded", "randomized")}
    assert values == {"screened": 63, "consented": 50, "excluded": 6, "randomized": 44}
    assert (BY_KEY["arm_A"].value, BY_KEY["crossover"].value) == (20, 7)
    assert BY_KEY["arm_B"].mark == DERIVED


@pytest.mark.parametrize("arm,n", [("A", 20), ("B", 24)])
def test_derived_counts_round_to_the_published_percentages(arm, n):
    """Each derived count over the arm size rounds to the published percentage; rows sum to n."""
    counts = [BY_KEY[f"{c}_{arm}"].value for c in ("cr", "pr", "sd", "pd")]
    assert sum(counts) == n
    for category, count in zip(("cr", "pr", "sd", "pd"), counts, strict=True):
        assert round(100 * count / n) == BY_KEY[f"{category}_pct_{arm}"].value
    assert BY_KEY[f"responders_{arm}"].value == counts[0] + counts[1]
    assert round(100 * BY_KEY[f"responders_{arm}"].value / n) == BY_KEY[f"orr_pct_{arm}"].value


def test_published_table_filters_by_mark():
    """Asking for SOURCE figures only leaves out derived and computed ones."""
    table = published((SOURCE,))
    assert set(table["mark"]) == {SOURCE}
    assert "fisher_p" not in set(table["key"])


def test_comparison_shows_difference_and_agreement_at_the_published_precision():
    """54.17% agrees with a published 54%; 0.2380 with 0.238; 55% does not agree with 54%."""
    table = compare_with_publication(
        {"orr_pct_B": 100 * 13 / 24, "fisher_p": 0.23803, "orr_pct_A": 36.0}
    ).set_index("key")
    assert table.loc["orr_pct_B", "difference"] == pytest.approx(100 * 13 / 24 - 54)
    assert bool(table.loc["orr_pct_B", "agrees"]) is True
    assert bool(table.loc["fisher_p", "agrees"]) is True
    assert table.loc["fisher_p", "mark"] == COMPUTED
    assert bool(table.loc["orr_pct_A", "agrees"]) is False


def test_figures_not_computed_show_as_missing():
    """A published figure the workbook did not compute has no difference and no verdict."""
    table = compare_with_publication({}).set_index("key")
    assert table["workbook"].isna().all()
    assert table["agrees"].isna().all()
    assert len(table) == len(PUBLISHED)


def test_unknown_workbook_figure_is_refused():
    """A misspelt key raises instead of being silently dropped."""
    with pytest.raises(KeyError, match="orr_B"):
        compare_with_publication({"orr_B": 54.0})
