"""Risk screening before mesotherapy — a teaching aid, not a validated clinical tool.

:func:`assess` reads one patient record (course-design.md §6, a **contract**) and returns
an :class:`Assessment`: the most restrictive decision of every screening rule that
applies (decline > refer > defer > proceed_with_precautions > proceed), the reasons
(most restrictive first; within a level, in the order of the rule file), and the
teaching-aid label. The rules live in ``course/data/risk_rules.toml`` and are validated
when first used; each carries a stable code, plain-language text and reference ids
(:func:`rules` gives them, for badges and tables).

Decisions documented here (clinical-brief.md §3, §6, §7):

- **A missing ``product_source`` is "not recorded": proceed with precautions, never a
  plain proceed.** Only licensed or approved products should be injected [R29, R8],
  counterfeit and unlicensed products circulate [R23] and contaminated vials have caused
  outbreaks [R30]; so the reason asks the practitioner to confirm and record the product
  and its batch before treating. An explicit ``"unknown"`` source (the practitioner does
  not know where it came from) declines. Reading a missing field as "not flagged", as
  the contract does for booleans, keeps single-factor screens comparable; the precaution
  keeps an unrecorded source from ever passing silently.
- **Cosmetic indications** are skin_rejuvenation, hair_loss, cellulite, localized_fat,
  submental_fat and melasma. Under 18 with one of these declines [GK]. A minor with
  musculoskeletal_pain or "other" (which covers local-anaesthetic analgesia) is
  referred for specialist assessment rather than treated [GK].
- **Deoxycholic acid outside its approved use declines** (not merely precautions): it is
  approved for submental fat only [R23], it lyses cells non-specifically [R17], necrosis
  and ulceration are on its label [R23], and France bans injected deoxycholate for
  aesthetic fat lysis [R10]. Approved use means indication ``submental_fat`` (with no
  area, or a submental area), or ``localized_fat`` in a submental area.
- **A teratogenic substance (dutasteride [GK—verify]) declines when the patient is
  pregnant or planning a pregnancy**: deferring has no end point while a pregnancy is
  planned, so this treatment is declined and alternatives discussed. Planning a pregnancy
  is otherwise a precaution (confirm she is not pregnant at each session).
- **Every rule that applies is listed**, not only the decisive one, so the advice never to
  stop a prescribed anticoagulant or antiplatelet drug (defer, or accept the bruising risk
  after liaising with the prescriber) is shown in every combination. No text advises
  stopping a medicine.
- Controlled diabetes triggers no rule: the brief names only poorly controlled diabetes.
- **No rule triggered**: ``"proceed"`` with one informative reason,
  ``PROCEED_NO_RULE_TRIGGERED``, reminding that consent, injection safety and licensed
  products still apply; it never appears beside another reason.
- Patient fields: ``age`` is a whole number from 0 to 120, the span of human ages (a
  bool is refused, though Python counts it as an int);
  ``area``, when given, is a non-empty string; ``allergies`` is a list of non-empty
  strings, matched to the substance id and the ingredient ids in the rule file after
  lower-casing and reading spaces and hyphens as underscores. Invalid input raises a
  plain ``ValueError`` naming the field; a broken rule file raises ``ContentError``.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from course import TEACHING_AID_LABEL
from course.content import (
    INDICATIONS,
    REGULATORY_STATUSES,
    TEXT,
    TEXT_LIST,
    Content,
    ContentError,
    Reference,
    Rule,
    Substance,
    content,
    read_toml,
    validated,
)
from course.paths import DATA_DIR

RULES_PATH = DATA_DIR / "risk_rules.toml"

DECISIONS = ("proceed", "proceed_with_precautions", "defer", "refer", "decline")
"""Decisions from least to most restrictive."""
SEVERITY = {decision: rank for rank, decision in enumerate(DECISIONS)}
CODE_PREFIXES = {
    "proceed": "PROCEED_", "proceed_with_precautions": "PRECAUTION_", "defer": "DEFER_",
    "refer": "REFER_", "decline": "DECLINE_",
}

AGE_RANGE = (0, 120)
PRODUCT_SOURCES = ("licensed", "unlicensed", "unknown", "patient_supplied")
NOT_RECORDED = "not_recorded"
"""What a missing product_source means; never accepted as an input value."""
DIABETES_STATES = ("none", "controlled", "poorly_controlled")
BOOLEAN_FIELDS = (
    "pregnant", "breastfeeding", "planning_pregnancy", "active_infection_at_site",
    "active_herpes_at_site", "anticoagulant", "antiplatelet", "bleeding_disorder",
    "prior_anaphylaxis", "immunosuppressed", "autoimmune_disease", "active_cancer",
    "keloid_tendency", "heart_disease", "epilepsy", "dysphagia_history",
    "bdd_screen_positive",
)
DEFAULTS: Mapping[str, Any] = {
    **dict.fromkeys(BOOLEAN_FIELDS, False),
    "product_source": NOT_RECORDED, "diabetes": "none", "allergies": [], "area": None,
}
"""What a missing optional field means (see the module docstring for product_source)."""

NO_OTHER_RULE = "no_other_rule"
PLACEHOLDERS = frozenset(
    {"substance", "status", "regulatory_note", "age", "indication", "area", "allergens"}
)


# ---------------------------------------------------------------- results


@dataclass(frozen=True)
class Reason:
    code: str
    text: str


@dataclass(frozen=True)
class Assessment:
    """A screening decision with its reasons and the teaching-aid label."""

    decision: str
    reasons: list[Reason] = field(hash=False)
    disclaimer: str = TEACHING_AID_LABEL

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of the contract: decision, reasons (code, text), disclaimer."""
        return {
            "decision": self.decision,
            "reasons": [{"code": r.code, "text": r.text} for r in self.reasons],
            "disclaimer": self.disclaimer,
        }


