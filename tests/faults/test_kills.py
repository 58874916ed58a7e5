"""SIGKILL campaigns: a child process is killed at a random moment of a write and the
base must then hold the state before the write or the state after it, never a mix.

Each campaign runs the work once unkilled to measure how long it takes, then kills it
TRIALS times at delays drawn with the test's ``rng`` in [0, that duration]. Every failure
message carries the seed, the trial and the delay: ``FAULTS_SEED=… FAULTS_TRIALS=…``
replays the same kills (the same delays; the child's own pace still varies a little).

Campaigns: saves through the services, an import by ``main.py import``, a new demo base
by ``main.py demo``, a field check-out and check-in, a restore by ``main.py restore``.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.backups import list_backups, take
from db.database import open_database
from db.field import CopyRefused, Scope, checkin, checkout
from db.health import check
from db.lists import OPERATIONS, Criteria
from db.models import AuditEntry, Commune, FieldCopy, FundingLine, Operation
from tests.bench.generate import generate
from tests.faults.conftest import SEED, TRIALS
from tests.faults.killing import ROOT, delays, run_cli, run_killed
from tests.test_backups import retitle

OPERATIONS_GENERATED = 400  # small: the whole file must stay within ~45 s


@pytest.fixture(autouse=True)
def own_folders(monkeypatch, tmp_path) -> None:
    """Backups (import, restore) and temporary folders of the children go under the
    test's own folder: a killed child's leftovers never reach another test."""
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "donnees"))
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Path:
    """A generated base of 400 operations, copied (never regenerated) by each campaign."""
    path = tmp_path_factory.mktemp("genere") / "base.sqlite"
    generate(str(path), OPERATIONS_GENERATED)
    return path


def fresh(source: Path, folder: Path, name: str = "base.sqlite") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / name
    shutil.copyfile(source, target)
    return target


def replay(trial: int, delay: float, duration: float) -> str:
    return (f"[replay: FAULTS_SEED={SEED} FAULTS_TRIALS={TRIALS}, trial {trial}, "
            f"kill {delay:.4f} s after START, unkilled run {duration:.3f} s]")


def healthy(path: Path, where: str) -> None:
    database = open_database(path, create=False)
    try:
        report = check(database)
        assert report.healthy, f"{where} {report.problems}"
    finally:
        database.close()


def quick_check(path: Path) -> str:
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        return connection.execute("PRAGMA quick_check").fetchone()[0]
    finally:
        connection.close()


def whole_backups(path: Path, where: str) -> None:
    """No half-written backup is ever listed beside the base."""
    for backup in list_backups(path):
        assert quick_check(backup.path) == "ok", f"{where} {backup.path}"


def table_counts(path: Path) -> dict[str, int]:
    """Rows of every table of an SQLite file (full-text shadow tables aside: their
    segment layout depends on merge timing, not on the content)."""
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        names = [name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name NOT LIKE '%_fts%' ORDER BY name")]
        return {name: connection.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
                for name in names}
    finally:
        connection.close()


# --- 1. Saves through the services --------------------------------------------------------

EDITED = 150
MARK = " (plan révisé)"
SAVER = f"""
import sys
from decimal import Decimal
from sqlalchemy import select
from db.database import open_database
from db.editing import operation_for_edit
from db.models import Operation
from db.services.operations import save_operation
from db.vocabulary import FundingStatus
db = open_database(sys.argv[1], create=False)
with db.read() as session:
    ids = session.scalars(select(Operation.id).order_by(Operation.reference)
                          .limit(int(sys.argv[2]))).all()
print("START", flush=True)
for number, operation_id in enumerate(ids, 1):
    data = operation_for_edit(db, operation_id)
    data.title = data.title + {MARK!r}
    # the plan: refused lines without payments dropped, requested amounts lowered
    data.funding_lines = [line for line in data.funding_lines
                          if not (line.status == FundingStatus.REFUSED and not line.payments)]
    for line in data.funding_lines:
        if line.status == FundingStatus.REQUESTED and (line.amount_requested or 0) > 1000:
            line.amount_requested -= Decimal("500.00")
    save_operation(db, data)  # one transaction
    print("SAVED", number, flush=True)
