"""The screening form's logic, over :func:`course.risk.assess`; the widget is in
:mod:`course.views.screening`.

Teaching aid — not a validated clinical tool. Nothing here decides anything: the form
collects one input per patient field of course-design.md §6, turns the values into a
patient record (:func:`patient_from_values`, pure conversion only), and shows what the
engine returns, in words and with a symbol for the decision (colour is never the only
carrier), every reason with its code, text and references, and the teaching-aid label.

Decisions documented here:

- **Age is an ``IntText``, not a bounded box**, so an out-of-range age reaches the
  engine (a bounded box would silently clamp it); the learner sees one plain sentence
  ("Enter the age in years: a whole number from 0 to 120."), never the engine's
  developer message. Invalid input never raises in the widget.
- **Blank means "not given"**: an empty area and the "Not recorded" choices of product
  source, sex and "could become pregnant" are left out of the patient record, so the engine
  applies its documented meaning of a missing field (``product_source`` not recorded →
  proceed with precautions; ``childbearing_potential`` not recorded is asked about before an
  antiandrogen).
- **Allergies** are free text, separated by commas, semicolons or new lines; the engine
  matches them by allergen class to the product's ingredients and cross-reactions.
- When an input changes after a screen, the result says that it is out of date until
  Screen is pressed again, so a shown decision always matches the shown inputs.
"""

from __future__ import annotations

import re
from html import escape
from typing import Any

from course import TEACHING_AID_LABEL
from course.callouts import Shown, callout, table
from course.risk import (
    AGE_RANGE,
    Assessment,
    assess,
    rules,
)

DECISION_DISPLAY = {
    "proceed": ("√", "Proceed"),
    "proceed_with_precautions": ("▲", "Proceed with precautions"),
    "defer": ("||", "Defer"),
    "refer": ("→", "Refer"),
    "decline": ("×", "Decline"),
}
"""Symbol and words for each engine decision (display only). The text symbols are in
every common font (WGL4); HTML shows an inline SVG icon instead (course.callouts)."""

DECISION_CALLOUTS = {
    "proceed": "ok", "proceed_with_precautions": "warning", "defer": "pause",
    "refer": "refer", "decline": "danger",
}
"""The callout kind (colour and SVG icon) of each decision."""

# Okabe–Ito palette; the decision is also written out in words with a symbol.
DECISION_COLOURS = {
    "proceed": "#009E73", "proceed_with_precautions": "#E69F00", "defer": "#56B4E9",
    "refer": "#0072B2", "decline": "#D55E00",
}

FIELD_LABELS = {
    "age": "Age (years)",
    "indication": "Indication",
    "area": "Area treated",
    "substance": "Substance",
    "product_source": "Product source",
    "sex": "Sex",
    "childbearing_potential": "Could become pregnant",
    "diabetes": "Diabetes",
    "allergies": "Allergies",
    "pregnant": "Pregnant",
    "breastfeeding": "Breastfeeding",
    "planning_pregnancy": "Planning a pregnancy",
    "active_infection_at_site": "Active infection at the site",
    "active_herpes_at_site": "Active herpes (cold sore) at the site",
    "anticoagulant": "Takes an anticoagulant",
    "antiplatelet": "Takes an antiplatelet drug",
    "bleeding_disorder": "Bleeding disorder",
    "prior_anaphylaxis": "Previous anaphylaxis",
    "immunosuppressed": "Immunosuppressed",
    "autoimmune_disease": "Autoimmune or connective-tissue disease",
    "active_cancer": "Active cancer",
    "keloid_tendency": "Keloid tendency",
    "heart_disease": "Heart disease",
    "epilepsy": "Epilepsy",
    "dysphagia_history": "Current or past dysphagia",
    "bdd_screen_positive": "BDD screen positive",
    "thrombosis_history": "Venous thrombosis or thrombophilia",
}
"""A label for every patient field of the contract."""

NOT_RECORDED_CHOICE = ""
"""The "Not recorded" value of a menu: the field is left out of the patient."""
NOT_RECORDED_FIELDS = ("area", "product_source", "sex", "childbearing_potential")
"""Fields left out of the patient record when blank or None."""
DEFAULT_PATIENT: dict[str, Any] = {
    "age": 40, "indication": "skin_rejuvenation", "substance": "hyaluronic_acid",
    "product_source": "licensed",
}
PROMPT = "Set the patient's details and press Screen."
STALE = "The details have changed since the last screen: press Screen to update the result."
GK_NOTE = "GK = expert practice: general medical knowledge, not graded evidence."
_SEPARATORS = re.compile(r"[,;\n]")


# ---------------------------------------------------------------- pure functions


def patient_from_values(values: dict[str, Any]) -> dict[str, Any]:
    """Turn form values into a patient record for :func:`course.risk.assess`.

    Conversion only, no checking (the engine checks): a blank or None ``area``,
    ``product_source``, ``sex`` or ``childbearing_potential`` is left out; ``allergies``
    given as text is split at commas, semicolons and new lines, blank entries dropped, and
    left out when empty. Every other value, and any unknown field, is passed through for
    the engine to judge.
    """
    patient = dict(values)
    for name in NOT_RECORDED_FIELDS:
        if name not in patient:
            continue
        value = patient[name]
        if value is None or (isinstance(value, str) and not value.strip()):
            patient.pop(name, None)
        elif isinstance(value, str):
            patient[name] = value.strip()
    if "allergies" in patient:
        allergies = patient["allergies"]
        if allergies is None:
            allergies = []
        elif isinstance(allergies, str):
            allergies = _SEPARATORS.split(allergies)
        if isinstance(allergies, list | tuple):
            allergies = [a.strip() if isinstance(a, str) else a for a in allergies]
            allergies = [a for a in allergies if a != ""]
            if allergies:
                patient["allergies"] = allergies
            else:
                patient.pop("allergies")
        else:
            patient["allergies"] = allergies
    return patient


