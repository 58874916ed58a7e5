"""The signs of the findings lists, drawn from icons shipped in resources/icons/.

Emoji (⛔ ⚠ ✖ ✔) need an emoji font that agents' workstations often lack: they showed
as empty boxes. The SVG files are read by Qt's svg image plugin (shipped with PySide6).
"""

from __future__ import annotations

from functools import cache

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush, QColor, QIcon
from PySide6.QtWidgets import QListWidgetItem

from db.reference import resource

BLOCKING = "blocking"  # an error that refuses the saving (or a refused input)
ERROR = "error"  # an error that a draft may still be saved with
WARNING = "warning"
OK = "ok"

# What a screen reader or a tooltip says instead of the sign.
SIGN_NAMES = {BLOCKING: "bloquant", ERROR: "erreur", WARNING: "avertissement",
              OK: "aucune anomalie"}


@cache
def icon(name: str) -> QIcon:
    return QIcon(str(resource("icons", f"{name}.svg")))


def finding_item(sign: str, text: str, colour: str) -> QListWidgetItem:
    """A line of a findings list: its sign drawn from an icon, never an emoji (the
    sign's name in UserRole, for the tests and for screen readers)."""
    item = QListWidgetItem(icon(sign), text)
    item.setForeground(QBrush(QColor(colour)))
    item.setData(Qt.ItemDataRole.AccessibleTextRole, f"{SIGN_NAMES[sign]} : {text}")
    item.setData(Qt.ItemDataRole.UserRole, sign)
    return item
