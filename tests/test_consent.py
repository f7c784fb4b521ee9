"""The consent record: its elements (clinical-brief.md §6, §7) and feedback on a record."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.consent import consent_elements, consent_feedback, load_consent, missing_elements
from course.content import ContentError, content

ELEMENTS = [
    "advantages_limitations", "off_label_status", "product_regulatory_status",
    "number_of_sessions", "realistic_outcome", "alternatives", "specific_risks",
    "cooling_off_period", "photographs_documentation", "batch_number",
]


def test_elements_follow_the_brief_and_mark_expert_practice() -> None:
    elements = consent_elements()
    assert list(elements) == ELEMENTS
    assert elements["advantages_limitations"].basis == "sourced"
    assert "R1" in elements["advantages_limitations"].refs
    assert elements["off_label_status"].basis == "sourced"
    assert elements["off_label_status"].refs == ("R8",)
    assert "responsible" in elements["off_label_status"].why
    for element_id in ELEMENTS[2:]:
        element = elements[element_id]
        assert element.basis == "expert_practice", element_id
        assert "GK" in element.refs and "(expert practice)" in element.why, element_id
        assert "generally advised" in element.why, element_id
    risks = elements["specific_risks"]
    assert "NTM" in risks.why and "scarring" in risks.why
    for element in elements.values():
        assert set(element.refs) <= set(content().references)
        assert element.claims and set(element.claims) <= set(content().claims)


def test_an_empty_record_misses_everything_and_a_full_one_nothing() -> None:
    assert missing_elements({}) == ELEMENTS
    assert missing_elements(dict.fromkeys(ELEMENTS, True)) == []
    notes = {e: f"discussed {e}" for e in ELEMENTS}
    assert missing_elements(notes) == []


def test_blank_false_and_none_count_as_missing_in_data_order() -> None:
    record = {
        "batch_number": "LOT 123", "advantages_limitations": True,
        "alternatives": "", "cooling_off_period": "   ", "specific_risks": False,
        "realistic_outcome": None,
    }
    assert missing_elements(record) == [
        e for e in ELEMENTS if e not in ("batch_number", "advantages_limitations")
    ]


def test_unknown_keys_and_bad_values_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"unknown element id\(s\) 'signature', 'price'") as err:
        missing_elements({"signature": True, "alternatives": True, "price": "£200"})
    assert "known elements: advantages_limitations" in str(err.value)
    with pytest.raises(ValueError, match=r"element 'batch_number' must be a non-empty string "
                                         r"or True; got 123"):
        missing_elements({"batch_number": 123})
    with pytest.raises(ValueError, match="must be a dict"):
        missing_elements(["alternatives"])  # type: ignore[arg-type]


def test_feedback_says_what_is_complete_and_what_is_missing_and_why() -> None:
    record = {"advantages_limitations": True, "off_label_status": "told: off-label use"}
    text = consent_feedback(record)
    elements = consent_elements()
    assert text.splitlines()[0] == f"Consent record: 2 of {len(ELEMENTS)} elements recorded."
    assert "Recorded: Advantages and limitations; Off-label status" in text
    for element_id in missing_elements(record):
        element = elements[element_id]
        assert f"- {element.label}: {element.why} (References: {', '.join(element.refs)})" \
            in text
    assert f"- {elements['advantages_limitations'].label}:" not in text
    assert "GK = expert practice" in text


def test_feedback_on_a_complete_record() -> None:
    text = consent_feedback(dict.fromkeys(ELEMENTS, True))
    assert f"{len(ELEMENTS)} of {len(ELEMENTS)} elements recorded" in text
    assert "Nothing is missing" in text and "Missing," not in text
    with pytest.raises(ValueError, match="unknown element"):
        consent_feedback({"nonsense": True})


# ---------------------------------------------------------------- data validation

VALID = """
[element.off_label_status]
label = "Off-label status"
why = "The patient must be told about off-label use [R8]."
basis = "sourced"
refs = ["R8"]
claims = ["consent_off_label_responsibility"]

[element.cooling_off_period]
label = "Cooling-off period"
why = "A cooling-off period is generally advised (expert practice)."
basis = "expert_practice"
refs = ["GK"]
claims = ["consent_cooling_off"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "consent.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_loads_through_the_loader(tmp_path: Path) -> None:
    elements = load_consent(_write(tmp_path, VALID))
    assert list(elements) == ["off_label_status", "cooling_off_period"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('refs = ["R8"]', 'refs = ["R8", "R999"]',
         r"element 'off_label_status': field 'refs': unknown reference id 'R999'"),
        ('refs = ["R8"]', 'refs = ["R1"]',
         r"element 'off_label_status': field 'why' cites 'R8', which is not in 'refs'"),
        ('refs = ["R8"]', 'refs = ["R8", "R1"]',
         r"element 'off_label_status': field 'refs': 'R1' is not cited in 'why'"),
        ('basis = "sourced"', 'basis = "folklore"',
         r"element 'off_label_status': field 'basis' must be one of sourced, expert_practice"),
        ('basis = "expert_practice"', 'basis = "sourced"',
         r"element 'cooling_off_period': an 'expert_practice' element, and only one, cites GK"),
        ('claims = ["consent_cooling_off"]', 'claims = ["made_up"]',
         r"element 'cooling_off_period': field 'claims': unknown claim id 'made_up'"),
        ('label = "Cooling-off period"\n', "",
         r"element 'cooling_off_period': missing required field 'label'"),
        ('label = "Cooling-off period"', 'label = "Cooling-off period"\nweight = 2',
         r"element 'cooling_off_period': unknown field 'weight'"),
        ("[element.off_label_status]", "[scores]\nx = 1\n[element.off_label_status]",
         r"unknown table 'scores'"),
        ("[element.cooling_off_period]", "[broken", r"not valid TOML"),
    ],
)
def test_invalid_data_is_refused_naming_file_record_and_field(
        tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in VALID
    with pytest.raises(ContentError, match=message) as error:
        load_consent(_write(tmp_path, VALID.replace(old, new, 1)))
    assert "consent.toml" in str(error.value)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match=r"expected one or more \[element.<id>\] tables"):
        load_consent(_write(tmp_path, ""))
