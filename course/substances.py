"""Substance explorer and evidence map for Module 02 ("Substances and evidence").

Pure functions read the validated catalogue (``course/data/substances.toml``):

- :func:`filter_substances` selects substances by class, indication, evidence and status;
- :func:`monograph_text`, :func:`monograph_html` and :func:`compare_text` describe them;
- :func:`evidence_map_html` shows the grid of substances × indications, coloured by
  GRADE certainty (Okabe–Ito, as in :mod:`course.evidence`) and labelled in text, and
  :func:`evidence_map_alt_text` gives the same content in words.

The figure and the widget are in :mod:`course.views.substances` and only draw and wire
these functions.

Evidence grades are per (substance, indication): an OCEBM 2011 level (1 systematic review
of randomised trials … 5 mechanism-based reasoning) and a GRADE certainty for benefit.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from html import escape
from typing import Any

from course.catalogue import get_record
from course.content import (
    CERTAINTIES,
    INDICATIONS,
    REGULATORY_STATUSES,
    SUBSTANCE_CLASSES,
    Content,
    IndicationEvidence,
    Substance,
    content,
)
from course.evidence import _COLOURS, GRADE_SYMBOLS, GRADE_WORDING, OCEBM_LEVELS

INDICATION_LABELS = {
    "skin_rejuvenation": "Skin rejuvenation",
    "hair_loss": "Hair loss",
    "cellulite": "Cellulite",
    "localized_fat": "Localised fat",
    "submental_fat": "Submental fat",
    "melasma": "Melasma",
    "musculoskeletal_pain": "Musculoskeletal pain",
    "other": "Other use",
}

CLASS_LABELS = {
    "hydrating_revitalising": "Hydrating / revitalising",
    "vitamin": "Vitamin",
    "regenerative": "Regenerative",
    "plant_extract": "Plant extract / homeopathic",
    "enzyme": "Enzyme",
    "detergent_cytolytic": "Detergent (cytolytic)",
    "lipolytic_vasoactive": "Lipolytic / vasoactive",
    "local_anaesthetic": "Local anaesthetic",
    "analgesic_anti_inflammatory": "Analgesic / anti-inflammatory",
    "hormone": "Hormone",
    "hair_growth": "Hair growth",
    "depigmenting": "Depigmenting",
}

STATUS_LABELS = {
    "approved": "approved product (see labelled indication)",
    "off_label": "off-label use",
    "unapproved": "unapproved",
    "suspended": "marketing authorisations suspended",
    "varies": "varies by country and product",
}

MARKET_STATUS_LABELS = {
    "discontinued": "the approved product has been discontinued (no longer marketed)",
    "no_licensed_injectable": ("no licensed injectable product exists: every injectable "
                               "preparation is compounded or unlicensed"),
}
"""Optional ``market_status`` of a substance (clinical-brief.md §9), shown beside its status."""

CERTAINTY_RANK = {certainty: rank for rank, certainty in enumerate(reversed(CERTAINTIES))}
"""very_low 0 < low 1 < moderate 2 < high 3."""

NO_ENTRY = "—"
NO_LABELLED_INDICATION = "none (no approved product for this use)"
EMPTY_CELL_COLOUR = "#FFFFFF"


# ---------------------------------------------------------------- helpers


def _allowed(name: str, value: Any, allowed: Sequence[Any]) -> None:
    if value is not None and (isinstance(value, bool) or value not in allowed):
        options = ", ".join(str(a) for a in allowed)
        raise ValueError(f"{name} must be one of {options} (or None for any), got {value!r}")


def data_or_default(data: Content | None) -> Content:
    """The catalogue given, or the course's own when it is None."""
    return data if data is not None else content()


def get_substance(substance_id: str, data: Content | None = None) -> Substance:
    """The catalogue record of one substance; unknown ids raise ValueError listing them."""
    return get_record(data_or_default(data).substances, substance_id, "substance_id")


def short_name(substance: Substance) -> str:
    """The name without its parenthesis, e.g. 'Deoxycholic acid'."""
    return substance.name.split(" (")[0]


def certainty_words(certainty: str) -> str:
    """'very_low' -> 'very low'."""
    return certainty.replace("_", " ")


