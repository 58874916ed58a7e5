"""Opening a database: SQLite file (default) or PostgreSQL server (by URL).

Checks what it is given before touching it, refuses a database newer than the
application, backs up an older one and upgrades it in one transaction.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from db import audit, lengths
from db.attachments import hooks as attachment_hooks
from db.changes import hooks as change_hooks
from db.errors import DatabaseOpenError, UserError

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_MS = 5000


class AppSession(Session):
    """Session class carrying the audit hook."""


audit.install(AppSession)
lengths.install(AppSession)  # same text limits on SQLite as on PostgreSQL, no NUL
change_hooks.install(AppSession)
attachment_hooks.install(AppSession)


def alembic_config(connection: Any = None):
    from alembic.config import Config  # only to upgrade: Alembic costs 0,2 s to import

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def known_revisions() -> list[str]:
    """The revisions this version of the application knows, oldest first.

    Read from the file names (``0004_plans….py`` is revision ``0004``) so that opening
    an up-to-date base never imports Alembic; a test checks that the names and
    Alembic's own chain agree."""
    return sorted(path.name.partition("_")[0]
                  for path in (MIGRATIONS_DIR / "versions").glob("[0-9]*_*.py"))


def head_revision() -> str:
    return known_revisions()[-1]


@dataclass(frozen=True)
class Target:
    """What the user pointed at: a SQLite file or a server URL."""

    url: URL
    path: Path | None  # set for SQLite files

    @property
    def is_sqlite(self) -> bool:
        return self.path is not None

    def display(self) -> str:
        if self.path is not None:
            return str(self.path)
        return self.url.set(drivername=self.url.get_backend_name()).render_as_string(
            hide_password=True)


def parse_target(target: str | os.PathLike[str]) -> Target:
    text = os.fspath(target)
    if "://" not in text:
        path = Path(text).expanduser().resolve()
        return Target(URL.create("sqlite+pysqlite", database=str(path)), path)
    try:
        url = make_url(text)
    except Exception as exc:
        raise DatabaseOpenError(f"Adresse de base de données illisible : {text}") from exc
    if url.get_backend_name() == "sqlite":
        if not url.database:
            raise DatabaseOpenError("Une base SQLite doit être un fichier, pas la mémoire.")
        path = Path(url.database).expanduser().resolve()
        return Target(URL.create("sqlite+pysqlite", database=str(path)), path)
    if url.get_backend_name() == "postgresql":
        return Target(url.set(drivername="postgresql+psycopg"), None)
    raise DatabaseOpenError(
        f"Type de base non pris en charge : {url.get_backend_name()} "
        "(fichier SQLite ou serveur PostgreSQL attendu).")


def _check_sqlite_file(path: Path, *, must_write: bool) -> bool:
    """Validate an SQLite file without modifying it; return True if it exists."""
    if not path.exists():
        if not path.parent.is_dir():
            raise DatabaseOpenError(f"Le dossier {path.parent} n'existe pas.")
        if must_write and not os.access(path.parent, os.W_OK):
            raise DatabaseOpenError(
                f"Impossible de créer la base {path} : le dossier est en lecture seule.")
        return False
    if path.is_dir():
        raise DatabaseOpenError(f"{path} est un dossier, pas une base de données.")
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as exc:
        raise DatabaseOpenError(f"Impossible de lire {path} : {exc.strerror}.") from exc
    if not header:
        raise DatabaseOpenError(f"Le fichier {path} est vide : ce n'est pas une base de données.")
    if not header.startswith(SQLITE_HEADER) or len(header) < 100:
        raise DatabaseOpenError(
            f"Le fichier {path} n'est pas une base de données de l'application "
            "(ce n'est pas un fichier SQLite).")
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    page_count = int.from_bytes(header[28:32], "big")
    header_count_valid = header[24:28] == header[92:96]
    size = path.stat().st_size
    # A checkpoint cut short (a full disk) leaves the file shorter than its header says
    # while the -wal still holds every page: SQLite reads them there, the base is whole.
    wal = path.with_name(f"{path.name}-wal")
    wal_pending = wal.is_file() and wal.stat().st_size > 32
    if page_size < 512 or (not wal_pending and (size % page_size or (
            header_count_valid and size < page_size * page_count))):
        raise DatabaseOpenError(
            f"La base {path} est endommagée : le fichier est tronqué "
            f"({size} octets au lieu de {page_size * page_count}). "
            f"{_restore_advice(path)}")
    # The write bits too: a file marked read-only stays so even for an administrator.
    if must_write and (not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222):
        raise DatabaseOpenError(
            f"La base {path} est en lecture seule : l'application doit pouvoir y écrire. "
            "Vérifiez les droits du fichier ou copiez-le ailleurs.")
    if must_write and not os.access(path.parent, os.W_OK):
        raise DatabaseOpenError(
            f"Le dossier de la base {path} est en lecture seule : SQLite doit y créer "
            "son journal. Copiez la base dans un dossier accessible en écriture.")
    return True


