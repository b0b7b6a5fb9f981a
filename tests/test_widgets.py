"""The teaching widgets: set a control's value, read what the engine answered (no front end)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pandas as pd
import pytest
from matplotlib.figure import Figure

from studylib.eligibility import screen
from studylib.protocol import PROTOCOL
from studylib.units import Q_
from studylib.widgets.questions import (
    design_questions,
    response_questions,
    schedule_questions,
    screening_questions,
)
from studylib.widgets.quiz import Question, SelfCheck
from studylib.widgets.recist import RecistCalculator, TargetLesion
from studylib.widgets.schedule import ScheduleExplorer
from studylib.widgets.screening import DEMO_CANDIDATE, ScreeningForm

# --------------------------------------------------------------------------------------------
# The trial at a glance


def test_design_figure_is_a_figure():
    """The design diagram is a matplotlib Figure with the two arms on it."""
    from studylib.plots.design import trial_design

    fig = trial_design()
    assert isinstance(fig, Figure)
    texts = " ".join(t.get_text() for t in fig.axes[0].texts)
    assert "Arm A" in texts and "Arm B" in texts and "Crossover" in texts


def test_design_labels_read_the_protocol():
    """The diagram's numbers are the protocol's: doses, fractions by enrolment, scan weeks."""
    from studylib.plots.design import design_labels

    labels = design_labels()
    assert "20 Gy per fraction" in labels["sbrt"]
    assert "patients 1-20: 1 (Fri)" in labels["sbrt"]
    assert "patients 21 on: 2 (Wed, Fri)" in labels["sbrt"]
    assert "600,000 IU/kg" in labels["cycle1"] and "Monday" in labels["cycle1"]
    assert "weeks 7, 14*, 21" in labels["scans"]
    assert "cycles 3-4" in labels["crossover"]


def test_design_table_keeps_the_diagram_phrases_apart():
    """The SBRT step reads as the diagram's separate phrases, not "per fraction fractions by",
    and the HTML table shows each line break."""
    from studylib.plots.design import design_table
    from studylib.widgets.style import table_html

    step = design_table().set_index("step").loc["SBRT", "what happens"]
    assert step.splitlines()[:3] == [
        "SBRT 20 Gy per fraction",
        "fractions by enrolment number:",
        "patients 1-20: 1 (Fri)",
    ]
    assert "white-space:pre-line" in table_html(design_table())


def test_design_labels_follow_a_changed_protocol():
    """Changing the protocol's SBRT dose changes the diagram: nothing is typed into it."""
    from studylib.plots.design import design_labels

    changed = dataclasses.replace(
        PROTOCOL, sbrt=dataclasses.replace(PROTOCOL.sbrt, dose_per_fraction=Q_(18, "Gy"))
    )
    assert "18 Gy per fraction" in design_labels(changed)["sbrt"]


# --------------------------------------------------------------------------------------------
# Screening form


@pytest.fixture
def form() -> ScreeningForm:
    return ScreeningForm()


def test_demo_candidate_is_eligible(form):
    """The tour starts from a candidate who meets every criterion."""
    assert form.result.status == "eligible"
    assert "Eligible" in form.verdict.value
    assert len(form.table()) == len(PROTOCOL.eligibility.criteria)


def test_wbc_below_limit_makes_the_verdict_ineligible(form):
    """WBC 4.1 -> 2.5 x10^9/L: the verdict turns ineligible and shows the WBC reason."""
    form.labs["wbc"][0].value = "2.5"
    assert form.result.status == "ineligible"
    assert form.result.criterion("EXCL08").status == "fail"
    assert "Ineligible" in form.verdict.value
    assert "EXCL08" in form.verdict.value and "WBC 2.5 x10^9/L is below" in form.verdict.value
    row = form.table().set_index("id").loc["EXCL08"]
    assert row["status"] == "fail" and "2.5" in row["reason"]


