"""A kernel fork server: one Python per graded submission, a fresh forked kernel per notebook.

Starting ipykernel costs about 0.55 CPU-s, nearly all of it imports. ``course grade``
runs every notebook of a student in one sandbox (:class:`course.grading.zygote.SubmissionKernels`),
in which this module runs as the *zygote*::

    python -m course.grading.kernel_forkserver serve SOCKET

It imports ipykernel once, then listens on the Unix socket ``SOCKET``. For every
kernel, the grader starts this file as a small *launcher* outside the sandbox::

    python -I -S course/grading/kernel_forkserver.py launch SOCKET ZYGOTE_PID REQUEST_JSON

The launcher sends the request (the kernel's ``ipykernel_launcher`` arguments, working
folder and environment); the zygote forks; the child becomes the kernel exactly as
``python -m ipykernel_launcher ...`` would (same ``sys.argv``, ``sys.path``, folder and
environment) but without importing ipykernel again. The launcher stays until the kernel
ends and exits with its exit code, so jupyter_client watches and kills the launcher as
it would a kernel: when the launcher dies, the zygote kills the kernel's process group.

Every kernel is still a new process that has run no notebook code: no state passes from
one notebook's kernel to the next (only files in the shared working folder, as under
stock nbgrader, where all of a student's notebooks run in one folder). A zygote runs
no notebook code itself, and serves one student only: every submission gets a new
sandbox and a new zygote, removed after its last notebook. What the zygote loads ahead:
ipykernel, and the course's content and question bank that every lesson's set-up cell
reads (read-only data, parsed from the same files a kernel would parse). The debugger
(debugpy) is not loaded: graded kernels are never debugged.

The zygote is not dumpable, so no kernel can trace it, read its memory or reach its
descriptors through ``/proc``. Its standard input is empty and its output goes to the
grader's relay (:class:`course.grading.bwrap.OutputRelay`), never to the grading log itself;
a kernel gets an empty pipe as standard input and the same relay as its output.

The launcher half imports only the standard library (it runs with ``-S``).
"""

from __future__ import annotations

import contextlib
import importlib
import json
import os
import select
import signal
import socket
import sys
import time
from collections.abc import Iterator

REQUEST_LIMIT = 1 << 20        # bytes of one launch request
PR_SET_DUMPABLE = 4
CONNECT_SECONDS = 120.0        # how long a launcher waits for its zygote to listen
POLL_SECONDS = 0.1             # how often the zygote looks for ended kernels
LAUNCHER_MODULE = "ipykernel_launcher"
# Imported by every kernel as it starts (measured with sys.modules before and after), so
# the zygote imports them once instead of each fork doing it: about 13 ms per kernel.
KERNEL_START_MODULES = (
    "IPython.core.completerlib", "IPython.core.debugger", "IPython.core.logger",
    "IPython.core.oinspect", "IPython.extensions.storemagic", "IPython.utils.wildcard",
    "faulthandler", "sqlite3", "tornado.platform.asyncio", "unicodedata",
)
# What the notebooks' locked set-up cells import, preloaded in the learner's zygote (inside
# the sandbox, never in the grader): names, not imports, so the grading package itself
# still loads no view (tests/test_module_size.py). A test checks each name imports.
LESSON_MODULES = ("course.views.figures", "course.views.schedules", "course.views.skin")


# ---------------------------------------------------------------- launcher (grader side)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        pass
    return True


def launch(path: str, zygote: int, request: str, connect_seconds: float = CONNECT_SECONDS
           ) -> int:
    """Ask the zygote (process ``zygote``, listening at ``path``) for a kernel; wait for
    the kernel to end; return its exit code."""
    deadline = time.monotonic() + connect_seconds
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    while True:
        try:
            conn.connect(path)
            break
        except (FileNotFoundError, ConnectionRefusedError):
            if time.monotonic() > deadline or not _alive(zygote):
                print(f"kernel fork server: no zygote listening at {path}", file=sys.stderr)
                return 1
            time.sleep(0.01)
    reply = b""
    try:
        conn.sendall(request.encode() + b"\n")
        while not reply.endswith(b"\n"):
            chunk = conn.recv(64)
            if not chunk:
                break
            reply += chunk
    except OSError:  # the zygote (its sandbox) went away
        reply = b""
    try:
        code = int(reply.decode("ascii").strip())
    except ValueError:
        print("kernel fork server: the zygote stopped without a reply", file=sys.stderr)
        return 1
    return code if 0 <= code <= 255 else 1


# ---------------------------------------------------------------- zygote (in the sandbox)


def preload() -> None:
    """Import what every kernel imports at start, once, before any fork."""
    blocked = "debugpy" not in sys.modules
    if blocked:  # ipykernel then runs without a debugger (0.14 s less per start)
        sys.modules["debugpy"] = None  # type: ignore[assignment]
    import ipykernel.debugger  # finds no debugpy: kernels start without a debugger
    import ipykernel.ipkernel
    import ipykernel.kernelapp
    import ipykernel.zmqshell  # noqa: F401
    import ipykernel_launcher  # noqa: F401

    for name in KERNEL_START_MODULES:  # what IPKernelApp.initialize imports on its way
        importlib.import_module(name)

    if blocked:  # a notebook may still import debugpy itself
        del sys.modules["debugpy"]
    try:  # what every lesson's set-up cell loads: parsed once, only read by kernels
        from course.content import content
        from course.lesson import cite  # noqa: F401
        from course.questions import questions

        for name in LESSON_MODULES:
            importlib.import_module(name)

        content()
        questions()
    except Exception as error:
        print(f"kernel fork server: course content not preloaded: {error}", file=sys.stderr)


