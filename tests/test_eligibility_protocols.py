"""Screening follows the protocol it is given: criteria, ids, labels and every threshold.

The variant file (tests/fixtures/protocol_variant.toml) has other criterion ids (IN-1..IN-6,
EX-1..EX-12), no chronic-steroid criterion and other thresholds: WBC 3.5, Hgb 10.0, AST/ALT
2.5 x ULN, bilirubin 1.5 and creatinine 1.6 mg/dL, age 21, ECOG 0-2, pregnancy test 48 h, PFT
60%/80%, at most 2 SBRT foci of at most 5 cm in lung, liver or adrenal. Tests name criteria by
their rule (``for_rule``), never by a file's id, so that one test serves both files.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
from conftest import edit_protocol_file
from eligibility_records import eligible, man

from studylib.data import load_cohort
from studylib.eligibility import (
    evaluator,
    known_rules,
    registry,
    screen,
    screen_cohort,
    screen_patient,
    screening_log,
)
from studylib.eligibility.verdicts import outcome
from studylib.errors import ProtocolError, StudylibError
from studylib.protocol import PROTOCOL, load_protocol

VARIANT_PROTOCOL = Path(__file__).parent / "fixtures" / "protocol_variant.toml"


def _variant_file(tmp_path: Path, *replacements: tuple[str, str]) -> Path:
    """A copy of the variant protocol file with ``replacements`` made in its text."""
    return edit_protocol_file(VARIANT_PROTOCOL, tmp_path, *replacements)


# --- The criteria are the file's -------------------------------------------------------------


def test_every_criterion_of_the_file_is_judged_in_its_order_with_its_words(any_protocol):
    """The ids, kinds, labels and quotes reported are the protocol file's, in its order."""
    result = screen(eligible(), protocol=any_protocol)
    criteria = any_protocol.eligibility.criteria
    assert [c.id for c in result.criteria] == [c.id for c in criteria]
    for judged, written in zip(result.criteria, criteria, strict=True):
        assert (judged.kind, judged.label, judged.quote) == (
            written.kind,
            written.label,
            written.quote,
        )
    assert result.status == "eligible"
    assert result.protocol is any_protocol


def test_the_variant_reports_its_own_ids(variant_protocol):
    """Under the variant the ids are IN-1..IN-6 and EX-1..EX-12, never the bundled file's."""
    result = screen(eligible(wbc="3.4 x10^9/L"), protocol=variant_protocol)
    expected = [f"IN-{n}" for n in range(1, 7)] + [f"EX-{n}" for n in range(1, 13)]
    assert [c.id for c in result.criteria] == expected
    assert result.failed == ["EX-8"]
    assert result.explanation == "Not eligible: EX-8 (white blood cells) fails."
    assert result.for_rule("wbc").id == "EX-8"
    bundled_ids = {c.id for c in PROTOCOL.eligibility.criteria}
    assert not bundled_ids & {c.id for c in result.criteria}


def test_a_criterion_absent_from_the_file_is_not_judged(variant_protocol):
    """The variant has no chronic-steroid criterion: chronic steroids do not exclude there."""
    record = eligible(chronic_steroids="Y")
    assert screen(record).status == "ineligible"
    assert screen(record).for_rule("chronic_steroids").status == "fail"
    result = screen(record, protocol=variant_protocol)
    assert result.status == "eligible"
    assert "chronic_steroids" not in {c.rule for c in variant_protocol.eligibility.criteria}
    assert len(result.criteria) == 18
    with pytest.raises(KeyError, match="no criterion of rule 'chronic_steroids'"):
        result.for_rule("chronic_steroids")
    with pytest.raises(KeyError, match="EX-12"):
        result.criterion("EXCL13")


def test_labels_and_quotes_come_from_the_file(tmp_path):
    """A label changed in the file is the label the checklist and the explanation show."""
    path = _variant_file(
        tmp_path,
        ('label = "White blood cells"', 'label = "Leucocytes"'),
        ('quote = "WBC < 3.0 x 109/L"', 'quote = "Leucocytes below 3.5 x 10^9/L."'),
    )
    result = screen(eligible(wbc="3.0 x10^9/L"), protocol=load_protocol(path))
    assert result.explanation == "Not eligible: EX-8 (leucocytes) fails."
    row = result.to_frame().set_index("id").loc["EX-8"]
    assert (row["label"], row["quote"]) == ("Leucocytes", "Leucocytes below 3.5 x 10^9/L.")


