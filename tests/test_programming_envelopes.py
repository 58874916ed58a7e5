"""Envelopes: figures against independent SQL sums (SQLite and PostgreSQL), and the two
errors at their boundary (equal is fine, one cent more is refused)."""

from __future__ import annotations

import uuid
from decimal import Decimal as D

import pytest
from sqlalchemy import func, select, text

from db.errors import InvalidInput
from db.models import AuditEntry, Envelope
from db.programming.envelopes import (
    EnvelopeData,
    envelope_figures,
    envelope_rows,
    save_envelope,
)
from tests.programming_helpers import build_world

# Written here, apart from the code under test: the lines of a scheme and year on the
# operations having a commune of the perimeter or a contract of it, but the lines not
# granted of abandoned operations.
INDEPENDENT = """
SELECT COALESCE(SUM(fl.amount_requested_cents), 0),
       COALESCE(SUM(CASE WHEN fl.status = 'accorde' THEN fl.amount_granted_cents END), 0),
       COALESCE(SUM(CASE WHEN fl.status = 'accorde' THEN fl.paid_total_cents END), 0),
       COUNT(DISTINCT fl.operation_id)
FROM funding_line fl
WHERE fl.scheme_code = :scheme AND fl.budget_year = :year
  AND (fl.status = 'accorde'
       OR fl.operation_id NOT IN (SELECT id FROM operation WHERE status = 'abandonne'))
  AND fl.operation_id IN (
    SELECT oc.operation_id FROM operation_commune oc
    JOIN commune c ON c.code = oc.commune_code WHERE {commune_condition}
    UNION
    SELECT l.operation_id FROM operation_contract l JOIN contract k ON k.id = l.contract_id
    LEFT JOIN arrondissement a ON a.code = k.arrondissement_code WHERE {contract_condition})
"""


def independent(db, scheme, year, *, arrondissement=None, departement=None):
    if arrondissement:
        sql = INDEPENDENT.format(commune_condition="c.arrondissement_code = :code",
                                 contract_condition="k.arrondissement_code = :code")
    else:
        sql = INDEPENDENT.format(commune_condition="c.departement_code = :code",
                                 contract_condition="a.departement_code = :code")
    with db.engine.connect() as connection:
        row = connection.execute(text(sql), {"scheme": scheme, "year": year,
                                             "code": arrondissement or departement}).one()
    return [D(int(row[0])) / 100, D(int(row[1])) / 100, D(int(row[2])) / 100, int(row[3])]


def figures(db, **kw):
    with db.read() as session:
        return {(f.scheme_code, f.perimeter_label): f for f in envelope_figures(session, **kw)}


@pytest.fixture
def world(db):
    return build_world(db)


def test_figures_match_independent_sql_sums(db, world):
    nord = save_envelope(db, EnvelopeData("DETR", 2025, D("500000.00"),
                                          departement_code="59")).id
    save_envelope(db, EnvelopeData("DETR", 2025, D("100000.00"), arrondissement_code="591",
                                   parent_id=nord))
    save_envelope(db, EnvelopeData("DSIL", 2025, D("80000.00"), arrondissement_code="591"))
    save_envelope(db, EnvelopeData("DETR", 2024, D("90000.00"), arrondissement_code="591"))
    found = figures(db, year=2025, arrondissement="591")
    assert set(found) == {("DETR", "Nord"), ("DETR", "Arrondissement d'Avesnes-sur-Helpe"),
                          ("DSIL", "Arrondissement d'Avesnes-sur-Helpe")}
    avesnes = found["DETR", "Arrondissement d'Avesnes-sur-Helpe"]
    assert [avesnes.requested, avesnes.programmed, avesnes.paid, avesnes.dossiers] == \
        independent(db, "DETR", 2025, arrondissement="591")
    # By hand: A, B, C, H, I, J are in 591 (H and I by the contract, I counted once).
    assert avesnes.requested == D("125000.00")  # 50 000 + 30 000 + 20 000 + 12 000 + 5 000 + 8 000
    assert avesnes.programmed == D("57000.00")  # 40 000 + 12 000 + 5 000
    assert avesnes.remaining == D("43000.00")
    assert avesnes.paid == D("10000.00")
    assert avesnes.dossiers == 6
    assert avesnes.scheme_label == "DETR"
    nord_figures = found["DETR", "Nord"]
    assert [nord_figures.requested, nord_figures.programmed, nord_figures.paid,
            nord_figures.dossiers] == independent(db, "DETR", 2025, departement="59")
    assert nord_figures.programmed == D("82000.00")  # 591's plus D (592); not G (62)
    dsil = found["DSIL", "Arrondissement d'Avesnes-sur-Helpe"]
    assert [dsil.requested, dsil.programmed, dsil.paid, dsil.dossiers] == \
        independent(db, "DSIL", 2025, arrondissement="591") == \
        [D("24000.00"), D("15000.00"), D("0.00"), 2]
    older = figures(db, year=2024)["DETR", "Arrondissement d'Avesnes-sur-Helpe"]
    assert older.programmed == D("70000.00") == independent(db, "DETR", 2024,
                                                            arrondissement="591")[1]
    rows = {r.figures.perimeter_label: r for r in envelope_rows(db, year=2025,
                                                                arrondissement="591")
            if r.figures.scheme_code == "DETR"}
    assert rows["Nord"].delegated == D("100000.00")
    assert rows["Arrondissement d'Avesnes-sur-Helpe"].parent_label == "DETR 2025 — Nord"


