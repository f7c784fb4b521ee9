"""The grading sandbox (course/grading/sandbox.py): student code in a bubblewrap kernel.

Pure tests check the command line, the environment and what may be shown. The kernel
tests run real notebooks through nbclient and nbgrader's Execute with
SandboxedKernelManager: one notebook of attacks (each must fail while an honest cell
works), one kernel killed by its CPU limit, one cell interrupted at its timeout, and the
real instructor notebook of 00-orientation. Where bubblewrap cannot run they skip with
the reason, unless COURSE_REQUIRE_SANDBOX=1, which makes the skip a failure.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import socket
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import AsyncKernelManager
from nbformat.v4 import new_code_cell, new_notebook
from traitlets.config import Config

import course.grading.sandbox as sandbox
from course.grading.bwrap import (
    NOBODY,
    Layout,
    Limits,
    Sandbox,
    bwrap_argv,
    check_visible,
    copy_folder,
    kernel_env,
    python_paths,
)
from course.grading.sandbox import (
    SandboxedKernelManager,
    SandboxedKernels,
    SandboxUnavailable,
    autograde_sandbox,
    choose_kernel_manager,
    sandbox_available,
    sandbox_overrides,
    sandboxed_autograde_preprocessors,
)
from course.paths import PACKAGE_DIR

from .conftest import ROOT, skip_or_fail

MiB = 1024**2
SECRET = "HIDDEN-KEY-4f1c9"
ENV_SECRET = "COURSE_SANDBOX_TEST_TOKEN"


def require_sandbox() -> None:
    ok, reason = sandbox_available()
    if ok:
        return
    skip_or_fail("the sandbox tests", f"bubblewrap sandbox unavailable: {reason}",
                 "COURSE_REQUIRE_SANDBOX")


def python3_notebook(cells: list[str]) -> nbformat.NotebookNode:
    nb = new_notebook(cells=[new_code_cell(source) for source in cells])
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3",
                              "language": "python"}
    return nb


def results(nb: nbformat.NotebookNode) -> dict[str, dict]:
    """The ``RESULT {...}`` lines the attack cells print, by name."""
    found = {}
    for cell in nb.cells:
        # ipykernel flushes stdout on a timer, so one printed line may arrive in two
        # stream outputs: join a cell's stdout before splitting it into lines.
        text = "".join(output.get("text", "") for output in cell.get("outputs", [])
                       if output.get("output_type") == "stream"
                       and output.get("name") == "stdout")
        for line in text.splitlines():
            if line.startswith("RESULT "):
                item = json.loads(line[len("RESULT "):])
                found[item.pop("name")] = item
    return found


# ---------------------------------------------------------------- pure parts


def fake_layout(tmp_path: Path) -> Layout:
    return Layout(read_only=(Path("/usr"), tmp_path / "venv"), work=tmp_path / "copy",
                  cwd=tmp_path / "course" / "autograded" / "s" / "a",
                  sockets=tmp_path / "sockets", files=((tmp_path / "passwd",
                                                        Path("/etc/passwd")),),
                  links=(("usr/bin", "/bin"),))


@pytest.mark.parametrize("as_root", [True, False])
def test_command_line_isolates_and_limits(tmp_path: Path, as_root: bool) -> None:
    layout = fake_layout(tmp_path)
    argv = bwrap_argv(layout, Limits(cpu_seconds=7, memory_bytes=512 * MiB, processes=40,
                                     file_bytes=3 * MiB, tmp_bytes=5 * MiB),
                      {"HOME": "/tmp"}, ["python", "-m", "ipykernel_launcher"], as_root=as_root)
    for flag in ("--unshare-net", "--unshare-pid", "--unshare-ipc", "--die-with-parent",
                 "--new-session", "--disable-userns", "--clearenv"):
        assert flag in argv, flag
    assert argv[argv.index("--uid") + 1] == str(NOBODY)
    assert ["--bind", str(layout.work), str(layout.cwd)] == argv[
        argv.index(str(layout.work)) - 1:argv.index(str(layout.work)) + 2]
    assert ["--ro-bind", str(tmp_path / "venv"), str(tmp_path / "venv")] == argv[
        argv.index(str(tmp_path / "venv")) - 1:argv.index(str(tmp_path / "venv")) + 2]
    assert "--cpu=7:12" in argv and f"--as={512 * MiB}" in argv and "--nproc=40" in argv
    assert f"--fsize={3 * MiB}" in argv and "--core=0" in argv
    assert argv[-3:] == ["python", "-m", "ipykernel_launcher"]
    assert ("setpriv" in argv) == as_root
    if as_root:  # nobody before the user namespace; the limits inside it
        assert argv.index(f"--reuid={NOBODY}") < argv.index("--disable-userns")
        assert argv.index("--disable-userns") < argv.index("prlimit")


def test_only_named_host_paths_are_mounted(tmp_path: Path) -> None:
    layout = fake_layout(tmp_path)
    argv = bwrap_argv(layout, Limits(), {}, ["true"], as_root=False)
    sources = {argv[i + 1] for i, arg in enumerate(argv) if arg in ("--bind", "--ro-bind")}
    assert sources == {"/usr", str(tmp_path / "venv"), str(tmp_path / "passwd"),
                       str(layout.sockets), str(layout.work)}


def test_limits_reject_values_out_of_range() -> None:
    with pytest.raises(ValueError, match="memory_bytes"):
        Limits(memory_bytes=1024)
    with pytest.raises(ValueError, match="processes"):
        Limits(processes=0)
    with pytest.raises(ValueError, match="cpu_seconds"):
        Limits(cpu_seconds=True)


def test_kernel_env_drops_the_graders_variables() -> None:
    env = kernel_env({ENV_SECRET: "x", "NBGRADER_EXECUTION": "autograde", "HOME": "/root",
                      "PYTHONPATH": "/grader/path"}, {"SPEC_VAR": "1"}, Path("/venv/bin"))
    assert ENV_SECRET not in env
    assert env["PYTHONPATH"] == str(PACKAGE_DIR.parent)  # the package shown, not the grader's
    assert env["NBGRADER_EXECUTION"] == "autograde" and env["SPEC_VAR"] == "1"
    assert env["HOME"] == "/tmp" and env["PATH"].startswith("/venv/bin:")


def test_course_roots_are_never_shown(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="course root"):
        check_visible(ROOT, [ROOT], "working folder")
    with pytest.raises(ValueError, match="course root"):
        check_visible(ROOT.parent, [ROOT], "read-only path")
    check_visible(ROOT / "course", [ROOT], "read-only path")  # a folder inside is fine
    (tmp_path / "gradebook.db").write_text("x", encoding="utf-8")
    with pytest.raises(ValueError, match="gradebook"):
        check_visible(tmp_path, [ROOT], "working folder")
    with pytest.raises(ValueError, match="course root"):
        Sandbox(ROOT)


def test_work_copy_keeps_symlinks_without_following_them(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET, encoding="utf-8")
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "answer.txt").write_text("mine", encoding="utf-8")
    (folder / "link").symlink_to(secret)
    (folder / "dirlink").symlink_to(tmp_path)
    copy_folder(folder, tmp_path / "copy", max_bytes=MiB)
    assert (tmp_path / "copy" / "sub" / "answer.txt").read_text(encoding="utf-8") == "mine"
    assert (tmp_path / "copy" / "link").is_symlink()
    assert os.readlink(tmp_path / "copy" / "link") == str(secret)
    assert (tmp_path / "copy" / "dirlink").is_symlink()
    (folder / "big.bin").write_bytes(b"0" * (2 * MiB))
    with pytest.raises(ValueError, match="larger than"):
        copy_folder(folder, tmp_path / "copy2", max_bytes=MiB)


def test_the_sandbox_is_a_registered_kernel_provisioner() -> None:
    import tomllib

    from jupyter_client.provisioning import KernelProvisionerFactory

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["project"]["entry-points"]["jupyter_client.kernel_provisioners"] == {
        sandbox.PROVISIONER: "course.grading.sandbox:SandboxProvisioner"}
    km = SandboxedKernelManager(kernel_name="python3")
    assert km.kernel_spec.metadata["kernel_provisioner"]["provisioner_name"] == (
        sandbox.PROVISIONER)
    provisioner = KernelProvisionerFactory.instance().create_provisioner_instance(
        "kernel-id", km.kernel_spec, parent=km)
    assert isinstance(provisioner, sandbox.SandboxProvisioner)
    assert not isinstance(AsyncKernelManager(kernel_name="python3").kernel_spec.metadata.get(
        "kernel_provisioner", {}).get("provisioner_name"), str)  # stock kernels: untouched


def test_autograde_chain_gets_a_sandboxed_execute_step() -> None:
    from nbgrader.converters import Autograde
    from nbgrader.preprocessors import Execute

    stock = Autograde.class_traits()["autograde_preprocessors"].default()
    chain = sandboxed_autograde_preprocessors()
    assert chain[0] == "course.grading.sandbox.SandboxedExecute"
    assert chain[1:] == stock[1:] and len(chain) == len(stock)

    class WithMixin(SandboxedKernels, Execute):
        pass

    class WithoutMixin(Execute):
        pass

    mine = [WithMixin, *stock[1:]]
    assert sandboxed_autograde_preprocessors(mine) == mine  # already sandboxed: kept
    with pytest.raises(ValueError, match="WithoutMixin must inherit"):
        sandboxed_autograde_preprocessors([WithoutMixin, *stock[1:]])
    assert sandbox_overrides("require")["SandboxedKernels"] == {"sandbox": "require"}
    with pytest.raises(ValueError, match="sandbox mode"):
        sandbox_overrides("maybe")


def test_autograde_sandbox_reads_the_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    from nbgrader.preprocessors import Execute

    class WithoutMixin(Execute):
        pass

    monkeypatch.delenv("COURSE_REQUIRE_SANDBOX", raising=False)
    monkeypatch.setattr(sandbox, "sandbox_available", lambda: (True, ""))
    assert autograde_sandbox(Config(sandbox_overrides()))[0]
    stock, notice = autograde_sandbox(Config())
    assert not stock and "NOT sandboxed" in notice
    own, notice = autograde_sandbox(Config({"Autograde": {
        "autograde_preprocessors": [WithoutMixin]}}))
    assert not own and "WithoutMixin" in notice
    assert autograde_sandbox(Config(sandbox_overrides("off"))) == (
        False, "kernels are NOT sandboxed: the sandbox is off")
    monkeypatch.setattr(sandbox, "sandbox_available", lambda: (False, "no bwrap here"))
    ok, notice = autograde_sandbox(Config(sandbox_overrides()))
    assert not ok and "no bwrap here" in notice
    ok, notice = autograde_sandbox(Config(sandbox_overrides("require")))
    assert not ok and "must be sandboxed" in notice


def test_unavailable_sandbox_warns_or_fails(monkeypatch: pytest.MonkeyPatch,
                                            caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(sandbox, "sandbox_available", lambda: (False, "no bwrap here"))
    monkeypatch.delenv("COURSE_REQUIRE_SANDBOX", raising=False)
    with caplog.at_level(logging.WARNING):
        assert choose_kernel_manager("auto") is AsyncKernelManager
    assert "UNSANDBOXED" in caplog.text and "no bwrap here" in caplog.text
    with pytest.raises(SandboxUnavailable, match="no bwrap here"):
        choose_kernel_manager("require")
    monkeypatch.setenv("COURSE_REQUIRE_SANDBOX", "1")
    with pytest.raises(SandboxUnavailable):
        choose_kernel_manager("auto")
    assert choose_kernel_manager("off") is AsyncKernelManager
    for section in ("SandboxedExecute", "SandboxedKernels"):
        execute = sandbox.SandboxedExecute(config=Config({section: {"sandbox": "off"}}))
        assert execute.kernel_manager_class is AsyncKernelManager


def test_availability_reports_why_the_probe_failed(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused sandbox (e.g. user namespaces disabled) is reported with bwrap's words."""
    message = "bwrap: No permissions to create a new namespace"
    monkeypatch.setattr(sandbox, "missing_tools", lambda: [])
    monkeypatch.setattr(Sandbox, "command", lambda self, command, env, limits: [
        sys.executable, "-c", f"import sys; sys.exit({message!r})"])
    sandbox_available.cache_clear()
    try:
        ok, reason = sandbox_available()
    finally:
        sandbox_available.cache_clear()
    assert not ok and message in reason


