"""The list pages of the main window: contracts and operations."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from db import queries
from db.database import Database
from db.formatting import number
from db.vocabulary import ContractStatus, OperationStatus
from desktop.table_model import Column, MoneyColumn, PagedTableModel

ALL_TERRITORY = ""


class ListPage(QWidget):
    """A titled list with a territorial scope and a footer that counts the rows."""

    title = ""
    noun = ("élément", "éléments")

    def __init__(self, db: Database, arrondissement: queries.ArrondissementRow | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        heading = QLabel(self.title)
        heading.setObjectName("pageTitle")
        self.scope = QComboBox()
        self.scope.setAccessibleName("Territoire affiché")
        self.scope.setToolTip("Limiter la liste à l'arrondissement ou tout afficher")
        self.set_arrondissement(arrondissement, reload=False)
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(QLabel("Territoire :"))
        top.addWidget(self.scope)

        self.table = QTableView()
        self.table.setAccessibleName(self.title)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        # Fixed row heights: no measuring of every row (slow on big tables).
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(
            self.table.fontMetrics().height() + 10)
        self.table.horizontalHeader().setStretchLastSection(False)
        self.table.horizontalHeader().setHighlightSections(False)
        self.footer = QLabel()
        self.footer.setObjectName("listFooter")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.footer)

        columns = self.columns_spec = self.columns()
        self.model = PagedTableModel(columns, self._count, self._fetch, self)
        self.table.setModel(self.model)
        for index, column in enumerate(columns):
            self.table.setColumnWidth(index, column.width)
        self.scope.currentIndexChanged.connect(self.reload)
        self.table.viewport().installEventFilter(self)
        self._update_footer()

    # The title column takes the room the others leave, but never less than its width.
    stretch_column = 1

    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 (Qt override)
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_title_column()
        return super().eventFilter(watched, event)

    def _fit_title_column(self) -> None:
        columns = self.model.columnCount()
        others = sum(self.table.columnWidth(i) for i in range(columns)
                     if i != self.stretch_column)
        room = self.table.viewport().width() - others
        minimum = self.columns_spec[self.stretch_column].width
        self.table.setColumnWidth(self.stretch_column, max(minimum, room))

    def columns(self) -> list[Column]:
        raise NotImplementedError

    def count(self, arrondissement: str | None) -> int:
        raise NotImplementedError

    def fetch(self, arrondissement: str | None, offset: int, limit: int) -> list[Any]:
        raise NotImplementedError

    def set_arrondissement(self, arrondissement: queries.ArrondissementRow | None,
                           reload: bool = True) -> None:
        self.scope.blockSignals(True)
        self.scope.clear()
        if arrondissement is not None:
            self.scope.addItem(f"Arrondissement de {arrondissement.name}", arrondissement.code)
        self.scope.addItem("Tout le territoire", ALL_TERRITORY)
        self.scope.setCurrentIndex(0)
        self.scope.blockSignals(False)
        if reload:
            self.reload()

    @property
    def arrondissement_code(self) -> str | None:
        return self.scope.currentData() or None

    def _count(self) -> int:
        return self.count(self.arrondissement_code)

    def _fetch(self, offset: int, limit: int) -> list[Any]:
        return self.fetch(self.arrondissement_code, offset, limit)

    def reload(self) -> None:
        self.model.reload()
        self._update_footer()

    def _update_footer(self) -> None:
        total = self.model.total
        self.footer.setText(f"{number(total)} {self.noun[0] if total <= 1 else self.noun[1]}")


def _label(enum_cls: type) -> Callable[[str], str]:
    def label(code: str) -> str:
        try:
            return enum_cls(code).label
        except ValueError:
            return code
    return label


class ContractsPage(ListPage):
    title = "Contrats"
    noun = ("contrat", "contrats")
    stretch_column = 1

    def columns(self) -> list[Column]:
        status = _label(ContractStatus)
        return [
            Column("Référence", lambda r: r.reference, 190),
            Column("Intitulé", lambda r: r.title, 240),
            Column("Type", lambda r: r.type_code, 90, "Type de contrat"),
            Column("Statut", lambda r: status(r.status), 95),
            Column("Signature", lambda r: r.signature_date, 88, "Date de signature"),
            Column("Fin", lambda r: r.end_date, 88, "Date de fin"),
            Column("Opérations", lambda r: r.operations, 96, "Nombre d'opérations"),
            MoneyColumn("Coût des opérations", lambda r: r.cost, 150),
            MoneyColumn("Accordé", lambda r: r.granted, 135, "Financements accordés"),
        ]

    def count(self, arrondissement: str | None) -> int:
        return queries.count_contracts(self.db, arrondissement)

    def fetch(self, arrondissement: str | None, offset: int, limit: int) -> list[Any]:
        return queries.list_contracts(self.db, arrondissement, offset=offset, limit=limit)


class OperationsPage(ListPage):
    title = "Opérations"
    noun = ("opération", "opérations")
    stretch_column = 1

    def columns(self) -> list[Column]:
        status = _label(OperationStatus)
        return [
            Column("Référence", lambda r: r.reference, 180),
            Column("Intitulé", lambda r: r.title, 300),
            Column("Maître d'ouvrage", lambda r: r.owner, 190),
            Column("Communes", lambda r: r.communes, 140),
            Column("Contrats", lambda r: r.contracts, 140),
            Column("Statut", lambda r: status(r.status), 85),
            MoneyColumn("Coût", lambda r: r.cost, 130, "Coût de la base financée (HT ou TTC)"),
            MoneyColumn("Accordé", lambda r: r.granted, 125),
            MoneyColumn("Versé", lambda r: r.paid, 115),
            MoneyColumn("Reste à verser", lambda r: r.remaining, 125),
        ]

    def count(self, arrondissement: str | None) -> int:
        return queries.count_operations(self.db, arrondissement)

    def fetch(self, arrondissement: str | None, offset: int, limit: int) -> list[Any]:
        return queries.list_operations(self.db, arrondissement, offset=offset, limit=limit)


PAGES = {"contracts": ContractsPage, "operations": OperationsPage}
