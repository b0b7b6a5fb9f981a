"""The one unit registry of the workbook, and parsing of what clinicians write.

Every clinical quantity in studylib is a :class:`pint.Quantity` built from :data:`ureg`.
Laboratories report the same analyte in different units ("2.9 x10^9/L", "2900/µL",
"2.9 K/uL"); :func:`parse_quantity` reads those spellings and :func:`convert` moves between
them, including mass and molar concentrations, which need the analyte's molar mass.

The international unit (IU) of aldesleukin has its own dimension, ``[biological_activity]``,
so that a dose in IU can never be converted to milligrams by accident; the product's
conversion is the explicit :func:`studylib.dosing.iu_to_mg`.

References
----------
ClinicalTrials.gov NCT01416831, exclusion criteria ("WBC < 3.0 x 109/L", "Hgb < 9.0 g/dL").
Proleukin label: 18 million IU = 1.1 mg; 22 million IU per vial.
"""

from __future__ import annotations

import functools
import math
import re
from numbers import Real

import pint

from studylib.errors import quote_value as _quote

__all__ = [
    "ureg",
    "Q_",
    "parse_quantity",
    "parse_quantities",
    "convert",
    "ANALYTES",
    "format_quantity",
    "unit_label",
]

ureg = pint.UnitRegistry(on_redefinition="ignore", cache_folder=":auto:")
# "L" first, so that concentrations print as mg/dL rather than mg/dl.
ureg.define("liter = decimeter ** 3 = L = l = litre")
ureg.define("international_unit = [biological_activity] = IU")
ureg.define("million_international_unit = 1e6 * international_unit = MIU")
# Haematology counts: "10^9/L" cannot be a pint unit (a scaling factor), so it is named.
ureg.define("giga_per_liter = 1e9 / liter = G_per_L")
ureg.define("thousand_per_microliter = 1e3 / microliter = K_per_uL")
ureg.define("cell = 1 = cells")
# Heart rate as wards chart it ("110 bpm", "110 beats/min"): a beat is a count, like a cell.
ureg.define("beat = 1 = beats")
ureg.define("beats_per_minute = beat / minute = bpm")
ureg.formatter.default_format = "~P"
pint.set_application_registry(ureg)
Q_ = ureg.Quantity

#: Molar masses used for mass <-> molar concentration (g/mol).
#: Haemoglobin uses the monomer (one haem), the convention behind 1 g/dL = 0.6206 mmol/L.
ANALYTES: dict[str, str] = {
    "creatinine": "113.12 g/mol",
    "bilirubin": "584.66 g/mol",
    "hemoglobin": "16114.5 g/mol",
}


def _molar_context(name: str, molar_mass: str) -> pint.Context:
    mw = Q_(molar_mass)
    context = pint.Context(name)
    context.add_transformation(
        "[mass] / [length] ** 3", "[substance] / [length] ** 3", lambda _, x: x / mw
    )
    context.add_transformation(
        "[substance] / [length] ** 3", "[mass] / [length] ** 3", lambda _, x: x * mw
    )
    return context


for _name, _mass in ANALYTES.items():
    ureg.add_context(_molar_context(_name, _mass))

_ANALYTE_ALIASES = {"haemoglobin": "hemoglobin", "hgb": "hemoglobin", "hb": "hemoglobin"}

# A count per microlitre, however the volume is written: µL, uL, mcL, mm3, mm³, cumm.
_PER_UL = r"(?:(?:µ|u|mc)l|mm\s*(?:3|³|\^\s*3|\*\*\s*3)|c(?:u)?mm)\b"

