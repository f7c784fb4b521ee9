"""Original clinical drawings: six labelled schematic diagrams made in this repository.

Every drawing is built here from matplotlib lines, patches and text (no image file is
read or embedded, nothing is traced) and is covered by the course's licence. Each
builder returns a :class:`Drawing`: the figure, a short alt text, a longer text
equivalent (shown in a collapsed "Text description" in the notebook), the caption with
its reference ids, and the claims of ``course/data/claims.toml`` that it illustrates.

Colour is never the only code: every region carries a text label (and a hatch
pattern), and the colours come from the Okabe–Ito palette, which stays distinguishable
with the common colour-vision deficiencies. Figures are 10 inches wide with text of at
least 11 points, so that they stay readable when JupyterLab shrinks them to 800 px.

Facts and figures come from the clinical brief through the claims registry: technique
depths from ``course/data/skin.toml`` (via :mod:`course.skin`), anatomy and positions
taught as expert practice where the brief marks them so.

In notebooks call :func:`show_drawing`; the Markdown of the "Text description" is
:func:`details_markdown`.
"""

from __future__ import annotations

import math
import textwrap
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from html import escape
from typing import TYPE_CHECKING, Any

from course.content import content
from course.display import OmittedWhileGrading, grading_run
from course.skin import LAYER_STYLE, get_technique, technique_ids

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

# Okabe–Ito palette (colour-blind safe), plus neutrals.
ORANGE, SKY, GREEN, YELLOW = "#E69F00", "#56B4E9", "#009E73", "#F0E442"
BLUE, VERMILLION, PURPLE = "#0072B2", "#D55E00", "#CC79A7"
BLACK, WHITE, GREY, LIGHT = "#000000", "#FFFFFF", "#888888", "#EEEEEE"
PALETTE = frozenset({ORANGE, SKY, GREEN, YELLOW, BLUE, VERMILLION, PURPLE,
                     BLACK, WHITE, GREY, LIGHT})

FIG_WIDTH_IN = 10.0
MIN_FONT_PT = 11.0
LABEL_PT = 12.0
TITLE_PT = 15.0
SCHEMATIC_NOTE = "Schematic drawing — not to scale, not a photograph"


SUMMARIES: dict[str, tuple[str, str]] = {  # drawing: (title, alt text)
    "injection_planes": (
        "Injection planes by technique",
        "Schematic cross-section of the skin (epidermis, dermis, hypodermis) with four "
        "needles showing the layer that intraepidermal, papular, nappage and "
        "point-by-point techniques aim at."),
    "submental_area": (
        "The submental treatment area and the marginal mandibular nerve zone",
        "Schematic side view of the lower face: the submental treatment area under the "
        "chin, below a band along the jaw border marking the marginal mandibular nerve "
        "zone to keep out of."),
    "facial_danger_zones": (
        "Facial danger zones for vascular injury",
        "Schematic front view of a face with five numbered, hatched danger zones for "
        "vascular injury: forehead, glabella, temples, nose and nasolabial folds."),
    "livedo_pattern": (
        "What a vascular occlusion looks like: blanching, livedo and slow refill",
        "Schematic skin patch after a vascular occlusion: a pale blanched area round the "
        "injection point, a violet net-like livedo pattern, a dusky zone, and a panel "
        "on slow capillary refill."),
    "ntm_timeline": (
        "Non-tuberculous mycobacterial (NTM) infection: nodules weeks after injection",
        "Timeline of NTM infection after mesotherapy: onset 1–12 weeks after injection, "
        "median 28 days, mean 3 weeks to lesions and 9.8 weeks to diagnosis; painful "
        "nodules, then abscesses."),
    "anaphylaxis_positions": (
        "Positioning a patient with anaphylaxis",
        "Four stick figures showing anaphylaxis positions: flat with legs raised, sitting "
        "up for breathing difficulty, recovery position if unconscious and breathing, "
        "and on the left side in pregnancy."),
}
"""Titles and alt texts, known without drawing (used while grading)."""


@dataclass(frozen=True)
class Drawing:
    """A drawing and everything a reader without the picture needs."""

    id: str
    title: str
    figure: Figure
    alt_text: str
    text_equivalent: str
    caption: str
    refs: tuple[str, ...]
    claims: tuple[str, ...]

    def labels(self) -> list[str]:
        """Every piece of visible text in the figure (titles, labels, caption)."""
        return [t.get_text() for t in self.figure.findobj(_is_text) if t.get_text().strip()]


def _is_text(artist: Any) -> bool:
    from matplotlib.text import Text

    return isinstance(artist, Text)


# ---------------------------------------------------------------- shared layout


def _figure(height_in: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(FIG_WIDTH_IN, height_in))


def _canvas(fig: Figure, rect: tuple[float, float, float, float],
            xlim: tuple[float, float], ylim: tuple[float, float]) -> Axes:
    """An axes without frame or ticks, in data units with a 1:1 aspect."""
    ax = fig.add_axes(rect)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.set_axis_off()
    return ax


