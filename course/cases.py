"""Case studies (Module 04): realistic patients, key-feature scoring and branching.

The case catalogue (``course/data/cases.toml``) is learner-visible: vignettes, each
patient's screening record (course-design.md §6), a reason menu and a management menu,
and, for branching cases, what happens after each decision. It holds **no answer keys**.
Keys live only in the hidden tests of ``source/04-case-studies/01-cases.ipynb`` (nbgrader
strips them from the student version) and in the course's test suite, which is not
shipped to learners; :func:`score_case` receives the key as an argument.

An answer is a dict ``{"decision": str, "reasons": [codes], "management": [codes]}``:
one of the five decisions of :data:`course.risk.DECISIONS`, up to :data:`MAX_REASONS`
codes from the case's reason menu and up to :data:`MAX_MANAGEMENT` codes from its
management menu. Decisions are read case-insensitively, with spaces or hyphens as
underscores; codes are read case-insensitively. The caps keep "choose everything" from
scoring, as in key-feature problems ("select up to N").

Scoring rules (key-feature design, learning-design.md "Decisions, not recall"). A key is
``{"case", "decision", "decisive", "harmful_decisions", "harmful_actions", "management",
"points"}`` with two optional fields, ``"harmful_reasons"`` (reason codes that are
dangerous beliefs; default none) and ``"management_points"`` (default: half the points,
rounded down, when the key requires management steps, else 0). A case has three parts:

- **decision** — worth half of ``points - management_points``: credited when the decision
  is the key decision;
- **reasons** — worth the other half: credited when the decision is the key decision AND
  every decisive reason was chosen. So the right decision with incomplete reasons earns
  half of the decision-and-reasons share; the decisive reasons without the right
  decision earn nothing;
- **management** — worth ``management_points``: credited when every required step was
  chosen (all or nothing: the required steps are the minimum safe plan).

A reason or step that is neither decisive/required nor harmful costs nothing (within the
caps). **Any harmful choice** — a decision in ``harmful_decisions``, a reason in
``harmful_reasons`` or a step in ``harmful_actions`` — scores **0 for the whole case**,
whatever else is right (key-feature gating). In the notebook each part is one nbgrader
test cell with its own points, so the nbgrader grade equals :attr:`CaseScore.points`.

Invalid answers or keys raise ValueError naming the field; :func:`format_problems` gives
the same checks as learner-facing messages, without raising, for the visible format check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from html import escape
from pathlib import Path
from types import MappingProxyType
from typing import Any

from course import TEACHING_AID_LABEL
from course.content import TEXT, ContentError, Rule, read_toml, validated
from course.lesson import Rich, _table
from course.paths import DATA_DIR
from course.risk import DECISIONS, assess

CASES_PATH = DATA_DIR / "cases.toml"

MAX_REASONS = 3
"""The most reason codes an answer may choose."""
MAX_MANAGEMENT = 4
"""The most management codes an answer may choose."""
MENU_SIZE = (4, 8)
"""How many options a reason or management menu offers."""
ANSWER_FIELDS = ("decision", "reasons", "management")
ANSWER_TEMPLATE = '{"decision": "...", "reasons": ["CODE", ...], "management": ["CODE", ...]}'
CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")


# ---------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Option:
    """One entry of a case's reason or management menu."""

    code: str
    text: str


@dataclass(frozen=True)
class Case:
    """A patient vignette with its screening record and menus (no answer key); read-only."""

    id: str
    number: int
    title: str
    who: str
    age: int
    request: str
    history: str
    medications: tuple[str, ...]
    findings: str
    question: str
    management_question: str
    patient: Mapping[str, Any] = field(hash=False)
    reasons: tuple[Option, ...]
    management: tuple[Option, ...]
    branches: Mapping[str, str] = field(default_factory=dict, hash=False)

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(o.code for o in self.reasons)

    @property
    def management_codes(self) -> tuple[str, ...]:
        return tuple(o.code for o in self.management)

    @property
    def branching(self) -> bool:
        """True when :func:`reveal` tells what happens after each decision."""
        return bool(self.branches)


@dataclass(frozen=True)
class Catalogue:
    decisions: Mapping[str, str]
    cases: Mapping[str, Case]


def _menu_rule(what: str) -> Rule:
    low, high = MENU_SIZE
    return Rule(
        lambda v: isinstance(v, dict) and low <= len(v) <= high
        and all(isinstance(k, str) and CODE.match(k) and TEXT.check(t) for k, t in v.items()),
        f"a table of {low}–{high} {what}: CODE = \"text\", codes in upper case (A–Z, 0–9, _)",
    )


