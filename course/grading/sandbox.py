"""Sandboxed grading kernels: ipykernel inside bubblewrap, chosen through jupyter_client.

nbgrader runs a learner's code with the grader's permissions. :class:`SandboxedKernelManager`
(a jupyter_client ``AsyncKernelManager``) starts the usual ipykernel command inside
``bwrap`` (Debian package ``bubblewrap``) through jupyter_client's kernel provisioner API:
its kernel spec names :class:`SandboxProvisioner` (entry point
``course-sandbox-provisioner``, a ``LocalProvisioner``), which builds the sandbox and the
sandboxed command and removes the sandbox afterwards. Code under grading

- sees, read-only, only what a kernel needs: ``/usr`` (with the ``/bin``, ``/lib*`` links),
  a few files of ``/etc`` (a passwd and group of two lines), the Python installation,
  the virtual environment and the ``course`` package (its code and ``course/data``, which
  holds formative hashes only: graded keys live in hidden tests in ``source/``). Never
  the course root, ``source/``, ``release/``, the gradebook or anything else;
- writes only in its working folder and in a private ``/tmp`` (tmpfs of limited size).
  The working folder is a private copy of the notebook's folder (the ``cwd`` that nbclient
  passes to ``start_kernel``: ``autograded/<student>/<assignment>`` under nbgrader),
  mounted at the folder's own path and thrown away with the kernel. The grader keeps
  what matters: the executed notebook comes back over the kernel protocol;
- has no network (``--unshare-net``): the kernel talks to the grader over IPC transport
  (Unix sockets in a folder shared with the grader);
- runs as nobody (uid/gid 65534). As root: a privileged bwrap builds the file system
  and the namespaces (it can read a Python installed under /root), ``setpriv`` drops to
  nobody, and a second, unprivileged bwrap adds a user namespace; as any other user, one
  unprivileged bwrap maps that user to 65534. No capabilities, no new privileges, no
  further user namespaces (``--disable-userns``), own pid/IPC/UTS namespaces, a new
  session, killed with its parent (``--die-with-parent``); no variable of the grader's
  environment except a short allow-list (``PASSED_ENV``);
- has limits, set by ``prlimit`` inside the sandbox: CPU seconds, address space, file
  size, no core files, and a process/thread count. Every sandbox has its own user
  namespace, so the process count is per sandbox: a fork bomb in one notebook does not
  starve concurrent kernels.

- inherits nothing of the grader but three descriptors: standard input is empty, and
  standard output and error are a pipe that only the grader reads
  (:class:`OutputRelay`), relayed to the grading log line by line, marked as kernel
  output, escaped and bounded. A kernel cannot reach the log's descriptor, truncate the
  log or write a line of its own in it.

``course grade`` starts all the kernels of one submission in one sandbox
(:class:`SubmissionKernels`): the folder is copied once, and a zygote in the sandbox
(:mod:`course.grading.kernel_forkserver`) forks each kernel. Each kernel is still a new process
with the limits above; the process count is then per submission. Isolation between
students is by construction: every submission gets a new sandbox (new namespaces --
pid, IPC, network, mount, user --, a new ``/tmp`` and ``/dev/shm``, a new copy of its
folder, a new zygote), which is removed with everything in it after its last notebook.
Nothing -- process, file, IPC object, socket or descriptor -- is ever handed from one
student to the next, so there is nothing to clean between them.

Interrupts go over the control channel (``interrupt_mode = "message"``): a signal to the
launcher's process group would reach bwrap, not the kernel.

Configuration: nbgrader's ``Execute`` fixes ``kernel_manager_class`` in its constructor,
so ``c.Execute.kernel_manager_class`` is ignored. The Execute step of
``Autograde.autograde_preprocessors`` chooses the manager instead: it inherits the mixin
:class:`SandboxedKernels` (:class:`SandboxedExecute` is nbgrader's Execute with it;
:func:`sandboxed_autograde_preprocessors`, :func:`sandbox_overrides`). Mode:
``c.SandboxedKernels.sandbox`` = auto (default: sandbox when available, else warn
"grading UNSANDBOXED"), require, or off; ``COURSE_REQUIRE_SANDBOX=1`` makes auto behave
as require. Limits are traits: ``c.SandboxedKernelManager.cpu_seconds`` and so on.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any, ClassVar

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner
from jupyter_core.utils import ensure_async
from traitlets import DottedObjectName, Enum, Integer, List, Type, Unicode
from traitlets.config import Configurable

from course.paths import PACKAGE_DIR

NOBODY = 65534  # uid of nobody and gid of nogroup on Debian
KiB, MiB, GiB = 1024, 1024**2, 1024**3
RELAYED_BYTES = 64 * KiB  # kernel output relayed to the grading log, per sandbox
RELAYED_LINE = 500        # characters of one relayed line
PROVISIONER = "course-sandbox-provisioner"  # entry point (pyproject.toml)
REQUIRE_ENV = "COURSE_REQUIRE_SANDBOX"
HOME = "/tmp"
MPLCONFIGDIR = "/tmp/.matplotlib"
# Variables a kernel may inherit from the grader; everything else is dropped.
PASSED_ENV = ("NBGRADER_EXECUTION", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES",
              "TZ", "PYTHONHASHSEED", "JUPYTER_PLATFORM_DIRS")
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/mime.types", "/etc/fonts")
ROOT_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
PASSWD = ("root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
          f"nobody:x:{NOBODY}:{NOBODY}:nobody:{HOME}:/usr/sbin/nologin\n")
GROUP = f"root:x:0:\nnogroup:x:{NOBODY}:\n"

log = logging.getLogger(__name__)


class SandboxUnavailable(RuntimeError):
    """The sandbox was required (``COURSE_REQUIRE_SANDBOX=1``) but cannot run here."""


# ---------------------------------------------------------------- limits and layout


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandboxed kernel (process limits via ``prlimit``)."""

    cpu_seconds: int = 300           # CPU time of the kernel process (all its cells)
    memory_bytes: int = 2 * GiB      # address space of each process
    processes: int = 64              # processes and threads, counted per sandbox
    file_bytes: int = 256 * MiB      # largest file a process may write
    tmp_bytes: int = 256 * MiB       # size of the private /tmp (and of /dev/shm)

    RANGES: ClassVar[dict[str, tuple[int, int]]] = {
        "cpu_seconds": (1, 24 * 3600), "memory_bytes": (256 * MiB, 64 * GiB),
        "processes": (16, 4096), "file_bytes": (1 * MiB, 16 * GiB),
        "tmp_bytes": (1 * MiB, 16 * GiB)}

    def __post_init__(self) -> None:
        for name, (low, high) in self.RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"sandbox limit {name} must be an integer from {low} to "
                                 f"{high}, not {value!r}")


