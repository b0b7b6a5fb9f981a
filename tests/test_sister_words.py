"""What a reader sees of the sister trial (NCT02306954) is worded from its protocol file.

Rule summaries, the design diagram, the tour's lessons and questions, the screening form and
the cohort report name the trial, its arms and its rules from the file given, never with words
typed for NCT01416831; the bundled protocol keeps its wording.
"""

from __future__ import annotations

import pytest

from studylib.analysis import analyse_cohort
from studylib.data import load_cohort
from studylib.plots.design import design_labels
from studylib.protocol import PROTOCOL
from studylib.schedule import protocol_rules
from studylib.synth import write_cohort
from studylib.widgets import design_questions
from studylib.widgets.lessons import design_rules, trial_introduction
from studylib.widgets.screening import ScreeningForm


def _rule(protocol, what: str) -> tuple[str, str]:
    row = protocol_rules(protocol).set_index("what").loc[what]
    return row["rule"], row["source"]


def test_one_fractionation_rule_for_all_is_worded_as_every_patient(renal_protocol):
    """Two fractions for every SBRT-arm patient: no enrollment ranges in the words."""
    sbrt, _ = _rule(renal_protocol, "SBRT")
    assert "every patient: 2 fractions on the Wednesday and Friday before the Monday" in sbrt
    assert "enrollment" not in sbrt
    assert "every patient: 2 (Wed, Fri)" in design_labels(renal_protocol)["sbrt"]
    assert "by enrolment number" not in design_labels(renal_protocol)["sbrt"]
    design = design_rules(renal_protocol)
    assert "20 Gy per fraction; every patient: 2 fractions on the Wednesday and Friday" in design
    assert "enrolment number" not in design
    crossover = design_questions(renal_protocol)[2].answer
    assert crossover.startswith("Crossover: SBRT (as in the SBRT arm)")


def test_the_bundled_fractionation_keeps_its_enrollment_ranges():
    sbrt, _ = _rule(PROTOCOL, "SBRT")
    assert "enrollment 1-20: 1 fraction on the Friday" in sbrt
    assert "enrollment 21 on: 2 fractions" in sbrt
    assert "fractions by enrolment number" in design_labels(PROTOCOL)["sbrt"]
    assert "by enrolment number, as in the SBRT arm" in design_questions(PROTOCOL)[2].answer


@pytest.mark.parametrize(("name", "registry"), [("bundled", True), ("renal", False)])
def test_the_scan_weeks_say_whether_the_registry_gives_them(renal_protocol, name, registry):
    """NCT02306954's record gives no scans: its weeks are a reading, and the summary says so."""
    protocol = PROTOCOL if name == "bundled" else renal_protocol
    scans, _ = _rule(protocol, "scans")
    assert protocol.assessments.registry is registry
    said = "(registry)" if registry else "(not in the registry record)"
    assert f"weeks 7, 14 and 21 after the first IL-2 dose {said}" in scans


def test_the_trial_is_named_from_its_file(renal_protocol):
    """Registry number, title and arms: the headline the notebooks print, and the tour's."""
    assert renal_protocol.headline == (
        "NCT02306954: Phase II Randomized Study of High Dose Interleukin-2 Versus Stereotactic"
        " Body Radiation (SBRT) and High Dose Interleukin-2 (IL-2) in Patients With Metastatic"
        " Renal Cancer. Arms: A High Dose IL-2; B High Dose IL-2 and SBRT."
    )
    assert PROTOCOL.headline.startswith("NCT01416831: ") and "Melanoma" in PROTOCOL.headline
    intro = trial_introduction(renal_protocol)
    assert intro.startswith("### NCT02306954: ") and "Melanoma" not in intro


def test_the_screening_form_asks_for_what_the_protocol_reads(renal_protocol):
    """Under the renal file the form has the subtype and both agreements, and its demo
    candidate is eligible; the melanoma form is unchanged."""
    form = ScreeningForm(protocol=renal_protocol)
    assert form.result.status == "eligible"
    assert form.fields["histology_subtype"].options == ("clear_cell",)
    form.fields["registry_agreed"].value = "N"
    assert form.result.criterion("INCL07").status == "fail"
    form.fields["histology_subtype"].value = "papillary"
    assert form.result.criterion("INCL01").status == "fail"
    bundled = ScreeningForm()
    assert bundled.result.status == "eligible"
    assert not {"histology_subtype", "registry_agreed"} & set(bundled.fields)


def test_a_sister_cohort_is_not_compared_with_the_melanoma_publication(
    tmp_path, renal_protocol, data_dir
):
    """NCT01416831's published figures are not NCT02306954's results: no rows to compare."""
    write_cohort(tmp_path / "rcc", patients=12, seed=2, protocol=renal_protocol)
    renal = analyse_cohort(load_cohort(tmp_path / "rcc"))
    assert renal.comparison().empty
    assert list(renal.comparison().columns) == list(
        analyse_cohort(load_cohort(data_dir)).comparison().columns
    )


def test_the_readme_lists_every_eligibility_rule(repo_dir):
    """'Another trial of the same design' names every rule a criterion may give."""
    from studylib.eligibility import known_rules

    readme = (repo_dir / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Another trial of the same design", 1)[1].split("\n## ", 1)[0]
    listed = section.split("(`rule`):", 1)[1].split(". Some take", 1)[0]
    assert sorted(name.strip(" `\n") for name in listed.split(",")) == known_rules()


def test_the_calendar_names_the_plans_trial(renal_protocol):
    """A renal patient's .ics is NCT02306954's: calendar name, product id and every UID;
    its SBRT fractions are the two of every SBRT-arm patient."""
    import datetime as dt

    from studylib.calendar_export import plan_to_calendar
    from studylib.schedule import plan_treatment

    plan = plan_treatment("B", 3, "2024-03-04", "70 kg", protocol=renal_protocol)
    calendar = plan_to_calendar(plan, stamp=dt.datetime(2024, 1, 1, tzinfo=dt.UTC))
    assert str(calendar["x-wr-calname"]) == "enrollment 3: treatment plan (NCT02306954)"
    assert "NCT02306954" in str(calendar["prodid"])
    uids = [str(event["uid"]) for event in calendar.walk("VEVENT")]
    assert uids and all(uid.endswith("@studylib.nct02306954") for uid in uids)
    sbrt = [str(e["summary"]) for e in calendar.walk("VEVENT") if "sbrt" in str(e["uid"])]
    assert len(sbrt) == 2