# ---------------------------------------------------------------- the rule book


@dataclass(frozen=True)
class ScreeningRule:
    """One rule of ``risk_rules.toml``: when all conditions hold, it gives its decision."""

    code: str
    decision: str
    when: tuple[str, ...]
    text: str
    refs: tuple[str, ...]
    predicates: tuple[Callable[[_Case], bool], ...] = field(default=(), compare=False,
                                                             repr=False)

    def applies(self, case: _Case) -> bool:
        """True when every condition holds (the proceed rule is handled by assess)."""
        return all(p(case) for p in self.predicates)


@dataclass(frozen=True)
class RuleBook:
    """The validated rule file."""

    rules: tuple[ScreeningRule, ...]
    adult_age: int
    cosmetic_indications: frozenset[str]
    blocked_regulatory_statuses: frozenset[str]
    teratogenic_substances: frozenset[str]
    submental_areas: frozenset[str]
    ingredients: Mapping[str, frozenset[str]]

    def rule(self, code: str) -> ScreeningRule:
        """The rule with this code (KeyError if there is none)."""
        for candidate in self.rules:
            if candidate.code == code:
                return candidate
        raise KeyError(code)


@dataclass(frozen=True)
class _Case:
    """A validated patient with defaults filled in, and the substance's catalogue record."""

    fields: Mapping[str, Any]
    substance: Substance
    book: RuleBook

    def allergens(self) -> list[str]:
        """The patient's allergy entries that name the substance or one of its ingredients."""
        names = {self.substance.id} | self.book.ingredients.get(self.substance.id, frozenset())
        return sorted({a.strip() for a in self.fields["allergies"] if _as_id(a) in names})

    def submental_area(self) -> bool | None:
        """True or False when an area is given, None when it is not."""
        area = self.fields["area"]
        return None if area is None else _as_words(area) in self.book.submental_areas


def _as_id(text: str) -> str:
    """'Sodium deoxycholate' and 'sodium-deoxycholate' → 'sodium_deoxycholate'."""
    return "_".join(text.lower().replace("-", " ").replace("_", " ").split())


def _as_words(text: str) -> str:
    """'Submental_Area' and 'submental-area' → 'submental area'."""
    return " ".join(text.lower().replace("-", " ").replace("_", " ").split())


def _outside_submental_use(case: _Case) -> bool:
    """Deoxycholic acid's approved use is submental fat only [R23]."""
    indication, submental = case.fields["indication"], case.submental_area()
    if indication == "submental_fat":
        return submental is False
    if indication == "localized_fat":
        return submental is not True
    return True


CONDITIONS: Mapping[str, Callable[[_Case], bool]] = {
    "under_adult_age": lambda c: c.fields["age"] < c.book.adult_age,
    "cosmetic_indication": lambda c: c.fields["indication"] in c.book.cosmetic_indications,
    "non_cosmetic_indication":
        lambda c: c.fields["indication"] not in c.book.cosmetic_indications,
    "substance_not_approved":
        lambda c: c.substance.regulatory_status in c.book.blocked_regulatory_statuses,
    "allergy_to_substance": lambda c: bool(c.allergens()),
    "outside_submental_use": _outside_submental_use,
    "teratogenic_substance": lambda c: c.substance.id in c.book.teratogenic_substances,
    "pregnant_or_planning_pregnancy":
        lambda c: c.fields["pregnant"] or c.fields["planning_pregnancy"],
}
"""Named conditions the rule file may use besides boolean fields and field=value."""

