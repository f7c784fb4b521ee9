"""A real JupyterHub on loopback, with throwaway Unix accounts, for the exchange round trip.

The hub is deploy/jupyterhub/jupyterhub_config.py itself. The environment points it at
temporary paths, and the command line points it at loopback ports and a dummy
authenticator with a password. Every server runs under its own Unix account, so the
exchange's Unix permissions are the real ones.

The hub needs root (useradd, userdel, switching users), jupyterhub in the venv and
configurable-http-proxy, either in .cache/hub-node (installed with npm) or on PATH. If one
is missing, the hub tests skip with the reason. With COURSE_REQUIRE_HUB=1 (set by .ci/run)
the skip becomes a failure.

The servers run in a small venv in a temporary folder, which loads the course venv's
site-packages and has its own copy of the Jupyter configuration for setup-course.sh to
change. The venv's interpreter may live where the throwaway users cannot reach it (pyenv
under /root, mode 700). In that case the interpreter and its standard library are
hard-linked (or copied, across filesystems) into the temporary folder, which everyone can
read. No existing file or folder changes permissions.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import json
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ..conftest import ROOT, free_port, skip_or_fail

COURSE_ID = "mesotherapy"
GRADER = "cmhub-grader"
INSTRUCTOR = "cmhub-instr"
STUDENTS = ("cmhub-s1", "cmhub-s2")
USERS = (GRADER, INSTRUCTOR, *STUDENTS)
DEPLOY = ROOT / "deploy" / "jupyterhub"
OUTPUT = ROOT / "test-output" / "hub"
LOCAL_PROXY = ROOT / ".cache" / "hub-node" / "node_modules" / ".bin" / "configurable-http-proxy"
INSTALL_PROXY = ("npm install --prefix .cache/hub-node --no-audit --no-fund "
                 "configurable-http-proxy@4.6.3")
# Under /tmp, which every user can traverse (a private TMPDIR would lock the accounts out).
TMP = Path("/tmp")
LOCK = TMP / "cmhub-tests.lock"


def _missing() -> str | None:
    """Why a real hub cannot run here, or None when it can."""
    if os.name != "posix" or os.geteuid() != 0:
        return "the hub tests create Unix accounts and must run as root"
    for tool in ("useradd", "userdel"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    try:
        import jupyterhub  # noqa: F401
    except ImportError:
        return "jupyterhub is not installed in the venv"
    if shutil.which("node") is None:
        return "node is not installed (configurable-http-proxy needs it)"
    if _proxy_command() is None:
        return f"configurable-http-proxy is missing: run `{INSTALL_PROXY}`"
    return None


def _proxy_command() -> str | None:
    if LOCAL_PROXY.exists():
        return str(LOCAL_PROXY)
    return shutil.which("configurable-http-proxy")


def require_hub() -> str:
    """The proxy command, or skip (fail under COURSE_REQUIRE_HUB=1) with the reason."""
    reason = _missing()
    if reason is None:
        command = _proxy_command()
        assert command is not None
        return command
    skip_or_fail("the hub tests", reason, "COURSE_REQUIRE_HUB")


# --- HTTP ------------------------------------------------------------------------------------

class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect)


def http(method: str, url: str, token: str | None = None, body: Any = None,
         timeout: float = 60) -> tuple[int, Any]:
    """One request, redirects not followed: (status, parsed JSON or text)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    if token:
        request.add_header("Authorization", f"token {token}")
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    text = raw.decode("utf-8", errors="replace")
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


# --- Unix accounts and processes -------------------------------------------------------------

def as_user(name: str, *command: str) -> subprocess.CompletedProcess:
    """Run a command as the Unix user ``name`` (no supplementary groups, C locale)."""
    entry = pwd.getpwnam(name)
    return subprocess.run(
        list(command), user=entry.pw_uid, group=entry.pw_gid, extra_groups=[], cwd="/",
        env={"HOME": entry.pw_dir, "PATH": "/usr/bin:/bin", "LANG": "C", "LC_ALL": "C"},
        capture_output=True, text=True, timeout=30, check=False,
    )


