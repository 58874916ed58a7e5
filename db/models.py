"""The domain model (SQLAlchemy 2, typed).

Reference geography uses its official codes as keys (the same in every copy of
the database). Everything the agents create has a UUID key, so that a field
copy made offline can be merged back, a version counter for optimistic
locking and who/when columns filled by :mod:`db.audit`.
Money columns hold integer cents and read as ``Decimal`` euros.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    type_coerce,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    backref,
    declared_attr,
    mapped_column,
    relationship,
    validates,
)

from db.money import from_cents, to_cents
from db.naming import SORT_NAME_LENGTH, sort_name
from db.vocabulary import (
    ActKind,
    AttachmentKind,
    BaseKind,
    ContractStatus,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
    OwnShareException,
    PaymentKind,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Money(TypeDecorator[Decimal]):
    """Integer cents in the database, exact ``Decimal`` euros in Python.

    Never ``Numeric``: on SQLite it goes through float.
    """

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> int | None:
        return None if value is None else to_cents(value)

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else from_cents(value)


def raw_cents(expression: Any) -> Any:
    """A money column (or an expression over them) read as integer cents, not Decimal."""
    return type_coerce(expression, BigInteger)


def _sort_name_column(*, index: bool = False) -> Mapped[str | None]:
    """A name's French order key (db.naming.sort_name), compared byte by byte on every
    backend: a server collation such as fr_FR would skip its spaces and apostrophes."""
    return mapped_column(String(SORT_NAME_LENGTH).with_variant(
        String(SORT_NAME_LENGTH, collation="C"), "postgresql"), index=index)


def _check_in(column: str, enum_cls: type, name: str) -> CheckConstraint:
    """Enum codes are stored as plain strings; the CHECK lists the allowed codes."""
    codes = ", ".join(f"'{member.value}'" for member in enum_cls)
    return CheckConstraint(f"{column} IN ({codes})", name=name)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Tracked:
    """Columns every user-edited record carries."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    version: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    created_by: Mapped[str] = mapped_column(String(128), nullable=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    updated_by: Mapped[str] = mapped_column(String(128), nullable=False)

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805
        return {"version_id_col": cls.__table__.c.version}


# --- Reference geography (COG), keyed by official codes ----------------------

class Region(Base):
    __tablename__ = "region"
    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))


