"""What the printed documents say, read from the database as plain data.

The PDF layer (``printouts``) receives these dataclasses and never queries the
database. Each document carries its provenance: the records it was made from with
their versions, and a fingerprint of its content, so that ``main.py verify`` can
later tell whether a printed document still matches the database.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import asdict, dataclass, field, is_dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from db.database import Database
from db.errors import NotFoundError, UserError
from db.models import (
    Arrondissement,
    Contract,
    Departement,
    FundingLine,
    Operation,
    OperationLink,
    Payment,
    Setting,
)
from db.money import ZERO, total
from db.reference import of_departement
from db.rules import deadlines, evaluate_operation, ratio
from db.services.operations import load_operation_data, plan_context, plan_input
from db.vocabulary import (
    BaseKind,
    ContractStatus,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
    OwnShareException,
)

FINGERPRINT_LENGTH = 20
STATE_KINDS = {OrganisationKind.STATE.value, OrganisationKind.STATE_OPERATOR.value}
# Columns of the annexe financière: financers grouped as the conventions present them.
FINANCER_GROUPS = [
    ("État", {OrganisationKind.STATE.value, OrganisationKind.STATE_OPERATOR.value}),
    ("Région", {OrganisationKind.REGION.value}),
    ("Département", {OrganisationKind.DEPARTEMENT.value}),
    ("Union européenne", {OrganisationKind.EU.value}),
    ("Autres", None),
]


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


@dataclass(frozen=True)
class AnnexLine:
    reference: str
    title: str
    owner: str
    communes: str
    cost: Decimal | None
    amounts: dict[str, Decimal]  # by financer group
    own_share: Decimal | None


@dataclass(frozen=True)
class AnnexAxis:
    label: str
    lines: list[AnnexLine]
    cost: Decimal
    amounts: dict[str, Decimal]
    own_share: Decimal


@dataclass(frozen=True)
class Signature:
    organisation: str
    role: str | None
    signing_date: date | None

    @property
    def heading(self) -> str:
        if self.role and self.role.lower().startswith("pour"):
            return self.role
        if self.role:
            return f"Pour {self.organisation}, {self.role}"
        return f"Pour {self.organisation}"


@dataclass
class AnnexData:
    office: Office
    reference: str
    title: str
    type_label: str
    status: str
    signature_date: date | None
    start_date: date | None
    end_date: date | None
    signatories: list[Signature]
    groups: list[str]
    axes: list[AnnexAxis]
    cost: Decimal
    amounts: dict[str, Decimal]
    own_share: Decimal
    unknown_costs: int  # operations whose cost is "non communiqué"
    by_financer: list[tuple[str, Decimal, Decimal | None]]  # name, granted, share
    state_by_year: list[tuple[str, Decimal, Decimal, Decimal]]  # year, committed, paid, rest
    provenance: Provenance


@dataclass(frozen=True)
class PlanLine:
    financer: str
    scheme: str
    status: str
    amount: Decimal
    requested: Decimal | None
    granted: Decimal | None
    rate: Decimal | None
    decision: str
    paid: Decimal


@dataclass
class PlanData:
    office: Office
    reference: str
    title: str
    owner: str
    communes: str
    contracts: str
    status: str
    cost_ht: Decimal | None
    cost_ttc: Decimal | None
    base_kind: str
    base: Decimal | None
    eligible: Decimal | None
    lines: list[PlanLine]
    funding_total: Decimal
    own_share: Decimal | None
    own_share_rate: Decimal | None
    checks: list[tuple[str, str]]  # severity label, message
    exception: str | None
    dates: list[tuple[str, date | None]]
    deadlines: list[tuple[str, date | None, str]]
    provenance: Provenance


@dataclass
class SummaryData:
    office: Office
    reference: str
    title: str
    type_label: str
    status: str
    signature_date: date | None
    end_date: date | None
    territory: str | None
    envelope_total: Decimal | None
    envelope_state: Decimal | None
    operations: int
    cost: Decimal
    granted: Decimal
    paid: Decimal
    axes: list[tuple[str, int, Decimal, Decimal]]  # label, count, committed, paid
    by_status: list[tuple[str, int, Decimal]]
    deadlines_to_come: list[tuple[date, str, str]]  # date, operation, what
    contacts: list[Signature]
    provenance: Provenance


@dataclass
class ListData:
    office: Office
    title: str
    criteria: str
    columns: list[tuple[str, str]]  # key, label
    rows: list[dict[str, Any]]
    totals: dict[str, Any]
    provenance: Provenance


# --- Office identity -----------------------------------------------------------------

OFFICE_KEYS = ("office.prefecture", "office.sous_prefecture", "office.place")


def office(db: Database) -> Office:
    """From the settings, else derived from the arrondissement of the database."""
    with db.read() as session:
        values = {s.key: s.value for s in session.scalars(
            select(Setting).where(Setting.key.in_([*OFFICE_KEYS, "arrondissement"])))}
        arrondissement = session.get(Arrondissement, values.get("arrondissement", ""))
        departement = (session.get(Departement, arrondissement.departement_code)
                       if arrondissement else None)
    place = arrondissement.name if arrondissement else ""
    joined = of_departement(departement.code) if departement else None
    default_prefecture = f"Préfecture {joined}" if joined else "Préfecture"
    default_sp = f"Sous-préfecture d'{place}" if place[:1] in "AEIOUYÂÉÈÎ" and place else (
        f"Sous-préfecture de {place}" if place else "Sous-préfecture")
    return Office(values.get("office.prefecture") or default_prefecture,
                  values.get("office.sous_prefecture") or default_sp,
                  values.get("office.place") or place)


# --- Fingerprint -------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if is_dataclass(value):
        return _plain(asdict(value))
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Decimal | date | uuid.UUID):
        return str(value)
    return value


# Parts that depend on the day of edition, not on the data (rule warnings about
# deadlines, deadlines still to come): left out of the fingerprint.
VOLATILE = ("checks", "deadlines_to_come")


def fingerprint(document: Any) -> str:
    """A short hash of what the document says and of the versions it was made from
    (the date of edition is left out: reprinting the same data gives the same print)."""
    content = _plain(document)
    content["provenance"].pop("fingerprint", None)
    content["provenance"].pop("edited", None)
    for key in VOLATILE:
        content.pop(key, None)
    digest = hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False)
                            .encode("utf-8")).hexdigest()
    return digest[:FINGERPRINT_LENGTH].upper()


def _seal(document: Any) -> Any:
    document.provenance.fingerprint = fingerprint(document)
    return document


def _version(record: Any) -> RecordVersion:
    return RecordVersion(record.__tablename__, str(record.id), record.version)


# --- Annexe financière of a contract ------------------------------------------------------

def _group_of(kind: str | None) -> str:
    for label, kinds in FINANCER_GROUPS:
        if kinds is None or kind in kinds:
            return label
    return "Autres"


def _contract(session: Session, reference: str) -> Contract:
    contract = session.scalar(select(Contract).where(Contract.reference == reference))
    if contract is None:
        raise NotFoundError(f"Contrat introuvable : « {reference} ».")
    return contract


def _contract_operations(session: Session, contract: Contract) -> list[tuple[Operation, Any]]:
    # Everything the documents read, loaded in a few queries (not one per operation).
    return list(session.execute(
        select(Operation, OperationLink.axis_id)
        .join(OperationLink, OperationLink.operation_id == Operation.id)
        .where(OperationLink.contract_id == contract.id).order_by(Operation.reference)
        .options(selectinload(Operation.owner), selectinload(Operation.communes),
                 selectinload(Operation.links),
                 selectinload(Operation.funding_lines).selectinload(FundingLine.financer),
                 selectinload(Operation.funding_lines).selectinload(FundingLine.payments))))


def _line_amount(line: FundingLine) -> Decimal:
    """What a line brings to the plan: granted once decided, else requested."""
    if line.status == FundingStatus.REFUSED.value:
        return ZERO
    if line.status == FundingStatus.GRANTED.value and line.amount_granted is not None:
        return line.amount_granted
    return line.amount_requested or line.amount_granted or ZERO


def annex(db: Database, reference: str) -> AnnexData:
    the_office = office(db)
    with db.read() as session:
        contract = _contract(session, reference)
        records = [_version(contract)]
        groups = [label for label, _ in FINANCER_GROUPS]
        rows = _contract_operations(session, contract)
        axes_by_id = {axis.id: axis for axis in contract.axes}
        per_axis: dict[Any, list[AnnexLine]] = {axis.id: [] for axis in contract.axes}
        per_axis[None] = []
        by_financer: dict[str, Decimal] = {}
        state_years: dict[str, list[Decimal]] = {}
        unknown_costs = 0
        for operation, axis_id in rows:
            records.append(_version(operation))
            amounts = dict.fromkeys(groups, ZERO)
            for line in operation.funding_lines:
                records.append(_version(line))
                kind = line.financer.kind if line.financer else None
                amount = _line_amount(line)
                amounts[_group_of(kind)] += amount
                name = line.financer.name if line.financer else "Financeur non précisé"
                if line.status == FundingStatus.GRANTED.value and line.amount_granted:
                    by_financer[name] = by_financer.get(name, ZERO) + line.amount_granted
                if kind in STATE_KINDS and line.status == FundingStatus.GRANTED.value:
                    # By year of commitment: engagé, versé on it to date, reste à verser.
                    year = str(line.budget_year or (line.decision_date.year
                                                    if line.decision_date else "—"))
                    entry = state_years.setdefault(year, [ZERO, ZERO])
                    entry[0] += line.amount_granted or ZERO
                    entry[1] += line.paid_total
                    records += [_version(payment) for payment in line.payments]
            base = operation.cost_ttc if operation.base_kind == BaseKind.TTC.value \
                else operation.cost_ht
            if base is None:
                unknown_costs += 1
            funded = total(amounts.values())
            per_axis.setdefault(axis_id if axis_id in axes_by_id else None, []).append(
                AnnexLine(operation.reference, operation.title,
                          operation.owner.name if operation.owner else "",
                          ", ".join(c.name for c in operation.communes), base, amounts,
                          None if base is None else base - funded))
        axes = []
        for axis_id, lines in per_axis.items():
            if not lines and axis_id is None:
                continue
            label = axes_by_id[axis_id].label if axis_id in axes_by_id else "Hors axe"
            number = axes_by_id[axis_id].number if axis_id in axes_by_id else None
            axes.append(AnnexAxis(
                f"Axe {number} — {label}" if number else label, lines,
                total(line.cost for line in lines),
                {g: total(line.amounts[g] for line in lines) for g in groups},
                total(line.own_share for line in lines)))
        grand = total(axis.cost for axis in axes)
        granted_total = total(by_financer.values())
        financers = sorted(by_financer.items(), key=lambda item: -item[1])
        years = []
        for year, (committed, paid) in sorted(state_years.items()):
            years.append((year, committed, paid, committed - paid))
        document = AnnexData(
            office=the_office, reference=contract.reference, title=contract.title,
            type_label=contract.contract_type.label,
            status=ContractStatus(contract.status).label,
            signature_date=contract.signature_date, start_date=contract.start_date,
            end_date=contract.end_date,
            signatories=[Signature(s.organisation.name, s.role, s.signing_date)
                         for s in contract.signatories],
            groups=groups, axes=axes, cost=grand,
            amounts={g: total(axis.amounts[g] for axis in axes) for g in groups},
            own_share=total(axis.own_share for axis in axes), unknown_costs=unknown_costs,
            by_financer=[(name, amount, ratio(amount, granted_total))
                         for name, amount in financers],
            state_by_year=years,
            provenance=Provenance("annexe", contract.reference, records))
    return _seal(document)


# --- Plan de financement of an operation ----------------------------------------------------

def plan(db: Database, reference: str, today: date | None = None) -> PlanData:
    the_office = office(db)
    today = today or date.today()
    with db.read() as session:
        operation = session.scalar(select(Operation).where(Operation.reference == reference))
        if operation is None:
            raise NotFoundError(f"Opération introuvable : « {reference} ».")
        data = load_operation_data(session, operation)
        rules_input = plan_input(data, plan_context(session, data))
        findings = evaluate_operation(rules_input, today)
        records = [_version(operation)] + [_version(line) for line in operation.funding_lines]
        base = rules_input.base_cost
        lines = []
        for line, rules_line in zip(operation.funding_lines, rules_input.lines, strict=True):
            records += [_version(p) for p in line.payments]
            rate_base = rules_input.subsidisable if rules_line.state_investment_grant else base
            lines.append(PlanLine(
                line.financer.name if line.financer else "Financeur non précisé",
                line.scheme_code or "", FundingStatus(line.status).label,
                rules_line.plan_amount, line.amount_requested, line.amount_granted,
                ratio(rules_line.plan_amount, rate_base),
                " ".join(x for x in (line.decision_reference,
                                     line.decision_date.strftime("%d/%m/%Y")
                                     if line.decision_date else None) if x),
                line.paid_total))
        limits = deadlines(rules_input)
        document = PlanData(
            office=the_office, reference=operation.reference, title=operation.title,
            owner=operation.owner.name if operation.owner else "",
            communes=", ".join(c.name for c in operation.communes),
            contracts=", ".join(link.contract.reference for link in operation.links),
            status=OperationStatus(operation.status).label, cost_ht=operation.cost_ht,
            cost_ttc=operation.cost_ttc, base_kind=operation.base_kind, base=base,
            eligible=rules_input.subsidisable, lines=lines,
            funding_total=rules_input.funding_total, own_share=rules_input.owner_share,
            own_share_rate=ratio(rules_input.owner_share or ZERO, base),
            checks=[(f.severity.value, f.message) for f in findings],
            exception=(f"{OwnShareException(operation.own_share_exception).label} — "
                       f"{operation.own_share_exception_ref or ''}".strip(" —")
                       if operation.own_share_exception else None),
            dates=[("Dépôt du dossier", operation.deposit_date),
                   ("Décision / arrêté", operation.decision_date),
                   ("Notification", operation.notification_date),
                   ("Début des travaux", operation.start_date),
                   ("Fin des travaux", operation.end_date)],
            deadlines=[] if limits is None else [
                ("Commencement des travaux avant le", limits.start_deadline,
                 limits.start_article),
                ("Achèvement avant le", limits.completion_deadline, limits.completion_article)],
            provenance=Provenance("plan", operation.reference, records))
        # Findings depend on the day; the plan's content does not.
        document.provenance.records.sort(key=lambda r: (r.entity, r.id))
    return _seal(document)


# --- Fiche synthèse of a signed convention ---------------------------------------------------

def summary(db: Database, reference: str, today: date | None = None) -> SummaryData:
    the_office = office(db)
    today = today or date.today()
    with db.read() as session:
        contract = _contract(session, reference)
        records = [_version(contract)]
        rows = _contract_operations(session, contract)
        labels = {axis.id: axis.label for axis in contract.axes}
        axes: dict[str, list] = {axis.label: [0, ZERO, ZERO] for axis in contract.axes}
        statuses: dict[str, list] = {}
        upcoming = []
        cost = granted = paid = ZERO
        for operation, axis_id in rows:
            records.append(_version(operation))
            label = labels.get(axis_id, "Hors axe")
            entry = axes.setdefault(label, [0, ZERO, ZERO])
            entry[0] += 1
            entry[1] += operation.granted_total or ZERO
            entry[2] += operation.paid_total
            status = OperationStatus(operation.status).label
            statuses.setdefault(status, [0, ZERO])
            statuses[status][0] += 1
            statuses[status][1] += operation.granted_total or ZERO
            cost += (operation.cost_ttc if operation.base_kind == "TTC"
                     else operation.cost_ht) or ZERO
            granted += operation.granted_total or ZERO
            paid += operation.paid_total
            data = load_operation_data(session, operation)
            limits = deadlines(plan_input(data, plan_context(session, data)))
            if limits:
                if limits.start_deadline and not operation.start_date \
                        and limits.start_deadline >= today:
                    upcoming.append((limits.start_deadline, operation.reference,
                                     "commencement des travaux (caducité)"))
                if limits.completion_deadline and not operation.end_date \
                        and limits.completion_deadline >= today:
                    upcoming.append((limits.completion_deadline, operation.reference,
                                     "achèvement des travaux"))
        document = SummaryData(
            office=the_office, reference=contract.reference, title=contract.title,
            type_label=contract.contract_type.label,
            status=ContractStatus(contract.status).label,
            signature_date=contract.signature_date, end_date=contract.end_date,
            territory=contract.territory, envelope_total=contract.envelope_total,
            envelope_state=contract.envelope_state, operations=len(rows), cost=cost,
            granted=granted, paid=paid,
            axes=[(label, *values) for label, values in axes.items()],
            by_status=[(status, *values) for status, values in statuses.items()],
            deadlines_to_come=sorted(upcoming)[:8],
            contacts=[Signature(s.organisation.name, s.role, s.signing_date)
                      for s in contract.signatories],
            provenance=Provenance("synthese", contract.reference, records))
    return _seal(document)


# --- État récapitulatif of a filtered list -----------------------------------------------

LIST_COLUMNS = [("reference", "Référence"), ("title", "Intitulé"), ("owner", "Maître d'ouvrage"),
                ("communes", "Communes"), ("status", "Statut"), ("cost", "Coût"),
                ("granted", "Accordé"), ("paid", "Versé"), ("remaining", "Reste à verser")]


def operations_list(db: Database, criteria: Any, description: str) -> ListData:
    """*criteria* is a :class:`db.lists.Criteria`; it is kept in the provenance so that
    the list can be made again for verification."""
    from db.lists import OPERATIONS

    rows = OPERATIONS.page(db, criteria, limit=None)
    totals = OPERATIONS.totals(db, criteria)
    for row in rows:
        row["status"] = OperationStatus(row["status"]).label
    document = ListData(
        office=office(db), title="État récapitulatif des opérations", criteria=description,
        columns=LIST_COLUMNS,
        rows=[{key: row[key] for key, _ in LIST_COLUMNS} for row in rows], totals=totals,
        provenance=Provenance("etat", json.dumps(
            {"criteria": _plain(criteria), "description": description}, ensure_ascii=False), [
            RecordVersion("operation", str(row["id"]), row["version"]) for row in rows]))
    return _seal(document)


def current_versions(db: Database, records: list[RecordVersion]) -> dict[tuple[str, str], int]:
    """The versions now in the database of the records a document was made from."""
    from db.models import Base

    tables = {mapper.class_.__tablename__: mapper.class_ for mapper in Base.registry.mappers}
    found: dict[tuple[str, str], int] = {}
    with db.read() as session:
        for entity in {r.entity for r in records}:
            model = tables[entity]
            ids = [uuid.UUID(r.id) for r in records if r.entity == entity]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                for record_id, version in session.execute(
                        select(model.id, model.version).where(model.id.in_(chunk))):
                    found[(entity, str(record_id))] = version
    return found


def rebuild(db: Database, provenance: Provenance) -> Any:
    """The same document made again from today's data (for verification)."""
    if provenance.kind == "etat":
        from db.lists import Criteria

        subject = json.loads(provenance.subject)
        values, description = subject["criteria"], subject["description"]
        if values.get("financer"):
            values["financer"] = uuid.UUID(values["financer"])
        if values.get("contract"):
            values["contract"] = uuid.UUID(values["contract"])
        return operations_list(db, Criteria(**values), description)
    if provenance.kind == "annexe":
        return annex(db, provenance.subject)
    if provenance.kind == "plan":
        return plan(db, provenance.subject)
    if provenance.kind == "synthese":
        return summary(db, provenance.subject)
    raise NotFoundError(f"Type de document inconnu : {provenance.kind}.")



