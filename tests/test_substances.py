"""The substance catalogue, its filters, monographs, evidence map and explorer widget."""

from __future__ import annotations

import dataclasses
import math

import pytest
from matplotlib.colors import to_rgba

from course.content import (
    CERTAINTIES,
    INDICATIONS,
    MONOGRAPH_WORDS,
    Content,
    IndicationEvidence,
    Substance,
    content,
)
from course.evidence import _COLOURS, GRADE_WORDING
from course.substances import (
    INDICATION_LABELS,
    NO_ENTRY,
    compare_text,
    contrast_ratio,
    evidence_map_alt_text,
    filter_substances,
    monograph_html,
    monograph_text,
    short_name,
    status_label,
    text_colour_on,
)
from course.views.substances import evidence_map_figure, substance_explorer

SUBSTANCES = content().substances

# Regulatory status of every catalogue id, as clinical-brief.md section 3 gives it.
BRIEF_STATUSES = {
    "hyaluronic_acid": "varies", "vitamin_c": "off_label", "polynucleotides": "varies",
    "plant_extracts": "unapproved", "collagenase": "approved", "hyaluronidase": "off_label",
    "pc_dc": "unapproved", "deoxycholic_acid": "approved", "aminophylline": "off_label",
    "buflomedil": "suspended", "pentoxifylline": "off_label", "caffeine": "off_label",
    "l_carnitine": "off_label", "lidocaine": "off_label", "procaine": "off_label",
    "ketoprofen": "off_label", "calcitonin": "off_label", "minoxidil": "off_label",
    "dutasteride": "off_label", "tranexamic_acid": "off_label",
}


def _ids(substances: list[Substance]) -> list[str]:
    return [s.id for s in substances]


# ---------------------------------------------------------------- catalogue


def test_catalogue_has_every_brief_substance_with_its_status() -> None:
    assert {sid: s.regulatory_status for sid, s in SUBSTANCES.items()} == BRIEF_STATUSES


@pytest.mark.parametrize("substance_id", sorted(BRIEF_STATUSES))
def test_every_substance_has_graded_referenced_evidence_and_a_monograph(
    substance_id: str,
) -> None:
    s = SUBSTANCES[substance_id]
    assert s.evidence, "every substance needs at least one evidence entry"
    assert set(s.indications) == set(s.purposes)
    for entry in s.evidence:
        assert 1 <= entry.ocebm <= 5 and entry.certainty in CERTAINTIES
        assert entry.refs and all(ref in content().references for ref in entry.refs)
        assert entry.summary.strip()
    low, high = MONOGRAPH_WORDS
    assert low <= len(s.monograph.split()) <= high


def test_approved_products_have_their_labelled_indication_and_only_they_do() -> None:
    labelled = {sid: s.labelled_indication for sid, s in SUBSTANCES.items()
                if s.labelled_indication}
    assert set(labelled) == {"deoxycholic_acid", "collagenase"}
    assert "submental fat" in labelled["deoxycholic_acid"]
    assert "Kybella" in labelled["deoxycholic_acid"]
    assert "29 April 2015" in labelled["deoxycholic_acid"]
    assert "buttock cellulite" in labelled["collagenase"]
    assert "Qwo" in labelled["collagenase"] and "July 2020" in labelled["collagenase"]
    assert "discontinued" in labelled["collagenase"]


def test_no_data_entries_are_graded_level_5_very_low() -> None:
    """Without controlled data what remains is mechanism-based reasoning (OCEBM 2011 level 5),
    unless the only evidence is an uncontrolled outcome report, which is level 4: Pistor's 1952
    observation must never be labelled level 5 "mechanism" (clinical-brief.md §9)."""
    phrases = ("no controlled data", "no efficacy data", "no trial of")
    found = outcome_reports = 0
    for s in SUBSTANCES.values():
        for entry in s.evidence:
            if any(p in entry.summary.lower() for p in phrases):
                found += 1
                outcome_report = "uncontrolled observation" in entry.summary.lower()
                outcome_reports += outcome_report
                level = 4 if outcome_report else 5
                assert (entry.ocebm, entry.certainty) == (level, "very_low"), (s.id, entry)
    assert found >= 8  # plant extracts, hyaluronidase, calcitonin, the lipolytics, ...
    assert outcome_reports == 1  # procaine's other uses: Pistor's 1952 observation


