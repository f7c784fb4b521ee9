"""Speed-ups of nbgrader's own steps in ``course grade`` (course/nbgrader_plugins.py):
each must leave nbgrader's behaviour as it was. Scores identical to stock
``nbgrader autograde`` are checked end to end in test_cohort.py."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import pytest
from nbgrader.api import Gradebook

from course.nbgrader_plugins import CompiledSchemas, share_gradebook_engines


def test_compiled_schemas_raise_what_jsonschema_raises() -> None:
    schema = {"type": "object", "properties": {"points": {"type": "number"},
                                               "grade_id": {"type": "string"}},
              "required": ["grade_id"], "additionalProperties": False}
    compiled = CompiledSchemas(jsonschema)
    compiled.validate({"grade_id": "a", "points": 1}, schema)
    for bad in ({"points": "x", "grade_id": "a"}, {"points": 1}, {"grade_id": "a", "z": 1}):
        with pytest.raises(jsonschema.ValidationError) as ours:
            compiled.validate(bad, schema)
        with pytest.raises(jsonschema.ValidationError) as stock:
            jsonschema.validate(bad, schema)
        assert str(ours.value) == str(stock.value)
    assert len(compiled._compiled) == 1
    with pytest.raises(jsonschema.SchemaError):
        compiled.validate({}, {"type": 12})


@pytest.mark.slow
def test_gradebooks_for_one_database_share_one_engine(tmp_path: Path) -> None:
    share_gradebook_engines()
    share_gradebook_engines()  # a second call changes nothing
    url = f"sqlite:///{tmp_path / 'gradebook.db'}"
    with Gradebook(url, "course") as first:
        first.add_student("ada")
    with Gradebook(url, "course") as second:
        assert second.engine is first.engine
        assert [s.id for s in second.students] == ["ada"]  # the commit of the first
        second.add_student("ben")
    other = f"sqlite:///{tmp_path / 'other.db'}"
    with Gradebook(other, "course") as third:
        assert third.engine is not first.engine
        assert third.students == []
    with Gradebook(url, "course") as again:
        assert sorted(s.id for s in again.students) == ["ada", "ben"]


@pytest.mark.slow
def test_only_a_few_engines_are_kept(tmp_path: Path) -> None:
    share_gradebook_engines()
    urls = [f"sqlite:///{tmp_path / f'g{n}.db'}" for n in range(6)]
    with Gradebook(urls[0], "course") as first:
        for url in urls[1:]:
            with Gradebook(url, "course"):
                pass
        first.add_student("ada")  # its engine was disposed of: it reconnects
    with Gradebook(urls[0], "course") as again:
        assert again.engine is not first.engine
        assert [s.id for s in again.students] == ["ada"]
