"""Envelopes: the amount of a dotation notified for a year and a perimeter, and what
the candidate operations of that perimeter ask, are granted and are paid.

The figures are SQL aggregates over the funding lines of the envelope's scheme and
budget year on the operations of its perimeter (communes of the perimeter, or a
contract of it: the same notion as the lists' arrondissement filter, db.lists)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import Select, and_, case, func, or_, select, text
from sqlalchemy.orm import Session, aliased

from db.database import Database
from db.errors import DeleteRefused, InvalidInput
from db.formatting import euros
from db.models import (
    Arrondissement,
    Commune,
    Contract,
    Departement,
    Envelope,
    FundingLine,
    FundingScheme,
    Operation,
    OperationLink,
    Simulation,
    operation_commune,
    raw_cents,
)
from db.money import ZERO, from_cents
from db.services.common import (
    SaveResult,
    check_version,
    get,
    money,
    optional_text,
    record_to_save,
    set_if_changed,
    transaction,
)
from db.text import elide
from db.vocabulary import FundingStatus, OperationStatus


@dataclass(frozen=True)
class EnvelopeFigures:
    envelope_id: uuid.UUID
    scheme_code: str        # "DETR"
    scheme_label: str       # "DETR" (short label, for display)
    year: int
    perimeter_label: str    # "Arrondissement d'Avesnes-sur-Helpe" / "Nord"
    amount: Decimal         # notified
    requested: Decimal      # requested on candidate operations
    programmed: Decimal     # programmé / accordé
    remaining: Decimal      # amount - programmed (reste à attribuer)
    paid: Decimal
    dossiers: int


@dataclass(frozen=True)
class EnvelopeRow:
    """An envelope with its figures and what the page shows beside them."""

    figures: EnvelopeFigures
    version: int
    departement_code: str | None
    arrondissement_code: str | None
    parent_id: uuid.UUID | None
    parent_label: str | None
    delegated: Decimal  # sum of the envelopes delegated from this one
    notes: str | None
    simulations: int

    @property
    def over_programmed(self) -> bool:
        return self.figures.remaining < 0

    @property
    def over_delegated(self) -> bool:
        return self.delegated > self.figures.amount


@dataclass
class EnvelopeData:
    scheme_code: str
    year: int
    amount: Decimal
    departement_code: str | None = None
    arrondissement_code: str | None = None
    parent_id: uuid.UUID | None = None
    notes: str | None = None
    id: uuid.UUID | None = None
    version: int | None = None


# --- Perimeters ----------------------------------------------------------------------

def operations_in_arrondissement(code: str) -> Select:
    """Ids of the operations of an arrondissement: by their communes or their contracts
    (as db.lists filters the lists)."""
    by_commune = (select(operation_commune.c.operation_id)
                  .join(Commune, Commune.code == operation_commune.c.commune_code)
                  .where(Commune.arrondissement_code == code))
    by_contract = (select(OperationLink.operation_id)
                   .join(Contract, Contract.id == OperationLink.contract_id)
                   .where(Contract.arrondissement_code == code))
    return by_commune.union(by_contract)


def operations_in_departement(code: str) -> Select:
    by_commune = (select(operation_commune.c.operation_id)
                  .join(Commune, Commune.code == operation_commune.c.commune_code)
                  .where(Commune.departement_code == code))
    by_contract = (select(OperationLink.operation_id)
                   .join(Contract, Contract.id == OperationLink.contract_id)
                   .join(Arrondissement, Arrondissement.code == Contract.arrondissement_code)
                   .where(Arrondissement.departement_code == code))
    return by_commune.union(by_contract)


def candidate_condition(envelope: Envelope):
    """The funding lines an envelope counts: its scheme and budget year, on an operation
    of its perimeter (by one of its communes, or one of its contracts), but an abandoned
    operation's lines not granted.

    Written as correlated EXISTS: the lines of one scheme and year are a few thousand,
    each checked through the primary keys of operation_commune and operation_contract,
    where ``IN (the operations of the perimeter)`` built that set (tens of thousands in a
    département) first — 0,4 s per envelope on 100 000 operations."""
    if envelope.arrondissement_code:
        by_commune = Commune.arrondissement_code == envelope.arrondissement_code
        by_contract = Contract.arrondissement_code == envelope.arrondissement_code
        contracts = select(OperationLink.operation_id).join(
            Contract, Contract.id == OperationLink.contract_id)
    else:
        by_commune = Commune.departement_code == envelope.departement_code
        by_contract = Arrondissement.departement_code == envelope.departement_code
        contracts = (select(OperationLink.operation_id)
                     .join(Contract, Contract.id == OperationLink.contract_id)
                     .join(Arrondissement,
                           Arrondissement.code == Contract.arrondissement_code))
    communes = (select(operation_commune.c.operation_id)
                .join(Commune, Commune.code == operation_commune.c.commune_code))
    # A dossier withdrawn (operation abandoned, « classé sans suite » in Démarches
    # numériques) no longer asks anything; a grant not yet cancelled still counts.
    # (Its own alias: the simulations' query joins the operations already.)
    withdrawn = aliased(Operation)
    live = or_(FundingLine.status == FundingStatus.GRANTED.value,
               ~select(withdrawn.id).where(withdrawn.id == FundingLine.operation_id,
                                           withdrawn.status == OperationStatus.ABANDONED.value
                                           ).correlate(FundingLine).exists())
    return and_(FundingLine.scheme_code == envelope.scheme_code,
                FundingLine.budget_year == envelope.year, live,
                or_(communes.where(operation_commune.c.operation_id
                                   == FundingLine.operation_id, by_commune).exists(),
                    contracts.where(OperationLink.operation_id == FundingLine.operation_id,
                                    by_contract).exists()))


def perimeter_label(session: Session, envelope: Envelope) -> str:
    if envelope.arrondissement_code:
        name = session.scalar(select(Arrondissement.name)
                              .where(Arrondissement.code == envelope.arrondissement_code))
        return f"Arrondissement {elide('de', name or envelope.arrondissement_code)}"
    return session.scalar(select(Departement.name).where(
        Departement.code == envelope.departement_code)) or envelope.departement_code


def scheme_label(session: Session, code: str) -> str:
    scheme = session.get(FundingScheme, code)
    if scheme is None:
        return code
    return scheme.short_label or scheme.label


def envelope_title(session: Session, envelope: Envelope) -> str:
    """« DETR 2025 — Arrondissement d'Avesnes-sur-Helpe »."""
    return (f"{scheme_label(session, envelope.scheme_code)} {envelope.year} — "
            f"{perimeter_label(session, envelope)}")