# ---------------------------------------------------------------- real kernels


@pytest.fixture(scope="module")
def fake_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A course root with secrets, and a student's autograded folder inside it."""
    root = tmp_path_factory.mktemp("sandbox-course")
    (root / "source" / "a").mkdir(parents=True)
    (root / "source" / "a" / "quiz.ipynb").write_text(SECRET, encoding="utf-8")
    (root / "gradebook.db").write_text(SECRET, encoding="utf-8")
    (root / "nbgrader_config.py").write_text("c = get_config()\n", encoding="utf-8")
    work = root / "autograded" / "student" / "a"
    work.mkdir(parents=True)
    (work / "notes.txt").write_text("the student's own file", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def tcp_server() -> Iterator[tuple[int, list]]:
    """A TCP server on the grader's loopback that records every connection."""
    accepted: list = []
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except OSError:
                continue
            accepted.append(conn)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], accepted
    stop.set()
    thread.join(2)
    server.close()


ATTACK_LIMITS = {"processes": 64, "file_bytes": 16 * MiB, "tmp_bytes": 32 * MiB}


def attack_cells(root: Path, port: int) -> list[str]:
    secret_nb = root / "source" / "a" / "quiz.ipynb"
    return [
        "import json, os, socket, sys, time\n"
        "def attempt(name, action):\n"
        "    try:\n"
        "        result = {'ok': True, 'value': action()}\n"
        "    except BaseException as error:\n"
        "        result = {'ok': False, 'error': type(error).__name__,\n"
        "                  'errno': getattr(error, 'errno', None)}\n"
        "    sys.stdout.write('RESULT ' + json.dumps({'name': name, **result}, default=str)\n"
        "                     + '\\n')\n"
        "    sys.stdout.flush()",
        f"attempt('read_source', lambda: open({str(secret_nb)!r}).read())",
        f"attempt('read_gradebook', lambda: open({str(root / 'gradebook.db')!r}).read())",
        f"attempt('read_real_source', lambda: open("
        f"{str(ROOT / 'source' / '00-orientation' / '00-start-here.ipynb')!r}).read())",
        f"attempt('read_real_gradebook', lambda: open({str(ROOT / 'gradebook.db')!r}).read())",
        f"attempt('list_course_root', lambda: sorted(os.listdir({str(root)!r})))",
        f"attempt('list_real_root', lambda: sorted(os.listdir({str(ROOT)!r})))",
        f"attempt('write_course_root', lambda: open({str(root / 'pwned.txt')!r}, 'w')"
        ".write('x'))",
        f"attempt('write_package', lambda: open({str(PACKAGE_DIR / 'pwned.py')!r}, 'w')"
        ".write('x'))",
        "attempt('write_venv', lambda: open(os.path.join(sys.prefix, 'pwned'), 'w').write('x'))",
        "attempt('write_work', lambda: open('written-by-kernel.txt', 'w').write('x'))",
        "attempt('read_own_file', lambda: open('notes.txt').read())",
        f"attempt('tcp', lambda: socket.create_connection(('127.0.0.1', {port}), timeout=5)"
        ".close())",
        "attempt('identity', lambda: [os.getuid(), os.geteuid(), os.getgid(),\n"
        "    [l.split()[1] for l in open('/proc/self/status') if l.startswith('CapEff')][0]])",
        f"attempt('env_secret', lambda: os.environ.get({ENV_SECRET!r}))",
        f"attempt('signal_grader', lambda: os.kill({os.getpid()}, 0))",
        "attempt('memory', lambda: len(bytearray(8 * 2**30)))",
        "attempt('after_memory', lambda: sum(range(10)))",
        # A bounded fork loop: children sleep, the loop stops at the first refusal.
        "def forks():\n"
        "    children, error = [], None\n"
        "    for _ in range(500):\n"
        "        try:\n"
        "            pid = os.fork()\n"
        "        except OSError as exc:\n"
        "            error = type(exc).__name__\n"
        "            break\n"
        "        if pid == 0:\n"
        "            time.sleep(30)\n"
        "            os._exit(0)\n"
        "        children.append(pid)\n"
        "    for pid in children:\n"
        "        os.kill(pid, 9)\n"
        "        os.waitpid(pid, 0)\n"
        "    return [len(children), error]\n"
        "attempt('fork', forks)",
        "def big_file():\n"
        "    with open('big.bin', 'wb') as f:\n"
        "        for _ in range(32):\n"
        "            f.write(b'0' * 2**20)\n"
        "            f.flush()\n"
        "attempt('file_size', big_file)\n"
        "attempt('file_size_on_disk', lambda: os.path.getsize('big.bin'))",
        "def fill_tmp():\n"
        "    for i in range(8):\n"
        "        with open(f'/tmp/fill{i}', 'wb') as f:\n"
        "            f.write(b'0' * 8 * 2**20)\n"
        "attempt('fill_tmp', fill_tmp)",
        "import matplotlib.pyplot as plt, ipywidgets\n"
        "fig, ax = plt.subplots()\n"
        "ax.bar(['a', 'b'], [1, 2])\n"
        "plt.show()\n"
        "attempt('honest', lambda: [ipywidgets.IntSlider(value=3).value, sum(range(10))])",
    ]


