"""A fault is reported as what it is: disk full, locked, refused folder — never as a
damaged base; the restore advice names the latest backup, or says there is none."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from db.fault_messages import fault_message, restore_advice

ROOT = Path(__file__).resolve().parent.parent
needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="mount demande root / needs root for mount")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


@needs_root
def test_a_full_disk_is_said_full_not_damaged(tmp_path):
    mount = tmp_path / "petit"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(mount)], check=True)
    try:
        connection = sqlite3.connect(mount / "base.sqlite")
        connection.execute("CREATE TABLE t (b BLOB)")
        with pytest.raises(sqlite3.OperationalError) as caught:
            for _ in range(1000):
                connection.execute("INSERT INTO t VALUES (zeroblob(65536))")
                connection.commit()
        connection.close()
    finally:
        subprocess.run(["umount", str(mount)], check=True)
    message = fault_message(caught.value, mount / "base.sqlite")
    assert "le disque est plein" in message
    assert "Libérez de la place" in message
    assert "endommagée" not in message and "Restaurez" not in message


def test_a_locked_base_is_said_busy(tmp_path):
    path = tmp_path / "base.sqlite"
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("CREATE TABLE t (x)")
    holder.execute("BEGIN EXCLUSIVE")
    other = sqlite3.connect(path, timeout=0)
    try:
        with pytest.raises(sqlite3.OperationalError) as caught:
            other.execute("INSERT INTO t VALUES (1)")
    finally:
        other.close()
        holder.execute("ROLLBACK")
        holder.close()
    message = fault_message(caught.value, path)
    assert "occupée par un autre programme" in message
    assert "endommagée" not in message


def test_a_damaged_file_is_said_damaged_with_no_backup_named(tmp_path):
    path = tmp_path / "base.sqlite"
    path.write_bytes(b"SQLite format 3\x00" + b"\x13" * 8000)
    with pytest.raises(sqlite3.DatabaseError) as caught:
        sqlite3.connect(path).execute("SELECT * FROM sqlite_master").fetchall()
    message = fault_message(caught.value, path)
    assert "endommagée" in message
    assert f"Aucune sauvegarde de la base {path} n'existe" in message


def test_the_restore_advice_names_the_latest_backup(demo_path):
    from db.backups import take

    take(demo_path, "manuelle")
    latest = take(demo_path, "avant-import")
    advice = restore_advice(demo_path)
    assert latest.path.name in advice
    assert f"main.py restore {latest.path.name} --db {demo_path}" in advice


def test_a_backup_into_a_refused_folder_blames_the_folder(demo_path):
    result = run_cli("backup", "--db", str(demo_path), "-o", "/proc/sauvegarde.sqlite")
    assert result.returncode == 2
    assert "La sauvegarde n'a pas pu être écrite dans /proc/sauvegarde.sqlite" in result.stderr
    assert f"La base {demo_path} n'a pas été modifiée" in result.stderr
    assert "endommagée" not in result.stderr and "Traceback" not in result.stderr
