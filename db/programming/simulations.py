"""Simulations of a programmation: for an envelope, named drafts listing its candidate
funding lines with an amount proposed, a provisional status, a DETR priority category
and the commission's opinion. One simulation at a time is applied to the funding lines,
in one transaction, audited with the origin « simulation »; applying is undoable as long
as the lines were not changed since."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.audit import current_login
from db.database import Database
from db.errors import ConflictError, InvalidInput, NotFoundError
from db.formatting import euros, short_date
from db.models import (
    Envelope,
    FundingLine,
    Operation,
    Organisation,
    PriorityCategory,
    Simulation,
    SimulationLine,
    raw_cents,
)
from db.money import ZERO, from_cents
from db.programming.envelopes import (
    candidate_condition,
    check_programming,
    envelope_title,
    without_jit,
)
from db.services import caches
from db.services.common import (
    check_version,
    get,
    money,
    optional_text,
    required_text,
    set_if_changed,
    touch,
    transaction,
)
from db.vocabulary import FundingStatus

ORIGIN = "simulation"
RETAINED, REFUSED, POSTPONED = "retenu", "refuse", "ajourne"
STATUS_LABELS = {None: "À examiner", RETAINED: "Retenu", REFUSED: "Refusé",
                 POSTPONED: "Ajourné"}


# --- DETR priority categories of a département ---------------------------------------

@dataclass(frozen=True)
class Category:
    id: uuid.UUID
    label: str


def categories(db: Database, departement: str) -> list[Category]:
    with db.read() as session:
        return _categories(session, departement)


def _categories(session: Session, departement: str) -> list[Category]:
    return [Category(c.id, c.label) for c in session.scalars(
        select(PriorityCategory).where(PriorityCategory.departement_code == departement)
        .order_by(PriorityCategory.position))]


def save_categories(db: Database, departement: str, labels: list[str]) -> list[Category]:
    """The département's list of categories becomes *labels*, in that order (a label kept
    keeps its id, so the simulations that use it keep it)."""
    with transaction(db, "des catégories prioritaires") as session:
        save_categories_in(session, departement, labels)
        session.flush()
        return _categories(session, departement)


def save_categories_in(session: Session, departement: str, labels: list[str]) -> None:
    wanted = []
    for index, label in enumerate(labels, start=1):
        text = required_text(label, f"Catégorie prioritaire {index}", 300)
        if text in wanted:
            raise InvalidInput(f"Catégorie prioritaire {index} : « {text} » figure déjà "
                               "dans la liste.")
        wanted.append(text)
    existing = {c.label: c for c in session.scalars(
        select(PriorityCategory).where(PriorityCategory.departement_code == departement))}
    for position, label in enumerate(wanted):
        category = existing.pop(label, None)
        if category is None:
            session.add(PriorityCategory(departement_code=departement, label=label,
                                         position=position))
        else:
            set_if_changed(category, position=position)
    for category in existing.values():
        for line in session.scalars(select(SimulationLine)
                                    .where(SimulationLine.category_id == category.id)):
            line.category_id = None
        session.delete(category)


# --- Reading a simulation --------------------------------------------------------------

@dataclass
class SimulationRow:
    """One candidate of a simulation, as the table shows it."""

    id: uuid.UUID  # the simulation line
    funding_line_id: uuid.UUID
    reference: str
    title: str
    owner: str
    base: Decimal | None  # dépense subventionnable (eligible cost, else cost HT)
    requested: Decimal | None
    granted: Decimal | None  # what the funding line holds now
    line_status: str
    proposed: Decimal | None
    status: str | None
    category_id: uuid.UUID | None
    opinion: str | None

    @property
    def rate(self) -> Decimal | None:
        if self.proposed is None or not self.base:
            return None
        return self.proposed / self.base


@dataclass
class SimulationView:
    id: uuid.UUID
    version: int
    name: str
    notes: str | None
    decision_date: date | None
    applied_at: datetime | None
    applied_by: str | None
    envelope_id: uuid.UUID
    envelope_title: str
    envelope_amount: Decimal
    departement_code: str
    # Granted on the envelope's lines that are not in this simulation: counted as they are.
    programmed_outside: Decimal
    rows: list[SimulationRow]
    categories: list[Category]


@dataclass(frozen=True)
class SimulationSummary:
    id: uuid.UUID
    name: str
    candidates: int
    applied_at: datetime | None
    updated_at: datetime


def simulations_of(db: Database, envelope_id: uuid.UUID) -> list[SimulationSummary]:
    from sqlalchemy import func

    with db.read() as session:
        rows = session.execute(
            select(Simulation.id, Simulation.name, func.count(SimulationLine.id),
                   Simulation.applied_at, Simulation.updated_at)
            .outerjoin(SimulationLine, SimulationLine.simulation_id == Simulation.id)
            .where(Simulation.envelope_id == envelope_id)
            .group_by(Simulation.id, Simulation.name, Simulation.applied_at,
                      Simulation.updated_at)
            .order_by(Simulation.name)).all()
    return [SimulationSummary(*row) for row in rows]


def envelope_of_simulation(db: Database, simulation_id: uuid.UUID) -> uuid.UUID | None:
    """The envelope of a simulation (None once deleted): the Journal opens it."""
    with db.read() as session:
        return session.scalar(select(Simulation.envelope_id)
                              .where(Simulation.id == simulation_id))


def simulation_to_print(db: Database, envelope_id: uuid.UUID) -> SimulationSummary | None:
    """The simulation whose commission document the main window prints for an envelope:
    the one applied, else the one changed last; None when the envelope has none."""
    found = simulations_of(db, envelope_id)
    if not found:
        return None
    applied = [s for s in found if s.applied_at is not None]
    return applied[0] if applied else max(found, key=lambda s: s.updated_at)


def _departement(session: Session, envelope: Envelope) -> str:
    if envelope.departement_code:
        return envelope.departement_code
    from db.models import Arrondissement

    return session.get(Arrondissement, envelope.arrondissement_code).departement_code


def load_simulation(db: Database, simulation_id: uuid.UUID) -> SimulationView:
    with db.read() as session:
        return _load(session, simulation_id)


def _load(session: Session, simulation_id: uuid.UUID) -> SimulationView:
    simulation = get(session, Simulation, simulation_id, "Simulation")
    envelope = session.get(Envelope, simulation.envelope_id)
    without_jit(session)
    base = _base_column()
    rows = [SimulationRow(
        id=r.id, funding_line_id=r.funding_line_id, reference=r.reference, title=r.title,
        owner=r.owner or "", base=from_cents(r.base) if r.base is not None else None,
        requested=from_cents(r.requested) if r.requested is not None else None,
        granted=from_cents(r.granted) if r.granted is not None else None,
        line_status=r.line_status,
        proposed=from_cents(r.proposed) if r.proposed is not None else None,
        status=r.status, category_id=r.category_id, opinion=r.opinion)
        for r in session.execute(
            select(SimulationLine.id, SimulationLine.funding_line_id, Operation.reference,
                   Operation.title, Organisation.name.label("owner"), base.label("base"),
                   raw_cents(FundingLine.amount_requested).label("requested"),
                   raw_cents(FundingLine.amount_granted).label("granted"),
                   FundingLine.status.label("line_status"),
                   raw_cents(SimulationLine.proposed).label("proposed"),
                   SimulationLine.status, SimulationLine.category_id, SimulationLine.opinion)
            .join(FundingLine, FundingLine.id == SimulationLine.funding_line_id)
            .join(Operation, Operation.id == FundingLine.operation_id)
            .outerjoin(Organisation, Organisation.id == Operation.owner_id)
            .where(SimulationLine.simulation_id == simulation.id)
            .order_by(SimulationLine.position))]
    in_simulation = select(SimulationLine.funding_line_id).where(
        SimulationLine.simulation_id == simulation.id)
    from sqlalchemy import func

    outside = session.scalar(
        select(func.coalesce(func.sum(raw_cents(FundingLine.amount_granted)), 0))
        .where(candidate_condition(envelope),
               FundingLine.status == FundingStatus.GRANTED.value,
               FundingLine.id.not_in(in_simulation)))
    departement = _departement(session, envelope)
    return SimulationView(
        id=simulation.id, version=simulation.version, name=simulation.name,
        notes=simulation.notes, decision_date=simulation.decision_date,
        applied_at=simulation.applied_at, applied_by=simulation.applied_by,
        envelope_id=envelope.id, envelope_title=envelope_title(session, envelope),
        envelope_amount=envelope.amount, departement_code=departement,
        programmed_outside=from_cents(outside), rows=rows,
        categories=_categories(session, departement))


def _base_column():
    from sqlalchemy import func

    return func.coalesce(raw_cents(Operation.eligible_cost), raw_cents(Operation.cost_ht))


# --- Totals (pure: the editor keeps them up to date as the agent types) ----------------

@dataclass
class Totals:
    envelope: Decimal
    outside: Decimal
    requested: Decimal = ZERO
    retained: Decimal = ZERO
    # Lines the simulation leaves as they are (ajourné, à examiner) that are granted now:
    # applying does not touch them, so they stay programmed.
    kept: Decimal = ZERO
    counts: dict[str | None, int] = field(default_factory=dict)

    @property
    def programmed(self) -> Decimal:
        """What the envelope's programmation will be once the simulation is applied."""
        return self.outside + self.kept + self.retained

    @property
    def remaining(self) -> Decimal:
        return self.envelope - self.programmed

    def add(self, row: SimulationRow, sign: int = 1) -> None:
        self.requested += sign * (row.requested or ZERO)
        if row.status == RETAINED:
            self.retained += sign * (row.proposed or ZERO)
        elif row.status != REFUSED and row.line_status == FundingStatus.GRANTED.value:
            self.kept += sign * (row.granted or ZERO)
        self.counts[row.status] = self.counts.get(row.status, 0) + sign

    def text(self) -> str:
        over = self.remaining < 0
        counts = ", ".join(_counted(self.counts.get(s, 0), s)
                           for s in (RETAINED, REFUSED, POSTPONED, None))
        rest = (f"dépassement de {euros(-self.remaining)}" if over
                else f"reste à attribuer {euros(self.remaining)}")
        return (f"Enveloppe {euros(self.envelope)} — programmé {euros(self.programmed)}"
                f" (dont retenu dans la simulation {euros(self.retained)}) — {rest} — demandé "
                f"{euros(self.requested)} — {counts}")


