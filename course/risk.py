"""Risk screening before mesotherapy — a teaching aid, not a validated clinical tool.

:func:`assess` reads one patient record (course-design.md §6 and its Contract v2, a
**contract**) and returns an :class:`Assessment`: the most restrictive decision of every
screening rule that applies (decline > refer > defer > proceed_with_precautions > proceed),
the reasons (most restrictive first; within a level, in the order of the rule file), and the
teaching-aid label. The rules live in ``course/data/risk_rules.toml`` and the allergen
classes in ``course/data/allergens.toml`` (see :mod:`course.allergens`); both are validated
when first used. Each rule carries a stable code, plain-language text and reference ids
(:func:`rules` gives them, for badges and tables). :func:`assess` does no I/O beyond that
one cached load.

Decisions documented here (clinical-brief.md §3, §6, §7 and §9):

- **A missing ``product_source`` is "not recorded": proceed with precautions, never a
  plain proceed.** Only licensed or approved products should be injected [R29, R8],
  counterfeit and unlicensed products circulate [R23] and contaminated vials have caused
  outbreaks [R30]; the reason asks the practitioner to confirm and record the product and
  its batch. An explicit ``"unknown"`` source declines.
- **Indications.** Cosmetic: skin_rejuvenation, cellulite, localized_fat, submental_fat.
  **Medical conditions that change appearance**: hair_loss (alopecia has causes that need a
  diagnosis) and melasma (a pigmentary disorder). Therapeutic: musculoskeletal_pain; "other"
  is not assumed cosmetic. Reasons for a non-cosmetic indication never say "cosmetic": a
  rule whose text does must either require a cosmetic indication or carry a
  ``text_non_cosmetic`` (checked when the rule file loads). Under 18: cosmetic → decline;
  hair loss or melasma → decline *and* refer for diagnosis; pain or other → refer [GK].
- **Approved for one use only** (data: ``approved_uses``): deoxycholic acid, submental fat
  (indication ``submental_fat`` with no area or a submental area, or ``localized_fat`` in a
  submental area) [R23]; collagenase, buttock cellulite [R26]. Outside it → decline. A
  **discontinued** product (collagenase, or any catalogue status ``discontinued``) declines
  whatever the use [R26].
- **Antiandrogens** (dutasteride) decline, not defer, in anyone who is pregnant,
  breastfeeding, planning a pregnancy or has ``childbearing_potential`` [GK—verify]. When
  ``childbearing_potential`` is not recorded and ``sex`` is female or other, the aid asks
  for it (proceed with precautions); it never guesses it from age. An explicit ``false``
  (or ``sex`` male, unknown or not given) removes that prompt.
- **Interactions** (a substance with a condition): tranexamic acid with thrombosis history,
  thrombophilia or an anticoagulant → decline, with an antiplatelet drug (arterial disease)
  → refer to the prescriber; hyaluronidase with a bee or wasp venom
  allergy → decline (cross-reaction), with previous anaphylaxis → refer to an allergist;
  aminophylline with epilepsy or heart disease → decline; ketoprofen (NSAID) with an
  anticoagulant plus an antiplatelet drug, or from age 75 → refer to the prescriber, with
  either one → precaution [GK].
- **No licensed injectable exists** for dutasteride or minoxidil (clinical-brief.md §9): a
  product recorded as licensed, or not recorded, is questioned (proceed with precautions);
  an unlicensed one declines like any unlicensed product.
- **Allergies** are free text matched by allergen class, against the product's ingredients
  (``DECLINE_ALLERGY_TO_SUBSTANCE``) and its known cross-reactions or source material
  (``DECLINE_ALLERGY_CROSS_REACTIVE``): fish → polynucleotides/PDRN; lidocaine or "local
  anaesthetic" → hyaluronic acid skin boosters (many contain lidocaine); bee or wasp venom
  → hyaluronidase. An entry that matches nothing triggers no rule.
- **Every rule that applies is listed**, so the advice never to stop a prescribed
  anticoagulant or antiplatelet drug is shown in every combination. No text advises
  stopping a medicine. Controlled diabetes triggers no rule.
- **No rule triggered**: ``"proceed"`` with one informative reason,
  ``PROCEED_NO_RULE_TRIGGERED``; it never appears beside another reason.
- Patient fields: ``age`` is a whole number from 0 to 120 (a bool is refused);
  ``area``, when given, is a non-empty string of at most 200 characters; ``allergies`` a
  list of at most 50 non-empty strings of at most 200 characters; ``sex`` one of
  female, male, other, unknown. Invalid input raises a plain ``ValueError`` naming the
  field; a broken data file raises ``ContentError``. :func:`load_patient` reads at most
  :data:`MAX_PATIENT_BYTES` of a file.
"""