def _frame(fig: Figure, title: str, caption: str, note: str = SCHEMATIC_NOTE) -> None:
    """Title at the top left, the schematic note under it, the caption at the bottom."""
    fig.text(0.015, 0.985, title, fontsize=TITLE_PT, fontweight="bold", va="top",
             gid="title")
    fig.text(0.015, 0.985 - 0.42 / fig.get_figheight(), note, fontsize=MIN_FONT_PT,
             style="italic", va="top", gid="note")
    fig.text(0.015, 0.012, textwrap.fill(caption, 118), fontsize=MIN_FONT_PT, va="bottom",
             gid="caption")


def _label(ax: Axes, text: str, xy: tuple[float, float], xytext: tuple[float, float],
           width: int = 30, **kwargs: Any) -> None:
    """A wrapped label joined by a thin arrow to the point it names."""
    ax.annotate(textwrap.fill(text, width), xy=xy, xytext=xytext, fontsize=LABEL_PT,
                va="center", arrowprops={"arrowstyle": "->", "color": BLACK, "lw": 1.2,
                                         "shrinkA": 4, "shrinkB": 2}, **kwargs)


def _boxed(ax: Axes, x: float, y: float, text: str, **kwargs: Any) -> None:
    """Text on a white box, readable over a coloured, hatched region."""
    kwargs.setdefault("fontsize", LABEL_PT)
    ax.text(x, y, text, bbox={"boxstyle": "round,pad=0.25", "facecolor": WHITE,
                              "edgecolor": GREY, "linewidth": 0.8}, **kwargs)


# ---------------------------------------------------------------- 1. injection planes

_SURFACE, _EPI, _DERMIS_MID, _DERMIS = 36.0, 33.0, 27.0, 21.0
_BOTTOM = 3.0
_BANDS = {  # layer: (top, bottom) in the drawing's units (schematic, not to scale)
    "epidermis": (_SURFACE, _EPI),
    "dermis": (_EPI, _DERMIS),
    "hypodermis": (_DERMIS, _BOTTOM),
}
_COLUMNS = (32.0, 51.0, 70.0, 89.0)


def planes_target_depth(technique: str) -> float:
    """Where the drawing puts a technique's needle tip, from the layers it aims at.

    Two target layers: on their boundary; one layer: its middle, or its upper part
    when the technique aims at the superficial part of it.
    """
    tech = get_technique(technique)
    layers = tech.intended_layers
    if len(layers) > 1:
        return _BANDS[layers[0]][1]
    top, bottom = _BANDS[layers[0]]
    share = 0.3 if "superficial" in tech.aim else 0.5
    return top - share * (top - bottom)


def _angle_text(technique: str) -> str:
    tech = get_technique(technique)
    if "°" in tech.depth_described:
        return ""
    if tech.angle_min_deg is None or tech.angle_max_deg is None:
        return "no angle in the course sources: drawn upright"
    if tech.angle_min_deg == tech.angle_max_deg:
        return f"about {tech.angle_min_deg:g}°"
    return f"{tech.angle_min_deg:g}–{tech.angle_max_deg:g}°"


def _header(technique: str) -> str:
    tech = get_technique(technique)
    depth = tech.depth_described.replace(", needle at", "\nneedle at")
    lines = [tech.short_name, depth]
    if angle := _angle_text(technique):
        lines.append(textwrap.fill(angle, 20))
    return "\n".join(lines)


def _needle(ax: Axes, tip: tuple[float, float], angle_deg: float) -> None:
    theta = math.radians(angle_deg)
    inside = (_SURFACE - tip[1]) / math.sin(theta)
    length = inside + 5.0
    start = (tip[0] - length * math.cos(theta), tip[1] + length * math.sin(theta))
    ax.plot([start[0], tip[0]], [start[1], tip[1]], color=BLACK, lw=2.2,
            solid_capstyle="butt")
    ax.plot(*tip, marker="o", markersize=11, color=BLUE, markeredgecolor=BLACK)