def test_wbc_exactly_at_the_limit_passes(form):
    """WBC exactly 3.0 x10^9/L passes ("< 3.0" excludes); 2.99 fails."""
    form.labs["wbc"][0].value = "3.0"
    assert form.result.criterion("EXCL08").status == "pass"
    form.labs["wbc"][0].value = "2.99"
    assert form.result.criterion("EXCL08").status == "fail"


def test_lab_in_another_unit_is_converted_by_the_engine(form):
    """WBC typed as 2,900 /µL is read as 2.9 x10^9/L and fails; 4,100 /µL passes."""
    form.labs["wbc"][1].value = "/µL"
    form.labs["wbc"][0].value = "2,900"
    assert form.result.criterion("EXCL08").status == "fail"
    assert "2.9 x10^9/L" in form.result.criterion("EXCL08").reason
    form.labs["wbc"][0].value = "4,100"
    assert form.result.criterion("EXCL08").status == "pass"


def test_missing_unit_is_an_error_naming_the_field(form):
    """A number without its unit is not judged: the verdict names WBC and asks for the unit."""
    form.labs["wbc"][1].value = ""
    assert form.result is None
    assert "unit is missing" in form.error
    assert "WBC" in form.verdict.value and "Cannot judge" in form.verdict.value
    form.labs["wbc"][1].value = "x10^9/L"
    assert form.result.status == "eligible" and form.error == ""


def test_number_without_unit_says_the_unit_box_is_empty(form):
    """4100 with an empty unit box: the form asks for the unit, never suggests 4100 x10^9/L."""
    form.labs["wbc"][0].value = "4100"
    form.labs["wbc"][1].value = ""
    assert form.result is None
    assert "WBC: the unit box is empty" in form.verdict.value
    assert "4100 x10^9/L" not in form.verdict.value
    form.labs["wbc"][0].value = "four"
    assert "unit box is empty" not in form.verdict.value and "&#x27;four&#x27;" in (
        form.verdict.value
    )


def test_empty_lab_is_missing_not_a_pass(form):
    """An empty WBC box makes EXCL08 missing and the screening incomplete."""
    form.labs["wbc"][0].value = ""
    assert form.result.criterion("EXCL08").status == "missing"
    assert form.result.status == "incomplete"
    assert "Incomplete" in form.verdict.value


def test_ecog_two_fails_performance_status(form):
    """ECOG 2 fails INCL04 (0-1 required)."""
    form.fields["ecog"].value = 2
    assert form.result.criterion("INCL04").status == "fail"
    form.fields["ecog"].value = 1
    assert form.result.criterion("INCL04").status == "pass"


def test_sites_feed_the_sbrt_criteria(form):
    """A long-bone focus alone is not amenable: INCL03 and EXCL01 fail."""
    for site, size in form.sites:
        site.value, size.value = "", ""
    form.sites[0][0].value = "long_bone"
    form.sites[0][1].value = "3 cm"
    assert form.result.criterion("EXCL01").status == "fail"
    assert form.result.criterion("INCL03").status == "fail"


def test_form_record_is_what_the_engine_judges(form):
    """The verdict shown is exactly screen(record) of the controls' values."""
    form.labs["hgb"][0].value = "8.5"
    form.fields["active_infection"].value = "Y"
    record = form.record()
    assert record["hgb"] == "8.5 g/dL" and record["active_infection"] == "Y"
    direct = screen(record)
    assert direct.status == form.result.status == "ineligible"
    assert set(direct.failed) == set(form.result.failed) == {"EXCL04", "EXCL09"}


def test_form_starts_from_any_candidate():
    """A candidate passed in fills the form (labs split into number and unit)."""
    form = ScreeningForm({**DEMO_CANDIDATE, "wbc": "2,900/µL", "ecog": 1})
    assert form.labs["wbc"][0].value == "2,900/µL"  # one token: the whole text in the number box
    assert form.result.criterion("EXCL08").status == "fail"
    assert form.fields["ecog"].value == 1


# --------------------------------------------------------------------------------------------
# Schedule explorer


