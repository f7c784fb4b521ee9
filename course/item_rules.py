"""Item-writing rules for graded single-best-answer (SBA) items.

Pure functions: :func:`items_from_notebook` reads the SBA items of an nbgrader source
notebook (stem, lead-in and options from the locked ``<base>_stem`` markdown cell, the
key from the hidden test of ``<base>_check``); the ``rule_*`` functions return the grade
ids of the items (or, for quiz-level rules, a description of the imbalance) that break
a rule of ``learning-design.md`` / ``course-design.md`` §4. Numeric items and case
menus are not SBA items and are skipped. :func:`similarity` compares two items for
re-use (the final assessment must not repeat earlier items).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

ABSOLUTE_WORDS: tuple[str, ...] = (
    "always", "never", "only", "all", "none", "completely", "entirely", "totally",
    "absolutely", "guaranteed", "guarantee", "guarantees", "every", "everyone",
    "everything", "nothing", "nobody", "invariably", "certainly",
)
SHARE_SHORTEST_MAX = 0.30
SHARE_LONGEST_MAX = 0.30
LETTER_SHARE_MIN = 0.15
LETTER_SHARE_MAX = 0.35
LETTER_RULE_MIN_ITEMS = 6
OPTION_COUNT = (4, 5)

_OPTION = re.compile(r"^\s*[-*]\s*\(([a-e])\)\s*(.+?)\s*$", re.MULTILINE)
_HEADER = re.compile(r"^\*\*(Question|Item)\b[^\n]*\n", re.IGNORECASE)
_ASSIGN = re.compile(r"^\s*Assign your answer.*$", re.MULTILINE | re.IGNORECASE)
_KEY = re.compile(r'==\s*"([a-e])"')
_WORD = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_ABOVE = re.compile(r"\b(all|none|both|neither) of (the )?(above|these|those)\b", re.IGNORECASE)
_NEGATIVE_CAPS = re.compile(r"\b(EXCEPT|NOT|LEAST|FALSE|INCORRECT)\b")
_NEGATIVE_LEAD = re.compile(r"\b(except|not|least|false|incorrect|untrue|wrong)\b|n't\b",
                            re.IGNORECASE)
_GENERIC = frozenset((
    "which", "what", "of", "the", "following", "these", "statement", "statements", "option",
    "options", "answer", "answers", "reply", "one", "is", "are", "true", "correct",
    "accurate", "right", "best", "most", "a", "an",
))
_QUESTION_CUES = re.compile(r"\?|\b(asks?|asked|wants? to know|wonders?|enquires?)\b",
                            re.IGNORECASE)


@dataclass(frozen=True)
class Item:
    """One graded single-best-answer item."""

    grade_id: str
    notebook: str
    stem: str
    lead_in: str
    options: Mapping[str, str]
    key: str | None
    meta: Mapping[str, Any] = field(default_factory=dict)

    @property
    def distractors(self) -> dict[str, str]:
        return {k: v for k, v in self.options.items() if k != self.key}


# ---------------------------------------------------------------- extraction


def _nbgrader(cell: Mapping[str, Any]) -> Mapping[str, Any]:
    return cell.get("metadata", {}).get("nbgrader", {}) or {}


def _source(cell: Mapping[str, Any]) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def parse_stem(markdown: str) -> tuple[str, str, dict[str, str]]:
    """Split a stem cell into (vignette and lead-in text, lead-in, options by letter)."""
    text = _HEADER.sub("", markdown.strip() + "\n", count=1)
    text = _ASSIGN.sub("", text)
    options = {m.group(1): m.group(2) for m in _OPTION.finditer(text)}
    first = _OPTION.search(text)
    before = (text[: first.start()] if first else text).strip()
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", before) if p.strip()]
    lead_in = paragraphs[-1] if paragraphs else ""
    return before, lead_in, options


def hidden_key(check_source: str) -> str | None:
    """The key letter of an SBA hidden test (``... == "b"``), or None."""
    begin = check_source.find("### BEGIN HIDDEN TESTS")
    match = _KEY.search(check_source[begin:] if begin >= 0 else "")
    return match.group(1) if match else None


def items_from_notebook(nb: Mapping[str, Any], notebook: str = "") -> list[Item]:
    """Every SBA item of an nbgrader source notebook (cells as nbformat dicts)."""
    cells = list(nb.get("cells", []))
    by_id = {_nbgrader(c).get("grade_id"): c for c in cells if _nbgrader(c).get("grade_id")}
    items = []
    for cell in cells:
        gid = _nbgrader(cell).get("grade_id", "")
        if cell.get("cell_type") != "markdown" or not gid.endswith("_stem"):
            continue
        stem, lead_in, options = parse_stem(_source(cell))
        if not options:
            continue  # numeric item or a case with a code menu
        base = gid[: -len("_stem")]
        check = by_id.get(base + "_check")
        key = hidden_key(_source(check)) if check else None
        meta = cell.get("metadata", {}).get("course", {}).get("item", {})
        items.append(Item(base + "_check", notebook, stem, lead_in, options, key, meta))
    return items


# ---------------------------------------------------------------- rules per item


def words(text: str) -> list[str]:
    """Lower-case word tokens."""
    return _WORD.findall(text.lower())


def absolutes(text: str) -> set[str]:
    """The absolute words in a text."""
    return set(words(text)) & set(ABSOLUTE_WORDS)


def rule_lead_in_question(items: Iterable[Item]) -> list[str]:
    """Items whose lead-in does not end in "?", or is a generic "which is true?" with no
    question in the vignette (it cannot be answered with the options covered)."""
    bad = []
    for item in items:
        lead = item.lead_in.strip()
        content = [w for w in words(lead) if w not in _GENERIC]
        vignette = item.stem[: len(item.stem) - len(item.lead_in)]
        unfocused = not content and not _QUESTION_CUES.search(vignette)
        if not lead.endswith("?") or unfocused:
            bad.append(item.grade_id)
    return bad


def rule_option_count(items: Iterable[Item]) -> list[str]:
    """Items without 4–5 options lettered from (a), or whose key is not an option."""
    bad = []
    for item in items:
        letters = sorted(item.options)
        n = len(letters)
        expected = [chr(ord("a") + i) for i in range(n)]
        if not OPTION_COUNT[0] <= n <= OPTION_COUNT[1] or letters != expected \
                or item.key not in item.options:
            bad.append(item.grade_id)
    return bad


def rule_no_above_options(items: Iterable[Item]) -> list[str]:
    """Items with an "all/none of the above" option."""
    return [i.grade_id for i in items if any(_ABOVE.search(o) for o in i.options.values())]


def rule_no_negative_lead_in(items: Iterable[Item]) -> list[str]:
    """Items with an EXCEPT/NOT stem: a negative lead-in, or negative words in capitals."""
    return [i.grade_id for i in items
            if _NEGATIVE_LEAD.search(i.lead_in) or _NEGATIVE_CAPS.search(i.stem)]


def rule_absolutes_only_in_distractors(items: Iterable[Item]) -> list[str]:
    """Items where a distractor has an absolute word and the key has none (a cue)."""
    bad = []
    for item in items:
        if item.key is None or item.key not in item.options:
            continue
        if absolutes(item.options[item.key]):
            continue
        if any(absolutes(text) for text in item.distractors.values()):
            bad.append(item.grade_id)
    return bad


# ---------------------------------------------------------------- rules per quiz


def _allowed(share: float, n: int) -> int:
    return max(1, math.floor(share * n + 1e-9))


def key_is_shortest(item: Item) -> bool:
    """True when the key is (one of) the shortest options, in characters."""
    key = item.options.get(item.key or "")
    return key is not None and len(key) <= min(len(t) for t in item.distractors.values())


def key_is_longest(item: Item) -> bool:
    """True when the key is (one of) the longest options, in characters."""
    key = item.options.get(item.key or "")
    return key is not None and len(key) >= max(len(t) for t in item.distractors.values())


def rule_key_length(items: Sequence[Item]) -> list[str]:
    """Problems when the key is the shortest, or the longest, option in more than 30% of
    a quiz's items (at least one such item is always allowed)."""
    keyed = [i for i in items if i.key in i.options and i.distractors]
    problems = []
    for label, test, share in (("shortest", key_is_shortest, SHARE_SHORTEST_MAX),
                               ("longest", key_is_longest, SHARE_LONGEST_MAX)):
        hits = [i.grade_id for i in keyed if test(i)]
        if len(hits) > _allowed(share, len(keyed)):
            problems.append(f"key is the {label} option in {len(hits)} of {len(keyed)} items "
                            f"(at most {_allowed(share, len(keyed))}): {', '.join(hits)}")
    return problems


