"""Acts from the GUI (issue 13): « Éditer un acte… » in the « Actes » tab of the
operation editor, and « Éditer les actes… » on the filtered Financements list, driven
with real widgets; the files written read back."""

from __future__ import annotations

import os
import re
from pathlib import Path

from pypdf import PdfReader
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QFileDialog
from sqlalchemy import func, select

from db.acts.generate import COMBINED_NAME, filtered_lines
from db.editing import find_by_reference
from db.models import Act
from desktop.acts_tab import ActDialog, BatchDialog

SHOTS = Path(os.environ.get("ACTS_SHOTS", "/tmp/acts_shots"))


def _flat(text: str) -> str:
    return re.sub(r"[\u00a0\u202f\s]+", " ", text)


def _when_modal(kind: type, act) -> None:
    """Fill the modal dialog of *kind* once it shows (exec() blocks the test)."""
    def attempt() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, kind):
            act(dialog)
        else:
            QTimer.singleShot(20, attempt)

    QTimer.singleShot(0, attempt)


def test_make_a_notification_from_the_operation_editor(qtbot, window, monkeypatch, tmp_path):
    editor = window.open_operation(find_by_reference(window.db, "operation",
                                                     "FICTIF-DETR-2025-099"))
    editor.tabs.setCurrentWidget(editor.acts)
    assert editor.acts.table.rowCount() == 0
    assert "Aucun acte édité" in editor.acts.message.text()
    target = tmp_path / "notification.pdf"
    asked = []

    def save_name(*args, **kwargs):
        asked.append(args[2])
        return str(target), ""

    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_name))

    def choose(dialog: ActDialog) -> None:
        assert dialog.line.count() == 1 and dialog.line.currentText().startswith("DETR — accordé")
        dialog.kind.setCurrentIndex(dialog.kind.findText("Lettre de notification"))
        assert not dialog.reason.isEnabled()  # a reason is for a refusal only
        dialog.format.setCurrentIndex(dialog.format.findData("pdf"))
        dialog.accept()

    _when_modal(ActDialog, choose)
    qtbot.mouseClick(editor.acts.make_button, Qt.MouseButton.LeftButton)
    assert asked == ["FICTIF-DETR-2025-099_notification.pdf"]
    text = _flat("\n".join(p.extract_text() for p in PdfReader(str(target)).pages))
    assert "192 000,00 € (cent quatre-vingt-douze mille euros)" in text
    assert "au plus tard le 19 mai 2027" in text
    table = editor.acts.table
    assert table.rowCount() == 1
    cells = [table.item(0, column).text() for column in range(table.columnCount())]
    with window.db.read() as session:
        act = session.scalar(select(Act))
    assert cells == ["DETR", "Lettre de notification", cells[2], "1", act.fingerprint,
                     "non signé"]
    assert f"empreinte {act.fingerprint}" in text
    assert act.fingerprint in editor.acts.message.text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    editor.resize(1200, 760)
    editor.grab().save(str(SHOTS / "onglet_actes.png"))


def test_batch_from_the_filtered_funding_lines(qtbot, window, tmp_path):
    window.show_view("funding_lines")
    page = window.pages["funding_lines"]
    page.filters["scheme"].setCurrentIndex(page.filters["scheme"].findData("FONDS_VERT"))
    lines = filtered_lines(window.db, page.criteria())
    assert len(lines) == page.model.total == 4  # the demo's refused Fonds vert lines
    out = tmp_path / "actes"
    out.mkdir()

    def choose(dialog: BatchDialog) -> None:
        assert dialog.kind.currentData() == "auto"
        dialog.formats["docx"].setChecked(True)
        dialog.folder.setText(str(out))
        dialog.grab().save(str(SHOTS / "lot_actes.png"))
        dialog._accept()

    SHOTS.mkdir(parents=True, exist_ok=True)
    _when_modal(BatchDialog, choose)
    qtbot.mouseClick(page.acts_button, Qt.MouseButton.LeftButton)
    names = sorted(p.name for p in out.iterdir())
    assert len([n for n in names if n.endswith("_refus.pdf")]) == 4
    assert len([n for n in names if n.endswith("_refus.docx")]) == 4
    assert COMBINED_NAME in names and len(names) == 9
    assert len(PdfReader(str(out / COMBINED_NAME)).pages) == 4
    outcome = page._acts_outcome.text()
    assert outcome.startswith(f"4 acte(s) édité(s) dans {out}.")
    with window.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Act)) == 4


def test_batch_from_the_simulation_editor(qtbot, window, tmp_path):
    from db.models import FundingLine
    from tests.test_programming_gui import envelopes_page, row_of

    page = envelopes_page(qtbot, window)
    page.table.selectRow(row_of(page, "Arrondissement d'Avesnes-sur-Helpe"))
    qtbot.mouseClick(page.simulations_button, Qt.MouseButton.LeftButton)
    editor = page.editors[-1]
    qtbot.addWidget(editor)
    editor.new_simulation("Commission du 20 mars")
    line_ids = [row.funding_line_id for row in editor.model.rows]
    with window.db.read() as session:
        statuses = [session.get(FundingLine, i).status for i in line_ids]
    expected = 2 * statuses.count("accorde") + statuses.count("refuse")
    assert expected > 0
    out = tmp_path / "actes"
    out.mkdir()

    def choose(dialog: BatchDialog) -> None:
        dialog.folder.setText(str(out))
        dialog._accept()

    _when_modal(BatchDialog, choose)
    qtbot.mouseClick(editor.acts_button, Qt.MouseButton.LeftButton)
    pdfs = [p for p in out.glob("*.pdf") if p.name != COMBINED_NAME]
    assert len(pdfs) == expected
    assert editor._acts_outcome.text().startswith(f"{expected} acte(s) édité(s)")
    with window.db.read() as session:
        assert session.scalar(select(func.count()).select_from(Act)) == expected
