"""The six clinical drawings: rendered, labelled, cited, readable and made here."""

from __future__ import annotations

import ast
import base64
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.image import AxesImage
from matplotlib.patches import Patch, Rectangle
from matplotlib.text import Text

from course.content import content
from course.display import OmittedWhileGrading
from course.skin import get_technique, technique_ids
from course.views import drawings
from course.views.drawings import (
    DRAWINGS,
    Drawing,
    cited_ids,
    details_markdown,
    drawing,
    show_drawing,
)

NAMES = list(DRAWINGS)

KEY_TERMS = {
    "injection_planes": ["Epidermis", "Superficial dermis", "Deep dermis", "Hypodermis",
                         "Intraepidermal", "Papular", "Nappage", "Point-by-point", "[R67]"],
    "submental_area": ["Submental treatment area", "Marginal mandibular nerve zone",
                       "Lower border of the jaw", "deoxycholic acid", "4%", "[R23]"],
    "facial_danger_zones": ["Forehead", "Glabella", "Temple", "Nose", "Nasolabial fold",
                            "expert practice", "visual disturbance"],
    "livedo_pattern": ["Blanching", "Livedo", "net-like", "Dusky", "Capillary refill",
                       "returns slowly", "not a photograph"],
    "ntm_timeline": ["Injection", "1–12 weeks", "28 days", "9.8 weeks", "nodules",
                     "Abscesses", "weeks after"],
    "anaphylaxis_positions": ["Lying flat, legs raised", "Sitting up", "Recovery position",
                              "left side", "Never stand or sit", "not the RCUK algorithm"],
}


@pytest.fixture(scope="module")
def built() -> dict[str, Drawing]:
    return {name: drawing(name) for name in NAMES}


def test_there_are_at_least_six_drawings() -> None:
    assert len(DRAWINGS) >= 6
    assert set(KEY_TERMS) <= set(DRAWINGS)


@pytest.mark.parametrize("name", NAMES)
def test_each_drawing_renders_to_a_png(built: dict[str, Drawing], name: str) -> None:
    import io

    buffer = io.BytesIO()
    built[name].figure.savefig(buffer, format="png", dpi=80)
    assert buffer.getvalue().startswith(b"\x89PNG")


@pytest.mark.parametrize("name", NAMES)
def test_alt_text_and_text_equivalent(built: dict[str, Drawing], name: str) -> None:
    d = built[name]
    assert d.id == name and d.title
    assert 40 <= len(d.alt_text) <= 300, "alt text: one or two sentences"
    assert len(d.text_equivalent) > 2 * len(d.alt_text), "the text equivalent says more"
    assert d.text_equivalent.startswith(d.title)
    assert d.caption in d.text_equivalent
    # Every label of the picture that names something is also in the text equivalent.
    words = d.text_equivalent.lower()
    for term in KEY_TERMS[name]:
        assert term.lower() in words, f"{name}: {term!r} missing from the text equivalent"


@pytest.mark.parametrize("name", NAMES)
def test_labels_include_the_key_terms(built: dict[str, Drawing], name: str) -> None:
    labels = " ".join(built[name].labels()).replace("\n", " ")
    for term in KEY_TERMS[name]:
        assert term in labels, f"{name}: no label says {term!r}"
    assert built[name].title in labels


@pytest.mark.parametrize("name", NAMES)
def test_caption_cites_existing_references_and_claims(built: dict[str, Drawing],
                                                      name: str) -> None:
    d = built[name]
    data = content()
    assert re.search(r"\[(R\d+|GK)", d.caption), "the caption cites a reference id"
    cited = cited_ids(d)
    assert cited and cited <= set(data.references)
    assert set(d.refs) <= cited, "every reference the drawing claims is cited in it"
    assert d.claims and set(d.claims) <= set(data.claims)
    # The drawing cites what its claims rest on (GK stands for expert practice).
    claim_refs = {r for c in d.claims for r in data.claims[c].refs}
    assert cited <= claim_refs | {"GK"} | set(d.refs)


def test_expert_practice_drawings_say_so(built: dict[str, Drawing]) -> None:
    data = content()
    for d in built.values():
        if any(data.claims[c].kind == "expert_practice" for c in d.claims):
            assert "expert practice" in d.text_equivalent.lower(), d.id


