"""The small dialogs of the « Pièces jointes » tab: the nature of the files being added
(proposed from their names) and, for an operation, the record they go to; the nature
and note of an attachment already there."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db.attachments.places import Place, guess_kind
from db.attachments.service import MAX_SIZE, size_label
from db.vocabulary import AttachmentKind


def kind_combo(kind: AttachmentKind, name: str) -> QComboBox:
    box = QComboBox()
    box.setAccessibleName(name)
    for item in AttachmentKind:
        box.addItem(item.label, item.value)
    box.setCurrentIndex(box.findData(kind.value))
    return box


def chosen_kind(box: QComboBox) -> AttachmentKind:
    return AttachmentKind(box.currentData())


def _size_of(path: Path) -> int | None:
    try:
        return path.stat().st_size if path.is_file() else None
    except OSError:
        return None


class AddDialog(QDialog):
    """One row per file: its name, its size (one over the limit is said before it is
    refused) and its nature; the record they go to when there is a choice."""

    def __init__(self, paths: list[Path], places: list[Place],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.paths = paths
        self.places = places
        count = len(paths)
        self.setWindowTitle("Joindre des fichiers" if count > 1 else "Joindre un fichier")
        self.table = QTableWidget(count, 3)
        self.table.setAccessibleName("Fichiers à joindre")
        self.table.setHorizontalHeaderLabels(["Nom du fichier", "Taille", "Nature"])
        self.table.verticalHeader().setVisible(False)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTextElideMode(Qt.TextElideMode.ElideMiddle)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnWidth(1, 150)
        self.table.setColumnWidth(2, 170)
        self.kinds: list[QComboBox] = []
        for row, path in enumerate(paths):
            name = QTableWidgetItem(path.name)
            name.setToolTip(str(path))
            self.table.setItem(row, 0, name)
            size = _size_of(path)
            text = "—" if size is None else size_label(size)
            if size is not None and size > MAX_SIZE:
                text += f" : trop gros (limite {size_label(MAX_SIZE)})"
            size_item = QTableWidgetItem(text)
            if size is not None and size > MAX_SIZE:
                size_item.setForeground(Qt.GlobalColor.darkRed)
            self.table.setItem(row, 1, size_item)
            kind = kind_combo(guess_kind(path.name), f"Nature de « {path.name} »")
            self.table.setCellWidget(row, 2, kind)
            self.kinds.append(kind)
        self.table.resizeRowsToContents()
        form = QFormLayout()
        self.place = QComboBox()
        self.place.setAccessibleName("Rattacher à")
        for place in places:
            self.place.addItem(place.label)
        if len(places) > 1:
            form.addRow("&Rattacher à", self.place)
        else:
            self.place.hide()
        self.notes = QLineEdit()
        self.notes.setAccessibleName("Note")
        self.notes.setPlaceholderText("Facultatif, pour tous ces fichiers")
        form.addRow("&Note", self.notes)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.accept_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.accept_button.setText("Joindre")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        hint = QLabel("La nature est proposée d'après le nom du fichier ; corrigez-la si "
                      "besoin.")
        hint.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(hint)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(760, min(180 + 34 * count, 520))

    def choices(self) -> tuple[Place, list[tuple[Path, AttachmentKind]], str | None]:
        place = self.places[max(self.place.currentIndex(), 0)]
        files = [(path, chosen_kind(box)) for path, box in zip(self.paths, self.kinds,
                                                                  strict=True)]
        return place, files, self.notes.text().strip() or None


class ChangeDialog(QDialog):
    """Nature and note of one attachment (its content never changes: add another)."""

    def __init__(self, file_name: str, kind: AttachmentKind, notes: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Pièce jointe")
        self.kind = kind_combo(kind, "Nature")
        self.notes = QLineEdit(notes or "")
        self.notes.setAccessibleName("Note")
        name = QLabel(file_name)
        name.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Fichier", name)
        form.addRow("&Nature", self.kind)
        form.addRow("N&ote", self.notes)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Enregistrer")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)
        self.resize(520, self.sizeHint().height())
