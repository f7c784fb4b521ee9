"""The course's content model, loaded from ``course/data/*.toml`` and validated.

Every record is checked on load: a missing or unknown field, a value outside its
scale, or a reference id that is not in the bibliography stops loading with a
:class:`ContentError` that names the file, the record and the field. Each file is read
through :mod:`course.catalogue` (:data:`REFERENCES`, :data:`CLAIMS`, :data:`GLOSSARY`,
:data:`SUBSTANCES`); :func:`load_content` checks the other three against one bibliography.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from course.catalogue import Catalogue, ContentError  # ContentError: also imported from here
from course.paths import DATA_DIR

CERTAINTIES = ("high", "moderate", "low", "very_low")
CLAIM_KINDS = ("evidence", "expert_practice", "convention", "regulatory", "fact")
CLAIM_TOPICS = (
    "principles", "techniques", "substances", "evidence", "complications", "ntm",
    "contraindications", "bdd", "consent", "safety", "emergencies", "regulation",
    "history", "course",
)
INDICATIONS = (
    "skin_rejuvenation", "hair_loss", "cellulite", "localized_fat", "submental_fat",
    "melasma", "musculoskeletal_pain", "other",
)
REGULATORY_STATUSES = ("approved", "off_label", "unapproved", "suspended", "varies")
MARKET_STATUSES = ("discontinued", "no_licensed_injectable")
"""Optional ``market_status`` of a substance (clinical-brief.md §9): a product withdrawn
from the market (collagenase, Qwo), or a drug with no licensed injectable product anywhere,
so that every injectable preparation is compounded or unlicensed (minoxidil, dutasteride)."""
SUBSTANCE_CLASSES = (
    "hydrating_revitalising", "vitamin", "regenerative", "plant_extract", "enzyme",
    "detergent_cytolytic", "lipolytic_vasoactive", "local_anaesthetic",
    "analgesic_anti_inflammatory", "hormone", "hair_growth", "depigmenting",
)


@dataclass(frozen=True)
class Reference:
    id: str
    citation: str
    year: int | None = None
    doi: str | None = None
    url: str | None = None

    @property
    def link(self) -> str | None:
        """The best link for the reference: its URL, else its DOI resolver address."""
        return self.url or (f"https://doi.org/{self.doi}" if self.doi else None)


@dataclass(frozen=True)
class Claim:
    id: str
    statement: str
    kind: str
    refs: tuple[str, ...]
    topic: str
    ocebm: int | None = None
    certainty: str | None = None


@dataclass(frozen=True)
class GlossaryTerm:
    id: str
    term: str
    definition: str
    refs: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndicationEvidence:
    """The best evidence for one substance in one indication."""

    indication: str
    ocebm: int
    certainty: str
    summary: str
    refs: tuple[str, ...]


@dataclass(frozen=True)
class Substance:
    id: str
    name: str
    substance_class: str
    purposes: tuple[str, ...]
    mechanism: str
    regulatory_status: str
    regulatory_note: str
    risks: tuple[str, ...]
    refs: tuple[str, ...]
    evidence: tuple[IndicationEvidence, ...] = ()
    monograph: str = ""
    labelled_indication: str | None = None
    market_status: str | None = None

    @property
    def indications(self) -> tuple[str, ...]:
        """The indications with an evidence entry, in the order of INDICATIONS."""
        return tuple(entry.indication for entry in self.evidence)

    def evidence_for(self, indication: str) -> IndicationEvidence | None:
        """The evidence entry for one indication, or None when there is none."""
        return next((e for e in self.evidence if e.indication == indication), None)

    @property
    def all_refs(self) -> tuple[str, ...]:
        """Every reference id of the substance and its evidence, first use first."""
        ids = [*self.refs, *(ref for entry in self.evidence for ref in entry.refs)]
        return tuple(dict.fromkeys(ids))


@dataclass(frozen=True)
class Content:
    """Everything in ``course/data``, validated and cross-checked."""

    references: Mapping[str, Reference]
    claims: Mapping[str, Claim]
    glossary: Mapping[str, GlossaryTerm]
    substances: Mapping[str, Substance]
    cited: frozenset[str] = field(default=frozenset())

    def unused_references(self) -> list[str]:
        """Bibliography ids that no claim, term or substance cites."""
        return sorted(set(self.references) - self.cited)


# ---------------------------------------------------------------- field checking


@dataclass(frozen=True)
class Rule:
    """How one field is checked, and how to say what was expected."""

    check: Callable[[Any], bool]
    expected: str


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and value.strip() != ""


def _one_of(options: tuple[str, ...]) -> Rule:
    return Rule(lambda value: value in options, f"one of {', '.join(options)}")


def _int_between(low: int, high: int, what: str) -> Rule:
    return Rule(lambda value: type(value) is int and low <= value <= high, what)


TEXT = Rule(_is_str, "a non-empty string")
TEXT_LIST = Rule(
    lambda value: isinstance(value, list) and all(_is_str(v) for v in value),
    "a list of non-empty strings",
)
YEAR = _int_between(1900, 2100, "a year (whole number)")
OCEBM = _int_between(1, 5, "an OCEBM level, a whole number from 1 to 5")
CERTAINTY = _one_of(CERTAINTIES)
KIND = _one_of(CLAIM_KINDS)
TOPIC = _one_of(CLAIM_TOPICS)
REG_STATUS = _one_of(REGULATORY_STATUSES)
MARKET_STATUS = _one_of(MARKET_STATUSES)
SUB_CLASS = _one_of(SUBSTANCE_CLASSES)
PURPOSES = Rule(
    lambda value: isinstance(value, list) and bool(value) and set(value) <= set(INDICATIONS),
    f"a non-empty list drawn from {', '.join(INDICATIONS)}",
)
MONOGRAPH_WORDS = (60, 120)
MONOGRAPH = Rule(
    lambda value: _is_str(value)
    and MONOGRAPH_WORDS[0] <= len(value.split()) <= MONOGRAPH_WORDS[1],
    f"a plain-language paragraph of {MONOGRAPH_WORDS[0]}–{MONOGRAPH_WORDS[1]} words",
)
EVIDENCE_TABLE = Rule(
    lambda value: isinstance(value, dict) and bool(value),
    "a table with one sub-table per indication ([<substance>.evidence.<indication>])",
)
EVIDENCE_FIELDS = {"ocebm": OCEBM, "certainty": CERTAINTY, "summary": TEXT, "refs": TEXT_LIST}


def validated(
    record: Any,
    where: str,
    required: Mapping[str, Rule],
    optional: Mapping[str, Rule] | None = None,
) -> dict[str, Any]:
    """Check one record's fields; return it as a plain dict or raise ContentError."""
    optional = optional or {}
    if not isinstance(record, dict):
        raise ContentError(f"{where}: expected a table of fields, got {type(record).__name__}")
    for name in record:
        if name not in required and name not in optional:
            known = ", ".join(sorted({*required, *optional}))
            raise ContentError(f"{where}: unknown field {name!r} (known fields: {known})")
    for name in required:
        if name not in record:
            raise ContentError(f"{where}: missing required field {name!r}")
    for name, rule in {**required, **optional}.items():
        if name in record and not rule.check(record[name]):
            raise ContentError(
                f"{where}: field {name!r} must be {rule.expected}, got {record[name]!r}"
            )
    return dict(record)