from __future__ import annotations

import json
import re
import reprlib
import string
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from course import TEACHING_AID_LABEL
from course.allergens import ALLERGENS_PATH, AllergenMap, Match, load_allergens, words
from course.catalogue import DataFile
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
    validated,
)
from course.paths import DATA_DIR

DECISIONS = ("proceed", "proceed_with_precautions", "defer", "refer", "decline")
"""Decisions from least to most restrictive."""
SEVERITY = {decision: rank for rank, decision in enumerate(DECISIONS)}
CODE_PREFIXES = {
    "proceed": "PROCEED_", "proceed_with_precautions": "PRECAUTION_", "defer": "DEFER_",
    "refer": "REFER_", "decline": "DECLINE_",
}

AGE_RANGE = (0, 120)
MAX_TEXT = 200
MAX_ALLERGIES = 50
MAX_PATIENT_BYTES = 64 * 1024
"""``course risk`` reads at most this many bytes of a patient file."""
PRODUCT_SOURCES = ("licensed", "unlicensed", "unknown", "patient_supplied")
NOT_RECORDED = "not_recorded"
"""What a missing product_source means; never accepted as an input value."""
DIABETES_STATES = ("none", "controlled", "poorly_controlled")
SEXES = ("female", "male", "other", "unknown")
BOOLEAN_FIELDS = (
    "pregnant", "breastfeeding", "planning_pregnancy", "active_infection_at_site",
    "active_herpes_at_site", "anticoagulant", "antiplatelet", "bleeding_disorder",
    "prior_anaphylaxis", "immunosuppressed", "autoimmune_disease", "active_cancer",
    "keloid_tendency", "heart_disease", "epilepsy", "dysphagia_history",
    "bdd_screen_positive", "thrombosis_history",
)
"""Boolean fields whose absence means False."""
RECORDED_BOOLEAN_FIELDS = ("childbearing_potential",)
"""Boolean fields where "not recorded" differs from False (see the module docstring)."""
DEFAULTS: Mapping[str, Any] = {
    **dict.fromkeys(BOOLEAN_FIELDS, False),
    **dict.fromkeys(RECORDED_BOOLEAN_FIELDS, None),
    "product_source": NOT_RECORDED, "diabetes": "none", "allergies": [], "area": None,
    "sex": None,
}
"""What a missing optional field means (None: not recorded)."""

NO_OTHER_RULE = "no_other_rule"
PLACEHOLDERS = frozenset({
    "substance", "status", "regulatory_note", "age", "indication", "area", "allergens",
    "cross_reactions", "approved_use", "older_adult_age",
})


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
    text_non_cosmetic: str | None = None

    def applies(self, case: _Case) -> bool:
        """True when every condition holds (the proceed rule is handled by assess)."""
        return all(p(case) for p in self.predicates)

    def text_for(self, cosmetic: bool) -> str:
        """The text template for a cosmetic or a non-cosmetic indication."""
        return self.text if cosmetic or self.text_non_cosmetic is None else self.text_non_cosmetic


@dataclass(frozen=True)
class ApprovedUse:
    """The only use a product is approved for."""

    use: str
    indications: frozenset[str]
    implied_by: frozenset[str]
    areas: frozenset[tuple[str, ...]]


@dataclass(frozen=True)
class RuleBook:
    """The validated rule file and allergen map."""

    rules: tuple[ScreeningRule, ...]
    adult_age: int
    older_adult_age: int
    cosmetic_indications: frozenset[str]
    medical_condition_indications: frozenset[str]
    blocked_regulatory_statuses: frozenset[str]
    discontinued_substances: frozenset[str]
    antiandrogens: frozenset[str]
    antifibrinolytics: frozenset[str]
    theophylline_type: frozenset[str]
    nsaids: frozenset[str]
    no_licensed_injectable: frozenset[str]
    childbearing_sexes: frozenset[str]
    approved_uses: Mapping[str, ApprovedUse]
    allergens: AllergenMap

    def rule(self, code: str) -> ScreeningRule:
        """The rule with this code (KeyError if there is none)."""
        for candidate in self.rules:
            if candidate.code == code:
                return candidate
        raise KeyError(code)


