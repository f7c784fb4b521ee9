"""Case studies (Module 04): realistic patients, key-feature scoring and branching.

The case catalogue (``course/data/cases.toml``) is learner-visible: vignettes, each
patient's screening record (course-design.md §6), a reason menu and a management menu,
each case's answer limits (``max_reasons``, ``max_management``) and, for a branching case,
a follow-up (a second decision point asked whatever the learner decided). It holds **no
answer keys** and no decision-specific consequences. Keys live only in the hidden tests
of ``source/04-case-studies/01-cases.ipynb`` (nbgrader strips them from the student
version) and in the course's test suite, which is not shipped to learners;
:func:`score_case` receives the key as an argument and :func:`consequence` the story of
what follows each decision, so both reach the learner only in the graded feedback.

An answer is a dict ``{"decision": str, "reasons": [codes], "management": [codes]}``:
one of the five decisions of :data:`course.risk.DECISIONS`, up to ``case.max_reasons``
codes from the case's reason menu and up to ``case.max_management`` codes from its
management menu. Decisions are read case-insensitively, with spaces or hyphens as
underscores; codes are read case-insensitively.

Scoring rules (key-feature design, learning-design.md "Decisions, not recall"). A key
classifies every option of the case as data::

    {"case", "decision", "harmful_decisions",
     "decisive", "neutral_reasons", "harmful_reasons",
     "management", "neutral_actions", "harmful_actions",
     "points", "management_points" (optional: default half the points)}

``decisive``/``management`` are the key reasons and required steps, ``neutral_*`` are
acceptable choices that cost nothing, ``harmful_*`` are dangerous; every other code of the
menu is **wrong**. A case has three parts, each a whole number of points:

- **decision**, worth half of ``points - management_points``: the key decision;
- **reasons**, worth the other half: with the key decision, credit in proportion to the
  decisive reasons chosen (rounded down), minus :data:`WRONG_PENALTY` for each wrong
  reason, never below 0;
- **management**, worth ``management_points``: credit in proportion to the required steps
  chosen (rounded down), minus :data:`WRONG_PENALTY` for each wrong step, never below 0.

So over-selection costs points: a plan that adds "weekly sessions" or a promise to the
key steps loses one point per wrong step. **Any harmful choice** (a harmful decision,
reason or step) scores **0 for the whole case**, whatever else is right (key-feature
gating). In the notebook every point is one nbgrader test cell that passes when its part
has reached that point, so the nbgrader grade equals :attr:`CaseScore.points`.

Invalid answers or keys raise ValueError naming the field; :func:`format_problems` gives
the same checks as learner-facing messages, without raising, for the visible format check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from types import MappingProxyType
from typing import Any

from course.catalogue import DataFile, get_record
from course.content import TEXT, ContentError, Rule, validated
from course.lesson import Rich
from course.paths import DATA_DIR
from course.risk import DECISIONS, assess

MENU_SIZE = (4, 8)
"""How many options a reason or management menu offers."""
WRONG_PENALTY = 1
"""Points a wrong (neither key, acceptable nor harmful) reason or step costs its part."""
ANSWER_FIELDS = ("decision", "reasons", "management")
ANSWER_TEMPLATE = '{"decision": "...", "reasons": ["CODE", ...], "management": ["CODE", ...]}'
CODE = re.compile(r"^[A-Z][A-Z0-9_]*$")
QUESTION_ID = re.compile(r"^q\d+(_\d+)+$")


# ---------------------------------------------------------------- the catalogue


@dataclass(frozen=True)
class Option:
    """One entry of a case's reason or management menu."""

    code: str
    text: str


@dataclass(frozen=True)
class FollowUp:
    """A second decision point: the story goes on, whatever the learner decided."""

    intro: str
    question: str


@dataclass(frozen=True)
class Case:
    """A patient vignette with its screening record, menus and limits (no key); read-only."""

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
    max_reasons: int
    max_management: int
    patient: Mapping[str, Any] = field(hash=False)
    reasons: tuple[Option, ...]
    management: tuple[Option, ...]
    follow_up: FollowUp | None = None

    @property
    def reason_codes(self) -> tuple[str, ...]:
        return tuple(o.code for o in self.reasons)

    @property
    def management_codes(self) -> tuple[str, ...]:
        return tuple(o.code for o in self.management)

    @property
    def branching(self) -> bool:
        """True when the case goes on to a second decision point (:func:`follow_up`)."""
        return self.follow_up is not None


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


LIMIT = Rule(lambda v: type(v) is int and 1 <= v <= MENU_SIZE[1],
             f"a whole number from 1 to {MENU_SIZE[1]}")