# Clinical spellings rewritten into pint syntax, in order.
_REWRITES: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"[μ]"), "µ"),
    # "2.9 x10^9 cells/L", "2900 cells/mm3": a count per volume is a number per volume.
    (re.compile(r"\bcells?\s*/\s*", re.IGNORECASE), "/"),
    # "x10^9/L", "x 10⁹/L", "10^9/L", "10*9/L", "E9/L" -> G_per_L
    (
        re.compile(
            r"(?:[x×*]\s*)?(?:10\s*(?:\^|\*\*?)\s*9|10⁹|10\s*e\s*9|E9)\s*/\s*l\b", re.IGNORECASE
        ),
        " G_per_L",
    ),
    (
        re.compile(
            r"(?:[x×*]\s*)?(?:10\s*(?:\^|\*\*?)\s*3|10³|10\s*e\s*3|E3)\s*/\s*" + _PER_UL,
            re.IGNORECASE,
        ),
        " K_per_uL",
    ),
    # The registry's own "3.0 x 109/L": a superscript lost in typing; SI "G/L" (also "G/l")
    # and the German "Gpt/L" (Gigapartikel). Case matters: "g/L" is grams per litre.
    (re.compile(r"[x×]\s*109\s*/\s*l\b", re.IGNORECASE), " G_per_L"),
    (re.compile(r"\bG(?:pt)?\s*/\s*[lL]\b"), " G_per_L"),
    # "K/uL", "K/mm3", "thou/uL": thousands per microlitre ("k" alone would be Boltzmann's
    # constant and "thou" a thousandth of an inch).
    (re.compile(r"\b(?:K|thou|thousand)\s*/\s*" + _PER_UL, re.IGNORECASE), " K_per_uL"),
    (re.compile(r"/\s*c(?:u)?mm\b", re.IGNORECASE), "/mm**3"),
    (re.compile(r"\b(mm|cm|dm|m)(3)\b"), r"\1**3"),
    (re.compile(r"\b(u|µ|mc)l\b", re.IGNORECASE), "µL"),
    # "mg%" and "mg/100 mL" are old spellings of mg/dL ("mg%" would read as mg x 0.01).
    (re.compile(r"\b(mg|g)\s*(?:%|/\s*100\s*ml\b)", re.IGNORECASE), r"\1/dL"),
    # Lower-case "u/L" is the enzyme unit, not the atomic mass unit "u".
    (re.compile(r"\bu\s*/\s*[lL]\b"), "U/L"),
    (re.compile(r"\b(mg|g|µg|ug|ng|mmol|µmol|umol|mol|U|IU|MIU)\s*/\s*(dl|ml|l)\b"), r"\1/\2"),
    (re.compile(r"/\s*dl\b"), "/dL"),
    (re.compile(r"/\s*ml\b"), "/mL"),
    (re.compile(r"/\s*l\b"), "/L"),
    (re.compile(r"\blbs?\b", re.IGNORECASE), "lb"),
    (re.compile(r"\bkgs?\b", re.IGNORECASE), "kg"),
]

# Thousands separators as US laboratories and the registry write them ("2,900/µL",
# "600,000 IU/kg"): groups of exactly three digits after a first group of one to three.
_GROUPED = re.compile(r"\s*[-+]?([1-9]\d{0,2}(?:,\d{3})+)(?![\d,])")
_COMMA_IN_NUMBER = re.compile(r"\d,\d")

# Applied to stripped text. The unit is taken greedily to the end: a lazy unit followed by
# optional spaces backtracked quadratically ("1 k" + 60,000 spaces + "g" took 13 s).
_NUMBER = re.compile(r"([-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?)\s*(.*)", re.DOTALL)
_SPACES = re.compile(r"\s+")


def _without_thousands(text: str) -> str:
    """Drop thousands separators ("2,900" -> "2900"); refuse any other comma in a number.

    A decimal comma ("1,5 mg/dL", "0,900 mg/dL") is never guessed at: read as a thousands
    separator it would give a number a thousand times too large, so it is an error.
    """
    match = _GROUPED.match(text)
    if match:
        start, end = match.span(1)
        text = text[:start] + match.group(1).replace(",", "") + text[end:]
    if _COMMA_IN_NUMBER.search(text):
        number = re.search(r"[\d.,]*\d,\d[\d.,]*", text).group(0)
        hint = ""
        if number.count(",") == 1:
            hint = f"; write {number.replace('.', '').replace(',', '.')} if it is a decimal comma"
        raise ValueError(
            f"the comma in {number!r} is not guessed at (a decimal comma or a thousands"
            f" separator?); expected a decimal point, and commas only between groups of three"
            f" digits (2,900){hint}"
        )
    return text


#: No clinical unit is longer; pint's parser recurses once per term, so a cell of a thousand
#: words would exhaust the stack instead of being an unknown unit.
_UNIT_MAX = 40


@functools.lru_cache(maxsize=4096)
def _unit(text: str) -> pint.Unit:
    # Parsing a unit costs ~100 µs; a cohort repeats a handful of spellings many times.
    if len(text) > _UNIT_MAX:
        raise ValueError(f"longer than any unit ({_UNIT_MAX} characters)")
    return ureg.Unit(text)


