"""The skin cross-section explorer: geometry, layers, data validation, figure and widget.

Boundary rule under test: a depth exactly on a layer boundary counts as the upper
(shallower) layer; a depth of 0 mm is the epidermis.
"""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from course.content import ContentError
from course.skin import (
    ILLUSTRATIVE_LABEL,
    assess_injection,
    cross_section_alt_text,
    deposit_depth_mm,
    layer_at_depth,
    load_skin,
    skin_data,
)
from course.views.skin import cross_section_figure, skin_explorer

AREAS = ("face", "scalp", "abdomen", "thigh")
TECHNIQUES = ("intraepidermal", "papular", "nappage", "point_by_point")


# ---------------------------------------------------------------- the course's data


def test_data_has_the_four_areas_and_techniques_with_plausible_illustrative_values() -> None:
    data = skin_data()
    assert tuple(data.areas) == AREAS
    assert tuple(data.techniques) == TECHNIQUES
    for area in data.areas.values():
        assert 0.05 <= area.epidermis_mm <= 0.15, area.id
        assert 1.0 <= area.dermis_mm <= 3.0, area.id
        assert area.hypodermis_mm >= 3.0, area.id
        assert "illustrative" in area.note.lower() and "not measurements" in area.note
    assert data.areas["face"].dermis_mm < data.areas["thigh"].dermis_mm
    for deep in ("abdomen", "thigh"):
        assert data.areas[deep].hypodermis_mm > data.areas["face"].hypodermis_mm


def test_techniques_carry_their_references_and_intended_layers() -> None:
    techniques = skin_data().techniques
    assert all("R67" in t.refs for t in techniques.values())
    assert {"R7", "R3"} <= set(techniques["point_by_point"].refs)
    assert techniques["intraepidermal"].intended_layers == ("epidermis", "dermis")
    assert techniques["papular"].intended_layers == ("dermis",)
    assert techniques["nappage"].intended_layers == ("dermis",)
    assert techniques["point_by_point"].intended_layers == ("dermis", "hypodermis")
    assert techniques["intraepidermal"].example_angle_deg == 15
    assert techniques["nappage"].angle_min_deg == 30 and techniques["nappage"].angle_max_deg == 60
    assert techniques["point_by_point"].insertion_min_mm == 4
    assert techniques["point_by_point"].insertion_max_mm == 13


# ---------------------------------------------------------------- geometry


def test_depth_is_inserted_length_times_sine_of_angle() -> None:
    assert deposit_depth_mm(4.0, 90) == pytest.approx(4.0)
    assert deposit_depth_mm(4.0, 30) == pytest.approx(2.0)
    assert deposit_depth_mm(1.0, 15) == pytest.approx(0.2588, abs=1e-4)
    assert deposit_depth_mm(4.0, 90, inserted_fraction=0.5) == pytest.approx(2.0)
    assert deposit_depth_mm(4.0, 45, inserted_fraction=0.0) == 0.0
    assert deposit_depth_mm(13, 60) > deposit_depth_mm(13, 30) > deposit_depth_mm(4, 30)


@pytest.mark.parametrize(
    ("kwargs", "field", "allowed"),
    [
        ({"needle_mm": 0.4, "angle_deg": 45}, "needle_mm", "from 0.5 to 13 mm"),
        ({"needle_mm": 13.5, "angle_deg": 45}, "needle_mm", "from 0.5 to 13 mm"),
        ({"needle_mm": math.nan, "angle_deg": 45}, "needle_mm", "from 0.5 to 13 mm"),
        ({"needle_mm": "4", "angle_deg": 45}, "needle_mm", "from 0.5 to 13 mm"),
        ({"needle_mm": 4, "angle_deg": 4.9}, "angle_deg", "from 5 to 90°"),
        ({"needle_mm": 4, "angle_deg": 91}, "angle_deg", "from 5 to 90°"),
        ({"needle_mm": 4, "angle_deg": True}, "angle_deg", "from 5 to 90°"),
        ({"needle_mm": 4, "angle_deg": 45, "inserted_fraction": -0.1},
         "inserted_fraction", "from 0 to 1"),
        ({"needle_mm": 4, "angle_deg": 45, "inserted_fraction": 1.01},
         "inserted_fraction", "from 0 to 1"),
    ],
)
def test_out_of_range_inputs_name_the_field_and_range(
    kwargs: dict, field: str, allowed: str
) -> None:
    with pytest.raises(ValueError, match=field) as error:
        deposit_depth_mm(**kwargs)
    assert allowed in str(error.value)


