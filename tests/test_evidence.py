"""Evidence badges carry the grade in words and symbols, not in colour alone."""

from __future__ import annotations

import pytest

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
