"""The nbgrader exchange round trip on a real JupyterHub (deploy/jupyterhub).

An instructor uses the formgrader service to generate and release 00-orientation. Two
students each use their own single-user server: they fetch it, answer (one right, one
wrong) and submit. The instructor collects, autogrades, generates feedback and releases it,
and each student fetches their own. Every request goes through the hub's proxy with the
acting user's own token. Every process runs under its own Unix account: the formgrader as
the grader account, each server as its student.
"""

from __future__ import annotations

import json
import pwd
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..conftest import ROOT
from .conftest import COURSE_ID, INSTRUCTOR, STUDENTS, Hub, _wait, as_user

pytestmark = pytest.mark.slow

ASSIGNMENT = "00-orientation"  # the smallest released assignment
NOTEBOOK = "00-start-here"
RIGHT, WRONG = STUDENTS


def _instructor_answers() -> dict[str, str]:
    """grade_id -> the instructor's answer code, from source/ (solution markers removed)."""
    notebook = json.loads((ROOT / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb").read_text())
    answers = {}
    for cell in notebook["cells"]:
        meta = cell["metadata"].get("nbgrader", {})
        if cell["cell_type"] == "code" and meta.get("solution"):
            lines = "".join(cell["source"]).splitlines()
            answers[meta["grade_id"]] = "\n".join(
                line for line in lines if not re.search(r"### (BEGIN|END) SOLUTION", line))
    return answers


def _wrong(code: str) -> str:
    """The same answer code with every one-letter choice moved to another letter."""
    return re.sub(r'(answer_\w+\s*=\s*)"([a-d])"',
                  lambda m: f'{m[1]}"{"b" if m[2] == "a" else "a"}"', code)


def _formgrader(hub: Hub, method: str, path: str) -> dict:
    """Call the formgrader's API as the instructor; fail unless nbgrader reports success."""
    status, body = hub.api(method, f"/services/{COURSE_ID}/formgrader/api/{path}", INSTRUCTOR,
                           timeout=300)
    assert status == 200, (path, status, body)
    if isinstance(body, dict) and "success" in body:
        assert body["success"], (path, body.get("error") or body.get("log"))
    return body


def _student(hub: Hub, student: str, action: str) -> list[dict]:
    """An Assignment List action (fetch, submit, fetch_feedback) on the student's server."""
    status, body = hub.api("POST", f"/user/{student}/assignments/{action}", student,
                           {"course_id": COURSE_ID, "assignment_id": ASSIGNMENT}, timeout=120)
    assert status == 200, (student, action, status, body)
    assert body["success"], (student, action, body["value"])
    return [a for a in body["value"] if a["assignment_id"] == ASSIGNMENT]


def _answer(hub: Hub, student: str, answers: dict[str, str]) -> None:
    """Write answers into the student's fetched notebook through their server's contents API."""
    path = f"/user/{student}/api/contents/{COURSE_ID}/{ASSIGNMENT}/{NOTEBOOK}.ipynb"
    status, model = hub.api("GET", path + "?content=1", student)
    assert status == 200, (status, model)
    notebook = model["content"]
    changed = 0
    for cell in notebook["cells"]:
        grade_id = cell["metadata"].get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell["source"] = answers[grade_id]
            changed += 1
    assert changed == len(answers)
    status, body = hub.api("PUT", path, student,
                           {"type": "notebook", "format": "json", "content": notebook})
    assert status == 200, (status, body)


def _spawn(hub: Hub, *students: str) -> None:
    """Start the students' servers through the hub's REST API (at once) and wait until ready."""
    with ThreadPoolExecutor(len(students)) as pool:
        replies = list(pool.map(
            lambda s: hub.api("POST", f"/hub/api/users/{s}/server", s), students))
    for student, (status, body) in zip(students, replies, strict=True):
        assert status in (201, 202), (student, status, body)
    for student in students:
        _wait(f"{student}'s server starting", lambda s=student: hub.api(
            "GET", f"/hub/api/users/{s}", s)[1].get("servers", {}).get("", {}).get("ready"), hub)


@dataclass
class RoundTrip:
    hub: Hub
    scores: dict[str, tuple[float, float]]
    fetched: dict[str, list[dict]]
    submitted: dict[str, list[dict]]


@pytest.fixture(scope="module")
def round_trip(hub: Hub) -> RoundTrip:
    right = _instructor_answers()
    assert right, f"no answer cell in source/{ASSIGNMENT}"
    wrong = {grade_id: _wrong(code) for grade_id, code in right.items()}
    assert wrong != right

    _spawn(hub, *STUDENTS)
    _formgrader(hub, "POST", f"assignment/{ASSIGNMENT}/assign")
    _formgrader(hub, "POST", f"assignment/{ASSIGNMENT}/release")
    fetched, submitted = {}, {}
    for student, answers in ((RIGHT, right), (WRONG, wrong)):
        fetched[student] = _student(hub, student, "fetch")
        _answer(hub, student, answers)
        submitted[student] = _student(hub, student, "submit")
    _formgrader(hub, "POST", f"assignment/{ASSIGNMENT}/collect")
    scores = {}
    for student in STUDENTS:
        _formgrader(hub, "POST", f"submission/{ASSIGNMENT}/{student}/autograde")
        submission = _formgrader(hub, "GET", f"submission/{ASSIGNMENT}/{student}")
        scores[student] = (submission["score"], submission["max_score"])
    _formgrader(hub, "POST", f"assignment/{ASSIGNMENT}/generate_feedback")
    _formgrader(hub, "POST", f"assignment/{ASSIGNMENT}/release_feedback")
    for student in STUDENTS:
        _student(hub, student, "fetch_feedback")
    return RoundTrip(hub, scores, fetched, submitted)


def test_the_hub_is_real_and_serves_the_formgrader(round_trip: RoundTrip) -> None:
    hub = round_trip.hub
    status, services = hub.api("GET", "/hub/api/services", INSTRUCTOR)
    assert status == 200
    assert services[COURSE_ID]["prefix"] == f"/services/{COURSE_ID}/"
    for student in STUDENTS:
        status, body = hub.api("GET", f"/user/{student}/api/status", student)
        assert status == 200 and "started" in body, (student, status, body)
    # Each server is its student's own: another student's token is refused...
    assert hub.api("GET", f"/user/{RIGHT}/api/status", WRONG)[0] == 403
    # ...and what the server writes belongs to its student's Unix account.
    copy = hub.home(RIGHT) / COURSE_ID / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert copy.stat().st_uid == pwd.getpwnam(RIGHT).pw_uid
    # Students cannot open the formgrader.
    assert hub.api("GET", f"/services/{COURSE_ID}/formgrader/api/status", RIGHT)[0] == 403


def test_students_get_only_the_student_side_extensions(round_trip: RoundTrip) -> None:
    hub = round_trip.hub
    status, listing = hub.api("GET", f"/user/{RIGHT}/assignments?course_id={COURSE_ID}", RIGHT)
    assert status == 200 and listing["success"]
    assert hub.api("GET", f"/user/{RIGHT}/formgrader/api/status", RIGHT)[0] == 404
    status, page = hub.api("GET", f"/user/{RIGHT}/lab", RIGHT)
    assert status == 200
    config = json.loads(re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', page,
                                  re.S)[1])
    instructor_plugins = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                          "@jupyter/nbgrader:course-list"}
    disabled = set(config["disabledExtensions"])
    assert instructor_plugins <= disabled
    assert "@jupyter/nbgrader:assignment-list" not in disabled
    # The course's extension is prebuilt: no build check (a node process) per page load.
    assert config["buildCheck"] is False and config["buildAvailable"] is False
    # Locked: the student cannot switch them back on in the plugin manager.
    status, locks = hub.api("GET", f"/user/{RIGHT}/lab/api/plugins", RIGHT)
    assert status == 200 and instructor_plugins <= set(locks["lockRules"]), locks


