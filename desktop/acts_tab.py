"""Acts in the GUI: the « Actes » tab of the operation editor (the acts made for its
lines, « Éditer un acte… ») and the batch dialog « Éditer les actes… » of the
simulation editor and of the Financements list (kind or automatic, formats, folder,
a progress bar with Annuler). The work runs in a worker thread (desktop.tasks); all of
it goes through db.acts.generate, never SQL."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from db.database import Database
from db.errors import UserError
from db.formatting import long_date
from db.text import pages
from db.vocabulary import ActKind
from desktop.tasks import ProgressRelay, run_with_progress

FORMAT_CHOICES = [("PDF (à signer, QR code par page)", "pdf"),
                  ("DOCX (Word, LibreOffice)", "docx"), ("ODT (LibreOffice)", "odt")]
FILTERS = {"pdf": "Documents PDF (*.pdf)", "docx": "Documents Word (*.docx)",
           "odt": "Documents OpenDocument (*.odt)"}
COLUMNS = ["Dispositif", "Acte", "Édité le", "Pages", "Empreinte", "Signé le"]


class ActDialog(QDialog):
    """Which act, for which line, in which format (and a refusal's reason)."""

    def __init__(self, lines: Sequence[tuple[Any, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Éditer un acte")
        self.line = QComboBox()
        self.line.setAccessibleName("Subvention")
        for line_id, label in lines:
            self.line.addItem(label, line_id)
        self.kind = QComboBox()
        self.kind.setAccessibleName("Acte")
        for kind in ActKind:
            self.kind.addItem(kind.label, kind.value)
        self.format = QComboBox()
        self.format.setAccessibleName("Format")
        for label, value in FORMAT_CHOICES:
            self.format.addItem(label, value)
        self.reason = QLineEdit()
        self.reason.setAccessibleName("Motif du refus")
        self.reason.setPlaceholderText("vide : la formule générale du modèle")
        self.kind.currentIndexChanged.connect(self._kind_changed)
        form = QFormLayout(self)
        form.addRow("&Subvention", self.line)
        form.addRow("&Acte", self.kind)
        form.addRow("&Format", self.format)
        form.addRow("&Motif du refus", self.reason)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Éditer…")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._kind_changed()

    def _kind_changed(self) -> None:
        self.reason.setEnabled(self.kind.currentData() == ActKind.REFUSAL.value)


class ActsTab(QWidget):
    """The acts made for the operation's lines, newest first."""

    def __init__(self, db: Database, operation_id: Callable[[], Any],
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.operation_id = operation_id
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Actes édités")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        for column in range(len(COLUMNS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch if column == 1
                                        else QHeaderView.ResizeMode.ResizeToContents)
        self.make_button = QPushButton("É&diter un acte…")
        self.make_button.setToolTip("Arrêté attributif, lettre de notification ou de refus, "
                                    "arrêté de prorogation, alerte de caducité, depuis le "
                                    "modèle du bureau")
        self.make_button.clicked.connect(self.make_act)
        self.message = QLabel()
        self.message.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.make_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.stale = True

    def showEvent(self, event: Any) -> None:  # noqa: N802 (Qt override)
        if self.stale:
            self.refresh()
        super().showEvent(event)

    def mark_stale(self, *_: Any) -> None:
        self.stale = True
        if self.isVisible():
            self.refresh()

    def refresh(self) -> None:
        from db.acts.generate import acts_of_operation

        self.stale = False
        operation_id = self.operation_id()
        rows = acts_of_operation(self.db, operation_id) if operation_id else []
        self.table.setRowCount(len(rows))
        for number, row in enumerate(rows):
            cells = [row["scheme"], row["kind_label"], long_date(row["generated_on"]),
                     str(row["pages"]), row["fingerprint"],
                     long_date(row["signed_on"]) if row["signed_on"] else "non signé"]
            for column, value in enumerate(cells):
                self.table.setItem(number, column, QTableWidgetItem(value))
        self.make_button.setEnabled(operation_id is not None)
        if operation_id is None:
            self.message.setText("Enregistrez l'opération avant d'éditer ses actes.")
        elif not rows:
            self.message.setText("Aucun acte édité pour les subventions de cette opération.")
        else:
            self.message.setText("")

    def make_act(self) -> None:
        from db.acts.generate import make_act, safe_name, state_lines

        operation_id = self.operation_id()
        lines = state_lines(self.db, operation_id)
        if not lines:
            QMessageBox.information(self, "Éditer un acte", "Cette opération n'a pas de "
                                    "subvention de l'État : aucun acte à éditer.")
            return
        dialog = ActDialog(lines, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        kind, fmt = ActKind(dialog.kind.currentData()), dialog.format.currentData()
        reference = getattr(self.window(), "reference", None)
        stem = safe_name(reference.text()) if isinstance(reference, QLineEdit) else "acte"
        path, _ = QFileDialog.getSaveFileName(self, "Enregistrer l'acte",
                                              f"{stem}_{kind.value}.{fmt}", FILTERS[fmt])
        if not path:
            return
        target = Path(path if path.lower().endswith(f".{fmt}") else f"{path}.{fmt}")
        values = {"motif_refus": dialog.reason.text().strip()} if dialog.reason.isEnabled() \
            else None
        line_id = dialog.line.currentData()
        try:
            made = run_with_progress(self, f"Édition : {kind.label.lower()}…",
                                     lambda: make_act(self.db, line_id, kind, fmt, target,
                                                      values=values))
        except UserError as error:
            QMessageBox.warning(self, "Éditer un acte", error.message)
            return
        self.refresh()
        self.message.setText(f"Acte enregistré ({kind.label.lower()}) dans {target} "
                             f"(empreinte {made.fingerprint}, {pages(made.pages)}).")


def add_acts_tab(editor: Any, tabs: QTabWidget, record_id: Callable[[], Any]) -> ActsTab:
    """The « Actes » tab of the operation editor, refreshed each time it saves."""
    tab = ActsTab(editor.db, record_id, editor)
    tabs.addTab(tab, "A&ctes")
    editor.saved.connect(tab.mark_stale)
    return tab


# --- Batch -------------------------------------------------------------------------------

class BatchDialog(QDialog):
    """Kind (or automatic), formats and folder of a batch of acts."""

    def __init__(self, count: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Éditer les actes")
        self.kind = QComboBox()
        self.kind.setAccessibleName("Actes à éditer")
        self.kind.addItem("Automatique : arrêté et notification des subventions accordées, "
                          "lettre de refus des refusées", "auto")
        for kind in ActKind:
            self.kind.addItem(kind.label, kind.value)
        self.formats = {value: QCheckBox(label) for label, value in FORMAT_CHOICES}
        self.formats["pdf"].setChecked(True)
        self.folder = QLineEdit()
        self.folder.setAccessibleName("Dossier")
        browse = QPushButton("&Parcourir…")
        browse.clicked.connect(self._browse)
        where = QHBoxLayout()
        where.addWidget(self.folder, 1)
        where.addWidget(browse)
        form = QFormLayout(self)
        form.addRow(QLabel(f"{count} financement(s) choisi(s) ; un fichier par acte et un PDF "
                           "de tous les actes."))
        form.addRow("&Actes", self.kind)
        formats = QHBoxLayout()
        for box in self.formats.values():
            formats.addWidget(box)
        form.addRow("Formats", formats)
        form.addRow("Dossier", where)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Éditer")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        buttons.accepted.connect(self._accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def chosen_formats(self) -> list[str]:
        return [value for value, box in self.formats.items() if box.isChecked()]

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dossier des actes", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _accept(self) -> None:
        if not self.chosen_formats():
            QMessageBox.warning(self, "Éditer les actes", "Choisissez au moins un format.")
        elif not self.folder.text().strip() or not Path(self.folder.text()).is_dir():
            QMessageBox.warning(self, "Éditer les actes", "Choisissez un dossier existant.")
        else:
            self.accept()


def run_batch(parent: QWidget, db: Database, line_ids: Sequence[Any],
              dialog: BatchDialog | None = None) -> Any:
    """Ask, then make the acts in a worker thread with a progress bar and Annuler; the
    outcome is told in a message. Returns the batch result (None when not made)."""
    from db.acts.generate import make_batch

    if not line_ids:
        QMessageBox.information(parent, "Éditer les actes", "Aucun financement à traiter.")
        return None
    dialog = dialog or BatchDialog(len(line_ids), parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    kind, formats = dialog.kind.currentData(), dialog.chosen_formats()
    folder = Path(dialog.folder.text())
    cancel = threading.Event()
    relay = ProgressRelay()

    def work() -> Any:
        return make_batch(db, list(line_ids), kind, folder, formats,
                          progress=lambda done, total: relay.report(
                              f"{done} acte(s) sur {total}", done, total),
                          cancelled=cancel.is_set)

    try:
        result = run_with_progress(parent, "Édition des actes…", work, cancel=cancel,
                                   relay=relay)
    except UserError as error:
        QMessageBox.warning(parent, "Éditer les actes", error.message)
        return None
    lines = [f"{len(result.acts)} acte(s) édité(s) dans {folder}."]
    if result.cancelled:
        lines.append("Édition annulée : les actes déjà écrits sont complets et enregistrés, "
                     "aucun autre ; pas de PDF réunissant les actes.")
    elif result.combined:
        lines.append(f"Tous les actes en un PDF : {result.combined.name}.")
    if result.skipped:
        shown = [why for _, why in result.skipped[:12]]
        more = len(result.skipped) - len(shown)
        lines.append("Non édités :\n" + "\n".join(f"– {why}" for why in shown)
                     + (f"\n… et {more} autre(s)." if more else ""))
    box = QMessageBox(QMessageBox.Icon.Information, "Éditer les actes", "\n\n".join(lines),
                      QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("batchOutcome")
    box.open()
    parent._acts_outcome = box  # kept alive while it shows; tests read it
    return result