def prlimit_argv(limits: Limits) -> list[str]:
    """``prlimit`` options for ``limits``. CPU: soft limit sends SIGXCPU, 5 s later SIGKILL."""
    return ["prlimit", f"--cpu={limits.cpu_seconds}:{limits.cpu_seconds + 5}",
            f"--as={limits.memory_bytes}", f"--nproc={limits.processes}",
            f"--fsize={limits.file_bytes}", "--core=0", "--"]


@dataclass(frozen=True)
class Layout:
    """What one sandbox sees. Host paths are mounted at the same path inside, except
    ``work`` (mounted read-write at ``cwd``) and ``files`` (host file, path inside)."""

    read_only: tuple[Path, ...]
    work: Path
    cwd: Path
    sockets: Path
    files: tuple[tuple[Path, Path], ...] = ()
    links: tuple[tuple[str, str], ...] = ()   # (target, link) symlinks at the root


def ancestors(paths: Iterable[Path]) -> list[Path]:
    """Every proper ancestor folder of ``paths`` (not /), parents first, no repeats."""
    found: dict[Path, None] = {}
    for path in paths:
        for parent in reversed(path.parents):
            if parent != Path("/"):
                found[parent] = None
    return sorted(found, key=lambda p: (len(p.parts), str(p)))


NAMESPACES = ("--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts",
              "--unshare-cgroup-try", "--hostname", "sandbox", "--die-with-parent",
              "--new-session", "--proc", "/proc", "--dev", "/dev")
AS_NOBODY = ("--unshare-user", "--uid", str(NOBODY), "--gid", str(NOBODY), "--disable-userns")


def filesystem_argv(layout: Layout, limits: Limits) -> list[str]:
    """bwrap options that build the sandbox's file system (all binds by host path)."""
    argv: list[str] = []
    for target, link in layout.links:
        argv += ["--symlink", target, link]
    argv += ["--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/tmp",
             "--perms", "1777", "--size", str(limits.tmp_bytes), "--tmpfs", "/dev/shm",
             "--perms", "1777", "--dir", MPLCONFIGDIR]
    made = {Path("/proc"), Path("/dev"), Path("/tmp"), Path(MPLCONFIGDIR)}
    inside = [*layout.read_only, *(t for _, t in layout.files), layout.sockets, layout.cwd]
    for folder in ancestors(inside):
        if folder not in made and not any(folder.is_relative_to(p) for p in layout.read_only):
            argv += ["--perms", "0755", "--dir", str(folder)]
    for path in layout.read_only:
        argv += ["--ro-bind", str(path), str(path)]
    for source, target in layout.files:
        argv += ["--ro-bind", str(source), str(target)]
    argv += ["--bind", str(layout.sockets), str(layout.sockets),
             "--bind", str(layout.work), str(layout.cwd), "--chdir", str(layout.cwd)]
    return argv


