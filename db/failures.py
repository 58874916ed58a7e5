"""A write that the base refused for a reason outside the data: what it was, in French.

:meth:`db.database.Database.write` turns the driver's error into :class:`WriteFailed`
(base locked by another program, disk full, base no longer writable, server gone, disk
error), so that the agent reads what happened and what to do instead of a traceback,
and the GUI knows which failures are worth retrying: only a lock, which another
program releases, and which SQLite reports before anything of the write was done.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import TypeVar

from db.errors import UserError
from db.fault_messages import fault_message, is_damage, is_disk_full_error

T = TypeVar("T")


class Failure(Enum):
    LOCKED = "base occupée"
    DISK_FULL = "disque plein"
    READ_ONLY = "base non modifiable"
    SERVER_GONE = "serveur injoignable"
    DISK_ERROR = "erreur du disque"
    DAMAGED = "base endommagée"


# PostgreSQL says what it is with a SQLSTATE; SQLite only with its text.
_SQLSTATES = {
    "55P03": Failure.LOCKED,        # lock_not_available (lock_timeout)
    "53100": Failure.DISK_FULL,     # disk_full
    "25006": Failure.READ_ONLY,     # read_only_sql_transaction (a standby, a read-only base)
    "42501": Failure.READ_ONLY,     # insufficient_privilege: the right to write was taken
    "57P01": Failure.SERVER_GONE,   # admin_shutdown, pg_terminate_backend
    "57P02": Failure.SERVER_GONE,   # crash_shutdown
    "57P03": Failure.SERVER_GONE,   # cannot_connect_now
    "08000": Failure.SERVER_GONE, "08003": Failure.SERVER_GONE, "08006": Failure.SERVER_GONE,
    "58030": Failure.DISK_ERROR,    # io_error
}
_TEXTS = [
    (r"database is locked|database table is locked", Failure.LOCKED),
    (r"database or disk is full|No space left on device", Failure.DISK_FULL),
    (r"attempt to write a readonly database|readonly database|unable to open database "
     r"file|permission denied", Failure.READ_ONLY),
    (r"server closed the connection|terminating connection|connection (?:is )?closed|"
     r"consuming input failed|connection refused|could not receive data|lost synchroni",
     Failure.SERVER_GONE),
    (r"disk I/O error", Failure.DISK_ERROR),
]


class WriteFailed(UserError):
    """The base refused the write (locked, full, not writable, unreachable): nothing of
    it was kept. *retryable*: trying again later may succeed with nothing changed."""

    def __init__(self, message: str, failure: Failure) -> None:
        super().__init__(message)
        self.failure = failure

    @property
    def retryable(self) -> bool:
        return self.failure is Failure.LOCKED


def failure_of(error: BaseException) -> Failure | None:
    """What kind of fault a driver error is, or None for one about the data (a
    constraint, a bug) that must not be dressed up as a fault of the base."""
    original = getattr(error, "orig", None) or error
    if is_damage(error):
        return Failure.DAMAGED
    found = _SQLSTATES.get(getattr(original, "sqlstate", None) or "")
    if found is not None:
        return found
    text = str(original)
    for pattern, failure in _TEXTS:
        if re.search(pattern, text, re.IGNORECASE):
            return failure
    if getattr(error, "connection_invalidated", False):
        return Failure.SERVER_GONE
    return None


def write_failed(error: BaseException, *, path: Path | None, where: str,
                 server: bool) -> WriteFailed | None:
    """The :class:`WriteFailed` of a driver error met during a write, if it is a fault."""
    failure = failure_of(error)
    if failure is None:
        return None
    if failure is Failure.DISK_ERROR and is_disk_full_error(error, path):
        failure = Failure.DISK_FULL
    if server and failure is Failure.SERVER_GONE:
        message = (f"La connexion au serveur PostgreSQL {where} a été perdue (serveur "
                   "arrêté ou redémarré, réseau coupé) : l'enregistrement n'a pas abouti. "
                   "Vérifiez le réseau ou demandez si le serveur est en service, puis "
                   "recommencez.")
    elif server and failure is Failure.DISK_FULL:
        message = (f"Le disque du serveur PostgreSQL {where} est plein : rien n'a été "
                   "enregistré. Prévenez l'administrateur du serveur.")
    elif server and failure is Failure.READ_ONLY:
        message = (f"Le serveur PostgreSQL {where} refuse désormais les modifications "
                   "(droits retirés ou base en lecture seule) : rien n'a été enregistré. "
                   "Prévenez l'administrateur du serveur.")
    elif server and failure is Failure.LOCKED:
        message = (f"Un autre poste modifie les mêmes fiches sur le serveur {where} : "
                   "rien n'a été enregistré. Recommencez dans un instant.")
    else:
        message = fault_message(error, path, where)
    return WriteFailed(message, failure)


def retry_while_locked(work: Callable[[], T], *, patience: float = 30.0,
                       waiting: Callable[[int], None] | None = None,
                       clock: Callable[[], float] = time.monotonic,
                       pause: Callable[[float], None] = time.sleep) -> T:
    """Run *work* (one whole write) again while the base is locked by another program,
    for *patience* seconds; *waiting(n)* is told before the n-th new attempt. Each
    attempt itself waits for the lock as long as the driver does (5 s)."""
    start = clock()
    attempt = 1
    while True:
        try:
            return work()
        except WriteFailed as failed:
            if not failed.retryable or clock() - start >= patience:
                raise
        attempt += 1
        if waiting is not None:
            waiting(attempt)
        pause(0.5)