def _counted(count: int, status: str | None) -> str:
    """« 1 retenu », « 3 refusés », « 2 à examiner »."""
    label = STATUS_LABELS[status].lower()
    return f"{count} {label}{'s' if count > 1 and status is not None else ''}"


def totals_of(view: SimulationView) -> Totals:
    totals = Totals(view.envelope_amount, view.programmed_outside)
    for row in view.rows:
        totals.add(row)
    return totals


# --- Writing ---------------------------------------------------------------------------

def create_simulation(db: Database, envelope_id: uuid.UUID, name: str) -> uuid.UUID:
    """A new simulation listing every candidate funding line of the envelope, proposed as
    the lines are now (granted: retained at the amount granted; refused: refused)."""
    with transaction(db, "de la simulation") as session:
        envelope = get(session, Envelope, envelope_id, "Enveloppe")
        name = required_text(name, "Nom de la simulation", 200)
        if session.scalar(select(Simulation.id).where(Simulation.envelope_id == envelope_id,
                                                      Simulation.name == name)):
            raise InvalidInput(f"Nom de la simulation : « {name} » existe déjà pour "
                               f"l'enveloppe {envelope_title(session, envelope)}.")
        without_jit(session)
        simulation = Simulation(id=uuid.uuid4(), envelope_id=envelope_id, name=name)
        session.add(simulation)
        lines = session.execute(
            select(FundingLine.id, FundingLine.status, raw_cents(FundingLine.amount_granted))
            .join(Operation, Operation.id == FundingLine.operation_id)
            .where(candidate_condition(envelope))
            .order_by(Operation.reference, FundingLine.position)).all()
        for position, (line_id, status, granted) in enumerate(lines):
            granted_now = status == FundingStatus.GRANTED.value
            session.add(SimulationLine(
                simulation_id=simulation.id, funding_line_id=line_id, position=position,
                proposed=from_cents(granted) if granted_now and granted is not None else None,
                status=RETAINED if granted_now else
                REFUSED if status == FundingStatus.REFUSED.value else None))
        return simulation.id