@pytest.fixture
def explorer() -> ScheduleExplorer:
    return ScheduleExplorer()


def _fraction_days(explorer: ScheduleExplorer) -> list[str]:
    events = explorer.plan.events
    return list(events[events["event"] == "sbrt_fraction"]["planned_at"].dt.day_name())


def test_patient_21_in_arm_b_gets_two_fractions_wednesday_and_friday(explorer):
    """Arm B, enrolment 21, IL-2 Monday 5 March 2012: SBRT Wed 29 Feb and Fri 2 Mar."""
    assert _fraction_days(explorer) == ["Wednesday", "Friday"]
    assert "2 × 20 Gy on Wed 29 Feb and Fri 02 Mar" in explorer.summary.value
    assert "Friday rule: last SBRT fraction (Friday)" in explorer.calendar.value
    assert "Monday rule: cycle 1 starts (Monday)" in explorer.calendar.value
    assert "Monday rule: cycle 2 starts (Monday)" in explorer.calendar.value


def test_enrolment_20_gets_one_fraction(explorer):
    """Enrolment number 20 is the last with a single fraction, on the Friday."""
    explorer.enrollment_number.value = 20
    assert _fraction_days(explorer) == ["Friday"]
    explorer.enrollment_number.value = 21
    assert _fraction_days(explorer) == ["Wednesday", "Friday"]


def test_arm_a_has_no_sbrt(explorer):
    """Arm A (IL-2 alone): no fraction, no Friday mark, cycles still on Mondays."""
    explorer.arm.value = "A"
    assert _fraction_days(explorer) == []
    assert "No SBRT" in explorer.summary.value
    assert "Friday rule" not in explorer.calendar.value
    assert "Monday rule: cycle 1 starts" in explorer.calendar.value


def test_start_that_is_not_a_monday_is_refused(explorer):
    """A Tuesday start is refused by the engine, which names the nearest Mondays."""
    explorer.il2_start.value = dt.date(2012, 3, 6)
    assert explorer.plan is None
    assert "Tuesday" in explorer.error and "2012-03-05 and 2012-03-12" in explorer.error
    assert "Monday" in explorer.summary.value and explorer.calendar.value == ""
    explorer.il2_start.value = dt.date(2012, 3, 12)
    assert explorer.plan.il2_start == pd.Timestamp("2012-03-12 08:00")


def test_cycle_two_window_is_shaded(explorer):
    """Cycle 2 planned Mon 19 March may slip to Mon 26 March: the days between are shaded."""
    cycles = explorer.plan.cycles().set_index("cycle")
    assert cycles.loc[2, "planned_start"] == pd.Timestamp("2012-03-19 08:00")
    assert cycles.loc[2, "latest_start"] == pd.Timestamp("2012-03-26 08:00")
    assert "cycle 2 may still start (latest Mon 26 Mar)" in explorer.calendar.value


def test_dose_and_vials_follow_the_weight(explorer):
    """72 kg: 43.2 MIU in 2 vials of 22 MIU; 176 lb (79.8 kg): 47.9 MIU in 3 vials."""
    explorer.weight.value = "72 kg"
    assert explorer.plan.dose.vials == 2
    assert "43.2 MIU" in explorer.summary.value and "2 vials" in explorer.summary.value
    explorer.weight.value = "176 lb"
    assert explorer.plan.dose.vials == 3
    assert "47.9 MIU" in explorer.summary.value and "3 vials" in explorer.summary.value


def test_weight_without_unit_is_refused(explorer):
    """A weight typed without its unit is not guessed: the engine asks for the unit."""
    explorer.weight.value = "70"
    assert explorer.plan is None and "unit is missing" in explorer.error