@pytest.fixture(scope="module")
def attack(fake_course: Path, tcp_server: tuple[int, list]) -> dict:
    """The attack notebook, run once in a sandboxed kernel from the student's folder."""
    from nbclient import NotebookClient

    require_sandbox()
    port, accepted = tcp_server
    os.environ[ENV_SECRET] = SECRET
    work = fake_course / "autograded" / "student" / "a"
    before = sorted(p.name for p in work.iterdir())
    nb = python3_notebook(attack_cells(fake_course, port))
    config = Config({"SandboxedKernelManager": ATTACK_LIMITS})
    try:
        NotebookClient(nb, timeout=60, allow_errors=True, config=config,
                       kernel_manager_class=SandboxedKernelManager,
                       resources={"metadata": {"path": str(work)}}).execute()
    finally:
        del os.environ[ENV_SECRET]
    return {"results": results(nb), "nb": nb, "accepted": accepted, "work": work,
            "before": before}


def failed(item: dict, *errors: str) -> bool:
    return not item["ok"] and item["error"] in errors


@pytest.mark.slow
def test_secrets_of_the_course_are_invisible(attack: dict) -> None:
    found = attack["results"]
    for name in ("read_source", "read_gradebook", "read_real_source", "read_real_gradebook"):
        assert failed(found[name], "FileNotFoundError", "PermissionError"), (name, found[name])
    assert found["list_course_root"]["value"] == ["autograded"]
    # Of the real course root, only the package and (when it lives there) the venv.
    root = ROOT.resolve()
    shown = {p.relative_to(root).parts[0] for p in [*python_paths(), PACKAGE_DIR.resolve()]
             if p.is_relative_to(root)}
    assert sorted(found["list_real_root"]["value"]) == sorted(shown)
    assert found["read_own_file"] == {"ok": True, "value": "the student's own file"}