CASE_FIELDS = {
    "number": Rule(lambda v: type(v) is int and v >= 1, "a whole number from 1"),
    "title": TEXT, "who": TEXT,
    "age": Rule(lambda v: type(v) is int and 0 <= v <= 120, "a whole number of years, 0–120"),
    "request": TEXT, "history": TEXT, "findings": TEXT,
    "medications": Rule(lambda v: isinstance(v, list) and all(TEXT.check(x) for x in v),
                        "a list of non-empty strings (empty when there are none)"),
    "question": TEXT, "management_question": TEXT,
    "patient": Rule(lambda v: isinstance(v, dict), "a table of patient fields"),
    "reasons": _menu_rule("reasons"),
    "management": _menu_rule("management steps"),
}
BRANCHES = Rule(
    lambda v: isinstance(v, dict) and set(v) == set(DECISIONS)
    and all(TEXT.check(t) for t in v.values()),
    f"a table with one text for each decision ({', '.join(DECISIONS)})",
)


def _case(case_id: str, record: Any, where: str) -> Case:
    fields = validated(record, where, CASE_FIELDS, {"branches": BRANCHES})
    try:
        assess(fields["patient"])
    except ValueError as error:
        raise ContentError(f"{where}: field 'patient' is not a valid screening record "
                           f"({error})") from None
    if fields["patient"]["age"] != fields["age"]:
        raise ContentError(f"{where}: field 'age' ({fields['age']}) differs from "
                           f"patient.age ({fields['patient']['age']})")
    shared = set(fields["reasons"]) & set(fields["management"])
    if shared:
        raise ContentError(f"{where}: code(s) {', '.join(sorted(shared))} appear in both "
                           "menus; a code must be unique within a case")
    return Case(
        id=case_id, number=fields["number"], title=fields["title"], who=fields["who"],
        age=fields["age"], request=fields["request"], history=fields["history"],
        medications=tuple(fields["medications"]), findings=fields["findings"],
        question=fields["question"], management_question=fields["management_question"],
        patient=MappingProxyType(dict(fields["patient"])),
        reasons=tuple(Option(c, t) for c, t in fields["reasons"].items()),
        management=tuple(Option(c, t) for c, t in fields["management"].items()),
        branches=MappingProxyType(dict(fields.get("branches", {}))),
    )


def load_cases(path: Path = CASES_PATH) -> Catalogue:
    """Read and validate a case file; ContentError names the case and the field."""
    where = path.name
    top = validated(
        read_toml(path), where,
        {"decisions": BRANCHES, "cases": Rule(lambda v: isinstance(v, dict) and bool(v),
                                              "a non-empty table of cases")},
    )
    cases = {}
    for case_id, record in top["cases"].items():
        if not re.fullmatch(r"[a-z][a-z0-9_]*", case_id):
            raise ContentError(f"{where}: case id {case_id!r} must be lower case (a–z, 0–9, _)")
        cases[case_id] = _case(case_id, record, f"{where}: case {case_id!r}")
    numbers = sorted(c.number for c in cases.values())
    if numbers != list(range(1, len(cases) + 1)):
        raise ContentError(f"{where}: case numbers must run 1, 2, 3 … without gaps or "
                           f"repeats, got {numbers}")
    ordered = dict(sorted(cases.items(), key=lambda item: item[1].number))
    return Catalogue(decisions=MappingProxyType(dict(top["decisions"])),
                     cases=MappingProxyType(ordered))


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The course's case catalogue, loaded and validated once per process."""
    return load_cases()


def cases() -> Mapping[str, Case]:
    """The course's cases by id, in notebook order."""
    return catalogue().cases


def get_case(case_id: object) -> Case:
    """One case by id; ValueError names the known ids."""
    known = cases()
    if not isinstance(case_id, str) or case_id not in known:
        raise ValueError(f"case_id: unknown case {case_id!r} (known: {', '.join(known)})")
    return known[case_id]


# ---------------------------------------------------------------- the vignette


def _sections(case: Case) -> list[tuple[str, str]]:
    medications = "; ".join(case.medications) if case.medications else "None"
    return [
        ("Patient", f"{case.who}, aged {case.age}."),
        ("Request", case.request),
        ("History", case.history),
        ("Medications", medications + ("" if medications.endswith(".") else ".")),
        ("Findings", case.findings),
    ]


