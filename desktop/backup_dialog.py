"""*Fichier › Restaurer une sauvegarde…*: the backups of the base (date, reason, counts,
size) and the restore of the one chosen, after a confirmation that names it."""

from __future__ import annotations

from datetime import datetime

from babel.numbers import format_decimal
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db.backups import Backup, RestoreResult, list_backups, restore
from db.backups.rotation import DAILY, MONTHLY, WEEKLY
from db.database import Database
from db.errors import UserError
from db.formatting import LOCALE, long_date, number
from desktop.tasks import run_with_progress

COLUMNS = ("Date", "Motif", "Contrats", "Opérations", "Lignes de financement", "Versements",
           "Taille")
COUNTS = ("contracts", "operations", "funding_lines", "payments")
POSTGRES_TIP = ("La base est sur un serveur PostgreSQL : elle se sauvegarde et se restaure "
                "sur le serveur (pg_dump, pg_restore ; voir le README).")


def when(backup: Backup) -> str:
    """« 4 février 2026 à 09:15 », on the agent's clock."""
    local: datetime = backup.taken_at.astimezone()
    return f"{long_date(local.date())} à {local:%H:%M}"


def size(octets: int) -> str:
    return f"{format_decimal(octets / 1_000_000, '#,##0.0', locale=LOCALE)} Mo"


class BackupDialog(QDialog):
    restored = Signal(object)  # RestoreResult

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.backups: list[Backup] = []
        self.setWindowTitle("Restaurer une sauvegarde")
        self.setMinimumSize(900, 480)
        intro = QLabel(
            f"Sauvegardes de la base {db.display()}. L'application en prend une chaque jour "
            "à la première ouverture, et avant chaque import, fusion d'une copie de terrain, "
            "mise à jour et restauration ; elle garde celles des "
            f"{DAILY} derniers jours, des {WEEKLY} dernières semaines et des {MONTHLY} "
            "derniers mois. Restaurer remplace tout le contenu de la base ; la base actuelle "
            "est d'abord sauvegardée.")
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setAccessibleName("Sauvegardes")
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.empty = QLabel("Aucune sauvegarde de cette base pour l'instant.")
        self.restore_button = QPushButton("&Restaurer…")
        self.restore_button.setEnabled(False)
        self.restore_button.clicked.connect(self.restore_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        self.table.itemSelectionChanged.connect(
            lambda: self.restore_button.setEnabled(self.selected() is not None))
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.empty)
        layout.addWidget(buttons)
        self.reload()

    def reload(self) -> None:
        self.backups = list_backups(self.db)
        self.table.setRowCount(len(self.backups))
        for row, backup in enumerate(self.backups):
            cells = [when(backup), backup.reason,
                     *(number(backup.counts.get(key, 0)) for key in COUNTS), size(backup.size)]
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if column >= 2:
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                          | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(str(backup.path))
                self.table.setItem(row, column, item)
        self.empty.setVisible(not self.backups)
        self.restore_button.setEnabled(self.selected() is not None)

    def selected(self) -> Backup | None:
        rows = self.table.selectionModel().selectedRows()
        return self.backups[rows[0].row()] if rows else None

    def restore_selected(self) -> RestoreResult | None:
        backup = self.selected()
        if backup is None:
            return None
        answer = QMessageBox.question(
            self, "Restaurer une sauvegarde",
            f"Remplacer tout le contenu de la base par la sauvegarde du {when(backup)} "
            f"({backup.reason}) ?\n\nLes saisies faites depuis seront retirées. La base "
            "actuelle est d'abord sauvegardée (« avant restauration ») : elle pourra être "
            "restaurée à son tour.")
        if answer != QMessageBox.StandardButton.Yes:
            return None
        try:
            result = run_with_progress(self, "Restauration de la sauvegarde…",
                                       lambda: restore(self.db, backup))
        except UserError as error:
            QMessageBox.warning(self, "Restauration refusée", error.message)
            self.reload()
            return None
        if not result.health.healthy:
            QMessageBox.warning(self, "Contrôle de la base restaurée",
                                "La sauvegarde est restaurée, mais le contrôle de la base "
                                "signale :\n" + "\n".join(result.health.problems[:10]))
        self.restored.emit(result)
        self.accept()
        return result
