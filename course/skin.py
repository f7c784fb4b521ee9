"""Skin cross-section explorer: where does a mesotherapy deposit really go?

Adult skin has three layers, epidermis, dermis and hypodermis (subcutaneous fat); the
"mesoderm" is an embryonic germ layer (the dermis and hypodermis develop from it), not a
layer of skin. This module models a
needle entering the skin at an angle and reports the layer its tip reaches.

The model is pure geometry over the data in ``course/data/skin.toml``: the vertical
depth of the deposit is the inserted length times the sine of the angle between the
needle and the skin surface. Layer thicknesses are **illustrative** textbook-order
values, not measurements, and every figure and text says so. Technique parameters
are conventions from training material with low evidential weight [R67].

Boundary rule: a depth exactly on the boundary between two layers counts as the
upper (shallower) layer, because the needle tip has not passed into the deeper one.
A depth of 0 mm (the surface) counts as the epidermis.

Pure functions: :func:`deposit_depth_mm`, :func:`layer_at_depth`,
:func:`assess_injection`, :func:`cross_section_alt_text`, :func:`explorer_summary`.
The figure and the widget are in :mod:`course.views.skin` and only draw and wire.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course import TEACHING_AID_LABEL
from course.catalogue import Tables, check_ids, get_record
from course.content import TEXT, TEXT_LIST, ContentError, Rule, validated
from course.paths import DATA_DIR

SKIN_FILE = DATA_DIR / "skin.toml"

LAYERS = ("epidermis", "dermis", "hypodermis")
BELOW_HYPODERMIS = "below hypodermis"
NEEDLE_RANGE_MM = (0.5, 13.0)
ANGLE_RANGE_DEG = (5.0, 90.0)
FRACTION_RANGE = (0.0, 1.0)
BOUNDARY_TOLERANCE_MM = 1e-9
"""Depths within this distance of a boundary count as on it (floating-point noise)."""

ILLUSTRATIVE_LABEL = "Illustrative thicknesses — not measurements"
CONVENTION_NOTE = (
    "Technique parameters come from training material and are conventions with low "
    "evidential weight [R67]. Their depths describe how far the needle goes in, so a "
    "technique's name does not always match the layer the needle tip actually reaches."
)

LAYER_NAMES = {
    "epidermis": "epidermis",
    "dermis": "dermis",
    "hypodermis": "hypodermis (subcutaneous fat)",
    BELOW_HYPODERMIS: "tissue below the hypodermis (not modelled here)",
}

# How a sentence names where the deposit is: "reaches 0.26 mm: the dermis".
LAYER_PHRASES = {
    "epidermis": "the epidermis",
    "dermis": "the dermis",
    "hypodermis": "the hypodermis",
    BELOW_HYPODERMIS: "below the hypodermis modelled here",
}

# Okabe–Ito palette; each layer also carries a text label and a hatch pattern.
LAYER_STYLE = {
    "epidermis": {"colour": "#E69F00", "hatch": "...."},
    "dermis": {"colour": "#CC79A7", "hatch": "////"},
    "hypodermis": {"colour": "#F0E442", "hatch": "oo"},
}
NEEDLE_COLOUR = "#000000"
DEPOSIT_COLOUR = "#0072B2"
BELOW_COLOUR = "#BBBBBB"


# ---------------------------------------------------------------- data model


@dataclass(frozen=True)
class Area:
    """One body area: illustrative layer thicknesses in millimetres."""

    id: str
    name: str
    epidermis_mm: float
    dermis_mm: float
    hypodermis_mm: float
    note: str

    def thickness(self, layer: str) -> float:
        return {"epidermis": self.epidermis_mm, "dermis": self.dermis_mm,
                "hypodermis": self.hypodermis_mm}[layer]

    def bounds(self) -> list[tuple[str, float, float]]:
        """(layer, top, bottom) in mm from the surface, shallowest first."""
        rows, top = [], 0.0
        for layer in LAYERS:
            bottom = top + self.thickness(layer)
            rows.append((layer, top, bottom))
            top = bottom
        return rows

    @property
    def total_mm(self) -> float:
        return self.epidermis_mm + self.dermis_mm + self.hypodermis_mm


@dataclass(frozen=True)
class Technique:
    """A technique as described in training material (a convention)."""

    id: str
    name: str
    depth_described: str
    features: str
    intended_layers: tuple[str, ...]
    aim: str
    example_needle_mm: float
    example_angle_deg: float
    example_note: str
    claims: tuple[str, ...]
    refs: tuple[str, ...]
    insertion_min_mm: float | None = None
    insertion_max_mm: float | None = None
    angle_min_deg: float | None = None
    angle_max_deg: float | None = None

    @property
    def short_name(self) -> str:
        """The name without its bracketed gloss, e.g. 'Intraepidermal'."""
        return self.name.split(" (")[0]


@dataclass(frozen=True)
class SkinData:
    areas: Mapping[str, Area]
    techniques: Mapping[str, Technique]


@dataclass(frozen=True)
class InjectionResult:
    """Where a deposit lands, and whether that is the layer the technique aims at."""

    depth_mm: float
    layer: str
    intended_layers: tuple[str, ...]
    matches_intent: bool
    message: str


# ---------------------------------------------------------------- loading


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _mm_between(low: float, high: float, what: str) -> Rule:
    return Rule(lambda v: _is_number(v) and low <= v <= high,
                f"{what}, a number of millimetres from {low:g} to {high:g}")


def _is_true(value: Any) -> bool:
    return value is True


LAYER_LIST = Rule(
    lambda v: isinstance(v, list) and bool(v) and all(x in LAYERS for x in v),
    f"a non-empty list drawn from {', '.join(LAYERS)}",
)
NEEDLE = _mm_between(*NEEDLE_RANGE_MM, "a needle length")
ANGLE = Rule(lambda v: _is_number(v) and ANGLE_RANGE_DEG[0] <= v <= ANGLE_RANGE_DEG[1],
             f"an angle in degrees from {ANGLE_RANGE_DEG[0]:g} to {ANGLE_RANGE_DEG[1]:g}")

AREA_FIELDS = {
    "name": TEXT,
    "epidermis_mm": _mm_between(0.01, 1.0, "an epidermis thickness"),
    "dermis_mm": _mm_between(0.2, 5.0, "a dermis thickness"),
    "hypodermis_mm": _mm_between(0.5, 100.0, "a hypodermis thickness"),
    "illustrative": Rule(_is_true, "true (the course has no measured thicknesses)"),
    "note": TEXT,
}
TECHNIQUE_FIELDS = {
    "name": TEXT, "depth_described": TEXT, "features": TEXT,
    "intended_layers": LAYER_LIST, "aim": TEXT,
    "example_needle_mm": NEEDLE, "example_angle_deg": ANGLE, "example_note": TEXT,
    "claims": TEXT_LIST, "refs": TEXT_LIST,
    "convention": Rule(_is_true, "true (technique parameters are conventions)"),
}
TECHNIQUE_OPTIONAL = {
    "insertion_min_mm": NEEDLE, "insertion_max_mm": NEEDLE,
    "angle_min_deg": ANGLE, "angle_max_deg": ANGLE,
}


def _area(area_id: str, record: Any, path: Path) -> Area:
    fields = validated(record, f"{path.name}: area {area_id!r}", AREA_FIELDS)
    fields.pop("illustrative")
    return Area(id=area_id, **fields)


def _technique(tech_id: str, record: Any, path: Path) -> Technique:
    where = f"{path.name}: technique {tech_id!r}"
    fields = validated(record, where, TECHNIQUE_FIELDS, TECHNIQUE_OPTIONAL)
    fields.pop("convention")
    check_ids(fields["refs"], "references.toml", where, "refs")
    check_ids(fields["claims"], "claims.toml", where, "claims", kind="claim")
    for low, high in (("insertion_min_mm", "insertion_max_mm"),
                      ("angle_min_deg", "angle_max_deg")):
        if low in fields and high in fields and fields[low] > fields[high]:
            raise ContentError(f"{where}: field {low!r} ({fields[low]}) is greater than "
                               f"{high!r} ({fields[high]})")
    for name in ("intended_layers", "claims", "refs"):
        fields[name] = tuple(fields[name])
    return Technique(id=tech_id, **fields)


SKIN = Tables(SKIN_FILE, {"area": _area, "technique": _technique},
              lambda tables, path: SkinData(areas=tables["area"],
                                            techniques=tables["technique"]))


def load_skin(path: Path = SKIN_FILE) -> SkinData:
    """Load and validate the skin areas and techniques; raise ContentError if invalid."""
    return SKIN.load(path)


def skin_data() -> SkinData:
    """The course's own skin data, loaded once per process."""
    return SKIN.cached()