CASE_FIELDS = {
    "number": Rule(lambda v: type(v) is int and v >= 1, "a whole number from 1"),
    "title": TEXT, "who": TEXT,
    "age": Rule(lambda v: type(v) is int and 0 <= v <= 120, "a whole number of years, 0–120"),
    "request": TEXT, "history": TEXT, "findings": TEXT,
    "medications": Rule(lambda v: isinstance(v, list) and all(TEXT.check(x) for x in v),
                        "a list of non-empty strings (empty when there are none)"),
    "question": TEXT,
    "management_question": Rule(lambda v: TEXT.check(v) and "choose up to" not in v.lower(),
                                "a non-empty string without the limit (\"Choose up to N\" "
                                "is added from max_management)"),
    "max_reasons": LIMIT, "max_management": LIMIT,
    "patient": Rule(lambda v: isinstance(v, dict), "a table of patient fields"),
    "reasons": _menu_rule("reasons"),
    "management": _menu_rule("management steps"),
}
FOLLOW_UP = Rule(
    lambda v: isinstance(v, dict) and set(v) == {"intro", "question"}
    and TEXT.check(v["intro"]) and isinstance(v["question"], str)
    and bool(QUESTION_ID.match(v["question"])),
    "a table with intro (text) and question (a practice question id such as \"q4_1_12\")",
)
DECISION_TEXTS = Rule(
    lambda v: isinstance(v, dict) and set(v) == set(DECISIONS)
    and all(TEXT.check(t) for t in v.values()),
    f"a table with one text for each decision ({', '.join(DECISIONS)})",
)


def _case(case_id: str, record: Any, where: str) -> Case:
    fields = validated(record, where, CASE_FIELDS, {"follow_up": FOLLOW_UP})
    try:
        assess(dict(fields["patient"]))
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
    for limit, menu in (("max_reasons", "reasons"), ("max_management", "management")):
        if fields[limit] > len(fields[menu]):
            raise ContentError(f"{where}: field {limit!r} ({fields[limit]}) is larger than "
                               f"the {menu} menu ({len(fields[menu])} entries)")
    follow = fields.get("follow_up")
    return Case(
        id=case_id, number=fields["number"], title=fields["title"], who=fields["who"],
        age=fields["age"], request=fields["request"], history=fields["history"],
        medications=tuple(fields["medications"]), findings=fields["findings"],
        question=fields["question"], management_question=fields["management_question"],
        max_reasons=fields["max_reasons"], max_management=fields["max_management"],
        patient=MappingProxyType(dict(fields["patient"])),
        reasons=tuple(Option(c, t) for c, t in fields["reasons"].items()),
        management=tuple(Option(c, t) for c, t in fields["management"].items()),
        follow_up=FollowUp(follow["intro"], follow["question"]) if follow else None,
    )


def _catalogue(data: dict[str, Any], path: Path) -> Catalogue:
    where = path.name
    top = validated(
        data, where,
        {"decisions": DECISION_TEXTS,
         "cases": Rule(lambda v: isinstance(v, dict) and bool(v), "a non-empty table of cases")},
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


CASES = DataFile(DATA_DIR / "cases.toml", _catalogue)
CASES_PATH = CASES.path


def load_cases(path: Path = CASES_PATH) -> Catalogue:
    """Read and validate a case file; ContentError names the case and the field."""
    return CASES.load(path)


def catalogue() -> Catalogue:
    """The course's case catalogue, loaded and validated once per process."""
    return CASES.cached()


def cases() -> Mapping[str, Case]:
    """The course's cases by id, in notebook order."""
    return catalogue().cases


def get_case(case_id: object) -> Case:
    """One case by id; ValueError names the known ids."""
    return get_record(cases(), case_id, "case_id", message="{what}: unknown case {got!r} "
                      "(known: {known})")


def limits(case_id: str) -> dict[str, int]:
    """The answer limits of one case, for forms: ``{"max_reasons": n, "max_management": m}``."""
    case = get_case(case_id)
    return {"max_reasons": case.max_reasons, "max_management": case.max_management}


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
                 f"{case.max_reasons}:\n")
    lines += [f"- `{o.code}`: {o.text}" for o in case.reasons]
    lines.append(f"\n**Management.** {case.management_question} Choose up to "
                 f"{case.max_management}:\n")
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
    lines.append(f"Reasons. Which findings decide the case? Choose up to {case.max_reasons}:")
    lines += [f"  {o.code}: {o.text}" for o in case.reasons]
    lines.append(f"Management. {case.management_question} Choose up to "
                 f"{case.max_management}:")
    lines += [f"  {o.code}: {o.text}" for o in case.management]
    return "\n".join(lines)