def bwrap_argv(layout: Layout, limits: Limits, env: Mapping[str, str], command: Sequence[str],
               *, as_root: bool, tools: Mapping[str, str] | None = None) -> list[str]:
    """The whole command line that runs ``command`` in the sandbox.

    Not root: one unprivileged bwrap (its user namespace maps the caller to nobody).
    Root: a privileged bwrap builds the file system and namespaces (it may read folders
    that nobody may not, such as a Python under /root), ``setpriv`` drops to nobody, and
    a second, unprivileged bwrap adds the user namespace (``--disable-userns``, and a
    process count of its own). Last comes ``prlimit`` with the limits.
    """
    tools = tools or {name: name for name in ("bwrap", "setpriv", "prlimit")}
    env_argv = ["--clearenv"]
    for name, value in sorted(env.items()):
        env_argv += ["--setenv", name, value]
    limit_argv = [tools["prlimit"], *prlimit_argv(limits)[1:]]
    if not as_root:
        return [tools["bwrap"], *NAMESPACES, *AS_NOBODY, *filesystem_argv(layout, limits),
                *env_argv, "--", *limit_argv, *command]
    return [tools["bwrap"], *NAMESPACES, "--cap-drop", "ALL", "--cap-add", "CAP_SETUID",
            "--cap-add", "CAP_SETGID", *filesystem_argv(layout, limits), *env_argv, "--",
            tools["setpriv"], f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups",
            "--no-new-privs", "--",
            tools["bwrap"], *AS_NOBODY, "--die-with-parent", "--bind", "/", "/",
            "--chdir", str(layout.cwd), "--", *limit_argv, *command]


def kernel_env(parent: Mapping[str, str], spec_env: Mapping[str, str] | None = None,
               python_bin: Path | None = None) -> dict[str, str]:
    """The kernel's whole environment: a few harmless variables of the grader, the kernel
    spec's own, and fixed values (home and temp in /tmp, one BLAS thread)."""
    env = {name: parent[name] for name in PASSED_ENV if name in parent}
    env.update(spec_env or {})
    bin_dir = str(python_bin or Path(sys.executable).parent)
    env.update({
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "HOME": HOME, "TMPDIR": "/tmp",
        "USER": "nobody", "LOGNAME": "nobody", "SHELL": "/usr/sbin/nologin",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
        "MPLCONFIGDIR": MPLCONFIGDIR, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        # ipykernel: no parent poller (the grader is outside the pid namespace; bwrap's
        # --die-with-parent does that job) and no connection banner on the grader's log.
        "JPY_PARENT_PID": "1",
    })
    env.setdefault("LANG", "C.UTF-8")
    return env


# ---------------------------------------------------------------- what is visible


def python_paths() -> list[Path]:
    """The interpreter and its environment: prefixes, the executable's folder and every
    site-packages folder on ``sys.path``."""
    found = [Path(p).resolve() for p in {sys.prefix, sys.exec_prefix, sys.base_prefix,
                                         sys.base_exec_prefix}]
    found.append(Path(sys.executable).resolve().parent)
    # site-packages folders added by .pth files or site.addsitedir (a venv layered on
    # another venv's packages, as on the course's JupyterHub test)
    found += [Path(entry).resolve() for entry in sys.path
              if entry and Path(entry).name in ("site-packages", "dist-packages")]
    return minimal_roots(p for p in found if p.is_dir())


def minimal_roots(paths: Iterable[Path]) -> list[Path]:
    """Drop paths inside another of the paths (a bind of the parent shows them)."""
    unique = sorted(set(paths), key=lambda p: len(p.parts))
    kept: list[Path] = []
    for path in unique:
        if not any(path.is_relative_to(k) for k in kept):
            kept.append(path)
    return sorted(kept)


def course_roots() -> list[Path]:
    """Course roots the grader may know of: the package's parent and ``course_root()``."""
    from course.paths import course_root

    return sorted({PACKAGE_DIR.parent.resolve(), course_root().resolve()})


def is_course_root(folder: Path) -> bool:
    """A folder with nbgrader_config.py and source/, or with a gradebook."""
    return ((folder / "nbgrader_config.py").is_file() and (folder / "source").is_dir()) or (
        folder / "gradebook.db").exists()


def check_visible(path: Path, roots: Iterable[Path], what: str) -> None:
    """Refuse to show a course root (or a folder holding one) inside a sandbox."""
    for root in roots:
        if root == path or root.is_relative_to(path):
            raise ValueError(f"{what} {path} would show the course root {root} to the "
                             "sandbox; allowed: folders inside it that hold no secrets")
    if is_course_root(path):
        raise ValueError(f"{what} {path} looks like a course root (nbgrader_config.py and "
                         "source/, or gradebook.db); it is never shown to the sandbox")


def system_layout() -> tuple[list[Path], list[tuple[str, str]]]:
    """Read-only system paths and the root symlinks (merged /usr: /bin -> usr/bin)."""
    read_only = [Path("/usr")]
    links = []
    for name in ROOT_LINKS:
        path = Path(name)
        if path.is_symlink():
            links.append((os.readlink(path), name))
        elif path.is_dir():
            read_only.append(path)
    read_only += [Path(p) for p in ETC_FILES if Path(p).exists()]
    return read_only, links