def test_the_right_answer_scores_full_marks_and_the_wrong_one_zero(
        round_trip: RoundTrip) -> None:
    for student in STUDENTS:
        assert [a["status"] for a in round_trip.fetched[student]] == ["fetched"], student
        assert "submitted" in {a["status"] for a in round_trip.submitted[student]}, student
    right_score, right_max = round_trip.scores[RIGHT]
    wrong_score, wrong_max = round_trip.scores[WRONG]
    assert right_max == wrong_max > 0
    assert right_score == right_max
    assert wrong_score == 0


def test_each_student_fetches_only_their_own_feedback(round_trip: RoundTrip) -> None:
    hub = round_trip.hub
    generated = {s: (hub.course_dir / "feedback" / s / ASSIGNMENT / f"{NOTEBOOK}.html").read_bytes()
                 for s in STUDENTS}
    assert generated[RIGHT] != generated[WRONG]
    for student in STUDENTS:
        folder = hub.home(student) / COURSE_ID / ASSIGNMENT / "feedback"
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        assert [p.name for p in files] == [f"{NOTEBOOK}.html"], (student, files)
        assert files[0].read_bytes() == generated[student], student


def _denied(result) -> bool:
    return result.returncode != 0 and "Permission denied" in result.stderr


def test_a_student_cannot_reach_another_students_work(round_trip: RoundTrip) -> None:
    hub = round_trip.hub
    course = hub.exchange / COURSE_ID
    submissions = [p.name for p in (course / "inbound").iterdir()]
    assert sorted(name.split("+")[0] for name in submissions) == sorted(STUDENTS)
    # The inbound folder is a drop box: a student can write into it but not list it, so the
    # other student's submission (its name ends in a random string) cannot be found.
    assert _denied(as_user(WRONG, "ls", str(course / "inbound")))
    assert _denied(as_user(WRONG, "ls", str(course / "feedback")))
    # Working copies and feedback live in private homes.
    own = hub.home(WRONG) / COURSE_ID / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    other = hub.home(RIGHT) / COURSE_ID / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert as_user(WRONG, "cat", str(own)).returncode == 0
    assert _denied(as_user(WRONG, "cat", str(other)))
    # Released files cannot be changed, and the course's exchange folder belongs to the
    # grader and cannot be swapped for another.
    assert _denied(as_user(WRONG, "touch", str(course / "outbound" / ASSIGNMENT / "extra")))
    moved = as_user(WRONG, "mv", str(course), str(hub.exchange / "taken"))
    assert moved.returncode != 0 and "Operation not permitted" in moved.stderr, moved.stderr
    assert Path(course).is_dir()