def layout_problems(fig: Figure) -> list[str]:
    """Text under 11 pt, text cut off at the edge, and pairs of overlapping labels."""
    problems = []
    if fig.get_figwidth() > drawings.FIG_WIDTH_IN:
        problems.append(f"wider than {drawings.FIG_WIDTH_IN} in")
    canvas = FigureCanvasAgg(fig)
    canvas.draw()  # places annotations and legends
    renderer = canvas.get_renderer()
    texts = [t for t in fig.findobj(Text) if t.get_text().strip() and t.get_visible()]
    problems += [f"{t.get_text()!r} is under {drawings.MIN_FONT_PT:g} pt" for t in texts
                 if t.get_fontsize() < drawings.MIN_FONT_PT]
    # Text.get_window_extent: the words alone (an Annotation adds its arrow).
    boxes = [(t.get_text(), Text.get_window_extent(t, renderer)) for t in texts]
    page = fig.bbox
    problems += [f"{text!r} is cut off" for text, box in boxes
                 if box.x0 < page.x0 - 1 or box.x1 > page.x1 + 1
                 or box.y0 < page.y0 - 1 or box.y1 > page.y1 + 1]
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1:]:
            if box_a.shrunk(0.97, 0.9).overlaps(box_b.shrunk(0.97, 0.9)):
                problems.append(f"{a!r} overlaps {b!r}")
    return problems


def colour_problems(fig: Figure) -> list[str]:
    """Embedded images, fills outside the Okabe–Ito palette, no hatched region."""
    problems = ["an embedded image"] if fig.findobj(AxesImage) else []
    fills = {to_hex(p.get_facecolor()[:3]).upper() for p in fig.findobj(Patch)
             if p.get_fill() and p.get_facecolor()[3] > 0}
    palette = {c.upper() for c in drawings.PALETTE}
    problems += [f"colour {c} is outside the palette" for c in sorted(fills - palette)]
    if not any(p.get_fill() and p.get_hatch() for p in fig.findobj(Patch)):
        problems.append("no coloured region carries a hatch pattern")
    return problems


@pytest.mark.parametrize("name", NAMES)
def test_readable_at_800_px(built: dict[str, Drawing], name: str) -> None:
    """10 inches wide, text of 11 pt or more, no two labels overlapping, all inside."""
    assert layout_problems(built[name].figure) == []


@pytest.mark.parametrize("name", NAMES)
def test_colours_are_colour_blind_safe_and_drawn_not_copied(built: dict[str, Drawing],
                                                            name: str) -> None:
    assert colour_problems(built[name].figure) == []


def test_the_checks_catch_bad_figures() -> None:
    fig = Figure(figsize=(12, 4))
    fig.text(0.5, 0.5, "first label", fontsize=12)
    fig.text(0.52, 0.5, "second label", fontsize=12)
    fig.text(0.1, 0.1, "tiny", fontsize=8)
    fig.text(0.98, 0.9, "cut off at the edge", fontsize=12)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.add_patch(Rectangle((0, 0), 0.2, 0.2, facecolor="#FF0000"))
    ax.imshow([[0, 1], [1, 0]])
    problems = " | ".join(layout_problems(fig))
    assert "wider than" in problems and "'tiny' is under" in problems
    assert "'first label' overlaps 'second label'" in problems
    assert "'cut off at the edge' is cut off" in problems
    colours = " | ".join(colour_problems(fig))
    assert "embedded image" in colours and "#FF0000" in colours and "hatch" in colours


def test_the_module_reads_no_image_file() -> None:
    source = Path(drawings.__file__).read_text(encoding="utf-8")
    tree = ast.parse(source)
    called = {getattr(n.func, "attr", getattr(n.func, "id", "")) for n in ast.walk(tree)
              if isinstance(n, ast.Call)}
    assert not called & {"imread", "open", "read_bytes", "imshow", "figimage", "urlopen"}
    assert not re.search(r"\.(png|jpe?g|gif|svg|webp)\b", source, re.IGNORECASE)
    images = [p for p in Path(drawings.__file__).parent.rglob("*")
              if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".gif", ".webp"}
              and "labextension" not in p.parts]
    assert images == []