def rule_key_letters(items: Sequence[Item]) -> list[str]:
    """Problems when a letter is the key in fewer than 15% or more than 35% of a quiz's
    items (quizzes of at least 6 items; the lower bound applies to letters every item
    offers)."""
    keyed = [i for i in items if i.key in i.options]
    n = len(keyed)
    if n < LETTER_RULE_MIN_ITEMS:
        return []
    offered = set.intersection(*(set(i.options) for i in keyed))
    every = sorted(set.union(*(set(i.options) for i in keyed)))
    low, high = math.ceil(LETTER_SHARE_MIN * n - 1e-9), math.floor(LETTER_SHARE_MAX * n + 1e-9)
    problems = []
    for letter in every:
        ids = [i.grade_id for i in keyed if i.key == letter]
        if len(ids) > high or (letter in offered and len(ids) < low):
            problems.append(f"({letter}) is the key in {len(ids)} of {n} items "
                            f"(allowed {low}–{high}): {', '.join(ids) or 'none'}")
    return problems


ITEM_RULES = {
    "lead-in is a question answerable with the options covered": rule_lead_in_question,
    "4-5 options, key among them": rule_option_count,
    "no all/none of the above": rule_no_above_options,
    "no EXCEPT/NOT stem": rule_no_negative_lead_in,
    "no absolutes only in distractors": rule_absolutes_only_in_distractors,
}
QUIZ_RULES = {
    "key not too often shortest/longest": rule_key_length,
    "key letters balanced": rule_key_letters,
}


