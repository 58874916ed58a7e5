"""Importing a tracking sheet: choose the sheet and the columns, see every row's fate
(valid, warning, error, duplicate, skipped) before anything is written, then import
the valid rows in one go, or cancel."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt
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
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db.database import Database
from db.errors import UserError
from db.formatting import euros
from db.formatting import number as french_number
from db.money import from_cents
from db.spreadsheets import importer
from desktop.tasks import ProgressRelay, run_with_progress

NOT_USED = -1
COLOURS = {"erreur": "#ce0500", "avertissement": "#b34000", "doublon": "#6b6b6b",
           "ignorée": "#6b6b6b", "valide": "#18753c",
           # dossiers of a Démarches numériques export
           "nouveau": "#18753c", "mise à jour": "#0063cb", "inchangé": "#6b6b6b"}
SHOWN = [("Toutes les lignes", None), ("Erreurs", {"erreur"}),
         ("Avertissements", {"avertissement"}), ("Doublons et lignes ignorées",
                                                 {"doublon", "ignorée"}),
         ("Valides", {"valide", "nouveau", "mise à jour", "inchangé"}),
         ("Dossiers mis à jour", {"mise à jour"})]


def number(value: int) -> str:
    # Qt's text layout breaks lines at the narrow no-break space that French uses
    # between thousands ("39 / 993"); the no-break space keeps a number whole.
    return french_number(value).replace("\u202f", "\u00a0")


class ReportRows(QAbstractTableModel):
    """The fate of every row of the sheet. A model rather than a table of items: a
    100 000-row sheet is shown at once, only the visible rows being drawn."""

    HEADERS = ("Ligne", "État", "Colonne", "Motif")

    def __init__(self) -> None:
        super().__init__()
        self.headers = self.HEADERS
        self.entries: list[tuple[int, str, str, str]] = []
        self.shown: list[tuple[int, str, str, str]] = []
        self.states: set[str] | None = None
        self.colours = {state: QBrush(QColor(colour)) for state, colour in COLOURS.items()}

    def set_entries(self, entries: list[tuple[int, str, str, str]]) -> None:
        self.beginResetModel()
        self.entries = entries
        self._filter()
        self.endResetModel()

    def show_only(self, states: set[str] | None) -> None:
        self.beginResetModel()
        self.states = states
        self._filter()
        self.endResetModel()

    def _filter(self) -> None:
        self.shown = self.entries if self.states is None else [
            e for e in self.entries if e[1] in self.states]

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.shown)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else 4

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self.shown[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return str(entry[index.column()])
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 1:
            return self.colours[entry[1]]
        if role == Qt.ItemDataRole.ToolTipRole and index.column() == 3 and entry[3]:
            return entry[3]  # long reasons are cut in the column
        return None

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return self.headers[section]
        return None


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
        self.form = form = QFormLayout(mapping_box)
        form.addRow("Feuille", self.sheet)
        for name, (label, _) in importer.FIELDS.items():
            box = QComboBox()
            box.setAccessibleName(f"Colonne pour « {label} »")
            box.setMinimumContentsLength(22)
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            self.columns[name] = box
            form.addRow(label, box)
        self.reanalyse_button = QPushButton("&Réanalyser avec ces colonnes")
        self.reanalyse_button.clicked.connect(lambda: self.analyse(use_columns=True))
        form.addRow(self.reanalyse_button)

        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Résumé de l'analyse")
        self.shown = QComboBox()
        self.shown.setAccessibleName("Lignes à afficher")
        for label, states in SHOWN:
            self.shown.addItem(label, states)
        self.shown.currentIndexChanged.connect(self.show_only)
        self.shown_count = QLabel()
        self.fates = ReportRows()
        self.rows = QTableView()
        self.rows.setModel(self.fates)
        self.rows.setAccessibleName("Lignes du tableur et leur sort")
        self.rows.setWordWrap(False)
        self.rows.setAlternatingRowColors(True)
        self.rows.verticalHeader().setDefaultSectionSize(22)
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
        shown = QHBoxLayout()
        shown.addWidget(QLabel("Afficher :"))
        shown.addWidget(self.shown)
        shown.addWidget(self.shown_count)
        shown.addStretch(1)
        right.addLayout(shown)
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
        # The previous report goes first: two reports of a large sheet in memory would
        # double the pause of the final garbage collection (see db.bulk).
        self.report = None
        self.fates.set_entries([])
        self.import_button.setEnabled(False)
        stop = threading.Event()
        relay = ProgressRelay()
        try:
            report = run_with_progress(
                self, f"Analyse du fichier {self.path.name}…",
                lambda: importer.analyse(self.db, self.path, sheet=sheet, mapping=mapping,
                                         cancelled=stop.is_set, progress=relay.report),
                cancel=stop, relay=relay)
        except UserError as error:
            self.summary.setText(f"Analyse impossible : {error.message}")
            QMessageBox.warning(self, "Import impossible", error.message)
            return False
        self.show_report(report)
        return True

    def show_report(self, report: importer.ImportReport) -> None:
        self.report = report
        if hasattr(report, "updates"):  # an export of Démarches numériques
            self._demarches_columns(report.fields)
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
        if hasattr(report, "updates"):
            self.show_dossiers(report, entries)
            return
        self.fates.set_entries(entries)
        self.count_shown()
        totals = report.totals()
        in_error = len({f.row for f in report.errors})
        self.summary.setText(
            f"Feuille « {report.sheet} », en-tête en ligne {report.header_row} : "
            f"{number(report.rows_read)} ligne(s) lue(s), <b>{number(report.valid)} "
            f"valide(s)</b>, {number(in_error)} en erreur, {number(len(report.duplicates))} "
            f"doublon(s), {number(len(report.skipped))} ignorée(s). "
            f"<b>{number(report.imported_operations)} opération(s)</b> à importer : coût "
            f"{euros(from_cents(totals['cost_cents']))}, accordé "
            f"{euros(from_cents(totals['granted_cents']))}. Rien n'est écrit avant "
            "« Importer ».")
        self.import_button.setEnabled(report.imported_operations > 0)
        self.import_button.setText(
            f"&Importer {number(report.imported_operations)} opération(s)")

    # --- Démarches numériques ---------------------------------------------------------------

    def _demarches_columns(self, fields: dict[str, str]) -> None:
        """The columns of a DETR/DSIL form instead of those of a tracking sheet."""
        if set(self.columns) == set(fields):
            return
        for _ in self.columns:
            self.form.removeRow(1)  # row 0 is the sheet
        self.columns = {}
        for position, (name, label) in enumerate(fields.items(), start=1):
            box = QComboBox()
            box.setAccessibleName(f"Colonne pour « {label} »")
            box.setMinimumContentsLength(22)
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            self.columns[name] = box
            self.form.insertRow(position, label, box)
        self.sheet.setEnabled(False)  # the dossiers are on the sheet « Dossiers »
        self.fates.headers = ("Ligne", "État", "Dossier ou colonne", "Détail")

    def show_dossiers(self, report: Any, entries: list[tuple[int, str, str, str]]) -> None:
        """Every dossier: new, updated (with what changes) or unchanged."""
        from db.demarches.importer import PREFIX

        fates = [(planned.rows[0], "nouveau", planned.data.reference, planned.data.title)
                 for planned in report.operations]
        # One line per change: each is read whole, none cut at the column's edge.
        fates += [(update.row, "mise à jour", PREFIX + update.number, change)
                  for update in report.updated for change in update.changes]
        fates += [(update.row, "inchangé", PREFIX + update.number, "")
                  for update in report.updates if not update.changes]
        fates += [(row, "inchangé", PREFIX + dossier, "") for row, dossier in report.unchanged]
        entries = [e for e in entries if e[1] != "valide"] + fates
        # The dossier first, then what is said of it.
        entries.sort(key=lambda e: (e[0], e[1] in ("erreur", "avertissement")))
        self.fates.set_entries(entries)
        self.count_shown()
        unchanged = len(report.updates) - len(report.updated) + len(report.unchanged)
        in_error = len({f.row for f in report.errors})
        cost = from_cents(report.totals()["cost_cents"])
        self.summary.setText(
            f"Export Démarches numériques de la démarche « {report.procedure} » : "
            f"{number(report.rows_read)} dossier(s) lu(s), {number(in_error)} en erreur, "
            f"{number(len(report.duplicates))} en double. <b>{number(len(report.operations))} "
            f"nouveau(x)</b> (coût {euros(cost)}), <b>{number(len(report.updated))} mis à "
            f"jour</b>, {number(unchanged)} inchangé(s). Rien n'est écrit avant "
            "« Importer ».")
        self.import_button.setEnabled(report.writes())
        self.import_button.setText(f"&Importer {number(len(report.operations))} nouveau(x), "
                                   f"{number(len(report.updated))} mise(s) à jour")

    def show_only(self, index: int) -> None:
        self.fates.show_only(self.shown.itemData(index))
        self.count_shown()

    def count_shown(self) -> None:
        self.shown_count.setText(f"{number(self.fates.rowCount())} ligne(s)")

    # --- import ----------------------------------------------------------------------------

    def import_rows(self) -> None:
        if self.report is None or not (self.report.operations
                                       or getattr(self.report, "updates", None)):
            return
        report = self.report
        stop = threading.Event()
        relay = ProgressRelay()
        try:
            batch = run_with_progress(
                self, "Import en cours…",
                lambda: importer.apply(self.db, report, stop.is_set, relay.report),
                cancel=stop, relay=relay)
        except UserError as error:
            QMessageBox.warning(self, "Import refusé", error.message)
            return
        self.batch = str(batch)
        done = (f"{report.imported_operations} opération(s) importée(s)" if not hasattr(
            report, "updates") else f"{number(report.imported_operations)} dossier(s) "
            f"créé(s), {number(len(report.updated))} mis à jour")
        QMessageBox.information(
            self, "Import terminé",
            f"{done} en un seul lot "
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
    from db.demarches.importer import updated_in

    updated = updated_in(db, batch)  # by an export of Démarches numériques
    question = (f"Retirer les {number(count)} opération(s) importée(s) par {login} le "
                f"{at:%d/%m/%Y à %H:%M} ? Elles ne doivent pas avoir été modifiées depuis.")
    if updated:
        question = (f"Annuler l'import du {at:%d/%m/%Y à %H:%M} par {login} : retirer les "
                    f"{number(count)} opération(s) créée(s) et remettre les "
                    f"{number(updated)} opération(s) mise(s) à jour dans leur état "
                    "d'avant ? Elles ne doivent pas avoir été modifiées depuis.")
    answer = QMessageBox.question(parent, "Annuler un import", question)
    if answer != QMessageBox.StandardButton.Yes:
        return None
    try:
        removed = run_with_progress(parent, f"Retrait des {number(count)} opération(s) "
                                            "importées…", lambda: importer.undo(db, batch))
    except UserError as error:
        QMessageBox.warning(parent, "Annulation refusée", error.message)
        return None
    return removed + updated