def test_mechanism_based_entries_are_never_above_low_certainty() -> None:
    for s in SUBSTANCES.values():
        for entry in s.evidence:
            if entry.ocebm == 5:
                assert entry.certainty in ("low", "very_low"), (s.id, entry.indication)


@pytest.mark.parametrize(
    ("substance_id", "indication", "refs"),
    [
        ("deoxycholic_acid", "submental_fat", {"R20", "R21", "R22"}),
        ("hyaluronic_acid", "skin_rejuvenation", {"R11", "R12", "R13"}),
        ("aminophylline", "cellulite", {"R14"}),
        ("buflomedil", "cellulite", {"R14"}),
        ("ketoprofen", "musculoskeletal_pain", {"R44", "R45"}),
        ("lidocaine", "musculoskeletal_pain", {"R44", "R45"}),
        ("procaine", "musculoskeletal_pain", {"R44", "R45"}),
        ("tranexamic_acid", "melasma", {"R50", "R51"}),
        ("minoxidil", "hair_loss", {"R48", "R49"}),
        ("dutasteride", "hair_loss", {"R48", "R49"}),
        ("collagenase", "cellulite", {"R26"}),
        ("vitamin_c", "other", {"R63"}),
        ("polynucleotides", "skin_rejuvenation", {"R53", "R54"}),
    ],
)
def test_evidence_cites_the_brief_sources(substance_id: str, indication: str,
                                          refs: set[str]) -> None:
    entry = SUBSTANCES[substance_id].evidence_for(indication)
    assert entry is not None
    assert refs <= set(entry.refs)


def test_grades_follow_the_brief() -> None:
    dca = SUBSTANCES["deoxycholic_acid"].evidence_for("submental_fat")
    assert dca and dca.ocebm == 2 and dca.certainty in ("high", "moderate")
    for sid, indication in [("hyaluronic_acid", "skin_rejuvenation"),
                            ("aminophylline", "cellulite"), ("buflomedil", "cellulite"),
                            ("pc_dc", "localized_fat"), ("minoxidil", "hair_loss")]:
        entry = SUBSTANCES[sid].evidence_for(indication)
        assert entry and entry.certainty == "very_low", sid
    # Nothing outside deoxycholic acid and the trial-backed collagenase reaches moderate.
    strong = {s.id for s in SUBSTANCES.values() for e in s.evidence
              if e.certainty in ("high", "moderate")}
    assert strong == {"deoxycholic_acid", "collagenase"}


@pytest.mark.parametrize(
    ("substance_id", "indication", "claim_id"),
    [
        ("deoxycholic_acid", "submental_fat", "dca_submental_fat_response"),
        ("hyaluronic_acid", "skin_rejuvenation", "ha_skin_controlled_studies"),
        ("vitamin_c", "other", "vitamin_c_dark_circles"),
        ("polynucleotides", "skin_rejuvenation", "polynucleotides_rct_vs_ha"),
        ("collagenase", "cellulite", "collagenase_release_trials"),
        ("pc_dc", "localized_fat", "pcdc_evidence"),
        ("aminophylline", "cellulite", "cellulite_cocktail_no_effect"),
        ("buflomedil", "cellulite", "cellulite_cocktail_no_effect"),
        ("dutasteride", "hair_loss", "dutasteride_placebo_studies"),
        ("tranexamic_acid", "melasma", "txa_route_meta_analysis"),
    ],
)
def test_grades_agree_with_the_claims_registry(substance_id: str, indication: str,
                                               claim_id: str) -> None:
    entry = SUBSTANCES[substance_id].evidence_for(indication)
    claim = content().claims[claim_id]
    assert entry is not None
    assert (entry.ocebm, entry.certainty) == (claim.ocebm, claim.certainty)


def test_expert_practice_sources_are_worded_softly_in_monographs() -> None:
    for s in SUBSTANCES.values():
        if "GK" in s.all_refs:
            assert "generally" in s.monograph, s.id


# ---------------------------------------------------------------- clinical revision v2 (§9)