# --- Figures -------------------------------------------------------------------------

def without_jit(session: Session) -> None:
    """PostgreSQL compiles a query whose estimated cost is high (the EXISTS over thousands
    of lines) before running it: 0,45 s of JIT for 0,18 s of work on 100 000 operations.
    Off for the rest of this transaction only."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL jit = off"))


def _sums(session: Session, envelope: Envelope) -> tuple[Decimal, Decimal, Decimal, int]:
    without_jit(session)
    granted = FundingLine.status == FundingStatus.GRANTED.value
    row = session.execute(
        select(func.coalesce(func.sum(raw_cents(FundingLine.amount_requested)), 0),
               func.coalesce(func.sum(case((granted, raw_cents(FundingLine.amount_granted)),
                                           else_=0)), 0),
               func.coalesce(func.sum(case((granted, raw_cents(FundingLine.paid_total)),
                                           else_=0)), 0),
               func.count(func.distinct(FundingLine.operation_id)))
        .where(candidate_condition(envelope))).one()
    return from_cents(row[0]), from_cents(row[1]), from_cents(row[2]), int(row[3])


def figures_of(session: Session, envelope: Envelope) -> EnvelopeFigures:
    requested, programmed, paid, dossiers = _sums(session, envelope)
    return EnvelopeFigures(
        envelope_id=envelope.id, scheme_code=envelope.scheme_code,
        scheme_label=scheme_label(session, envelope.scheme_code), year=envelope.year,
        perimeter_label=perimeter_label(session, envelope), amount=envelope.amount,
        requested=requested, programmed=programmed, remaining=envelope.amount - programmed,
        paid=paid, dossiers=dossiers)


def _envelopes(session: Session, year: int | None, arrondissement: str | None
               ) -> list[Envelope]:
    query = select(Envelope)
    if year is not None:
        query = query.where(Envelope.year == year)
    if arrondissement:
        departement = session.scalar(select(Arrondissement.departement_code)
                                     .where(Arrondissement.code == arrondissement))
        query = query.where((Envelope.arrondissement_code == arrondissement)
                            | (Envelope.departement_code == departement))
    envelopes = list(session.scalars(query))
    # The département's envelope first, then the arrondissements delegated from it.
    envelopes.sort(key=lambda e: (-e.year, e.scheme_code, e.arrondissement_code is not None,
                                  e.departement_code or "", e.arrondissement_code or ""))
    return envelopes


def envelope_figures(session, *, year: int | None = None,
                     arrondissement: str | None = None) -> list[EnvelopeFigures]:
    """The figures of the envelopes of *year* (all years when None); with an
    *arrondissement*, its envelopes and those of its département."""
    return [figures_of(session, e) for e in _envelopes(session, year, arrondissement)]


def envelope_rows(db: Database, *, year: int | None = None,
                  arrondissement: str | None = None) -> list[EnvelopeRow]:
    """What the Enveloppes page and the CLI show."""
    with db.read() as session:
        envelopes = _envelopes(session, year, arrondissement)
        rows = []
        for envelope in envelopes:
            parent = session.get(Envelope, envelope.parent_id) if envelope.parent_id else None
            delegated = _delegated_total(session, envelope.id)
            simulations = session.scalar(select(func.count()).select_from(Simulation)
                                         .where(Simulation.envelope_id == envelope.id))
            rows.append(EnvelopeRow(
                figures=figures_of(session, envelope), version=envelope.version,
                departement_code=envelope.departement_code,
                arrondissement_code=envelope.arrondissement_code,
                parent_id=envelope.parent_id,
                parent_label=envelope_title(session, parent) if parent else None,
                delegated=delegated, notes=envelope.notes, simulations=simulations or 0))
    return rows


def envelope_years(db: Database) -> list[int]:
    with db.read() as session:
        return list(session.scalars(select(Envelope.year).distinct()
                                    .order_by(Envelope.year.desc())))


def _delegated_total(session: Session, parent_id: uuid.UUID,
                     leaving_out: uuid.UUID | None = None) -> Decimal:
    query = select(func.coalesce(func.sum(raw_cents(Envelope.amount)), 0)).where(
        Envelope.parent_id == parent_id)
    if leaving_out is not None:
        query = query.where(Envelope.id != leaving_out)
    return from_cents(session.scalar(query))


# --- Rules: never beyond the envelope ------------------------------------------------

def check_programming(session: Session, envelope: Envelope,
                      programmed: Decimal | None = None) -> None:
    """Refuses (InvalidInput) a programmation beyond the envelope's amount: equal is
    fine, one cent more is an error."""
    if programmed is None:
        programmed = _sums(session, envelope)[1]
    if programmed > envelope.amount:
        raise InvalidInput(
            f"Enveloppe {envelope_title(session, envelope)} : la programmation "
            f"({euros(programmed)}) dépasse le montant notifié ({euros(envelope.amount)}) "
            f"de {euros(programmed - envelope.amount)}. Rien n'a été enregistré.")


def check_delegation(session: Session, parent: Envelope, delegated: Decimal) -> None:
    if delegated > parent.amount:
        raise InvalidInput(
            f"Enveloppe {envelope_title(session, parent)} : les enveloppes qui en sont "
            f"déléguées totalisent {euros(delegated)}, plus que son montant notifié "
            f"({euros(parent.amount)}), de {euros(delegated - parent.amount)}. "
            "Rien n'a été enregistré.")


def _validate(session: Session, data: EnvelopeData) -> None:
    if session.get(FundingScheme, data.scheme_code or "") is None:
        raise InvalidInput("Dotation de l'enveloppe : choisissez une dotation connue "
                           f"(« {data.scheme_code or ''} » n'en est pas une).")
    if not isinstance(data.year, int) or not 2000 <= data.year <= 2100:
        raise InvalidInput(f"Année de l'enveloppe : « {data.year} » n'est pas une année "
                           "(entre 2000 et 2100).")
    data.amount = money(data.amount, "Montant notifié de l'enveloppe")
    if data.amount is None:
        raise InvalidInput("Montant notifié de l'enveloppe : champ obligatoire.")
    if data.amount < 0:
        raise InvalidInput("Montant notifié de l'enveloppe : il ne peut pas être négatif.")
    if bool(data.departement_code) == bool(data.arrondissement_code):
        raise InvalidInput("Périmètre de l'enveloppe : un département ou un arrondissement "
                           "(l'un des deux).")
    if data.arrondissement_code and session.get(Arrondissement,
                                                data.arrondissement_code) is None:
        raise InvalidInput(f"Périmètre de l'enveloppe : arrondissement inconnu "
                           f"(« {data.arrondissement_code} »).")
    if data.departement_code and session.get(Departement, data.departement_code) is None:
        raise InvalidInput(f"Périmètre de l'enveloppe : département inconnu "
                           f"(« {data.departement_code} »).")
    data.notes = optional_text(data.notes)
    clash = session.scalar(select(Envelope).where(
        Envelope.scheme_code == data.scheme_code, Envelope.year == data.year,
        Envelope.departement_code.is_(None) if data.departement_code is None
        else Envelope.departement_code == data.departement_code,
        Envelope.arrondissement_code.is_(None) if data.arrondissement_code is None
        else Envelope.arrondissement_code == data.arrondissement_code))
    if clash is not None and clash.id != data.id:
        raise InvalidInput(f"L'enveloppe {envelope_title(session, clash)} existe déjà : "
                           "modifiez-la plutôt que d'en créer une seconde.")
    if data.parent_id is not None:
        parent = session.get(Envelope, data.parent_id)
        if parent is None:
            raise InvalidInput("Enveloppe de délégation : introuvable (supprimée ?).")
        arrondissement = (session.get(Arrondissement, data.arrondissement_code)
                          if data.arrondissement_code else None)
        if (arrondissement is None or parent.departement_code is None
                or parent.departement_code != arrondissement.departement_code):
            raise InvalidInput("Enveloppe de délégation : une enveloppe d'arrondissement est "
                               "déléguée de l'enveloppe de son département.")
        if parent.scheme_code != data.scheme_code or parent.year != data.year:
            raise InvalidInput(f"Enveloppe de délégation : {envelope_title(session, parent)} "
                               "n'est pas de la même dotation ni de la même année.")


def save_envelope(db: Database, data: EnvelopeData) -> SaveResult:
    """Create or update an envelope, in one transaction, refused if its programmation
    or the envelopes delegated from it exceed its amount, or if it takes its parent
    beyond the parent's amount."""
    with transaction(db, "de l'enveloppe") as session:
        return save_envelope_in(session, data)


