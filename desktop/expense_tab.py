"""The expense side of an operation's plan: postes de dépense (optional), HT, TTC and
whether each counts in the dépense subventionnable; their totals against the costs."""

from __future__ import annotations

import uuid
from decimal import Decimal

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from db.formatting import euros
from db.services.operations import ExpenseItemData
from desktop.fields import AmountField

COLUMNS = ["Poste de dépense", "Montant HT", "Montant TTC", "Subventionnable"]


class ExpenseTab(QWidget):
    """Edits the postes; says when they do not add up to the operation's costs."""

    changed = Signal()
    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ids: list[uuid.UUID | None] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setAccessibleName("Postes de dépense")
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(30)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column, width in ((1, 140), (2, 140), (3, 120)):
            self.table.setColumnWidth(column, width)
        add = QPushButton("Ajouter un poste de dépense")
        remove = QPushButton("Retirer le poste")
        add.clicked.connect(self._new)
        remove.clicked.connect(self._remove)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName("Total des dépenses")
        hint = QLabel("Facultatif : détaillez les dépenses ; leur total HT doit alors égaler "
                      "le coût HT de l'opération (et le TTC le coût TTC). La dépense "
                      "subventionnable, si elle n'est pas saisie, est le total HT des postes "
                      "subventionnables.")
        hint.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(add)
        buttons.addWidget(remove)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.summary)

    def load(self, items: list[ExpenseItemData]) -> None:
        self.table.setRowCount(0)
        self.ids = []
        for item in items:
            self._add(item)

    def items(self) -> list[ExpenseItemData]:
        result = []
        for row in range(self.table.rowCount()):
            cell = self.table.cellWidget
            result.append(ExpenseItemData(
                label=cell(row, 0).text().strip(), amount_ht=cell(row, 1).value(),
                amount_ttc=cell(row, 2).value(), eligible=cell(row, 3).isChecked(),
                id=self.ids[row]))
        return result

    def show_totals(self, cost_ht: Decimal | None, cost_ttc: Decimal | None) -> None:
        items = self.items()
        if not items:
            self.summary.setText("Aucun poste détaillé : le plan de financement imprime le "
                                 "coût de l'opération.")
            return
        total_ht = sum((i.amount_ht or Decimal(0) for i in items), Decimal("0.00"))
        parts = [f"Total HT : <b>{euros(total_ht)}</b> (coût HT : {euros(cost_ht)})"]
        if all(i.amount_ttc is not None for i in items):
            total_ttc = sum((i.amount_ttc for i in items), Decimal("0.00"))
            parts.append(f"total TTC : <b>{euros(total_ttc)}</b> (coût TTC : "
                         f"{euros(cost_ttc)})")
        eligible = sum((i.amount_ht or Decimal(0) for i in items if i.eligible),
                       Decimal("0.00"))
        parts.append(f"postes subventionnables : {euros(eligible)} HT")
        self.summary.setText(" — ".join(parts))

    def _new(self) -> None:
        self._add(ExpenseItemData(label="", amount_ht=None))
        self.table.setCurrentCell(self.table.rowCount() - 1, 0)
        self.table.cellWidget(self.table.rowCount() - 1, 0).setFocus()
        self.changed.emit()

    def _add(self, item: ExpenseItemData) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        self.ids.append(item.id)
        label = QLineEdit(item.label)
        label.setAccessibleName(f"Poste {row + 1} : intitulé")
        ht, ttc = AmountField(), AmountField()
        ht.setAccessibleName(f"Poste {row + 1} : montant HT")
        ttc.setAccessibleName(f"Poste {row + 1} : montant TTC")
        ht.setValue(item.amount_ht)
        ttc.setValue(item.amount_ttc)
        eligible = QCheckBox()
        eligible.setChecked(item.eligible)
        eligible.setAccessibleName(f"Poste {row + 1} : subventionnable")
        eligible.setToolTip("Compté dans la dépense subventionnable (DETR, DSIL)")
        for column, widget in enumerate((label, ht, ttc, eligible)):
            self.table.setCellWidget(row, column, widget)
        label.textChanged.connect(self.changed)
        for field in (ht, ttc):
            field.changed.connect(self.changed)
            field.refused.connect(self.refused)
        eligible.toggled.connect(self.changed)

    def _remove(self) -> None:
        row = self.table.currentRow()
        if row < 0 and self.table.rowCount():
            row = self.table.rowCount() - 1
        if row >= 0:
            self.table.removeRow(row)
            del self.ids[row]
            self.changed.emit()
