"""Putting a backup back in place of the live base, whole or not at all.

The backup is first copied to a scratch file, brought to the current schema and given
the audit entry of the restore; that finished base is then copied INTO the live file by
SQLite's backup API in one step, i.e. one write transaction of the live base: other
connections see the old base or the restored one, and a process killed at any moment
leaves the old one (the uncommitted pages of its WAL are ignored).
"""

from __future__ import annotations

import sqlite3
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from db.backups.store import (
    SQLITE_HEADER,
    Backup,
    BackupError,
    describe,
    identity,
    integrity,
    read_only,
    take,
)

if TYPE_CHECKING:
    from db.database import Database
    from db.health import HealthReport


class RestoreRefused(BackupError):
    """The file given is not a backup this base may take back; nothing was modified."""


@dataclass
class RestoreResult:
    restored: Backup
    before: Backup  # the live base as it was, backed up first
    health: HealthReport


def _damaged(path: Path, why: str) -> RestoreRefused:
    return RestoreRefused(f"La sauvegarde {path} est endommagée ({why}) : elle ne peut pas "
                          "être restaurée. Rien n'a été modifié ; choisissez-en une autre.")


def check_backup(path: Path, db: Database, *, force: bool = False) -> Backup:
    """The backup at *path* if the base *db* may take it back, else RestoreRefused."""
    from db.database import known_revisions

    path = Path(path).expanduser().resolve()
    if not db.is_sqlite:
        raise RestoreRefused(
            "Cette base est sur un serveur PostgreSQL : elle se restaure avec pg_restore "
            "(voir le README, section « Sauvegardes »), pas depuis l'application.")
    if not path.is_file():
        raise RestoreRefused(f"La sauvegarde {path} n'existe pas.")
    if path == db.target.path:
        raise RestoreRefused(f"{path} est la base ouverte elle-même, pas une sauvegarde.")
    with path.open("rb") as handle:
        header = handle.read(100)
    if not header.startswith(SQLITE_HEADER):
        raise RestoreRefused(f"Le fichier {path} n'est pas une sauvegarde de l'application "
                             "(ce n'est pas un fichier SQLite).")
    try:
        connection = read_only(path)
        try:
            state = integrity(connection)
        finally:
            connection.close()
        if state != "ok":
            raise _damaged(path, f"contrôle SQLite : {state}")
        backup_id, revision = identity(path)
        backup = describe(path)
    except sqlite3.DatabaseError as error:
        raise _damaged(path, str(error)) from error
    if revision is None:
        raise RestoreRefused(f"Le fichier {path} n'est pas une base de l'application : "
                             "il ne peut pas être restauré.")
    if revision not in known_revisions():
        raise RestoreRefused(
            f"La sauvegarde {path} vient d'une version plus récente de l'application "
            f"(révision {revision}) : mettez l'application à jour pour la restaurer. "
            "Rien n'a été modifié.")
    live_id, _ = identity(db.target.path)
    if backup_id and live_id and backup_id != live_id and not force:
        raise RestoreRefused(
            f"La sauvegarde {path} est celle d'une autre base (identifiant {backup_id}, "
            f"la base ouverte est {live_id}). Rien n'a été modifié. Pour la restaurer quand "
            "même à la place de cette base, confirmez-le (option --forcer).")
    return backup


def _prepare(backup: Backup, scratch: Path, login: str | None, before: Backup) -> None:
    """The scratch base as the live base will be: at head, with the restore audited."""
    from db.audit import current_login
    from db.backups.store import BASE_ID_KEY, copy_into
    from db.database import open_database
    from db.models import AuditEntry, Setting

    copy_into(backup.path, scratch)
    work = open_database(scratch, create=False, backup=False)
    try:
        with work.write(origin="restauration", login=login) as session:
            if backup.base_id is None and before.base_id:
                # A backup older than the base's identity got a new one from the upgrade:
                # the base stays the same base (its backups, its field copies).
                session.merge(Setting(key=BASE_ID_KEY, value=before.base_id))
            session.add(AuditEntry(
                at=datetime.now(UTC), login=login or current_login(), action="insert",
                entity="restauration", entity_id=backup.path.name[:80],
                changes={"sauvegarde": str(backup.path), "motif": backup.reason,
                         "prise_le": backup.taken_at.isoformat(),
                         "revision": backup.revision,
                         "avant_restauration": str(before.path)},
                origin="restauration"))
    finally:
        work.engine.dispose()


def _copy_over(scratch: Path, live: Path) -> None:
    source = sqlite3.connect(scratch)
    try:
        destination = sqlite3.connect(live, timeout=5)
        try:
            destination.execute("PRAGMA busy_timeout = 5000")
            source.backup(destination)  # pages=-1: one step, one transaction
        finally:
            destination.close()
    finally:
        source.close()


def restore(db: Database, backup: Backup | Path, *, force: bool = False,
            login: str | None = None) -> RestoreResult:
    """Restore *backup* into the live base *db*, having backed the base up first
    ("avant-restauration"); then the base is checked as ``main.py check`` does."""
    from db.health import check

    path = backup.path if isinstance(backup, Backup) else Path(backup)
    chosen = check_backup(path, db, force=force)
    before = take(db, "avant-restauration")
    with tempfile.TemporaryDirectory(prefix="suivi-restauration-") as folder:
        scratch = Path(folder) / "restauration.sqlite"
        _prepare(chosen, scratch, login, before)
        from db.backups.pieces import bring_back

        # The contents first: once the live base is the restored one, it reads them.
        bring_back(chosen.path, scratch, db.target.path)
        _copy_over(scratch, db.target.path)
    db.engine.dispose()  # pooled connections start afresh on the restored base
    return RestoreResult(chosen, before, check(db))