def test_events_table_times_only_the_doses(explorer):
    """IL-2 doses show their 8-hourly time; SBRT fractions and scans, dated by the day, do not
    show a misleading 00:00."""
    from studylib.widgets.schedule import events_table

    table = events_table(explorer.plan)
    doses = table["what"].str.startswith("IL-2")
    assert table.loc[doses, "planned"].str.fullmatch(r"\w{3} \d\d \w{3} \d{4} \d\d:\d\d").all()
    assert not table.loc[~doses, "planned"].str.contains(":").any()
    assert table.loc[~doses & table["what"].str.startswith("SBRT"), "planned"].tolist() == [
        "Wed 29 Feb 2012",
        "Fri 02 Mar 2012",
    ]


def test_quiet_weeks_are_folded(explorer):
    """Weeks with nothing planned between cycle 2 and the scans fold into one line."""
    assert "with no treatment and no scan" in explorer.calendar.value
    assert "Scan week 21" in explorer.calendar.value


# --------------------------------------------------------------------------------------------
# RECIST calculator


@pytest.fixture
def calculator() -> RecistCalculator:
    return RecistCalculator()


def _one_lesion(*diameters) -> RecistCalculator:
    return RecistCalculator(
        targets=(TargetLesion("T1", "liver", False, diameters),), nontarget=None
    )


def test_demo_patient_responds(calculator):
    """The demo patient is PR at every scan, and the summary says so."""
    assert list(calculator.result["overall_response"]) == ["PR", "PR", "PR"]
    assert "week 21" in calculator.summary.value and "PR" in calculator.summary.value


def test_follow_up_diameter_makes_progression(calculator):
    """Lesion T1 back to 30 mm at week 21: +13 mm, +30% over the nadir 43 mm -> PD."""
    calculator.diameters[("T1", "week 21")].value = "30"
    row = calculator.result.set_index("visit").loc["week 21"]
    assert row["sum_mm"] == 56 and row["nadir_sum_mm"] == 43
    assert row["overall_response"] == "PD"
    assert "PD" in calculator.summary.value
    table = calculator.response_table().set_index("timepoint")
    assert table.loc["week 21", "overall"] == "PD"
    assert table.loc["week 21", "vs nadir"] == "+13.0 mm (+30.2%)"


def test_exactly_minus_thirty_percent_is_partial_response():
    """50 -> 35 mm is exactly -30% from baseline: PR; 36 mm is SD."""
    calc = _one_lesion(50, 35, None, None)
    assert calc.result.set_index("visit").loc["week 7", "overall_response"] == "PR"
    calc.diameters[("T1", "week 7")].value = "36"
    assert calc.result.set_index("visit").loc["week 7", "overall_response"] == "SD"


def test_twenty_percent_needs_five_millimetres():
    """Nadir 20 mm: 24 mm (+20%, +4 mm) is SD under RECIST 1.1, 25 mm (+5 mm) is PD."""
    calc = _one_lesion(25, 20, 24, None)
    assert calc.result.set_index("visit").loc["week 14", "overall_response"] == "SD"
    calc.diameters[("T1", "week 14")].value = "25"
    assert calc.result.set_index("visit").loc["week 14", "overall_response"] == "PD"


def test_ruleset_choice_is_passed_to_the_engine():
    """RECIST 1.0 has no 5 mm minimum: 20 -> 24 mm is PD there, SD under RECIST 1.1."""
    calc = _one_lesion(25, 20, 24, None)
    calc.ruleset.value = "recist1.0"
    assert calc.result.set_index("visit").loc["week 14", "overall_response"] == "PD"
    assert "recist1.0" in calc.ruleset.options


def test_unequivocal_new_lesion_is_progression(calculator):
    """An unequivocal new lesion at week 14 makes that scan PD; an equivocal one does not."""
    calculator.new_lesion["week 14"].value = "equivocal"
    assert calculator.result.set_index("visit").loc["week 14", "overall_response"] == "PR"
    calculator.new_lesion["week 14"].value = "unequivocal"
    assert calculator.result.set_index("visit").loc["week 14", "overall_response"] == "PD"


def test_non_target_progression_is_progression(calculator):
    """Unequivocal progression of the non-target lesion at week 7 makes week 7 PD."""
    calculator.nontarget_state["week 7"].value = "unequivocal_progression"
    assert calculator.result.set_index("visit").loc["week 7", "overall_response"] == "PD"