class Departement(Base):
    __tablename__ = "departement"
    code: Mapped[str] = mapped_column(String(3), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    region_code: Mapped[str] = mapped_column(ForeignKey("region.code"), index=True)


class Arrondissement(Base):
    __tablename__ = "arrondissement"
    code: Mapped[str] = mapped_column(String(4), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    departement_code: Mapped[str] = mapped_column(ForeignKey("departement.code"), index=True)
    chef_lieu: Mapped[str | None] = mapped_column(String(5))

    departement: Mapped[Departement] = relationship()


class Commune(Base):
    __tablename__ = "commune"
    code: Mapped[str] = mapped_column(String(5), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    departement_code: Mapped[str] = mapped_column(ForeignKey("departement.code"), index=True)
    arrondissement_code: Mapped[str | None] = mapped_column(
        ForeignKey("arrondissement.code"), index=True)
    siren: Mapped[str | None] = mapped_column(String(9))
    population: Mapped[int | None] = mapped_column(Integer)
    postal_codes: Mapped[str | None] = mapped_column(String(200))
    sort_name: Mapped[str | None] = _sort_name_column(index=True)

    @validates("name")
    def _keep_sort_name(self, key: str, value: str) -> str:
        self.sort_name = sort_name(value)
        return value


epci_member = Table(
    "epci_member", Base.metadata,
    Column("epci_code", ForeignKey("epci.code"), primary_key=True),
    Column("commune_code", ForeignKey("commune.code"), primary_key=True, index=True),
)


class Epci(Base):
    __tablename__ = "epci"
    code: Mapped[str] = mapped_column(String(9), primary_key=True)  # SIREN
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))  # CC, CA, CU, METRO, MET69
    financing_mode: Mapped[str | None] = mapped_column(String(8))
    population: Mapped[int | None] = mapped_column(Integer)
    sort_name: Mapped[str | None] = _sort_name_column()

    communes: Mapped[list[Commune]] = relationship(secondary=epci_member)

    @validates("name")
    def _keep_sort_name(self, key: str, value: str) -> str:
        self.sort_name = sort_name(value)
        return value


# --- Settings of this database (e.g. the office's arrondissement) ------------

class Setting(Base):
    __tablename__ = "app_setting"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


# --- Organisations (acteurs) ---------------------------------------------------

class Organisation(Tracked, Base):
    __tablename__ = "organisation"
    __table_args__ = (_check_in("kind", OrganisationKind, "kind"),)

    name: Mapped[str] = mapped_column(String(300), index=True)
    acronym: Mapped[str | None] = mapped_column(String(60))
    kind: Mapped[str] = mapped_column(String(32))
    siren: Mapped[str | None] = mapped_column(String(14))
    commune_code: Mapped[str | None] = mapped_column(ForeignKey("commune.code"), index=True)
    epci_code: Mapped[str | None] = mapped_column(ForeignKey("epci.code"), index=True)
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departement.code"))
    region_code: Mapped[str | None] = mapped_column(ForeignKey("region.code"))
    aliases: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    # The person the office deals with (printed among the contacts of a fiche synthèse).
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_role: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    search_document: Mapped[str] = mapped_column(Text, default="", server_default="")
    # French order of the names (db.naming), kept with the name by every write.
    sort_name: Mapped[str | None] = _sort_name_column(index=True)

    @validates("name")
    def _keep_sort_name(self, key: str, value: str) -> str:
        self.sort_name = sort_name(value)
        return value


# --- Catalogue ---------------------------------------------------------------

class ContractType(Tracked, Base):
    __tablename__ = "contract_type"
    code: Mapped[str] = mapped_column(String(40), unique=True)
    label: Mapped[str] = mapped_column(String(300))
    description: Mapped[str | None] = mapped_column(Text)
    default_duration_years: Mapped[int | None] = mapped_column(Integer)
    approach: Mapped[str | None] = mapped_column(String(60))
    typical_parties: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    builtin: Mapped[bool] = mapped_column(Boolean, default=False)


class FundingScheme(Base):
    """Dispositif de financement (DETR, DSIL, FEDER…)."""

    __tablename__ = "funding_scheme"
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    label: Mapped[str] = mapped_column(String(200))
    # What tables and documents print ("DETR", "Fonds vert", "Droit commun"): never the code.
    short_label: Mapped[str | None] = mapped_column(String(60))
    # DETR, DSIL, DPV, DSID: together capped at 80 % of the subsidisable expense.
    state_investment_grant: Mapped[bool] = mapped_column(Boolean, default=False)
    # Other State investment subsidies under décret 2018-514.
    state_subsidy: Mapped[bool] = mapped_column(Boolean, default=False)


# --- Contracts ---------------------------------------------------------------

contract_commune = Table(
    "contract_commune", Base.metadata,
    Column("contract_id", ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True),
    Column("commune_code", ForeignKey("commune.code"), primary_key=True, index=True),
)
contract_epci = Table(
    "contract_epci", Base.metadata,
    Column("contract_id", ForeignKey("contract.id", ondelete="CASCADE"), primary_key=True),
    Column("epci_code", ForeignKey("epci.code"), primary_key=True, index=True),
)


class Contract(Tracked, Base):
    __tablename__ = "contract"
    __table_args__ = (_check_in("status", ContractStatus, "status"),)

    reference: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    type_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("contract_type.id"), index=True)
    status: Mapped[str] = mapped_column(String(32),
                                        default=ContractStatus.PREPARATION)
    signature_date: Mapped[date | None] = mapped_column(Date)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    arrondissement_code: Mapped[str | None] = mapped_column(
        ForeignKey("arrondissement.code"), index=True)
    territory: Mapped[str | None] = mapped_column(Text)
    envelope_total: Mapped[Decimal | None] = mapped_column("envelope_total_cents", Money)
    envelope_state: Mapped[Decimal | None] = mapped_column("envelope_state_cents", Money)
    notes: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(32), default="saisie")
    source: Mapped[str | None] = mapped_column(Text)
    search_document: Mapped[str] = mapped_column(Text, default="", server_default="")

    contract_type: Mapped[ContractType] = relationship()
    axes: Mapped[list[Axis]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="Axis.position")
    signatories: Mapped[list[Signatory]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="Signatory.position")
    amendments: Mapped[list[Amendment]] = relationship(
        back_populates="contract", cascade="all, delete-orphan", order_by="Amendment.number")
    meetings: Mapped[list[SteeringMeeting]] = relationship(
        back_populates="contract", cascade="all, delete-orphan",
        order_by="SteeringMeeting.meeting_date")
    communes: Mapped[list[Commune]] = relationship(secondary=contract_commune)
    epcis: Mapped[list[Epci]] = relationship(secondary=contract_epci)


