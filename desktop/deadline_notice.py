"""The notice of the deadlines coming, shown once the window is on screen: « 3
subventions deviennent caduques dans les 60 jours… », a button of the status bar that
opens the Échéances page filtered the same way. Nothing when nothing is due."""

from __future__ import annotations

from datetime import date
from typing import Any

from PySide6.QtWidgets import QPushButton

NOTICE_STYLE = ("QPushButton { color: #ce0500; font-weight: 600; border: none; "
                "padding: 0 8px; text-align: left; } "
                "QPushButton:hover { text-decoration: underline; }")


def today() -> date:
    """The day the deadlines are counted from (tests set it)."""
    return date.today()


def start_notice(window: Any):
    """Reads the deadlines in a worker thread (the first paint never waits for it)
    and puts the notice in *window*'s status bar. Returns the job."""
    from PySide6.QtCore import QThreadPool

    from db import queries
    from db.deadlines import opening_notice
    from desktop.tasks import _Job

    db = window.db
    current = queries.current_arrondissement(db)
    code = current.code if current else None
    day = today()
    job = _Job(lambda: opening_notice(db, today=day, arrondissement=code))
    job.signals.finished.connect(lambda notice: show_notice(window, notice))
    job.signals.failed.connect(lambda _error: None)  # a notice is no reason to alarm
    window._deadline_job = job  # its signals must outlive the worker's run
    QThreadPool.globalInstance().start(job)
    return job


def show_notice(window: Any, notice) -> QPushButton | None:
    button = getattr(window, "deadline_notice", None)
    if notice is None:
        if button is not None:
            button.hide()
        return None
    if button is None:
        button = QPushButton()
        button.setFlat(True)
        button.setStyleSheet(NOTICE_STYLE)
        button.setAccessibleName("Échéances à venir")
        button.setToolTip("Travaux à commencer avant la caducité, échéances dépassées, "
                          "notifications à enregistrer : "
                          "ouvrir la page Échéances sur ces échéances")
        window.statusBar().addPermanentWidget(button)
        window.deadline_notice = button
        button.clicked.connect(lambda: open_notice(window, button.notice))
    button.notice = notice  # what a click opens: the latest notice
    button.setText(notice.text)
    button.show()
    return button


def open_notice(window: Any, notice) -> None:
    window.show_view("deadlines")
    window.pages["deadlines"].apply_notice(notice)