def _uid(name: str) -> int | None:
    try:
        return pwd.getpwnam(name).pw_uid
    except KeyError:
        return None


def _pids_of(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
    return pids


def _end(pids: list[int]) -> None:
    """SIGTERM these processes (started by this test), then SIGKILL the survivors."""
    for sig, pause in ((signal.SIGTERM, 3.0), (signal.SIGKILL, 0.5)):
        alive = []
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
                alive.append(pid)
        deadline = time.monotonic() + pause
        while alive and time.monotonic() < deadline:
            alive = [pid for pid in alive if Path(f"/proc/{pid}").exists()]
            time.sleep(0.1)
        pids = alive


def _remove_users(names: tuple[str, ...]) -> None:
    """End the accounts' processes (all at once), then delete the accounts and their homes."""
    uids = [uid for uid in map(_uid, names) if uid is not None]
    _end([pid for uid in uids for pid in _pids_of(uid)])
    for name in names:
        if _uid(name) is not None:
            subprocess.run(["userdel", "-r", name], capture_output=True, check=False)


def _create_user(name: str) -> None:
    subprocess.run(["useradd", "-m", "-s", "/bin/sh", name], check=True, capture_output=True)
    # Homes are private: nobody reads another user's working copies.
    os.chmod(pwd.getpwnam(name).pw_dir, 0o700)


# --- an interpreter every throwaway user can run ---------------------------------------------

def _usable_by_all(path: Path) -> bool:
    """Can any user reach ``path``, i.e. is it and every folder above it world-searchable?"""
    return all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents))


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def _site_packages() -> Path:
    return Path(sys.prefix) / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" \
        / "site-packages"


def course_environment(root: Path) -> tuple[Path, dict[str, str]]:
    """A course environment in ``root`` that any user can run, and the variables it needs.

    It is a small venv that loads the course venv's site-packages. It has a private copy of
    the venv's Jupyter configuration, which setup-course.sh changes; the venv itself stays
    as it is. Its interpreter is the venv's base interpreter when every user can reach it.
    Otherwise the interpreter and its standard library are hard links (or copies) in
    ``root``.
    """
    venv, base = Path(sys.prefix), Path(sys.base_prefix)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    interpreter, extra = Path(sys.executable).resolve(), {}
    if not _usable_by_all(interpreter.parent):
        python = root / "python"
        (python / "bin").mkdir(parents=True)
        _link_or_copy(str(interpreter), str(python / "bin" / version))
        shutil.copytree(base / "lib" / version, python / "lib" / version,
                        copy_function=_link_or_copy,
                        ignore=shutil.ignore_patterns("site-packages", "test"))
        for library in (base / "lib").glob("libpython*.so*"):
            _link_or_copy(str(library), str(python / "lib" / library.name))
        interpreter, extra = python / "bin" / version, {"LD_LIBRARY_PATH": str(python / "lib")}

    env = root / "env"
    (env / "bin").mkdir(parents=True)
    site = env / "lib" / version / "site-packages"
    site.mkdir(parents=True)
    (env / "bin" / "python").symlink_to(interpreter)
    (env / "bin" / "python3").symlink_to("python")
    (env / "pyvenv.cfg").write_text(
        f"home = {interpreter.parent}\ninclude-system-site-packages = false\n"
        f"version = {sys.version_info.major}.{sys.version_info.minor}.{sys.version_info.micro}\n")
    # The venv's packages and the course package, where every user can reach them: in place
    # when they can (a clone in a world-searchable folder), else linked or copied here.
    packages = _site_packages()
    if not _usable_by_all(packages):
        packages = root / "site-packages"
        shutil.copytree(_site_packages(), packages, symlinks=True, copy_function=_link_or_copy,
                        ignore=shutil.ignore_patterns("__pycache__"))
    lines = [f"import site; site.addsitedir({str(packages)!r})"]
    if not _usable_by_all(ROOT / "course"):
        shutil.copytree(ROOT / "course", root / "src" / "course",
                        ignore=shutil.ignore_patterns("__pycache__"))
        # before the editable install's finder, which points into the unreachable clone
        lines.append(f"import sys; sys.path.insert(0, {str(root / 'src')!r})")
    (site / "_course_venv.pth").write_text("\n".join(lines) + "\n")
    # Jupyter's data (kernels, lab extensions) is shared read-only. Its configuration is a
    # private copy.
    if _usable_by_all(venv / "share"):
        (env / "share").symlink_to(venv / "share")
    else:
        shutil.copytree(venv / "share", env / "share", symlinks=True,
                        copy_function=_link_or_copy)
    shutil.copytree(venv / "etc", env / "etc")
    # The venv's console scripts (jupyter, alembic...), pointed at this interpreter.
    for script in (venv / "bin").iterdir():
        if script.is_symlink() or not script.is_file():
            continue
        first, _, rest = script.read_bytes().partition(b"\n")
        if first.startswith(b"#!") and b"python" in first:
            target = env / "bin" / script.name
            target.write_bytes(f"#!{env / 'bin' / 'python'}\n".encode() + rest)
            target.chmod(0o755)
    return env, extra