def parse_request(line: bytes) -> dict:
    """A launch request: ``{"args": [...], "cwd": str, "env": {str: str}}``."""
    request = json.loads(line)
    args, cwd, env = request.get("args"), request.get("cwd"), request.get("env")
    if not (isinstance(args, list) and all(isinstance(a, str) for a in args)
            and isinstance(cwd, str) and isinstance(env, dict)
            and all(isinstance(k, str) and isinstance(v, str) for k, v in env.items())):
        raise ValueError("a launch request needs args (strings), cwd and env (strings)")
    return request


def set_dumpable(dumpable: bool) -> bool:
    """prctl(PR_SET_DUMPABLE): a process that is not dumpable cannot be traced, nor its
    ``/proc`` files read, by other processes of its user. False where unsupported."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_DUMPABLE, int(dumpable), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _ended_children() -> Iterator[tuple[int, int]]:
    """(pid, wait status) of each child that has ended, reaping it; stops at the first
    moment none is waiting."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        yield pid, status


def _listen(path: str) -> socket.socket:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(path)
    listener.listen(16)
    return listener


def become_kernel(request: dict) -> int:
    """In the forked child: run ipykernel as ``python -m ipykernel_launcher ARGS`` would."""
    import runpy

    empty, writer = os.pipe()  # standard input at its end, as /dev/null (which nobody
    os.close(writer)           # may not open here): never the grader's control pipe
    os.dup2(empty, 0)
    os.close(empty)
    os.dup2(2, 1)
    set_dumpable(True)  # an ordinary process again (the zygote is not dumpable)
    os.setsid()  # its own process group, killed as a whole when the launcher goes
    for number in (signal.SIGTERM, signal.SIGCHLD, signal.SIGPIPE):
        signal.signal(number, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    sys.argv = [sys.modules[LAUNCHER_MODULE].__file__, *request["args"]]
    try:
        runpy.run_module(LAUNCHER_MODULE, run_name="__main__", alter_sys=True)
    except SystemExit as end:
        return end.code if isinstance(end.code, int) else (0 if end.code is None else 1)
    except BaseException:
        import traceback

        traceback.print_exc()
        return 1
    return 0


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1


def _kill_group(pid: int) -> None:
    for kill in (os.killpg, os.kill):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            kill(pid, signal.SIGKILL)


def _read_request(conn: socket.socket) -> bytes:
    conn.settimeout(30)
    data = b""
    while not data.endswith(b"\n") and len(data) < REQUEST_LIMIT:
        chunk = conn.recv(65536)
        if not chunk:
            break
        data += chunk
    conn.settimeout(None)
    return data


def serve(path: str) -> None:
    """Listen at ``path``; fork a kernel per request; report each end; never returns."""
    preload()
    if not set_dumpable(False):
        print("kernel fork server: could not make the zygote undumpable; kernels could "
              "trace it", file=sys.stderr)
    listener = _listen(path)
    kernels: dict[int, socket.socket] = {}   # kernel pid -> its launcher's connection
    while True:
        readable, _, _ = select.select([listener, *kernels.values()], [], [], POLL_SECONDS)
        for ready in readable:
            if ready is listener:
                conn, _ = listener.accept()
                try:
                    request = parse_request(_read_request(conn))
                except (OSError, ValueError) as error:
                    print(f"kernel fork server: bad request: {error}", file=sys.stderr)
                    conn.close()
                    continue
                sys.stdout.flush()
                sys.stderr.flush()
                pid = os.fork()
                if pid == 0:
                    listener.close()
                    for other in kernels.values():
                        other.close()
                    conn.close()
                    code = become_kernel(request)
                    sys.stdout.flush()
                    sys.stderr.flush()
                    os._exit(code)
                kernels[pid] = conn
            else:  # the launcher went away (or wrote): the kernel goes too
                for pid, conn in list(kernels.items()):
                    if conn is ready:
                        _kill_group(pid)
        if not kernels:
            continue
        for pid, status in _ended_children():
            conn = kernels.pop(pid, None)
            _kill_group(pid)  # whatever the kernel left running in its group
            if conn is not None:
                with contextlib.suppress(OSError):
                    conn.sendall(f"{_exit_code(status)}\n".encode())
                conn.close()


def main(argv: list[str]) -> int:
    if len(argv) == 2 and argv[0] == "serve":
        serve(argv[1])
    if len(argv) == 4 and argv[0] == "launch" and argv[2].isdigit():
        return launch(argv[1], int(argv[2]), argv[3])
    print("usage: kernel_forkserver.py serve SOCKET | launch SOCKET ZYGOTE_PID REQUEST_JSON",
          file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
