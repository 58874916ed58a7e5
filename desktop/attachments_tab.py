"""The « Pièces jointes » tab of the contract and operation editors: the files attached
to the record (for an operation, also to its funding lines), added by a button or by
dropping files from the file manager, opened with the system viewer, copied out,
removed with a trace (db.attachments). Adding or removing is a write of its own, not
part of the editor's save: it is announced to the window (desktop.live_refresh) as a
save is."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QObject, QSettings, Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from db.attachments.places import (
    Place,
    PlacedAttachment,
    change_attachment,
    placed_attachments,
    places_of,
)
from db.attachments.service import add_attachment, remove_attachment
from db.attachments.viewing import save_copy, viewable_path
from db.database import Database
from db.errors import UserError
from db.history.values import moment_text
from desktop.attachment_dialogs import AddDialog, ChangeDialog
from desktop.tasks import ProgressRelay, run_with_progress
from desktop.writing import run_write

# (header, width in pixels; 0: takes the room left)
COLUMNS = [("Rattachée à", 140), ("Nature", 125), ("Nom du fichier", 0), ("Taille", 75),
           ("Ajoutée le", 140), ("Par", 80), ("Note", 130)]
PLACE, KIND, NAME, SIZE, ADDED, BY, NOTES = range(len(COLUMNS))
FOLDER_KEY = "pieces_jointes/dossier"
RECORD = {"operation": "l'opération", "contract": "le contrat"}


def local_files(urls: list[QUrl]) -> list[Path]:
    return [Path(url.toLocalFile()) for url in urls if url.isLocalFile()]


class AttachmentsTab(QWidget):
    """Lists what the base holds for the record; every action is one transaction."""

    written = Signal()  # an attachment added, changed or removed here

    def __init__(self, db: Database, entity: str, record_id: Callable[[], Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.entity = entity
        self.record_id = record_id
        self.places: list[Place] = []
        self.shown: list[PlacedAttachment] = []
        self.tabs: QTabWidget | None = None
        self.notice = QLabel()
        self.notice.setWordWrap(True)
        self.notice.setAccessibleName("Pièces jointes : état")
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Pièces jointes")
        self.table.setHorizontalHeaderLabels([c[0] for c in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        # A long name keeps its end: « …_signée.pdf » says more than its beginning.
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        for column, (_label, width) in enumerate(COLUMNS):
            if width:
                self.table.setColumnWidth(column, width)
            else:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnHidden(PLACE, entity != "operation")
        self.table.doubleClicked.connect(lambda _index: self.open_selected())
        self.table.itemSelectionChanged.connect(self._enable)

        self.add_button = QPushButton("Ajouter…")
        self.add_button.setToolTip("Joindre un ou plusieurs fichiers ; vous pouvez aussi "
                                   "les déposer ici depuis l'explorateur de fichiers")
        self.open_button = QPushButton("Ouvrir")
        self.open_button.setToolTip("Ouvrir avec l'application du poste (double clic)")
        self.copy_button = QPushButton("Enregistrer une copie…")
        self.change_button = QPushButton("Nature et note…")
        self.remove_button = QPushButton("Supprimer")
        self.remove_button.setToolTip("Retirer la pièce jointe ; l'historique en garde la "
                                      "trace")
        self.add_button.clicked.connect(self.choose_files)
        self.open_button.clicked.connect(self.open_selected)
        self.copy_button.clicked.connect(self.copy_selected)
        self.change_button.clicked.connect(self.change_selected)
        self.remove_button.clicked.connect(self.remove_selected)
        buttons = QHBoxLayout()
        for widget in (self.add_button, self.open_button, self.copy_button,
                       self.change_button):
            buttons.addWidget(widget)
        buttons.addStretch(1)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.notice)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)

        # Files dropped on the list (its viewport receives them) or around it.
        self.setAcceptDrops(True)
        self.table.setAcceptDrops(True)
        self.table.viewport().setAcceptDrops(True)
        self.table.viewport().installEventFilter(self)
        self.reload()

    # --- reading ----------------------------------------------------------------------

    def saved(self) -> bool:
        return self.record_id() is not None

    def reload(self) -> None:
        record_id = self.record_id()
        selected = self.selected()
        kept = selected.row.id if selected else None
        if record_id is None:
            self.places, self.shown = [], []
        else:
            self.places = places_of(self.db, **{f"{self.entity}_id": record_id})
            self.shown = placed_attachments(self.db, self.places)
        self.table.setRowCount(0)
        self.table.setRowCount(len(self.shown))
        for row, item in enumerate(self.shown):
            attachment = item.row
            texts = {PLACE: item.place.label, KIND: attachment.kind_label,
                     NAME: attachment.file_name, SIZE: attachment.size_label,
                     ADDED: moment_text(attachment.added_at), BY: attachment.added_by,
                     NOTES: attachment.notes or ""}
            for column, text in texts.items():
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                if column == SIZE:
                    cell.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(row, column, cell)
            if attachment.id == kept:
                self.table.selectRow(row)
        self._show_state()

    def _show_state(self) -> None:
        count = len(self.shown)
        if not self.saved():
            self.notice.setText(f"Enregistrez d'abord {RECORD[self.entity]} pour y joindre "
                                "des fichiers.")
        elif count == 0:
            self.notice.setText("Aucune pièce jointe. Ajoutez des fichiers (convention ou "
                                "arrêté signés, délibération, devis, factures, photos) par "
                                "« Ajouter… » ou en les déposant ici.")
        else:
            where = (" de l'opération et de ses lignes de financement"
                     if self.entity == "operation" else " du contrat")
            self.notice.setText(f"{count} pièce{'s' if count > 1 else ''} jointe"
                                f"{'s' if count > 1 else ''}{where}. Double clic : ouvrir "
                                "avec l'application du poste. Déposez des fichiers ici "
                                "pour les joindre.")
        if self.tabs is not None:
            index = self.tabs.indexOf(self)
            if index >= 0:
                self.tabs.setTabText(index, "Pièces &jointes" + (f" ({count})" if count
                                                                 else ""))
        self._enable()

    def _enable(self) -> None:
        self.add_button.setEnabled(self.saved())
        chosen = self.selected() is not None
        for widget in (self.open_button, self.copy_button, self.change_button,
                       self.remove_button):
            widget.setEnabled(chosen)

    def selected(self) -> PlacedAttachment | None:
        rows = self.table.selectionModel().selectedRows() if self.table.selectionModel() \
            else []
        row = rows[0].row() if rows else -1
        return self.shown[row] if 0 <= row < len(self.shown) else None

    def external_change(self, changes: Any) -> None:
        """The base changed (another agent, or another window of ours): read again when
        it may concern what this tab shows."""
        if not self.saved() or not self.window().isVisible():
            return  # a closed editor follows nothing
        # A funding line added or removed is a record files can go to, or no longer.
        if not changes.complete or changes.entities() & {"attachment", "funding_line"}:
            self.reload()

    # --- adding -----------------------------------------------------------------------

    def choose_files(self) -> None:
        if not self.saved():
            return
        settings = QSettings()
        folder = str(settings.value(FOLDER_KEY, "") or Path.home())
        names, _filter = QFileDialog.getOpenFileNames(
            self, "Joindre des fichiers", folder, "Tous les fichiers (*)")
        if names:
            settings.setValue(FOLDER_KEY, str(Path(names[0]).parent))
            self.add_files([Path(name) for name in names])

    def add_files(self, paths: list[Path]) -> bool:
        """Ask the nature (and the record), then add each file; what was refused is said
        in one message, what was accepted stays. True when something was added."""
        if not paths or not self.saved():
            return False
        self.reload()  # lines added or removed since
        dialog = AddDialog(paths, self.places, self)
        self.last_dialog = dialog
        if dialog.exec() != AddDialog.DialogCode.Accepted:
            return False
        place, files, notes = dialog.choices()
        relay = ProgressRelay()

        def work() -> tuple[list[uuid.UUID], list[str]]:
            added, refused = [], []
            for done, (path, kind) in enumerate(files):
                relay.report(path.name, done, len(files))
                try:
                    added.append(add_attachment(self.db, place.owner, path, kind=kind,
                                                notes=notes))
                except UserError as error:
                    refused.append(error.message)
            return added, refused

        try:
            added, refused = run_with_progress(self, "Ajout des pièces jointes…", work,
                                               relay=relay)
        except OSError as error:  # db.attachments turns its own into UserError
            added, refused = [], [f"Pièce jointe : {error.strerror or error}."]
        self.reload()
        if added:
            self._select(added[-1])
            self.written.emit()
        if refused:
            kept = (f"{len(added)} fichier{'s' if len(added) > 1 else ''} joint"
                    f"{'s' if len(added) > 1 else ''} ; " if added else "")
            QMessageBox.warning(self, "Pièces jointes", kept + (
                "non joint :" if len(refused) == 1 else "non joints :") + "\n\n"
                + "\n\n".join(refused))
        return bool(added)

    def _select(self, attachment_id: uuid.UUID) -> None:
        for row, item in enumerate(self.shown):
            if item.row.id == attachment_id:
                self.table.selectRow(row)
                return

    # drag and drop from the file manager
    def _droppable(self, event: Any) -> bool:
        mime = event.mimeData()
        return self.saved() and mime.hasUrls() and bool(local_files(mime.urls()))

    def dragEnterEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        if self._droppable(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: Any) -> None:  # noqa: N802
        self.dragEnterEvent(event)

    def dropEvent(self, event: Any) -> None:  # noqa: N802
        if not self._droppable(event):
            event.ignore()
            return
        paths = local_files(event.mimeData().urls())
        event.acceptProposedAction()
        # The file manager waits for the drop to end: the dialog comes after it.
        QTimer.singleShot(0, lambda: self.add_files(paths))

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        handlers = {QEvent.Type.DragEnter: self.dragEnterEvent,
                    QEvent.Type.DragMove: self.dragMoveEvent, QEvent.Type.Drop: self.dropEvent}
        handler = handlers.get(event.type())
        if handler is not None and watched is self.table.viewport():
            handler(event)
            return True
        return super().eventFilter(watched, event)

    # --- one attachment ---------------------------------------------------------------

    def open_selected(self) -> Path | None:
        item = self.selected()
        if item is None:
            return None
        try:
            # 2 s for 50 Mo read back from PostgreSQL: off the GUI thread.
            path = run_with_progress(self, f"Ouverture de « {item.row.file_name} »…",
                                     lambda: viewable_path(self.db, item.row.id))
        except UserError as error:
            QMessageBox.warning(self, "Ouverture impossible", error.message)
            return None
        except OSError as error:
            QMessageBox.warning(self, "Ouverture impossible", f"« {item.row.file_name} » : "
                                f"la copie temporaire n'a pas pu être écrite "
                                f"({error.strerror or error}).")
            return None
        if not QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))):
            QMessageBox.information(
                self, "Ouverture impossible", f"Aucune application de ce poste n'ouvre "
                f"« {item.row.file_name} ». Utilisez « Enregistrer une copie… » puis "
                "ouvrez le fichier vous-même.")
        return path

    def copy_selected(self) -> Path | None:
        item = self.selected()
        if item is None:
            return None
        settings = QSettings()
        folder = Path(str(settings.value(FOLDER_KEY, "") or Path.home()))
        name, _filter = QFileDialog.getSaveFileName(
            self, "Enregistrer une copie", str(folder / item.row.file_name),
            "Tous les fichiers (*)")
        if not name:
            return None
        try:
            run_with_progress(self, f"Copie de « {item.row.file_name} »…",
                              lambda: save_copy(self.db, item.row.id, name))
        except UserError as error:
            QMessageBox.warning(self, "Copie impossible", error.message)
            return None
        except OSError as error:
            QMessageBox.warning(self, "Copie impossible", f"« {Path(name).name} » n'a pas "
                                f"pu être écrit ({error.strerror or error}).")
            return None
        settings.setValue(FOLDER_KEY, str(Path(name).parent))
        return Path(name)

    def change_selected(self) -> bool:
        item = self.selected()
        if item is None:
            return False
        dialog = ChangeDialog(item.row.file_name, item.row.kind, item.row.notes, self)
        self.last_dialog = dialog
        if dialog.exec() != ChangeDialog.DialogCode.Accepted:
            return False
        from desktop.attachment_dialogs import chosen_kind

        try:
            kind, notes = chosen_kind(dialog.kind), dialog.notes.text()
            run_write(self, "Modification de la pièce jointe…", lambda: change_attachment(
                self.db, item.row.id, item.row.version, kind, notes))
        except UserError as error:
            QMessageBox.warning(self, "Modification impossible", error.message)
            self.reload()
            return False
        self.reload()
        self.written.emit()
        return True

    def remove_selected(self) -> bool:
        item = self.selected()
        if item is None:
            return False
        answer = QMessageBox.question(
            self, "Supprimer la pièce jointe",
            f"Supprimer la pièce jointe « {item.row.file_name} » "
            f"({item.row.kind_label.lower()}, {item.row.size_label}) ?\n"
            "La suppression est tracée dans l'historique.")
        if answer != QMessageBox.StandardButton.Yes:
            return False
        try:
            run_write(self, "Suppression de la pièce jointe…",
                      lambda: remove_attachment(self.db, item.row.id, item.row.version))
        except UserError as error:
            QMessageBox.warning(self, "Suppression impossible", error.message)
            self.reload()
            return False
        self.reload()
        self.written.emit()
        return True

    # --- the window -------------------------------------------------------------------

    def follow(self, live: Any) -> None:
        """What the window hears of the base reloads this list; what is written here is
        announced to the window, as an editor's save is."""
        live.changed.connect(self.external_change)
        self.written.connect(live.announce)


def add_attachments_tab(editor: Any, tabs: QTabWidget, entity: str,
                        record_id: Callable[[], Any]) -> AttachmentsTab:
    """The « Pièces jointes » tab, just before « Historique » (or last): read again when
    the editor saves (the record may have just been created, lines added)."""
    tab = AttachmentsTab(editor.db, entity, record_id, editor)
    history = getattr(editor, "history", None)
    index = tabs.indexOf(history) if history is not None else -1
    if index >= 0:
        tabs.insertTab(index, tab, "Pièces &jointes")
        tab.written.connect(history.mark_stale)
    else:
        tabs.addTab(tab, "Pièces &jointes")
    tab.tabs = tabs
    tab._show_state()
    editor.saved.connect(tab.reload)
    return tab
