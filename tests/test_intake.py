"""Submission intake (course.grading.intake): LMS names, zip limits, links, nothing lost
(issue 20)."""

from __future__ import annotations

import os
import stat
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

from course.grading.intake import (
    CohortInputError,
    LmsName,
    ZipLimits,
    from_folder,
    from_submitted,
    from_zip,
    parse_lms_name,
    read_lms_zip,
)

A = "00-orientation"
NB = "00-start-here"
NOTEBOOKS = [NB]


def lms(student: str, stamp: str = "2031-01-02-10-00-00", tail: str = NB) -> str:
    return f"{A}_{student}_attempt_{stamp}_{tail}.ipynb"


def make_zip(path: Path, files: dict[str, bytes | str], links: dict[str, str] | None = None
             ) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in files.items():
            zf.writestr(name, data)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.create_system = 3
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, target)
    return path


@pytest.fixture
def course(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "course"
    (root / "submitted").mkdir(parents=True)
    return root, root / "submitted"


def stage(path: Path, course: tuple[Path, Path], roster=None, limits: ZipLimits | None = None):
    root, submitted = course
    return from_zip(path, A, NOTEBOOKS, submitted, root, roster, None, limits or ZipLimits())


# ---------------------------------------------------------------- names


def test_lms_names_are_anchored_to_the_file_name_and_known_names() -> None:
    parsed = parse_lms_name(f"some/folder_x_attempt_2000-01-01-00-00-00_/{lms('jane_doe')}",
                            A, NOTEBOOKS)
    assert parsed == LmsName("jane_doe", NB, datetime(2031, 1, 2, 10, 0))
    assert parse_lms_name(lms("élodie"), A, NOTEBOOKS).student == "élodie"
    assert parse_lms_name(lms("john_doe"), A, NOTEBOOKS).student == "john_doe"
    assert "does not match" in parse_lms_name(f"01-principles_bob_attempt_2031-01-02-10-00-00_"
                                              f"{NB}.ipynb", A, NOTEBOOKS)
    assert "names no notebook" in parse_lms_name(lms("bob", tail="quiz"), A, NOTEBOOKS)
    assert "not a valid time" in parse_lms_name(lms("bob", "2031-13-45-10-00-00"), A,
                                                NOTEBOOKS)
    assert "not on the roster" in parse_lms_name(lms("mallory"), A, NOTEBOOKS, {"alice"})


def test_a_student_chosen_tail_cannot_name_another_student_or_an_earlier_time() -> None:
    # bob uploads a file he named "alice_attempt_2099-..._00-start-here.ipynb"
    spoof = lms("bob", "2031-01-05-10-00-00", f"alice_attempt_2099-01-01-00-00-00_{NB}")
    parsed = parse_lms_name(spoof, A, NOTEBOOKS)
    assert isinstance(parsed, str) and "ambiguous" in parsed
    backdate = lms("bob", "2031-01-05-10-00-00", f"bob_attempt_2031-01-01-00-00-00_{NB}")
    assert "ambiguous" in parse_lms_name(backdate, A, NOTEBOOKS)


def test_spoofed_upload_does_not_replace_another_students_submission(
        tmp_path: Path, course: tuple[Path, Path]) -> None:
    spoof = lms("bob", "2031-01-05-10-00-00", f"alice_attempt_2099-01-01-00-00-00_{NB}")
    archive = make_zip(tmp_path / "d.zip", {lms("alice"): "alice's work", spoof: "bob's"})
    intake = stage(archive, course)
    assert intake.students == ["alice"]
    assert (course[1] / "alice" / A / f"{NB}.ipynb").read_text() == "alice's work"
    assert (course[1] / "alice" / A / "timestamp.txt").read_text() == "2031-01-02 10:00:00"
    assert any("ambiguous" in p for p in intake.problems)


def test_underscore_and_unicode_ids_stay_separate_students(tmp_path: Path,
                                                           course: tuple[Path, Path]) -> None:
    archive = make_zip(tmp_path / "d.zip", {lms("jane_doe"): "jane", lms("john_doe"): "john",
                                            lms("élodie"): "élodie"})
    intake = stage(archive, course)
    assert intake.students == ["jane_doe", "john_doe", "élodie"]
    assert intake.problems == []
    assert (course[1] / "john_doe" / A / f"{NB}.ipynb").read_text() == "john"


def test_roster_ids_decide_who_is_a_student(tmp_path: Path, course: tuple[Path, Path]) -> None:
    archive = make_zip(tmp_path / "d.zip", {lms("alice"): "a", lms("mallory"): "m"})
    intake = stage(archive, course, roster={"alice"})
    assert intake.students == ["alice"]
    assert any("'mallory' is not on the roster" in p for p in intake.problems)


def test_newest_attempt_wins(tmp_path: Path, course: tuple[Path, Path]) -> None:
    archive = make_zip(tmp_path / "d.zip", {lms("alice", "2031-01-02-10-00-00"): "new",
                                            lms("alice", "2031-01-01-10-00-00"): "old"})
    stage(archive, course)
    assert (course[1] / "alice" / A / f"{NB}.ipynb").read_text() == "new"


# ---------------------------------------------------------------- bad uploads


def test_one_bad_upload_fails_only_that_student(tmp_path: Path,
                                               course: tuple[Path, Path]) -> None:
    inner = tmp_path / "inner.zip"
    make_zip(inner, {lms("carol"): "hidden in a nested zip"})
    archive = make_zip(tmp_path / "d.zip", {
        lms("alice"): "ok",
        f"{A}_bob_attempt_2031-01-02-10-00-00_{NB}.zip": "a text file named .zip",
        f"{A}_carol_attempt_2031-01-02-10-00-00_{NB}.zip": inner.read_bytes(),
        lms("dan", "2031-02-30-10-00-00"): "bad time",
        lms("dan", "2031-01-02-10-00-00"): "good time"})
    intake = stage(archive, course)
    assert intake.students == ["alice"]
    text = "\n".join(intake.problems)
    for student in ("bob", "carol", "dan"):
        assert f"nothing staged for {student}" in text
        assert not (course[1] / student).exists()
    assert "not expanded" in text and "not a valid time" in text
    assert not list(course[0].rglob(lms("carol")))  # the nested zip was never opened


def test_symlinks_in_a_zip_are_refused_per_student(tmp_path: Path,
                                                   course: tuple[Path, Path]) -> None:
    archive = make_zip(tmp_path / "d.zip", {lms("alice"): "ok"},
                       links={lms("mallory"): "../../source/00-orientation/00-start-here.ipynb"})
    intake = stage(archive, course)
    assert intake.students == ["alice"]
    assert any("nothing staged for mallory" in p and "symbolic link" in p
               for p in intake.problems)
    assert not (course[1] / "mallory").exists()


@pytest.mark.parametrize(("limits", "message"), [
    (ZipLimits(max_entries=2), "entries in the zip, more than the limit of 2"),
    (ZipLimits(max_total_bytes=2**20), "MiB once uncompressed, more than the limit"),
])
def test_zip_limits_refuse_the_whole_download(tmp_path: Path, course: tuple[Path, Path],
                                              limits: ZipLimits, message: str) -> None:
    archive = make_zip(tmp_path / "d.zip", {lms("a"): "x", lms("b"): "y",
                                            lms("c"): b"0" * (2 * 2**20)})
    with pytest.raises(CohortInputError, match=message):
        stage(archive, course, limits=limits)
    assert list(course[1].iterdir()) == []


def test_a_zip_bomb_entry_is_refused_by_its_ratio(tmp_path: Path,
                                                  course: tuple[Path, Path]) -> None:
    archive = make_zip(tmp_path / "d.zip", {lms("alice"): "ok",
                                            lms("bomb"): b"\0" * (8 * 2**20)})
    intake = stage(archive, course)
    assert intake.students == ["alice"]
    assert any("nothing staged for bomb" in p and "compression ratio" in p
               for p in intake.problems)


def test_a_text_file_named_zip_is_one_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "d.zip"
    fake.write_text("not a zip", encoding="utf-8")
    with pytest.raises(CohortInputError, match="not a readable zip"):
        read_lms_zip(fake, A, NOTEBOOKS)


# ---------------------------------------------------------------- folders and submitted/


def test_symlinks_in_a_folder_are_refused_never_followed(tmp_path: Path,
                                                         course: tuple[Path, Path]) -> None:
    root, submitted = course
    secret = root / "source" / A / f"{NB}.ipynb"
    secret.parent.mkdir(parents=True)
    secret.write_text("THE KEY", encoding="utf-8")
    uploads = tmp_path / "uploads"
    (uploads / "alice").mkdir(parents=True)
    (uploads / "alice" / f"{NB}.ipynb").write_text("alice", encoding="utf-8")
    (uploads / "bob").mkdir()
    (uploads / "bob" / f"{NB}.ipynb").symlink_to(secret)
    (uploads / "carol").mkdir()
    (uploads / "carol" / "everything").symlink_to(root)
    (uploads / "dan.ipynb").symlink_to(secret)
    (uploads / "erin").mkdir()
    os.mkfifo(uploads / "erin" / f"{NB}.ipynb")
    intake = from_folder(uploads, A, NOTEBOOKS, submitted, [], root)
    assert intake.students == ["alice"]
    text = "\n".join(intake.problems)
    for student in ("bob", "carol", "dan", "erin"):
        assert student in text
        assert not (submitted / student).exists()
    assert "special file" in text and "symbolic link" in text
    assert "THE KEY" not in "".join(p.read_text(errors="replace") for p in
                                    submitted.rglob("*") if p.is_file())


def test_links_already_in_submitted_are_refused(course: tuple[Path, Path]) -> None:
    root, submitted = course
    (submitted / "alice" / A).mkdir(parents=True)
    (submitted / "alice" / A / f"{NB}.ipynb").write_text("ok", encoding="utf-8")
    (submitted / "bob" / A).mkdir(parents=True)
    (submitted / "bob" / A / f"{NB}.ipynb").symlink_to(root)
    intake = from_submitted(submitted, A)
    assert intake.students == ["alice"]
    assert any("bob" in p and "symbolic link" in p for p in intake.problems)


def test_a_replaced_submission_is_kept_aside(tmp_path: Path,
                                             course: tuple[Path, Path]) -> None:
    root, submitted = course
    old = submitted / "alice" / A / f"{NB}.ipynb"
    old.parent.mkdir(parents=True)
    old.write_text("10 of 18", encoding="utf-8")
    uploads = tmp_path / "uploads"
    uploads.mkdir()
    (uploads / "alice.ipynb").write_text("1 of 18", encoding="utf-8")
    intake = from_folder(uploads, A, NOTEBOOKS, submitted, [], root)
    assert old.read_text() == "1 of 18"
    kept = list((root / "replaced-submissions" / A / "alice").glob(f"*/{NB}.ipynb"))
    assert [k.read_text() for k in kept] == ["10 of 18"]
    assert intake.notes and "kept in replaced-submissions" in intake.notes[0]
