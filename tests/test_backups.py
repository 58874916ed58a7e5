"""Backups: rotation over simulated days, restore round trip, a backup taken while another
process writes, SIGKILL during a restore, refusals, command line, window, and the backups
taken before an import, a merge and an upgrade."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox
from sqlalchemy import func, select

import main
from db.backups import (
    BackupError,
    RestoreRefused,
    daily_if_due,
    folder_for,
    list_backups,
    restore,
    take,
)
from db.backups.store import identity
from db.database import open_database
from db.health import check
from db.models import AuditEntry, Contract, FundingLine, Operation, Payment
from tests.bench.generate import generate
from tests.conftest import pg_create, pg_drop, pg_url, require_postgres

ROOT = Path(__file__).parent.parent


@pytest.fixture(autouse=True)
def data_home(monkeypatch, tmp_path) -> Path:
    """Each test its own user data folder, hence its own backups (children inherit it)."""
    folder = tmp_path / "donnees"
    monkeypatch.setenv("XDG_DATA_HOME", str(folder))
    return folder


def counts(db) -> dict[str, int]:
    with db.read() as session:
        return {name: session.scalar(select(func.count()).select_from(model))
                for name, model in (("contracts", Contract), ("operations", Operation),
                                    ("funding_lines", FundingLine), ("payments", Payment))}


def titles(db) -> list[tuple[str, str]]:
    with db.read() as session:
        return session.execute(select(Operation.reference, Operation.title)
                               .order_by(Operation.reference)).all()


def retitle(db, how_many: int, mark: str = " (modifié)") -> None:
    from db.editing import operation_for_edit
    from db.services.operations import save_operation

    with db.read() as session:
        ids = session.scalars(select(Operation.id).order_by(Operation.reference)
                              .limit(how_many)).all()
    for operation_id in ids:
        data = operation_for_edit(db, operation_id)
        data.title = f"{data.title}{mark}"
        save_operation(db, data)


def quick_check(path: Path) -> str:
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return connection.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        connection.close()


# --- Rotation ---------------------------------------------------------------------------

def _tiny_base(path: Path) -> Path:
    """An SQLite file with the tables a backup counts and an identity: 400 backups of it
    take seconds, where 400 of a real base would take minutes."""
    connection = sqlite3.connect(path)
    connection.executescript(
        "CREATE TABLE app_setting (key TEXT PRIMARY KEY, value TEXT);"
        "INSERT INTO app_setting VALUES ('base.identifiant', 'base-de-rotation');"
        "CREATE TABLE contract (id); CREATE TABLE operation (id);"
        "CREATE TABLE funding_line (id); CREATE TABLE payment (id);"
        "INSERT INTO operation VALUES (1), (2);")
    connection.commit()
    connection.close()
    return path


@pytest.fixture
def paris_time():
    """Days, weeks and months of the agent's clock: a fixed zone for the expected set."""
    saved = os.environ.get("TZ")
    os.environ["TZ"] = "Europe/Paris"
    time.tzset()
    yield
    if saved is None:
        os.environ.pop("TZ")
    else:
        os.environ["TZ"] = saved
    time.tzset()


