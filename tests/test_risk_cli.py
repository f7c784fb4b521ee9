"""`course risk PATIENT.json`: the JSON it prints, and one clear line for bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from course import TEACHING_AID_LABEL
from course.risk import assess

PATIENT = {"age": 52, "indication": "musculoskeletal_pain", "substance": "ketoprofen",
           "product_source": "licensed", "anticoagulant": True, "pregnant": False}


def run_risk(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "course.cli", "risk", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_a_valid_patient_prints_the_assessment_as_json(tmp_path: Path) -> None:
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(PATIENT), encoding="utf-8")
    result = run_risk(path)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert set(data) == {"decision", "reasons", "disclaimer"}
    assert data["decision"] == "proceed_with_precautions"
    assert [reason["code"] for reason in data["reasons"]] == ["PRECAUTION_ANTICOAGULANT",
                                                              "PRECAUTION_NSAID_ANTITHROMBOTIC"]
    assert "cosmetic" not in lines[0]  # a therapeutic indication is never called cosmetic
    assert all(set(reason) == {"code", "text"} and isinstance(reason["text"], str)
               for reason in data["reasons"])
    assert data["disclaimer"] == TEACHING_AID_LABEL
    assert lines[0] == json.dumps(assess(PATIENT).to_dict())


V2_PATIENT = {"age": 58, "sex": "female", "childbearing_potential": False,
              "thrombosis_history": True, "anticoagulant": True, "indication": "melasma",
              "substance": "tranexamic_acid", "product_source": "licensed",
              "allergies": ["Lignocaine", "smoked salmon"]}


def test_the_v2_fields_reach_the_engine(tmp_path: Path) -> None:
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(V2_PATIENT), encoding="utf-8")
    result = run_risk(path)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["decision"] == "decline"
    assert data["reasons"][0]["code"] == "DECLINE_ANTIFIBRINOLYTIC_THROMBOSIS_RISK"
    assert data == assess(V2_PATIENT).to_dict()


BAD_INPUTS = {
    "bad_json": ('{"age": 40,', "not valid JSON"),
    "sex": (json.dumps({**PATIENT, "sex": "F"}), "'sex' must be one of female, male, other"),
    "childbearing": (json.dumps({**PATIENT, "childbearing_potential": "no"}),
                     "'childbearing_potential' must be true or false"),
    "huge_allergy": (json.dumps({**PATIENT, "allergies": ["x" * 5000]}), "'allergies'"),
    "too_large": (json.dumps({**PATIENT, "area": "x" * 70_000}), "larger than 64 KB"),
    "huge_number": ('{"age": ' + "9" * 5000 + "}", "not valid JSON"),
    "array": ("[1, 2]", "expected a JSON object"),
    "unknown_field": (json.dumps({**PATIENT, "smoker": True}), "'smoker'"),
    "age_is_bool": (json.dumps({**PATIENT, "age": True}), "'age'"),
}


@pytest.mark.parametrize("case", [*BAD_INPUTS, "missing_file", "directory", "not_utf8"])
def test_bad_input_prints_one_clear_line_and_exits_2(tmp_path: Path, case: str) -> None:
    path = tmp_path / "patient.json"
    if case in BAD_INPUTS:
        text, expected = BAD_INPUTS[case]
        path.write_text(text, encoding="utf-8")
    elif case == "missing_file":
        expected = "no such file"
    elif case == "directory":
        path.mkdir()
        expected = "cannot read"
    else:
        path.write_bytes(b"\xff\xfe{}")
        expected = "not a UTF-8 text file"
    result = run_risk(path)
    assert result.returncode == 2
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("course risk: ") and expected in lines[0]


def test_broken_course_data_is_a_failure_not_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import course.risk
    from course.cli import main
    from course.content import ContentError

    def broken() -> None:
        raise ContentError("risk_rules.toml: rule 'X': unknown reference id 'R999'")

    monkeypatch.setattr(course.risk, "rules", broken)
    path = tmp_path / "patient.json"
    path.write_text(json.dumps(PATIENT), encoding="utf-8")
    assert main(["risk", str(path)]) == 1
    assert "unknown reference id 'R999'" in capsys.readouterr().err


def test_an_endless_input_is_not_read_without_limit() -> None:
    result = run_risk(Path("/dev/zero"))
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and "larger than 64 KB" in lines[0] and "not read further" in lines[0]
