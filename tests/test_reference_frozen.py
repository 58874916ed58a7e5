"""db.reference finds its files inside the PyInstaller bundle (suivi-contrats.spec)."""

from __future__ import annotations

import sys
from pathlib import Path

from db import reference

SOURCE = Path(__file__).resolve().parent.parent / "resources"


def _bundle_with_renamed_nord(root: Path) -> Path:
    """A bundle's internal folder holding a copy of departements.csv in which the Nord
    has another name: what is read tells which file was opened."""
    target = root / "resources" / "cog" / reference.COG_MILLESIME
    target.mkdir(parents=True)
    text = (SOURCE / "cog" / reference.COG_MILLESIME / "departements.csv").read_text(
        encoding="utf-8")
    assert ";Nord;" in text
    (target / "departements.csv").write_text(text.replace(";Nord;", ";Nord du paquet;"),
                                             encoding="utf-8")
    return root


def test_frozen_app_reads_resources_from_its_bundle(tmp_path, monkeypatch):
    bundle = _bundle_with_renamed_nord(tmp_path)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)

    assert reference.resource("cog") == bundle / "resources" / "cog"
    assert reference.of_departement("59") == "du Nord du paquet"


def test_source_tree_ignores_a_stray_meipass(tmp_path, monkeypatch):
    # Only a frozen app has its files in _MEIPASS; a variable left by another tool in a
    # development interpreter must not send it there.
    bundle = _bundle_with_renamed_nord(tmp_path)
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)

    assert reference.resource("cog") == SOURCE / "cog"
    assert reference.of_departement("59") == "du Nord"
