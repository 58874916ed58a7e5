"""Reference data shipped in resources/: the official geography (COG) and the
catalogue of contract types and funding schemes.

Loaded by data migrations with lightweight table definitions, so that a
migration written today keeps working after the models change.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa


def _resources_folder() -> Path:
    # In the PyInstaller bundle (suivi-contrats.spec) the data files sit in the bundle's
    # internal folder, not next to this module's source.
    if getattr(sys, "frozen", False) and hasattr(sys, "_MEIPASS"):
        return Path(sys._MEIPASS) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


RESOURCES = _resources_folder()
COG_MILLESIME = "2026"
# Built-in catalogue rows get stable ids: two databases made apart agree on them.
CATALOGUE_NAMESPACE = uuid.UUID("5b0a4c53-3b8e-4f51-9d1f-7c0e5a3f2b11")


def resource(*parts: str) -> Path:
    return _resources_folder().joinpath(*parts)


def read_csv(path: Path) -> Iterator[dict[str, str]]:
    raw = path.read_bytes()
    if path.suffix == ".gz":
        raw = gzip.decompress(raw)
    yield from csv.DictReader(io.StringIO(raw.decode("utf-8")), delimiter=";")


def _int(text: str) -> int | None:
    return int(text) if text else None


def load_cog(connection: sa.Connection, millesime: str = COG_MILLESIME) -> dict[str, int]:
    """Insert the geography of *millesime* into empty reference tables."""
    folder = resource("cog", millesime)
    region = sa.table("region", sa.column("code"), sa.column("name"))
    departement = sa.table("departement", sa.column("code"), sa.column("name"),
                           sa.column("region_code"))
    arrondissement = sa.table("arrondissement", sa.column("code"), sa.column("name"),
                              sa.column("departement_code"), sa.column("chef_lieu"))
    commune = sa.table("commune", sa.column("code"), sa.column("name"),
                       sa.column("departement_code"), sa.column("arrondissement_code"),
                       sa.column("siren"), sa.column("population"), sa.column("postal_codes"))
    epci = sa.table("epci", sa.column("code"), sa.column("name"), sa.column("kind"),
                    sa.column("financing_mode"), sa.column("population"))
    member = sa.table("epci_member", sa.column("epci_code"), sa.column("commune_code"))

    batches = {
        "regions": (region, [{"code": r["code"], "name": r["nom"]}
                             for r in read_csv(folder / "regions.csv")]),
        "departements": (departement, [
            {"code": r["code"], "name": r["nom"], "region_code": r["region"]}
            for r in read_csv(folder / "departements.csv")]),
        "arrondissements": (arrondissement, [
            {"code": r["code"], "name": r["nom"], "departement_code": r["departement"],
             "chef_lieu": r["chef_lieu"] or None}
            for r in read_csv(folder / "arrondissements.csv")]),
        "communes": (commune, [
            {"code": r["code"], "name": r["nom"], "departement_code": r["departement"],
             "arrondissement_code": r["arrondissement"] or None, "siren": r["siren"] or None,
             "population": _int(r["population"]), "postal_codes": r["codes_postaux"] or None}
            for r in read_csv(folder / "communes.csv.gz")]),
        "epci": (epci, [
            {"code": r["code"], "name": r["nom"], "kind": r["type"],
             "financing_mode": r["financement"] or None, "population": _int(r["population"])}
            for r in read_csv(folder / "epci.csv.gz")]),
        "epci_members": (member, [
            {"epci_code": r["epci"], "commune_code": r["commune"]}
            for r in read_csv(folder / "epci_membres.csv.gz")]),
    }
    counts = {}
    for name, (table, rows) in batches.items():
        connection.execute(sa.insert(table), rows)
        counts[name] = len(rows)
    return counts


# INSEE "type de nom en clair": the words that join "Préfecture" to the name.
_CHARNIERES = {"0": "de ", "1": "d'", "2": "du ", "3": "de la ", "4": "des ", "5": "de l'",
               "6": "des ", "7": "de las ", "8": "de los "}


def of_departement(code: str, millesime: str = COG_MILLESIME) -> str | None:
    """``du Nord``, ``de l'Aisne``, ``de la Somme``: the département after "Préfecture"."""
    for row in read_csv(resource("cog", millesime, "departements.csv")):
        if row["code"] == code:
            article = _CHARNIERES.get(row.get("liaison", ""), "de ")
            name = row["nom"]
            for prefix in ("Le ", "La ", "Les ", "L'"):  # the article is in the joining words
                if article.strip() in ("du", "de la", "des", "de l'") and name.startswith(prefix):
                    name = name[len(prefix):]
            return f"{article}{name}"
    return None


# --- Catalogue -----------------------------------------------------------------

# Contract types that appeared after the 2019 seed document (DESIGN.md §3).
EXTRA_CONTRACT_TYPES = [
    {"code": "CRTE", "label": "contrat de relance et de transition écologique (CRTE)",
     "default_duration_years": 6, "approach": "ascendante",
     "parties": ["État", "EPCI ou groupements d'EPCI"],
     "description": "Contrat intégrateur signé à partir de 2021 entre l'État et les "
                    "intercommunalités pour la durée du mandat municipal.",
     "notes": "Ajouté au catalogue (postérieur au document de 2019)."},
    {"code": "PVD", "label": "Petites villes de demain (PVD)",
     "default_duration_years": 6, "approach": "ascendante",
     "parties": ["État", "communes de moins de 20 000 habitants", "intercommunalités"],
     "description": "Programme de revitalisation des petites centralités lancé en 2020.",
     "notes": "Ajouté au catalogue (postérieur au document de 2019)."},
]

