"""Adversarial submissions, graded through `course grade`: no attack scores above a blank.

Each student below starts from the released 00-orientation notebook (one graded answer,
worth 1 point; a blank scores 0) and tries one way of cheating or of breaking the run.
The whole cohort is graded in one `course grade` run, next to an honest correct and an
honest blank submission. Asserted: no attack scores more than the blank, every student
has a clear status, the honest students keep their scores, the run finishes, and the
hidden test never reached the learner's kernel.
"""

from __future__ import annotations

import csv
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from nbformat import NotebookNode

from benchmarks.grade_throughput import grade_rows, make_course, tool_env
from course.grading.assignments import nbgrader_api
from course.grading.outcome import FAILED, GRADED
from course.grading.sandbox import REQUIRE_ENV, sandbox_available
from course.grading.trusted_tests import PROBE_MIME

from .conftest import ROOT

ASSIGNMENT, NOTEBOOK, ANSWER_ID, TEST_ID = ("00-orientation", "00-start-here", "q0_2_badge",
                                            "q0_2_badge_check")
KEY_MARKER = "_q0_2_right"  # a line of the hidden test: must never reach the kernel
pytestmark = pytest.mark.slow


def require_sandbox() -> None:
    """The suite grades through the sandbox: skip where it cannot run, unless required."""
    available, reason = sandbox_available()
    if available:
        return
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"the adversarial suite is required here but the sandbox cannot run: {reason}")
    pytest.skip(f"the grading sandbox cannot run here: {reason}")

