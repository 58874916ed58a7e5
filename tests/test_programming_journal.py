"""Envelopes, simulations and priority categories in the office's journal (db.history,
`main.py journal`, the Journal page), and the main window's actions (Nouveau, Supprimer,
Imprimer, Exporter) on the Enveloppes page, pressed as the agent presses them; results
checked in the database, in the JSON read back, in the PDF and the sheet reopened."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox
from sqlalchemy import text

from db.programming.envelopes import EnvelopeData, envelope_for_edit, save_envelope
from db.programming.simulations import (
    LineEdit,
    SimulationEdit,
    apply_simulation,
    create_simulation,
    delete_simulation,
    load_simulation,
    save_categories,
    save_simulation,
    undo_simulation,
)
from tests.programming_helpers import build_world
from tests.test_editors import activate
from tests.test_history import double_click
from tests.test_programming_gui import envelopes_page, row_of

NNBSP, NBSP = "\u202f", "\xa0"
AVESNES = "DETR 2025 — Arrondissement d'Avesnes-sur-Helpe"
SIMULATION = f"Simulation « Commission de mars » ({AVESNES})"
# What a journal line must never show: a column name or a code instead of its label.
RAW_KEYS = {"scheme_code", "amount", "parent_id", "envelope_id", "proposed", "status",
            "category_id", "opinion", "applied_at", "applied_by", "before_status",
            "before_granted", "applied_version", "departement_code", "arrondissement_code"}


@pytest.fixture
def agent(monkeypatch):
    monkeypatch.setenv("LOGNAME", "agent.programmation")


def journal_json(db, capsys, *more: str) -> list[dict]:
    from main import main

    target = str(db.target.path) if db.is_sqlite else \
        db.target.url.render_as_string(hide_password=False)
    assert main(["journal", "--db", target, "--limit", "500", *more]) == 0
    out = capsys.readouterr().out
    return json.loads(out) if "--json" in more else out


def one(rows: list[dict], **wanted) -> dict:
    found = [r for r in rows if all(r[k] == v for k, v in wanted.items())]
    assert len(found) == 1, (wanted, found)
    return found[0]


def test_envelope_simulation_and_categories_in_the_journal_command(db, agent, capsys):
    build_world(db)
    nord = save_envelope(db, EnvelopeData("DETR", 2025, D("31500000.00"),
                                          departement_code="59")).id
    envelope = save_envelope(db, EnvelopeData("DETR", 2025, D("100000.00"),
                                              arrondissement_code="591", parent_id=nord)).id
    data = envelope_for_edit(db, envelope)
    data.amount, data.notes = D("150000.50"), "Notifiée par la préfecture le 3 mars"
    save_envelope(db, data)
    schools = save_categories(db, "59", ["Écoles", "Voirie"])[0]
    simulation = create_simulation(db, envelope, "Commission de mars")
    view = load_simulation(db, simulation)
    b = next(r for r in view.rows if r.reference == "OP-2025-B")
    save_simulation(db, SimulationEdit(simulation, view.version, view.name, None, None, [
        LineEdit(b.id, D("30000.00"), "retenu", schools.id, "Avis favorable")]))
    apply_simulation(db, simulation, load_simulation(db, simulation).version)

    rows = journal_json(db, capsys, "--json")
    created = one(rows, entity="envelope", record=f"Enveloppe {AVESNES}", action="création")
    assert created["new"] == (f"montant notifié : 100{NNBSP}000,00{NBSP}€ ; déléguée de : "
                              "DETR 2025 — Nord")
    assert created["login"] == "agent.programmation" and created["origin"] == "Saisie"
    amount = one(rows, entity="envelope", field="Montant notifié")
    assert (amount["record"], amount["old"], amount["new"]) == (
        f"Enveloppe {AVESNES}", f"100{NNBSP}000,00{NBSP}€", f"150{NNBSP}000,50{NBSP}€")
    assert one(rows, entity="envelope", field="Notes")["new"] == \
        "Notifiée par la préfecture le 3 mars"
    one(rows, entity="envelope", record="Enveloppe DETR 2025 — Nord", action="création")
    category = one(rows, entity="priority_category", record="Catégorie prioritaire "
                   "« Écoles » (Nord)")
    assert category["action"] == "création"
    assert one(rows, entity="simulation", action="création")["record"] == SIMULATION
    # The agent's proposals, named by their operation, under their simulation.
    proposals = [r for r in rows if r["entity"] == "simulation_line"]
    assert {(r["field"], r["old"], r["new"]) for r in proposals} == {
        ("Montant proposé", "(vide)", f"30{NNBSP}000,00{NBSP}€"),
        ("Statut provisoire", "À examiner", "Retenu"),
        ("Catégorie prioritaire", "(vide)", "Écoles"),
        ("Avis de la commission", "(vide)", "Avis favorable")}
    assert {(r["record"], r["parent"], r["origin"]) for r in proposals} == {
        ("Proposition pour OP-2025-B « Opération B d'essai »", SIMULATION, "Saisie")}
    # Applied: the simulation says when and by whom, the funding line what it got.
    applied_by = one(rows, entity="simulation", field="Appliquée par")
    assert (applied_by["new"], applied_by["origin"]) == ("agent.programmation",
                                                         "Simulation de programmation")
    assert one(rows, entity="simulation", field="Appliquée le")["old"] == "(vide)"
    granted = one(rows, entity="funding_line", field="Montant accordé",
                  origin="Simulation de programmation")
    assert (granted["parent"], granted["new"]) == (
        "Opération OP-2025-B « Opération B d'essai »", f"30{NNBSP}000,00{NBSP}€")
    for row in rows:
        assert row["field"] not in RAW_KEYS and "_" not in row["field"], row
        assert "DETR_" not in row["record"] + row["old"] + row["new"], row

    # « Fiche » finds a simulation by its name (with its proposals), a category by its
    # label, the envelopes by their dotation.
    found = journal_json(db, capsys, "--json", "--record", "commission de mars")
    assert {r["entity"] for r in found} == {"simulation", "simulation_line"}
    assert len(found) == 2 + 4 + 1  # applied (le, par), four proposals, the creation
    found = journal_json(db, capsys, "--json", "--record", "Voirie")
    assert [(r["record"], r["action"]) for r in found] == [
        ("Catégorie prioritaire « Voirie » (Nord)", "création")]
    found = journal_json(db, capsys, "--json", "--record", "DETR")
    assert {r["record"] for r in found if r["entity"] == "envelope"} == {
        f"Enveloppe {AVESNES}", "Enveloppe DETR 2025 — Nord"}

    # Undone then deleted: the deletion is one line, not one per candidate.
    undo_simulation(db, simulation, load_simulation(db, simulation).version)
    delete_simulation(db, simulation, load_simulation(db, simulation).version)
    rows = journal_json(db, capsys, "--json")
    assert one(rows, entity="simulation", action="suppression")["record"] == SIMULATION
    assert {r["action"] for r in rows if r["entity"] == "simulation_line"} == {
        "modification"}
    with db.engine.connect() as connection:
        candidates = connection.execute(text(
            "SELECT COUNT(*) FROM audit_entry WHERE entity = 'simulation_line' "
            "AND action = 'delete'")).scalar()
    assert candidates >= 5  # audited, one per candidate, but not listed
    out = journal_json(db, capsys, "--agent", "agent.programmation")
    assert (f"— agent.programmation (Saisie) — Enveloppe {AVESNES} — Montant notifié : "
            f"100{NNBSP}000,00{NBSP}€ → 150{NNBSP}000,50{NBSP}€") in out


def visible_dialog(kind: str):
    found = [w for w in QApplication.topLevelWidgets()
             if type(w).__name__ == kind and w.isVisible()]
    assert len(found) == 1, found
    return found[0]


def test_main_window_actions_on_the_envelopes_page(qtbot, window, demo_db, tmp_path,
                                                   monkeypatch):
    import pandas as pd
    import pypdf

    page = envelopes_page(qtbot, window)
    activate(qtbot, window)
    told, asked = [], []
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: told.append(a[2]))
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or
                        QMessageBox.StandardButton.Yes)

    # Ctrl+N: the page's own dialog, for an envelope (not an operation editor).
    qtbot.keyClick(page.table, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    dialog = visible_dialog("EnvelopeDialog")
    assert window.editors == []
    dialog.year.setValue(2026)
    dialog.by_arrondissement.setChecked(True)
    dialog.arrondissement.setCurrentIndex(dialog.arrondissement.findData("591"))
    qtbot.keyClicks(dialog.amount, "800 000,00")
    qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert not dialog.isVisible()
    # Back to the page: offscreen, no window manager hands the activation back to the
    # main window once the dialog is closed (the busy dialog of a slow save took it).
    activate(qtbot, window)
    with demo_db.engine.connect() as connection:
        assert connection.execute(text(
            "SELECT amount_cents, parent_id FROM envelope WHERE year = 2026 "
            "AND arrondissement_code = '591' AND scheme_code = 'DETR'")).all() == [
            (80_000_000, None)]
    new = page.selected()
    assert (new.figures.year, new.figures.perimeter_label) == (
        2026, "Arrondissement d'Avesnes-sur-Helpe")

    # Ctrl+P without a simulation: said what to do, nothing printed.
    qtbot.keyClick(page.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    assert told == ["L'enveloppe DETR 2026 — Arrondissement d'Avesnes-sur-Helpe n'a pas "
                    "encore de simulation : « Simulations… » en crée une avec ses "
                    "candidats ; sa programmation s'imprime ensuite pour la commission."]

    # Suppr: the page's confirmation, then gone from the base (and audited).
    qtbot.keyClick(page.table, Qt.Key.Key_Delete)
    assert asked == ["Supprimer l'enveloppe DETR 2026 — Arrondissement d'Avesnes-sur-Helpe"
                     " ? Les financements ne sont pas modifiés."]
    with demo_db.engine.connect() as connection:
        assert connection.execute(text(
            "SELECT COUNT(*) FROM envelope WHERE year = 2026")).scalar() == 0
        assert connection.execute(text(
            "SELECT COUNT(*) FROM audit_entry WHERE entity = 'envelope' "
            "AND action = 'delete'")).scalar() == 1
    # The busy dialog of a slow delete hands the activation back to the page's window.
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)

    # Ctrl+P with a simulation: its commission document, previewed, saved, read back.
    page.year.setCurrentIndex(page.year.findData(2025))
    page.table.selectRow(row_of(page, "Arrondissement d'Avesnes-sur-Helpe"))
    avesnes = page.selected().figures.envelope_id
    simulation = create_simulation(demo_db, avesnes, "Commission d'avril")
    qtbot.keyClick(page.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    preview = visible_dialog("PrintPreview")
    assert preview.windowTitle() == f"Aperçu — Programmation « Commission d'avril » — {AVESNES}"
    target = tmp_path / "programmation.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    qtbot.mouseClick(preview.save_button, Qt.MouseButton.LeftButton)
    preview.close()
    pdf = pypdf.PdfReader(str(target))
    words = " ".join(" ".join((p.extract_text() or "").split()) for p in pdf.pages)
    pages = len(pdf.pages)
    assert pages == preview.document.pageCount() >= 1
    assert "Simulation « Commission d'avril »" in words
    first = load_simulation(demo_db, simulation).rows[0].reference
    assert first in words

    # Ctrl+E: the page's table to a sheet.
    sheet = tmp_path / "enveloppes.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(sheet), ""))
    activate(qtbot, window)  # back from the preview's window
    qtbot.keyClick(page.table, Qt.Key.Key_F5)  # the simulation made above counted
    qtbot.keyClick(page.table, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    frame = pd.read_excel(sheet, engine="calamine")
    found = frame[(frame["Périmètre"] == "Arrondissement d'Avesnes-sur-Helpe")
                  & (frame["Dotation"] == "DETR")]
    assert list(found["Notifié"]) == [4200000.0]
    assert list(found["Simulations"]) == [1]
    assert told == told[:1]  # nothing else said along the way


def test_journal_page_lists_envelopes_and_opens_them(qtbot, window, demo_db, tmp_path,
                                                     monkeypatch):
    page = envelopes_page(qtbot, window)
    page.year.setCurrentIndex(page.year.findData(2025))
    page.table.selectRow(row_of(page, "Arrondissement d'Avesnes-sur-Helpe"))
    avesnes = page.selected().figures.envelope_id
    data = envelope_for_edit(demo_db, avesnes)
    data.amount = D("4300000.00")
    save_envelope(demo_db, data)
    simulation = create_simulation(demo_db, avesnes, "Commission de mai")
    save_envelope(demo_db, EnvelopeData("DSIL", 2026, D("500000.00"),
                                        arrondissement_code="591"))
    page.year.setCurrentIndex(page.year.findData(2026))  # the 2025 ones are not shown

    window.show_view("journal")
    window.refresh()
    journal = window.current_page()
    assert journal.title == "Journal"
    cells = [{key: journal.model.cell(r, key) for key in ("parent", "record", "change", "old",
                                                          "new", "origin")}
             for r in range(journal.model.rowCount())]
    assert cells[0] == {"parent": "Enveloppe DSIL 2026 — Arrondissement d'Avesnes-sur-Helpe",
                        "record": "Enveloppe DSIL 2026 — Arrondissement d'Avesnes-sur-Helpe",
                        "change": "Création", "old": "",
                        "new": f"montant notifié : 500{NNBSP}000,00{NBSP}€",
                        "origin": "Saisie"}
    assert cells[1]["record"] == "Simulation « Commission de mai » " \
        f"({AVESNES})" and cells[1]["change"] == "Création"
    assert cells[2] == {"parent": f"Enveloppe {AVESNES}", "record": f"Enveloppe {AVESNES}",
                        "change": "Montant notifié", "old": f"4{NNBSP}200{NNBSP}000,00{NBSP}€",
                        "new": f"4{NNBSP}300{NNBSP}000,00{NBSP}€", "origin": "Saisie"}
    assert "Proposition" not in " ".join(c["record"] for c in cells)  # its candidates
    journal.grab().save(str(tmp_path / "journal-enveloppes.png"))

    # A double click on the envelope's change: the Enveloppes page, on that envelope
    # (its year shown again).
    double_click(qtbot, journal.table, 2)
    assert window.current_page() is page
    assert page.selected().figures.envelope_id == avesnes
    # On the simulation's: its envelope selected, the simulation editor open on it.
    window.show_view("journal")
    double_click(qtbot, journal.table, 1)
    assert window.current_page() is page
    editor = page.editors[-1]
    qtbot.addWidget(editor)
    assert editor.isVisible() and editor.view.id == simulation
    assert editor.envelope_id == avesnes
    editor.close()
    # A deleted envelope: said, nothing opened.
    told = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: told.append(a[2]))
    page.year.setCurrentIndex(page.year.findData(2026))
    page.table.selectRow(row_of(page, "Arrondissement d'Avesnes-sur-Helpe", "DSIL"))
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    window.delete_action.trigger()
    window.show_view("journal")
    window.refresh()
    assert journal.model.cell(0, "change") == "Suppression"
    double_click(qtbot, journal.table, 1)  # the DSIL 2026 envelope's creation
    assert journal.model.cell(1, "record") == \
        "Enveloppe DSIL 2026 — Arrondissement d'Avesnes-sur-Helpe"
    assert told == ["L'enveloppe n'existe plus : elle a été supprimée depuis. Son "
                    "historique reste dans le journal."]
    assert window.current_page() is journal