def area_ids() -> list[str]:
    return list(skin_data().areas)


def technique_ids() -> list[str]:
    return list(skin_data().techniques)


def get_area(area: str) -> Area:
    """The area record, or ValueError listing the known areas."""
    return get_record(skin_data().areas, area, "area")


def get_technique(technique: str) -> Technique:
    """The technique record, or ValueError listing the known techniques."""
    return get_record(skin_data().techniques, technique, "technique")


# ---------------------------------------------------------------- geometry


def _check_range(name: str, value: Any, low: float, high: float, unit: str) -> float:
    if not _is_number(value) or not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low:g} to {high:g}{unit}; got {value!r}")
    return float(value)


def deposit_depth_mm(needle_mm: float, angle_deg: float, inserted_fraction: float = 1.0) -> float:
    """Vertical depth of the needle tip: inserted length × sin(angle to the surface)."""
    needle = _check_range("needle_mm", needle_mm, *NEEDLE_RANGE_MM, " mm")
    angle = _check_range("angle_deg", angle_deg, *ANGLE_RANGE_DEG, "°")
    fraction = _check_range("inserted_fraction", inserted_fraction, *FRACTION_RANGE, "")
    return needle * fraction * math.sin(math.radians(angle))


def layer_at_depth(area: str, depth_mm: float) -> str:
    """The layer at a depth below the surface; a depth on a boundary is the upper layer."""
    record = get_area(area)
    if not _is_number(depth_mm) or depth_mm < 0:
        raise ValueError(f"depth_mm must be a number of 0 mm or more; got {depth_mm!r}")
    for layer, _top, bottom in record.bounds():
        if depth_mm <= bottom + BOUNDARY_TOLERANCE_MM:
            return layer
    return BELOW_HYPODERMIS