class Axis(Tracked, Base):
    __tablename__ = "axis"
    contract_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), index=True)
    number: Mapped[str | None] = mapped_column(String(20))
    label: Mapped[str] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer, default=0)

    contract: Mapped[Contract] = relationship(back_populates="axes")


class Signatory(Tracked, Base):
    __tablename__ = "signatory"
    contract_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("organisation.id"), index=True)
    role: Mapped[str | None] = mapped_column(String(300))
    signing_date: Mapped[date | None] = mapped_column(Date)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The person who signs (or follows the contract) for the organisation, and how to reach them.
    person_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))

    contract: Mapped[Contract] = relationship(back_populates="signatories")
    organisation: Mapped[Organisation] = relationship()


class Amendment(Tracked, Base):
    __tablename__ = "amendment"
    contract_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    amendment_date: Mapped[date | None] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(Text)
    envelope_change: Mapped[Decimal | None] = mapped_column("envelope_change_cents", Money)

    contract: Mapped[Contract] = relationship(back_populates="amendments")


class SteeringMeeting(Tracked, Base):
    __tablename__ = "steering_meeting"
    contract_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), index=True)
    meeting_date: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(120), default="comité de pilotage")
    decisions: Mapped[str | None] = mapped_column(Text)

    contract: Mapped[Contract] = relationship(back_populates="meetings")


# --- Operations and their funding --------------------------------------------

operation_commune = Table(
    "operation_commune", Base.metadata,
    Column("operation_id", ForeignKey("operation.id", ondelete="CASCADE"), primary_key=True),
    Column("commune_code", ForeignKey("commune.code"), primary_key=True, index=True),
)