def test_400_days_of_daily_opening_keep_7_days_4_weeks_12_months(tmp_path, paris_time):
    base = _tiny_base(tmp_path / "rotation.sqlite")
    first = datetime(2025, 1, 1, 8, 30, tzinfo=UTC)
    for day in range(400):
        morning = first + timedelta(days=day)
        assert daily_if_due(base, now=morning) is not None  # first opening of the day
        assert daily_if_due(base, now=morning + timedelta(hours=6)) is None  # second
        if day % 10 == 0:
            take(base, "avant-import", now=morning + timedelta(hours=1))
        if day == 5:
            take(base, "avant-fusion", now=morning + timedelta(hours=2))
    found = list_backups(base)
    daily = sorted(b.taken_at.date() for b in found if b.kind == "quotidienne")
    # 2025-01-01 + 399 days = Wednesday 4 February 2026.
    expected = sorted(
        [date(2026, 1, 29) + timedelta(days=n) for n in range(7)]  # the last 7 days
        + [date(2026, 1, 25), date(2026, 1, 18)]  # the Sundays of the 3 weeks before
        + [date(2025, month, last) for month, last in  # the ends of the months before
           ((3, 31), (4, 30), (5, 31), (6, 30), (7, 31), (8, 31), (9, 30), (10, 31),
            (11, 30), (12, 31))])
    assert daily == expected  # January 2026 is kept as its 31st, one of the last 7 days
    imports = sorted(b.taken_at.date() for b in found if b.kind == "avant-import")
    # Within 30 days: the imports of days 370, 380 and 390.
    assert imports == [date(2026, 1, 6), date(2026, 1, 16), date(2026, 1, 26)]
    merges = [b.taken_at.date() for b in found if b.kind == "avant-fusion"]
    assert merges == [date(2025, 1, 6)]  # the newest of its kind, however old
    folder = folder_for("base-de-rotation", base)
    assert sorted(p.name for p in folder.iterdir() if p.suffix == ".sqlite") == sorted(
        b.path.name for b in found)
    assert len(list(folder.glob("*.json"))) == len(found)  # no sidecar left behind
    assert all(b.counts["operations"] == 2 for b in found)


def test_a_backup_file_appears_whole_and_checked(demo_db, data_home):
    backup = take(demo_db, "manuelle")
    assert backup.path.parent == folder_for(identity(demo_db.target.path)[0],
                                            demo_db.target.path)
    assert str(backup.path).startswith(str(data_home))
    assert backup.path.name.startswith("manuelle-") and backup.path.name.endswith("Z.sqlite")
    assert quick_check(backup.path) == "ok"
    assert backup.counts == counts(demo_db)
    assert not list(backup.path.parent.glob("*.partiel"))
    # One self-contained file: no WAL to carry along.
    assert not Path(f"{backup.path}-wal").exists()
    sidecar = json.loads(Path(f"{backup.path}.json").read_text(encoding="utf-8"))
    assert sidecar["counts"] == backup.counts and sidecar["kind"] == "manuelle"


# --- Restore ----------------------------------------------------------------------------

def test_restore_round_trip(demo_db):
    before_titles, before_counts = titles(demo_db), counts(demo_db)
    backup = take(demo_db, "manuelle")
    retitle(demo_db, 5)
    from db.services.operations import delete_operation

    with demo_db.read() as session:
        victim = session.execute(select(Operation.id, Operation.version)
                                 .order_by(Operation.reference.desc())).first()
    delete_operation(demo_db, victim.id, victim.version)
    changed_titles = titles(demo_db)
    assert changed_titles != before_titles

    result = restore(demo_db, backup)
    assert titles(demo_db) == before_titles
    assert counts(demo_db) == before_counts
    assert result.health.healthy, result.health.problems
    assert check(demo_db).healthy
    # The base as it was just before is a backup of its own, checked.
    assert result.before.kind == "avant-restauration" and result.before.path.exists()
    assert quick_check(result.before.path) == "ok"
    kept = open_database(result.before.path, create=False)
    try:
        assert titles(kept) == changed_titles
    finally:
        kept.close()
    with demo_db.read() as session:
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "restauration")).one()
    assert entry.origin == "restauration"
    assert entry.changes["sauvegarde"] == str(backup.path)
    assert entry.changes["avant_restauration"] == str(result.before.path)
    # Another connection (another agent) reads the restored base too.
    other = open_database(demo_db.target.path, create=False)
    try:
        assert titles(other) == before_titles
    finally:
        other.close()


