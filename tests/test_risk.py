"""The risk screening teaching aid (course-design.md §6): rules, precedence, input checks.

Expected decisions come from the contract (with Contract v2) and clinical-brief.md §3, §6,
§7 and §9, and from the decisions documented in course/risk.py (missing product source,
minors, one-use approvals, antiandrogens). The §9 interaction rules, allergen classes and
plausible patients that still proceed are tested in tests/test_risk_v2.py and
tests/test_allergens.py.
"""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import TEACHING_AID_LABEL
from course.content import INDICATIONS, ContentError, content
from course.risk import (
    BOOLEAN_FIELDS,
    DECISIONS,
    DIABETES_STATES,
    PRODUCT_SOURCES,
    RECORDED_BOOLEAN_FIELDS,
    RULES_PATH,
    SEVERITY,
    SEXES,
    Assessment,
    Reason,
    assess,
    load_rules,
    rules,
)

COSMETIC = ("skin_rejuvenation", "cellulite", "localized_fat", "submental_fat")
MEDICAL_CONDITIONS = ("hair_loss", "melasma")
"""Conditions that change appearance: never called cosmetic; declined under 18 too."""
BASE: dict[str, Any] = {
    "age": 40, "indication": "skin_rejuvenation", "substance": "hyaluronic_acid",
    "product_source": "licensed",
}
DCA: dict[str, Any] = {**BASE, "indication": "submental_fat", "substance": "deoxycholic_acid"}
NO_FLAGS = "PROCEED_NO_RULE_TRIGGERED"


MISSING = object()
"""A change that removes the field from BASE."""


def screen(**changes: Any) -> Assessment:
    patient = {**BASE, **changes}
    return assess({k: v for k, v in patient.items() if v is not MISSING})


def codes(assessment: Assessment) -> list[str]:
    return [reason.code for reason in assessment.reasons]


# ---------------------------------------------------------------- one test per rule

