"""The RECIST calculator: type lesion diameters, watch the sum and the response change.

The panel builds the two frames of ``lesions.csv`` and ``assessments.csv`` for one teaching
patient from its boxes and hands them to :func:`studylib.recist.timepoint.timepoint_responses`;
every sum, change, nadir and response on it is the engine's, under the protocol the panel is
given (the tour passes the cohort's; ``None``: the bundled one). The chart draws the ruleset's
lines (from the protocol file): the partial-response line below the baseline sum and the two
progression lines above the nadir (+20% and +5 mm under RECIST 1.1), so a learner sees why a
rise of 20% from a small nadir is not yet progression. The baseline is checked as notebook
03 checks it (:func:`studylib.recist.lesions.baseline_problems`): a target below the
measurable size, a node too small to be a target, too many targets.

The **iRECIST** switch (shown when the protocol has ``[response.irecist]``) asks the engine
for iRECIST instead (``ruleset="irecist"``, Seymour et al. 2017): the first progression is
unconfirmed (iUPD) until a later scan confirms it (iCPD) or shows a response again
(pseudo-progression); the table puts the RECIST 1.1 response beside it, with the rule of each
scan.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

import ipywidgets as widgets
import pandas as pd
from matplotlib.figure import Figure

from studylib.errors import DataError
from studylib.protocol import Protocol, resolve_protocol
from studylib.recist.irecist import IRECIST
from studylib.recist.lesions import STATES, baseline_problems
from studylib.recist.rulesets import Thresholds, thresholds
from studylib.recist.timepoint import timepoint_responses
from studylib.units import parse_quantity
from studylib.widgets.style import badge, figure_png, message_html, table_html

__all__ = [
    "read_diameter",
    "TargetLesion",
    "DEMO_TARGETS",
    "DEMO_NONTARGET",
    "demo_patient",
    "RecistCalculator",
    "response_chart",
    "teaching_frames",
    "timepoints",
]

#: The teaching patient's id in the frames the panel builds.
PATIENT = "DEMO"
#: Date of the baseline scan of the teaching patient; follow-ups fall on the protocol's weeks.
BASELINE_DATE = pd.Timestamp("2012-01-02")
_NO_NEW = "none"
_NOT_EVALUATED = "not evaluated"


@dataclass(frozen=True)
class TargetLesion:
    """A target lesion of the teaching patient and its diameters (mm) at each timepoint.

    A diameter is a number, the text typed in a box, or ``None`` (not evaluated).
    """

    lesion_id: str
    site: str
    nodal: bool
    diameters_mm: tuple[float | str | None, ...]

    @property
    def label(self) -> str:
        axis = " (short axis)" if self.nodal else ""
        return f"{self.lesion_id} {self.site.replace('_', ' ')}{axis}"


#: A responding patient: partial response at every scan (baseline, then the protocol's weeks).
DEMO_TARGETS: tuple[TargetLesion, ...] = (
    TargetLesion("T1", "lung", False, (30, 20, 18, 19)),
    TargetLesion("T2", "liver", False, (24, 16, 14, 15)),
    TargetLesion("T3", "lymph_node", True, (16, 12, 11, 11)),
)
#: The teaching patient's non-target lesion, present at every scan.
DEMO_NONTARGET = ("NT1", "bone", ("present", "present", "present", "present"))


def timepoints(protocol: Protocol | None = None) -> list[tuple[str, pd.Timestamp]]:
    """Baseline and the protocol's scan weeks (``[assessments]``), named, with their dates."""
    return [("baseline", BASELINE_DATE)] + [
        (t.name, BASELINE_DATE + pd.Timedelta(weeks=t.week))
        for t in resolve_protocol(protocol).assessments.timepoints
    ]


def _fitted(values: tuple, count: int) -> tuple:
    return tuple(values[:count]) + (values[-1],) * max(0, count - len(values))