# --- the hub ---------------------------------------------------------------------------------

@dataclass
class Hub:
    url: str
    root: Path
    exchange: Path
    course_dir: Path
    log: Path
    tokens: dict[str, str] = field(default_factory=dict)

    def api(self, method: str, path: str, user: str, body: Any = None,
            timeout: float = 60) -> tuple[int, Any]:
        """A request to the hub's proxy (``path`` starts with /) with ``user``'s token."""
        return http(method, self.url + path, self.tokens[user], body, timeout)

    def home(self, name: str) -> Path:
        return Path(pwd.getpwnam(name).pw_dir)

    def log_tail(self, chars: int = 4000) -> str:
        return self.log.read_text(errors="replace")[-chars:] if self.log.exists() else ""


HUB_STARTS = 2
"""Hub starts tried (see SERVICE_TOO_SLOW)."""
SERVICE_TOO_SLOW = f"Cannot connect to {COURSE_ID} service managed"
"""What JupyterHub logs before it exits when its managed service did not answer in time."""


def _hub_up(process: subprocess.Popen, hub: Hub) -> str | bool:
    """"exited" once the hub process has ended, True once its API answers."""
    if process.poll() is not None:
        return "exited"
    with contextlib.suppress(OSError):
        return http("GET", hub.url + "/hub/api", timeout=5)[0] == 200
    return False


def _wait(what: str, check: Callable[[], Any], hub: Hub, seconds: float = 90) -> Any:
    """Poll ``check()`` until it returns something truthy; fail with the hub log if never."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        result = check()
        if result:
            return result
        time.sleep(0.3)
    pytest.fail(f"{what} did not happen within {seconds:.0f} s; hub log:\n{hub.log_tail()}")


@contextlib.contextmanager
def _exclusive() -> Iterator[None]:
    """One hub test run at a time on this machine: the account names are fixed."""
    with LOCK.open("w") as handle:
        deadline = time.monotonic() + 300
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    pytest.fail(f"another hub test run holds {LOCK}")
                time.sleep(1)
        yield


def _stop(process: subprocess.Popen, state: Path) -> None:
    """Stop the hub (it stops the servers, the service and the proxy), then any leftover."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    pid_file = state / "jupyterhub-proxy.pid"
    if pid_file.exists():
        with contextlib.suppress(ValueError):
            _end([int(pid_file.read_text().strip())])