RULE_CASES: list[tuple[str, dict[str, Any], str, list[str]]] = [
    # (rule under test, patient changes from BASE, expected decision, expected codes)
    ("DECLINE_UNDER_18_COSMETIC", {"age": 17}, "decline", ["DECLINE_UNDER_18_COSMETIC"]),
    ("DECLINE_UNDER_18_MEDICAL_CONDITION",
     {"age": 16, "indication": "melasma", "substance": "tranexamic_acid"}, "decline",
     ["DECLINE_UNDER_18_MEDICAL_CONDITION", "REFER_UNDER_18_FOR_DIAGNOSIS"]),
    ("REFER_UNDER_18_FOR_DIAGNOSIS",
     {"age": 17, "indication": "hair_loss", "substance": "hyaluronic_acid"}, "decline",
     ["DECLINE_UNDER_18_MEDICAL_CONDITION", "REFER_UNDER_18_FOR_DIAGNOSIS"]),
    ("DECLINE_DISCONTINUED_PRODUCT",
     {"indication": "cellulite", "area": "Buttocks", "substance": "collagenase"}, "decline",
     ["DECLINE_DISCONTINUED_PRODUCT"]),
    ("DECLINE_COLLAGENASE_OUTSIDE_APPROVAL",
     {"indication": "cellulite", "area": "thighs", "substance": "collagenase"}, "decline",
     ["DECLINE_DISCONTINUED_PRODUCT", "DECLINE_COLLAGENASE_OUTSIDE_APPROVAL"]),
    ("DECLINE_ALLERGY_CROSS_REACTIVE", {"substance": "polynucleotides", "allergies": ["trout"]},
     "decline", ["DECLINE_ALLERGY_CROSS_REACTIVE"]),
    ("DECLINE_ANTIFIBRINOLYTIC_THROMBOSIS_RISK",
     {"indication": "melasma", "substance": "tranexamic_acid", "thrombosis_history": True},
     "decline", ["DECLINE_ANTIFIBRINOLYTIC_THROMBOSIS_RISK"]),
    ("REFER_ANTIFIBRINOLYTIC_ANTIPLATELET",
     {"indication": "melasma", "substance": "tranexamic_acid", "antiplatelet": True},
     "refer", ["REFER_ANTIFIBRINOLYTIC_ANTIPLATELET", "PRECAUTION_ANTIPLATELET"]),
    ("DECLINE_THEOPHYLLINE_EPILEPSY",
     {"indication": "cellulite", "substance": "aminophylline", "epilepsy": True}, "decline",
     ["DECLINE_THEOPHYLLINE_EPILEPSY", "PRECAUTION_EPILEPSY"]),
    ("DECLINE_THEOPHYLLINE_HEART_DISEASE",
     {"indication": "localized_fat", "substance": "aminophylline", "heart_disease": True},
     "decline", ["DECLINE_THEOPHYLLINE_HEART_DISEASE", "PRECAUTION_HEART_DISEASE"]),
    ("REFER_HYALURONIDASE_PRIOR_ANAPHYLAXIS",
     {"indication": "other", "substance": "hyaluronidase", "prior_anaphylaxis": True}, "refer",
     ["REFER_HYALURONIDASE_PRIOR_ANAPHYLAXIS", "PRECAUTION_PRIOR_ANAPHYLAXIS"]),
    ("REFER_NSAID_ANTICOAGULANT_AND_ANTIPLATELET",
     {"indication": "musculoskeletal_pain", "substance": "ketoprofen", "anticoagulant": True,
      "antiplatelet": True}, "refer",
     ["REFER_NSAID_ANTICOAGULANT_AND_ANTIPLATELET", "PRECAUTION_ANTICOAGULANT",
      "PRECAUTION_ANTIPLATELET", "PRECAUTION_NSAID_ANTITHROMBOTIC"]),
    ("REFER_NSAID_OLDER_ADULT",
     {"age": 75, "indication": "musculoskeletal_pain", "substance": "ketoprofen"}, "refer",
     ["REFER_NSAID_OLDER_ADULT"]),
    ("PRECAUTION_NSAID_ANTITHROMBOTIC",
     {"indication": "musculoskeletal_pain", "substance": "ketoprofen", "antiplatelet": True},
     "proceed_with_precautions", ["PRECAUTION_ANTIPLATELET", "PRECAUTION_NSAID_ANTITHROMBOTIC"]),
    ("PRECAUTION_CHILDBEARING_POTENTIAL_NOT_RECORDED",
     {"indication": "hair_loss", "substance": "dutasteride", "sex": "female",
      "product_source": MISSING},
     "proceed_with_precautions",
     ["PRECAUTION_CHILDBEARING_POTENTIAL_NOT_RECORDED", "PRECAUTION_NO_LICENSED_INJECTABLE",
      "PRECAUTION_PRODUCT_SOURCE_NOT_RECORDED"]),
    ("PRECAUTION_NO_LICENSED_INJECTABLE",
     {"indication": "hair_loss", "substance": "minoxidil", "product_source": MISSING},
     "proceed_with_precautions",
     ["PRECAUTION_NO_LICENSED_INJECTABLE", "PRECAUTION_PRODUCT_SOURCE_NOT_RECORDED"]),
    # no licensed injectable minoxidil exists: a record saying "licensed" cannot be right
    ("DEFER_NO_LICENSED_INJECTABLE_RECORDED_LICENSED",
     {"indication": "hair_loss", "substance": "minoxidil", "product_source": "licensed"},
     "defer", ["DEFER_NO_LICENSED_INJECTABLE_RECORDED_LICENSED"]),
    ("DECLINE_UNLICENSED_PRODUCT", {"product_source": "unlicensed"}, "decline",
     ["DECLINE_UNLICENSED_PRODUCT"]),
    ("DECLINE_UNKNOWN_PRODUCT_SOURCE", {"product_source": "unknown"}, "decline",
     ["DECLINE_UNKNOWN_PRODUCT_SOURCE"]),
    ("DECLINE_PATIENT_SUPPLIED_PRODUCT", {"product_source": "patient_supplied"}, "decline",
     ["DECLINE_PATIENT_SUPPLIED_PRODUCT"]),
    ("DECLINE_UNAPPROVED_SUBSTANCE", {"indication": "localized_fat", "substance": "pc_dc"},
     "decline", ["DECLINE_UNAPPROVED_SUBSTANCE"]),
    ("DECLINE_ALLERGY_TO_SUBSTANCE", {"allergies": ["hyaluronic_acid"]}, "decline",
     ["DECLINE_ALLERGY_TO_SUBSTANCE"]),
    ("DECLINE_DYSPHAGIA_DEOXYCHOLIC_ACID", {**DCA, "dysphagia_history": True}, "decline",
     ["DECLINE_DYSPHAGIA_DEOXYCHOLIC_ACID"]),
    ("DECLINE_DEOXYCHOLIC_ACID_OFF_LABEL", {**DCA, "area": "abdomen"}, "decline",
     ["DECLINE_DEOXYCHOLIC_ACID_OFF_LABEL"]),
    ("DECLINE_TERATOGENIC_SUBSTANCE",
     {"indication": "hair_loss", "substance": "dutasteride", "pregnant": True}, "decline",
     ["DECLINE_TERATOGENIC_SUBSTANCE", "DEFER_PREGNANT",
      "DEFER_NO_LICENSED_INJECTABLE_RECORDED_LICENSED"]),
    ("REFER_BDD_SCREEN_POSITIVE", {"bdd_screen_positive": True}, "refer",
     ["REFER_BDD_SCREEN_POSITIVE"]),
    ("REFER_UNDER_18_NON_COSMETIC",
     {"age": 16, "indication": "musculoskeletal_pain", "substance": "lidocaine"}, "refer",
     ["REFER_UNDER_18_NON_COSMETIC"]),
    ("REFER_ACTIVE_CANCER", {"active_cancer": True}, "refer", ["REFER_ACTIVE_CANCER"]),
    ("REFER_IMMUNOSUPPRESSED", {"immunosuppressed": True}, "refer", ["REFER_IMMUNOSUPPRESSED"]),
    ("REFER_POORLY_CONTROLLED_DIABETES", {"diabetes": "poorly_controlled"}, "refer",
     ["REFER_POORLY_CONTROLLED_DIABETES"]),
    ("REFER_AUTOIMMUNE_DISEASE", {"autoimmune_disease": True}, "refer",
     ["REFER_AUTOIMMUNE_DISEASE"]),
    ("DEFER_PREGNANT", {"pregnant": True}, "defer", ["DEFER_PREGNANT"]),
    ("DEFER_BREASTFEEDING", {"breastfeeding": True}, "defer", ["DEFER_BREASTFEEDING"]),
    ("DEFER_ACTIVE_INFECTION_AT_SITE", {"active_infection_at_site": True}, "defer",
     ["DEFER_ACTIVE_INFECTION_AT_SITE"]),
    ("DEFER_ACTIVE_HERPES_AT_SITE", {"active_herpes_at_site": True}, "defer",
     ["DEFER_ACTIVE_HERPES_AT_SITE"]),
    ("PRECAUTION_ANTICOAGULANT", {"anticoagulant": True}, "proceed_with_precautions",
     ["PRECAUTION_ANTICOAGULANT"]),
    ("PRECAUTION_ANTIPLATELET", {"antiplatelet": True}, "proceed_with_precautions",
     ["PRECAUTION_ANTIPLATELET"]),
    ("PRECAUTION_BLEEDING_DISORDER", {"bleeding_disorder": True}, "proceed_with_precautions",
     ["PRECAUTION_BLEEDING_DISORDER"]),
    ("PRECAUTION_KELOID_TENDENCY", {"keloid_tendency": True}, "proceed_with_precautions",
     ["PRECAUTION_KELOID_TENDENCY"]),
    ("PRECAUTION_PRIOR_ANAPHYLAXIS", {"prior_anaphylaxis": True}, "proceed_with_precautions",
     ["PRECAUTION_PRIOR_ANAPHYLAXIS"]),
    ("PRECAUTION_HEART_DISEASE", {"heart_disease": True}, "proceed_with_precautions",
     ["PRECAUTION_HEART_DISEASE"]),
    ("PRECAUTION_EPILEPSY", {"epilepsy": True}, "proceed_with_precautions",
     ["PRECAUTION_EPILEPSY"]),
    ("PRECAUTION_PLANNING_PREGNANCY", {"planning_pregnancy": True}, "proceed_with_precautions",
     ["PRECAUTION_PLANNING_PREGNANCY"]),
    ("PRECAUTION_PRODUCT_SOURCE_NOT_RECORDED", {"product_source": MISSING},
     "proceed_with_precautions", ["PRECAUTION_PRODUCT_SOURCE_NOT_RECORDED"]),
    ("PROCEED_NO_RULE_TRIGGERED", {}, "proceed", [NO_FLAGS]),
]