@dataclass(frozen=True)
class _Case:
    """A validated patient with defaults filled in, its substance and allergy matches."""

    fields: Mapping[str, Any]
    substance: Substance
    book: RuleBook
    direct: tuple[Match, ...] = ()
    cross: tuple[Match, ...] = ()

    def is_cosmetic(self) -> bool:
        return self.fields["indication"] in self.book.cosmetic_indications


def _outside_approved_use(case: _Case) -> bool:
    """True when the product has one approved use and this request is outside it."""
    use = case.book.approved_uses.get(case.substance.id)
    if use is None:
        return False
    indication, area = case.fields["indication"], case.fields["area"]
    if indication not in use.indications:
        return True
    if area is None:
        return indication not in use.implied_by
    return words(area) not in use.areas


def _in(attribute: str) -> Callable[[_Case], bool]:
    return lambda c: c.substance.id in getattr(c.book, attribute)


CONDITIONS: Mapping[str, Callable[[_Case], bool]] = {
    "under_adult_age": lambda c: c.fields["age"] < c.book.adult_age,
    "older_adult": lambda c: c.fields["age"] >= c.book.older_adult_age,
    "cosmetic_indication": _Case.is_cosmetic,
    "medical_condition_indication":
        lambda c: c.fields["indication"] in c.book.medical_condition_indications,
    "therapeutic_or_other_indication":
        lambda c: c.fields["indication"] not in (c.book.cosmetic_indications
                                                 | c.book.medical_condition_indications),
    "substance_not_approved":
        lambda c: c.substance.regulatory_status in c.book.blocked_regulatory_statuses,
    "discontinued_product":
        lambda c: (c.substance.id in c.book.discontinued_substances
                   or c.substance.regulatory_status == "discontinued"),
    "outside_approved_use": _outside_approved_use,
    "allergy_to_substance": lambda c: bool(c.direct),
    "cross_reactive_allergy": lambda c: bool(c.cross),
    "antiandrogen": _in("antiandrogens"),
    "antifibrinolytic": _in("antifibrinolytics"),
    "theophylline_type": _in("theophylline_type"),
    "nsaid": _in("nsaids"),
    "could_be_pregnant_or_breastfeeding":
        lambda c: (c.fields["pregnant"] or c.fields["breastfeeding"]
                   or c.fields["planning_pregnancy"] or c.fields["childbearing_potential"] is True),
    "childbearing_potential_not_recorded":
        lambda c: (c.fields["childbearing_potential"] is None
                   and c.fields["sex"] in c.book.childbearing_sexes),
    "thrombotic_risk": lambda c: c.fields["thrombosis_history"] or c.fields["anticoagulant"],
    "on_anticoagulant_or_antiplatelet":
        lambda c: c.fields["anticoagulant"] or c.fields["antiplatelet"],
    "no_licensed_injectable_form":
        lambda c: (c.substance.id in c.book.no_licensed_injectable
                   and c.fields["product_source"] == NOT_RECORDED),
    "no_licensed_injectable_recorded_licensed":
        lambda c: (c.substance.id in c.book.no_licensed_injectable
                   and c.fields["product_source"] == "licensed"),
}
"""Named conditions the rule file may use besides boolean fields and field=value."""

_VALUE_FIELDS = {
    "product_source": (*PRODUCT_SOURCES, NOT_RECORDED), "diabetes": DIABETES_STATES,
    "indication": INDICATIONS, "sex": SEXES,
}


def _condition(text: str, substances: Mapping[str, Substance]) -> Callable[[_Case], bool]:
    """Turn one `when` entry into a predicate; ValueError says what is allowed."""
    if text in BOOLEAN_FIELDS or text in RECORDED_BOOLEAN_FIELDS:
        return lambda c: c.fields[text] is True
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


