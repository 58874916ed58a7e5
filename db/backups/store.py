"""Backups of an SQLite base: their folder, their names, taking one, listing them.

A backup is a plain SQLite file (rollback journal, one file) in
``<user data>/sauvegardes/<base id>/``, named ``<kind>-<UTC stamp>.sqlite``, with a
JSON sidecar holding its counts so that the list needs not open every file.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from db.errors import UserError

# File-name kind → how the agent reads it.
KINDS = {
    "quotidienne": "quotidienne",
    "manuelle": "manuelle",
    "avant-import": "avant import",
    "avant-fusion": "avant fusion",
    "avant-mise-a-jour": "avant mise à jour",
    "avant-restauration": "avant restauration",
}
STAMP = "%Y%m%dT%H%M%SZ"
PARTIAL = ".partiel"
SQLITE_HEADER = b"SQLite format 3\x00"
NAME = re.compile(r"^(?P<kind>[a-z-]+?)-(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?\.sqlite$")
COUNTED = {"contracts": "contract", "operations": "operation",
           "funding_lines": "funding_line", "payments": "payment"}
BASE_ID_KEY = "base.identifiant"  # as db.field.checkout, which imports far too much for here


class BackupError(UserError):
    """A backup could not be taken, or a file is no usable backup."""


@dataclass(frozen=True)
class Backup:
    path: Path
    kind: str
    taken_at: datetime  # aware, UTC
    counts: dict[str, int]
    size: int
    revision: str | None
    base_id: str | None

    @property
    def reason(self) -> str:
        return KINDS.get(self.kind, self.kind)

    def as_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "kind": self.kind, "reason": self.reason,
                "taken_at": self.taken_at.isoformat(), "counts": self.counts,
                "size": self.size, "revision": self.revision, "base_id": self.base_id}


def backups_root() -> Path:
    from db.locations import data_dir  # platformdirs: only when a backup is wanted

    return data_dir() / "sauvegardes"


def folder_for(base_id: str | None, path: Path) -> Path:
    """The base's identity names its folder, so that its backups follow it when the file
    is moved; a base too old to have one is known by its path."""
    if base_id:
        return backups_root() / base_id
    digest = hashlib.sha256(str(Path(path).resolve()).encode()).hexdigest()[:16]
    return backups_root() / f"fichier-{digest}"


def folders_of(path: Path) -> list[Path]:
    """Where the backups of the base at *path* may be: its identity's folder, and its
    path's for those taken before it had an identity (before an upgrade)."""
    base_id, _revision = identity(path)
    return list(dict.fromkeys([folder_for(base_id, path), folder_for(None, path)]))


def read_only(path: Path) -> sqlite3.Connection:
    # A base on a read-only medium has no -shm to share: read it as immutable there.
    from db.database import _read_only_immutable, _read_only_uri

    path = Path(path).resolve()
    return sqlite3.connect(_read_only_uri(path, _read_only_immutable(path)), uri=True,
                           timeout=5)


def identity(path: Path) -> tuple[str | None, str | None]:
    """Base id and schema revision of the SQLite file at *path* (None when missing)."""
    connection = read_only(path)
    try:
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        base_id = revision = None
        if "app_setting" in tables:
            row = connection.execute("SELECT value FROM app_setting WHERE key = ?",
                                     (BASE_ID_KEY,)).fetchone()
            base_id = row[0] if row else None
        if "alembic_version" in tables:
            row = connection.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
        return base_id, revision
    finally:
        connection.close()


