"""Emergency drills for Module 03: the vascular occlusion response and the lidocaine sum.

Both are teaching aids built on expert guidance that the course marks "to verify"
(clinical-brief.md §9): the ACE Group guideline on hyaluronic-acid filler occlusion
[R85], the AAGBI guideline on severe local anaesthetic toxicity [R86] and the ASRA
checklist [R87]. They train recall under pressure; they are not clinical tools.

- **Vascular occlusion drill.** The learner puts the steps of the response in order and
  leaves out the harmful ones. Steps carry a *rank*: steps of the same rank may come in
  either order (hyaluronidase with warmth and massage). :func:`check_vo_order` explains
  the first problem it finds, so a wrong answer teaches.
- **Cumulative lidocaine.** :func:`session_lidocaine_mg` adds the lidocaine of every
  product of a session (many hyaluronic-acid skin boosters already contain some);
  :func:`lidocaine_ceiling_mg` names the label: UK SmPC/BNF 200 mg for plain lidocaine,
  or US 4.5 mg/kg up to 300 mg. :func:`lidocaine_session_text` compares the two.

Pure functions; the notebook shows :func:`vo_drill_text` / :func:`vo_drill_html` and
prints the feedback. Bad input raises ValueError with one clear message.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from html import escape
from typing import Any

from course import TEACHING_AID_LABEL


@dataclass(frozen=True)
class DrillStep:
    """One card of the drill: rank 0 marks a harmful step that must be left out."""

    id: str
    text: str
    rank: int
    why: str


VO_STEPS: tuple[DrillStep, ...] = (
    DrillStep("stop", "Stop injecting at once.", 1,
              "Every further deposit adds to the blockage, so stopping comes first [R85]."),
    DrillStep("red_flags", "Check for visual disturbance, eye pain or neurological signs; "
              "if any, call the emergency services and arrange urgent ophthalmology.", 2,
              "These signs make it an emergency that needs more than the clinic can "
              "give (expert practice) [R85]."),
    DrillStep("hyaluronidase", "Flood the whole affected area with high-dose hyaluronidase.",
              3, "Hyaluronidase dissolves a hyaluronic-acid product; the whole territory is "
              "flooded, not a single point (expert practice) [R85]."),
    DrillStep("warmth_massage", "Apply warmth and massage the area.", 3,
              "Warmth and massage go with hyaluronidase, to help flow (expert practice) [R85]."),
    DrillStep("reassess_repeat", "Recheck colour and capillary refill, and repeat the "
              "hyaluronidase until the skin reperfuses.", 4,
              "One dose may not be enough: hyaluronidase is repeated until reperfusion "
              "(expert practice) [R85]."),
    DrillStep("record_follow_up", "Record product, batch, sites and times, and arrange "
              "close follow-up.", 5,
              "Blistering and necrosis can follow days later; the record lets others act "
              "(expert practice)."),
    DrillStep("ice", "Apply an ice pack to reduce the swelling.", 0,
              "Harmful: cold narrows vessels; warmth is what is advised (expert practice) "
              "[R85]."),
    DrillStep("wait", "Wait 24 hours to see whether the colour returns by itself.", 0,
              "Harmful: waiting lets the skin die; hyaluronidase is given at once "
              "(expert practice) [R85]."),
)

# The fixed, scrambled order in which the cards are shown (letters a, b, c, …).
VO_DISPLAY_ORDER = ("hyaluronidase", "wait", "record_follow_up", "stop", "ice",
                    "reassess_repeat", "red_flags", "warmth_massage")
VO_TITLE = "Drill: the vascular occlusion response (hyaluronic-acid product)"
VO_INSTRUCTIONS = (
    "Put the letters of the steps you would take in order, as one string such as "
    '"abc", and leave out any step that would harm the patient.'
)


@dataclass(frozen=True)
class DrillFeedback:
    """The result of a drill answer: correct, and the lines to print."""

    correct: bool
    lines: tuple[str, ...]

    def text(self) -> str:
        return "\n".join(self.lines)


def vo_cards() -> list[tuple[str, DrillStep]]:
    """(letter, step) pairs in display order."""
    steps = {s.id: s for s in VO_STEPS}
    return [(chr(ord("a") + i), steps[sid]) for i, sid in enumerate(VO_DISPLAY_ORDER)]


def vo_drill_text() -> str:
    """The drill as plain text (also the text equivalent of its HTML view)."""
    lines = [VO_TITLE, VO_INSTRUCTIONS]
    lines += [f"  ({letter}) {step.text}" for letter, step in vo_cards()]
    lines.append(TEACHING_AID_LABEL)
    return "\n".join(lines)


def vo_drill_html() -> str:
    """The drill as escaped HTML: a labelled group with a list of lettered cards."""
    items = "".join(f"<li><strong>({letter})</strong> {escape(step.text)}</li>"
                    for letter, step in vo_cards())
    return (f"<div role='group' aria-label='{escape(VO_TITLE, quote=True)}'>"
            f"<p><strong>{escape(VO_TITLE)}</strong></p><p>{escape(VO_INSTRUCTIONS)}</p>"
            f"<ul style='list-style:none'>{items}</ul>"
            f"<p><em>{escape(TEACHING_AID_LABEL)}</em></p></div>")


def _letters(answer: Any) -> list[str]:
    """The answer as a list of letters; ValueError with one teaching message otherwise."""
    allowed = [letter for letter, _ in vo_cards()]
    if type(answer) is not str:
        raise ValueError(f'Your answer must be letters in quotes, for example "abc"; you gave '
                         f"{type(answer).__name__} {answer!r}.")
    letters = [c for c in answer.lower() if not c.isspace() and c not in ",;-"]
    if not letters:
        raise ValueError('No answer yet: put the letters between the quotes, for example "abc".')
    unknown = sorted({c for c in letters if c not in allowed})
    if unknown:
        raise ValueError(f"{', '.join(unknown)} is not a card: use letters from "
                         f"{allowed[0]} to {allowed[-1]}.")
    repeated = sorted({c for c in letters if letters.count(c) > 1})
    if repeated:
        raise ValueError(f"Each card goes in once; repeated: {', '.join(repeated)}.")
    return letters


def check_vo_order(answer: Any) -> DrillFeedback:
    """Check an ordering of the drill cards; explain the first problem found."""
    try:
        letters = _letters(answer)
    except ValueError as error:
        return DrillFeedback(False, (str(error),))
    cards = dict(vo_cards())
    chosen = [cards[c] for c in letters]
    harmful = [(c, s) for c, s in zip(letters, chosen, strict=True) if s.rank == 0]
    if harmful:
        letter, step = harmful[0]
        return DrillFeedback(False, (f"Not yet: ({letter}) {step.text}", step.why))
    missing = [(c, s) for c, s in vo_cards() if s.rank > 0 and c not in letters]
    if missing:
        letter, step = missing[0]
        return DrillFeedback(False, (f"Not yet: a step is missing, ({letter}) {step.text}",
                                     step.why))
    for i, (before, after) in enumerate(itertools.pairwise(chosen)):
        if after.rank < before.rank:
            return DrillFeedback(False, (
                f"Not yet: ({letters[i + 1]}) comes before ({letters[i]}).",
                f"({letters[i + 1]}) {after.text} {after.why}"))
    lines = ["Correct order. The working:"]
    lines += [f"{n}. {s.text} {s.why}" for n, s in enumerate(chosen, start=1)]
    lines += [f"Left out: {s.text} {s.why}" for _, s in vo_cards() if s.rank == 0]
    return DrillFeedback(True, tuple(lines))


def vo_drill_feedback_html(feedback: DrillFeedback) -> str:
    """The drill's feedback as a callout: a status, prominent, never only colour."""
    from course.callouts import callout

    first, *rest = feedback.lines
    if feedback.correct:
        items = "".join(f"<li>{escape(line.split('. ', 1)[-1])}</li>"
                        for line in rest if not line.startswith("Left out: "))
        left_out = "".join(f"<li>{escape(line.removeprefix('Left out: '))}</li>"
                           for line in rest if line.startswith("Left out: "))
        body = f"<p>The working:</p><ol>{items}</ol>"
        if left_out:
            body += f"<p>Left out:</p><ul>{left_out}</ul>"
        return callout("Correct order", body, kind="ok", role="status",
                       css_class="course-drill-feedback")
    body = "".join(f"<p>{escape(line)}</p>" for line in rest)
    return callout(first, body, kind="warning", role="status",
                   css_class="course-drill-feedback")


