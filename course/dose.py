"""Dose and volume arithmetic for Module 02 (concentration, volume, dose per kilogram).

Units: concentrations in mg/mL or percent (weight/volume: 1% = 1 g per 100 mL =
10 mg/mL), volumes in mL, doses in mg, weights in kg, areas in cm².

Every function checks its input and raises ValueError naming the field and the allowed
range: booleans, non-numbers, NaN and infinity are refused, and so are impossible or
absurd values (a weight of 0 or above 350 kg, a negative volume, a concentration at or
below 0 or above 200 mg/mL, a percentage outside 0–20).

The maximum dose of plain lidocaine differs by label (clinical-brief.md §3 and §9): the
UK SmPC/BNF gives 200 mg; the US label gives 4.5 mg/kg, not over 300 mg. The course uses
the stricter UK figure by default and teaches that the local label governs: every
lidocaine result names the label it used, says to check the current product information
and local formulary, and carries the teaching-aid label when it judges a dose.

Pure functions: :func:`percent_to_mg_per_ml`, :func:`mg_per_ml_to_percent`,
:func:`total_volume_ml`, :func:`points_for_area`, :func:`total_dose_mg`,
:func:`dose_per_kg`, :func:`share_of_limit`, :func:`lidocaine_label`,
:func:`lidocaine_check`, :func:`calculator_text`. The widget
(:func:`course.views.dose.dose_calculator`) only wires them together.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from course import TEACHING_AID_LABEL

# Input ranges: (low, high, low is allowed, unit).
PERCENT_RANGE = (0.0, 20.0)
CONCENTRATION_RANGE_MG_PER_ML = (0.0, 200.0)  # low excluded
WEIGHT_RANGE_KG = (0.0, 350.0)  # low excluded
VOLUME_RANGE_ML = (0.0, 100.0)
ML_PER_POINT_RANGE = (0.0, 5.0)  # low excluded
POINTS_RANGE = (0, 10_000)
AREA_RANGE_CM2 = (0.0, 20_000.0)  # low excluded
SPACING_RANGE_CM = (0.1, 10.0)
DOSE_RANGE_MG = (0.0, 10_000.0)
LIMIT_RANGE_MG_PER_KG = (0.0, 100.0)  # low excluded

MG_PER_ML_PER_PERCENT = 10.0
"""1% w/v = 1 g in 100 mL = 1000 mg / 100 mL = 10 mg/mL."""

FORMULARY_ADVICE = (
    "Reference limits are expert practice, not validated standards: check the local "
    "formulary and the product labelling, and count the cumulative dose from every "
    "injection point and every product."
)


@dataclass(frozen=True)
class LidocaineLabel:
    """The maximum dose of plain lidocaine in one label (no adrenaline)."""

    code: str
    name: str
    max_mg: float
    mg_per_kg: float | None = None

    @property
    def summary(self) -> str:
        """e.g. 'UK SmPC/BNF: plain lidocaine maximum 200 mg'."""
        if self.mg_per_kg is None:
            return f"{self.name}: plain lidocaine maximum {self.max_mg:g} mg"
        return (f"{self.name}: plain lidocaine {self.mg_per_kg:g} mg/kg, not over "
                f"{self.max_mg:g} mg")


LIDOCAINE_LABELS = {
    "UK": LidocaineLabel("UK", "UK SmPC/BNF", 200.0),
    "US": LidocaineLabel("US", "US label", 300.0, 4.5),
}
"""Plain lidocaine maxima by label (clinical-brief.md §9). The key is the ``label`` argument."""
DEFAULT_LIDOCAINE_LABEL = "UK"
"""The stricter UK figure is the course's default; the local label governs."""
UK_LIDOCAINE_MAX_MG = LIDOCAINE_LABELS["UK"].max_mg
US_LIDOCAINE_MG_PER_KG = LIDOCAINE_LABELS["US"].mg_per_kg
US_LIDOCAINE_MAX_MG = LIDOCAINE_LABELS["US"].max_mg
LIDOCAINE_CAVEAT = (
    "The maximum for plain lidocaine depends on the label: UK SmPC/BNF 200 mg; US label "
    "4.5 mg/kg, not over 300 mg. The local label governs: check the current product "
    "information and the local formulary, and count the cumulative dose from every "
    "injection point and every product."
)
LIDOCAINE_CLAIM = "lidocaine_maximum_dose"
"""The claim in course/data/claims.toml that carries these limits."""


