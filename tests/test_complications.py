"""Complication cards, onset timeline, NTM outbreak data and onset-window arithmetic.

Expected values come from clinical-brief.md §5 (events, descriptors, trial figures,
outbreak counts, onset figures) and from the decisions documented in
course/complications.py (onset windows, attack rates only with a stated denominator,
the 1–12 week NTM window of R34, inclusive).
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from pathlib import Path

import pytest

from course import complications
from course.complications import (
    ONSET_WINDOWS,
    AttackRate,
    attack_rates,
    card_html,
    card_text,
    cards_by_onset,
    complication_data,
    event_ids,
    in_ntm_window,
    load_complications,
    ntm_attack_rate_alt_text,
    ntm_onset_text,
    onset_timeline_alt_text,
    weeks_since,
)
from course.content import ContentError, content
from course.views.complications import ntm_attack_rate_figure, onset_timeline_figure

# The brief's §5 table, in order, with the two emergencies §9 adds (vascular occlusion,
# local anaesthetic systemic toxicity) after anaphylaxis: event id → (frequency
# descriptor, words from its name).
BRIEF_EVENTS = {
    "local_reactions": ("expected", ("pain", "erythema", "oedema", "bruising")),
    "pruritus_urticaria": ("reported", ("pruritus", "urticaria")),
    "haematoma": ("rare", ("haematoma",)),
    "pih": ("reported", ("hyperpigmentation",)),
    "vasovagal": ("reported", ("vasovagal",)),
    "anaphylaxis": ("rare", ("anaphylaxis",)),
    "vascular_occlusion": ("reported", ("vascular", "occlusion")),
    "local_anaesthetic_toxicity": ("reported", ("local anaesthetic", "toxicity")),
    "ntm_infection": ("outbreaks", ("mycobacterial",)),
    "granulomas_panniculitis": ("reported", ("granulomas", "panniculitis", "fat necrosis")),
    "necrosis_ulceration": ("reported", ("necrosis", "ulceration")),
    "scarring": ("reported", ("scarring",)),
    "scalp_alopecia": ("reported", ("alopecia", "scalp")),
    "systemic_effects": ("reported", ("systemic",)),
    "nerve_injury_dysphagia": ("trial", ("nerve", "dysphagia", "deoxycholic")),
}


# ---------------------------------------------------------------- the course's cards


def test_every_event_of_the_brief_has_a_card_in_the_brief_order() -> None:
    assert event_ids() == list(BRIEF_EVENTS)
    for event_id, (frequency, words) in BRIEF_EVENTS.items():
        event = complication_data().events[event_id]
        assert event.frequency == frequency, event_id
        for word in words:
            assert word in event.name.lower(), (event_id, word)
        for field in ("signs", "prevention", "first_management", "when_to_refer",
                      "onset_text", "frequency_text"):
            assert getattr(event, field).strip(), (event_id, field)


def test_trial_figures_are_only_those_the_brief_gives() -> None:
    events = complication_data().events
    figures = {(e.id, f.percent, f.refs) for e in events.values() for f in e.figures}
    assert figures == {
        ("local_reactions", 72, ("R23",)),
        ("nerve_injury_dysphagia", 4, ("R23",)),
        ("nerve_injury_dysphagia", 2, ("R23",)),
    }
    words = {f.what for e in events.values() for f in e.figures}
    assert any("bruising" in w for w in words) and any("nerve" in w for w in words)
    assert any("dysphagia" in w for w in words)


def test_no_card_states_a_percentage_the_brief_does_not_give() -> None:
    # 72/4/2: deoxycholic acid trial [R23]; 64/31: antibiotic use in NTM cases [R38];
    # 20%: the strength of the lipid emulsion for local anaesthetic toxicity (brief §9).
    allowed = {"72%", "4%", "2%", "64%", "31%", "20%"}
    for event_id in event_ids():
        found = set(re.findall(r"\d+(?:\.\d+)?%", card_text(event_id)))
        assert found <= allowed, (event_id, found - allowed)


def test_onset_windows_follow_the_brief() -> None:
    events = complication_data().events
    sourced = {
        "local_reactions": ("immediate",), "vasovagal": ("immediate",),
        "ntm_infection": ("weeks",), "scalp_alopecia": ("weeks", "months"),
    }
    for event_id, windows in sourced.items():
        assert events[event_id].onset_window == windows, event_id
        assert events[event_id].onset_basis == "sourced", event_id
    assert "about a year" in events["scalp_alopecia"].onset_text
    assert events["scalp_alopecia"].onset_label == "weeks to months"
    for event in events.values():
        if event.onset_basis == "expert_practice":
            assert "expert practice" in event.onset_text, event.id
            assert "GK" in event.refs, event.id
        else:
            assert "expert practice" not in event.onset_text, event.id


def test_cards_by_onset_lists_each_event_under_each_of_its_windows() -> None:
    grouped = cards_by_onset()
    assert list(grouped) == list(ONSET_WINDOWS)
    for event in complication_data().events.values():
        for window in ONSET_WINDOWS:
            assert (event.id in grouped[window]) == (window in event.onset_window)
    assert "ntm_infection" in grouped["weeks"] and "ntm_infection" not in grouped["immediate"]
    assert {"scalp_alopecia"} <= set(grouped["weeks"]) & set(grouped["months"])


def test_expert_practice_content_is_marked_as_such() -> None:
    events = complication_data().events
    assert "lie the patient flat" in events["vasovagal"].first_management
    assert "expert practice" in events["vasovagal"].first_management
    assert "darker skin types" in events["pih"].signs and "expert practice" in events["pih"].signs
    assert "beta-lactams typically fail (expert practice)" in \
        events["ntm_infection"].first_management
    for event in events.values():
        text = card_text(event.id)
        assert ("expert practice" in text) == ("GK" in event.refs), event.id


def test_card_text_has_every_section_and_the_references() -> None:
    for event_id in event_ids():
        event = complication_data().events[event_id]
        lines = card_text(event_id).splitlines()
        assert lines[0] == event.name
        headings = [line.split(":")[0] for line in lines[1:]]
        expected = ["Frequency", "Onset", "Signs", "Prevention", "First management",
                    "When to refer", "References"]
        if event.figures:
            expected.insert(1, "Trial figures")
        assert headings == expected, event_id
        references = lines[-1]
        for ref in event.refs:
            assert ref in references, (event_id, ref)
        assert set(event.refs) <= set(content().references)
    ntm = card_text("ntm_infection")
    for fact in ("[R34]", "median 28 days", "9.8 weeks", "mycobacterial culture",
                 "rinse a multi-injection device [R40]", "factory", "without fever [R37]"):
        assert fact in ntm
    anaphylaxis = card_text("anaphylaxis")
    assert "500 micrograms" in anaphylaxis and "5 minutes" in anaphylaxis and "[R58]" in anaphylaxis
    assert "72% [R23]" in card_text("local_reactions")


def test_card_claims_exist_in_the_registry() -> None:
    claims = content().claims
    for event in complication_data().events.values():
        assert event.claims, event.id
        assert set(event.claims) <= set(claims), event.id


def test_card_html_has_the_same_sections_and_is_escaped(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    html = card_html("haematoma")
    assert html.count("<dt>") == len(card_text("haematoma").splitlines()) - 1
    assert "<h3" in html and "Haematoma" in html
    path = _write(tmp_path, VALID.replace('name = "Vasovagal episode"',
                                          'name = "Faint <script>alert(1)</script> & fall"'))
    monkeypatch.setattr(complications, "complication_data", lambda: load_complications(path))
    html = card_html("vasovagal")
    assert "<script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; fall" in html


def test_unknown_event_is_refused_with_the_known_ids() -> None:
    with pytest.raises(ValueError, match=r"event_id must be one of local_reactions, "):
        card_text("mesoderm_rash")


# ---------------------------------------------------------------- data validation

VALID = """
[event.vasovagal]
name = "Vasovagal episode"
frequency = "reported"
frequency_text = "Reported [R8]."
onset_window = "immediate"
onset_basis = "sourced"
onset_text = "Immediate [R8]."
signs = "Faintness."
prevention = "Recline the patient (expert practice)."
first_management = "Lie the patient flat (expert practice)."
when_to_refer = "If no recovery, consider anaphylaxis [R58]."
refs = ["R8", "R58", "GK"]
claims = ["vasovagal_reported"]

