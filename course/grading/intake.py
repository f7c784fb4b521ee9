"""Submission intake for ``course grade --submissions``: folders, ``submitted/`` and LMS zips.

Untrusted input, so nothing here is guessed or followed:

- **LMS zips** are read with :mod:`zipfile`, never extracted by name and never expanded
  twice: a ``.zip`` inside the download is reported, not opened. Each notebook's *file
  name* (never its folder inside the archive) is parsed by nbgrader's documented
  ``ZipCollect`` convention, ``<assignment>_<student>_attempt_<YYYY-MM-DD-HH-MM-SS>_
  <notebook>.ipynb``, anchored to the assignment being graded and to its notebook names
  (:func:`parse_lms_name`). A name holding more than one ``_attempt_<time>_`` (a
  student-chosen tail could name another student or an earlier time) is *ambiguous*:
  reported, never guessed. With ``--roster`` the student must be on it. Ids may contain
  underscores (``jane_doe``) and Unicode letters (``élodie``). An instructor's own
  ``FileNameCollectorPlugin.named_regexp`` in ``nbgrader_config.py`` replaces the
  convention; it is matched against the whole file name only.
- **Limits** on the download (:class:`ZipLimits`: entries, total uncompressed size, and
  compression ratio of a large entry), each with its own message; bytes are counted as
  they are read, so a lying header does not help.
- **Symbolic links and special files** (in a zip or a folder, or already in
  ``submitted/``) make that student's submission refused and reported; they are never
  followed or copied.
- **One bad upload fails only that student** (a text file named ``.zip``, a time that is
  not a date, a link): the others are staged.
- **Nothing is lost**: a student's earlier ``submitted/<student>/<assignment>/`` copy is
  moved to ``replaced-submissions/<assignment>/<student>/<UTC time>/`` before a new one
  is staged, and a note says so.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import unicodedata
import zipfile
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

STUDENT_ID = re.compile(r"^[^\W_][\w.@+-]*$")  # \w is Unicode: élodie, jane_doe
STUDENT_ID_RULE = "letters (any alphabet), digits and _ . @ + -, starting with a letter or digit"
LMS_TIME = r"\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}"
LMS_MARKER = re.compile(rf"_attempt_({LMS_TIME})_")
LMS_FORMAT = "<assignment>_<student>_attempt_<YYYY-MM-DD-HH-MM-SS>_<notebook>.ipynb"
ARCHIVE_SUFFIXES = (".zip", ".gz", ".tgz", ".tar", ".7z", ".rar", ".bz2", ".xz")
KEPT_FOLDER = "replaced-submissions"


class CohortInputError(ValueError):
    """``--submissions``, ``--roster`` or ``--workers`` cannot be used (exit code 2)."""


@dataclass(frozen=True)
class ZipLimits:
    """What an LMS download may hold (a zip bomb is refused before anything is written)."""

    max_entries: int = 10_000
    max_total_bytes: int = 512 * 2**20
    max_ratio: float = 200.0
    ratio_from_bytes: int = 2**20  # the ratio is checked on entries larger than this


@dataclass
class Intake:
    """The students found in the input, the files that could not be used, and notes."""

    students: list[str]
    problems: list[str]
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class LmsName:
    student: str
    notebook: str
    time: datetime


def student_problem(where: object, student: str) -> str | None:
    if STUDENT_ID.match(student):
        return None
    return f"{where}: {student!r} is not a valid student id (allowed: {STUDENT_ID_RULE})"


# ---------------------------------------------------------------- LMS file names


def _lms_time(text: str) -> datetime | None:
    try:
        return datetime.strptime(text, "%Y-%m-%d-%H-%M-%S")
    except ValueError:
        return None


def parse_lms_name(name: str, assignment: str, notebooks: Sequence[str],
                   roster: Collection[str] | None = None,
                   named_regexp: str | None = None) -> LmsName | str:
    """The student, notebook and time of an LMS file *name* (a folder part is ignored).

    Returns an :class:`LmsName`, or one sentence saying why the name cannot be used.
    """
    name = unicodedata.normalize("NFC", PurePosixPath(name.replace("\\", "/")).name)
    if named_regexp:  # the instructor's own pattern, on the file name only
        match = re.fullmatch(named_regexp, name)
        if not match or not {"student_id", "file_id"} <= set(match.groupdict()):
            return f"{name} does not match FileNameCollectorPlugin.named_regexp"
        student, stamp = match["student_id"], match.groupdict().get("timestamp")
        notebook = PurePosixPath(match["file_id"]).stem
        time = _lms_time(stamp) if stamp else datetime(1970, 1, 1)
    else:
        prefix = f"{assignment}_"
        if not name.startswith(prefix) or not name.endswith(".ipynb"):
            return f"{name} does not match the LMS file-name pattern ({LMS_FORMAT})"
        rest = name[len(prefix):-len(".ipynb")] + "."  # "." ends the last marker's tail
        markers = list(LMS_MARKER.finditer(rest))
        if not markers:
            return f"{name} does not match the LMS file-name pattern ({LMS_FORMAT})"
        if len(markers) > 1:
            return (f"{name} is ambiguous: it holds {len(markers)} '_attempt_<time>_' parts, "
                    "so the student or the time cannot be told apart from the uploaded "
                    "file's own name; not guessed (stage it by hand if it is genuine)")
        marker = markers[0]
        student, notebook = rest[:marker.start()], rest[marker.end():-1]
        time = _lms_time(marker.group(1))
        stamp = marker.group(1)
    if notebook not in notebooks:
        return f"{name} names no notebook of {assignment} ({', '.join(notebooks)}); skipped"
    if problem := student_problem(name, student):
        return problem
    if roster is not None and student not in roster:
        return f"{name}: student {student!r} is not on the roster"
    if time is None:
        return f"{name}: {stamp!r} is not a valid time (YYYY-MM-DD-HH-MM-SS)"
    return LmsName(student, notebook, time)


def _owner(name: str, assignment: str, roster: Collection[str] | None) -> str | None:
    """The student an unusable file belongs to, when its LMS prefix says so unambiguously."""
    base = unicodedata.normalize("NFC", PurePosixPath(name.replace("\\", "/")).name)
    if not base.startswith(f"{assignment}_"):
        return None
    markers = list(LMS_MARKER.finditer(base[len(assignment) + 1:] + "."))
    if not markers:
        return None
    student = base[len(assignment) + 1:][:markers[0].start()]
    ok = STUDENT_ID.match(student) and (roster is None or student in roster)
    return student if ok else None


# ---------------------------------------------------------------- zips


def _kind(info: zipfile.ZipInfo) -> str | None:
    """Why a zip entry is not a plain file (link, device...), or None."""
    mode = info.external_attr >> 16
    if info.create_system == 3 and mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG):
        return "a symbolic link" if stat.S_ISLNK(mode) else "a special file"
    if info.flag_bits & 0x1:
        return "encrypted"
    return None


def _check_archive(path: Path, infos: Sequence[zipfile.ZipInfo], limits: ZipLimits) -> None:
    if len(infos) > limits.max_entries:
        raise CohortInputError(f"--submissions {path}: {len(infos)} entries in the zip, more "
                               f"than the limit of {limits.max_entries}; nothing was extracted")
    total = sum(i.file_size for i in infos)
    if total > limits.max_total_bytes:
        raise CohortInputError(
            f"--submissions {path}: {total / 2**20:.0f} MiB once uncompressed, more than the "
            f"limit of {limits.max_total_bytes / 2**20:.0f} MiB; nothing was extracted")


def _read_entry(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: ZipLimits,
                budget: list[int]) -> bytes | str:
    """The entry's bytes, or why not (the ratio, or more bytes than its header said)."""
    ratio = info.file_size / max(info.compress_size, 1)
    if info.file_size > limits.ratio_from_bytes and ratio > limits.max_ratio:
        return (f"compression ratio {ratio:.0f}:1 is above the limit of "
                f"{limits.max_ratio:.0f}:1 (a zip bomb?)")
    cap = min(info.file_size, budget[0]) + 1
    try:
        with zf.open(info) as handle:
            data = handle.read(cap)
    except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError, EOFError) as error:
        return f"cannot be read from the zip ({error})"
    if len(data) >= cap:
        return "holds more bytes than the zip's header says; refused"
    budget[0] -= len(data)
    return data


