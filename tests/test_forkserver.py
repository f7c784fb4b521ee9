"""One sandbox for a submission's kernels, forked by a zygote (course/grading/kernel_forkserver.py).

Pure tests check the launcher and request handling. The kernel tests start real
kernels through SandboxedKernelManager in a SubmissionKernels sandbox and check what
"a fresh kernel per notebook" has to mean: a new process that has run nothing of the
previous notebook, in the submission's working folder, as nobody; a kernel that stops
or is killed is reported; another student's submission sees nothing of this one.
Every student gets a new sandbox (isolation by construction): through the cohort's
worker, nothing one student's kernel makes (POSIX or System V message queue, abstract
Unix socket, process, file) is there for the next, and a kernel cannot reach its zygote.
They skip where bubblewrap cannot run, unless COURSE_REQUIRE_SANDBOX=1.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from jupyter_core.utils import run_sync
from nbclient import NotebookClient

from course.grading import kernel_forkserver
from course.grading.bwrap import NOBODY
from course.grading.sandbox import SandboxedKernelManager, SandboxProvisioner
from course.grading.zygote import FORKSERVER, SubmissionKernels, is_ipykernel_command

from .conftest import ROOT
from .test_sandbox import python3_notebook, require_sandbox, results

LAUNCHER = [sys.executable, "-I", "-S", str(FORKSERVER)]


# ---------------------------------------------------------------- pure


def test_requests_are_checked() -> None:
    good = {"args": ["-f", "k.json"], "cwd": "/tmp", "env": {"A": "1"}}
    assert kernel_forkserver.parse_request(json.dumps(good).encode()) == good
    for bad in ({"args": "-f", "cwd": "/tmp", "env": {}},
                {"args": [1], "cwd": "/tmp", "env": {}},
                {"args": [], "cwd": None, "env": {}},
                {"args": [], "cwd": "/tmp", "env": {"A": 1}}):
        with pytest.raises(ValueError):
            kernel_forkserver.parse_request(json.dumps(bad).encode())
    with pytest.raises(ValueError):
        kernel_forkserver.parse_request(b"not json")


def test_launcher_gives_up_when_its_zygote_is_gone(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    started = time.monotonic()
    done = subprocess.run([*LAUNCHER, "launch", str(tmp_path / "none"), str(dead.pid), "{}"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 1
    assert "no zygote listening" in done.stderr
    assert time.monotonic() - started < 20


def test_launcher_usage_error() -> None:
    done = subprocess.run([*LAUNCHER, "launch", "socket"], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2
    assert "usage:" in done.stderr


def test_launcher_exits_with_the_reported_code(tmp_path: Path) -> None:
    path = str(tmp_path / "zygote")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    launcher = subprocess.Popen([*LAUNCHER, "launch", path, str(os.getpid()), '{"x": 1}'])
    conn, _ = server.accept()
    assert conn.makefile("rb").readline() == b'{"x": 1}\n'
    conn.sendall(b"7\n")
    assert launcher.wait(timeout=30) == 7
    conn.close()
    server.close()


def test_launcher_fails_when_the_zygote_stops_without_a_reply(tmp_path: Path) -> None:
    path = str(tmp_path / "zygote")
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(1)
    launcher = subprocess.Popen([*LAUNCHER, "launch", path, str(os.getpid()), "{}"],
                                stderr=subprocess.PIPE, text=True)
    conn, _ = server.accept()
    conn.close()
    assert launcher.wait(timeout=30) == 1
    assert "without a reply" in launcher.stderr.read()
    server.close()


def test_only_the_ipykernel_command_is_forked() -> None:
    assert is_ipykernel_command(["python", "-m", "ipykernel_launcher", "-f", "k.json"])
    assert not is_ipykernel_command(["python", "-m", "other_kernel", "-f", "k.json"])
    assert not is_ipykernel_command(["R", "--slave"])


# ---------------------------------------------------------------- real kernels


@pytest.fixture
def submission(tmp_path: Path):
    require_sandbox()
    folder = tmp_path / "autograded" / "student" / "assignment"
    folder.mkdir(parents=True)
    (folder / "data.txt").write_text("submitted\n", encoding="utf-8")
    kernels = SubmissionKernels(folder)
    yield kernels
    kernels.close()


def run(submission: SubmissionKernels, cells: list[str], timeout: int = 30,
        forked: bool = True):
    """Run ``cells`` in a new kernel of ``submission`` (``forked=False``: a kernel in a
    sandbox of its own, as nbgrader autograde starts them); the executed notebook."""
    km = SandboxedKernelManager(kernel_name="python3")
    if forked:
        km.submission = submission
    run_sync(km.start_kernel)(cwd=str(submission.cwd))
    nb = python3_notebook(cells)
    try:
        NotebookClient(nb, km=km, timeout=timeout, allow_errors=True).execute()
    finally:
        run_sync(km.shutdown_kernel)(now=True)
    return nb


PROBE = ("import json, os, sys; print('RESULT ' + json.dumps({'name': 'probe', 'pid': os.getpid(), "
         "'uid': os.getuid(), 'cwd': os.getcwd(), 'files': sorted(os.listdir('.')), "
         "'leftover': 'secret_of_the_last_notebook' in globals(), "
         "'path': sys.path, 'argv0': sys.argv[0], 'modules': 'debugpy' in sys.modules}))")


@pytest.mark.slow
def test_each_notebook_gets_a_fresh_forked_kernel(submission: SubmissionKernels) -> None:
    first = results(run(submission, [PROBE, "secret_of_the_last_notebook = 42",
                                     "open('written.txt', 'w').write('1')"]))["probe"]
    assert submission.process is not None and submission.process.poll() is None
    zygote = submission.process.pid
    second = results(run(submission, [PROBE]))["probe"]
    assert submission.process.pid == zygote  # one zygote for the submission
    assert first["pid"] != second["pid"]
    assert not second["leftover"]  # nothing of the last notebook's state
    cold = results(run(submission, [PROBE], forked=False))["probe"]
    for probe in (first, second):
        assert probe["uid"] == NOBODY
        assert probe["cwd"] == str(submission.cwd)
        assert probe["path"] == cold["path"]  # as python -m ipykernel_launcher sets it
        assert probe["argv0"] == cold["argv0"]
        assert not probe["modules"]  # no debugger loaded (and none imported by accident)
    assert first["files"] == ["data.txt"]
    assert second["files"] == ["data.txt", "written.txt"]  # one folder, as under nbgrader
    assert sorted(os.listdir(submission.cwd)) == ["data.txt"]  # the grader's copy: untouched


@pytest.mark.slow
def test_a_killed_or_stopped_kernel_is_gone(submission: SubmissionKernels) -> None:
    km = SandboxedKernelManager(kernel_name="python3")
    km.submission = submission
    run_sync(km.start_kernel)(cwd=str(submission.cwd))
    nb = python3_notebook(["import os; print('RESULT {\"name\": \"pid\", \"pid\": %d}' "
                           "% os.getpid())"])
    NotebookClient(nb, km=km, timeout=30).execute(cleanup_kc=False)
    pid = results(nb)["pid"]["pid"]
    run_sync(km.shutdown_kernel)(now=True)  # kills the launcher: the zygote kills the kernel
    check = (f"import os, time\nfor _ in range(100):\n    try:\n        os.kill({pid}, 0)\n"
             "    except ProcessLookupError:\n        print('RESULT {\"name\": \"gone\"}')\n"
             "        break\n    time.sleep(0.05)")
    assert "gone" in results(run(submission, [check]))

    km = SandboxedKernelManager(kernel_name="python3")
    km.submission = submission
    run_sync(km.start_kernel)(cwd=str(submission.cwd))
    client = km.client()
    client.start_channels()
    run_sync(client.wait_for_ready)(timeout=60)
    client.execute("import os; os._exit(3)")
    deadline = time.monotonic() + 30
    while run_sync(km.is_alive)() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not run_sync(km.is_alive)()
    assert km.provisioner.process.returncode == 3  # the launcher reports the exit code
    assert isinstance(km.provisioner, SandboxProvisioner)  # started by the provisioner
    client.stop_channels()
    run_sync(km.shutdown_kernel)(now=True)


@pytest.mark.slow
def test_students_never_share_a_sandbox(submission: SubmissionKernels, tmp_path: Path
                                        ) -> None:
    run(submission, ["open('/tmp/mark', 'w').write('a'); open('mine.txt', 'w').write('a')"])
    other_folder = tmp_path / "autograded" / "other" / "assignment"
    other_folder.mkdir(parents=True)
    other = SubmissionKernels(other_folder)
    try:
        seen = results(run(other, [
            "import json, os; print('RESULT ' + json.dumps({'name': 'other', "
            "'tmp': os.path.exists('/tmp/mark'), 'files': os.listdir('.'), "
            f"'first': os.path.exists({str(submission.cwd)!r})}}))"]))["other"]
    finally:
        other.close()
    assert seen == {"tmp": False, "files": [], "first": False}
    assert other.box is None and other.process is None


@pytest.mark.slow
def test_close_removes_the_sandbox(submission: SubmissionKernels) -> None:
    run(submission, ["x = 1"])
    root = submission.box.root
    process = submission.process
    submission.close()
    assert not root.exists()
    assert process.poll() is not None


@pytest.mark.slow
def test_another_folder_is_not_forked(submission: SubmissionKernels, tmp_path: Path) -> None:
    assert submission.accepts(submission.cwd)
    assert not submission.accepts(tmp_path)
    assert not submission.accepts(None)


# ---------------------------------------------------------------- the zygote


def student_folder(root: Path, student: str, files: dict[str, str]) -> Path:
    folder = root / "autograded" / student / "assignment"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.slow
def test_a_kernel_cannot_reach_its_zygote(tmp_path: Path) -> None:
    require_sandbox()
    ada = SubmissionKernels(student_folder(tmp_path, "ada", {}))
    probe = (
        "import json, os\n"
        "found = {}\n"
        "for what, path in (('environ', '/proc/%d/environ'), ('mem', '/proc/%d/mem'),\n"
        "                   ('control', '/proc/%d/fd/0')):\n"
        "    try:\n"
        "        open(path % os.getppid(), 'rb').read(1)\n"
        "        found[what] = 'read'\n"
        "    except OSError as error:\n"
        "        found[what] = type(error).__name__\n"
        "found['stdin'] = os.read(0, 10).decode()\n"
        "print('RESULT ' + json.dumps({'name': 'probe', **found}))")
    try:
        seen = results(run(ada, [probe]))["probe"]
    finally:
        ada.close()
    assert seen == {"environ": "PermissionError", "mem": "PermissionError",
                    "control": "PermissionError", "stdin": ""}


# ---------------------------------------------------------------- isolation by construction
# Through the worker of `course grade` (course.grading.cohort.NotebookRunner), student after
# student in one worker, as a cohort is graded: nothing one student's kernel makes --
# POSIX message queue, System V message queue, abstract Unix socket -- is there for the
# next. (Before every student had a sandbox of its own, a reused sandbox handed the next
# student the first one's POSIX message queue.)

LEAVE_IPC = (
    "import ctypes, json, os, socket, subprocess, sys, time\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "mq = libc.mq_open(b'/course-leak', os.O_CREAT | os.O_RDWR, 0o600, None)\n"
    "sent = mq >= 0 and libc.mq_send(mq, b'ada-secret', 10, 0) == 0\n"
    "msg = libc.msgget(0x5EED, 0o1600)\n"
    "holder = subprocess.Popen([sys.executable, '-c', 'import socket, time; "
    "s = socket.socket(socket.AF_UNIX); s.bind(\"\\\\0course-leak\"); s.listen(); "
    "time.sleep(600)'], start_new_session=True)\n"
    "for _ in range(200):\n"
    "    try:\n"
    "        socket.socket(socket.AF_UNIX).connect('\\0course-leak')\n"
    "        listening = True\n"
    "        break\n"
    "    except OSError:\n"
    "        listening = False\n"
    "        time.sleep(0.02)\n"
    "print('RESULT ' + json.dumps({'name': 'ada', 'mq': sent, 'msg': msg >= 0, "
    "'socket': listening}))")

LOOK_FOR_IPC = (
    "import ctypes, json, os, socket\n"
    "libc = ctypes.CDLL(None, use_errno=True)\n"
    "mq = libc.mq_open(b'/course-leak', os.O_RDONLY | os.O_NONBLOCK, 0, None)\n"
    "mq_errno = ctypes.get_errno() if mq < 0 else 0\n"
    "msg = libc.msgget(0x5EED, 0)\n"
    "try:\n"
    "    socket.socket(socket.AF_UNIX).connect('\\0course-leak')\n"
    "    reached = True\n"
    "except OSError:\n"
    "    reached = False\n"
    "print('RESULT ' + json.dumps({'name': 'ben', 'mq': mq >= 0, 'mq_errno': mq_errno, "
    "'msg': msg >= 0, 'socket': reached}))")


def _runner_task(root: Path, task_id: int, student: str, cells: list[str]):
    from course.grading.workers import Task

    folder = root / "autograded" / student / "assignment"
    folder.mkdir(parents=True)
    path = folder / "notebook.ipynb"
    import nbformat

    nbformat.write(python3_notebook(cells), path)
    return Task(task_id, str(path), student, last=True)


@pytest.mark.slow
def test_nothing_of_one_student_reaches_the_next_in_one_worker(tmp_path: Path) -> None:
    import errno

    from traitlets.config import Config

    from course.grading.workers import NotebookRunner, Tuning

    require_sandbox()
    runner = NotebookRunner(Config(), "course.grading.sandbox.SandboxedExecute", Tuning(workers=1))
    try:
        ada = runner.run(runner.prepare(_runner_task(tmp_path, 1, "ada", [LEAVE_IPC])))
        ben = runner.run(runner.prepare(_runner_task(tmp_path, 2, "ben", [LOOK_FOR_IPC])))
    finally:
        runner.close()
    assert ada.failure is None and ben.failure is None, (ada.failure, ben.failure)
    made, seen = results(ada.notebook)["ada"], results(ben.notebook)["ben"]
    assert made == {"mq": True, "msg": True, "socket": True}  # the objects were made
    assert seen == {"mq": False, "mq_errno": errno.ENOENT, "msg": False, "socket": False}


FIND_AND_FORGE = (
    "import json, os, stat\n"
    "seen = []\n"
    "for pid in [p for p in os.listdir('/proc') if p.isdigit()] + ['self']:\n"
    "    try:\n"
    "        fds = os.listdir(f'/proc/{pid}/fd')\n"
    "    except OSError:\n"
    "        continue\n"
    "    for fd in fds:\n"
    "        try:\n"
    "            info = os.stat(f'/proc/{pid}/fd/{fd}')\n"
    "        except OSError:\n"
    "            continue\n"
    "        seen.append([info.st_dev, info.st_ino])\n"
    "for fd in range(256):\n"
    "    try:\n"
    "        mode = os.fstat(fd).st_mode\n"
    "    except OSError:\n"
    "        continue\n"
    "    if stat.S_ISREG(mode) or stat.S_ISFIFO(mode) or stat.S_ISCHR(mode):\n"
    "        for call in (lambda: os.write(fd, b'\\nFORGED [worker 1] ERROR\\n'),\n"
    "                     lambda: os.ftruncate(fd, 0)):\n"
    "            try:\n"
    "                call()\n"
    "            except OSError:\n"
    "                pass\n"
    "print('RESULT ' + json.dumps({'name': 'fds', 'seen': seen}))")


@pytest.mark.slow
@pytest.mark.parametrize("forked", [True, False])
def test_the_grading_log_is_out_of_a_kernels_reach(submission: SubmissionKernels,
                                                   tmp_path: Path, forked: bool,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    """As in a `course grade` worker, the grader's standard output and error are the
    grading log: a kernel can neither find that file among the descriptors it can see,
    nor write or truncate it; what it prints reaches the log marked and escaped."""
    log = tmp_path / "assignment.grading.log"
    log.write_text("the grader's first line\n", encoding="utf-8")
    saved = os.dup(1), os.dup(2)
    log_fd = os.open(log, os.O_WRONLY | os.O_APPEND)
    caplog.set_level("WARNING", logger="course.grading.sandbox.kernel")
    try:
        os.dup2(log_fd, 1)
        os.dup2(log_fd, 2)
        nb = run(submission, [FIND_AND_FORGE], forked=forked)
        submission.close()
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, log_fd):
            os.close(fd)
    info = log.stat()
    seen = results(nb)["fds"]["seen"]
    assert seen, "the kernel saw its own descriptors"
    assert [info.st_dev, info.st_ino] not in seen
    text = log.read_text(encoding="utf-8")
    assert text.startswith("the grader's first line\n")  # not truncated
    assert "FORGED" not in text
    deadline = time.monotonic() + 10
    while "FORGED" not in caplog.text and time.monotonic() < deadline:
        time.sleep(0.05)
    relayed = [r.getMessage() for r in caplog.records if "FORGED" in r.getMessage()]
    assert relayed and all(m.startswith("kernel output (") for m in relayed)
    assert all("\n" not in m for m in relayed)


def test_the_zygote_preloads_modules_that_exist_and_the_set_up_cells_import() -> None:
    """LESSON_MODULES are names (so grading imports no view): a stale name would only print
    "course content not preloaded" in the sandbox and lose the speed-up silently."""
    import importlib.util
    import re

    for name in kernel_forkserver.LESSON_MODULES:
        assert importlib.util.find_spec(name) is not None, name
    set_up = "\n".join(path.read_text(encoding="utf-8")
                       for path in (ROOT / "source").glob("*/*.ipynb"))
    imported = set(re.findall(r"from (course\.[\w.]+) import", set_up))
    assert set(kernel_forkserver.LESSON_MODULES) <= imported, imported
