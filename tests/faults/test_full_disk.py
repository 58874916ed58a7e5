"""A base on a disk that fills up: a small tmpfs (root only), a filler file.

Saves through the services raise WriteFailed saying the disk is full (never « endommagée
»), an import says so too and leaves the base as it was, every record is whole (all of a
save or nothing of it, with a random amount of room left), and once space is freed the
base opens, check() is healthy and a save goes through. Also: a disk that fills up
during a WAL checkpoint (the -wal holds more than fits in the file): the base opens
again and is not called truncated or damaged.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from db.database import open_database
from db.editing import find_by_reference, operation_for_edit
from db.failures import Failure, WriteFailed
from db.health import check
from db.services.operations import save_operation, save_operation_in
from db.services.organisations import OrganisationData, save_organisation
from db.vocabulary import OrganisationKind
from tests.faults.conftest import SEED, TRIALS
from tests.test_services import new_operation

ROOT = Path(__file__).resolve().parents[2]
DISK_SIZE = 16 * 1024 * 1024  # the empty base and its reference data: 7,3 Mio
FULL = "le disque est plein"
LOT = "Lot : " + " ".join(["enduit"] * 2800)  # about 20 kB in each operation
DAMAGE = ("endommagée", "tronqué", "Restaurez", "Traceback")


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    if not hasattr(os, "geteuid") or os.geteuid() != 0:
        pytest.skip("un disque plein se simule par un petit tmpfs, qui demande les droits "
                    "d'administrateur (root) / mounting a tmpfs needs root")
    mount = tmp_path / "cle"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={DISK_SIZE}", "tmpfs", str(mount)],
                   check=True)
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def base_on_disk(small_disk: Path, sqlite_template: Path) -> Path:
    path = small_disk / "base.sqlite"
    shutil.copyfile(sqlite_template, path)
    return path


def _fill(folder: Path, room: int = 0) -> Path:
    """Take every free byte of the disk, then give *room* bytes back."""
    filler = folder / "remplissage.bin"
    handle = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_APPEND)
    try:
        for block in (1 << 20, 65536, 4096, 512, 1):
            try:
                while True:
                    os.write(handle, b"\1" * block)
            except OSError:
                pass
    finally:
        os.close(handle)
    if room:
        os.truncate(filler, max(0, filler.stat().st_size - room))
    return filler


def _actors(db) -> dict:
    return {
        "state": save_organisation(db, OrganisationData("État", OrganisationKind.STATE)).id,
        "commune": save_organisation(db, OrganisationData(
            "Commune d'Assevent", OrganisationKind.COMMUNE, commune_code="59021")).id,
        "departement": save_organisation(db, OrganisationData(
            "Département du Nord", OrganisationKind.DEPARTEMENT)).id}


def _assert_said_full(failed: WriteFailed, context: str) -> None:
    assert failed.failure is Failure.DISK_FULL, (context, failed.failure, failed.message)
    assert FULL in failed.message and "Libérez de la place" in failed.message, failed.message
    assert not any(word in failed.message for word in DAMAGE), failed.message
    assert not failed.retryable


def _run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "main.py", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=300, env=env)


def test_saves_on_a_full_disk_say_so_and_are_all_or_nothing(base_on_disk, rng):
    database = open_database(base_on_disk)
    try:
        actors = _actors(database)
        existing = save_operation(database, new_operation(actors, reference="DP-000"))
        failures = successes = 0
        for trial in range(TRIALS * 3):
            # The first trial leaves no room at all; the others a random few pages,
            # so that a save may stop anywhere in the middle of its pages.
            room = 0 if trial == 0 else rng.choice([4096, 16 * 4096, rng.randrange(0, 600_000),
                                                    rng.randrange(0, 2_000_000)])
            context = f"essai {trial}, {room} octets libres (FAULTS_SEED={SEED})"
            before = operation_for_edit(database, existing.id)
            edited = replace(before, title=f"Rénovation de l'école — essai {trial}",
                             description="Travaux : " + ", ".join(
                                 ["charpente"] * rng.randrange(100, 6000)),
                             notes=f"Note de l'essai {trial}")
            created = new_operation(actors, reference=f"DP-{trial + 1:03}",
                                    description="Dossier : " + " ".join(
                                        ["pièce"] * rng.randrange(100, 8000)))
            filler = _fill(base_on_disk.parent, room)
            outcomes = []
            for data in (edited, created):
                try:
                    save_operation(database, data)
                    outcomes.append(True)
                except WriteFailed as failed:
                    _assert_said_full(failed, context)
                    outcomes.append(False)
            filler.unlink()
            if trial == 0:
                assert outcomes == [False, False], context  # no room: nothing can be saved
            failures += outcomes.count(False)
            successes += outcomes.count(True)

            # Whole or not there at all: the edited operation as typed or as it was...
            after = operation_for_edit(database, existing.id)
            if outcomes[0]:
                assert (after.version, after.title, after.description, after.notes) == (
                    before.version + 1, edited.title, edited.description, edited.notes), context
                existing = replace(existing, version=after.version)
            else:
                assert after == before, context
            # ... and the new one with all of its funding lines, or absent.
            found = find_by_reference(database, "operation", created.reference)
            if outcomes[1]:
                assert found is not None, context
                stored = operation_for_edit(database, found)
                assert stored.description == created.description, context
                assert len(stored.funding_lines) == len(created.funding_lines), context
            else:
                assert found is None, context
        assert failures >= 2
        report = check(database)
        assert report.healthy, report.problems
        saved_operations = report.counts["operations"]
    finally:
        database.close()
    print(f"{failures} enregistrement(s) refusé(s), {successes} passé(s)")

    # Room made: the base opens, is healthy, and a save goes through.
    database = open_database(base_on_disk)
    try:
        report = check(database)
        assert report.healthy and report.integrity == "ok", report.problems
        assert report.counts["operations"] == saved_operations
        data = operation_for_edit(database, existing.id)
        save_operation(database, replace(data, title="Rénovation de l'école, place faite"))
        assert operation_for_edit(database, existing.id).title == (
            "Rénovation de l'école, place faite")
    finally:
        database.close()


@pytest.mark.parametrize("open_elsewhere, backups", [
    pytest.param(True, "ailleurs", id="base-ouverte-sauvegarde-ailleurs"),
    pytest.param(True, "sur-le-disque-plein", id="base-ouverte-sauvegarde-sur-le-disque-plein"),
    pytest.param(False, "ailleurs", id="base-fermee"),
])
def test_an_import_on_a_full_disk_says_so_and_changes_nothing(base_on_disk, tmp_path,
                                                              open_elsewhere, backups):
    """The base open in an agent's window (its -wal and -shm exist) or closed. The backup
    taken before an import goes to the user's data folder: on another disk (the import's
    own write meets the full disk), or on the full disk itself."""
    database = open_database(base_on_disk)
    try:
        _actors(database)
        before = check(database)
    finally:
        if not open_elsewhere:
            database.close()
    sheet = tmp_path / "suivi.csv"
    sheet.write_text("Référence;Intitulé;Maître d'ouvrage;Commune;Coût HT\n"
                     + "".join(f"I-{n};Voirie {n};Commune de Maubeuge;59392;{1000 + n}\n"
                               for n in range(30)), encoding="utf-8")
    env = dict(os.environ)
    if backups != "ailleurs":
        env["XDG_DATA_HOME"] = str(base_on_disk.parent / "donnees")
    filler = _fill(base_on_disk.parent)
    try:
        result = _run_cli("import", str(sheet), "--db", str(base_on_disk), env=env)
    finally:
        filler.unlink()
        if open_elsewhere:
            database.close()
    output = result.stdout + result.stderr
    assert not any(word in output for word in DAMAGE), output
    assert result.returncode == 2, output
    assert FULL in result.stderr and "Erreur : " in result.stderr, output
    assert "n'a été enregistré" in result.stderr or "n'a pas été modifiée" in result.stderr
    database = open_database(base_on_disk)
    try:
        after = check(database)
    finally:
        database.close()
    assert after.healthy, after.problems
    assert (after.counts, after.totals_cents) == (before.counts, before.totals_cents)


def _header_size(path: Path) -> int:
    header = path.read_bytes()[:100]
    return int.from_bytes(header[16:18], "big") * int.from_bytes(header[28:32], "big")


def test_a_disk_full_during_a_wal_checkpoint_leaves_a_base_that_opens(base_on_disk, rng):
    """Many pages committed in the -wal, then the disk fills up, then the last connection
    closes: its checkpoint cannot extend the file (the header already says the new size,
    the file is shorter, the -wal still holds every page). Nothing is lost: the base must
    open again, never be called truncated or damaged."""
    wal = Path(f"{base_on_disk}-wal")
    database = open_database(base_on_disk)
    try:
        actors = _actors(database)
        with database.write() as session:
            for n in range(60):
                save_operation_in(session, new_operation(
                    actors, reference=f"CK-{n:03}", description=LOT))
        assert wal.stat().st_size > 2 * 1024 * 1024
        # No room at all, or a random part of what the checkpoint needs.
        room = rng.choice([0, rng.randrange(4096, wal.stat().st_size // 2)])
        filler = _fill(base_on_disk.parent, room)
    finally:
        database.close()  # the checkpoint of the last connection meets the full disk
    # The scenario happened: the -wal is still there, bigger than the room left, and the
    # file is shorter than its header says.
    assert wal.is_file() and wal.stat().st_size > room + 4096
    assert base_on_disk.stat().st_size < _header_size(base_on_disk), (
        base_on_disk.stat().st_size, _header_size(base_on_disk))

    # Still full: the base is read (SQLite reads the pages in the -wal), never damaged.
    full = _run_cli("check", "--db", str(base_on_disk))
    output = full.stdout + full.stderr
    assert not any(word in output for word in DAMAGE), output
    assert full.returncode == 0 or FULL in full.stderr, output

    filler.unlink()
    room_made = _run_cli("check", "--db", str(base_on_disk))
    assert room_made.returncode == 0, room_made.stdout + room_made.stderr
    assert "Aucun problème détecté" in room_made.stdout
    database = open_database(base_on_disk)
    try:
        report = check(database)
        assert report.healthy and report.integrity == "ok", report.problems
        assert report.counts["operations"] == 60  # every committed page was in the -wal
        first = find_by_reference(database, "operation", "CK-000")
        data = operation_for_edit(database, first)
        assert data.description == LOT
        save_operation(database, replace(data, title="Enduit refait après la panne"))
    finally:
        database.close()
    reopened = open_database(base_on_disk)
    try:
        assert check(reopened).healthy
        assert operation_for_edit(reopened, first).title == "Enduit refait après la panne"
    finally:
        reopened.close()
