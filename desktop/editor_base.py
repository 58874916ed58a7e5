"""What every editor shares: unsaved-changes tracking, save / discard / cancel on
leaving, Ctrl+S and Échap, conflicts shown to the agent, confirmed deletion."""

from __future__ import annotations

from dataclasses import fields, is_dataclass
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox, QPushButton, QWidget

from db.errors import ConflictError, DeleteRefused, RuleViolation, UserError
from db.failures import WriteFailed
from db.text import elide
from desktop.style import editor_palette
from desktop.writing import run_write, tell_failure


def differences(before: Any, after: Any, labels: dict[str, str]) -> list[str]:
    """Human-readable list of the fields that differ between two records."""
    changes = []
    for item in fields(before):
        if item.name in ("version", "new_owner") or item.name not in labels:
            continue
        old, new = getattr(before, item.name), getattr(after, item.name)
        if old != new:
            if isinstance(old, list) or is_dataclass(old):
                changes.append(f"{labels[item.name]} : modifié")
            else:
                changes.append(f"{labels[item.name]} : « {_show(old)} » → « {_show(new)} »")
    return changes


def _show(value: Any) -> str:
    from datetime import date
    from decimal import Decimal

    from db.formatting import euros, short_date

    if value is None or value == "":
        return "(vide)"
    if isinstance(value, Decimal):
        return euros(value)
    if isinstance(value, date):
        return short_date(value)
    return str(getattr(value, "label", value))


# What stays usable in an editor on a base opened for consultation: it only reads.
READ_ONLY_BUTTONS = {"Fermer", "Annexe financière…", "Fiche synthèse…", "Imprimer le plan…",
                     "Ouvrir", "Enregistrer une copie…"}


