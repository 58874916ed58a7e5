"""Printing from the GUI: preview, save as, print; the saved PDF read back."""

from __future__ import annotations

import re

from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtPrintSupport import QPrinter
from PySide6.QtWidgets import QFileDialog

from db.editing import find_by_reference
from db.formatting import euros
from desktop.print_preview import PrintPreview
from tests.test_printouts import pdf_text


def flat(value: str) -> str:
    return re.sub(r"[\u00a0\u202f\s]+", " ", value)


def save_preview(qtbot, monkeypatch, preview: PrintPreview, path) -> None:
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *args, **kwargs: (str(path), "")))
    qtbot.mouseClick(preview.save_button, Qt.MouseButton.LeftButton)


def test_print_the_plan_from_the_operation_editor(qtbot, window, monkeypatch, tmp_path):
    editor = window.open_operation(find_by_reference(window.db, "operation",
                                                     "FICTIF-DETR-2025-099"))
    qtbot.mouseClick(editor.print_button, Qt.MouseButton.LeftButton)
    preview = editor.last_preview
    assert isinstance(preview, PrintPreview)
    target = tmp_path / "plan.pdf"
    save_preview(qtbot, monkeypatch, preview, target)
    assert preview.document.pageCount() == len(PdfReader(str(target)).pages) >= 1
    content = flat(pdf_text(target))
    assert "Plan de financement" in content and "FICTIF-DETR-2025-099" in content
    assert flat(euros(__import__("decimal").Decimal("192000"))) in content


def test_print_the_filtered_list_from_the_main_window(qtbot, window, monkeypatch, tmp_path):
    window.show_view("operations")
    page = window.pages["operations"]
    page.filters["scheme"].setCurrentIndex(page.filters["scheme"].findData("DSIL"))
    expected = page.model.total
    preview = window.print_current()
    target = tmp_path / "etat.pdf"
    save_preview(qtbot, monkeypatch, preview, target)
    content = flat(pdf_text(target))
    assert "dispositif : DSIL" in content
    assert "financements DSIL uniquement" in content
    # the amounts are the DSIL lines' own, computed here from the database
    from sqlalchemy import func, select

    from db.models import FundingLine, Operation
    with window.db.read() as session:
        granted = session.scalar(
            select(func.sum(FundingLine.amount_granted)).join(Operation)
            .where(FundingLine.scheme_code == "DSIL", FundingLine.status == "accorde",
                   Operation.status != "abandonne", Operation.id.in_(
                       select(FundingLine.operation_id).where(FundingLine.scheme_code == "DSIL"))))
        listed = session.scalar(select(func.count(func.distinct(FundingLine.operation_id)))
                                .join(Operation).where(FundingLine.scheme_code == "DSIL",
                                                       Operation.status != "abandonne"))
    assert expected == listed  # the demo has no abandoned DSIL operation
    assert f"Total ({listed} opérations)" in content
    assert flat(euros(granted)) in content


def test_contract_editor_prints_annex_and_summary_and_the_printer_gets_every_page(
        qtbot, window, tmp_path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QInputDialog

    editor = window.open_contract(find_by_reference(window.db, "contract", "FICTIF-CRTE-591"))
    asked = []

    def choose_the_amendment():
        dialog = QApplication.activeModalWidget()
        try:
            assert isinstance(dialog, QInputDialog)
            asked.append(dialog.comboBoxItems())
            dialog.setTextValue(dialog.comboBoxItems()[1])
            dialog.accept()
        finally:
            if dialog is not None and dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(150, choose_the_amendment)
    qtbot.mouseClick(editor.annex_button, Qt.MouseButton.LeftButton)
    assert asked and asked[0][1] == "L'avenant n° 1 du 3 février 2025"
    annex = editor.last_preview
    dated = tmp_path / "annexe-avenant.pdf"
    dated.write_bytes(annex.pdf)
    content = flat(pdf_text(dated))
    assert "Annexe financière de l'avenant n° 1" in content
    assert "Fait à Avesnes-sur-Helpe, le ……" in content  # later decisions: left blank
    pages = annex.document.pageCount()
    assert pages >= 2
    printer = QPrinter(QPrinter.PrinterMode.ScreenResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(tmp_path / "imprime.pdf"))
    annex.paint(printer)  # what the system print dialog's "Imprimer" does
    assert len(PdfReader(str(tmp_path / "imprime.pdf")).pages) == pages
    qtbot.mouseClick(editor.summary_button, Qt.MouseButton.LeftButton)
    assert editor.last_preview.document.pageCount() == 1


def test_office_identity_is_set_in_the_settings(qtbot, window, tmp_path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QDialogButtonBox

    from db import documents

    def fill():
        dialog = QApplication.activeModalWidget()
        try:
            dialog.prefecture.setText("Préfecture du Nord")
            dialog.sous_prefecture.setText("Sous-préfecture d'Avesnes-sur-Helpe")
            dialog.place.clear()
            qtbot.keyClicks(dialog.place, "Avesnes-sur-Helpe (Nord)")
            buttons = dialog.findChild(QDialogButtonBox)
            qtbot.mouseClick(buttons.button(QDialogButtonBox.StandardButton.Ok),
                             Qt.MouseButton.LeftButton)
        finally:
            if dialog is not None and dialog.isVisible():
                dialog.reject()

    QTimer.singleShot(150, fill)
    window.office_action.trigger()
    assert documents.office(window.db).place == "Avesnes-sur-Helpe (Nord)"
    from printouts.pdf import save
    path = save(documents.annex(window.db, "FICTIF-CRTE-591"), tmp_path / "a.pdf")
    assert "Fait à Avesnes-sur-Helpe (Nord)" in flat(pdf_text(path))