[ntm_cluster.paris]
label = "Paris"
cases = 15
treated = 111
counts_text = "15 of 111"
refs = ["R40"]

[ntm_onset.series]
text = "1–12 weeks"
statistic = "range"
measure = "onset"
low = 1
high = 12
unit = "weeks"
defines_window = true
refs = ["R34"]
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "complications.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_loads_through_the_loader(tmp_path: Path) -> None:
    data = load_complications(_write(tmp_path, VALID))
    assert list(data.events) == ["vasovagal"] and list(data.clusters) == ["paris"]
    assert data.events["vasovagal"].onset_window == ("immediate",)
    assert data.ntm_window.weeks() == (1, 12)


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('frequency = "reported"', 'frequency = "13%"',
         r"event 'vasovagal': field 'frequency' must be a descriptor, one of expected, "
         r"reported, rare, outbreaks, trial \(never a rate\)"),
        ('frequency = "reported"', 'frequency = "trial"',
         r"event 'vasovagal': field 'frequency' is 'trial' but no 'figures'"),
        ('onset_window = "immediate"', 'onset_window = "yearly"',
         r"event 'vasovagal': field 'onset_window' must be one of immediate, days, weeks, "
         r"months"),
        ('onset_window = "immediate"', 'onset_window = ["immediate", "weeks"]',
         r"field 'onset_window' must be .* neighbouring windows"),
        ('onset_window = "immediate"', 'onset_window = ["weeks", "days"]',
         r"field 'onset_window' must be .* in that order"),
        ('refs = ["R8", "R58", "GK"]', 'refs = ["R8", "R58", "R999", "GK"]',
         r"event 'vasovagal': field 'refs': unknown reference id 'R999'"),
        ('claims = ["vasovagal_reported"]', 'claims = ["no_such_claim"]',
         r"event 'vasovagal': field 'claims': unknown claim id 'no_such_claim'"),
        ('signs = "Faintness."', 'signs = "Faintness [R23]."',
         r"event 'vasovagal': field 'signs' cites 'R23', which is not in 'refs'"),
        ('refs = ["R8", "R58", "GK"]', 'refs = ["R8", "R58", "R23", "GK"]',
         r"event 'vasovagal': field 'refs': 'R23' is not cited in any text"),
        ('refs = ["R8", "R58", "GK"]', 'refs = ["R8", "R58"]',
         r"event 'vasovagal': a text says \"expert practice\", so 'refs' needs GK"),
        ('onset_basis = "sourced"', 'onset_basis = "expert_practice"',
         r"field 'onset_text' must say \"expert practice\" exactly when"),
        ('signs = "Faintness."\n', "",
         r"event 'vasovagal': missing required field 'signs'"),
        ('onset_basis = "sourced"', 'onset_basis = "sourced"\nrate = 0.01',
         r"event 'vasovagal': unknown field 'rate'"),
        ('onset_basis = "sourced"',
         'onset_basis = "sourced"\nfigures = [{ what = "x", percent = 120, refs = ["R8"] }]',
         r"event 'vasovagal': figures\[0\]: field 'percent' must be a percentage from 0 to 100"),
        ("cases = 15", "cases = 150",
         r"ntm_cluster 'paris': field 'cases' \(150\) is greater than 'treated' \(111\)"),
        ("cases = 15\n", "", r"ntm_cluster 'paris': field 'treated' needs 'cases'"),
        ("cases = 15", "cases = 15\nconfirmed = 10",
         r"ntm_cluster 'paris': 'confirmed', 'total' and 'total_meaning' go together"),
        ("treated = 111", "treated = 0",
         r"ntm_cluster 'paris': field 'treated' must be a whole number above 0"),
        ("low = 1", "low = 20",
         r"ntm_onset 'series': field 'low' \(20\) is greater than 'high' \(12\)"),
        ('statistic = "range"', 'statistic = "median"',
         r"ntm_onset 'series': a median needs 'value'"),
        ("defines_window = true", "defines_window = false",
         r"exactly one ntm_onset record needs defines_window = true \(found 0\)"),
        ('unit = "weeks"', 'unit = "months"', r"field 'unit' must be one of days, weeks"),
        ("[ntm_cluster.paris]", "[rates]\nx = 1\n[ntm_cluster.paris]",
         r"unknown table 'rates'"),
        ("[ntm_onset.series]", "[broken", r"not valid TOML"),
    ],
)
def test_invalid_data_is_refused_naming_file_record_and_field(
        tmp_path: Path, old: str, new: str, message: str) -> None:
    assert old in VALID
    with pytest.raises(ContentError, match=message) as error:
        load_complications(_write(tmp_path, VALID.replace(old, new, 1)))
    assert "complications.toml" in str(error.value)


