"""What an informed-consent record for mesotherapy covers, and feedback on a record.

The elements live in ``course/data/consent.toml`` (clinical-brief.md §6, §7, §9) and are
validated on load. Two are sourced: the patient must be fully informed of advantages and
limitations [R1], and told when a product is used off-label, the practitioner being
responsible for that use [R8]. The others (product and regulatory status, number of
sessions, realistic outcome, alternatives, specific risks including NTM infection and
scarring, aftercare, a cooling-off period, photographs and documentation, the batch
number) are expert practice [GK] and are worded softly.

A **consent record** is a dict mapping element ids to a note of what was recorded. An
element counts as covered only when its note has the element's required *content*: each
element lists what the note must name (``[[element.<id>.need]]``: a description and the
words that show it), and a scenario may add needs (``[[scenario.<id>.need]]``, e.g. the
risks that matter for that patient). ``True`` (a tick) and filler ("n/a", "discussed",
"lorem ipsum", one word repeated) cover nothing. ``False``, ``None`` or a blank string
mean not recorded; any other value, or an unknown element or scenario id, raises
ValueError naming it. This is a teaching exercise, not a legal standard: local regulation
governs consent, and no keyword check can tell whether a discussion was true or understood.

Pure functions: :func:`element_results`, :func:`missing_elements`, :func:`consent_score`,
:func:`consent_feedback`; the graded exercise of Module 03 calls them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course.catalogue import Tables, check_ids
from course.complications import cited_ids
from course.content import TEXT, TEXT_LIST, ContentError, Rule, validated
from course.paths import DATA_DIR

CONSENT_FILE = DATA_DIR / "consent.toml"
BASES = ("sourced", "expert_practice")
EXPERT_PRACTICE = "expert practice"
GK_NOTE = "GK = expert practice: general medical knowledge, not graded evidence."
LEGAL_NOTE = ("Expert-practice elements describe common practice, not a legal standard; "
              "local regulation governs consent.")
LIMIT_NOTE = ("The check looks for the content each element needs; only a tutor, or the "
              "patient, can tell whether what was written was true, balanced and understood.")

# Words that say nothing about what was discussed: a note made only of these is filler.
FILLER_WORDS = frozenset({
    "n", "a", "na", "nil", "none", "nothing", "tbc", "tbd", "x", "xx", "xxx", "etc",
    "ok", "okay", "yes", "y", "done", "fine", "covered", "discussed", "explained",
    "agreed", "given", "told", "see", "notes", "note", "as", "per", "standard", "form",
    "usual", "all", "the", "and", "was", "were", "with", "patient", "pt", "lorem",
    "ipsum", "dolor", "sit", "amet", "test", "asdf", "blah", "same", "above", "ditto",
})
COVERED, NOT_RECORDED, TICK_ONLY, FILLER, INCOMPLETE = (
    "covered", "not recorded", "tick only", "filler", "incomplete")


@dataclass(frozen=True)
class Need:
    what: str
    words: tuple[str, ...]


@dataclass(frozen=True)
class ConsentElement:
    id: str
    label: str
    why: str
    basis: str
    refs: tuple[str, ...]
    claims: tuple[str, ...]
    needs: tuple[Need, ...]


@dataclass(frozen=True)
class ElementResult:
    id: str
    label: str
    status: str
    lacking: tuple[str, ...] = ()

    @property
    def covered(self) -> bool:
        return self.status == COVERED


def _normal(text: str) -> str:
    """Lower case, hyphens and apostrophes as spaces, single spaces."""
    return " ".join(re.sub(r"[-‐–—_'’/]", " ", text.lower()).split())


WORD_LIST = Rule(lambda v: TEXT_LIST.check(v) and bool(v) and all(w.strip() for w in v),
                 "a non-empty list of non-blank words")
NEED_FIELDS = {"what": TEXT, "words": WORD_LIST}
ELEMENT_FIELDS = {
    "label": TEXT, "why": TEXT,
    "basis": Rule(lambda v: v in BASES, f"one of {', '.join(BASES)}"),
    "refs": Rule(lambda v: TEXT_LIST.check(v) and bool(v), "a non-empty list of reference ids"),
    "claims": TEXT_LIST,
    "need": Rule(lambda v: isinstance(v, list) and bool(v),
                 "one or more [[element.<id>.need]] tables"),
}
SCENARIO_FIELDS = {"label": TEXT, "need": Rule(lambda v: isinstance(v, list) and bool(v),
                                               "one or more [[scenario.<id>.need]] tables")}
SCENARIO_NEED_FIELDS = {"element": TEXT, **NEED_FIELDS}


def _needs(records: list[Any], where: str, fields: dict[str, Rule]) -> list[dict[str, Any]]:
    return [validated(r, f"{where}: need {i + 1}", fields) for i, r in enumerate(records)]


def _need(fields: dict[str, Any]) -> Need:
    return Need(what=fields["what"], words=tuple(_normal(w) for w in fields["words"]))


def _element(element_id: str, record: Any, path: Path) -> ConsentElement:
    where = f"{path.name}: element {element_id!r}"
    fields = validated(record, where, ELEMENT_FIELDS)
    refs = fields["refs"]
    check_ids(refs, "references.toml", where, "refs")
    check_ids(fields["claims"], "claims.toml", where, "claims", kind="claim")
    cited = cited_ids(fields["why"])
    for ref in cited:
        if ref not in refs:
            raise ContentError(f"{where}: field 'why' cites {ref!r}, which is not in 'refs'")
    for ref in refs:
        if ref != "GK" and ref not in cited:
            raise ContentError(f"{where}: field 'refs': {ref!r} is not cited in 'why'")
    expert = fields["basis"] == "expert_practice"
    if expert != ("GK" in refs) or expert != (EXPERT_PRACTICE in fields["why"]):
        raise ContentError(f"{where}: an 'expert_practice' element, and only one, cites GK "
                           f"and says \"({EXPERT_PRACTICE})\" in 'why'")
    needs = tuple(_need(n) for n in _needs(fields["need"], where, NEED_FIELDS))
    return ConsentElement(id=element_id, label=fields["label"], why=fields["why"],
                          basis=fields["basis"], refs=tuple(refs),
                          claims=tuple(fields["claims"]), needs=needs)


@dataclass(frozen=True)
class Scenario:
    id: str
    label: str
    needs: tuple[tuple[str, Need], ...]


def _scenario(scenario_id: str, record: Any, elements: Mapping[str, ConsentElement],
              path: Path) -> Scenario:
    where = f"{path.name}: scenario {scenario_id!r}"
    fields = validated(record, where, SCENARIO_FIELDS)
    needs = []
    for i, need in enumerate(_needs(fields["need"], where, SCENARIO_NEED_FIELDS)):
        if need["element"] not in elements:
            raise ContentError(f"{where}: need {i + 1}: unknown element {need['element']!r}")
        needs.append((need["element"], _need(need)))
    return Scenario(id=scenario_id, label=fields["label"], needs=tuple(needs))


@dataclass(frozen=True)
class ConsentData:
    elements: Mapping[str, ConsentElement]
    scenarios: Mapping[str, Scenario]


def _consent(tables: dict[str, dict[str, Any]], path: Path) -> ConsentData:
    elements = tables["element"]
    scenarios = {k: _scenario(k, v, elements, path) for k, v in tables["scenario"].items()}
    return ConsentData(elements=elements, scenarios=scenarios)


CONSENT = Tables(CONSENT_FILE, {"element": _element, "scenario": None}, _consent,
                 optional=["scenario"])


def load_consent_data(path: Path = CONSENT_FILE) -> ConsentData:
    """Load and validate elements and scenarios; raise ContentError if anything is wrong."""
    return CONSENT.load(path)


def load_consent(path: Path = CONSENT_FILE) -> dict[str, ConsentElement]:
    """Load and validate the consent elements; raise ContentError if anything is wrong."""
    return dict(load_consent_data(path).elements)


def _data() -> ConsentData:
    return CONSENT.cached()


def consent_elements() -> Mapping[str, ConsentElement]:
    """The course's consent elements, loaded once per process, in feedback order."""
    return _data().elements