def _read_only_reason(path: Path) -> str | None:
    """Why an existing SQLite file cannot be written here (None if it can): it is then
    opened for consultation instead of refused (a copy on a CD, a locked-down share…)."""
    # The write bits too: a file marked read-only stays so even for an administrator.
    if not os.access(path, os.W_OK) or not path.stat().st_mode & 0o222:
        return "le fichier est en lecture seule"
    try:  # root ignores the bits: only trying says whether the file can be written
        with path.open("r+b"):
            pass
    except OSError:
        return "le fichier ne peut pas être modifié (protégé ou support en lecture seule)"
    if not os.access(path.parent, os.W_OK):
        return "son dossier est en lecture seule (SQLite ne peut pas y écrire son journal)"
    return None


def _read_only_uri(path: Path, immutable: bool) -> str:
    return f"{path.as_uri()}?mode=ro" + ("&immutable=1" if immutable else "")


def _read_only_immutable(path: Path) -> bool:
    """Whether the base must be read as immutable: a read-only connection to a WAL base
    needs its -shm, which a read-only folder or medium cannot hold; nothing can write
    to the file there either, so reading it without locks is safe."""
    try:
        probe = sqlite3.connect(_read_only_uri(path, False), uri=True)
        try:
            probe.execute("SELECT count(*) FROM sqlite_master").fetchone()
        finally:
            probe.close()
    except sqlite3.OperationalError:
        return True
    return False


def _restore_advice(path: Path) -> str:
    from db.fault_messages import restore_advice  # lists the backups: only when needed

    return restore_advice(path)


