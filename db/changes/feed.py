"""Watching one open base: cheap looks, and the audit trail read only when needed."""

from __future__ import annotations

import json
import sqlite3
import time
from datetime import datetime, timedelta
from typing import Any

from db.changes import hooks
from db.changes.model import ChangeSet, Token
from db.changes.reading import MAX_LISTED, changes_since

# SQLite writers take the lock before they write (BEGIN IMMEDIATE): entries come in
# commit order, give or take a first flush made before the lock. A PostgreSQL base
# read without notifications has concurrent writers on machines whose clocks differ.
SQLITE_LOOKBACK = timedelta(seconds=5)
SERVER_LOOKBACK = timedelta(seconds=90)
RECONNECT_SECONDS = 10.0


class _SqliteWatch:
    """``PRAGMA data_version`` moves when another connection commits to the file; on a
    connection of its own that never writes, it moves for every commit, ours too."""

    def __init__(self, path: Any) -> None:
        self._connection = sqlite3.connect(path, isolation_level=None,
                                           check_same_thread=False)
        self._connection.execute("PRAGMA busy_timeout = 1000")
        self._version = self._read()

    def _read(self) -> int:
        return self._connection.execute("PRAGMA data_version").fetchone()[0]

    def woken(self) -> tuple[bool, datetime | None]:
        version = self._read()
        moved, self._version = version != self._version, version
        return moved, None

    def fileno(self) -> int | None:
        return None

    def close(self) -> None:
        self._connection.close()


class _ServerWatch:
    """A connection of its own that LISTENs; each write transaction NOTIFYs at commit
    with its writer and the time it began (db.changes.hooks)."""

    def __init__(self, url: Any, own_writer: str) -> None:
        import psycopg

        conninfo = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self._connection = psycopg.connect(conninfo, autocommit=True, connect_timeout=5,
                                           application_name="suivi-contrats-veille")
        self._connection.execute(f"LISTEN {hooks.CHANNEL}")
        self._own = own_writer

    def woken(self) -> tuple[bool, datetime | None]:
        since: datetime | None = None
        moved = False
        for notice in self._connection.notifies(timeout=0):
            try:
                payload = json.loads(notice.payload)
                writer, began = payload["w"], datetime.fromisoformat(payload["s"])
            except (ValueError, KeyError, TypeError):
                writer, began = "", None
            if writer == self._own:
                continue  # our own save: nothing to read back
            moved = True
            if began is not None:
                since = began if since is None else min(since, began)
        return moved, since

    def fileno(self) -> int | None:
        return self._connection.fileno()

    def close(self) -> None:
        self._connection.close()


class ChangeFeed:
    """What others committed to *database* since the last :meth:`poll`.

    A poll on a quiet base costs one PRAGMA (SQLite) or a look at a socket
    (PostgreSQL); the audit trail is read only after a commit. If the server
    connection is lost the feed reads the audit trail at each poll and tries to
    listen again; the set given when the loss is found is marked incomplete (the
    trail read with its look-back finds what was missed, but a consumer that kept
    state off the trail should check it)."""

    def __init__(self, database: Any) -> None:
        self.db = database
        self._own = hooks.track(database)
        self._lookback = SQLITE_LOOKBACK if database.is_sqlite else SERVER_LOOKBACK
        self._watch: _SqliteWatch | _ServerWatch | None = None
        self._retry_at = 0.0
        self._connect()
        self._token = self._read(Token(), None)[1]

    def _connect(self) -> None:
        try:
            self._watch = (_SqliteWatch(self.db.target.path) if self.db.is_sqlite
                           else _ServerWatch(self.db.target.url, self._own.writer))
        except Exception:  # noqa: BLE001 — no watch: the audit trail is read at each poll
            self._watch = None
            self._retry_at = time.monotonic() + RECONNECT_SECONDS

    @property
    def listening(self) -> bool:
        return self._watch is not None

    def fileno(self) -> int | None:
        return self._watch.fileno() if self._watch is not None else None

    def _read(self, token: Token, since: datetime | None):
        with self.db.read() as session:
            found, token = changes_since(session, token, lookback=self._lookback,
                                         since=since, own=self._own)
        self._own.discard([key for key in token.seen if key in self._own])
        return found, token

    def poll(self) -> ChangeSet | None:
        """Raises the driver's error when the base cannot be read at all; the caller
        tries again at its next poll."""
        complete = True
        since = None
        if self._watch is None and time.monotonic() >= self._retry_at:
            self._connect()  # listening first, then reading: nothing falls in between
        if self._watch is not None:
            try:
                moved, since = self._watch.woken()
            except Exception:  # noqa: BLE001 — the server went away; read the trail instead
                self._drop_watch()
                moved, complete = True, False
            if not moved and complete:
                return None
        found, self._token = self._read(self._token, since)
        if len(found) > MAX_LISTED:
            return ChangeSet((), complete=False)
        changes = ChangeSet(tuple(found), complete=complete)
        return changes or None

    def _drop_watch(self) -> None:
        watch, self._watch = self._watch, None
        self._retry_at = time.monotonic() + RECONNECT_SECONDS
        if watch is not None:
            try:
                watch.close()
            except Exception:  # noqa: BLE001 — already broken
                pass

    def close(self) -> None:
        if self._watch is not None:
            self._watch.close()
            self._watch = None
        hooks.untrack(self.db)