# code, label, State investment grant (R2334-27 cap), other State subsidy (décret 2018-514)
FUNDING_SCHEMES = [
    ("DETR", "Dotation d'équipement des territoires ruraux (DETR)", True, False),
    ("DSIL", "Dotation de soutien à l'investissement local (DSIL)", True, False),
    ("DPV", "Dotation politique de la ville (DPV)", True, False),
    ("DSID", "Dotation de soutien à l'investissement des départements (DSID)", True, False),
    ("FNADT", "Fonds national d'aménagement et de développement du territoire (FNADT)",
     False, True),
    ("FONDS_VERT", "Fonds d'accélération de la transition écologique (Fonds vert)", False, True),
    ("FRED", "Fonds pour les restructurations de la défense (FRED, CRSD)", False, True),
    ("FEDER", "Fonds européen de développement régional (FEDER)", False, False),
    ("FSE", "Fonds social européen (FSE)", False, False),
    ("FEADER", "Fonds européen agricole pour le développement rural (FEADER)", False, False),
    ("CNDS", "Centre national pour le développement du sport (CNDS / ANS)", False, False),
    ("FISAC", "Fonds d'intervention pour les services, l'artisanat et le commerce (FISAC)",
     False, False),
    ("ANAH", "Aides de l'Agence nationale de l'habitat (ANAH)", False, False),
    ("ANRU", "Renouvellement urbain (ANRU)", False, False),
    ("ADEME", "Aides de l'ADEME (fonds chaleur, économie circulaire…)", False, False),
    ("PIA", "Programme d'investissements d'avenir (PIA)", False, False),
    ("ECOCITE", "Fonds national Ville de demain / ÉcoCité (PIA)", False, False),
    ("IAE", "Crédits d'insertion par l'activité économique (IAE)", False, False),
    ("POLITIQUE_VILLE", "Crédits politique de la ville (contrat de ville)", False, False),
    ("CPER", "Crédits contractualisés au CPER", False, False),
    ("CONTRAT", "Crédits d'un contrat territorial (CDT, pacte, contrat de ruralité…)",
     False, False),
    ("REGION", "Politique régionale (droit commun de la Région)", False, False),
    ("DEPARTEMENT", "Politique départementale (droit commun du Département)", False, False),
    ("DROIT_COMMUN", "Crédits de droit commun / autres", False, False),
]

# What documents and tables print for each scheme (migration 0004): the name agents use.
SCHEME_SHORT_LABELS = {
    "DETR": "DETR", "DSIL": "DSIL", "DPV": "DPV", "DSID": "DSID", "FNADT": "FNADT",
    "FONDS_VERT": "Fonds vert", "FRED": "FRED", "FEDER": "FEDER", "FSE": "FSE",
    "FEADER": "FEADER", "CNDS": "CNDS / ANS", "FISAC": "FISAC", "ANAH": "Anah", "ANRU": "ANRU",
    "ADEME": "ADEME", "PIA": "PIA", "ECOCITE": "Ville de demain (PIA)", "IAE": "IAE",
    "POLITIQUE_VILLE": "Politique de la ville", "CPER": "CPER",
    "CONTRAT": "Crédits contractualisés", "REGION": "Région (droit commun)",
    "DEPARTEMENT": "Département (droit commun)", "DROIT_COMMUN": "Droit commun",
}


def catalogue_id(code: str) -> uuid.UUID:
    return uuid.uuid5(CATALOGUE_NAMESPACE, f"contract_type:{code}")


def contract_type_rows() -> list[dict]:
    seed = json.loads(resource("seed", "seed_contracts.json").read_text(encoding="utf-8"))
    rows = []
    for entry in seed["contract_types"] + EXTRA_CONTRACT_TYPES:
        rows.append({
            "code": entry["code"], "label": entry["label"],
            "description": entry.get("description"),
            "default_duration_years": entry.get("default_duration_years"),
            "approach": entry.get("approach"),
            "typical_parties": "; ".join(entry.get("parties") or []) or None,
            "notes": entry.get("notes"),
        })
    return rows


def load_catalogue(connection: sa.Connection) -> dict[str, int]:
    now = datetime.now(UTC)
    contract_type = sa.table(
        "contract_type", sa.column("id", sa.Uuid), sa.column("builtin", sa.Boolean),
        sa.column("created_at", sa.DateTime(timezone=True)),
        sa.column("updated_at", sa.DateTime(timezone=True)),
        *(sa.column(name) for name in (
            "code", "label", "description", "default_duration_years", "approach",
            "typical_parties", "notes", "version", "created_by", "updated_by")))
    scheme = sa.table("funding_scheme", sa.column("code"), sa.column("label"),
                      sa.column("state_investment_grant", sa.Boolean),
                      sa.column("state_subsidy", sa.Boolean))
    types = [dict(row, id=catalogue_id(row["code"]), builtin=True, version=1,
                  created_at=now, updated_at=now, created_by="référentiel",
                  updated_by="référentiel")
             for row in contract_type_rows()]
    connection.execute(sa.insert(contract_type), types)
    connection.execute(sa.insert(scheme), [
        {"code": code, "label": label, "state_investment_grant": grant, "state_subsidy": subsidy}
        for code, label, grant, subsidy in FUNDING_SCHEMES])
    return {"contract_types": len(types), "funding_schemes": len(FUNDING_SCHEMES)}
