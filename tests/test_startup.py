"""course.startup: jsonschema's IRI grammar is built at first use, with the same results."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

IRIS = ["http://example.org/a b", "http://example.org/ä", "x", "", "http://[::1",
        "urn:isbn:0451450523", "//host/path?q#f", "http://exa mple.org"]

CHECK = """
import json, sys
from jsonschema import FormatChecker
checker = FormatChecker()
iris = json.loads(sys.argv[1])
print(json.dumps({"loaded_before_use": "rfc3987_syntax.syntax_helpers" in sys.modules,
                  "iri": [checker.conforms(v, "iri") for v in iris],
                  "iri-reference": [checker.conforms(v, "iri-reference") for v in iris],
                  "loaded_after_use": "rfc3987_syntax.syntax_helpers" in sys.modules}))
"""


UNDEFERRED = 'import sys; sys.modules.pop("rfc3987_syntax", None)\n'
"""Undoes the start-up hook (where ``make`` installed it) in a test's subprocess: the
real module is imported again, as in an environment without the hook."""


def _run(prelude: str, code: str = CHECK) -> dict:
    done = subprocess.run([sys.executable, "-c", prelude + code, json.dumps(IRIS)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.slow
def test_importing_course_defers_the_grammar_and_checks_stay_the_same():
    plain = _run(UNDEFERRED)
    deferred = _run("import course, nbformat\n")
    assert plain["loaded_before_use"] is True
    assert deferred["loaded_before_use"] is False
    assert deferred["loaded_after_use"] is True
    assert deferred["iri"] == plain["iri"]
    assert deferred["iri-reference"] == plain["iri-reference"]
    assert False in plain["iri"] and True in plain["iri"]  # the inputs do tell IRIs apart


@pytest.mark.slow
def test_the_stand_in_gives_the_real_names():
    code = """
import json, rfc3987_syntax
from rfc3987_syntax import *
kind = rfc3987_syntax.RFC3987_SYNTAX_PARSER_TYPE
names = sorted(n for n in dir(rfc3987_syntax) if not n.startswith("_"))
print(json.dumps([kind, names, bool(parse("iri", "http://example.org/"))]))
"""
    assert _run("import course\n", code) == _run(UNDEFERRED, code)


@pytest.mark.slow
def test_a_module_already_imported_is_left_alone():
    code = """
import sys, rfc3987_syntax
real = sys.modules["rfc3987_syntax"]
from course.startup import defer_iri_grammar
print(json.dumps([defer_iri_grammar(), sys.modules["rfc3987_syntax"] is real]))
"""
    assert _run(UNDEFERRED + "import json\n", code) == [False, True]


HOOKED = """
import json, site, sys
sys.path[:0] = json.loads(sys.argv[1])  # the course and site-packages, no .pth run
site.addsitedir(sys.argv[2])            # runs only the .pth files there
import jsonschema
print(json.dumps(["course" in sys.modules, "rfc3987_syntax.syntax_helpers" in sys.modules]))
"""


def _start_with(tmp_path, course_folder, hook: bool) -> tuple[list, str]:
    """A Python started without site-packages' .pth files, then given ``tmp_path``'s."""
    import sysconfig

    from course.startup import install_startup_hook

    if hook:
        install_startup_hook(tmp_path)
    paths = [str(course_folder), sysconfig.get_paths()["purelib"]]
    done = subprocess.run([sys.executable, "-S", "-c", HOOKED, json.dumps(paths), str(tmp_path)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout), done.stderr


@pytest.mark.slow
def test_the_startup_hook_imports_the_course_before_jsonschema(tmp_path):
    from .conftest import ROOT

    assert _start_with(tmp_path, ROOT, hook=False) == ([False, True], "")
    assert _start_with(tmp_path, ROOT, hook=True) == ([True, False], "")


@pytest.mark.slow
def test_a_course_that_cannot_be_imported_does_not_stop_python(tmp_path):
    broken = tmp_path / "broken"
    (broken / "course").mkdir(parents=True)
    (broken / "course" / "__init__.py").write_text("raise ImportError('half-edited')\n")
    hooks = tmp_path / "site"
    hooks.mkdir()
    result, stderr = _start_with(hooks, broken, hook=True)
    assert result == [False, True] and stderr == ""
