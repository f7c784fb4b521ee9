"""Benchmark: stock `nbgrader autograde` against `course grade` on one synthetic cohort.

Builds a cohort from the real release notebooks of an assignment (default 01-principles):
correct, partly wrong, blank, tampered (tests edited to pass and tests deleted, on wrong
answers; points raised, on right answers),
one infinite loop and one corrupted file; grades it with stock `nbgrader autograde
--force` in one course copy and with `course grade` in another, checks that the two
gradebooks agree, and prints submissions per second, the ratio, CPU time and peak
memory. It prints figures; it is not a test.

CPU time: "machine CPU busy" is the whole machine's busy time during the run (from
/proc/stat; run it on an otherwise quiet machine). "CPU of reaped processes" is rusage,
which misses processes that are killed rather than waited for, such as sandboxed kernels.

The per-cell limit is lowered to 5 s for both runs (`--Execute.timeout=5` and
`course grade --timeout 5`; the course's nbgrader_config.py says 30 s), so that the
infinite loop costs 5 s instead of 30 s in each. Change it with --timeout.

Usage:
    python benchmarks/grade_throughput.py            # 40 submissions
    python benchmarks/grade_throughput.py 60         # any count
    python benchmarks/grade_throughput.py --small    # 20
    python benchmarks/grade_throughput.py --large    # 200
    python benchmarks/grade_throughput.py --sweep    # 20, 40 and 200
    ... --variants     also time course grade with each speed-up switched off
    ... --skip-stock   only course grade (for the flatness check at large counts)
"""

from __future__ import annotations

import argparse
import copy
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ASSIGNMENT = "01-principles"
REPEATED_KINDS = ("correct", "partlywrong", "blank", "editedtests", "changedpoints",
                  "deletedtests")
ONCE_KINDS = ("infiniteloop", "corrupted")
SOLUTION_MARK = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$")
ANSWER_LINE = re.compile(r"(?m)^(answer_\w+)\s*=\s*(.+?)\s*$")
VARIANT_KEY = re.compile(r'variant\("(\w+)", LEARNER_ID\)\.key')
VARIANT_IMPORT = "from course.variants import variant"


# ---------------------------------------------------------------- synthetic cohort


def _meta(cell: NotebookNode) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def _read_all(folder: Path) -> dict[str, NotebookNode]:
    return {p.stem: nbformat.read(p, as_version=4) for p in sorted(folder.glob("*.ipynb"))}


def _solutions(source: Mapping[str, NotebookNode]) -> dict[str, str]:
    """grade_id -> the instructor's answer code, without the solution markers."""
    return {_meta(c)["grade_id"]: "\n".join(line for line in c.source.splitlines()
                                            if not SOLUTION_MARK.match(line))
            for nb in source.values() for c in nb.cells
            if c.cell_type == "code" and _meta(c).get("solution")}


def for_learner(code: str, student: str) -> str:
    """An answer cell's solution as ``student`` answers it: the key of a per-learner
    variant (course.variants; computed here, for that student) as a plain number."""
    from course.variants import variant

    code = VARIANT_KEY.sub(lambda m: f"{variant(m.group(1), student).key:g}", code)
    return "\n".join(line for line in code.splitlines() if line.strip() != VARIANT_IMPORT)


def _answered(release: Mapping[str, NotebookNode], solutions: Mapping[str, str]
              ) -> dict[str, NotebookNode]:
    answered = copy.deepcopy(dict(release))
    for nb in answered.values():
        for cell in nb.cells:
            if cell.cell_type == "code" and _meta(cell).get("grade_id") in solutions \
                    and _meta(cell).get("solution"):
                cell.source = solutions[_meta(cell)["grade_id"]]
    return answered


def _wrong(value: str) -> str:
    letter = re.fullmatch(r"([\"'])([a-eA-E])\1", value)
    if letter:
        return f'"{"b" if letter.group(2).lower() == "a" else "a"}"'
    return "-1"


def _wrong_answers(nbs: dict[str, NotebookNode], every: int = 1) -> dict[str, NotebookNode]:
    """Every ``every``-th answer changed to a wrong one (every=2: partly wrong)."""
    count = 0
    for nb in nbs.values():
        for cell in nb.cells:
            if cell.cell_type == "code" and _meta(cell).get("solution"):
                count += 1
                if count % every == 0:
                    cell.source = ANSWER_LINE.sub(lambda m: f"{m.group(1)} = {_wrong(m.group(2))}",
                                                  cell.source)
    return nbs


def _tamper(nbs: dict[str, NotebookNode], how: str) -> dict[str, NotebookNode]:
    for nb in nbs.values():
        tests = [c for c in nb.cells if _meta(c).get("grade") and c.cell_type == "code"]
        if how == "editedtests":
            for cell in tests:
                cell.source = "pass  # the student removed the test"
        elif how == "changedpoints":
            for cell in tests:
                cell.metadata.nbgrader["points"] = 100
        elif how == "deletedtests":
            nb.cells = [c for c in nb.cells if c not in tests]
    return nbs