def consent_scenarios() -> Mapping[str, Scenario]:
    """Named scenarios whose records need more content (e.g. scenario-specific risks)."""
    return _data().scenarios


def _names(text: str, word: str) -> bool:
    """Does the normalised text contain the word at a word start (whole word if ≤ 3 letters)?"""
    end = r"\b" if len(word) <= 3 else ""
    return re.search(r"\b" + re.escape(word) + end, text) is not None


def is_filler(note: str) -> bool:
    """True when a note says nothing: filler words only, lorem ipsum, or one word repeated."""
    text = _normal(note)
    words = re.findall(r"[a-z0-9]+", text)
    if not words or "lorem ipsum" in text:
        return True
    if all(w in FILLER_WORDS for w in words):
        return True
    return len(words) >= 3 and len(set(words)) <= len(words) / 2


def _needs_for(element_id: str, scenario: str | None) -> tuple[Need, ...]:
    needs = consent_elements()[element_id].needs
    if scenario is None:
        return needs
    return needs + tuple(n for e, n in consent_scenarios()[scenario].needs if e == element_id)


def _result(element: ConsentElement, value: Any, scenario: str | None) -> ElementResult:
    def result(status: str, lacking: tuple[str, ...] = ()) -> ElementResult:
        return ElementResult(element.id, element.label, status, lacking)

    if value is None or value is False or (isinstance(value, str) and not value.strip()):
        return result(NOT_RECORDED)
    if value is True:
        return result(TICK_ONLY)
    if not isinstance(value, str):
        raise ValueError(f"consent record: element {element.id!r} must be a note (a string); "
                         f"got {value!r}")
    if is_filler(value):
        return result(FILLER)
    text = _normal(value)
    lacking = tuple(n.what for n in _needs_for(element.id, scenario)
                    if not any(_names(text, w) for w in n.words))
    return result(INCOMPLETE, lacking) if lacking else result(COVERED)


