"""The screening form: a view over course.risk.assess that never decides by itself.

The expected results are the engine's own: every check compares what the form shows
with `assess` on the same patient, so no rule is written twice.
"""

from __future__ import annotations

from typing import Any

import pytest

from course import TEACHING_AID_LABEL
from course.content import INDICATIONS, content
from course.risk import (
    BOOLEAN_FIELDS,
    DECISIONS,
    DIABETES_STATES,
    PRODUCT_SOURCES,
    SEXES,
    Assessment,
    Reason,
    assess,
)
from course.screening import (
    DECISION_DISPLAY,
    FIELD_LABELS,
    assessment_html,
    assessment_text,
    decision_words,
    patient_from_values,
    screening_result,
)
from course.views.screening import screening_form

CONTRACT_FIELDS = {"age", "indication", "area", "substance", "product_source", "diabetes",
                   "allergies", "sex", "childbearing_potential", *BOOLEAN_FIELDS}

PATIENTS: list[dict[str, Any]] = [
    {"age": 40, "indication": "skin_rejuvenation", "substance": "hyaluronic_acid",
     "product_source": "licensed"},
    {"age": 16, "indication": "cellulite", "substance": "caffeine", "product_source": "licensed"},
    {"age": 55, "indication": "submental_fat", "substance": "deoxycholic_acid",
     "product_source": "licensed", "area": "submental", "dysphagia_history": True,
     "anticoagulant": True},
    {"age": 45, "indication": "musculoskeletal_pain", "substance": "lidocaine",
     "allergies": ["lidocaine"], "epilepsy": True, "diabetes": "poorly_controlled"},
    {"age": 35, "indication": "hair_loss", "substance": "dutasteride",
     "product_source": "licensed", "planning_pregnancy": True, "bdd_screen_positive": True},
    {"age": 29, "indication": "melasma", "substance": "tranexamic_acid",
     "product_source": "licensed", "breastfeeding": True, "keloid_tendency": True},
    {"age": 62, "indication": "skin_rejuvenation", "substance": "polynucleotides",
     "product_source": "licensed", "active_cancer": True, "allergies": ["fish"]},
    {"age": 50, "indication": "skin_rejuvenation", "substance": "vitamin_c",
     "product_source": "licensed", "immunosuppressed": True, "antiplatelet": True},
    {"age": 38, "indication": "localized_fat", "substance": "deoxycholic_acid",
     "area": "Under the chin", "product_source": "licensed", "heart_disease": True},
    # Contract v2: new fields and free-text allergies matched by class
    {"age": 57, "sex": "female", "childbearing_potential": False, "indication": "melasma",
     "substance": "tranexamic_acid", "product_source": "licensed", "thrombosis_history": True},
    {"age": 34, "sex": "female", "indication": "hair_loss", "substance": "dutasteride",
     "product_source": "licensed"},
    {"age": 41, "sex": "male", "childbearing_potential": True, "indication": "other",
     "substance": "hyaluronidase", "product_source": "licensed",
     "allergies": ["Wasp stings", "penicillin"]},
]


BLANK: dict[str, Any] = {"area": "", "product_source": "", "diabetes": "none",
                         "allergies": "", "sex": "", "childbearing_potential": "",
                         **dict.fromkeys(BOOLEAN_FIELDS, False)}
"""What the form shows for a field the patient record leaves out."""


def fill(form, patient: dict[str, Any]) -> None:
    """Set every input widget as a learner would (blank where not given), then Screen."""
    for name, value in {**BLANK, **patient}.items():
        if name == "allergies":
            value = ", ".join(value)
        form.inputs[name].value = value
    form.screen_button.click()


# ---------------------------------------------------------------- pure functions


def test_patient_from_values_only_converts() -> None:
    values = {"age": 30, "indication": "other", "substance": "lidocaine", "area": "  knee ",
              "product_source": "", "allergies": "lidocaine; fish,\n , procaine",
              "pregnant": False, "epilepsy": True}
    assert patient_from_values(values) == {
        "age": 30, "indication": "other", "substance": "lidocaine", "area": "knee",
        "allergies": ["lidocaine", "fish", "procaine"], "pregnant": False, "epilepsy": True,
    }
    blank = patient_from_values({"age": 30, "area": " ", "product_source": None,
                                 "allergies": " , ", "sex": "", "childbearing_potential": ""})
    assert blank == {"age": 30}
    recorded = patient_from_values({"sex": "female", "childbearing_potential": False})
    assert recorded == {"sex": "female", "childbearing_potential": False}
    assert patient_from_values({"allergies": [" fish ", ""]}) == {"allergies": ["fish"]}
    # Nothing is judged here: bad values and unknown fields pass through to the engine.
    assert patient_from_values({"age": 999, "shoe_size": 9}) == {"age": 999, "shoe_size": 9}
    assert patient_from_values({"allergies": 3}) == {"allergies": 3}