def matplotlib_font_cache(env: Mapping[str, str] | None = None) -> Path | None:
    """The grader's matplotlib font list (``fontlist-v*.json``), if any: shown read-only
    to kernels so that each does not rebuild it."""
    env = os.environ if env is None else env
    if env.get("MPLCONFIGDIR"):
        folder = Path(env["MPLCONFIGDIR"])
    else:
        folder = Path(env.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "matplotlib"
    try:
        lists = sorted(folder.glob("fontlist-v*.json"), key=lambda p: p.stat().st_mtime)
    except OSError:
        return None
    return lists[-1] if lists else None


# ---------------------------------------------------------------- one sandbox on disk


def copy_folder(source: Path, target: Path, max_bytes: int) -> int:
    """Copy regular files, folders and symlinks (never followed) of ``source`` into the
    new folder ``target``; other file types are left out. Returns the bytes copied."""
    total = 0
    target.mkdir()
    for folder, dirs, files in os.walk(source):
        here = Path(folder)
        dest = target / here.relative_to(source)
        for name in dirs + files:
            src, dst = here / name, dest / name
            info = src.lstat()
            if stat.S_ISLNK(info.st_mode):
                dst.symlink_to(os.readlink(src))
            elif stat.S_ISDIR(info.st_mode):
                dst.mkdir()
            elif stat.S_ISREG(info.st_mode):
                total += info.st_size
                if total > max_bytes:
                    raise ValueError(f"working folder {source} is larger than "
                                     f"{max_bytes} bytes: not copied into the sandbox")
                shutil.copy2(src, dst, follow_symlinks=False)
        dirs[:] = [d for d in dirs if (here / d).is_dir() and not (here / d).is_symlink()]
    return total


def chown_tree(folder: Path, uid: int, gid: int) -> None:
    """lchown ``folder`` and everything in it (symlinks themselves, never their targets)."""
    os.lchown(folder, uid, gid)
    for here, dirs, files in os.walk(folder):
        for name in dirs + files:
            os.lchown(os.path.join(here, name), uid, gid)


class Sandbox:
    """The folder of one sandboxed kernel: sockets, the work copy, passwd and group."""

    def __init__(self, cwd: str | os.PathLike | None, extra_read_only: Sequence[str] = (),
                 max_copy_bytes: int = 256 * MiB) -> None:
        """``cwd``: the folder copied in and mounted at its own path (None: an empty one)."""
        self.root = Path(tempfile.mkdtemp(prefix="course-sandbox-"))
        self._removal = weakref.finalize(self, shutil.rmtree, str(self.root), True)
        self.as_root = os.geteuid() == 0
        self._relay: OutputRelay | None = None
        try:
            self._build(cwd, extra_read_only, max_copy_bytes)
        except BaseException:
            self.remove()
            raise

    def _build(self, cwd: str | os.PathLike | None, extra: Sequence[str],
               max_copy_bytes: int) -> None:
        roots = course_roots()
        self.sockets = self.root / "sockets"
        self.sockets.mkdir(mode=0o700)
        self.work = self.root / "work"
        if cwd is None:
            self.cwd = Path(HOME) / "work"
            self.work.mkdir()
        else:
            self.cwd = Path(cwd).resolve()
            check_visible(self.cwd, roots, "working folder")
            copy_folder(self.cwd, self.work, max_copy_bytes)
        etc = self.root / "etc"
        etc.mkdir()
        (etc / "passwd").write_text(PASSWD, encoding="utf-8")
        (etc / "group").write_text(GROUP, encoding="utf-8")
        etc.chmod(0o755)
        system, self.links = system_layout()
        course_code = [PACKAGE_DIR.resolve()]
        extra_paths = [Path(p).resolve() for p in extra]
        for path in [*python_paths(), *course_code, *extra_paths]:
            check_visible(path, roots, "read-only path")
        self.read_only = minimal_roots([*system, *python_paths(), *course_code, *extra_paths])
        self.files = [(etc / "passwd", Path("/etc/passwd")), (etc / "group", Path("/etc/group"))]
        fonts = matplotlib_font_cache()
        if fonts is not None and (fonts.stat().st_mode & stat.S_IROTH or not self.as_root):
            self.files.append((fonts, Path(MPLCONFIGDIR) / fonts.name))
        if self.as_root:
            chown_tree(self.work, NOBODY, NOBODY)
            os.chown(self.sockets, NOBODY, NOBODY)

    @property
    def layout(self) -> Layout:
        return Layout(tuple(self.read_only), self.work, self.cwd, self.sockets,
                      tuple(self.files), tuple(self.links))

    def command(self, command: Sequence[str], env: Mapping[str, str], limits: Limits
                ) -> list[str]:
        """The sandboxed command line for ``command``."""
        tools = {name: shutil.which(name) or name for name in ("bwrap", "setpriv", "prlimit")}
        return bwrap_argv(self.layout, limits, env, command, as_root=self.as_root, tools=tools)

    def give_to_nobody(self, path: Path) -> None:
        """Make a file the grader wrote (the connection file) readable by the kernel."""
        if self.as_root:
            os.chown(path, NOBODY, NOBODY)

    def streams(self) -> dict[str, int]:
        """Popen's stdin, stdout and stderr for a process of this sandbox: nothing to
        read, and the sandbox's :class:`OutputRelay` (made at first use)."""
        if self._relay is None:
            self._relay = OutputRelay(f"{self.cwd.parent.name}/{self.cwd.name}")
        return {"stdin": subprocess.DEVNULL, "stdout": self._relay.fd,
                "stderr": self._relay.fd}

    def remove(self) -> None:
        if self._relay is not None:
            self._relay.close()
        self._removal()  # removes the folder (once; also if the Sandbox is forgotten)


def printable(text: str) -> str:
    """``text`` on one line: line breaks, escapes and other unprintable characters
    written as Python escapes (``\\n``, ``\\x1b``, ``\\u2028``)."""
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


class OutputRelay:
    """Standard output and error of a sandbox's processes, relayed to the grading log.

    A kernel never gets a descriptor of the log: it writes into a pipe that only this
    process reads. Each line is logged as ``kernel output (student/assignment): ...``,
    escaped onto one line (no forged log lines) and cut at :data:`RELAYED_LINE`
    characters; after :data:`RELAYED_BYTES` the rest is read and dropped (with one
    note), so a kernel can neither grow the log without limit nor block on a full pipe.
    """

    def __init__(self, label: str, logger: logging.Logger | None = None,
                 max_bytes: int = RELAYED_BYTES) -> None:
        self.label = label
        self.log = logger or logging.getLogger("course.grading.sandbox.kernel")
        self.max_bytes = max_bytes
        read_end, self.fd = os.pipe()  # both close-on-exec: Popen dup2s the write end
        self._thread = threading.Thread(target=self._pump, args=(read_end,), daemon=True,
                                        name=f"kernel output {label}")
        self._thread.start()

    def _pump(self, read_end: int) -> None:
        kept = 0
        with os.fdopen(read_end, "rb") as pipe:
            while line := pipe.readline(4 * RELAYED_LINE):
                if kept >= self.max_bytes:
                    continue
                kept += len(line)
                text = printable(line.decode("utf-8", "replace").rstrip("\n"))
                self.log.warning("kernel output (%s): %s", self.label, text[:RELAYED_LINE])
                if kept >= self.max_bytes:
                    self.log.warning("kernel output (%s): more than %d bytes; the rest is "
                                     "not logged", self.label, self.max_bytes)

    def close(self) -> None:
        """Close the grader's write end; the relay stops once the processes have gone."""
        if self.fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self.fd)
            self.fd = -1