def test_market_status_marks_discontinued_and_unlicensed_injectables() -> None:
    statuses = {sid: s.market_status for sid, s in SUBSTANCES.items() if s.market_status}
    assert statuses == {"collagenase": "discontinued", "minoxidil": "no_licensed_injectable",
                        "dutasteride": "no_licensed_injectable"}


def test_collagenase_is_shown_as_discontinued_and_other_uses_as_unapproved() -> None:
    collagenase = SUBSTANCES["collagenase"]
    assert "discontinued" in status_label(collagenase)
    for text in (collagenase.regulatory_note, collagenase.monograph):
        assert "unapproved use" in text and "no longer marketed" in text
        assert "off-label" not in text
    assert "discontinued" in compare_text("collagenase", "hyaluronidase")


@pytest.mark.parametrize("substance_id", ["minoxidil", "dutasteride"])
def test_injectable_hair_drugs_are_never_called_licensed_or_off_label(substance_id: str) -> None:
    s = SUBSTANCES[substance_id]
    label = status_label(s)
    assert "compounded or unlicensed" in label and "off-label" not in label
    text = monograph_text(substance_id)
    assert "Regulatory status: no licensed injectable product exists" in text
    assert "compounded or unlicensed" in s.monograph
    assert "off-label" not in s.monograph
    assert "Licensed drug" not in s.regulatory_note


def test_an_unknown_market_status_is_refused_by_name(tmp_path) -> None:
    import shutil

    from course.content import ContentError, load_content
    from course.paths import DATA_DIR

    data_dir = tmp_path / "data"
    shutil.copytree(DATA_DIR, data_dir)
    path = data_dir / "substances.toml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace('market_status = "discontinued"', 'market_status = "gone"'),
                    encoding="utf-8")
    with pytest.raises(ContentError, match="market_status") as error:
        load_content(data_dir)
    assert "collagenase" in str(error.value) and "discontinued" in str(error.value)


def test_hyaluronic_acid_skin_series_are_graded_as_uncontrolled() -> None:
    entry = SUBSTANCES["hyaluronic_acid"].evidence_for("skin_rejuvenation")
    assert entry is not None and (entry.ocebm, entry.certainty) == (4, "very_low")
    assert "uncontrolled" in entry.summary


# ---------------------------------------------------------------- filters


def test_no_filter_returns_the_whole_catalogue_in_order() -> None:
    assert _ids(filter_substances()) == list(SUBSTANCES)


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"substance_class": "local_anaesthetic"}, {"lidocaine", "procaine"}),
        ({"substance_class": "enzyme"}, {"collagenase", "hyaluronidase"}),
        ({"indication": "submental_fat"}, {"deoxycholic_acid"}),
        ({"indication": "cellulite"},
         {"collagenase", "aminophylline", "buflomedil", "pentoxifylline", "caffeine",
          "l_carnitine"}),
        ({"indication": "hair_loss"}, {"minoxidil", "dutasteride"}),
        ({"min_certainty": "high"}, {"deoxycholic_acid"}),
        ({"min_certainty": "moderate"}, {"deoxycholic_acid", "collagenase"}),
        ({"max_ocebm": 1}, {"lidocaine", "procaine", "ketoprofen", "tranexamic_acid"}),
        ({"regulatory_status": "approved"}, {"deoxycholic_acid", "collagenase"}),
        ({"regulatory_status": "suspended"}, {"buflomedil"}),
        ({"regulatory_status": "unapproved"}, {"pc_dc", "plant_extracts"}),
        ({"regulatory_status": "varies"}, {"hyaluronic_acid", "polynucleotides"}),
        # combinations
        ({"indication": "musculoskeletal_pain", "max_ocebm": 1},
         {"lidocaine", "procaine", "ketoprofen"}),
        ({"indication": "other", "max_ocebm": 1}, set()),  # lidocaine's level 1 is for pain
        ({"indication": "skin_rejuvenation", "min_certainty": "low"}, {"polynucleotides"}),
        ({"substance_class": "lipolytic_vasoactive", "indication": "localized_fat"},
         {"aminophylline", "caffeine", "l_carnitine"}),
        ({"indication": "cellulite", "regulatory_status": "off_label", "max_ocebm": 3},
         {"aminophylline"}),
        ({"min_certainty": "low", "max_ocebm": 2, "regulatory_status": "off_label"},
         {"vitamin_c", "lidocaine", "procaine", "ketoprofen", "dutasteride",
          "tranexamic_acid"}),
    ],
)
def test_filters_select_the_expected_substances(filters: dict, expected: set[str]) -> None:
    assert set(_ids(filter_substances(**filters))) == expected