def injection_planes() -> Drawing:
    """The layers of the skin and the layer each classic technique aims at."""
    from matplotlib.patches import Arc, Rectangle

    fig = _figure(6.9)
    ax = _canvas(fig, (0.01, 0.12, 0.98, 0.75), (0, 100), (0, 52))
    names = {"epidermis": "Epidermis", "dermis": "Dermis", "hypodermis":
             "Hypodermis\n(subcutaneous\nfat)"}
    for layer, (top, bottom) in _BANDS.items():
        style = LAYER_STYLE[layer]
        ax.add_patch(Rectangle((0, bottom), 100, top - bottom, facecolor=style["colour"],
                               alpha=0.45, edgecolor=BLACK, hatch=style["hatch"], lw=1))
    ax.plot([22, 100], [_DERMIS_MID, _DERMIS_MID], ls="--", color=BLACK, lw=1)
    _boxed(ax, 1.0, (_SURFACE + _EPI) / 2, names["epidermis"], va="center")
    _boxed(ax, 1.0, (_EPI + _DERMIS_MID) / 2, "Superficial\ndermis", va="center")
    _boxed(ax, 1.0, (_DERMIS_MID + _DERMIS) / 2, "Deep dermis", va="center")
    _boxed(ax, 1.0, 12.0, names["hypodermis"], va="center")
    ax.text(1.0, _SURFACE + 1.2, "Skin surface", fontsize=LABEL_PT, va="bottom")
    for x, tid in zip(_COLUMNS, technique_ids(), strict=True):
        tech = get_technique(tid)
        depth = planes_target_depth(tid)
        tip = (x + 4.0 if tech.example_angle_deg < 60 else x, depth)
        _needle(ax, tip, tech.example_angle_deg)
        if "bleb" in tech.features:
            ax.add_patch(Arc((tip[0], _SURFACE), 6, 4, theta1=0, theta2=180, lw=2,
                             color=BLACK))
            ax.text(tip[0] + 3.5, _SURFACE + 1.0, "bleb", fontsize=MIN_FONT_PT)
        ax.text(x, 51.5, _header(tid), fontsize=LABEL_PT, ha="center", va="top",
                fontweight="bold", linespacing=1.15)
        _boxed(ax, x, 11.0, textwrap.fill(f"Aims at {tech.aim}", 17), ha="center",
               va="center", fontsize=MIN_FONT_PT)
    ax.plot([], [], marker="o", ls="", markersize=11, color=BLUE, markeredgecolor=BLACK,
            label="Deposit (needle tip)")
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.01), fontsize=MIN_FONT_PT,
              frameon=False, borderaxespad=0)
    caption = ("Layer thicknesses are not to scale. Depths and angles are those described "
               "in training material: conventions with low evidential weight [R67]. A "
               "described depth is how far the needle goes in; the layer actually reached "
               "also depends on the angle and on the skin's thickness.")
    title, alt = SUMMARIES["injection_planes"]
    _frame(fig, title, caption)
    lines = []
    for tid in technique_ids():
        tech = get_technique(tid)
        angle = _angle_text(tid)
        angle = "" if angle in tech.features else f"; {angle}"
        lines.append(f"- {tech.name}: depth as described {tech.depth_described}"
                     f"{angle}; {tech.features}. "
                     f"It aims at {tech.aim}.")
    text = (
        f"{title}. A schematic cross-section of the skin, not to scale, with its three "
        "layers from the surface down: the epidermis, the dermis (a dashed line divides the "
        "superficial dermis from the deep dermis) and the hypodermis (subcutaneous fat). Four "
        "needles, one per technique, enter the surface from the upper left; a blue circle "
        "marks the deposit at each tip, placed in the layer the technique aims at.\n\n"
        + "\n".join(lines)
        + f"\n\n{caption}"
    )
    claims = tuple(c for tid in technique_ids() for c in get_technique(tid).claims
                   if c.startswith("technique_"))
    return Drawing("injection_planes", title, fig, alt, text, caption, ("R67",), claims)


# ---------------------------------------------------------------- 2. submental area


def _smooth(points: list[tuple[float, float]], steps: int = 12) -> list[tuple[float, float]]:
    """A smooth curve through the points (Catmull–Rom), for outlines."""
    pts = [points[0], *points, points[-1]]
    out = []
    for i in range(1, len(pts) - 2):
        p0, p1, p2, p3 = pts[i - 1], pts[i], pts[i + 1], pts[i + 2]
        for s in range(steps):
            t = s / steps
            out.append(tuple(0.5 * (2 * p1[k] + (-p0[k] + p2[k]) * t
                                    + (2 * p0[k] - 5 * p1[k] + 4 * p2[k] - p3[k]) * t * t
                                    + (-p0[k] + 3 * p1[k] - 3 * p2[k] + p3[k]) * t ** 3)
                             for k in (0, 1)))
    out.append(points[-1])
    return out


def _line(ax: Axes, points: list[tuple[float, float]], **kwargs: Any) -> None:
    xs, ys = zip(*_smooth(points), strict=True)
    ax.plot(xs, ys, **kwargs)


_JAW = [(21.0, 31.0), (30.0, 29.4), (40.0, 28.2), (48.5, 27.2)]
_NERVE_GAP = 3.0
_PROFILE = [(52.0, 50.0), (53.0, 46.5), (52.6, 45.0), (57.0, 40.5), (53.6, 38.8),
            (54.0, 36.5), (52.9, 35.2), (53.7, 33.8), (51.6, 31.5), (53.0, 28.6),
            (50.5, 25.0), (44.0, 20.5), (36.0, 18.5), (32.0, 18.8), (32.0, 10.0),
            (33.5, 2.0)]