def _open_zip(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise CohortInputError(f"--submissions {path}: not a readable zip archive "
                               f"({error})") from None


def read_lms_zip(path: Path, assignment: str, notebooks: Sequence[str],
                 roster: Collection[str] | None = None, named_regexp: str | None = None,
                 limits: ZipLimits = ZipLimits()
                 ) -> tuple[dict[str, dict[str, tuple[datetime, bytes]]], list[str]]:
    """Each usable student's newest attempt per notebook, and one message per problem.

    A student with any unusable file (a link, a nested archive, a bad time, a file over a
    limit, two files for one attempt) is left out entirely, with the reasons.
    """
    chosen: dict[str, dict[str, tuple[datetime, bytes]]] = {}
    refused: dict[str, list[str]] = {}
    problems: list[str] = []
    budget = [limits.max_total_bytes]
    with _open_zip(path) as zf:
        _check_archive(path, zf.infolist(), limits)
        infos = [i for i in zf.infolist() if not i.is_dir()]
        for info in infos:
            base = PurePosixPath(info.filename.replace("\\", "/")).name
            if base.startswith(".") or "__MACOSX" in info.filename:
                continue
            owner = _owner(info.filename, assignment, roster)
            unusable = _kind(info)
            if not unusable and base.lower().endswith(ARCHIVE_SUFFIXES):
                unusable = "an archive inside the download (not expanded); ask for the .ipynb"
            parsed = None
            if not unusable:
                parsed = parse_lms_name(info.filename, assignment, notebooks, roster,
                                        named_regexp)
                if isinstance(parsed, str):
                    if owner and "not a valid time" in parsed:
                        refused.setdefault(owner, []).append(parsed)
                    elif base.endswith(".ipynb") or owner:
                        problems.append(f"{path.name}: {parsed}")
                    continue
                data = _read_entry(zf, info, limits, budget)
                if isinstance(data, str):
                    unusable = data
            if unusable:
                who = parsed.student if isinstance(parsed, LmsName) else owner
                message = f"{base} is {unusable}" if unusable.startswith(("a ", "an ")) \
                    else f"{base}: {unusable}"
                if who:
                    refused.setdefault(who, []).append(message)
                else:
                    problems.append(f"{path.name}: {message}; skipped")
                continue
            files = chosen.setdefault(parsed.student, {})
            earlier = files.get(parsed.notebook)
            if earlier and earlier[0] == parsed.time:
                refused.setdefault(parsed.student, []).append(
                    f"two files for the {parsed.time} attempt of {parsed.notebook}")
            elif not earlier or parsed.time > earlier[0]:
                files[parsed.notebook] = (parsed.time, data)
    for student, reasons in sorted(refused.items()):
        chosen.pop(student, None)
        problems.append(f"{path.name}: nothing staged for {student}: {'; '.join(reasons)}")
    return chosen, problems


# ---------------------------------------------------------------- folders


def unsafe_entries(folder: Path) -> list[str]:
    """Symbolic links and special files under ``folder`` (never followed), relative paths."""
    found = []
    for top, dirs, files in os.walk(folder, followlinks=False):
        for name in [*dirs, *files]:
            mode = os.lstat(os.path.join(top, name)).st_mode
            if stat.S_ISLNK(mode) or not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                kind = "symbolic link" if stat.S_ISLNK(mode) else "special file"
                found.append(f"{Path(top, name).relative_to(folder)} ({kind})")
    return sorted(found)


def _entry_problem(entry: Path) -> str | None:
    mode = entry.lstat().st_mode
    if stat.S_ISLNK(mode):
        return f"{entry} is a symbolic link: refused, never followed"
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return f"{entry} is a special file: refused"
    if stat.S_ISDIR(mode) and (bad := unsafe_entries(entry)):
        return (f"{entry}: holds {', '.join(bad[:3])}{' …' if len(bad) > 3 else ''}; "
                "links and special files are refused, never followed: nothing staged")
    return None


def keep_aside(dest: Path, course_root: Path, student: str, assignment: str) -> str | None:
    """Move an earlier submitted copy out of the way (never deleted); a note, or None."""
    if not dest.exists() and not dest.is_symlink():
        return None
    if dest.is_dir() and not dest.is_symlink() and not any(dest.iterdir()):
        dest.rmdir()
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
    kept = course_root / KEPT_FOLDER / assignment / student / stamp
    kept.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(dest), str(kept))
    return (f"{student}: the earlier submitted copy of {assignment} was replaced; it is kept "
            f"in {kept.relative_to(course_root)}")


