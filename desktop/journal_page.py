"""The « Journal » page: the office's recent changes, newest first, by agent, days,
record and origin; a double click opens the record's editor while it still exists."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from db.database import Database
from db.errors import UserError
from db.history import ORIGIN_LABELS, HistoryRow, agents, journal, record_exists
from desktop.fields import DateField
from desktop.history_tab import ROW_ROLE, HistoryModel, history_view
from desktop.page_set import NavigationPage

JOURNAL_COLUMNS = [("when", "Date", 158), ("login", "Agent", 85), ("origin", "Origine", 110),
                   ("parent", "Fiche", 230), ("record", "Élément", 190),
                   ("change", "Changement", 140), ("old", "Avant", 150), ("new", "Après", 150)]
PAGE = 200  # audit entries read at a time; the next ones when the table scrolls down
_WHAT = {"operation": "L'opération", "contract": "Le contrat", "organisation": "L'organisation",
         "envelope": "L'enveloppe", "simulation": "La simulation",
         "priority_category": "La catégorie prioritaire"}


class JournalPage(NavigationPage):
    title = "Journal"
    activated = Signal(dict)  # {"entity": "operation", "id": "…"}: the editor to open

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self._stale = True
        self._next: int | None = None
        heading = QLabel("Journal des modifications")
        heading.setObjectName("pageTitle")
        self.agent = QComboBox()
        self.agent.setAccessibleName("Agent")
        self.since, self.until = DateField(), DateField()
        self.since.setAccessibleName("Du")
        self.until.setAccessibleName("Au")
        self.record = QLineEdit()
        self.record.setAccessibleName("Fiche")
        self.record.setPlaceholderText("Référence, intitulé ou nom")
        self.record.setClearButtonEnabled(True)
        self.origin = QComboBox()
        self.origin.setAccessibleName("Origine")
        self.origin.addItem("Toutes les origines", "")
        for code, label in ORIGIN_LABELS.items():
            self.origin.addItem(label, code)
        clear = QPushButton("&Tout afficher")
        clear.setToolTip("Retirer tous les filtres")
        clear.clicked.connect(self.clear_filters)
        filters = QHBoxLayout()
        for label, widget in (("&Agent", self.agent), ("&Du", self.since), ("A&u", self.until),
                              ("F&iche", self.record), ("&Origine", self.origin)):
            caption = QLabel(label)
            caption.setBuddy(widget.line if isinstance(widget, DateField) else widget)
            filters.addWidget(caption)
            filters.addWidget(widget, 2 if widget is self.record else 0)
        filters.addWidget(clear)
        self.model = HistoryModel(JOURNAL_COLUMNS, self)
        self.table = history_view(self.model, "Journal des modifications")
        self.table.doubleClicked.connect(self._open)
        self.status = QLabel()
        self.status.setAccessibleName("Nombre de modifications affichées")
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(self.status)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        # Typing a reference reloads once the agent pauses, not at every key.
        self._typing = QTimer(self, singleShot=True, interval=300)
        self._typing.timeout.connect(self.reload)
        self.record.textChanged.connect(lambda _: self._typing.start())
        for box in (self.agent, self.origin):
            box.currentIndexChanged.connect(lambda _: self.reload())
        self.since.changed.connect(self.reload)
        self.until.changed.connect(self.reload)

    # --- page protocol (main window) ----------------------------------------------------

    def focus_search(self) -> None:
        self.record.setFocus()
        self.record.selectAll()

    def set_arrondissement(self, arrondissement: Any = None, reload: bool = True,
                           choices: Any = None) -> None:
        """The journal covers the whole base, whatever the arrondissement."""

    def export(self) -> Path | None:
        """The lines shown (as filtered, as far as the table was scrolled) to a sheet."""
        from db.spreadsheets.export import ExportColumn, export_table
        from desktop.long_texts import tell_cancelled, write_checked

        if not self.model.rows:
            QMessageBox.information(self, "Export", "Aucune ligne à exporter.")
            return None
        path, _ = QFileDialog.getSaveFileName(
            self, "Exporter le journal", "journal.xlsx",
            "Classeur Excel (*.xlsx);;Classeur OpenDocument (*.ods);;CSV (*.csv)")
        if not path:
            return None
        target = Path(path)
        if target.suffix.lower() not in (".xlsx", ".ods", ".csv"):
            target = target.with_suffix(".xlsx")
        columns = [ExportColumn(key, label, width=max(10, width // 7))
                   for key, label, width in JOURNAL_COLUMNS]
        rows = [{key: getattr(row, key) for key, _label, _width in JOURNAL_COLUMNS}
                for row in self.model.rows]
        try:  # a text too long for a cell (a value before or after): split or cancel
            written = write_checked(self, lambda policy: export_table(
                target, columns, rows, sheet="Journal", long_texts=policy))
        except (UserError, OSError) as error:
            QMessageBox.warning(self, "Export impossible", getattr(error, "message", str(error)))
            return None
        if written is None:
            tell_cancelled(self)
            return None
        return target

    def current_row(self) -> dict | None:
        index = self.table.currentIndex()
        row = self.model.data(index, ROW_ROLE) if index.isValid() else None
        return self._target(row) if row is not None else None

    # --- loading --------------------------------------------------------------------------

    def _fill_agents(self) -> None:
        chosen = self.agent.currentData()
        self.agent.blockSignals(True)
        self.agent.clear()
        self.agent.addItem("Tous les agents", "")
        for login in agents(self.db):
            self.agent.addItem(login, login)
        index = self.agent.findData(chosen) if chosen else 0
        self.agent.setCurrentIndex(max(index, 0))
        self.agent.blockSignals(False)

    def _page(self, offset: int) -> list[HistoryRow]:
        page = journal(self.db, agent=self.agent.currentData() or None,
                       since=self.since.value(), until=self.until.value(),
                       record_text=self.record.text().strip() or None,
                       origin=self.origin.currentData() or None, limit=PAGE, offset=offset)
        self._next = page.next_offset
        return page.rows

    def _more(self) -> list[HistoryRow]:
        if self._next is None:
            return []
        rows = self._page(self._next)
        self._show_count(len(self.model.rows) + len(rows))
        if self._next is None:
            self.model.fetch_more = None
        return rows

    def reload(self) -> None:
        self._stale = False
        self._typing.stop()
        if self.agent.count() == 0 or not self.isVisible():
            self._fill_agents()
        rows = self._page(0)
        self.model.set_rows(rows, self._more if self._next is not None else None)
        self._show_count(len(rows))

    def _show_count(self, count: int) -> None:
        more = " (faites défiler pour les précédentes)" if self._next is not None else ""
        self.status.setText(f"{count} ligne{'s' if count > 1 else ''}{more}"
                            if count else "Aucune modification pour ces filtres")

    def clear_filters(self) -> None:
        for widget in (self.agent, self.origin, self.record, self.since, self.until):
            widget.blockSignals(True)
        self.agent.setCurrentIndex(0)
        self.origin.setCurrentIndex(0)
        self.record.clear()
        self.since.setValue(None)
        self.until.setValue(None)
        for widget in (self.agent, self.origin, self.record, self.since, self.until):
            widget.blockSignals(False)
        self.reload()

    # --- opening --------------------------------------------------------------------------

    @staticmethod
    def _target(row: HistoryRow) -> dict | None:
        return {"entity": row.target[0], "id": row.target[1]} if row.target else None

    def _open(self, index: Any) -> None:
        row = self.model.data(index, ROW_ROLE)
        target = self._target(row) if row is not None else None
        if target is None:
            return
        if not record_exists(self.db, target["entity"], target["id"]):
            QMessageBox.information(
                self, "Journal", f"{_WHAT.get(target['entity'], 'La fiche')} n'existe plus : "
                "elle a été supprimée depuis. Son historique reste dans le journal.")
            return
        self.activated.emit(target)