class Operation(Tracked, Base):
    __tablename__ = "operation"
    __table_args__ = (
        _check_in("status", OperationStatus, "status"),
        _check_in("base_kind", BaseKind, "base_kind"),
        CheckConstraint(
            "own_share_exception IS NULL OR own_share_exception IN ("
            + ", ".join(f"'{m.value}'" for m in OwnShareException) + ")",
            name="own_share_exception"),
        # The footers of the lists add these up over thousands of operations: read
        # from this index alone, not from the wide rows (migration 0006).
        Index("ix_operation_amounts", "id", "base_kind", "cost_ht_cents", "cost_ttc_cents",
              "granted_total_cents", "paid_total_cents"),
    )

    reference: Mapped[str] = mapped_column(String(80), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    owner_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"), index=True)
    status: Mapped[str] = mapped_column(String(32),
                                        default=OperationStatus.PROJECT, index=True)
    cost_ht: Mapped[Decimal | None] = mapped_column("cost_ht_cents", Money)
    cost_ttc: Mapped[Decimal | None] = mapped_column("cost_ttc_cents", Money)
    # Which cost the financing plan balances against.
    base_kind: Mapped[str] = mapped_column(String(3), default=BaseKind.HT)
    # Dépense subventionnable (HT) for State dotations; the HT cost when empty.
    eligible_cost: Mapped[Decimal | None] = mapped_column("eligible_cost_cents", Money)
    deposit_date: Mapped[date | None] = mapped_column(Date)
    # The prefect's authorisation to start the works before the file is complete.
    early_start_date: Mapped[date | None] = mapped_column(Date)
    decision_date: Mapped[date | None] = mapped_column(Date)
    notification_date: Mapped[date | None] = mapped_column(Date)
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    # Extensions granted by the prefect (R2334-28: start, R2334-29: completion).
    start_extension_months: Mapped[int] = mapped_column(Integer, default=0)
    completion_extension_months: Mapped[int] = mapped_column(Integer, default=0)
    chef_de_file: Mapped[bool] = mapped_column(Boolean, default=False)
    own_share_exception: Mapped[str | None] = mapped_column(String(40))
    own_share_exception_ref: Mapped[str | None] = mapped_column(Text)
    notes: Mapped[str | None] = mapped_column(Text)
    origin: Mapped[str] = mapped_column(String(32), default="saisie")
    source: Mapped[str | None] = mapped_column(Text)
    search_document: Mapped[str] = mapped_column(Text, default="", server_default="")
    # Cached sums of the aggregate (granted lines, payments), kept by the services
    # so that lists sort and total 100 000 operations instantly; `check` verifies them.
    granted_total: Mapped[Decimal | None] = mapped_column("granted_total_cents", Money,
                                                          index=True)
    paid_total: Mapped[Decimal] = mapped_column("paid_total_cents", Money, default=0,
                                                server_default="0", index=True)

    owner: Mapped[Organisation | None] = relationship()
    communes: Mapped[list[Commune]] = relationship(secondary=operation_commune)
    links: Mapped[list[OperationLink]] = relationship(
        back_populates="operation", cascade="all, delete-orphan")
    funding_lines: Mapped[list[FundingLine]] = relationship(
        back_populates="operation", cascade="all, delete-orphan",
        order_by="FundingLine.position")
    expense_items: Mapped[list[ExpenseItem]] = relationship(
        back_populates="operation", cascade="all, delete-orphan",
        order_by="ExpenseItem.position")


class ExpenseItem(Tracked, Base):
    """A line of the expense side of the plan (poste de dépense); optional, but once
    recorded their sums must equal the operation's costs."""

    __tablename__ = "expense_item"
    __table_args__ = (
        CheckConstraint("amount_ht_cents >= 0", name="ht_positive"),
        CheckConstraint("amount_ttc_cents IS NULL OR amount_ttc_cents >= 0",
                        name="ttc_positive"),
    )

    operation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("operation.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(300))
    amount_ht: Mapped[Decimal] = mapped_column("amount_ht_cents", Money)
    amount_ttc: Mapped[Decimal | None] = mapped_column("amount_ttc_cents", Money)
    # Counted in the dépense subventionnable of the State dotations.
    eligible: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)

    operation: Mapped[Operation] = relationship(back_populates="expense_items")


class OperationLink(Base):
    """An operation belongs to a contract, optionally under one of its axes."""

    __tablename__ = "operation_contract"
    # The operations of given contracts, read from the index alone (contract totals).
    __table_args__ = (Index("ix_operation_contract_contract_operation",
                            "contract_id", "operation_id"),)
    operation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("operation.id", ondelete="CASCADE"), primary_key=True)
    contract_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("contract.id"), primary_key=True)
    axis_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("axis.id"), index=True)

    operation: Mapped[Operation] = relationship(back_populates="links")
    contract: Mapped[Contract] = relationship()
    axis: Mapped[Axis | None] = relationship()