db.close()
"""


def plans(path: Path, where: str = "") -> dict[str, tuple]:
    """Each operation (by reference) as the saves touch it: title, version, cached
    totals, the plan's lines and its requested total, and the audit entries of the
    saves that concern it (the operation and its lines, deleted ones included)."""
    healthy(path, where)
    database = open_database(path, create=False)
    try:
        with database.read() as session:
            operations = session.execute(select(
                Operation.id, Operation.reference, Operation.title, Operation.version,
                Operation.granted_total, Operation.paid_total)).all()
            lines = session.execute(select(
                FundingLine.operation_id, FundingLine.id, FundingLine.status,
                FundingLine.amount_requested, FundingLine.amount_granted,
                FundingLine.position)).all()
            audit = session.execute(select(
                AuditEntry.action, AuditEntry.entity, AuditEntry.entity_id,
                AuditEntry.changes).where(AuditEntry.origin == "saisie")).all()
    finally:
        database.close()
    reference_of = {str(row.id): row.reference for row in operations}
    plan: dict[str, list] = {row.reference: [] for row in operations}
    for line in lines:
        plan[reference_of[str(line.operation_id)]].append(
            (str(line.id), line.status, line.amount_requested, line.amount_granted,
             line.position))
    line_owner = {str(line.id): reference_of[str(line.operation_id)] for line in lines}
    entries: dict[str, list] = {row.reference: [] for row in operations}
    for action, entity, entity_id, changes in audit:
        if entity == "operation":
            owner = reference_of.get(entity_id, "?")
        elif entity == "funding_line":
            owner = line_owner.get(entity_id) or reference_of.get(
                str((changes or {}).get("operation_id")), "?")
        else:
            owner = "?"
        entries.setdefault(owner, []).append(
            (action, entity, entity_id, json.dumps(changes, sort_keys=True, default=str)))
    states = {}
    for row in operations:
        own = sorted(plan[row.reference], key=lambda line: line[4])
        requested = sum((line[2] or Decimal(0) for line in own), Decimal(0))
        states[row.reference] = (row.title, row.version, row.granted_total, row.paid_total,
                                 requested, tuple(own), tuple(sorted(entries[row.reference])))
    states["?"] = tuple(sorted(entries.get("?", [])))  # audit entries of nothing known
    return states


def test_sigkill_during_saves_leaves_each_operation_before_or_after(generated, tmp_path, rng):
    before = plans(generated)
    order = sorted(reference for reference in before if reference != "?")[:EDITED]
    measured = fresh(generated, tmp_path / "mesure")
    run = run_killed(SAVER, str(measured), str(EDITED), delay=None)
    duration = run.seconds
    after = plans(measured)
    assert run.output.count("SAVED") == EDITED
    assert all(before[ref] != after[ref] for ref in order)  # every save changed something
    assert sum(before[ref][5] != after[ref][5] for ref in order) >= 10  # plans, not titles
    assert after["?"] == before["?"] == ()
    untouched = set(before) - set(order)
    assert all(before[ref] == after[ref] for ref in untouched)

    partial = 0
    for trial, delay in enumerate(delays(rng, duration, TRIALS)):
        where = replay(trial, delay, duration)
        path = fresh(generated, tmp_path / f"essai-{trial}")
        outcome = run_killed(SAVER, str(path), str(EDITED), delay=delay)
        states = plans(path, where)
        assert states["?"] == (), where
        for ref in untouched:
            assert states[ref] == before[ref], f"{where} {ref} changed without being saved"
        done = []
        for ref in order:
            assert states[ref] in (before[ref], after[ref]), (
                f"{where} operation {ref} is neither before nor after its save:\n"
                f"  found  {states[ref]}\n  before {before[ref]}\n  after  {after[ref]}")
            done.append(states[ref] == after[ref])
        saved = done.count(True)
        assert done == [True] * saved + [False] * (EDITED - saved), (
            f"{where} the saves are not a prefix of the order they were made in: {done}")
        reported = outcome.output.count("SAVED")
        assert reported <= saved <= reported + 1, (  # killed between commit and print
            f"{where} {saved} operations saved, {reported} saves reported")
        partial += 0 < saved < EDITED
    print(f"saves: {partial}/{TRIALS} kills landed between the first and the last save")


# --- 2. An import by main.py import ------------------------------------------------------

IMPORTED = 2000
IMPORT_PRELOAD = ("db.spreadsheets.importer", "db.spreadsheets.reading", "db.backups",
                  "db.services.bulk", "db.formatting")
FTS_TRIGGERS = {"operation_fts_ai", "operation_fts_ad", "operation_fts_au"}


@pytest.fixture(scope="module")
def tracking_sheet(tmp_path_factory) -> Path:
    """A CSV tracking sheet of 2 000 new operations, each with a unique word to search."""
    path = tmp_path_factory.mktemp("import") / "suivi.csv"
    rows = ["N° dossier;Intitulé de l'opération;Maître d'ouvrage;Commune;Coût HT;Financeur;"
            "Montant sollicité"]
    rows += [f"KILL-{number:05d};Réfection du lavoir n° {number} du quartier Zorglub{number:05d};"
             f"Commune de Maubeuge;59392;{80000 + number},00 €;État;24 000"
             for number in range(IMPORTED)]
    path.write_bytes("\r\n".join(rows).encode("cp1252"))
    return path


def imported_state(path: Path, where: str) -> dict[str, int]:
    healthy(path, where)
    connection = sqlite3.connect(path)
    try:
        triggers = {name for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'operation_fts%'")}
        assert triggers == FTS_TRIGGERS, f"{where} full-text triggers: {triggers}"
        # the index agrees with the table (external content): raises if not
        connection.execute("INSERT INTO operation_fts(operation_fts, rank) "
                           "VALUES ('integrity-check', 1)")

        def one(sql: str) -> int:
            return connection.execute(sql).fetchone()[0]

        return {"operations": one("SELECT count(*) FROM operation"),
                "new": one("SELECT count(*) FROM operation WHERE reference LIKE 'KILL-%'"),
                "lines": one("SELECT count(*) FROM funding_line"),
                "imports": one("SELECT count(*) FROM audit_entry WHERE entity = 'import'"),
                "audited": one("SELECT count(*) FROM audit_entry WHERE origin = 'import'")}
    finally:
        connection.close()


def found(path: Path, words: str) -> list[str]:
    database = open_database(path, create=False)
    try:
        return [row["reference"] for row in OPERATIONS.page(database, Criteria(search=words))]
    finally:
        database.close()


def test_sigkill_during_an_import_imports_all_or_nothing(generated, tracking_sheet, tmp_path,
                                                         rng):
    before = imported_state(generated, "before")
    measured = fresh(generated, tmp_path / "mesure")
    run = run_cli("import", "--db", str(measured), str(tracking_sheet), delay=None,
                  preload=IMPORT_PRELOAD)
    duration = run.seconds
    assert f"{IMPORTED} opération(s) importée(s)" in run.output
    after = imported_state(measured, "after")
    assert after["operations"] == before["operations"] + IMPORTED
    assert after["new"] == IMPORTED and before["new"] == 0
    assert after["lines"] > before["lines"] and after["imports"] == before["imports"] + 1
    assert found(measured, "Zorglub01234 lavoir") == ["KILL-01234"]
    with sqlite3.connect(generated) as connection:
        known_reference, = connection.execute(
            "SELECT reference FROM operation ORDER BY reference LIMIT 1").fetchone()
    connection.close()

    tally: Counter[str] = Counter()
    for trial, delay in enumerate(delays(rng, duration, TRIALS)):
        where = replay(trial, delay, duration)
        path = fresh(generated, tmp_path / f"essai-{trial}")
        run_cli("import", "--db", str(path), str(tracking_sheet), delay=delay,
                preload=IMPORT_PRELOAD)
        state = imported_state(path, where)
        assert state in (before, after), f"{where} half an import: {state}"
        tally["imported" if state == after else "nothing"] += 1
        if state == after:
            number = rng.randrange(IMPORTED)
            assert found(path, f"Zorglub{number:05d}") == [f"KILL-{number:05d}"], where
        else:
            assert found(path, "Zorglub") == [], where
        assert known_reference in found(path, known_reference), where
        whole_backups(path, where)
    print(f"import: {dict(tally)}")


# --- 3. A new demo base by main.py demo ---------------------------------------------------

DEMO_PRELOAD = ("db.demo", "db.database")


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if ".en-cours" in p.name)


def test_sigkill_during_demo_leaves_no_base_or_a_whole_one(tmp_path, rng):
    (tmp_path / "mesure").mkdir()
    measured = tmp_path / "mesure" / "demo.sqlite"
    run = run_cli("demo", "--db", str(measured), delay=None, preload=DEMO_PRELOAD)
    duration = run.seconds
    reference = table_counts(measured)
    assert reference["operation"] > 100 and reference["contract"] > 30
    healthy(measured, "unkilled demo")
    refused = subprocess.run([sys.executable, "main.py", "demo", "--db", str(measured)],
                             cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert refused.returncode == 2 and "contient déjà des données" in refused.stderr
    assert table_counts(measured) == reference  # a demo over a whole one changes nothing
    tally: Counter[str] = Counter()
    for trial, delay in enumerate(delays(rng, duration, TRIALS)):
        where = replay(trial, delay, duration)
        folder = tmp_path / f"essai-{trial}"
        folder.mkdir()
        path = folder / "demo.sqlite"
        run_cli("demo", "--db", str(path), delay=delay, preload=DEMO_PRELOAD)
        tally["whole" if path.exists() else "none"] += 1
        if path.exists():  # renamed: it must be the whole demo
            assert quick_check(path) == "ok", where
            assert table_counts(path) == reference, f"{where} a partial demo base"
            healthy(path, where)
            again = subprocess.run([sys.executable, "main.py", "demo", "--db", str(path)],
                                   cwd=ROOT, capture_output=True, text=True, timeout=120)
            assert again.returncode == 2 and "contient déjà des données" in again.stderr, (
                f"{where} {again.returncode} {again.stderr}")
            assert table_counts(path) == reference, where
        else:  # nothing at the final name: the same command must now succeed
            run_cli("demo", "--db", str(path), delay=None, preload=DEMO_PRELOAD)
            assert table_counts(path) == reference, f"{where} the demo after a killed one"
            healthy(path, where)
        assert leftovers(folder) == [], f"{where} partial files left: {leftovers(folder)}"
    print(f"demo: {dict(tally)}")


# --- 4. Field check-out and check-in ------------------------------------------------------

FIELD = """
import sys
from pathlib import Path
from db.database import open_database
from db.field import Scope, checkin, checkout
office = open_database(sys.argv[2], create=False)
print("START", flush=True)
if sys.argv[1] == "checkin":
    checkin(office, Path(sys.argv[3]))
