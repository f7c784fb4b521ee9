"""The content model loads the course's data and refuses invalid records clearly."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from course.content import ContentError, content, load_content
from course.paths import DATA_DIR
from course.syllabus import load_course_map

REQUIRED_SUBSTANCES = {
    "hyaluronic_acid", "vitamin_c", "polynucleotides", "plant_extracts", "collagenase",
    "hyaluronidase", "pc_dc", "deoxycholic_acid", "aminophylline", "buflomedil",
    "pentoxifylline", "caffeine", "l_carnitine", "lidocaine", "procaine", "ketoprofen",
    "calcitonin", "minoxidil", "dutasteride", "tranexamic_acid",
}


def test_course_content_loads_and_cross_checks() -> None:
    data = content()
    assert len(data.references) >= 50
    assert set(data.substances) >= REQUIRED_SUBSTANCES
    assert data.claims and data.glossary


def test_every_reference_is_cited_somewhere() -> None:
    assert content().unused_references() == []


def test_evidence_claims_are_graded_and_others_are_not() -> None:
    for claim in content().claims.values():
        graded = claim.ocebm is not None and claim.certainty is not None
        assert graded == (claim.kind == "evidence"), claim.id


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    for path in DATA_DIR.glob("*.toml"):
        shutil.copy2(path, tmp_path / path.name)
    return tmp_path


def _append(path: Path, text: str) -> None:
    path.write_text(path.read_text(encoding="utf-8") + "\n" + text, encoding="utf-8")


@pytest.mark.parametrize(
    ("filename", "record", "message"),
    [
        ("claims.toml", '[bad]\nstatement = "x"\nkind = "fact"\ntopic = "course"\n',
         r"claim 'bad': missing required field 'refs'"),
        ("claims.toml",
         '[bad]\nstatement = "x"\nkind = "fact"\ntopic = "course"\nrefs = ["R999"]\n',
         r"claim 'bad': unknown reference id 'R999'"),
        ("claims.toml",
         '[bad]\nstatement = "x"\nkind = "evidence"\ntopic = "course"\nrefs = ["R8"]\n'
         'ocebm = 7\ncertainty = "low"\n',
         r"field 'ocebm' must be an OCEBM level, a whole number from 1 to 5, got 7"),
        ("claims.toml",
         '[bad]\nstatement = "x"\nkind = "evidence"\ntopic = "course"\nrefs = ["R8"]\n'
         'ocebm = 2\ncertainty = "strong"\n',
         r"field 'certainty' must be one of high, moderate, low, very_low, got 'strong'"),
        ("claims.toml",
         '[bad]\nstatement = "x"\nkind = "evidence"\ntopic = "course"\nrefs = ["R8"]\n',
         r"an evidence claim needs both 'ocebm' and 'certainty'"),
        ("claims.toml",
         '[bad]\nstatement = "x"\nkind = "fact"\ntopic = "course"\nrefs = ["R8"]\nocebm = 2\n',
         r"only kind 'evidence' carries"),
        ("claims.toml",
         '[bad]\nstatement = "x"\nkind = "fact"\ntopic = "course"\nrefs = ["R8"]\nsource = 1\n',
         r"unknown field 'source'"),
        ("glossary.toml", '[bad]\nterm = "X"\n', r"term 'bad': missing required field"),
        ("references.toml", '[R999]\ncitation = ""\n',
         r"reference 'R999': field 'citation' must be a non-empty string"),
        ("references.toml", '[R999]\ncitation = "A"\nyear = "2001"\n',
         r"field 'year' must be a year"),
    ],
)
def test_invalid_records_are_refused_with_a_clear_message(
    data_dir: Path, filename: str, record: str, message: str
) -> None:
    _append(data_dir / filename, record)
    with pytest.raises(ContentError, match=message) as error:
        load_content(data_dir)
    assert filename in str(error.value)


def test_substance_with_unknown_purpose_is_refused(data_dir: Path) -> None:
    text = (data_dir / "substances.toml").read_text(encoding="utf-8")
    text = re.sub(r'purposes = \[[^\]]*\]', 'purposes = ["weight_loss"]', text, count=1)
    (data_dir / "substances.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ContentError, match="field 'purposes' must be a non-empty list"):
        load_content(data_dir)


def test_malformed_toml_names_the_file(data_dir: Path) -> None:
    _append(data_dir / "glossary.toml", "[broken\n")
    with pytest.raises(ContentError, match=r"glossary.toml: not valid TOML"):
        load_content(data_dir)


def test_missing_file_names_the_file(data_dir: Path) -> None:
    (data_dir / "claims.toml").unlink()
    with pytest.raises(ContentError, match=r"claims.toml: data file is missing"):
        load_content(data_dir)


def test_course_map_rejects_duplicate_assignments(tmp_path: Path) -> None:
    record = ('[[assignment]]\nid = "a"\ntitle = "A"\nassessment = "quiz"\n'
              'notebooks = [{ id = "n", title = "N", minutes = 5 }]\n')
    (tmp_path / "map.toml").write_text(record * 2, encoding="utf-8")
    with pytest.raises(ContentError, match="assignment ids must be unique"):
        load_course_map(tmp_path / "map.toml")


def test_course_map_rejects_bad_minutes(tmp_path: Path) -> None:
    record = ('[[assignment]]\nid = "a"\ntitle = "A"\nassessment = "quiz"\n'
              'notebooks = [{ id = "n", title = "N", minutes = 0 }]\n')
    (tmp_path / "map.toml").write_text(record, encoding="utf-8")
    with pytest.raises(ContentError, match="field 'minutes' must be whole minutes"):
        load_course_map(tmp_path / "map.toml")


# ---------------------------------------------------------------- substance evidence records

_MONOGRAPH = " ".join(["word"] * 70)


def _substance_record(
    evidence: str = '[demo.evidence.other]\nocebm = 5\ncertainty = "very_low"\n'
                    'summary = "No controlled data."\nrefs = ["R8"]\n',
    extra: str = "",
    status: str = "off_label",
    monograph: str = _MONOGRAPH,
) -> str:
    return (
        '[demo]\nname = "Demo"\nsubstance_class = "vitamin"\npurposes = ["other"]\n'
        f'mechanism = "x"\nregulatory_status = "{status}"\nregulatory_note = "x"\n'
        f'risks = ["x"]\nrefs = ["R8"]\nmonograph = "{monograph}"\n{extra}\n{evidence}'
    )


def test_a_valid_substance_record_with_evidence_loads(data_dir: Path) -> None:
    _append(data_dir / "substances.toml", _substance_record())
    demo = load_content(data_dir).substances["demo"]
    assert [(e.indication, e.ocebm, e.certainty, e.refs) for e in demo.evidence] == [
        ("other", 5, "very_low", ("R8",))
    ]
    assert demo.labelled_indication is None


_EVIDENCE = '[demo.evidence.{key}]\nocebm = {ocebm}\ncertainty = "{certainty}"\n' \
            'summary = "s"\nrefs = [{refs}]\n'


@pytest.mark.parametrize(
    ("record", "message"),
    [
        (_substance_record(evidence=""), r"substance 'demo': missing required field 'evidence'"),
        (_substance_record(monograph=""), r"field 'monograph' must be a plain-language paragraph"),
        (_substance_record(monograph="too short"), r"paragraph of 60–120 words"),
        (_substance_record(evidence=_EVIDENCE.format(
            key="weight_loss", ocebm=5, certainty="low", refs='"R8"')),
         r"evidence for unknown indication 'weight_loss' \(known indications: skin_rejuvenation"),
        (_substance_record(evidence=_EVIDENCE.format(
            key="melasma", ocebm=5, certainty="low", refs='"R8"')),
         r"evidence for 'melasma', which is not one of its purposes"),
        (_substance_record(evidence=_EVIDENCE.format(
            key="other", ocebm=6, certainty="low", refs='"R8"')),
         r"evidence 'other': field 'ocebm' must be an OCEBM level, a whole number from 1 to 5"),
        (_substance_record(evidence=_EVIDENCE.format(
            key="other", ocebm=0, certainty="low", refs='"R8"')),
         r"field 'ocebm' must be an OCEBM level"),
        (_substance_record(evidence=_EVIDENCE.format(
            key="other", ocebm=2, certainty="strong", refs='"R8"')),
         r"evidence 'other': field 'certainty' must be one of high, moderate, low, very_low"),
        (_substance_record(evidence=_EVIDENCE.format(
            key="other", ocebm=2, certainty="low", refs='"R999"')),
         r"evidence 'other': unknown reference id 'R999'"),
        (_substance_record(evidence=_EVIDENCE.format(
            key="other", ocebm=2, certainty="low", refs="")),
         r"evidence 'other': an evidence entry needs at least one reference id"),
        (_substance_record(evidence='[demo.evidence.other]\nocebm = 2\ncertainty = "low"\n'
                                    'refs = ["R8"]\n'),
         r"evidence 'other': missing required field 'summary'"),
        (_substance_record(evidence="[demo.evidence]\n"),
         r"field 'evidence' must be a table with one sub-table per indication"),
        (_substance_record(status="approved"),
         r"'labelled_indication' is required for an approved substance"),
        (_substance_record(extra='labelled_indication = "x"'),
         r"'labelled_indication' is required for an approved substance and allowed only"),
    ],
)
def test_invalid_substance_evidence_is_refused_with_a_clear_message(
    data_dir: Path, record: str, message: str
) -> None:
    _append(data_dir / "substances.toml", record)
    with pytest.raises(ContentError, match=message) as error:
        load_content(data_dir)
    assert "substances.toml" in str(error.value)


def test_purpose_without_evidence_is_refused(data_dir: Path) -> None:
    record = _substance_record().replace('purposes = ["other"]', 'purposes = ["other", "melasma"]')
    _append(data_dir / "substances.toml", record)
    with pytest.raises(ContentError, match="purposes without an evidence entry: melasma"):
        load_content(data_dir)


def test_evidence_references_count_as_cited(data_dir: Path) -> None:
    _append(data_dir / "references.toml", '[R900]\ncitation = "Only cited by evidence."\n')
    _append(data_dir / "substances.toml", _substance_record(evidence=_EVIDENCE.format(
        key="other", ocebm=4, certainty="low", refs='"R900"')))
    assert "R900" not in load_content(data_dir).unused_references()