def test_empty_diameter_is_not_evaluated(calculator):
    """An empty box is a lesion not evaluated: that scan is NE, not a smaller sum."""
    calculator.diameters[("T2", "week 14")].value = ""
    assert calculator.result.set_index("visit").loc["week 14", "target_response"] == "NE"


def test_unreadable_diameter_is_reported(calculator):
    """Text that is not a number is reported by the engine, and nothing is judged."""
    calculator.diameters[("T1", "week 7")].value = "2O"
    assert calculator.result is None
    assert "'2O'" in calculator.error and "number of mm" in calculator.error
    assert "Check the diameters" in calculator.summary.value
    calculator.diameters[("T1", "week 7")].value = "20"
    assert calculator.result is not None


def test_chart_is_a_png(calculator):
    """The chart of the sums with the PR and PD lines is a PNG image."""
    assert calculator.chart.value[:8] == b"\x89PNG\r\n\x1a\n"


def _chart_lines(calculator: RecistCalculator) -> dict[str, list[float]]:
    """The y values of the chart's threshold lines, by legend label."""
    from studylib.recist.rulesets import thresholds
    from studylib.widgets.recist import response_chart

    fig = response_chart(calculator.result, thresholds(calculator.ruleset.value))
    ax = fig.axes[0]
    lines = {line.get_label(): list(line.get_ydata()) for line in ax.get_lines()}
    for bars in ax.collections:  # hlines: one segment per follow-up
        lines[bars.get_label()] = [segment[0][1] for segment in bars.get_segments()]
    return lines


def test_chart_draws_minus_30_percent_and_plus_20_percent_and_5_mm_lines(calculator):
    """Baseline 70 mm: PR line at 49 mm; each follow-up's PD bars at nadir x 1.2 and nadir +
    5 mm (nadirs 70, 48, 43 mm)."""
    lines = _chart_lines(calculator)
    assert lines["PR: -30% from baseline"] == pytest.approx([49.0, 49.0])
    assert lines["PD: +20% over nadir"] == pytest.approx([84.0, 57.6, 51.6])
    assert lines["PD also: nadir + 5 mm"] == pytest.approx([75.0, 53.0, 48.0])
    assert lines["sum of diameters"] == pytest.approx([70.0, 48.0, 43.0, 45.0])


def test_chart_has_no_millimetre_line_under_recist_1_0(calculator):
    """RECIST 1.0 has no 5 mm minimum: only the percentage bar is drawn."""
    calculator.ruleset.value = "recist1.0"
    lines = _chart_lines(calculator)
    assert not any(label.startswith("PD also") for label in lines)
    assert lines["PD: +20% over nadir"] == pytest.approx([84.0, 57.6, 51.6])


def test_unreadable_diameter_names_its_box(calculator):
    """The message names the lesion and the scan of each box the engine could not read."""
    calculator.diameters[("T2", "week 7")].value = "abc"
    assert "T2 liver at week 7: &#x27;abc&#x27; is not a diameter: expected a number of mm" in (
        calculator.summary.value
    )
    calculator.diameters[("T2", "week 7")].value = "-3"
    assert "T2 liver at week 7: -3.0: a diameter cannot be negative" in calculator.summary.value


# --------------------------------------------------------------------------------------------
# Self-check questions


def test_answers_are_hidden_until_asked():
    """An answer is not on the page until its button is clicked; a second click hides it."""
    panel = SelfCheck([Question("Q?", "the answer", "the rule", "the source")])
    assert panel.answers[0].value == "" and not panel.revealed(0)
    panel.buttons[0].click()
    assert "the answer" in panel.answers[0].value and "the rule" in panel.answers[0].value
    assert panel.buttons[0].description == "Hide answer"
    panel.buttons[0].click()
    assert panel.answers[0].value == ""