@dataclass(frozen=True)
class DoseCheck:
    """A total dose compared with a reference limit (a teaching aid, not a clinical tool)."""

    total_mg: float
    mg_per_kg: float
    limit_mg: float
    share: float
    within_limit: bool
    message: str


# ---------------------------------------------------------------- input checking


FIELD_WORDS = {
    "weight_kg": "the weight in kilograms",
    "concentration_mg_per_ml": "the concentration in mg/mL",
    "total_mg": "the total dose in mg",
    "percent": "the concentration in percent",
    "points": "the number of injection points",
    "ml_per_point": "the volume per point in millilitres",
    "area_cm2": "the area in square centimetres",
    "spacing_cm": "the spacing between points in centimetres",
    "volume_ml": "the volume in millilitres",
    "limit_mg_per_kg": "the limit in mg per kilogram",
    "absolute_max_mg": "the maximum dose in mg",
}
"""What each input is, in the words of an error message (never the argument's name)."""


def entered(value: Any) -> str:
    """What the learner gave, in words: '0', 'the text "70"', 'nothing'."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return f"{value}, a yes/no value"
    if isinstance(value, str):
        return f'the text "{value}"'
    if isinstance(value, int | float):
        return "a value that is not a number" if math.isnan(value) else f"{value:g}"
    return f"{value!r}"


def input_sentence(name: str, low: float, high: float, value: Any, *,
                   low_allowed: bool = True, whole: bool = False) -> str:
    """One plain sentence for an unusable input: 'Enter the weight in kilograms: a number
    above 0, up to 350 (you entered 0).'"""
    kind = "a whole number" if whole else "a number"
    span = f"from {low:g} to {high:g}" if low_allowed else f"above {low:g}, up to {high:g}"
    hint = ", without quotes" if isinstance(value, str) else ""
    return f"Enter {FIELD_WORDS[name]}: {kind} {span}{hint} (you entered {entered(value)})."


def _number(
    name: str, value: Any, low: float, high: float, unit: str = "", *,
    low_allowed: bool = True,
) -> float:
    """Return value as a float, or raise ValueError in plain words: what to enter, the
    range, and what was given (``name`` picks the words from :data:`FIELD_WORDS`)."""
    message = input_sentence(name, low, high, value, low_allowed=low_allowed)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(message)
    if not math.isfinite(value) or value < low or (value == low and not low_allowed) \
            or value > high:
        raise ValueError(message)
    return float(value)


def _weight(weight_kg: Any) -> float:
    return _number("weight_kg", weight_kg, *WEIGHT_RANGE_KG, "kg", low_allowed=False)


def _concentration(value: Any) -> float:
    return _number("concentration_mg_per_ml", value, *CONCENTRATION_RANGE_MG_PER_ML, "mg/mL",
                   low_allowed=False)


def _total(total_mg: Any) -> float:
    return _number("total_mg", total_mg, *DOSE_RANGE_MG, "mg")


# ---------------------------------------------------------------- arithmetic


def percent_to_mg_per_ml(percent: float) -> float:
    """Convert a w/v percentage to mg/mL: 1% = 10 mg/mL, so 2% = 20 mg/mL."""
    return _number("percent", percent, *PERCENT_RANGE, "%") * MG_PER_ML_PER_PERCENT


def mg_per_ml_to_percent(concentration_mg_per_ml: float) -> float:
    """Convert mg/mL to a w/v percentage: 20 mg/mL = 2%."""
    return _concentration(concentration_mg_per_ml) / MG_PER_ML_PER_PERCENT


