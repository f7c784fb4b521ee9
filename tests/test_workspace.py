"""The learner's and the instructor's JupyterLab: `make lab`, `make instructor`, jupyter-config/.

The learner's server is rooted at assignments/ (source/, with every solution, is out of
the file browser's reach), nbgrader's instructor tools are off, and "Check my answers"
and the `course` command in JupyterLab's terminal still work. The instructor's opens
everything. The servers are started with the very command `make -n` prints, in a copy of
the course.
"""

from __future__ import annotations

import asyncio
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

from .conftest import ROOT, free_port

BIN = Path(sys.executable).parent
LEARNER_CONFIG = ROOT / "jupyter-config" / "learner"
SHARED_CONFIG = ROOT / "jupyter-config"
INSTRUCTOR_LAB = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:course-list",
                  "@jupyter/nbgrader:create-assignment"}
# A self-study learner has no nbgrader exchange: the assignment list and nbgrader's menu
# (whose every entry is an exchange or instructor tool) are off too. Validate stays.
LEARNER_OFF_LAB = INSTRUCTOR_LAB | {"@jupyter/nbgrader:assignment-list",
                                    "@jupyter/nbgrader:menu"}
LEARNER_ON_LAB = {"@jupyter/nbgrader:validate-assignment"}
LEARNER_OFF_SERVER = {"nbgrader.server_extensions.formgrader",
                      "nbgrader.server_extensions.course_list",
                      "nbgrader.server_extensions.assignment_list"}