def submitted_root(coursedir: Any) -> Path:
    return Path(os.path.normpath(coursedir.format_path(coursedir.submitted_directory, ".", ".")))


def from_submitted(root: Path, assignment: str) -> Intake:
    found = sorted(d.name for d in root.iterdir()
                   if not d.is_symlink() and (d / assignment).is_dir()) if root.is_dir() else []
    if not found:
        raise CohortInputError(
            f"no submissions of {assignment} in {root} (expected "
            f"submitted/<student>/{assignment}/<notebook>.ipynb); give --submissions PATH "
            "for a folder of notebooks or an LMS zip")
    problems = [p for s in found if (p := student_problem(root / s, s))]
    ok = [s for s in found if STUDENT_ID.match(s)]
    for student in list(ok):
        if problem := _entry_problem(root / student / assignment):
            problems.append(problem)
            ok.remove(student)
    return Intake(ok, problems)


def from_folder(path: Path, assignment: str, notebooks: Sequence[str], submitted: Path,
                ignore: Sequence[str], course_root: Path) -> Intake:
    chosen: dict[str, Path] = {}
    problems: list[str] = []
    for entry in sorted(path.iterdir()):
        if entry.name.startswith("."):
            continue
        is_notebook = entry.suffix == ".ipynb"
        student = entry.stem if is_notebook else entry.name
        if not (is_notebook or entry.is_dir() or entry.is_symlink()):
            continue
        if problem := student_problem(entry, student) or _entry_problem(entry):
            problems.append(problem)
        elif student in chosen:
            problems.append(f"{entry}: a second submission from {student} "
                            f"(kept {chosen[student].name})")
        elif is_notebook and len(notebooks) != 1:
            problems.append(f"{entry}: <student>.ipynb is for one-notebook assignments; "
                            f"{assignment} has {len(notebooks)} notebooks, so use "
                            f"{student}/<notebook>.ipynb")
        else:
            chosen[student] = entry
    if not chosen and not problems:
        raise CohortInputError(
            f"--submissions {path}: no submissions found (expected <student>.ipynb, "
            f"<student>/<notebook>.ipynb or <student>/{assignment}/<notebook>.ipynb)")
    notes = []
    for student, entry in chosen.items():
        dest = submitted / student / assignment
        if note := keep_aside(dest, course_root, student, assignment):
            notes.append(note)
        dest.mkdir(parents=True)
        if entry.is_file():
            shutil.copy2(entry, dest / f"{notebooks[0]}.ipynb", follow_symlinks=False)
        else:
            inner = entry / assignment
            source = inner if inner.is_dir() and not inner.is_symlink() else entry
            shutil.copytree(source, dest, dirs_exist_ok=True, symlinks=True,
                            ignore=shutil.ignore_patterns(*ignore))
    return Intake(sorted(chosen), problems, notes)


