"""Screening aid v2 (course-design.md §6 "Contract v2"; clinical-brief.md §9).

The interaction rules a careful clinician catches, allergies by class, the new fields, the
wording for non-cosmetic indications, and plausible patients without red flags who still
proceed (so the aid does not decline everyone). Expected decisions come from §9 of the
brief; where it allows "decline or refer", the test accepts either.
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from course import TEACHING_AID_LABEL
from course.content import INDICATIONS, content
from course.risk import BOOLEAN_FIELDS, SEVERITY, Assessment, assess, rules

BASE: dict[str, Any] = {"age": 45, "product_source": "licensed"}
DECLINE_OR_REFER = {"decline", "refer"}


MISSING = object()  # a field left out of the record


def screen(**fields: Any) -> Assessment:
    patient = {**BASE, **fields}
    return assess({k: v for k, v in patient.items() if v is not MISSING})


def codes(result: Assessment) -> list[str]:
    return [r.code for r in result.reasons]


def text(result: Assessment) -> str:
    return " ".join(r.text for r in result.reasons)


# ---------------------------------------------------------------- the examples


def test_txa_in_a_patient_with_thrombosis_on_an_anticoagulant_is_declined() -> None:
    result = screen(indication="melasma", substance="tranexamic_acid", sex="female",
                    thrombosis_history=True, anticoagulant=True)
    assert result.decision in DECLINE_OR_REFER
    assert "DECLINE_ANTIFIBRINOLYTIC_THROMBOSIS_RISK" in codes(result)
    assert "prescriber" in text(result) and "antifibrinolytic" in text(result)
    assert "PRECAUTION_ANTICOAGULANT" in codes(result)  # the never-stop advice still shows


def test_hyaluronidase_with_venom_allergy_and_previous_anaphylaxis_is_declined() -> None:
    result = screen(indication="other", substance="hyaluronidase",
                    allergies=["Bee and wasp stings"], prior_anaphylaxis=True)
    assert result.decision == "decline"
    assert codes(result)[:2] == ["DECLINE_ALLERGY_CROSS_REACTIVE",
                                 "REFER_HYALURONIDASE_PRIOR_ANAPHYLAXIS"]
    assert "allergist" in text(result) and "venom" in result.reasons[0].text


def test_aminophylline_with_epilepsy_is_declined() -> None:
    result = screen(indication="cellulite", substance="aminophylline", epilepsy=True)
    assert result.decision == "decline"
    assert codes(result)[0] == "DECLINE_THEOPHYLLINE_EPILEPSY"


def test_collagenase_on_the_thighs_is_declined() -> None:
    result = screen(indication="cellulite", area="thighs", substance="collagenase",
                    sex="female")
    assert result.decision == "decline"
    assert {"DECLINE_DISCONTINUED_PRODUCT", "DECLINE_COLLAGENASE_OUTSIDE_APPROVAL"} <= set(
        codes(result))
    assert "thighs" in text(result) and "buttocks" in text(result)


# ---------------------------------------------------------------- each §9 rule


@pytest.mark.parametrize("risk", [{"thrombosis_history": True}, {"anticoagulant": True}])
def test_tranexamic_acid_with_a_thrombotic_risk(risk: dict[str, bool]) -> None:
    assert screen(indication="melasma", substance="tranexamic_acid",
                  **risk).decision in DECLINE_OR_REFER
    # the interaction needs both: thrombosis history alone does not stop another product
    assert screen(indication="skin_rejuvenation", substance="hyaluronic_acid",
                  thrombosis_history=True).decision == "proceed"
    assert screen(indication="melasma", substance="tranexamic_acid").decision == "proceed"


def test_tranexamic_acid_with_an_antiplatelet_drug_is_referred_to_the_prescriber() -> None:
    result = screen(indication="melasma", substance="tranexamic_acid", antiplatelet=True)
    assert result.decision == "refer" and "prescriber" in result.reasons[0].text


def test_hyaluronidase_with_venom_allergy_alone_or_anaphylaxis_alone() -> None:
    venom = screen(indication="other", substance="hyaluronidase", allergies=["wasp venom"])
    assert venom.decision == "decline" and codes(venom) == ["DECLINE_ALLERGY_CROSS_REACTIVE"]
    anaphylaxis = screen(indication="other", substance="hyaluronidase", prior_anaphylaxis=True)
    assert anaphylaxis.decision in DECLINE_OR_REFER and "allergist" in text(anaphylaxis)
    # venom allergy does not rule out products without hyaluronidase
    assert screen(indication="skin_rejuvenation", substance="hyaluronic_acid",
                  allergies=["wasp venom"]).decision == "proceed"


@pytest.mark.parametrize("condition", ["epilepsy", "heart_disease"])
def test_theophylline_type_drugs_with_epilepsy_or_heart_disease(condition: str) -> None:
    assert screen(indication="cellulite", substance="aminophylline",
                  **{condition: True}).decision == "decline"
    # other cellulite substances keep the general precaution
    assert screen(indication="cellulite", substance="caffeine",
                  **{condition: True}).decision == "proceed_with_precautions"
    assert screen(indication="cellulite", substance="aminophylline").decision == "proceed"


@pytest.mark.parametrize("state", [{"pregnant": True}, {"breastfeeding": True},
                                   {"planning_pregnancy": True},
                                   {"childbearing_potential": True},
                                   {"sex": "female", "childbearing_potential": True}])
def test_antiandrogens_are_declined_not_deferred(state: dict[str, Any]) -> None:
    result = screen(indication="hair_loss", substance="dutasteride", **state)
    assert result.decision == "decline"
    assert codes(result)[0] == "DECLINE_TERATOGENIC_SUBSTANCE"
    assert "not deferred" in result.reasons[0].text


def test_antiandrogens_without_pregnancy_potential() -> None:
    man = screen(indication="hair_loss", substance="dutasteride", sex="male",
                 product_source=MISSING)
    assert man.decision == "proceed_with_precautions"
    assert codes(man) == ["PRECAUTION_NO_LICENSED_INJECTABLE",
                          "PRECAUTION_PRODUCT_SOURCE_NOT_RECORDED"]
    woman = screen(indication="hair_loss", substance="dutasteride", sex="female", age=58,
                   childbearing_potential=False, product_source=MISSING)
    assert codes(woman) == codes(man)


@pytest.mark.parametrize("sex", ["female", "other"])
def test_unrecorded_childbearing_potential_is_asked_for_before_an_antiandrogen(sex: str) -> None:
    result = screen(indication="hair_loss", substance="dutasteride", sex=sex,
                    product_source=MISSING)
    assert result.decision == "proceed_with_precautions"
    assert "PRECAUTION_CHILDBEARING_POTENTIAL_NOT_RECORDED" in codes(result)
    # a missing sex (or "unknown") gives no prompt: the aid never guesses
    for other in ({"sex": "unknown"}, {}):
        assert "PRECAUTION_CHILDBEARING_POTENTIAL_NOT_RECORDED" not in codes(
            screen(indication="hair_loss", substance="dutasteride", **other))


def test_a_minoxidil_or_dutasteride_product_cannot_be_a_licensed_injectable() -> None:
    for substance in ("minoxidil", "dutasteride"):
        not_recorded = screen(indication="hair_loss", substance=substance, sex="male",
                              product_source=MISSING)
        assert "PRECAUTION_NO_LICENSED_INJECTABLE" in codes(not_recorded)
        assert "No licensed injectable" in text(not_recorded)
        # a record of a licensed injectable cannot be right: not treated until it is resolved
        licensed = screen(indication="hair_loss", substance=substance, sex="male",
                          product_source="licensed")
        assert licensed.decision == "defer"
        assert codes(licensed)[0] == "DEFER_NO_LICENSED_INJECTABLE_RECORDED_LICENSED"
        assert "No licensed injectable" in text(licensed)
        unlicensed = screen(indication="hair_loss", substance=substance, sex="male",
                            product_source="unlicensed")
        assert unlicensed.decision == "decline"
        assert "PRECAUTION_NO_LICENSED_INJECTABLE" not in codes(unlicensed)


@pytest.mark.parametrize(("changes", "decision"), [
    ({"anticoagulant": True, "antiplatelet": True}, "refer"),
    ({"age": 75}, "refer"),
    ({"age": 88, "antiplatelet": True}, "refer"),
    ({"age": 74}, "proceed"),
    ({"anticoagulant": True}, "proceed_with_precautions"),
    ({"antiplatelet": True}, "proceed_with_precautions"),
])
def test_nsaid_with_antithrombotics_or_from_75(changes: dict[str, Any], decision: str) -> None:
    result = screen(indication="musculoskeletal_pain", substance="ketoprofen", **changes)
    assert result.decision == decision
    if decision == "refer":
        assert "prescriber" in result.reasons[0].text
        assert re.search(r"\brefer", result.reasons[0].text, re.IGNORECASE)


def test_the_nsaid_rules_are_about_the_nsaid() -> None:
    assert screen(indication="musculoskeletal_pain", substance="lidocaine", anticoagulant=True,
                  antiplatelet=True).decision == "proceed_with_precautions"
    assert screen(indication="musculoskeletal_pain", substance="procaine",
                  age=80).decision == "proceed"


@pytest.mark.parametrize(("indication", "substance"), [("hair_loss", "minoxidil"),
                                                       ("hair_loss", "dutasteride"),
                                                       ("melasma", "tranexamic_acid")])
def test_a_minor_with_hair_loss_is_declined_and_referred_for_diagnosis(indication: str,
                                                                       substance: str) -> None:
    result = screen(age=15, indication=indication, substance=substance)
    assert result.decision == "decline"
    referral = [r for r in result.reasons if r.code.startswith("REFER_")]
    assert referral and any("diagnosis" in r.text and "Refer" in r.text for r in referral)


def test_a_minor_with_a_cosmetic_indication_is_declined_without_a_diagnosis_referral() -> None:
    result = screen(age=16, indication="cellulite", substance="caffeine")
    assert codes(result) == ["DECLINE_UNDER_18_COSMETIC"]


@pytest.mark.parametrize(("area", "inside"), [("buttocks", True), ("Buttock", True),
                                              ("gluteal region", True), ("thighs", False),
                                              ("abdomen", False), (None, False)])
def test_collagenase_is_discontinued_and_approved_for_buttock_cellulite_only(
        area: str | None, inside: bool) -> None:
    patient = {"indication": "cellulite", "substance": "collagenase",
               **({"area": area} if area else {})}
    result = screen(**patient)
    assert result.decision == "decline"
    assert codes(result)[0] == "DECLINE_DISCONTINUED_PRODUCT"
    assert ("DECLINE_COLLAGENASE_OUTSIDE_APPROVAL" in codes(result)) is not inside
    other = screen(indication="localized_fat", substance="collagenase", area="buttocks")
    assert "DECLINE_COLLAGENASE_OUTSIDE_APPROVAL" in codes(other)


@pytest.mark.parametrize(("substance", "indication", "allergy"), [
    ("polynucleotides", "skin_rejuvenation", "salmon"),
    ("polynucleotides", "skin_rejuvenation", "Trout"),
    ("polynucleotides", "skin_rejuvenation", "fish"),
    ("hyaluronic_acid", "skin_rejuvenation", "lignocaine"),
    ("hyaluronic_acid", "skin_rejuvenation", "Local anaesthetic"),
    ("hyaluronidase", "other", "bee venom"),
    ("lidocaine", "musculoskeletal_pain", "lignocaine"),
    ("lidocaine", "musculoskeletal_pain", "local anaesthetics"),
    ("procaine", "musculoskeletal_pain", "local anaesthetic"),
])
def test_allergies_are_matched_by_class_and_decline(substance: str, indication: str,
                                                    allergy: str) -> None:
    result = screen(substance=substance, indication=indication, allergies=["penicillin", allergy])
    assert result.decision == "decline"
    assert codes(result)[0] in {"DECLINE_ALLERGY_TO_SUBSTANCE", "DECLINE_ALLERGY_CROSS_REACTIVE"}
    assert allergy in result.reasons[0].text and "penicillin" not in result.reasons[0].text


# ---------------------------------------------------------------- wording

NON_COSMETIC = [i for i in INDICATIONS if i not in rules().cosmetic_indications]
ALL_FLAGS = dict.fromkeys(BOOLEAN_FIELDS, True)
EVERY_ALLERGY = ["salmon", "lignocaine", "wasp venom", "soya", "PABA", "caffeine"]


@pytest.mark.parametrize("indication", NON_COSMETIC)
@pytest.mark.parametrize("substance", sorted(content().substances))
def test_reasons_for_a_non_cosmetic_indication_never_say_cosmetic(indication: str,
                                                                  substance: str) -> None:
    variants = [{}, ALL_FLAGS, {**ALL_FLAGS, "childbearing_potential": True},
                {"sex": "female"}, {"allergies": EVERY_ALLERGY}, {"product_source": "unknown"}]
    for age in (15, 45, 80):
        for extra in variants:
            result = screen(age=age, indication=indication, substance=substance, **extra)
            for reason in result.reasons:
                assert "cosmetic" not in reason.text.lower(), (reason.code, age, extra)


def test_no_rule_can_call_a_non_cosmetic_indication_cosmetic() -> None:
    for rule in rules().rules:
        if "cosmetic_indication" not in rule.when:
            assert "cosmetic" not in rule.text_for(cosmetic=False).lower(), rule.code


def test_a_cosmetic_indication_keeps_the_briefs_wording() -> None:
    result = screen(indication="skin_rejuvenation", substance="hyaluronic_acid",
                    anticoagulant=True)
    assert "Never stop a prescribed anticoagulant for a cosmetic procedure" in text(result)
    pain = screen(indication="musculoskeletal_pain", substance="lidocaine", anticoagulant=True)
    assert "Never stop a prescribed anticoagulant for an elective" in text(pain)


# ---------------------------------------------------------------- patients who proceed

PLAUSIBLE_PROCEED: list[dict[str, Any]] = [
    # no red flag for the product in question: the aid must let these through
    {"age": 45, "sex": "female", "childbearing_potential": True,
     "indication": "skin_rejuvenation", "substance": "hyaluronic_acid", "area": "face"},
    {"age": 38, "sex": "female", "childbearing_potential": True, "indication": "melasma",
     "substance": "tranexamic_acid", "area": "cheeks", "allergies": ["penicillin"]},
    {"age": 60, "sex": "male", "indication": "musculoskeletal_pain", "substance": "ketoprofen",
     "area": "lower back", "diabetes": "controlled"},
    {"age": 52, "sex": "female", "childbearing_potential": False,
     "indication": "musculoskeletal_pain", "substance": "lidocaine", "area": "knee",
     "allergies": ["procaine"]},
    {"age": 42, "sex": "female", "indication": "submental_fat", "area": "under the chin",
     "substance": "deoxycholic_acid", "allergies": ["shellfish"]},
    {"age": 33, "sex": "female", "indication": "skin_rejuvenation",
     "substance": "polynucleotides", "allergies": ["prawns", "latex"]},
    {"age": 80, "sex": "male", "indication": "skin_rejuvenation", "substance": "vitamin_c"},
    {"age": 29, "sex": "female", "childbearing_potential": True, "indication": "cellulite",
     "substance": "caffeine", "area": "thighs", "allergies": ["bee pollen"]},
    {"age": 50, "sex": "other", "indication": "other", "substance": "hyaluronidase",
     "allergies": ["NKDA"]},
    {"age": 66, "sex": "male", "indication": "musculoskeletal_pain", "substance": "calcitonin",
     "thrombosis_history": True},
    {"age": 18, "sex": "male", "indication": "musculoskeletal_pain", "substance": "procaine"},
    {"age": 47, "sex": "unknown", "indication": "localized_fat", "substance": "l_carnitine",
     "area": "abdomen", "allergies": ["wasp venom"]},
]


@pytest.mark.parametrize("patient", PLAUSIBLE_PROCEED)
def test_plausible_patients_without_red_flags_proceed(patient: dict[str, Any]) -> None:
    result = screen(**patient)
    assert result.decision == "proceed", codes(result)
    assert result.disclaimer == TEACHING_AID_LABEL


@pytest.mark.parametrize(("patient", "code"), [
    ({"age": 70, "indication": "skin_rejuvenation", "substance": "hyaluronic_acid",
      "anticoagulant": True}, "PRECAUTION_ANTICOAGULANT"),
    ({"age": 64, "indication": "musculoskeletal_pain", "substance": "ketoprofen",
      "antiplatelet": True}, "PRECAUTION_NSAID_ANTITHROMBOTIC"),
    ({"age": 40, "indication": "cellulite", "substance": "caffeine", "heart_disease": True},
     "PRECAUTION_HEART_DISEASE"),
    ({"age": 44, "indication": "other", "substance": "lidocaine", "epilepsy": True},
     "PRECAUTION_EPILEPSY"),
])
def test_a_single_caution_gives_precautions_not_a_refusal(patient: dict[str, Any],
                                                          code: str) -> None:
    result = screen(**patient)
    assert result.decision == "proceed_with_precautions" and code in codes(result)


def test_most_plausible_patients_are_not_declined() -> None:
    decisions = [screen(**p).decision for p in PLAUSIBLE_PROCEED]
    assert max(SEVERITY[d] for d in decisions) == SEVERITY["proceed"]
