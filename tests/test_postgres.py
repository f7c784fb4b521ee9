"""A real gradebook server: `course grade` against PostgreSQL through nbgrader's db_url.

The suite starts its own PostgreSQL server (Debian's package; `make test` installs it
when run as root) on a Unix socket in a temporary folder, with no TCP port. Where the
server cannot be found the tests skip with the reason, unless COURSE_REQUIRE_POSTGRES=1
(set by .ci/run), which makes the skip a failure.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchmarks.grade_throughput import build_cohort, generate, grade_rows, make_course, tool_env

from .conftest import ROOT, skip_or_fail, unsandboxed_args

ASSIGNMENT = "00-orientation"
NOTEBOOK = "00-start-here"
KINDS = ["correct", "wrong", "blank", "editedtests", "changedpoints", "deletedtests"]
pytestmark = pytest.mark.slow


def _postgres_bin() -> Path | None:
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/postgres"),
                      key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit()
                      else 0)
    return versions[-1].parent if versions else None


def _require_postgres() -> Path:
    found = _postgres_bin()
    if found and (os.geteuid() != 0 or shutil.which("runuser")):
        return found
    reason = ("PostgreSQL's server is not installed (make test installs Debian's postgresql "
              "when run as root)" if not found else "runuser is missing (needed as root)")
    skip_or_fail("the PostgreSQL tests", reason, "COURSE_REQUIRE_POSTGRES")


def _as_server_user(command: list[str]) -> list[str]:
    """PostgreSQL refuses to run as root: run it as the package's ``postgres`` user."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@pytest.fixture(scope="session")
def postgres() -> Iterator[Callable[[str], str]]:
    """Start a throwaway server; yields ``new_database(name) -> SQLAlchemy URL``."""
    bin_dir = _require_postgres()
    folder = Path(tempfile.mkdtemp(prefix="course-pg-"))
    if os.geteuid() == 0:
        shutil.chown(folder, "postgres", "postgres")
    data = folder / "data"
    log = ROOT / "test-output" / "postgres.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    run = dict(check=True, capture_output=True, text=True, timeout=120)
    subprocess.run(_as_server_user([str(bin_dir / "initdb"), "-D", str(data), "-U", "course",
                                    "--auth=trust", "-E", "UTF8", "--no-sync"]), **run)
    # No TCP at all: one Unix socket in the folder (port 5432 only names the socket file).
    options = f"-k {folder} -c listen_addresses='' -c fsync=off -p 5432"
    subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-o", options,
                                    "-l", str(folder / "server.log"), "-w", "start"]), **run)

    def new_database(name: str) -> str:
        subprocess.run([str(bin_dir / "createdb"), "-h", str(folder), "-p", "5432",
                        "-U", "course", name], **run)
        return f"postgresql+psycopg://course@/{name}?host={folder}&port=5432"

    try:
        yield new_database
    finally:
        subprocess.run(_as_server_user([str(bin_dir / "pg_ctl"), "-D", str(data), "-m",
                                        "immediate", "-w", "stop"]), capture_output=True)
        with log.open("a", encoding="utf-8") as out:
            server_log = folder / "server.log"
            out.write(server_log.read_text(encoding="utf-8") if server_log.exists() else "")
        shutil.rmtree(folder, ignore_errors=True)


def course_on(folder: Path, db_url: str | None) -> Path:
    """A course holding 00-orientation, its gradebook at ``db_url`` (None: SQLite)."""
    course = make_course(folder, ASSIGNMENT)
    if db_url:
        with (course / "nbgrader_config.py").open("a", encoding="utf-8") as config:
            config.write(f"\nc.CourseDirectory.db_url = {db_url!r}\n")
    generate(course, ASSIGNMENT)
    return course


def grade(course: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "course.cli", "grade", ASSIGNMENT,
                           "--workers", "2", *args, *unsandboxed_args()],
                          capture_output=True, text=True,
                          timeout=300, env=tool_env(COURSE_ROOT=str(course)))


def test_grades_on_postgres_are_identical_to_sqlite(postgres: Callable[[str], str],
                                                    tmp_path: Path) -> None:
    url = postgres("identity")
    lite, server = course_on(tmp_path / "lite", None), course_on(tmp_path / "server", url)
    assert not (server / "gradebook.db").exists()  # the server course never used SQLite
    kinds = build_cohort(ROOT, ASSIGNMENT, KINDS, lite / "submitted")
    shutil.copytree(lite / "submitted", server / "submitted")
    for course in (lite, server):
        result = grade(course)
        assert result.returncode == 0, result.stdout + result.stderr
    expected, got = grade_rows(lite), grade_rows(server, url)
    assert got == expected and {key[0] for key in got} == set(kinds)
    scored = {kinds[student]: row[0] for (student, _nb, _cell), row in got.items()}
    assert scored["correct"] == 1 and scored["blank"] == 0
    # the report reads the same gradebook server
    report = subprocess.run([sys.executable, "-m", "course.cli", "report", ASSIGNMENT],
                            capture_output=True, text=True, timeout=300,
                            env=tool_env(COURSE_ROOT=str(server)))
    assert report.returncode == 0, report.stdout + report.stderr
    with (server / "reports" / ASSIGNMENT / "grades.csv").open(encoding="utf-8") as handle:
        exported = {row["student_id"]: row for row in csv.DictReader(handle)}
    assert set(exported) == set(kinds)
    assert {kinds[s]: float(row["score"]) for s, row in exported.items()} == scored
    assert not (server / "gradebook.db").exists()


def test_two_graders_share_one_gradebook_server(postgres: Callable[[str], str],
                                                tmp_path: Path) -> None:
    """Two graders, each in their own course folder, grade different students at once."""
    url = postgres("shared")
    first = course_on(tmp_path / "grader1", url)
    second = make_course(tmp_path / "grader2", ASSIGNMENT)
    shutil.copy2(first / "nbgrader_config.py", second / "nbgrader_config.py")
    mine = build_cohort(ROOT, ASSIGNMENT, ["correct", "blank", "wrong"], first / "submitted")
    theirs = {f"late{student}": kind for student, kind in
              build_cohort(ROOT, ASSIGNMENT, ["blank", "correct"], tmp_path / "other").items()}
    for student in theirs:
        shutil.copytree(tmp_path / "other" / student.removeprefix("late"),
                        second / "submitted" / student)
    runs = [subprocess.Popen([sys.executable, "-m", "course.cli", "grade", ASSIGNMENT,
                              "--workers", "1", *unsandboxed_args()], cwd=course,
                              stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True,
                             env=tool_env(COURSE_ROOT=str(course)))
            for course in (first, second)]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    rows = grade_rows(first, url)
    scores = {student: row[0] for (student, _nb, _cell), row in rows.items()}
    assert set(scores) == set(mine) | set(theirs)
    expected = {**mine, **theirs}
    assert all((scores[s] == 1) == (expected[s] == "correct") for s in scores), scores