# --- Each threshold of the variant, on both sides ----------------------------------------------

# (rule, changes to an eligible record, status under the variant, status under the bundled file)
THRESHOLDS = [
    ("wbc", {"wbc": "3.5 x10^9/L"}, "pass", "pass"),
    ("wbc", {"wbc": "3.49 x10^9/L"}, "fail", "pass"),
    ("wbc", {"wbc": "3,500/µL"}, "pass", "pass"),
    ("wbc", {"wbc": "3.0 x10^9/L"}, "fail", "pass"),
    ("wbc", {"wbc": "2.99 x10^9/L"}, "fail", "fail"),
    ("hemoglobin", {"hgb": "10.0 g/dL"}, "pass", "pass"),
    ("hemoglobin", {"hgb": "9.99 g/dL"}, "fail", "pass"),
    ("hemoglobin", {"hgb": "100 g/L"}, "pass", "pass"),
    ("hemoglobin", {"hgb": "9.0 g/dL"}, "fail", "pass"),
    ("transaminases", {"ast": "100 U/L", "ast_uln": "40 U/L"}, "pass", "pass"),
    ("transaminases", {"ast": "101 U/L", "ast_uln": "40 U/L"}, "fail", "pass"),
    ("transaminases", {"alt": "100.1 U/L", "alt_uln": "40 U/L"}, "fail", "pass"),
    ("transaminases", {"alt": "120 U/L", "alt_uln": "40 U/L"}, "fail", "pass"),
    ("transaminases", {"alt": "121 U/L", "alt_uln": "40 U/L"}, "fail", "fail"),
    ("bilirubin", {"bilirubin": "1.5 mg/dL"}, "pass", "pass"),
    ("bilirubin", {"bilirubin": "1.51 mg/dL"}, "fail", "pass"),
    ("bilirubin", {"bilirubin": "1.9 mg/dL"}, "fail", "pass"),
    ("creatinine", {"creatinine": "1.6 mg/dL"}, "pass", "pass"),
    ("creatinine", {"creatinine": "1.61 mg/dL"}, "fail", "pass"),
    ("creatinine", {"creatinine": "150 µmol/L"}, "fail", "pass"),
    ("age", {"birth_date": "2003-03-04"}, "pass", "pass"),
    ("age", {"birth_date": "2003-03-05"}, "fail", "pass"),
    ("age", {"birth_date": "2006-03-04"}, "fail", "pass"),
    ("ecog", {"ecog": 2}, "pass", "fail"),
    ("ecog", {"ecog": 3}, "fail", "fail"),
    ("pregnancy_test", {"pregnancy_test_at": "2024-03-16T08:00"}, "pass", "pass"),
    ("pregnancy_test", {"pregnancy_test_at": "2024-03-16T07:59"}, "review", "pass"),
    ("pregnancy_test", {"pregnancy_test_at": "2024-03-15T08:00"}, "review", "pass"),
    ("pulmonary_function", {"pft_dlco_pct": 80}, "pass", "review"),
    ("pulmonary_function", {"pft_dlco_pct": 79.9}, "review", "review"),
    (
        "pulmonary_function",
        {"pft_fev1_pct": 60, "pulmonary_disease_significant": "Y"},
        "review",
        "fail",
    ),
    (
        "pulmonary_function",
        {"pft_fev1_pct": 59.9, "pulmonary_disease_significant": "Y"},
        "fail",
        "fail",
    ),
    ("sbrt_foci", {"sbrt_sites": [{"site": "lung", "longest_diameter": "5 cm"}]}, "pass", "pass"),
    ("sbrt_foci", {"sbrt_sites": [{"site": "lung", "longest_diameter": "51 mm"}]}, "fail", "pass"),
    (
        "sbrt_foci",
        {"sbrt_sites": [{"site": "adrenal", "longest_diameter": "2 cm"}]},
        "pass",
        "fail",
    ),
    ("sbrt_foci", {"sbrt_sites": [{"site": "bone", "longest_diameter": "2 cm"}]}, "fail", "pass"),
    (
        "no_amenable_site",
        {"sbrt_sites": [{"site": "adrenal", "longest_diameter": "9 cm"}]},
        "pass",
        "fail",
    ),
    (
        "no_amenable_site",
        {"sbrt_sites": [{"site": "chest_wall", "longest_diameter": "2 cm"}]},
        "fail",
        "pass",
    ),
]