def total_volume_ml(points: int, ml_per_point: float) -> float:
    """Total injected volume: number of points × volume per point."""
    if isinstance(points, bool) or not isinstance(points, int):
        raise ValueError(input_sentence("points", *POINTS_RANGE, points, whole=True))
    _number("points", points, *POINTS_RANGE, "")
    per_point = _number("ml_per_point", ml_per_point, *ML_PER_POINT_RANGE, "mL",
                        low_allowed=False)
    return points * per_point


def points_for_area(area_cm2: float, spacing_cm: float) -> int:
    """Injection points needed to cover an area on a square grid.

    Rule: points sit on a square grid ``spacing_cm`` apart, so each point serves one
    square of side ``spacing_cm``; the count is ``area / spacing²`` rounded **up** (a part
    square still needs a point). The shape of the area and its edges are ignored, so this
    is an estimate for planning volumes, not a map of where to inject. Example: 100 cm²
    at 1 cm spacing = 100 points; at 2 cm spacing = 25 points.
    """
    area = _number("area_cm2", area_cm2, *AREA_RANGE_CM2, "cm²", low_allowed=False)
    spacing = _number("spacing_cm", spacing_cm, *SPACING_RANGE_CM, "cm")
    # Round away floating-point noise (100 / 0.1² is 9999.999…) before rounding up.
    return math.ceil(round(area / spacing**2, 9))


def total_dose_mg(concentration_mg_per_ml: float, volume_ml: float) -> float:
    """Total dose: concentration (mg/mL) × volume (mL); 5 mL of 20 mg/mL = 100 mg."""
    volume = _number("volume_ml", volume_ml, *VOLUME_RANGE_ML, "mL")
    return _concentration(concentration_mg_per_ml) * volume


def dose_per_kg(total_mg: float, weight_kg: float) -> float:
    """Dose per kilogram of body weight: total mg ÷ weight in kg."""
    return _total(total_mg) / _weight(weight_kg)


def share_of_limit(
    total_mg: float,
    weight_kg: float,
    limit_mg_per_kg: float | None,
    absolute_max_mg: float | None = None,
    *,
    basis: str = "",
    advice: str = FORMULARY_ADVICE,
) -> DoseCheck:
    """Compare a total dose with a weight-based limit and/or an absolute maximum.

    The limit is the lower of ``limit_mg_per_kg × weight_kg`` and ``absolute_max_mg``;
    either may be None (a label with one figure only), not both. ``share`` is total ÷
    limit, and a dose equal to the limit counts as within it. The message carries the
    teaching-aid label, then ``basis`` (where the limit comes from), and ends with
    ``advice`` (by default the formulary advice).
    """
    total = _total(total_mg)
    weight = _weight(weight_kg)
    if limit_mg_per_kg is None and absolute_max_mg is None:
        raise ValueError("Give a limit to compare with: a dose per kilogram, a maximum "
                         "dose, or both.")
    hows: list[str] = []
    limits: list[float] = []
    if limit_mg_per_kg is not None:
        per_kg_limit = _number("limit_mg_per_kg", limit_mg_per_kg, *LIMIT_RANGE_MG_PER_KG,
                               "mg/kg", low_allowed=False)
        limits.append(per_kg_limit * weight)
        hows.append(f"{per_kg_limit:g} mg/kg × {weight:g} kg = {per_kg_limit * weight:g} mg")
    if absolute_max_mg is not None:
        cap = _number("absolute_max_mg", absolute_max_mg, *DOSE_RANGE_MG, "mg",
                      low_allowed=False)
        limits.append(cap)
        hows.append(f"the absolute maximum of {cap:g} mg")
    limit = min(limits)
    share = total / limit
    within = total <= limit or math.isclose(total, limit)
    if len(hows) == 2:
        how = f"the lower of {hows[0]} and {hows[1]}"
    elif limit_mg_per_kg is None:
        how = f"{hows[0]}, whatever the weight"
    else:
        how = hows[0]
    verdict = (
        "This is within the reference limit; that does not make it safe for this patient."
        if within else
        "This is ABOVE the reference limit: a dose above it is generally advised against; "
        "reduce the volume or the concentration."
    )
    message = (
        f"{TEACHING_AID_LABEL}. {basis + ' ' if basis else ''}Total {total:g} mg for "
        f"{weight:g} kg = {total / weight:.2f} mg/kg. Reference limit {limit:g} mg ({how}). "
        f"The dose is {share:.0%} of the limit. {verdict} {advice}"
    )
    return DoseCheck(total, total / weight, limit, share, within, message)