@pytest.mark.parametrize(("rule", "changes", "decision", "expected"), RULE_CASES,
                         ids=[case[0] for case in RULE_CASES])
def test_each_rule_gives_its_decision_and_code(
    rule: str, changes: dict[str, Any], decision: str, expected: list[str]
) -> None:
    result = screen(**changes)
    assert result.decision == decision
    assert codes(result) == expected
    assert rule in expected and rules().rule(expected[0]).decision == decision


def test_every_rule_in_the_rule_file_has_a_test_case() -> None:
    assert {rule.code for rule in rules().rules} == {case[0] for case in RULE_CASES}


def test_the_baseline_patient_triggers_nothing_but_the_informative_reason() -> None:
    result = assess(BASE)
    assert result.decision == "proceed"
    assert codes(result) == [NO_FLAGS]
    assert "consent" in result.reasons[0].text


# ---------------------------------------------------------------- rule details


@pytest.mark.parametrize("indication", [*COSMETIC, *MEDICAL_CONDITIONS])
def test_every_appearance_indication_is_declined_under_18(indication: str) -> None:
    assert screen(age=17, indication=indication).decision == "decline"
    assert screen(age=18, indication=indication).decision == "proceed"


@pytest.mark.parametrize(("indication", "substance"),
                         [("musculoskeletal_pain", "ketoprofen"), ("other", "procaine")])
