"""The report's figures: the score distribution and the item map (matplotlib, no pyplot).

Each figure has a text equivalent in :mod:`course.report` (``score_distribution_alt_text``,
``item_map_alt_text``); report.md shows both. Item-map labels are placed so that their
boxes do not overlap (:func:`place_labels`); every item is also in items.csv.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from course.item_analysis import LOW_DISCRIMINATION, VERY_EASY, VERY_HARD, ItemStats
from course.report import (
    _bin_labels,
    _graded_percents,
    _not_shown,
    score_bins,
    score_summary,
)

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from course.report import Report

# Okabe–Ito palette; every colour is repeated by a marker shape or a written label.
BLUE, GREEN, ORANGE, VERMILLION, GREY = "#0072B2", "#009E73", "#E69F00", "#D55E00", "#999999"


def score_distribution_figure(report: Report) -> Figure:
    """Histogram of graded students' percent scores, each bar labelled with its count."""
    from matplotlib.figure import Figure

    percents = _graded_percents(report)
    fig = Figure(figsize=(8.0, 4.8))
    ax = fig.add_axes((0.09, 0.27, 0.88, 0.62))
    counts = score_bins(percents)
    bars = ax.bar(range(len(counts)), counts, width=0.9, color=BLUE, edgecolor="#000000")
    for bar, count in zip(bars, counts, strict=True):
        if count:
            ax.text(bar.get_x() + bar.get_width() / 2, bar.get_height(), str(count),
                    ha="center", va="bottom", fontsize=10)
    ax.set_xticks(range(len(counts)))
    ax.set_xticklabels(_bin_labels(), fontsize=8)
    ax.set_ylim(0, max([*counts, 1]) * 1.2)
    ax.set_xlabel("Percent score (graded submissions only)")
    ax.set_ylabel("Students")
    ax.yaxis.get_major_locator().set_params(integer=True)
    if not percents:
        ax.text(len(counts) / 2, 0.5, "No graded submission yet", ha="center", fontsize=12)
    fig.text(0.02, 0.97, f"{report.assignment}: score distribution (n = {len(percents)} "
                         "graded)", fontsize=12, fontweight="bold", va="top")
    fig.text(0.02, 0.03, f"{score_summary(report)}\n{_not_shown(report)}", fontsize=8.5,
             va="bottom", wrap=True)
    return fig


MAX_LABELS_PER_SPOT = 3


def _label_groups(stats: Sequence[ItemStats]) -> list[tuple[float, float, str]]:
    """One label per place: items at the same place share it (at most three names, then
    "+N more"; every item is in items.csv and in the text equivalent)."""
    groups: dict[tuple[float, float], list[str]] = {}
    for s in stats:
        where = (round(s.difficulty or 0, 2), round(s.discrimination or 0, 2))
        groups.setdefault(where, []).append(s.item.label + (" (!)" if s.flags else ""))
    labels = []
    for (x, y), names in groups.items():
        shown = names[:MAX_LABELS_PER_SPOT]
        if len(names) > MAX_LABELS_PER_SPOT:
            shown.append(f"+{len(names) - MAX_LABELS_PER_SPOT} more")
        labels.append((x + 0.015, y, "\n".join(shown)))
    return labels


Box = tuple[float, float, float, float]  # x0, y0, x1, y1 (display pixels)
LABEL_GID, ZONE_GID = "item-label", "zone-label"


def overlaps(a: Box, b: Box) -> bool:
    """Two boxes share an area (touching edges do not count)."""
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def separate(boxes: Sequence[Box], step: float = 2.0, gap: float = 1.0,
             max_steps: int = 2000, fixed: Sequence[Box] = ()) -> list[float]:
    """Vertical shifts that leave no two boxes overlapping (nor any ``fixed`` box).

    Greedy, top label first: each box keeps its place when it is free, else moves by the
    smallest multiple of ``step`` (down, then up, alternately) that clears every box
    already placed, with ``gap`` pixels between boxes.
    """
    if step <= 0:
        raise ValueError(f"step: must be above 0, not {step}")
    shifts = [0.0] * len(boxes)
    placed: list[Box] = list(fixed)
    for i in sorted(range(len(boxes)), key=lambda k: (-boxes[k][3], boxes[k][0])):
        x0, y0, x1, y1 = boxes[i]
        for k in range(max_steps):
            dy = (k + 1) // 2 * step * (-1 if k % 2 else 1) if k else 0.0
            moved = (x0 - gap, y0 + dy - gap, x1 + gap, y1 + dy + gap)
            if not any(overlaps(moved, other) for other in placed):
                break
        shifts[i] = dy
        placed.append((x0, y0 + dy, x1, y1 + dy))
    return shifts