def from_zip(path: Path, assignment: str, notebooks: Sequence[str], submitted: Path,
             course_root: Path, roster: Collection[str] | None = None,
             named_regexp: str | None = None, limits: ZipLimits = ZipLimits()) -> Intake:
    """Stage an LMS download: each student's newest attempts, with timestamp.txt."""
    chosen, problems = read_lms_zip(path, assignment, notebooks, roster, named_regexp, limits)
    if not chosen and not problems:
        raise CohortInputError(f"--submissions {path}: no notebooks in the archive")
    notes = []
    for student, files in sorted(chosen.items()):
        dest = submitted / student / assignment
        if note := keep_aside(dest, course_root, student, assignment):
            notes.append(note)
        dest.mkdir(parents=True)
        for notebook, (_time, data) in files.items():
            (dest / f"{notebook}.ipynb").write_bytes(data)
        newest = max(time for time, _data in files.values())
        (dest / "timestamp.txt").write_text(newest.isoformat(" "), encoding="utf-8")
    return Intake(sorted(chosen), problems, notes)


def check_submissions_path(path: Path | None, submitted: Path) -> Path | None:
    """The --submissions path to copy from, or None for the course's own submitted/."""
    if path is None or Path(path).resolve() == submitted.resolve():
        return None
    path = Path(path)
    if not path.exists():
        raise CohortInputError(f"--submissions {path}: no such file or folder")
    if path.resolve().is_relative_to(submitted.resolve()):
        raise CohortInputError(f"--submissions {path}: is inside the course's submitted/ "
                               "folder; give submitted/ itself or a folder outside it")
    if path.is_file() and path.suffix.lower() != ".zip":
        raise CohortInputError(f"--submissions {path}: expected a folder or a .zip file")
    if path.is_file() and not zipfile.is_zipfile(path):
        raise CohortInputError(f"--submissions {path}: not a readable zip archive")
    return path


def stage_submissions(coursedir: Any, config: Any, assignment: str, notebooks: Sequence[str],
                      path: Path | None, roster: Collection[str] | None = None) -> Intake:
    """Find the submissions of ``assignment`` to grade and copy them into ``submitted/``
    when needed."""
    submitted = submitted_root(coursedir)
    path = check_submissions_path(path, submitted)
    if path is None:
        return from_submitted(submitted, assignment)
    root = Path(coursedir.root)
    if path.is_file():
        regexp = config.get("FileNameCollectorPlugin", {}).get("named_regexp") or None
        return from_zip(path, assignment, notebooks, submitted, root, roster, regexp)
    return from_folder(path, assignment, notebooks, submitted, coursedir.ignore, root)