def _check_template(text: str, where: str, name: str) -> None:
    try:
        unknown = _placeholders(text) - PLACEHOLDERS
    except ValueError as error:
        raise ContentError(f"{where}: field {name!r} is not a valid template ({error})") from None
    if unknown:
        known = ", ".join(sorted(PLACEHOLDERS))
        raise ContentError(f"{where}: field {name!r} uses unknown placeholder(s) "
                           f"{', '.join(sorted(unknown))} (known: {known})")


def _check_rule(code: str, record: Any, where: str, references: Mapping[str, Reference],
                substances: Mapping[str, Substance]) -> ScreeningRule:
    fields = validated(
        record, where,
        {"decision": Rule(lambda v: v in DECISIONS, f"one of {', '.join(DECISIONS)}"),
         "when": Rule(lambda v: TEXT_LIST.check(v) and bool(v), "a non-empty list of conditions"),
         "text": TEXT, "refs": Rule(lambda v: TEXT_LIST.check(v) and bool(v),
                                    "a non-empty list of reference ids")},
        {"text_non_cosmetic": TEXT},
    )
    decision, when, text = fields["decision"], fields["when"], fields["text"]
    other = fields.get("text_non_cosmetic")
    if not re.fullmatch(r"[A-Z][A-Z0-9_]*", code) or not code.startswith(
            CODE_PREFIXES[decision]):
        raise ContentError(f"{where}: a {decision!r} rule's code must be upper case and start "
                           f"with {CODE_PREFIXES[decision]!r}")
    for ref in fields["refs"]:
        if ref not in references:
            raise ContentError(f"{where}: unknown reference id {ref!r}")
    for name, template in (("text", text), ("text_non_cosmetic", other)):
        if template is None:
            continue
        if "GK" in fields["refs"] and "expert practice" not in template:
            raise ContentError(f"{where}: a rule citing GK must say \"expert practice\" in "
                               f"its {name}")
        _check_template(template, where, name)
    if other is not None and "cosmetic" in other.lower():
        raise ContentError(f"{where}: field 'text_non_cosmetic' must not say \"cosmetic\"")
    if ("cosmetic" in text.lower() and "cosmetic_indication" not in when and other is None):
        raise ContentError(f"{where}: the text says \"cosmetic\" but the rule can fire for a "
                           "non-cosmetic indication: add text_non_cosmetic")
    if (NO_OTHER_RULE in when) != (decision == "proceed") or (
            NO_OTHER_RULE in when and len(when) > 1):
        raise ContentError(f"{where}: only a 'proceed' rule may use {NO_OTHER_RULE!r}, alone, "
                           f"and a 'proceed' rule must use it")
    try:
        predicates = tuple(_condition(c, substances) for c in when if c != NO_OTHER_RULE)
    except ValueError as error:
        raise ContentError(f"{where}: field 'when': {error}") from None
    return ScreeningRule(code, decision, tuple(when), text, tuple(fields["refs"]), predicates,
                         other)


def _approved_uses(table: Any, where: str, substance_ids: tuple[str, ...]
                   ) -> dict[str, ApprovedUse]:
    uses = {}
    for substance_id, record in table.items():
        at = f"{where}: approved_uses {substance_id!r}"
        if substance_id not in substance_ids:
            raise ContentError(f"{at}: unknown substance id")
        fields = validated(record, at, {
            "use": TEXT, "indications": _ids_rule(INDICATIONS, "indications"),
            "implied_by": _ids_rule(INDICATIONS, "indications"), "areas": TEXT_LIST})
        if not fields["indications"] or not set(fields["implied_by"]) <= set(
                fields["indications"]):
            raise ContentError(f"{at}: 'indications' must be non-empty and include "
                               "every 'implied_by' indication")
        uses[substance_id] = ApprovedUse(
            fields["use"], frozenset(fields["indications"]), frozenset(fields["implied_by"]),
            frozenset(words(a) for a in fields["areas"]))
    return uses


