"""One new sandbox per submission, and the zygote that forks its kernels (``course grade``).

:class:`SubmissionKernels` makes the sandbox (:class:`course.grading.bwrap.Sandbox`) at a
submission's first kernel and starts a zygote in it (:mod:`course.grading.kernel_forkserver`);
every later kernel of that submission is forked by the zygote. :meth:`SubmissionKernels.close`
removes it all: no sandbox ever serves a second submission.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from course.grading.bwrap import Limits, MiB, Sandbox

log = logging.getLogger(__name__)
# The fork server's file: its launcher half runs as a script (``python -I -S FILE launch``).
FORKSERVER = Path(__file__).resolve().with_name("kernel_forkserver.py")


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
        return [sys.executable, "-I", "-S", str(FORKSERVER),
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
