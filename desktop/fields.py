"""Input fields that read what agents type: amounts and dates in French.

A value that cannot be read is refused at the field with a French message, and
the previous value comes back; nothing half-typed reaches the data.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from PySide6.QtCore import QDate, Qt, Signal
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import (
    QCalendarWidget,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QMenu,
    QPlainTextEdit,
    QSizePolicy,
    QStyle,
    QStyleOptionComboBox,
    QStyleOptionFrame,
    QStylePainter,
    QToolButton,
    QWidget,
    QWidgetAction,
)

from db.formatting import euros, short_date
from db.parsing import FIRST_DAY, LAST_DAY, parse_amount, parse_date

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

    def commit(self) -> None:
        """Read what is typed now (before the field it belongs to changes hands)."""
        if self.text() != self.format(self._value):
            self._commit()

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
        # A date is never squeezed to "/2022" by a long label beside it.
        self.setMinimumWidth(self.fontMetrics().horizontalAdvance("00/00/00000") + 10)

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
        # As tall as a line edit: in a form, a taller row left its label above the field.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def setAccessibleName(self, name: str) -> None:  # noqa: N802
        super().setAccessibleName(name)
        self.line.setAccessibleName(name)

    def value(self) -> date | None:
        return self.line.value()

    def setValue(self, value: date | None) -> None:  # noqa: N802
        self.line.setValue(value)

    def commit(self) -> None:
        self.line.commit()

    def _pick(self) -> None:
        menu = QMenu(self)
        calendar = QCalendarWidget()
        calendar.setGridVisible(True)
        calendar.setDateRange(QDate(FIRST_DAY.year, 1, 1), QDate(LAST_DAY.year, 12, 31))
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


class NotesField(QPlainTextEdit):
    """Notes on several lines, kept with their line breaks; read and written as text
    like a line edit (``text()``, ``setText()``), so editors treat them alike."""

    def __init__(self, parent: QWidget | None = None, *, lines: int = 3) -> None:
        super().__init__(parent)
        self.setTabChangesFocus(True)  # Tab leaves the notes, as in every other field
        height = self.fontMetrics().lineSpacing() * lines
        margins = self.contentsMargins()
        self.setFixedHeight(int(height + 2 * self.document().documentMargin())
                            + margins.top() + margins.bottom() + 2)
        self.setPlaceholderText("Notes (plusieurs lignes possibles)")

    def text(self) -> str:
        return self.toPlainText()

    def setText(self, text: str) -> None:  # noqa: N802 (Qt-style setter)
        self.setPlainText(text)
        cursor = self.textCursor()
        cursor.movePosition(cursor.MoveOperation.Start)
        self.setTextCursor(cursor)  # read from the beginning


class ElidedLineEdit(QLineEdit):
    """A line edit that, when it does not have the focus, shows a text too long for it
    from its beginning with "…" at the end (a plain line edit cuts it anywhere, and an
    editable combo box shows its end: "e-France (Conseil régional)")."""

    _MARGIN = 2  # QLineEdit's own horizontal margin around the text

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        option = QStyleOptionFrame()
        self.initStyleOption(option)
        area = self.style().subElementRect(QStyle.SubElement.SE_LineEditContents, option, self)
        area = area.marginsRemoved(self.textMargins()).adjusted(self._MARGIN, 0,
                                                                 -self._MARGIN, 0)
        metrics = self.fontMetrics()
        if self.hasFocus() or metrics.horizontalAdvance(self.text()) <= area.width():
            super().paintEvent(event)
            return
        painter = QPainter(self)
        self.style().drawPrimitive(QStyle.PrimitiveElement.PE_PanelLineEdit, option, painter,
                                   self)
        painter.setPen(self.palette().color(QPalette.ColorRole.Text))
        painter.drawText(area, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                         metrics.elidedText(self.text(), Qt.TextElideMode.ElideRight,
                                            area.width()))
        painter.end()


def elide_on_the_right(box: QComboBox) -> None:
    """Give an editable combo box an :class:`ElidedLineEdit`, with the same completion
    on any part of a name (the completer belongs to the line edit: made again)."""
    from desktop.combos import complete_anywhere

    box.setLineEdit(ElidedLineEdit(box))
    complete_anywhere(box)


class ElidedComboBox(QComboBox):
    """A (non-editable) combo box whose current text, when too long, ends with "…"
    instead of being cut in the middle of a word."""

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt override)
        painter = QStylePainter(self)
        option = QStyleOptionComboBox()
        self.initStyleOption(option)
        painter.drawComplexControl(QStyle.ComplexControl.CC_ComboBox, option)
        field = self.style().subControlRect(QStyle.ComplexControl.CC_ComboBox, option,
                                            QStyle.SubControl.SC_ComboBoxEditField, self)
        option.currentText = self.fontMetrics().elidedText(
            option.currentText, Qt.TextElideMode.ElideRight, field.width())
        painter.drawControl(QStyle.ControlElement.CE_ComboBoxLabel, option)