def place_labels(fig: Figure, ax: Any, texts: Sequence[Any], fixed: Sequence[Any] = ()
                 ) -> None:
    """Move item labels apart so that no two overlap, nor the ``fixed`` texts (the zone
    names); a moved label gets a leader line to its point."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not texts:
        return
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    boxes = [tuple(t.get_window_extent(renderer).extents) for t in texts]
    obstacles = [tuple(t.get_window_extent(renderer).extents) for t in fixed]
    to_data = ax.transData.inverted()
    for text, dy in zip(texts, separate(boxes, fixed=obstacles), strict=True):
        if not dy:
            continue
        x, y = text.get_position()
        anchor = ax.transData.transform((x, y))
        _, new_y = to_data.transform((anchor[0], anchor[1] + dy))
        text.set_position((x, new_y))
        ax.plot([x - 0.012, x], [y, new_y], color=GREY, linewidth=0.6, zorder=2)


def item_map_figure(report: Report) -> Figure:
    """Difficulty against discrimination, one labelled point per item, flag zones shaded
    and named; items with undefined discrimination are listed under the plot."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10.0, 7.0))
    ax = fig.add_axes((0.09, 0.15, 0.88, 0.72))
    ax.set_xlim(-0.02, 1.08)
    ax.set_ylim(-1.05, 1.05)
    ax.axhspan(-1.05, 0, color=VERMILLION, alpha=0.12, linewidth=0)
    ax.axhspan(0, LOW_DISCRIMINATION, color=ORANGE, alpha=0.18, linewidth=0)
    ax.axvspan(-0.02, VERY_HARD, facecolor="none", edgecolor=GREY, hatch="\\\\", linewidth=0)
    ax.axvspan(VERY_EASY, 1.08, facecolor="none", edgecolor=GREY, hatch="//", linewidth=0)
    zones = []
    for x, y, text in ((0.6, -0.95, "Negative discrimination: check the key"),
                       (0.6, 0.07, f"Low discrimination (below {LOW_DISCRIMINATION:.2f}): "
                                   "review wording and distractors"),
                       (0.6, 0.23, "Working as intended (above both bands)")):
        zones.append(ax.text(x, y, text, ha="center", fontsize=9, style="italic",
                             gid=ZONE_GID))
    for x, text in ((VERY_HARD / 2, f"Very hard (below {VERY_HARD:.2f})"),
                    ((VERY_EASY + 1.08) / 2, f"Very easy\n(above {VERY_EASY:.2f})")):
        ax.text(x, 1.07, text, fontsize=8.5, ha="center", va="bottom", clip_on=False)
    plotted = [s for s in report.stats if s.discrimination is not None]
    for flagged, marker, colour, name in ((False, "o", GREEN, "not flagged"),
                                          (True, "X", VERMILLION, "flagged (!)")):
        group = [s for s in plotted if bool(s.flags) == flagged]
        if group:
            ax.scatter([s.difficulty for s in group], [s.discrimination for s in group],
                       marker=marker, s=70, color=colour, edgecolor="#000000", label=name,
                       zorder=3)
    labels = [ax.text(x, y, text, fontsize=7.5, va="center", zorder=4, gid=LABEL_GID)
              for x, y, text in _label_groups(plotted)]
    ax.axhline(0, color="#000000", linewidth=0.6)
    ax.set_xlabel("Difficulty: mean proportion of the item's points scored "
                  "(0 = nobody, 1 = everybody)")
    ax.set_ylabel("Discrimination: corrected item–total r")
    if plotted:
        ax.legend(loc="upper left", fontsize=8, title="Marker (label ends (!) when flagged)",
                  title_fontsize=8)
    fig.text(0.02, 0.98, f"{report.assignment}: item difficulty and discrimination "
                         f"(n = {len(report.analysed)} students)", fontsize=12,
             fontweight="bold", va="top")
    undefined = [f"{s.item.label} (difficulty {s.difficulty:.2f})" for s in report.stats
                 if s.discrimination is None and s.difficulty is not None]
    notes = [f"Not plotted, discrimination undefined (no spread): {', '.join(undefined)}."
             if undefined else "Every item has a defined discrimination."]
    notes += [w for w in report.warnings if "unreliable" in w or "No graded" in w]
    fig.text(0.02, 0.02, "\n".join(notes), fontsize=8, va="bottom", wrap=True)
    place_labels(fig, ax, labels, zones)
    return fig


def save_figure(fig: Figure, path: Path, dpi: int = 100) -> Path:
    fig.savefig(path, format="png", dpi=dpi, bbox_inches="tight")
    return path
