"""The « Échéances » page: what falls due in the arrondissement (db.deadlines), by
horizon, nature, contract, dispositif and EPCI; exports to a calendar, a spreadsheet
and a PDF; a double click opens the operation or the contract."""

from __future__ import annotations

import uuid
from datetime import date
from pathlib import Path
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QRunnable, Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from shiboken6 import isValid

from db.database import Database
from db.deadlines import KIND_LABELS, Deadline, Notice
from db.deadlines.compute import contract_choices
from db.deadlines.exports import Selection, select_deadlines
from db.errors import UserError
from db.formatting import euros, number, short_date
from desktop import deadline_notice
from desktop.filter_boxes import ALL, FilterBox, FilterChoices
from desktop.page_set import NavigationPage
from desktop.tasks import _Signals

# label, days (None: every deadline), overdue only
HORIZONS = [("En retard", 0, True), ("30 jours", 30, False), ("60 jours", 60, False),
            ("90 jours", 90, False), ("Tout", None, False)]
DEFAULT_HORIZON = 3  # 90 jours
COLUMNS = [("due", "Échéance", 90), ("delay", "Délai", 150), ("kind", "Nature", 220),
           ("reference", "Référence", 170), ("label", "Objet", 360),
           ("scheme", "Dispositif", 90), ("amount", "Montant", 120)]
RED = QColor("#ce0500")
ROW_ROLE = Qt.ItemDataRole.UserRole + 2


class DeadlineModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.rows: list[Deadline] = []
        self.today = date.today()

    def set_rows(self, rows: list[Deadline], today: date) -> None:
        self.beginResetModel()
        self.rows, self.today = rows, today
        self.endResetModel()

    def rowCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][1]
        return None

    def text(self, row: Deadline, key: str) -> str:
        if key == "due":
            return short_date(row.due)
        if key == "delay":
            return row.delay(self.today)
        if key == "kind":
            return row.kind_label
        if key == "reference":
            return row.reference
        if key == "label":
            return row.label.split(" — ", 1)[-1]
        if key == "scheme":
            return row.scheme_label or ""
        return euros(row.amount) if row.amount is not None else ""

    def data(self, index: QModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, key = self.rows[index.row()], COLUMNS[index.column()][0]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, key)
        if role == Qt.ItemDataRole.ToolTipRole:  # the whole title and what to do
            return f"{row.label}\n{row.detail}"
        if role == Qt.ItemDataRole.ForegroundRole and row.overdue and key in ("delay", "due"):
            return RED
        if role == Qt.ItemDataRole.TextAlignmentRole and key == "amount":
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == ROW_ROLE:
            return row
        return None


class _Reader(QRunnable):
    """desktop.tasks._Job, but quiet when the page (and the signals) went away while it
    was reading, e.g. the window closed."""

    def __init__(self, work) -> None:
        super().__init__()
        self.work = work
        self.signals = _Signals()

    def run(self) -> None:
        try:
            result = self.work()
        except BaseException as error:  # handed over to the GUI thread
            outcome, value = "failed", error
        else:
            outcome, value = "finished", result
        try:
            getattr(self.signals, outcome).emit(value)
        except RuntimeError:  # the signals' object is deleted: nobody to tell
            pass