def submental_area() -> Drawing:
    """A side view of the lower face: the submental area and the nerve zone above it."""
    from matplotlib.patches import Ellipse, Polygon

    fig = _figure(7.0)
    ax = _canvas(fig, (0.01, 0.15, 0.98, 0.72), (0, 100), (0, 50))
    _line(ax, _PROFILE, color=BLACK, lw=2.5)
    _line(ax, [(13.0, 50.0), (9.5, 40.0), (8.0, 28.0), (7.5, 2.0)], color=BLACK, lw=2.5)
    ax.add_patch(Ellipse((16.5, 41.0), 5.0, 8.0, fill=False, lw=2, color=BLACK))
    _line(ax, [(21.5, 41.0), (21.0, 35.0), *_JAW], color=BLACK, lw=2, ls="--")
    band = _smooth(_JAW)
    lower = [(x, y - _NERVE_GAP) for x, y in reversed(band)]
    ax.add_patch(Polygon([*band, *lower], closed=True, facecolor=VERMILLION, alpha=0.35,
                         hatch="xx", edgecolor=VERMILLION, lw=1.5))
    _line(ax, [(21.5, 29.6), (30.0, 27.9), (39.0, 26.8), (46.0, 26.1)], color=BLACK,
          lw=1.6, ls=":")
    top = [(x, y - _NERVE_GAP - 0.3) for x, y in band if 27.0 <= x <= 46.5]
    area = [*top, (46.5, 22.2), (44.0, 20.9), (36.0, 19.0), (32.5, 19.3)]
    ax.add_patch(Polygon(area, closed=True, facecolor=BLUE, alpha=0.3, hatch="..",
                         edgecolor=BLUE, lw=1.5))
    _label(ax, "Lower border of the jaw (mandible)", (42.0, 28.0), (62.0, 45.0))
    _label(ax, "Marginal mandibular nerve zone, along and just below the jaw border: "
           "keep injections out of it (expert practice) [GK]", (44.0, 25.8), (62.0, 35.0),
           width=34)
    _label(ax, "Submental treatment area (fat under the chin): the only approved area for "
           "deoxycholic acid [R23]", (40.0, 22.5), (62.0, 21.0), width=34)
    _label(ax, "Nerve (dotted line, schematic course)", (24.0, 29.0), (10.5, 16.0),
           width=16)
    ax.text(10.5, 6.0, "Side view,\nfacing right", fontsize=LABEL_PT, va="center")
    caption = ("Deoxycholic acid (Kybella) is FDA-approved for submental fat only; in its "
               "label, marginal mandibular nerve injury occurred in 4% and dysphagia in 2%, "
               "both resolving [R23]. Keeping injections below the jaw border and out of the "
               "nerve zone is expert practice: check the treatment area on the current "
               "product label [GK].")
    title, alt = SUMMARIES["submental_area"]
    _frame(fig, title, caption)
    text = (
        f"{title}. A schematic side view of the lower face and neck, facing right, not to "
        "scale. A dashed line marks the lower border of the jaw (mandible), from the angle "
        "of the jaw below the ear forward to the chin.\n\n"
        "- Marginal mandibular nerve zone: a cross-hatched band along and just below the "
        "jaw border, with the nerve drawn as a dotted line inside it. The label says to "
        "keep injections out of this zone (expert practice).\n"
        "- Submental treatment area: a dotted region under the chin, below the nerve zone "
        "and above the neck; it is the only area for which deoxycholic acid is approved.\n\n"
        f"{caption}"
    )
    return Drawing("submental_area", title, fig, alt, text, caption, ("R23", "GK"),
                   ("dca_fda_submental_only", "dca_adverse_effects",
                    "draw_submental_nerve_zone"))


# ---------------------------------------------------------------- 3. facial danger zones

DANGER_ZONES = ("Forehead", "Glabella (between the eyebrows)", "Temple", "Nose",
                "Nasolabial fold")


def _zone(ax: Axes, points: list[tuple[float, float]]) -> None:
    from matplotlib.patches import Polygon

    ax.add_patch(Polygon(points, closed=True, facecolor=VERMILLION, alpha=0.35, hatch="xx",
                         edgecolor=VERMILLION, lw=1.5))


def _number(ax: Axes, n: int, xy: tuple[float, float]) -> None:
    ax.text(*xy, str(n), fontsize=LABEL_PT, fontweight="bold", ha="center", va="center",
            bbox={"boxstyle": "circle,pad=0.25", "facecolor": WHITE, "edgecolor": BLACK})


