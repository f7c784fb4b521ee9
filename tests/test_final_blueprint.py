"""The final assessment against its blueprint (course/instructor/final-blueprint.md): no
re-used items, item types, items per module in proportion to the course, points and pass
mark, and closing text that gives no key away."""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from functools import cache

import pytest

from course import item_rules as ir
from course.cases import cases
from course.certificate import PASS_MARK
from course.questions import questions
from course.syllabus import course_map

from .conftest import ROOT

FINAL = ROOT / "source" / "05-final-assessment" / "01-final.ipynb"
BLUEPRINT = ROOT / "course" / "instructor" / "final-blueprint.md"
MODULES = ("00-orientation", "01-principles", "02-substances", "03-risk-assessment",
           "04-case-studies")
TYPES = ("application", "calculation", "recall")
STEM_MAX = 0.40  # the previous final's copies of quiz items scored 0.42-0.65
OPTIONS_MAX = 0.45
FLOOR = min(STEM_MAX, OPTIONS_MAX)
APPLICATION_MIN = 0.60
RECALL_MAX = 0.15
PERSON = re.compile(
    r"\b(Mrs?|Ms|Miss|Dr|patient|woman|man|colleague|trainee|clinic|pharmacist|nurse|"
    r"practitioner|owner|adviser|her|his|she|he|you|your)\b|\b\d{2}, ", re.IGNORECASE)


def _nb() -> dict:
    return json.loads(FINAL.read_text(encoding="utf-8"))


def _gid(cell: dict) -> str:
    return cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", "")


def _text(cell: dict) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else src


def _stem_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["cell_type"] == "markdown" and _gid(c).endswith("_stem")]


def _stem_and_options(cell: dict) -> tuple[str, list[str]]:
    stem, _lead, options = ir.parse_stem(_text(cell))
    return stem, list(options.values())


@cache
def earlier_items() -> tuple[tuple[str, str, tuple[str, ...]], ...]:
    """(label, stem, options) of every quiz, lesson, case and practice item before the final."""
    out = []
    for path in sorted((ROOT / "source").glob("*/*.ipynb")):
        if path.parent.name == "05-final-assessment":
            continue
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in _stem_cells(nb):
            stem, options = _stem_and_options(cell)
            out.append((f"{path.parent.name}/{_gid(cell)}", stem, tuple(options)))
    for qid, q in questions().items():
        out.append((f"practice {qid}", f"{q.stem}\n\n{q.lead_in}",
                    tuple(o.text for o in q.options)))
    for cid, case in cases().items():
        out.append((f"case {cid}", " ".join((case.request, case.history, case.findings)),
                    tuple(o.text for o in case.reasons + case.management)))
    return tuple(out)


@cache
def prepared_earlier() -> tuple[tuple[str, ir.Prepared], ...]:
    return tuple((label, ir.Prepared.of(stem, options)) for label, stem, options in earlier_items())


def final_items() -> list[tuple[str, str, list[str], dict]]:
    """(grade id, stem, options, course.item metadata) of every graded question in the final,
    plus the mini-case vignettes (no options)."""
    nb = _nb()
    out = []
    for cell in nb["cells"]:
        gid = _gid(cell)
        if cell["cell_type"] != "markdown":
            continue
        if gid.endswith("_stem"):
            stem, options = _stem_and_options(cell)
            out.append((gid, stem, options, cell["metadata"].get("course", {}).get("item", {})))
        elif gid.startswith("case_"):
            out.append((gid, _text(cell).split("\n", 1)[1], [], {}))
    return out


@pytest.mark.parametrize("gid,stem,options", [(g, s, o) for g, s, o, _ in final_items()],
                         ids=[g for g, *_ in final_items()])
def test_no_final_item_reuses_an_earlier_item(gid: str, stem: str, options: list[str]) -> None:
    too_close = []
    mine = ir.Prepared.of(stem, options)
    for label, other in prepared_earlier():
        score = ir.similarity(mine, (), other, (), floor=FLOOR)
        if score["stem"] >= STEM_MAX or (options and score["options"] >= OPTIONS_MAX):
            too_close.append(f"{label} (stem {score['stem']:.2f}, options "
                             f"{score['options']:.2f})")
    assert not too_close, f"{gid} re-uses an earlier item: {'; '.join(too_close)}"


def test_the_reuse_threshold_catches_a_light_paraphrase() -> None:
    label, stem, options = next(e for e in earlier_items()
                                if e[0].startswith("01-principles/q1_3_") and e[2])
    light = stem.replace("A ", "One ", 1).replace("she", "the patient")
    shuffled = tuple(reversed([o.rstrip(".") + "." for o in options]))
    score = ir.similarity(light, shuffled, stem, options, floor=FLOOR)
    assert score["stem"] >= STEM_MAX and score["options"] >= OPTIONS_MAX, label