_VALUE_FIELDS = {
    "product_source": (*PRODUCT_SOURCES, NOT_RECORDED), "diabetes": DIABETES_STATES,
    "indication": INDICATIONS,
}


def _condition(text: str, substances: Mapping[str, Substance]) -> Callable[[_Case], bool]:
    """Turn one `when` entry into a predicate; ValueError says what is allowed."""
    if text in BOOLEAN_FIELDS:
        return lambda c: c.fields[text]
    if text in CONDITIONS:
        return CONDITIONS[text]
    name, sep, value = text.partition("=")
    if sep:
        allowed = tuple(substances) if name == "substance" else _VALUE_FIELDS.get(name)
        if allowed is None:
            fields = ", ".join(("substance", *_VALUE_FIELDS))
            raise ValueError(f"{text!r}: field=value works for {fields}")
        if value not in allowed:
            raise ValueError(f"{text!r}: {name} must be one of {', '.join(allowed)}")
        if name == "substance":
            return lambda c: c.substance.id == value
        return lambda c: c.fields[name] == value
    raise ValueError(
        f"unknown condition {text!r} (use a boolean patient field, field=value, "
        f"{NO_OTHER_RULE!r} or one of {', '.join(CONDITIONS)})"
    )


def _ids_rule(known: tuple[str, ...], what: str) -> Rule:
    return Rule(
        lambda v: isinstance(v, list) and all(isinstance(x, str) and x in known for x in v),
        f"a list of {what} ({', '.join(known)})",
    )


def _placeholders(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}


def _check_rule(code: str, record: Any, where: str, references: Mapping[str, Reference],
                substances: Mapping[str, Substance]) -> ScreeningRule:
    fields = validated(
        record, where,
        {"decision": Rule(lambda v: v in DECISIONS, f"one of {', '.join(DECISIONS)}"),
         "when": Rule(lambda v: TEXT_LIST.check(v) and bool(v), "a non-empty list of conditions"),
         "text": TEXT, "refs": Rule(lambda v: TEXT_LIST.check(v) and bool(v),
                                    "a non-empty list of reference ids")},
    )
    decision, when, text = fields["decision"], fields["when"], fields["text"]
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", code) or not code.startswith(
            CODE_PREFIXES[decision]):
        raise ContentError(f"{where}: a {decision!r} rule's code must be upper case and start "
                           f"with {CODE_PREFIXES[decision]!r}")
    for ref in fields["refs"]:
        if ref not in references:
            raise ContentError(f"{where}: unknown reference id {ref!r}")
    if "GK" in fields["refs"] and "expert practice" not in text:
        raise ContentError(f"{where}: a rule citing GK must say \"expert practice\" in its text")
    try:
        unknown = _placeholders(text) - PLACEHOLDERS
    except ValueError as error:
        raise ContentError(f"{where}: field 'text' is not a valid template ({error})") from None
    if unknown:
        known = ", ".join(sorted(PLACEHOLDERS))
        raise ContentError(f"{where}: field 'text' uses unknown placeholder(s) "
                           f"{', '.join(sorted(unknown))} (known: {known})")
    if (NO_OTHER_RULE in when) != (decision == "proceed") or (
            NO_OTHER_RULE in when and len(when) > 1):
        raise ContentError(f"{where}: only a 'proceed' rule may use {NO_OTHER_RULE!r}, alone, "
                           f"and a 'proceed' rule must use it")
    try:
        predicates = tuple(_condition(c, substances) for c in when if c != NO_OTHER_RULE)
    except ValueError as error:
        raise ContentError(f"{where}: field 'when': {error}") from None
    return ScreeningRule(code, decision, tuple(when), text, tuple(fields["refs"]), predicates)


