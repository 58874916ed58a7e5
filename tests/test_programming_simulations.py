"""Simulations: simulate → apply → undo round trip checked in the database (SQLite and
PostgreSQL), the envelope's limit at the cent, an undo refused after a later change."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal as D

import pytest
from sqlalchemy import select, text

from db.errors import InvalidInput
from db.models import AuditEntry, FundingLine, Operation
from db.programming.envelopes import EnvelopeData, save_envelope
from db.programming.simulations import (
    LineEdit,
    SimulationEdit,
    apply_simulation,
    create_simulation,
    load_simulation,
    save_categories,
    save_simulation,
    totals_of,
    undo_simulation,
)
from db.services.operations import load_operation_data, update_funding_line
from tests.programming_helpers import build_world


@pytest.fixture
def world(db):
    world = build_world(db)
    world["envelope"] = save_envelope(db, EnvelopeData(
        "DETR", 2025, D("100000.00"), arrondissement_code="591")).id
    return world


def lines_state(db) -> dict[str, tuple]:
    """Each operation's DETR 2025 line as stored (read with plain SQL)."""
    with db.engine.connect() as connection:
        rows = connection.execute(text(
            "SELECT o.reference, fl.status, fl.amount_granted_cents, fl.decision_date, "
            "o.granted_total_cents FROM funding_line fl JOIN operation o "
            "ON o.id = fl.operation_id WHERE fl.scheme_code = 'DETR' "
            "AND fl.budget_year = 2025")).all()
    return {r[0]: (r[1], r[2], str(r[3]) if r[3] else None, r[4]) for r in rows}


def edit_of(view, changes: dict[str, tuple], decision=date(2025, 3, 20)) -> SimulationEdit:
    lines = []
    for row in view.rows:
        proposed, status = changes.get(row.reference, (row.proposed, row.status))
        lines.append(LineEdit(row.id, proposed, status, row.category_id, row.opinion))
    return SimulationEdit(view.id, view.version, view.name, decision, None, lines)


def test_simulate_apply_undo_round_trip(db, world):
    before = lines_state(db)
    simulation = create_simulation(db, world["envelope"], "Commission du 20 mars")
    view = load_simulation(db, simulation)
    assert sorted(r.reference for r in view.rows) == [
        "OP-2025-A", "OP-2025-B", "OP-2025-C", "OP-2025-H", "OP-2025-I", "OP-2025-J"]
    start = {r.reference: (r.proposed, r.status) for r in view.rows}
    assert start["OP-2025-A"] == (D("40000.00"), "retenu")
    assert start["OP-2025-B"] == (None, None)
    assert start["OP-2025-C"] == (None, "refuse")
    totals = totals_of(view)
    assert (totals.programmed, totals.remaining) == (D("57000.00"), D("43000.00"))

    categories = save_categories(db, "59", ["Écoles", "Voirie"])
    view = load_simulation(db, simulation)
    edit = edit_of(view, {"OP-2025-A": (D("38000.00"), "retenu"),
                          "OP-2025-B": (D("30000.00"), "retenu"),
                          "OP-2025-J": (None, "refuse")})
    edit.lines[0].category_id = categories[1].id
    edit.lines[0].opinion = "Avis favorable"
    save_simulation(db, edit)
    view = load_simulation(db, simulation)
    assert view.rows[0].category_id == categories[1].id
    assert view.rows[0].opinion == "Avis favorable"
    assert totals_of(view).programmed == D("85000.00")  # 38 000 + 30 000 + 12 000 + 5 000
    assert lines_state(db) == before  # a simulation changes no funding line

    assert apply_simulation(db, simulation, view.version) == 6
    after = lines_state(db)
    assert after["OP-2025-A"] == ("accorde", 3_800_000, "2025-03-20", 3_800_000)
    assert after["OP-2025-B"] == ("accorde", 3_000_000, "2025-03-20", 3_000_000)
    assert after["OP-2025-J"][:3] == ("refuse", None, "2025-03-20")
    assert after["OP-2025-C"][:3] == ("refuse", None, "2025-03-20")
    assert after["OP-2025-D"] == before["OP-2025-D"]  # another arrondissement: untouched
    with db.read() as session:
        entries = session.scalars(select(AuditEntry).where(
            AuditEntry.entity == "funding_line", AuditEntry.origin == "simulation",
            AuditEntry.batch_id == simulation)).all()
        changed = {e.entity_id: e.changes for e in entries}
        b_line = session.scalar(select(FundingLine.id).join(Operation).where(
            Operation.reference == "OP-2025-B"))
    # The audit names a record by its id, spelled with or without dashes per backend.
    b_changes = next(c for key, c in changed.items() if key.replace("-", "") == b_line.hex)
    assert b_changes["status"] == ["sollicite", "accorde"]
    assert b_changes["amount_granted"] == [None, "30000.00"]

    view = load_simulation(db, simulation)
    assert view.applied_at is not None
    assert undo_simulation(db, simulation, view.version) == 6
    assert lines_state(db) == before
    assert load_simulation(db, simulation).applied_at is None