def test_certainty_and_level_must_hold_for_the_same_entry() -> None:
    mixed = Substance(
        id="mixed", name="Mixed", substance_class="vitamin", purposes=("other", "melasma"),
        mechanism="x", regulatory_status="off_label", regulatory_note="x", risks=("x",),
        refs=("R8",),
        evidence=(IndicationEvidence("melasma", 1, "very_low", "s", ("R8",)),
                  IndicationEvidence("other", 5, "low", "s", ("R8",))),
    )
    data = dataclasses.replace(content(), substances={"mixed": mixed})
    assert filter_substances(max_ocebm=1, data=data) == [mixed]
    assert filter_substances(min_certainty="low", data=data) == [mixed]
    assert filter_substances(min_certainty="low", max_ocebm=1, data=data) == []


@pytest.mark.parametrize(
    ("filters", "field", "an_allowed_value"),
    [
        ({"substance_class": "vitamins"}, "substance_class", "hydrating_revitalising"),
        ({"indication": "weight_loss"}, "indication", "musculoskeletal_pain"),
        ({"min_certainty": "very low"}, "min_certainty", "very_low"),
        ({"max_ocebm": 6}, "max_ocebm", "5"),
        ({"max_ocebm": 0}, "max_ocebm", "1"),
        ({"max_ocebm": True}, "max_ocebm", "1"),
        ({"regulatory_status": "licensed"}, "regulatory_status", "off_label"),
    ],
)
def test_unknown_filter_values_raise_listing_the_allowed_values(
    filters: dict, field: str, an_allowed_value: str
) -> None:
    with pytest.raises(ValueError, match=f"^{field} must be one of") as error:
        filter_substances(**filters)
    assert an_allowed_value in str(error.value)


def test_a_fractional_level_is_refused() -> None:
    with pytest.raises(ValueError, match="max_ocebm must be a whole number"):
        filter_substances(max_ocebm=2.0)


# ---------------------------------------------------------------- monographs


def test_monograph_text_of_deoxycholic_acid() -> None:
    text = monograph_text("deoxycholic_acid")
    assert text.startswith("Deoxycholic acid (ATX-101)")
    assert "Class: Detergent (cytolytic)" in text
    assert "Labelled indication: submental fat (Kybella, FDA 29 April 2015" in text
    assert "Belkyra" in text  # clinical-brief.md §9: the UK and elsewhere
    assert "Submental fat: OCEBM level 2 (randomised trial)" in text
    assert "high certainty: “results in”" in text
    assert "70.0%" in text and "18.6%" in text
    for ref in ("R20", "R21", "R22", "R23"):
        assert f"  {ref}  {content().references[ref].citation}" in text
    assert "marginal mandibular nerve injury (4%)" in text


def test_monograph_text_gives_each_indication_its_own_grade() -> None:
    text = monograph_text("lidocaine")
    assert "Musculoskeletal pain: OCEBM level 1 (systematic review of randomised trials)" in text
    assert "●●○○ low certainty: “may result in”" in text
    assert "Other use: OCEBM level 5 (mechanism-based reasoning)" in text
    assert "the evidence is very uncertain" in text
    assert "Labelled indication: none" in text
    assert "the local formulary" in text and "local label governs" in text
    assert "UK SmPC/BNF 200 mg" in text and "US label 4.5 mg/kg, not over 300 mg" in text


def test_unknown_substance_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"substance_id must be one of .*lidocaine"):
        monograph_text("botox")


