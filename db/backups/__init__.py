"""Backups of SQLite bases (no Qt): taken online, rotated, listed, restored atomically.

See store (folder, names, taking), rotation (what is kept) and restore."""

from db.backups.restore import RestoreRefused, RestoreResult, check_backup, restore
from db.backups.rotation import kept, rotate
from db.backups.store import (
    KINDS,
    Backup,
    BackupError,
    backups_root,
    daily_if_due,
    describe,
    folder_for,
    list_backups,
    take,
)

__all__ = ["KINDS", "Backup", "BackupError", "RestoreRefused", "RestoreResult",
           "backups_root", "check_backup", "daily_if_due", "describe", "folder_for",
           "kept", "list_backups", "restore", "rotate", "take"]