@dataclass
class LineEdit:
    id: uuid.UUID
    proposed: Decimal | None
    status: str | None
    category_id: uuid.UUID | None = None
    opinion: str | None = None


@dataclass
class SimulationEdit:
    id: uuid.UUID
    version: int
    name: str
    decision_date: date | None = None
    notes: str | None = None
    lines: list[LineEdit] = field(default_factory=list)


def save_simulation(db: Database, edit: SimulationEdit) -> int:
    """Saves the proposals (only the lines that changed); returns the new version."""
    with transaction(db, f"de la simulation « {edit.name} »") as session:
        simulation = get(session, Simulation, edit.id, "Simulation")
        check_version(simulation, edit.version, f"de la simulation « {simulation.name} »")
        if simulation.applied_at is not None:
            raise InvalidInput(f"La simulation « {simulation.name} » est appliquée : annulez "
                               "son application avant de la modifier.")
        name = required_text(edit.name, "Nom de la simulation", 200)
        set_if_changed(simulation, name=name, decision_date=edit.decision_date,
                       notes=optional_text(edit.notes))
        touch(simulation)
        by_id = {line.id: line for line in simulation.lines}
        for edited in edit.lines:
            line = by_id.get(edited.id)
            if line is None:
                raise NotFoundError("Une ligne de la simulation a été supprimée entre-temps : "
                                    "rechargez la simulation.")
            if edited.status not in STATUS_LABELS:
                raise InvalidInput(f"Statut provisoire inconnu : « {edited.status} ».")
            proposed = money(edited.proposed, f"Ligne {line.position + 1} : montant proposé")
            if proposed is not None and proposed < 0:
                raise InvalidInput(f"Ligne {line.position + 1} : le montant proposé ne peut "
                                   "pas être négatif.")
            set_if_changed(line, proposed=proposed, status=edited.status,
                           category_id=edited.category_id,
                           opinion=optional_text(edited.opinion))
        session.flush()
        return simulation.version