def demo_patient(
    protocol: Protocol | None = None,
) -> tuple[tuple[TargetLesion, ...], tuple[str, str, tuple[str, ...]]]:
    """The teaching patient (:data:`DEMO_TARGETS`, :data:`DEMO_NONTARGET`) for a protocol's
    scans: one value per timepoint of :func:`timepoints`; a protocol with more scans repeats
    the last follow-up (the patient stays in response), one with fewer drops the later ones.
    """
    count = len(timepoints(protocol))
    targets = tuple(
        TargetLesion(t.lesion_id, t.site, t.nodal, _fitted(t.diameters_mm, count))
        for t in DEMO_TARGETS
    )
    lesion_id, site, states = DEMO_NONTARGET
    return targets, (lesion_id, site, _fitted(states, count))


_PLAIN_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)")


def read_diameter(text: str) -> float | None:
    """A box's diameter in mm: ``""`` (not evaluated), ``"18"``, ``"18 mm"`` or ``"1.8 cm"``.

    Raises
    ------
    ValueError
        Quoting the text when it is neither a number of mm nor a length with its unit.
    """
    text = text.strip()
    if not text:
        return None
    if _PLAIN_NUMBER.fullmatch(text):
        return float(text)
    try:
        return float(parse_quantity(text, "[length]").to("mm").magnitude)
    except ValueError:
        raise ValueError(
            f"{text!r} is not a diameter: expected a number of mm such as 18, or a length with"
            " its unit such as '18 mm' or '1.8 cm'"
        ) from None


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _fmt(value: float, signed: bool = False, unit: str = "") -> str:
    if pd.isna(value):
        return ""
    return f"{value:{'+' if signed else ''}.1f}{unit}"