# The learner's answer cell, rewritten. The right answer is "b".
ANSWER_ATTACKS = {
    "honestcorrect": 'answer_q0_2 = "b"',
    "honestblank": "",
    "eqalwaystrue": (
        "class Anything:\n"
        "    def __eq__(self, other): return True\n"
        "    def __ne__(self, other): return False\n"
        "    def strip(self): return self\n"
        "    def lower(self): return self\n"
        "answer_q0_2 = Anything()"),
    "strsubclass": (
        "class Sly(str):\n"
        "    def __eq__(self, other): return True\n"
        "    __hash__ = str.__hash__\n"
        "    def strip(self): return self\n"
        "    def lower(self): return self\n"
        'answer_q0_2 = Sly("z")'),
    "isinstancepatched": (
        "import builtins\n"
        "builtins.isinstance = lambda *args: True\n"
        "builtins.type = lambda *args: str\n"
        "answer_q0_2 = 42"),
    "assertdisabled": (
        "import builtins\n"
        "class Never(Exception): pass\n"
        "builtins.AssertionError = Never\n"
        'answer_q0_2 = "a"'),
    "tracebackhidden": (
        "ip = get_ipython()\n"
        "ip.showtraceback = lambda *args, **kwargs: None\n"
        "ip._showtraceback = lambda *args, **kwargs: None\n"
        'answer_q0_2 = "a"'),
    "fakesuccess": (
        'print("Format OK. All tests passed. Score: 1/1")\n'
        "get_ipython().events.register('post_run_cell', "
        "lambda result: print('Success: all tests passed'))\n"
        'answer_q0_2 = "c"'),
    "rewritescells": (
        "get_ipython().input_transformers_post.append(lambda lines: ['pass\\n'])\n"
        'answer_q0_2 = "d"'),
    "readstests": (  # records every cell the kernel is sent and prints them afterwards
        "_seen = []\n"
        "get_ipython().events.register('pre_run_cell', lambda info: _seen.append(info.raw_cell))\n"
        "get_ipython().events.register('post_run_cell', "
        "lambda result: print('SEEN>>' + '\\n'.join(_seen)))\n"
        'answer_q0_2 = "a"'),
    "fakeprobe": (
        "from IPython.display import display\n"
        f"display({{{PROBE_MIME!r}: {{'answer_q0_2': '\"b\"'}}}}, raw=True)\n"
        'answer_q0_2 = "a"'),
    "sysexit": 'answer_q0_2 = "a"\nimport sys\nsys.exit()',
    "osexit": "import os\nos._exit(0)",
    "killskernel": "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)",
    "hugeoutput": "for line in range(200_000):\n    print('x' * 100)",
    "prints60mb": 'answer_q0_2 = "a"\nprint("x" * 60_000_000)',
    "forgeslog": (  # the grading log: find its descriptor, write forged lines, truncate it
        'answer_q0_2 = "a"\n'
        "import os, stat\n"
        "links = []\n"
        "for pid in [p for p in os.listdir('/proc') if p.isdigit()] + ['self']:\n"
        "    try:\n"
        "        fds = os.listdir(f'/proc/{pid}/fd')\n"
        "    except OSError:\n"
        "        continue\n"
        "    for fd in fds:\n"
        "        try:\n"
        "            links.append(os.readlink(f'/proc/{pid}/fd/{fd}'))\n"
        "        except OSError:\n"
        "            pass\n"
        "for fd in range(256):\n"
        "    try:\n"
        "        mode = os.fstat(fd).st_mode\n"
        "    except OSError:\n"
        "        continue\n"
        "    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):\n"
        "        for call in (lambda: os.write(fd, b'\\nFORGED [worker 1] ERROR honest\\n'),\n"
        "                     lambda: os.ftruncate(fd, 0)):\n"
        "            try:\n"
        "                call()\n"
        "            except OSError:\n"
        "                pass\n"
        "print('LINKS>>', links)"),
    "infiniteloop": "while True:\n    pass",
    # These need the sandbox: `course grade` refuses to run without it (see conftest).
    "readssource": (  # the key is in the instructor's notebook, in the course folder
        'answer_q0_2 = "a"\n'
        "import pathlib, re\n"
        "for base in [pathlib.Path('{course}'), *pathlib.Path.cwd().parents]:\n"
        "    try:\n"
        "        text = (base / 'source' / '00-orientation' / '00-start-here.ipynb').read_text()\n"
        "    except OSError:\n"
        "        continue\n"
        "    found = re.search(r'answer_q0_2 = \\\\\"(\\w)', text)\n"
        "    if found:\n"
        "        answer_q0_2 = found.group(1)\n"
        "        break"),
    "tampersgradebook": (
        'answer_q0_2 = "a"\n'
        "import sqlite3\n"
        "for path in ['{course}/gradebook.db', '../../../gradebook.db']:\n"
        "    try:\n"
        "        db = sqlite3.connect(path)\n"
        "        db.execute('update grade set auto_score = 0, manual_score = 0')\n"
        "        db.commit()\n"
        "    except Exception:\n"
        "        pass\n"
        "for path in ['{course}/pwned.txt', '{course}/source/pwned.txt', '../pwned.txt']:\n"
        "    try:\n"
        "        open(path, 'w').write('pwned')\n"
        "    except OSError:\n"
        "        pass"),
    "asksnetwork": (  # a server on the grader's loopback hands out the key
        'answer_q0_2 = "a"\n'
        "import socket\n"
        "try:\n"
        "    with socket.create_connection(('127.0.0.1', {port}), timeout=2) as conn:\n"
        "        answer_q0_2 = conn.recv(10).decode()\n"
        "except OSError:\n"
        "    pass"),
    "memorybomb": "hoard = [bytearray(256 * 1024**2) for _ in range(64)]",
    "forkbomb": (
        "import os\n"
        "while True:\n"
        "    try:\n"
        "        os.fork()\n"
        "    except OSError:\n"
        "        pass"),
    "ignoresinterrupt": (
        "while True:\n"
        "    try:\n"
        "        pass\n"
        "    except KeyboardInterrupt:\n"
        "        pass"),
}


def _meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _cell(nb: NotebookNode, grade_id: str) -> NotebookNode:
    return next(c for c in nb.cells if _meta(c).get("grade_id") == grade_id)


def _with_answer(release: NotebookNode, code: str, **values: object) -> NotebookNode:
    nb = nbformat.from_dict(json.loads(nbformat.writes(release)))
    for name, value in values.items():
        code = code.replace("{" + name + "}", str(value))
    _cell(nb, ANSWER_ID).source = code
    return nb


def _fingerprint(course: Path) -> dict[str, bytes]:
    """Every file of the course outside what grading writes (submissions are graded
    into autograded/; the gradebook is checked through its grades)."""
    skip = {"autograded", "submitted"}
    return {str(p.relative_to(course)): p.read_bytes() for p in sorted(course.rglob("*"))
            if p.is_file() and p.relative_to(course).parts[0] not in skip
            and not p.name.startswith("gradebook.db")}  # the gradebook and its lock