def _normalise(text: str) -> str:
    out = _without_thousands(_SPACES.sub(" ", text.strip()))
    for pattern, replacement in _REWRITES:
        out = pattern.sub(replacement, out)
    return out.strip()


def parse_quantity(
    text: str | pint.Quantity,
    expected: str | pint.Unit | None = None,
    *,
    allow_negative: bool = False,
) -> pint.Quantity:
    """Read a clinical quantity such as ``"2.9 x10^9/L"`` or ``"176 lb"``.

    Counts may be written ``x10^9/L``, ``10^9/L``, ``x 10⁹/L``, ``G/L``, ``Gpt/L``,
    ``/µL``, ``/uL``, ``/mcL``, ``cells/mm3``, ``K/uL``, ``K/mm3``, ``x10^3/uL`` or
    ``thou/uL``; concentrations ``mg/dL`` (or ``mg%``, ``mg/100 mL``), ``g/L``,
    ``µmol/L``/``umol/L``; enzymes ``U/L`` (``IU/L`` where an enzyme activity is expected);
    weights ``kg``/``lb``. A comma is read only as a thousands separator between groups of
    three digits (``2,900/µL``); any other comma in a number (``1,5 mg/dL``, ``0,900``) is
    an error, never guessed to be a decimal comma or a separator. Spellings not read are
    errors (``MG/DL``, ``x10^9`` without the volume), never another quantity.

    Parameters
    ----------
    text
        What the clinician or laboratory wrote: a number followed by its unit. A
        :class:`pint.Quantity` of this registry is accepted and checked as is.
    expected
        A unit (``"g/dL"``) or dimension (``"[mass]"``) the result must convert to. Mass and
        molar concentrations are accepted for each other, since :func:`convert` can move
        between them given the analyte. Where an enzyme activity (``"U/L"``) is expected, the
        laboratory's ``IU`` is the enzyme unit ``U``, not aldesleukin's IU.
    allow_negative
        Clinical measurements (counts, concentrations, weights) cannot be negative, so a
        negative value is refused unless this is set.

    Returns
    -------
    pint.Quantity
        In the unit written, from :data:`ureg`.

    Raises
    ------
    ValueError
        Quoting the text and saying what was expected, when there is no number, a comma
        that could be a decimal comma, no unit, an unknown unit, a value that is not finite
        or is negative, or a unit that does not match ``expected``.

    Examples
    --------
    >>> parse_quantity("2900/uL").to("G_per_L").magnitude
    2.9
    """
    _check_expected(text, expected)
    if isinstance(text, pint.Quantity):
        quantity = text
        if quantity._REGISTRY is not ureg:
            raise ValueError(
                f"{_quote(text)}: quantity comes from another unit registry; expected one of"
                " studylib.units.ureg (studylib.units.Q_)"
            )
        shown = _shown(quantity)
    else:
        if not isinstance(text, str):
            raise ValueError(
                f"{_quote(text)}: expected text with a number and a unit, such as '80 kg'"
                f" (got a {type(text).__name__})"
            )
        shown = text
        try:
            normalised = _normalise(text)
        except ValueError as error:
            raise ValueError(f"{_quote(text)}: {error}") from None
        match = _NUMBER.fullmatch(normalised)
        if not match:
            raise ValueError(
                f"{_quote(text)}: expected a number followed by a unit, such as '80 kg'"
            )
        number, unit = match.groups()
        if not unit:
            wanted = (
                f"in {unit_label(expected)} or any unit convertible to it"
                if expected and not str(expected).startswith("[")
                else "such as '80 kg' or '0.9 mg/dL'"
            )
            raise ValueError(
                f"{_quote(text)}: the unit is missing; write the number with its unit, {wanted}"
            )
        if unit.startswith("/"):
            unit = "1" + unit  # "2900/uL": a count per volume
        try:
            parsed_unit = _unit(unit)
        except (
            pint.errors.UndefinedUnitError,
            pint.errors.DefinitionSyntaxError,
            ValueError,
            AttributeError,
            TypeError,
            AssertionError,
        ) as error:
            wanted = (
                f"a unit convertible to {unit_label(expected)}"
                if expected and not str(expected).startswith("[")
                else f"a unit such as {_EXAMPLE_UNITS}"
            )
            raise ValueError(
                f"{_quote(text)}: unknown unit {_quote(unit)}; expected {wanted}"
            ) from error
        quantity = Q_(float(number), parsed_unit)
        if expected is not None and _is_enzyme_activity(expected):
            enzyme = _enzyme_iu(quantity)
            quantity = enzyme if _compatible(enzyme, expected) else quantity
    magnitude = quantity.magnitude
    if not isinstance(magnitude, Real) or not math.isfinite(magnitude):
        raise ValueError(f"{_quote(shown)}: the value is not a finite number; expected a number")
    if magnitude < 0 and not allow_negative:
        raise ValueError(
            f"{_quote(shown)}: a negative value is not a possible measurement; expected 0 or more"
        )
    if expected is not None and not _compatible(quantity, expected):
        raise ValueError(
            f"{_quote(shown)}: expected a quantity in {_describe(expected)},"
            f" got {unit_label(quantity.units)}"
        )
    return quantity


