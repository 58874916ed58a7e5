"""Organisations (acteurs): signatories, financers and project owners.

One organisation per name: a name is compared by its key (db.naming.name_key), so
"commune de maubeuge", "Ville de Maubeuge" and "Maubeuge" are "Commune de Maubeuge".
Nothing creates a second organisation under a name (or alias) of an existing one: an
owner typed in an editor is the existing organisation; an explicit creation or a
rename is refused with the name of the one that exists. Two organisations already
recorded twice are made one by :func:`merge_organisations`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db import search
from db.audit import current_login
from db.database import Database
from db.errors import DeleteRefused, InvalidInput
from db.models import AuditEntry, Contract, FundingLine, Operation, Organisation, Signatory
from db.naming import name_key, sort_name
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
    touch,
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


class DuplicateOrganisation(InvalidInput):
    """The name given is, written otherwise, the name of an existing organisation."""

    def __init__(self, message: str, existing_id: uuid.UUID, existing_name: str) -> None:
        super().__init__(message)
        self.existing_id = existing_id
        self.existing_name = existing_name


NAME_LENGTH = 300  # organisation.name is varchar(300): the same bound on SQLite
_ALIAS_SEPARATOR = re.compile(r"\s*[;\n]\s*")


def split_aliases(aliases: str | None) -> list[str]:
    """The other names of an organisation, written "name; other name"."""
    return [alias for alias in _ALIAS_SEPARATOR.split(aliases or "") if alias]


def identity_keys(name: str | None, aliases: str | None = None) -> set[str]:
    """Every key under which an organisation is known: its name's and its aliases'."""
    return {key for key in (name_key(text) for text in [name or "", *split_aliases(aliases)])
            if key}


def find_organisation_in(session: Session, name: str,
                         exclude: uuid.UUID | None = None) -> Organisation | None:
    """The organisation that *name*, written any way, designates (by its name or one of
    its aliases), or None. Looked for through the search index, then compared by key."""
    key = name_key(name)
    if not key:
        return None
    condition = search.matches("organisation", Organisation.search_document, key,
                               session.get_bind().dialect.name == "sqlite")
    query = select(Organisation).order_by(Organisation.sort_name, Organisation.id)
    if condition is not None:
        query = query.where(condition)
    if exclude is not None:
        query = query.where(Organisation.id != exclude)
    for candidate in session.scalars(query):
        if key in identity_keys(candidate.name, candidate.aliases):
            return candidate
    return None


def organisation_index(session: Session) -> dict[str, tuple[uuid.UUID, str]]:
    """Key -> (id, kind) of every organisation, by its name, its aliases and its acronym
    (a name wins over another's alias, an alias over an acronym; among organisations
    already recorded twice, the first in French order)."""
    rows = session.execute(select(Organisation.id, Organisation.name, Organisation.aliases,
                                  Organisation.acronym, Organisation.kind)
                           .order_by(Organisation.sort_name, Organisation.id)).all()
    index: dict[str, tuple[uuid.UUID, str]] = {}
    for texts in ((lambda r: [r.name]), (lambda r: split_aliases(r.aliases)),
                  (lambda r: [r.acronym] if r.acronym else [])):
        for row in rows:
            for text in texts(row):
                key = name_key(text)
                if key:
                    index.setdefault(key, (row.id, row.kind))
    return index


def find_organisation(db: Database, name: str) -> tuple[uuid.UUID, str] | None:
    """(id, name) of the organisation *name* designates, or None."""
    with db.read() as session:
        found = find_organisation_in(session, name)
        return (found.id, found.name) if found is not None else None


def save_organisation(db: Database, data: OrganisationData) -> SaveResult:
    with transaction(db, f"de l'organisation « {data.name} »") as session:
        return save_organisation_in(session, data)


def _refuse_duplicate(session: Session, organisation: Organisation | None, name: str,
                      aliases: str | None) -> None:
    """A new name (or alias) must not be the name of another organisation; names it
    already had are not checked again (two recorded before are merged, not refused)."""
    creating = organisation is None
    known = set() if creating else identity_keys(organisation.name, organisation.aliases)
    for text in [name, *split_aliases(aliases)]:
        if name_key(text) in known:
            continue
        existing = find_organisation_in(session, text,
                                        exclude=None if creating else organisation.id)
        if existing is None:
            continue
        same = "" if existing.name == text else f" (« {text} » désigne la même)"
        if creating:
            advice = "Choisissez-la plutôt que d'en créer une seconde."
        else:
            advice = ("S'il s'agit bien de la même, fusionnez les deux depuis la liste "
                      "des acteurs (clic droit, « Fusionner avec… »).")
        raise DuplicateOrganisation(
            f"Nom de l'organisation : l'organisation « {existing.name} » existe déjà"
            f"{same}. {advice}", existing.id, existing.name)


def save_organisation_in(session: Session, data: OrganisationData) -> SaveResult:
    """:func:`save_organisation` inside a transaction the caller holds."""
    name = required_text(data.name, "Nom de l'organisation", NAME_LENGTH)
    try:
        kind = OrganisationKind(data.kind)
    except ValueError as exc:
        raise InvalidInput(f"Nature de l'organisation inconnue : {data.kind}.") from exc
    aliases = optional_text(data.aliases)
    if data.id is None:
        _refuse_duplicate(session, None, name, aliases)
    organisation = record_to_save(session, Organisation, data,
                                  f"de l'organisation « {name} »")
    if data.id is not None:
        _refuse_duplicate(session, organisation, name, aliases)
    renamed = data.id is not None and (organisation.name, organisation.acronym) != (
        name, optional_text(data.acronym))
    set_if_changed(
        organisation, name=name, kind=kind.value, acronym=optional_text(data.acronym),
        siren=optional_text(data.siren), commune_code=data.commune_code,
        epci_code=data.epci_code, departement_code=data.departement_code,
        region_code=data.region_code, aliases=aliases,
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


# --- Uses and merge of two organisations -----------------------------------------------

@dataclass(frozen=True)
class OrganisationUses:
    """What an organisation is to the rest of the base, for the merge dialog."""

    id: uuid.UUID
    version: int
    name: str
    kind: OrganisationKind
    acronym: str | None
    aliases: list[str]
    owned: int  # operations it owns (maître d'ouvrage)
    financed: int  # funding lines it finances
    signed: int  # contracts it signs

    def describe(self) -> str:
        """``maître d'ouvrage de 3 opérations, financeur d'une ligne, signataire d'aucun
        contrat``."""
        return ", ".join([
            f"maître d'ouvrage {_of(self.owned, 'opération', 'opérations', True)}",
            f"financeur {_of(self.financed, 'ligne', 'lignes', True)}",
            f"signataire {_of(self.signed, 'contrat', 'contrats', False)}"])


def _count(number: int, one: str, many: str) -> str:
    return f"{number} {one if number <= 1 else many}"


def _of(number: int, one: str, many: str, feminine: bool) -> str:
    """« de 3 opérations », « d'une opération », « d'aucun contrat »."""
    if number == 0:
        return f"d'aucune {one}" if feminine else f"d'aucun {one}"
    if number == 1:
        return f"d'une {one}" if feminine else f"d'un {one}"
    return f"de {number} {many}"


@dataclass(frozen=True)
class MergePreview:
    first: OrganisationUses
    second: OrganisationUses
    # Contracts both sign: their two signatory rows become one.
    shared_contracts: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class MergeResult:
    kept_id: uuid.UUID
    version: int
    operations: int  # operations whose owner moved
    funding_lines: int
    signatories: int  # signatory rows moved to the kept organisation
    merged_signatories: list[str]  # contracts where two signatory rows became one
    message: str


def _uses(session: Session, organisation: Organisation) -> OrganisationUses:
    def count(query) -> int:
        return session.scalar(select(func.count()).select_from(query.subquery())) or 0

    return OrganisationUses(
        organisation.id, organisation.version, organisation.name,
        OrganisationKind(organisation.kind), organisation.acronym,
        split_aliases(organisation.aliases),
        count(select(Operation.id).where(Operation.owner_id == organisation.id)),
        count(select(FundingLine.id).where(FundingLine.financer_id == organisation.id)),
        count(select(Signatory.contract_id).where(Signatory.organisation_id == organisation.id)
              .distinct()))


def _shared_contracts(session: Session, first: uuid.UUID, second: uuid.UUID) -> list[str]:
    signs = select(Signatory.contract_id).where(Signatory.organisation_id == second)
    return list(session.scalars(
        select(Contract.reference).where(
            Contract.id.in_(select(Signatory.contract_id)
                            .where(Signatory.organisation_id == first)),
            Contract.id.in_(signs)).order_by(Contract.reference)))


def organisation_uses(db: Database, organisation_id: uuid.UUID) -> OrganisationUses:
    with db.read() as session:
        return _uses(session, get(session, Organisation, organisation_id, "Organisation"))


def merge_preview(db: Database, first_id: uuid.UUID, second_id: uuid.UUID) -> MergePreview:
    """Both organisations with their uses, before the agent says which one to keep."""
    with db.read() as session:
        first = get(session, Organisation, first_id, "Organisation")
        second = get(session, Organisation, second_id, "Organisation")
        return MergePreview(_uses(session, first), _uses(session, second),
                            _shared_contracts(session, first_id, second_id))


def organisation_names(db: Database) -> list[tuple[uuid.UUID, str]]:
    """Every organisation, (id, name), in French order of the names."""
    with db.read() as session:
        return [tuple(row) for row in session.execute(
            select(Organisation.id, Organisation.name)
            .order_by(Organisation.sort_name, Organisation.id))]


# Fields of the kept organisation filled from the removed one when empty.
_FILLED = ("acronym", "siren", "commune_code", "epci_code", "departement_code",
           "region_code")
# The contact is one person: taken whole, never a name from one and a phone from the other.
_CONTACT = ("contact_name", "contact_role", "phone", "email")
_SIGNATORY_FILLED = ("role", "signing_date", "person_name", "phone", "email")


def _merged_aliases(kept: Organisation, removed: Organisation) -> str | None:
    names = [*split_aliases(kept.aliases), removed.name, *split_aliases(removed.aliases)]
    if removed.acronym and kept.acronym and sort_name(removed.acronym) != sort_name(
            kept.acronym):
        names.append(removed.acronym)
    seen = {sort_name(kept.name)}
    result = []
    for name in names:
        if sort_name(name) not in seen:
            seen.add(sort_name(name))
            result.append(name)
    return "; ".join(result) or None


def merge_organisations(db: Database, keep_id: uuid.UUID, remove_id: uuid.UUID,
                        versions: Mapping[uuid.UUID, int]) -> MergeResult:
    """Make two organisations one, in one audited transaction: every operation, funding
    line and signature of *remove_id* goes to *keep_id*, whose empty fields are filled
    from it and which takes its name as an alias; *remove_id* is then deleted. *versions*
    are the versions the agent saw of both (a change since is a conflict)."""
    if keep_id == remove_id:
        raise InvalidInput("Fusion : choisissez deux organisations différentes.")
    batch = uuid.uuid4()
    with transaction(db, "de l'organisation", batch_id=batch) as session:
        kept = get(session, Organisation, keep_id, "Organisation gardée")
        removed = get(session, Organisation, remove_id, "Organisation fusionnée")
        for organisation in (kept, removed):
            check_version(organisation, versions.get(organisation.id),
                          f"de l'organisation « {organisation.name} »")
        kept_name, removed_name = kept.name, removed.name

        operations = list(session.scalars(
            select(Operation).where(Operation.owner_id == remove_id)))
        for operation in operations:
            operation.owner_id = keep_id
        lines = list(session.scalars(
            select(FundingLine).where(FundingLine.financer_id == remove_id)))
        for line in lines:
            line.financer_id = keep_id
        # A plan is one aggregate with its operation: its version moves with its lines.
        for operation_id in {line.operation_id for line in lines}:
            touch(get(session, Operation, operation_id, "Opération"))

        kept_rows = {s.contract_id: s for s in session.scalars(
            select(Signatory).where(Signatory.organisation_id == keep_id))}
        moved_rows = list(session.scalars(
            select(Signatory).where(Signatory.organisation_id == remove_id)
            .order_by(Signatory.contract_id, Signatory.position)))
        merged_contracts: dict[uuid.UUID, str] = {}
        for row in moved_rows:
            contract = get(session, Contract, row.contract_id, "Contrat")
            touch(contract)
            target = kept_rows.get(row.contract_id)
            if target is None:
                row.organisation_id = keep_id
                kept_rows[row.contract_id] = row
                continue
            # Two signatory rows of one organisation on one contract: one is kept, with
            # what only the other said (role, date, person who signs).
            for name in _SIGNATORY_FILLED:
                if getattr(target, name) in (None, "") and getattr(row, name) not in (None, ""):
                    setattr(target, name, getattr(row, name))
            merged_contracts[row.contract_id] = contract.reference
            session.delete(row)

        for name in _FILLED:
            if getattr(kept, name) in (None, "") and getattr(removed, name) not in (None, ""):
                setattr(kept, name, getattr(removed, name))
        if kept.kind == OrganisationKind.OTHER.value and removed.kind != kept.kind:
            kept.kind = removed.kind
        if not any(getattr(kept, name) for name in _CONTACT):
            for name in _CONTACT:
                setattr(kept, name, getattr(removed, name))
        if removed.notes and removed.notes not in (kept.notes or ""):
            kept.notes = "\n".join(filter(None, [kept.notes, removed.notes]))
        set_if_changed(kept, aliases=_merged_aliases(kept, removed))
        touch(kept)
        session.flush()  # every reference moved before the removed one goes
        session.delete(removed)
        session.flush()

        caches.refresh_organisation(session, kept)
        session.flush()
        caches.refresh_around_organisation(session, keep_id)
        references = sorted(merged_contracts.values())
        session.add(AuditEntry(
            at=datetime.now(UTC), login=session.info.get("login") or current_login(),
            action="merge", entity="organisation_merge", entity_id=str(remove_id),
            changes={"kept": str(keep_id), "kept_name": kept_name,
                     "removed_name": removed_name, "operations": len(operations),
                     "funding_lines": len(lines), "signatories": len(moved_rows),
                     "merged_signatories": references},
            batch_id=batch))
        session.flush()
        parts = [f"« {removed_name} » est fusionnée dans « {kept_name} » : "
                 f"{_count(len(operations), 'opération', 'opérations')}, "
                 f"{_count(len(lines), 'ligne de financement', 'lignes de financement')} et "
                 f"{_count(len(moved_rows), 'signature', 'signatures')} reprises ; "
                 f"« {removed_name} » devient un autre nom de « {kept_name} »."]
        if references:
            parts.append(
                f"Les deux signaient {'le contrat' if len(references) == 1 else 'les contrats'}"
                f" {', '.join(references)} : une seule ligne de signataire est gardée "
                f"(celle de « {kept_name} », complétée de l'autre).")
        return MergeResult(keep_id, kept.version, len(operations), len(lines),
                           len(moved_rows) - len(merged_contracts), references,
                           " ".join(parts))