class FundingLine(Tracked, Base):
    __tablename__ = "funding_line"
    __table_args__ = (
        _check_in("status", FundingStatus, "status"),
        CheckConstraint("amount_requested_cents IS NULL OR amount_requested_cents >= 0",
                        name="requested_positive"),
        CheckConstraint("amount_granted_cents IS NULL OR amount_granted_cents >= 0",
                        name="granted_positive"),
        Index("ix_funding_line_financer_scheme", "financer_id", "scheme_code"),
    )

    operation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("operation.id", ondelete="CASCADE"), index=True)
    # NULL: the source does not name the financer ("financeur non précisé").
    financer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("organisation.id"))
    scheme_code: Mapped[str | None] = mapped_column(ForeignKey("funding_scheme.code"), index=True)
    amount_requested: Mapped[Decimal | None] = mapped_column("amount_requested_cents", Money)
    amount_granted: Mapped[Decimal | None] = mapped_column("amount_granted_cents", Money)
    status: Mapped[str] = mapped_column(String(32),
                                        default=FundingStatus.REQUESTED)
    decision_reference: Mapped[str | None] = mapped_column(String(120))
    decision_date: Mapped[date | None] = mapped_column(Date)
    # Caducité of a State subsidy runs from its notification (R2334-28, décret 2018-514).
    notification_date: Mapped[date | None] = mapped_column(Date)
    # Décret 2018-514: the completion date the decision sets (its art. 8, 4°).
    planned_completion_date: Mapped[date | None] = mapped_column(Date)
    commission_opinion_date: Mapped[date | None] = mapped_column(Date)
    budget_year: Mapped[int | None] = mapped_column(Integer, index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    notes: Mapped[str | None] = mapped_column(Text)
    # Cached sum of the payments (db.services.caches), verified by `check`.
    paid_total: Mapped[Decimal] = mapped_column("paid_total_cents", Money, default=0,
                                                server_default="0")

    operation: Mapped[Operation] = relationship(back_populates="funding_lines")
    financer: Mapped[Organisation | None] = relationship()
    scheme: Mapped[FundingScheme | None] = relationship()
    # Deleting a line that has payments is refused by the services; the cascade
    # only serves removing a payment from its line.
    payments: Mapped[list[Payment]] = relationship(
        back_populates="funding_line", cascade="all, delete-orphan",
        order_by="Payment.payment_date")


class Payment(Tracked, Base):
    __tablename__ = "payment"
    __table_args__ = (
        _check_in("kind", PaymentKind, "kind"),
        CheckConstraint("amount_cents > 0", name="amount_positive"),
    )

    funding_line_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("funding_line.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    payment_date: Mapped[date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column("amount_cents", Money)
    reference: Mapped[str | None] = mapped_column(String(120))

    funding_line: Mapped[FundingLine] = relationship(back_populates="payments")


# --- Audit trail -------------------------------------------------------------

class AuditEntry(Base):
    """One write to one record: who, when, what changed (old -> new).

    A deletion keeps the record's last values, so that a later merge of an
    offline copy knows it was deleted and not merely absent.
    """

    __tablename__ = "audit_entry"
    __table_args__ = (Index("ix_audit_entry_entity", "entity", "entity_id"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    login: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(16))  # insert, update, delete
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str] = mapped_column(String(80))
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)
    batch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    # Where the write came from: "saisie" (an editor), "import", "terrain" (a field copy
    # merged back, its id in batch_id), "restauration"… (db.audit, session.info).
    origin: Mapped[str | None] = mapped_column(String(40))


# --- Field copies (db.field) ---------------------------------------------------

class FieldCopy(Base):
    """A field copy taken from this base (role "sortie", in the office base) or the copy
    this base is (role "copie", in the laptop's file); the same id on both sides."""

    __tablename__ = "field_copy"
    __table_args__ = (CheckConstraint("role IN ('sortie', 'copie')", name="role"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    role: Mapped[str] = mapped_column(String(8))
    office_id: Mapped[str] = mapped_column(String(36))  # the office base's identifier
    office_label: Mapped[str] = mapped_column(String(500))
    scope: Mapped[dict[str, Any]] = mapped_column(JSON)
    taken_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    taken_by: Mapped[str] = mapped_column(String(128))
    file_name: Mapped[str] = mapped_column(String(500))
    schema_revision: Mapped[str] = mapped_column(String(32))
    # sha256 of the base state written in the copy: an altered copy is refused.
    base_digest: Mapped[str] = mapped_column(String(64))
    counts: Mapped[dict[str, Any]] = mapped_column(JSON)
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    checked_in_by: Mapped[str | None] = mapped_column(String(128))
    report: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class FieldCopyRecord(Base):
    """A record out on the terrain in a copy not yet brought back (a mark, not a lock)."""

    __tablename__ = "field_copy_record"
    __table_args__ = (Index("ix_field_copy_record_entity", "entity", "record_id"),)

    copy_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("field_copy.id", ondelete="CASCADE"), primary_key=True)
    entity: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(80), primary_key=True)


class FieldBase(Base):
    """In a field copy: each record's values when it was taken (the base of the
    three-way merge), as stored in the office (cents, ISO dates, hexadecimal ids)."""

    __tablename__ = "field_base"

    entity: Mapped[str] = mapped_column(String(64), primary_key=True)
    record_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)