def _rule_book(table: dict[str, Any], path: Path, data: Content,
               allergens_path: Path = ALLERGENS_PATH) -> RuleBook:
    substance_ids = tuple(data.substances)
    ids = _ids_rule(substance_ids, "substance ids")
    where = path.name
    top = validated(
        table, where,
        {
            "adult_age": Rule(lambda v: type(v) is int and 1 <= v <= AGE_RANGE[1],
                              f"a whole number from 1 to {AGE_RANGE[1]}"),
            "older_adult_age": Rule(lambda v: type(v) is int and 18 <= v <= AGE_RANGE[1],
                                    f"a whole number from 18 to {AGE_RANGE[1]}"),
            "cosmetic_indications": _ids_rule(INDICATIONS, "indications"),
            "medical_condition_indications": _ids_rule(INDICATIONS, "indications"),
            "blocked_regulatory_statuses": _ids_rule(REGULATORY_STATUSES, "statuses"),
            "discontinued_substances": ids, "antiandrogens": ids,
            "antifibrinolytics": ids, "theophylline_type": ids, "nsaids": ids,
            "no_licensed_injectable": ids,
            "childbearing_sexes": _ids_rule(SEXES, "sexes"),
            "approved_uses": Rule(lambda v: isinstance(v, dict), "a table of substance ids"),
            "rules": Rule(lambda v: isinstance(v, dict) and bool(v), "a non-empty table"),
        },
    )
    if set(top["cosmetic_indications"]) & set(top["medical_condition_indications"]):
        raise ContentError(f"{where}: an indication cannot be both cosmetic and a medical "
                           "condition")
    rules = tuple(
        _check_rule(code, record, f"{where}: rule {code!r}", data.references, data.substances)
        for code, record in top["rules"].items()
    )
    if sum(r.decision == "proceed" for r in rules) != 1:
        raise ContentError(f"{where}: exactly one 'proceed' rule ({NO_OTHER_RULE!r}) is needed")
    return RuleBook(
        rules=rules,
        adult_age=top["adult_age"],
        older_adult_age=top["older_adult_age"],
        cosmetic_indications=frozenset(top["cosmetic_indications"]),
        medical_condition_indications=frozenset(top["medical_condition_indications"]),
        blocked_regulatory_statuses=frozenset(top["blocked_regulatory_statuses"]),
        discontinued_substances=frozenset(top["discontinued_substances"]),
        antiandrogens=frozenset(top["antiandrogens"]),
        antifibrinolytics=frozenset(top["antifibrinolytics"]),
        theophylline_type=frozenset(top["theophylline_type"]),
        nsaids=frozenset(top["nsaids"]),
        no_licensed_injectable=frozenset(top["no_licensed_injectable"]),
        childbearing_sexes=frozenset(top["childbearing_sexes"]),
        approved_uses=_approved_uses(top["approved_uses"], where, substance_ids),
        allergens=load_allergens(allergens_path, substance_ids),
    )


RULES = DataFile(DATA_DIR / "risk_rules.toml", _rule_book, {"data": content})
RULES_PATH = RULES.path


def load_rules(path: Path = RULES_PATH, data: Content | None = None,
               allergens_path: Path = ALLERGENS_PATH) -> RuleBook:
    """Read and validate a rule file against the course's references and catalogue."""
    return RULES.load(path, data=data, allergens_path=allergens_path)


def rules() -> RuleBook:
    """The course's rule book, loaded and validated once per process."""
    return RULES.cached()


# ---------------------------------------------------------------- the patient


