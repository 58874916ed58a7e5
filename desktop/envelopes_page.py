"""The « Enveloppes » page: the envelopes of a year with their live figures (notified,
demandé, programmé, reste à attribuer, versé, dossiers), their creation and edition,
and the simulations of each."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db.database import Database
from db.errors import UserError
from db.formatting import euros, number
from db.programming.envelopes import (
    EnvelopeData,
    EnvelopeRow,
    envelope_for_edit,
    envelope_rows,
    envelope_years,
    parent_choices,
    perimeter_choices,
    save_envelope,
)
from desktop.fields import AmountField, NotesField
from desktop.page_set import NavigationPage
from desktop.writing import run_write

OVER = QColor("#b00020")
COLUMNS = [("Dotation", 75), ("Année", 50), ("Périmètre", 240), ("Déléguée de", 160),
           ("Notifié", 125), ("Demandé", 125), ("Programmé", 125), ("Reste à attribuer", 130),
           ("Versé", 125), ("Dossiers", 70), ("Simulations", 85)]
MONEY_COLUMNS = {4, 5, 6, 7, 8}


class EnvelopeModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[EnvelopeRow] = []

    def set_rows(self, rows: list[EnvelopeRow]) -> None:
        self.beginResetModel()
        self.rows = rows
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section][0]
        return None

    def cell(self, row: EnvelopeRow, column: int) -> str:
        f = row.figures
        return [f.scheme_label, str(f.year), f.perimeter_label, row.parent_label or "",
                euros(f.amount), euros(f.requested), euros(f.programmed),
                euros(f.remaining), euros(f.paid), number(f.dossiers),
                number(row.simulations)][column]

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell(row, index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole and (
                index.column() in MONEY_COLUMNS or index.column() in (1, 9, 10)):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ForegroundRole and (
                (index.column() == 7 and row.over_programmed)
                or (index.column() == 4 and row.over_delegated)):
            return QBrush(OVER)
        if role == Qt.ItemDataRole.ToolTipRole and row.notes:
            return row.notes
        return None


def problems(rows: list[EnvelopeRow]) -> list[str]:
    """What the page warns about (French)."""
    found = []
    for r in rows:
        title = f"{r.figures.scheme_label} {r.figures.year} — {r.figures.perimeter_label}"
        if r.over_programmed:
            found.append(f"L'enveloppe {title} est programmée au-delà de son montant de "
                         f"{euros(-r.figures.remaining)}.")
        if r.over_delegated:
            found.append(f"Les enveloppes déléguées de {title} dépassent son montant de "
                         f"{euros(r.delegated - r.figures.amount)}.")
    return found


class EnvelopesPage(NavigationPage):
    title = "Enveloppes"

    def __init__(self, db: Database, arrondissement: Any = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.arrondissement = arrondissement
        self._stale = True
        heading = QLabel("Enveloppes")
        heading.setObjectName("pageTitle")
        self.year = QComboBox()
        self.year.setAccessibleName("Année")
        self.scope = QLabel()
        self.new_button = QPushButton("&Nouvelle enveloppe…")
        self.edit_button = QPushButton("&Modifier…")
        self.simulations_button = QPushButton("&Simulations…")
        self.delete_button = QPushButton("S&upprimer")
        self.delete_button.clicked.connect(self.delete_envelope)
        self.new_button.clicked.connect(self.new_envelope)
        self.edit_button.clicked.connect(self.edit_envelope)
        self.simulations_button.clicked.connect(lambda: self.open_simulations())
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addSpacing(16)
        caption = QLabel("&Année")
        caption.setBuddy(self.year)
        top.addWidget(caption)
        top.addWidget(self.year)
        top.addWidget(self.scope, 1)
        for button in (self.new_button, self.edit_button, self.simulations_button,
                       self.delete_button):
            top.addWidget(button)
        self.model = EnvelopeModel(self)
        self.table = QTableView()
        self.table.setAccessibleName("Enveloppes")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        # Each column as wide as its header and figures, the perimeter taking the rest:
        # the eleven columns fit a laptop's screen without scrolling sideways.
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(lambda _index: self.edit_envelope())
        self.warnings = QLabel()
        self.warnings.setAccessibleName("Alertes des enveloppes")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(f"color: {OVER.name()};")
        self.status = QLabel()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.warnings)
        layout.addWidget(self.status)
        self.year.currentIndexChanged.connect(lambda _i: self.reload())
        self.editors: list[QWidget] = []

    # --- page protocol (main window) ----------------------------------------------------

    def focus_search(self) -> None:
        self.table.setFocus()

    def set_arrondissement(self, arrondissement: Any = None, reload: bool = True,
                           choices: Any = None) -> None:
        self.arrondissement = arrondissement
        if reload:
            self.reload()

    def current_row(self) -> dict | None:
        row = self.selected()
        return {"id": row.figures.envelope_id} if row else None

    # The main window's « Nouveau », « Supprimer » and « Imprimer » on this page.

    def new_record(self) -> EnvelopeDialog:
        return self.new_envelope()

    def delete_record(self) -> bool:
        return self.delete_envelope()

    def print_record(self) -> QWidget | None:
        """The commission's document of the selected envelope's simulation (the applied
        one, else the one changed last), in the print preview."""
        from db.programming.exports import commission_printout
        from db.programming.simulations import simulation_to_print
        from desktop.print_preview import PrintPreview
        from desktop.tasks import run_with_progress

        row = self.selected()
        if row is None:
            QMessageBox.information(self, "Impression", "Sélectionnez l'enveloppe dont "
                                    "imprimer la programmation.")
            return None
        f = row.figures
        title = f"{f.scheme_label} {f.year} — {f.perimeter_label}"
        simulation = simulation_to_print(self.db, f.envelope_id)
        if simulation is None:
            QMessageBox.information(
                self, "Impression", f"L'enveloppe {title} n'a pas encore de simulation : "
                "« Simulations… » en crée une avec ses candidats ; sa programmation "
                "s'imprime ensuite pour la commission.")
            return None
        heading = f"Programmation « {simulation.name} » — {title}"
        try:
            pdf, fingerprint = run_with_progress(
                self, f"Préparation : {heading}…",
                lambda: commission_printout(self.db, simulation.id))
        except UserError as error:
            QMessageBox.warning(self, "Impression impossible", error.message)
            return None
        name = f"programmation-{f.scheme_code}-{f.year}-{simulation.name}".replace(" ", "-")
        dialog = PrintPreview(pdf, heading, f"{name}.pdf", fingerprint, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        return dialog

    def show_envelope(self, envelope_id: Any) -> bool:
        """Selects an envelope (the Journal's double click), whatever the year shown."""
        self.reload()
        if all(r.figures.envelope_id != envelope_id for r in self.model.rows):
            self.year.setCurrentIndex(0)  # « Toutes les années »: reloads
        self.select(envelope_id)
        row = self.selected()
        if row is None or row.figures.envelope_id != envelope_id:
            QMessageBox.information(self, "Enveloppes", "Cette enveloppe n'est pas du "
                                    "périmètre suivi (arrondissement et son département).")
            return False
        return True

    def export(self, path: Path | None = None) -> Path | None:
        """The envelopes shown, with their figures, to a sheet (the commission's exports
        are made from a simulation)."""
        from db.spreadsheets.export import ExportColumn, export_table
        from desktop.long_texts import tell_cancelled, write_checked

        if not self.model.rows:
            QMessageBox.information(self, "Export", "Aucune enveloppe à exporter.")
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(
                self, "Exporter les enveloppes", "enveloppes.xlsx",
                "Classeur Excel (*.xlsx);;Classeur OpenDocument (*.ods);;CSV (*.csv)")
            if not chosen:
                return None
            path = Path(chosen)
        if path.suffix.lower() not in (".xlsx", ".ods", ".csv"):
            path = path.with_suffix(".xlsx")
        keys = ["scheme", "year", "perimeter", "parent", "amount", "requested", "programmed",
                "remaining", "paid", "dossiers", "simulations"]
        columns = [ExportColumn(key, label, "money" if index in MONEY_COLUMNS else
                                "int" if key in ("year", "dossiers", "simulations") else "text",
                                max(10, width // 7))
                   for index, (key, (label, width)) in enumerate(zip(keys, COLUMNS,
                                                                     strict=True))]
        rows = [{"scheme": r.figures.scheme_label, "year": r.figures.year,
                 "perimeter": r.figures.perimeter_label, "parent": r.parent_label or "",
                 "amount": r.figures.amount, "requested": r.figures.requested,
                 "programmed": r.figures.programmed, "remaining": r.figures.remaining,
                 "paid": r.figures.paid, "dossiers": r.figures.dossiers,
                 "simulations": r.simulations} for r in self.model.rows]
        try:  # a text too long for a cell: split or cancel
            written = write_checked(self, lambda policy: export_table(
                path, columns, rows, sheet="Enveloppes", long_texts=policy))
        except (UserError, OSError) as error:
            QMessageBox.warning(self, "Export impossible", getattr(error, "message", str(error)))
            return None
        if written is None:
            tell_cancelled(self)
            return None
        return path

    # --- loading --------------------------------------------------------------------------

    def _fill_years(self) -> None:
        chosen = self.year.currentData()
        years = sorted(set(envelope_years(self.db)) | {date.today().year}, reverse=True)
        self.year.blockSignals(True)
        self.year.clear()
        self.year.addItem("Toutes les années", None)
        for year in years:
            self.year.addItem(str(year), year)
        if chosen is None and self.year.count() > 1:
            # The latest year that has envelopes (the demo's 2025), else this year.
            with_envelopes = envelope_years(self.db)
            chosen = with_envelopes[0] if with_envelopes else date.today().year
        index = self.year.findData(chosen)
        self.year.setCurrentIndex(max(index, 0))
        self.year.blockSignals(False)

    def reload(self) -> None:
        self._stale = False
        if self.year.count() == 0:
            self._fill_years()
        code = self.arrondissement.code if self.arrondissement else None
        rows = envelope_rows(self.db, year=self.year.currentData(), arrondissement=code)
        selected = self.selected()
        self.model.set_rows(rows)
        if selected is not None:
            self.select(selected.figures.envelope_id)
        self.scope.setText(f"  {self.arrondissement.name} et son département"
                           if self.arrondissement else "  Toutes les enveloppes de la base")
        found = problems(rows)
        self.warnings.setText("\n".join(found))
        self.warnings.setVisible(bool(found))
        count = len(rows)
        self.status.setText(f"{count} enveloppe{'s' if count > 1 else ''}" if count else
                            "Aucune enveloppe pour cette année : « Nouvelle enveloppe… » "
                            "en crée une.")

    def selected(self) -> EnvelopeRow | None:
        index = self.table.currentIndex()
        return self.model.rows[index.row()] if index.isValid() else None

    def select(self, envelope_id: Any) -> None:
        for number_, row in enumerate(self.model.rows):
            if row.figures.envelope_id == envelope_id:
                self.table.selectRow(number_)
                return

    # --- actions --------------------------------------------------------------------------

    def new_envelope(self) -> EnvelopeDialog:
        dialog = EnvelopeDialog(self.db, None, self, arrondissement=self.arrondissement,
                                year=self.year.currentData())
        dialog.saved.connect(self._saved)
        dialog.open()
        return dialog

    def edit_envelope(self) -> EnvelopeDialog | None:
        row = self.selected()
        if row is None:
            QMessageBox.information(self, "Enveloppes", "Choisissez d'abord une enveloppe.")
            return None
        dialog = EnvelopeDialog(self.db, row.figures.envelope_id, self)
        dialog.saved.connect(self._saved)
        dialog.open()
        return dialog

    def _saved(self, envelope_id: Any) -> None:
        self.year.clear()  # a new year may have appeared
        self.reload()
        self.select(envelope_id)

    def delete_envelope(self) -> bool:
        from db.programming.envelopes import delete_envelope

        row = self.selected()
        if row is None:
            QMessageBox.information(self, "Enveloppes", "Choisissez d'abord une enveloppe.")
            return False
        f = row.figures
        title = f"{f.scheme_label} {f.year} — {f.perimeter_label}"
        more = (f" et ses {row.simulations} simulation(s)" if row.simulations else "")
        answer = QMessageBox.question(self, "Supprimer l'enveloppe",
                                      f"Supprimer l'enveloppe {title}{more} ? Les financements "
                                      "ne sont pas modifiés.")
        if answer != QMessageBox.StandardButton.Yes:
            return False
        try:
            run_write(self, "Suppression de l'enveloppe…",
                      lambda: delete_envelope(self.db, f.envelope_id, row.version))
        except UserError as error:
            QMessageBox.warning(self, "Suppression refusée", error.message)
            return False
        self.reload()
        return True

    def open_simulations(self, simulation_id: Any = None) -> QWidget | None:
        """The simulations of the selected envelope (on *simulation_id* if given)."""
        from desktop.simulation_editor import SimulationEditor  # not on the start-up path

        row = self.selected()
        if row is None:
            QMessageBox.information(self, "Simulations", "Choisissez d'abord une enveloppe.")
            return None
        editor = SimulationEditor(self.db, row.figures.envelope_id)
        if simulation_id is not None:
            editor.fill_chooser(simulation_id)
        editor.changed.connect(self.reload)
        self.editors.append(editor)
        editor.show()
        return editor


class EnvelopeDialog(QDialog):
    """Create or edit an envelope; the service's refusals are shown in the dialog."""

    saved = Signal(object)

    def __init__(self, db: Database, envelope_id: Any, parent: QWidget | None = None, *,
                 arrondissement: Any = None, year: int | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setWindowTitle("Nouvelle enveloppe" if envelope_id is None
                            else "Modifier l'enveloppe")
        self.choices = perimeter_choices(db)
        self.data = (envelope_for_edit(db, envelope_id) if envelope_id is not None else
                     EnvelopeData("DETR", year or date.today().year, None,
                                  arrondissement_code=arrondissement.code
                                  if arrondissement else None,
                                  departement_code=None if arrondissement else "59"))
        self.scheme = QComboBox()
        self.scheme.setAccessibleName("Dotation")
        for code, label in self.choices.schemes:
            self.scheme.addItem(label, code)
        self.scheme.setCurrentIndex(max(self.scheme.findData(self.data.scheme_code), 0))
        self.year = QSpinBox()
        self.year.setAccessibleName("Année")
        self.year.setRange(2000, 2100)
        self.year.setValue(self.data.year)
        self.by_departement = QRadioButton("&Département")
        self.by_arrondissement = QRadioButton("A&rrondissement")
        self.departement = QComboBox()
        self.departement.setAccessibleName("Département")
        for code, label in self.choices.departements:
            self.departement.addItem(label, code)
        self.arrondissement = QComboBox()
        self.arrondissement.setAccessibleName("Arrondissement")
        for code, label, _dep in self.choices.arrondissements:
            self.arrondissement.addItem(label, code)
        if self.data.arrondissement_code:
            self.by_arrondissement.setChecked(True)
            self.arrondissement.setCurrentIndex(
                max(self.arrondissement.findData(self.data.arrondissement_code), 0))
            departement = next((dep for code, _label, dep in self.choices.arrondissements
                                if code == self.data.arrondissement_code), None)
            self.departement.setCurrentIndex(max(self.departement.findData(departement), 0))
        else:
            self.by_departement.setChecked(True)
            self.departement.setCurrentIndex(
                max(self.departement.findData(self.data.departement_code or "59"), 0))
        self.amount = AmountField()
        self.amount.setAccessibleName("Montant notifié")
        self.amount.setPlaceholderText("obligatoire")
        self.amount.setValue(self.data.amount)
        self.parent_box = QComboBox()
        self.parent_box.setAccessibleName("Déléguée de")
        self.notes = NotesField(lines=3)
        self.notes.setAccessibleName("Notes")
        self.notes.setText(self.data.notes or "")
        self.error = QLabel()
        self.error.setAccessibleName("Erreur")
        self.error.setWordWrap(True)
        self.error.setStyleSheet(f"color: {OVER.name()};")
        self.error.hide()
        perimeter = QHBoxLayout()
        perimeter.addWidget(self.by_departement)
        perimeter.addWidget(self.departement, 1)
        perimeter.addWidget(self.by_arrondissement)
        perimeter.addWidget(self.arrondissement, 1)
        form = QFormLayout()
        form.addRow("Dota&tion", self.scheme)
        form.addRow("A&nnée", self.year)
        form.addRow("Périmètre", perimeter)
        form.addRow("&Montant notifié", self.amount)
        form.addRow("Dé&léguée de", self.parent_box)
        form.addRow("N&otes", self.notes)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Save).setText("&Enregistrer")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.resize(720, self.sizeHint().height())
        for widget in (self.scheme, self.arrondissement):
            widget.currentIndexChanged.connect(lambda _i: self._fill_parents())
        self.year.valueChanged.connect(lambda _v: self._fill_parents())
        self.by_arrondissement.toggled.connect(lambda _c: self._perimeter_changed())
        self._perimeter_changed()

    def _perimeter_changed(self) -> None:
        by_arrondissement = self.by_arrondissement.isChecked()
        self.arrondissement.setEnabled(by_arrondissement)
        self.departement.setEnabled(not by_arrondissement)
        self._fill_parents()

    def _fill_parents(self) -> None:
        self.parent_box.clear()
        self.parent_box.addItem("(aucune)", None)
        if self.by_arrondissement.isChecked():
            for choice in parent_choices(self.db, self.scheme.currentData(), self.year.value(),
                                         self.arrondissement.currentData()):
                self.parent_box.addItem(choice.label, choice.id)
        wanted = self.data.parent_id
        if wanted is None and self.data.id is None and self.parent_box.count() > 1:
            wanted = self.parent_box.itemData(1)  # a new envelope: its département's
        self.parent_box.setCurrentIndex(max(self.parent_box.findData(wanted), 0))
        self.parent_box.setEnabled(self.by_arrondissement.isChecked())

    def values(self) -> EnvelopeData:
        self.amount.commit()
        by_arrondissement = self.by_arrondissement.isChecked()
        return EnvelopeData(
            scheme_code=self.scheme.currentData(), year=self.year.value(),
            amount=self.amount.value(),
            departement_code=None if by_arrondissement else self.departement.currentData(),
            arrondissement_code=self.arrondissement.currentData() if by_arrondissement
            else None,
            parent_id=self.parent_box.currentData() if by_arrondissement else None,
            notes=self.notes.text(), id=self.data.id, version=self.data.version)

    def save(self) -> None:
        try:
            values = self.values()
            result = run_write(self, "Enregistrement de l'enveloppe…",
                               lambda: save_envelope(self.db, values))
        except UserError as error:
            self.error.setText(error.message)
            self.error.show()
            return
        self.saved.emit(result.id)
        self.accept()
