"""Field copies carry the office's act templates, the acts of their funding lines and
their attachments with the contents inside the copy file (issue 13, items 2 and 4):
taken, edited in the field, brought back, on an SQLite and a PostgreSQL office."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select

from db.acts import library
from db.attachments.service import (
    Owner,
    add_attachment,
    attachments_of,
    read_attachment,
    remove_attachment,
)
from db.attachments.store import content_path, folder_of
from db.database import open_database
from db.errors import InvalidInput, UserError
from db.field import Scope, checkin, checkout
from db.field.pieces import LIMIT_SETTING, scope_figures
from db.history.trail import journal
from db.models import Act, AttachmentContent, FundingLine
from db.services.settings import set_setting
from db.vocabulary import ActKind
from tests.field_helpers import ARRONDISSEMENT, build_office

ROOT = Path(__file__).parent.parent
SCOPE = Scope("arrondissement", (ARRONDISSEMENT,))


def _file(tmp_path: Path, name: str, size: int) -> tuple[Path, bytes]:
    body = os.urandom(size)
    path = tmp_path / name
    path.write_bytes(body)
    return path, body


def _lines(db, operation_id) -> list[uuid.UUID]:
    with db.read() as session:
        return list(session.scalars(select(FundingLine.id).where(
            FundingLine.operation_id == operation_id).order_by(FundingLine.scheme_code)))


def _act(db, line_id, kind=ActKind.AWARD_ORDER) -> uuid.UUID:
    with db.write() as session:
        act = Act(funding_line_id=line_id, kind=kind.value, generated_on=date(2026, 3, 2),
                  fingerprint=uuid.uuid4().hex[:20], template_sha256="0" * 64, pages=2)
        session.add(act)
        session.flush()
        return act.id


@pytest.fixture
def office(db, tmp_path):
    built = build_office(db)
    template = tmp_path / "arrete_bureau.docx"
    document = Document(str(library.shipped_file(ActKind.AWARD_ORDER, "DETR")))
    document.add_paragraph("Formule du bureau de {{ lieu }}.")
    document.save(str(template))
    library.import_template(db, ActKind.AWARD_ORDER, "DETR", template)
    return built, template.read_bytes()


def test_a_copy_carries_templates_acts_and_attachments_and_brings_them_back(
        office, tmp_path):
    built, template = office
    db = built.db
    first, second = built.operations[:2]
    convention, convention_body = _file(tmp_path, "convention.pdf", 300_000)
    devis, devis_body = _file(tmp_path, "devis.pdf", 120_000)
    convention_id = add_attachment(db, Owner(operation_id=first), convention)
    line = _lines(db, first)[0]
    add_attachment(db, Owner(funding_line_id=line), devis)
    act_id = _act(db, line)
    figures = scope_figures(db, SCOPE)
    assert (figures.count, figures.size) == (2, 420_000)
    assert figures.label == "2 pièces jointes, 410,2 Ko"

    result = checkout(db, SCOPE, tmp_path / "terrain.sqlite", login="agent.terrain")
    assert result.attachments.label == "2 pièces jointes, 410,2 Ko"
    # One self-contained file: moved alone to the laptop, it still reads everything.
    laptop = tmp_path / "portable"
    laptop.mkdir()
    moved = laptop / "terrain.sqlite"
    shutil.copyfile(result.path, moved)
    copy = open_database(moved, create=False)
    try:
        assert library.template_for(copy, ActKind.AWARD_ORDER, "DETR").content == template
        assert read_attachment(copy, convention_id) == ("convention.pdf", convention_body)
        assert [r.file_name for r in attachments_of(copy, Owner(funding_line_id=line))] \
            == ["devis.pdf"]
        with pytest.raises(UserError, match="copie de terrain"):
            library.reset_template(copy, ActKind.AWARD_ORDER, "DETR")
        # In the field: a photo added (kept inside the file), the convention removed, a
        # notification written, the arrêté signed and its scan attached.
        photo, photo_body = _file(tmp_path, "photo-chantier.jpg", 50_000)
        photo_id = add_attachment(copy, Owner(operation_id=second), photo)
        scan, scan_body = _file(tmp_path, "arrete-signe.pdf", 80_000)
        scan_id = add_attachment(copy, Owner(funding_line_id=line), scan)
        assert not folder_of(copy).exists()
        row = next(r for r in attachments_of(copy, Owner(operation_id=first)))
        remove_attachment(copy, row.id, row.version)
        notification_id = _act(copy, _lines(copy, second)[0], ActKind.NOTIFICATION)
        with copy.write() as session:
            act = session.get(Act, act_id)
            act.signed_on = date(2026, 3, 20)
            act.signed_attachment_id = scan_id
    finally:
        copy.close()
    shutil.copyfile(moved, result.path)

    report = checkin(db, result.path)
    assert report.created["attachment"] == 2 and report.deleted["attachment"] == 1
    assert report.created["act"] == 1 and report.updated["act"] == 1
    assert read_attachment(db, photo_id) == ("photo-chantier.jpg", photo_body)
    assert read_attachment(db, scan_id)[1] == scan_body
    assert attachments_of(db, Owner(operation_id=first)) == []
    with db.read() as session:
        signed = session.get(Act, act_id)
        assert (signed.signed_on, signed.signed_attachment_id) == (date(2026, 3, 20), scan_id)
        assert session.get(Act, notification_id).kind == "notification"
        stored = session.get(AttachmentContent, hashlib.sha256(photo_body).hexdigest())
        # Into the office's own storage: beside its SQLite file, inside PostgreSQL.
        assert (stored.data is None) == db.is_sqlite
    if db.is_sqlite:
        assert content_path(folder_of(db), stored.sha256).read_bytes() == photo_body
        convention_sha = hashlib.sha256(convention_body).hexdigest()
        assert not content_path(folder_of(db), convention_sha).exists()
    names = {r.record for r in journal(db, origin="terrain").rows if r.entity == "act"}
    assert any(n.startswith("Acte : Lettre de notification — OP-2 « ") for n in names), names


def test_the_attachments_limit_and_leaving_them_at_the_office(office, tmp_path):
    built, _template = office
    db = built.db
    line = _lines(db, built.operations[0])[0]
    heavy, _body = _file(tmp_path, "plans.pdf", 600_000)
    heavy_id = add_attachment(db, Owner(funding_line_id=line), heavy)
    act_id = _act(db, line)
    with db.write() as session:
        session.get(Act, act_id).signed_attachment_id = heavy_id
    set_setting(db, LIMIT_SETTING, "0,5")
    with pytest.raises(InvalidInput) as refused:
        checkout(db, SCOPE, tmp_path / "lourde.sqlite")
    assert "(1 pièce jointe, 585,9 Ko) dépassent la limite de 512 Ko" in refused.value.message
    assert not (tmp_path / "lourde.sqlite").exists()

    result = checkout(db, SCOPE, tmp_path / "legere.sqlite", attachments=False)
    assert result.attachments is None
    copy = open_database(result.path, create=False)
    try:
        assert attachments_of(copy, Owner(funding_line_id=line)) == []
        with copy.read() as session:
            carried = session.get(Act, act_id)
            assert carried is not None and carried.signed_attachment_id is None
    finally:
        copy.close()
    report = checkin(db, result.path)
    assert "attachment" not in report.deleted and "act" not in report.updated
    assert [r.id for r in attachments_of(db, Owner(funding_line_id=line))] == [heavy_id]
    with db.read() as session:
        assert session.get(Act, act_id).signed_attachment_id == heavy_id


@pytest.fixture
def sqlite_office(sqlite_template, tmp_path):
    path = tmp_path / "bureau.sqlite"
    shutil.copyfile(sqlite_template, path)
    db = open_database(path)
    yield build_office(db)
    db.close()


def test_cli_checkout_prints_the_size_and_leaves_them_on_request(sqlite_office, tmp_path):
    built = sqlite_office
    db = built.db
    add_attachment(db, Owner(operation_id=built.operations[0]),
                   _file(tmp_path, "convention.pdf", 2048)[0])
    base = [sys.executable, str(ROOT / "main.py"), "field", "checkout", "--db",
            str(db.target.path), "--arrondissement", ARRONDISSEMENT]
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run([*base, "-o", str(tmp_path / "a.sqlite")], capture_output=True,
                          text=True, env=env, check=True)
    assert "1 pièce jointe, 2 Ko emportées" in done.stdout
    done = subprocess.run([*base, "-o", str(tmp_path / "b.sqlite"), "--sans-pieces"],
                          capture_output=True, text=True, env=env, check=True)
    assert "pièces jointes laissées au bureau" in done.stdout


def test_the_checkout_dialog_shows_the_attachments_and_the_limit(qtbot, sqlite_office,
                                                                 tmp_path):
    from desktop.field_dialogs import CheckoutDialog

    built = sqlite_office
    db = built.db
    for index, operation_id in enumerate(built.operations):
        add_attachment(db, Owner(operation_id=operation_id),
                       _file(tmp_path, f"piece-{index}.pdf", 400_000)[0])
    dialog = CheckoutDialog(db)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.arrondissement.setCurrentIndex(dialog.arrondissement.findData(ARRONDISSEMENT))
    assert dialog.attachments_figures.text() == (
        "Pièces jointes du périmètre : 3 pièces jointes, 1,1 Mo (limite : 200 Mo).")
    assert dialog.leave_attachments.isEnabled() and dialog.with_attachments()
    set_setting(db, LIMIT_SETTING, "1")
    dialog.update_attachments()
    qtbot.wait(10)  # the layout makes room for the second line before the picture
    assert "Au-delà de la limite, elles restent au bureau." in dialog.attachments_figures.text()
    assert not dialog.with_attachments() and not dialog.leave_attachments.isEnabled()
    dialog.grab().save(str(tmp_path / "sortie.png"))