# ---------------------------------------------------------------- availability


def missing_tools(as_root: bool | None = None) -> list[str]:
    as_root = os.geteuid() == 0 if as_root is None else as_root
    tools = ["bwrap", "prlimit", *(["setpriv"] if as_root else [])]
    return [tool for tool in tools if shutil.which(tool) is None]


@functools.lru_cache(maxsize=1)
def sandbox_available() -> tuple[bool, str]:
    """Whether kernels can be sandboxed here, and why not. Checked once per process by
    running Python as nobody in a sandbox like a kernel's."""
    if not sys.platform.startswith("linux"):
        return False, f"the sandbox needs Linux (bubblewrap), not {sys.platform}"
    missing = missing_tools()
    if missing:
        return False, (f"{', '.join(missing)} not found (Debian packages: bubblewrap, "
                       "util-linux)")
    try:
        box = Sandbox(None)
    except (OSError, ValueError) as error:
        return False, f"could not prepare a sandbox folder: {error}"
    try:
        probe = "import os, socket; print(os.getuid(), os.getgid(), socket.gethostname())"
        argv = box.command([sys.executable, "-I", "-c", probe], kernel_env(os.environ),
                           Limits())
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30,
                              env={"PATH": os.defpath}, check=False)
    except (OSError, subprocess.SubprocessError) as error:
        return False, f"bubblewrap could not start: {error}"
    finally:
        box.remove()
    if done.returncode != 0:
        detail = (done.stderr.strip().splitlines() or [f"exit code {done.returncode}"])[-1]
        return False, f"bubblewrap could not start a sandbox here: {detail}"
    if done.stdout.split() != [str(NOBODY), str(NOBODY), "sandbox"]:
        return False, f"the sandbox probe printed {done.stdout.strip()!r}"
    return True, ""


def sandbox_required(env: Mapping[str, str] | None = None) -> bool:
    return (os.environ if env is None else env).get(REQUIRE_ENV) == "1"


# ---------------------------------------------------------------- jupyter_client / nbgrader


class PromptKernelClient(AsyncKernelClient):
    """jupyter_client's async client, ready as soon as the kernel has answered
    ``kernel_info`` with IOPub connected.

    The stock client gives IOPub 0.2 s to show that it is connected, and asks again if
    it is not: a new subscription misses the first reply's messages, so every kernel
    start costs 0.2 s. It then waits for 0.2 s of IOPub silence to drop stale messages;
    nbclient ignores every message that does not answer its own request, so that wait
    changes nothing in an executed notebook. This client asks again after
    ``connect_seconds`` and flushes for ``flush_seconds``.
    """

    connect_seconds = 0.02
    flush_seconds = 0.01

    async def _async_wait_for_ready(self, timeout: float | None = None) -> None:
        deadline = time.monotonic() + (float("inf") if timeout is None else timeout)
        while True:
            self.kernel_info()
            try:
                msg = await ensure_async(self.shell_channel.get_msg(timeout=1))
            except Empty:
                pass
            else:
                if msg["msg_type"] == "kernel_info_reply":
                    try:  # IOPub connected? (else ask again, as the stock client does)
                        await ensure_async(self.iopub_channel.get_msg(
                            timeout=self.connect_seconds))
                    except Empty:
                        pass
                    else:
                        self._handle_kernel_info_reply(msg)
                        break
            if not await self._async_is_alive():
                raise RuntimeError("Kernel died before replying to kernel_info")
            if time.monotonic() > deadline:
                raise RuntimeError(f"Kernel didn't respond in {timeout:.0f} seconds")
        while True:
            try:
                await ensure_async(self.iopub_channel.get_msg(timeout=self.flush_seconds))
            except Empty:
                break

    wait_for_ready = _async_wait_for_ready  # as AsyncKernelClient binds its own