def facial_danger_zones() -> Drawing:
    """A front view of the face with the areas described as higher risk of vascular injury."""
    from matplotlib.patches import Arc, Ellipse

    fig = _figure(7.2)
    ax = _canvas(fig, (0.01, 0.15, 0.98, 0.72), (0, 100), (0, 50))
    cx = 50.0
    ax.add_patch(Ellipse((cx, 25.0), 34.0, 46.0, fill=False, lw=2.5, color=BLACK))
    for side in (-1, 1):
        ax.add_patch(Ellipse((cx + side * 7.0, 27.0), 6.0, 2.6, fill=False, lw=1.8,
                             color=BLACK))
        ax.add_patch(Arc((cx + side * 7.5, 29.5), 9.0, 4.0, theta1=20, theta2=160, lw=2,
                         color=BLACK))
        _zone(ax, [(cx + side * 13.2, 24.0), (cx + side * 16.6, 26.0),
                   (cx + side * 16.4, 33.5), (cx + side * 13.0, 32.0)])
        _zone(ax, [(cx + side * 3.2, 17.0), (cx + side * 5.0, 16.0),
                   (cx + side * 8.0, 10.0), (cx + side * 6.6, 9.4)])
    ax.plot([cx - 1.5, cx - 3.5, cx + 3.5, cx + 1.5], [27.0, 17.0, 17.0, 27.0],
            color=BLACK, lw=1.8)
    ax.add_patch(Arc((cx, 10.5), 11.0, 3.0, theta1=180, theta2=360, lw=2, color=BLACK))
    _zone(ax, [(cx - 12.0, 34.0), (cx + 12.0, 34.0), (cx + 10.0, 43.0), (cx - 10.0, 43.0)])
    _zone(ax, [(cx - 2.4, 28.0), (cx + 2.4, 28.0), (cx + 2.4, 33.4), (cx - 2.4, 33.4)])
    _zone(ax, [(cx - 1.4, 27.5), (cx + 1.4, 27.5), (cx + 3.4, 17.5), (cx - 3.4, 17.5)])
    spots = {1: (cx, 39.0), 2: (cx, 31.0), 3: (cx - 14.8, 29.0), 4: (cx, 21.0),
             5: (cx - 7.5, 11.8)}
    for n, xy in spots.items():
        _number(ax, n, xy)
    _number(ax, 3, (cx + 14.8, 29.0))
    _number(ax, 5, (cx + 7.5, 11.8))
    _label(ax, "1  Forehead", (cx - 9.0, 40.0), (2.0, 44.0), width=20)
    _label(ax, "3  Temple (both sides)", (cx - 16.0, 30.0), (2.0, 31.0), width=14)
    _label(ax, "5  Nasolabial fold (both sides)", (cx - 7.0, 13.0), (2.0, 12.0), width=16)
    _label(ax, "2  Glabella (between the eyebrows)", (cx + 2.4, 32.0), (72.0, 42.0),
           width=18)
    _label(ax, "4  Nose", (cx + 2.5, 21.0), (72.0, 21.0), width=18)
    caption = ("Areas generally described as higher risk for vascular injury from facial "
               "injections (expert practice; check the current ACE Group guideline) [GK, "
               "R85]. The risk is greatest with hyaluronic-acid products and deep or "
               "high-volume deposits. Any visual disturbance, eye pain or neurological sign "
               "after an injection is an emergency.")
    title, alt = SUMMARIES["facial_danger_zones"]
    _frame(fig, title, caption)
    zones = "\n".join(f"- {n}. {name}" for n, name in enumerate(DANGER_ZONES, 1))
    text = (
        f"{title}. A schematic front view of a face, not to scale. Five areas are "
        "cross-hatched and numbered; the temple and the nasolabial fold are marked on both "
        f"sides:\n\n{zones}\n\n{caption}"
    )
    return Drawing("facial_danger_zones", title, fig, alt, text, caption, ("GK", "R85"),
                   ("draw_vascular_danger_zones", "emergency_vo_signs",
                    "emergency_vo_red_flags"))


# ---------------------------------------------------------------- 4. livedo


def _net_cells(centre: tuple[float, float], radius: float,
               hole: tuple[float, float, float]) -> list[list[tuple[float, float]]]:
    """Irregular hexagonal cells of a net-like (reticulate) pattern, deterministic.

    Cells whose centre lies inside the blanched ellipse ``hole`` (x, y, radius) are left out.
    """
    cells, size = [], 2.6
    for row in range(-8, 9):
        for col in range(-8, 9):
            x = centre[0] + col * size * 1.5
            y = centre[1] + row * size * math.sqrt(3) + (col % 2) * size * math.sqrt(3) / 2
            if math.dist((x, y), centre) > radius or math.dist((x, y), hole[:2]) < hole[2]:
                continue
            corners = [(x + size * math.cos(k * math.pi / 3),
                        y + size * math.sin(k * math.pi / 3)) for k in range(6)]
            # Move each corner by a smooth function of where it is, so that neighbouring
            # cells still share their corners: an irregular but connected net.
            cells.append([(cx + 0.55 * math.sin(1.3 * cx + 0.7 * cy),
                           cy + 0.55 * math.cos(0.9 * cx - 1.1 * cy)) for cx, cy in corners])
    return cells