@pytest.mark.slow
def test_writes_outside_the_working_folder_fail(attack: dict, fake_course: Path) -> None:
    found = attack["results"]
    for name in ("write_course_root", "write_package", "write_venv"):
        assert failed(found[name], "FileNotFoundError", "PermissionError", "OSError"), name
    assert not (fake_course / "pwned.txt").exists()
    assert not (PACKAGE_DIR / "pwned.py").exists()
    assert not (Path(sys.prefix) / "pwned").exists()
    assert found["write_work"]["ok"]
    # The kernel wrote into a private copy: the grader's folder is unchanged.
    assert sorted(p.name for p in attack["work"].iterdir()) == attack["before"]


@pytest.mark.slow
def test_no_network_and_no_grader_environment(attack: dict) -> None:
    found = attack["results"]
    assert failed(found["tcp"], "ConnectionRefusedError", "OSError", "TimeoutError"), found["tcp"]
    assert attack["accepted"] == []
    assert found["env_secret"] == {"ok": True, "value": None}
    if os.getpid() > 1000:  # a small pid could exist inside the sandbox's pid namespace too
        assert failed(found["signal_grader"], "ProcessLookupError", "PermissionError")


@pytest.mark.slow
def test_runs_as_nobody_without_capabilities(attack: dict) -> None:
    uid, euid, gid, caps = attack["results"]["identity"]["value"]
    assert uid == euid == NOBODY != 0 and gid == NOBODY
    assert int(caps, 16) == 0


