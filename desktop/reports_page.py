"""Reports: pivots over the arrondissement (or the whole territory), exportable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db import queries
from db.database import Database
from db.errors import UserError
from db.formatting import euros, number
from db.lists import Criteria
from db.spreadsheets.reports import REPORTS, Report, export_report
from db.text import elide
from desktop.page_set import NavigationPage


class ReportsPage(NavigationPage):
    title = "Rapports"

    def __init__(self, db: Database, arrondissement: queries.ArrondissementRow | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.report: Report | None = None
        heading = QLabel("Rapports")
        heading.setObjectName("pageTitle")
        self.choice = QComboBox()
        self.choice.setAccessibleName("Rapport")
        for key, (label, _) in REPORTS.items():
            self.choice.addItem(label, key)
        self.scope = QComboBox()
        self.scope.setAccessibleName("Territoire du rapport")
        self.set_arrondissement(arrondissement, reload=False)
        self.export_button = QPushButton("E&xporter…")
        self.export_button.setToolTip("Enregistrer le rapport en xlsx, ods ou csv")
        self.export_button.clicked.connect(self.export)
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addSpacing(16)
        top.addWidget(self.choice, 1)
        top.addWidget(QLabel("Territoire :"))
        top.addWidget(self.scope)
        top.addWidget(self.export_button)
        self.table = QTableWidget()
        self.table.setAccessibleName("Rapport")
        self.table.setAlternatingRowColors(True)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        self.choice.currentIndexChanged.connect(lambda _: self.reload())
        self.scope.currentIndexChanged.connect(lambda _: self.reload())
        self._stale = True

    def set_arrondissement(self, arrondissement: queries.ArrondissementRow | None,
                           reload: bool = True, choices: Any = None) -> None:
        self.scope.blockSignals(True)
        self.scope.clear()
        if arrondissement is not None:
            self.scope.addItem(f"Arrondissement {elide('de', arrondissement.name)}",
                               arrondissement.code)
        self.scope.addItem("Tout le territoire", "")
        self.scope.blockSignals(False)
        if reload:
            self.mark_stale()

    def focus_search(self) -> None:
        self.choice.setFocus()

    def reload(self) -> None:
        self._stale = False
        _, build = REPORTS[self.choice.currentData()]
        self.report = build(self.db, Criteria(arrondissement=self.scope.currentData() or None))
        columns = self.report.columns
        self.table.setColumnCount(len(columns))
        self.table.setHorizontalHeaderLabels([c.label for c in columns])
        self.table.setRowCount(len(self.report.rows))
        for r, row in enumerate(self.report.rows):
            for c, column in enumerate(columns):
                value = row.get(column.key)
                if column.kind == "money":
                    shown = euros(value)  # an unknown sum reads "non communiqué", never 0
                elif column.kind == "int" and value is not None:
                    shown = number(value)
                else:
                    shown = "" if value is None else str(value)
                item = QTableWidgetItem(shown)
                if column.kind in ("money", "int"):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                if r == len(self.report.rows) - 1:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)
            for c, column in enumerate(columns):
                self.table.setColumnWidth(c, max(90, column.width * 8))

    def export(self) -> Path | None:
        if self.report is None:
            return None
        path, _ = QFileDialog.getSaveFileName(
            self, "Exporter le rapport", f"rapport-{self.choice.currentData()}.xlsx",
            "Classeur Excel (*.xlsx);;Classeur OpenDocument (*.ods);;CSV (*.csv)")
        if not path:
            return None
        from desktop.long_texts import tell_cancelled, write_checked

        target, report = Path(path), self.report
        try:  # a text too long for a cell: split or cancel
            written = write_checked(self, lambda policy: export_report(
                report, target, long_texts=policy))
        except (UserError, OSError) as error:
            QMessageBox.warning(self, "Export impossible", getattr(error, "message", str(error)))
            return None
        if written is None:
            tell_cancelled(self)
            return None
        return target