LAB_ARGS = ("--no-browser --allow-root --IdentityProvider.token= "
            "--ServerApp.disable_check_xsrf=True --LabApp.expose_app_in_browser=True")
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _jupyter_env(config_path: str | None, home: Path) -> dict[str, str]:
    """The environment without the machine's own Jupyter settings or COURSE_ROOT."""
    env = {name: value for name, value in os.environ.items()
           if not name.startswith(("COURSE_", "JUPYTER"))}
    if config_path is not None:
        env["JUPYTER_CONFIG_PATH"] = config_path
    env.update(PATH=f"{BIN}{os.pathsep}{env['PATH']}",
               JUPYTERLAB_SETTINGS_DIR=str(home / "lab-settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(home / "lab-workspaces"),
               JUPYTER_RUNTIME_DIR=str(home / "runtime"))
    return env


def _page_config(config_path: str, monkeypatch: pytest.MonkeyPatch) -> dict:
    """JupyterLab's page config (disabled and locked plugins) as `jupyter lab` reads it."""
    from jupyterlab_server.config import get_static_page_config

    monkeypatch.setenv("JUPYTER_CONFIG_PATH", config_path)
    return get_static_page_config(level="all")


def _on(setting: dict | list) -> set[str]:
    return set(setting) if isinstance(setting, list) else {k for k, v in setting.items() if v}


def test_the_learner_lab_hides_nbgrader_s_instructor_plugins(
        monkeypatch: pytest.MonkeyPatch) -> None:
    learner = _page_config(f"{LEARNER_CONFIG}{os.pathsep}{SHARED_CONFIG}", monkeypatch)
    assert _on(learner["disabledExtensions"]) >= LEARNER_OFF_LAB
    assert not _on(learner["disabledExtensions"]) & LEARNER_ON_LAB
    # locked: a learner cannot switch them back on in the plugin manager
    assert _on(learner["lockedExtensions"]) >= LEARNER_OFF_LAB
    instructor = _page_config(str(SHARED_CONFIG), monkeypatch)
    assert not _on(instructor.get("disabledExtensions", {})) & (LEARNER_OFF_LAB | LEARNER_ON_LAB)


def test_the_learner_server_is_rooted_at_assignments_without_instructor_extensions() -> None:
    from traitlets.config.loader import PyFileConfigLoader

    learner = PyFileConfigLoader("jupyter_server_config.py",
                                 path=str(LEARNER_CONFIG)).load_config()
    assert Path(learner.ServerApp.root_dir) == ROOT / "assignments"
    extensions = learner.ServerApp.jpserver_extensions
    assert {name for name, on in extensions.items() if not on} == LEARNER_OFF_SERVER
    assert "nbgrader.server_extensions.validate_assignment" not in extensions
    shared = PyFileConfigLoader("jupyter_server_config.py", path=str(SHARED_CONFIG)).load_config()
    assert "root_dir" not in shared.ServerApp and "jpserver_extensions" not in shared.ServerApp
    # a plain shell: a login shell would reset PATH from /etc/profile and lose `course`
    assert "-l" not in shared.ServerApp.terminado_settings["shell_command"]


def test_check_my_answers_reads_paths_relative_to_the_server_root(tmp_path: Path) -> None:
    from course.check_service import course_relative

    notebook = "00-orientation/00-start-here.ipynb"
    assert course_relative(tmp_path, tmp_path / "assignments", notebook) == \
        f"assignments/{notebook}"  # make lab, Binder
    assert course_relative(tmp_path, tmp_path, f"assignments/{notebook}") == \
        f"assignments/{notebook}"  # make instructor, the hub's formgrader
    assert course_relative(tmp_path, tmp_path / "assignments", "../source/x.ipynb") == \
        "source/x.ipynb"  # then refused by check_notebook: not in assignments/


def _make_command(root: Path, target: str, port: int) -> str:
    """The command `make TARGET` would start JupyterLab with (``make -n``: nothing runs)."""
    dry = subprocess.run(["make", "-n", "-s", "-C", str(root), target, f"BIN={BIN}",
                          f"LAB_PORT={port}", f"LAB_ARGS={LAB_ARGS}"],
                         capture_output=True, text=True, timeout=60, check=True).stdout
    return dry[dry.index("JUPYTER_CONFIG_PATH="):]


def test_make_lab_serves_the_learner_view_and_make_instructor_everything() -> None:
    lab = _make_command(ROOT, "lab", 8888)
    instructor = _make_command(ROOT, "instructor", 8888)
    assert f"JUPYTER_CONFIG_PATH={LEARNER_CONFIG}:{SHARED_CONFIG}" in lab
    assert "root_dir" not in lab  # jupyter-config/learner roots it at assignments/
    assert "default_url=/lab/tree/00-orientation/00-start-here.ipynb" in lab
    assert f"JUPYTER_CONFIG_PATH={SHARED_CONFIG}$" in instructor
    assert str(LEARNER_CONFIG) not in instructor
    assert f"--ServerApp.root_dir={ROOT} " in instructor


@dataclass
class Server:
    url: str
    root: Path
    env: dict[str, str]


def _course_copy(base: Path) -> Path:
    root = base / "course"
    for name in ("source", "release", "jupyter-config"):
        shutil.copytree(ROOT / name, root / name,
                        ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    for name in ("nbgrader_config.py", "Makefile", "pyproject.toml", "constraints.txt"):
        shutil.copy2(ROOT / name, root / name)
    (root / "assignments").mkdir()
    shutil.copy2(ROOT / "assignments" / "README.md", root / "assignments" / "README.md")
    return root


def _serve(base: Path, target: str) -> Iterator[Server]:
    root = _course_copy(base)
    port = free_port()
    command = _make_command(root, target, port)
    env = _jupyter_env(None, base)
    if target == "lab":
        subprocess.run([str(BIN / "course"), "start", "00-orientation"], cwd=root,
                       env={**env, "COURSE_ROOT": str(root)}, check=True, capture_output=True)
    log = base / f"{target}.log"
    # Started from another folder, without a terminal: the settings must not rely on either.
    process = subprocess.Popen(["bash", "-c", command], cwd=base, env=env,
                               stdin=subprocess.DEVNULL, stdout=log.open("w"),
                               stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    from .browser.conftest import wait_until_serving

    wait_until_serving(url, process, log, f"make {target}'s JupyterLab")
    yield Server(url, root, env)
    os.killpg(process.pid, 15)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, 9)


@pytest.fixture(scope="module")
def learner_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("learner-lab"), "lab")


@pytest.fixture(scope="module")
def instructor_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    yield from _serve(tmp_path_factory.mktemp("instructor-lab"), "instructor")


def _get(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def _post(url: str, body: dict) -> tuple[int, dict]:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=300) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def _served_page_config(page: str) -> dict:
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>',
                      page, re.DOTALL)
    assert found, page[:500]
    return json.loads(found.group(1))


def _listing(server: Server, path: str = "") -> set[str]:
    status, text = _get(f"{server.url}/api/contents/{path}")
    assert status == 200, text
    return {entry["name"] for entry in json.loads(text)["content"]}