class SandboxedKernelManager(AsyncKernelManager):
    """An AsyncKernelManager whose kernels run in a bubblewrap sandbox (see module doc)."""

    client_class = DottedObjectName("course.grading.sandbox.PromptKernelClient", config=True)
    client_factory = Type(PromptKernelClient, klass=AsyncKernelClient, config=True)

    cpu_seconds = Integer(Limits.cpu_seconds, help="CPU seconds of a kernel").tag(config=True)
    memory_bytes = Integer(Limits.memory_bytes, help="address space per process").tag(
        config=True)
    processes = Integer(Limits.processes, help="processes and threads per sandbox").tag(
        config=True)
    file_bytes = Integer(Limits.file_bytes, help="largest file a kernel may write").tag(
        config=True)
    tmp_bytes = Integer(Limits.tmp_bytes, help="size of the sandbox's /tmp").tag(config=True)
    max_copy_bytes = Integer(256 * MiB, help="largest working folder to copy in").tag(
        config=True)
    extra_read_only = List(Unicode(), help="more host folders to show read-only (never "
                           "a course root)").tag(config=True)

    #: Set by ``course grade``: the kernel runs in its submission's shared sandbox.
    submission: SubmissionKernels | None = None

    @property
    def limits(self) -> Limits:
        return Limits(self.cpu_seconds, self.memory_bytes, self.processes, self.file_bytes,
                      self.tmp_bytes)

    @property
    def kernel_spec(self) -> Any:
        """The kernel spec, naming :class:`SandboxProvisioner` as its provisioner (which
        jupyter_client's provisioner factory then uses to start and stop the kernel)."""
        spec = super().kernel_spec
        if spec is not None:
            chosen = spec.metadata.get("kernel_provisioner", {}).get("provisioner_name")
            if chosen != PROVISIONER:
                register_provisioner(KernelProvisionerFactory.instance(parent=self.parent))
                spec.metadata = {**spec.metadata, "kernel_provisioner": {
                    "provisioner_name": PROVISIONER, "config": {}}}
        return spec


def register_provisioner(factory: KernelProvisionerFactory) -> None:
    """Make :data:`PROVISIONER` known to ``factory`` (pyproject.toml registers the same
    entry point on install; this covers a checkout whose install predates it)."""
    if PROVISIONER not in factory.provisioners:
        from importlib.metadata import EntryPoint

        factory.provisioners[PROVISIONER] = EntryPoint(
            name=PROVISIONER, value=f"{__name__}:SandboxProvisioner",
            group="jupyter_client.kernel_provisioners")


class SandboxProvisioner(LocalProvisioner):
    """jupyter_client's local provisioner, with the kernel started in a sandbox.

    Registered as the ``jupyter_client.kernel_provisioners`` entry point
    :data:`PROVISIONER`; :class:`SandboxedKernelManager` names it in its kernel spec.
    :meth:`pre_launch` builds a new sandbox for the kernel (or takes its submission's,
    ``course grade``), points the connection at IPC sockets inside it, and turns the
    kernel command into the sandboxed one (or the fork server's launcher);
    :meth:`cleanup` removes the kernel's own sandbox. Its parent is the
    :class:`SandboxedKernelManager`, whose traits give the limits.
    """

    _sandbox: Sandbox | None = None

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        km = self.parent
        if not isinstance(km, SandboxedKernelManager):
            raise SandboxUnavailable(f"{PROVISIONER} needs a SandboxedKernelManager")
        limits = km.limits  # bad limits fail before anything is created
        self._remove_sandbox()
        submission = km.submission
        if submission is not None and submission.accepts(kwargs.get("cwd")):
            box = submission.sandbox(km.extra_read_only, km.max_copy_bytes)
            km.ip, km.connection_file = submission.kernel_files()
        else:
            submission = None
            box = self._sandbox = Sandbox(kwargs.get("cwd"), km.extra_read_only,
                                          km.max_copy_bytes)
            km.ip, km.connection_file = str(box.sockets / "kernel"), str(
                box.sockets / "kernel.json")
        km.transport = "ipc"
        self.kernel_spec.interrupt_mode = "message"  # a SIGINT would reach bwrap only
        kwargs = await super().pre_launch(**kwargs)
        kernel_cmd = kwargs.pop("cmd")
        box.give_to_nobody(Path(km.connection_file))
        env = kernel_env(kwargs.get("env") or os.environ, self.kernel_spec.env)
        kwargs.update(env={"PATH": os.defpath}, cwd=str(box.root), **box.streams())
        if submission is not None and is_ipykernel_command(kernel_cmd) and \
                submission.start_zygote(kernel_cmd[0], env, limits):
            kwargs["cmd"] = submission.launcher(kernel_cmd, env)
        else:  # another kind of kernel in a submission's sandbox, or a sandbox of its own
            kwargs["cmd"] = box.command(kernel_cmd, env, limits)
        return kwargs

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart=restart)
        if not restart:
            self._remove_sandbox()

    def _remove_sandbox(self) -> None:
        if self._sandbox is not None:
            self._sandbox.remove()
            self._sandbox = None


