"""The demonstration database against the seed document, through the command line."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select

from db.demo import DemoError, build_demo
from db.models import Contract, FundingLine, Operation, Setting
from db.reference import resource

ROOT = Path(__file__).resolve().parent.parent
SEED = json.loads(resource("seed", "seed_contracts.json").read_text(encoding="utf-8"))


def cents(euros) -> int:
    return int(Decimal(str(euros)) * 100)


def seed_totals() -> dict[str, int]:
    """Computed from the JSON, independently of the application's code."""
    return {
        "contracts": len(SEED["contracts"]),
        "operations": len(SEED["operations"]),
        "cost_cents": sum(cents(o["total_cost_eur"]) for o in SEED["operations"]
                          if o["total_cost_eur"] is not None),
        "granted_cents": sum(cents(f["amount_eur"]) for o in SEED["operations"]
                             for f in o["financing"]
                             if f["amount_eur"] is not None and f["decided"]),
        "paid_cents": 0,
    }


def test_demo_then_check_reports_the_seed_totals(tmp_path):
    database = tmp_path / "d.sqlite"
    made = subprocess.run([sys.executable, "main.py", "demo", "--db", str(database)], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    checked = subprocess.run([sys.executable, "main.py", "check", "--db", str(database),
                              "--json"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert checked.returncode == 0, checked.stderr
    report = json.loads(checked.stdout)
    assert report["healthy"] and report["integrity"] == "ok"
    assert report["by_origin"]["demo_seed"] == seed_totals()
    fictive = report["by_origin"]["demo_fictif"]
    assert fictive["contracts"] == 1 and fictive["operations"] >= 30
    assert fictive["paid_cents"] > 0
    for key in ("contracts", "operations"):
        assert report["counts"][key] == seed_totals()[key] + fictive[key]
    for key in ("cost", "granted", "paid"):
        assert report["totals_cents"][key] == (
            seed_totals()[f"{key}_cents"] + fictive[f"{key}_cents"])
    assert report["counts"]["communes"] == 34969
    assert report["counts"]["arrondissements"] == 333
    assert report["counts"]["epci"] == 1255
    assert set(report["counts"]) == {"contracts", "operations", "funding_lines", "payments",
                                     "organisations", "communes", "arrondissements", "epci"}


def test_amounts_the_source_does_not_give_stay_unknown(demo_db):
    unknown_costs = sum(1 for o in SEED["operations"] if o["total_cost_eur"] is None)
    unknown_lines = sum(1 for o in SEED["operations"] for f in o["financing"]
                        if f["amount_eur"] is None)
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation).where(
            Operation.origin == "demo_seed", Operation.cost_ht.is_(None))) == unknown_costs
        assert session.scalar(select(func.count()).select_from(FundingLine).join(Operation).where(
            Operation.origin == "demo_seed", FundingLine.amount_granted.is_(None),
            FundingLine.amount_requested.is_(None))) == unknown_lines
        nausicaa = session.scalars(select(Operation).where(
            Operation.reference == "ue-nausicaa-extension")).one()
        assert nausicaa.cost_ht == Decimal("50000000.00")
        assert "près de" in nausicaa.notes
        assert [c.code for c in nausicaa.communes] == ["62160"]  # Boulogne-sur-Mer


def test_fictitious_part_is_labelled_and_set_in_591(demo_db):
    with demo_db.read() as session:
        fictive = session.scalars(select(Operation).where(
            Operation.origin == "demo_fictif")).all()
        assert all(o.reference.startswith("FICTIF-") and "EXEMPLE FICTIF" in o.notes
                   for o in fictive)
        assert all(c.arrondissement_code == "591" for o in fictive for c in o.communes)
        assert any(o.funding_lines[0].payments for o in fictive)
        assert all(o.cost_ht and o.funding_lines for o in fictive)
        crte = session.scalars(select(Contract).where(Contract.origin == "demo_fictif")).one()
        assert "exemple fictif" in crte.title
        assert len(crte.axes) == 3 and crte.signatories and crte.amendments and crte.meetings
        assert session.get(Setting, "arrondissement").value == "591"


def test_demo_refuses_a_non_empty_database(demo_db):
    with demo_db.read() as session:
        before = session.scalar(select(func.count()).select_from(Operation))
    with pytest.raises(DemoError, match="contient déjà des données"):
        build_demo(demo_db)
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation)) == before


@pytest.mark.parametrize("backend", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_demo_on_postgresql_has_the_same_totals(db, demo_db):
    from db.health import check

    build_demo(db)
    on_server, on_file = check(db), check(demo_db)
    assert on_server.healthy
    assert on_server.by_origin == on_file.by_origin
    assert on_server.totals_cents == on_file.totals_cents


def test_the_demo_says_what_the_source_says(demo_db):
    """An amount the text announces in the future is requested, a contract it calls to
    be signed is not "signé", and each keeps the source's words and lines."""
    with demo_db.read() as session:
        police = session.scalar(select(Operation).where(
            Operation.reference == "cdt-amienois-hotel-de-police"))
        by_amount = {line.amount_requested or line.amount_granted: line
                     for line in police.funding_lines}
        announced = by_amount[Decimal("30000000.00")]
        assert announced.status == "sollicite" and announced.amount_granted is None
        assert "sera intégralement pris en charge" in announced.notes
        assert by_amount[Decimal("150000.00")].status == "accorde"
        charter = session.scalar(select(Contract).where(
            Contract.reference == "charte-agriculture-urbanisme-nord"))
        assert charter.status == "en_preparation" and charter.signature_date is None
        assert "cette charte sera signée" in charter.notes and "l. 626" in charter.notes
        assert "l. " in charter.source
        undecided = [f for o in SEED["operations"] for f in o["financing"] if not f["decided"]]
        assert len(undecided) >= 4
        requested = session.scalar(select(func.count()).select_from(FundingLine).where(
            FundingLine.status == "sollicite", FundingLine.notes.like("%non décidé%")))
        assert requested == len(undecided)