@pytest.fixture(scope="module")
def key_server() -> Iterator[int]:
    """A loopback server that answers every connection with the key."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            with conn:
                conn.sendall(b"b")

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join()
    server.close()


def _structural_attacks(release: NotebookNode) -> dict[str, NotebookNode]:
    """Attacks on the notebook itself, each with a wrong answer."""
    attacks = {}
    nb = _with_answer(release, 'answer_q0_2 = "a"')
    nb.cells.remove(_cell(nb, TEST_ID))
    attacks["deletestest"] = nb
    nb = _with_answer(release, 'answer_q0_2 = "a"')
    _cell(nb, TEST_ID).source = 'print("ok")'
    attacks["editstest"] = nb
    nb = _with_answer(release, 'answer_q0_2 = "a"')
    _meta(_cell(nb, TEST_ID))["points"] = 100
    _cell(nb, TEST_ID).source = "pass"
    attacks["changespoints"] = nb
    nb = _with_answer(release, 'answer_q0_2 = "a"')
    test = _cell(nb, TEST_ID)
    test.cell_type = "markdown"
    test.pop("outputs", None)
    test.pop("execution_count", None)
    attacks["changescelltype"] = nb
    nb = _with_answer(release, 'answer_q0_2 = "a"')
    _meta(_cell(nb, TEST_ID))["grade_id"] = "renamed_check"
    _cell(nb, "renamed_check").source = "pass"
    attacks["renamesgradeid"] = nb
    nb = _with_answer(release, 'answer_q0_2 = "a"')
    _meta(_cell(nb, ANSWER_ID))["grade"] = True
    _meta(_cell(nb, ANSWER_ID))["points"] = 5
    attacks["answerclaimspoints"] = nb
    return attacks


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, key_server: int
           ) -> tuple[Path, dict, dict, str, dict]:
    """The cohort, graded once: (course, status rows, scores, output, files before)."""
    require_sandbox()
    course = make_course(tmp_path_factory.mktemp("adversarial"), ASSIGNMENT)
    result = nbgrader_api(course).generate_assignment(ASSIGNMENT, force=True, create=True)
    assert result["success"], result.get("error")
    release = nbformat.read(ROOT / "release" / ASSIGNMENT / f"{NOTEBOOK}.ipynb", as_version=4)
    cohort = {name: _with_answer(release, code, course=course, port=key_server)
              for name, code in ANSWER_ATTACKS.items()}
    cohort.update(_structural_attacks(release))
    for student, nb in cohort.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{NOTEBOOK}.ipynb")
    before = _fingerprint(course)
    run = subprocess.run([sys.executable, "-m", "course.cli", "grade", ASSIGNMENT,
                          "--workers", "2", "--timeout", "3"],
                         capture_output=True, text=True, timeout=600,
                         env=tool_env(COURSE_ROOT=str(course)))
    output = run.stdout + run.stderr
    with (course / "autograded" / f"{ASSIGNMENT}.grading-status.csv").open() as handle:
        status = {row["student"]: row for row in csv.DictReader(handle)}
    scores = {student: row[0] for (student, _nb, cell), row in grade_rows(course).items()
              if cell == TEST_ID}
    return course, status, scores, output, before


def test_honest_submissions_keep_their_scores(graded: tuple) -> None:
    _course, status, scores, output, _before = graded
    assert status["honestcorrect"]["status"] == GRADED, output
    assert scores["honestcorrect"] == 1 and scores["honestblank"] == 0


@pytest.mark.parametrize("student", sorted(set(ANSWER_ATTACKS) - {"honestcorrect", "honestblank"}
                                           | {"deletestest", "editstest", "changespoints",
                                              "changescelltype", "renamesgradeid",
                                              "answerclaimspoints"}))
def test_no_attack_scores_more_than_a_blank(graded: tuple, student: str) -> None:
    _course, status, scores, output, _before = graded
    assert student in status, output
    row = status[student]
    assert row["status"] in (GRADED, FAILED)
    if row["status"] == FAILED:
        assert row["detail"], "a failed submission says why"
        assert student not in scores or scores[student] <= scores["honestblank"]
    else:
        assert scores[student] <= scores["honestblank"], (student, row)
        assert float(row["max_score"]) == 1.0, "points come from the gradebook, not the file"


def test_the_run_names_every_student_and_the_gradebook_holds_only_them(graded: tuple) -> None:
    course, status, _scores, output, _before = graded
    expected = set(ANSWER_ATTACKS) | {"deletestest", "editstest", "changespoints",
                                      "changescelltype", "renamesgradeid",
                                      "answerclaimspoints"}
    assert set(status) == expected, output
    assert {student for student, _nb, _cell in grade_rows(course)} <= expected


def test_the_hidden_test_never_reached_the_learners_kernel(graded: tuple) -> None:
    course, status, _scores, _output, _before = graded
    assert status["readstests"]["status"] == GRADED
    nb = nbformat.read(course / "autograded" / "readstests" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
                       as_version=4)
    printed = "".join(out.get("text", "") for cell in nb.cells if cell.cell_type == "code"
                      and not _meta(cell).get("grade") for out in cell.get("outputs", []))
    assert "SEEN>>" in printed and PROBE_MIME in printed, "the spy ran and saw the probe"
    assert KEY_MARKER not in printed


def test_outputs_are_bounded_and_tests_restored_in_the_graded_copy(graded: tuple) -> None:
    course, status, _scores, _output, _before = graded
    if status["hugeoutput"]["status"] == GRADED:
        path = course / "autograded" / "hugeoutput" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
        assert path.stat().st_size < 2_000_000
    edited = nbformat.read(course / "autograded" / "editstest" / ASSIGNMENT
                           / f"{NOTEBOOK}.ipynb", as_version=4)
    assert KEY_MARKER in _cell(edited, TEST_ID).source  # the instructor's test, put back
    shutil.rmtree(course / "submitted", ignore_errors=True)


def test_a_60_mb_print_is_cut_with_a_note(graded: tuple) -> None:
    from course.grading.nbgrader_plugins import is_cut_note

    course, status, scores, _output, _before = graded
    assert status["prints60mb"]["status"] == GRADED
    assert scores["prints60mb"] == 0  # graded on its (wrong) answer, as usual
    path = course / "autograded" / "prints60mb" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"
    assert path.stat().st_size < 1024**2 + 200_000
    outputs = _cell(nbformat.read(path, as_version=4), ANSWER_ID).outputs
    assert is_cut_note(outputs[-1]) and "60,000,001 bytes" in outputs[-1].text


def test_the_grading_log_is_out_of_the_kernels_reach(graded: tuple) -> None:
    course, status, _scores, _output, _before = graded
    assert status["forgeslog"]["status"] == GRADED
    nb = nbformat.read(course / "autograded" / "forgeslog" / ASSIGNMENT / f"{NOTEBOOK}.ipynb",
                       as_version=4)
    printed = "".join(out.get("text", "") for out in _cell(nb, ANSWER_ID).outputs)
    assert "LINKS>>" in printed and "grading.log" not in printed  # not among its fds
    log = (course / "autograded" / f"{ASSIGNMENT}.grading.log").read_text(encoding="utf-8")
    assert log.startswith("[")  # not truncated: the grader's first line is still there
    assert "grading kernels:" in log
    assert not any(line.startswith("FORGED") for line in log.splitlines())
    relayed = [line for line in log.splitlines() if "FORGED" in line]
    assert relayed and all("kernel output (forgeslog/" in line for line in relayed)


def test_no_file_outside_the_submissions_changed(graded: tuple) -> None:
    course, status, scores, _output, before = graded
    assert _fingerprint(course) == before
    assert not (course / "pwned.txt").exists()
    assert not (course / "autograded" / "pwned.txt").exists()
    assert status["tampersgradebook"]["status"] == GRADED
    assert scores["honestcorrect"] == 1  # the gradebook was not rewritten


def test_the_sandbox_was_used(graded: tuple) -> None:
    _course, _status, _scores, output, _before = graded
    assert "kernels are sandboxed" in output


def test_grading_output_and_log_show_no_hidden_test(graded: tuple) -> None:
    from course.notebooks import HIDDEN_MARKERS, find_leaks, read_notebook, secret_lines

    course, _status, _scores, output, _before = graded
    secrets = secret_lines(read_notebook(ROOT / "source" / ASSIGNMENT / f"{NOTEBOOK}.ipynb"),
                           include_solutions=False)
    autograded = course / "autograded"
    files = sorted(p for p in autograded.glob(f"{ASSIGNMENT}.grading*") if p.is_file())
    history = sorted(autograded.glob(f"{ASSIGNMENT}.grading-status.history/*"))
    names = {p.name for p in files}  # the status file and the log (and other run files)
    assert {f"{ASSIGNMENT}.grading-status.csv", f"{ASSIGNMENT}.grading.log"} <= names
    assert history  # this run's status history
    shown = [output, *(p.read_text(encoding="utf-8", errors="replace")
                       for p in [*files, *history])]
    for text in shown:
        assert find_leaks(secrets, text, HIDDEN_MARKERS) == []
        assert KEY_MARKER not in text