# --- Verification of a printed document ---------------------------------------------------

@dataclass
class Verdict:
    matches: bool
    printed: str
    current: str | None
    changed: list[str]  # French descriptions of the records changed since the print

    def message(self) -> str:
        if self.matches:
            return (f"Le document correspond à la base : empreinte {self.printed}, aucune "
                    "fiche modifiée depuis son édition.")
        lines = [f"Le document ne correspond plus à la base (empreinte imprimée "
                 f"{self.printed}, empreinte actuelle {self.current or 'indisponible'})."]
        if self.changed:
            lines.append(f"{len(self.changed)} fiche(s) modifiée(s) ou supprimée(s) depuis :")
            lines += [f"  - {change}" for change in self.changed]
        return "\n".join(lines)


def _describe(session: Session, record: RecordVersion, now: int | None) -> str:
    record_id = uuid.UUID(record.id)
    names = {"operation": "opération", "contract": "contrat", "funding_line": "financement",
             "payment": "versement"}
    label = names.get(record.entity, record.entity)
    if record.entity == "operation":
        ref = session.scalar(select(Operation.reference).where(Operation.id == record_id))
    elif record.entity == "contract":
        ref = session.scalar(select(Contract.reference).where(Contract.id == record_id))
    elif record.entity == "funding_line":
        ref = session.scalar(select(Operation.reference).join(FundingLine)
                             .where(FundingLine.id == record_id))
        label = "financement de l'opération"
    elif record.entity == "payment":
        ref = session.scalar(select(Operation.reference).join(FundingLine).join(Payment)
                             .where(Payment.id == record_id))
        label = "versement de l'opération"
    else:
        ref = None
    label = f"{label} {ref}" if ref else label
    if now is None:
        return f"{label} : supprimé(e) depuis l'édition"
    return f"{label} : version {record.version} → {now}"


def check_document(db: Database, provenance: Provenance) -> Verdict:
    """Compare a printed document's provenance with the database today."""
    versions = current_versions(db, provenance.records)
    with db.read() as session:
        changed = [_describe(session, r, versions.get((r.entity, r.id)))
                   for r in provenance.records if versions.get((r.entity, r.id)) != r.version]
    try:
        current = rebuild(db, provenance).provenance.fingerprint
    except UserError:
        current = None
    return Verdict(not changed and current == provenance.fingerprint, provenance.fingerprint,
                   current, changed)