class EditorDialog(QDialog):
    """Base of the contract and operation editors (non-modal windows)."""

    saved = Signal()
    what = "la fiche"
    labels: dict[str, str] = {}

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.original: Any = None
        self._loading = False
        # Set on a base opened for consultation: nothing is accepted, with this reason.
        self.read_only_reason: str | None = None
        self.saving = False  # a save under way (desktop.live_refresh leaves it alone)
        self.setPalette(editor_palette(self.palette()))
        QShortcut(QKeySequence.StandardKey.Save, self, activated=self.save)

    # subclasses provide
    def collect(self) -> Any:
        raise NotImplementedError

    def show_data(self, data: Any) -> None:
        raise NotImplementedError

    def reload_from_database(self) -> Any:
        raise NotImplementedError

    def write(self, data: Any) -> Any:
        """Save *data* through the services; runs in a worker thread (desktop.writing),
        so it never touches a widget: :meth:`written` gets its result on the GUI thread."""
        raise NotImplementedError

    def written(self, result: Any) -> None:
        """After a save, on the GUI thread (a new record's id, new choices…)."""

    def remove(self) -> None:
        """Delete the record through the services; runs in a worker thread too."""
        raise NotImplementedError

    # shared behaviour
    def showEvent(self, event: Any) -> None:  # noqa: N802
        # Entrée validates the field being typed, it never presses a button.
        for button in self.findChildren(QPushButton):
            button.setAutoDefault(False)
            button.setDefault(False)
        super().showEvent(event)

    def load(self, data: Any) -> None:
        self._loading = True
        try:
            self.show_data(data)
        finally:
            self._loading = False
        self.original = self.collect()
        self.changed()

    def is_dirty(self) -> bool:
        return self.original is not None and self.collect() != self.original

    def changed(self) -> None:
        """Any field changed: refresh what is derived and the window title."""
        if self._loading:
            return
        self.refresh_derived()
        title = self.window_title()
        if self.read_only_reason is not None:
            title = f"{title} (lecture seule)"
        self.setWindowTitle(f"{title} *" if self.is_dirty() else title)

    def refresh_derived(self) -> None:
        pass

    def window_title(self) -> str:
        return self.what

    def save(self) -> bool:
        # Ctrl+S leaves the focus where it is: an amount or a date being typed is read
        # now (as leaving the field would), else it would be lost by the reload.
        focused = QApplication.focusWidget()
        if focused is not None and self.isAncestorOf(focused) and hasattr(focused, "commit"):
            focused.commit()
        if self.read_only_reason is not None:
            QMessageBox.information(self, "Consultation seule", self.read_only_reason)
            return False
        data = self.prepare_save(self.collect())
        if data is None:
            return False
        try:
            self.store(data)
        except ConflictError as conflict:
            return self.resolve_conflict(data, conflict)
        except RuleViolation as refused:
            QMessageBox.warning(self, "Enregistrement refusé", refused.message)
            return False
        except WriteFailed as failed:  # the fields and the title's « * » stay as typed
            tell_failure(self, "Enregistrement impossible", failed)
            return False
        except UserError as error:
            QMessageBox.warning(self, "Enregistrement impossible", error.message)
            return False
        self.load(self.reload_from_database())
        self.saved.emit()
        return True

    def store(self, data: Any) -> None:
        """:meth:`write` off the GUI thread (retried while the base is locked), then
        :meth:`written` on it."""
        self.saving = True
        try:
            result = run_write(self, f"Enregistrement {elide('de', self.what)}…",
                               lambda: self.write(data))
        finally:
            self.saving = False
        self.written(result)

    def prepare_save(self, data: Any) -> Any:
        return data

    def resolve_conflict(self, mine: Any, conflict: ConflictError) -> bool:
        try:
            theirs = self.reload_from_database()
        except UserError as error:
            QMessageBox.warning(self, "Conflit", error.message)
            return False
        changes = differences(self.original, theirs, self.labels)
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle("Modifié par quelqu'un d'autre")
        box.setText(conflict.message)
        box.setInformativeText("Ce qui a changé depuis que vous avez ouvert la fiche :\n"
                               + ("\n".join(f"• {c}" for c in changes) or "• (détails)")
                               + "\n\nRecharger : voir leur version (vos modifications "
                               "sont perdues). Écraser : enregistrer la vôtre à la place.")
        reload_button = box.addButton("Recharger", QMessageBox.ButtonRole.DestructiveRole)
        overwrite = box.addButton("Écraser", QMessageBox.ButtonRole.AcceptRole)
        box.addButton("Annuler", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is reload_button:
            self.load(theirs)
            return False
        if box.clickedButton() is overwrite:
            mine = self.rebase(mine, theirs)
            try:
                self.store(mine)
            except WriteFailed as failed:
                tell_failure(self, "Enregistrement impossible", failed)
                return False
            except UserError as error:
                QMessageBox.warning(self, "Enregistrement impossible", error.message)
                return False
            self.load(self.reload_from_database())
            self.saved.emit()
            return True
        return False

    def rebase(self, mine: Any, theirs: Any) -> Any:
        """My data on top of their version (children they deleted become new)."""
        mine.version = theirs.version
        return mine

    def external_change(self, change: Any) -> None:
        """Another agent saved or deleted this record (desktop.live_refresh): reload if
        nothing was typed, else say so in a banner before the agent types over it."""
        from desktop.change_banner import announce

        announce(self, change)

    def print_saved(self, title: str, file_name: str, build) -> None:
        """Print what is saved: a document vouches for the database, not for a draft."""
        if self.original is None or getattr(self.original, "id", None) is None:
            QMessageBox.information(self, "Impression", f"Enregistrez {self.what} avant de "
                                    "l'imprimer.")
            return
        if self.is_dirty():
            answer = QMessageBox.question(
                self, "Impression", "Les modifications non enregistrées n'apparaîtront pas "
                "dans le document. Enregistrer d'abord ?",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No
                | QMessageBox.StandardButton.Cancel)
            if answer == QMessageBox.StandardButton.Cancel:
                return
            if answer == QMessageBox.StandardButton.Yes and not self.save():
                return
        from desktop.print_preview import preview

        self.last_preview = preview(self, title, file_name, build)

    def set_read_only(self, reason: str) -> None:
        """Consultation only (a base opened read-only): nothing can be typed, added or
        removed; closing, printing and opening the pieces stay."""
        from PySide6.QtWidgets import (
            QAbstractButton,
            QAbstractItemView,
            QAbstractSpinBox,
            QComboBox,
            QLineEdit,
            QPlainTextEdit,
            QTabBar,
            QTextEdit,
        )

        self.read_only_reason = reason
        for widget in self.findChildren(QLineEdit) + self.findChildren(QAbstractSpinBox):
            widget.setReadOnly(True)
        for widget in self.findChildren(QTextEdit) + self.findChildren(QPlainTextEdit):
            widget.setReadOnly(True)
        for view in self.findChildren(QAbstractItemView):
            view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        for widget in self.findChildren(QComboBox):
            widget.setEnabled(False)
        for button in self.findChildren(QAbstractButton):
            if isinstance(button.parent(), QTabBar):  # the tabs' scroll arrows
                continue
            if button.text().replace("&", "") not in READ_ONLY_BUTTONS:
                button.setEnabled(False)
                button.setToolTip("Base ouverte en lecture seule : consultation seulement")
        self.setWindowTitle(f"{self.window_title()} (lecture seule)")

    def delete(self) -> None:
        if self.read_only_reason is not None:
            QMessageBox.information(self, "Consultation seule", self.read_only_reason)
            return
        if self.original is None or getattr(self.original, "id", None) is None:
            self.discard_and_close()
            return
        answer = QMessageBox.question(
            self, "Supprimer", f"Supprimer définitivement {self.what} ? "
            "La suppression est tracée dans l'historique.")
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            run_write(self, f"Suppression {elide('de', self.what)}…", self.remove)
        except DeleteRefused as refused:
            QMessageBox.warning(self, "Suppression refusée", refused.message)
            return
        except WriteFailed as failed:
            tell_failure(self, "Suppression impossible", failed)
            return
        except UserError as error:
            QMessageBox.warning(self, "Suppression impossible", error.message)
            return
        self.saved.emit()
        self.discard_and_close()

    def discard_and_close(self) -> None:
        self.original = None
        super().reject()

    def reject(self) -> None:  # Échap and the Fermer button
        if self.maybe_leave():
            self.original = None
            super().reject()

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        if self.maybe_leave():
            self.original = None
            event.accept()
        else:
            event.ignore()

    def maybe_leave(self) -> bool:
        if not self.is_dirty():
            return True
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Question)
        box.setWindowTitle("Modifications non enregistrées")
        box.setText(f"Enregistrer les modifications {elide('de', self.what)} ?")
        save = box.addButton("Enregistrer", QMessageBox.ButtonRole.AcceptRole)
        discard = box.addButton("Abandonner", QMessageBox.ButtonRole.DestructiveRole)
        box.addButton("Annuler", QMessageBox.ButtonRole.RejectRole)
        box.exec()
        if box.clickedButton() is save:
            return self.save()
        return box.clickedButton() is discard