def test_a_minor_with_a_non_cosmetic_indication_is_referred(indication: str,
                                                            substance: str) -> None:
    assert screen(age=12, indication=indication, substance=substance).decision == "refer"
    assert screen(age=18, indication=indication, substance=substance).decision == "proceed"


def test_a_missing_product_source_never_gives_a_plain_proceed() -> None:
    result = screen(product_source=MISSING)
    assert result.decision == "proceed_with_precautions"
    assert "record its batch number" in result.reasons[0].text
    assert screen(product_source=MISSING, pregnant=True).decision == "defer"


def test_not_recorded_is_not_an_accepted_input_value() -> None:
    with pytest.raises(ValueError, match="product_source"):
        screen(product_source="not_recorded")


@pytest.mark.parametrize(("substance", "indication"),
                         [("pc_dc", "localized_fat"), ("buflomedil", "cellulite"),
                          ("plant_extracts", "other")])
def test_unapproved_or_suspended_substances_are_declined_and_named(substance: str,
                                                                  indication: str) -> None:
    result = screen(substance=substance, indication=indication)
    assert result.decision == "decline"
    assert codes(result) == ["DECLINE_UNAPPROVED_SUBSTANCE"]
    assert content().substances[substance].name in result.reasons[0].text


@pytest.mark.parametrize(("substance", "allergy"),
                         [("aminophylline", "ethylenediamine"),
                          ("aminophylline", " ETHYLENEDIAMINE "),
                          ("deoxycholic_acid", "Sodium deoxycholate"),
                          ("deoxycholic_acid", "sodium-deoxycholate"),
                          ("lidocaine", "LIDOCAINE")])
def test_an_allergy_to_an_ingredient_is_declined(substance: str, allergy: str) -> None:
    indication = "submental_fat" if substance == "deoxycholic_acid" else "other"
    result = screen(substance=substance, indication=indication,
                    allergies=["penicillin", allergy])
    assert result.decision == "decline"
    assert codes(result) == ["DECLINE_ALLERGY_TO_SUBSTANCE"]
    assert allergy.strip() in result.reasons[0].text and "penicillin" not in result.reasons[0].text


def test_an_unrelated_allergy_changes_nothing() -> None:
    assert screen(allergies=["penicillin", "latex", "shellfish"]).decision == "proceed"
    assert screen(substance="polynucleotides", allergies=["Shellfish", "prawns"]).decision == (
        "proceed")
    assert screen(substance="lidocaine", indication="other",
                  allergies=["bee venom"]).decision == "proceed"


def test_dysphagia_matters_only_for_deoxycholic_acid() -> None:
    assert screen(dysphagia_history=True).decision == "proceed"
    assert assess({**DCA, "dysphagia_history": True}).decision == "decline"


@pytest.mark.parametrize(("indication", "area", "on_label"), [
    ("submental_fat", None, True),
    ("submental_fat", "Submental", True),
    ("submental_fat", "under the chin", True),
    ("submental_fat", "submental-area", True),
    ("submental_fat", "jowls", False),
    ("localized_fat", "submental", True),
    ("localized_fat", None, False),
    ("localized_fat", "abdomen", False),
    ("cellulite", "thighs", False),
    ("skin_rejuvenation", "submental", False),
])
def test_deoxycholic_acid_only_for_submental_fat(indication: str, area: str | None,
                                                 on_label: bool) -> None:
    patient = {**DCA, "indication": indication, **({"area": area} if area else {})}
    result = assess(patient)
    assert ("DECLINE_DEOXYCHOLIC_ACID_OFF_LABEL" in codes(result)) is not on_label
    assert result.decision == ("proceed" if on_label else "decline")


def test_the_off_label_reason_names_the_requested_area() -> None:
    text = assess({**DCA, "area": "Abdomen"}).reasons[0].text
    assert "Abdomen" in text and "submental" in text