def test_an_older_backup_is_restored_and_upgraded(tmp_path):
    from alembic import command
    from sqlalchemy import create_engine, text

    from db.database import alembic_config, head_revision

    path = tmp_path / "ancienne.sqlite"
    engine = create_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), "0001")
    engine.dispose()
    database = open_database(path)  # upgraded, after its backup « avant mise à jour »
    try:
        upgrade = [b for b in list_backups(database) if b.kind == "avant-mise-a-jour"]
        assert len(upgrade) == 1 and upgrade[0].revision == "0001"
        assert database.backup_path == upgrade[0].path
        result = restore(database, upgrade[0])
        assert database.revision() == head_revision()
        assert result.health.healthy, result.health.problems
        with database.read() as session:
            assert session.execute(text(
                "SELECT count(*) FROM audit_entry WHERE entity = 'restauration' "
                "AND origin = 'restauration'")).scalar() == 1
        # The base keeps its identity (hence its backups) though the backup had none.
        assert identity(path)[0] == result.before.base_id is not None
        assert result.before in list_backups(database)
    finally:
        database.close()


def _another_base(tmp_path: Path, sqlite_template: Path) -> Path:
    path = tmp_path / "autre.sqlite"
    shutil.copyfile(sqlite_template, path)
    connection = sqlite3.connect(path)
    connection.execute("UPDATE app_setting SET value = ? WHERE key = 'base.identifiant'",
                       (str(uuid.uuid4()),))
    connection.commit()
    connection.close()
    return path


def test_refusals_leave_the_base_untouched(demo_db, tmp_path, sqlite_template):
    before = titles(demo_db)
    good = take(demo_db, "manuelle").path

    other = _another_base(tmp_path, sqlite_template)
    with pytest.raises(RestoreRefused, match="celle d'une autre base"):
        restore(demo_db, other)

    newer = tmp_path / "plus-recente.sqlite"
    shutil.copyfile(good, newer)
    connection = sqlite3.connect(newer)
    connection.execute("UPDATE alembic_version SET version_num = '9999'")
    connection.commit()
    connection.close()
    with pytest.raises(RestoreRefused, match="version plus récente"):
        restore(demo_db, newer)

    damaged = tmp_path / "abimee.sqlite"
    data = bytearray(good.read_bytes())
    page = 4096
    for offset in range(3 * page, len(data) - page, 7 * page):  # pages torn apart
        data[offset:offset + 600] = os.urandom(600)
    damaged.write_bytes(bytes(data))
    with pytest.raises(RestoreRefused, match="endommagée"):
        restore(demo_db, damaged)

    text_file = tmp_path / "notes.sqlite"
    text_file.write_text("pas une base")
    with pytest.raises(RestoreRefused, match="pas un fichier SQLite"):
        restore(demo_db, text_file)
    with pytest.raises(RestoreRefused, match="n'existe pas"):
        restore(demo_db, tmp_path / "absente.sqlite")
    with pytest.raises(RestoreRefused, match="la base ouverte elle-même"):
        restore(demo_db, demo_db.target.path)

    assert titles(demo_db) == before
    # Nothing was refused after a backup of the live base: none « avant restauration ».
    assert [b.kind for b in list_backups(demo_db)] == ["manuelle"]

    result = restore(demo_db, other, force=True)  # the agent insisted
    assert counts(demo_db)["operations"] == 0 and result.health.healthy


def test_postgresql_bases_are_not_restored_by_the_application(tmp_path):
    require_postgres()
    name = f"ct_{uuid.uuid4().hex[:12]}"
    pg_create(name)
    try:
        database = open_database(pg_url(name))
        try:
            with pytest.raises(RestoreRefused, match="pg_restore"):
                restore(database, tmp_path / "x.sqlite")
            with pytest.raises(BackupError, match="pg_dump"):
                take(database, "manuelle")
            assert daily_if_due(database) is None
        finally:
            database.close()
    finally:
        pg_drop(name)


# --- A backup while another process writes ------------------------------------------------