# ---------------------------------------------------------------- answers


def _short(value: object) -> str:
    try:
        text = repr(value)
    except Exception:  # a learner's object with a broken __repr__
        text = f"<{type(value).__name__}>"
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
            problems.append(f"'{name}': {_short(item)} is not a code of this case's menu of "
                            f"{name} ({', '.join(menu) or 'none'})")
        elif code in seen:
            problems.append(f"'{name}': {_short(item)} is listed twice")
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
            problems.append(f"'decision' {_short(value)} is not one of: {', '.join(DECISIONS)}")
        else:
            problems.append(f"'decision' must be one decision in quotes, one of: "
                            f"{', '.join(DECISIONS)}; you gave {type(value).__name__} "
                            f"{_short(value)}")
    if "reasons" in answer:
        problems += _codes("reasons", answer["reasons"], case.reason_codes, case.max_reasons)
    if "management" in answer:
        problems += _codes("management", answer["management"], case.management_codes,
                           case.max_management)
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

    def reached(self, point: int) -> bool:
        """True when the part earned at least ``point`` points (one notebook cell each)."""
        return self.points >= point


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


KEY_FIELDS = ("case", "decision", "harmful_decisions", "decisive", "neutral_reasons",
              "management", "neutral_actions", "harmful_actions", "points")
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
    harmful_decisions: frozenset[str]
    decisive: frozenset[str]
    neutral_reasons: frozenset[str]
    harmful_reasons: frozenset[str]
    management: frozenset[str]
    neutral_actions: frozenset[str]
    harmful_actions: frozenset[str]
    points: int
    management_points: int

    @property
    def share(self) -> int:
        """Points of the decision part, and of the reasons part."""
        return (self.points - self.management_points) // 2


