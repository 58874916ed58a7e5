"""Where an attachment's bytes live: a content-addressed folder beside an SQLite base,
the ``attachment_content`` table on PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path
from typing import Any

SUFFIX = ".pieces"
TRASH = ".suppr-"  # a content being removed, until the transaction ends


def folder_of(database: Any) -> Path | None:
    """``/chemin/base.sqlite.pieces`` for an SQLite base; None on PostgreSQL."""
    path = database.target.path
    return None if path is None else path.with_name(path.name + SUFFIX)


def content_path(folder: Path, sha256: str) -> Path:
    return folder / sha256[:2] / sha256


def write_new(target: Path, chunks: Any) -> None:
    """Write *chunks* to *target* through a temporary name in the same folder, fsynced,
    then renamed: the target is never a half file. The temporary is removed on failure."""
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        with open(temporary, "xb") as out:
            for chunk in chunks:
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(temporary, 0o444)  # a viewer opened on it must not change it
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise
    _sync_folder(target.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename durable (POSIX); Windows has no directory fsync."""
    if os.name != "posix":
        return
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def set_aside(path: Path) -> Path | None:
    """Rename a content about to be removed; it is deleted after the commit, or put back
    after a rollback."""
    aside = path.with_name(f"{path.name}{TRASH}{uuid.uuid4().hex}")
    try:
        os.replace(path, aside)
    except FileNotFoundError:
        return None
    return aside


def delete(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.chmod(0o644)  # Windows refuses to delete a read-only file
        path.unlink()
