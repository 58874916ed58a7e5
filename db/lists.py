"""The lists of the workspace: search, filters, sorting, paging and totals in SQL.

Each list is a :class:`ListQuery`: ``count``, ``page`` and ``totals`` take the
same :class:`Criteria`, so the footer always sums exactly the rows shown. Rows
come back as plain dicts keyed by column, never as ORM objects.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    case,
    func,
    or_,
    select,
    type_coerce,
    union,
)
from sqlalchemy.orm import aliased

from db import search
from db.database import Database
from db.models import (
    Commune,
    Contract,
    ContractType,
    Epci,
    FundingLine,
    FundingScheme,
    Money,
    Operation,
    OperationLink,
    Organisation,
    contract_commune,
    contract_epci,
    epci_member,
    operation_commune,
)
from db.money import round_cents
from db.text import normalize
from db.vocabulary import FundingStatus


@dataclass(frozen=True)
class Criteria:
    """What the agent asked for: free text and filters (None: no filter)."""

    search: str = ""
    arrondissement: str | None = None
    contract_type: str | None = None
    status: str | None = None
    commune: str | None = None
    epci: str | None = None
    financer: uuid.UUID | None = None
    scheme: str | None = None
    year: int | None = None
    contract: uuid.UUID | None = None

    def but(self, **changes: Any) -> Criteria:
        return replace(self, **changes)


@dataclass(frozen=True)
class ColumnSpec:
    key: str
    label: str
    kind: str = "text"  # text, money, date, int, status
    sort: Any = None  # SQL expression to sort on; None: not sortable
    width: int = 120
    tooltip: str | None = None
    unknown: str = "non communiqué"  # how an empty amount reads in this column


@dataclass
class ListQuery:
    name: str
    columns: list[ColumnSpec]
    base: Callable[[Database], Select]  # select of the row columns, labelled by key
    condition: Callable[[Database, Criteria], list[ColumnElement[bool]]]
    totals_select: Callable[[Database], Select]  # aggregates over the filtered ids
    id_column: Any
    default_sort: str = "reference"
    filters: tuple[str, ...] = ()
    # Columns computed from the others once the page is read (e.g. per inhabitant).
    post: Callable[[dict[str, Any]], None] | None = None
    territorial: bool = True  # whether the arrondissement scope applies
    # Columns computed for the page's rows in one more query (e.g. EPCI totals).
    enrich: Callable[[Database, list[dict[str, Any]]], None] | None = None
    filter_labels: dict[str, str] | None = None

    def _where(self, db: Database, criteria: Criteria) -> list[ColumnElement[bool]]:
        return [c for c in self.condition(db, criteria) if c is not None]

    def count(self, db: Database, criteria: Criteria) -> int:
        query = select(func.count()).select_from(
            select(self.id_column).where(*self._where(db, criteria)).subquery())
        with db.read() as session:
            return session.scalar(query)

    def page(self, db: Database, criteria: Criteria, *, sort: str | None = None,
             descending: bool = False, offset: int = 0, limit: int | None = 200
             ) -> list[dict[str, Any]]:
        columns = {c.key: c for c in self.columns}
        key = sort if sort in columns and columns[sort].sort is not None else self.default_sort
        order = columns[key].sort
        ordering = [order.desc() if descending else order.asc()]
        if key != self.default_sort:  # a stable order among equal values
            ordering.append(columns[self.default_sort].sort.asc())
        query = (self.base(db).where(*self._where(db, criteria)).order_by(*ordering)
                 .offset(offset))
        if limit is not None:
            query = query.limit(limit)
        with db.read() as session:
            # Core, not ORM, execution: these are plain columns, and the ORM's result
            # machinery doubled the time of reading 100 000 rows (exports).
            rows = [dict(row._mapping) for row in session.connection().execute(query)]
        if self.post:
            for row in rows:
                self.post(row)
        if self.enrich and rows:
            self.enrich(db, rows)
        return rows

    def totals(self, db: Database, criteria: Criteria) -> dict[str, Any]:
        """Count and sums of the rows matching *criteria* (the footer of the list)."""
        query = self.totals_select(db).where(*self._where(db, criteria))
        with db.read() as session:
            row = session.execute(query).one()
        return dict(row._mapping)


def _money_sum(expression) -> ColumnElement:
    return func.sum(expression, type_=Money())


def _zero_money(expression) -> ColumnElement:
    return func.coalesce(expression, 0, type_=Money())


def _string_agg(db: Database, expression) -> ColumnElement:
    if db.is_sqlite:
        return func.group_concat(expression, ", ")
    return func.string_agg(expression, ", ")


def _year_range(column, year: int) -> ColumnElement[bool]:
    return and_(column >= date(year, 1, 1), column <= date(year, 12, 31))


def base_cost() -> ColumnElement:
    return case((Operation.base_kind == "TTC", Operation.cost_ttc), else_=Operation.cost_ht)


# --- Conditions on operations (shared by the operation and funding-line lists) ------

def _operation_ids_in_arrondissement(code: str) -> Select:
    by_commune = (select(operation_commune.c.operation_id)
                  .join(Commune, Commune.code == operation_commune.c.commune_code)
                  .where(Commune.arrondissement_code == code))
    by_contract = (select(OperationLink.operation_id)
                   .join(Contract, Contract.id == OperationLink.contract_id)
                   .where(Contract.arrondissement_code == code))
    return by_commune.union(by_contract)


def operation_conditions(db: Database, c: Criteria, *, with_status: bool = True
                         ) -> list[ColumnElement[bool] | None]:
    conditions: list[ColumnElement[bool] | None] = [
        search.matches("operation", Operation.search_document, c.search, db.is_sqlite)]
    if c.arrondissement:
        conditions.append(Operation.id.in_(_operation_ids_in_arrondissement(c.arrondissement)))
    if c.status and with_status:
        conditions.append(Operation.status == c.status)
    if c.commune:
        conditions.append(Operation.id.in_(
            select(operation_commune.c.operation_id)
            .where(operation_commune.c.commune_code == c.commune)))
    if c.epci:
        conditions.append(Operation.id.in_(
            select(operation_commune.c.operation_id)
            .join(epci_member, epci_member.c.commune_code == operation_commune.c.commune_code)
            .where(epci_member.c.epci_code == c.epci)))
    if c.contract_type:
        conditions.append(Operation.id.in_(
            select(OperationLink.operation_id)
            .join(Contract, Contract.id == OperationLink.contract_id)
            .join(ContractType, ContractType.id == Contract.type_id)
            .where(ContractType.code == c.contract_type)))
    if c.contract:
        conditions.append(Operation.id.in_(
            select(OperationLink.operation_id).where(OperationLink.contract_id == c.contract)))
    return conditions


def line_conditions(c: Criteria) -> list[ColumnElement[bool]]:
    conditions = []
    if c.financer:
        conditions.append(FundingLine.financer_id == c.financer)
    if c.scheme:
        conditions.append(FundingLine.scheme_code == c.scheme)
    return conditions


# --- Operations ----------------------------------------------------------------

def _operations_base(db: Database) -> Select:
    owner = aliased(Organisation, name="owner")
    communes = (select(_string_agg(db, Commune.name))
                .select_from(operation_commune)
                .join(Commune, Commune.code == operation_commune.c.commune_code)
                .where(operation_commune.c.operation_id == Operation.id)
                .scalar_subquery())
    contracts = (select(_string_agg(db, Contract.reference))
                 .select_from(OperationLink)
                 .join(Contract, Contract.id == OperationLink.contract_id)
                 .where(OperationLink.operation_id == Operation.id)
                 .scalar_subquery())
    return (select(Operation.id.label("id"), Operation.version.label("version"),
                   Operation.reference.label("reference"), Operation.title.label("title"),
                   owner.name.label("owner"), communes.label("communes"),
                   contracts.label("contracts"), Operation.status.label("status"),
                   Operation.deposit_date.label("deposit_date"), base_cost().label("cost"),
                   Operation.granted_total.label("granted"), Operation.paid_total.label("paid"),
                   _remaining().label("remaining"))
            .outerjoin(owner, owner.id == Operation.owner_id))


def _remaining() -> ColumnElement:
    """Granted minus paid (NULL when no granted amount is known), computed in cents."""
    return as_money(Operation.__table__.c.granted_total_cents
                    - Operation.__table__.c.paid_total_cents)


def as_money(expression) -> ColumnElement:
    """Cents arithmetic read back as Decimal euros."""
    return type_coerce(expression, Money())


def _operation_list_conditions(db: Database, c: Criteria) -> list:
    conditions = operation_conditions(db, c)
    lines = line_conditions(c)
    if c.year:
        lines.append(FundingLine.budget_year == c.year)
    if lines:
        conditions.append(Operation.id.in_(select(FundingLine.operation_id).where(*lines)))
    return conditions


def _operations_totals(db: Database) -> Select:
    remaining = func.sum(Operation.__table__.c.granted_total_cents
                         - Operation.__table__.c.paid_total_cents, type_=Money())
    return select(func.count().label("count"), _money_sum(base_cost()).label("cost"),
                  _money_sum(Operation.granted_total).label("granted"),
                  _money_sum(Operation.paid_total).label("paid"),
                  remaining.label("remaining"))


OPERATIONS = ListQuery(
    name="operations",
    columns=[
        ColumnSpec("reference", "Référence", sort=Operation.reference, width=170),
        ColumnSpec("title", "Intitulé", sort=Operation.title, width=300),
        ColumnSpec("owner", "Maître d'ouvrage", width=190,
                   sort=select(Organisation.sort_name)
                   .where(Organisation.id == Operation.owner_id).scalar_subquery()),
        ColumnSpec("communes", "Communes", width=140),
        ColumnSpec("contracts", "Contrats", width=140),
        ColumnSpec("status", "Statut", kind="status", sort=Operation.status, width=90),
        ColumnSpec("deposit_date", "Dépôt", kind="date", sort=Operation.deposit_date,
                   width=90, tooltip="Date de dépôt du dossier"),
        ColumnSpec("cost", "Coût", kind="money", sort=base_cost(), width=130,
                   tooltip="Coût de la base financée (HT ou TTC)"),
        ColumnSpec("granted", "Accordé", kind="money", sort=Operation.granted_total, width=125),
        ColumnSpec("paid", "Versé", kind="money", sort=Operation.paid_total, width=115),
        ColumnSpec("remaining", "Reste à verser", kind="money", width=125,
                   sort=_remaining()),
    ],
    base=_operations_base, condition=_operation_list_conditions,
    totals_select=_operations_totals, id_column=Operation.id,
    filters=("status", "contract_type", "commune", "epci", "financer", "scheme", "year"),
)


# --- Contracts -----------------------------------------------------------------

def _contracts_base(db: Database) -> Select:
    # Per-contract sums as correlated subqueries: computed for the page's rows only.
    def per_contract(expression):
        return (select(expression).select_from(OperationLink)
                .join(Operation, Operation.id == OperationLink.operation_id)
                .where(OperationLink.contract_id == Contract.id).scalar_subquery())

    return (select(Contract.id.label("id"), Contract.version.label("version"),
                   Contract.reference.label("reference"), Contract.title.label("title"),
                   ContractType.label.label("type"), Contract.status.label("status"),
                   Contract.signature_date.label("signature_date"),
                   Contract.end_date.label("end_date"),
                   per_contract(func.count()).label("operations"),
                   per_contract(_money_sum(base_cost())).label("cost"),
                   per_contract(_money_sum(Operation.granted_total)).label("granted"),
                   per_contract(_zero_money(_money_sum(Operation.paid_total))).label("paid"))
            .join(ContractType, ContractType.id == Contract.type_id))


def contract_in_arrondissement(code: str) -> ColumnElement[bool]:
    by_communes = (select(contract_commune.c.contract_id)
                   .join(Commune, Commune.code == contract_commune.c.commune_code)
                   .where(Commune.arrondissement_code == code))
    by_epci = (select(contract_epci.c.contract_id)
               .join(epci_member, epci_member.c.epci_code == contract_epci.c.epci_code)
               .join(Commune, Commune.code == epci_member.c.commune_code)
               .where(Commune.arrondissement_code == code))
    by_operations = (select(OperationLink.contract_id)
                     .join(operation_commune,
                           operation_commune.c.operation_id == OperationLink.operation_id)
                     .join(Commune, Commune.code == operation_commune.c.commune_code)
                     .where(Commune.arrondissement_code == code))
    return or_(Contract.arrondissement_code == code,
               Contract.id.in_(union(by_communes, by_epci, by_operations)))


def _contract_conditions(db: Database, c: Criteria) -> list:
    conditions: list = [search.matches("contract", Contract.search_document, c.search,
                                       db.is_sqlite)]
    if c.arrondissement:
        conditions.append(contract_in_arrondissement(c.arrondissement))
    if c.status:
        conditions.append(Contract.status == c.status)
    if c.contract_type:
        conditions.append(Contract.type_id.in_(
            select(ContractType.id).where(ContractType.code == c.contract_type)))
    if c.commune:
        conditions.append(Contract.id.in_(
            select(contract_commune.c.contract_id)
            .where(contract_commune.c.commune_code == c.commune)
            .union(select(OperationLink.contract_id)
                   .join(operation_commune,
                         operation_commune.c.operation_id == OperationLink.operation_id)
                   .where(operation_commune.c.commune_code == c.commune))))
    if c.epci:
        conditions.append(Contract.id.in_(
            select(contract_epci.c.contract_id).where(contract_epci.c.epci_code == c.epci)))
    if c.year:
        conditions.append(or_(_year_range(Contract.signature_date, c.year),
                              and_(Contract.signature_date.is_(None),
                                   _year_range(Contract.start_date, c.year))))
    if c.financer or c.scheme:
        conditions.append(Contract.id.in_(
            select(OperationLink.contract_id)
            .join(FundingLine, FundingLine.operation_id == OperationLink.operation_id)
            .where(*line_conditions(c))))
    return conditions


def contract_totals(db: Database, criteria: Criteria) -> dict[str, Any]:
    """Sums over the operations of the listed contracts, each operation counted once
    even when it belongs to several of them."""
    ids = select(Contract.id).where(*[c for c in _contract_conditions(db, criteria)
                                      if c is not None])
    operations = Operation.id.in_(
        select(OperationLink.operation_id).where(OperationLink.contract_id.in_(ids)))
    remaining = func.sum(Operation.__table__.c.granted_total_cents
                         - Operation.__table__.c.paid_total_cents, type_=Money())
    query = select(_money_sum(base_cost()).label("cost"),
                   _money_sum(Operation.granted_total).label("granted"),
                   _money_sum(Operation.paid_total).label("paid"),
                   remaining.label("remaining")).where(operations)
    with db.read() as session:
        count = session.scalar(select(func.count()).select_from(ids.subquery()))
        row = session.execute(query).one()
    return {"count": count, **row._mapping}


class ContractListQuery(ListQuery):
    def totals(self, db: Database, criteria: Criteria) -> dict[str, Any]:
        return contract_totals(db, criteria)


CONTRACTS = ContractListQuery(
    name="contracts",
    columns=[
        ColumnSpec("reference", "Référence", sort=Contract.reference, width=190),
        ColumnSpec("title", "Intitulé", sort=Contract.title, width=240),
        ColumnSpec("type", "Type", sort=ContractType.label, width=200,
                   tooltip="Type de contrat"),
        ColumnSpec("status", "Statut", kind="status", sort=Contract.status, width=95),
        ColumnSpec("signature_date", "Signature", kind="date", sort=Contract.signature_date,
                   width=90, tooltip="Date de signature"),
        ColumnSpec("end_date", "Fin", kind="date", sort=Contract.end_date, width=90,
                   tooltip="Date de fin"),
        ColumnSpec("operations", "Opérations", kind="int", width=96,
                   tooltip="Nombre d'opérations"),
        ColumnSpec("cost", "Coût des opérations", kind="money", width=150),
        ColumnSpec("granted", "Accordé", kind="money", width=135,
                   tooltip="Financements accordés"),
        ColumnSpec("paid", "Versé", kind="money", width=120),
    ],
    base=_contracts_base, condition=_contract_conditions,
    totals_select=lambda db: select(func.count().label("count")).select_from(Contract),
    id_column=Contract.id,
    filters=("status", "contract_type", "commune", "epci", "financer", "scheme", "year"),
)


# --- Funding lines (Financements) -------------------------------------------------

def _lines_base(db: Database) -> Select:
    financer = aliased(Organisation, name="financer")
    return (select(FundingLine.id.label("id"), Operation.id.label("operation_id"),
                   Operation.version.label("version"),
                   Operation.reference.label("reference"), Operation.title.label("title"),
                   financer.name.label("financer"), _scheme_name().label("scheme"),
                   FundingLine.status.label("status"),
                   FundingLine.budget_year.label("budget_year"),
                   FundingLine.decision_date.label("decision_date"),
                   FundingLine.amount_requested.label("requested"),
                   FundingLine.amount_granted.label("granted"),
                   FundingLine.paid_total.label("paid"),
                   _line_remaining().label("remaining"))
            .join(Operation, Operation.id == FundingLine.operation_id)
            .outerjoin(financer, financer.id == FundingLine.financer_id))


def _scheme_name() -> ColumnElement:
    """The dispositif as agents name it ("Fonds vert"), never its code."""
    return (select(func.coalesce(FundingScheme.short_label, FundingScheme.label))
            .where(FundingScheme.code == FundingLine.scheme_code).scalar_subquery())


def _line_remaining() -> ColumnElement:
    granted = FundingLine.__table__.c.amount_granted_cents
    paid = FundingLine.__table__.c.paid_total_cents
    return as_money(case((FundingLine.status == FundingStatus.GRANTED.value, granted - paid),
                         else_=None))


def _lines_conditions(db: Database, c: Criteria) -> list:
    # Conditions on the operation go through its id, so that counting and summing
    # the lines needs no join.
    on_operation = [x for x in operation_conditions(db, c, with_status=False) if x is not None]
    conditions = [FundingLine.operation_id.in_(select(Operation.id).where(*on_operation))
                  ] if on_operation else []
    conditions += line_conditions(c)
    if c.status:
        conditions.append(FundingLine.status == c.status)
    if c.year:
        conditions.append(FundingLine.budget_year == c.year)
    return conditions


def _lines_totals(db: Database) -> Select:
    granted = case((FundingLine.status == FundingStatus.GRANTED.value,
                    FundingLine.__table__.c.amount_granted_cents), else_=None)
    return (select(func.count().label("count"),
                   _money_sum(FundingLine.amount_requested).label("requested"),
                   func.sum(granted, type_=Money()).label("granted"),
                   _money_sum(FundingLine.paid_total).label("paid"),
                   func.sum(_line_remaining(), type_=Money()).label("remaining"))
            .select_from(FundingLine))


class LineListQuery(ListQuery):
    def count(self, db: Database, criteria: Criteria) -> int:
        query = select(func.count()).select_from(FundingLine).where(*self._where(db, criteria))
        with db.read() as session:
            return session.scalar(query)


FUNDING_LINES = LineListQuery(
    name="funding_lines",
    columns=[
        ColumnSpec("reference", "Opération", sort=Operation.reference, width=160),
        ColumnSpec("title", "Intitulé", sort=Operation.title, width=260),
        ColumnSpec("financer", "Financeur", width=190,
                   sort=select(Organisation.sort_name)
                   .where(Organisation.id == FundingLine.financer_id).scalar_subquery()),
        ColumnSpec("scheme", "Dispositif", sort=_scheme_name(), width=130),
        ColumnSpec("status", "Statut", kind="line_status", sort=FundingLine.status, width=85),
        ColumnSpec("budget_year", "Exercice", kind="int", sort=FundingLine.budget_year,
                   width=75),
        ColumnSpec("decision_date", "Décision", kind="date", sort=FundingLine.decision_date,
                   width=90),
        ColumnSpec("requested", "Sollicité", kind="money", sort=FundingLine.amount_requested,
                   width=125),
        ColumnSpec("granted", "Accordé", kind="money", sort=FundingLine.amount_granted,
                   width=125, unknown="—"),
        ColumnSpec("paid", "Versé", kind="money", sort=FundingLine.paid_total, width=115),
        ColumnSpec("remaining", "Reste à verser", kind="money", sort=_line_remaining(),
                   width=125, unknown="—"),
    ],
    base=_lines_base, condition=_lines_conditions, totals_select=_lines_totals,
    id_column=FundingLine.id,
    filters=("status", "contract_type", "commune", "epci", "financer", "scheme", "year"),
)


# --- Organisations (Acteurs) -------------------------------------------------------

def _organisations_base(db: Database) -> Select:
    owned = (select(func.count()).select_from(Operation)
             .where(Operation.owner_id == Organisation.id).scalar_subquery())
    financed = (select(func.count()).select_from(FundingLine)
                .where(FundingLine.financer_id == Organisation.id).scalar_subquery())
    granted = (select(_zero_money(_money_sum(FundingLine.amount_granted)))
               .where(FundingLine.financer_id == Organisation.id,
                      FundingLine.status == FundingStatus.GRANTED.value).scalar_subquery())
    return select(Organisation.id.label("id"), Organisation.version.label("version"),
                  Organisation.name.label("name"), Organisation.kind.label("kind"),
                  Organisation.acronym.label("acronym"),
                  owned.label("owned"), financed.label("financed"), granted.label("granted"))


def _organisation_conditions(db: Database, c: Criteria) -> list:
    conditions: list = [search.matches("organisation", Organisation.search_document,
                                       c.search, db.is_sqlite)]
    if c.status:
        conditions.append(Organisation.kind == c.status)
    if c.commune:
        conditions.append(Organisation.commune_code == c.commune)
    if c.epci:
        conditions.append(Organisation.epci_code == c.epci)
    return conditions


ORGANISATIONS = ListQuery(
    name="organisations",
    columns=[
        ColumnSpec("name", "Nom", sort=Organisation.sort_name, width=360),
        ColumnSpec("acronym", "Sigle", sort=Organisation.acronym, width=100),
        ColumnSpec("kind", "Nature", kind="kind", sort=Organisation.kind, width=170),
        ColumnSpec("owned", "Maître d'ouvrage", kind="int", width=130,
                   tooltip="Nombre d'opérations dont elle est maître d'ouvrage"),
        ColumnSpec("financed", "Financements", kind="int", width=110,
                   tooltip="Nombre de lignes de financement qu'elle porte"),
        ColumnSpec("granted", "Accordé", kind="money", width=150,
                   tooltip="Total accordé en tant que financeur"),
    ],
    base=_organisations_base, condition=_organisation_conditions, territorial=False,
    totals_select=lambda db: select(func.count().label("count")).select_from(Organisation),
    id_column=Organisation.id, default_sort="name", filters=("status",),
    filter_labels={"status": "Nature"},
)


# --- Territory: communes and EPCI of the arrondissement, with their totals -----------

def _communes_base(db: Database) -> Select:
    def per_commune(expression):
        return (select(expression).select_from(operation_commune)
                .join(Operation, Operation.id == operation_commune.c.operation_id)
                .where(operation_commune.c.commune_code == Commune.code).scalar_subquery())

    return select(Commune.code.label("id"), Commune.code.label("code"),
                  Commune.name.label("name"), Commune.population.label("population"),
                  per_commune(func.count()).label("operations"),
                  per_commune(_money_sum(base_cost())).label("cost"),
                  per_commune(_money_sum(Operation.granted_total)).label("granted"),
                  per_commune(_zero_money(_money_sum(Operation.paid_total))).label("paid"))


def _commune_row(row: dict[str, Any]) -> None:
    if not row["operations"]:  # no operation at all: 0 €, not "unknown"
        row["cost"] = row["granted"] = Decimal("0.00")
    row["per_inhabitant"] = per_inhabitant(row["granted"], row["population"])


def _commune_conditions(db: Database, c: Criteria) -> list:
    conditions: list = []
    if c.arrondissement:
        conditions.append(Commune.arrondissement_code == c.arrondissement)
    if c.epci:
        conditions.append(Commune.code.in_(
            select(epci_member.c.commune_code).where(epci_member.c.epci_code == c.epci)))
    if c.search:
        # A few hundred communes at most: plain matching on their names is instant.
        names = [code for code, name in _commune_names(db, c.arrondissement)
                 if all(word in normalize(name) or word in code for word in
                        search.words(c.search))]
        conditions.append(Commune.code.in_(names or [""]))
    return conditions


def _commune_names(db: Database, arrondissement: str | None) -> list[tuple[str, str]]:
    query = select(Commune.code, Commune.name)
    if arrondissement:
        query = query.where(Commune.arrondissement_code == arrondissement)
    with db.read() as session:
        return [tuple(row) for row in session.execute(query)]


COMMUNES = ListQuery(
    name="communes",
    columns=[
        ColumnSpec("code", "Code INSEE", sort=Commune.code, width=95),
        ColumnSpec("name", "Commune", sort=Commune.sort_name, width=240),
        ColumnSpec("population", "Population", kind="int", sort=Commune.population, width=100),
        ColumnSpec("operations", "Opérations", kind="int", width=95),
        ColumnSpec("cost", "Coût", kind="money", width=140),
        ColumnSpec("granted", "Accordé", kind="money", width=140),
        ColumnSpec("paid", "Versé", kind="money", width=130),
        ColumnSpec("per_inhabitant", "Accordé par habitant", kind="money", width=170),
    ],
    base=_communes_base, condition=_commune_conditions,
    totals_select=lambda db: select(func.count().label("count"),
                                    func.sum(Commune.population).label("population")),
    id_column=Commune.code, default_sort="name",
    post=_commune_row,
)


def _epci_base(db: Database) -> Select:
    return select(Epci.code.label("id"), Epci.code.label("code"), Epci.name.label("name"),
                  Epci.kind.label("kind"), Epci.population.label("population"))


def _epci_totals(db: Database, rows: list[dict[str, Any]]) -> None:
    """Totals of the operations in member communes, for the EPCI of the page only;
    an operation in several member communes counts once."""
    codes = [row["code"] for row in rows]
    pairs = (select(epci_member.c.epci_code.label("epci"),
                    operation_commune.c.operation_id.label("operation"))
             .join(operation_commune,
                   operation_commune.c.commune_code == epci_member.c.commune_code)
             .where(epci_member.c.epci_code.in_(codes)).distinct().subquery())
    query = (select(pairs.c.epci, func.count(), _money_sum(base_cost()),
                    _money_sum(Operation.granted_total), _money_sum(Operation.paid_total))
             .join(Operation, Operation.id == pairs.c.operation).group_by(pairs.c.epci))
    with db.read() as session:
        sums = {code: rest for code, *rest in session.execute(query)}
    for row in rows:
        count, cost, granted, paid = sums.get(row["code"], (0, None, None, None))
        zero = Decimal("0.00")
        row.update(operations=count, cost=cost if count else zero,
                   granted=granted if count else zero, paid=paid or zero,
                   per_inhabitant=per_inhabitant(granted if count else zero, row["population"]))


def _epci_conditions(db: Database, c: Criteria) -> list:
    conditions: list = []
    if c.arrondissement:
        conditions.append(Epci.code.in_(
            select(epci_member.c.epci_code)
            .join(Commune, Commune.code == epci_member.c.commune_code)
            .where(Commune.arrondissement_code == c.arrondissement)))
    if c.search:
        wanted = search.words(c.search)
        with db.read() as session:
            codes = [code for code, name in session.execute(select(Epci.code, Epci.name))
                     if all(w in normalize(name) or w in code for w in wanted)]
        conditions.append(Epci.code.in_(codes or [""]))
    return conditions


EPCIS = ListQuery(
    name="epci",
    columns=[
        ColumnSpec("code", "SIREN", sort=Epci.code, width=100),
        ColumnSpec("name", "EPCI", sort=Epci.sort_name, width=330),
        ColumnSpec("kind", "Type", sort=Epci.kind, width=70),
        ColumnSpec("population", "Population", kind="int", sort=Epci.population, width=110),
        ColumnSpec("operations", "Opérations", kind="int", width=100,
                   tooltip="Opérations situées dans une commune membre"),
        ColumnSpec("cost", "Coût", kind="money", width=140),
        ColumnSpec("granted", "Accordé", kind="money", width=140),
        ColumnSpec("paid", "Versé", kind="money", width=130),
        ColumnSpec("per_inhabitant", "Accordé par habitant", kind="money", width=170),
    ],
    base=_epci_base, condition=_epci_conditions,
    totals_select=lambda db: select(func.count().label("count")).select_from(Epci),
    id_column=Epci.code, default_sort="name", enrich=_epci_totals,
)

LISTS = {q.name: q for q in (CONTRACTS, OPERATIONS, FUNDING_LINES, ORGANISATIONS, COMMUNES,
                             EPCIS)}


def per_inhabitant(granted: Decimal | None, population: int | None) -> Decimal | None:
    if granted is None or not population:
        return None
    return round_cents(granted / population)


# --- Choices for the filters ------------------------------------------------------

FILTER_KEYS = ("contract_type", "scheme", "commune", "epci", "financer", "year")


def filter_choices(db: Database, arrondissement: str | None,
                   keys: Iterable[str] = FILTER_KEYS) -> dict[str, list[tuple[str, Any]]]:
    """Label/value pairs for the filter boxes (communes and EPCI of the arrondissement);
    only the *keys* asked for are read (the GUI reads a box's choices when it opens)."""
    keys = set(keys)
    found: dict[str, list[tuple[str, Any]]] = {}
    with db.read() as session:
        def pairs(query) -> list[tuple[str, Any]]:
            return [tuple(row) for row in session.execute(query)]

        if "contract_type" in keys:
            found["contract_type"] = pairs(select(ContractType.label, ContractType.code)
                                           .order_by(ContractType.label))
        if "scheme" in keys:
            label = func.coalesce(FundingScheme.short_label, FundingScheme.label)
            found["scheme"] = pairs(select(label, FundingScheme.code).order_by(label))
        if "commune" in keys:
            communes = select(Commune.name, Commune.code).order_by(Commune.sort_name)
            if arrondissement:
                communes = communes.where(Commune.arrondissement_code == arrondissement)
            found["commune"] = pairs(communes)
        if "epci" in keys:
            epcis = select(Epci.name, Epci.code).order_by(Epci.sort_name)
            if arrondissement:
                epcis = epcis.where(Epci.code.in_(
                    select(epci_member.c.epci_code)
                    .join(Commune, Commune.code == epci_member.c.commune_code)
                    .where(Commune.arrondissement_code == arrondissement)))
            found["epci"] = pairs(epcis)
        if "financer" in keys:
            found["financer"] = pairs(
                select(Organisation.name, Organisation.id)
                .where(Organisation.id.in_(select(FundingLine.financer_id).distinct()))
                .order_by(Organisation.sort_name))
        if "year" in keys:
            years = sorted({y for (y,) in session.execute(
                select(FundingLine.budget_year).distinct()) if y}, reverse=True)
            found["year"] = [(str(y), y) for y in years]
    return found

