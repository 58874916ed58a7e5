"""Input fields that read what agents type: amounts and dates in French.

A value that cannot be read is refused at the field with a French message, and
the previous value comes back; nothing half-typed reaches the data.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtWidgets import (
    QCalendarWidget,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from db.formatting import euros, short_date
from db.parsing import parse_amount, parse_date

ERROR_STYLE = "border: 2px solid #ce0500; background: #fff4f4;"
WARNING_STYLE = "border: 2px solid #b34000;"


class _ParsedField(QLineEdit):
    """A line edit holding a parsed value; refuses text it cannot read."""

    changed = Signal()  # the value changed (after a valid edit)
    refused = Signal(str)  # French message: why the text was refused

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._value = None
        self.editingFinished.connect(self._commit)

    def value(self):
        return self._value

    def setValue(self, value) -> None:  # noqa: N802 (Qt-style setter)
        self._value = value
        self.setText(self.format(value))
        self.setStyleSheet("")

    def format(self, value) -> str:
        raise NotImplementedError

    def parse(self, text: str):
        raise NotImplementedError

    def _commit(self) -> None:
        try:
            value = self.parse(self.text())
        except ValueError as error:
            message = f"{self.accessibleName() or 'Valeur'} : {error}"
            self.setText(self.format(self._value))  # the previous value comes back
            self.setStyleSheet(ERROR_STYLE)
            self.setToolTip(message)
            self.refused.emit(message)
            return
        self.setStyleSheet("")
        self.setToolTip(self.base_tooltip)
        changed = value != self._value
        self._value = value
        self.setText(self.format(value))
        if changed:
            self.changed.emit()

    base_tooltip = ""


class AmountField(_ParsedField):
    """Euros: ``1 234 567,89``, ``1234567.89``, with spaces or ``€``; empty = unknown."""

    base_tooltip = "Montant en euros, par exemple 1 234 567,89 (vide : non communiqué)"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.setPlaceholderText("non communiqué")
        self.setToolTip(self.base_tooltip)

    def format(self, value: Decimal | None) -> str:
        return "" if value is None else euros(value)

    def parse(self, text: str) -> Decimal | None:
        return parse_amount(text)


class DateLine(_ParsedField):
    base_tooltip = "Date au format jj/mm/aaaa (par exemple 13/11/2015)"

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setPlaceholderText("jj/mm/aaaa")
        self.setToolTip(self.base_tooltip)
        self.setMaximumWidth(120)

    def format(self, value: date | None) -> str:
        return short_date(value)

    def parse(self, text: str) -> date | None:
        return parse_date(text)


class DateField(QWidget):
    """A date typed as 13/11/2015 or picked on a calendar; may stay empty."""

    changed = Signal()
    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.line = DateLine()
        self.button = QToolButton()
        self.button.setText("▾")
        self.button.setToolTip("Choisir la date dans un calendrier")
        self.button.setAccessibleName("Calendrier")
        self.button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.button.clicked.connect(self._pick)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.line)
        layout.addWidget(self.button)
        layout.addStretch(1)
        self.line.changed.connect(self.changed)
        self.line.refused.connect(self.refused)
        self.setFocusProxy(self.line)

    def setAccessibleName(self, name: str) -> None:  # noqa: N802
        super().setAccessibleName(name)
        self.line.setAccessibleName(name)

    def value(self) -> date | None:
        return self.line.value()

    def setValue(self, value: date | None) -> None:  # noqa: N802
        self.line.setValue(value)

    def _pick(self) -> None:
        menu = QMenu(self)
        calendar = QCalendarWidget()
        calendar.setGridVisible(True)
        current = self.value() or date.today()
        calendar.setSelectedDate(QDate(current.year, current.month, current.day))
        action = QWidgetAction(menu)
        action.setDefaultWidget(calendar)
        menu.addAction(action)

        def chosen(qdate: QDate) -> None:
            before = self.value()
            self.line.setValue(date(qdate.year(), qdate.month(), qdate.day()))
            menu.close()
            if self.value() != before:
                self.changed.emit()

        calendar.clicked.connect(chosen)
        calendar.activated.connect(chosen)
        menu.exec(self.button.mapToGlobal(self.button.rect().bottomLeft()))
