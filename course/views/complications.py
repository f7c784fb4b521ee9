"""The complication figures: the onset timeline and the NTM attack-rate chart.

The events, rates and text equivalents come from :mod:`course.complications`; this module
only draws. matplotlib is imported inside the functions; while nbgrader runs a notebook
they return a stand-in (:func:`course.display.practice_figure`).
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING

from course.complications import (
    BAND_COLOURS,
    BAR_COLOUR,
    EXPERT_HATCH,
    FREQUENCIES,
    FREQUENCY_COLOURS,
    FREQUENCY_LABELS,
    ONSET_SPANS,
    ONSET_WINDOWS,
    OUTBREAK_NOTE,
    attack_rates,
    bar_label,
    complication_data,
    counts_only_text,
    rate_label,
)
from course.display import practice_figure

if TYPE_CHECKING:  # pragma: no cover - typing only
    from matplotlib.figure import Figure


@practice_figure("Onset timeline")
def onset_timeline_figure() -> Figure:
    """Events on rows, onset windows as columns; one labelled bar per event."""
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch, Rectangle

    events = list(complication_data().events.values())
    fig = plt.figure(figsize=(12.0, 9.0))
    plt.close(fig)  # detach from pyplot: returned figures display once and never leak
    ax = fig.add_axes((0.27, 0.17, 0.70, 0.71))
    for i, window in enumerate(ONSET_WINDOWS):
        ax.add_patch(Rectangle((i, -0.5), 1, len(events), facecolor=BAND_COLOURS[i % 2],
                               edgecolor="#BBBBBB", linewidth=0.6, gid=f"band:{window}"))
    for row, event in enumerate(events):
        start = ONSET_WINDOWS.index(event.onset_window[0])
        width = len(event.onset_window)
        expert = event.onset_basis == "expert_practice"
        ax.add_patch(Rectangle(
            (start + 0.05, row - 0.36), width - 0.1, 0.72,
            facecolor=FREQUENCY_COLOURS[event.frequency], edgecolor="#000000",
            linewidth=0.8, alpha=0.85, hatch=EXPERT_HATCH if expert else None,
            gid=f"onset:{event.id}",
        ))
        ax.text(start + 0.1, row, bar_label(event), va="center", ha="left", fontsize=8,
                gid=f"onset-label:{event.id}",
                bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.85, "pad": 1.5})
    ax.set_xlim(0, len(ONSET_WINDOWS))
    ax.set_ylim(len(events) - 0.5, -0.5)  # first event at the top
    ax.set_yticks(range(len(events)))
    ax.set_yticklabels([textwrap.fill(e.name, 34) for e in events], fontsize=9)
    ax.xaxis.tick_top()
    ax.set_xticks([i + 0.5 for i in range(len(ONSET_WINDOWS))])
    ax.set_xticklabels([f"{w.capitalize()}\n({ONSET_SPANS[w]})" for w in ONSET_WINDOWS],
                       fontsize=9)
    ax.tick_params(length=0)
    fig.text(0.02, 0.975, "When complications of mesotherapy begin (onset windows)",
             fontsize=12, fontweight="bold", va="top", gid="title")
    handles = [Patch(facecolor=FREQUENCY_COLOURS[f], edgecolor="#000000",
                     label=FREQUENCY_LABELS[f].capitalize())
               for f in FREQUENCIES]
    handles.append(Patch(facecolor="white", edgecolor="#000000", hatch=EXPERT_HATCH,
                         label="Hatched: onset not given by the course's sources "
                               "(expert practice)"))
    fig.legend(handles=handles, loc="lower left", bbox_to_anchor=(0.02, 0.005), ncol=2,
               fontsize=8, frameon=False, title="Colour = frequency descriptor "
               "(also written on each bar)", title_fontsize=8)
    fig.text(0.98, 0.01, textwrap.fill(
        "Bars show when each complication begins, not how often or how long. Incidence "
        "is unknown [R8]: words, not rates, except trial figures [R23].", 60),
        fontsize=8, ha="right", va="bottom", gid="note")
    return fig


@practice_figure("NTM attack rates")
def ntm_attack_rate_figure() -> Figure:
    """Horizontal bars of outbreak attack rates, each labelled with the rate and n/N."""
    import matplotlib.pyplot as plt

    clusters = complication_data().clusters
    rates = attack_rates()
    fig = plt.figure(figsize=(10.0, 4.6))
    plt.close(fig)
    ax = fig.add_axes((0.3, 0.38, 0.62, 0.48))
    labels = [f"{clusters[r.cluster].label} [{', '.join(clusters[r.cluster].refs)}]"
              for r in rates]
    ys = list(range(len(rates)))
    bars = ax.barh(ys, [100 * r.rate for r in rates], color=BAR_COLOUR, edgecolor="#000000",
                   height=0.55)
    for bar, rate in zip(bars, rates, strict=True):
        bar.set_gid(f"rate:{rate.cluster}")
        ax.text(bar.get_width() + 1, bar.get_y() + bar.get_height() / 2, rate_label(rate),
                va="center", ha="left", fontsize=10, gid=f"rate-label:{rate.cluster}")
    ax.set_yticks(ys)
    ax.set_yticklabels(labels, fontsize=10)
    ax.invert_yaxis()
    ax.set_xlim(0, 100)
    ax.set_xlabel("People infected among those treated in the cluster (%)")
    fig.text(0.02, 0.96, "NTM infection: attack rates within mesotherapy outbreaks",
             fontsize=12, fontweight="bold", va="top", gid="title")
    note = f"{OUTBREAK_NOTE} {counts_only_text()}"
    fig.text(0.02, 0.05, textwrap.fill(note, 130), fontsize=8.5, va="bottom", gid="note")
    return fig
