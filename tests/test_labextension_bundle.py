"""The answer forms' JupyterLab extension: built, fresh, installable without Node, keyless."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

from course.forms.bundle import BUNDLE_DIR, NAME, SOURCE_DIR, source_hash, stamped_hash

from .conftest import ROOT


def test_the_built_bundle_is_fresh_against_its_sources() -> None:
    assert stamped_hash() is not None, "no built bundle: run `make labextension`"
    assert stamped_hash() == source_hash(), (
        "course/labextension is stale: labextension/ changed since it was built; run "
        "`make labextension` and commit course/labextension")


def test_a_changed_source_makes_the_stamp_stale(tmp_path: Path) -> None:
    import shutil

    for name in ("package.json", "tsconfig.json", "src", "style"):
        source = SOURCE_DIR / name
        (shutil.copytree if source.is_dir() else shutil.copy2)(source, tmp_path / name)
    before = source_hash(tmp_path)
    assert before == source_hash()
    (tmp_path / "src" / "index.ts").write_text("// changed\n", encoding="utf-8")
    assert source_hash(tmp_path) != before


def test_the_bundle_is_a_prebuilt_jupyterlab_extension() -> None:
    meta = json.loads((BUNDLE_DIR / "package.json").read_text(encoding="utf-8"))
    assert meta["name"] == NAME
    load = meta["jupyterlab"]["_build"]["load"]
    assert (BUNDLE_DIR / load).is_file()
    assert list((BUNDLE_DIR / "static").glob("*.js"))


def test_the_package_installs_the_bundle_where_jupyterlab_finds_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools = project["tool"]["setuptools"]
    files = setuptools["data-files"]
    target = f"share/jupyter/labextensions/{NAME}"
    assert files[target] == ["course/labextension/package.json"]
    assert files[f"{target}/static"] == ["course/labextension/static/*"]
    assert "labextension/static/*" in setuptools["package-data"]["course"]
    assert "forms/templates/*/*" in setuptools["package-data"]["course"]


def test_the_bundle_holds_no_answer_key_or_hidden_test() -> None:
    from course.notebooks import find_leaks, read_notebook, secret_lines

    text = "\n".join(p.read_text(encoding="utf-8", errors="replace")
                     for p in (BUNDLE_DIR / "static").glob("*"))
    for notebook in sorted((ROOT / "source").glob("*/*.ipynb")):
        assert find_leaks(secret_lines(read_notebook(notebook)), text) == [], notebook