def _count(db):
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Envelope))


def test_programming_beyond_the_envelope_is_refused_at_the_cent(db, world):
    # 57 000,00 € are programmed in 591 for DETR 2025.
    saved = save_envelope(db, EnvelopeData("DETR", 2025, D("57000.00"),
                                           arrondissement_code="591"))
    with pytest.raises(InvalidInput) as error:
        save_envelope(db, EnvelopeData("DETR", 2025, D("56999.99"), arrondissement_code="591",
                                       id=saved.id, version=saved.version))
    assert error.value.message == (
        "Enveloppe DETR 2025 — Arrondissement d'Avesnes-sur-Helpe : la programmation "
        "(57\u202f000,00\xa0€) dépasse le montant notifié (56\u202f999,99\xa0€) de "
        "0,01\xa0€. Rien n'a été enregistré.")
    with db.read() as session:
        assert session.get(Envelope, saved.id).amount == D("57000.00")
    with pytest.raises(InvalidInput, match="dépasse le montant notifié"):
        # 15 000,00 € of DSIL are programmed in 591: a new envelope below is refused.
        save_envelope(db, EnvelopeData("DSIL", 2025, D("14999.99"), arrondissement_code="591"))
    save_envelope(db, EnvelopeData("DSIL", 2025, D("15000.00"), arrondissement_code="591"))
    assert _count(db) == 2


def test_delegated_envelopes_beyond_their_parent_are_refused_at_the_cent(db, world):
    nord = save_envelope(db, EnvelopeData("DETR", 2025, D("100000.00"),
                                          departement_code="59"))
    save_envelope(db, EnvelopeData("DETR", 2025, D("57000.00"), arrondissement_code="591",
                                   parent_id=nord.id))
    # 57 000 + 43 000 = 100 000: exactly the parent's amount, fine.
    cambrai = save_envelope(db, EnvelopeData("DETR", 2025, D("43000.00"),
                                             arrondissement_code="592", parent_id=nord.id))
    with pytest.raises(InvalidInput) as error:
        save_envelope(db, EnvelopeData("DETR", 2025, D("43000.01"), arrondissement_code="592",
                                       parent_id=nord.id, id=cambrai.id,
                                       version=cambrai.version))
    assert error.value.message == (
        "Enveloppe DETR 2025 — Nord : les enveloppes qui en sont déléguées totalisent "
        "100\u202f000,01\xa0€, plus que son montant notifié (100\u202f000,00\xa0€), de "
        "0,01\xa0€. Rien n'a été enregistré.")
    with pytest.raises(InvalidInput, match="déléguées totalisent 100\u202f000,00"):
        save_envelope(db, EnvelopeData("DETR", 2025, D("99999.99"), departement_code="59",
                                       id=nord.id, version=nord.version))
    with db.read() as session:
        assert session.get(Envelope, cambrai.id).amount == D("43000.00")
        assert session.get(Envelope, nord.id).amount == D("100000.00")
        audited = session.scalar(select(func.count()).select_from(AuditEntry)
                                 .where(AuditEntry.entity == "envelope"))
    assert audited == 3  # three inserts, the refused updates left nothing


def test_bad_input_names_the_field(db, world):
    with pytest.raises(InvalidInput, match="Périmètre de l'enveloppe : un département ou"):
        save_envelope(db, EnvelopeData("DETR", 2025, D("1.00"), departement_code="59",
                                       arrondissement_code="591"))
    with pytest.raises(InvalidInput, match="Dotation de l'enveloppe"):
        save_envelope(db, EnvelopeData("XYZ", 2025, D("1.00"), departement_code="59"))
    nord62 = save_envelope(db, EnvelopeData("DETR", 2025, D("1000000.00"),
                                            departement_code="62")).id
    with pytest.raises(InvalidInput, match="déléguée de l'enveloppe de son département"):
        save_envelope(db, EnvelopeData("DETR", 2025, D("60000.00"), arrondissement_code="591",
                                       parent_id=nord62))
    save_envelope(db, EnvelopeData("DETR", 2025, D("60000.00"), arrondissement_code="591"))
    with pytest.raises(InvalidInput, match="existe déjà"):
        save_envelope(db, EnvelopeData("DETR", 2025, D("70000.00"), arrondissement_code="591"))