def is_ipykernel_command(command: Sequence[str]) -> bool:
    """``PYTHON -m ipykernel_launcher ARGS``: a command the fork server can start."""
    return len(command) >= 3 and list(command[1:3]) == ["-m", "ipykernel_launcher"]


class SubmissionKernels:
    """One new sandbox for all the kernels of one submission (``course grade``).

    The sandbox (a private copy of the submission's folder, as for a single kernel) is
    made at the first kernel; a zygote (:mod:`course.grading.kernel_forkserver`) then runs in it
    and forks each of the submission's kernels, so that ipykernel is imported once per
    submission instead of once per notebook. Every kernel is still a fresh process; as
    under stock nbgrader, a student's notebooks share their working folder. :meth:`close`
    stops the zygote and every process in the sandbox and removes it: no sandbox ever
    serves a second submission.
    """

    def __init__(self, cwd: str | os.PathLike) -> None:
        self.cwd = Path(cwd).resolve()
        self.box: Sandbox | None = None
        self.zygote: Zygote | None = None

    @property
    def process(self) -> subprocess.Popen | None:
        return self.zygote.process if self.zygote is not None else None

    def accepts(self, cwd: str | os.PathLike | None) -> bool:
        return cwd is not None and Path(cwd).resolve() == self.cwd

    def sandbox(self, extra_read_only: Sequence[str] = (), max_copy_bytes: int = 256 * MiB
                ) -> Sandbox:
        if self.box is None:
            self.zygote = Zygote(Sandbox(self.cwd, extra_read_only, max_copy_bytes))
            self.box = self.zygote.box
        return self.box

    @property
    def socket(self) -> Path:
        return self.sandbox().sockets / "forkserver"

    def kernel_files(self) -> tuple[str, str]:
        """IPC socket base and connection file of the next kernel."""
        self.sandbox()
        return self.zygote.kernel_files()

    def start_zygote(self, python: str, env: Mapping[str, str], limits: Limits) -> bool:
        """Start the zygote (once). False when it cannot serve this kernel: another
        interpreter, environment or limits than its own, or it has stopped."""
        self.sandbox()
        return self.zygote.start(python, env, limits)

    def launcher(self, kernel_cmd: Sequence[str], env: Mapping[str, str]) -> list[str]:
        """The command jupyter_client runs for a forked kernel (outside the sandbox)."""
        request = json.dumps({"args": list(kernel_cmd[3:]), "cwd": str(self.cwd),
                              "env": dict(env)})
        return [sys.executable, "-I", "-S", str(PACKAGE_DIR / "grading" / "kernel_forkserver.py"),
                "launch", str(self.socket), str(self.process.pid), request]

    def close(self) -> None:
        """Stop the zygote and every kernel in the sandbox; remove the sandbox."""
        if self.zygote is not None:
            self.zygote.close()
        self.zygote = self.box = None


class Zygote:
    """A sandbox and the zygote running in it (started at its first forked kernel)."""

    def __init__(self, box: Sandbox) -> None:
        self.box = box
        self.process: subprocess.Popen | None = None
        self.key: tuple | None = None
        self._kernels = 0

    def kernel_files(self) -> tuple[str, str]:
        self._kernels += 1
        base = self.box.sockets / f"kernel-{self._kernels}"
        return str(base), f"{base}.json"

    def start(self, python: str, env: Mapping[str, str], limits: Limits) -> bool:
        key = (python, tuple(sorted(env.items())), limits)
        if self.process is None:
            command = [python, "-m", "course.grading.kernel_forkserver", "serve",
                       str(self.box.sockets / "forkserver")]
            self.process = subprocess.Popen(self.box.command(command, env, limits),
                                            env={"PATH": os.defpath}, cwd=str(self.box.root),
                                            **self.box.streams())
            self.key = key
        return key == self.key and self.process.poll() is None

    def close(self) -> None:
        """Kill the zygote's bwrap: the sandbox's pid namespace ends with it, taking every
        process in it along; then remove the sandbox's folder."""
        if self.process is not None:
            self.process.kill()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                log.warning("the zygote of %s did not stop", self.box.cwd)
            self.process = None
        self.box.remove()


def choose_kernel_manager(mode: str = "auto", logger: logging.Logger | None = None) -> type:
    """SandboxedKernelManager when available; otherwise (mode ``auto``) the stock manager
    with a warning, or (mode ``require``, or COURSE_REQUIRE_SANDBOX=1) SandboxUnavailable.
    Mode ``off`` always gives the stock manager."""
    if mode not in ("auto", "require", "off"):
        raise ValueError(f"sandbox mode must be 'auto', 'require' or 'off', not {mode!r}")
    if mode == "off":
        return AsyncKernelManager
    ok, reason = sandbox_available()
    if ok:
        return SandboxedKernelManager
    if mode == "require" or sandbox_required():
        raise SandboxUnavailable(f"kernels must be sandboxed but cannot be: {reason}")
    (logger or log).warning("grading UNSANDBOXED: student code runs with the grader's "
                            "permissions (%s)", reason)
    return AsyncKernelManager


