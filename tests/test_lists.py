"""List queries: search, filters, sorting, paging and totals (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from db.demo import build_demo
from db.lists import COMMUNES, CONTRACTS, EPCIS, FUNDING_LINES, OPERATIONS, ORGANISATIONS, Criteria
from db.services.organisations import OrganisationData, save_organisation


@pytest.fixture
def demo(db):
    build_demo(db)
    return db


def refs(rows):
    return [row["reference"] for row in rows]


def test_search_ignores_case_accents_and_hyphens(demo):
    avesnes = refs(OPERATIONS.page(demo, Criteria(search="avesnes"), limit=None))
    assert "sat-maison-etat-avesnes" in avesnes
    assert refs(OPERATIONS.page(demo, Criteria(search="AVESNES-SUR"), limit=None)) == [
        r for r in avesnes if r in refs(OPERATIONS.page(demo, Criteria(search="avesnes sur"),
                                                        limit=None))]
    ecole = OPERATIONS.page(demo, Criteria(search="ecole"), limit=None)
    assert any("École" in row["title"] or "école" in row["title"] for row in ecole)
    assert OPERATIONS.count(demo, Criteria(search="ecole hautmont")) >= 1
    assert OPERATIONS.count(demo, Criteria(search="zzzzinconnu")) == 0
    # owners, communes and financers are searchable too
    assert OPERATIONS.count(demo, Criteria(search="Ferrière-la-Grande")) >= 1
    assert OPERATIONS.count(demo, Criteria(search="cnds")) == 3
    assert "sambre" in " ".join(r["title"].lower() for r in CONTRACTS.page(
        demo, Criteria(search="sambre"), limit=None))


def test_search_input_cannot_break_the_query(demo):
    for text in ['"', "a' OR 1=1 --", "*", "NEAR(", "école & ! | :*"]:
        OPERATIONS.count(demo, Criteria(search=text))
        CONTRACTS.page(demo, Criteria(search=text))


def test_totals_sum_exactly_the_filtered_rows(demo):
    criteria = Criteria(arrondissement="591", scheme="DETR")
    rows = OPERATIONS.page(demo, criteria, limit=None)
    totals = OPERATIONS.totals(demo, criteria)
    assert totals["count"] == len(rows) == OPERATIONS.count(demo, criteria) > 10
    for key in ("cost", "granted", "paid"):
        assert totals[key] == sum((r[key] for r in rows if r[key] is not None), Decimal("0"))
    assert totals["remaining"] == totals["granted"] - totals["paid"]

    lines = FUNDING_LINES.page(demo, Criteria(arrondissement="591", scheme="DETR"), limit=None)
    line_totals = FUNDING_LINES.totals(demo, Criteria(arrondissement="591", scheme="DETR"))
    assert line_totals["count"] == len(lines)
    assert line_totals["paid"] == sum(r["paid"] for r in lines)
    assert all(r["scheme"] == "DETR" for r in lines)  # the short label of DETR is DETR
    departement = FUNDING_LINES.page(demo, Criteria(scheme="DEPARTEMENT"), limit=None)
    assert departement and {r["scheme"] for r in departement} == {"Département (droit commun)"}


def test_sorting_is_by_value_not_by_text(demo):
    rows = OPERATIONS.page(demo, Criteria(arrondissement="591"), sort="granted",
                           descending=True, limit=None)
    amounts = [r["granted"] for r in rows if r["granted"] is not None]
    assert amounts == sorted(amounts, reverse=True)
    assert amounts[0] > Decimal("99999")  # 6 digits sorts above 5 digits
    dates = [r["deposit_date"] for r in OPERATIONS.page(
        demo, Criteria(arrondissement="591"), sort="deposit_date", limit=None)
        if r["deposit_date"]]
    assert dates == sorted(dates)


def test_paging_returns_consecutive_slices(demo):
    everything = refs(OPERATIONS.page(demo, Criteria(), limit=None))
    pages = [refs(OPERATIONS.page(demo, Criteria(), offset=o, limit=50))
             for o in range(0, len(everything), 50)]
    assert [r for page in pages for r in page] == everything


def test_filters(demo):
    assert {r["status"] for r in OPERATIONS.page(demo, Criteria(status="solde"),
                                                 limit=None)} == {"solde"}
    maubeuge = OPERATIONS.page(demo, Criteria(commune="59392"), limit=None)
    assert maubeuge and all("Maubeuge" in (r["communes"] or "") for r in maubeuge)
    in_epci = OPERATIONS.count(demo, Criteria(epci="200043396"))
    assert in_epci >= len(maubeuge)
    crte = OPERATIONS.count(demo, Criteria(contract_type="CRTE"))
    assert crte == 15
    assert OPERATIONS.count(demo, Criteria(year=2025)) == 31
    assert CONTRACTS.count(demo, Criteria(contract_type="CPER")) == 2
    assert CONTRACTS.count(demo, Criteria(year=2018)) >= 5


def test_territory_lists(demo):
    communes = COMMUNES.page(demo, Criteria(arrondissement="591"), limit=None)
    assert len(communes) == 150
    maubeuge = next(r for r in communes if r["code"] == "59392")
    assert maubeuge["operations"] >= 1
    # its operations' amounts are not communicated: unknown, never 0 €
    assert maubeuge["granted"] is None and maubeuge["per_inhabitant"] is None
    funded = next(r for r in communes if r["granted"])
    assert funded["per_inhabitant"] == (funded["granted"] / funded["population"]
                                        ).quantize(Decimal("0.01"))
    assert [r["code"] for r in COMMUNES.page(demo, Criteria(arrondissement="591",
                                                            search="maubeuge"))] == ["59392"]
    epci = EPCIS.page(demo, Criteria(arrondissement="591"), limit=None)
    maubeuge_agglo = next(r for r in epci if r["code"] == "200043396")
    members = OPERATIONS.page(demo, Criteria(epci="200043396"), limit=None)
    assert maubeuge_agglo["operations"] == len(members)
    assert maubeuge_agglo["granted"] == sum((r["granted"] for r in members
                                             if r["granted"] is not None), Decimal("0"))


def test_organisation_rename_updates_what_quotes_it(demo):
    rows = ORGANISATIONS.page(demo, Criteria(search="Ferrière-la-Grande"), limit=None)
    assert len(rows) == 1
    found = rows[0]
    before = OPERATIONS.count(demo, Criteria(search="ferriere"))
    with demo.read() as session:
        from db.models import Organisation
        org = session.get(Organisation, found["id"])
        data = OrganisationData(name="Mairie de Ferrière-la-Grande renommée",
                                kind=org.kind, commune_code=org.commune_code,
                                id=org.id, version=org.version)
    save_organisation(demo, data)
    assert OPERATIONS.count(demo, Criteria(search="renommee")) == before
    assert ORGANISATIONS.count(demo, Criteria(search="mairie renommee")) == 1
