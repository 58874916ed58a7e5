"""SQLite backups keep the attachments' contents they reference (issue 13, item 4):
attach, back up, lose the attachment's file, restore, read the attachment again; the
rotation removes a backup's contents with it."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from db.attachments.service import Owner, add_attachment, attachments_of, read_attachment
from db.attachments.store import content_path, folder_of
from db.backups import list_backups, restore, take
from db.backups.pieces import folder_beside
from db.errors import UserError
from db.models import Operation


@pytest.fixture(autouse=True)
def data_home(monkeypatch, tmp_path) -> Path:
    folder = tmp_path / "donnees"
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    return folder


def _attach(db, tmp_path, name: str, body: bytes):
    with db.read() as session:
        operation_id = session.scalar(select(Operation.id).order_by(Operation.reference))
    source = tmp_path / name
    source.write_bytes(body)
    owner = Owner(operation_id=operation_id)
    return owner, add_attachment(db, owner, source)


def test_backup_keeps_contents_and_restore_brings_them_back(demo_db, tmp_path):
    body = b"%PDF-1.4 convention signee " + os.urandom(2048)
    owner, attachment_id = _attach(demo_db, tmp_path, "convention.pdf", body)
    _sha = attachments_of(demo_db, owner)[0].sha256
    stored = content_path(folder_of(demo_db), _sha)
    backup = take(demo_db, "manuelle")
    kept = folder_beside(backup.path) / _sha[:2] / _sha
    assert kept.read_bytes() == body
    assert os.stat(kept).st_ino == os.stat(stored).st_ino  # a hard link, not a copy

    # The file is lost at the office (deleted by hand, a bad clean-up…).
    stored.chmod(0o644)
    stored.unlink()
    with pytest.raises(UserError, match="son fichier manque"):
        read_attachment(demo_db, attachment_id)
    restore(demo_db, backup)
    assert read_attachment(demo_db, attachment_id) == ("convention.pdf", body)


def test_restore_brings_back_a_removed_attachment(demo_db, tmp_path):
    from db.attachments.service import remove_attachment

    body = b"deliberation du conseil municipal " * 200
    owner, attachment_id = _attach(demo_db, tmp_path, "deliberation.txt", body)
    backup = take(demo_db, "manuelle")
    row = attachments_of(demo_db, owner)[0]
    remove_attachment(demo_db, attachment_id, row.version)
    assert not content_path(folder_of(demo_db), row.sha256).exists()
    restore(demo_db, backup)
    assert [r.file_name for r in attachments_of(demo_db, owner)] == ["deliberation.txt"]
    assert read_attachment(demo_db, attachment_id)[1] == body


def test_rotation_removes_the_contents_with_their_backup(demo_db, tmp_path):
    _attach(demo_db, tmp_path, "photo.jpg", b"\xff\xd8\xff" + os.urandom(1000))
    now = datetime.now(UTC).replace(hour=12, minute=0, second=0, microsecond=0)
    older = take(demo_db, "quotidienne", now=now - timedelta(hours=2))
    assert folder_beside(older.path).is_dir()
    newer = take(demo_db, "quotidienne", now=now)  # the same day: the older one goes
    assert [b.path for b in list_backups(demo_db)] == [newer.path]
    assert not older.path.exists() and not folder_beside(older.path).exists()
    assert folder_beside(newer.path).is_dir()


def test_a_base_without_attachments_has_no_contents_folder(sqlite_template, tmp_path):
    import shutil

    from db.database import open_database

    path = tmp_path / "vide.sqlite"
    shutil.copyfile(sqlite_template, path)
    db = open_database(path)
    try:
        backup = take(db, "manuelle")
    finally:
        db.close()
    assert backup.path.is_file() and not folder_beside(backup.path).exists()