def test_a_file_without_clusters_is_refused(tmp_path: Path) -> None:
    text = VALID.split("[ntm_cluster.paris]")[0] + "[ntm_onset" + VALID.split("[ntm_onset")[1]
    with pytest.raises(ContentError, match=r"expected one or more \[ntm_cluster.<id>\] tables"):
        load_complications(_write(tmp_path, text))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="data file is missing"):
        load_complications(tmp_path / "nothing.toml")


# ---------------------------------------------------------------- onset timeline


def _texts(fig) -> list[str]:
    ax = fig.axes[0]
    return [t.get_text() for t in (*fig.texts, *ax.texts)]


def test_timeline_has_one_bar_and_one_label_per_event_in_its_windows() -> None:
    fig = onset_timeline_figure()
    ax = fig.axes[0]
    bars = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("onset:")}
    labels = {t.get_gid(): t for t in ax.texts}
    events = complication_data().events
    assert set(bars) == {f"onset:{e}" for e in events}
    for event in events.values():
        bar = bars[f"onset:{event.id}"]
        first = ONSET_WINDOWS.index(event.onset_window[0])
        last = ONSET_WINDOWS.index(event.onset_window[-1])
        assert bar.get_x() > first and bar.get_x() < first + 1, event.id
        assert bar.get_x() + bar.get_width() > last and \
            bar.get_x() + bar.get_width() < last + 1, event.id
        row = list(events).index(event.id)
        assert bar.get_y() < row < bar.get_y() + bar.get_height()
        label = labels[f"onset-label:{event.id}"].get_text()
        words = {"expected": "Expected", "reported": "Reported", "rare": "Rare",
                 "outbreaks": "Outbreaks", "trial": "Trial"}
        assert words[event.frequency] in label, event.id
        expert = event.onset_basis == "expert_practice"
        assert ("expert practice" in label) == expert, event.id
        assert bool(bar.get_hatch()) == expert, event.id
    assert "4% / 2%" in labels["onset-label:nerve_injury_dysphagia"].get_text()
    columns = " ".join(t.get_text() for t in ax.get_xticklabels())
    for window in ONSET_WINDOWS:
        assert window.capitalize() in columns
    assert [t.get_text().replace("\n", " ") for t in ax.get_yticklabels()] == \
        [e.name for e in events.values()]