@pytest.mark.slow
def test_memory_processes_and_file_sizes_are_limited(attack: dict) -> None:
    found = attack["results"]
    assert failed(found["memory"], "MemoryError")
    assert found["after_memory"] == {"ok": True, "value": 45}  # the kernel survived
    children, error = found["fork"]["value"]
    assert error == "BlockingIOError" and 0 < children < ATTACK_LIMITS["processes"]
    assert failed(found["file_size"], "OSError") and found["file_size"]["errno"] == 27  # EFBIG
    assert found["file_size_on_disk"]["value"] <= ATTACK_LIMITS["file_bytes"]
    assert failed(found["fill_tmp"], "OSError") and found["fill_tmp"]["errno"] == 28  # ENOSPC


@pytest.mark.slow
def test_honest_code_matplotlib_and_widgets_work(attack: dict) -> None:
    assert attack["results"]["honest"] == {"ok": True, "value": [3, 45]}
    outputs = [o for cell in attack["nb"].cells for o in cell.outputs]
    assert any("image/png" in o.get("data", {}) for o in outputs)
    assert not [o for o in outputs if o.output_type == "error"]


@pytest.mark.slow
def test_cpu_limit_kills_a_busy_loop(tmp_path: Path) -> None:
    from nbclient import NotebookClient
    from nbclient.exceptions import DeadKernelError

    require_sandbox()
    nb = python3_notebook(["x = 0\nwhile True:\n    x += 1"])
    config = Config({"SandboxedKernelManager": {"cpu_seconds": 2}})
    started = time.monotonic()
    with pytest.raises(DeadKernelError):
        NotebookClient(nb, timeout=120, config=config,
                       kernel_manager_class=SandboxedKernelManager,
                       resources={"metadata": {"path": str(tmp_path)}}).execute()
    assert time.monotonic() - started < 100  # the CPU limit, not the cell timeout