@pytest.mark.parametrize("area", AREAS)
def test_layer_boundaries_belong_to_the_upper_layer(area: str) -> None:
    record = skin_data().areas[area]
    epidermis_bottom = record.epidermis_mm
    dermis_bottom = record.epidermis_mm + record.dermis_mm
    total = dermis_bottom + record.hypodermis_mm
    assert layer_at_depth(area, 0.0) == "epidermis"
    assert layer_at_depth(area, epidermis_bottom) == "epidermis"
    assert layer_at_depth(area, epidermis_bottom + 0.001) == "dermis"
    assert layer_at_depth(area, dermis_bottom) == "dermis"
    assert layer_at_depth(area, dermis_bottom + 0.001) == "hypodermis"
    assert layer_at_depth(area, total) == "hypodermis"
    assert layer_at_depth(area, total + 0.001) == "below hypodermis"


def test_unknown_area_and_bad_depth_are_refused() -> None:
    with pytest.raises(ValueError, match=r"area must be one of face, scalp, abdomen, thigh"):
        layer_at_depth("forearm", 1.0)
    with pytest.raises(ValueError, match="depth_mm"):
        layer_at_depth("face", -0.1)
    with pytest.raises(ValueError, match=r"technique must be one of intraepidermal, papular"):
        assess_injection("face", "mesoderm", 4, 45)
    with pytest.raises(ValueError, match="area must be one of"):
        assess_injection("moon", "nappage", 4, 45)
    with pytest.raises(ValueError, match="needle_mm"):
        assess_injection("face", "nappage", 20, 45)


# Worked by hand from skin.toml's illustrative thicknesses (epidermis / dermis, mm):
# face 0.08 / 1.2 (dermis ends at 1.28), scalp 0.1 / 1.8 (1.9), abdomen 0.1 / 2.2 (2.3),
# thigh 0.1 / 1.6 (1.7). Conventional starting settings and their depths:
# intraepidermal 1.0 mm at 15° -> 0.26 mm; papular 1.5 mm at 90° -> 1.5 mm;
# nappage 3.0 mm at 45° -> 2.12 mm; point-by-point 4.0 mm at 37.5° -> 2.44 mm.
EXPECTED_LAYER = {
    ("face", "intraepidermal"): "dermis", ("scalp", "intraepidermal"): "dermis",
    ("abdomen", "intraepidermal"): "dermis", ("thigh", "intraepidermal"): "dermis",
    ("face", "papular"): "hypodermis", ("scalp", "papular"): "dermis",
    ("abdomen", "papular"): "dermis", ("thigh", "papular"): "dermis",
    ("face", "nappage"): "hypodermis", ("scalp", "nappage"): "hypodermis",
    ("abdomen", "nappage"): "dermis", ("thigh", "nappage"): "hypodermis",
    ("face", "point_by_point"): "hypodermis", ("scalp", "point_by_point"): "hypodermis",
    ("abdomen", "point_by_point"): "hypodermis", ("thigh", "point_by_point"): "hypodermis",
}
EXPECTED_DEPTH = {"intraepidermal": 0.2588, "papular": 1.5, "nappage": 2.1213,
                  "point_by_point": 2.4351}


@pytest.mark.parametrize(("area", "technique"), sorted(EXPECTED_LAYER))
def test_layer_reached_at_each_techniques_conventional_settings(area: str, technique: str) -> None:
    tech = skin_data().techniques[technique]
    result = assess_injection(area, technique, tech.example_needle_mm, tech.example_angle_deg)
    assert result.depth_mm == pytest.approx(EXPECTED_DEPTH[technique], abs=1e-4)
    assert result.layer == EXPECTED_LAYER[(area, technique)]
    assert result.matches_intent == (result.layer in tech.intended_layers)
    assert ("Mismatch" in result.message) != result.matches_intent


def test_message_reads_in_plain_language() -> None:
    result = assess_injection("face", "intraepidermal", 1.0, 15)
    assert result.message.startswith(
        "At 15° a 1.0 mm insertion reaches 0.26 mm: the dermis (illustrative thickness). "
        "Intraepidermal technique aims at the epidermis or the most superficial dermis."
    )
    assert result.matches_intent and "Mismatch" not in result.message