def test_dutasteride_is_declined_when_a_pregnancy_is_planned() -> None:
    changes = {"indication": "hair_loss", "substance": "dutasteride", "planning_pregnancy": True}
    result = screen(**changes)
    assert result.decision == "decline"
    assert codes(result) == ["DECLINE_TERATOGENIC_SUBSTANCE",
                             "DEFER_NO_LICENSED_INJECTABLE_RECORDED_LICENSED",
                             "PRECAUTION_PLANNING_PREGNANCY"]
    assert screen(**{**changes, "substance": "minoxidil"}).decision == "defer"


def test_controlled_diabetes_alone_triggers_no_rule() -> None:
    assert screen(diabetes="controlled").decision == "proceed"
    assert screen(diabetes="none").decision == "proceed"


# ---------------------------------------------------------------- precedence


@pytest.mark.parametrize(("changes", "decision", "first"), [
    ({"anticoagulant": True, "pregnant": True}, "defer", "DEFER_PREGNANT"),
    ({"pregnant": True, "product_source": "unlicensed"}, "decline",
     "DECLINE_UNLICENSED_PRODUCT"),
    ({"bdd_screen_positive": True, "pregnant": True}, "refer", "REFER_BDD_SCREEN_POSITIVE"),
    ({"epilepsy": True, "active_herpes_at_site": True}, "defer", "DEFER_ACTIVE_HERPES_AT_SITE"),
    ({"immunosuppressed": True, "age": 16}, "decline", "DECLINE_UNDER_18_COSMETIC"),
    ({"heart_disease": True, "keloid_tendency": True}, "proceed_with_precautions",
     "PRECAUTION_KELOID_TENDENCY"),
])
def test_the_most_restrictive_decision_wins(changes: dict[str, Any], decision: str,
                                            first: str) -> None:
    result = screen(**changes)
    assert result.decision == decision
    assert codes(result)[0] == first
    assert len(result.reasons) == 2
    assert NO_FLAGS not in codes(result)


def test_every_flag_at_once_declines_and_lists_every_reason_most_restrictive_first() -> None:
    result = screen(**dict.fromkeys(BOOLEAN_FIELDS, True), diabetes="poorly_controlled",
                    product_source="unlicensed")
    assert result.decision == "decline"
    levels = [SEVERITY[rules().rule(code).decision] for code in codes(result)]
    assert levels == sorted(levels, reverse=True)
    assert set(levels) == {SEVERITY[d] for d in DECISIONS if d != "proceed"}
    # the advice never to stop an anticoagulant survives any combination
    assert "PRECAUTION_ANTICOAGULANT" in codes(result)


def test_the_result_does_not_depend_on_the_order_of_fields() -> None:
    patient = {**BASE, "pregnant": True, "epilepsy": True, "bdd_screen_positive": True,
               "anticoagulant": True, "breastfeeding": True}
    reversed_patient = dict(reversed(list(patient.items())))
    assert assess(patient) == assess(reversed_patient)


def test_assess_does_not_change_its_input() -> None:
    patient = {**BASE, "allergies": ["fish"], "area": "face"}
    before = copy.deepcopy(patient)
    assess(patient)
    assert patient == before


# ---------------------------------------------------------------- shape and disclaimer


def test_to_dict_has_exactly_the_contract_shape() -> None:
    result = screen(anticoagulant=True, pregnant=True)
    data = json.loads(json.dumps(result.to_dict()))
    assert set(data) == {"decision", "reasons", "disclaimer"}
    assert data["decision"] == "defer"
    assert data["disclaimer"] == "Teaching aid — not a validated clinical tool"
    assert all(set(reason) == {"code", "text"} for reason in data["reasons"])
    assert [Reason(**reason) for reason in data["reasons"]] == result.reasons


def test_assessment_and_reason_are_frozen() -> None:
    result = assess(BASE)
    with pytest.raises(AttributeError):
        result.decision = "decline"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        result.reasons[0].code = "X"  # type: ignore[misc]


@pytest.mark.parametrize("flag", BOOLEAN_FIELDS)
def test_a_missing_boolean_means_false(flag: str) -> None:
    assert assess(BASE) == screen(**{flag: False})


# ---------------------------------------------------------------- invalid input