def livedo_pattern() -> Drawing:
    """The look of a vascular occlusion: blanching, then net-like livedo and dusky skin."""
    from matplotlib.patches import Circle, Ellipse, Polygon, Rectangle

    fig = _figure(7.2)
    ax = _canvas(fig, (0.01, 0.15, 0.98, 0.72), (0, 100), (0, 50))
    centre, radius = (24.0, 23.0), 19.0
    patch = Circle(centre, radius, facecolor=LIGHT, edgecolor=BLACK, lw=2)
    ax.add_patch(patch)
    dusky = Ellipse((centre[0] - 8.0, centre[1] - 12.0), 28.0, 15.0, angle=-20.0,
                    facecolor=BLUE, alpha=0.3, hatch="\\\\", edgecolor=BLUE, lw=1)
    ax.add_patch(dusky)
    dusky.set_clip_path(patch)
    hole = (centre[0] + 3.0, centre[1] + 4.0, 5.5)
    for cell in _net_cells(centre, radius - 1.0, hole):
        ring = Polygon(cell, closed=True, fill=False, edgecolor=PURPLE, lw=3.2)
        ax.add_patch(ring)
        ring.set_clip_path(patch)
    ax.add_patch(Circle(hole[:2], hole[2], facecolor=WHITE, edgecolor=BLACK, ls="--", lw=1.5))
    ax.plot(*hole[:2], marker="x", markersize=12, mew=3, color=BLACK)
    _label(ax, "Injection point", hole[:2], (47.0, 46.0), width=20)
    _label(ax, "Blanching: pale skin, at once", (hole[0] + 4.0, hole[1] + 2.0), (47.0, 40.0),
           width=20)
    _label(ax, "Livedo: net-like mottling, violet lines round paler centres",
           (centre[0] + 14.0, centre[1] - 2.0), (47.0, 31.5), width=20)
    _label(ax, "Dusky (purple) discolouration", (centre[0] - 4.0, centre[1] - 14.0),
           (47.0, 20.0), width=20)
    ax.text(76.0, 48.0, "Capillary refill", fontsize=LABEL_PT, fontweight="bold", va="top")
    steps = (("Press, then release", WHITE, ""), ("Healthy skin: colour\nreturns promptly",
                                                  PURPLE, ""),
             ("Occluded area: colour\nreturns slowly", LIGHT, "...."))
    for i, (words, colour, hatch) in enumerate(steps):
        y = 38.0 - i * 12.0
        ax.add_patch(Rectangle((76.0, y), 6.0, 6.0, facecolor=colour, alpha=0.6,
                               hatch=hatch, edgecolor=BLACK, lw=1.5))
        ax.text(84.0, y + 3.0, words, fontsize=MIN_FONT_PT, va="center")
    ax.plot([79.0], [41.0], marker="v", markersize=14, color=BLACK)
    caption = ("Colours are simplified. Vascular occlusion is generally recognised by "
               "immediate blanching, then livedo (mottling), dusky discolouration, pain out "
               "of proportion to the procedure and slow capillary refill; blistering and "
               "necrosis can follow later (expert practice; check the current ACE Group "
               "guideline) [GK, R85].")
    title, alt = SUMMARIES["livedo_pattern"]
    _frame(fig, title, caption)
    text = (
        f"{title}. A schematic drawing of a round patch of skin, not a photograph.\n\n"
        "- An injection point (a cross) sits in a pale, blanched circle.\n"
        "- Around it, violet lines form a net of rings round paler centres: livedo, a "
        "net-like (reticulate) mottling.\n"
        "- The lower part of the patch is shaded darker with a hatch: dusky (purple) "
        "discolouration.\n"
        "- Beside the patch, three squares show capillary refill: press on the skin and "
        "release; on healthy skin the colour returns promptly; over the occluded area it "
        "returns slowly.\n\n"
        f"{caption}"
    )
    return Drawing("livedo_pattern", title, fig, alt, text, caption, ("GK", "R85"),
                   ("emergency_vo_signs",))


# ---------------------------------------------------------------- 5. NTM timeline

NTM_MARKS = (  # (weeks, marker, colour, label)
    (3.0, "s", GREEN, "Mean 3 weeks to lesions [R39]"),
    (4.0, "D", BLUE, "Median 28 days (4 weeks) to onset after cosmetic procedures [R38]"),
    (9.8, "o", VERMILLION, "Mean 9.8 weeks to diagnosis [R39]"),
)
NTM_ONSET_WEEKS = (1.0, 12.0)


def ntm_timeline() -> Drawing:
    """Non-tuberculous mycobacterial infection: weeks between injection and nodules."""
    from matplotlib.patches import Circle, FancyArrow, Rectangle

    fig = _figure(7.2)
    ax = _canvas(fig, (0.01, 0.15, 0.98, 0.72), (-1.5, 19.5), (0, 10.5))
    axis_y = 5.0
    ax.add_patch(FancyArrow(0, axis_y, 17.6, 0, width=0.04, head_width=0.35,
                            head_length=0.5, color=BLACK))
    for week in range(0, 17, 2):
        ax.plot([week, week], [axis_y - 0.15, axis_y + 0.15], color=BLACK, lw=1.5)
        ax.text(week, axis_y - 0.3, str(week), ha="center", va="top", fontsize=MIN_FONT_PT)
    ax.text(18.3, axis_y - 0.3, "weeks after\ninjection", ha="center", va="top",
            fontsize=MIN_FONT_PT)
    ax.plot([0], [axis_y], marker="v", markersize=16, color=BLACK)
    ax.text(0, axis_y + 0.5, "Injection", ha="center", va="bottom", fontsize=LABEL_PT,
            fontweight="bold")
    low, high = NTM_ONSET_WEEKS
    ax.add_patch(Rectangle((low, 5.5), high - low, 0.8, facecolor=ORANGE, alpha=0.5,
                           hatch="//", edgecolor=BLACK))
    _boxed(ax, (low + high) / 2, 5.9, "Onset 1–12 weeks (15-case series) [R34]",
           ha="center", va="center", zorder=4)
    label_y = {3.0: 10.0, 4.0: 8.7, 9.8: 7.3}
    for weeks, marker, colour, words in NTM_MARKS:
        ax.plot([weeks], [axis_y], marker=marker, markersize=12, color=colour,
                markeredgecolor=BLACK)
        ax.plot([weeks, weeks], [axis_y + 0.25, label_y[weeks] - 0.35], color=GREY, lw=1,
                ls=":")
        ax.text(weeks, label_y[weeks], textwrap.fill(words, 36), ha="left" if weeks < 9
                else "center", va="center", fontsize=MIN_FONT_PT, zorder=4,
                bbox={"boxstyle": "round,pad=0.2", "facecolor": WHITE, "edgecolor": colour})
    ax.text(0.9, 3.4, "No sign at first:\nthe patient has\nleft the clinic", fontsize=MIN_FONT_PT,
            va="top")
    for dx, dy in ((0, 0), (0.7, 0.35), (1.2, -0.25)):
        ax.add_patch(Circle((4.6 + dx, 1.4 + dy), 0.22, facecolor=PURPLE, edgecolor=BLACK))
    ax.text(6.4, 1.5, "Painful nodules at\ninjection sites", fontsize=MIN_FONT_PT,
            va="center")
    for dx in (0, 1.3):
        ax.add_patch(Circle((10.6 + dx, 1.5), 0.45, facecolor=YELLOW, edgecolor=BLACK,
                            hatch=".."))
        ax.add_patch(Circle((10.6 + dx, 1.5), 0.12, facecolor=BLACK))
    ax.text(12.5, 1.5, "Abscesses; usually\nno fever [R37]", fontsize=MIN_FONT_PT,
            va="center")
    ax.text(16.0, 3.4, "Then months of\ntreatment →", fontsize=MIN_FONT_PT, va="top")
    caption = ("Marks come from different series, not from one patient. Diagnosis needs "
               "mycobacterial culture of pus or tissue, with PCR where available [R35, R38]; "
               "treatment is combination antibiotics guided by susceptibility, for a median "
               "of 6 months [R38], and scarring is common [R37].")
    title, alt = SUMMARIES["ntm_timeline"]
    _frame(fig, title, caption)
    marks = "\n".join(f"- Week {w:g}: {words[0].lower()}{words[1:]}."
                      for w, _m, _c, words in NTM_MARKS)
    text = (
        f"{title}. A schematic timeline in weeks after a mesotherapy injection (week 0), "
        "from 0 to 16 weeks, not a photograph.\n\n"
        f"- A hatched bar from week {low:g} to week {high:g}: onset 1–12 weeks in a 15-case "
        "series [R34].\n"
        f"{marks}\n"
        "- Under the axis, the lesions in order: no sign at first, while the patient has "
        "left the clinic; then painful nodules at injection sites; then abscesses, usually "
        "without fever [R37]; then months of treatment.\n\n"
        f"{caption}"
    )
    return Drawing("ntm_timeline", title, fig, alt, text, caption,
                   ("R34", "R35", "R37", "R38", "R39"),
                   ("ntm_onset_weeks", "ntm_presentation", "ntm_diagnosis", "ntm_management"))