def test_every_decision_has_words_and_a_symbol_and_every_field_a_label() -> None:
    assert set(DECISION_DISPLAY) == set(DECISIONS)
    symbols = [symbol for symbol, _ in DECISION_DISPLAY.values()]
    assert len(set(symbols)) == len(DECISIONS)
    assert decision_words("proceed_with_precautions") == "▲ Proceed with precautions"
    assert set(FIELD_LABELS) == CONTRACT_FIELDS


@pytest.mark.parametrize("patient", PATIENTS)
def test_text_and_html_show_the_engines_decision_and_every_reason(patient) -> None:
    assessment = assess(patient)
    text, html = assessment_text(assessment), assessment_html(assessment)
    assert text.splitlines()[0] == f"Decision: {decision_words(assessment.decision)}"
    assert f"Decision: {DECISION_DISPLAY[assessment.decision][1]}" in html
    assert 'role="status"' in html and "<svg" in html
    for reason in assessment.reasons:
        assert f"{reason.code}: {reason.text}" in text
        assert f"<code>{reason.code}</code>" in html
    assert text.splitlines()[-1] == TEACHING_AID_LABEL
    assert TEACHING_AID_LABEL in html


def test_html_is_escaped() -> None:
    made_up = Assessment("refer", [Reason("REFER_X", "<script>x</script> & more")])
    html = assessment_html(made_up)
    assert "<script>" not in html and "&lt;script&gt;x&lt;/script&gt; &amp; more" in html
    assert "REFER_X: <script>x</script> & more" in assessment_text(made_up)


def test_screening_result_shows_the_engines_error_instead_of_raising() -> None:
    bad = {**PATIENTS[0], "age": 150}
    with pytest.raises(ValueError) as error:
        assess(bad)
    text, html = screening_result(bad)
    assert "age" in str(error.value) and "Cannot screen" in text
    assert "Enter the age in years: a whole number from 0 to 120." in text
    assert "field 'age'" not in text and "field 'age'" not in html  # no developer message
    assert 'role="alert"' in html
    assert TEACHING_AID_LABEL in text and TEACHING_AID_LABEL in html
    text, _ = screening_result({**PATIENTS[0], "shoe_size": 9})
    assert "Check the details entered" in text and "shoe_size" not in text


# ---------------------------------------------------------------- the widget


def test_form_has_one_input_per_contract_field_with_the_engines_choices() -> None:
    form = screening_form()
    assert set(form.inputs) == CONTRACT_FIELDS
    kinds = {name: type(widget).__name__ for name, widget in form.inputs.items()}
    assert kinds["age"] in ("IntText", "BoundedIntText")
    for name in ("indication", "substance", "product_source", "diabetes", "sex",
                 "childbearing_potential"):
        assert kinds[name] == "Dropdown", name
    assert kinds["area"] == "Text" and kinds["allergies"] in ("Text", "TagsInput")
    for name in BOOLEAN_FIELDS:
        assert kinds[name] == "Checkbox", name
        assert form.inputs[name].description == FIELD_LABELS[name]

    def values(name: str) -> list[Any]:
        return [value for _, value in form.inputs[name].options]

    assert values("indication") == list(INDICATIONS)
    assert values("substance") == list(content().substances)
    assert values("diabetes") == list(DIABETES_STATES)
    assert values("product_source")[:-1] == list(PRODUCT_SOURCES)
    assert values("sex") == ["", *SEXES]
    assert values("childbearing_potential") == ["", True, False]
    assert form.screen_button.description == "Screen"


def test_label_is_visible_before_and_after_screening() -> None:
    form = screening_form()
    assert TEACHING_AID_LABEL in form.label.value and form.label in form.view.children
    assert TEACHING_AID_LABEL in form.text.value and TEACHING_AID_LABEL in form.result.value
    form.screen_button.click()
    assert TEACHING_AID_LABEL in form.text.value and TEACHING_AID_LABEL in form.result.value