class SandboxedKernels(Configurable):
    """Mixin for an nbgrader/nbconvert Execute class: its kernels run in the sandbox.

    ``class ExecuteWithX(SandboxedKernels, Execute)`` -- the mixin comes first. Execute
    fixes ``kernel_manager_class`` in its constructor (so configuring that trait does
    nothing); the mixin chooses after it, unless the caller passed one.
    """

    sandbox = Enum(["auto", "require", "off"], "auto", help="auto: sandbox when available, "
                   "else warn; require: fail when unavailable (as COURSE_REQUIRE_SANDBOX=1); "
                   "off: never").tag(config=True)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        chosen = "kernel_manager_class" in kwargs
        super().__init__(*args, **kwargs)
        if not chosen:
            self.kernel_manager_class = choose_kernel_manager(
                self.sandbox, getattr(self, "log", None))


@functools.cache
def _sandboxed_execute() -> type:
    """Build SandboxedExecute on first use: importing nbgrader takes seconds."""
    from nbgrader.preprocessors import Execute

    class SandboxedExecute(SandboxedKernels, Execute):
        """nbgrader's Execute with sandboxed kernels (configured like ``Execute``)."""

    SandboxedExecute.__module__ = __name__
    SandboxedExecute.__qualname__ = "SandboxedExecute"
    return SandboxedExecute


def __getattr__(name: str) -> Any:
    """``course.grading.sandbox.SandboxedExecute`` (nbgrader's Execute with sandboxed kernels)."""
    if name == "SandboxedExecute":
        return _sandboxed_execute()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _default_chain() -> list[Any]:
    from nbgrader.converters import Autograde

    return list(Autograde.class_traits()["autograde_preprocessors"].default())


def _execute_step(chain: Sequence[Any]) -> tuple[int, type] | None:
    """Position and class of the Execute step of an autograde chain."""
    from nbconvert.preprocessors import ExecutePreprocessor
    from traitlets.utils.importstring import import_item

    for index, item in enumerate(chain):
        cls = import_item(item) if isinstance(item, str) else item
        if isinstance(cls, type) and issubclass(cls, ExecutePreprocessor):
            return index, cls
    return None


def sandboxed_autograde_preprocessors(chain: Sequence[Any] | None = None) -> list[Any]:
    """``chain`` (default: nbgrader's autograde chain) with a sandboxed Execute step:
    nbgrader's own Execute becomes :class:`SandboxedExecute`; a step that already
    inherits :class:`SandboxedKernels` stays. Any other Execute subclass raises
    ValueError: add the mixin to it rather than lose what it does."""
    from nbgrader.preprocessors import Execute

    chain = _default_chain() if chain is None else list(chain)
    found = _execute_step(chain)
    if found is None:
        raise ValueError("autograde_preprocessors has no Execute step to sandbox")
    index, cls = found
    if cls is Execute:
        chain[index] = f"{__name__}.SandboxedExecute"
    elif not issubclass(cls, SandboxedKernels):
        raise ValueError(f"autograde_preprocessors: {cls.__module__}.{cls.__qualname__} "
                         "must inherit course.grading.sandbox.SandboxedKernels (as its first base) "
                         "to run sandboxed")
    return chain


def sandbox_overrides(mode: str = "auto", chain: Sequence[Any] | None = None
                      ) -> dict[str, dict[str, Any]]:
    """traitlets config overrides that make autograde (and ``course grade``) run kernels
    in the sandbox: ``chain`` sandboxed (see :func:`sandboxed_autograde_preprocessors`)
    and the sandbox mode; e.g. ``sandbox_overrides("require",
    config.Autograde.autograde_preprocessors)``."""
    if mode not in ("auto", "require", "off"):
        raise ValueError(f"sandbox mode must be 'auto', 'require' or 'off', not {mode!r}")
    return {"Autograde": {"autograde_preprocessors": sandboxed_autograde_preprocessors(chain)},
            "SandboxedKernels": {"sandbox": mode}}


def autograde_sandbox(config: Any) -> tuple[bool, str]:
    """Whether autograde under this traitlets ``config`` runs its kernels in the sandbox,
    and a one-line notice for the learner or grader that says so, or why not."""
    chain = config.get("Autograde", {}).get("autograde_preprocessors") or _default_chain()
    found = _execute_step(chain)
    if found is None:
        return False, "kernels are NOT sandboxed: autograde has no Execute step"
    cls = found[1]
    if not issubclass(cls, SandboxedKernels):
        return False, (f"kernels are NOT sandboxed: the Execute step {cls.__module__}."
                       f"{cls.__qualname__} does not inherit course.grading.sandbox.SandboxedKernels")
    try:
        execute = cls(config=config)
    except SandboxUnavailable as error:
        return False, str(error)
    if issubclass(execute.kernel_manager_class, SandboxedKernelManager):
        return True, sandbox_status()
    ok, reason = sandbox_available()
    return False, f"kernels are NOT sandboxed: {reason if not ok else 'the sandbox is off'}"


def sandbox_status() -> str:
    """One line for a learner or grader: are kernels sandboxed here?"""
    ok, reason = sandbox_available()
    return ("kernels are sandboxed (bubblewrap: no network, no access to the course files)"
            if ok else f"kernels are NOT sandboxed: {reason}")
