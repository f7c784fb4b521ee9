"""Scan course text for claims that clinical-brief.md §9 ("Corrections and additions") rules out.

Pure functions over plain text: :func:`findings` checks one unit of text (a notebook cell,
or every string of one TOML record joined together) and returns the rules it breaks;
:func:`notebook_units` and :func:`toml_units` cut files into such units, each with a
location a reader can find. The rules are deliberately narrow patterns for the wrong
statements the blind review found, not a general fact checker:

- ``hair_injectable_licensed``: minoxidil or dutasteride called licensed (no licensed
  injectable exists anywhere; every injectable preparation is compounded or unlicensed);
- ``lidocaine_us_figure_unlabelled``: 300 mg or 4.5 mg/kg with no "US" nearby (the UK
  SmPC/BNF maximum for plain lidocaine is 200 mg), or the old "commonly quoted" wording;
- ``collagenase_off_label`` / ``collagenase_available``: collagenase called off-label, or
  its approval given without saying that Qwo has been discontinued;
- ``ha_series_called_controlled``: the hyaluronic acid skin series (R11, R12) called
  controlled studies (they were uncontrolled before–after series, OCEBM 4);
- ``paris_outbreak_figures``: the Paris outbreak given as 15 of 111 (it was 16 of 105);
- ``dc_cluster_as_ntm``: the Washington DC cluster [R29] cited as a mycobacterial outbreak;
- ``every_outbreak_injection_safety``: "every outbreak was a failure of injection safety".
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

WINDOW = 250
"""Characters either side of a lidocaine figure searched for the word "US"."""

_SENTENCE = re.compile(r"\n\s*[-|]|(?<=[.!?])\s+(?=[A-Z(\"'*])|\n\s*\n")
_HAIR = re.compile(r"\b(minoxidil|dutasteride)\b", re.IGNORECASE)
_LICENSED = re.compile(r"(?<!un)\blicensed\b", re.IGNORECASE)
_NOT_LICENSED = re.compile(r"\b(no|not|never|nor)\b[^.;:]{0,50}\blicensed\b", re.IGNORECASE)
_US_FIGURE = re.compile(r"\b300\s?mg\b|\b4\.5\s?mg/kg\b")
_US = re.compile(r"\bUS\b|\bUnited States\b")
_COMMONLY_QUOTED = re.compile(r"4\.5 mg/kg[^.]{0,120}commonly quoted|commonly quoted[^.]{0,120}"
                              r"4\.5 mg/kg", re.IGNORECASE)
_COLLAGENASE = re.compile(r"\b(collagenase|qwo)\b", re.IGNORECASE)
_OFF_LABEL = re.compile(r"\boff-label\b(?!\s+(use of\s+)?deoxycholic)", re.IGNORECASE)
_APPROVAL = re.compile(r"\b(approv\w*|licensed)\b", re.IGNORECASE)
_DISCONTINUED = re.compile(r"\bdiscontinued\b|\bno longer marketed\b", re.IGNORECASE)
_HA_SERIES = re.compile(r"\bR1[12]\b|\bAmin\b|\bEl-Domyati\b|hyaluronic|histolog", re.IGNORECASE)
_CONTROLLED = re.compile(r"(?<!un)(?<!non-)\bcontrolled (stud(y|ies)|histolog\w*|trials?)\b",
                         re.IGNORECASE)
_PARIS_OLD = re.compile(r"\b15 (of|out of|in) 111\b|\b15/111\b")
_NTM_CITING_R29 = re.compile(r"(mycobacter\w*|\bNTM\b)[^\[\].]{0,80}\[[^\]]*\bR29\b",
                             re.IGNORECASE)
_NEGATION = re.compile(r"\bnot\b|\bnever\b|\bno\b", re.IGNORECASE)
_EVERY_OUTBREAK = re.compile(r"(?<!not )every outbreak[^.]{0,80}(failure|injection safety)",
                             re.IGNORECASE)
_STRING_JOIN = re.compile(r'"\s*\n\s*"')

RULES = (
    "hair_injectable_licensed", "lidocaine_us_figure_unlabelled", "collagenase_off_label",
    "collagenase_available", "ha_series_called_controlled", "paris_outbreak_figures",
    "dc_cluster_as_ntm", "every_outbreak_injection_safety",
)


@dataclass(frozen=True)
class Finding:
    """One rule broken in one unit of text."""

    where: str
    rule: str
    excerpt: str

    def __str__(self) -> str:
        return f"{self.where}: {self.rule}: {self.excerpt}"


def sentences(text: str) -> list[str]:
    """Split text into sentences (and table rows and list items), roughly."""
    return [s.strip() for s in _SENTENCE.split(text) if s and s.strip()]


def _excerpt(text: str, start: int, end: int) -> str:
    return " ".join(text[max(0, start - 60):end + 60].split())


def findings(text: str, where: str = "") -> list[Finding]:
    """The §9 rules that one unit of text breaks (empty when it breaks none)."""
    found: list[Finding] = []

    def add(rule: str, excerpt: str) -> None:
        found.append(Finding(where, rule, " ".join(excerpt.split())[:200]))

    for sentence in sentences(text):
        if (_HAIR.search(sentence) and _LICENSED.search(sentence)
                and not _NOT_LICENSED.search(sentence)):
            add("hair_injectable_licensed", sentence)
        if _COLLAGENASE.search(sentence) and _OFF_LABEL.search(sentence):
            add("collagenase_off_label", sentence)
        if _HA_SERIES.search(sentence) and _CONTROLLED.search(sentence):
            add("ha_series_called_controlled", sentence)
        if _NTM_CITING_R29.search(sentence) and not _NEGATION.search(sentence):
            add("dc_cluster_as_ntm", sentence)
        if (_COLLAGENASE.search(sentence) and _APPROVAL.search(sentence)
                and not _DISCONTINUED.search(text)):
            add("collagenase_available", sentence)
    for match in _US_FIGURE.finditer(text):
        window = text[max(0, match.start() - WINDOW):match.end() + WINDOW]
        if not _US.search(window):
            add("lidocaine_us_figure_unlabelled", _excerpt(text, match.start(), match.end()))
    for match in _COMMONLY_QUOTED.finditer(text):
        add("lidocaine_us_figure_unlabelled", match.group(0))
    for pattern, rule in ((_PARIS_OLD, "paris_outbreak_figures"),
                          (_EVERY_OUTBREAK, "every_outbreak_injection_safety")):
        for match in pattern.finditer(text):
            add(rule, _excerpt(text, match.start(), match.end()))
    return found


# ---------------------------------------------------------------- units of text


def notebook_units(path: Path) -> Iterator[tuple[str, str]]:
    """(location, source) of every cell of a notebook; the location names the cell id.

    In code cells, string literals continued on the next line ("…" newline "…") are
    joined, so a printed rationale reads as the sentences it prints.
    """
    notebook = json.loads(path.read_text(encoding="utf-8"))
    for number, cell in enumerate(notebook.get("cells", [])):
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        if cell.get("cell_type") == "code":
            text = _STRING_JOIN.sub("", text)
        yield f"{path.parent.name}/{path.name} cell {number} ({cell.get('id', '?')})", text


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def toml_units(path: Path) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(location, text, record) for every top-level record of a TOML file.

    The text joins every string of the record (a question's stem, options and rationales
    together), so a figure and its label may sit in different fields of one record.
    Files whose top level is a list of tables yield one unit per table.
    """
    data = tomllib.loads(path.read_text(encoding="utf-8"))
    for key, record in data.items():
        records = record if isinstance(record, list) else [record]
        for n, item in enumerate(records):
            if not isinstance(item, dict):
                continue
            label = key if len(records) == 1 else f"{key}[{n}]"
            yield f"{path.name} [{label}]", "\n".join(_strings(item)), item


def scan_notebook(path: Path) -> list[Finding]:
    """Every finding in every cell of one notebook."""
    return [f for where, text in notebook_units(path) for f in findings(text, where)]


def scan_toml(path: Path, keep: Any = None) -> list[Finding]:
    """Every finding in one TOML file; ``keep(key, record)`` chooses the records scanned."""
    result = []
    for where, text, record in toml_units(path):
        key = where.split("[", 1)[1].rstrip("]")
        if keep is None or keep(key, record):
            result += findings(text, where)
    return result
