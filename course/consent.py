"""What an informed-consent record for mesotherapy covers, and feedback on a record.

The elements live in ``course/data/consent.toml`` (clinical-brief.md §6, §7) and are
validated on load. Two are sourced: the patient must be fully informed of advantages and
limitations [R1], and told when a product is used off-label, the practitioner being
responsible for that use [R8]. The others (product and regulatory status, number of
sessions, realistic outcome, alternatives, specific risks including NTM infection and
scarring, a cooling-off period, photographs and documentation, the batch number) are
expert practice [GK] and are worded softly.

A **consent record** is a dict mapping element ids to a non-empty string (what was
recorded) or ``True`` (covered). ``False``, ``None``, an empty or blank string count as
not recorded; any other value, or an unknown element id, raises ValueError naming it.
This is a teaching exercise, not a legal standard: local regulation governs consent.

Pure functions: :func:`missing_elements`, :func:`consent_feedback`; the graded exercise
of Module 03 calls them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from course.complications import cited_ids
from course.content import TEXT, TEXT_LIST, ContentError, Rule, read_toml, validated
from course.paths import DATA_DIR
from course.skin import known_ids

CONSENT_FILE = DATA_DIR / "consent.toml"
BASES = ("sourced", "expert_practice")
EXPERT_PRACTICE = "expert practice"
GK_NOTE = "GK = expert practice: general medical knowledge, not graded evidence."
LEGAL_NOTE = ("Expert-practice elements describe common practice, not a legal standard; "
              "local regulation governs consent.")


@dataclass(frozen=True)
class ConsentElement:
    id: str
    label: str
    why: str
    basis: str
    refs: tuple[str, ...]
    claims: tuple[str, ...]


ELEMENT_FIELDS = {
    "label": TEXT, "why": TEXT,
    "basis": Rule(lambda v: v in BASES, f"one of {', '.join(BASES)}"),
    "refs": Rule(lambda v: TEXT_LIST.check(v) and bool(v), "a non-empty list of reference ids"),
    "claims": TEXT_LIST,
}


def _element(element_id: str, record: Any, path: Path) -> ConsentElement:
    where = f"{path.name}: element {element_id!r}"
    fields = validated(record, where, ELEMENT_FIELDS)
    refs = fields["refs"]
    for ref in refs:
        if ref not in known_ids("references.toml"):
            raise ContentError(f"{where}: field 'refs': unknown reference id {ref!r}")
    for claim in fields["claims"]:
        if claim not in known_ids("claims.toml"):
            raise ContentError(f"{where}: field 'claims': unknown claim id {claim!r}")
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
    return ConsentElement(id=element_id, label=fields["label"], why=fields["why"],
                          basis=fields["basis"], refs=tuple(refs),
                          claims=tuple(fields["claims"]))


def load_consent(path: Path = CONSENT_FILE) -> dict[str, ConsentElement]:
    """Load and validate the consent elements; raise ContentError if anything is wrong."""
    data = read_toml(path)
    for key in data:
        if key != "element":
            raise ContentError(f"{path.name}: unknown table {key!r} (known: element)")
    tables = data.get("element")
    if not isinstance(tables, dict) or not tables:
        raise ContentError(f"{path.name}: expected one or more [element.<id>] tables")
    return {k: _element(k, v, path) for k, v in tables.items()}


@lru_cache(maxsize=1)
def consent_elements() -> Mapping[str, ConsentElement]:
    """The course's consent elements, loaded once per process, in feedback order."""
    return load_consent()


def _present(element_id: str, value: Any) -> bool:
    if value is True:
        return True
    if value is False or value is None:
        return False
    if isinstance(value, str):
        return value.strip() != ""
    raise ValueError(f"consent record: element {element_id!r} must be a non-empty string "
                     f"or True; got {value!r}")


def missing_elements(record: dict[str, Any]) -> list[str]:
    """Element ids the record does not cover, in the data's order.

    ValueError names unknown element ids, or a value that is neither a string nor a bool.
    """
    if not isinstance(record, dict):
        raise ValueError(f"consent record must be a dict of element ids, "
                         f"got {type(record).__name__}")
    elements = consent_elements()
    unknown = [key for key in record if key not in elements]
    if unknown:
        raise ValueError(f"consent record: unknown element id(s) "
                         f"{', '.join(repr(k) for k in unknown)} "
                         f"(known elements: {', '.join(elements)})")
    present = {key for key, value in record.items() if _present(key, value)}
    return [element_id for element_id in elements if element_id not in present]


def _why_line(element: ConsentElement) -> str:
    return f"- {element.label}: {element.why} (References: {', '.join(element.refs)})"


def consent_feedback(record: dict[str, Any]) -> str:
    """What the record covers, what it misses and why, with references."""
    missing = missing_elements(record)
    elements = consent_elements()
    done = [e for e in elements.values() if e.id not in missing]
    lines = [f"Consent record: {len(done)} of {len(elements)} elements recorded."]
    if done:
        lines.append("Recorded: " + "; ".join(e.label for e in done) + ".")
    if missing:
        lines.append("Missing, and why the record should cover it:")
        lines += [_why_line(elements[m]) for m in missing]
    else:
        lines.append("Nothing is missing: every element is recorded.")
    lines += [GK_NOTE, LEGAL_NOTE]
    return "\n".join(lines)
