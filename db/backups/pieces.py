"""The attachments' contents of an SQLite backup: beside the base they live in
``<base>.pieces/`` (db.attachments.store), so a backup of the file alone would come
back with its attachments unreadable. Each backup keeps the contents it references in
``<backup>.pieces/``, hard-linked when the folders share a disk (a content never
changes: its name is its sha256, its file is read-only), copied otherwise; a restore
brings back those the live folder lacks; the rotation removes them with their backup.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import uuid
from pathlib import Path

SUFFIX = ".pieces"  # as db.attachments.store, which imports the models


def folder_beside(path: Path) -> Path:
    return path.with_name(path.name + SUFFIX)


def _content(folder: Path, sha256: str) -> Path:
    return folder / sha256[:2] / sha256


def referenced(path: Path) -> list[str]:
    """The contents the SQLite base at *path* keeps beside itself (no data inside)."""
    connection = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if "attachment_content" not in tables:
            return []
        return [row[0] for row in connection.execute(
            "SELECT sha256 FROM attachment_content WHERE data IS NULL ORDER BY sha256")]
    finally:
        connection.close()


def _link_or_copy(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{uuid.uuid4().hex}.tmp")
    try:
        try:
            os.link(source, temporary)
        except OSError:  # another disk, or a file system without hard links
            shutil.copyfile(source, temporary)
            os.chmod(temporary, 0o444)
        os.replace(temporary, target)
    except BaseException:
        with contextlib.suppress(OSError):
            temporary.unlink()
        raise


def keep_contents(base: Path, backup_file: Path, final: Path) -> tuple[int, list[str]]:
    """Put beside *final* (the backup's name) the contents that *backup_file* (the
    backup, maybe still under its temporary name) references, from the live base's
    folder; the number kept and the contents missing from the live folder."""
    wanted = referenced(backup_file)
    target = folder_beside(final)
    if not wanted:
        return 0, []
    source = folder_beside(base)
    partial = target.with_name(f"{target.name}.{os.getpid()}.partiel")
    shutil.rmtree(partial, ignore_errors=True)
    missing = []
    kept = 0
    try:
        for sha256 in wanted:
            original = _content(source, sha256)
            if not original.is_file():
                missing.append(sha256)
                continue
            _link_or_copy(original, _content(partial, sha256))
            kept += 1
        shutil.rmtree(target, ignore_errors=True)
        partial.mkdir(exist_ok=True)
        os.replace(partial, target)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    return kept, missing


def bring_back(backup: Path, restored: Path, live: Path) -> list[str]:
    """Before the live base becomes *restored* (the scratch copy of *backup*): put in
    the live folder every content it references that the folder lacks; the contents
    found nowhere (a backup taken before this step kept them)."""
    folder = folder_beside(live)
    kept = folder_beside(backup)
    lost = []
    for sha256 in referenced(restored):
        target = _content(folder, sha256)
        if target.is_file():
            continue
        source = _content(kept, sha256)
        if not source.is_file():
            lost.append(sha256)
            continue
        _link_or_copy(source, target)
    return lost


def remove_contents(backup: Path) -> None:
    shutil.rmtree(folder_beside(backup), ignore_errors=True)
