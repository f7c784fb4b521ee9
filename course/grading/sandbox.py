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
  (:class:`~course.grading.bwrap.OutputRelay`), relayed to the grading log line by line,
  marked as kernel output, escaped and bounded. A kernel cannot reach the log's
  descriptor, truncate the log or write a line of its own in it.

``course grade`` starts all the kernels of one submission in one sandbox
(:class:`~course.grading.zygote.SubmissionKernels`): the folder is copied once, and a
zygote in the sandbox (:mod:`course.grading.kernel_forkserver`) forks each kernel. Each
kernel is still a new process with the limits above; the process count is then per
submission. Isolation between students is by construction: every submission gets a new
sandbox (new namespaces -- pid, IPC, network, mount, user --, a new ``/tmp`` and
``/dev/shm``, a new copy of its folder, a new zygote), which is removed with everything
in it after its last notebook. Nothing -- process, file, IPC object, socket or
descriptor -- is ever handed from one student to the next, so there is nothing to clean
between them.

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

Where: this module plugs the sandbox into jupyter_client and nbgrader, and says whether
it can run here; :mod:`course.grading.bwrap` builds the sandbox itself (layout, limits,
command line, output relay); :mod:`course.grading.zygote` shares one sandbox among a
submission's kernels.
"""

from __future__ import annotations

import functools
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from queue import Empty
from typing import Any

from jupyter_client.asynchronous import AsyncKernelClient
from jupyter_client.manager import AsyncKernelManager
from jupyter_client.provisioning import KernelProvisionerFactory, LocalProvisioner
from jupyter_core.utils import ensure_async
from traitlets import DottedObjectName, Enum, Instance, Integer, List, Type, Unicode
from traitlets.config import Configurable

from course.grading.bwrap import (
    NOBODY,
    Limits,
    MiB,
    Sandbox,
    kernel_env,
)
from course.grading.zygote import SubmissionKernels, is_ipykernel_command

PROVISIONER = "course-sandbox-provisioner"  # entry point (pyproject.toml)
REQUIRE_ENV = "COURSE_REQUIRE_SANDBOX"

log = logging.getLogger(__name__)


class SandboxUnavailable(RuntimeError):
    """The sandbox was required (``COURSE_REQUIRE_SANDBOX=1``) but cannot run here."""


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

    submission = Instance(SubmissionKernels, allow_none=True, help="``course grade``: the "
                          "submission whose shared sandbox the kernel runs in (given to "
                          "the constructor, see new_kernel_manager)")

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


def new_kernel_manager(manager_class: type, config: Any, kernel_name: str | None = None,
                       submission: SubmissionKernels | None = None) -> AsyncKernelManager:
    """A kernel manager of ``manager_class`` (as :func:`choose_kernel_manager` chose it).
    A sandboxed one is given ``submission``, its student's shared sandbox; a stock one
    (the sandbox off) runs its kernel as nbclient would, and ``submission`` is unused."""
    options: dict[str, Any] = {"kernel_name": kernel_name} if kernel_name else {}
    if submission is not None and issubclass(manager_class, SandboxedKernelManager):
        options["submission"] = submission
    return manager_class(config=config, **options)


def register_provisioner(factory: KernelProvisionerFactory) -> None:
    """Make :data:`PROVISIONER` known to ``factory`` as this module's provisioner
    (pyproject.toml registers the same entry point on install; this covers a checkout
    whose install predates it, or names the module's earlier place)."""
    value = f"{__name__}:SandboxProvisioner"
    registered = factory.provisioners.get(PROVISIONER)
    if registered is None or registered.value != value:
        from importlib.metadata import EntryPoint

        factory.provisioners[PROVISIONER] = EntryPoint(
            name=PROVISIONER, value=value, group="jupyter_client.kernel_provisioners")


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
                       f"{cls.__qualname__} does not inherit "
                       "course.grading.sandbox.SandboxedKernels")
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