class FieldConflict(Base):
    """What a check-in could not settle alone, waiting for a person: a field changed
    differently on both sides ("champ"), an edit against a deletion ("suppression"), or
    a record created on the terrain that looks like one of the office ("doublon")."""

    __tablename__ = "field_conflict"
    __table_args__ = (
        CheckConstraint("kind IN ('champ', 'suppression', 'doublon')", name="kind"),
        CheckConstraint("status IN ('ouvert', 'résolu')", name="status"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    number: Mapped[int] = mapped_column(Integer, unique=True)  # what the agent types
    copy_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("field_copy.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    entity: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(String(80))
    reference: Mapped[str | None] = mapped_column(String(300))
    field: Mapped[str | None] = mapped_column(String(64))
    base: Mapped[Any | None] = mapped_column(JSON)
    terrain: Mapped[Any | None] = mapped_column(JSON)
    bureau: Mapped[Any | None] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="ouvert", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_by: Mapped[str | None] = mapped_column(String(128))
    resolution: Mapped[str | None] = mapped_column(String(16))  # terrain, bureau, saisie


# --- Programmation: envelopes and simulations (db.programming) -------------------

class Envelope(Tracked, Base):
    """The amount of a dotation notified for a year and a perimeter (a département or an
    arrondissement); an arrondissement's envelope is delegated from its département's
    (``parent_id``). Office work: it does not travel in a field copy."""

    __tablename__ = "envelope"
    __table_args__ = (
        CheckConstraint("(departement_code IS NULL) <> (arrondissement_code IS NULL)",
                        name="perimeter"),
        CheckConstraint("amount_cents >= 0", name="amount_positive"),
        Index("ix_envelope_scheme_year", "scheme_code", "year"),
    )

    scheme_code: Mapped[str] = mapped_column(ForeignKey("funding_scheme.code"))
    year: Mapped[int] = mapped_column(Integer)
    departement_code: Mapped[str | None] = mapped_column(ForeignKey("departement.code"))
    arrondissement_code: Mapped[str | None] = mapped_column(ForeignKey("arrondissement.code"),
                                                            index=True)
    amount: Mapped[Decimal] = mapped_column("amount_cents", Money)
    parent_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("envelope.id"), index=True)
    notes: Mapped[str | None] = mapped_column(Text)


class PriorityCategory(Tracked, Base):
    """A DETR priority category set by a département's commission (catégories
    d'opérations prioritaires), in the order the agent gave them."""

    __tablename__ = "priority_category"

    departement_code: Mapped[str] = mapped_column(ForeignKey("departement.code"), index=True)
    label: Mapped[str] = mapped_column(String(300))
    position: Mapped[int] = mapped_column(Integer, default=0)


class Simulation(Tracked, Base):
    """A named draft programmation of an envelope; several may coexist, one at a time is
    applied to the funding lines (and may be undone)."""

    __tablename__ = "simulation"

    envelope_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("envelope.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(Text)
    decision_date: Mapped[date | None] = mapped_column(Date)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    applied_by: Mapped[str | None] = mapped_column(String(128))

    lines: Mapped[list[SimulationLine]] = relationship(
        back_populates="simulation", cascade="all, delete-orphan",
        order_by="SimulationLine.position")


class SimulationLine(Tracked, Base):
    """One candidate funding line in a simulation: what is proposed for it, and, once the
    simulation is applied, what the funding line held before (for the undo)."""

    __tablename__ = "simulation_line"
    __table_args__ = (
        CheckConstraint("status IS NULL OR status IN ('retenu', 'refuse', 'ajourne')",
                        name="status"),
        CheckConstraint("proposed_cents IS NULL OR proposed_cents >= 0",
                        name="proposed_positive"),
        Index("ix_simulation_line_simulation_line", "simulation_id", "funding_line_id",
              unique=True),
    )

    simulation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("simulation.id", ondelete="CASCADE"))
    funding_line_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("funding_line.id", ondelete="CASCADE"), index=True)
    proposed: Mapped[Decimal | None] = mapped_column("proposed_cents", Money)
    status: Mapped[str | None] = mapped_column(String(16))
    category_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("priority_category.id", ondelete="SET NULL"))
    opinion: Mapped[str | None] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Set when the simulation is applied: the funding line's values before, and its
    # version after (a line changed since cannot be undone blindly).
    before_status: Mapped[str | None] = mapped_column(String(32))
    before_granted: Mapped[Decimal | None] = mapped_column("before_granted_cents", Money)
    before_decision_date: Mapped[date | None] = mapped_column(Date)
    applied_version: Mapped[int | None] = mapped_column(Integer)

    simulation: Mapped[Simulation] = relationship(back_populates="lines")