@pytest.fixture(scope="module")
def hub() -> Iterator[Hub]:
    """deploy/jupyterhub on loopback: accounts made, course set up, service ready, tokens."""
    proxy = require_hub()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    with _exclusive():
        for stale in TMP.glob("cmhub-*"):
            if stale.is_dir():  # left by a run that was killed before its clean-up
                shutil.rmtree(stale, ignore_errors=True)
        root = Path(tempfile.mkdtemp(prefix="cmhub-", dir=TMP))
        process: subprocess.Popen | None = None
        state = root / "state"
        try:
            root.chmod(0o755)
            state.mkdir(mode=0o700)
            _remove_users(USERS)  # left over from an interrupted run
            for name in USERS:
                _create_user(name)
            prefix, extra_env = course_environment(root)
            roster = root / "roster"
            roster.mkdir()
            (roster / "instructors.txt").write_text(f"{INSTRUCTOR}\n")
            (roster / "students.txt").write_text("# throwaway students\n" + "\n".join(STUDENTS))
            service_port = free_port()
            env = {
                **os.environ, **extra_env,
                "COURSE_HUB_ENV": str(prefix),
                "COURSE_HUB_EXCHANGE": str(root / "exchange"),
                "COURSE_HUB_ROSTER": str(roster),
                "COURSE_HUB_STATE": str(state),
                "COURSE_HUB_GRADER": GRADER,
                "COURSE_HUB_SERVICE_PORT": str(service_port),
            }
            log = OUTPUT / "hub.log"
            with log.open("w") as out:
                setup = subprocess.run(["bash", str(DEPLOY / "setup-course.sh"), str(ROOT)],
                                       env=env, stdout=out, stderr=subprocess.STDOUT, check=False)
            assert setup.returncode == 0, f"setup-course.sh failed:\n{log.read_text()[-3000:]}"

            password = secrets.token_urlsafe(16)
            course_dir = Path(pwd.getpwnam(GRADER).pw_dir) / COURSE_ID
            for start in range(1, HUB_STARTS + 1):
                port = free_port()
                env["COURSE_HUB_SERVICE_PORT"] = str(free_port())
                command = [
                    sys.executable, "-m", "jupyterhub", "-f",
                    str(DEPLOY / "jupyterhub_config.py"),
                    f"--JupyterHub.bind_url=http://127.0.0.1:{port}",
                    f"--JupyterHub.hub_bind_url=http://127.0.0.1:{free_port()}",
                    f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{free_port()}",
                    f"--ConfigurableHTTPProxy.command={proxy}",
                    "--JupyterHub.authenticator_class=dummy",
                    f"--DummyAuthenticator.password={password}",
                ]
                with log.open("a") as out:
                    process = subprocess.Popen(command, env=env, cwd=state, stdout=out,
                                               stderr=subprocess.STDOUT)
                result = Hub(f"http://127.0.0.1:{port}", root, root / "exchange", course_dir,
                             log)
                up = functools.partial(_hub_up, process, result)
                if _wait("the hub answering", up, result) is True:
                    break
                if start == HUB_STARTS or SERVICE_TOO_SLOW not in result.log_tail(20_000):
                    pytest.fail(f"the hub exited ({process.returncode}):\n{result.log_tail()}")
                # JupyterHub gives a managed service about 10 s to answer, then exits
                # (jupyterhub app.py start_service). Under load the formgrader's server
                # can take longer: start again, as systemd's Restart=on-failure does
                # (deploy/jupyterhub/README.md), after ending what the first start left.
                _stop(process, state)
                _end(_pids_of(_uid(GRADER)))
                with log.open("a") as out:
                    out.write(f"\n[tests/hub] start {start} ended: {SERVICE_TOO_SLOW}; "
                              "starting the hub again\n")
            for name in (INSTRUCTOR, *STUDENTS):
                status, body = http("POST", f"{result.url}/hub/api/users/{name}/tokens", body={
                    "auth": {"username": name, "password": password}, "note": "tests/hub"})
                assert status in (200, 201), (name, status, body)
                result.tokens[name] = body["token"]
            _wait("the formgrader service answering", lambda: result.api(
                "GET", f"/services/{COURSE_ID}/formgrader/api/status", INSTRUCTOR)[0] == 200,
                result)
            yield result
        finally:
            if process is not None:
                _stop(process, state)
            _remove_users(USERS)
            shutil.rmtree(root, ignore_errors=True)