def test_reading_is_shown_apart_from_the_quote():
    """The study's reading follows the closed quotation, so it is never taken for the
    registry's words; a question resting on a reading alone shows no empty quote."""
    panel = SelfCheck(
        [
            Question("Q1?", "A1", "the registry's words", "src", reading="our reading"),
            Question("Q2?", "A2", "", "src2", reading="a reading alone"),
        ]
    )
    panel.buttons[0].click()
    panel.buttons[1].click()
    first, second = panel.answers[0].value, panel.answers[1].value
    assert "“the registry&#x27;s words”" in first
    assert "<b>How the study reads it:</b> our reading" in first
    assert first.index("”") < first.index("our reading")
    assert "Rule:" not in second and "a reading alone <i>(src2)</i>" in second


def test_threshold_question_quotes_the_criterion_and_gives_the_reading_apart():
    """WBC exactly at the limit: the rule is EXCL08's quote alone; how "<" is read is the
    reading."""
    question = screening_questions()[1]
    assert question.rule == PROTOCOL.eligibility.criterion("EXCL08").quote
    assert "Reading" not in question.rule
    assert '"< 3.0" fails below 3.0 (3.0 passes)' in question.reading


def test_self_check_table_for_static_notebooks():
    """Without a front end the questions are a table with their answers and rules."""
    panel = SelfCheck(design_questions())
    table = panel.table()
    assert list(table.columns) == ["question", "answer", "rule", "source", "reading"]
    assert len(table) == len(design_questions())


def test_design_answers_come_from_the_protocol():
    """The fractions question answers 1 fraction for patient 20 and 2 for patient 21."""
    question = design_questions()[0]
    assert "patient 20: 1 fraction of 20 Gy (Friday)" in question.answer
    assert "patient 21: 2 fractions of 20 Gy (Wednesday and Friday)" in question.answer
    assert "Patients 1 - 20 will receive a single fraction" in question.rule


def test_screening_answers_come_from_the_engine():
    """WBC 2,900/µL fails, exactly 3.0 passes, 180 µmol/L creatinine fails, ECOG 2 fails,
    a test four days early asks for review."""
    statuses = [q.answer.split(". ")[0].split(": ")[-1] for q in screening_questions()]
    assert statuses == ["fail", "pass", "fail", "fail", "review"]
    assert all(q.rule and q.source for q in screening_questions())


def test_schedule_answers_come_from_the_engines():
    """SBRT on Wednesday and Friday, cycle 2 on 19 March until 26 March, 3 vials for 176 lb,
    a Tuesday start refused."""
    fractions, cycle2, dose, tuesday = (q.answer for q in schedule_questions())
    assert fractions.startswith("Wednesday 29 February and Friday 02 March")
    assert "Monday 19 March" in cycle2 and "Monday 26 March" in cycle2
    assert "3 vials of 22 MIU" in dose
    assert dose.startswith("47,899,000 IU = 47.9 MIU")  # as the preparation table rounds it
    assert tuesday.startswith("Not allowed.") and "nearest Mondays" in tuesday


def test_response_answers_come_from_the_engine():
    """-30% is PR, +20%/+4 mm is SD, +5 mm is PD, an equivocal new lesion is not PD."""
    answers = [q.answer.split(".")[0] for q in response_questions()]
    assert answers == ["PR", "SD", "PD", "PR"]


# --------------------------------------------------------------------------------------------
# The rules in words (the tour's numbers come from here, not from the notebook)


def test_design_rules_give_fractions_by_enrolment_number():
    """The design bullets give 1 fraction for patients 1-20 and 2 from 21 onwards."""
    from studylib.widgets.lessons import design_rules

    text = design_rules()
    assert "enrollment 1-20: 1 fraction on the Friday before the Monday IL-2 start" in text
    assert "enrollment 21 on: 2 fractions on the Wednesday and Friday" in text


