"""Opening databases: settings, bad input, migrations."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, text

from db.database import alembic_config, head_revision, known_revisions, open_database
from db.errors import DatabaseOpenError
from db.health import check

ROOT = Path(__file__).resolve().parent.parent


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def test_sqlite_connection_settings(tmp_path):
    database = open_database(tmp_path / "a.sqlite")
    with database.read() as session:
        assert session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert session.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert session.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert session.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    database.close()


def test_writers_take_the_lock_at_begin(tmp_path):
    """A write transaction starts with BEGIN IMMEDIATE: a second writer waits, then
    gets a clear "locked" error instead of a half-done unit of work."""
    database = open_database(tmp_path / "a.sqlite")
    with database.write() as session:
        session.execute(text("INSERT INTO app_setting (key, value) VALUES ('a', '1')"))
        other = sqlite3.connect(tmp_path / "a.sqlite", timeout=0.1)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
    database.close()


def test_not_a_database(tmp_path):
    path = tmp_path / "notes.sqlite"
    path.write_text("bonjour")
    before = digest(path)
    with pytest.raises(DatabaseOpenError, match="n'est pas une base de données"):
        open_database(path)
    assert digest(path) == before
    empty = tmp_path / "vide.sqlite"
    empty.write_bytes(b"")
    with pytest.raises(DatabaseOpenError, match="vide"):
        open_database(empty)


def test_truncated_file(demo_path):
    data = demo_path.read_bytes()
    demo_path.write_bytes(data[: len(data) // 2])
    before = digest(demo_path)
    with pytest.raises(DatabaseOpenError, match="tronqué"):
        open_database(demo_path)
    assert digest(demo_path) == before


def test_checkpoint_cut_short_by_a_full_disk(demo_path, tmp_path):
    """A checkpoint stopped by a full disk: page 1 already says the base's new size, the
    file is shorter, and the -wal still holds every page. The base is whole."""
    writer = sqlite3.connect(demo_path)
    writer.execute("PRAGMA wal_autocheckpoint = 0")
    writer.execute("CREATE TABLE padding (blob BLOB)")
    writer.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n "
                   "WHERE i < 300) INSERT INTO padding SELECT randomblob(4000) FROM n")
    writer.commit()
    (pages,) = writer.execute("PRAGMA page_count").fetchone()
    (page_size,) = writer.execute("PRAGMA page_size").fetchone()
    copy = tmp_path / "coupée.sqlite"
    copy.write_bytes(demo_path.read_bytes())  # copied while the writer holds the -wal
    wal = demo_path.with_name(f"{demo_path.name}-wal").read_bytes()
    writer.close()
    copy.with_name(f"{copy.name}-wal").write_bytes(wal)
    data = bytearray(copy.read_bytes())
    assert len(data) < pages * page_size
    data[28:32] = pages.to_bytes(4, "big")  # the header written first by the checkpoint
    copy.write_bytes(bytes(data))

    alone = tmp_path / "sans-journal.sqlite"  # the same file without its -wal is truncated
    alone.write_bytes(bytes(data))
    with pytest.raises(DatabaseOpenError, match="tronqué"):
        open_database(alone, create=False)

    database = open_database(copy, create=False)
    with database.engine.connect() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM padding")).scalar() == 300
    assert check(database).healthy
    database.close()
    assert copy.stat().st_size == pages * page_size  # the checkpoint done on closing


def test_corrupt_schema_page(demo_path):
    data = bytearray(demo_path.read_bytes())
    data[100:4096] = os.urandom(3996)
    demo_path.write_bytes(bytes(data))
    before = digest(demo_path)
    with pytest.raises(DatabaseOpenError, match="endommagée"):
        open_database(demo_path)
    assert digest(demo_path) == before


def test_corrupt_data_pages_are_reported_by_check(demo_path):
    data = bytearray(demo_path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 40960] = b"\x13" * 40960
    demo_path.write_bytes(bytes(data))
    before = digest(demo_path)
    result = run_cli("check", "--db", str(demo_path))
    assert result.returncode != 0
    assert "Erreur" in result.stderr or "Problème" in result.stderr
    assert digest(demo_path) == before


def test_read_only_file(demo_path):
    """Opened for consultation (tests/test_read_only.py), never written."""
    demo_path.chmod(0o444)
    before = digest(demo_path)
    try:
        database = open_database(demo_path)
        assert database.read_only
        database.close()
        result = run_cli("check", "--db", str(demo_path))
        assert result.returncode == 0, result.stderr
        assert "lecture seule" in result.stdout
    finally:
        demo_path.chmod(0o644)
    assert digest(demo_path) == before


def test_missing_folder(tmp_path):
    with pytest.raises(DatabaseOpenError, match="n'existe pas"):
        open_database(tmp_path / "absent" / "base.sqlite")


def test_database_from_a_newer_version_is_refused(demo_path):
    connection = sqlite3.connect(demo_path)
    connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.commit()
    connection.close()
    before = digest(demo_path)
    with pytest.raises(DatabaseOpenError, match="version plus récente"):
        open_database(demo_path)
    assert digest(demo_path) == before
    result = run_cli("check", "--db", str(demo_path), "--json")
    assert result.returncode == 2
    assert "version plus récente" in result.stderr


def test_foreign_tables_are_left_alone(tmp_path):
    path = tmp_path / "autre.sqlite"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE clients (id INTEGER)")
    connection.close()
    before = digest(path)
    with pytest.raises(DatabaseOpenError, match="pas celles de l'application"):
        open_database(path)
    assert digest(path) == before


def test_unreachable_postgresql_server():
    with pytest.raises(DatabaseOpenError, match="Impossible de se connecter"):
        open_database("postgresql://postgres@127.0.0.1:1/nulle_part")
    result = run_cli("check", "--db", "postgresql://postgres:secret@127.0.0.1:1/base")
    assert result.returncode == 2
    assert "Impossible de se connecter au serveur PostgreSQL" in result.stderr
    assert "secret" not in result.stderr


def test_missing_seed_file_creates_nothing(tmp_path):
    target = tmp_path / "demo.sqlite"
    result = run_cli("demo", "--db", str(target), "--seed", str(tmp_path / "absent.json"))
    assert result.returncode == 2
    assert "introuvable" in result.stderr
    assert not target.exists()


def test_the_revision_chain_is_linear():
    script = ScriptDirectory.from_config(alembic_config())
    revisions = list(script.walk_revisions())
    assert len(script.get_heads()) == 1
    assert all(len(r._all_down_revisions) <= 1 for r in revisions)
    assert revisions[-1].down_revision is None


def test_the_file_names_give_alembic_revisions():
    """Opening a base reads the revisions from the file names, without Alembic."""
    script = ScriptDirectory.from_config(alembic_config())
    chain = [r.revision for r in reversed(list(script.walk_revisions()))]
    assert known_revisions() == chain
    assert head_revision() == script.get_current_head()
    for revision in script.walk_revisions():
        assert Path(revision.path).name.startswith(f"{revision.revision}_")


def test_opening_an_up_to_date_base_does_not_import_alembic(tmp_path):
    target = tmp_path / "base.sqlite"
    open_database(target).close()
    probe = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom db.database import open_database\n"
         f"open_database({str(target)!r}).close()\n"
         "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"],
        capture_output=True, text=True, cwd=Path(__file__).parents[1], check=True)
    assert probe.stdout.strip() == "[]"


def test_database_made_at_the_initial_revision_is_backed_up_and_upgraded(tmp_path):
    path = tmp_path / "ancienne.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
        connection.execute(text(
            "INSERT INTO organisation (id, name, kind, version, created_at, created_by, "
            "updated_at, updated_by) VALUES ('0123456789abcdef0123456789abcdef', "
            "'Commune de Test', 'commune', 1, '2024-01-01', 'agent', '2024-01-01', 'agent')"))
    engine.dispose()
    assert head_revision() != "0001"

    database = open_database(path)
    assert database.revision() == head_revision()
    assert database.backup_path is not None and database.backup_path.exists()
    with database.read() as session:
        assert session.execute(text("SELECT name FROM organisation")).scalar() \
            == "Commune de Test"
        assert session.execute(text("SELECT count(*) FROM commune")).scalar() == 34969
    database.close()
    backup = sqlite3.connect(database.backup_path)
    assert backup.execute("SELECT version_num FROM alembic_version").fetchone() == ("0001",)
    assert backup.execute("SELECT count(*) FROM organisation").fetchone() == (1,)
    backup.close()


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_postgresql_database_is_created_and_reopened(db):
    assert db.revision() == head_revision()
    assert db.mode_label == "serveur PostgreSQL"
    reopened = open_database(db.target.url.render_as_string(hide_password=False))
    assert reopened.revision() == head_revision()
    reopened.close()


def test_the_migrations_build_the_models_schema(db):  # SQLite and PostgreSQL
    """What Alembic creates is what the models declare (no column forgotten by a
    migration); the full-text index tables are ours, outside the models."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from db.models import Base

    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    real = [d for d in differences
            if not (d[0] == "remove_table" and "_fts" in d[1].name)
            and not (d[0] == "remove_index" and d[1].name.endswith("_search"))]
    assert real == []