def grade_line(entry: IndicationEvidence) -> str:
    """OCEBM level and GRADE certainty with GRADE wording, as one line of text."""
    return (
        f"OCEBM level {entry.ocebm} ({OCEBM_LEVELS[entry.ocebm]}) · "
        f"GRADE {GRADE_SYMBOLS[entry.certainty]} {certainty_words(entry.certainty)} "
        f"certainty: “{GRADE_WORDING[entry.certainty]}”"
    )


def cell_label(entry: IndicationEvidence) -> str:
    """The two-line text of a filled evidence-map cell, e.g. 'L2\\nhigh'."""
    return f"L{entry.ocebm}\n{certainty_words(entry.certainty)}"


# ---------------------------------------------------------------- filtering


def filter_substances(
    substance_class: str | None = None,
    indication: str | None = None,
    min_certainty: str | None = None,
    max_ocebm: int | None = None,
    regulatory_status: str | None = None,
    data: Content | None = None,
) -> list[Substance]:
    """Substances matching every given filter, in catalogue order (None means any).

    ``indication`` keeps substances with an evidence entry for that indication.
    ``min_certainty`` and ``max_ocebm`` keep substances with at least one evidence entry
    (for ``indication`` only, when it is given) whose GRADE certainty is at least
    ``min_certainty`` and whose OCEBM level is at most ``max_ocebm``; both conditions must
    hold for the same entry. Unknown values raise ValueError listing the allowed values.
    """
    _allowed("substance_class", substance_class, SUBSTANCE_CLASSES)
    _allowed("indication", indication, INDICATIONS)
    _allowed("min_certainty", min_certainty, CERTAINTIES)
    _allowed("max_ocebm", max_ocebm, (1, 2, 3, 4, 5))
    if max_ocebm is not None and type(max_ocebm) is not int:
        raise ValueError(f"max_ocebm must be a whole number from 1 to 5, got {max_ocebm!r}")
    _allowed("regulatory_status", regulatory_status, REGULATORY_STATUSES)

    def entry_matches(entry: IndicationEvidence) -> bool:
        return (
            (indication is None or entry.indication == indication)
            and (min_certainty is None
                 or CERTAINTY_RANK[entry.certainty] >= CERTAINTY_RANK[min_certainty])
            and (max_ocebm is None or entry.ocebm <= max_ocebm)
        )

    return [
        s for s in data_or_default(data).substances.values()
        if (substance_class is None or s.substance_class == substance_class)
        and (regulatory_status is None or s.regulatory_status == regulatory_status)
        and any(entry_matches(entry) for entry in s.evidence)
    ]


# ---------------------------------------------------------------- monographs


def status_label(substance: Substance) -> str:
    """The short status words, e.g. 'approved product (…); the approved product has been
    discontinued'. For a drug with no licensed injectable, the market status replaces the
    "off-label" words, which would imply a licensed injectable product."""
    market = substance.market_status
    if market == "no_licensed_injectable":
        return MARKET_STATUS_LABELS[market]
    label = STATUS_LABELS[substance.regulatory_status]
    return f"{label}; {MARKET_STATUS_LABELS[market]}" if market else label


def _status_text(substance: Substance) -> str:
    return f"{status_label(substance)} — {substance.regulatory_note}"


def monograph_text(substance_id: str, data: Content | None = None) -> str:
    """Plain-text monograph: identity, status, evidence per indication, risks, references."""
    data = data_or_default(data)
    s = get_substance(substance_id, data)
    lines = [
        f"{s.name} [{s.id}]",
        f"Class: {CLASS_LABELS[s.substance_class]}",
        f"Regulatory status: {_status_text(s)}",
        f"Labelled indication: {s.labelled_indication or NO_LABELLED_INDICATION}",
        "",
        "Evidence by indication:",
    ]
    for entry in s.evidence:
        lines += [
            f"- {INDICATION_LABELS[entry.indication]}: {grade_line(entry)}",
            textwrap.indent(textwrap.fill(entry.summary, 88, break_on_hyphens=False), "    "),
            f"    References: {', '.join(entry.refs)}",
        ]
    lines += ["", "Risks: " + "; ".join(s.risks), "",
              textwrap.fill(s.monograph, 92, break_on_hyphens=False), "", "References:"]
    lines += [f"  {ref}  {data.references[ref].citation}" for ref in s.all_refs]
    return "\n".join(lines)


