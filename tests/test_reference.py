"""The official geography and the catalogue shipped with a new database."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select

from db.database import open_database
from db.models import Arrondissement, Commune, ContractType, Epci, FundingScheme, epci_member
from db.reference import resource

SOURCE = resource().parent.parent / "shared" / "reference" / "cog-2026"


def test_new_database_holds_the_2026_geography(db):
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(Commune)) == 34969
        assert session.scalar(select(func.count()).select_from(Arrondissement)) == 333
        assert session.scalar(select(func.count()).select_from(Epci)) == 1255
        maubeuge = session.get(Commune, "59392")
        assert (maubeuge.name, maubeuge.arrondissement_code) == ("Maubeuge", "591")
        assert maubeuge.population > 25000
        # 150 communes actuelles in communes.json (its PROVENANCE note says 124: the
        # data, not the note, is the reference).
        assert session.scalar(select(func.count()).select_from(Commune).where(
            Commune.arrondissement_code == "591")) == 150
        avesnes = session.get(Arrondissement, "591")
        assert (avesnes.name, avesnes.chef_lieu) == ("Avesnes-sur-Helpe", "59036")
        members = session.scalars(select(epci_member.c.commune_code).where(
            epci_member.c.epci_code == "200043396")).all()
        assert "59392" in members


def test_compact_copy_matches_the_official_source():
    """Every commune actuelle of the source is in the shipped copy, with its population."""
    source = SOURCE / "communes.json"
    if not source.exists():  # shared/ sits beside the clone on the project's machines
        pytest.skip(f"copie officielle du COG absente ({source}) : rien à comparer")
    communes = [c for c in json.loads(source.read_text(encoding="utf-8"))
                if c["type"] == "commune-actuelle"]
    from db.reference import read_csv
    shipped = {row["code"]: row for row in read_csv(resource("cog", "2026", "communes.csv.gz"))}
    assert len(shipped) == len(communes)
    for commune in communes[::97]:
        row = shipped[commune["code"]]
        assert row["nom"] == commune["nom"]
        assert row["population"] == str(commune.get("population", ""))
    assert (resource("cog", "2026", "PROVENANCE.md")).read_text().count("Licence Ouverte")


def test_catalogue_of_contract_types_and_schemes(db):
    seed = json.loads(resource("seed", "seed_contracts.json").read_text(encoding="utf-8"))
    with db.read() as session:
        codes = set(session.scalars(select(ContractType.code)))
        assert {t["code"] for t in seed["contract_types"]} <= codes
        assert {"CRTE", "PVD"} <= codes
        grants = set(session.scalars(select(FundingScheme.code).where(
            FundingScheme.state_investment_grant)))
    assert grants == {"DETR", "DSIL", "DPV", "DSID"}


def test_geography_loads_in_a_few_seconds(tmp_path):
    started = time.perf_counter()
    open_database(tmp_path / "neuve.sqlite").close()
    elapsed = time.perf_counter() - started
    print(f"nouvelle base SQLite avec la géographie : {elapsed:.2f} s")
    assert (tmp_path / "neuve.sqlite").stat().st_size > 1_000_000
