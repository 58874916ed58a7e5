"""The simulations of an envelope: the candidate funding lines with the amount
proposed, the provisional status, the rate, the DETR priority category and the
commission's opinion; the totals against the envelope follow every keystroke
(kept incrementally by the model, no query); save, apply, undo, export."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QStyledItemDelegate,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db.database import Database
from db.errors import UserError
from db.formatting import euros, percent
from db.parsing import parse_amount
from db.programming.simulations import (
    RETAINED,
    STATUS_LABELS,
    LineEdit,
    SimulationEdit,
    SimulationRow,
    SimulationView,
    Totals,
    apply_simulation,
    create_simulation,
    load_simulation,
    save_simulation,
    simulations_of,
    totals_of,
    undo_simulation,
)
from desktop.fields import DateField
from desktop.writing import run_write

OVER = QColor("#b00020")
(COL_REFERENCE, COL_TITLE, COL_OWNER, COL_BASE, COL_REQUESTED, COL_PROPOSED, COL_RATE,
 COL_STATUS, COL_CATEGORY, COL_OPINION) = range(10)
COLUMNS = [("Référence", 165), ("Opération", 300), ("Maître d'ouvrage", 180),
           ("Dépense subventionnable", 175), ("Demandé", 115), ("Proposé", 115),
           ("Taux", 65), ("Statut provisoire", 115), ("Catégorie prioritaire", 220),
           ("Avis de la commission", 220)]
EDITABLE = {COL_PROPOSED, COL_STATUS, COL_CATEGORY, COL_OPINION}
RIGHT = {COL_BASE, COL_REQUESTED, COL_PROPOSED, COL_RATE}


class SimulationModel(QAbstractTableModel):
    """The rows of one simulation; every edit updates the totals by difference."""

    totals_changed = Signal()
    refused = Signal(str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[SimulationRow] = []
        self.categories: dict[uuid.UUID, str] = {}
        self.totals = Totals(Decimal(0), Decimal(0))
        self.dirty = False
        self.read_only = False

    def set_view(self, view: SimulationView) -> None:
        self.beginResetModel()
        self.rows = view.rows
        self.categories = {c.id: c.label for c in view.categories}
        self.totals = totals_of(view)
        self.read_only = view.applied_at is not None
        self.dirty = False
        self.endResetModel()
        self.totals_changed.emit()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        return None

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        flags = super().flags(index)
        if index.column() in EDITABLE and not self.read_only:
            flags |= Qt.ItemFlag.ItemIsEditable
        return flags

    def text(self, row: SimulationRow, column: int) -> str:
        if column == COL_REFERENCE:
            return row.reference
        if column == COL_TITLE:
            return row.title
        if column == COL_OWNER:
            return row.owner
        if column == COL_BASE:
            return euros(row.base)
        if column == COL_REQUESTED:
            return euros(row.requested)
        if column == COL_PROPOSED:
            return "" if row.proposed is None else euros(row.proposed)
        if column == COL_RATE:
            return percent(row.rate)
        if column == COL_STATUS:
            return STATUS_LABELS[row.status]
        if column == COL_CATEGORY:
            return self.categories.get(row.category_id, "")
        return row.opinion or ""

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, column)
        if role == Qt.ItemDataRole.EditRole:
            if column == COL_PROPOSED:
                return "" if row.proposed is None else euros(row.proposed)[:-2]  # no " €"
            if column == COL_STATUS:
                return row.status
            if column == COL_CATEGORY:
                return row.category_id
            return self.text(row, column)
        if role == Qt.ItemDataRole.TextAlignmentRole and column in RIGHT:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and column == COL_PROPOSED and \
                row.proposed is not None and row.requested is not None and \
                row.proposed > row.requested:
            return QBrush(OVER)
        if role == Qt.ItemDataRole.ToolTipRole and column == COL_PROPOSED and \
                row.proposed is not None and row.requested is not None and \
                row.proposed > row.requested:
            return "Montant proposé supérieur au montant demandé."
        if role == Qt.ItemDataRole.ToolTipRole and column == COL_TITLE:
            return row.title
        return None

    def setData(self, index: QModelIndex, value: Any,  # noqa: N802
                role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole or self.read_only:
            return False
        row = self.rows[index.row()]
        column = index.column()
        if column == COL_PROPOSED:
            try:
                amount = parse_amount(str(value or ""))
            except ValueError as error:
                self.refused.emit(f"Ligne {index.row() + 1}, montant proposé : {error}")
                return False
            if amount is not None and amount < 0:
                self.refused.emit(f"Ligne {index.row() + 1}, montant proposé : il ne peut "
                                  "pas être négatif.")
                return False
            self.totals.add(row, -1)
            row.proposed = amount
            if amount is not None and row.status is None:
                row.status = RETAINED  # an amount typed on a line to examine retains it
            self.totals.add(row)
        elif column == COL_STATUS:
            if value not in STATUS_LABELS:
                return False
            self.totals.add(row, -1)
            row.status = value
            self.totals.add(row)
        elif column == COL_CATEGORY:
            row.category_id = value
        elif column == COL_OPINION:
            row.opinion = str(value or "").strip() or None
        else:
            return False
        self.dirty = True
        self.dataChanged.emit(self.index(index.row(), 0),
                              self.index(index.row(), len(COLUMNS) - 1))
        if column in (COL_PROPOSED, COL_STATUS):
            self.totals_changed.emit()
        return True

    def preview_proposed(self, number: int, typed: str) -> None:
        """What is being typed in the « Proposé » cell, counted in the totals at each
        keystroke (text that is not an amount yet changes nothing)."""
        row = self.rows[number]
        try:
            amount = parse_amount(typed)
        except ValueError:
            return
        if amount is None or amount < 0 or amount == row.proposed:
            return
        self.set_proposed(number, amount, row.status or RETAINED)

    def set_proposed(self, number: int, amount: Decimal | None, status: str | None) -> None:
        row = self.rows[number]
        self.totals.add(row, -1)
        row.proposed = amount
        row.status = status
        self.totals.add(row)
        self.dataChanged.emit(self.index(number, COL_RATE), self.index(number, COL_RATE))
        self.totals_changed.emit()

    def edits(self) -> list[LineEdit]:
        return [LineEdit(r.id, r.proposed, r.status, r.category_id, r.opinion)
                for r in self.rows]


class AmountDelegate(QStyledItemDelegate):
    """The « Proposé » cell: the totals follow each keystroke; Échap puts the amount
    back as it was."""

    def __init__(self, model: SimulationModel, parent: Any = None) -> None:
        super().__init__(parent)
        self.model = model
        self._before: dict[int, Any] = {}
        self.closeEditor.connect(self._closed)

    def createEditor(self, parent: QWidget, option: Any, index: QModelIndex) -> QWidget:  # noqa: N802
        editor = QLineEdit(parent)
        editor.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        number = index.row()
        row = self.model.rows[number]
        self._before[id(editor)] = (number, row.proposed, row.status)
        editor.textEdited.connect(lambda typed: self.model.preview_proposed(number, typed))
        return editor

    def setModelData(self, editor: QWidget, model: Any, index: QModelIndex) -> None:  # noqa: N802
        if not model.setData(index, editor.text(), Qt.ItemDataRole.EditRole):
            self._revert(editor)  # refused: the amount before the edit comes back

    def _revert(self, editor: QWidget) -> None:
        number, proposed, status = self._before.get(id(editor), (None, None, None))
        if number is not None:
            self.model.set_proposed(number, proposed, status)

    def _closed(self, editor: QWidget, hint: Any) -> None:
        if hint == QStyledItemDelegate.EndEditHint.RevertModelCache:
            self._revert(editor)
        self._before.pop(id(editor), None)


class ChoiceDelegate(QStyledItemDelegate):
    """A list to choose the status or the category from."""

    def __init__(self, choices, parent: Any = None) -> None:
        super().__init__(parent)
        self.choices = choices  # callable: [(label, value)]

    def createEditor(self, parent: QWidget, option: Any, index: QModelIndex) -> QWidget:  # noqa: N802
        box = QComboBox(parent)
        for label, value in self.choices():
            box.addItem(label, value)
        return box

    def setEditorData(self, editor: QComboBox, index: QModelIndex) -> None:  # noqa: N802
        editor.setCurrentIndex(max(editor.findData(index.data(Qt.ItemDataRole.EditRole)), 0))

    def setModelData(self, editor: QComboBox, model: Any, index: QModelIndex) -> None:  # noqa: N802
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


class SimulationEditor(QWidget):
    """A window over the simulations of one envelope."""

    changed = Signal()  # funding lines or simulations changed (the page reloads)

    def __init__(self, db: Database, envelope_id: uuid.UUID,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.db = db
        self.envelope_id = envelope_id
        self.view: SimulationView | None = None
        self.setWindowTitle("Simulations de l'enveloppe")
        self.heading = QLabel()
        self.heading.setObjectName("pageTitle")
        self.chooser = QComboBox()
        self.chooser.setAccessibleName("Simulation")
        self.new_button = QPushButton("&Nouvelle simulation…")
        self.new_button.clicked.connect(self.new_simulation)
        self.name = QLineEdit()
        self.name.setAccessibleName("Nom de la simulation")
        self.decision = DateField()
        self.decision.setAccessibleName("Date de décision")
        self.model = SimulationModel(self)
        self.table = QTableView()
        self.table.setAccessibleName("Candidats de la simulation")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.DoubleClicked
                                   | QAbstractItemView.EditTrigger.EditKeyPressed
                                   | QAbstractItemView.EditTrigger.AnyKeyPressed)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(24)
        for column, (_label, width) in enumerate(COLUMNS):
            self.table.setColumnWidth(column, width)
        self.table.setItemDelegateForColumn(COL_PROPOSED, AmountDelegate(self.model, self))
        self.table.setItemDelegateForColumn(COL_STATUS, ChoiceDelegate(
            lambda: [(label, code) for code, label in STATUS_LABELS.items()], self))
        self.table.setItemDelegateForColumn(COL_CATEGORY, ChoiceDelegate(
            lambda: [("(aucune)", None)] + [(label, cid) for cid, label in
                                            self.model.categories.items()], self))
        self.totals = QLabel()
        self.totals.setAccessibleName("Totaux de la simulation")
        self.totals.setWordWrap(True)
        self.message = QLabel()
        self.message.setAccessibleName("Message")
        self.message.setWordWrap(True)
        self.save_button = QPushButton("&Enregistrer")
        self.apply_button = QPushButton("&Appliquer aux financements")
        self.undo_button = QPushButton("Annuler l'a&pplication")
        self.delete_button = QPushButton("&Supprimer la simulation")
        self.categories_button = QPushButton("&Catégories…")
        self.export_xlsx_button = QPushButton("Exporter (&classeur)…")
        self.export_pdf_button = QPushButton("Exporter (P&DF)…")
        self.acts_button = QPushButton("Éditer les ac&tes…")  # issue 13
        self.acts_button.setToolTip("Arrêtés, notifications et lettres de refus des "
                                    "financements de la simulation, en une fois")
        self.acts_button.clicked.connect(self.make_acts)
        close = QPushButton("&Fermer")
        self.save_button.clicked.connect(self.save)
        self.apply_button.clicked.connect(self.apply)
        self.undo_button.clicked.connect(self.undo)
        self.categories_button.clicked.connect(self.edit_categories)
        self.delete_button.clicked.connect(self.delete)
        self.export_xlsx_button.clicked.connect(lambda: self.export("xlsx"))
        self.export_pdf_button.clicked.connect(lambda: self.export("pdf"))
        close.clicked.connect(self.close)
        top = QHBoxLayout()
        top.addWidget(QLabel("Si&mulation"))
        top.itemAt(0).widget().setBuddy(self.chooser)
        top.addWidget(self.chooser, 1)
        top.addWidget(self.new_button)
        top.addSpacing(16)
        caption = QLabel("N&om")
        caption.setBuddy(self.name)
        top.addWidget(caption)
        top.addWidget(self.name, 1)
        top.addWidget(QLabel("Décision du"))
        top.addWidget(self.decision)
        buttons = QHBoxLayout()
        for button in (self.save_button, self.apply_button, self.undo_button,
                       self.categories_button, self.export_xlsx_button,
                       self.export_pdf_button, self.acts_button, self.delete_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.totals)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.model.totals_changed.connect(self.show_totals)
        self.model.refused.connect(self.show_error)
        self.chooser.currentIndexChanged.connect(lambda _i: self._chosen())
        self.resize(1500, 760)
        self.fill_chooser()

    # --- loading --------------------------------------------------------------------------

    def fill_chooser(self, wanted: uuid.UUID | None = None) -> None:
        summaries = simulations_of(self.db, self.envelope_id)
        self.chooser.blockSignals(True)
        self.chooser.clear()
        for summary in summaries:
            state = " (appliquée)" if summary.applied_at else ""
            self.chooser.addItem(f"{summary.name}{state} — {summary.candidates} candidats",
                                 summary.id)
        if wanted is not None:
            self.chooser.setCurrentIndex(max(self.chooser.findData(wanted), 0))
        self.chooser.blockSignals(False)
        self._chosen()

    def _chosen(self) -> None:
        simulation_id = self.chooser.currentData()
        if simulation_id is None:
            self.view = None
            self._show_empty()
            return
        self.load(simulation_id)

    def _show_empty(self) -> None:
        from db.programming.envelopes import envelope_rows

        title = next((f"{r.figures.scheme_label} {r.figures.year} — "
                      f"{r.figures.perimeter_label}" for r in envelope_rows(self.db)
                      if r.figures.envelope_id == self.envelope_id), "")
        self.heading.setText(f"Simulations — {title}")
        self.model.beginResetModel()
        self.model.rows = []
        self.model.endResetModel()
        self.totals.setText("Aucune simulation : « Nouvelle simulation… » en crée une avec "
                            "les candidats de l'enveloppe.")
        for widget in (self.save_button, self.apply_button, self.undo_button,
                       self.export_xlsx_button, self.export_pdf_button, self.name,
                       self.delete_button):
            widget.setEnabled(False)

    def load(self, simulation_id: uuid.UUID) -> None:
        self.view = load_simulation(self.db, simulation_id)
        self.heading.setText(f"Simulation — {self.view.envelope_title}")
        self.name.setText(self.view.name)
        self.decision.setValue(self.view.decision_date)
        self.model.set_view(self.view)
        applied = self.view.applied_at is not None
        self.save_button.setEnabled(not applied)
        self.apply_button.setEnabled(not applied)
        self.undo_button.setEnabled(applied)
        self.name.setEnabled(not applied)
        self.delete_button.setEnabled(not applied)
        self.export_xlsx_button.setEnabled(True)
        self.export_pdf_button.setEnabled(True)
        if applied:
            from db.history.values import utc

            when = utc(self.view.applied_at).astimezone().strftime("%d/%m/%Y à %H:%M")
            self.message.setText(f"Appliquée le {when} par {self.view.applied_by} : annulez "
                                 "l'application pour la modifier.")
            self.message.setStyleSheet("")
        else:
            self.message.clear()

    def show_totals(self) -> None:
        totals = self.model.totals
        self.totals.setText(totals.text())
        self.totals.setStyleSheet(f"color: {OVER.name()}; font-weight: bold;"
                                  if totals.remaining < 0 else "font-weight: bold;")

    def show_error(self, text: str) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(f"color: {OVER.name()};")

    # --- actions --------------------------------------------------------------------------

    def new_simulation(self, name: str | None = None) -> uuid.UUID | None:
        if not name:
            count = self.chooser.count() + 1
            name, ok = QInputDialog.getText(self, "Nouvelle simulation",
                                            "Nom de la simulation :",
                                            text=f"Simulation {count}")
            if not ok:
                return None
        try:
            simulation_id = run_write(self, "Création de la simulation…", lambda: create_simulation(
                self.db, self.envelope_id, name))
        except UserError as error:
            self.show_error(error.message)
            return None
        self.fill_chooser(simulation_id)
        self.changed.emit()
        return simulation_id

    def _edit(self) -> SimulationEdit:
        self.decision.commit()
        return SimulationEdit(self.view.id, self.view.version, self.name.text(),
                              self.decision.value(), self.view.notes, self.model.edits())

    def save(self) -> bool:
        if self.view is None:
            return False
        try:
            edit = self._edit()
            run_write(self, "Enregistrement de la simulation…",
                      lambda: save_simulation(self.db, edit))
        except UserError as error:
            self.show_error(error.message)
            return False
        self.fill_chooser(self.view.id)
        self.message.setText("Simulation enregistrée.")
        self.message.setStyleSheet("")
        return True

    def apply(self) -> bool:
        if self.view is None or (self.model.dirty or self.name.text() != self.view.name) \
                and not self.save():
            return False
        try:
            view = self.view
            count = run_write(self, "Application de la simulation…", lambda: apply_simulation(
                self.db, view.id, view.version))
        except UserError as error:
            self.show_error(error.message)
            return False
        self.fill_chooser(self.view.id)
        self.message.setText(f"Simulation appliquée : {count} financement(s) mis à jour "
                             "(statut, montant accordé, date de décision).")
        self.message.setStyleSheet("")
        self.changed.emit()
        return True

    def undo(self) -> bool:
        if self.view is None:
            return False
        try:
            view = self.view
            count = run_write(self, "Annulation de l'application…", lambda: undo_simulation(
                self.db, view.id, view.version))
        except UserError as error:
            self.show_error(error.message)
            return False
        self.fill_chooser(self.view.id)
        self.message.setText(f"Application annulée : {count} financement(s) remis comme "
                             "avant.")
        self.message.setStyleSheet("")
        self.changed.emit()
        return True

    def delete(self) -> bool:
        from db.programming.simulations import delete_simulation

        if self.view is None:
            return False
        answer = QMessageBox.question(self, "Supprimer la simulation",
                                      f"Supprimer la simulation « {self.view.name} » ? "
                                      "Les financements ne sont pas modifiés.")
        if answer != QMessageBox.StandardButton.Yes:
            return False
        try:
            view = self.view
            run_write(self, "Suppression de la simulation…", lambda: delete_simulation(
                self.db, view.id, view.version))
        except UserError as error:
            self.show_error(error.message)
            return False
        self.fill_chooser()
        self.message.setText("Simulation supprimée.")
        self.message.setStyleSheet("")
        self.changed.emit()
        return True

    def edit_categories(self) -> None:
        from db.programming.simulations import save_categories

        if self.view is None:
            return
        current = "\n".join(self.model.categories.values())
        text, ok = QInputDialog.getMultiLineText(
            self, "Catégories prioritaires",
            f"Catégories DETR du département {self.view.departement_code}, une par ligne, "
            "dans l'ordre de priorité :", current)
        if not ok:
            return
        try:
            code, lines = self.view.departement_code, [
                line for line in text.splitlines() if line.strip()]
            run_write(self, "Enregistrement des catégories…",
                      lambda: save_categories(self.db, code, lines))
        except UserError as error:
            self.show_error(error.message)
            return
        if self.model.dirty and not self.save():
            return
        self.load(self.view.id)

    def export(self, kind: str, path: Path | None = None) -> Path | None:
        from db.programming.exports import export_pdf, export_xlsx

        if self.view is None:
            return None
        if path is None:
            suggested = f"programmation-{self.view.name}.{kind}".replace(" ", "-")
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Exporter pour la commission", suggested,
                "Classeur Excel (*.xlsx)" if kind == "xlsx" else "Document PDF (*.pdf)")
            if not chosen:
                return None
            path = Path(chosen)
        if self.model.dirty and not self.save():
            return None
        from desktop.long_texts import write_checked

        view_id = self.view.id
        try:
            if kind == "xlsx":  # an opinion too long for a cell: split or cancel
                written = write_checked(self, lambda policy: export_xlsx(
                    self.db, view_id, path, long_texts=policy))
            else:
                written = export_pdf(self.db, view_id, path)
        except (UserError, OSError) as error:
            QMessageBox.warning(self, "Export impossible", getattr(error, "message", str(error)))
            return None
        if written is None:
            self.message.setText("Export annulé : aucun fichier écrit.")
            self.message.setStyleSheet("")
            return None
        self.message.setText(f"Exporté : {path}")
        self.message.setStyleSheet("")
        return path

    def make_acts(self) -> None:
        """The acts of the simulation's lines (once applied: granted or refused)."""
        from desktop.acts_tab import run_batch

        run_batch(self, self.db, [row.funding_line_id for row in self.model.rows])
