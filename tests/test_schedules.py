"""The session planner: schedules as reported, session days, descriptions, figure, widget."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from course.content import ContentError
from course.schedules import (
    describe_schedule,
    load_schedules,
    schedules,
    session_days,
    timeline_alt_text,
    total_weeks,
)
from course.views.schedules import session_planner, timeline_figure

CAVEAT = "no standard protocol exists [R8, R48]"

# The brief's table (clinical-brief.md §2): id -> (source, wording).
BRIEF = {
    "spinal_pain": ("R46", "1–5 sessions"),
    "knee_osteoarthritis": ("R46", "3 sessions"),
    "acute_low_back_pain": ("R45", "5 sessions over 13 days"),
    "face_r13": ("R13", "4 sessions 15 days apart"),
    "face_r12": ("R12", "6 sessions 2 weeks apart"),
    "face_r11": ("R11", "4 sessions a month apart"),
    "thigh_gun": ("R14", "weekly for 12 weeks"),
    "deoxycholic_acid": (
        "R23", "up to 6 sessions ≥ 1 month apart; up to 50 injections per session"
    ),
    "collagenase": ("R26", "3 visits 21 days apart"),
}

# Session days worked out by hand from the wording (a month drawn as 30 days; "5 over
# 13 days" spread evenly: 13/4 = 3.25 per gap -> 0, 3.25, 6.5, 9.75, 13 -> rounded half up).
EXPECTED_DAYS = {
    "face_r13": [0, 15, 30, 45],
    "face_r12": [0, 14, 28, 42, 56, 70],
    "face_r11": [0, 30, 60, 90],
    "thigh_gun": [7 * week for week in range(12)],
    "deoxycholic_acid": [0, 30, 60, 90, 120, 150],
    "collagenase": [0, 21, 42],
    "acute_low_back_pain": [0, 3, 7, 10, 13],
}


def test_every_schedule_of_the_brief_is_stored_with_its_source_and_wording() -> None:
    data = schedules()
    assert set(data) == set(BRIEF)
    for sid, (source, wording) in BRIEF.items():
        assert (data[sid].source, data[sid].note) == (source, wording)


def test_ranges_and_limits_are_kept_as_the_brief_gives_them() -> None:
    data = schedules()
    assert (data["spinal_pain"].sessions_min, data["spinal_pain"].sessions) == (1, 5)
    assert data["deoxycholic_acid"].upper_limit and data["deoxycholic_acid"].sessions == 6
    assert data["deoxycholic_acid"].interval_is_minimum
    assert data["deoxycholic_acid"].injections_per_session_max == 50
    assert data["acute_low_back_pain"].total_days == 13
    assert data["acute_low_back_pain"].interval_days is None


@pytest.mark.parametrize("sid", sorted(EXPECTED_DAYS))
def test_session_days_and_total_weeks(sid: str) -> None:
    assert session_days(sid) == EXPECTED_DAYS[sid]
    assert total_weeks(sid) == pytest.approx(EXPECTED_DAYS[sid][-1] / 7)


def test_weeks_for_a_few_schedules_by_hand() -> None:
    assert total_weeks("face_r12") == pytest.approx(10.0)
    assert total_weeks("collagenase") == pytest.approx(6.0)
    assert total_weeks("thigh_gun") == pytest.approx(11.0)  # first to twelfth weekly session


@pytest.mark.parametrize("sid", ["spinal_pain", "knee_osteoarthritis"])
def test_no_interval_is_invented_when_the_source_gives_none(sid: str) -> None:
    assert session_days(sid) == []
    assert math.isnan(total_weeks(sid))
    assert "no interval" in describe_schedule(sid)


@pytest.mark.parametrize("sid", sorted(BRIEF))
def test_description_names_source_wording_and_caveat(sid: str) -> None:
    text = describe_schedule(sid)
    source, wording = BRIEF[sid]
    assert f"Source: {source}" in text and wording in text and CAVEAT in text


def test_descriptions_say_how_each_reading_was_made() -> None:
    assert "1–5 sessions (a range)" in describe_schedule("spinal_pain")
    kybella = describe_schedule("deoxycholic_acid")
    assert "up to 6 sessions" in kybella.lower() and "shortest interval" in kybella
    assert "30 days" in kybella and "21.4 weeks" in kybella
    back = describe_schedule("acute_low_back_pain")
    assert "spread evenly" in back and "assumption" in back and "0, 3, 7, 10 and 13" in back
    face = describe_schedule("face_r13")
    assert "days 0, 15, 30 and 45" in face and "6.4 weeks" in face
    assert "12 sessions, one week apart" in describe_schedule("thigh_gun")


def test_unknown_ids_are_refused_listing_the_known_ones() -> None:
    for call in (session_days, total_weeks, describe_schedule):
        with pytest.raises(ValueError, match=r"^There is no schedule called 'botox': choose one "
                                             r"of spinal_pain, "):
            call("botox")
    with pytest.raises(ValueError, match="face_r13"):
        timeline_figure(["face_r13", "botox"])
    with pytest.raises(ValueError, match=r"^Choose at least one schedule, as a list in square"):
        timeline_figure([])
    with pytest.raises(ValueError, match=r"^Choose at least one schedule.*: spinal_pain, "):
        timeline_alt_text("face_r13")


# ---------------------------------------------------------------- data validation

VALID = """
[schedule.face]
use = "Face"
sessions = 4
interval_days = 15
source = "R13"
note = "4 sessions 15 days apart"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "schedules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_loads_through_the_loader(tmp_path: Path) -> None:
    loaded = load_schedules(_write(tmp_path, VALID))
    assert list(loaded) == ["face"] and loaded["face"].interval_days == 15


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('source = "R13"', 'source = "R999"', r"field 'source': unknown reference id 'R999'"),
        ("sessions = 4", "sessions = 0", r"field 'sessions' must be a number of sessions"),
        ("sessions = 4", 'sessions = "4"', r"field 'sessions' must be a number of sessions"),
        ("sessions = 4", "sessions = 4\nsessions_min = 1\nsessions_max = 5",
         r"give either 'sessions' or both 'sessions_min' and 'sessions_max'"),
        ("sessions = 4", "sessions_min = 5\nsessions_max = 1",
         r"'sessions_min' must be less than 'sessions_max'"),
        ("sessions = 4", "sessions_min = 1", r"a range needs both"),
        ("sessions = 4", "sessions_min = 1\nsessions_max = 5\nupper_limit = true",
         r"'upper_limit' applies to 'sessions'"),
        ("interval_days = 15", "interval_days = 15\ntotal_days = 45",
         r"give at most one of interval_days, interval_months, total_days"),
        ("interval_days = 15", "interval_is_minimum = true",
         r"'interval_is_minimum' needs 'interval_days' or 'interval_months'"),
        ("sessions = 4\ninterval_days = 15", "sessions = 1\ntotal_days = 13",
         r"'total_days' needs 2 or more sessions"),
        ('note = "4 sessions 15 days apart"\n', "", r"missing required field 'note'"),
        ("interval_days = 15", "interval_weeks = 2", r"unknown field 'interval_weeks'"),
        ("[schedule.face]", "[protocol]\nx = 1\n[schedule.face]", r"unknown table 'protocol'"),
        ("[schedule.face]", "[schedule.face", r"not valid TOML"),
    ],
)
def test_invalid_data_is_refused_naming_file_record_and_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in VALID
    with pytest.raises(ContentError, match=message) as error:
        load_schedules(_write(tmp_path, VALID.replace(old, new, 1)))
    assert "schedules.toml" in str(error.value)
    if "TOML" not in message and "table" not in message:
        assert "schedule 'face'" in str(error.value)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match=r"expected one or more \[schedule.<id>\] tables"):
        load_schedules(_write(tmp_path, ""))


