"""A text longer than a spreadsheet cell keeps (32 767 characters) is never cut silently:
the export is refused with a French message, or the text split into « … (suite n) »
columns whose pieces concatenate back to the exact text."""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from sqlalchemy import update

from db.editing import find_by_reference
from db.lists import OPERATIONS, Criteria
from db.models import Operation
from db.spreadsheets.export import CELL_LIMIT, SPLIT, LongTextsRefused, export_list
from main import main
from tests.test_programming_exports import simulation  # noqa: F401 (a fixture)

REFERENCE = "FICTIF-DETR-2025-001"
# 40 000 characters, not one repeated letter: a piece out of place would show.
LONG = "".join(f"{i:05d}é" for i in range(40_000 // 6 + 1))[:40_000]


@pytest.fixture
def long_db(demo_db):
    """The service caps a title at 500 characters, but an export must not rely on it (a
    base filled by another tool or an older version): the title is written in SQL."""
    operation_id = find_by_reference(demo_db, "operation", REFERENCE)
    with demo_db.write() as session:
        session.execute(update(Operation).where(Operation.id == operation_id)
                        .values(title=LONG))
    return demo_db


def _xlsx_rows(path) -> list[list]:
    """The cells as stored in the file (calamine reads the xlsx itself), empty → None."""
    frame = pd.read_excel(path, engine="calamine", header=None, dtype=object)
    return [[None if pd.isna(v) else v for v in row] for row in frame.values.tolist()]


def _rebuilt(header: list, row: list, label: str = "Intitulé") -> str:
    """The text of *label* and its continuation columns, concatenated."""
    return "".join(str(value) for name, value in zip(header, row, strict=True)
                   if value is not None and not (isinstance(value, float) and pd.isna(value))
                   and (name == label or str(name).startswith(f"{label} (suite ")))


def test_cli_refuses_and_leaves_an_existing_file_untouched(long_db, demo_path, tmp_path,
                                                           capsys):
    long_db.close()
    target = tmp_path / "operations.xlsx"
    target.write_bytes(b"ancien contenu")
    assert main(["export", "operations", str(target), "--db", str(demo_path)]) == 2
    err = capsys.readouterr().err
    assert "Erreur : Export « operations.xlsx » non écrit" in err
    assert "colonne « Intitulé »" in err and "feuille « operations »" in err
    assert "40\u202f000 caractères" in err or "40 000 caractères" in err
    assert "32\u202f767" in err or "32 767" in err
    assert "--couper-textes-longs" in err and "Traceback" not in err
    assert target.read_bytes() == b"ancien contenu"
    fresh = tmp_path / "nouveau.ods"
    assert main(["export", "operations", str(fresh), "--db", str(demo_path)]) == 2
    assert not fresh.exists()


def test_cli_split_xlsx_concatenates_back(long_db, demo_path, tmp_path, capsys):
    long_db.close()
    target = tmp_path / "operations.xlsx"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no library warning (xlsxwriter's "truncated")
        assert main(["export", "operations", str(target), "--db", str(demo_path),
                     "--couper-textes-longs"]) == 0
    assert "ligne(s) exportée(s)" in capsys.readouterr().out
    rows = _xlsx_rows(target)
    header = rows[0]
    at = header.index("Intitulé")
    assert header[at + 1:at + 3] == ["Intitulé (suite 1)", "Maître d'ouvrage"]
    line = next(r for r in rows if r[0] == REFERENCE)
    assert all(len(v) <= CELL_LIMIT for v in line if isinstance(v, str))
    assert _rebuilt(list(header), line) == LONG
    other = next(r for r in rows[1:] if r[0] != REFERENCE and r[0] and r[1])
    assert other[at + 1] is None  # the short titles stay whole in their column


def test_split_ods_concatenates_back(long_db, tmp_path):
    target = tmp_path / "operations.ods"
    export_list(long_db, OPERATIONS, Criteria(), target, long_texts=SPLIT)
    frame = pd.read_excel(target, engine="odf")
    line = frame[frame["Référence"] == REFERENCE].iloc[0]
    assert _rebuilt(list(frame.columns), list(line)) == LONG


def test_csv_is_checked_too(long_db, tmp_path):
    target = tmp_path / "operations.csv"
    with pytest.raises(LongTextsRefused) as refused:
        export_list(long_db, OPERATIONS, Criteria(), target)
    assert refused.value.found[0].length == 40_000 and not target.exists()


def _when_box(act) -> None:
    def attempt() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            act(box)
        else:
            QTimer.singleShot(20, attempt)

    QTimer.singleShot(0, attempt)


def _click(label: str, seen: list):
    def act(box: QMessageBox) -> None:
        seen.append(box.text())
        button = next(b for b in box.buttons() if b.text() == label)
        button.click()
    return act


@pytest.mark.parametrize("choice", ["Annuler", "Découper en plusieurs cellules"])
def test_gui_asks_before_writing(qtbot, long_db, monkeypatch, tmp_path, choice):
    from desktop.app import make_application
    from desktop.main_window import MainWindow

    make_application()
    window = MainWindow(long_db)
    qtbot.addWidget(window)
    window.show()
    window.show_view("operations")
    target = tmp_path / "mes-operations.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "")))
    seen: list[str] = []
    _when_box(_click(choice, seen))
    window.export_action.trigger()
    assert seen and "non écrit" in seen[0] and "colonne « Intitulé »" in seen[0]
    if choice == "Annuler":
        assert not target.exists()
        assert "aucun fichier écrit" in window.statusBar().currentMessage()
        return
    rows = _xlsx_rows(target)
    line = next(r for r in rows if r[0] == REFERENCE)
    assert _rebuilt(list(rows[0]), line) == LONG
    assert str(target) in window.statusBar().currentMessage()


# --- The commission's workbook: an opinion of the commission has no length limit --------

def _long_opinion(db, simulation_id, reference: str = "OP-2025-B") -> None:
    from db.programming.simulations import (
        LineEdit,
        SimulationEdit,
        load_simulation,
        save_simulation,
    )

    view = load_simulation(db, simulation_id)
    lines = [LineEdit(r.id, r.proposed, r.status, r.category_id,
                      LONG if r.reference == reference else r.opinion) for r in view.rows]
    save_simulation(db, SimulationEdit(view.id, view.version, view.name, None, None, lines))


def test_commission_workbook_refuses_then_splits(db, simulation, tmp_path):  # noqa: F811
    from db.programming.exports import export_xlsx

    simulation_id = simulation
    _long_opinion(db, simulation_id)
    target = tmp_path / "programmation.xlsx"
    with pytest.raises(LongTextsRefused) as refused:
        export_xlsx(db, simulation_id, target)
    # B is programmed (« Programmation ») and above 100 000 € (« Avis de la commission »).
    assert {(f.sheet, f.column, f.record, f.length) for f in refused.value.found} == {
        ("Programmation", "Avis de la commission", "OP-2025-B", 40_000),
        ("Avis de la commission", "Avis de la commission", "OP-2025-B", 40_000)}
    assert "feuille « Programmation »" in refused.value.message
    assert not target.exists()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        export_xlsx(db, simulation_id, target, long_texts=SPLIT)
    book = pd.read_excel(target, sheet_name=None, header=None, engine="calamine",
                         dtype=object)
    for name in ("Programmation", "Avis de la commission"):
        rows = [[None if pd.isna(v) else v for v in row] for row in book[name].values.tolist()]
        header = rows[2]
        assert header[-2:] == ["Avis de la commission", "Avis de la commission (suite 1)"]
        line = next(r for r in rows[3:] if r[1] == "OP-2025-B")
        assert _rebuilt(header, line, "Avis de la commission") == LONG
    others = book["Autres dossiers"]  # no long text there: no continuation column
    assert "Avis de la commission (suite 1)" not in others.iloc[2].tolist()
