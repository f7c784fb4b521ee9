"""The consent record: its elements (clinical-brief.md §6, §7) and feedback on a record."""

from __future__ import annotations

from pathlib import Path

import pytest

from course.consent import (
    consent_elements,
    consent_feedback,
    consent_scenarios,
    consent_score,
    element_results,
    is_filler,
    load_consent,
    load_consent_data,
    missing_elements,
)
from course.content import ContentError, content

ELEMENTS = [
    "advantages_limitations", "off_label_status", "product_regulatory_status",
    "number_of_sessions", "realistic_outcome", "alternatives", "specific_risks", "aftercare",
    "cooling_off_period", "photographs_documentation", "batch_number",
]
SCENARIO = "adeyemi_txa_melasma"

# A record with the content every element needs (Mrs Adeyemi, question 3.4.4).
GOOD = {
    "advantages_limitations": "May lighten melasma; intradermal route not shown better than "
                              "adjuvant care.",
    "off_label_status": "Told: intradermal tranexamic acid is off-label, and I am responsible "
                        "for that use.",
    "product_regulatory_status": "Licensed tranexamic acid injection, used off-label by the "
                                 "intradermal route.",
    "number_of_sessions": "Four sessions planned; told there is no standard schedule.",
    "realistic_outcome": "Partial lightening at best; melasma may persist or return.",
    "alternatives": "Sun protection, topical treatment, oral treatment via her doctor, or none.",
    "specific_risks": "Pain, swelling, bruising, pigment change, mycobacterial infection, "
                      "scarring.",
    "aftercare": "Avoid make-up on the punctures, heat, saunas, hard exercise and sun for 48 h; "
                 "bruising and swelling expected; call for spreading redness, fever, lumps "
                 "weeks later, blanching or dusky skin, or any change in vision.",
    "cooling_off_period": "Two weeks between consultation and first session.",
    "photographs_documentation": "Standardised photographs with her agreement; discussion "
                                 "written up.",
    "batch_number": "Batch number recorded at the first session.",
}


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
    aftercare = elements["aftercare"].why
    for word in ("24–48 hours", "make-up", "saunas", "exercise", "sun", "bruising",
                 "spreading redness", "fever", "abscess weeks later", "dusky", "visual"):
        assert word in aftercare, word
    for element in elements.values():
        assert set(element.refs) <= set(content().references)
        assert element.claims and set(element.claims) <= set(content().claims)
        assert element.needs, element.id


def test_a_good_record_covers_every_element_with_and_without_the_scenario() -> None:
    assert missing_elements(GOOD) == []
    assert missing_elements(GOOD, SCENARIO) == []
    assert consent_score(GOOD, SCENARIO) == (len(ELEMENTS), len(ELEMENTS))
    assert "Nothing is missing" in consent_feedback(GOOD, SCENARIO)


def test_ticks_and_non_empty_notes_without_content_cover_nothing() -> None:
    assert missing_elements({}) == ELEMENTS
    assert missing_elements(dict.fromkeys(ELEMENTS, True)) == ELEMENTS
    assert missing_elements(dict.fromkeys(ELEMENTS, "Discussed with the patient.")) == ELEMENTS
    assert missing_elements(dict.fromkeys(ELEMENTS, "Talked it through fully.")) == ELEMENTS
    assert consent_score(dict.fromkeys(ELEMENTS, True)) == (0, len(ELEMENTS))


@pytest.mark.parametrize("filler", [
    "n/a", "N/A", "discussed", "Discussed.", "done", "lorem ipsum", "Lorem ipsum dolor sit amet",
    "lorem ipsum scarring infection sun fever", "scarring scarring scarring scarring",
    "batch batch batch", "see notes", "as per standard form", "   ok   ",
])
def test_filler_scores_zero_for_each_element(filler: str) -> None:
    assert is_filler(filler)
    record = dict.fromkeys(ELEMENTS, filler)
    assert consent_score(record, SCENARIO) == (0, len(ELEMENTS))
    assert {r.status for r in element_results(record)} == {"filler"}


def test_real_notes_are_not_filler() -> None:
    for note in GOOD.values():
        assert not is_filler(note), note


def test_a_partial_record_scores_only_the_elements_with_their_content() -> None:
    partial = dict(GOOD)
    partial["specific_risks"] = "Bruising, swelling and some pain."          # key risks missing
    partial["alternatives"] = "Alternatives discussed."                        # no real one
    partial["aftercare"] = "Avoid saunas and the gym for two days."            # no when-to-call
    partial["off_label_status"] = "Told the product is used off-label."        # no responsibility
    partial["batch_number"] = True                                             # a tick only
    partial["cooling_off_period"] = ""                                         # not recorded
    missing = missing_elements(partial)
    assert missing == ["off_label_status", "alternatives", "specific_risks", "aftercare",
                       "cooling_off_period", "batch_number"]
    assert consent_score(partial) == (len(ELEMENTS) - 6, len(ELEMENTS))
    results = {r.id: r for r in element_results(partial)}
    assert results["specific_risks"].lacking == ("mycobacterial (NTM) or other infection",
                                                 "scarring")
    assert results["aftercare"].status == "incomplete"
    assert "when to call" in results["aftercare"].lacking[0]
    assert results["batch_number"].status == "tick only"
    assert results["cooling_off_period"].status == "not recorded"
    text = consent_feedback(partial)
    assert f"{len(ELEMENTS) - 6} of {len(ELEMENTS)} elements" in text
    assert "does not name mycobacterial (NTM) or other infection; nor scarring" in text
    assert "a tick (True) shows nothing" in text