def test_screening_rules_give_the_laboratory_limits():
    """The screening bullets give the WBC, haemoglobin and transaminase limits."""
    from studylib.widgets.lessons import screening_rules

    text = screening_rules()
    assert "WBC below 3 x10^9/L" in text and "haemoglobin below 9 g/dL" in text
    assert "3 x the upper limit of normal" in text and "72 hours" in text


def test_response_rules_follow_the_ruleset():
    """RECIST 1.1 needs +20% and 5 mm over the nadir; RECIST 1.0 has no millimetre minimum."""
    from studylib.widgets.lessons import response_rules

    assert "20% above the smallest sum so far (the nadir) and at least 5 mm above it" in (
        response_rules("recist1.1")
    )
    assert "mm above it" not in response_rules("recist1.0")
    assert "30% below the baseline sum" in response_rules()


@pytest.mark.parametrize(("written", "mm"), [("18 mm", 18.0), ("1.8 cm", 18.0), (" 18 ", 18.0)])
def test_a_diameter_may_carry_its_unit(calculator, written, mm):
    """'18 mm' and '1.8 cm' are 18 mm, as a radiologist writes them."""
    calculator.diameters[("T1", "week 7")].value = written
    assert calculator.error == ""
    row = calculator.frames()[1].set_index(["lesion_id", "visit"]).loc[("T1", "week 7")]
    assert float(row["diameter_mm"]) == mm


def test_baseline_findings_are_notebook_03s(calculator):
    """A 5 mm target and an 8 mm node give the same findings as the response notebook."""
    from studylib.recist.lesions import baseline_problems

    calculator.diameters[("T1", "baseline")].value = "5"
    calculator.diameters[("T3", "baseline")].value = "8 mm"
    found = calculator.findings_table()
    assert found[["lesion", "check"]].values.tolist() == [
        ["T1", "target_too_small"],
        ["T3", "target_node_not_measurable"],
    ]
    lesions, assessments = calculator.frames()
    engine = baseline_problems(lesions, assessments, ruleset=calculator.ruleset.value)
    assert found["message"].tolist() == engine["message"].tolist()
    assert "Baseline checks" in calculator.findings.value and "5.0 mm" in calculator.findings.value


def test_an_error_hides_the_chart_instead_of_a_broken_image(calculator):
    """Under an error there is no empty image; the chart comes back once the box is fixed."""
    calculator.diameters[("T1", "week 7")].value = "18 kg"
    assert calculator.chart.layout.display == "none"
    assert "'18 kg' is not a diameter" in calculator.error
    assert not any(type(o).__name__ == "Image" for o in calculator.static())
    calculator.diameters[("T1", "week 7")].value = "18"
    assert calculator.chart.layout.display is None and calculator.result is not None


@pytest.mark.parametrize("which", ["bundled", "variant"])
def test_the_ruleset_exercise_changes_the_answer_on_the_calculator(which, variant_protocol):
    """The exercise's example, typed into the calculator, gives the response the exercise
    says under each ruleset: switching the ruleset changes it."""
    import re

    from studylib.protocol import PROTOCOL
    from studylib.widgets.lessons import SMALL_NADIR_MM, SMALL_RISE_MM, response_exercises

    protocol = PROTOCOL if which == "bundled" else variant_protocol
    text = response_exercises(protocol)
    match = re.search(
        r"switch the ruleset to `([^`]+)`: (.+?) turns \*\*(\S+)\*\* instead of (\S+)", text
    )
    assert match, text
    other, scan, theirs, ours = match.groups()
    calculator = RecistCalculator(protocol=protocol)
    names = [name for name, _ in calculator.points]
    for lesion, low, high in zip(["T1", "T2", "T3"], SMALL_NADIR_MM, SMALL_RISE_MM, strict=True):
        calculator.diameters[(lesion, names[2])].value = str(low)
        calculator.diameters[(lesion, names[-1])].value = str(high)
    assert calculator.result.set_index("visit").loc[scan, "overall_response"] == ours
    calculator.ruleset.value = other
    assert calculator.result.set_index("visit").loc[scan, "overall_response"] == theirs != ours
