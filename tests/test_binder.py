"""The Binder environment, built from binder/ alone as repo2docker builds it.

A copy of the repository's files (what a clone holds: no .venv, caches, test output,
gradebook or learner copies) gets a fresh virtual environment with the pinned packages
of ``binder/requirements.txt``, which ``pip check`` finds consistent; then
``binder/postBuild`` runs with the environment's bin/ first on PATH and the copy as the
working folder, as repo2docker runs it; commands run through ``binder/start``, as
Binder runs the server and its terminals. The checks: the learner's view
(jupyter-config/learner: JupyterLab rooted at assignments/, nbgrader's instructor tools
off), the learner's copies in assignments/, and JupyterLab (from that environment)
opening the start-here notebook that the Binder badge links to.

repo2docker installs the file with pip; this test installs the same pinned releases with
uv (``uv pip install -r``, from uv's cache: about 3 s against pip's 50 s, measured
2026-12-03), which resolves them with its own resolver. What the test checks
-- the pinned versions installed and consistent (``pip check``), postBuild, the learner's
view -- does not depend on the installer. uv, like ``pip --no-compile``, does not compile
the installed modules to bytecode (Python compiles what it imports).
Jupyter's per-user folders point into the temporary folder, so the machine's own
configuration neither leaks in nor changes.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from uv import find_uv_bin

from .conftest import ROOT, free_port
from .test_workspace import LEARNER_OFF_LAB, LEARNER_ON_LAB

pytestmark = pytest.mark.slow

START_HERE = "00-orientation/00-start-here.ipynb"  # the server is rooted at assignments/
START_HERE_TITLE = "Start here: how this course works"
ANSI = re.compile(r"\x1b\[[0-9;]*m")

# What a clone does not hold: .gitignore's entries, plus the tool caches and local state
# that are never committed.
NOT_IN_A_CLONE = {".git", ".venv", ".cache", ".pytest_cache", ".ruff_cache", ".hypothesis",
                  "__pycache__", ".ipynb_checkpoints", "gradebook.db", "test-output"}


@dataclass
class Binder:
    repo: Path
    venv: Path
    env: dict[str, str]
    install_seconds: float
    post_build_seconds: float

    def run(self, *command: str) -> str:
        """Run a command of the environment in the repository, through binder/start as
        Binder runs it; its output, ANSI-free."""
        done = subprocess.run(["bash", "binder/start", *command], cwd=self.repo, env=self.env,
                              capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
        return ANSI.sub("", done.stdout + done.stderr)


def _gitignore() -> tuple[set[str], set[str], set[str]]:
    """.gitignore read as (names ignored anywhere, paths ignored, folders emptied).

    A folder is emptied by ``/folder/*``; its files that a ``!`` line lets through stay.
    """
    anywhere, paths, emptied = set(NOT_IN_A_CLONE), set(), set()
    for line in (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.startswith(("#", "!")):
            continue
        if line.endswith("/*"):
            emptied.add(line.removesuffix("/*").strip("/"))
        elif "/" in line.rstrip("/"):
            paths.add(line.strip("/"))
        else:
            anywhere.add(line.rstrip("/"))
    return anywhere, paths, emptied


def copy_repository(target: Path) -> None:
    """Copy the repository's files as a clone holds them (.gitignore'd files left out)."""
    anywhere, paths, emptied = _gitignore()
    kept = {line.strip().lstrip("!/") for line in
            (ROOT / ".gitignore").read_text(encoding="utf-8").splitlines()
            if line.strip().startswith("!")}
    by_name = shutil.ignore_patterns(*anywhere)

    def ignore(folder: str, entries: list[str]) -> set[str]:
        here = Path(folder).relative_to(ROOT)
        skipped = set(by_name(folder, entries))
        for entry in entries:
            path = (here / entry).as_posix()
            if path in paths or (here.as_posix() in emptied and path not in kept):
                skipped.add(entry)
        return skipped

    shutil.copytree(ROOT, target, ignore=ignore, symlinks=True)


@pytest.fixture(scope="module")
def binder(tmp_path_factory: pytest.TempPathFactory) -> Binder:
    """A fresh environment from binder/requirements.txt with binder/postBuild run in it."""
    base = tmp_path_factory.mktemp("binder")
    repo, venv = base / "repo", base / "venv"
    copy_repository(repo)
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("COURSE_", "JUPYTER", "VIRTUAL_ENV", "PYTHON"))}
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    install = subprocess.run(
        [find_uv_bin(), "pip", "install", "--quiet", "--python", python,
         "-r", str(repo / "binder" / "requirements.txt")],
        cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert install.returncode == 0, f"uv pip install failed:\n{install.stdout}\n{install.stderr}"
    consistent = subprocess.run([python, "-m", "pip", "check"], cwd=repo, env=env,
                                capture_output=True, text=True, timeout=120)
    assert consistent.returncode == 0, f"pip check:\n{consistent.stdout}\n{consistent.stderr}"
    install_seconds = time.monotonic() - started
    env.update(PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
               JUPYTER_CONFIG_DIR=str(base / "user" / "config"),
               JUPYTER_DATA_DIR=str(base / "user" / "data"),
               JUPYTER_RUNTIME_DIR=str(base / "user" / "runtime"),
               JUPYTERLAB_SETTINGS_DIR=str(base / "user" / "lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(base / "user" / "lab-workspaces"))
    started = time.monotonic()
    post_build = subprocess.run(["bash", "binder/postBuild"], cwd=repo, env=env,
                                capture_output=True, text=True, timeout=300)
    assert post_build.returncode == 0, \
        f"postBuild failed:\n{post_build.stdout}\n{post_build.stderr}"
    result = Binder(repo, venv, env, install_seconds, time.monotonic() - started)
    print(f"\nBinder environment: pip install {result.install_seconds:.0f} s, "
          f"postBuild {result.post_build_seconds:.0f} s")
    return result


def _disabled_lab_plugins(listing: str) -> set[str]:
    _, _, disabled = listing.partition("Disabled extensions:")
    return {line.split()[0] for line in disabled.splitlines() if line.strip().startswith("@")}


def test_the_environment_has_the_pinned_versions_and_the_course(binder: Binder) -> None:
    pins = dict(re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)$",
                           (binder.repo / "binder" / "requirements.txt").read_text(),
                           re.MULTILINE))
    frozen = binder.run("python", "-m", "pip", "freeze")
    for name in ("nbgrader", "jupyterlab", "ipywidgets", "matplotlib"):
        assert f"{name}=={pins[name]}" in frozen.splitlines()
    where = binder.run("python", "-c", "import course; print(course.__file__)").strip()
    assert Path(where) == binder.repo / "course" / "__init__.py"


def test_only_the_learner_side_of_nbgrader_is_enabled(binder: Binder) -> None:
    lab = binder.run("jupyter", "labextension", "list")
    assert re.search(r"@jupyter/nbgrader v\S+ enabled OK", lab), lab
    disabled = _disabled_lab_plugins(lab)
    assert disabled >= LEARNER_OFF_LAB, lab
    assert not disabled & LEARNER_ON_LAB, lab


def test_the_learner_copies_are_ready(binder: Binder) -> None:
    released = sorted(p.relative_to(binder.repo / "release").as_posix()
                      for p in (binder.repo / "release").glob("*/*.ipynb"))
    copies = sorted(p.relative_to(binder.repo / "assignments").as_posix()
                    for p in (binder.repo / "assignments").glob("*/*.ipynb"))
    assert released and copies == released
    for name in released:
        assert (binder.repo / "assignments" / name).read_bytes() == \
            (binder.repo / "release" / name).read_bytes()