# ---------------------------------------------------------------- 6. anaphylaxis positions


def _person(ax: Axes, head: tuple[float, float], joints: Iterable[list[tuple[float, float]]],
            ) -> None:
    from matplotlib.patches import Circle

    ax.add_patch(Circle(head, 1.5, facecolor=WHITE, edgecolor=BLACK, lw=2.2))
    for limb in joints:
        xs, ys = zip(*limb, strict=True)
        ax.plot(xs, ys, color=BLACK, lw=3.2, solid_capstyle="round")


def _couch(ax: Axes, x0: float, x1: float, y: float = 4.0) -> None:
    from matplotlib.patches import Rectangle

    ax.add_patch(Rectangle((x0, y - 1.6), x1 - x0, 1.6, facecolor=SKY, alpha=0.6,
                           hatch="--", edgecolor=BLACK))


_POSITION_PICTURES = (
    "a figure lies on a couch with the legs raised on pillows",
    "a figure sits on a couch with its back raised",
    "a figure lies on its side on the floor with the upper knee bent",
    "a pregnant figure lies on her left side, her bump shaded",
)
POSITIONS = (
    ("Lying flat, legs raised", "Most patients [R58]"),
    ("Sitting up", "If breathing is the main problem [R58]"),
    ("Recovery position", "Unconscious and breathing: expert practice [GK]"),
    ("On her left side", "In pregnancy: expert practice [GK]"),
)