@pytest.mark.parametrize(("changes", "field"), [
    ({"smoker": True}, "smoker"),
    ({"pregnant": "yes"}, "pregnant"),
    ({"anticoagulant": 1}, "anticoagulant"),
    ({"epilepsy": None}, "epilepsy"),
    ({"age": True}, "age"),
    ({"age": "40"}, "age"),
    ({"age": 40.0}, "age"),
    ({"age": -1}, "age"),
    ({"age": 121}, "age"),
    ({"indication": "weight_loss"}, "indication"),
    ({"indication": 3}, "indication"),
    ({"substance": "botox"}, "substance"),
    ({"substance": ["caffeine"]}, "substance"),
    ({"product_source": "pharmacy"}, "product_source"),
    ({"product_source": True}, "product_source"),
    ({"diabetes": True}, "diabetes"),
    ({"diabetes": "type_2"}, "diabetes"),
    ({"allergies": "penicillin"}, "allergies"),
    ({"allergies": [1]}, "allergies"),
    ({"allergies": [""]}, "allergies"),
    ({"area": 5}, "area"),
    ({"area": "  "}, "area"),
    ({"area": "x" * 201}, "area"),
    ({"allergies": ["x" * 201]}, "allergies"),
    ({"allergies": ["fish"] * 51}, "allergies"),
    ({"sex": "F"}, "sex"),
    ({"sex": True}, "sex"),
    ({"childbearing_potential": "yes"}, "childbearing_potential"),
    ({"childbearing_potential": None}, "childbearing_potential"),
    ({"thrombosis_history": 1}, "thrombosis_history"),
    ({"sex ": "female"}, "sex "),
])
def test_invalid_fields_raise_a_value_error_naming_the_field(changes: dict[str, Any],
                                                              field: str) -> None:
    with pytest.raises(ValueError, match=f"'{field}'") as error:
        screen(**changes)
    assert not isinstance(error.value, ContentError)  # bad input, not bad course data
    assert len(str(error.value)) < 800 and "\n" not in str(error.value)  # one short line


def test_age_errors_give_the_allowed_range() -> None:
    with pytest.raises(ValueError, match=r"'age' must be .*0 to 120"):
        screen(age=130)


@pytest.mark.parametrize("field", ["age", "indication", "substance"])
def test_a_missing_required_field_is_named(field: str) -> None:
    patient = {k: v for k, v in BASE.items() if k != field}
    with pytest.raises(ValueError, match=f"missing required field '{field}'"):
        assess(patient)


@pytest.mark.parametrize("patient", [[("age", 40)], "patient", None])
def test_a_patient_that_is_not_a_dict_is_refused(patient: Any) -> None:
    with pytest.raises(ValueError, match="patient must be a dict"):
        assess(patient)


# ---------------------------------------------------------------- never advise stopping

FACTUAL = re.compile(r"\b(?:has|have|had|was|were|been)\s+(?:since\s+)?(?:been\s+)?discontinued\b"
                     r"|\bdiscontinued product\b", re.IGNORECASE)
"""Statements that a product was withdrawn from the market, not advice to stop a medicine."""
STOP_WORDS = re.compile(r"\b(stop\w*|discontinu\w*|withh\w*|interrupt\w*|paus\w*|ceas\w*|"
                        r"hold|come off|coming off)\b", re.IGNORECASE)
NEGATION = re.compile(r"\b(not|never|no)\b|n't\b", re.IGNORECASE)


def advises_stopping(text: str) -> bool:
    """A sentence that mentions stopping something without a negation advises stopping."""
    sentences = re.split(r"(?<=[.!?])\s+|:\s+", FACTUAL.sub("", text))
    return any(STOP_WORDS.search(s) and not NEGATION.search(s) for s in sentences)


def test_the_checker_itself_catches_advice_to_stop() -> None:
    assert advises_stopping("Stop the anticoagulant 3 days before treatment.")
    assert advises_stopping("Consider withholding aspirin for a week.")
    assert not advises_stopping("Never stop a prescribed anticoagulant for this.")
    assert advises_stopping("Discontinue the anticoagulant for two days.")
    assert not advises_stopping("Qwo has since been discontinued.")


def test_no_rule_text_advises_stopping_a_medicine() -> None:
    values = {"substance": "X", "status": "s", "regulatory_note": "", "age": 40,
              "indication": "i", "area": "a", "allergens": "x", "cross_reactions": "y",
              "approved_use": "u", "older_adult_age": 75}
    for rule in rules().rules:
        for cosmetic in (True, False):
            assert not advises_stopping(rule.text_for(cosmetic).format(**values)), rule.code


@pytest.mark.parametrize(("flag", "drug"), [("anticoagulant", "anticoagulant"),
                                            ("antiplatelet", "antiplatelet")])
def test_the_anticoagulant_reasons_say_plainly_not_to_stop(flag: str, drug: str) -> None:
    text = screen(**{flag: True}).reasons[0].text
    assert re.search(rf"(never|do not) stop a prescribed {drug}", text, re.IGNORECASE)
    assert "defer" in text and "prescriber" in text


