"""A base that cannot be written (chattr +i, read-only medium) is consulted, not refused:
check and the read-only commands work, writes are refused with a French message."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from db.database import open_database
from db.errors import UserError

ROOT = Path(__file__).resolve().parent.parent
needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="chattr +i et mount demandent root / needs root for chattr and mount")


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "main.py"), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)


def csv_file(tmp_path: Path) -> Path:
    path = tmp_path / "suivi.csv"
    path.write_bytes("\r\n".join([
        "N° dossier;Intitulé de l'opération;Maître d'ouvrage;Commune;Coût HT;Financeur;"
        "Montant sollicité",
        "D-010;Église : toiture;Commune de Maubeuge;59392;80 000,00 €;État;24 000"])
        .encode("cp1252"))
    return path


@pytest.fixture
def immutable_base(demo_path):
    subprocess.run(["chattr", "+i", str(demo_path)], check=True)
    yield demo_path
    subprocess.run(["chattr", "-i", str(demo_path)], check=True)


@pytest.fixture
def read_only_medium(demo_path, tmp_path):
    """The demo base alone on a tmpfs remounted read-only, as on a CD or a locked share."""
    mount = tmp_path / "support"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount)], check=True)
    try:
        shutil.copyfile(demo_path, mount / "demo.sqlite")
        subprocess.run(["mount", "-o", "remount,ro", str(mount)], check=True)
        yield mount / "demo.sqlite"
    finally:
        subprocess.run(["umount", str(mount)], check=True)


@needs_root
@pytest.mark.parametrize("which", ["immutable_base", "read_only_medium"])
def test_check_reads_and_import_is_refused(which, request, tmp_path):
    base = request.getfixturevalue(which)
    before = digest(base)
    checked = run_cli("check", "--db", str(base))
    assert checked.returncode == 0, checked.stderr
    assert "Base ouverte en lecture seule" in checked.stdout
    assert "  opérations : " in checked.stdout
    assert "Intégrité SQLite : correcte" in checked.stdout
    imported = run_cli("import", str(csv_file(tmp_path)), "--db", str(base))
    assert imported.returncode == 2
    assert "ouverte en lecture seule" in imported.stderr
    assert "aucune modification possible" in imported.stderr
    assert "endommagée" not in imported.stderr and "Traceback" not in imported.stderr
    listed = run_cli("journal", "--db", str(base))
    assert listed.returncode == 0, listed.stderr
    assert "création" in listed.stdout
    assert digest(base) == before


@needs_root
def test_database_write_is_refused_and_reads_work(read_only_medium):
    database = open_database(read_only_medium)
    try:
        assert database.read_only
        from sqlalchemy import text

        with database.read() as session:
            assert session.execute(text("SELECT count(*) FROM operation")).scalar() > 0
        with pytest.raises(UserError, match="lecture seule.*aucune modification possible"):
            with database.write():
                pass
    finally:
        database.close()


@needs_root
def test_an_older_read_only_base_must_be_upgraded_on_a_copy(demo_path):
    import sqlite3

    connection = sqlite3.connect(demo_path)
    connection.execute("UPDATE alembic_version SET version_num = '0010'")
    connection.commit()
    connection.close()
    subprocess.run(["chattr", "+i", str(demo_path)], check=True)
    try:
        result = run_cli("check", "--db", str(demo_path))
    finally:
        subprocess.run(["chattr", "-i", str(demo_path)], check=True)
    assert result.returncode == 2
    assert "version plus ancienne" in result.stderr
    assert "Copiez-la dans un dossier accessible en écriture" in result.stderr


@needs_root
def test_the_window_opens_a_read_only_base_for_consultation(qtbot, read_only_medium):
    from desktop.main_window import MainWindow
    from desktop.read_only import WRITE_ACTIONS

    database = open_database(read_only_medium)
    window = MainWindow(database)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    try:
        assert window.read_only_banner.isVisible()
        text = window.read_only_banner.text()
        assert text.startswith("Base ouverte en lecture seule")
        assert "Consultation seulement" in text
        for name in WRITE_ACTIONS:
            assert not getattr(window, name).isEnabled(), name
        # Consultation still works: opening, printing, exporting, refreshing.
        assert window.open_record_action.isEnabled()
        assert window.export_action.isEnabled()
        window.refresh_action.trigger()
        assert not window.new_action.isEnabled()
    finally:
        window.close()
        database.close()


def test_a_writable_base_shows_no_read_only_banner(qtbot, demo_db):
    from desktop.main_window import MainWindow

    window = MainWindow(demo_db)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    assert not window.read_only_banner.isVisible()
    assert window.new_action.isEnabled() and window.import_action.isEnabled()
    window.close()