def _graded() -> list[tuple[str, str, list[str], dict]]:
    return [i for i in final_items() if i[0].endswith("_stem")]


def test_every_final_item_records_module_type_and_objective() -> None:
    objectives = blueprint()["objectives"]
    for gid, _stem, _options, meta in _graded():
        assert meta.get("module") in MODULES, gid
        assert meta.get("type") in TYPES, gid
        assert meta.get("objective") in objectives, gid


def test_item_type_proportions() -> None:
    types = Counter(meta["type"] for *_, meta in _graded())
    n = sum(types.values())
    assert types["application"] / n >= APPLICATION_MIN, types
    assert types["recall"] / n <= RECALL_MAX, types
    assert dict(types) == blueprint()["types"]


def test_application_items_describe_a_person_and_a_decision() -> None:
    for gid, stem, options, meta in _graded():
        if meta["type"] == "application":
            assert options, f"{gid}: an application item is single best answer"
            assert PERSON.search(stem), f"{gid}: no person or situation in the stem"


@cache
def blueprint() -> dict:
    text = BLUEPRINT.read_text(encoding="utf-8")
    modules = {m: int(n) for m, n in re.findall(
        r"^\| (\d\d-[a-z-]+) \| \d+ \| [\d.]+% \| (\d+) \|", text, re.MULTILINE)}
    types = {t: int(n) for t, n in re.findall(r"^\| ([a-z]+) \| (\d+) \| [\d.]+% \|", text,
                                              re.MULTILINE)}
    objectives = dict(re.findall(r"^\| (O\d[a-z]?) \| ([^|]+?) \|", text, re.MULTILINE))
    return {"modules": modules, "types": types, "objectives": objectives}


def test_final_items_match_the_blueprint_counts() -> None:
    counts = Counter(meta["module"] for *_, meta in _graded())
    assert dict(counts) == blueprint()["modules"]
    used = {meta["objective"] for *_, meta in _graded()}
    assert used == set(blueprint()["objectives"]), "every objective is assessed"


def test_blueprint_is_in_proportion_to_the_course() -> None:
    minutes = {a.id: a.minutes for a in course_map() if a.id in MODULES}
    planned = blueprint()["modules"]
    total = sum(planned.values())
    assert set(minutes) == set(planned) == set(MODULES)
    for module, n in planned.items():
        exact = total * minutes[module] / sum(minutes.values())
        assert abs(n - exact) < 1, f"{module}: {n} items, {exact:.2f} in proportion"


def test_points_and_pass_mark_match_the_text() -> None:
    nb = _nb()
    points = sum(c["metadata"]["nbgrader"].get("points", 0) for c in nb["cells"]
                 if c["metadata"].get("nbgrader", {}).get("grade"))
    text = "\n".join(_text(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    to_pass = math.ceil(PASS_MARK * points)
    assert len(_graded()) == points  # one point per question
    assert f"{points} points in all" in text
    # certainty-based marking: the pass is on the questions answered right (accuracy)
    assert f"at least {to_pass} of the {points} questions" in text
    assert f"{to_pass} or more of {points} questions right is a pass" in text
    assert "70%" in text and abs(PASS_MARK - 0.70) < 1e-9
    assert f"{points} questions" in BLUEPRINT.read_text(encoding="utf-8")


def test_closing_text_gives_no_key_away() -> None:
    nb = _nb()
    last = max(i for i, c in enumerate(nb["cells"]) if _gid(c).endswith("_check"))
    closing = " ".join(_text(c) for c in nb["cells"][last + 1:])
    for item in ir.items_from_notebook(nb):
        key = item.options[item.key]
        assert ir.containment(key, closing) < 0.34, f"{item.grade_id}: key stated at the end"


def test_every_option_has_a_rationale_with_a_reference() -> None:
    nb = _nb()
    checks = {_gid(c): _text(c) for c in nb["cells"] if _gid(c).endswith("_check")}
    for item in ir.items_from_notebook(nb):
        hidden = checks[item.grade_id].split("### BEGIN HIDDEN TESTS", 1)[1]
        for letter in item.options:
            part = hidden.split(f"({letter})", 1)
            assert len(part) == 2, f"{item.grade_id}: no rationale for ({letter})"
            following = re.split(r"\([a-e]\) ", part[1], maxsplit=1)[0]
            assert re.search(r"\[(R\d+|GK)", following), \
                f"{item.grade_id}: the rationale for ({letter}) names no reference"