def _sqlite_state(path: Path) -> tuple[str | None, set[str]]:
    """Revision and tables of an existing file, read without modifying it."""
    try:
        probe = sqlite3.connect(_read_only_uri(path, _read_only_immutable(path)), uri=True)
        try:
            tables = {row[0] for row in probe.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'")}
            revision = None
            if "alembic_version" in tables:
                row = probe.execute("SELECT version_num FROM alembic_version").fetchone()
                revision = row[0] if row else None
        finally:
            probe.close()
    except sqlite3.DatabaseError as exc:
        from db.fault_messages import fault_message  # damage only when it is damage

        raise DatabaseOpenError(fault_message(exc, path)) from exc
    return revision, tables - {"alembic_version"}


def _configure_sqlite(engine: Engine, read_only: bool = False) -> None:
    @event.listens_for(engine, "connect")
    def on_connect(dbapi_connection: Any, record: Any) -> None:
        # Let SQLAlchemy's "begin" event below decide when transactions start.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not read_only:  # setting the journal mode writes the file's header
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """An open database: engine, sessions, and what it is."""

    def __init__(self, engine: Engine, target: Target,
                 read_only_reason: str | None = None) -> None:
        self.engine = engine
        self.target = target
        # Set when the file cannot be written here: opened for consultation only.
        self.read_only_reason = read_only_reason
        self._sessions = sessionmaker(engine, class_=AppSession, expire_on_commit=False)
        writer = engine.execution_options(sqlite_begin="IMMEDIATE") if target.is_sqlite else engine
        self._writer_sessions = sessionmaker(writer, class_=AppSession, expire_on_commit=False)
        self.backup_path: Path | None = None

    @property
    def is_sqlite(self) -> bool:
        return self.target.is_sqlite

    @property
    def read_only(self) -> bool:
        return self.read_only_reason is not None

    def read_only_message(self) -> str:
        return (f"La base {self.display()} est ouverte en lecture seule "
                f"({self.read_only_reason}) : aucune modification possible. Copiez-la "
                "dans un dossier accessible en écriture pour la modifier.")

    @property
    def mode_label(self) -> str:
        return "fichier local" if self.is_sqlite else "serveur PostgreSQL"

    def display(self) -> str:
        return self.target.display()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for queries; one consistent snapshot until it closes."""
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def write(self, *, batch_id: Any = None, login: str | None = None,
              origin: str = "saisie") -> Iterator[Session]:
        """One transaction: everything inside is committed together or not at all.

        *origin* goes to the audit trail with every change: "saisie" (an editor),
        "import", "terrain" (a field copy merged back)…"""
        if self.read_only:  # refused before anything is prepared, with the reason
            raise UserError(self.read_only_message())
        with self._writer_sessions() as session:
            session.info["batch_id"] = batch_id
            session.info["origin"] = origin
            session.info["database"] = self  # whose write it is (db.changes.hooks)
            if login:
                session.info["login"] = login
            try:
                with session.begin():
                    if not self.is_sqlite:  # as SQLite's busy timeout: no endless wait
                        session.execute(text(f"SET LOCAL lock_timeout = {BUSY_TIMEOUT_MS}"))
                    yield session
            except DBAPIError as exc:  # a fault of the base, not of the data: in French
                from db.failures import write_failed

                failed = write_failed(exc, path=self.target.path, where=self.display(),
                                      server=not self.is_sqlite)
                if failed is None:
                    raise
                raise failed from exc

    def revision(self) -> str | None:
        with self.engine.connect() as connection:
            return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()

    def close(self) -> None:
        if self.is_sqlite and not self.read_only:
            self._optimize()
        self.engine.dispose()

    def analyze(self) -> None:
        """Gather the planner's statistics after a bulk load (an import, a generated base):
        without them PostgreSQL pages the operation list in 0,74 s instead of a few ms, and
        SQLite ignores the covering indexes of the totals."""
        self._statistics("ANALYZE")

    def _optimize(self) -> None:
        """Refresh the statistics of the tables this session queried, as SQLite advises
        before closing a connection."""
        self._statistics("PRAGMA optimize")

    def _statistics(self, statement: str) -> None:
        # Statistics are only an optimisation: a base locked by another program or
        # read-only keeps the ones it has, and nothing waits for it.
        try:
            with self.engine.connect() as connection:
                if self.is_sqlite:
                    connection.exec_driver_sql("PRAGMA busy_timeout = 100")
                    connection.exec_driver_sql("PRAGMA analysis_limit = 1000")
                connection.exec_driver_sql(statement)
                connection.commit()
                if self.is_sqlite:  # the pooled connection serves the saves again
                    connection.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        except DBAPIError:
            pass


def _make_engine(target: Target, read_only: bool = False) -> Engine:
    if target.is_sqlite:
        # Pooled connections may serve a worker thread after the GUI thread: the
        # pool guarantees one user at a time, so sqlite3's thread check can go.
        connect_args: dict[str, Any] = {"timeout": BUSY_TIMEOUT_MS / 1000,
                                        "check_same_thread": False}
        url = target.url
        if read_only:  # a URI says "read only" to SQLite itself
            path: Path = target.path  # type: ignore[assignment]
            url = URL.create("sqlite+pysqlite",
                             database=_read_only_uri(path, _read_only_immutable(path)),
                             query={"uri": "true"})
        engine = create_engine(url, connect_args=connect_args)
        _configure_sqlite(engine, read_only)
        return engine
    return create_engine(target.url, pool_pre_ping=True,
                         connect_args={"connect_timeout": 5, "application_name": "suivi-contrats"})


def _connect_error(target: Target, exc: Exception) -> DatabaseOpenError:
    from db.driver_messages import french_reason  # the drivers speak English

    if target.is_sqlite:
        from db.fault_messages import FULL_DISK_ADVICE, is_disk_full_error

        if is_disk_full_error(exc, target.path):
            return DatabaseOpenError(f"Impossible d'ouvrir la base {target.display()} : le "
                                     f"disque est plein. {FULL_DISK_ADVICE}")
        return DatabaseOpenError(
            f"Impossible d'ouvrir la base {target.display()} : {french_reason(exc)}.")
    return DatabaseOpenError(f"Impossible de se connecter au serveur PostgreSQL "
                             f"{target.display()} : {french_reason(exc)}.")


def open_database(target: str | os.PathLike[str], *, create: bool = True,
                  upgrade: bool = True, backup: bool = True) -> Database:
    """Open (and if need be create or upgrade) the database at *target*.

    *backup*: an SQLite base is backed up before an upgrade (db.backups), unless it is
    itself a scratch copy (a backup being restored).

    Raises :class:`DatabaseOpenError` with a French message, having modified
    nothing, when the target is not usable.
    """
    parsed = parse_target(target)
    exists = True
    read_only_reason = None
    if parsed.is_sqlite:
        path: Path = parsed.path  # type: ignore[assignment]
        exists = _check_sqlite_file(path, must_write=not path.exists())
        if not exists and not create:
            raise DatabaseOpenError(f"La base {parsed.display()} n'existe pas.")
        if exists:  # decided before any connection sets WAL on the file
            read_only_reason = _read_only_reason(path)
            state = _sqlite_state(path)
            if read_only_reason is not None:
                _refuse_read_only_upgrade(parsed.display(), read_only_reason, *state)
            _plan_upgrade(parsed.display(), *state, create, upgrade)
    engine = _make_engine(parsed, read_only_reason is not None)
    database = Database(engine, parsed, read_only_reason)
    try:
        _bring_to_head(database, create=create, upgrade=upgrade, backup=backup)
    except BaseException as exc:
        engine.dispose()
        if not exists:  # leave no half-made file behind
            _remove_sqlite_files(parsed.path)  # type: ignore[arg-type]
        if isinstance(exc, OperationalError | DBAPIError):
            raise _connect_error(parsed, exc) from exc
        raise
    return database


def _refuse_read_only_upgrade(where: str, reason: str, current: str | None,
                              tables: set[str]) -> None:
    """A read-only base is consulted as it is: one that would need an upgrade (or is
    empty) cannot be shown, and nothing can be written to it to upgrade it."""
    if current == head_revision() or (current is not None
                                      and current not in known_revisions()):
        return  # up to date, or newer: _plan_upgrade says what to do
    if current is None and not tables:
        raise DatabaseOpenError(f"La base {where} est vide et en lecture seule ({reason}) : "
                                "elle ne peut pas être créée ici.")
    if current is not None:
        raise DatabaseOpenError(
            f"La base {where} est en lecture seule ({reason}) et a été faite par une "
            f"version plus ancienne de l'application (révision {current}) : elle doit "
            "être mise à jour, ce qui demande d'y écrire. Copiez-la dans un dossier "
            "accessible en écriture et ouvrez la copie ; la base n'a pas été modifiée.")


def _plan_upgrade(where: str, current: str | None, tables: set[str], create: bool,
                  upgrade: bool) -> bool:
    """Whether the database must be brought to head; refuse what we must not touch."""
    if current == head_revision():
        return False
    if current is None:
        if tables:
            raise DatabaseOpenError(
                f"La base {where} contient déjà des tables qui ne sont pas celles de "
                "l'application : elle n'a pas été modifiée.")
        if not create:
            raise DatabaseOpenError(f"La base {where} est vide.")
        return True
    if current not in known_revisions():
        raise DatabaseOpenError(
            f"La base {where} a été créée par une version plus récente de l'application "
            f"(révision {current}). Mettez l'application à jour pour l'ouvrir ; "
            "la base n'a pas été modifiée.")
    if not upgrade:
        raise DatabaseOpenError(
            f"La base {where} doit être mise à jour (révision {current}) : ouvrez-la avec "
            "l'application pour la mettre à jour.")
    return True


def _bring_to_head(database: Database, *, create: bool, upgrade: bool,
                   backup: bool = True) -> None:
    with database.engine.connect() as connection:
        tables = set(inspect(connection).get_table_names())
        current = None
        if "alembic_version" in tables:
            current = connection.execute(
                text("SELECT version_num FROM alembic_version")).scalar()
        tables.discard("alembic_version")
    if not _plan_upgrade(database.display(), current, tables, create, upgrade):
        return
    if current is not None and database.is_sqlite and backup:
        from db.backups import take

        database.backup_path = take(database.target.path, "avant-mise-a-jour").path
    # One transaction for the whole upgrade: all of it, or nothing.
    from alembic import command

    with database.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
