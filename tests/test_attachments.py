"""Pièces jointes on SQLite and PostgreSQL: stored once per sha256 (beside an SQLite base,
inside a PostgreSQL one), listed, read back, removed with a trace, refused with French
messages, nothing left by a failed add; the migration up and down."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import event, func, inspect, select

from db.attachments import service
from db.attachments.service import (
    Owner,
    add_attachment,
    attachments_of,
    open_path,
    read_attachment,
    remove_attachment,
    storage_figures,
)
from db.database import AppSession, alembic_config
from db.errors import InvalidInput, UserError
from db.models import Attachment, AttachmentContent, AuditEntry, FundingLine
from db.services.contracts import delete_contract, save_contract
from db.services.operations import delete_funding_line, delete_operation
from db.vocabulary import AttachmentKind
from tests.test_services import actors, new_contract, new_operation  # noqa: F401

SCAN = bytes(range(256)) * 4000 + b"%%EOF convention signee"  # ~1 Mo, every byte value


@pytest.fixture
def records(db, actors):  # noqa: F811
    from db.services.operations import save_operation

    contract = save_contract(db, new_contract(actors)).id
    operation = save_operation(db, new_operation(actors)).id
    with db.read() as session:
        lines = session.scalars(select(FundingLine.id).where(
            FundingLine.operation_id == operation).order_by(FundingLine.position)).all()
    return {"contract": contract, "operation": operation, "line": lines[0],
            "other_line": lines[1]}


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def stored_files(db) -> list[Path]:
    """The files of the store beside an SQLite base (temporaries included)."""
    if not db.is_sqlite:
        return []
    folder = db.target.path.with_name(db.target.path.name + ".pieces")
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


def count(db, model) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_add_list_read_remove_round_trip(db, records, tmp_path):
    scan = write(tmp_path / "Convention signée CRTE.pdf", SCAN)
    photo = write(tmp_path / "chantier.jpg", b"\xff\xd8\xff\xe0 photo du chantier")
    on_operation = Owner(operation_id=records["operation"])
    first = add_attachment(db, on_operation, scan, kind=AttachmentKind.SIGNED_CONVENTION)
    second = add_attachment(db, on_operation, photo, kind=AttachmentKind.PHOTO,
                            notes="Façade nord")
    add_attachment(db, Owner(contract_id=records["contract"]), photo)

    rows = attachments_of(db, on_operation)
    assert {r.file_name for r in rows} == {"Convention signée CRTE.pdf", "chantier.jpg"}
    by_name = {r.file_name: r for r in rows}
    convention = by_name["Convention signée CRTE.pdf"]
    assert convention.kind_label == "Convention signée"
    assert convention.size == len(SCAN) == 1_024_023
    assert convention.size_label == "1 Mo"  # 1 000,02 Ko
    assert convention.sha256 == hashlib.sha256(SCAN).hexdigest()
    assert convention.media_type == "application/pdf"
    assert convention.added_by and convention.added_at.tzinfo is not None
    assert by_name["chantier.jpg"].kind_label == "Photo"
    assert by_name["chantier.jpg"].size_label == "22 octets"
    assert by_name["chantier.jpg"].notes == "Façade nord"
    assert [r.file_name for r in attachments_of(db, Owner(contract_id=records["contract"]))
            ] == ["chantier.jpg"]
    assert attachments_of(db, Owner(funding_line_id=records["line"])) == []

    name, data = read_attachment(db, first)
    assert name == "Convention signée CRTE.pdf" and data == SCAN
    viewed = open_path(db, first)
    assert viewed.read_bytes() == SCAN
    assert hashlib.sha256(viewed.read_bytes()).hexdigest() == convention.sha256
    if db.is_sqlite:  # the stored file itself, beside the base, read-only
        folder = db.target.path.with_name(db.target.path.name + ".pieces")
        assert viewed == folder / convention.sha256[:2] / convention.sha256
        assert not os.access(viewed, os.W_OK) or os.geteuid() == 0
        assert viewed.stat().st_mode & 0o222 == 0
    else:  # a temporary copy named like the file
        assert viewed.name == "Convention signée CRTE.pdf"
        with db.read() as session:
            assert bytes(session.get(AttachmentContent, convention.sha256).data) == SCAN

    remove_attachment(db, first, convention.version)
    assert [r.file_name for r in attachments_of(db, on_operation)] == ["chantier.jpg"]
    assert storage_figures(db) == (1, 22)  # the photo, once for two attachments
    with pytest.raises(UserError, match="Pièce jointe introuvable"):
        read_attachment(db, first)
    with db.read() as session:
        actions = session.execute(select(AuditEntry.action, AuditEntry.changes).where(
            AuditEntry.entity == "attachment",
            AuditEntry.entity_id == str(first)).order_by(AuditEntry.at)).all()
    assert [a for a, _ in actions] == ["insert", "delete"]
    assert actions[1][1]["file_name"] == "Convention signée CRTE.pdf"
    assert actions[1][1]["operation_id"] == str(records["operation"])
    assert actions[1][1]["kind"] == "convention_signee"
    if db.is_sqlite:
        assert [p.name for p in stored_files(db)] == [hashlib.sha256(
            b"\xff\xd8\xff\xe0 photo du chantier").hexdigest()]
    assert second


def test_the_same_content_is_stored_once_and_kept_while_used(db, records, tmp_path):
    one = write(tmp_path / "devis.pdf", SCAN)
    renamed = write(tmp_path / "devis (copie).pdf", SCAN)
    a = add_attachment(db, Owner(operation_id=records["operation"]), one,
                       kind=AttachmentKind.QUOTE)
    b = add_attachment(db, Owner(funding_line_id=records["line"]), renamed,
                       kind=AttachmentKind.QUOTE)
    c = add_attachment(db, Owner(contract_id=records["contract"]), one)
    assert count(db, Attachment) == 3
    assert storage_figures(db) == (1, len(SCAN))
    if db.is_sqlite:
        assert len(stored_files(db)) == 1
        assert stored_files(db)[0].read_bytes() == SCAN

    remove_attachment(db, a, 1)
    remove_attachment(db, c, 1)
    assert storage_figures(db) == (1, len(SCAN))  # b still uses it
    assert read_attachment(db, b) == ("devis (copie).pdf", SCAN)
    remove_attachment(db, b, 1)
    assert storage_figures(db) == (0, 0)
    assert stored_files(db) == []


def test_deleting_the_record_deletes_its_attachments_and_unused_contents(db, records,
                                                                         tmp_path):
    shared = write(tmp_path / "deliberation.pdf", b"deliberation du conseil municipal")
    own = write(tmp_path / "facture.pdf", b"facture 2025-17")
    add_attachment(db, Owner(operation_id=records["operation"]), own)
    add_attachment(db, Owner(funding_line_id=records["other_line"]), own)
    on_contract = add_attachment(db, Owner(contract_id=records["contract"]), shared)
    add_attachment(db, Owner(operation_id=records["operation"]), shared)

    with db.read() as session:
        from db.models import Operation
        version = session.get(Operation, records["operation"]).version
    # A funding line removed from the plan takes its attachments with it.
    version = delete_funding_line(db, records["operation"], version,
                                  records["other_line"]).version
    assert count(db, Attachment) == 3
    delete_operation(db, records["operation"], version)
    assert count(db, Attachment) == 1
    assert storage_figures(db) == (1, len(b"deliberation du conseil municipal"))
    assert read_attachment(db, on_contract)[1] == b"deliberation du conseil municipal"
    if db.is_sqlite:
        assert [p.read_bytes() for p in stored_files(db)] == [
            b"deliberation du conseil municipal"]
    with db.read() as session:
        deleted = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity == "attachment", AuditEntry.action == "delete"))
    assert deleted == 3  # each one traced

    with db.read() as session:
        from db.models import Contract
        contract_version = session.get(Contract, records["contract"]).version
    delete_contract(db, records["contract"], contract_version)
    assert count(db, Attachment) == 0
    assert storage_figures(db) == (0, 0) and stored_files(db) == []


def test_refusals_name_the_file_and_save_nothing(db, records, tmp_path):
    owner = Owner(operation_id=records["operation"])
    empty = write(tmp_path / "vide.pdf", b"")
    with pytest.raises(InvalidInput, match="« vide.pdf » : le fichier est vide"):
        add_attachment(db, owner, empty)
    folder = tmp_path / "Scans d'octobre"
    folder.mkdir()
    with pytest.raises(InvalidInput, match="« Scans d'octobre » : c'est un dossier"):
        add_attachment(db, owner, folder)
    with pytest.raises(InvalidInput, match="« absent.pdf » : le fichier est introuvable"):
        add_attachment(db, owner, tmp_path / "absent.pdf")
    big = write(tmp_path / "plans.pdf", b"x" * 3000)
    with pytest.raises(InvalidInput, match="« plans.pdf » : le fichier fait 2,9 Ko, plus "
                                           "que la limite de 2 Ko"):
        add_attachment(db, owner, big, max_size=2048)
    if os.geteuid() != 0:  # root reads everything
        locked = write(tmp_path / "secret.pdf", b"confidentiel")
        locked.chmod(0)
        with pytest.raises(InvalidInput, match="« secret.pdf » : le fichier ne peut pas "
                                               "être lu"):
            add_attachment(db, owner, locked)
    with pytest.raises(InvalidInput, match="une ligne de financement, et à un seul"):
        Owner(operation_id=records["operation"], contract_id=records["contract"])
    with pytest.raises(ValueError):
        add_attachment(db, owner, big, kind="brouillon")
    assert count(db, Attachment) == 0 and count(db, AttachmentContent) == 0
    assert stored_files(db) == []


def test_an_unreadable_file_during_the_copy_is_refused(db, records, tmp_path, monkeypatch):
    """A read error mid-copy (a network drive gone): French message, nothing kept."""
    source = write(tmp_path / "scan.pdf", SCAN)
    real_open = open

    def failing_open(path, mode="r", *args, **kwargs):
        if Path(path) == source and "r" in mode:
            raise PermissionError(13, "Permission denied")
        return real_open(path, mode, *args, **kwargs)

    monkeypatch.setattr("builtins.open", failing_open)
    with pytest.raises(InvalidInput, match="« scan.pdf » : le fichier ne peut pas être lu"):
        add_attachment(db, Owner(operation_id=records["operation"]), source)
    monkeypatch.undo()
    assert count(db, Attachment) == 0 and count(db, AttachmentContent) == 0
    assert stored_files(db) == []


def test_a_failed_write_of_the_content_leaves_nothing(db, records, tmp_path, monkeypatch):
    source = write(tmp_path / "scan.pdf", SCAN)

    def no_space(descriptor):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", no_space)
    if db.is_sqlite:
        with pytest.raises(UserError, match="« scan.pdf » : la copie dans le dossier des "
                                            "pièces jointes a échoué"):
            add_attachment(db, Owner(operation_id=records["operation"]), source)
    else:  # nothing is written to disk on PostgreSQL: the add succeeds
        attachment = add_attachment(db, Owner(operation_id=records["operation"]), source)
        monkeypatch.undo()
        assert read_attachment(db, attachment)[1] == SCAN
        return
    monkeypatch.undo()
    assert count(db, Attachment) == 0 and count(db, AttachmentContent) == 0
    assert stored_files(db) == []  # no half file, no temporary


def test_a_failed_database_write_leaves_no_file(db, records, tmp_path):
    """The content is stored, then the database refuses the row: the transaction rolls
    back and the file it wrote goes with it; an earlier content stays."""
    kept = write(tmp_path / "ancien.pdf", b"piece deja jointe")
    earlier = add_attachment(db, Owner(operation_id=records["operation"]), kept)
    source = write(tmp_path / "scan.pdf", SCAN)

    def refuse(session, flush_context, instances):
        if any(isinstance(obj, Attachment) for obj in session.new):
            raise RuntimeError("le serveur a refusé l'écriture")

    event.listen(AppSession, "before_flush", refuse)
    try:
        with pytest.raises(RuntimeError, match="refusé"):
            add_attachment(db, Owner(operation_id=records["operation"]), source)
        with pytest.raises(RuntimeError, match="refusé"):  # the same content as before
            add_attachment(db, Owner(contract_id=records["contract"]), kept)
    finally:
        event.remove(AppSession, "before_flush", refuse)
    assert count(db, Attachment) == 1 and storage_figures(db) == (1, 17)
    assert read_attachment(db, earlier)[1] == b"piece deja jointe"
    if db.is_sqlite:
        assert [p.read_bytes() for p in stored_files(db)] == [b"piece deja jointe"]


def test_a_rolled_back_removal_keeps_the_content(db, records, tmp_path, monkeypatch):
    source = write(tmp_path / "arrete.pdf", SCAN)
    attachment = add_attachment(db, Owner(operation_id=records["operation"]), source,
                                kind=AttachmentKind.SIGNED_ORDER)

    def refuse(session, flush_context):
        raise RuntimeError("coupure pendant la suppression")

    event.listen(AppSession, "after_flush_postexec", refuse)
    try:
        with pytest.raises(RuntimeError, match="coupure"):
            remove_attachment(db, attachment, 1)
    finally:
        event.remove(AppSession, "after_flush_postexec", refuse)
    assert read_attachment(db, attachment) == ("arrete.pdf", SCAN)
    if db.is_sqlite:
        assert [p.read_bytes() for p in stored_files(db)] == [SCAN]  # put back


def test_a_stale_version_or_altered_content_is_reported(db, records, tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "donnees"))  # the backups' folder
    source = write(tmp_path / "photo.png", b"\x89PNG image")
    attachment = add_attachment(db, Owner(operation_id=records["operation"]), source)
    from db.errors import ConflictError

    with pytest.raises(ConflictError, match="pièce jointe « photo.png »"):
        remove_attachment(db, attachment, 7)
    if db.is_sqlite:
        stored = stored_files(db)[0]
        stored.chmod(0o644)
        stored.write_bytes(b"\x89PNG altere")
        with pytest.raises(UserError, match="« photo.png » : son contenu enregistré est "
                                            "altéré") as altered:
            read_attachment(db, attachment)
        # No backup of this base yet: said, instead of « restaurez une sauvegarde ».
        assert f"Aucune sauvegarde de la base {db.target.path} n'existe" in altered.value.message
        from db.backups import take

        backup = take(db.target.path, "manuelle").path
        stored.unlink()
        with pytest.raises(UserError, match="« photo.png » : son fichier manque") as missing:
            open_path(db, attachment)
        assert f"Restaurez la dernière sauvegarde, {backup.name}" in missing.value.message
    assert count(db, Attachment) == 1


def test_size_labels_are_french():
    assert service.size_label(1) == "1 octet"
    assert service.size_label(812) == "812 octets"
    assert service.size_label(12_698) == "12,4 Ko"
    assert service.size_label(50 * 1024 * 1024) == "50 Mo"
    assert service.size_label(3_250_000_000) == "3 Go"


def test_the_migration_goes_down_and_up(db):
    from alembic import command

    def tables() -> set[str]:
        with db.engine.connect() as connection:
            return set(inspect(connection).get_table_names())

    assert {"attachment", "attachment_content"} <= tables()
    head = db.revision()
    with db.engine.begin() as connection:
        command.downgrade(alembic_config(connection), "0009")
    assert not {"attachment", "attachment_content"} & tables()
    assert db.revision() == "0009"
    with db.engine.begin() as connection:
        command.upgrade(alembic_config(connection), "head")
    assert {"attachment", "attachment_content"} <= tables()
    assert db.revision() == head


def test_the_journal_names_the_attachment_in_french(db, records, tmp_path):
    from db.history.trail import journal

    source = write(tmp_path / "Arrêté signé.pdf", SCAN)
    attachment = add_attachment(db, Owner(funding_line_id=records["line"]), source,
                                kind=AttachmentKind.SIGNED_ORDER)
    remove_attachment(db, attachment, 1)
    rows = [r for r in journal(db, limit=10).rows if r.entity == "attachment"]
    assert [(r.action, r.record) for r in rows] == [
        ("suppression", "Pièce jointe « Arrêté signé.pdf »"),
        ("création", "Pièce jointe « Arrêté signé.pdf »")]
    assert rows[0].old == "nature : Arrêté signé ; taille : 1 Mo"
    assert rows[1].new == "nature : Arrêté signé ; taille : 1 Mo"
    # Opens the operation the funding line belongs to.
    assert rows[0].target == ("operation", str(records["operation"]))
    assert rows[0].parent.startswith("Opération OP-2025-001")


def test_field_copies_carry_the_attachments_inside_the_file(db, tmp_path):
    """The copy carries the attachments with their contents inside the file (no
    ``.pieces`` folder beside it); an operation edited on the terrain keeps its
    attachments at the office; one deleted on the terrain takes its own with it at
    check-in (traced), and its unused content (db.field.pieces)."""
    from db.field import Scope, checkin, checkout
    from db.health import check
    from db.models import Operation
    from tests.field_helpers import ARRONDISSEMENT, build_office, edit_operation

    office = build_office(db)
    kept, dropped = office.operations[0], office.operations[1]
    scan = write(tmp_path / "convention.pdf", SCAN)
    photo = write(tmp_path / "photo.jpg", b"\xff\xd8 photo de la salle")
    on_kept = add_attachment(db, Owner(operation_id=kept), scan,
                             kind=AttachmentKind.SIGNED_CONVENTION)
    add_attachment(db, Owner(operation_id=dropped), photo, kind=AttachmentKind.PHOTO)
    add_attachment(db, Owner(operation_id=dropped), scan)  # shared with the kept one

    path = tmp_path / "terrain.sqlite"
    checkout(db, Scope("arrondissement", (ARRONDISSEMENT,)), path, login="agent.terrain")
    from db.database import open_database

    copy = open_database(path, create=False)
    assert count(copy, Attachment) == 3 and count(copy, AttachmentContent) == 2
    assert read_attachment(copy, on_kept)[1] == SCAN
    assert not path.with_name(path.name + ".pieces").exists()
    edit_operation(copy, kept, lambda d: setattr(d, "title", "Rénovation de l'école (terrain)"))
    with copy.write(login="agent.terrain") as session:  # payments removed, then the operation
        for line in session.get(Operation, dropped).funding_lines:
            line.payments.clear()
        session.flush()
        session.delete(session.get(Operation, dropped))
    copy.close()

    report = checkin(db, path)
    assert report.conflicts == [] and report.deleted.get("operation") == 1
    with db.read() as session:
        assert session.get(Operation, kept).title == "Rénovation de l'école (terrain)"
    assert [r.file_name for r in attachments_of(db, Owner(operation_id=kept))] == [
        "convention.pdf"]
    assert read_attachment(db, on_kept)[1] == SCAN
    assert count(db, Attachment) == 1 and storage_figures(db) == (1, len(SCAN))
    if db.is_sqlite:
        assert [p.read_bytes() for p in stored_files(db)] == [SCAN]
    with db.read() as session:
        traced = session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity == "attachment", AuditEntry.action == "delete",
            AuditEntry.origin == "terrain"))
    assert traced == 2
    assert check(db).healthy


def test_an_import_is_not_undone_over_attachments(demo_db, tmp_path):
    """Undoing an import deletes its operations in bulk: one that received a piece jointe
    since (on itself or on a line) is worked on, and the undo is refused."""
    from db.editing import find_by_reference
    from db.errors import DeleteRefused
    from db.spreadsheets import importer
    from tests.test_imports import messy_workbook

    batch = importer.apply(demo_db, importer.analyse(demo_db, messy_workbook(
        tmp_path / "suivi.xlsx")))
    operation = find_by_reference(demo_db, "operation", "D-001")
    with demo_db.read() as session:
        line = session.scalars(select(FundingLine.id).where(
            FundingLine.operation_id == operation)).first()
    attachment = add_attachment(demo_db, Owner(funding_line_id=line),
                                write(tmp_path / "devis.pdf", b"devis du maitre d'oeuvre"),
                                kind=AttachmentKind.QUOTE)
    with pytest.raises(DeleteRefused, match=r"pièces jointes depuis \(D-001\)"):
        importer.undo(demo_db, str(batch))
    assert read_attachment(demo_db, attachment)[1] == b"devis du maitre d'oeuvre"

    remove_attachment(demo_db, attachment, 1)
    assert importer.undo(demo_db, str(batch)) == 2