def save_envelope_in(session: Session, data: EnvelopeData) -> SaveResult:
    _validate(session, data)
    envelope = record_to_save(session, Envelope, data, "de l'enveloppe")
    set_if_changed(envelope, scheme_code=data.scheme_code, year=data.year,
                   departement_code=data.departement_code or None,
                   arrondissement_code=data.arrondissement_code or None,
                   amount=data.amount, parent_id=data.parent_id, notes=data.notes)
    session.flush()
    check_programming(session, envelope)
    check_delegation(session, envelope, _delegated_total(session, envelope.id))
    if envelope.parent_id is not None:
        parent = session.get(Envelope, envelope.parent_id)
        check_delegation(session, parent, _delegated_total(session, parent.id))
    return SaveResult(envelope.id, envelope.version)


def envelope_for_edit(db: Database, envelope_id: uuid.UUID) -> EnvelopeData:
    with db.read() as session:
        e = get(session, Envelope, envelope_id, "Enveloppe")
        return EnvelopeData(e.scheme_code, e.year, e.amount, e.departement_code,
                            e.arrondissement_code, e.parent_id, e.notes, e.id, e.version)


def delete_envelope(db: Database, envelope_id: uuid.UUID, version: int) -> None:
    with transaction(db, "de l'enveloppe") as session:
        envelope = get(session, Envelope, envelope_id, "Enveloppe")
        check_version(envelope, version, "de l'enveloppe")
        children = session.scalar(select(func.count()).select_from(Envelope)
                                  .where(Envelope.parent_id == envelope_id))
        if children:
            raise DeleteRefused(f"L'enveloppe {envelope_title(session, envelope)} ne peut pas "
                                f"être supprimée : {children} " + (
                                    "enveloppe en est déléguée." if children == 1
                                    else "enveloppes en sont déléguées."))
        applied = session.scalar(select(Simulation.name).where(
            Simulation.envelope_id == envelope_id, Simulation.applied_at.is_not(None)))
        if applied:
            raise DeleteRefused(f"L'enveloppe {envelope_title(session, envelope)} ne peut pas "
                                f"être supprimée : sa simulation « {applied} » est appliquée "
                                "(annulez d'abord son application).")
        for simulation in session.scalars(select(Simulation).where(
                Simulation.envelope_id == envelope_id)):
            session.delete(simulation)  # with its lines, each audited
        session.delete(envelope)


