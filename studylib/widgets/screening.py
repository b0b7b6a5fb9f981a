"""The screening form: change a candidate's values and watch every criterion answer.

The form turns its controls into a screening record (the DESIGN's "Screening record") and
hands it to :func:`studylib.eligibility.screen` under the form's protocol (a trial folder's
``cohort.protocol``; default: the bundled file); the verdict, each criterion's id, label,
status and reason are the engine's, word for word, and the controls are named as the engine
names the fields (laboratory names as in the reasons, the data dictionary's meanings
otherwise). Laboratory values are typed as a number and a unit, in whatever unit the
laboratory reported ("4,100/µL", "80 µmol/L"): the engine converts them. An empty box is a
value not recorded, which makes the screening incomplete, never a pass.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping

import ipywidgets as widgets
import pandas as pd

from studylib.eligibility import ScreeningResult, criterion_name, screen
from studylib.eligibility.values import LAB_FIELDS, PFT_FIELDS, field_meaning
from studylib.errors import DataError
from studylib.protocol import Protocol, resolve_protocol
from studylib.widgets.style import COLOURS, badge, message_html, table_html

__all__ = ["DEMO_CANDIDATE", "LAB_LABELS", "ScreeningForm", "status_word"]

#: A synthetic candidate who meets every criterion: the starting point of the tour.
DEMO_CANDIDATE: dict[str, object] = {
    "patient_id": "DEMO",
    "screening_date": "2012-02-27",
    "birth_date": "1961-07-14",
    "sex": "F",
    "histology_confirmed": "Y",
    "ecog": 0,
    "childbearing_potential": "Y",
    "pregnancy_test": "negative",
    "pregnancy_test_at": "2012-03-04T09:00",
    "planned_start_at": "2012-03-05T08:00",
    "consent_signed": "Y",
    "sbrt_sites": [
        {"site": "lung", "longest_diameter": "2.5 cm"},
        {"site": "liver", "longest_diameter": "3.1 cm"},
    ],
    "brain_mets": "none",
    "prior_rt_to_sbrt_sites": "N",
    "active_infection": "N",
    "pregnant_or_lactating": "N",
    "cardiac_ischemia": "N",
    "pulmonary_disease_significant": "N",
    "pft_dlco_pct": "104",
    "pft_fev1_pct": "102",
    "pft_fev1_fvc_pct": "101",
    "wbc": "4.1 x10^9/L",
    "hgb": "12.8 g/dL",
    "ast": "32 U/L",
    "ast_uln": "40 U/L",
    "alt": "28 U/L",
    "alt_uln": "40 U/L",
    "bilirubin": "0.7 mg/dL",
    "creatinine": "80 µmol/L",
    "chronic_steroids": "N",
}

#: The laboratory fields of the form, named as the criteria's reasons name them.
LAB_LABELS: dict[str, str] = {field: lab.name for field, lab in LAB_FIELDS.items()}

#: A number typed alone (digits, separators): its unit belongs in the box beside it.
_BARE_NUMBER = re.compile(r"[0-9][0-9.,]*")
_YES_NO = [("yes", "Y"), ("no", "N"), ("not recorded", "")]
# The yes/no controls, by tab; each is labelled with the field's meaning in the dictionary.
_PATIENT_FLAGS = ("histology_confirmed", "consent_signed", "childbearing_potential")
_HISTORY_FLAGS = ("active_infection", "cardiac_ischemia", "pulmonary_disease_significant")


def _protocol_fields(protocol: Protocol) -> dict[str, tuple[str, ...]]:
    """Fields only some protocols' criteria read (NCT02306954), each with the names offered:
    the predominant histological subtype (the subtypes the criterion admits) and the yes/no
    agreement each ``agreement`` criterion names (no names: a yes/no control)."""
    fields: dict[str, tuple[str, ...]] = {}
    for criterion in protocol.eligibility.criteria:
        if criterion.rule == "histology_subtype":
            fields["histology_subtype"] = tuple(criterion.options["subtypes"])
        elif criterion.rule == "agreement":
            fields[str(criterion.options["field"])] = ()
    return fields


def _wide() -> dict[str, object]:
    """Style and layout of a labelled control (a fresh layout each: layouts are shared state)."""
    return {"style": {"description_width": "340px"}, "layout": widgets.Layout(width="540px")}


def status_word(status: str) -> str:
    """``needs_review`` -> ``Needs review``: the engine's status as a person reads it."""
    return status.replace("_", " ").capitalize()