def load_rules(path: Path = RULES_PATH, data: Content | None = None) -> RuleBook:
    """Read and validate a rule file against the course's references and catalogue."""
    data = data or content()
    substance_ids = tuple(data.substances)
    where = path.name
    top = validated(
        read_toml(path), where,
        {
            "adult_age": Rule(lambda v: type(v) is int and 1 <= v <= AGE_RANGE[1],
                              f"a whole number from 1 to {AGE_RANGE[1]}"),
            "cosmetic_indications": _ids_rule(INDICATIONS, "indications"),
            "blocked_regulatory_statuses": _ids_rule(REGULATORY_STATUSES, "statuses"),
            "teratogenic_substances": _ids_rule(substance_ids, "substance ids"),
            "submental_areas": TEXT_LIST,
            "ingredients": Rule(lambda v: isinstance(v, dict), "a table of substance ids"),
            "rules": Rule(lambda v: isinstance(v, dict) and bool(v), "a non-empty table"),
        },
    )
    ingredients = {}
    for substance_id, names in top["ingredients"].items():
        if substance_id not in data.substances:
            raise ContentError(f"{where}: ingredients: unknown substance id {substance_id!r}")
        if not TEXT_LIST.check(names):
            raise ContentError(f"{where}: ingredients of {substance_id!r} must be "
                               f"{TEXT_LIST.expected}, got {names!r}")
        ingredients[substance_id] = frozenset(_as_id(n) for n in names)
    rules = tuple(
        _check_rule(code, record, f"{where}: rule {code!r}", data.references, data.substances)
        for code, record in top["rules"].items()
    )
    if sum(r.decision == "proceed" for r in rules) != 1:
        raise ContentError(f"{where}: exactly one 'proceed' rule ({NO_OTHER_RULE!r}) is needed")
    return RuleBook(
        rules=rules,
        adult_age=top["adult_age"],
        cosmetic_indications=frozenset(top["cosmetic_indications"]),
        blocked_regulatory_statuses=frozenset(top["blocked_regulatory_statuses"]),
        teratogenic_substances=frozenset(top["teratogenic_substances"]),
        submental_areas=frozenset(_as_words(a) for a in top["submental_areas"]),
        ingredients=ingredients,
    )


@lru_cache(maxsize=1)
def rules() -> RuleBook:
    """The course's rule book, loaded and validated once per process."""
    return load_rules()


# ---------------------------------------------------------------- the patient


BOOL = Rule(lambda v: type(v) is bool, "true or false")
AGE = Rule(lambda v: type(v) is int and AGE_RANGE[0] <= v <= AGE_RANGE[1],
           f"a whole number of years from {AGE_RANGE[0]} to {AGE_RANGE[1]}")


def _one_of(options: tuple[str, ...]) -> Rule:
    return Rule(lambda v: isinstance(v, str) and v in options, f"one of {', '.join(options)}")


def _patient_fields(patient: Any, substances: Mapping[str, Substance]) -> dict[str, Any]:
    """Validate a patient record and fill in defaults; ValueError names the field."""
    if not isinstance(patient, dict):
        raise ValueError(f"patient must be a dict of fields, got {type(patient).__name__}")
    required = {"age": AGE, "indication": _one_of(INDICATIONS),
                "substance": _one_of(tuple(substances))}
    optional = {
        **dict.fromkeys(BOOLEAN_FIELDS, BOOL),
        "product_source": _one_of(PRODUCT_SOURCES), "diabetes": _one_of(DIABETES_STATES),
        "allergies": TEXT_LIST, "area": TEXT,
    }
    try:
        fields = validated(patient, "patient", required, optional)
    except ContentError as error:  # bad input, not bad course data: a plain ValueError
        raise ValueError(str(error)) from None
    return {**DEFAULTS, **fields}


def assess(patient: dict[str, Any]) -> Assessment:
    """Screen one patient (course-design.md §6); pure and deterministic.

    Raises ValueError naming the field for an unknown field, a missing required field,
    a wrong type or a value out of range.
    """
    book, substances = rules(), content().substances
    fields = _patient_fields(patient, substances)
    case = _Case(fields, substances[fields["substance"]], book)
    fired = [
        rule for rule in book.rules
        if rule.decision != "proceed" and rule.applies(case)
    ]
    if not fired:
        fired = [r for r in book.rules if r.decision == "proceed"]
    fired.sort(key=lambda r: -SEVERITY[r.decision])  # stable: file order within a level
    values = {
        "substance": case.substance.name, "status": case.substance.regulatory_status,
        "regulatory_note": case.substance.regulatory_note, "age": fields["age"],
        "indication": fields["indication"].replace("_", " "),
        "area": fields["area"] or "not stated",
        "allergens": ", ".join(case.allergens()),
    }
    return Assessment(
        decision=fired[0].decision,
        reasons=[Reason(r.code, r.text.format(**values)) for r in fired],
    )


def load_patient(path: Path) -> dict[str, Any]:
    """Read a patient record from a JSON file (for ``course risk``).

    Raises ValueError with one line saying what is wrong: missing or unreadable file,
    invalid JSON, or JSON that is not an object.
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror or error})") from None
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error.msg} at line {error.lineno}, "
                         f"column {error.colno})") from None
    except RecursionError:
        raise ValueError(f"{path}: JSON nested too deeply") from None
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(data), "a number")
        raise ValueError(f"{path}: expected a JSON object of patient fields, got {kind}")
    return data
