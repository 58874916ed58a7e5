"""Running long work off the GUI thread, with a progress dialog.

The work is a plain function (it never touches widgets); its result or error
comes back on the GUI thread.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEventLoop, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal
from PySide6.QtWidgets import QApplication, QProgressDialog, QWidget


class _Signals(QObject):
    finished = Signal(object)
    failed = Signal(object)


class ProgressRelay(QObject):
    """Hands the work's progress (what it does, how far out of how much) to the dialog.

    :meth:`report` is a plain function the work calls from its thread; the signal
    reaches the dialog on the GUI thread."""

    advanced = Signal(str, int, int)
    EVERY = 0.1  # seconds: more often would keep the GUI thread busy taking the GIL

    def __init__(self) -> None:
        super().__init__()
        self.last = (None, 0.0)

    def report(self, step: str, done: int, total: int) -> None:
        now = time.monotonic()
        if step != self.last[0] or now - self.last[1] >= self.EVERY:
            self.last = (step, now)
            self.advanced.emit(step, done, total)


class _Job(QRunnable):
    def __init__(self, work: Callable[[], Any]) -> None:
        super().__init__()
        self.work = work
        self.signals = _Signals()

    def run(self) -> None:
        try:
            result = self.work()
        except BaseException as error:  # handed over to the GUI thread
            self.signals.failed.emit(error)
        else:
            self.signals.finished.emit(result)


def run_with_progress(parent: QWidget | None, label: str, work: Callable[[], Any],
                      cancel: threading.Event | None = None,
                      relay: ProgressRelay | None = None) -> Any:
    """Run *work* in a worker thread while a busy dialog shows; return its result
    or raise its exception, on the GUI thread. With *cancel*, the dialog has an
    "Annuler" button that sets the event; the work checks it and stops. With
    *relay*, what the work reports through it shows as the dialog's text and bar."""
    dialog = QProgressDialog(label, "Annuler" if cancel else "", 0, 0, parent)
    dialog.setWindowTitle("Veuillez patienter")
    if cancel is None:
        dialog.setCancelButton(None)
    else:
        dialog.canceled.connect(cancel.set)
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(300)
    if relay is not None:
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)

        def advance(step: str, done: int, total: int) -> None:
            dialog.setLabelText(f"{label}\n{step}")
            if total <= 0:  # no measure of the work (waiting for a lock): a busy bar
                dialog.setRange(0, 0)
                return
            dialog.setMaximum(total)
            dialog.setValue(min(done, total))
        relay.advanced.connect(advance)
    loop = QEventLoop()
    # A busy dialog gets no progress value, which is what would show it: show it
    # ourselves once the work has lasted a little (quick work shows nothing).
    QTimer.singleShot(300, lambda: dialog.show() if loop.isRunning() else None)
    outcome: dict[str, Any] = {}
    job = _Job(work)
    job.signals.finished.connect(lambda result: (outcome.update(result=result), loop.quit()))
    job.signals.failed.connect(lambda error: (outcome.update(error=error), loop.quit()))
    QThreadPool.globalInstance().start(job)
    active = QApplication.activeWindow()
    loop.exec()
    dialog.close()
    # The busy dialog took the activation: give it back, or the window's shortcuts
    # (Ctrl+P…) wait for a click where the agent was working.
    if active is not None and QApplication.activeWindow() is None and active.isVisible():
        active.activateWindow()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("result")