# ---------------------------------------------------------------- properties

SUBSTANCES = sorted(content().substances)
ALLERGY_TEXTS = [*SUBSTANCES, "fish", "Smoked salmon", "ethylenediamine", "penicillin",
                 "Lignocaine", "local anaesthetics", "wasp stings", "bee venom", "shellfish",
                 "caffeine", "soya", "aspirin", "PABA", "NKDA"]
"""Allergy entries as patients write them: classes, synonyms, cross-reactions, noise."""
PATIENTS = st.fixed_dictionaries(
    {"age": st.integers(0, 120), "indication": st.sampled_from(INDICATIONS),
     "substance": st.sampled_from(SUBSTANCES)},
    optional={
        **{flag: st.booleans() for flag in (*BOOLEAN_FIELDS, *RECORDED_BOOLEAN_FIELDS)},
        "product_source": st.sampled_from(PRODUCT_SOURCES),
        "diabetes": st.sampled_from(DIABETES_STATES),
        "sex": st.sampled_from(SEXES),
        "allergies": st.lists(st.sampled_from(ALLERGY_TEXTS), max_size=3),
        "area": st.sampled_from(["submental", "Under the chin", "abdomen", "scalp", "face",
                                 "buttocks", "thighs"]),
    },
)
NOT_RECORDED_PROMPTS = {
    "childbearing_potential": {"PRECAUTION_CHILDBEARING_POTENTIAL_NOT_RECORDED"},
}
"""A prompt to record a field, which recording it (as a red flag) replaces by the rule."""


def assert_not_less_restrictive(before: Assessment, after: Assessment, change: str,
                                replaced: set[str] = frozenset()) -> None:
    assert SEVERITY[after.decision] >= SEVERITY[before.decision], change
    assert set(codes(before)) - {NO_FLAGS} - replaced <= set(codes(after)), change


@settings(max_examples=200, deadline=None, database=None)
@given(patient=PATIENTS)
def test_a_red_flag_never_makes_the_decision_less_restrictive(patient: dict[str, Any]) -> None:
    before = assess(patient)
    for flag in (*BOOLEAN_FIELDS, *RECORDED_BOOLEAN_FIELDS):  # every flag: cheap, finds more
        after = assess({**patient, flag: True})
        assert_not_less_restrictive(before, after, flag, NOT_RECORDED_PROMPTS.get(flag, set()))


@settings(max_examples=200, deadline=None, database=None)
@given(patient=PATIENTS, allergy=st.sampled_from(ALLERGY_TEXTS))
def test_another_allergy_never_makes_the_decision_less_restrictive(
    patient: dict[str, Any], allergy: str
) -> None:
    before = assess(patient)
    after = assess({**patient, "allergies": [*patient.get("allergies", []), allergy]})
    assert_not_less_restrictive(before, after, allergy)


@settings(max_examples=100, deadline=None, database=None)
@given(patient=PATIENTS, years=st.integers(1, 60))
def test_an_adult_growing_older_never_relaxes_the_decision(patient: dict[str, Any],
                                                           years: int) -> None:
    patient = {**patient, "age": max(patient["age"], 18)}
    older = {**patient, "age": min(patient["age"] + years, 120)}
    assert_not_less_restrictive(assess(patient), assess(older), f"age {older['age']}")


@settings(max_examples=200, deadline=None, database=None)
@given(patient=PATIENTS)
def test_every_assessment_is_consistent(patient: dict[str, Any]) -> None:
    result = assess(patient)
    assert result.disclaimer == TEACHING_AID_LABEL
    assert result.decision in DECISIONS
    found = codes(result)
    assert found and len(found) == len(set(found))
    levels = [SEVERITY[rules().rule(code).decision] for code in found]
    assert levels[0] == SEVERITY[result.decision] == max(levels)
    assert levels == sorted(levels, reverse=True)
    assert (result.decision == "proceed") == (found == [NO_FLAGS])
    assert all(not advises_stopping(reason.text) for reason in result.reasons)
    assert result == assess(copy.deepcopy(patient))


# ---------------------------------------------------------------- the rule file