@pytest.mark.parametrize(("rule", "changes", "variant", "bundled"), THRESHOLDS)
def test_each_threshold_follows_the_protocol(variant_protocol, rule, changes, variant, bundled):
    """At each threshold of the variant, on both sides, the verdict follows the file given."""
    record = eligible(**changes)
    assert screen(record, protocol=variant_protocol).for_rule(rule).status == variant
    assert screen(record).for_rule(rule).status == bundled


def test_reasons_quote_the_variant_thresholds(variant_protocol):
    """The reasons compare with the variant's numbers, not the bundled file's."""

    def reason(rule: str, **changes: object) -> str:
        return screen(eligible(**changes), protocol=variant_protocol).for_rule(rule).reason

    assert reason("wbc", wbc="3.49 x10^9/L") == "WBC 3.49 x10^9/L is below 3.5 x10^9/L."
    assert reason("hemoglobin", hgb="99.9 g/L") == (
        "Haemoglobin 9.99 g/dL (reported as 99.9 g/L) is below 10 g/dL."
    )
    assert reason("creatinine", creatinine="1.61 mg/dL") == (
        "Creatinine 1.61 mg/dL is above 1.6 mg/dL."
    )
    assert "above 2.5 x the upper limit of normal" in reason("transaminases", ast="101 U/L")
    assert "turns 21 on 2024-03-05" in reason("age", birth_date="2003-03-05")
    assert "above 2 (0-2 required)" in reason("ecog", ecog=3)
    assert "more than 48 hours" in reason("pregnancy_test", pregnancy_test_at="2024-03-16T07:59")
    assert "below 60%" in reason(
        "pulmonary_function", pft_fev1_pct=59, pulmonary_disease_significant="Y"
    )
    only_bone = reason("sbrt_foci", sbrt_sites=[{"site": "bone", "longest_diameter": "2 cm"}])
    assert "amenable sites are lung, liver or adrenal" in only_bone


def test_the_variant_proposes_at_most_two_foci(variant_protocol):
    """Three treatable foci: the variant proposes the 2 largest, the bundled file all 3."""
    sites = [{"site": "lung", "longest_diameter": f"{n} cm"} for n in (1, 2, 3)]
    variant = screen(eligible(sbrt_sites=sites), protocol=variant_protocol)
    assert [p["longest_diameter_cm"] for p in variant.proposed_sites] == [3.0, 2.0]
    assert "at most 2 are treated" in variant.for_rule("sbrt_foci").reason
    assert len(screen(eligible(sbrt_sites=sites)).proposed_sites) == 3


def test_the_pregnancy_window_of_the_variant_for_a_man_does_not_apply(variant_protocol):
    """Criteria that do not apply still do not apply under another file."""
    result = screen(man(), protocol=variant_protocol)
    assert result.for_rule("pregnancy_test").status == "not_applicable"
    assert result.status == "eligible"


def test_plausibility_limits_come_from_the_protocol(variant_protocol):
    """A WBC of 950 x10^9/L is possible under the bundled limit (1000) but not the variant's
    (900): there it is a typing error naming the field, not a verdict."""
    assert screen(eligible(wbc="950 x10^9/L")).for_rule("wbc").status == "pass"
    with pytest.raises(StudylibError, match="wbc"):
        screen(eligible(wbc="950 x10^9/L"), protocol=variant_protocol)


# --- A cohort, its log, and a trial folder's own protocol --------------------------------------


def test_screen_cohort_and_its_log_under_the_variant(variant_protocol):
    """A cohort screened under the variant: its ids, its verdicts and a log in its order."""
    frame = pd.DataFrame(
        [
            eligible(patient_id="P1", wbc="3.0 x10^9/L"),
            eligible(patient_id="P2", ecog=2),
            eligible(patient_id="P3", chronic_steroids="Y", pft_dlco_pct=79),
        ]
    )
    results = screen_cohort(frame, protocol=variant_protocol)
    assert len(results) == 3 * 18
    overall = results.groupby("patient_id", sort=False)["overall_status"].first()
    assert overall.tolist() == ["ineligible", "eligible", "needs_review"]
    log = screening_log(results, protocol=variant_protocol)
    assert log.reasons[["id", "patient_ids"]].values.tolist() == [["EX-8", "P1"]]
    assert log.open_items[["id", "status"]].values.tolist() == [["EX-7", "review"]]
    assert log.patients["failed"].tolist() == ["EX-8", "", ""]