def _badge_html(entry: IndicationEvidence) -> str:
    colour = _COLOURS[entry.certainty]
    return (
        f'<div class="course-badge" role="note" aria-label="Evidence for '
        f'{escape(INDICATION_LABELS[entry.indication], quote=True)}" '
        f'style="border-left:6px solid {colour};padding:4px 10px;margin:4px 0;'
        f'background:rgba(127,127,127,0.08)">'
        f"<strong>{escape(INDICATION_LABELS[entry.indication])}:</strong> "
        f"<strong>{escape(grade_line(entry))}</strong><br>"
        f"{escape(entry.summary)}<br><small>References: {escape(', '.join(entry.refs))}"
        f"</small></div>"
    )


def monograph_html(substance_id: str, data: Content | None = None) -> str:
    """HTML monograph with escaped text and one evidence badge per indication."""
    data = data_or_default(data)
    s = get_substance(substance_id, data)
    refs = "".join(
        f"<li><strong>{escape(ref)}</strong> {escape(data.references[ref].citation)}</li>"
        for ref in s.all_refs
    )
    risks = "".join(f"<li>{escape(risk)}</li>" for risk in s.risks)
    return (
        f'<section class="course-monograph" aria-label="Monograph: {escape(s.name, quote=True)}" '
        f'style="line-height:1.5">'
        f"<h3>{escape(s.name)}</h3>"
        f"<p><strong>Class:</strong> {escape(CLASS_LABELS[s.substance_class])}<br>"
        f"<strong>Regulatory status:</strong> {escape(_status_text(s))}<br>"
        f"<strong>Labelled indication:</strong> "
        f"{escape(s.labelled_indication or NO_LABELLED_INDICATION)}</p>"
        f"<p>{escape(s.monograph)}</p>"
        f"<h4>Evidence by indication</h4>{''.join(_badge_html(e) for e in s.evidence)}"
        f"<h4>Risks</h4><ul>{risks}</ul>"
        f"<h4>References</h4><ul>{refs}</ul></section>"
    )


def _evidence_cell(substance: Substance, indication: str) -> str:
    entry = substance.evidence_for(indication)
    if entry is None:
        return f"{NO_ENTRY} (no entry)"
    return (f"OCEBM {entry.ocebm}, {GRADE_SYMBOLS[entry.certainty]} "
            f"{certainty_words(entry.certainty)} [{', '.join(entry.refs)}]")


def compare_text(id_a: str, id_b: str, width: int = 38, data: Content | None = None) -> str:
    """Two substances side by side, as aligned text rows (one row per attribute)."""
    data = data_or_default(data)
    a, b = get_substance(id_a, data), get_substance(id_b, data)
    indications = [i for i in INDICATIONS if i in a.indications or i in b.indications]
    rows: list[tuple[str, str, str]] = [
        ("Substance", a.name, b.name),
        ("Class", CLASS_LABELS[a.substance_class], CLASS_LABELS[b.substance_class]),
        ("Regulatory status", status_label(a), status_label(b)),
        ("Labelled indication", a.labelled_indication or NO_LABELLED_INDICATION,
         b.labelled_indication or NO_LABELLED_INDICATION),
    ]
    rows += [(INDICATION_LABELS[i], _evidence_cell(a, i), _evidence_cell(b, i))
             for i in indications]
    rows += [("Risks", "; ".join(a.risks), "; ".join(b.risks)),
             ("References", ", ".join(a.all_refs), ", ".join(b.all_refs))]
    head = max(len(label) for label, _, _ in rows)
    lines = []
    for label, left, right in rows:
        left_lines = textwrap.wrap(left, width, break_on_hyphens=False) or [""]
        right_lines = textwrap.wrap(right, width, break_on_hyphens=False) or [""]
        for n in range(max(len(left_lines), len(right_lines))):
            lines.append(
                f"{(label if n == 0 else ''):<{head}} | "
                f"{(left_lines[n] if n < len(left_lines) else ''):<{width}} | "
                f"{right_lines[n] if n < len(right_lines) else ''}".rstrip()
            )
    return "\n".join(lines)