def delete_simulation(db: Database, simulation_id: uuid.UUID, version: int) -> None:
    with transaction(db, "de la simulation") as session:
        simulation = get(session, Simulation, simulation_id, "Simulation")
        check_version(simulation, version, f"de la simulation « {simulation.name} »")
        if simulation.applied_at is not None:
            raise InvalidInput(f"La simulation « {simulation.name} » est appliquée : annulez "
                               "son application avant de la supprimer.")
        session.delete(simulation)


def _line_what(session: Session, line: FundingLine) -> str:
    operation = session.get(Operation, line.operation_id)
    return f"le financement {line.scheme_code} de l'opération « {operation.reference} »"


def apply_simulation(db: Database, simulation_id: uuid.UUID, version: int,
                     today: date | None = None) -> int:
    """Writes the retained and refused lines' decision (status, amount granted, decision
    date) to the funding lines, in one transaction audited with the origin
    « simulation » (batch: the simulation's id); refused beyond the envelope. Lines left
    « à examiner » or « ajourné » are not touched. Returns the number of lines written."""
    try:
        with db.write(batch_id=simulation_id, origin=ORIGIN) as session, \
                session.no_autoflush:
            return _apply(session, simulation_id, version, today or date.today())
    except Exception as exc:
        from sqlalchemy.orm.exc import StaleDataError

        if isinstance(exc, StaleDataError):
            raise ConflictError("Conflit : un financement de la simulation a été modifié "
                                "pendant l'application ; rien n'a été enregistré.",
                                entity="simulation", entity_id=simulation_id,
                                expected_version=version, current_version=None) from exc
        raise