def test_the_scenario_adds_the_risks_that_matter_for_the_patient() -> None:
    assert SCENARIO in consent_scenarios()
    record = dict(GOOD, specific_risks="Mycobacterial infection weeks later, and scarring.",
                  alternatives="Topical cream, or no treatment.")
    assert missing_elements(record) == []
    assert missing_elements(record, SCENARIO) == ["alternatives", "specific_risks"]
    lacking = {r.id: r.lacking for r in element_results(record, SCENARIO)}
    assert "pigment change" in lacking["specific_risks"][0]
    assert "sun protection" in lacking["alternatives"][0]
    with pytest.raises(ValueError, match="unknown consent scenario 'nobody'"):
        missing_elements(GOOD, "nobody")


def test_short_words_match_whole_words_only() -> None:
    # "sun" inside "Sunday" is not sun advice; "sun" as a word is.
    avoid_sunday = dict(GOOD, aftercare="Review on Sunday; call for fever or redness.")
    assert "aftercare" in missing_elements(avoid_sunday)
    avoid_sun = dict(GOOD, aftercare="Avoid sun for two days; call for fever or redness.")
    assert "aftercare" not in missing_elements(avoid_sun)


def test_unknown_keys_and_bad_values_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match=r"unknown element id\(s\) 'signature', 'price'") as err:
        missing_elements({"signature": True, "alternatives": True, "price": "£200"})
    assert "known elements: advantages_limitations" in str(err.value)
    with pytest.raises(ValueError, match=r"element 'batch_number' must be a note \(a string\); "
                                         r"got 123"):
        missing_elements({"batch_number": 123})
    with pytest.raises(ValueError, match="must be a dict"):
        missing_elements(["alternatives"])  # type: ignore[arg-type]


def test_feedback_says_what_is_complete_and_what_is_missing_and_why() -> None:
    record = {"advantages_limitations": GOOD["advantages_limitations"],
              "off_label_status": GOOD["off_label_status"]}
    text = consent_feedback(record)
    elements = consent_elements()
    assert text.splitlines()[0] == (f"Consent record: 2 of {len(ELEMENTS)} elements recorded "
                                    f"with the content they need.")
    assert "Recorded: Advantages and limitations; Off-label status" in text
    for element_id in missing_elements(record):
        element = elements[element_id]
        assert f"- {element.label} (not recorded): {element.why} " \
               f"(References: {', '.join(element.refs)})" in text
    assert f"- {elements['advantages_limitations'].label} (" not in text
    assert "GK = expert practice" in text


def test_feedback_on_a_complete_record() -> None:
    text = consent_feedback(GOOD)
    assert f"{len(ELEMENTS)} of {len(ELEMENTS)} elements recorded" in text
    assert "Nothing is missing" in text and "Missing or incomplete" not in text
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

[[element.off_label_status.need]]
what = "off-label use"
words = ["off-label"]

[element.cooling_off_period]
label = "Cooling-off period"
why = "A cooling-off period is generally advised (expert practice)."
basis = "expert_practice"
refs = ["GK"]
claims = ["consent_cooling_off"]

[[element.cooling_off_period.need]]
what = "time to decide"
words = ["week", "day"]

[scenario.someone]
label = "Someone"

[[scenario.someone.need]]
element = "cooling_off_period"
what = "two weeks"
words = ["two weeks"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "consent.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_loads_through_the_loader(tmp_path: Path) -> None:
    elements = load_consent(_write(tmp_path, VALID))
    assert list(elements) == ["off_label_status", "cooling_off_period"]
    assert elements["off_label_status"].needs[0].words == ("off label",)
    data = load_consent_data(_write(tmp_path, VALID))
    assert [e for e, _ in data.scenarios["someone"].needs] == ["cooling_off_period"]


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
         r"unknown table 'scores' \(known: element, scenario\)"),
        ("[element.cooling_off_period]", "[broken", r"not valid TOML"),
        ('words = ["week", "day"]', 'words = []',
         r"element 'cooling_off_period': need 1: field 'words' must be a non-empty list"),
        ('what = "time to decide"\n', "",
         r"element 'cooling_off_period': need 1: missing required field 'what'"),
        ('[[element.cooling_off_period.need]]\nwhat = "time to decide"\nwords = ["week", "day"]\n',
         "", r"element 'cooling_off_period': missing required field 'need'"),
        ('element = "cooling_off_period"', 'element = "price"',
         r"scenario 'someone': need 1: unknown element 'price'"),
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
