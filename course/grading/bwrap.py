"""The bubblewrap sandbox itself: what a grading kernel sees, its limits, its command line.

:mod:`course.grading.sandbox` explains the whole design and plugs it into jupyter_client;
this module holds the parts that need neither: :class:`Limits` (``prlimit``), the
:class:`Layout` of one sandbox and the ``bwrap`` command line built from it
(:func:`bwrap_argv`), the kernel's environment (:func:`kernel_env`), what may be shown
read-only (never a course root), one sandbox's folder on disk (:class:`Sandbox`) and the
relay of its processes' output to the grading log (:class:`OutputRelay`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import stat
import subprocess
import sys
import tempfile
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

from course.paths import PACKAGE_DIR

NOBODY = 65534  # uid of nobody and gid of nogroup on Debian
KiB, MiB, GiB = 1024, 1024**2, 1024**3
RELAYED_BYTES = 64 * KiB  # kernel output relayed to the grading log, per sandbox
RELAYED_LINE = 500        # characters of one relayed line
KERNEL_OUTPUT_LOGGER = "course.grading.sandbox.kernel"
"""The logger of a sandbox's relayed kernel output. It goes wherever the process's logging
is configured (a cohort's grading log); where nothing is configured (``course check`` in
a learner's terminal, an nbgrader command) it goes nowhere, never to the terminal through
Python's last-resort handler: a learner was once shown a kernel's traceback that way."""
logging.getLogger(KERNEL_OUTPUT_LOGGER).addHandler(logging.NullHandler())
HOME = "/tmp"
MPLCONFIGDIR = "/tmp/.matplotlib"
# Variables a kernel may inherit from the grader; everything else is dropped.
PASSED_ENV = ("NBGRADER_EXECUTION", "LANG", "LANGUAGE", "LC_ALL", "LC_CTYPE", "LC_MESSAGES",
              "TZ", "PYTHONHASHSEED", "JUPYTER_PLATFORM_DIRS",
              "COURSE_LEARNER_ID")  # the learner graded (course.variants.LEARNER_ENV)
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
             "/etc/mime.types", "/etc/fonts")
ROOT_LINKS = ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
PASSWD = ("root:x:0:0:root:/nonexistent:/usr/sbin/nologin\n"
          f"nobody:x:{NOBODY}:{NOBODY}:nobody:{HOME}:/usr/sbin/nologin\n")
GROUP = f"root:x:0:\nnogroup:x:{NOBODY}:\n"

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
    spec's own, and fixed values (home and temp in /tmp, one BLAS thread). ``PYTHONPATH``
    is the folder of the ``course`` package this grader imported (the one shown to the
    sandbox), so the kernel imports that package, whatever the environment would find."""
    env = {name: parent[name] for name in PASSED_ENV if name in parent}
    env.update(spec_env or {})
    bin_dir = str(python_bin or Path(sys.executable).parent)
    env.update({
        "PATH": f"{bin_dir}:/usr/local/bin:/usr/bin:/bin", "HOME": HOME, "TMPDIR": "/tmp",
        "USER": "nobody", "LOGNAME": "nobody", "SHELL": "/usr/sbin/nologin",
        "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1",
        "PYTHONPATH": str(PACKAGE_DIR.parent),
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
        self.log = logger or logging.getLogger(KERNEL_OUTPUT_LOGGER)
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
