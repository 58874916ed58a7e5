"""Importing a tracking sheet: choose the sheet and the columns, see every row's fate
(valid, warning, error, duplicate, skipped) before anything is written, then import
the valid rows in one go, or cancel."""

from __future__ import annotations

import threading
from pathlib import Path

from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db.database import Database
from db.errors import UserError
from db.formatting import euros
from db.money import from_cents
from db.spreadsheets import importer
from desktop.tasks import run_with_progress

NOT_USED = -1
COLOURS = {"erreur": "#ce0500", "avertissement": "#b34000", "doublon": "#6b6b6b",
           "ignorée": "#6b6b6b", "valide": "#18753c"}


class ImportDialog(QDialog):
    def __init__(self, db: Database, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.path = path
        self.report: importer.ImportReport | None = None
        self.batch: str | None = None
        self.setWindowTitle(f"Importer — {path.name}")
        self.resize(1150, 780)

        self.sheet = QComboBox()
        self.sheet.setAccessibleName("Feuille à importer")
        self.columns: dict[str, QComboBox] = {}
        mapping_box = QGroupBox("Correspondance des colonnes")
        form = QFormLayout(mapping_box)
        form.addRow("Feuille", self.sheet)
        for name, (label, _) in importer.FIELDS.items():
            box = QComboBox()
            box.setAccessibleName(f"Colonne pour « {label} »")
            self.columns[name] = box
            form.addRow(label, box)
        self.reanalyse_button = QPushButton("&Réanalyser avec ces colonnes")
        self.reanalyse_button.clicked.connect(lambda: self.analyse(use_columns=True))
        form.addRow(self.reanalyse_button)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Résumé de l'analyse")
        self.rows = QTableWidget(0, 4)
        self.rows.setHorizontalHeaderLabels(["Ligne", "État", "Colonne", "Motif"])
        self.rows.setAccessibleName("Lignes du tableur et leur sort")
        self.rows.verticalHeader().setVisible(False)
        self.rows.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rows.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        for column, width in enumerate((60, 110, 150)):
            self.rows.setColumnWidth(column, width)
        self.import_button = QPushButton("&Importer les lignes valides")
        cancel = QPushButton("&Annuler")
        self.import_button.clicked.connect(self.import_rows)
        cancel.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.import_button)
        for button in (self.reanalyse_button, self.import_button, cancel):
            button.setAutoDefault(False)
        right = QVBoxLayout()
        right.addWidget(self.summary)
        right.addWidget(self.rows, 1)
        layout = QHBoxLayout()
        layout.addWidget(mapping_box)
        layout.addLayout(right, 1)
        outer = QVBoxLayout(self)
        outer.addLayout(layout, 1)
        outer.addLayout(buttons)
        self.sheet.currentIndexChanged.connect(lambda _: self.analyse(use_columns=False))

    # --- analysis ------------------------------------------------------------------------

    def analyse(self, use_columns: bool = False) -> bool:
        sheet = self.sheet.currentText() or None
        mapping = None
        if use_columns:
            mapping = {name: box.currentData() for name, box in self.columns.items()
                       if box.currentData() not in (None, NOT_USED)}
        stop = threading.Event()
        try:
            report = run_with_progress(
                self, f"Analyse de {self.path.name}…",
                lambda: importer.analyse(self.db, self.path, sheet=sheet, mapping=mapping,
                                         cancelled=stop.is_set), cancel=stop)
        except UserError as error:
            QMessageBox.warning(self, "Import impossible", error.message)
            return False
        self.show_report(report)
        return True

    def show_report(self, report: importer.ImportReport) -> None:
        self.report = report
        self.sheet.blockSignals(True)
        self.sheet.clear()
        self.sheet.addItems(report.sheets)
        self.sheet.setCurrentText(report.sheet)
        self.sheet.blockSignals(False)
        for name, box in self.columns.items():
            box.clear()
            box.addItem("(non utilisée)", NOT_USED)
            for index, label in enumerate(report.labels):
                if label:
                    box.addItem(label, index)
            chosen = report.mapping.get(name, NOT_USED)
            box.setCurrentIndex(max(box.findData(chosen), 0))
        entries = ([(f.row, "erreur", f.column, f.message) for f in report.errors]
                   + [(f.row, "avertissement", f.column, f.message) for f in report.warnings]
                   + [(row, "doublon", "", "ligne identique à une ligne précédente")
                      for row in report.duplicates]
                   + [(s["row"], "ignorée", "", s["reason"]) for s in report.skipped])
        shown = {row for row, *_ in entries}
        entries += [(row, "valide", "", "") for op in report.operations for row in op.rows
                    if row not in shown]
        entries.sort(key=lambda e: (e[0], e[1]))
        self.rows.setRowCount(len(entries))
        for r, (row, state, column, message) in enumerate(entries):
            for c, value in enumerate((str(row), state, column, message)):
                item = QTableWidgetItem(value)
                if c == 1:
                    item.setForeground(QBrush(QColor(COLOURS[state])))
                self.rows.setItem(r, c, item)
        totals = report.totals()
        self.summary.setText(
            f"Feuille « {report.sheet} », en-tête en ligne {report.header_row} : "
            f"{report.rows_read} ligne(s) lue(s), <b>{report.valid} valide(s)</b>, "
            f"{len(report.errors)} erreur(s), {len(report.duplicates)} doublon(s), "
            f"{len(report.skipped)} ignorée(s). <b>{report.imported_operations} opération(s)"
            f"</b> à importer : coût {euros(from_cents(totals['cost_cents']))}, accordé "
            f"{euros(from_cents(totals['granted_cents']))}. Rien n'est écrit avant "
            "« Importer ».")
        self.import_button.setEnabled(report.imported_operations > 0)
        self.import_button.setText(f"&Importer {report.imported_operations} opération(s)")

    # --- import ----------------------------------------------------------------------------

    def import_rows(self) -> None:
        if self.report is None or not self.report.operations:
            return
        report = self.report
        stop = threading.Event()
        try:
            batch = run_with_progress(self, "Import en cours…",
                                      lambda: importer.apply(self.db, report, stop.is_set),
                                      cancel=stop)
        except UserError as error:
            QMessageBox.warning(self, "Import refusé", error.message)
            return
        self.batch = str(batch)
        QMessageBox.information(
            self, "Import terminé",
            f"{report.imported_operations} opération(s) importée(s) en un seul lot "
            f"({self.batch[:8]}…). Menu Fichier › Annuler un import… pour le retirer en "
            "une fois.")
        self.accept()


def undo_last_import(db: Database, parent: QWidget) -> int | None:
    """Offer to remove the latest import as a whole."""
    found = importer.batches(db)
    if not found:
        QMessageBox.information(parent, "Annuler un import", "Aucun import à annuler.")
        return None
    batch, at, login, count = found[-1]
    answer = QMessageBox.question(
        parent, "Annuler un import",
        f"Retirer les {count} opération(s) importée(s) par {login} le "
        f"{at:%d/%m/%Y à %H:%M} ? Elles ne doivent pas avoir été modifiées depuis.")
    if answer != QMessageBox.StandardButton.Yes:
        return None
    try:
        removed = importer.undo(db, batch)
    except UserError as error:
        QMessageBox.warning(parent, "Annulation refusée", error.message)
        return None
    return removed