def test_monograph_html_escapes_text_and_shows_one_badge_per_indication() -> None:
    html = monograph_html("lidocaine")
    assert html.count('class="course-badge"') == 2
    assert "OCEBM level 1" in html and "OCEBM level 5" in html
    assert _COLOURS["low"] in html and _COLOURS["very_low"] in html
    evil = dataclasses.replace(SUBSTANCES["vitamin_c"], name="<script>x</script>",
                               monograph="a <b>bold</b> & claim")
    data = dataclasses.replace(content(), substances={"vitamin_c": evil})
    html = monograph_html("vitamin_c", data=data)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt; &amp; claim" in html


def test_compare_text_aligns_two_substances_row_by_row() -> None:
    text = compare_text("lidocaine", "aminophylline")
    lines = text.splitlines()
    bars = {tuple(i for i, ch in enumerate(line) if ch == "|") for line in lines}
    assert len(bars) == 1 and len(next(iter(bars))) == 2, "columns are not aligned"
    rows = {line.split("|")[0].strip(): [cell.strip() for cell in line.split("|")[1:]]
            for line in lines if line.split("|")[0].strip()}
    assert rows["Substance"] == ["Lidocaine", "Aminophylline"]
    assert rows["Musculoskeletal pain"][0].startswith("OCEBM 1")
    assert rows["Musculoskeletal pain"][1].startswith(NO_ENTRY)
    assert rows["Cellulite"][0].startswith(NO_ENTRY)
    assert "very low" in rows["Cellulite"][1] and "R14" in rows["Cellulite"][1]


# ---------------------------------------------------------------- evidence map


def _cells(fig, prefix: str = "cell:") -> dict[tuple[str, str], object]:
    ax = fig.axes[0]
    artists = [*ax.texts, *ax.patches]
    return {tuple(a.get_gid().split(":")[1:]): a for a in artists
            if (a.get_gid() or "").startswith(prefix)}


def test_evidence_map_has_one_labelled_cell_per_substance_and_indication() -> None:
    fig = evidence_map_figure()
    texts, patches = _cells(fig), _cells(fig, "patch:")
    assert len(texts) == len(patches) == len(SUBSTANCES) * len(INDICATIONS)
    filled = 0
    for (sid, indication), text in texts.items():
        entry = SUBSTANCES[sid].evidence_for(indication)
        label = text.get_text()
        colour = patches[(sid, indication)].get_facecolor()
        if entry is None:
            assert label == NO_ENTRY
            assert colour == to_rgba("#FFFFFF")
        else:
            filled += 1
            assert label.split("\n") == [f"L{entry.ocebm}", entry.certainty.replace("_", " ")]
            assert colour == to_rgba(_COLOURS[entry.certainty])
    assert filled == sum(len(s.evidence) for s in SUBSTANCES.values())
    ax = fig.axes[0]
    assert ax.get_title().startswith("Evidence map")
    legend = " ".join(t.get_text() for t in ax.get_legend().get_texts())
    for certainty in CERTAINTIES:
        assert GRADE_WORDING[certainty] in legend
    assert NO_ENTRY in legend
    assert [t.get_text() for t in ax.get_yticklabels()] == [
        short_name(s) for s in SUBSTANCES.values()]


def test_evidence_map_subset_and_its_alt_text() -> None:
    ids, indications = ["deoxycholic_acid", "lidocaine"], ["submental_fat", "melasma",
                                                           "musculoskeletal_pain"]
    fig = evidence_map_figure(ids, indications)
    labels = {key: t.get_text() for key, t in _cells(fig).items()}
    assert labels == {
        ("deoxycholic_acid", "submental_fat"): "L2\nhigh",
        ("deoxycholic_acid", "melasma"): NO_ENTRY,
        ("deoxycholic_acid", "musculoskeletal_pain"): NO_ENTRY,
        ("lidocaine", "submental_fat"): NO_ENTRY,
        ("lidocaine", "melasma"): NO_ENTRY,
        ("lidocaine", "musculoskeletal_pain"): "L1\nlow",
    }
    alt = evidence_map_alt_text(ids, indications)
    assert "2 substances by 3 indications" in alt and "2 of 6 cells" in alt
    assert "- Deoxycholic acid, submental fat: OCEBM level 2" in alt
    assert "- Lidocaine, musculoskeletal pain: OCEBM level 1" in alt
    assert "other use" not in alt  # not a column of this map