def compare_html(id_a: str, id_b: str, data: Content | None = None) -> str:
    """Two substances side by side as a left-aligned HTML table (one row per attribute)."""
    from course.callouts import table

    data = data_or_default(data)
    a, b = get_substance(id_a, data), get_substance(id_b, data)
    indications = [i for i in INDICATIONS if i in a.indications or i in b.indications]
    rows = [
        ["Class", CLASS_LABELS[a.substance_class], CLASS_LABELS[b.substance_class]],
        ["Regulatory status", status_label(a), status_label(b)],
        ["Labelled indication", a.labelled_indication or NO_LABELLED_INDICATION,
         b.labelled_indication or NO_LABELLED_INDICATION],
    ]
    rows += [[INDICATION_LABELS[i], _evidence_cell(a, i), _evidence_cell(b, i)]
             for i in indications]
    rows += [["Risks", "; ".join(a.risks), "; ".join(b.risks)],
             ["References", ", ".join(a.all_refs), ", ".join(b.all_refs)]]
    return table(["", a.name, b.name], rows, f"Comparison: {short_name(a)} and {short_name(b)}")


def monograph(substance_id: str, data: Content | None = None):
    """A monograph for a notebook cell: HTML (headings, lists, badges) with its text twin."""
    from course.callouts import Shown

    return Shown(monograph_html(substance_id, data), monograph_text(substance_id, data))


def comparison(id_a: str, id_b: str, data: Content | None = None):
    """Two substances side by side for a notebook cell (HTML table with its text twin)."""
    from course.callouts import Shown

    return Shown(compare_html(id_a, id_b, data), compare_text(id_a, id_b, data=data))


# ---------------------------------------------------------------- evidence map


def map_axes(
    substance_ids: Iterable[str] | None, indications: Iterable[str] | None, data: Content
) -> tuple[list[Substance], list[str]]:
    """The rows (substances) and columns (indications) of the evidence map."""
    if substance_ids is None:
        rows = list(data.substances.values())
    else:
        rows = [get_substance(sid, data) for sid in substance_ids]
    if not rows:
        raise ValueError("substance_ids must name at least one substance")
    if indications is None:
        cols = [i for i in INDICATIONS if any(i in s.indications for s in rows)]
    else:
        cols = list(indications)
        for indication in cols:
            _allowed("indications", indication, INDICATIONS)
        if not cols:
            raise ValueError("indications must name at least one indication")
    return rows, cols