def counts_of(connection: sqlite3.Connection) -> dict[str, int]:
    tables = {row[0] for row in connection.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    return {key: connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            if table in tables else 0 for key, table in COUNTED.items()}


def integrity(connection: sqlite3.Connection) -> str:
    rows = [row[0] for row in connection.execute("PRAGMA quick_check")]
    return "ok" if rows == ["ok"] else "; ".join(rows[:5])


def sqlite_path(source: Any) -> Path:
    """The file of a Database, or a path as given."""
    target = getattr(source, "target", None)
    if target is not None:
        if target.path is None:
            raise BackupError("Les sauvegardes automatiques ne concernent que les bases SQLite "
                              "(fichier local) ; un serveur PostgreSQL se sauvegarde avec "
                              "pg_dump.")
        return target.path
    return Path(source).expanduser().resolve()


def copy_into(source: Path, target: Path) -> None:
    """Online copy of *source* (other connections may write meanwhile) into a new file.

    One backup step (pages=-1): in WAL mode the read transaction it holds blocks no
    writer, whereas a stepped copy restarts each time another process commits and,
    under a steady writer, might never end."""
    reader = read_only(source)
    try:
        writer = sqlite3.connect(target)
        try:
            reader.backup(writer)
            # The copied header says WAL: a backup is one self-contained file.
            writer.execute("PRAGMA journal_mode = DELETE")
        finally:
            writer.close()
    finally:
        reader.close()


def _fsync(path: Path, directory: bool = False) -> None:
    try:
        handle = os.open(path, os.O_RDONLY | (getattr(os, "O_DIRECTORY", 0) if directory else 0))
    except OSError:  # Windows opens no directory: NTFS orders the rename itself
        return
    try:
        os.fsync(handle)
    except OSError:
        pass
    finally:
        os.close(handle)


def _free_name(folder: Path, kind: str, now: datetime) -> Path:
    stamp = now.astimezone(UTC).strftime(STAMP)
    path, n = folder / f"{kind}-{stamp}.sqlite", 1
    while path.exists():
        n += 1
        path = folder / f"{kind}-{stamp}-{n}.sqlite"
    return path


def take(source: Any, kind: str, *, now: datetime | None = None,
         destination: Path | None = None) -> Backup:
    """Back the base up (a Database or the path of an SQLite file) while it may be in
    use: into its rotation folder, or into *destination*. The file appears whole or not
    at all (written under a temporary name, synced, renamed) and is checked."""
    if kind not in KINDS:
        raise ValueError(f"unknown backup kind {kind!r}")
    path = sqlite_path(source)
    now = now or datetime.now(UTC)
    base_id, _revision = identity(path)
    if destination is None:
        folder = folder_for(base_id, path)
        folder.mkdir(parents=True, exist_ok=True)
        final = _free_name(folder, kind, now)
    else:
        final = Path(destination).expanduser().resolve()
        if final.exists():
            raise BackupError(f"Le fichier {final} existe déjà : choisissez un autre nom.")
        if not final.parent.is_dir():
            raise BackupError(f"Le dossier {final.parent} n'existe pas.")
    # Per process: two agents' windows opening the same base at the same second.
    partial = final.with_name(f"{final.name}.{os.getpid()}{PARTIAL}")
    partial.unlink(missing_ok=True)
    try:
        try:
            copy_into(path, partial)
        except sqlite3.DatabaseError as exc:
            raise _copy_failed(exc, path, final) from exc
        backup = _checked(partial, final, kind, now)
        from db.backups.pieces import keep_contents

        # Before the base's own rename: a backup file present has its contents beside it.
        keep_contents(path, partial, final)
        _fsync(partial)
        os.replace(partial, final)
        _fsync(final.parent, directory=True)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    if destination is None:
        _write_sidecar(backup)
        from db.backups.rotation import rotate

        rotate(final.parent, now)
    return backup


def _copy_failed(exc: sqlite3.DatabaseError, base: Path, final: Path) -> BackupError:
    """The copy failed: on the base's side only if the base is damaged; otherwise the
    backup's file could not be written (folder refused, disk full…), and the base is
    fine."""
    from db.driver_messages import french_reason
    from db.fault_messages import is_damage, restore_advice

    if is_damage(exc):
        return BackupError(f"La sauvegarde n'a pas été faite : la base {base} est "
                           f"endommagée ({french_reason(exc)}). {restore_advice(base)}")
    return BackupError(f"La sauvegarde n'a pas pu être écrite dans {final} "
                       f"({french_reason(exc)}) : choisissez un autre dossier ou libérez "
                       f"de la place. La base {base} n'a pas été modifiée.")


def _checked(partial: Path, final: Path, kind: str, now: datetime) -> Backup:
    connection = sqlite3.connect(partial)
    try:
        state = integrity(connection)
        if state != "ok":
            raise BackupError(f"La sauvegarde n'a pas été faite : la base est endommagée "
                              f"(contrôle SQLite : {state}).")
        counts = counts_of(connection)
    finally:
        connection.close()
    base_id, revision = identity(partial)
    return Backup(final, kind, now.astimezone(UTC), counts, partial.stat().st_size,
                  revision, base_id)


def sidecar(path: Path) -> Path:
    return path.with_name(path.name + ".json")


def _write_sidecar(backup: Backup) -> None:
    target = sidecar(backup.path)
    partial = target.with_name(target.name + PARTIAL)
    partial.write_text(json.dumps(backup.as_dict(), ensure_ascii=False), encoding="utf-8")
    os.replace(partial, target)


def parse_name(name: str) -> tuple[str, datetime] | None:
    match = NAME.match(name)
    if match is None or match["kind"] not in KINDS:
        return None
    return match["kind"], datetime.strptime(match["stamp"], STAMP).replace(tzinfo=UTC)


def describe(path: Path) -> Backup:
    """A backup file as the list shows it: from its sidecar, else from the file."""
    path = Path(path).resolve()
    parsed = parse_name(path.name)
    try:
        data = json.loads(sidecar(path).read_text(encoding="utf-8"))
        return Backup(path, data["kind"], datetime.fromisoformat(data["taken_at"]),
                      {k: int(v) for k, v in data["counts"].items()}, path.stat().st_size,
                      data.get("revision"), data.get("base_id"))
    except (OSError, ValueError, KeyError, TypeError):
        pass  # a sidecar lost (killed between the two renames) or foreign: read the file
    kind, taken_at = parsed or ("manuelle", datetime.fromtimestamp(path.stat().st_mtime, UTC))
    connection = read_only(path)
    try:
        counts = counts_of(connection)
    finally:
        connection.close()
    base_id, revision = identity(path)
    return Backup(path, kind, taken_at, counts, path.stat().st_size, revision, base_id)


def list_backups(source: Any) -> list[Backup]:
    """The backups of a base, newest first."""
    path = sqlite_path(source)
    found = []
    for folder in folders_of(path):
        if folder.is_dir():
            for file in folder.glob("*.sqlite"):
                if parse_name(file.name) is not None:
                    try:
                        found.append(describe(file))
                    except (OSError, sqlite3.DatabaseError):
                        continue  # removed by a rotation meanwhile, or not a base
    return sorted(found, key=lambda backup: backup.taken_at, reverse=True)


def daily_if_due(source: Any, *, now: datetime | None = None) -> Backup | None:
    """The day's backup, at the first opening of the (local) day; None if one exists."""
    if getattr(source, "is_sqlite", True) is False:
        return None
    path = sqlite_path(source)
    now = now or datetime.now(UTC)
    today = now.astimezone().date()
    base_id, _revision = identity(path)
    folder = folder_for(base_id, path)
    if folder.is_dir():
        for file in folder.glob("quotidienne-*.sqlite"):
            parsed = parse_name(file.name)
            if parsed and parsed[0] == "quotidienne" and parsed[1].astimezone().date() == today:
                return None
    return take(path, "quotidienne", now=now)