def _infinite_loop(nbs: dict[str, NotebookNode]) -> dict[str, NotebookNode]:
    """An answer set, then a loop that never ends, in the first graded answer cell."""
    for nb in nbs.values():
        for cell in nb.cells:
            if cell.cell_type == "code" and _meta(cell).get("solution"):
                cell.source += "\nwhile True:\n    pass"
                return nbs
    return nbs


def submission(kind: str, release: Mapping[str, NotebookNode], solutions: Mapping[str, str],
               student: str | None = None) -> dict[str, NotebookNode | str]:
    """One synthetic submission: notebook name -> notebook (or raw text when corrupted);
    with ``student``, per-learner variants are answered with that student's keys."""
    if student is not None:
        solutions = {grade_id: for_learner(code, student) for grade_id, code in solutions.items()}
    answered = _answered(release, solutions)
    makers: dict[str, Callable[[], dict]] = {
        "correct": lambda: answered,
        "wrong": lambda: _wrong_answers(answered),
        "partlywrong": lambda: _wrong_answers(answered, every=2),
        "blank": lambda: copy.deepcopy(dict(release)),
        # tampered: wrong answers whose tests were edited to pass, or deleted, and
        # right answers whose points were raised; nbgrader restores all three
        "editedtests": lambda: _tamper(_wrong_answers(answered), "editedtests"),
        "changedpoints": lambda: _tamper(answered, "changedpoints"),
        "deletedtests": lambda: _tamper(_wrong_answers(answered), "deletedtests"),
        "infiniteloop": lambda: _infinite_loop(answered),
        "corrupted": lambda: answered,
    }
    if kind not in makers:
        raise ValueError(f"kind must be one of {', '.join(makers)}, not {kind!r}")
    notebooks: dict[str, NotebookNode | str] = dict(makers[kind]())
    if kind == "corrupted":  # the graded notebook, cut off half way
        name = max(notebooks, key=lambda n: sum(bool(_meta(c).get("grade"))
                                                for c in notebooks[n].cells))
        text = nbformat.writes(notebooks[name])
        notebooks[name] = text[: len(text) // 2]
    return notebooks


def cohort_kinds(count: int) -> list[str]:
    """``count`` kinds: the repeated ones in turn, plus one infinite loop and one corrupted
    file once the cohort has room for them."""
    if count < 1:
        raise ValueError(f"count must be at least 1, not {count}")
    once = list(ONCE_KINDS) if count > len(REPEATED_KINDS) else []
    repeated = [REPEATED_KINDS[i % len(REPEATED_KINDS)] for i in range(count - len(once))]
    return repeated[:3] + once + repeated[3:]


def write_submission(folder: Path, notebooks: Mapping[str, NotebookNode | str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, nb in notebooks.items():
        text = nb if isinstance(nb, str) else nbformat.writes(nb)
        (folder / f"{name}.ipynb").write_text(text, encoding="utf-8")


def release_and_solutions(root: Path, assignment: str
                          ) -> tuple[dict[str, NotebookNode], dict[str, str]]:
    """The released notebooks of an assignment and its answers (grade_id -> code)."""
    return (_read_all(root / "release" / assignment),
            _solutions(_read_all(root / "source" / assignment)))


def build_cohort(root: Path, assignment: str, kinds: Sequence[str], submitted: Path
                 ) -> dict[str, str]:
    """Write ``submitted/<student>/<assignment>/*.ipynb``; returns student -> kind.

    Students are named ``<kind><number>`` (letters and digits only, so the names also
    survive the LMS file-name pattern of nbgrader's zip_collect).
    """
    release, solutions = release_and_solutions(root, assignment)
    students = {}
    for number, kind in enumerate(kinds, start=1):
        student = f"{kind}{number:03d}"
        write_submission(submitted / student / assignment,
                         submission(kind, release, solutions, student))
        students[student] = kind
    return students


# ---------------------------------------------------------------- courses and runs


def make_course(folder: Path, assignment: str, root: Path = ROOT) -> Path:
    """A course directory holding one assignment (source, release, config)."""
    for part in ("source", "release"):
        shutil.copytree(root / part / assignment, folder / part / assignment)
    shutil.copy2(root / "nbgrader_config.py", folder / "nbgrader_config.py")
    return folder


def tool_env(**extra: str) -> dict[str, str]:
    """The environment for nbgrader and course commands: the venv's bin/ on PATH."""
    return {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", **extra}


def generate(course: Path, assignment: str) -> None:
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", assignment, "--force"],
                   cwd=course, env=tool_env(), check=True, capture_output=True)


def grade_rows(course: Path, db_url: str | None = None) -> dict[tuple[str, str, str], tuple]:
    """Every grade in a course's gradebook: (student, notebook, grade cell) -> scores.

    The gradebook is the course's ``gradebook.db`` unless ``db_url`` names another.
    """
    from nbgrader.api import Gradebook

    rows = {}
    with Gradebook(db_url or f"sqlite:///{course / 'gradebook.db'}") as gb:
        for assignment in gb.assignments:
            for sub in assignment.submissions:
                for nb in sub.notebooks:
                    for grade in nb.grades:
                        rows[(sub.student.id, nb.name, grade.name)] = (
                            grade.score, grade.auto_score, grade.max_score,
                            grade.needs_manual_grade)
    return rows


def _tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            fields = stat[stat.rindex(")") + 2:].split()
            children.setdefault(int(fields[1]), []).append(int(entry))
            rss[int(entry)] = int(fields[21]) * page
        except (OSError, ValueError, IndexError):
            continue
    total, todo = 0, [pid]
    while todo:
        current = todo.pop()
        total += rss.get(current, 0)
        todo += children.get(current, [])
    return total


@dataclass
class Measurement:
    seconds: float
    cpu_seconds: float           # rusage of reaped descendants (misses killed kernels)
    max_rss_mb: float
    peak_total_mb: float
    returncode: int
    machine_cpu_seconds: float | None = None  # whole machine's busy CPU during the run


def machine_busy_seconds() -> float | None:
    """Busy CPU time of the whole machine since boot (Linux ``/proc/stat``: user, nice,
    system, irq and softirq), or None elsewhere."""
    try:
        first = Path("/proc/stat").read_text(encoding="ascii").split("\n", 1)[0].split()
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq = (int(v) for v in first[1:8])
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def measure(command: Sequence[str], cwd: Path, env: Mapping[str, str], log: Path
            ) -> Measurement:
    """Run a command; wall time, CPU time and peak memory of it and its descendants."""
    peak = 0
    busy_before = machine_busy_seconds()
    with log.open("w") as out:
        started = time.perf_counter()
        process = subprocess.Popen(list(command), cwd=cwd, env=dict(env), stdout=out,
                                   stderr=subprocess.STDOUT)
        done = threading.Event()

        def sample() -> None:
            nonlocal peak
            while not done.wait(0.5):
                peak = max(peak, _tree_rss(process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        done.set()
        sampler.join()
        process.returncode = os.waitstatus_to_exitcode(status)
    busy_after = machine_busy_seconds()
    machine = (busy_after - busy_before if busy_before is not None and busy_after is not None
               else None)
    return Measurement(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024,
                       peak / 2**20, process.returncode, machine)


def stock_command(assignment: str, timeout: int) -> list[str]:
    return [str(BIN / "nbgrader"), "autograde", assignment, "--force",
            f"--Execute.timeout={timeout}"]


def course_command(assignment: str, timeout: int, workers: int | None) -> list[str]:
    command = [sys.executable, "-m", "course.cli", "grade", assignment, "--timeout",
               str(timeout)]
    return command + (["--workers", str(workers)] if workers else [])


def variant_command(assignment: str, timeout: int, workers: int, warm: bool, kill: bool,
                    unscored: bool = True, fork: bool = True) -> list[str]:
    """course grade through the Python API, with a speed-up switched off (or the opt-in
    that leaves notebooks worth 0 points unexecuted switched on)."""
    code = ("import sys; from pathlib import Path; from course.grading.cohort import grade_cohort; "
            f"r = grade_cohort(Path.cwd(), {assignment!r}, workers={workers}, "
            f"overrides={{'Execute': {{'timeout': {timeout}}}}}, warm_kernels={warm}, "
            f"kill_kernels={kill}, execute_unscored={unscored}, fork_kernels={fork}, "
            "regrade=True); "
            "sys.exit(r.exit_code)")
    return [sys.executable, "-c", code]


def compare(stock: Mapping[tuple, tuple], ours: Mapping[tuple, tuple], kinds: Mapping[str, str]
            ) -> list[str]:
    """Differences between two gradebooks, leaving out the corrupted submissions (nbgrader
    keeps an empty row for them; course grade removes it)."""
    skip = {s for s, kind in kinds.items() if kind == "corrupted"}
    keys = {k for k in (*stock, *ours) if k[0] not in skip}
    return [f"{key}: stock {stock.get(key)} != course grade {ours.get(key)}"
            for key in sorted(keys) if stock.get(key) != ours.get(key)]


def _line(label: str, m: Measurement, count: int) -> str:
    machine = ("" if m.machine_cpu_seconds is None else
               f"machine CPU busy {m.machine_cpu_seconds:6.1f} s "
               f"({m.machine_cpu_seconds / count:4.2f} s each)  ")
    return (f"{label:<30} {m.seconds:8.1f} s  {count / m.seconds:6.3f} submissions/s  "
            f"{m.seconds / count:6.2f} s each  {machine}CPU of reaped processes "
            f"{m.cpu_seconds:7.1f} s  peak RSS: largest process {m.max_rss_mb:5.0f} MB, "
            f"all processes {m.peak_total_mb:5.0f} MB  (exit {m.returncode})")


def run_benchmark(count: int, assignment: str, timeout: int, workers: int | None,
                  skip_stock: bool, variants: bool, keep: bool) -> None:
    scratch = Path(tempfile.mkdtemp(prefix=f"grade-throughput-{count}-"))
    try:
        stock_course = make_course(scratch / "stock", assignment)
        ours = make_course(scratch / "course-grade", assignment)
        generate(stock_course, assignment)
        shutil.copy2(stock_course / "gradebook.db", ours / "gradebook.db")
        kinds = build_cohort(ROOT, assignment, cohort_kinds(count), stock_course / "submitted")
        shutil.copytree(stock_course / "submitted", ours / "submitted")
        tally = {k: list(kinds.values()).count(k) for k in dict.fromkeys(kinds.values())}
        print(f"\n== {count} submissions of {assignment}: "
              + ", ".join(f"{n} {k}" for k, n in tally.items()))
        print(f"Execute.timeout = {timeout} s for both runs (benchmark override; "
              "nbgrader_config.py says 30 s)")
        ours_m = measure(course_command(assignment, timeout, workers), ours,
                         tool_env(COURSE_ROOT=str(ours)), scratch / "course-grade.log")
        print(_line(f"course grade ({workers or os.cpu_count()} workers)", ours_m, count),
              flush=True)
        if not skip_stock:
            stock_m = measure(stock_command(assignment, timeout), stock_course, tool_env(),
                              scratch / "stock.log")
            print(_line("stock nbgrader autograde", stock_m, count))
            print(f"ratio (course grade / stock throughput): "
                  f"{stock_m.seconds / ours_m.seconds:.2f}x")
            differences = compare(grade_rows(stock_course), grade_rows(ours), kinds)
            rows = len(grade_rows(ours))
            print(f"gradebooks: {rows} grade rows in course grade; "
                  + ("identical to stock (corrupted submissions aside: stock keeps an empty "
                     "row, course grade none)" if not differences
                     else f"{len(differences)} DIFFER:\n  " + "\n  ".join(differences[:20])))
        if variants:
            cpus = os.cpu_count() or 1
            for label, w, warm, kill, unscored, fork in (
                    ("api: all speed-ups", cpus, True, True, True, True),
                    ("api: a sandbox per kernel", cpus, True, True, True, False),
                    ("api: no warm kernels", cpus, False, True, True, True),
                    ("api: no warm, graceful shutdown", cpus, False, False, True, True),
                    ("api: 1 worker", 1, True, True, True, True),
                    (f"api: {cpus + 1} workers", cpus + 1, True, True, True, True),
                    ("api: opt-in skip 0-point nbs", cpus, True, True, False, True)):
                m = measure(variant_command(assignment, timeout, w, warm, kill, unscored,
                                            fork),
                            ours, tool_env(), scratch / f"variant-{label[5:9]}-{w}.log")
                print(_line(label, m, count), flush=True)
                if not unscored:
                    same = not compare(grade_rows(stock_course), grade_rows(ours), kinds) \
                        if not skip_stock else None
                    print(f"  (grades identical to stock with 0-point notebooks unexecuted: "
                          f"{same})")
    finally:
        if keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=40)
    parser.add_argument("--small", action="store_true", help="20 submissions")
    parser.add_argument("--large", action="store_true", help="200 submissions")
    parser.add_argument("--sweep", action="store_true", help="20, 40 and 200")
    parser.add_argument("--assignment", default=ASSIGNMENT)
    parser.add_argument("--timeout", type=int, default=5, help="Execute.timeout (s)")
    parser.add_argument("--workers", type=int, help="course grade workers (default: CPUs)")
    parser.add_argument("--skip-stock", action="store_true")
    parser.add_argument("--variants", action="store_true",
                        help="also time course grade with each speed-up switched off")
    parser.add_argument("--keep", action="store_true", help="keep the scratch courses")
    args = parser.parse_args(argv)
    counts = ([20, 40, 200] if args.sweep else [20] if args.small else [200] if args.large
              else [args.count])
    load = os.getloadavg()[0]
    print(f"machine: {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"load average {load:.2f} at start")
    for count in counts:
        run_benchmark(count, args.assignment, args.timeout, args.workers, args.skip_stock,
                      args.variants, args.keep)


if __name__ == "__main__":
    main()