def case_markdown(case_id: str) -> str:
    """The vignette and both menus as Markdown (the notebook's case stem)."""
    case = get_case(case_id)
    decisions = catalogue().decisions
    lines = [f"**{label}.** {text}\n" for label, text in _sections(case)]
    lines.append(f"**Decision.** {case.question} Choose one:\n")
    lines += [f"- `{d}`: {decisions[d]}" for d in DECISIONS]
    lines.append(f"\n**Reasons.** Which findings decide the case? Choose up to "
                 f"{MAX_REASONS}:\n")
    lines += [f"- `{o.code}`: {o.text}" for o in case.reasons]
    lines.append(f"\n**Management.** {case.management_question}\n")
    lines += [f"- `{o.code}`: {o.text}" for o in case.management]
    return "\n".join(lines)


def case_text(case_id: str) -> str:
    """The same case as plain text (for screen readers and terminals)."""
    case = get_case(case_id)
    decisions = catalogue().decisions
    lines = [f"Case {case.number}: {case.title}"]
    lines += [f"{label}. {text}" for label, text in _sections(case)]
    lines.append(f"Decision. {case.question} Choose one:")
    lines += [f"  {d}: {decisions[d]}" for d in DECISIONS]
    lines.append(f"Reasons. Which findings decide the case? Choose up to {MAX_REASONS}:")
    lines += [f"  {o.code}: {o.text}" for o in case.reasons]
    lines.append(f"Management. {case.management_question}")
    lines += [f"  {o.code}: {o.text}" for o in case.management]
    return "\n".join(lines)


# ---------------------------------------------------------------- answers


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _decision(value: object) -> str | None:
    """A decision read leniently ('Proceed with precautions'), or None."""
    if type(value) is not str:
        return None
    text = "_".join(value.strip().lower().replace("-", " ").split())
    return text if text in DECISIONS else None


def _codes(name: str, value: object, menu: tuple[str, ...], cap: int) -> list[str]:
    """Problems with one list of codes (empty when it is fine)."""
    example = f'["{menu[0]}"]' if menu else "[]"
    if type(value) is not list:
        return [f"'{name}' must be a list of codes in quotes, for example {example}; "
                f"you gave {type(value).__name__} {_short(value)}"]
    problems, seen = [], set()
    for position, item in enumerate(value, start=1):
        if type(item) is not str:
            problems.append(f"'{name}' item {position} must be a code in quotes, not "
                            f"{type(item).__name__} {_short(item)}")
            continue
        code = item.strip().upper()
        if code not in menu:
            problems.append(f"'{name}': {item!r} is not a code of this case's menu of "
                            f"{name} ({', '.join(menu) or 'none'})")
        elif code in seen:
            problems.append(f"'{name}': {item!r} is listed twice")
        seen.add(code)
    if len(value) > cap:
        problems.append(f"'{name}': choose at most {cap}; you chose {len(value)}")
    return problems


def _answer_problems(case: Case, answer: object) -> list[str]:
    if type(answer) is not dict:
        return [f"must be a dict like {ANSWER_TEMPLATE}; you gave "
                f"{type(answer).__name__} {_short(answer)}"]
    problems = []
    for name in ANSWER_FIELDS:
        if name not in answer:
            problems.append(f"missing key '{name}': the dict needs exactly the keys "
                            "'decision', 'reasons' and 'management'")
    for name in answer:
        if name not in ANSWER_FIELDS:
            problems.append(f"unknown key {_short(name)}: the dict needs exactly the keys "
                            "'decision', 'reasons' and 'management'")
    if "decision" in answer and _decision(answer["decision"]) is None:
        value = answer["decision"]
        if type(value) is str:
            problems.append(f"'decision' {value!r} is not one of: {', '.join(DECISIONS)}")
        else:
            problems.append(f"'decision' must be one decision in quotes, one of: "
                            f"{', '.join(DECISIONS)}; you gave {type(value).__name__} "
                            f"{_short(value)}")
    if "reasons" in answer:
        problems += _codes("reasons", answer["reasons"], case.reason_codes, MAX_REASONS)
    if "management" in answer:
        problems += _codes("management", answer["management"], case.management_codes,
                           MAX_MANAGEMENT)
    return problems


def format_problems(case_id: str, answer: object) -> list[str]:
    """What is wrong with the form of an answer to a case (empty when the form is fine).

    Never raises for any answer; raises ValueError only for an unknown case id.
    """
    return _answer_problems(get_case(case_id), answer)