def test_timeline_bands_cover_the_four_windows_and_note_says_incidence_unknown() -> None:
    fig = onset_timeline_figure()
    bands = [p for p in fig.axes[0].patches if (p.get_gid() or "").startswith("band:")]
    assert [b.get_gid() for b in bands] == [f"band:{w}" for w in ONSET_WINDOWS]
    assert any("Incidence is unknown [R8]" in t for t in _texts(fig))


def test_timeline_alt_text_describes_every_row() -> None:
    text = onset_timeline_alt_text()
    for event in complication_data().events.values():
        assert f"- {event.name}: {event.onset_label} (" in text
    assert "Non-tuberculous mycobacterial (NTM) infection: weeks (onset from the sources)" in text
    assert "Haematoma: immediate (onset from expert practice)" in text
    assert "4% [R23]" in text and "Incidence is unknown [R8]" in text


# ---------------------------------------------------------------- NTM outbreaks


def test_attack_rates_only_where_the_brief_gives_infected_and_treated() -> None:
    rates = attack_rates()
    assert [r.cluster for r in rates] == ["paris", "balearics"]
    paris, balearics = rates
    assert isinstance(paris, AttackRate)
    assert (paris.cases, paris.treated) == (16, 105)
    assert paris.rate == pytest.approx(16 / 105) and paris.rate == pytest.approx(0.1524, abs=1e-4)
    assert (balearics.cases, balearics.treated) == (17, 77)
    assert balearics.rate == pytest.approx(0.2208, abs=1e-4)


def test_clusters_without_a_rate_keep_their_counts_as_the_brief_states_them() -> None:
    clusters = complication_data().clusters
    # Washington DC 2005 [R29] was not an NTM cluster (brief §9): no cluster record.
    assert "washington_dc" not in clusters
    assert all("R29" not in c.refs for c in clusters.values())
    assert clusters["venezuela"].cases == 49 and clusters["venezuela"].refs == ("R33",)
    colombia = clusters["colombia"]
    assert (colombia.confirmed, colombia.total) == (33, 80)
    assert colombia.cases is None and colombia.treated is None
    assert "33 of 80 confirmed" in colombia.counts_text
    assert "not stated" in (colombia.total_meaning or "")
    for place, ref in (("peru", "R30"), ("australia", "R31")):
        assert clusters[place].cases is None and clusters[place].refs == (ref,)