def check_items(items: Sequence[Item]) -> dict[str, list[str]]:
    """Every rule's offending items (or quiz-level problems), by rule name; empty lists
    mean the rule passes."""
    results = {name: rule(items) for name, rule in ITEM_RULES.items()}
    results.update({name: rule(items) for name, rule in QUIZ_RULES.items()})
    return results


# ---------------------------------------------------------------- re-use


def normalise(text: str) -> str:
    """Lower case, digits and letters only, single spaces (for comparing items)."""
    return " ".join(words(text))


@lru_cache(maxsize=8192)
def shingles(text: str, n: int = 3) -> frozenset[tuple[str, ...]]:
    """The word n-grams of a text."""
    toks = words(text)
    return frozenset(tuple(toks[i:i + n]) for i in range(max(0, len(toks) - n + 1)))


@lru_cache(maxsize=8192)
def _token_set(text: str) -> frozenset[str]:
    return frozenset(words(text))


def jaccard(a: str, b: str) -> float:
    """Token Jaccard similarity of two texts (0 when both are empty)."""
    sa, sb = _token_set(a), _token_set(b)
    return len(sa & sb) / len(sa | sb) if sa | sb else 0.0


def containment(a: str, b: str, n: int = 3) -> float:
    """The share of the shorter text's word n-grams that occur in the other text (catches
    a stem copied into, or out of, a longer vignette)."""
    sa, sb = shingles(a, n), shingles(b, n)
    small, large = (sa, sb) if len(sa) <= len(sb) else (sb, sa)
    return len(small & large) / len(small) if small else 0.0


def ratio(a: str, b: str, floor: float = 0.0) -> float:
    """difflib's sequence ratio of the words of two texts; 0 when its cheap upper bound is
    already below ``floor`` (saves time when only high values matter)."""
    matcher = difflib.SequenceMatcher(None, words(a), words(b), autojunk=False)
    if floor and matcher.quick_ratio() < floor:
        return 0.0
    return matcher.ratio()


@dataclass(frozen=True)
class Prepared:
    """An item's normalised stem and option set, ready for many comparisons."""

    stem: str
    options: str

    @classmethod
    def of(cls, stem: str, options: Iterable[str]) -> Prepared:
        return cls(normalise(stem), " | ".join(sorted(normalise(o) for o in options)))


def _part(a: str, b: str, floor: float, with_containment: bool) -> float:
    if not a or not b:
        return 0.0
    best = jaccard(a, b)
    if with_containment:
        best = max(best, containment(a, b))
    return max(best, ratio(a, b, floor))


def similarity(stem_a: str | Prepared, options_a: Iterable[str] = (),
               stem_b: str | Prepared = "", options_b: Iterable[str] = (),
               floor: float = 0.0) -> dict[str, float]:
    """Stem and option-set similarity of two items (0–1): for the stems the largest of
    difflib ratio, token Jaccard and word-trigram containment; for the option sets the
    larger of difflib ratio and token Jaccard. Items may be given as :class:`Prepared`.
    A ``floor`` skips difflib ratios that cannot reach it (they count as 0)."""
    a = stem_a if isinstance(stem_a, Prepared) else Prepared.of(stem_a, options_a)
    b = stem_b if isinstance(stem_b, Prepared) else Prepared.of(stem_b, options_b)
    return {"stem": _part(a.stem, b.stem, floor, True),
            "options": _part(a.options, b.options, floor, False)}