def test_injection_planes_follow_the_skin_data() -> None:
    for tid in technique_ids():
        tech = get_technique(tid)
        depth = drawings.planes_target_depth(tid)
        inside = [layer for layer, (top, bottom) in drawings._BANDS.items()
                  if bottom <= depth <= top]
        assert set(inside) & set(tech.intended_layers), tid
    labels = " ".join(drawing("injection_planes").labels())
    for tid in technique_ids():
        assert get_technique(tid).depth_described.split(",")[0] in labels


def test_ntm_timeline_marks_come_from_the_claims() -> None:
    statement = content().claims["ntm_onset_weeks"].statement
    assert "1–12 weeks" in statement and "28 days" in statement and "9.8 weeks" in statement
    assert drawings.NTM_ONSET_WEEKS == (1.0, 12.0)
    assert {w for w, *_ in drawings.NTM_MARKS} == {3.0, 4.0, 9.8}


def test_show_drawing_gives_alt_text_and_badges() -> None:
    view = show_drawing("facial_danger_zones")
    bundle = view._repr_mimebundle_()
    assert 'alt="Facial danger zones for vascular injury.' in bundle["text/html"]
    png = re.search(r'src="data:image/png;base64,([^"]+)"', bundle["text/html"])
    assert png and base64.b64decode(png.group(1)).startswith(b"\x89PNG")
    assert "glabella" in bundle["text/plain"].lower()
    assert "Expert practice" in bundle["text/plain"] or "expert" in bundle["text/plain"]


def test_show_drawing_while_grading_gives_the_alt_text_without_drawing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> Drawing:
        raise AssertionError("nothing is drawn while nbgrader runs the notebook")

    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    monkeypatch.setitem(DRAWINGS, "ntm_timeline", refuse)
    shown = show_drawing("ntm_timeline")
    assert isinstance(shown, OmittedWhileGrading)
    assert "1–12 weeks" in shown.summary
    with pytest.raises(ValueError, match="no drawing called"):
        show_drawing("nose")


def test_summaries_match_the_drawings(built: dict[str, Drawing]) -> None:
    assert set(drawings.SUMMARIES) == set(DRAWINGS)
    for name, d in built.items():
        assert drawings.SUMMARIES[name] == (d.title, d.alt_text)


def test_unknown_drawing_is_one_clear_message() -> None:
    with pytest.raises(ValueError, match=r"There is no drawing called 'face'\. The drawings"):
        drawing("face")


def test_details_markdown_is_collapsed_and_holds_the_text() -> None:
    md = details_markdown("livedo_pattern")
    assert md.startswith("<details><summary>Text description: ")
    assert md.rstrip().endswith("</details>")
    assert drawing("livedo_pattern").text_equivalent in md


NOTEBOOK_PLACES = {
    "injection_planes": "source/01-principles/02-techniques-and-sessions.ipynb",
    "submental_area": "source/02-substances/01-substance-classes.ipynb",
    "facial_danger_zones": "source/03-risk-assessment/03-safety-and-emergencies.ipynb",
    "livedo_pattern": "source/03-risk-assessment/03-safety-and-emergencies.ipynb",
    "ntm_timeline": "source/03-risk-assessment/02-complications.ipynb",
    "anaphylaxis_positions": "source/03-risk-assessment/03-safety-and-emergencies.ipynb",
}


@pytest.mark.parametrize("name", NAMES)
def test_each_drawing_is_in_its_notebook_with_hidden_input_and_text(name: str) -> None:
    from course.notebooks import read_notebook

    root = Path(__file__).resolve().parents[1]
    nb = read_notebook(root / NOTEBOOK_PLACES[name])
    calls = [i for i, c in enumerate(nb.cells)
             if c.cell_type == "code" and f'show_drawing("{name}")' in c.source]
    assert len(calls) == 1, f"{name}: one drawing cell"
    cell = nb.cells[calls[0]]
    assert cell.metadata.get("jupyter", {}).get("source_hidden") is True
    following = nb.cells[calls[0] + 1]
    assert following.cell_type == "markdown"
    assert following.source == details_markdown(name), "regenerate the text description"