def test_attack_rate_figure_labels_each_bar_with_rate_and_counts() -> None:
    fig = ntm_attack_rate_figure()
    ax = fig.axes[0]
    bars = {p.get_gid(): p for p in ax.patches if (p.get_gid() or "").startswith("rate:")}
    assert bars["rate:paris"].get_width() == pytest.approx(100 * 16 / 105)
    assert bars["rate:balearics"].get_width() == pytest.approx(100 * 17 / 77)
    labels = {t.get_gid(): t.get_text() for t in ax.texts}
    assert labels["rate-label:paris"] == "15.2% (16/105)"
    assert labels["rate-label:balearics"] == "22.1% (17/77)"
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert any("Paris" in t and "[R40]" in t for t in ticks)
    assert any("Balearic" in t and "[R32]" in t for t in ticks)
    note = " ".join(t.get_text() for t in fig.texts if t.get_gid() == "note").replace("\n", " ")
    assert "not the risk of a typical session" in note
    for other in ("49 cases [R33]", "33 of 80 confirmed", "[R30]", "[R31]"):
        assert other in note
    assert "[R29]" not in note and "Washington" not in note
    assert "Colombia" not in " ".join(ticks)


def test_attack_rate_alt_text_gives_the_same_facts() -> None:
    text = ntm_attack_rate_alt_text()
    assert "15.2% (16/105) [R40]" in text and "22.1% (17/77) [R32]" in text
    assert "Washington" not in text
    assert "not the risk of a typical session" in text and "33 of 80 confirmed" in text


# ---------------------------------------------------------------- NTM onset


def test_onset_figures_are_the_briefs_and_fall_inside_the_window() -> None:
    onsets = complication_data().onsets
    stored = {(o.statistic, o.measure, o.unit, o.low, o.high, o.value, o.refs)
              for o in onsets.values()}
    assert stored == {
        ("range", "onset", "weeks", 1, 12, None, ("R34",)),
        ("median", "onset", "days", None, None, 28, ("R38",)),
        ("mean", "onset of lesions", "weeks", None, None, 3, ("R39",)),
        ("mean", "time to diagnosis", "weeks", None, None, 9.8, ("R39",)),
    }
    assert all("R29" not in o.refs for o in onsets.values())  # DC 2005 was not NTM
    assert onsets["cosmetic_review"].weeks() == (4.0, 4.0)  # 28 days
    for onset in onsets.values():
        low, high = onset.weeks()
        assert in_ntm_window(low) and in_ntm_window(high), onset.id


def test_ntm_onset_text_cites_every_figure() -> None:
    text = ntm_onset_text()
    for onset in complication_data().onsets.values():
        assert f"{onset.text} [{', '.join(onset.refs)}]" in text
    assert "1–12 weeks [R34]" in text and "not a diagnostic rule" in text


def test_weeks_since_counts_days_over_seven() -> None:
    assert weeks_since(date(2024, 1, 1), date(2024, 1, 29)) == 4.0
    assert weeks_since(date(2024, 1, 1), date(2024, 1, 1)) == 0.0
    assert weeks_since("2024-02-20", "2024-03-01") == pytest.approx(10 / 7)  # leap year
    assert weeks_since(datetime(2024, 1, 1, 23, 0), date(2024, 1, 8)) == 1.0


@pytest.mark.parametrize(
    ("treatment", "presentation", "message"),
    [
        (date(2024, 3, 1), date(2024, 2, 29),
         r"^The patient cannot present \(2024-02-29\) before the treatment \(2024-03-01\)"),
        ("2024-13-01", date(2024, 1, 1), r"^Enter the date of treatment as a date in quotes"),
        (date(2024, 1, 1), 20240101, r"^Enter the date the patient presented as a date"),
        (None, date(2024, 1, 1), r"^Enter the date of treatment as a date"),
    ],
)
def test_weeks_since_refuses_bad_input(treatment, presentation, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        weeks_since(treatment, presentation)


def test_ntm_window_is_one_to_twelve_weeks_inclusive() -> None:
    assert in_ntm_window(1) and in_ntm_window(12) and in_ntm_window(4.0)
    assert not in_ntm_window(0.99) and not in_ntm_window(12.01) and not in_ntm_window(0)
    start = date(2024, 1, 1)
    assert in_ntm_window(weeks_since(start, date(2024, 1, 8)))      # 7 days = 1 week
    assert not in_ntm_window(weeks_since(start, date(2024, 1, 7)))  # 6 days
    assert in_ntm_window(weeks_since(start, date(2024, 3, 25)))     # 84 days = 12 weeks
    assert not in_ntm_window(weeks_since(start, date(2024, 3, 26)))


@pytest.mark.parametrize("bad", [-1, math.nan, math.inf, True, "3", None])
def test_ntm_window_refuses_bad_weeks(bad) -> None:
    with pytest.raises(ValueError, match=r"^Enter the weeks since treatment: a number of 0 or"):
        in_ntm_window(bad)