@pytest.fixture
def rule_file(tmp_path: Path) -> Path:
    path = tmp_path / "risk_rules.toml"
    path.write_text(RULES_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    return path


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_the_course_rule_file_loads() -> None:
    book = load_rules()
    assert book.rules == rules().rules
    assert book.adult_age == 18
    assert book.older_adult_age == 75
    assert set(book.cosmetic_indications) == set(COSMETIC)
    assert set(book.medical_condition_indications) == set(MEDICAL_CONDITIONS)


GOOD_RULE = 'decision = "refer"\nwhen = ["epilepsy"]\ntext = "t"\nrefs = ["R8"]\n'


@pytest.mark.parametrize(("rule", "message"), [
    (GOOD_RULE.replace('"refer"', '"maybe"'), r"rule 'REFER_X': field 'decision' must be one of"),
    (GOOD_RULE.replace('"R8"', '"R999"'), r"rule 'REFER_X': unknown reference id 'R999'"),
    (GOOD_RULE.replace('"epilepsy"', '"smoker"'), r"rule 'REFER_X'.*unknown condition 'smoker'"),
    (GOOD_RULE.replace('"epilepsy"', '"substance=botox"'), r"substance must be one of"),
    (GOOD_RULE.replace('"epilepsy"', '"age=17"'), r"field=value works for"),
    (GOOD_RULE.replace('"R8"', '"GK"'), r"must say \"expert practice\""),
    (GOOD_RULE.replace('"t"', '"{weight}"'), r"unknown placeholder\(s\) weight"),
    (GOOD_RULE.replace('"refer"', '"decline"'), r"must be upper case and start with 'DECLINE_'"),
    (GOOD_RULE.replace('"epilepsy"', '"no_other_rule"'), r"only a 'proceed' rule may use"),
    (GOOD_RULE + "level = 3\n", r"rule 'REFER_X': unknown field 'level'"),
    (GOOD_RULE.replace('"t"', '"before any cosmetic treatment"'), r"add text_non_cosmetic"),
    (GOOD_RULE + 'text_non_cosmetic = "a cosmetic x"\n',
     r"'text_non_cosmetic' must not say \"cosmetic\""),
    (GOOD_RULE.replace('"R8"', '"GK"').replace('"t"', '"t (expert practice)"')
     + 'text_non_cosmetic = "u"\n', r"must say \"expert practice\" in its text_non_cosmetic"),
])
def test_an_invalid_rule_is_refused_with_a_clear_message(rule_file: Path, rule: str,
                                                         message: str) -> None:
    rule_file.write_text(rule_file.read_text(encoding="utf-8") + "\n[rules.REFER_X]\n" + rule,
                         encoding="utf-8")
    with pytest.raises(ContentError, match=message):
        load_rules(rule_file)


def test_the_valid_extra_rule_used_above_loads(rule_file: Path) -> None:
    rule_file.write_text(rule_file.read_text(encoding="utf-8") + "\n[rules.REFER_X]\n"
                         + GOOD_RULE, encoding="utf-8")
    assert load_rules(rule_file).rule("REFER_X").decision == "refer"


@pytest.mark.parametrize(("old", "new", "message"), [
    ('antiandrogens = ["dutasteride"]', 'antiandrogens = ["thalidomide"]',
     r"field 'antiandrogens' must be a list of substance ids"),
    ("older_adult_age = 75", "older_adult_age = 12",
     r"field 'older_adult_age' must be a whole number from 18"),
    ('medical_condition_indications = ["hair_loss", "melasma"]',
     'medical_condition_indications = ["hair_loss", "cellulite"]',
     r"both cosmetic and a medical condition"),
    ("[approved_uses.collagenase]", "[approved_uses.botox]",
     r"approved_uses 'botox': unknown substance id"),
    ('implied_by = ["submental_fat"]', 'implied_by = ["melasma"]',
     r"include every 'implied_by' indication"),
    ("adult_age = 18", "adult_age = 18.5", r"field 'adult_age' must be a whole number"),
    ('[rules.PROCEED_NO_RULE_TRIGGERED]\ndecision = "proceed"\nwhen = ["no_other_rule"]',
     '[rules.PRECAUTION_Z]\ndecision = "proceed_with_precautions"\nwhen = ["epilepsy"]',
     r"exactly one 'proceed' rule"),
    ('[rules.PROCEED_NO_RULE_TRIGGERED]', '[rules.PROCEED_TWICE]\ndecision = "proceed"\n'
     'when = ["no_other_rule"]\ntext = "t"\nrefs = ["R8"]\n\n[rules.PROCEED_NO_RULE_TRIGGERED]',
     r"exactly one 'proceed' rule"),
    ("adult_age = 18", "adult_age = [", r"not valid TOML"),
])
def test_an_invalid_rule_file_is_refused_with_a_clear_message(
    rule_file: Path, old: str, new: str, message: str
) -> None:
    _edit(rule_file, old, new)
    with pytest.raises(ContentError, match=message):
        load_rules(rule_file)