@pytest.fixture(scope="module")
def binder_lab(binder: Binder) -> Iterator[str]:
    """The environment's own JupyterLab on a free loopback port, in the repository."""
    from .browser.conftest import _require_browser, wait_until_serving

    _require_browser()
    port = free_port()
    log = binder.repo.parent / "lab.log"
    process = subprocess.Popen(
        ["bash", "binder/start", "jupyter", "lab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}",
         "--IdentityProvider.token=", "--ServerApp.disable_check_xsrf=True",
         "--LabApp.expose_app_in_browser=True", "--allow-root"],
        cwd=binder.repo, env=binder.env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    wait_until_serving(url, process, log, "the Binder JupyterLab")
    yield url
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.mark.browser
def test_jupyterlab_opens_start_here_without_the_instructor_tools(binder_lab: str) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    from .browser.conftest import CHROMIUM, CHROMIUM_ARGS

    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        # The badge's ?urlpath=lab/tree/<notebook> lands here.
        page.goto(f"{binder_lab}/lab/tree/{START_HERE}")
        title = page.locator(".jp-NotebookPanel .jp-RenderedMarkdown").get_by_role(
            "heading", name=START_HERE_TITLE, level=1)
        sync_api.expect(title).to_be_visible(timeout=60_000)
        plugins = page.evaluate("""ids => Object.fromEntries(ids.map(
            id => [id, window.jupyterapp.hasPlugin(id)]))""", [*LEARNER_ON_LAB, *LEARNER_OFF_LAB])
        browser.close()
    assert plugins == {**dict.fromkeys(LEARNER_ON_LAB, True),
                       **dict.fromkeys(LEARNER_OFF_LAB, False)}
    # the file browser's root is assignments/: source/ is out of reach; no formgrader
    with urllib.request.urlopen(f"{binder_lab}/api/contents", timeout=60) as response:
        names = {entry["name"] for entry in json.loads(response.read())["content"]}
    assert "00-orientation" in names and not names & {"source", "release"}
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(f"{binder_lab}/formgrader", timeout=60)
    assert refused.value.code == 404