def _refs(code: str) -> tuple[str, ...]:
    try:
        return rules().rule(code).refs
    except KeyError:
        return ()


def rules_table() -> str:
    """Every screening rule as a text table (code, decision, references) with the label."""
    lines = [f"{'Code':<48} {'Decision':<26} References"]
    lines += [f"{rule.code:<48} {rule.decision:<26} {', '.join(rule.refs)}"
              for rule in rules().rules]
    return "\n".join([*lines, "", TEACHING_AID_LABEL])


def decision_words(decision: str) -> str:
    """'× Decline': the decision's symbol and words."""
    symbol, words = DECISION_DISPLAY[decision]
    return f"{symbol} {words}"


def assessment_text(assessment: Assessment) -> str:
    """The assessment in plain text: decision, numbered reasons with codes, the label."""
    lines = [f"Decision: {decision_words(assessment.decision)}", "Reasons:"]
    for number, reason in enumerate(assessment.reasons, start=1):
        refs = _refs(reason.code)
        cited = f" (References: {', '.join(refs)})" if refs else ""
        lines.append(f"{number}. {reason.code}: {reason.text}{cited}")
    if any("GK" in _refs(r.code) for r in assessment.reasons):
        lines.append(GK_NOTE)
    lines.append(assessment.disclaimer or TEACHING_AID_LABEL)
    return "\n".join(lines)


def plain_error(message: str) -> str:
    """One plain sentence for an engine error about the form's values (no field names)."""
    match = re.search(r"field '(\w+)'", message)
    field = match.group(1) if match else None
    if field == "age":
        low, high = AGE_RANGE
        return f"Enter the age in years: a whole number from {low} to {high}."
    if field in FIELD_LABELS:
        return (f"Check “{FIELD_LABELS[field]}”: the teaching aid cannot use the value "
                "entered.")
    return "Check the details entered: the teaching aid cannot use them."


def label_html() -> str:
    """The teaching-aid label as an HTML paragraph."""
    return f'<p class="course-teaching-aid"><strong>{escape(TEACHING_AID_LABEL)}</strong></p>'


def assessment_html(assessment: Assessment) -> str:
    """The assessment as escaped HTML; the decision has a symbol and words, not only colour."""
    items = []
    for reason in assessment.reasons:
        refs = _refs(reason.code)
        cited = f" <small>(References: {escape(', '.join(refs))})</small>" if refs else ""
        items.append(f"<li><code>{escape(reason.code)}</code>: {escape(reason.text)}{cited}</li>")
    _, words = DECISION_DISPLAY[assessment.decision]
    body = (f"<p>Reasons:</p><ol>{''.join(items)}</ol>"
            f'<p class="course-teaching-aid"><strong>'
            f"{escape(assessment.disclaimer or TEACHING_AID_LABEL)}</strong></p>")
    return callout(f"Decision: {words}", body,
                   kind=DECISION_CALLOUTS.get(assessment.decision, "info"), role="status",
                   css_class="course-screening-result")


def error_text(message: str) -> str:
    """What the form shows for input the engine refused: one plain sentence."""
    return f"Cannot screen this patient: {plain_error(message)}\n{TEACHING_AID_LABEL}"


def error_html(message: str) -> str:
    """The refusal as an alert callout with the plain sentence."""
    return callout("Cannot screen this patient", f"<p>{escape(plain_error(message))}</p>"
                   f"{label_html()}", kind="warning", role="alert",
                   css_class="course-screening-result")


def rules_table_html() -> str:
    """Every screening rule as an HTML table (code, decision, references) with the label."""
    rows = [[f"<code>{escape(rule.code)}</code>",
             escape(DECISION_DISPLAY[rule.decision][1]) if rule.decision in DECISION_DISPLAY
             else escape(rule.decision), escape(", ".join(rule.refs))]
            for rule in rules().rules]
    return (label_html()
            + table(["Code", "Decision", "References"], rows, "Screening rules",
                    html_cells=True))


def assessment_view(assessment: Assessment) -> Shown:
    """An assessment for a notebook cell: the HTML callout with its text twin."""
    return Shown(assessment_html(assessment), assessment_text(assessment))


def rules_view() -> Shown:
    """The rules table for a notebook cell (HTML with its text twin)."""
    return Shown(rules_table_html(), rules_table())


def teaching_aid_note() -> Shown:
    """The teaching-aid label as a prominent note."""
    return Shown(callout(TEACHING_AID_LABEL, kind="warning", role="note",
                         css_class="course-teaching-aid-note"), TEACHING_AID_LABEL)


def screening_result(values: dict[str, Any]) -> tuple[str, str]:
    """(text, html) for form values: the engine's assessment, or its error message."""
    try:
        assessment = assess(patient_from_values(values))
    except ValueError as error:
        message = " ".join(str(error).split())
        return error_text(message), error_html(message)
    return assessment_text(assessment), assessment_html(assessment)


def notice(text: str) -> tuple[str, str]:
    """A notice as (text, HTML), each followed by the teaching-aid label."""
    return (f"{text}\n{TEACHING_AID_LABEL}",
            f'<div style="line-height:1.5"><p>{escape(text)}</p>{label_html()}</div>')