def test_alt_text_lists_every_filled_cell() -> None:
    alt = evidence_map_alt_text()
    items = [line for line in alt.splitlines() if line.startswith("- ")]
    assert len(items) == sum(len(s.evidence) for s in SUBSTANCES.values())
    for s in SUBSTANCES.values():
        for e in s.evidence:
            words = e.certainty.replace("_", " ")
            assert any(line.startswith(f"- {short_name(s)}, "
                                       f"{INDICATION_LABELS[e.indication].lower()}: "
                                       f"OCEBM level {e.ocebm}") and f"{words} certainty" in line
                       for line in items), (s.id, e.indication)


@pytest.mark.parametrize(
    ("args", "message"),
    [((["botox"], None), "substance_id must be one of"),
     ((None, ["weight_loss"]), "indications must be one of"),
     (([], None), "substance_ids must name at least one"),
     ((None, []), "indications must name at least one")],
)
def test_evidence_map_refuses_unknown_rows_and_columns(args: tuple, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        evidence_map_figure(*args)
    with pytest.raises(ValueError, match=message):
        evidence_map_alt_text(*args)


@pytest.mark.parametrize("certainty", CERTAINTIES)
def test_cell_text_contrasts_with_its_colour(certainty: str) -> None:
    colour = _COLOURS[certainty]
    assert contrast_ratio(colour, text_colour_on(colour)) >= 4.5


def test_contrast_ratio_matches_wcag_extremes() -> None:
    assert math.isclose(contrast_ratio("#000000", "#FFFFFF"), 21.0)
    assert math.isclose(contrast_ratio("#777777", "#777777"), 1.0)


# ---------------------------------------------------------------- explorer widget


def _options(explorer) -> list[str]:
    return [value for _, value in explorer.results.options]


def test_explorer_filters_change_the_result_list() -> None:
    explorer = substance_explorer()
    assert _options(explorer) == list(SUBSTANCES)
    explorer.indication.value = "submental_fat"
    assert _options(explorer) == ["deoxycholic_acid"]
    assert explorer.results.value == "deoxycholic_acid"
    assert "Deoxycholic acid" in explorer.monograph.value
    assert "OCEBM level 2" in explorer.text.value
    assert "1 substance match" in explorer.count.value
    explorer.indication.value = "any"
    explorer.status.value = "suspended"
    assert _options(explorer) == ["buflomedil"]
    explorer.status.value = "any"
    explorer.substance_class.value = "local_anaesthetic"
    explorer.level.value = 1
    assert _options(explorer) == ["lidocaine", "procaine"]
    explorer.certainty.value = "high"
    assert _options(explorer) == []
    assert explorer.results.value is None
    assert "No substance matches" in explorer.text.value
    assert "No substance matches" in explorer.monograph.value


def test_explorer_selection_shows_the_monograph_and_the_compare_view() -> None:
    explorer = substance_explorer()
    explorer.results.value = "tranexamic_acid"
    assert "Tranexamic acid" in explorer.monograph.value
    assert "R51" in explorer.monograph.value
    assert explorer.text.value == monograph_text("tranexamic_acid")
    assert explorer.compare.value == ""
    explorer.compare_with.value = "deoxycholic_acid"
    assert explorer.compare.value == compare_text("tranexamic_acid", "deoxycholic_acid")
    explorer.results.value = "minoxidil"
    assert explorer.compare.value == compare_text("minoxidil", "deoxycholic_acid")
    # a filter that keeps the current selection keeps it
    explorer.indication.value = "hair_loss"
    assert explorer.results.value == "minoxidil"


def test_explorer_view_contains_its_controls_and_displays_it(monkeypatch) -> None:
    explorer = substance_explorer()
    children = explorer.view.children
    for control in (explorer.substance_class, explorer.indication, explorer.certainty,
                    explorer.level, explorer.status, explorer.results, explorer.monograph,
                    explorer.compare_with, explorer.compare, explorer.text):
        assert control in children
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == explorer.text.value != ""


def test_content_type_is_unchanged_for_other_callers() -> None:
    data = content()
    assert isinstance(data, Content)
    s = data.substances["deoxycholic_acid"]
    assert s.name and s.refs and s.purposes == ("submental_fat",)
    assert s.regulatory_status == "approved"
