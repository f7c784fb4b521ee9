"""Module 04 through nbgrader's own autograde: the penalty rules give the expected points.

One submission answers each case differently (the key, a wrong extra step, a wrong extra
reason, half the required steps, a harmful step, a blank answer...); nbgrader's grade for
each case must equal :func:`course.cases.score_case` and the expected figure written here,
and the feedback tells the learner what happened after each decision.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from pathlib import Path

import pytest

from course.cases import get_case, score_case
from course.grading.assignments import autograde_notebooks, nbgrader_api
from course.notebooks import html_to_text, read_notebook

from .conftest import ROOT
from .test_cases import KEYS, solution

pytestmark = pytest.mark.slow
ASSIGNMENT = "04-case-studies"


def _answers() -> dict[str, tuple[object, int]]:
    """Per case id: the submitted answer and the points nbgrader should give it."""
    k = KEYS
    return {
        "submental_dca": ({**solution("submental_dca"), "management": [
            *k["submental_dca"]["management"], "WEEKLY_SESSIONS"]}, 3),
        "lipodissolve_request": ({**solution("lipodissolve_request"), "reasons": [
            "PCDC_UNAPPROVED", "BMI_25"]}, 3),
        "apixaban_rejuvenation": (solution("apixaban_rejuvenation"), 4),
        "dutasteride_pregnancy": ({**solution("dutasteride_pregnancy"), "reasons": [
            *k["dutasteride_pregnancy"]["decisive"], "UNLICENSED_PREPARATION"],
            "management": [*k["dutasteride_pregnancy"]["management"], "HAIR_EVIDENCE_POOR"]}, 4),
        "bdd_screen": ({}, 0),
        "herpes_at_site": ({**solution("herpes_at_site"),
                            "management": ["REBOOK_WHEN_HEALED"]}, 3),
        "ntm_nodules": ({**solution("ntm_nodules"), "decision": "defer",
                         "management": [*k["ntm_nodules"]["management"], "RECORD_SPA_DETAILS",
                                        "DRAIN_WITHOUT_SAMPLES"]}, 1),
        "anaphylaxis_session": ({**solution("anaphylaxis_session"), "management": [
            "ANTIHISTAMINE_FIRST", "ADRENALINE_IM_THIGH", "CALL_FOR_HELP"]}, 0),
    }


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory):
    course = tmp_path_factory.mktemp("cases-course")
    shutil.copytree(ROOT / "source" / ASSIGNMENT, course / "source" / ASSIGNMENT)
    api = nbgrader_api(course, config_root=ROOT)
    result = api.generate_assignment(ASSIGNMENT, force=True, create=True)
    assert result["success"], result.get("error")
    return api


def test_nbgrader_grades_each_case_as_score_case_does(api) -> None:
    notebooks = {p.stem: read_notebook(p) for p in (ROOT / "source" / ASSIGNMENT).glob("*.ipynb")}
    submitted = copy.deepcopy(notebooks)
    answers = _answers()
    by_number = {get_case(case_id).number: case_id for case_id in answers}
    for nb in submitted.values():
        for cell in nb.cells:
            match = re.search(r"(?m)^answer_q4_1_(\d) = .*$", cell.source)
            if cell.cell_type == "code" and match:
                answer = answers[by_number[int(match.group(1))]][0]
                cell.source = f"answer_q4_1_{match.group(1)} = {json.dumps(answer)}"
    result = autograde_notebooks(api, ASSIGNMENT, "mixed", submitted)
    per_case: dict[int, float] = {}
    for item in result.items:
        found = re.match(r"q4_1_(\d)_", item.grade_id)
        if found and not item.needs_manual_grade:
            per_case[int(found.group(1))] = per_case.get(int(found.group(1)), 0) + item.score
    for case_id, (answer, expected) in answers.items():
        number = get_case(case_id).number
        assert per_case[number] == expected, case_id
        if answer:
            assert score_case(answer, KEYS[case_id]).points == expected, case_id
    assert result.auto_score == sum(expected for _, expected in answers.values())
    assert result.auto_max == 4 * len(answers)

    assert api.generate_feedback(ASSIGNMENT, "mixed", force=True)["success"]
    folder = Path(api.coursedir.root) / "feedback" / "mixed" / ASSIGNMENT
    text = "\n".join(html_to_text(p.read_text(encoding="utf-8")) for p in folder.glob("*.html"))
    assert "What happened next after your decision (defer)" in text
    assert "Steps that do not belong in this plan (minus 1 each): WEEKLY_SESSIONS" in text
    assert "Harmful choice: action ANTIHISTAMINE_FIRST" in text
    assert "answer_q4_1_5: Not answered yet" in text  # the blank case, in plain words
