"""What every printed document shares: the office identity, the provenance and its
fingerprint, and one way of adding amounts some of which are unknown."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.database import Database
from db.errors import NotFoundError
from db.models import (
    Arrondissement,
    Commune,
    Contract,
    FundingScheme,
    Setting,
    operation_commune,
)
from db.reference import of_departement
from db.text import elide
from db.totals import UNKNOWN_SHORT, Total, add_up, sum_totals  # noqa: F401 (re-exported)
from db.vocabulary import OrganisationKind

FINGERPRINT_LENGTH = 20
STATE_KINDS = {OrganisationKind.STATE.value, OrganisationKind.STATE_OPERATOR.value}
COMMUNES_SHOWN = 12  # beyond, a list of communes ends with "et N autres communes"


@dataclass(frozen=True)
class Office:
    prefecture: str
    sous_prefecture: str
    place: str
    republic: str = "RÉPUBLIQUE FRANÇAISE"


@dataclass(frozen=True)
class RecordVersion:
    entity: str
    id: str
    version: int


@dataclass
class Provenance:
    kind: str
    subject: str  # reference of the contract or operation, or the list's criteria
    records: list[RecordVersion]
    fingerprint: str = ""
    edited: date = field(default_factory=date.today)
    options: dict[str, Any] = field(default_factory=dict)  # e.g. the avenant of an annex


def scheme_labels(session: Session) -> dict[str, str]:
    """The name printed for each scheme code (never the code itself)."""
    return {code: short or label for code, short, label in session.execute(
        select(FundingScheme.code, FundingScheme.short_label, FundingScheme.label))}


def commune_list(names: list[str], limit: int = COMMUNES_SHOWN) -> str:
    if len(names) <= limit:
        return ", ".join(names)
    return f"{', '.join(names[:limit])} et {len(names) - limit} autres communes"


# --- Office identity -----------------------------------------------------------------

OFFICE_KEYS = ("office.prefecture", "office.sous_prefecture", "office.place")


def _departement_of_the_data(session: Session) -> str | None:
    """The one département the contracts and operations of the base lie in, if one."""
    found = set(session.scalars(
        select(Arrondissement.departement_code)
        .join(Contract, Contract.arrondissement_code == Arrondissement.code)
        .distinct().limit(2)))
    if len(found) < 2:
        found |= set(session.scalars(
            select(Commune.departement_code)
            .join(operation_commune, operation_commune.c.commune_code == Commune.code)
            .distinct().limit(2)))
    return found.pop() if len(found) == 1 else None


def office(db: Database) -> Office:
    """From the settings, else derived from the arrondissement of the database; with no
    arrondissement chosen, from the one département its data lie in ("Préfecture du
    Nord" over an empty line). What cannot be known is left empty rather than printed as
    a bare "Préfecture" or "Sous-préfecture" that names nobody."""
    with db.read() as session:
        values = {s.key: s.value for s in session.scalars(
            select(Setting).where(Setting.key.in_([*OFFICE_KEYS, "arrondissement"])))}
        arrondissement = session.get(Arrondissement, values.get("arrondissement", ""))
        if arrondissement is not None:
            departement = arrondissement.departement_code
        elif values.get("office.prefecture"):
            departement = None  # not needed: spare the query
        else:
            departement = _departement_of_the_data(session)
    place = arrondissement.name if arrondissement else ""
    joined = of_departement(departement) if departement else None
    default_prefecture = f"Préfecture {joined}" if joined else ""
    default_sp = f"Sous-préfecture {elide('de', place)}" if place else ""
    return Office(values.get("office.prefecture") or default_prefecture,
                  values.get("office.sous_prefecture") or default_sp,
                  values.get("office.place") or place)


# --- Fingerprint -------------------------------------------------------------------------

def plain(value: Any) -> Any:
    """Dataclasses, decimals, dates and UUIDs as JSON-ready values."""
    if is_dataclass(value):
        return plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, Decimal | date | uuid.UUID):
        return str(value)
    return value


# Parts that depend on the day of edition, not on the data (rule warnings about
# deadlines, deadlines still to come, days left): left out of the fingerprint.
VOLATILE = ("checks", "deadlines_to_come", "days_to_end", "today")


def fingerprint(document: Any) -> str:
    """A short hash of what the document says and of the versions it was made from
    (the date of edition is left out: reprinting the same data gives the same print)."""
    content = plain(document)
    content["provenance"].pop("fingerprint", None)
    content["provenance"].pop("edited", None)
    for key in VOLATILE:
        content.pop(key, None)
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False)
                            .encode("utf-8")).hexdigest()
    return digest[:FINGERPRINT_LENGTH].upper()


def seal(document: Any) -> Any:
    document.provenance.fingerprint = fingerprint(document)
    return document


def version_of(record: Any) -> RecordVersion:
    return RecordVersion(record.__tablename__, str(record.id), record.version)


def contract_by_reference(session: Session, reference: str) -> Contract:
    contract = session.scalar(select(Contract).where(Contract.reference == reference))
    if contract is None:
        raise NotFoundError(f"Contrat introuvable : « {reference} ».")
    return contract