def _is_text(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != "" and len(value) <= MAX_TEXT


BOOL = Rule(lambda v: type(v) is bool, "true or false")
AGE = Rule(lambda v: type(v) is int and AGE_RANGE[0] <= v <= AGE_RANGE[1],
           f"a whole number of years from {AGE_RANGE[0]} to {AGE_RANGE[1]}")
SHORT_TEXT = Rule(_is_text, f"a non-empty string of at most {MAX_TEXT} characters")
ALLERGIES = Rule(
    lambda v: isinstance(v, list) and len(v) <= MAX_ALLERGIES and all(_is_text(a) for a in v),
    f"a list of at most {MAX_ALLERGIES} non-empty strings of at most {MAX_TEXT} characters "
    "(free text, for example [\"salmon\", \"lignocaine\"])",
)


def _one_of(options: tuple[str, ...]) -> Rule:
    return Rule(lambda v: isinstance(v, str) and v in options, f"one of {', '.join(options)}")


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxstring, _SHORT_REPR.maxother, _SHORT_REPR.maxlist = 60, 60, 4


def _patient_fields(patient: Any, substances: Mapping[str, Substance]) -> dict[str, Any]:
    """Validate a patient record and fill in defaults; ValueError names the field."""
    if not isinstance(patient, dict):
        raise ValueError(f"patient must be a dict of fields, got {type(patient).__name__}")
    required = {"age": AGE, "indication": _one_of(INDICATIONS),
                "substance": _one_of(tuple(substances))}
    optional = {
        **dict.fromkeys((*BOOLEAN_FIELDS, *RECORDED_BOOLEAN_FIELDS), BOOL),
        "product_source": _one_of(PRODUCT_SOURCES), "diabetes": _one_of(DIABETES_STATES),
        "sex": _one_of(SEXES), "allergies": ALLERGIES, "area": SHORT_TEXT,
    }
    for name in patient:
        if name not in required and name not in optional:
            known = ", ".join(sorted({*required, *optional}))
            raise ValueError(f"patient: unknown field {_SHORT_REPR.repr(name)} "
                             f"(known fields: {known})")
    for name in required:
        if name not in patient:
            raise ValueError(f"patient: missing required field {name!r}")
    for name, rule in {**required, **optional}.items():
        if name in patient and not rule.check(patient[name]):
            raise ValueError(f"patient: field {name!r} must be {rule.expected}, "
                             f"got {_SHORT_REPR.repr(patient[name])}")
    return {**DEFAULTS, **patient}


def assess(patient: dict[str, Any]) -> Assessment:
    """Screen one patient (course-design.md §6); pure and deterministic.

    Raises ValueError naming the field for an unknown field, a missing required field,
    a wrong type or a value out of range.
    """
    book, substances = rules(), content().substances
    fields = _patient_fields(patient, substances)
    substance = substances[fields["substance"]]
    direct, cross = book.allergens.match(substance.id, fields["allergies"], substance.name)
    case = _Case(fields, substance, book, tuple(direct), tuple(cross))
    fired = [
        rule for rule in book.rules
        if rule.decision != "proceed" and rule.applies(case)
    ]
    if not fired:
        fired = [r for r in book.rules if r.decision == "proceed"]
    fired.sort(key=lambda r: -SEVERITY[r.decision])  # stable: file order within a level
    approved = book.approved_uses.get(substance.id)
    values = {
        "substance": substance.name, "status": substance.regulatory_status,
        "regulatory_note": substance.regulatory_note, "age": fields["age"],
        "indication": fields["indication"].replace("_", " "),
        "area": fields["area"] or "not stated",
        "allergens": book.allergens.describe(direct),
        "cross_reactions": book.allergens.describe(cross),
        "approved_use": approved.use if approved else "no single use",
        "older_adult_age": book.older_adult_age,
    }
    cosmetic = case.is_cosmetic()
    return Assessment(
        decision=fired[0].decision,
        reasons=[Reason(r.code, r.text_for(cosmetic).format(**values)) for r in fired],
    )


def load_patient(path: Path) -> dict[str, Any]:
    """Read a patient record from a JSON file (for ``course risk``).

    Reads at most :data:`MAX_PATIENT_BYTES` (so ``/dev/zero`` or a huge file is refused,
    not read without limit). Raises ValueError with one line saying what is wrong: missing,
    unreadable or too large a file, invalid JSON, or JSON that is not an object.
    """
    try:
        with Path(path).open("rb") as handle:
            raw = handle.read(MAX_PATIENT_BYTES + 1)
    except FileNotFoundError:
        raise ValueError(f"{path}: no such file") from None
    except OSError as error:
        raise ValueError(f"{path}: cannot read the file ({error.strerror or error})") from None
    if len(raw) > MAX_PATIENT_BYTES:
        raise ValueError(f"{path}: larger than {MAX_PATIENT_BYTES // 1024} KB, so not read "
                         f"further (a patient record is a small JSON object)")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a UTF-8 text file") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"{path}: not valid JSON ({error.msg} at line {error.lineno}, "
                         f"column {error.colno})") from None
    except RecursionError:
        raise ValueError(f"{path}: JSON nested too deeply") from None
    except ValueError as error:  # e.g. an integer with too many digits
        raise ValueError(f"{path}: not valid JSON ({error})") from None
    if not isinstance(data, dict):
        kind = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}.get(
            type(data), "a number")
        raise ValueError(f"{path}: expected a JSON object of patient fields, got {kind}")
    return data