def _shown(quantity: pint.Quantity) -> str:
    """A quantity as clinicians write it (``4.1 x10^9/L``, not ``4.1 G_per_L``)."""
    return f"{quantity.magnitude:.15g} {unit_label(quantity.units)}"


def _check_expected(text: object, expected: object) -> None:
    """``expected`` must be a unit or a dimension of :data:`ureg`; say so, naming the input."""
    if expected is None:
        return
    try:
        _dimensionality(expected)
    except (pint.errors.PintError, ValueError, TypeError, AttributeError, AssertionError):
        raise ValueError(
            f"{_quote(text)}: cannot be checked against expected={expected!r}, which is not a"
            " unit (such as 'g/dL') or a dimension (such as '[mass]')"
        ) from None


_EXAMPLE_UNITS = "x10^9/L, /µL, K/uL, g/dL, g/L, mg/dL, µmol/L, U/L, kg, lb, cm, Gy or IU/kg"


@functools.lru_cache(maxsize=64)
def _is_enzyme_activity(expected: str | pint.Unit) -> bool:
    """Whether ``expected`` is an enzyme activity concentration (U/L: µmol/min per litre)."""
    return _dimensionality(expected) == _dimensionality("U/L")


def _enzyme_iu(quantity: pint.Quantity) -> pint.Quantity:
    """Laboratories write enzyme activities as "IU/L": there IU is the enzyme unit U.

    The registry's IU is aldesleukin's biological activity, a dimension of its own, so "45 IU/L"
    read literally could never be an AST. Only where an enzyme activity is expected is the
    laboratory's IU read as U (1 IU = 1 U = 1 µmol/min, by the IUB definition).
    """
    items = quantity.unit_items()
    if not any(name.endswith("international_unit") for name, _ in items):
        return quantity
    root = quantity.to_root_units()
    enzyme = Q_(root.magnitude, root.units / ureg.international_unit * ureg.enzyme_unit)
    written = ureg.Unit("1")
    for name, power in items:
        written *= ureg.Unit(name.replace("international_unit", "enzyme_unit")) ** power
    return enzyme.to(written)


def _describe(expected: str | pint.Unit) -> str:
    if isinstance(expected, str) and expected.startswith("["):
        return f"dimension {expected}"
    return f"units of {unit_label(expected)} (or convertible)"


#: How clinicians write the units that pint cannot name literally.
_CLINICAL_LABELS = {"G_per_L": "x10^9/L", "K_per_uL": "K/uL"}


@functools.lru_cache(maxsize=512)
def unit_label(unit: str | pint.Unit) -> str:
    """A unit as clinicians write it: ``G_per_L`` is shown as ``x10^9/L``."""
    # Cached: pint formats a unit in ~50 µs, and a table of thousands of values repeats a few.
    text = f"{ureg.Unit(unit):~P}"
    return _CLINICAL_LABELS.get(text, text)


@functools.lru_cache(maxsize=256)
def _dimensionality(expected: str | pint.Unit):
    if isinstance(expected, str) and expected.startswith("["):
        return ureg.get_dimensionality(expected)
    return ureg.Unit(expected).dimensionality


def _compatible(quantity: pint.Quantity, expected: str | pint.Unit) -> bool:
    target = _dimensionality(expected)
    have = quantity.dimensionality
    if have == target:
        return True
    concentrations = {
        ureg.get_dimensionality("[mass] / [length] ** 3"),
        ureg.get_dimensionality("[substance] / [length] ** 3"),
    }
    return have in concentrations and target in concentrations