def _split_quantity(text: object) -> tuple[str, str]:
    """``"4.1 x10^9/L"`` -> ``("4.1", "x10^9/L")``: the number box and the unit box."""
    value, _, unit = str(text or "").strip().partition(" ")
    return value, unit.strip()


def _date(text: object) -> dt.date | None:
    return dt.date.fromisoformat(str(text)) if text else None


def _datetime(text: object) -> dt.datetime | None:
    return dt.datetime.fromisoformat(str(text)) if text else None


class ScreeningForm(widgets.VBox):
    """A candidate's screening values in, the engine's verdict and reasons out, live.

    Parameters
    ----------
    candidate
        The record to start from (default :data:`DEMO_CANDIDATE`), in the shape of a
        screening record.
    protocol
        The protocol screened under (a trial folder's ``cohort.protocol``); default: the
        bundled file. It sets the criteria, the thresholds, the ECOG scores offered, the SBRT
        site names suggested and how many foci rows the form has.

    Attributes
    ----------
    labs
        ``{field: (value Text, unit Text)}`` for WBC, haemoglobin, AST, ALT, their upper
        limits of normal, bilirubin and creatinine.
    fields
        Every other control by record field (``ecog``, ``birth_date``, ...).
    sites
        ``[(site Combobox, longest diameter Text)]``: the foci considered for SBRT.
    verdict
        The overall verdict line (class ``studylib-verdict``).
    criteria_table
        Every criterion with its status and reason (class ``studylib-criteria``).
    result
        The engine's :class:`~studylib.eligibility.ScreeningResult`, or ``None`` when a value
        cannot be read.
    error
        The engine's message naming the values it cannot read, else empty.
    """

    def __init__(
        self, candidate: Mapping[str, object] | None = None, *, protocol: Protocol | None = None
    ) -> None:
        self.protocol = resolve_protocol(protocol)
        record = dict(DEMO_CANDIDATE if candidate is None else candidate)
        extra = _protocol_fields(self.protocol)
        if candidate is None:
            # The demo candidate meets the protocol's own criteria too: an admitted subtype,
            # every agreement given.
            record.update({k: names[0] if names else "Y" for k, names in extra.items()})
        self.patient_id = str(record.get("patient_id") or "candidate")
        self.result: ScreeningResult | None = None
        self.error = ""

        self.labs: dict[str, tuple[widgets.Text, widgets.Text]] = {}
        lab_rows = [widgets.HTML("<i>Type the number and the unit the laboratory reported.</i>")]
        for field, label in LAB_LABELS.items():
            value, unit = _split_quantity(record.get(field))
            number = widgets.Text(
                value=value,
                description=label,
                style={"description_width": "200px"},
                layout={"width": "300px"},
            )
            unit_box = widgets.Text(value=unit, placeholder="unit", layout={"width": "120px"})
            number.add_class(f"studylib-lab-{field}")
            unit_box.add_class(f"studylib-unit-{field}")
            self.labs[field] = (number, unit_box)
            lab_rows.append(widgets.HBox([number, unit_box]))

        ecog_options = [("not recorded", "")] + [
            (str(n), n) for n in range(self.protocol.plausibility.ecog_max + 1)
        ]
        f = self.fields = {
            "screening_date": widgets.DatePicker(
                value=_date(record.get("screening_date")),
                description=field_meaning("screening_date"),
                **_wide(),
            ),
            "birth_date": widgets.DatePicker(
                value=_date(record.get("birth_date")),
                description=field_meaning("birth_date"),
                **_wide(),
            ),
            "sex": widgets.Dropdown(
                options=[("female", "F"), ("male", "M"), ("not recorded", "")],
                value=record.get("sex") or "",
                description=field_meaning("sex"),
                **_wide(),
            ),
            "ecog": widgets.Dropdown(
                options=ecog_options,
                value=record.get("ecog", ""),
                description=field_meaning("ecog"),
                **_wide(),
            ),
            "pregnancy_test": widgets.Dropdown(
                options=[
                    ("negative", "negative"),
                    ("positive", "positive"),
                    ("not done", "not_done"),
                    ("not recorded", ""),
                ],
                value=record.get("pregnancy_test") or "",
                description=field_meaning("pregnancy_test"),
                **_wide(),
            ),
            "pregnancy_test_at": widgets.NaiveDatetimePicker(
                value=_datetime(record.get("pregnancy_test_at")),
                description=field_meaning("pregnancy_test_at"),
                **_wide(),
            ),
            "planned_start_at": widgets.NaiveDatetimePicker(
                value=_datetime(record.get("planned_start_at")),
                description=field_meaning("planned_start_at"),
                **_wide(),
            ),
            "brain_mets": widgets.Dropdown(
                options=[
                    ("none", "none"),
                    ("yes, candidate for radiosurgery", "radiosurgery_candidate"),
                    ("yes, not a radiosurgery candidate", "not_radiosurgery_candidate"),
                    ("not recorded", ""),
                ],
                value=record.get("brain_mets") or "",
                description=field_meaning("brain_mets"),
                **_wide(),
            ),
        }
        flags = (*_PATIENT_FLAGS, "pregnant_or_lactating", "prior_rt_to_sbrt_sites")
        for field in (*flags, *_HISTORY_FLAGS, "chronic_steroids"):
            f[field] = widgets.Dropdown(
                options=_YES_NO,
                value=record.get(field) or "",
                description=field_meaning(field),
                **_wide(),
            )
        for field in PFT_FIELDS:
            f[field] = widgets.Text(
                value=str(record.get(field) or ""), description=field_meaning(field), **_wide()
            )
        for field, names in extra.items():
            value = str(record.get(field) or "")
            f[field] = (
                widgets.Combobox(options=list(names), ensure_option=False, value=value)
                if names
                else widgets.Dropdown(options=_YES_NO, value=value)
            )
            f[field].description = field_meaning(field)
            f[field].style, f[field].layout = _wide()["style"], _wide()["layout"]
        f["ecog"].add_class("studylib-ecog")

        sbrt = self.protocol.sbrt
        site_names = [*sbrt.amenable_sites, *sbrt.not_amenable_sites]
        foci = list(record.get("sbrt_sites") or [])
        self.sites: list[tuple[widgets.Combobox, widgets.Text]] = []
        site_rows = [
            widgets.HTML(
                "<i>Metastases considered for SBRT: the site (pick one or type another) and "
                "the longest diameter with its unit. Leave a row empty if unused.</i>"
            )
        ]
        for n in range(sbrt.max_treated_sites + 1):
            focus = foci[n] if n < len(foci) else {}
            site = widgets.Combobox(
                value=str(focus.get("site", "")),
                options=site_names,
                ensure_option=False,
                description=f"Focus {n + 1}",
                layout={"width": "300px"},
            )
            size = widgets.Text(
                value=str(focus.get("longest_diameter", "")),
                placeholder="e.g. 2.5 cm",
                layout={"width": "120px"},
            )
            self.sites.append((site, size))
            site_rows.append(widgets.HBox([site, size]))

        tabs = widgets.Tab(
            children=[
                widgets.VBox(lab_rows),
                widgets.VBox(
                    [
                        f[k]
                        for k in (
                            "screening_date",
                            "birth_date",
                            "sex",
                            "ecog",
                            *_PATIENT_FLAGS,
                            *extra,
                            "pregnancy_test",
                            "pregnancy_test_at",
                            "planned_start_at",
                            "pregnant_or_lactating",
                        )
                    ]
                ),
                widgets.VBox(
                    [*site_rows, f["prior_rt_to_sbrt_sites"], f["brain_mets"]],
                ),
                widgets.VBox([f[k] for k in (*_HISTORY_FLAGS, *PFT_FIELDS, "chronic_steroids")]),
            ],
            titles=["Laboratory", "Patient", "Disease and SBRT sites", "History and lungs"],
        )

        self.verdict = widgets.HTML()
        self.verdict.add_class("studylib-verdict")
        self.criteria_table = widgets.HTML()
        self.criteria_table.add_class("studylib-criteria")
        wording = widgets.Accordion(
            children=[widgets.HTML(_registry_wording(self.protocol))],
            titles=["The registry's wording of every criterion"],
            selected_index=None,
        )

        controls = [box for pair in self.labs.values() for box in pair]
        controls += [*f.values(), *(box for pair in self.sites for box in pair)]
        for control in controls:
            control.observe(self._update, names="value")
        super().__init__([tabs, self.verdict, self.criteria_table, wording])
        self.add_class("studylib-screening")
        self._update()

    def record(self) -> dict[str, object]:
        """The screening record the controls describe (empty controls are missing values)."""
        out: dict[str, object] = {"patient_id": self.patient_id}
        for field, (number, unit) in self.labs.items():
            value = number.value.strip()
            out[field] = f"{value} {unit.value.strip()}".strip() if value else None
        for field, control in self.fields.items():
            value = control.value
            if isinstance(value, dt.date | dt.datetime):
                value = value.isoformat()
            out[field] = None if value in ("", None) else value
        out["sbrt_sites"] = [
            {"site": site.value.strip(), "longest_diameter": size.value.strip()}
            for site, size in self.sites
            if site.value.strip() or size.value.strip()
        ]
        return out

    def _update(self, _change=None) -> None:
        try:
            result = screen(self.record(), protocol=self.protocol)
        except ValueError as error:
            self.result, self.error = None, str(error)
            unitless = {
                field
                for field, (number, unit) in self.labs.items()
                if _BARE_NUMBER.fullmatch(number.value.strip()) and not unit.value.strip()
            }
            self.verdict.value = message_html(
                "Cannot judge yet.\n" + _problems_text(error, unitless)
            )
            self.criteria_table.value = ""
            return
        self.result, self.error = result, ""
        # The verdict last: when it changes on the page, the table has been sent before it.
        self.criteria_table.value = table_html(
            self.table(), colour_by={"status": "status"}, row_class="id"
        )
        self.verdict.value = verdict_html(result)

    def static(self) -> list[object]:
        """The verdict and the criteria table as static output (no front end needed)."""
        from IPython.display import HTML

        return [HTML(self.verdict.value), self.table()]

    def table(self) -> pd.DataFrame:
        """Every criterion: id, label, status, reason and what would resolve it."""
        if self.result is None:
            return pd.DataFrame(columns=["id", "label", "status", "reason", "to resolve"])
        frame = self.result.to_frame()
        return frame[["id", "label", "status", "reason", "resolve"]].rename(
            columns={"resolve": "to resolve"}
        )


