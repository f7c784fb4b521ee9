"""Evidence badges carry the grade in words and symbols, not in colour alone."""

from __future__ import annotations

import ast
import re
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from course import lesson
from course.content import Claim, content
from course.evidence import GRADE_WORDING, KIND_LABELS, Badge, badge, evidence_key_rows


def _claim(**overrides: object) -> Claim:
    fields = {"id": "demo", "statement": "A <b>bold</b> claim", "kind": "evidence",
              "refs": ("R8",), "topic": "evidence", "ocebm": 2, "certainty": "low"}
    fields.update(overrides)
    return Claim(**fields)  # type: ignore[arg-type]


def test_evidence_badge_reads_level_certainty_wording_and_references() -> None:
    b = Badge(_claim(), (("R8", "HAS 2014", None),))
    text = b.text()
    assert "OCEBM level 2 (randomised trial)" in text
    assert "●●○○ low certainty" in text
    assert "“may result in”" in text
    assert "References: R8" in text


def test_html_badge_escapes_text_and_links_references() -> None:
    b = Badge(_claim(), (("R8", 'Cite "x"', "https://example.org/?a=1&b=2"),))
    html = b.html()
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert 'href="https://example.org/?a=1&amp;b=2"' in html
    assert 'title="Cite &quot;x&quot;"' in html


@pytest.mark.parametrize("kind", sorted(KIND_LABELS))
def test_ungraded_kinds_say_what_they_are(kind: str) -> None:
    b = Badge(_claim(kind=kind, ocebm=None, certainty=None), (("GK", "x", None),))
    assert KIND_LABELS[kind] in b.text()
    assert "GRADE" not in b.text()


@pytest.mark.parametrize("certainty", sorted(GRADE_WORDING))
def test_each_certainty_has_its_grade_wording(certainty: str) -> None:
    b = Badge(_claim(certainty=certainty), (("R8", "x", None),))
    assert GRADE_WORDING[certainty] in b.text()


def test_badge_for_every_registry_claim_renders() -> None:
    for claim_id in content().claims:
        b = badge(claim_id)
        assert b.claim.statement in b.text()
        assert all(ref in b.text() for ref in b.claim.refs)


def test_unknown_claim_is_a_clear_error() -> None:
    with pytest.raises(KeyError, match="unknown claim id 'no_such_claim'"):
        badge("no_such_claim")


def test_evidence_key_covers_every_grade_and_kind() -> None:
    readings = " ".join(row[0] for row in evidence_key_rows())
    for certainty in GRADE_WORDING:
        assert certainty.replace("_", " ") in readings
    for level in range(1, 6):
        assert f"OCEBM level {level}" in readings
    for label in KIND_LABELS.values():
        assert label.split(" — ")[0] in readings


# ------------------------------------------- a badge does not repeat the prose above it

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "source").glob("*/*.ipynb"))


class _VisibleText(HTMLParser):
    """The text a sighted reader sees: everything but a closed ``<details>``' body."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.details = self.summary = 0

    def handle_starttag(self, tag: str, attrs: object) -> None:
        self.details += tag == "details"
        self.summary += tag == "summary"

    def handle_endtag(self, tag: str) -> None:
        self.details -= tag == "details"
        self.summary -= tag == "summary"

    def handle_data(self, data: str) -> None:
        if not self.details or self.summary:
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return " ".join(parser.parts)


def word_runs(text: str, n: int = 6) -> set[tuple[str, ...]]:
    words = re.findall(r"[a-z0-9]+", text.lower())
    return {tuple(words[i:i + n]) for i in range(len(words) - n + 1)}


def badge_calls(path: Path) -> list[tuple[str, tuple[str, ...]]]:
    """(Markdown cell just above, claim ids) for each ``evidence(...)`` call of a notebook."""
    cells = nbformat.read(path, as_version=4).cells
    calls = []
    for i, cell in enumerate(cells):
        if cell.cell_type != "code" or "evidence(" not in cell.source:
            continue
        above = cells[i - 1].source if i and cells[i - 1].cell_type == "markdown" else ""
        for node in ast.walk(ast.parse(cell.source)):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "evidence"):
                calls.append((above, tuple(ast.literal_eval(a) for a in node.args)))
    return calls


def repeated_runs(markdown: str, claim_ids: tuple[str, ...]) -> list[str]:
    """6-word runs of the Markdown that a badge's visible text repeats."""
    shown = visible_text(lesson.evidence(*claim_ids).html)
    return sorted(" ".join(run) for run in word_runs(markdown) & word_runs(shown))


def test_visible_text_skips_a_closed_details_body() -> None:
    html = "<p>a b</p><details><summary>Sum</summary><p>hidden words</p></details>"
    assert visible_text(html).split() == ["a", "b", "Sum"]
    claim = "has_2014_no_positive_evidence"
    assert repeated_runs("Unrelated words in a short paragraph here.", (claim,)) == []
    assert repeated_runs(f"It is {badge(claim).meaning}.", (claim,))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_no_badge_repeats_the_prose_just_above_it(path: Path) -> None:
    calls = badge_calls(path)
    offenders = [f"{ids}: {runs[0]!r}" for above, ids in calls
                 if (runs := repeated_runs(above, ids))]
    assert not offenders, f"{len(offenders)} of {len(calls)} badges repeat the prose: {offenders}"


def test_the_badge_shows_grade_meaning_and_references_and_collapses_the_claim() -> None:
    html = badge("has_2014_no_positive_evidence").html()
    statement = content().claims["has_2014_no_positive_evidence"].statement
    seen = visible_text(html)
    assert "R8" in seen and "Meaning:" in seen and "Claim as graded" in seen
    assert escape(statement) in html and statement not in seen
    assert '<details class="course-badge-claim">' in html