# ---------------------------------------------------------------- loaders


def _reference(ref_id: str, record: Any, path: Path) -> Reference:
    fields = validated(
        record, f"{path.name}: reference {ref_id!r}",
        {"citation": TEXT}, {"year": YEAR, "doi": TEXT, "url": TEXT},
    )
    return Reference(id=ref_id, **fields)


def _check_refs(ids: list[str], known: Mapping[str, Reference], where: str) -> tuple[str, ...]:
    for ref_id in ids:
        if ref_id not in known:
            raise ContentError(f"{where}: unknown reference id {ref_id!r}")
    return tuple(ids)


def _claim(claim_id: str, record: Any, path: Path, refs: Mapping[str, Reference]) -> Claim:
    where = f"{path.name}: claim {claim_id!r}"
    fields = validated(
        record, where,
        {"statement": TEXT, "kind": KIND, "refs": TEXT_LIST, "topic": TOPIC},
        {"ocebm": OCEBM, "certainty": CERTAINTY},
    )
    graded = "ocebm" in fields or "certainty" in fields
    if fields["kind"] == "evidence" and not ("ocebm" in fields and "certainty" in fields):
        raise ContentError(f"{where}: an evidence claim needs both 'ocebm' and 'certainty'")
    if fields["kind"] != "evidence" and graded:
        raise ContentError(
            f"{where}: only kind 'evidence' carries 'ocebm' and 'certainty' "
            f"(this claim is {fields['kind']!r})"
        )
    fields["refs"] = _check_refs(fields["refs"], refs, where)
    if not fields["refs"]:
        raise ContentError(f"{where}: a claim needs at least one reference id")
    return Claim(id=claim_id, **fields)


