"""Organisations (acteurs): signatories, financers and project owners."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.database import Database
from db.errors import DeleteRefused, InvalidInput
from db.models import FundingLine, Operation, Organisation, Signatory
from db.services import caches
from db.services.common import (
    SaveResult,
    check_version,
    email_address,
    get,
    optional_text,
    phone_number,
    record_to_save,
    required_text,
    set_if_changed,
    transaction,
)
from db.vocabulary import OrganisationKind


@dataclass
class OrganisationData:
    name: str
    kind: OrganisationKind = OrganisationKind.OTHER
    acronym: str | None = None
    siren: str | None = None
    commune_code: str | None = None
    epci_code: str | None = None
    departement_code: str | None = None
    region_code: str | None = None
    aliases: str | None = None
    notes: str | None = None
    contact_name: str | None = None
    contact_role: str | None = None
    phone: str | None = None
    email: str | None = None
    id: uuid.UUID | None = None
    version: int | None = None


def save_organisation(db: Database, data: OrganisationData) -> SaveResult:
    with transaction(db, f"de l'organisation « {data.name} »") as session:
        return save_organisation_in(session, data)


def save_organisation_in(session: Session, data: OrganisationData) -> SaveResult:
    """:func:`save_organisation` inside a transaction the caller holds."""
    name = required_text(data.name, "Nom de l'organisation", 300)
    try:
        kind = OrganisationKind(data.kind)
    except ValueError as exc:
        raise InvalidInput(f"Nature de l'organisation inconnue : {data.kind}.") from exc
    organisation = record_to_save(session, Organisation, data,
                                  f"de l'organisation « {name} »")
    renamed = data.id is not None and (organisation.name, organisation.acronym) != (
        name, optional_text(data.acronym))
    set_if_changed(
        organisation, name=name, kind=kind.value, acronym=optional_text(data.acronym),
        siren=optional_text(data.siren), commune_code=data.commune_code,
        epci_code=data.epci_code, departement_code=data.departement_code,
        region_code=data.region_code, aliases=optional_text(data.aliases),
        notes=optional_text(data.notes),
        contact_name=optional_text(data.contact_name, "Nom du contact", 200),
        contact_role=optional_text(data.contact_role, "Fonction du contact", 200),
        phone=phone_number(data.phone, "Téléphone de l'organisation"),
        email=email_address(data.email, "Courriel de l'organisation"))
    caches.refresh_organisation(session, organisation)
    session.flush()
    if renamed:
        caches.refresh_around_organisation(session, organisation.id)
        session.flush()
    return SaveResult(organisation.id, organisation.version)


def delete_organisation(db: Database, organisation_id: uuid.UUID, version: int) -> None:
    with transaction(db, "de l'organisation") as session:
        organisation = get(session, Organisation, organisation_id, "Organisation")
        check_version(organisation, version, f"de l'organisation « {organisation.name} »")
        what = f"L'organisation « {organisation.name} »"
        uses = {
            "maître d'ouvrage de": select(func.count()).select_from(Operation)
            .where(Operation.owner_id == organisation_id),
            "financeur sur": select(func.count()).select_from(FundingLine)
            .where(FundingLine.financer_id == organisation_id),
            "signataire de": select(func.count()).select_from(Signatory)
            .where(Signatory.organisation_id == organisation_id),
        }
        used = [f"{role} {count} fiche(s)" for role, query in uses.items()
                if (count := session.scalar(query))]
        if used:
            raise DeleteRefused(f"{what} ne peut pas être supprimée : elle est "
                                f"{', '.join(used)}.")
        session.delete(organisation)