def test_a_log_under_another_protocol_is_refused(variant_protocol):
    """Results of the variant summarised as if under the bundled file: a clear error."""
    results = screen_cohort(pd.DataFrame([eligible()]), protocol=variant_protocol)
    with pytest.raises(StudylibError, match="IN-1, IN-2.*protocol=cohort.protocol"):
        screening_log(results)


def test_screen_patient_follows_the_cohorts_protocol(tiny_trial, variant_protocol):
    """screen_patient uses cohort.protocol unless told otherwise: T001's FEV1 95% of predicted
    needs review under the bundled file (below 100%) but not under the variant (80%)."""
    cohort = load_cohort(tiny_trial)
    assert screen_patient(cohort, "T001").for_rule("pulmonary_function").status == "review"
    amended = dataclasses.replace(cohort, protocol=variant_protocol)
    result = screen_patient(amended, "T001")
    assert result.protocol is variant_protocol
    assert result.for_rule("pulmonary_function").status == "pass"
    assert [c.id for c in result.criteria][0] == "IN-1"
    told = screen_patient(amended, "T001", protocol=PROTOCOL)
    assert told.for_rule("pulmonary_function").status == "review"


# --- Rules by name ---------------------------------------------------------------------------


def test_an_unknown_rule_is_one_clear_protocol_error(tmp_path):
    """A criterion naming a rule no evaluator judges: one ProtocolError naming the file, every
    such criterion and the known rules, raised when the protocol first screens (the file
    itself loads)."""
    path = _variant_file(
        tmp_path,
        ('rule = "wbc"', 'rule = "white_count"'),
        ('rule = "consent"', 'rule = "signed_consent"'),
    )
    protocol = load_protocol(path)
    with pytest.raises(ProtocolError) as raised:
        screen(eligible(), protocol=protocol)
    message = str(raised.value)
    assert message.startswith(f"{path}: [[eligibility.criteria]]")
    assert "criterion 'IN-6' names rule 'signed_consent'" in message
    assert "criterion 'EX-8' names rule 'white_count'" in message
    assert "known rules: age, agreement, bilirubin, brain_mets, " in message
    with pytest.raises(ProtocolError, match="white_count"):
        screen_cohort(pd.DataFrame([eligible()]), protocol=protocol)


def test_a_new_rule_is_one_registered_function(tmp_path, monkeypatch):
    """A sister trial's criterion is one function registered under its rule name; the file
    that names the rule then screens with it."""
    monkeypatch.setattr(registry, "_EVALUATORS", dict(registry._EVALUATORS))

    @evaluator("registry_participation")
    def registry_participation(v, criterion, protocol):
        agreed = v[criterion.options["field"]].astype("boolean").fillna(False).astype(bool)
        status = ["pass" if c else "fail" for c in agreed]
        said = f"{criterion.options['registry']} agreement."
        return outcome(v.index, status, [said] * len(v), [""] * len(v))

    assert "registry_participation" in known_rules()
    path = _variant_file(
        tmp_path,
        (
            'rule = "histology"',
            'rule = "registry_participation"\nfield = "consent_signed"\nregistry = "PROCLAIM"',
        ),
    )
    result = screen(eligible(consent_signed="N"), protocol=load_protocol(path))
    assert result.criterion("IN-1").status == "fail"
    assert result.criterion("IN-1").reason == "PROCLAIM agreement."
    with pytest.raises(ValueError, match="two eligibility evaluators"):
        evaluator("registry_participation")(lambda v, criterion, protocol: v)


def test_a_criterion_option_an_evaluator_reads_comes_from_the_file(variant_protocol, tmp_path):
    """The histology criterion confirms the file's ``diagnosis``; without it, the file is
    refused by name."""
    said = screen(eligible(), protocol=variant_protocol).for_rule("histology").reason
    assert said == "Uveal melanoma is confirmed by biopsy or cytology (histology_confirmed: yes)."
    assert screen(eligible()).for_rule("histology").reason.startswith("Melanoma is confirmed")
    path = _variant_file(tmp_path, ('diagnosis = "uveal melanoma"\n', ""))
    with pytest.raises(
        ProtocolError, match=r"criterion 'IN-1' \(rule 'histology'\) needs diagnosis"
    ):
        screen(eligible(), protocol=load_protocol(path))
