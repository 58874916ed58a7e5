"""The office's act templates (issue 13, item 2): listed, exported, edited with
python-docx, taken back through the real *Paramètres › Modèles…* dialog (refused with
the unknown field and its paragraph, then accepted), used by ``template_for``, named in
the journal; one office template per kind for « tous dispositifs » on both backends."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import func, select

from db.acts import library
from db.acts.fields import context
from db.acts.templates import TemplateError, render
from db.errors import InvalidInput
from db.history.trail import journal
from db.models import ActTemplate, AuditEntry, FundingLine, Operation
from db.vocabulary import ActKind

KIND = ActKind.AWARD_ORDER


def _add_paragraphs(source: Path, target: Path, *texts: str) -> list[int]:
    """Append paragraphs to a DOCX; their numbers as check_template counts them (body
    paragraphs come first)."""
    document = Document(str(source))
    numbers = []
    for text in texts:
        document.add_paragraph(text)
        numbers.append(len(document.paragraphs))
    document.save(str(target))
    return numbers


def _paragraphs(content: bytes) -> list[str]:
    return [p.text for p in Document(io.BytesIO(content)).paragraphs]


def _detr_line(db):
    with db.read() as session:
        return session.scalar(select(FundingLine.id).join(Operation)
                              .where(FundingLine.scheme_code == "DETR",
                                     FundingLine.amount_granted.is_not(None))
                              .order_by(Operation.reference).limit(1))


def test_list_export_import_reset(demo_db, tmp_path):
    rows = library.templates(demo_db)
    detr = next(r for r in rows if r.kind is KIND and r.scheme_code == "DETR")
    assert (detr.origin, detr.scheme_label, detr.file_name) == (
        "Modèle livré", "DETR", "arrete_attributif_detr.docx")
    exported = library.export_template(demo_db, KIND, "DETR", tmp_path / "a.docx")
    assert exported.read_bytes() == library.shipped_file(KIND, "DETR").read_bytes()

    edited = tmp_path / "arrete_bureau.docx"
    _add_paragraphs(exported, edited, "Montant retenu par le bureau : {{ montant }}.")
    stored = library.import_template(demo_db, KIND, "DETR", edited)
    assert stored.sha256 == hashlib.sha256(edited.read_bytes()).hexdigest()
    source = library.template_for(demo_db, KIND, "DETR")
    assert source.office and source.content == edited.read_bytes()
    values = context(demo_db, _detr_line(demo_db))
    assert f"Montant retenu par le bureau : {values['montant']}." in _paragraphs(
        render(source.content, values))
    # The office's DETR template is not taken for another scheme.
    assert library.template_for(demo_db, KIND, "DSIL").content != edited.read_bytes() \
        if library.shipped_file(KIND, "DSIL") else True

    row = next(r for r in library.templates(demo_db)
               if r.kind is KIND and r.scheme_code == "DETR")
    assert (row.origin, row.file_name, row.modified_by is not None) == (
        "Modèle du bureau", "arrete_bureau.docx", True)
    # Taken back again: replaced, not a second row.
    _add_paragraphs(edited, edited, "Deuxième version : {{ taux }}.")
    library.import_template(demo_db, KIND, "DETR", edited)
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(ActTemplate)) == 1
        audited = session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "act_template")).all()
    assert [e.action for e in audited] == ["insert", "update"]
    assert all("content" not in (e.changes or {}) for e in audited)  # bytes stay out
    names = {r.record for r in journal(demo_db).rows if r.entity == "act_template"}
    assert names == {"Modèle d'acte : Arrêté attributif — DETR"}

    library.reset_template(demo_db, KIND, "DETR")
    assert not library.template_for(demo_db, KIND, "DETR").office
    with pytest.raises(InvalidInput) as refused:
        library.reset_template(demo_db, KIND, "DETR")
    assert "déjà le modèle livré" in refused.value.message


def test_a_template_failing_only_when_filled_is_refused(demo_db, tmp_path):
    edited = tmp_path / "casse.docx"
    # A known field, misused: only filling it with a real line's values shows it.
    _add_paragraphs(library.shipped_file(KIND, "DETR"), edited, "{{ montant.upper(1) }}")
    with pytest.raises(TemplateError) as refused:
        library.import_template(demo_db, KIND, "DETR", edited)
    assert "essai avec l'opération" in refused.value.message
    assert not library.template_for(demo_db, KIND, "DETR").office


def test_one_office_template_for_every_scheme(db, tmp_path):
    """The unique constraint lets two NULL schemes in; the library keeps one (both
    backends), and the « tous dispositifs » one serves every scheme without its own."""
    source = library.shipped_file(KIND, "DETR")
    first, second = tmp_path / "un.docx", tmp_path / "deux.docx"
    _add_paragraphs(source, first, "Version un {{ objet }}")
    _add_paragraphs(source, second, "Version deux {{ objet }}")
    library.import_template(db, KIND, None, first)
    library.import_template(db, KIND, None, second)
    with db.read() as session:
        rows = session.scalars(select(ActTemplate)).all()
    assert [(r.kind, r.scheme_code, r.file_name) for r in rows] == [
        ("arrete_attributif", None, "deux.docx")]
    assert library.template_for(db, KIND, "DSIL").content == second.read_bytes()
    every = next(r for r in library.templates(db) if r.scheme_code is None and r.kind is KIND)
    assert (every.scheme_label, every.origin) == ("Tous dispositifs", "Modèle du bureau")
    with pytest.raises(Exception, match="Dispositif inconnu"):
        library.import_template(db, KIND, "PAS_UN_DISPOSITIF", first)


# --- The dialog ---------------------------------------------------------------------

def test_dialog_round_trip(qtbot, demo_db, tmp_path, monkeypatch):
    from desktop.templates_dialog import FieldsDialog, TemplatesDialog

    dialog = TemplatesDialog(demo_db)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    row_index = next(i for i, r in enumerate(dialog.rows)
                     if r.kind is KIND and r.scheme_code == "DETR")
    assert dialog.table.item(row_index, 2).text() == "Modèle livré"
    dialog.table.selectRow(row_index)
    assert not dialog.reset_button.isEnabled()  # nothing to go back from

    exported = tmp_path / "exporte"
    monkeypatch.setattr(dialog, "ask_save_path", lambda suggested: str(exported))
    dialog.export_button.click()
    exported = exported.with_suffix(".docx")
    assert exported.read_bytes() == library.shipped_file(KIND, "DETR").read_bytes()
    assert str(exported) in dialog.message.toPlainText()

    edited = tmp_path / "modifie.docx"
    known, unknown = _add_paragraphs(
        exported, edited, "Soit {{ montant_en_lettres }} au total.",
        "Référence interne : {{ numero_dossier_interne }}.")
    monkeypatch.setattr(dialog, "ask_open_path", lambda: str(edited))
    dialog.table.selectRow(row_index)
    dialog.import_button.click()
    shown = dialog.message.toPlainText()
    assert "« numero_dossier_interne », paragraphe " + str(unknown) in shown
    assert "Rien n'a été enregistré" in shown
    assert not library.template_for(demo_db, KIND, "DETR").office
    dialog.grab().save(str(tmp_path / "modeles-refus.png"))

    document = Document(str(edited))
    document.paragraphs[unknown - 1].text = "Référence : {{ reference }}."
    document.save(str(edited))
    dialog.import_button.click()
    assert "Modèle du bureau enregistré" in dialog.message.toPlainText()
    source = library.template_for(demo_db, KIND, "DETR")
    assert source.office and source.content == edited.read_bytes()
    row_index = next(i for i, r in enumerate(dialog.rows)
                     if r.kind is KIND and r.scheme_code == "DETR")
    assert [dialog.table.item(row_index, c).text() for c in (0, 1, 2, 3)] == [
        "Arrêté attributif", "DETR", "Modèle du bureau", "modifie.docx"]
    assert dialog.table.item(row_index, 4).text()  # modified at
    assert dialog.reset_button.isEnabled()
    filled = _paragraphs(render(source.content, context(demo_db, _detr_line(demo_db))))
    assert any(p.startswith("Soit ") and p.endswith(" euros au total.") for p in filled)
    dialog.grab().save(str(tmp_path / "modeles-bureau.png"))

    fields = dialog.show_fields()
    assert isinstance(fields, FieldsDialog)
    qtbot.keyClicks(fields.search, "lettres")
    assert fields.visible_fields() == ["montant_en_lettres",
                                       "base_subventionnable_en_lettres"]
    fields.grab().save(str(tmp_path / "champs.png"))
    fields.close()

    dialog.reset_button.click()
    assert not library.template_for(demo_db, KIND, "DETR").office
    assert dialog.table.item(row_index, 2).text() == "Modèle livré"


def test_dialog_new_template_for_a_scheme(qtbot, demo_db, tmp_path, monkeypatch):
    from desktop.templates_dialog import TemplatesDialog

    dialog = TemplatesDialog(demo_db)
    qtbot.addWidget(dialog)
    before = len(dialog.rows)
    letter = tmp_path / "notification_dsil.docx"
    _add_paragraphs(library.shipped_file(KIND, "DETR"), letter, "Notification {{ objet }}")

    def choose(chooser):
        chooser.kind.setCurrentIndex(chooser.kind.findData(ActKind.NOTIFICATION.value))
        chooser.scheme.setCurrentIndex(chooser.scheme.findData("DSIL"))
        return chooser.DialogCode.Accepted

    monkeypatch.setattr(dialog, "exec_choice", choose)
    monkeypatch.setattr(dialog, "ask_open_path", lambda: str(letter))
    dialog.new_button.click()
    assert len(dialog.rows) == before + 1
    chosen = dialog.selected()
    assert (chosen.kind_label, chosen.scheme_label, chosen.origin) == (
        "Lettre de notification", "DSIL", "Modèle du bureau")
    assert library.template_for(demo_db, ActKind.NOTIFICATION, "DSIL").office


def test_settings_menu_opens_templates(window, monkeypatch):
    from desktop.templates_dialog import TemplatesDialog

    opened = []
    monkeypatch.setattr(TemplatesDialog, "exec", lambda self: opened.append(self.rows) or 0)
    settings = next(a.menu() for a in window.menuBar().actions()
                    if a.text() == "&Paramètres")
    entry = next(a for a in settings.actions() if a.text() == "&Modèles…")
    entry.trigger()
    assert opened and any(r.origin == "Modèle livré" for r in opened[0])