class DeadlinesPage(NavigationPage):
    title = "Échéances"
    activated = Signal(dict)  # {"entity": "operation" | "contract", "id": UUID}

    def __init__(self, db: Database, arrondissement: Any = None,
                 choices: FilterChoices | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.code = arrondissement.code if arrondissement else None
        self.choices = choices or FilterChoices(db, self.code, self)
        self._stale = True
        self.found: list[Deadline] = []
        self._generation = self._shown = 0  # the reading asked for last, and shown
        self._jobs: set = set()
        heading = QLabel("Échéances")
        heading.setObjectName("pageTitle")
        self.status = QLabel()
        self.status.setAccessibleName("Nombre d'échéances affichées")
        self.horizon = QComboBox()
        self.horizon.setAccessibleName("Horizon")
        for label, days, overdue in HORIZONS:
            self.horizon.addItem(label, (days, overdue))
        self.horizon.setCurrentIndex(DEFAULT_HORIZON)
        self.kind = QComboBox()
        self.kind.setAccessibleName("Nature")
        self.kind.addItem("Toutes les natures", ALL)
        for kind, label in KIND_LABELS.items():
            self.kind.addItem(label, kind)
        self.contract = FilterBox("Contrat : tous", self._contract_model)
        self.contract.setAccessibleName("Contrat")
        self.contract.setMinimumWidth(220)
        self.scheme = FilterBox("Dispositif : tous",
                                lambda: self.choices.model("scheme", "Dispositif : tous"))
        self.scheme.setAccessibleName("Dispositif")
        self.epci = FilterBox("EPCI : tous", lambda: self.choices.model("epci", "EPCI : tous"))
        self.epci.setAccessibleName("EPCI")
        self.epci.setMinimumWidth(200)
        self.clear_button = clear = QPushButton("&Tout afficher")
        clear.setToolTip("Retirer les filtres (horizon : tout)")
        clear.clicked.connect(self.clear_filters)
        filters = QHBoxLayout()
        for caption, widget in (("&Horizon", self.horizon), ("&Nature", self.kind)):
            label = QLabel(caption)
            label.setBuddy(widget)
            filters.addWidget(label)
            filters.addWidget(widget)
        for widget in (self.contract, self.scheme, self.epci):
            filters.addWidget(widget, 1)
        filters.addWidget(clear)
        self.calendar_button = QPushButton("&Calendrier (.ics)…")
        self.calendar_button.setToolTip("Les échéances affichées dans un fichier de calendrier "
                                        "(Outlook, Thunderbird, agenda du téléphone) ; un "
                                        "nouvel export met à jour les mêmes événements")
        self.sheet_button = QPushButton("C&lasseur…")
        self.sheet_button.setToolTip("Les échéances affichées dans un classeur xlsx, ods ou csv")
        self.pdf_button = QPushButton("&PDF…")
        self.pdf_button.setToolTip("L'échéancier affiché, à imprimer")
        self.calendar_button.clicked.connect(lambda: self.export_calendar())
        self.sheet_button.clicked.connect(lambda: self.export())
        self.pdf_button.clicked.connect(lambda: self.export_pdf())
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(self.status)
        top.addSpacing(12)
        for button in (self.calendar_button, self.sheet_button, self.pdf_button):
            top.addWidget(button)
        self.model = DeadlineModel(self)
        self.table = QTableView()
        self.table.setAccessibleName("Échéances")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        for index, (_key, _label, width) in enumerate(COLUMNS):
            self.table.setColumnWidth(index, width)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.horizontalHeader().setSectionResizeMode(
            COLUMNS.index(("label", "Objet", 360)), QHeaderView.ResizeMode.Stretch)
        self.table.doubleClicked.connect(self._open)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addLayout(top)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        for box in (self.horizon, self.kind, self.contract, self.scheme, self.epci):
            box.currentIndexChanged.connect(lambda _=0: self.reload())

    # --- page protocol (main window) ----------------------------------------------------

    def focus_search(self) -> None:
        self.horizon.setFocus()

    def set_arrondissement(self, arrondissement: Any = None, reload: bool = True,
                           choices: FilterChoices | None = None) -> None:
        self.code = arrondissement.code if arrondissement else None
        self.choices = choices or FilterChoices(self.db, self.code, self)
        self.contract.set_loader(self._contract_model)
        self.scheme.set_loader(lambda: self.choices.model("scheme", "Dispositif : tous"))
        self.epci.set_loader(lambda: self.choices.model("epci", "EPCI : tous"))
        if reload:
            self.reload() if self.isVisible() else self.mark_stale()

    def current_row(self) -> dict | None:
        index = self.table.currentIndex()
        if not index.isValid():
            return None
        row = self.model.rows[index.row()]
        return {"entity": row.entity, "id": row.record_id, "reference": row.reference}

    # --- loading --------------------------------------------------------------------------

    def _contract_model(self):
        return self.choices.model("contract", "Contrat : tous",
                                  fixed=contract_choices(self.db, self.code))

    @staticmethod
    def _value(box: QComboBox) -> Any:
        value = box.currentData()
        return None if value in (None, ALL) else value

    def selection(self) -> Selection:
        days, overdue = self.horizon.currentData()
        contract = self._value(self.contract)
        return Selection(within_days=days, overdue_only=overdue, kind=self._value(self.kind),
                         arrondissement=self.code,
                         contract_id=uuid.UUID(contract) if contract else None,
                         scheme_code=self._value(self.scheme), epci_code=self._value(self.epci))

    def reload(self) -> None:
        """Read the deadlines in a worker thread (over a whole region they take seconds):
        the table keeps its rows until the new ones come; an older reading that comes
        back after a newer one is dropped."""
        from PySide6.QtCore import QThreadPool

        self._stale = False
        self._generation += 1
        generation, selection = self._generation, self.selection()
        today, db = deadline_notice.today(), self.db
        self.status.setText("Lecture des échéances…")
        job = _Reader(lambda: select_deadlines(db, selection, today))
        job.signals.finished.connect(
            lambda found, g=generation, j=job: self._loaded(g, found, today, j))
        job.signals.failed.connect(lambda error, g=generation, j=job: self._failed(g, error, j))
        self._jobs.add(job)  # its signals must outlive the worker's run
        QThreadPool.globalInstance().start(job)

    @property
    def loading(self) -> bool:
        return self._shown != self._generation

    def _loaded(self, generation: int, found: list[Deadline], today: date, job) -> None:
        self._jobs.discard(job)
        if generation != self._generation or not isValid(self):
            return
        self._shown = generation
        self.found = found
        self.model.set_rows(found, today)
        count = len(found)
        late = sum(1 for d in found if d.overdue)
        if count:
            self.status.setText(f"{number(count)} échéance{'s' if count > 1 else ''}"
                                + (f", dont {number(late)} en retard" if late else ""))
        else:
            self.status.setText("Aucune échéance pour ces filtres")

    def _failed(self, generation: int, error: BaseException, job) -> None:
        self._jobs.discard(job)
        if generation != self._generation or not isValid(self):
            return
        self._shown = generation
        self.found = []
        self.model.set_rows([], deadline_notice.today())
        self.status.setText("Échéances illisibles")
        message = error.message if isinstance(error, UserError) else repr(error)
        QMessageBox.warning(self, "Échéances", message)

    def clear_filters(self) -> None:
        for box in (self.horizon, self.kind, self.contract, self.scheme, self.epci):
            box.blockSignals(True)
        self.horizon.setCurrentIndex(len(HORIZONS) - 1)
        for box in (self.kind, self.contract, self.scheme, self.epci):
            box.setCurrentIndex(0)
        for box in (self.horizon, self.kind, self.contract, self.scheme, self.epci):
            box.blockSignals(False)
        self.reload()

    def show_filtered(self, *, arrondissement: bool = True, within_days: int | None = None,
                      overdue: bool = False) -> None:
        """The deadlines up to a horizon, the other filters cleared (a bar of the Tableau
        de bord's « Échéances à venir »); the page keeps its own territory."""
        self.apply_notice(Notice(text="", kind=None, within_days=within_days,
                                 overdue_only=overdue))

    def apply_notice(self, notice: Notice) -> None:
        """Show what the opening notice announced (its horizon and nature)."""
        for box in (self.horizon, self.kind, self.contract, self.scheme, self.epci):
            box.blockSignals(True)
        for box in (self.contract, self.scheme, self.epci):
            box.setCurrentIndex(0)
        wanted = (notice.within_days, notice.overdue_only)
        index = next((i for i, (_l, days, overdue) in enumerate(HORIZONS)
                      if (days, overdue) == wanted), len(HORIZONS) - 1)
        self.horizon.setCurrentIndex(index)
        self.kind.setCurrentIndex(max(self.kind.findData(notice.kind or ALL), 0))
        for box in (self.horizon, self.kind, self.contract, self.scheme, self.epci):
            box.blockSignals(False)
        self.reload()

    # --- exports --------------------------------------------------------------------------

    def _target(self, title: str, name: str, filters: str, suffixes: tuple[str, ...],
                path: Path | None) -> Path | None:
        if not self.found:
            QMessageBox.information(self, title, "Aucune échéance à exporter.")
            return None
        if path is None:
            chosen, _ = QFileDialog.getSaveFileName(self, title, name, filters)
            if not chosen:
                return None
            path = Path(chosen)
        if path.suffix.lower() not in suffixes:
            path = path.with_suffix(suffixes[0])
        return path

    def _done(self, path: Path) -> Path:
        window = self.window()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(f"Échéancier exporté dans {path}", 8000)
        return path

    def export_calendar(self, path: Path | None = None) -> Path | None:
        from db.deadlines.exports import write_calendar

        target = self._target("Exporter le calendrier", "echeances.ics",
                              "Calendrier iCalendar (*.ics)", (".ics",), path)
        if target is None:
            return None
        try:
            write_calendar(self.found, target)
        except OSError as error:
            QMessageBox.warning(self, "Export impossible", str(error))
            return None
        return self._done(target)

    def export(self, path: Path | None = None) -> Path | None:
        """The deadlines shown to a spreadsheet (also Fichier › Exporter, Ctrl+E)."""
        from db.deadlines.exports import write_sheet
        from desktop.long_texts import tell_cancelled, write_checked

        target = self._target("Exporter les échéances", "echeances.xlsx",
                              "Classeur Excel (*.xlsx);;Classeur OpenDocument (*.ods);;"
                              "CSV (*.csv)", (".xlsx", ".ods", ".csv"), path)
        if target is None:
            return None
        found, today = self.found, self.model.today
        try:  # a text too long for a cell: split or cancel
            written = write_checked(self, lambda policy: write_sheet(
                found, target, today, long_texts=policy))
        except (UserError, OSError) as error:
            QMessageBox.warning(self, "Export impossible", getattr(error, "message", str(error)))
            return None
        if written is None:
            tell_cancelled(self)
            return None
        return self._done(target)

    def export_pdf(self, path: Path | None = None) -> Path | None:
        from db.deadlines.exports import pdf_bytes
        from desktop.tasks import run_with_progress

        target = self._target("Enregistrer l'échéancier", "echeancier.pdf",
                              "Document PDF (*.pdf)", (".pdf",), path)
        if target is None:
            return None
        found, selection, today = self.found, self.selection(), self.model.today
        try:
            pdf = run_with_progress(self, "Préparation de l'échéancier…",
                                    lambda: pdf_bytes(self.db, found, selection, today))
            target.write_bytes(pdf)
        except (UserError, OSError) as error:
            QMessageBox.warning(self, "Export impossible", getattr(error, "message", str(error)))
            return None
        return self._done(target)

    # --- opening --------------------------------------------------------------------------

    def _open(self, index: QModelIndex) -> None:
        if index.isValid():
            row = self.model.rows[index.row()]
            self.activated.emit({"entity": row.entity, "id": row.record_id})
