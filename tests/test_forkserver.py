"""One sandbox for a submission's kernels, forked by a zygote (course/kernel_forkserver.py).

Pure tests check the launcher and request handling. The kernel tests start real
kernels through SandboxedKernelManager in a SubmissionKernels sandbox and check what
"a fresh kernel per notebook" has to mean: a new process that has run nothing of the
previous notebook, in the submission's working folder, as nobody; a kernel that stops
or is killed is reported; another student's submission sees nothing of this one.
A SandboxPool lets one sandbox and its zygote serve one student after another: the
pool tests check that nothing of the first student (process, file, /tmp) reaches the
second, and that a kernel cannot reach the zygote that outlives it.
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

from course import kernel_forkserver
from course.paths import PACKAGE_DIR
from course.sandbox import (
    NOBODY,
    Sandbox,
    SandboxedKernelManager,
    SandboxPool,
    SubmissionKernels,
    is_ipykernel_command,
)

from .test_sandbox import python3_notebook, require_sandbox, results

LAUNCHER = [sys.executable, "-I", "-S", str(PACKAGE_DIR / "kernel_forkserver.py")]


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


# ---------------------------------------------------------------- a pool of sandboxes


def student_folder(root: Path, student: str, files: dict[str, str]) -> Path:
    folder = root / "autograded" / student / "assignment"
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.mark.slow
def test_staging_replaces_the_work_folder_and_keeps_the_zygote_socket(tmp_path: Path
                                                                      ) -> None:
    first = student_folder(tmp_path, "ada", {"a.txt": "ada"})
    second = student_folder(tmp_path, "ben", {"b.txt": "ben"})
    box = Sandbox(None, mount=tmp_path / "autograded")
    try:
        assert box.cwd == (tmp_path / "autograded").resolve()
        box.stage(first, max_copy_bytes=1 << 20)
        (box.work / "ada" / "assignment" / "made.txt").write_text("by a kernel")
        (box.sockets / "forkserver").write_text("the zygote's socket")
        (box.sockets / "kernel-1.json").write_text("{}")
        box.stage(second, max_copy_bytes=1 << 20)
        assert [p.name for p in box.work.iterdir()] == ["ben"]
        assert sorted(p.name for p in (box.work / "ben" / "assignment").iterdir()) == [
            "b.txt"]
        assert sorted(p.name for p in box.sockets.iterdir()) == ["forkserver"]
        with pytest.raises(ValueError, match="larger than"):
            box.stage(first, max_copy_bytes=1)
    finally:
        box.remove()


def test_a_folder_whose_grandparent_is_a_course_root_is_not_pooled(tmp_path: Path) -> None:
    (tmp_path / "nbgrader_config.py").write_text("")
    (tmp_path / "source").mkdir()
    folder = tmp_path / "ada" / "assignment"
    folder.mkdir(parents=True)
    pool = SandboxPool()
    assert pool.lease(folder.resolve(), (), 1 << 20) is None
    submission = SubmissionKernels(folder, pool)  # a sandbox of its own instead
    try:
        assert submission.sandbox().cwd == folder.resolve()
        assert not pool.owns(submission.zygote)
    finally:
        submission.close()
    assert not submission.zygote


LEAVE_TRACES = (
    "import json, os, subprocess\n"
    "open('/tmp/mark', 'w').write('ada'); open('/dev/shm/mark', 'w').write('ada')\n"
    "open('mine.txt', 'w').write('ada')\n"
    "left = subprocess.Popen(['sleep', '600'], start_new_session=True)\n"
    "import ctypes; assert ctypes.CDLL(None).shmget(0, 4096, 0o1600) >= 0\n"
    "assert len(open('/proc/sysvipc/shm').readlines()) == 2\n"
    "print('RESULT ' + json.dumps({'name': 'ada', 'left': left.pid, 'pid': os.getpid()}))")

LOOK_AROUND = (
    "import json, os\n"
    "def alive(pid):\n"
    "    try:\n"
    "        os.kill(pid, 0)\n"
    "    except ProcessLookupError:\n"
    "        return False\n"
    "    return True\n"
    "print('RESULT ' + json.dumps({'name': 'ben', 'tmp': os.path.exists('/tmp/mark'), "
    "'shm': os.listdir('/dev/shm'), 'files': sorted(os.listdir('.')), "
    "'sysv': open('/proc/sysvipc/shm').readlines()[1:], "
    "'others': sorted(os.listdir('../..')), 'left': alive(LEFT), 'pid': os.getpid()}))")


@pytest.mark.slow
def test_a_pooled_sandbox_serves_the_next_student_with_nothing_of_the_last(
        tmp_path: Path) -> None:
    require_sandbox()
    pool = SandboxPool()
    ada = SubmissionKernels(student_folder(tmp_path, "ada", {"a.txt": "ada"}), pool)
    ben = SubmissionKernels(student_folder(tmp_path, "ben", {"b.txt": "ben"}), pool)
    try:
        traces = results(run(ada, [LEAVE_TRACES]))["ada"]
        zygote = ada.process.pid
        ada.close()  # back to the pool: its zygote and the process left behind stay
        seen = results(run(ben, [LOOK_AROUND.replace("LEFT", str(traces["left"]))]))["ben"]
        assert ben.process.pid == zygote  # the same zygote serves the next student
    finally:
        ada.close()
        ben.close()
        pool.close()
    assert seen["left"] is False  # the first student's process was killed
    assert seen["tmp"] is False  # /tmp was emptied
    assert seen["shm"] == []
    assert seen["sysv"] == []  # System V shared memory removed
    assert seen["files"] == ["b.txt"]
    assert seen["others"] == ["ben"]  # no other student's folder
    assert seen["pid"] != traces["pid"]


@pytest.mark.slow
def test_a_kernel_cannot_reach_its_long_lived_zygote(tmp_path: Path) -> None:
    require_sandbox()
    pool = SandboxPool()
    ada = SubmissionKernels(student_folder(tmp_path, "ada", {}), pool)
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
        pool.close()
    assert seen == {"environ": "PermissionError", "mem": "PermissionError",
                    "control": "PermissionError", "stdin": ""}


@pytest.mark.slow
def test_a_zygote_that_stopped_is_replaced(tmp_path: Path) -> None:
    require_sandbox()
    pool = SandboxPool()
    ada = SubmissionKernels(student_folder(tmp_path, "ada", {}), pool)
    ben = SubmissionKernels(student_folder(tmp_path, "ben", {"b.txt": "ben"}), pool)
    try:
        run(ada, ["x = 1"])
        first = ada.process
        first.kill()  # the zygote stops (a student's code may kill it)
        first.wait()
        ada.close()
        seen = results(run(ben, [PROBE]))["probe"]
        assert ben.process is not first and ben.process.poll() is None
        assert first.poll() is not None
    finally:
        ada.close()
        ben.close()
        pool.close()
    assert seen["files"] == ["b.txt"]


@pytest.mark.slow
def test_a_zygote_stopped_by_a_student_is_replaced_not_waited_for(tmp_path: Path) -> None:
    require_sandbox()
    pool = SandboxPool(reset_seconds=1)
    ada = SubmissionKernels(student_folder(tmp_path, "ada", {}), pool)
    ben = SubmissionKernels(student_folder(tmp_path, "ben", {"b.txt": "ben"}), pool)
    try:
        run(ada, ["import os, signal; os.kill(os.getppid(), signal.SIGSTOP)"])
        first = ada.process
        ada.close()
        started = time.monotonic()
        seen = results(run(ben, [PROBE]))["probe"]
        assert time.monotonic() - started < 20
        assert ben.process is not first
        assert first.poll() is not None  # the stopped one was killed
    finally:
        ada.close()
        ben.close()
        pool.close()
    assert seen["files"] == ["b.txt"]