def vo_drill_check(answer: Any) -> None:
    """Show the feedback of :func:`check_vo_order` (what a notebook cell calls): HTML in
    JupyterLab, the same text elsewhere."""
    from IPython.display import display

    from course.callouts import Shown

    feedback = check_vo_order(answer)
    display(Shown(vo_drill_feedback_html(feedback), feedback.text()))


# ---------------------------------------------------------------- cumulative lidocaine

LABELS = ("UK", "US")
UK_PLAIN_LIDOCAINE_MAX_MG = 200.0
US_LIDOCAINE_MG_PER_KG = 4.5
US_LIDOCAINE_MAX_MG = 300.0
LABEL_TEXT = {
    "UK": "UK SmPC/BNF: maximum 200 mg for plain lidocaine",
    "US": "US labelling: 4.5 mg/kg up to 300 mg",
}
MG_PER_ML_PER_PERCENT = 10.0  # 1% w/v = 1 g per 100 mL = 10 mg/mL


def _positive(value: Any, what: str, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value \
            or not 0 <= value <= high:
        raise ValueError(f"Enter {what}: a number from 0 to {high:g} (you entered {value!r}).")
    return float(value)


def session_lidocaine_mg(products: Iterable[tuple[str, Any, Any]]) -> float:
    """Total lidocaine in mg from (name, lidocaine mg/mL, mL injected) for every product."""
    total = 0.0
    for i, item in enumerate(products):
        if not (isinstance(item, tuple) and len(item) == 3 and isinstance(item[0], str)):
            raise ValueError(f"Give product {i + 1} as (name, lidocaine in mg per mL, mL "
                             f'injected), for example ("Lidocaine 1%", 10, 2) (you entered '
                             f"{item!r}).")
        name, mg_per_ml, volume = item
        total += _positive(mg_per_ml, f"the lidocaine in mg per mL of {name}", 40.0) * \
            _positive(volume, f"the mL of {name} injected", 100.0)
    return total


def lidocaine_ceiling_mg(label: str, weight_kg: Any = None) -> float:
    """The maximum dose of plain lidocaine under the named label (UK, or US by weight)."""
    if label not in LABELS:
        raise ValueError(f'Choose the label: "UK" or "US" (you entered {label!r}).')
    if label == "UK":
        return UK_PLAIN_LIDOCAINE_MAX_MG
    if weight_kg is None:
        raise ValueError("The US label allows 4.5 mg/kg up to 300 mg, so it needs the "
                         "patient's weight: add it, for example weight_kg=70.")
    weight = _positive(weight_kg, "the weight in kilograms", 350.0)
    if weight == 0:
        raise ValueError("Enter the weight in kilograms: a number above 0, up to 350 "
                         "(you entered 0).")
    return min(US_LIDOCAINE_MG_PER_KG * weight, US_LIDOCAINE_MAX_MG)


def lidocaine_session_text(products: Iterable[tuple[str, Any, Any]], label: str = "UK",
                           weight_kg: Any = None) -> str:
    """The session's lidocaine, product by product, against the ceiling of the label."""
    items = list(products)
    total = session_lidocaine_mg(items)
    ceiling = lidocaine_ceiling_mg(label, weight_kg)
    parts = [f"{name}: {mg:g} mg/mL × {ml:g} mL = {mg * ml:g} mg" for name, mg, ml in items]
    verdict = ("above" if total > ceiling else "within")
    return "\n".join([
        *parts,
        f"Session total: {total:g} mg of lidocaine, {verdict} the ceiling of {ceiling:g} mg "
        f"({LABEL_TEXT[label]}).",
        "Count every product and every injection point; check the product's own labelling "
        "(expert practice).",
        TEACHING_AID_LABEL,
    ])



def lidocaine_session_html(products: Iterable[tuple[str, Any, Any]], label: str = "UK",
                           weight_kg: Any = None) -> str:
    """The session's lidocaine as HTML: products in a table, then the verdict as a callout
    with the share of the ceiling as a bar (an alert above the ceiling)."""
    from course.callouts import callout, limit_bar, table

    items = list(products)
    total = session_lidocaine_mg(items)
    ceiling = lidocaine_ceiling_mg(label, weight_kg)
    rows = [[name, f"{mg:g} mg/mL", f"{ml:g} mL", f"{mg * ml:g} mg"] for name, mg, ml in items]
    above = total > ceiling
    title = (f"Session total {total:g} mg: {'above' if above else 'within'} the ceiling of "
             f"{ceiling:g} mg")
    body = (limit_bar(total / ceiling, label) + f"<p>{escape(LABEL_TEXT[label])}.</p>"
            "<p>Count every product and every injection point; check the product's own "
            "labelling (expert practice).</p>"
            f'<p class="course-teaching-aid"><strong>{escape(TEACHING_AID_LABEL)}</strong></p>')
    return (table(["Product", "Lidocaine", "Injected", "Lidocaine dose"], rows,
                  "Lidocaine in this session")
            + callout(title, body, kind="danger" if above else "ok",
                      role="alert" if above else "status", css_class="course-dose-result"))


def lidocaine_session(products: Iterable[tuple[str, Any, Any]], label: str = "UK",
                      weight_kg: Any = None):
    """The session's lidocaine for a notebook cell (HTML with its text twin)."""
    from course.callouts import Shown

    items = list(products)
    return Shown(lidocaine_session_html(items, label, weight_kg),
                 lidocaine_session_text(items, label, weight_kg))