# The envelopes' figures add up the lines of one scheme and budget year: read from this
# index alone, not from the wide rows of the 266 000 funding lines (migration 0008).
Index("ix_funding_line_programming", FundingLine.scheme_code, FundingLine.budget_year,
      FundingLine.operation_id, FundingLine.status, FundingLine.amount_requested,
      FundingLine.amount_granted, FundingLine.paid_total)


# --- Démarches numériques (db.demarches) -------------------------------------

class DemarchesDossier(Base):
    """A dossier of Démarches numériques imported as an operation: which démarche and
    dossier it is, and what the last imported export said of it (the base against which
    a later export and the agent's own changes are told apart). Office-only: it does not
    travel in a field copy; deleting the operation deletes it."""

    __tablename__ = "demarches_dossier"

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    number: Mapped[str] = mapped_column(String(20), unique=True)  # « ID » of the export
    procedure: Mapped[str | None] = mapped_column(String(200))
    operation_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("operation.id", ondelete="CASCADE"), unique=True)
    state: Mapped[str] = mapped_column(String(40))  # « Accepté », as the export writes it
    # The values last imported: title, cost, communes, requested/granted per scheme…
    imported: Mapped[dict[str, Any]] = mapped_column(JSON)
    exported_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    imported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    batch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The operation's version as the last import (or its undo) left it: the agent has
    # not touched the operation since when it still has this one.
    operation_version: Mapped[int] = mapped_column(Integer, default=1)


# --- Pièces jointes (db.attachments) --------------------------------------------

