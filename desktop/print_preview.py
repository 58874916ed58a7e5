"""Printing: the document is built off the GUI thread, then shown in a preview with
"Enregistrer sous…" and "Imprimer…" (the system's print dialog)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QSize, Qt
from PySide6.QtGui import QKeySequence, QPainter, QShortcut
from PySide6.QtPdf import QPdfDocument
from PySide6.QtPdfWidgets import QPdfView
from PySide6.QtPrintSupport import QPrintDialog, QPrinter
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from db.errors import UserError
from db.text import pages
from desktop.tasks import run_with_progress


class PrintPreview(QDialog):
    def __init__(self, pdf: bytes, title: str, file_name: str, fingerprint: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pdf = pdf
        self.file_name = file_name
        self.setWindowTitle(f"Aperçu — {title}")
        self.resize(1000, 860)
        self._bytes = QByteArray(pdf)
        self._buffer = QBuffer(self._bytes, self)
        self._buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        self.document = QPdfDocument(self)
        self.document.load(self._buffer)
        self.view = QPdfView(self)
        self.view.setAccessibleName("Aperçu du document")
        self.view.setPageMode(QPdfView.PageMode.MultiPage)
        self.view.setZoomMode(QPdfView.ZoomMode.FitToWidth)
        self.view.setDocument(self.document)
        info = QLabel(f"{pages(self.document.pageCount())} — empreinte {fingerprint}")
        self.save_button = QPushButton("&Enregistrer sous…")
        self.print_button = QPushButton("&Imprimer…")
        close = QPushButton("&Fermer")
        self.save_button.clicked.connect(self.save_as)
        self.print_button.clicked.connect(self.print_document)
        close.clicked.connect(self.accept)
        QShortcut(QKeySequence.StandardKey.Print, self, activated=self.print_document)
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save_as)
        buttons = QHBoxLayout()
        buttons.addWidget(info)
        buttons.addStretch(1)
        for button in (self.save_button, self.print_button, close):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(buttons)

    def save_as(self) -> Path | None:
        path, _ = QFileDialog.getSaveFileName(self, "Enregistrer le document", self.file_name,
                                              "Documents PDF (*.pdf)")
        if not path:
            return None
        target = Path(path if path.lower().endswith(".pdf") else f"{path}.pdf")
        try:
            target.write_bytes(self.pdf)
        except OSError as error:
            QMessageBox.warning(self, "Enregistrement impossible",
                                f"Impossible d'écrire {target} : {error.strerror}.")
            return None
        return target

    def print_document(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        self.paint(printer)

    def paint(self, printer: QPrinter) -> None:
        """Each page rendered at the printer's resolution, scaled to its page."""
        painter = QPainter(printer)
        try:
            for index in range(self.document.pageCount()):
                if index:
                    printer.newPage()
                area = painter.viewport()
                points = self.document.pagePointSize(index)
                scale = min(area.width() / points.width(), area.height() / points.height())
                size = QSize(int(points.width() * scale), int(points.height() * scale))
                image = self.document.render(index, size)
                painter.drawImage(QPointF(0, 0), image)
        finally:
            painter.end()


def preview(parent: QWidget, title: str, file_name: str, build: Callable[[], Any]) -> \
        PrintPreview | None:
    """Build the document (database read and PDF) in a worker thread, then preview it."""
    from printouts.pdf import render

    def work() -> tuple[bytes, str]:
        document = build()
        return render(document), document.provenance.fingerprint

    try:
        pdf, fingerprint = run_with_progress(parent, f"Préparation : {title}…", work)
    except UserError as error:
        QMessageBox.warning(parent, "Impression impossible", error.message)
        return None
    dialog = PrintPreview(pdf, title, file_name, fingerprint, parent)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog
