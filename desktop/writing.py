"""Every write of the GUI runs off the GUI thread: a base locked by another program
(an import, another agent's laptop) or a slow server never freezes the window.

While the base is locked the write is tried again for :data:`PATIENCE_S` seconds, the
busy dialog saying why; then the failure comes back as :class:`db.failures.WriteFailed`
with its French message, and the caller keeps what the agent typed. Meanwhile what
the agent would type or click is held back: it would land in fields already read, and
the reload after the save would wipe it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog, QWidget

from db.failures import WriteFailed, retry_while_locked
from desktop.tasks import ProgressRelay, run_with_progress

T = TypeVar("T")

PATIENCE_S = 30.0  # how long a locked base is waited for before the agent is told
KEPT = ("Ce que vous avez saisi est conservé dans la fenêtre : enregistrez à nouveau "
        "quand le problème sera réglé.")

_INPUT = {QEvent.Type.KeyPress, QEvent.Type.KeyRelease, QEvent.Type.ShortcutOverride,
          QEvent.Type.MouseButtonPress, QEvent.Type.MouseButtonRelease,
          QEvent.Type.MouseButtonDblClick, QEvent.Type.Wheel, QEvent.Type.Close}


class _HoldInput(QObject):
    """Swallows the agent's input to every window but the busy dialog."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() in _INPUT and isinstance(watched, QWidget):
            return not isinstance(watched.window(), QProgressDialog)
        return False


def run_write(parent: QWidget | None, label: str, work: Callable[[], T]) -> T:
    """Run *work* (one whole write, through the services) in a worker thread; return
    its result or raise its error on the GUI thread."""
    relay = ProgressRelay()

    def waiting(attempt: int) -> None:
        relay.report(f"La base est occupée par un autre programme : nouvelle tentative "
                     f"({attempt}), jusqu'à {PATIENCE_S:.0f} s d'attente.", 0, 0)

    def attempts() -> T:
        return retry_while_locked(work, patience=PATIENCE_S, waiting=waiting)

    app = QApplication.instance()
    holder = _HoldInput()
    app.installEventFilter(holder)
    try:
        return run_with_progress(parent, label, attempts, relay=relay)
    finally:
        app.removeEventFilter(holder)


def tell_failure(parent: QWidget | None, title: str, error: WriteFailed) -> None:
    QMessageBox.warning(parent, title, f"{error.message}\n\n{KEPT}")


def write_or_tell(parent: QWidget | None, label: str, work: Callable[[], T],
                  title: str = "Enregistrement impossible") -> tuple[bool, Any]:
    """:func:`run_write`, a refusal or a fault told in a message box: (done, result)."""
    from db.errors import UserError

    try:
        return True, run_write(parent, label, work)
    except WriteFailed as failed:
        tell_failure(parent, title, failed)
    except UserError as error:
        QMessageBox.warning(parent, title, error.message)
    return False, None