@pytest.mark.parametrize("patient", PATIENTS)
def test_screening_through_the_form_equals_assess(patient) -> None:
    form = screening_form()
    fill(form, patient)
    expected = assess(patient)
    assert form.text.value == assessment_text(expected)
    assert form.result.value == assessment_html(expected)
    assert decision_words(expected.decision) in form.text.value
    for reason in expected.reasons:
        assert reason.code in form.text.value


def test_the_patients_cover_several_decisions() -> None:
    assert {assess(p).decision for p in PATIENTS} == set(DECISIONS)


def test_not_recorded_source_and_blank_area_are_left_to_the_engine() -> None:
    form = screening_form()
    form.inputs["product_source"].value = ""
    form.inputs["area"].value = "   "
    form.screen_button.click()
    patient = {"age": 40, "indication": "skin_rejuvenation", "substance": "hyaluronic_acid"}
    assert form.text.value == assessment_text(assess(patient))
    assert "PRECAUTION_PRODUCT_SOURCE_NOT_RECORDED" in form.text.value


@pytest.mark.parametrize("age", [150, -1])
def test_invalid_age_shows_a_plain_sentence_and_does_not_raise(age: int) -> None:
    form = screening_form()
    form.inputs["age"].value = age
    form.screen_button.click()  # must not raise
    with pytest.raises(ValueError):
        assess({**patient_from_values(form.values())})
    assert "Enter the age in years: a whole number from 0 to 120." in form.text.value
    assert "field 'age'" not in form.text.value and "field 'age'" not in form.result.value
    assert "Enter the age in years" in form.result.value
    assert TEACHING_AID_LABEL in form.result.value
    assert "Decision:" not in form.text.value


def test_changing_an_input_marks_the_result_out_of_date() -> None:
    form = screening_form()
    form.screen_button.click()
    assert form.text.value.startswith("Decision: √ Proceed")
    form.inputs["pregnant"].value = True
    assert "press Screen to update" in form.text.value
    assert TEACHING_AID_LABEL in form.text.value and "Decision:" not in form.text.value
    form.screen_button.click()
    assert "DEFER_PREGNANT" in form.text.value


def test_form_can_start_from_a_patient_and_refuses_unknown_fields() -> None:
    form = screening_form(PATIENTS[2])
    assert form.inputs["area"].value == "submental" and form.inputs["anticoagulant"].value
    form.screen()
    assert form.text.value == assessment_text(assess(PATIENTS[2]))
    with pytest.raises(ValueError, match="unknown patient field 'shoe_size'"):
        screening_form({"shoe_size": 9})
    with pytest.raises(ValueError, match="patient field 'substance'"):
        screening_form({"substance": "unicorn_extract"})


def test_form_displays_its_view_with_the_text_equivalent(monkeypatch) -> None:
    form = screening_form()
    form.screen_button.click()
    bundle = form._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == form.text.value
    shown = []
    monkeypatch.setattr("IPython.display.display",
                        lambda obj, raw=False: shown.append((obj, raw)))
    form._ipython_display_()
    assert shown and shown[0][1] is True
    assert shown[0][0]["text/plain"] == form.text.value
    assert form.text in form.view.children and form.result in form.view.children


def test_rules_table_lists_every_rule_with_the_label() -> None:
    from course.risk import rules
    from course.screening import rules_table

    table = rules_table()
    for rule in rules().rules:
        assert f"{rule.code:<48} {rule.decision:<26} {', '.join(rule.refs)}" in table
    assert table.endswith("Teaching aid — not a validated clinical tool")


def test_the_form_records_sex_and_pregnancy_potential_or_leaves_them_out() -> None:
    patient = {"age": 34, "indication": "hair_loss", "substance": "dutasteride",
               "product_source": "licensed"}
    form = screening_form({**patient, "sex": "female"})
    form.screen()
    assert "PRECAUTION_CHILDBEARING_POTENTIAL_NOT_RECORDED" in form.text.value
    form.inputs["childbearing_potential"].value = True
    form.screen()
    assert form.text.value == assessment_text(assess({**patient, "sex": "female",
                                                      "childbearing_potential": True}))
    assert "Decline" in form.text.value
    form.set_values({"sex": None, "childbearing_potential": None})
    assert patient_from_values(form.values()).keys() >= patient.keys()
    assert "sex" not in patient_from_values(form.values())
    assert "childbearing_potential" not in patient_from_values(form.values())