def convert(
    quantity: pint.Quantity | str, unit: str | pint.Unit, analyte: str | None = None
) -> pint.Quantity:
    """Convert a quantity to ``unit``, through the analyte's molar mass where needed.

    Parameters
    ----------
    quantity
        A quantity of :data:`ureg`, or text that :func:`parse_quantity` reads.
    unit
        The target unit, for example ``"mg/dL"``.
    analyte
        ``"creatinine"`` (113.12 g/mol), ``"bilirubin"`` (584.66 g/mol) or ``"hemoglobin"``
        (16114.5 g/mol, per haem): required to move between mass (mg/dL) and molar
        (µmol/L) concentrations.

    Raises
    ------
    ValueError
        When the units cannot be converted, naming both, and saying when an analyte is needed.

    Examples
    --------
    >>> round(convert("170 umol/L", "mg/dL", "creatinine").magnitude, 3)
    1.923
    """
    if isinstance(quantity, str):
        quantity = parse_quantity(quantity)
    name = None
    if analyte is not None:
        name = _ANALYTE_ALIASES.get(analyte.lower(), analyte.lower())
        if name not in ANALYTES:
            raise ValueError(
                f"unknown analyte {analyte!r}; molar masses are known for {sorted(ANALYTES)}"
            )
    try:
        return quantity.to(unit, name) if name else quantity.to(unit)
    except pint.errors.DimensionalityError as error:
        both_concentrations = _compatible(quantity, unit) and not name
        needs = "; mass <-> molar concentration needs the analyte" if both_concentrations else ""
        if (
            "[biological_activity]" in quantity.dimensionality
            and ureg.Unit(unit).dimensionality["[mass]"]
        ):
            needs = "; IU is an activity, not a mass: use studylib.dosing.iu_to_mg (the product's"
            needs += " IU per mg)"
        raise ValueError(
            f"cannot convert {_shown(quantity)} to {unit_label(unit)}{needs}"
        ) from error
    except pint.errors.UndefinedUnitError as error:
        raise ValueError(
            f"cannot convert {_shown(quantity)} to {_quote(unit)}: unknown unit; expected a unit"
            " such as"
            f" {_EXAMPLE_UNITS}"
        ) from error


def format_quantity(quantity: pint.Quantity, digits: int = 3) -> str:
    """Show a quantity rounded for people: ``"43.2 MIU"`` rather than ``43.199999999999996``."""
    value = float(quantity.magnitude)
    text = f"{value:.{digits}g}" if abs(value) < 10**digits else f"{value:,.0f}"
    return f"{text} {unit_label(quantity.units)}"


def parse_quantities(
    values,
    expected: str | pint.Unit | None = None,
    *,
    to: str | pint.Unit | None = None,
    analyte: str | None = None,
):
    """Parse a column of quantity texts at once; each distinct spelling is parsed only once.

    Parameters
    ----------
    values
        An iterable of texts (a pandas Series keeps its index). Empty text, ``None`` and NaN
        are missing, not errors.
    expected
        As in :func:`parse_quantity`.
    to
        When given, magnitudes are converted to this unit (through ``analyte`` if needed).
    analyte
        As in :func:`convert`.

    Returns
    -------
    pandas.DataFrame
        ``magnitude`` (float, NaN when missing or invalid), ``unit`` (the unit of the magnitude)
        and ``error`` (the message of a value that could not be read, else empty), on the
        index of ``values``.
    """
    import pandas as pd

    series = values if isinstance(values, pd.Series) else pd.Series(list(values), dtype=object)
    text = series.astype("string").str.strip()
    parsed: dict[str, tuple[float, str, str]] = {}
    for spelling in text.dropna().unique():
        if spelling == "":
            continue
        try:
            quantity = parse_quantity(spelling, expected)
            if to is not None:
                quantity = convert(quantity, to, analyte)
            parsed[spelling] = (float(quantity.magnitude), f"{quantity.units:~P}", "")
        except ValueError as error:
            parsed[spelling] = (math.nan, "", str(error))
    missing = (math.nan, "", "")
    rows = [parsed.get(v, missing) if isinstance(v, str) else missing for v in text.tolist()]
    return pd.DataFrame(rows, index=series.index, columns=["magnitude", "unit", "error"])
