"""Before an export is written: a text too long for a spreadsheet cell is shown to the
agent, who cuts it into several cells or cancels (never a silent truncation)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from PySide6.QtWidgets import QMessageBox, QWidget

from db.spreadsheets.export import REFUSE, SPLIT, LongTextsRefused

T = TypeVar("T")
SPLIT_BUTTON = "Découper en plusieurs cellules"


def ask_split(parent: QWidget, error: LongTextsRefused) -> bool:
    box = QMessageBox(QMessageBox.Icon.Warning, "Textes trop longs pour un tableur",
                      error.message, parent=parent)
    split = box.addButton(SPLIT_BUTTON, QMessageBox.ButtonRole.AcceptRole)
    cancel = box.addButton("Annuler", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(cancel)
    box.exec()
    return box.clickedButton() is split


def write_checked(parent: QWidget, write: Callable[[str], T]) -> T | None:
    """*write(policy)* refuses long texts first; if it does, ask the agent, then write
    again with the texts split, or return None (nothing written) when cancelled."""
    try:
        return write(REFUSE)
    except LongTextsRefused as error:
        if not ask_split(parent, error):
            return None
    return write(SPLIT)


CANCELLED = "Export annulé : aucun fichier écrit."


def tell_cancelled(parent: QWidget) -> None:
    """The agent cancelled at the long texts' question: said in the window's status bar
    (nothing was written)."""
    window = parent.window()
    if hasattr(window, "statusBar"):
        window.statusBar().showMessage(CANCELLED, 8000)