WRITER = """
import itertools, sys
from datetime import date
from decimal import Decimal
from db.database import open_database
from db.services.operations import FundingLineData, OperationData, PaymentData, save_operation
from db.vocabulary import FundingStatus, OrganisationKind, PaymentKind
from tests.field_helpers import organisation
db = open_database(sys.argv[1], create=False)
financer = organisation(db, "Fondation d'essai des sauvegardes", OrganisationKind.OTHER)
print("START", flush=True)
for n in itertools.count(1):
    # One operation, one line, one payment per transaction: in every committed state the
    # three counts have grown by the same number.
    save_operation(db, OperationData(
        reference=f"ECRIT-{n:05d}", title=f"Opération écrite n° {n}", cost_ht=Decimal("1000.00"),
        funding_lines=[FundingLineData(
            financer, None, amount_requested=Decimal("500.00"),
            amount_granted=Decimal("500.00"), status=FundingStatus.GRANTED,
            payments=[PaymentData(PaymentKind.INSTALMENT, date(2025, 5, 2),
                                  Decimal("100.00"))])]))
"""


def test_a_backup_taken_while_another_process_writes_is_a_committed_state(demo_path):
    database = open_database(demo_path, create=False)
    start = counts(database)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(demo_path)],
                              stdout=subprocess.PIPE, text=True, cwd=ROOT)
    try:
        assert writer.stdout.readline().strip() == "START"
        time.sleep(0.5)
        seen = []
        for _round in range(6):
            backup = take(database, "manuelle")
            assert quick_check(backup.path) == "ok"
            grown = {key: backup.counts[key] - start[key] for key in start}
            assert grown["contracts"] == 0
            assert grown["operations"] == grown["funding_lines"] == grown["payments"], grown
            seen.append(grown["operations"])
            time.sleep(0.2)
    finally:
        writer.kill()
        writer.wait(timeout=30)
    assert writer.returncode == -signal.SIGKILL  # it was still writing at the end
    assert seen[0] > 0 and seen == sorted(seen) and seen[-1] > seen[0], seen
    assert check(database).healthy
    database.close()


# --- SIGKILL during a restore -------------------------------------------------------------

RESTORER = """
import sys
from pathlib import Path
from db.backups import restore
from db.database import open_database
db = open_database(sys.argv[1], create=False)
print("START", flush=True)
restore(db, Path(sys.argv[2]))
db.close()
print("DONE", flush=True)
"""
RETITLED = 40


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> tuple[Path, Path]:
    """A base of 3 000 generated operations, 40 of them retitled since its backup."""
    folder = tmp_path_factory.mktemp("restauration")
    path, backup = folder / "base.sqlite", folder / "sauvegarde.sqlite"
    generate(str(path), 3000)
    database = open_database(path)
    take(database, "manuelle", destination=backup)
    retitle(database, RETITLED)
    database.close()
    return path, backup