class AttachmentContent(Base):
    """A file's content, once per sha256 whoever attaches it. On PostgreSQL the bytes
    are here (every agent of the office sees them); beside an SQLite base they are in
    the folder ``<base>.pieces/ab/abcdef…`` and ``data`` stays empty. Not audited (the
    attachments that use it are); deleted when no attachment uses it any more."""

    __tablename__ = "attachment_content"
    __table_args__ = (CheckConstraint("size >= 0", name="size_positive"),)

    sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    size: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[bytes | None] = mapped_column(LargeBinary)
    stored_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Attachment(Tracked, Base):
    """A file attached to a contract, an operation or a funding line (exactly one of
    them): a scanned signed act, a délibération, a devis, a photo… Added at / by are the
    record's created_at / created_by. It travels with a field copy (db.field.pieces).
    Deleting its record deletes it (and its content once unused)."""

    __tablename__ = "attachment"
    __table_args__ = (
        _check_in("kind", AttachmentKind, "kind"),
        CheckConstraint(
            "(CASE WHEN contract_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN operation_id IS NULL THEN 0 ELSE 1 END"
            " + CASE WHEN funding_line_id IS NULL THEN 0 ELSE 1 END) = 1",
            name="one_record"),
        CheckConstraint("size >= 0", name="size_positive"),
    )

    contract_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("contract.id", ondelete="CASCADE"), index=True)
    operation_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("operation.id", ondelete="CASCADE"), index=True)
    funding_line_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("funding_line.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32), default=AttachmentKind.OTHER)
    file_name: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(ForeignKey("attachment_content.sha256"), index=True)
    media_type: Mapped[str] = mapped_column(String(120))
    notes: Mapped[str | None] = mapped_column(Text)

    # Deleting the record through the ORM deletes (and audits) its attachments.
    contract: Mapped[Contract | None] = relationship(backref=backref(
        "attachments", cascade="all, delete-orphan"))
    operation: Mapped[Operation | None] = relationship(backref=backref(
        "attachments", cascade="all, delete-orphan"))
    funding_line: Mapped[FundingLine | None] = relationship(backref=backref(
        "attachments", cascade="all, delete-orphan"))


class ActTemplate(Tracked, Base):
    """The office's own template of an act (a DOCX file it edited in LibreOffice or
    Word), for one kind and one scheme (``scheme_code`` NULL: every scheme without its
    own). Kept in the base so that every agent of a shared base writes with the same
    wording; without one, the shipped template of resources/modeles is used."""

    __tablename__ = "act_template"
    __table_args__ = (
        _check_in("kind", ActKind, "kind"),
        UniqueConstraint("kind", "scheme_code"),  # NULL scheme: one, by db.acts.library
    )

    kind: Mapped[str] = mapped_column(String(32))
    scheme_code: Mapped[str | None] = mapped_column(
        ForeignKey("funding_scheme.code", ondelete="CASCADE"))
    file_name: Mapped[str] = mapped_column(String(255))
    sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[bytes] = mapped_column(LargeBinary)


class Act(Tracked, Base):
    """An act generated for a funding line: its kind, when, the fingerprint its PDF
    carries (in the footer and the QR code of every page), the template it was written
    from; once the signed scan is filed (db.acts.scans), the date it was signed and
    the attachment that holds the scan."""

    __tablename__ = "act"
    __table_args__ = (_check_in("kind", ActKind, "kind"),)

    funding_line_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("funding_line.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    generated_on: Mapped[date] = mapped_column(Date)
    fingerprint: Mapped[str] = mapped_column(String(20), unique=True)
    template_sha256: Mapped[str] = mapped_column(String(64))
    pages: Mapped[int] = mapped_column(Integer)
    signed_on: Mapped[date | None] = mapped_column(Date)
    signed_attachment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("attachment.id", ondelete="SET NULL"))

    funding_line: Mapped[FundingLine] = relationship(backref=backref(
        "acts", cascade="all, delete-orphan"))