def _luminance(hex_colour: str) -> float:
    """WCAG relative luminance of a '#RRGGBB' colour."""
    channels = [int(hex_colour[i:i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]


def contrast_ratio(colour_a: str, colour_b: str) -> float:
    """WCAG contrast ratio between two '#RRGGBB' colours (1 to 21)."""
    high, low = sorted((_luminance(colour_a), _luminance(colour_b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_colour_on(background: str) -> str:
    """Black or white, whichever contrasts more with the background."""
    black, white = "#000000", "#FFFFFF"
    return black if contrast_ratio(background, black) >= contrast_ratio(background, white) \
        else white


MAP_TITLE = "Evidence map: best evidence for benefit, per substance and indication"
MAP_KEY = ("Cell text: L1–L5 = OCEBM 2011 level (1 systematic review of RCTs … "
           "5 mechanism-based reasoning) and GRADE certainty; "
           f"{NO_ENTRY} = no entry (no data recorded).")


def evidence_map_alt_text(
    substance_ids: Iterable[str] | None = None,
    indications: Iterable[str] | None = None,
    data: Content | None = None,
) -> str:
    """The evidence map in words: its size, then every filled cell."""
    data = data_or_default(data)
    rows, cols = map_axes(substance_ids, indications, data)
    filled = [
        (s, entry) for s in rows for i in cols if (entry := s.evidence_for(i)) is not None
    ]
    lines = [
        f"{MAP_TITLE}. A grid of {len(rows)} substances by {len(cols)} indications "
        f"({', '.join(INDICATION_LABELS[i] for i in cols)}); {len(filled)} of "
        f"{len(rows) * len(cols)} cells have an evidence entry, the others show "
        f"{NO_ENTRY} (no data recorded). Colour shows GRADE certainty; each filled cell also "
        "states its OCEBM level and certainty in text.",
        "Filled cells:",
    ]
    lines += [
        f"- {short_name(s)}, {INDICATION_LABELS[e.indication].lower()}: OCEBM level "
        f"{e.ocebm} ({OCEBM_LEVELS[e.ocebm]}), {certainty_words(e.certainty)} certainty "
        f"[{', '.join(e.refs)}]"
        for s, e in filled
    ]
    return "\n".join(lines)


_BREAKS = {"rejuvenation": "rejuve\u00adnation", "Musculoskeletal": "Musculo\u00adskeletal",
           "Localised": "Local\u00adised", "Submental": "Sub\u00admental",
           "Phosphatidylcholine": "Phosphatidyl\u00adcholine",
           "deoxycholate": "deoxy\u00adcholate", "Polynucleotides": "Poly\u00adnucleotides",
           "Hyaluronidase": "Hyaluron\u00adidase", "Aminophylline": "Amino\u00adphylline",
           "Pentoxifylline": "Pentoxi\u00adfylline", "homeopathic": "homeo\u00adpathic"}


def _breakable(label: str) -> str:
    """Escaped label with soft hyphens in long words and a break after '/' (narrow cells)."""
    words = ["/".join(_BREAKS.get(part, part) for part in word.split("/"))
             for word in label.split(" ")]
    return escape(" ".join(words)).replace("/", "/<wbr>")


def evidence_map_html(
    substance_ids: Iterable[str] | None = None,
    indications: Iterable[str] | None = None,
    data: Content | None = None,
) -> str:
    """The evidence map as a compact HTML table that fits one screen and reflows at 800 px.

    Rows are substances (in catalogue order, which groups them by class), columns
    indications; a filled cell is coloured by GRADE certainty and states its OCEBM level
    and certainty in words. Pass ``substance_ids`` or ``indications`` to filter.
    """
    data = data_or_default(data)
    rows, cols = map_axes(substance_ids, indications, data)
    cell = ("padding:2px 4px;border:1px solid #888;text-align:left;vertical-align:top;"
            "hyphens:auto")
    head = "".join(f'<th scope="col" style="{cell}">{_breakable(INDICATION_LABELS[i])}</th>'
                   for i in cols)
    body = []
    for substance in rows:
        cells = []
        for indication in cols:
            entry = substance.evidence_for(indication)
            if entry is None:
                cells.append(f'<td style="{cell}">{NO_ENTRY}</td>')
                continue
            colour = _COLOURS[entry.certainty]
            cells.append(
                f'<td style="{cell};background:{colour};color:{text_colour_on(colour)}">'
                f"L{entry.ocebm} {escape(certainty_words(entry.certainty))}</td>")
        group = escape(CLASS_LABELS[substance.substance_class], quote=True)
        body.append(f'<tr><th scope="row" style="{cell};font-weight:normal" title="{group}">'
                    f"{_breakable(short_name(substance))}</th>{''.join(cells)}</tr>")
    key = "".join(
        f'<li><span style="display:inline-block;width:1em;height:1em;background:'
        f'{_COLOURS[c]};border:1px solid #555;vertical-align:-0.15em"></span> '
        f"{escape(certainty_words(c))} certainty: “{escape(GRADE_WORDING[c])}”</li>"
        for c in CERTAINTIES)
    return (
        f'<div class="course-table course-evidence-map" lang="en-GB" style="overflow-x:auto;'
        f'max-width:100%;font-size:0.8em;line-height:1.3">'
        f'<table style="border-collapse:collapse;width:100%;table-layout:fixed">'
        f'<caption style="text-align:left;font-weight:bold;font-size:1.1em">'
        f"{escape(MAP_TITLE)}</caption>"
        f'<colgroup><col style="width:{max(16, 100 - 10 * len(cols))}%"></colgroup>'
        f'<thead style="position:sticky;top:0;background:var(--jp-layout-color0,#fff)">'
        f'<tr><th scope="col" style="{cell}">Substance</th>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table>"
        f'<p style="margin:0.4em 0">{escape(MAP_KEY)}</p>'
        f'<ul style="list-style:none;padding-left:0;margin:0;display:flex;flex-wrap:wrap;'
        f'gap:0.3em 1.2em">{key}</ul></div>'
    )


def evidence_map(
    substance_ids: Iterable[str] | None = None,
    indications: Iterable[str] | None = None,
    data: Content | None = None,
):
    """The evidence map for a notebook cell: the HTML table with its text equivalent."""
    from course.callouts import Shown

    return Shown(evidence_map_html(substance_ids, indications, data),
                 evidence_map_alt_text(substance_ids, indications, data))