def _field_label(field: str | None) -> str:
    if field in LAB_LABELS:
        return LAB_LABELS[field]
    return field_meaning(field) if field else "record"


def _problems_text(error: ValueError, unitless: set[str] = frozenset()) -> str:
    """Each value the engine could not read, named as the form names it.

    For a laboratory value whose unit box is empty the form says so plainly: the engine's
    own hint writes the number with the criterion's unit, which is wrong for a count typed
    per µL ("4100" is 4,100/µL, not 4100 x10^9/L).
    """
    if not isinstance(error, DataError):
        return str(error)
    return "\n".join(
        f"{_field_label(p.column)}: the unit box is empty; type the unit the laboratory "
        "reported beside the number"
        if p.column in unitless
        else f"{_field_label(p.column)}: {p.value!r} is not {p.expected}"
        if p.value is not None
        else f"{_field_label(p.column)}: {p.expected}"
        for p in error.problems
    )


def verdict_html(result: ScreeningResult) -> str:
    """The verdict line: the status, the engine's sentence, and each open criterion's reason."""
    word = status_word(result.status)
    items = [
        f"<li>{badge(c.status)} <b>{html.escape(criterion_name(c.id, c.label))}</b>:"
        f" {html.escape(c.reason)}</li>"
        for c in result.criteria
        if c.status in ("fail", "review", "missing")
    ]
    listing = f"<ul style='margin:4px 0'>{''.join(items)}</ul>" if items else ""
    return (
        f'<div class="status-{result.status}" style="border:2px solid #888;padding:6px;'
        f'border-radius:6px;background:{COLOURS[result.status]}">'
        f'<span class="studylib-status" style="font-size:120%;font-weight:bold">{word}</span>'
        f" — {html.escape(result.explanation)}{listing}</div>"
    )


def _registry_wording(protocol: Protocol) -> str:
    """Every criterion of the protocol file with its quote and reading, named as the engine
    names it."""
    items = "".join(
        f"<li><b>{html.escape(criterion_name(c.id, c.label))}</b> ({c.kind}):"
        f" “{html.escape(c.quote)}”"
        + (f"<br><i>Reading: {html.escape(c.reading)}</i>" if c.reading else "")
        + "</li>"
        for c in protocol.eligibility.criteria
    )
    return f"<ol style='list-style:none;padding-left:0'>{items}</ol>"
