"""The shared office: what other agents save shows here within a second or so.

One QObject owned by the main window (``window.live``) polls the base's change feed
(db.changes) on the GUI thread; a poll on a quiet base is one PRAGMA or a look at a
socket. Its ``changed`` signal is the application's one "the base changed" event:
the list shown reloads in place (selection and scroll kept), the other lists reload
when next shown, the field-copy banner is read again, and the open editors whose
record moved reload or warn. The window's own writes go the same way (:meth:`announce`).
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal
from PySide6.QtWidgets import QTableView

from db.changes import ChangeFeed, ChangeSet, last_change, record_stamp
from desktop.change_banner import ExternalChange, banner_of
from desktop.table_model import PagedTableModel

POLL_MS = 1000
# The editors' records, by editor class (desktop.*_editor).
EDITED_ENTITIES = {"OperationEditor": "operation", "ContractEditor": "contract",
                   "OrganisationEditor": "organisation"}


class LiveRefresh(QObject):
    """Watches ``window.db``; :meth:`start` again when the window opens another base."""

    changed = Signal(object)  # a ChangeSet, on the GUI thread

    def __init__(self, window: Any, *, interval_ms: int = POLL_MS) -> None:
        super().__init__(window)
        self.window = window
        self.feed: ChangeFeed | None = None
        self._notifier: QSocketNotifier | None = None
        self._failing = False
        self.timer = QTimer(self, interval=interval_ms, timeout=self.poll)
        self.changed.connect(self._apply)
        self.start(window.db)

    # --- watching -----------------------------------------------------------------------

    def start(self, db: Any) -> None:
        self.stop()
        try:
            self.feed = ChangeFeed(db)
        except Exception:  # noqa: BLE001 — the base is unreachable: try again at the next tick
            self.feed = None
        self._listen()
        self.timer.start()

    def _listen(self) -> None:
        """On PostgreSQL a notification wakes the poll at once instead of at the tick."""
        fileno = self.feed.fileno() if self.feed is not None else None
        if fileno is None or (self._notifier and self._notifier.socket() == fileno):
            return
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
        self._notifier = QSocketNotifier(fileno, QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._woken)

    def _woken(self, *_: Any) -> None:
        notifier = self._notifier
        if notifier is not None:
            notifier.setEnabled(False)  # the poll reads the socket; no wake-up loop
        self.poll()
        if notifier is not None and notifier is self._notifier:
            notifier.setEnabled(True)

    def stop(self) -> None:
        self.timer.stop()
        if self._notifier is not None:
            self._notifier.setEnabled(False)
            self._notifier.deleteLater()
            self._notifier = None
        if self.feed is not None:
            self.feed.close()
            self.feed = None

    def poll(self) -> ChangeSet | None:
        """Look once; emit :attr:`changed` if others changed something."""
        if not self.window.isVisible():
            return None  # a closed window follows nothing (and costs nothing)
        if self.feed is None:
            self.start(self.window.db)
            if self.feed is None:
                return None
        try:
            changes = self.feed.poll()
        except Exception:  # noqa: BLE001 — server gone, file locked: tell it once, retry
            if not self._failing:
                self._failing = True
                self.window.statusBar().showMessage(
                    "Base momentanément injoignable : les listes ne suivent plus les "
                    "modifications des autres agents.", 10000)
            return None
        self._failing = False
        if self.feed is not None and self.feed.listening:
            self._listen()  # after a reconnection the socket is another one
        if changes:
            self.changed.emit(changes)
        return changes

    def announce(self) -> None:
        """This window wrote (a save, an import, a merge): the feed leaves out our own
        writes, so the change is told here, through the same signal as the others'."""
        self.changed.emit(ChangeSet(complete=False))

    # --- what the window does with a change ---------------------------------------------

    def _apply(self, changes: ChangeSet) -> None:
        window = self.window
        window._choices = None  # new organisations, contracts or axes for the editors
        current = window.current_page()
        for page in window.pages.built():
            if page is not current:
                page.mark_stale()
        reload_in_place(current)
        window.show_field_status()  # a copy brought back, a base restored
        self.check_editors(changes)
        if changes.logins():
            window.statusBar().showMessage(
                f"Mis à jour : modifications de {', '.join(changes.logins())}.", 6000)

    def check_editors(self, changes: ChangeSet) -> None:
        """Each open editor compares the version it shows with the base's: the aggregate
        moves its version when a line or a payment changes, which the audit entries of
        the line alone would not say."""
        editors = [(e, EDITED_ENTITIES.get(type(e).__name__)) for e in self.window.editors]
        # An editor being saved would take its own save for another agent's.
        editors = [(e, entity) for e, entity in editors if entity and not e.saving
                   and e.original is not None and e.original.id is not None]
        if not editors:
            return
        db = self.window.db
        with db.read() as session:
            found = []
            for editor, entity in editors:
                record_id = editor.original.id
                stamp = record_stamp(session, entity, record_id)
                if stamp is None:
                    gone = changes.about(entity, record_id) or last_change(
                        session, entity, record_id)
                    found.append((editor, ExternalChange(
                        entity, gone.login if gone else None, gone.at if gone else None,
                        deleted=True)))
                elif stamp.version != editor.original.version:
                    found.append((editor, ExternalChange(
                        entity, stamp.updated_by, stamp.updated_at, version=stamp.version)))
        for editor, change in found:
            known = banner_of(editor).change
            if known is not None and (known.version, known.deleted) == (
                    change.version, change.deleted):
                continue  # already said, and the agent chose to keep the input
            editor.external_change(change)


def _key(row: dict | None) -> Any:
    if row is None:
        return None
    return row.get("id", row.get("code"))


def reload_in_place(page: Any) -> None:
    """Reload a page keeping the selected row (found again by its id) and the scroll."""
    view = page.tabs.currentWidget() if hasattr(page, "tabs") else page
    table, model = getattr(view, "table", None), getattr(view, "model", None)
    if not isinstance(table, QTableView) or not isinstance(model, PagedTableModel):
        page.reload()
        return
    selected = _key(view.current_row())
    column = max(table.currentIndex().column(), 0)
    offset = table.verticalScrollBar().value()
    loaded = model.rowCount()
    view.reload()
    while model.rowCount() < loaded and model.canFetchMore():
        model.fetchMore()
    if selected is not None:
        for index in range(model.rowCount()):
            if _key(model.row(index)) == selected:
                table.setCurrentIndex(model.index(index, column))
                break
    table.verticalScrollBar().setValue(offset)