def teaching_frames(
    targets: Sequence[TargetLesion],
    nontarget: tuple[str, str, tuple[str, ...]] | None = None,
    new_lesions: dict[str, str] | None = None,
    *,
    protocol: Protocol | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Frames in the shape of ``lesions.csv`` and ``assessments.csv`` for a teaching patient.

    Parameters
    ----------
    targets
        Target lesions, one diameter per timepoint of :func:`timepoints` (a number, a text
        typed in a box, or ``None``/empty for not evaluated). Text is passed on unread, so
        the engine reports what it cannot read.
    nontarget
        ``(lesion_id, site, states)``: one state per timepoint (empty: not evaluated).
    new_lesions
        ``{timepoint: "equivocal" | "unequivocal"}`` for the follow-ups where one is seen.
    protocol
        Whose scan weeks the timepoints are (default: the bundled protocol).

    Returns
    -------
    tuple of DataFrame
        ``(lesions, assessments)`` for :func:`studylib.recist.timepoint.timepoint_responses`.
    """
    points = timepoints(protocol)
    new_lesions = new_lesions or {}
    lesions = [(t.lesion_id, "target", t.site, t.nodal) for t in targets]
    rows = []
    for i, (name, date) in enumerate(points):
        for lesion in targets:
            value = lesion.diameters_mm[i]
            text = "" if value is None else (value if isinstance(value, str) else f"{value:g}")
            rows.append((lesion.lesion_id, date, text.strip(), "", name))
        if nontarget is not None:
            rows.append((nontarget[0], date, "", nontarget[2][i], name))
        if name in new_lesions:
            rows.append(("NEW1", date, "", new_lesions[name], name))
    if nontarget is not None:
        lesions.append((nontarget[0], "non_target", nontarget[1], False))
    if new_lesions:
        lesions.append(("NEW1", "new", "unknown", False))
    lesion_frame = pd.DataFrame(lesions, columns=["lesion_id", "role", "site", "nodal"])
    lesion_frame.insert(0, "patient_id", PATIENT)
    lesion_frame["nodal"] = lesion_frame["nodal"].map({True: "Y", False: "N"})
    lesion_frame["irradiated"] = "N"
    assessments = pd.DataFrame(rows, columns=["lesion_id", "date", "diameter_mm", "state", "visit"])
    assessments.insert(0, "patient_id", PATIENT)
    assessments["method"] = "CT"
    return lesion_frame, assessments


def _check_counts(
    targets: tuple[TargetLesion, ...],
    nontarget: tuple[str, str, tuple[str, ...]] | None,
    names: list[str],
) -> None:
    """Every lesion has one value per timepoint; a ValueError names those that do not."""
    wrong = [t.lesion_id for t in targets if len(t.diameters_mm) != len(names)]
    if nontarget is not None and len(nontarget[2]) != len(names):
        wrong.append(nontarget[0])
    if wrong:
        raise ValueError(
            f"lesions {', '.join(wrong)}: expected one value per timepoint "
            f"({len(names)}: {', '.join(names)})"
        )


class RecistCalculator(widgets.VBox):
    """Diameters at baseline and follow-ups in, the engine's response at each timepoint out.

    Parameters
    ----------
    targets
        Target lesions with one diameter (mm, or ``None`` for not evaluated) per timepoint of
        :func:`timepoints` (default: the teaching patient, :func:`demo_patient`).
    nontarget
        ``(lesion_id, site, states)`` of one non-target lesion, or ``None`` for none
        (default: the teaching patient's).
    ruleset
        The ruleset to start with (default: the protocol's, ``[response].default_ruleset``).
    irecist
        Start with iRECIST switched on.
    protocol
        The :class:`~studylib.protocol.Protocol` whose scans, rulesets and thresholds the
        panel uses (default: the bundled one).

    Attributes
    ----------
    diameters
        ``{(lesion_id, timepoint): Text}``; an empty box is a lesion not evaluated.
    nontarget_state
        ``{timepoint: Dropdown}`` for the non-target lesion.
    new_lesion
        ``{timepoint: Dropdown}`` (follow-ups only): none, equivocal or unequivocal.
    ruleset
        Dropdown of the rulesets of the protocol.
    irecist
        Checkbox: iRECIST instead of the ruleset (on its base ruleset, ``[response.irecist]``);
        hidden and off when the protocol has no ``[response.irecist]``.
    result
        The engine's frame (one row per follow-up), or ``None`` when the input is invalid.
    baseline_findings
        What the baseline checks found (:func:`studylib.recist.lesions.baseline_problems`).
    error
        The engine's message for invalid input, else empty.
    """

    def __init__(
        self,
        targets: tuple[TargetLesion, ...] = DEMO_TARGETS,
        nontarget: tuple[str, str, tuple[str, ...]] | None = DEMO_NONTARGET,
        ruleset: str | None = None,
        protocol: Protocol | None = None,
        irecist: bool = False,
    ) -> None:
        self.protocol = resolve_protocol(protocol)
        demo_targets, demo_nontarget = demo_patient(self.protocol)
        self.targets = demo_targets if targets is DEMO_TARGETS else tuple(targets)
        self.nontarget_lesion = demo_nontarget if nontarget is DEMO_NONTARGET else nontarget
        self.points = timepoints(self.protocol)
        names = [name for name, _ in self.points]
        _check_counts(self.targets, self.nontarget_lesion, names)
        self.result: pd.DataFrame | None = None
        self.baseline_findings: pd.DataFrame | None = None
        self.error = ""

        box = widgets.Layout(width="88px")
        label_width = widgets.Layout(width="250px")
        header = widgets.HBox(
            [widgets.HTML("<b>Lesion: diameter in mm</b>", layout=label_width)]
            + [widgets.HTML(f"<b>{html.escape(n)}</b>", layout=box) for n in names]
        )
        rows: list[widgets.Widget] = [header]
        self.diameters: dict[tuple[str, str], widgets.Text] = {}
        for lesion in self.targets:
            cells = []
            for name, value in zip(names, lesion.diameters_mm, strict=True):
                cell = widgets.Text(value="" if value is None else f"{value:g}", layout=box)
                cell.add_class(f"studylib-d-{_slug(lesion.lesion_id)}-{_slug(name)}")
                self.diameters[(lesion.lesion_id, name)] = cell
                cells.append(cell)
            rows.append(
                widgets.HBox([widgets.Label(f"Target {lesion.label}", layout=label_width)] + cells)
            )

        self.nontarget_state: dict[str, widgets.Dropdown] = {}
        if self.nontarget_lesion is not None:
            lesion_id, site, states = self.nontarget_lesion
            options = [*STATES["non_target"], _NOT_EVALUATED]
            for name, state in zip(names, states, strict=True):
                self.nontarget_state[name] = widgets.Dropdown(
                    options=options, value=state or _NOT_EVALUATED, layout=box
                )
            rows.append(
                widgets.HBox(
                    [widgets.Label(f"Non-target {lesion_id} {site}", layout=label_width)]
                    + list(self.nontarget_state.values())
                )
            )

        self.new_lesion: dict[str, widgets.Dropdown] = {
            name: widgets.Dropdown(options=[_NO_NEW, *STATES["new"]], value=_NO_NEW, layout=box)
            for name in names[1:]
        }
        rows.append(
            widgets.HBox(
                [widgets.Label("New lesion", layout=label_width), widgets.HTML("", layout=box)]
                + list(self.new_lesion.values())
            )
        )
        self.ruleset = widgets.Dropdown(
            options=sorted(self.protocol.response.rulesets),
            value=ruleset or self.protocol.response.default_ruleset,
            description="Ruleset",
        )
        has_irecist = self.protocol.response.irecist is not None
        self.irecist = widgets.Checkbox(
            value=irecist and has_irecist,
            description="iRECIST (confirm progression at the next scan)",
            indent=False,
            layout=widgets.Layout(display=None if has_irecist else "none"),
        )
        self.summary = widgets.HTML()
        self.summary.add_class("studylib-recist-summary")
        self.findings = widgets.HTML()
        self.findings.add_class("studylib-recist-findings")
        self.table = widgets.HTML()
        self.table.add_class("studylib-recist-table")
        self.chart = widgets.Image(format="png", layout=widgets.Layout(max_width="720px"))

        controls = [*self.diameters.values(), *self.nontarget_state.values()]
        controls += [*self.new_lesion.values(), self.ruleset, self.irecist]
        for control in controls:
            control.observe(self._update, names="value")
        choice = widgets.HBox([self.ruleset, self.irecist])
        super().__init__(
            [widgets.VBox(rows), choice, self.findings, self.summary, self.table, self.chart]
        )
        self.add_class("studylib-recist")
        self._update()

    # -- frames for the engine ---------------------------------------------------------------

    def frames(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        """The lesion and assessment frames the boxes describe (``lesions.csv`` shape).

        Raises
        ------
        ValueError
            Naming each box whose text is not a diameter (:func:`read_diameter`).
        """
        names = [name for name, _ in self.points]
        read: dict[tuple[str, str], float | None] = {}
        unread = []
        for t in self.targets:
            for n in names:
                try:
                    read[(t.lesion_id, n)] = read_diameter(self.diameters[(t.lesion_id, n)].value)
                except ValueError as error:
                    unread.append(f"Target {t.label} at {n}: {error}")
        if unread:
            raise ValueError("\n".join(unread))
        targets = [
            TargetLesion(t.lesion_id, t.site, t.nodal, tuple(read[(t.lesion_id, n)] for n in names))
            for t in self.targets
        ]
        nontarget = None
        if self.nontarget_lesion is not None:
            states = [self.nontarget_state[n].value for n in names]
            nontarget = (
                self.nontarget_lesion[0],
                self.nontarget_lesion[1],
                tuple("" if s == _NOT_EVALUATED else s for s in states),
            )
        new = {n: box.value for n, box in self.new_lesion.items() if box.value != _NO_NEW}
        return teaching_frames(targets, nontarget, new, protocol=self.protocol)

    # -- view --------------------------------------------------------------------------------

    def _update(self, _change=None) -> None:
        # iRECIST stands on its own base ruleset: the dropdown does not apply while it is on.
        self.ruleset.disabled = self.irecist.value
        try:
            lesions, assessments = self.frames()
            result = timepoint_responses(
                lesions, assessments, ruleset=self._model(), protocol=self.protocol
            )
            findings = baseline_problems(
                lesions, assessments, ruleset=self._base_ruleset(), protocol=self.protocol
            )
        except ValueError as error:
            self.result, self.error = None, str(error)
            self.summary.value = message_html("Check the diameters:\n" + self._problems_text(error))
            self.findings.value = self.table.value = ""
            # An image widget without an image shows as a broken picture: hide it instead.
            self.chart.layout.display = "none"
            return
        self.result, self.error = result, ""
        self.baseline_findings = findings
        self.findings.value = self._findings_html()
        # The summary last: when a reader (or the browser test) sees it change, the table and
        # the chart have been sent before it.
        rules = thresholds(self._base_ruleset(), self.protocol)
        self.chart.value = figure_png(response_chart(result, rules))
        self.chart.layout.display = None
        self.table.value = table_html(
            self.response_table(),
            colour_by={"overall": "overall", "targets": "targets"},
            row_class="timepoint",
        )
        self.summary.value = "Response at each scan: " + " · ".join(
            f"{html.escape(v)}: {badge(r)}"
            for v, r in zip(result["visit"], result["overall_response"], strict=True)
        )

    def _model(self) -> str:
        """What the engine is asked for: iRECIST, or the chosen ruleset."""
        return IRECIST if self.irecist.value else self.ruleset.value

    def _base_ruleset(self) -> str:
        """The ruleset whose thresholds the chart draws (iRECIST's base when it is on)."""
        if self.irecist.value:
            return self.protocol.response.irecist.base_ruleset
        return self.ruleset.value

    def findings_table(self) -> pd.DataFrame:
        """The baseline checks' findings (notebook 03's), one row per finding."""
        found = self.baseline_findings
        if found is None or self.result is None:
            return pd.DataFrame(columns=["lesion", "check", "severity", "message"])
        shown = found[["lesion_id", "check", "severity", "message"]].fillna("-")
        return shown.rename(columns={"lesion_id": "lesion"}).reset_index(drop=True)

    def _findings_html(self) -> str:
        table = self.findings_table()
        if table.empty:
            return ""
        return "<b>Baseline checks</b> (as notebook 03 reports them)" + table_html(
            table, css_class="studylib-table studylib-recist-findings-table"
        )

    def _boxes_holding(self, value: object) -> list[str]:
        """The boxes (lesion and timepoint) whose text the engine reported as ``value``."""

        def same(text: str) -> bool:
            if text == str(value).strip():
                return True
            try:  # the engine may report the number it read ("-3" as -3.0)
                return float(text) == float(value)
            except (TypeError, ValueError):
                return False

        labels = {t.lesion_id: t.label for t in self.targets}
        return [
            f"{labels[lesion]} at {name}"
            for (lesion, name), box in self.diameters.items()
            if box.value.strip() and same(box.value.strip())
        ]

    def _problems_text(self, error: ValueError) -> str:
        """The engine's message for each bad value, naming the box it was typed in."""
        if not isinstance(error, DataError):
            return str(error)
        lines = []
        for problem in error.problems:
            boxes = self._boxes_holding(problem.value) if problem.value is not None else []
            where = ", ".join(boxes) if boxes else str(problem.column or problem.file)
            shown = [] if problem.value is None else [repr(problem.value)]
            lines.append(": ".join([where, *shown, problem.expected]))
        return "\n".join(lines)

    def static(self) -> list[object]:
        """The summary, the table and the chart as static output (no front end needed)."""
        from IPython.display import HTML, Image

        shown: list[object] = [HTML(self.findings.value)] if self.findings.value else []
        shown += [HTML(self.summary.value)]
        if self.result is None:
            return shown
        return shown + [self.response_table(), Image(self.chart.value)]

    def response_table(self) -> pd.DataFrame:
        """The engine's result, one row per scan (baseline first), in words and millimetres."""
        r = self.result
        if r is None:
            return pd.DataFrame()
        baseline = r["baseline_sum_mm"].iloc[0] if len(r) else float("nan")
        irecist = "rule" in r.columns
        rows = [{"timepoint": "baseline", "sum (mm)": _fmt(baseline)}]
        for _, row in r.iterrows():
            rows.append(
                {
                    "timepoint": row["visit"],
                    "sum (mm)": _fmt(row["sum_mm"]),
                    "vs baseline": f"{_fmt(row['change_baseline_mm'], True, ' mm')} "
                    f"({_fmt(row['pct_change_baseline'], True, '%')})",
                    "nadir before (mm)": _fmt(row["nadir_sum_mm"]),
                    "vs nadir": f"{_fmt(row['change_nadir_mm'], True, ' mm')} "
                    f"({_fmt(row['pct_change_nadir'], True, '%')})",
                    "targets": row["target_response"],
                    "non-target": row["nontarget_response"],
                    "new lesions": row["new_lesions"],
                    "overall": row["overall_response"],
                    **(
                        {"RECIST 1.1": row["recist_response"], "rule": row["rule"]}
                        if irecist
                        else {}
                    ),
                    "why": row["reason"],
                }
            )
        return pd.DataFrame(rows).fillna("")


def response_chart(result: pd.DataFrame, t: Thresholds) -> Figure:
    """The sum of diameters over the scans with the ruleset's PR and PD lines.

    Parameters
    ----------
    result
        What :func:`studylib.recist.timepoint.timepoint_responses` returned for one patient.
    t
        The ruleset's thresholds (:func:`studylib.recist.rulesets.thresholds`): the PR line
        lies ``pr_change_from_baseline_pct`` from the baseline sum; at each follow-up the PD
        bars lie ``pd_change_pct`` and ``pd_min_increase_mm`` above that scan's reference (the
        nadir under RECIST 1.1).
    """
    fig = Figure(figsize=(7.2, 3.6), dpi=90)
    ax = fig.add_subplot()
    baseline = float(result["baseline_sum_mm"].iloc[0]) if len(result) else float("nan")
    names = ["baseline", *result["visit"]]
    x = list(range(len(names)))
    sums = [baseline, *result["sum_mm"]]
    ax.plot(x, sums, marker="o", color="#333333", label="sum of diameters")
    for xi, total, response in zip(x[1:], sums[1:], result["overall_response"], strict=True):
        ax.annotate(response, (xi, total), textcoords="offset points", xytext=(0, 8), ha="center")
    ax.axhline(
        baseline * (1 + t.pr_change_from_baseline_pct / 100),
        color="#1a9850",
        linestyle="--",
        label=f"PR: {t.pr_change_from_baseline_pct:+g}% from baseline",
    )
    reference_name = "baseline" if t.pd_reference == "baseline" else "nadir"
    reference = result["baseline_sum_mm" if t.pd_reference == "baseline" else "nadir_sum_mm"]
    # The progression bar at each scan: the sum must reach both lines (RECIST 1.1 §4.3.1).
    follow_ups = pd.Series(x[1:], dtype=float)
    ax.hlines(
        reference * (1 + t.pd_change_pct / 100),
        follow_ups - 0.3,
        follow_ups + 0.3,
        color="#d73027",
        linestyle="--",
        label=f"PD: {t.pd_change_pct:+g}% over {reference_name}",
    )
    if t.pd_min_increase_mm > 0:
        ax.hlines(
            reference + t.pd_min_increase_mm,
            follow_ups - 0.3,
            follow_ups + 0.3,
            color="#fc8d59",
            linestyle=":",
            label=f"PD also: {reference_name} + {t.pd_min_increase_mm:g} mm",
        )
    ax.set_xticks(x, names)
    ax.set_ylabel("sum of diameters (mm)")
    ax.set_ylim(bottom=0)
    ax.legend(fontsize=8, loc="lower left")
    ax.set_title(f"Ruleset {t.name}", fontsize=9)
    fig.tight_layout()
    return fig
