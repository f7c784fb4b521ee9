"""Evidence badges: what a claim rests on, as HTML for notebooks and as plain text.

A badge shows the OCEBM 2011 level, the GRADE certainty with GRADE's own wording and
symbols, what that grade means, and the reference ids. Claims that are not graded
evidence say what they are instead (expert practice, convention, a regulatory or other
sourced fact). Colour is never the only carrier: every badge reads the same in plain text.

The notebook's prose states the claim just above its badge, so the HTML badge keeps the
claim's statement in a collapsed "Claim as graded" ``<details>``: sighted readers do not
read it twice, and screen readers still reach it.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from course.content import Claim, Content, content

OCEBM_LEVELS = {
    1: "systematic review of randomised trials",
    2: "randomised trial",
    3: "non-randomised controlled study",
    4: "case series, case-control study or outbreak reports",
    5: "mechanism-based reasoning",
}

GRADE_WORDING = {
    "high": "results in",
    "moderate": "likely results in",
    "low": "may result in",
    "very_low": "the evidence is very uncertain",
}

GRADE_MEANINGS = {
    "high": "further research is very unlikely to change our confidence",
    "moderate": "further research may change the estimate",
    "low": "further research is likely to change the estimate",
    "very_low": "any estimate of effect is very uncertain",
}

GRADE_SYMBOLS = {"high": "●●●●", "moderate": "●●●○", "low": "●●○○", "very_low": "●○○○"}
"""GRADE's filled and open circles, drawn with glyphs in every common font (WGL4: U+25CF,
U+25CB); GRADE's own circled plus (U+2295) and large circle (U+25EF) are missing from
many Linux fonts."""

KIND_LABELS = {
    "expert_practice": "Expert practice — not graded evidence; check local guidance",
    "convention": "Convention from training material — not a validated standard",
    "regulatory": "Regulatory fact",
    "fact": "Sourced fact",
}

KIND_MEANINGS = {
    "expert_practice": ("general medical knowledge not confirmed against a published source",
                        "worded softly: “is generally advised”"),
    "convention": ("technique parameters from training material and societies",
                   "taught as convention"),
    "regulatory": ("an approval, ban, warning or label from a regulator", "stated as fact"),
    "fact": ("a sourced historical, definitional or epidemiological fact", "stated as fact"),
}

# Okabe–Ito colour-blind-safe palette; the text label always carries the meaning too.
_COLOURS = {
    "high": "#009E73",
    "moderate": "#56B4E9",
    "low": "#E69F00",
    "very_low": "#D55E00",
    "expert_practice": "#CC79A7",
    "convention": "#999999",
    "regulatory": "#0072B2",
    "fact": "#0072B2",
}


@dataclass(frozen=True)
class Badge:
    """The evidence badge of one claim."""

    claim: Claim
    ref_titles: tuple[tuple[str, str, str | None], ...]  # (id, citation, link)

    @property
    def grade_label(self) -> str:
        """The short grade line, e.g. 'OCEBM 2 · GRADE ●●●○ moderate: likely results in'."""
        claim = self.claim
        if claim.kind != "evidence":
            return KIND_LABELS[claim.kind]
        certainty = claim.certainty or ""
        return (
            f"OCEBM level {claim.ocebm} ({OCEBM_LEVELS[claim.ocebm or 5]}) · "
            f"GRADE {GRADE_SYMBOLS[certainty]} {certainty.replace('_', ' ')} certainty: "
            f"“{GRADE_WORDING[certainty]}”"
        )

    @property
    def meaning(self) -> str:
        """What the grade means, e.g. 'further research may change the estimate'."""
        if self.claim.kind != "evidence":
            return KIND_MEANINGS[self.claim.kind][0]
        return GRADE_MEANINGS[self.claim.certainty or "very_low"]

    def text(self) -> str:
        """Plain-text badge: the claim, its grade and its references."""
        refs = ", ".join(ref_id for ref_id, _, _ in self.ref_titles)
        return f"[Evidence] {self.claim.statement}\n  {self.grade_label} · References: {refs}"

    def html(self) -> str:
        """HTML badge for notebooks; references link to their source when known.

        The grade, its meaning and the references are visible; the claim's statement,
        which the prose above already says, is collapsed under "Claim as graded".
        """
        key = self.claim.certainty if self.claim.kind == "evidence" else self.claim.kind
        colour = _COLOURS[key or "fact"]
        links = []
        for ref_id, citation, link in self.ref_titles:
            label = escape(ref_id)
            title = escape(citation, quote=True)
            if link:
                href = escape(link, quote=True)
                links.append(f'<a href="{href}" title="{title}" target="_blank">{label}</a>')
            else:
                links.append(f'<abbr title="{title}">{label}</abbr>')
        return (
            f'<div class="course-badge" role="note" aria-label="Evidence badge" '
            f'style="border-left:6px solid {colour};padding:4px 10px;margin:4px 0;'
            f'background:rgba(127,127,127,0.08)">'
            f"<strong>Evidence:</strong> {escape(self.grade_label)}<br>"
            f"<small>Meaning: {escape(self.meaning)} · References: {', '.join(links)}</small>"
            f'<details class="course-badge-claim"><summary><small>Claim as graded</small>'
            f"</summary><small>{escape(self.claim.statement)}</small></details></div>"
        )


def badge(claim_id: str, data: Content | None = None) -> Badge:
    """Build the badge of a claim in the evidence registry."""
    data = data or content()
    try:
        claim = data.claims[claim_id]
    except KeyError:
        raise KeyError(f"unknown claim id {claim_id!r} (see course/data/claims.toml)") from None
    refs = tuple(
        (ref_id, data.references[ref_id].citation, data.references[ref_id].link)
        for ref_id in claim.refs
    )
    return Badge(claim, refs)


def evidence_key_rows() -> list[tuple[str, str, str]]:
    """Rows of the evidence key: (badge reading, what it means, how the course words it)."""
    rows = [
        (
            f"GRADE {GRADE_SYMBOLS[c]} {c.replace('_', ' ')}",
            GRADE_MEANINGS[c],
            f"“{GRADE_WORDING[c]}”",
        )
        for c in GRADE_WORDING
    ]
    rows += [(f"OCEBM level {n}", text, "study design behind the claim")
             for n, text in OCEBM_LEVELS.items()]
    rows += [(KIND_LABELS[kind].split(" — ")[0], meaning, wording)
             for kind, (meaning, wording) in KIND_MEANINGS.items()]
    return rows
