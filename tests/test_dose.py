"""Dose and volume arithmetic: hand-computed results, refusals that name the field."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course import TEACHING_AID_LABEL
from course.content import content
from course.dose import (
    DEFAULT_LIDOCAINE_LABEL,
    FIELD_WORDS,
    LIDOCAINE_CAVEAT,
    LIDOCAINE_CLAIM,
    LIDOCAINE_LABELS,
    REFUSAL_PREFIX,
    UK_LIDOCAINE_MAX_MG,
    US_LIDOCAINE_MAX_MG,
    US_LIDOCAINE_MG_PER_KG,
    calculator_text,
    dose_per_kg,
    lidocaine_check,
    lidocaine_label,
    mg_per_ml_to_percent,
    percent_to_mg_per_ml,
    points_for_area,
    share_of_limit,
    total_dose_mg,
    total_volume_ml,
)
from course.views.dose import dose_calculator

# ---------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(("percent", "mg_per_ml"), [(1, 10.0), (2, 20.0), (0.5, 5.0),
                                                    (0, 0.0), (20, 200.0)])
def test_percent_to_mg_per_ml(percent: float, mg_per_ml: float) -> None:
    assert percent_to_mg_per_ml(percent) == pytest.approx(mg_per_ml)


def test_mg_per_ml_to_percent() -> None:
    assert mg_per_ml_to_percent(20) == pytest.approx(2.0)
    assert mg_per_ml_to_percent(5) == pytest.approx(0.5)


def test_volume_dose_and_dose_per_kg() -> None:
    assert total_volume_ml(200, 0.01) == pytest.approx(2.0)  # facial trial: 0.01 mL/point
    assert total_volume_ml(0, 0.1) == 0
    assert total_dose_mg(20, 5) == pytest.approx(100.0)  # 5 mL of 2%
    assert total_dose_mg(10, 0) == 0
    assert dose_per_kg(100, 70) == pytest.approx(100 / 70)


@pytest.mark.parametrize(
    ("area", "spacing", "points"),
    [(100, 1, 100), (100, 2, 25), (10, 3, 2), (1, 0.1, 100), (30, 1, 30), (4.5, 1.5, 2)],
)
def test_points_for_area_uses_a_square_grid_rounded_up(area: float, spacing: float,
                                                       points: int) -> None:
    assert points_for_area(area, spacing) == points


def test_share_of_limit_caps_at_the_absolute_maximum() -> None:
    check = share_of_limit(100, 70, 4.5, 300)  # 70 × 4.5 = 315 mg, capped at 300 mg
    assert check.total_mg == 100
    assert check.mg_per_kg == pytest.approx(100 / 70)
    assert check.limit_mg == 300
    assert check.share == pytest.approx(1 / 3)
    assert check.within_limit is True
    assert TEACHING_AID_LABEL in check.message
    assert "local formulary" in check.message


def test_share_of_limit_uses_the_weight_limit_when_lower() -> None:
    check = share_of_limit(100, 50, 4.5, 300)  # 50 × 4.5 = 225 mg < 300 mg
    assert check.limit_mg == pytest.approx(225)
    assert check.share == pytest.approx(100 / 225)
    assert share_of_limit(100, 70, 4.5).limit_mg == pytest.approx(315)


def test_dose_at_the_limit_is_within_and_above_it_is_not() -> None:
    at = share_of_limit(300, 70, 4.5, 300)
    assert at.within_limit and at.share == pytest.approx(1.0)
    above = share_of_limit(400, 70, 4.5, 300)
    assert not above.within_limit
    assert above.share == pytest.approx(4 / 3)
    assert "ABOVE" in above.message and TEACHING_AID_LABEL in above.message
    assert "local formulary" in above.message


def test_lidocaine_limits_are_stored_per_label_with_the_uk_default() -> None:
    # clinical-brief.md §9: UK SmPC/BNF 200 mg; US 4.5 mg/kg, not over 300 mg.
    assert DEFAULT_LIDOCAINE_LABEL == "UK"
    assert (UK_LIDOCAINE_MAX_MG, LIDOCAINE_LABELS["UK"].mg_per_kg) == (200, None)
    assert (US_LIDOCAINE_MG_PER_KG, US_LIDOCAINE_MAX_MG) == (4.5, 300)
    assert "UK SmPC/BNF 200 mg" in LIDOCAINE_CAVEAT
    assert "US label 4.5 mg/kg, not over 300 mg" in LIDOCAINE_CAVEAT
    assert "local label governs" in LIDOCAINE_CAVEAT
    claim = content().claims[LIDOCAINE_CLAIM]
    assert "200 mg" in claim.statement and "UK" in claim.statement
    assert "4.5 mg/kg" in claim.statement and "US" in claim.statement


def test_lidocaine_check_uses_the_uk_label_by_default() -> None:
    check = lidocaine_check(70, 2, 5)  # 2% = 20 mg/mL; 5 mL = 100 mg; UK maximum 200 mg
    assert check.total_mg == pytest.approx(100)
    assert check.limit_mg == 200
    assert check.share == pytest.approx(0.5)
    assert "Label used: UK SmPC/BNF" in check.message
    assert LIDOCAINE_CAVEAT in check.message and TEACHING_AID_LABEL in check.message


@pytest.mark.parametrize(("weight", "uk_limit", "us_limit"),
                         [(40, 200, 180), (50, 200, 225), (70, 200, 300), (90, 200, 300)])
def test_the_label_changes_the_limit(weight: float, uk_limit: float, us_limit: float) -> None:
    assert lidocaine_check(weight, 1, 1, "UK").limit_mg == pytest.approx(uk_limit)
    us = lidocaine_check(weight, 1, 1, "US")
    assert us.limit_mg == pytest.approx(us_limit)
    assert "Label used: US label" in us.message


def test_a_dose_within_the_us_limit_can_be_above_the_uk_one() -> None:
    uk, us = lidocaine_check(70, 2, 12, "UK"), lidocaine_check(70, 2, 12, "US")  # 240 mg
    assert not uk.within_limit and "ABOVE" in uk.message
    assert us.within_limit and "ABOVE" not in us.message


@pytest.mark.parametrize("label", ["EU", "", None, 1, "UK SmPC"])
def test_an_unknown_label_is_refused_by_name(label: object) -> None:
    with pytest.raises(ValueError, match=r'^Choose the label: "UK" \(SmPC/BNF\) or "US" '
                                         r"\(you entered "):
        lidocaine_label(label)
    with pytest.raises(ValueError, match=r"^Choose the label"):
        lidocaine_check(70, 2, 5, label)  # type: ignore[arg-type]
    assert calculator_text(70, 2, 5, label).startswith(REFUSAL_PREFIX + "Choose the label")


def test_label_codes_are_case_insensitive() -> None:
    assert lidocaine_label(" us ") is LIDOCAINE_LABELS["US"]


def test_share_of_limit_with_an_absolute_maximum_only() -> None:
    check = share_of_limit(50, 70, None, 200)
    assert check.limit_mg == 200 and check.share == pytest.approx(0.25)
    with pytest.raises(ValueError, match=r"^Give a limit to compare with"):
        share_of_limit(50, 70, None, None)


@settings(max_examples=60, deadline=None)
@given(total=st.floats(0, 10_000), weight=st.floats(1, 350), limit=st.floats(0.1, 100))
def test_share_times_limit_is_the_total(total: float, weight: float, limit: float) -> None:
    check = share_of_limit(total, weight, limit)
    assert check.share * check.limit_mg == pytest.approx(total, rel=1e-9, abs=1e-9)
    assert check.within_limit == (check.share <= 1 or math.isclose(total, check.limit_mg))


@settings(max_examples=60, deadline=None)
@given(st.floats(0.001, 20))
def test_percent_round_trip(percent: float) -> None:
    assert mg_per_ml_to_percent(percent_to_mg_per_ml(percent)) == pytest.approx(percent)


# ---------------------------------------------------------------- refusals

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize(
    ("function", "args", "field"),
    [
        (dose_per_kg, (100, 0), "weight_kg"),
        (dose_per_kg, (100, -70), "weight_kg"),
        (dose_per_kg, (100, 351), "weight_kg"),
        (dose_per_kg, (100, NAN), "weight_kg"),
        (dose_per_kg, (100, INF), "weight_kg"),
        (dose_per_kg, (100, True), "weight_kg"),
        (dose_per_kg, (100, "70"), "weight_kg"),
        (dose_per_kg, (100, None), "weight_kg"),
        (dose_per_kg, (-1, 70), "total_mg"),
        (total_dose_mg, (0, 5), "concentration_mg_per_ml"),
        (total_dose_mg, (-20, 5), "concentration_mg_per_ml"),
        (total_dose_mg, (201, 5), "concentration_mg_per_ml"),
        (total_dose_mg, (NAN, 5), "concentration_mg_per_ml"),
        (total_dose_mg, (20, -1), "volume_ml"),
        (total_dose_mg, (20, INF), "volume_ml"),
        (total_dose_mg, (20, [5]), "volume_ml"),
        (percent_to_mg_per_ml, (-0.1,), "percent"),
        (percent_to_mg_per_ml, (20.5,), "percent"),
        (percent_to_mg_per_ml, (False,), "percent"),
        (percent_to_mg_per_ml, ("2%",), "percent"),
        (percent_to_mg_per_ml, (NAN,), "percent"),
        (mg_per_ml_to_percent, (0,), "concentration_mg_per_ml"),
        (total_volume_ml, (-1, 0.1), "points"),
        (total_volume_ml, (2.5, 0.1), "points"),
        (total_volume_ml, (True, 0.1), "points"),
        (total_volume_ml, (10, -0.1), "ml_per_point"),
        (total_volume_ml, (10, 0), "ml_per_point"),
        (points_for_area, (0, 1), "area_cm2"),
        (points_for_area, (-5, 1), "area_cm2"),
        (points_for_area, (100, 0), "spacing_cm"),
        (points_for_area, (100, -1), "spacing_cm"),
        (share_of_limit, (-1, 70, 4.5), "total_mg"),
        (share_of_limit, (100, 0, 4.5), "weight_kg"),
        (share_of_limit, (100, 70, 0), "limit_mg_per_kg"),
        (share_of_limit, (100, 70, 4.5, 0), "absolute_max_mg"),
        (share_of_limit, (100, 70, 4.5, NAN), "absolute_max_mg"),
        (lidocaine_check, (70, 0, 5), "percent"),
        (lidocaine_check, (70, 2, -5), "volume_ml"),
        (lidocaine_check, (400, 2, 5), "weight_kg"),
    ],
)
def test_bad_input_raises_one_plain_sentence_naming_the_input(function, args: tuple,
                                                              field: str) -> None:
    with pytest.raises(ValueError, match=rf"^Enter {re.escape(FIELD_WORDS[field])}: ") as error:
        function(*args)
    message = str(error.value)
    assert "_" not in message and " must be " not in message  # no argument names
    assert message.endswith(").") and message.count(". ") == 0  # one sentence


def test_refusal_states_the_allowed_range_and_what_was_entered() -> None:
    with pytest.raises(ValueError, match=r"^Enter the weight in kilograms: a number above 0, "
                                         r"up to 350 \(you entered -70\)\.$"):
        dose_per_kg(100, -70)
    with pytest.raises(ValueError, match=r'without quotes \(you entered the text "70"\)\.$'):
        dose_per_kg(100, "70")
    with pytest.raises(ValueError, match=r"a whole number from 0 to 10000 \(you entered 2\.5\)"):
        total_volume_ml(2.5, 0.1)


# ---------------------------------------------------------------- calculator text and widget


def test_calculator_text_shows_the_worked_arithmetic() -> None:
    text = calculator_text(70, 2, 5)
    assert "2% lidocaine = 20 mg/mL" in text
    assert "5 mL × 20 mg/mL = 100 mg" in text
    assert "Label used: UK SmPC/BNF" in text and "50% of the limit" in text
    assert TEACHING_AID_LABEL in text and "local formulary" in text
    us = calculator_text(70, 2, 5, "US")
    assert "Label used: US label" in us and "33% of the limit" in us


@pytest.mark.parametrize(("weight", "percent", "volume", "field"),
                         [(-5, 2, 5, "weight in kilograms"),
                          (70, 25, 5, "concentration in percent"),
                          (70, 2, -1, "volume in millilitres"),
                          (70, NAN, 5, "concentration in percent")])
def test_calculator_text_refuses_bad_input_without_raising(
    weight: float, percent: float, volume: float, field: str
) -> None:
    text = calculator_text(weight, percent, volume)
    assert text.startswith(REFUSAL_PREFIX) and field in text
    assert "_" not in text.removesuffix(TEACHING_AID_LABEL + ".")  # no developer names
    assert TEACHING_AID_LABEL in text


def test_dose_calculator_widget_updates_and_refuses_clearly() -> None:
    calc = dose_calculator()
    assert calc.label.value == "UK"
    assert "100 mg" in calc.text.value and "50% of the limit" in calc.text.value
    assert "Label used: UK SmPC/BNF" in calc.text.value
    assert 'role="status"' in calc.result.value
    calc.label.value = "US"  # 100 mg of min(4.5 × 70, 300) = 300 mg
    assert "33% of the limit" in calc.text.value and "Label used: US label" in calc.text.value
    calc.volume.value = 20.0  # 400 mg > 300 mg
    assert "400 mg" in calc.text.value and "ABOVE" in calc.text.value
    assert "ABOVE" in calc.result.value and "Above the US label limit: 133%" in calc.result.value
    calc.weight.value = -5.0
    assert calc.text.value.startswith(REFUSAL_PREFIX)
    assert "Enter the weight in kilograms" in calc.text.value
    assert 'role="alert"' in calc.result.value
    assert "Enter the weight in kilograms" in calc.result.value
    assert "weight_kg" not in calc.result.value
    calc.weight.value = 50.0  # 400 mg vs 225 mg
    assert "Reference limit 225 mg" in calc.text.value
    calc.label.value = "UK"
    assert "Reference limit 200 mg" in calc.text.value
    calc.concentration.value = 0.0
    assert calc.text.value.startswith(REFUSAL_PREFIX)
    assert "Enter the lidocaine concentration in percent" in calc.text.value


def test_dose_calculator_view_holds_its_controls() -> None:
    calc = dose_calculator(60, 1, 3)
    for control in (calc.label, calc.weight, calc.concentration, calc.volume, calc.result,
                    calc.text):
        assert control in calc.view.children
    assert "30 mg" in calc.text.value  # 3 mL of 1% = 30 mg