def _restore_in_child(path: Path, backup: Path, delay: float | None) -> float:
    child = subprocess.Popen([sys.executable, "-c", RESTORER, str(path), str(backup)],
                             stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert child.stdout.readline().strip() == "START"
    started = time.perf_counter()
    if delay is None:
        child.wait(timeout=120)
        assert child.returncode == 0
    else:
        time.sleep(delay)
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    return time.perf_counter() - started


def _outcome(path: Path) -> str:
    """"avant" or "restaurée", after a health check; anything else fails."""
    database = open_database(path, create=False)
    try:
        report = check(database)
        assert report.healthy, report.problems
        with database.read() as session:
            retitled = session.scalar(select(func.count()).select_from(Operation)
                                      .where(Operation.title.like("% (modifié)")))
            audited = session.scalar(select(func.count()).select_from(AuditEntry)
                                     .where(AuditEntry.origin == "restauration"))
            operations = session.scalar(select(func.count()).select_from(Operation))
        assert operations == 3000
        assert (retitled, audited) in ((RETITLED, 0), (0, 1)), (retitled, audited)
        for backup in list_backups(database):  # no half backup is ever listed
            assert quick_check(backup.path) == "ok"
        return "avant" if retitled else "restaurée"
    finally:
        database.close()


def test_sigkill_during_restore_leaves_the_old_base_or_the_restored_one(generated, tmp_path):
    def fresh(name: str) -> Path:
        (tmp_path / name).mkdir()
        path = tmp_path / name / "base.sqlite"
        shutil.copyfile(generated[0], path)
        return path

    measured = fresh("mesure")
    duration = _restore_in_child(measured, generated[1], None)
    assert _outcome(measured) == "restaurée"
    outcomes = []
    for round_number, share in enumerate(
            (0.05, 0.2, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.8, 1.0)):
        path = fresh(f"tour-{round_number}")
        _restore_in_child(path, generated[1], duration * share)
        outcomes.append(_outcome(path))
    assert "avant" in outcomes, (duration, outcomes)  # the kills did land during the work


# --- Command line -------------------------------------------------------------------------

def test_command_line_backup_list_and_restore(demo_path, tmp_path, capsys, monkeypatch):
    assert main.main(["backup", "--db", str(demo_path)]) == 0
    assert "Sauvegarde écrite" in capsys.readouterr().out
    assert main.main(["backups", "--db", str(demo_path), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [entry["reason"] for entry in listed] == ["manuelle"]
    assert listed[0]["counts"]["operations"] == 142

    database = open_database(demo_path, create=False)
    before = titles(database)
    retitle(database, 3)
    database.close()

    name = Path(listed[0]["path"]).name
    monkeypatch.setattr("sys.stdin", open(os.devnull))  # no terminal to ask on
    assert main.main(["restore", name, "--db", str(demo_path)]) == 2
    assert "ajoutez --oui" in capsys.readouterr().err
    assert main.main(["restore", name, "--db", str(demo_path), "--oui"]) == 0
    out = capsys.readouterr().out
    assert "Sauvegarde restaurée" in out and "aucun problème détecté" in out
    database = open_database(demo_path, create=False)
    assert titles(database) == before
    database.close()

    assert main.main(["backups", "--db", str(demo_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [" avant restauration " in line for line in lines] == [True, False]

    copy = tmp_path / "copie.sqlite"
    assert main.main(["backup", "--db", str(demo_path), "-o", str(copy)]) == 0
    assert quick_check(copy) == "ok"
    assert main.main(["backup", "--db", str(demo_path), "-o", str(copy)]) == 2
    assert "existe déjà" in capsys.readouterr().err


def test_command_line_on_postgresql_runs_pg_dump_and_names_pg_restore(tmp_path, capsys):
    require_postgres()
    assert shutil.which("pg_dump"), "pg_dump est attendu sur la machine de test"
    name = f"ct_{uuid.uuid4().hex[:12]}"
    pg_create(name)
    try:
        open_database(pg_url(name)).close()
        dump = tmp_path / "base.dump"
        assert main.main(["backup", "--db", pg_url(name), "-o", str(dump)]) == 0
        assert dump.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
        listing = subprocess.run(["pg_restore", "--list", str(dump)], capture_output=True,
                                 text=True, check=True).stdout
        assert "TABLE public operation" in listing
        assert main.main(["restore", str(dump), "--db", pg_url(name)]) == 1
        err = capsys.readouterr().err
        assert "pg_restore --clean" in err and str(dump) in err
    finally:
        pg_drop(name)


# --- The window ---------------------------------------------------------------------------

def test_restore_from_the_window(qtbot, window):
    before = titles(window.db)
    backup = take(window.db, "manuelle")
    retitle(window.db, 4)
    assert window.restore_action.isEnabled()
    dialog = window.open_backups()
    qtbot.waitExposed(dialog)
    assert dialog.table.rowCount() == 1
    assert dialog.table.item(0, 1).text() == "manuelle"
    assert dialog.table.item(0, 3).text() == "142"
    assert not dialog.restore_button.isEnabled()
    dialog.table.selectRow(0)
    assert dialog.restore_button.isEnabled()
    asked = []

    def confirm():
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            asked.append(box.text())
            qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes),
                             Qt.MouseButton.LeftButton)
        else:
            QTimer.singleShot(50, confirm)

    QTimer.singleShot(50, confirm)
    qtbot.mouseClick(dialog.restore_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=20000)
    local = backup.taken_at.astimezone()
    assert asked and f"à {local:%H:%M}" in asked[0] and "(manuelle)" in asked[0]
    assert titles(window.db) == before
    assert "restaurée" in window.statusBar().currentMessage()
    kinds = sorted(b.kind for b in list_backups(window.db))
    assert kinds == ["avant-restauration", "manuelle"]


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_restore_is_disabled_on_postgresql_with_the_reason(qtbot, db):
    from desktop.app import make_application
    from desktop.main_window import MainWindow

    make_application()
    main_window = MainWindow(db)
    qtbot.addWidget(main_window)
    assert not main_window.restore_action.isEnabled()
    assert "pg_restore" in main_window.restore_action.toolTip()
    assert main_window.start_daily_backup() is None


def test_daily_backup_after_the_window_shows_once_a_day(qtbot, generated, tmp_path):
    from desktop.app import make_application
    from desktop.main_window import MainWindow

    path = tmp_path / "base.sqlite"
    shutil.copyfile(generated[0], path)
    make_application()
    database = open_database(path, create=False)
    main_window = MainWindow(database)
    qtbot.addWidget(main_window)
    main_window.show()
    pending = object()
    main_window.last_daily_backup = pending
    started = time.perf_counter()
    assert main_window.start_daily_backup() is not None
    returned = time.perf_counter() - started
    # The GUI thread goes on at once; the 21 Mo copy and its check happen in a worker.
    assert returned < 0.05, returned
    assert not list_backups(database)
    qtbot.waitUntil(lambda: main_window.last_daily_backup is not pending, timeout=30000)
    assert main_window.last_daily_backup.kind == "quotidienne"
    assert "Sauvegarde quotidienne" in main_window.statusBar().currentMessage()
    main_window.last_daily_backup = pending
    main_window.start_daily_backup()
    qtbot.waitUntil(lambda: main_window.last_daily_backup is not pending, timeout=30000)
    assert main_window.last_daily_backup is None  # the second opening of the day takes none
    assert [b.kind for b in list_backups(database)] == ["quotidienne"]
    database.close()


# --- Before an import, a merge, an upgrade ------------------------------------------------

def test_an_import_is_preceded_by_a_backup(demo_db, tmp_path):
    from db.spreadsheets import importer

    before = counts(demo_db)
    sheet = tmp_path / "suivi.csv"
    sheet.write_text("Intitulé;Commune;Coût HT\nToiture de l'église;59392;80 000\n"
                     "Cour d'école;59392;50 000\n", encoding="utf-8")
    report = importer.analyse(demo_db, sheet)
    importer.apply(demo_db, report)
    assert counts(demo_db)["operations"] == before["operations"] + 2
    backups = list_backups(demo_db)
    assert [b.kind for b in backups] == ["avant-import"]
    assert backups[0].counts == before  # the state the import started from
    assert backups[0].reason == "avant import"


def test_a_merge_is_preceded_by_a_backup(sqlite_template, tmp_path):
    from db.field import Scope, checkin, checkout
    from tests.field_helpers import ARRONDISSEMENT, build_office, edit_operation

    path = tmp_path / "bureau.sqlite"
    shutil.copyfile(sqlite_template, path)
    office_db = open_database(path)
    office = build_office(office_db)
    copy_path = tmp_path / "terrain.sqlite"
    checkout(office_db, Scope("arrondissement", (ARRONDISSEMENT,)), copy_path)
    copy = open_database(copy_path, create=False)
    edit_operation(copy, office.operations[0],
                   lambda data: setattr(data, "title", "Titre revu sur le terrain"))
    copy.close()
    report = checkin(office_db, copy_path)
    backups = list_backups(office_db)
    assert [b.kind for b in backups] == ["avant-fusion"]
    assert report.backup == str(backups[0].path)
    kept = open_database(backups[0].path, create=False)
    try:
        assert "Titre revu sur le terrain" not in {t for _r, t in titles(kept)}
    finally:
        kept.close()
    assert "Titre revu sur le terrain" in {t for _r, t in titles(office_db)}
    office_db.close()