# ---------------------------------------------------------------- keys and scoring


@dataclass(frozen=True)
class PartScore:
    """One scored part of a case: decision, reasons or management."""

    name: str
    points: float
    max_points: float

    @property
    def full(self) -> bool:
        """True when the part is worth something and earned all of it."""
        return self.max_points > 0 and self.points == self.max_points


@dataclass(frozen=True)
class CaseScore:
    points: float
    max_points: int
    harmful: bool
    feedback: str
    parts: tuple[PartScore, ...] = ()

    def part(self, name: str) -> PartScore:
        """The part called ``name`` (decision, reasons or management)."""
        for candidate in self.parts:
            if candidate.name == name:
                return candidate
        raise ValueError(f"name: no part {name!r} (parts: "
                         f"{', '.join(p.name for p in self.parts)})")


KEY_FIELDS = ("case", "decision", "decisive", "harmful_decisions", "harmful_actions",
              "management", "points")
KEY_OPTIONAL = ("harmful_reasons", "management_points")


def _key_codes(key: Mapping[str, Any], name: str, menu: tuple[str, ...], allow_empty: bool
               ) -> frozenset[str]:
    value = key.get(name, [])
    if not (isinstance(value, list) and all(type(c) is str for c in value)):
        raise ValueError(f"key: field {name!r} must be a list of codes, got {_short(value)}")
    unknown = [c for c in value if c not in menu]
    if unknown:
        raise ValueError(f"key: field {name!r}: {', '.join(unknown)} not in the case menu")
    if not allow_empty and not value:
        raise ValueError(f"key: field {name!r} must not be empty")
    return frozenset(value)


@dataclass(frozen=True)
class _Key:
    case: Case
    decision: str
    decisive: frozenset[str]
    harmful_decisions: frozenset[str]
    harmful_reasons: frozenset[str]
    harmful_actions: frozenset[str]
    management: frozenset[str]
    points: int
    management_points: int