def anaphylaxis_positions() -> Drawing:
    """How to position a patient with anaphylaxis: four schematic stick figures."""
    from matplotlib.patches import Ellipse, Polygon, Rectangle

    fig = _figure(7.6)
    axes = [_canvas(fig, (0.01 + 0.5 * (i % 2), 0.56 - 0.38 * (i // 2), 0.47, 0.28),
                    (0, 40), (0, 15)) for i in range(4)]
    flat, sitting, recovery, pregnant = axes
    _couch(flat, 2, 38)
    flat.add_patch(Rectangle((27.0, 4.0), 9.0, 4.6, facecolor=YELLOW, alpha=0.7,
                             edgecolor=BLACK, hatch=".."))
    _person(flat, (5.5, 5.6), [[(7.0, 5.4), (20.0, 5.4), (27.5, 8.8), (35.0, 8.8)],
                               [(9.5, 5.4), (17.0, 4.6)]])
    flat.text(31.5, 11.0, "pillows", ha="center", va="center", fontsize=MIN_FONT_PT)
    _couch(sitting, 2, 38)
    sitting.add_patch(Polygon([(2.0, 4.0), (5.0, 4.0), (9.0, 13.0), (6.5, 13.5)],
                              facecolor=SKY, alpha=0.6, hatch="--", edgecolor=BLACK))
    _person(sitting, (10.0, 12.0), [[(10.6, 10.6), (13.5, 5.2), (30.0, 5.2)],
                                    [(11.3, 9.4), (15.5, 6.5)]])
    sitting.text(14.0, 12.0, "back of the couch raised", fontsize=MIN_FONT_PT)
    recovery.plot([2, 38], [2.4, 2.4], color=BLACK, lw=2)
    _person(recovery, (6.0, 4.0), [[(7.5, 3.6), (20.0, 3.6), (25.0, 7.5), (29.0, 3.0)],
                                   [(20.0, 3.2), (33.0, 3.0)], [(9.0, 3.6), (6.5, 6.8)]])
    recovery.text(11.0, 9.5, "on the side,\nupper knee bent", fontsize=MIN_FONT_PT)
    _couch(pregnant, 2, 38)
    pregnant.add_patch(Ellipse((15.0, 6.0), 7.0, 3.6, facecolor=PURPLE, alpha=0.5,
                               edgecolor=BLACK, hatch="oo"))
    _person(pregnant, (5.5, 8.0), [[(7.0, 7.8), (21.0, 7.8), (33.0, 4.6)],
                                   [(21.0, 7.8), (26.0, 10.0), (31.0, 5.4)]])
    pregnant.text(17.0, 12.5, "on her left side; bump\n(shaded) towards the couch",
                  fontsize=MIN_FONT_PT, va="center")
    for ax, (heading, note) in zip(axes, POSITIONS, strict=True):
        ax.text(0.0, 15.0, heading, fontsize=LABEL_PT + 1, fontweight="bold", va="bottom")
        ax.text(0.0, 0.0, note, fontsize=MIN_FONT_PT, va="top")
    caption = ("Never stand or sit the patient up suddenly [R58]. Call for help; adrenaline, "
               "oxygen and fluids are taught in the notebook. The RCUK algorithm is not "
               "reproduced here: read it in the RCUK guideline [R58]. Recovery position and "
               "left side in pregnancy: expert practice; check the current RCUK "
               "guideline [GK].")
    title, alt = SUMMARIES["anaphylaxis_positions"]
    _frame(fig, title, caption, note="Schematic stick figures — not the RCUK algorithm")
    text = (
        f"{title}. Four schematic stick figures, one per position; they are not the RCUK "
        "algorithm.\n\n"
        + "\n".join(f"- {heading}: {picture}. {note}." for (heading, note), picture
                    in zip(POSITIONS, _POSITION_PICTURES, strict=True))
        + "\n\n"
        f"{caption}"
    )
    return Drawing("anaphylaxis_positions", title, fig, alt, text, caption, ("R58", "GK"),
                   ("emergency_anaphylaxis_positioning_oxygen",
                    "emergency_anaphylaxis_pregnancy_left_side",
                    "draw_anaphylaxis_recovery_position"))


# ---------------------------------------------------------------- registry and display

DRAWINGS: dict[str, Callable[[], Drawing]] = {
    "injection_planes": injection_planes,
    "submental_area": submental_area,
    "facial_danger_zones": facial_danger_zones,
    "livedo_pattern": livedo_pattern,
    "ntm_timeline": ntm_timeline,
    "anaphylaxis_positions": anaphylaxis_positions,
}


def drawing(name: str) -> Drawing:
    """Build one drawing by name; ValueError naming the drawings that exist."""
    if name not in DRAWINGS:
        raise ValueError(f"There is no drawing called {name!r}. "
                         f"The drawings are: {', '.join(DRAWINGS)}.")
    return DRAWINGS[name]()


def details_markdown(name: str) -> str:
    """The notebook's collapsed "Text description" of a drawing (Markdown)."""
    d = drawing(name)
    return (f"<details><summary>Text description: {escape(d.title)}</summary>\n\n"
            f"{d.text_equivalent}\n\n</details>")


@dataclass(frozen=True)
class DrawingView:
    """A drawing with the evidence badges of the claims it shows, for display."""

    figure_bundle: dict[str, str]
    badges_html: str
    badges_text: str

    def _repr_mimebundle_(self, **_: Any) -> dict[str, str]:
        bundle = dict(self.figure_bundle)
        bundle["text/html"] = bundle.get("text/html", "") + self.badges_html
        bundle["text/plain"] = f"{bundle.get('text/plain', '')}\n{self.badges_text}"
        return bundle


def show_drawing(name: str) -> DrawingView | OmittedWhileGrading:
    """Display a drawing with its alt text, and the badges of its ``draw_`` claims.

    The other claims it illustrates are shown by the notebook section around it. While
    nbgrader runs the notebook, the alt text stands in for the picture (course.display).
    """
    from course.evidence import badge
    from course.views.figures import show_figure

    if grading_run():
        if name not in SUMMARIES:
            drawing(name)  # the one clear message
        title, alt = SUMMARIES[name]
        return OmittedWhileGrading("Drawing", f"{title}. {alt}")
    d = drawing(name)
    shown = show_figure(d.figure, f"{d.title}. {d.alt_text}")
    own = [badge(c) for c in d.claims if c.startswith("draw_")]
    return DrawingView(shown._repr_mimebundle_(), "".join(b.html() for b in own),
                       "\n".join(b.text() for b in own))


def cited_ids(d: Drawing) -> set[str]:
    """Reference ids cited in the drawing's caption and labels, e.g. {"R58", "GK"}."""
    import re

    found = set()
    for text in d.labels():
        for group in re.findall(r"\[((?:R\d+|GK)(?:,\s*(?:R\d+|GK))*)\]", text.replace("\n", " ")):
            found.update(part.strip() for part in group.split(","))
    return found


def known_references() -> set[str]:
    return set(content().references)