@pytest.mark.slow
def test_timeout_interrupts_the_sandboxed_kernel(tmp_path: Path) -> None:
    require_sandbox()
    nb = python3_notebook(["import time\ntime.sleep(120)", "print('still alive')"])
    execute = sandbox.SandboxedExecute(config=Config({"Execute": {"timeout": 3}}))
    assert execute.kernel_manager_class is SandboxedKernelManager
    nb, _ = execute.preprocess(nb, {"metadata": {"path": str(tmp_path)}})
    # Interrupted like a stock kernel (KeyboardInterrupt, then nbgrader's timeout error),
    # not killed: a SIGINT to bwrap's process group would have killed the sandbox.
    assert [o.get("ename") for o in nb.cells[0].outputs] == ["KeyboardInterrupt",
                                                              "CellTimeoutError"]
    assert "".join(o["text"] for o in nb.cells[1].outputs) == "still alive\n"


@pytest.mark.slow
def test_instructor_notebook_runs_in_the_sandbox(tmp_path: Path) -> None:
    """The honest path: nbgrader's Execute (as configured) runs the 00-orientation
    instructor notebook, solutions included, in the sandbox without an error."""
    require_sandbox()
    folder = tmp_path / "autograded" / "student" / "00-orientation"
    shutil.copytree(ROOT / "source" / "00-orientation", folder)
    nb = nbformat.read(folder / "00-start-here.ipynb", as_version=4)
    execute = sandbox.SandboxedExecute(config=Config({"Execute": {"timeout": 60}}))
    assert execute.kernel_manager_class is SandboxedKernelManager and execute.timeout == 60
    nb, _ = execute.preprocess(nb, {"metadata": {"path": str(folder)}})
    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    errors = [o for o in outputs if o.output_type == "error"]
    assert not errors, errors[0].get("traceback") if errors else None
    assert len(outputs) >= 10


def test_self_study_says_plainly_when_it_runs_unsandboxed(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Where bubblewrap cannot run, `course check` still grades and prints this notice."""
    import course.grading.sandbox as sandbox
    from course.grading.config import load_config

    from .conftest import ROOT

    monkeypatch.setattr(sandbox, "sandbox_available", lambda: (False, "no bubblewrap here"))
    monkeypatch.delenv(sandbox.REQUIRE_ENV, raising=False)
    sandboxed, notice = sandbox.autograde_sandbox(load_config(ROOT))
    assert not sandboxed
    assert notice == "kernels are NOT sandboxed: no bubblewrap here"