def _key(key: object) -> _Key:
    """Validate a key; ValueError names the field."""
    if not isinstance(key, dict):
        raise ValueError(f"key: must be a dict, got {type(key).__name__}")
    for name in KEY_FIELDS:
        if name not in key:
            raise ValueError(f"key: missing field {name!r}")
    for name in key:
        if name not in (*KEY_FIELDS, *KEY_OPTIONAL):
            raise ValueError(f"key: unknown field {name!r} (known: "
                             f"{', '.join((*KEY_FIELDS, *KEY_OPTIONAL))})")
    case = get_case(key["case"])
    if key["decision"] not in DECISIONS:
        raise ValueError(f"key: field 'decision' must be one of {', '.join(DECISIONS)}")
    harmful_decisions = key["harmful_decisions"]
    if not (isinstance(harmful_decisions, list)
            and all(d in DECISIONS for d in harmful_decisions)):
        raise ValueError("key: field 'harmful_decisions' must be a list of decisions")
    if key["decision"] in harmful_decisions:
        raise ValueError("key: field 'harmful_decisions' contains the key decision")
    decisive = _key_codes(key, "decisive", case.reason_codes, allow_empty=False)
    harmful_reasons = _key_codes(key, "harmful_reasons", case.reason_codes, allow_empty=True)
    required = _key_codes(key, "management", case.management_codes, allow_empty=True)
    harmful_actions = _key_codes(key, "harmful_actions", case.management_codes,
                                 allow_empty=True)
    if decisive & harmful_reasons or required & harmful_actions:
        raise ValueError("key: a code cannot be both decisive/required and harmful")
    if len(decisive) > MAX_REASONS or len(required) > MAX_MANAGEMENT:
        raise ValueError(f"key: at most {MAX_REASONS} decisive reasons and "
                         f"{MAX_MANAGEMENT} required steps (the answer caps)")
    points = key["points"]
    if type(points) is not int or points < 2:
        raise ValueError("key: field 'points' must be a whole number from 2")
    management_points = key.get("management_points", points // 2 if required else 0)
    if type(management_points) is not int or not (
            (0 < management_points <= points - 2) if required else management_points == 0):
        raise ValueError("key: field 'management_points' must be a whole number from 1 to "
                         "points - 2 when steps are required, and 0 when none are")
    return _Key(case, key["decision"], decisive, frozenset(harmful_decisions),
                harmful_reasons, harmful_actions, required, points, management_points)


def _listing(codes: set[str] | frozenset[str]) -> str:
    return ", ".join(sorted(codes))


def score_case(answer: dict, key: dict) -> CaseScore:
    """Score one answer against one key (see the module docstring for the rules).

    Pure: the same answer and key always give the same score. Raises ValueError naming
    the field for an invalid key or answer.
    """
    k = _key(key)
    problems = _answer_problems(k.case, answer)
    if problems:
        raise ValueError("answer: " + "; ".join(problems))
    decision = _decision(answer["decision"])
    reasons = {c.strip().upper() for c in answer["reasons"]}
    steps = {c.strip().upper() for c in answer["management"]}
    share = (k.points - k.management_points) / 2
    header = f"Case {k.case.number}"
    harms = ([f"decision '{decision}'"] if decision in k.harmful_decisions else []) \
        + [f"reason {c}" for c in sorted(reasons & k.harmful_reasons)] \
        + [f"action {c}" for c in sorted(steps & k.harmful_actions)]
    if harms:
        parts = (PartScore("decision", 0.0, share), PartScore("reasons", 0.0, share),
                 PartScore("management", 0.0, float(k.management_points)))
        feedback = (f"{header}: 0 of {k.points} points. Harmful choice: {'; '.join(harms)}. "
                    "A harmful decision, reason or action scores 0 for the whole case "
                    "(key-feature gating), whatever else is right.")
        return CaseScore(0.0, k.points, True, feedback, parts)
    right = decision == k.decision
    missing = k.decisive - reasons
    absent = k.management - steps
    parts = (
        PartScore("decision", share if right else 0.0, share),
        PartScore("reasons", share if right and not missing else 0.0, share),
        PartScore("management", float(k.management_points) if not absent else 0.0,
                  float(k.management_points)),
    )
    lines = [f"Decision '{decision}': " + ("the key decision." if right else
                                           "not the key decision.")]
    if not right:
        lines.append("Reasons: not credited without the key decision.")
    elif missing:
        lines.append(f"Reasons: a decisive reason is missing ({_listing(missing)}).")
    else:
        lines.append("Reasons: every decisive reason chosen.")
    others = reasons - k.decisive
    if others:
        lines.append(f"Other reasons chosen (no penalty): {_listing(others)}.")
    if k.management:
        lines.append("Management: every required step chosen." if not absent else
                     f"Management: a required step is missing ({_listing(absent)}).")
    points = sum(p.points for p in parts)
    detail = " ".join(lines)
    scored = ", ".join(f"{p.name} {p.points:g}/{p.max_points:g}" for p in parts if p.max_points)
    return CaseScore(points, k.points, False,
                     f"{header}: {points:g} of {k.points} points ({scored}). {detail}", parts)


# ---------------------------------------------------------------- branching and screening


def reveal(case_id: str, answer: object) -> Rich:
    """What happens next in a branching case, after the decision the learner recorded.

    ``answer`` is the learner's answer dict or a decision string. An answer without a
    valid decision gets a message, never an exception (it is the learner's data); an
    unknown or non-branching case raises ValueError.
    """
    case = get_case(case_id)
    if not case.branching:
        branching = [c.id for c in cases().values() if c.branching]
        raise ValueError(f"case_id: {case_id!r} does not branch (branching cases: "
                         f"{', '.join(branching)})")
    value = answer.get("decision") if type(answer) is dict else answer
    decision = _decision(value)
    if decision is None:
        text = ("No decision recorded yet: set \"decision\" in your answer to one of "
                f"{', '.join(DECISIONS)}, run your answer cell, then run this cell again.")
        return Rich(f"<p>{escape(text)}</p>", text)
    story = case.branches[decision]
    heading = f"What happens next (Case {case.number}, your decision: {decision})"
    return Rich(
        f"<blockquote role='note'><strong>{escape(heading)}.</strong> {escape(story)}"
        "</blockquote>",
        f"{heading}. {story}",
    )


def screening_table() -> Rich:
    """The screening aid's decision on every case record, with the teaching-aid label."""
    rows = []
    for case in cases().values():
        assessment = assess(dict(case.patient))
        rows.append([str(case.number), case.title, assessment.decision.replace("_", " "),
                     ", ".join(r.code for r in assessment.reasons)])
    return _table(["Case", "Title", "Screening aid says", "Rules that fired"], rows,
                  f"The screening aid on each case's record. {TEACHING_AID_LABEL}")