def test_granting_in_the_operation_beyond_the_envelope_is_refused(db, world):
    from dataclasses import replace

    from db.models import Operation
    from db.services.operations import load_operation_data, save_operation, update_funding_line
    from db.vocabulary import FundingStatus

    # 57 000,00 € programmed in 591; B asks 30 000 €: 43 000 € left exactly.
    save_envelope(db, EnvelopeData("DETR", 2025, D("100000.00"), arrondissement_code="591"))
    operation_id = world["operations"]["B"]

    def line_of_b():
        with db.read() as session:
            data = load_operation_data(session, session.get(Operation, operation_id))
        return data, data.funding_lines[0]

    data, line = line_of_b()
    with pytest.raises(InvalidInput) as error:
        update_funding_line(db, operation_id, data.version, replace(
            line, status=FundingStatus.GRANTED, amount_granted=D("43000.01")))
    assert "dépasse le montant notifié (100\u202f000,00\xa0€) de 0,01\xa0€" in \
        error.value.message
    assert figures(db, year=2025)[
        "DETR", "Arrondissement d'Avesnes-sur-Helpe"].programmed == D("57000.00")
    update_funding_line(db, operation_id, data.version, replace(
        line, status=FundingStatus.GRANTED, amount_granted=D("43000.00")))
    assert figures(db, year=2025)[
        "DETR", "Arrondissement d'Avesnes-sur-Helpe"].remaining == D("0.00")
    # The whole operation saved from its editor: the same rule.
    data, line = line_of_b()
    data.funding_lines[0] = replace(line, amount_granted=D("43000.01"))
    with pytest.raises(InvalidInput, match="dépasse le montant notifié"):
        save_operation(db, data)
    # An operation of another arrondissement is not counted by 591's envelope.
    cambrai = world["operations"]["D"]
    with db.read() as session:
        data = load_operation_data(session, session.get(Operation, cambrai))
    data.funding_lines[0] = replace(data.funding_lines[0], amount_granted=D("26000.00"),
                                    amount_requested=D("26000.00"))
    save_operation(db, data)


def test_a_withdrawn_dossier_no_longer_asks_but_a_grant_still_counts(db, world):
    """« Classé sans suite »: the operation abandoned, its request leaves « demandé »,
    the simulations' candidates and the count of dossiers; a grant not yet cancelled
    still consumes the envelope."""
    from db.editing import operation_for_edit
    from db.services.operations import save_operation
    from db.vocabulary import OperationStatus

    save_envelope(db, EnvelopeData("DETR", 2025, D("100000.00"), arrondissement_code="591"))
    before = figures(db, year=2025, arrondissement="591")[
        "DETR", "Arrondissement d'Avesnes-sur-Helpe"]
    with db.engine.connect() as connection:
        requested = connection.execute(text(
            "SELECT operation_id, status, amount_requested_cents FROM funding_line "
            "WHERE scheme_code = 'DETR' AND budget_year = 2025 AND operation_id IN ("
            " SELECT oc.operation_id FROM operation_commune oc JOIN commune c"
            " ON c.code = oc.commune_code WHERE c.arrondissement_code = '591')"
            " ORDER BY status")).all()
    ids = {r[0] for r in requested}
    by_status = {}
    for operation_id, status, cents in requested:
        by_status.setdefault(status, []).append((operation_id, cents))
    def abandon(raw_id):
        key = raw_id if isinstance(raw_id, uuid.UUID) else uuid.UUID(str(raw_id))
        data = operation_for_edit(db, key)
        data.status = OperationStatus.ABANDONED
        save_operation(db, data)

    asked = next(o for o, _ in by_status["sollicite"]
                 if sum(1 for r in requested if r[0] == o) == 1)
    granted = next(o for o, _ in by_status["accorde"]
                   if sum(1 for r in requested if r[0] == o) == 1)
    assert asked in ids and granted in ids
    abandon(asked)
    abandon(granted)
    after = figures(db, year=2025, arrondissement="591")[
        "DETR", "Arrondissement d'Avesnes-sur-Helpe"]
    asked_cents = next(c for o, c in by_status["sollicite"] if o == asked)
    granted_cents = next(c for o, c in by_status["accorde"] if o == granted)
    assert after.requested == before.requested - D(asked_cents) / 100
    assert after.programmed == before.programmed  # the grant still counts
    assert after.dossiers == before.dossiers - 1
    assert [after.requested, after.programmed, after.paid, after.dossiers] == \
        independent(db, "DETR", 2025, arrondissement="591")
    assert granted_cents > 0