def test_apply_refused_beyond_the_envelope_at_the_cent(db, world):
    before = lines_state(db)
    simulation = create_simulation(db, world["envelope"], "Au centime")
    view = load_simulation(db, simulation)
    # 40 000 (A) + 12 000 (H) + 5 000 (I) + 43 000 (B) = 100 000,00: the envelope exactly.
    save_simulation(db, edit_of(view, {"OP-2025-B": (D("43000.01"), "retenu")}))
    view = load_simulation(db, simulation)
    with pytest.raises(InvalidInput) as error:
        apply_simulation(db, simulation, view.version)
    assert "dépasse le montant notifié (100\u202f000,00\xa0€) de 0,01\xa0€" in \
        error.value.message
    assert lines_state(db) == before
    assert load_simulation(db, simulation).applied_at is None
    save_simulation(db, edit_of(view, {"OP-2025-B": (D("43000.00"), "retenu")}))
    view = load_simulation(db, simulation)
    apply_simulation(db, simulation, view.version)
    assert lines_state(db)["OP-2025-B"][:2] == ("accorde", 4_300_000)


def test_undo_refused_when_a_line_changed_since(db, world):
    simulation = create_simulation(db, world["envelope"], "Première")
    view = load_simulation(db, simulation)
    save_simulation(db, edit_of(view, {"OP-2025-B": (D("30000.00"), "retenu")}))
    view = load_simulation(db, simulation)
    apply_simulation(db, simulation, view.version)
    applied = lines_state(db)
    operation_id = world["operations"]["B"]
    with db.read() as session:
        data = load_operation_data(session, session.get(Operation, operation_id))
    changed = replace(data.funding_lines[0], amount_granted=D("29000.00"))
    update_funding_line(db, operation_id, data.version, changed)
    view = load_simulation(db, simulation)
    with pytest.raises(InvalidInput) as error:
        undo_simulation(db, simulation, view.version)
    assert error.value.message.startswith(
        "Annulation refusée : le financement DETR de l'opération « OP-2025-B » a été modifié")
    assert "rien n'a été modifié" in error.value.message
    state = lines_state(db)
    assert state["OP-2025-B"][:2] == ("accorde", 2_900_000)
    assert {k: v for k, v in state.items() if k != "OP-2025-B"} == \
        {k: v for k, v in applied.items() if k != "OP-2025-B"}
    assert load_simulation(db, simulation).applied_at is not None
    # Another simulation of the same envelope cannot be applied on top of it.
    other = create_simulation(db, world["envelope"], "Seconde")
    with pytest.raises(InvalidInput, match="« Première » est déjà appliquée"):
        apply_simulation(db, other, load_simulation(db, other).version)
    assert isinstance(other, uuid.UUID)


def test_the_totals_are_what_applying_programmes(db, world):
    """A line granted now and left « ajourné » or « à examiner » is not touched by the
    application: the simulation's totals keep counting it, as the envelope will."""
    from db.programming.envelopes import envelope_figures

    simulation = create_simulation(db, world["envelope"], "Ajournements")
    view = load_simulation(db, simulation)
    save_simulation(db, edit_of(view, {"OP-2025-H": (D("12000.00"), "ajourne"),
                                       "OP-2025-I": (D("5000.00"), None),
                                       "OP-2025-A": (D("41000.00"), "retenu"),
                                       "OP-2025-B": (D("20000.00"), "retenu")}))
    view = load_simulation(db, simulation)
    expected = totals_of(view)
    # 41 000 (A) + 20 000 (B) retained; H (12 000) and I (5 000) stay granted.
    assert expected.programmed == D("78000.00")
    apply_simulation(db, simulation, view.version)
    with db.read() as session:
        found = [f for f in envelope_figures(session, year=2025, arrondissement="591")
                 if f.envelope_id == world["envelope"]][0]
    assert found.programmed == expected.programmed
    assert found.remaining == expected.remaining == D("22000.00")


def test_apply_refused_below_what_is_already_paid(db, world):
    before = lines_state(db)
    simulation = create_simulation(db, world["envelope"], "Versements")
    view = load_simulation(db, simulation)
    # A has received 10 000,00 €.
    save_simulation(db, edit_of(view, {"OP-2025-A": (D("9999.99"), "retenu")}))
    view = load_simulation(db, simulation)
    with pytest.raises(InvalidInput) as error:
        apply_simulation(db, simulation, view.version)
    assert error.value.message == (
        "Ligne 1 (le financement DETR de l'opération « OP-2025-A ») : 10\u202f000,00\xa0€ "
        "déjà versés, plus que le montant proposé (9\u202f999,99\xa0€). "
        "Rien n'a été enregistré.")
    save_simulation(db, edit_of(view, {"OP-2025-A": (None, "refuse")}))
    view = load_simulation(db, simulation)
    with pytest.raises(InvalidInput, match="déjà versés, il ne peut pas être refusé"):
        apply_simulation(db, simulation, view.version)
    assert lines_state(db) == before
    save_simulation(db, edit_of(view, {"OP-2025-A": (D("10000.00"), "retenu")}))
    apply_simulation(db, simulation, load_simulation(db, simulation).version)
    assert lines_state(db)["OP-2025-A"][:2] == ("accorde", 1_000_000)


def test_the_journal_shows_what_a_simulation_wrote(db, world):
    from db.history import journal

    simulation = create_simulation(db, world["envelope"], "Journal")
    view = load_simulation(db, simulation)
    save_simulation(db, edit_of(view, {"OP-2025-B": (D("30000.00"), "retenu")}))
    apply_simulation(db, simulation, load_simulation(db, simulation).version)
    rows = journal(db, origin="simulation", limit=50).rows
    assert rows and {r.origin for r in rows} == {"Simulation de programmation"}
    changed = [r for r in rows if r.parent.startswith("Opération OP-2025-B")
               and r.field and r.new]
    assert any("30\u202f000,00" in r.new for r in changed), [(r.field, r.new) for r in changed]