def lidocaine_label(label: Any = DEFAULT_LIDOCAINE_LABEL) -> LidocaineLabel:
    """The label record for "UK" or "US" (case-insensitive); anything else is refused."""
    key = label.strip().upper() if isinstance(label, str) else label
    if key not in LIDOCAINE_LABELS:
        raise ValueError(
            f"Choose the label: \"UK\" (SmPC/BNF) or \"US\" (you entered {entered(label)}).")
    return LIDOCAINE_LABELS[key]


def lidocaine_check(weight_kg: float, percent: float, volume_ml: float,
                    label: str = DEFAULT_LIDOCAINE_LABEL) -> DoseCheck:
    """Plain lidocaine: percent and volume → total mg, compared with one label's maximum.

    ``label`` is ``"UK"`` (SmPC/BNF: 200 mg, the default) or ``"US"`` (4.5 mg/kg, not over
    300 mg). The message names the label used and gives the other one.
    """
    chosen = lidocaine_label(label)
    _number("percent", percent, *PERCENT_RANGE, "%", low_allowed=False)
    total = total_dose_mg(percent_to_mg_per_ml(percent), volume_ml)
    return share_of_limit(total, weight_kg, chosen.mg_per_kg, chosen.max_mg,
                          basis=f"Label used: {chosen.summary}.", advice=LIDOCAINE_CAVEAT)


REFUSAL_PREFIX = "Cannot calculate: "

PLAIN_INPUT_HELP = {
    "label": "Choose the label: UK (SmPC/BNF) or US.",
    "weight_kg": (f"Enter the weight in kilograms: a number above {WEIGHT_RANGE_KG[0]:g}, "
                  f"up to {WEIGHT_RANGE_KG[1]:g}."),
    "percent": (f"Enter the lidocaine concentration in percent: a number above "
                f"{PERCENT_RANGE[0]:g}, up to {PERCENT_RANGE[1]:g} (2% is 20 mg/mL)."),
    "volume_ml": (f"Enter the volume in millilitres: a number from {VOLUME_RANGE_ML[0]:g} "
                  f"to {VOLUME_RANGE_ML[1]:g}."),
}
"""What the calculator says about a value it cannot use (plain language, one sentence)."""


def calculator_problem(weight_kg: Any, percent: Any, volume_ml: Any,
                       label: Any = DEFAULT_LIDOCAINE_LABEL) -> str | None:
    """The plain-language sentence for the first unusable input, or None if all are usable."""
    checks = (
        ("label", lambda: lidocaine_label(label)),
        ("weight_kg", lambda: _weight(weight_kg)),
        ("percent", lambda: _number("percent", percent, *PERCENT_RANGE, "%",
                                    low_allowed=False)),
        ("volume_ml", lambda: _number("volume_ml", volume_ml, *VOLUME_RANGE_ML, "mL")),
    )
    for field, check in checks:
        try:
            check()
        except ValueError:
            return PLAIN_INPUT_HELP[field]
    return None


def calculator_text(weight_kg: Any, percent: Any, volume_ml: Any,
                    label: Any = DEFAULT_LIDOCAINE_LABEL) -> str:
    """The calculator's text: the worked arithmetic, or a plain-language refusal."""
    problem = calculator_problem(weight_kg, percent, volume_ml, label)
    if problem is not None:
        return f"{REFUSAL_PREFIX}{problem} {TEACHING_AID_LABEL}."
    concentration = percent_to_mg_per_ml(percent)
    check = lidocaine_check(weight_kg, percent, volume_ml, label)
    return (
        f"{percent:g}% lidocaine = {concentration:g} mg/mL.\n"
        f"{volume_ml:g} mL × {concentration:g} mg/mL = {check.total_mg:g} mg.\n"
        f"{check.message}"
    )