@pytest.mark.slow
def test_the_learner_file_browser_cannot_reach_source(learner_server: Server) -> None:
    assert _listing(learner_server) == {"00-orientation", "README.md"}
    assert "00-start-here.ipynb" in _listing(learner_server, "00-orientation")
    for outside in ("..%2Fsource", "../source", "%2E%2E/source/00-orientation"):
        status, _ = _get(f"{learner_server.url}/api/contents/{outside}")
        assert status in (400, 403, 404), outside


@pytest.mark.slow
def test_the_learner_server_has_no_formgrader_or_course_list(learner_server: Server) -> None:
    for path in ("formgrader", "formgrader/api/assignments", "courses", "assignments"):
        status, _ = _get(f"{learner_server.url}/{path}")
        assert status == 404, path
    status, page = _get(f"{learner_server.url}/lab/tree/00-orientation/00-start-here.ipynb")
    assert status == 200
    served = _served_page_config(page)
    assert _on(served["disabledExtensions"]) >= LEARNER_OFF_LAB
    # no build check on each page load (JupyterLab would run `yarn config` for it)
    assert served["buildCheck"] is False and served["buildAvailable"] is False


@pytest.mark.slow
def test_check_my_answers_takes_the_path_the_learner_browser_sends(
        learner_server: Server) -> None:
    status, result = _post(f"{learner_server.url}/course/check",
                           {"path": "00-orientation/00-start-here.ipynb"})
    assert status == 200, result
    assert result["notebook"] == "00-start-here" and result["items"]
    assert result["score"] == 0 and result["max_score"] > 0  # nothing answered yet
    status, result = _post(f"{learner_server.url}/course/check",
                           {"path": "../source/00-orientation/00-start-here.ipynb"})
    assert status == 400 and "assignments/" in result["message"]


async def _terminal_output(url: str, command: str) -> str:
    from tornado.websocket import websocket_connect

    status, made = _post(f"{url}/api/terminals", {})
    assert status == 200, made
    socket = await websocket_connect(f"{url.replace('http', 'ws')}/terminals/websocket/"
                                     f"{made['name']}")
    # The terminal echoes what is typed: the end marker is printed, never typed, as is.
    socket.write_message(json.dumps(["stdin", f"{command}; echo END-OF-$((40 + 2))\r"]))
    output, deadline = "", time.monotonic() + 60
    while "END-OF-42" not in output:
        message = await asyncio.wait_for(socket.read_message(), deadline - time.monotonic())
        assert message is not None, output
        kind, *data = json.loads(message)
        if kind == "stdout":
            output += data[0]
    socket.close()
    return output


@pytest.mark.slow
def test_the_course_command_works_in_the_learner_terminal(learner_server: Server) -> None:
    # from any folder: the course is found through COURSE_ROOT, `course` through PATH
    output = asyncio.run(_terminal_output(
        learner_server.url, "cd / && course --version && course start 00-orientation"))
    from course.cli_help import version

    assert f"course {version()}" in output
    assert "kept      assignments/00-orientation/00-start-here.ipynb" in output


@pytest.mark.slow
def test_the_instructor_lab_opens_everything(instructor_server: Server) -> None:
    assert {"source", "release", "assignments"} <= _listing(instructor_server)
    status, page = _get(f"{instructor_server.url}/formgrader")
    assert status == 200 and "formgrader" in page.lower()
    served = _served_page_config(_get(f"{instructor_server.url}/lab")[1])
    assert not _on(served["disabledExtensions"]) & LEARNER_OFF_LAB


def test_the_readme_opens_with_three_paths_and_says_how_to_set_the_badge() -> None:
    """Issue #18: learner, instructor and author paths first; `make lab` and `make
    instructor` both shown; a LICENSE; the Binder badge real, or how to set it said."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    first = readme.split("\n## ")[1]
    assert first.startswith("Three ways in")
    starts = [first.index(f"**{who}**") for who in ("Learners", "Instructors", "Authors")]
    assert starts == sorted(starts)
    assert "make lab" in first and "make instructor" in first and "make test" in first
    assert "source .venv/bin/activate" in first  # `course` outside JupyterLab's terminal
    badge = re.search(r"\(https://mybinder\.org/v2/gh/([^/]+/[^/]+)/", readme)
    assert badge, "a Binder badge"
    if badge.group(1) == "OWNER/REPO":
        assert "replace `OWNER/REPO`" in readme
    license_text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "CC BY 4.0" in license_text and "MIT" in license_text
    assert "[LICENSE](LICENSE)" in readme