def _term(term_id: str, record: Any, path: Path,
          refs: Mapping[str, Reference]) -> GlossaryTerm:
    where = f"{path.name}: term {term_id!r}"
    fields = validated(record, where, {"term": TEXT, "definition": TEXT}, {"refs": TEXT_LIST})
    fields["refs"] = _check_refs(fields.get("refs", []), refs, where)
    return GlossaryTerm(id=term_id, **fields)


def _evidence(
    table: dict[str, Any], purposes: list[str], refs: Mapping[str, Reference], where: str
) -> tuple[IndicationEvidence, ...]:
    """Check a substance's evidence table: one graded, referenced entry per purpose."""
    for indication in table:
        if indication not in INDICATIONS:
            raise ContentError(
                f"{where}: evidence for unknown indication {indication!r} "
                f"(known indications: {', '.join(INDICATIONS)})"
            )
        if indication not in purposes:
            raise ContentError(
                f"{where}: evidence for {indication!r}, which is not one of its purposes "
                f"({', '.join(purposes)})"
            )
    missing = [p for p in purposes if p not in table]
    if missing:
        raise ContentError(f"{where}: purposes without an evidence entry: {', '.join(missing)}")
    entries = []
    for indication in INDICATIONS:
        if indication not in table:
            continue
        at = f"{where}: evidence {indication!r}"
        fields = validated(table[indication], at, EVIDENCE_FIELDS)
        fields["refs"] = _check_refs(fields["refs"], refs, at)
        if not fields["refs"]:
            raise ContentError(f"{at}: an evidence entry needs at least one reference id")
        entries.append(IndicationEvidence(indication=indication, **fields))
    return tuple(entries)


def _substance(substance_id: str, record: Any, path: Path,
               refs: Mapping[str, Reference]) -> Substance:
    where = f"{path.name}: substance {substance_id!r}"
    fields = validated(
        record, where,
        {
            "name": TEXT, "substance_class": SUB_CLASS, "purposes": PURPOSES,
            "mechanism": TEXT, "regulatory_status": REG_STATUS,
            "regulatory_note": TEXT, "risks": TEXT_LIST, "refs": TEXT_LIST,
            "evidence": EVIDENCE_TABLE, "monograph": MONOGRAPH,
        },
        {"labelled_indication": TEXT, "market_status": MARKET_STATUS},
    )
    fields["refs"] = _check_refs(fields["refs"], refs, where)
    fields["evidence"] = _evidence(fields["evidence"], fields["purposes"], refs, where)
    approved = fields["regulatory_status"] == "approved"
    if approved != ("labelled_indication" in fields):
        raise ContentError(
            f"{where}: 'labelled_indication' is required for an approved substance "
            "and allowed only for one"
        )
    fields["purposes"] = tuple(fields["purposes"])
    fields["risks"] = tuple(fields["risks"])
    return Substance(id=substance_id, **fields)


REFERENCES: Catalogue[Reference] = Catalogue(DATA_DIR / "references.toml", None, _reference)
_CITED = {"refs": REFERENCES.cached}  # alone, a file is checked against the course's bibliography
CLAIMS: Catalogue[Claim] = Catalogue(DATA_DIR / "claims.toml", None, _claim, _CITED)
GLOSSARY: Catalogue[GlossaryTerm] = Catalogue(DATA_DIR / "glossary.toml", None, _term, _CITED)
SUBSTANCES: Catalogue[Substance] = Catalogue(DATA_DIR / "substances.toml", None, _substance,
                                             _CITED)


def load_content(data_dir: Path = DATA_DIR) -> Content:
    """Load and cross-check every data file in ``data_dir``."""
    path = data_dir / REFERENCES.path.name
    references = REFERENCES.load(path)
    if not references:
        raise ContentError(f"{path}: the bibliography is empty")
    claims = CLAIMS.load(data_dir / CLAIMS.path.name, refs=references)
    glossary = GLOSSARY.load(data_dir / GLOSSARY.path.name, refs=references)
    substances = SUBSTANCES.load(data_dir / SUBSTANCES.path.name, refs=references)
    cited = {
        ref
        for group in (claims.values(), glossary.values(), substances.values())
        for record in group
        for ref in record.refs
    } | {ref for substance in substances.values() for ref in substance.all_refs}
    return Content(references, claims, glossary, substances, frozenset(cited))


@lru_cache(maxsize=1)
def content() -> Content:
    """The course's own content, loaded once per process."""
    return load_content()