@dataclass(frozen=True)
class ParentChoice:
    id: uuid.UUID
    label: str


def parent_choices(db: Database, scheme_code: str, year: int, arrondissement_code: str
                   ) -> list[ParentChoice]:
    """The envelopes an arrondissement's envelope may be delegated from."""
    with db.read() as session:
        departement = session.scalar(select(Arrondissement.departement_code)
                                     .where(Arrondissement.code == arrondissement_code))
        found = session.scalars(select(Envelope).where(
            Envelope.scheme_code == scheme_code, Envelope.year == year,
            Envelope.departement_code == departement))
        return [ParentChoice(e.id, envelope_title(session, e)) for e in found]


def departement_envelope(db: Database, scheme_code: str, year: int, departement: str
                         ) -> uuid.UUID | None:
    with db.read() as session:
        return session.scalar(select(Envelope.id).where(
            Envelope.scheme_code == scheme_code, Envelope.year == year,
            Envelope.departement_code == departement))


__all__ = ["ZERO", "EnvelopeData", "EnvelopeFigures", "EnvelopeRow", "envelope_figures",
           "envelope_rows", "save_envelope"]


@dataclass(frozen=True)
class PerimeterChoices:
    schemes: list[tuple[str, str]]  # code, label shown
    departements: list[tuple[str, str]]  # code, "59 — Nord"
    arrondissements: list[tuple[str, str, str]]  # code, "Avesnes-sur-Helpe (59)", dep


def perimeter_choices(db: Database) -> PerimeterChoices:
    """What the envelope editor offers: the State's dotations and subsidies first."""
    with db.read() as session:
        schemes = [(s.code, s.short_label or s.label) for s in session.scalars(
            select(FundingScheme).order_by(FundingScheme.state_investment_grant.desc(),
                                           FundingScheme.state_subsidy.desc(),
                                           FundingScheme.code))]
        departements = [(code, f"{code} — {name}") for code, name in session.execute(
            select(Departement.code, Departement.name).order_by(Departement.code))]
        arrondissements = [(code, f"{name} ({dep}, {code})", dep) for code, name, dep in
                           session.execute(select(Arrondissement.code, Arrondissement.name,
                                                  Arrondissement.departement_code)
                                           .order_by(Arrondissement.code))]
    return PerimeterChoices(schemes, departements, arrondissements)