def _order(layer: str) -> int:
    return (*LAYERS, BELOW_HYPODERMIS).index(layer)


def format_angle(angle: float) -> str:
    """An angle in degrees, as the figure and its text write it."""
    return f"{angle:g}°"


def assess_injection(area: str, technique: str, needle_mm: float,
                     angle_deg: float) -> InjectionResult:
    """Where a fully inserted needle's deposit lands, in plain language."""
    tech = get_technique(technique)
    get_area(area)
    depth = deposit_depth_mm(needle_mm, angle_deg)
    layer = layer_at_depth(area, depth)
    matches = layer in tech.intended_layers
    message = (
        f"At {format_angle(angle_deg)} a {needle_mm:.1f} mm insertion reaches {depth:.2f} mm: "
        f"{LAYER_PHRASES[layer]} (illustrative thickness). "
        f"{tech.short_name} technique aims at {tech.aim}."
    )
    if matches:
        message += " Match: the deposit is in a layer this technique aims at."
    else:
        deeper = _order(layer) > max(_order(x) for x in tech.intended_layers)
        where = LAYER_PHRASES[layer]
        where = where if layer == BELOW_HYPODERMIS else f"in {where}"
        message += (
            f" Mismatch: the deposit lands {where}, "
            f"{'deeper' if deeper else 'shallower'} than {tech.aim}. "
            "A conventional depth is how far the needle goes in; the layer it reaches "
            "also depends on the angle and on the thickness of the skin."
        )
    return InjectionResult(depth_mm=depth, layer=layer, intended_layers=tech.intended_layers,
                           matches_intent=matches, message=message)


# ---------------------------------------------------------------- figure text


FIG_SIZE = (10.0, 5.6)
AXES_RECT = (0.08, 0.2, 0.52, 0.66)  # left, bottom, width, height (figure fraction)


@dataclass(frozen=True)
class FigureLayout:
    """What the figure shows, shared by the figure and its text equivalent."""

    depth: float
    run: float          # horizontal distance from entry point to needle tip
    outside: float      # needle length drawn above the skin (hub side)
    x_min: float
    x_max: float
    y_top: float        # above the surface (negative depth)
    y_bottom: float     # deepest depth shown
    truncated: bool     # hypodermis cut off at a break mark
    shows_below: bool   # tissue below the hypodermis is in view


