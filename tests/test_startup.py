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


def _run(prelude: str, code: str = CHECK) -> dict:
    done = subprocess.run([sys.executable, "-c", prelude + code, json.dumps(IRIS)],
                          capture_output=True, text=True, check=True)
    return json.loads(done.stdout)


@pytest.mark.slow
def test_importing_course_defers_the_grammar_and_checks_stay_the_same():
    plain = _run("")
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
    assert _run("import course\n", code) == _run("", code)


@pytest.mark.slow
def test_a_module_already_imported_is_left_alone():
    code = """
import sys, rfc3987_syntax
real = sys.modules["rfc3987_syntax"]
from course.startup import defer_iri_grammar
print(json.dumps([defer_iri_grammar(), sys.modules["rfc3987_syntax"] is real]))
"""
    assert _run("import json\n", code) == [False, True]