def _disjoint(what: str, **groups: frozenset[str]) -> None:
    names = list(groups)
    for i, first in enumerate(names):
        for second in names[i + 1:]:
            both = groups[first] & groups[second]
            if both:
                raise ValueError(f"key: {what} {', '.join(sorted(both))} cannot be both "
                                 f"{first} and {second}")


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
    reasons, steps = case.reason_codes, case.management_codes
    decisive = _key_codes(key, "decisive", reasons, allow_empty=False)
    neutral_reasons = _key_codes(key, "neutral_reasons", reasons, allow_empty=True)
    harmful_reasons = _key_codes(key, "harmful_reasons", reasons, allow_empty=True)
    required = _key_codes(key, "management", steps, allow_empty=True)
    neutral_actions = _key_codes(key, "neutral_actions", steps, allow_empty=True)
    harmful_actions = _key_codes(key, "harmful_actions", steps, allow_empty=True)
    _disjoint("reason(s)", decisive=decisive, neutral=neutral_reasons, harmful=harmful_reasons)
    _disjoint("step(s)", required=required, neutral=neutral_actions, harmful=harmful_actions)
    if len(decisive) > case.max_reasons or len(required) > case.max_management:
        raise ValueError(f"key: at most {case.max_reasons} decisive reasons and "
                         f"{case.max_management} required steps (the case's limits)")
    points = key["points"]
    if type(points) is not int or points < 2:
        raise ValueError("key: field 'points' must be a whole number from 2")
    management_points = key.get("management_points", points // 2 if required else 0)
    if type(management_points) is not int or not (
            (0 < management_points <= points - 2) if required else management_points == 0):
        raise ValueError("key: field 'management_points' must be a whole number from 1 to "
                         "points - 2 when steps are required, and 0 when none are")
    if (points - management_points) % 2:
        raise ValueError("key: points - management_points must be even (the decision and "
                         "the reasons are worth the same whole number of points)")
    return _Key(case, key["decision"], frozenset(harmful_decisions), decisive,
                neutral_reasons, harmful_reasons, required, neutral_actions, harmful_actions,
                points, management_points)


def _listing(codes: set[str] | frozenset[str]) -> str:
    return ", ".join(sorted(codes))


def _part(credit: int, wrong: int) -> int:
    """Credit less the penalty for wrong choices, never below 0."""
    return max(0, credit - WRONG_PENALTY * wrong)


def _proportion(worth: int, chosen: int, needed: int) -> int:
    """``worth`` in proportion to ``chosen`` of ``needed``, rounded down (0 when none)."""
    return worth * chosen // needed if needed else 0


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
    header = f"Case {k.case.number}"
    harms = ([f"decision '{decision}'"] if decision in k.harmful_decisions else []) \
        + [f"reason {c}" for c in sorted(reasons & k.harmful_reasons)] \
        + [f"action {c}" for c in sorted(steps & k.harmful_actions)]
    if harms:
        parts = (PartScore("decision", 0, k.share), PartScore("reasons", 0, k.share),
                 PartScore("management", 0, k.management_points))
        feedback = (f"{header}: 0 of {k.points} points. Harmful choice: {'; '.join(harms)}. "
                    "A harmful decision, reason or action scores 0 for the whole case "
                    "(key-feature gating), whatever else is right.")
        return CaseScore(0, k.points, True, feedback, parts)
    right = decision == k.decision
    missing = k.decisive - reasons
    wrong_reasons = reasons - k.decisive - k.neutral_reasons
    absent = k.management - steps
    wrong_steps = steps - k.management - k.neutral_actions
    reason_credit = _proportion(k.share, len(reasons & k.decisive), len(k.decisive))
    parts = (
        PartScore("decision", k.share if right else 0, k.share),
        PartScore("reasons", _part(reason_credit, len(wrong_reasons)) if right else 0,
                  k.share),
        PartScore("management",
                  _part(_proportion(k.management_points, len(steps & k.management),
                                    len(k.management)), len(wrong_steps)),
                  k.management_points),
    )
    lines = [f"Decision '{decision}': " + ("the key decision." if right else
                                           "not the key decision.")]
    if not right:
        lines.append("Reasons: not credited without the key decision.")
    elif missing:
        lines.append(f"Reasons: a decisive reason is missing ({_listing(missing)}).")
    else:
        lines.append("Reasons: every decisive reason chosen.")
    if wrong_reasons:
        lines.append(f"Reasons that do not decide this case (minus {WRONG_PENALTY} each): "
                     f"{_listing(wrong_reasons)}.")
    if reasons & k.neutral_reasons:
        lines.append(f"Acceptable reasons (no penalty): {_listing(reasons & k.neutral_reasons)}.")
    if k.management:
        lines.append("Management: every required step chosen." if not absent else
                     f"Management: a required step is missing ({_listing(absent)}).")
    if wrong_steps:
        lines.append(f"Steps that do not belong in this plan (minus {WRONG_PENALTY} each): "
                     f"{_listing(wrong_steps)}.")
    if steps & k.neutral_actions:
        lines.append(f"Acceptable steps (no penalty): {_listing(steps & k.neutral_actions)}.")
    points = sum(p.points for p in parts)
    scored = ", ".join(f"{p.name} {p.points:g}/{p.max_points:g}" for p in parts if p.max_points)
    return CaseScore(points, k.points, False,
                     f"{header}: {points:g} of {k.points} points ({scored}). "
                     + " ".join(lines), parts)


# ---------------------------------------------------------------- branching


def consequence(answer: object, consequences: Mapping[str, str]) -> str:
    """What happened next after the learner's decision (shown in the graded feedback).

    ``consequences`` has one text per decision (instructor data kept in the hidden tests:
    ValueError if it is not). An answer without a valid decision gets a sentence, never an
    exception: it is the learner's data.
    """
    if not DECISION_TEXTS.check(dict(consequences) if isinstance(consequences, Mapping)
                                else consequences):
        raise ValueError(f"consequences: must be {DECISION_TEXTS.expected}")
    value = answer.get("decision") if type(answer) is dict else answer
    decision = _decision(value)
    if decision is None:
        return ("What happens next: no decision was recorded, so the story cannot go on. "
                f"Choose one of {', '.join(DECISIONS)}.")
    return f"What happened next after your decision ({decision}): {consequences[decision]}"


def follow_up(case_id: str) -> Rich:
    """A branching case's second decision point: its intro and practice question."""
    from course.lesson import question  # the practice questions (course/data/questions.toml)

    case = get_case(case_id)
    if case.follow_up is None:
        branching = [c.id for c in cases().values() if c.branching]
        raise ValueError(f"case_id: {case_id!r} has no follow-up (branching cases: "
                         f"{', '.join(branching)})")
    shown = question(case.follow_up.question)
    heading = f"Case {case.number}, second decision point (practice, not graded)"
    return Rich(
        f"<section aria-label='{escape(heading)}'><p><strong>{escape(heading)}.</strong> "
        f"{escape(case.follow_up.intro)}</p>{shown.html}</section>",
        f"{heading}. {case.follow_up.intro}\n{shown.text}",
    )