def _apply(session: Session, simulation_id: uuid.UUID, version: int, today: date) -> int:
    simulation = get(session, Simulation, simulation_id, "Simulation")
    check_version(simulation, version, f"de la simulation « {simulation.name} »")
    if simulation.applied_at is not None:
        raise InvalidInput(f"La simulation « {simulation.name} » est déjà appliquée.")
    other = session.scalar(select(Simulation.name).where(
        Simulation.envelope_id == simulation.envelope_id, Simulation.id != simulation.id,
        Simulation.applied_at.is_not(None)))
    if other:
        raise InvalidInput(f"La simulation « {other} » est déjà appliquée à cette enveloppe : "
                           "annulez son application d'abord.")
    envelope = session.get(Envelope, simulation.envelope_id)
    decision = simulation.decision_date or today
    touched: dict[uuid.UUID, Operation] = {}
    written: list[tuple[SimulationLine, FundingLine]] = []
    for line in simulation.lines:
        if line.status not in (RETAINED, REFUSED):
            continue
        funding = session.get(FundingLine, line.funding_line_id)
        if line.status == RETAINED and not line.proposed:
            raise InvalidInput(f"Ligne {line.position + 1} ({_line_what(session, funding)}) : "
                               "retenue sans montant proposé. Rien n'a été enregistré.")
        granted = line.proposed if line.status == RETAINED else None
        if funding.paid_total and (granted or ZERO) < funding.paid_total:
            what = (f"plus que le montant proposé ({euros(granted)})" if granted
                    else "il ne peut pas être refusé")
            raise InvalidInput(
                f"Ligne {line.position + 1} ({_line_what(session, funding)}) : "
                f"{euros(funding.paid_total)} déjà versés, {what}. Rien n'a été enregistré.")
        line.before_status = funding.status
        line.before_granted = funding.amount_granted
        line.before_decision_date = funding.decision_date
        set_if_changed(funding, status=(FundingStatus.GRANTED if line.status == RETAINED
                                        else FundingStatus.REFUSED).value,
                       amount_granted=granted, decision_date=decision)
        operation = session.get(Operation, funding.operation_id)
        touched[operation.id] = operation
        written.append((line, funding))
    for operation in touched.values():
        touch(operation)
        caches.refresh_operation(session, operation)
    simulation.applied_at = datetime.now(UTC)
    simulation.applied_by = session.info.get("login") or current_login()
    session.flush()
    check_programming(session, envelope)
    for line, funding in written:
        line.applied_version = funding.version
    session.flush()
    return len(written)


def undo_simulation(db: Database, simulation_id: uuid.UUID, version: int) -> int:
    """Restores the funding lines as they were before the simulation was applied; refused
    (nothing changed) if one of them was modified since."""
    with db.write(batch_id=simulation_id, origin=ORIGIN) as session, session.no_autoflush:
        simulation = get(session, Simulation, simulation_id, "Simulation")
        check_version(simulation, version, f"de la simulation « {simulation.name} »")
        if simulation.applied_at is None:
            raise InvalidInput(f"La simulation « {simulation.name} » n'est pas appliquée : "
                               "il n'y a rien à annuler.")
        touched: dict[uuid.UUID, Operation] = {}
        restored = 0
        for line in simulation.lines:
            if line.applied_version is None:
                continue
            funding = session.get(FundingLine, line.funding_line_id)
            if funding is None or funding.version != line.applied_version:
                what = _line_what(session, funding) if funding else "un financement"
                when = ""
                if funding is not None:
                    when = f" le {short_date(funding.updated_at.date())} par {funding.updated_by}"
                raise InvalidInput(
                    f"Annulation refusée : {what} a été modifié{when} depuis l'application "
                    f"de la simulation « {simulation.name} ». Corrigez-le dans sa fiche ; "
                    "rien n'a été modifié.")
            set_if_changed(funding, status=line.before_status,
                           amount_granted=line.before_granted,
                           decision_date=line.before_decision_date)
            line.before_status = line.before_granted = line.before_decision_date = None
            line.applied_version = None
            operation = session.get(Operation, funding.operation_id)
            touched[operation.id] = operation
            restored += 1
        for operation in touched.values():
            touch(operation)
            caches.refresh_operation(session, operation)
        simulation.applied_at = None
        simulation.applied_by = None
        touch(simulation)
        return restored