# ---------------------------------------------------------------- HTML views


def dose_check_html(check: DoseCheck, limit_name: str = "reference", working: str = "") -> str:
    """A dose check as a callout: verdict title, the ``working`` (HTML, optional), a bar of
    the share of the limit, and the details.

    Above the limit it is a danger callout with ``role="alert"``; within it, a status.
    """
    from html import escape

    from course.callouts import callout, limit_bar

    if check.within_limit:
        title = f"Within the {limit_name} limit: {check.share:.0%} of {check.limit_mg:g} mg"
        kind, role = "ok", "status"
    else:
        title = f"Above the {limit_name} limit: {check.share:.0%} of {check.limit_mg:g} mg"
        kind, role = "danger", "alert"
    sentences = check.message.replace(f"{TEACHING_AID_LABEL}. ", "", 1)
    body = (working + limit_bar(check.share, limit_name) + f"<p>{escape(sentences)}</p>"
            f'<p class="course-teaching-aid"><strong>{escape(TEACHING_AID_LABEL)}'
            f"</strong></p>")
    return callout(title, body, kind=kind, role=role, css_class="course-dose-result")


def calculator_html(weight_kg: Any, percent: Any, volume_ml: Any,
                    label: Any = DEFAULT_LIDOCAINE_LABEL) -> str:
    """The calculator's result as HTML: the worked arithmetic and the dose callout, or a
    plain-language refusal (``role="alert"``)."""
    from html import escape

    from course.callouts import callout

    problem = calculator_problem(weight_kg, percent, volume_ml, label)
    if problem is not None:
        return callout("Cannot calculate yet", f"<p>{escape(problem)}</p>"
                       f'<p class="course-teaching-aid"><strong>{escape(TEACHING_AID_LABEL)}'
                       f"</strong></p>", kind="warning", role="alert",
                       css_class="course-dose-result")
    chosen = lidocaine_label(label)
    concentration = percent_to_mg_per_ml(percent)
    check = lidocaine_check(weight_kg, percent, volume_ml, label)
    working = (f'<ol class="course-working" style="line-height:1.5">'
               f"<li>{percent:g}% lidocaine = {concentration:g} mg/mL.</li>"
               f"<li>{volume_ml:g} mL × {concentration:g} mg/mL = {check.total_mg:g} mg.</li>"
               f"</ol>")
    return dose_check_html(check, chosen.name, working)


def lidocaine_result(weight_kg: float, percent: float, volume_ml: float,
                     label: str = DEFAULT_LIDOCAINE_LABEL):
    """A lidocaine check for a notebook cell: HTML callout with its plain-text twin."""
    from course.callouts import Shown

    return Shown(calculator_html(weight_kg, percent, volume_ml, label),
                 calculator_text(weight_kg, percent, volume_ml, label))


def dose_result(check: DoseCheck, limit_name: str = "reference"):
    """Any dose check (e.g. from :func:`share_of_limit`) for a notebook cell."""
    from course.callouts import Shown

    return Shown(dose_check_html(check, limit_name), check.message)


def lidocaine_labels_html() -> str:
    """The lidocaine maxima by label, as a note with a list (the local label governs)."""
    from html import escape

    from course.callouts import callout

    items = "".join(f"<li><strong>{escape(code)}</strong>: {escape(record.summary)}</li>"
                    for code, record in LIDOCAINE_LABELS.items())
    return callout("Plain lidocaine: the maximum depends on the label",
                   f"<ul>{items}</ul><p>{escape(LIDOCAINE_CAVEAT)}</p>", kind="info",
                   role="note")


def lidocaine_labels():
    """The lidocaine maxima by label for a notebook cell (HTML note with its text twin)."""
    from course.callouts import Shown

    text = "\n".join([LIDOCAINE_CAVEAT, *(f"{code} → {record.summary}"
                                          for code, record in LIDOCAINE_LABELS.items())])
    return Shown(lidocaine_labels_html(), text)