else:
    checkout(office, Scope("arrondissement", (sys.argv[4],)), Path(sys.argv[3]))
office.close()
"""
FIELD_MARK = " (revu sur le terrain)"
FIELD_EDITED = 40


@pytest.fixture(scope="module")
def field(generated, tmp_path_factory) -> tuple[Path, Path, str, int]:
    """The generated office, its biggest arrondissement, a copy of it taken out in which
    up to 40 operations were retitled through the services; and that number."""
    folder = tmp_path_factory.mktemp("terrain")
    office_path, copy_path = fresh(generated, folder, "bureau.sqlite"), folder / "terrain.sqlite"
    office = open_database(office_path, create=False)
    with office.read() as session:
        arrondissement = session.scalar(
            select(Commune.arrondissement_code).select_from(Operation).join(Operation.communes)
            .group_by(Commune.arrondissement_code).order_by(func.count().desc()).limit(1))
    checkout(office, Scope("arrondissement", (arrondissement,)), copy_path)  # builds the
    office.close()  # blank base of the cache before any measure
    copy = open_database(copy_path, create=False)
    retitle(copy, FIELD_EDITED, FIELD_MARK)
    with copy.read() as session:
        edited = session.scalar(select(func.count()).select_from(Operation).where(
            Operation.title.endswith(FIELD_MARK)))
    copy.close()
    return office_path, copy_path, arrondissement, edited


def office_state(path: Path, where: str) -> tuple[bool, int, int]:
    """(checked in, operations retitled, conflicts), after a health check."""
    from db.models import FieldConflict

    healthy(path, where)
    office = open_database(path, create=False)
    try:
        with office.read() as session:
            done = session.scalar(select(func.count()).select_from(FieldCopy).where(
                FieldCopy.checked_in_at.is_not(None)))
            retitled = session.scalar(select(func.count()).select_from(Operation).where(
                Operation.title.like(f"%{FIELD_MARK}")))
            conflicts = session.scalar(select(func.count()).select_from(FieldConflict))
        return bool(done), retitled, conflicts
    finally:
        office.close()


def test_sigkill_during_checkin_merges_all_or_nothing(field, tmp_path, rng):
    office_path, copy_path, _, edited = field
    assert edited >= 10

    def prepared(folder: Path) -> tuple[Path, Path]:
        return fresh(office_path, folder, "bureau.sqlite"), fresh(copy_path, folder,
                                                                   "terrain.sqlite")

    office, copy = prepared(tmp_path / "mesure")
    duration = run_killed(FIELD, "checkin", str(office), str(copy), delay=None).seconds
    assert office_state(office, "unkilled") == (True, edited, 0)
    tally: Counter[str] = Counter()
    for trial, delay in enumerate(delays(rng, duration, TRIALS)):
        where = replay(trial, delay, duration)
        office, copy = prepared(tmp_path / f"essai-{trial}")
        run_killed(FIELD, "checkin", str(office), str(copy), delay=delay)
        state = office_state(office, where)
        assert state in ((False, 0, 0), (True, edited, 0)), f"{where} {state}"
        tally["merged" if state[0] else "nothing"] += 1
        database = open_database(office, create=False)
        try:
            if not state[0]:  # nothing merged: the copy can still be brought back
                checkin(database, copy)
            with pytest.raises(CopyRefused, match="déjà été rapportée"):
                checkin(database, copy)
        finally:
            database.close()
        assert office_state(office, where) == (True, edited, 0), where
    print(f"checkin: {dict(tally)}")


def test_sigkill_during_checkout_leaves_no_half_copy(generated, field, tmp_path, rng):
    arrondissement = field[2]
    office = fresh(generated, tmp_path / "mesure")
    target = tmp_path / "mesure" / "copie.sqlite"
    duration = run_killed(FIELD, "checkout", str(office), str(target), arrondissement,
                          delay=None).seconds
    whole = table_counts(target)
    assert whole["operation"] > 0
    tally: Counter[str] = Counter()
    for trial, delay in enumerate(delays(rng, duration, TRIALS)):
        where = replay(trial, delay, duration)
        office = fresh(generated, tmp_path / f"essai-{trial}")
        target = tmp_path / f"essai-{trial}" / "copie.sqlite"
        run_killed(FIELD, "checkout", str(office), str(target), arrondissement, delay=delay)
        healthy(office, where)
        database = open_database(office, create=False)
        try:
            with database.read() as session:
                recorded = session.scalar(select(func.count()).select_from(FieldCopy).where(
                    FieldCopy.role == "sortie"))
            assert recorded in (0, 1), where
            tally["recorded" if recorded else "renamed, unrecorded" if target.exists()
                  else "nothing"] += 1
            if target.exists():  # a file at the final name is always a whole copy
                assert quick_check(target) == "ok", where
                counts = table_counts(target)
                assert counts == whole, f"{where} a partial copy: {counts}"
            if recorded:
                assert target.exists(), f"{where} the office records a copy that is not there"
                checkin(database, target)  # a complete, known copy
            elif target.exists():  # renamed, killed before the office's commit
                with pytest.raises(CopyRefused, match="n'est pas enregistrée"):
                    checkin(database, target)
        finally:
            database.close()
    print(f"checkout: {dict(tally)}")


# --- 5. A restore by main.py restore ------------------------------------------------------

RETITLED = 40
RESTORE_PRELOAD = ("db.backups", "db.backups.pieces", "db.health", "db.backups.postgres")


@pytest.fixture(scope="module")
def restorable(generated, tmp_path_factory) -> tuple[Path, Path]:
    """The generated base with 40 operations retitled since its backup, and the backup."""
    folder = tmp_path_factory.mktemp("restauration")
    live, backup = fresh(generated, folder), folder / "sauvegarde.sqlite"
    database = open_database(live, create=False)
    take(database, "manuelle", destination=backup)
    database.close()
    database = open_database(live, create=False)
    retitle(database, RETITLED)
    database.close()
    return live, backup


def contents(path: Path) -> tuple[list[tuple[str, str]], int, int]:
    """(reference, title) of every operation, saisie and restauration audit entries."""
    connection = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    try:
        titles = connection.execute(
            "SELECT reference, title FROM operation ORDER BY reference").fetchall()
        saisie, restored = (connection.execute(
            "SELECT count(*) FROM audit_entry WHERE origin = ?", (origin,)).fetchone()[0]
            for origin in ("saisie", "restauration"))
        return titles, saisie, restored
    finally:
        connection.close()


def test_sigkill_during_restore_leaves_the_base_before_or_restored(restorable, tmp_path, rng):
    live, backup = restorable
    before, saved = contents(live), contents(backup)
    assert before[0] != saved[0] and before[1] == RETITLED and saved[1:] == (0, 0)

    def restore_in_child(path: Path, delay: float | None):
        return run_cli("restore", "--db", str(path), "--oui", str(backup), delay=delay,
                       preload=RESTORE_PRELOAD)

    measured = fresh(live, tmp_path / "mesure")
    run = restore_in_child(measured, None)
    duration = run.seconds
    assert "Sauvegarde restaurée" in run.output
    restored = contents(measured)
    assert restored == (saved[0], 0, 1)  # the backup's operations, the restore audited
    healthy(measured, "unkilled restore")
    tally: Counter[str] = Counter()
    for trial, delay in enumerate(delays(rng, duration, TRIALS)):
        where = replay(trial, delay, duration)
        path = fresh(live, tmp_path / f"essai-{trial}")
        restore_in_child(path, delay)
        healthy(path, where)
        state = contents(path)
        assert state in (before, restored), (
            f"{where} neither the base before nor the backup: {state[1:]}, "
            f"{sum(a != b for a, b in zip(state[0], before[0], strict=False))} titles "
            "differ from before")
        whole_backups(path, where)
        tally["restored" if state == restored else "before"] += 1
        if state == restored:  # the base it replaced is kept, whole (the earlier
            # trials' backups of the same base share its folder: each is of "before")
            kept = [b for b in list_backups(path) if b.kind == "avant-restauration"]
            assert kept and all(contents(b.path)[0] == before[0] for b in kept), where
    print(f"restore: {dict(tally)}")