def figure_layout(record: Area, needle_mm: float, angle_deg: float) -> FigureLayout:
    """Where the needle, deposit and axes limits fall (shared by the figure and its text)."""
    depth = deposit_depth_mm(needle_mm, angle_deg)
    theta = math.radians(angle_deg)
    run = needle_mm * math.cos(theta)
    outside = 0.35 * needle_mm + 0.3
    dermis_bottom = record.epidermis_mm + record.dermis_mm
    y_top = -(outside * math.sin(theta)) - 0.15 * max(dermis_bottom, depth)
    y_bottom = max(dermis_bottom * 1.6, depth * 1.2 + 0.2)
    x_min = -outside * math.cos(theta) - 0.3
    x_max = run + max(0.6, 0.25 * needle_mm)
    # Equal aspect: widen x or deepen y to fill the axes box, so angles are true.
    fig_w, fig_h = FIG_SIZE
    box = (AXES_RECT[2] * fig_w) / (AXES_RECT[3] * fig_h)
    width, height = x_max - x_min, y_bottom - y_top
    if width < height * box:
        x_max = x_min + height * box
    else:
        y_bottom = y_top + width / box
    total = record.total_mm
    return FigureLayout(depth, run, outside, x_min, x_max, y_top, y_bottom,
                        truncated=y_bottom < total, shows_below=y_bottom > total)


def cross_section_alt_text(area: str, technique: str, needle_mm: float,
                           angle_deg: float) -> str:
    """A full text equivalent of :func:`course.views.skin.cross_section_figure`."""
    record, tech = get_area(area), get_technique(technique)
    result = assess_injection(area, technique, needle_mm, angle_deg)
    lay = figure_layout(record, needle_mm, angle_deg)
    thicknesses = ", ".join(f"{LAYER_NAMES[layer]} {record.thickness(layer):g} mm"
                            for layer in LAYERS)
    if lay.truncated:
        view = (f"The figure shows the top {lay.y_bottom:.1f} mm, so the hypodermis is "
                "cut off at a break mark.")
    elif lay.shows_below:
        view = ("The figure shows all three layers and, below them, tissue deeper than "
                "the hypodermis, which is not modelled.")
    else:
        view = "The figure shows all three layers."
    return (
        f"{result.message}\n\n"
        f"Figure: a cross-section of the skin of the {record.name.lower()}, drawn to scale "
        f"with illustrative thicknesses (not measurements): {thicknesses}. {view} "
        f"A needle enters the skin surface at {format_angle(angle_deg)} and is inserted "
        f"{needle_mm:.1f} mm; the deposit, marked by a blue circle at its tip, lies "
        f"{result.depth_mm:.2f} mm below the surface, in the {LAYER_NAMES[result.layer]}. "
        f"{tech.name} technique, as described in training material: depth "
        f"{tech.depth_described}; {tech.features}. It aims at {tech.aim}. "
        f"The figure is labelled \"{ILLUSTRATIVE_LABEL}\".\n\n{CONVENTION_NOTE}"
    )


def cross_section_description(area: str, technique: str, needle_mm: float,
                              angle_deg: float):
    """The text equivalent of one explorer setting, for a notebook cell: the layer reached
    (a mismatch in a warning callout), then the figure in words (HTML with its text)."""
    from course.callouts import Shown, callout, paragraphs

    text = cross_section_alt_text(area, technique, needle_mm, angle_deg)
    result, rest = text.split("\n\n", 1)
    mismatch = "mismatch" in result.lower()
    html = callout("Layer reached", f"<p>{_escape(result)}</p>",
                   kind="warning" if mismatch else "info", role="status",
                   css_class="course-layer-result") + paragraphs(rest)
    return Shown(html, text)


def cross_section_summaries(settings: list[tuple[str, float, float]], area: str = "face"):
    """The layer reached by each (technique, needle mm, angle degrees) setting, as a list
    (HTML with its text): the first paragraph of each setting's text equivalent."""
    from course.callouts import Shown

    lines = [cross_section_alt_text(area, technique, needle_mm, angle_deg).split("\n\n")[0]
             for technique, needle_mm, angle_deg in settings]
    html = ('<ul class="course-layer-results" style="line-height:1.5;max-width:60em">'
            + "".join(f"<li>{_escape(line)}</li>" for line in lines) + "</ul>")
    return Shown(html, "\n\n".join(lines))


def _escape(text: str) -> str:
    from html import escape

    return escape(text)


def explorer_summary(area: str, technique: str, needle_mm: float, angle_deg: float) -> str:
    """The explorer's text summary: the figure's text equivalent and the teaching-aid label."""
    return f"{cross_section_alt_text(area, technique, needle_mm, angle_deg)}\n\n" \
           f"{TEACHING_AID_LABEL}."