def test_mismatch_says_deeper_or_shallower_and_explains_softly() -> None:
    deep = assess_injection("face", "nappage", 3.0, 45)
    assert not deep.matches_intent
    assert "Mismatch" in deep.message and "deeper than the dermis" in deep.message
    assert "depends on the angle" in deep.message
    shallow = assess_injection("thigh", "point_by_point", 0.5, 5)  # 0.04 mm: epidermis
    assert shallow.layer == "epidermis" and "shallower" in shallow.message
    below = assess_injection("face", "point_by_point", 13, 90)
    assert below.layer == "below hypodermis" and "below the hypodermis" in below.message


# ---------------------------------------------------------------- data validation

VALID = """
[area.face]
name = "Face"
epidermis_mm = 0.1
dermis_mm = 1.2
hypodermis_mm = 6.0
illustrative = true
note = "Illustrative."

[technique.nappage]
name = "Nappage"
depth_described = "2–4 mm"
features = "serial punctures"
intended_layers = ["dermis"]
aim = "the dermis"
example_needle_mm = 3.0
example_angle_deg = 45.0
example_note = "middle of the range"
claims = ["technique_nappage"]
refs = ["R67"]
convention = true
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "skin.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_valid_file_loads_through_the_loader(tmp_path: Path) -> None:
    data = load_skin(_write(tmp_path, VALID))
    assert list(data.areas) == ["face"] and list(data.techniques) == ["nappage"]


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("dermis_mm = 1.2", "dermis_mm = 12",
         r"area 'face': field 'dermis_mm' must be a dermis thickness"),
        ("illustrative = true", "illustrative = false",
         r"area 'face': field 'illustrative' must be true"),
        ('note = "Illustrative."\n', "", r"area 'face': missing required field 'note'"),
        ('intended_layers = ["dermis"]', 'intended_layers = ["mesoderm"]',
         r"technique 'nappage': field 'intended_layers' must be a non-empty list drawn "
         r"from epidermis, dermis, hypodermis"),
        ('refs = ["R67"]', 'refs = ["R999"]',
         r"technique 'nappage': field 'refs': unknown reference id 'R999'"),
        ('claims = ["technique_nappage"]', 'claims = ["no_such_claim"]',
         r"technique 'nappage': field 'claims': unknown claim id"),
        ("example_angle_deg = 45.0", "example_angle_deg = 120",
         r"field 'example_angle_deg' must be an angle in degrees from 5 to 90"),
        ("convention = true", "convention = true\ninsertion_min_mm = 4.0\n"
         "insertion_max_mm = 2.0", r"'insertion_min_mm' \(4.0\) is greater than"),
        ("convention = true", "convention = true\ndepth = 3",
         r"technique 'nappage': unknown field 'depth'"),
        ("[area.face]", "[layers]\nx = 1\n[area.face]", r"unknown table 'layers'"),
        ("[technique.nappage]", "[broken", r"not valid TOML"),
    ],
)
def test_invalid_data_is_refused_naming_file_record_and_field(
    tmp_path: Path, old: str, new: str, message: str
) -> None:
    assert old in VALID
    with pytest.raises(ContentError, match=message) as error:
        load_skin(_write(tmp_path, VALID.replace(old, new, 1)))
    assert "skin.toml" in str(error.value)


def test_a_file_without_techniques_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match=r"expected one or more \[technique.<id>\] tables"):
        load_skin(_write(tmp_path, VALID.split("[technique.nappage]")[0]))


# ---------------------------------------------------------------- figure


def _by_gid(fig, prefix: str) -> list:
    ax = fig.axes[0]
    return [a for a in (*ax.patches, *ax.lines) if (a.get_gid() or "").startswith(prefix)]


def _texts(fig) -> str:
    texts = [t.get_text() for t in fig.texts] + [t.get_text() for t in fig.axes[0].texts]
    return "\n".join([*texts, fig.axes[0].get_title(loc="left")])


def test_figure_draws_three_layers_to_true_relative_thickness() -> None:
    fig = cross_section_figure("face", "intraepidermal", 1.0, 15)
    record = skin_data().areas["face"]
    layers = {p.get_gid(): p for p in _by_gid(fig, "layer:")}
    assert set(layers) == {"layer:epidermis", "layer:dermis", "layer:hypodermis"}
    assert layers["layer:epidermis"].get_height() == pytest.approx(record.epidermis_mm)
    assert layers["layer:dermis"].get_height() == pytest.approx(record.dermis_mm)
    assert layers["layer:dermis"].get_y() == pytest.approx(record.epidermis_mm)
    # The deep hypodermis is cut off, and a break mark says so.
    assert layers["layer:hypodermis"].get_height() < record.hypodermis_mm
    assert _by_gid(fig, "break")
    assert "cut off at the break mark" in _texts(fig)
    # Colour is not the only carrier: every layer has its own hatch and a text label.
    hatches = {p.get_hatch() for p in layers.values()}
    assert len(hatches) == 3 and None not in hatches
    for word in ("Epidermis: 0.08 mm", "Dermis: 1.2 mm", "Hypodermis (subcutaneous fat): 6 mm"):
        assert word in _texts(fig)
    assert fig.axes[0].get_aspect() == 1.0  # angles are drawn true


def test_figure_says_illustrative_and_titles_the_view() -> None:
    fig = cross_section_figure("abdomen", "nappage", 3.0, 45)
    text = _texts(fig)
    assert ILLUSTRATIVE_LABEL in text
    assert "Abdomen" in text and "nappage" in text and "45°" in text


@pytest.mark.parametrize(("needle", "angle"), [(1.0, 15), (4.0, 37.5), (13.0, 5), (2.0, 90)])
def test_needle_ends_at_the_computed_depth_and_angle(needle: float, angle: float) -> None:
    fig = cross_section_figure("thigh", "point_by_point", needle, angle)
    (line,) = _by_gid(fig, "needle")
    xs, ys = line.get_xdata(), line.get_ydata()
    depth = needle * math.sin(math.radians(angle))
    assert ys[-1] == pytest.approx(depth)
    assert math.degrees(math.atan2(ys[-1] - ys[0], xs[-1] - xs[0])) == pytest.approx(angle)
    (deposit,) = _by_gid(fig, "deposit")
    assert deposit.get_ydata()[0] == pytest.approx(depth)
    assert deposit.get_xdata()[0] == pytest.approx(xs[-1])
    assert f"{depth:.2f} mm deep" in _texts(fig)


def test_figure_shows_tissue_below_a_fully_drawn_hypodermis() -> None:
    fig = cross_section_figure("face", "point_by_point", 13, 90)
    record = skin_data().areas["face"]
    (hypodermis,) = _by_gid(fig, "layer:hypodermis")
    assert hypodermis.get_height() == pytest.approx(record.hypodermis_mm)
    assert _by_gid(fig, "region:below") and not _by_gid(fig, "break")
    assert "Below the hypodermis" in _texts(fig) and "Mismatch" in _texts(fig)


def test_alt_text_gives_layer_depth_thicknesses_and_caveat() -> None:
    text = cross_section_alt_text("face", "intraepidermal", 1.0, 15)
    assert "0.26 mm" in text and "the dermis" in text and "15°" in text
    assert "illustrative thicknesses (not measurements)" in text
    assert "epidermis 0.08 mm" in text and "dermis 1.2 mm" in text
    assert "cut off at a break mark" in text and "R67" in text
    deep = cross_section_alt_text("scalp", "nappage", 3.0, 45)
    assert "Mismatch" in deep and "hypodermis" in deep


# ---------------------------------------------------------------- widget


def test_explorer_updates_its_summary_and_flags_a_mismatch() -> None:
    explorer = skin_explorer("face")
    assert "0.26 mm: the dermis" in explorer.summary.value
    assert "Match" in explorer.summary.value and "Mismatch" not in explorer.summary.value
    assert "Teaching aid" in explorer.summary.value
    assert "image/png" in explorer.figure.outputs[0]["data"]

    explorer.angle.value = 90  # 1.0 mm straight down: still the face dermis
    assert "1.00 mm: the dermis" in explorer.summary.value

    explorer.technique.value = "nappage"
    explorer.reset.click()  # the technique's described settings: 3.0 mm at 45°
    assert (explorer.needle.value, explorer.angle.value) == (3.0, 45.0)
    assert "2.12 mm: the hypodermis" in explorer.summary.value
    assert "Mismatch" in explorer.summary.value

    explorer.area.value = "abdomen"  # thicker dermis: the same insertion stays in it
    assert "2.12 mm: the dermis" in explorer.summary.value
    assert "Mismatch" not in explorer.summary.value

    explorer.needle.value = 13.0
    assert "Mismatch" in explorer.summary.value and "13.0 mm insertion" in explorer.summary.value
    text = explorer.figure.outputs[0]["data"]["text/plain"]
    assert "13.0 mm" in text


def test_explorer_displays_as_its_view_and_refuses_unknown_area() -> None:
    explorer = skin_explorer()
    bundle = explorer._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert bundle["text/plain"] == explorer.summary.value
    assert explorer.summary in explorer.view.children
    with pytest.raises(ValueError, match="area must be one of"):
        skin_explorer("moon")