# ---------------------------------------------------------------- figure and alt text


def test_timeline_has_one_labelled_row_per_schedule_with_markers_in_weeks() -> None:
    ids = ["face_r13", "spinal_pain", "deoxycholic_acid"]
    fig = timeline_figure(ids)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert len(labels) == 3
    for label, sid in zip(labels, ids, strict=True):
        assert f"[{BRIEF[sid][0]}]" in label
    lines = {line.get_gid(): line for line in ax.lines if line.get_gid()}
    assert list(lines["sessions:face_r13"].get_xdata()) == pytest.approx(
        [d / 7 for d in EXPECTED_DAYS["face_r13"]])
    assert list(lines["sessions:face_r13"].get_ydata()) == [0] * 4
    assert len(lines["sessions:deoxycholic_acid"].get_xdata()) == 6
    assert "sessions:spinal_pain" not in lines  # no interval reported, nothing drawn
    assert any("no interval reported" in t.get_text() for t in ax.texts)
    assert "weeks" in ax.get_xlabel().lower()
    assert "no standard protocol" in ax.get_title(loc="left")
    caption = " ".join(t.get_text() for t in fig.texts)
    assert "30 days" in caption and "upper limit" in caption


def test_alt_text_describes_every_row_and_the_caveat() -> None:
    text = timeline_alt_text(["face_r13", "knee_osteoarthritis"])
    assert "Row 1. Face [R13]" in text and "weeks 0.0, 2.1, 4.3 and 6.4" in text
    assert "Row 2. Knee osteoarthritis [R46]" in text and "No markers" in text
    assert text.count(CAVEAT) == 1


# ---------------------------------------------------------------- widget


def test_planner_redraws_and_rewrites_its_summary_on_every_change() -> None:
    planner = session_planner()
    first = planner.summary.value
    assert all(ref in first for ref in ("[R13]", "[R12]", "[R11]")) and CAVEAT in first
    assert "image/png" in planner.figure.outputs[0]["data"]

    planner.schedules.value = ("collagenase",)
    assert "[R26]" in planner.summary.value and "[R13]" not in planner.summary.value
    assert "days 0, 21 and 42" in planner.summary.value
    assert planner.figure.outputs[0]["data"]["text/plain"] == planner.summary.value

    planner.schedules.value = ()
    assert "Choose at least one schedule" in planner.summary.value
    assert planner.figure.outputs == ()
    bundle = planner._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == planner.summary.value


def test_planner_refuses_unknown_preselection() -> None:
    with pytest.raises(ValueError, match="There is no schedule called 'botox'"):
        session_planner(["botox"])
