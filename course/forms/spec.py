"""The ``course.answer`` cell metadata that describes an answer form (course-design.md §9).

Written once, at authoring time, by :mod:`course.forms.migrate`; the notebook then
carries it (the release keeps it) and the JupyterLab extension renders it. Shapes::

    {"name": "answer_q1_3_1", "kind": "choice", "checks": 1,
     "options": [{"value": "a", "label": "…"}, …]}
    {"name": …, "kind": "number", "checks": 1, "unit": "mL", "decimals": 1}
    {"name": …, "kind": "case", "checks": 3, "case": "submental_dca",
     "decision": [{"value": "proceed", "label": "…"}, …],
     "reasons": [{"value": "CODE", "label": "…"}, …], "management": […],
     "max_reasons": 3, "max_management": 4}

``checks`` is how many cells after the answer cell check it (run after an answer).
Practice questions add ``"practice": true``. Keys never appear here: every option is
listed, in the stem's order, and a number carries only its unit and precision.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

from nbformat import NotebookNode

from course.paths import DATA_DIR

META_KEY = "course"
STEM_OPTION = re.compile(r"^\s*[-*]\s*\(([a-e])\)\s*(.+?)\s*$", re.MULTILINE)
KINDS = ("choice", "number", "case")

# Words of a stem's "Assign your answer … as a number …" sentence → the unit shown.
_UNIT_WORDS = (
    ("mg/kg", "mg/kg"), ("percentage points", "percentage points"),
    ("percentage", "%"), ("millilitres", "mL"), ("in ml", "mL"), ("milligrams", "mg"),
    ("in mg", "mg"), ("micrograms", "µg"), ("months", "months"), ("weeks", "weeks"),
)
_DECIMAL_WORDS = (("two decimal places", 2), ("one decimal place", 1), ("whole number", 0))
_WITHIN = re.compile(r"within (\d+(?:\.\d+)?)")


def answer_spec(cell: NotebookNode) -> dict[str, Any] | None:
    """The ``course.answer`` metadata of a cell, or None."""
    spec = cell.get("metadata", {}).get(META_KEY, {}).get("answer")
    return spec if isinstance(spec, dict) else None


def set_answer_spec(cell: NotebookNode, spec: dict[str, Any]) -> None:
    cell.metadata.setdefault(META_KEY, {})["answer"] = spec


def stem_options(stem: str) -> list[dict[str, str]]:
    """The lettered options of a stem: ``- (a) text`` lines, in order."""
    return [{"value": letter, "label": label} for letter, label in STEM_OPTION.findall(stem)]


def choice_spec(name: str, stem: str, checks: int) -> dict[str, Any] | None:
    options = stem_options(stem)
    if len(options) < 2:
        return None
    return {"name": name, "kind": "choice", "checks": checks, "options": options}


def decimals_for(tolerance: float) -> int:
    """Decimal places a tolerance asks for: 0.01 → 2, 0.1 → 1, 0.5 and 1 → 0."""
    if tolerance <= 0:
        return 0
    return max(0, math.ceil(-math.log10(2 * tolerance) - 1e-9))


def _assign_sentence(stem: str, name: str) -> str:
    for line in stem.splitlines():
        if f"`{name}`" in line and "number" in line:
            return line.lower()
    return ""


def number_spec(name: str, stem: str, checks: int, tolerance: float | None) -> dict[str, Any]:
    """Unit and precision as the stem states them (the hidden tolerance as a fallback)."""
    sentence = _assign_sentence(stem, name)
    unit = next((u for words, u in _UNIT_WORDS if words in sentence), None)
    decimals = next((d for words, d in _DECIMAL_WORDS if words in sentence), None)
    if decimals is None:
        within = _WITHIN.search(sentence)
        if within:
            decimals = decimals_for(float(within.group(1)))
        elif tolerance is not None:
            decimals = decimals_for(tolerance)
    spec: dict[str, Any] = {"name": name, "kind": "number", "checks": checks, "unit": unit}
    if decimals is not None:
        spec["decimals"] = decimals
    return spec


def case_spec(name: str, case_id: str, checks: int,
              path: Path = DATA_DIR / "cases.toml") -> dict[str, Any]:
    """Menus and limits of one case, from the learner-visible catalogue."""
    from course.cases import CASES_PATH, catalogue, load_cases

    data = catalogue() if path == CASES_PATH else load_cases(path)
    case = data.cases[case_id]
    return {
        "name": name, "kind": "case", "checks": checks, "case": case_id,
        "decision": [{"value": d, "label": t} for d, t in data.decisions.items()],
        "reasons": [{"value": o.code, "label": o.text} for o in case.reasons],
        "management": [{"value": o.code, "label": o.text} for o in case.management],
        "max_reasons": case.max_reasons, "max_management": case.max_management,
    }


def practice_spec(name: str, qid: str) -> dict[str, Any] | None:
    """A practice question's form, with its options from the question bank."""
    from course.questions import questions

    question = questions().get(qid)
    if question is None:
        return None
    return {"name": name, "kind": "choice", "checks": 1, "practice": True, "question": qid,
            "options": [{"value": o.letter, "label": o.text} for o in question.options]}


def label_problems(nb: NotebookNode) -> list[str]:
    """Choice forms whose labels no longer match their stem or question bank entry."""
    problems = []
    for index, cell in enumerate(nb.cells):
        spec = answer_spec(cell)
        if not spec or spec.get("kind") != "choice":
            continue
        name = spec.get("name", "?")
        if spec.get("practice"):
            fresh = practice_spec(name, spec.get("question", name.removeprefix("answer_")))
            expected = fresh["options"] if fresh else None
        else:
            stem = next((c.source for c in reversed(nb.cells[:index])
                         if c.cell_type == "markdown" and f"`{name}`" in c.source), "")
            expected = stem_options(stem)
        if expected != spec.get("options"):
            problems.append(f"{name}: the form's options differ from the question's")
    return problems