def element_results(record: dict[str, Any], scenario: str | None = None) -> list[ElementResult]:
    """One result per element, in the data's order: covered, or why not.

    ValueError names unknown element ids, an unknown scenario, or a value that is not a
    string, a bool or None.
    """
    if not isinstance(record, dict):
        raise ValueError(f"consent record must be a dict of element ids, "
                         f"got {type(record).__name__}")
    elements = consent_elements()
    if scenario is not None and scenario not in consent_scenarios():
        raise ValueError(f"unknown consent scenario {scenario!r} "
                         f"(known: {', '.join(consent_scenarios()) or 'none'})")
    unknown = [key for key in record if key not in elements]
    if unknown:
        raise ValueError(f"consent record: unknown element id(s) "
                         f"{', '.join(repr(k) for k in unknown)} "
                         f"(known elements: {', '.join(elements)})")
    return [_result(e, record.get(e.id), scenario) for e in elements.values()]


def missing_elements(record: dict[str, Any], scenario: str | None = None) -> list[str]:
    """Element ids the record does not cover with the content they need, in data order."""
    return [r.id for r in element_results(record, scenario) if not r.covered]


def consent_score(record: dict[str, Any], scenario: str | None = None) -> tuple[int, int]:
    """(elements covered with the content they need, number of elements)."""
    results = element_results(record, scenario)
    return sum(r.covered for r in results), len(results)


def _problem(result: ElementResult) -> str:
    if result.status == TICK_ONLY:
        return "a tick (True) shows nothing of what was said; write what you recorded"
    if result.status == FILLER:
        return "the note is filler and records nothing of the discussion"
    if result.status == INCOMPLETE:
        return "the note does not name " + "; nor ".join(result.lacking)
    return "not recorded"


def consent_feedback(record: dict[str, Any], scenario: str | None = None) -> str:
    """What the record covers, what it misses or leaves thin, and why, with references."""
    results = element_results(record, scenario)
    elements = consent_elements()
    done = [r for r in results if r.covered]
    lines = [f"Consent record: {len(done)} of {len(results)} elements recorded with the "
             f"content they need."]
    if done:
        lines.append("Recorded: " + "; ".join(r.label for r in done) + ".")
    todo = [r for r in results if not r.covered]
    if todo:
        lines.append("Missing or incomplete, and why the record should cover it:")
        for r in todo:
            element = elements[r.id]
            lines.append(f"- {element.label} ({_problem(r)}): {element.why} "
                         f"(References: {', '.join(element.refs)})")
    else:
        lines.append("Nothing is missing: every element is recorded with its content.")
    lines += [GK_NOTE, LEGAL_NOTE, LIMIT_NOTE]
    return "\n".join(lines)


# ---------------------------------------------------------------- HTML views (issue #18)


def consent_feedback_html(record: dict[str, Any], scenario: str | None = None) -> str:
    """The feedback of :func:`consent_feedback` as HTML: a status callout with lists."""
    from html import escape

    from course.callouts import callout

    results = element_results(record, scenario)
    elements = consent_elements()
    done = [r for r in results if r.covered]
    todo = [r for r in results if not r.covered]
    body = ""
    if done:
        body += "<p><strong>Recorded:</strong></p><ul>" + "".join(
            f"<li>{escape(r.label)}</li>" for r in done) + "</ul>"
    if todo:
        body += "<p><strong>Missing or incomplete, and why the record should cover it:</strong>"
        body += "</p><ul>" + "".join(
            f"<li><strong>{escape(elements[r.id].label)}</strong> ({escape(_problem(r))}): "
            f"{escape(elements[r.id].why)} <small>(References: "
            f"{escape(', '.join(elements[r.id].refs))})</small></li>" for r in todo) + "</ul>"
    else:
        body += "<p>Nothing is missing: every element is recorded with its content.</p>"
    body += "".join(f"<p><small>{escape(note)}</small></p>"
                    for note in (GK_NOTE, LEGAL_NOTE, LIMIT_NOTE))
    title = (f"Consent record: {len(done)} of {len(results)} elements recorded with the "
             "content they need")
    return callout(title, body, kind="ok" if not todo else "warning", role="status",
                   css_class="course-consent-feedback")


def consent_feedback_view(record: dict[str, Any], scenario: str | None = None):
    """Consent feedback for a notebook cell (HTML with its plain-text twin)."""
    from course.callouts import Shown

    return Shown(consent_feedback_html(record, scenario), consent_feedback(record, scenario))


def consent_elements_view():
    """The consent elements as a left-aligned table (HTML with its plain-text twin)."""
    from course.callouts import Shown, table

    rows = [[e.id, e.label, e.basis, ", ".join(e.refs)] for e in consent_elements().values()]
    text = "\n".join(f"{e.id}: {e.label} ({e.basis}; {', '.join(e.refs)})"
                     for e in consent_elements().values())
    return Shown(table(["Id (the key in your record)", "Element", "Basis", "References"], rows,
                       "Elements of a consent record"), text)
