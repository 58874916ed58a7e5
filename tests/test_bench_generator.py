"""The benchmark database generator: deterministic, realistic, rule-abiding."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import BigInteger, func, select, type_coerce
from sqlalchemy.orm import selectinload

from db import health
from db.database import open_database
from db.models import (
    Axis,
    Commune,
    Contract,
    Epci,
    ExpenseItem,
    FundingLine,
    Operation,
    Organisation,
    Payment,
    Signatory,
    epci_member,
    operation_commune,
)
from db.money import ZERO
from db.rules import add_months, blocking
from db.services.operations import (
    check_operation,
    load_operation_data,
    plan_context_for,
    plan_input,
)
from db.vocabulary import (
    COMMITTED_OPERATION_STATUSES,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
    PaymentKind,
)

spec = importlib.util.spec_from_file_location(
    "bench_generate", Path(__file__).parent / "bench" / "generate.py")
generator = importlib.util.module_from_spec(spec)
spec.loader.exec_module(generator)

TODAY = date(2026, 11, 1)
DRAFTS = {OperationStatus.PROJECT.value, OperationStatus.FILED.value}
STATE_AID = {"DETR", "DSIL", "DPV", "DSID", "FNADT", "FONDS_VERT", "FRED"}
DOTATIONS = {"DETR", "DSIL", "DPV", "DSID"}
LOCAL = {OrganisationKind.COMMUNE.value, OrganisationKind.EPCI.value,
         OrganisationKind.LOCAL_GROUPING.value}
PHONE = re.compile(r"0\d( \d\d){4}")


def cents(column):
    return type_coerce(column, BigInteger)


def url_of(db) -> str:
    return str(db.target.path) if db.is_sqlite else db.target.url.render_as_string(
        hide_password=False)


def fingerprint(database) -> tuple[list, str]:
    """The operations' ids and a digest of every generated row that matters."""
    digest = hashlib.sha256()
    with database.read() as session:
        ids = session.scalars(select(Operation.id).order_by(Operation.reference)).all()
        for query in (
                select(Operation.reference, Operation.title, Operation.status,
                       cents(Operation.cost_ht), cents(Operation.cost_ttc),
                       cents(Operation.eligible_cost), Operation.deposit_date,
                       Operation.start_date, cents(Operation.granted_total),
                       cents(Operation.paid_total)).order_by(Operation.reference),
                select(FundingLine.id, FundingLine.scheme_code, FundingLine.status,
                       cents(FundingLine.amount_requested), cents(FundingLine.amount_granted),
                       FundingLine.notification_date).order_by(FundingLine.id),
                select(ExpenseItem.id, ExpenseItem.label, cents(ExpenseItem.amount_ht),
                       cents(ExpenseItem.amount_ttc)).order_by(ExpenseItem.id),
                select(Payment.id, Payment.kind, cents(Payment.amount),
                       Payment.payment_date).order_by(Payment.id),
                select(Organisation.id, Organisation.name, Organisation.email)
                .order_by(Organisation.id),
                select(Signatory.id, Signatory.person_name, Signatory.phone)
                .order_by(Signatory.id)):
            for row in session.execute(query):
                digest.update(repr(tuple(row)).encode())
    return ids, digest.hexdigest()


def test_same_arguments_give_the_same_database(tmp_path, sqlite_template):
    paths = []
    for name in ("a", "b"):
        path = tmp_path / f"{name}.sqlite"
        shutil.copyfile(sqlite_template, path)
        generator.generate(str(path), 300, seed=7)
        paths.append(path)
    first, second = (open_database(p) for p in paths)
    assert fingerprint(first) == fingerprint(second)
    assert len(fingerprint(first)[0]) == 300
    first.close()
    second.close()
    other = tmp_path / "c.sqlite"
    shutil.copyfile(sqlite_template, other)
    generator.generate(str(other), 300, seed=8)
    third = open_database(other)
    assert fingerprint(third)[1] != fingerprint(open_database(paths[0]))[1]
    third.close()


def load_all(session) -> list[Operation]:
    return session.scalars(
        select(Operation).order_by(Operation.reference).options(
            selectinload(Operation.funding_lines).selectinload(FundingLine.payments),
            selectinload(Operation.communes), selectinload(Operation.links),
            selectinload(Operation.expense_items))).all()


def test_generated_data_looks_like_the_field(db):
    counts = generator.generate(url_of(db), 400, seed=11)
    assert counts["operation"] == 400 and counts["contract"] == 4
    assert counts["funding_line"] > 400 and counts["payment"] > 100
    assert counts["expense_item"] > 100
    assert health.check(db).problems == []  # cached totals, payments within grants
    with db.read() as session:
        departements = session.scalars(
            select(Commune.departement_code).join(
                operation_commune, operation_commune.c.commune_code == Commune.code)
            .distinct()).all()
        assert set(departements) <= {"02", "59", "60", "62", "80"}
        operations = load_all(session)
        statuses = Counter(o.status for o in operations)
        assert len(statuses) == 8
        assert statuses[OperationStatus.ABANDONED.value] >= 10

        # Long texts are the normal case.
        titles = [o.title for o in operations]
        assert max(len(t) for t in titles) <= 400
        assert sum(150 <= len(t) <= 400 for t in titles) >= 30
        long_references = [o.reference for o in operations
                           if 40 <= len(o.reference) <= 70 and " " not in o.reference]
        assert len(long_references) >= 20
        assert len({o.reference for o in operations}) == 400
        assert sum(o.description is not None for o in operations) >= 80
        members: dict[str, set[str]] = {}
        for epci, commune in session.execute(select(epci_member.c.epci_code,
                                                    epci_member.c.commune_code)):
            members.setdefault(epci, set()).add(commune)
        organisations = {o.id: o for o in session.scalars(select(Organisation))}
        many = [o for o in operations if 20 <= len(o.communes) <= 60]
        assert len(many) >= 5
        for operation in many:  # on communes of the owner's EPCI
            owner = organisations[operation.owner_id]
            assert owner.kind == OrganisationKind.EPCI.value
            assert {c.code for c in operation.communes} <= members[owner.epci_code]
        assert max(len(o.communes) for o in operations) <= 60

        # Owners with long names, and the person the office deals with.
        groupements = [o for o in organisations.values()
                       if o.kind == OrganisationKind.LOCAL_GROUPING.value]
        assert len(groupements) >= 5 and all(len(g.name) >= 55 for g in groupements)
        assert any(o.name == "Syndicat mixte d'aménagement et de gestion du parc naturel "
                   "régional de l'Avesnois" for o in groupements)
        assert sum(organisations[o.owner_id].kind == OrganisationKind.LOCAL_GROUPING.value
                   for o in operations) >= 5
        communes = [o for o in organisations.values() if o.kind == "commune"]
        assert all(o.commune_code and o.siren for o in communes)
        contacts = [o for o in organisations.values() if o.contact_name]
        assert len(contacts) > len(communes) // 4
        for organisation in contacts:
            assert organisation.contact_role and "@" in organisation.email
            assert PHONE.fullmatch(organisation.phone), organisation.phone

        # Contracts: long titles, long axes, signatories who can be reached.
        contracts = session.scalars(select(Contract)).all()
        assert sum(len(c.title) >= 200 for c in contracts) >= 2
        assert all(len(c.title) <= 500 for c in contracts)
        assert any(len(label) >= 120 for label in session.scalars(select(Axis.label)))
        signatories = session.scalars(select(Signatory)).all()
        assert len(signatories) >= 2 * len(contracts)
        for signatory in signatories:
            assert signatory.person_name and signatory.role and "@" in signatory.email
            assert PHONE.fullmatch(signatory.phone), signatory.phone
            # "…, la présidente" for "Mme …": the role agrees with the person.
            assert signatory.person_name.startswith("Mme ") == signatory.role.rsplit(
                ", ", 1)[-1].startswith("la "), (signatory.person_name, signatory.role)

        # Amounts as the field has them.
        unknown_cost = [o for o in operations if o.cost_ht is None]
        assert len(unknown_cost) >= 5
        assert all(o.status in DRAFTS and o.cost_ttc is None for o in unknown_cost)
        lines = [line for o in operations for line in o.funding_lines]
        unknown_granted = [line for line in lines if line.status == FundingStatus.GRANTED.value
                           and line.amount_granted is None]
        assert len(unknown_granted) >= 5
        assert all(not line.payments for line in unknown_granted)
        assert sum(line.status == FundingStatus.REFUSED.value for line in lines) >= 10
        decided = [o for o in operations if o.status in COMMITTED_OPERATION_STATUSES]
        assert sum(line.status == FundingStatus.REQUESTED.value
                   for o in decided for line in o.funding_lines) >= 10
        for operation in operations:  # the cached totals mean what caches.py says
            granted = [line.amount_granted for line in operation.funding_lines
                       if line.status == FundingStatus.GRANTED.value
                       and line.amount_granted is not None]
            assert operation.granted_total == (sum(granted, ZERO) if granted else None)
            assert operation.paid_total == sum((p.amount for line in operation.funding_lines
                                                for p in line.payments), ZERO)
            for line in operation.funding_lines:
                assert line.paid_total == sum((p.amount for p in line.payments), ZERO)
        assert any(o.granted_total is None and any(
            line.status == FundingStatus.GRANTED.value for line in o.funding_lines)
            for o in operations)

        # Expense items that add up exactly.
        itemised = [o for o in operations if o.expense_items]
        assert len(itemised) >= 50
        for operation in itemised:
            items = operation.expense_items
            assert 2 <= len(items) <= 6
            assert sum((i.amount_ht for i in items), ZERO) == operation.cost_ht
            assert sum((i.amount_ttc for i in items), ZERO) == operation.cost_ttc
            assert operation.eligible_cost == sum((i.amount_ht for i in items if i.eligible),
                                                  ZERO)
            assert all(i.amount_ttc >= i.amount_ht and i.label for i in items)
        assert sum(not all(i.eligible for i in o.expense_items) for o in itemised) >= 5

        # Over-funded drafts, never a committed operation.
        datas = [load_operation_data(session, o) for o in operations]
        context = plan_context_for(session, datas)
        over = Counter()
        for data in datas:
            plan = plan_input(data, context)
            if plan.base_cost is not None and plan.funding_total > plan.base_cost:
                over[data.status.value] += 1
        assert sum(over.values()) >= 5 and set(over) <= DRAFTS, over


def test_every_operation_respects_the_rules(db):
    """Point by point, on every operation of the base: no blocking finding (committed
    operations: no error at all), and what the rules of public money ask, checked
    again here on the data, compared exactly."""
    generator.generate(url_of(db), 400, seed=11)
    with db.read() as session:
        operations = load_all(session)
        kinds = dict(session.execute(select(Organisation.id, Organisation.kind)).all())
        # Inhabitants of the owner, commune or EPCI (DETR: 20 000 and 75 000 at most).
        populations = dict(session.execute(
            select(Organisation.id, func.coalesce(Commune.population, Epci.population))
            .outerjoin(Commune, Commune.code == Organisation.commune_code)
            .outerjoin(Epci, Epci.code == Organisation.epci_code)).all())
        committed_count = 0
        for operation in operations:
            data = load_operation_data(session, operation)
            findings = check_operation(session, data, TODAY)
            committed = data.status in COMMITTED_OPERATION_STATUSES
            assert blocking(findings, committed) == [], (operation.reference, findings)
            owner_kind = kinds[operation.owner_id]
            for line in operation.funding_lines:
                # DETR and DSIL to communes, EPCI and groupements only (DSIL: no syndicat).
                if line.scheme_code in ("DETR", "DSIL") \
                        and line.status != FundingStatus.REFUSED.value:
                    allowed = LOCAL if line.scheme_code == "DETR" else LOCAL - {"groupement"}
                    assert owner_kind in allowed, (operation.reference, owner_kind)
                    limit = {"commune": 20_000, "epci": 75_000}.get(owner_kind)
                    if line.scheme_code == "DETR" and limit is not None:
                        assert (populations[operation.owner_id] or 0) <= limit, \
                            operation.reference
            if not committed:
                continue
            committed_count += 1
            assert not [f for f in findings if f.code in (
                "deadline.started_late", "deadline.no_notification", "detr.commission",
                "payment.after_completion_deadline")], (operation.reference, findings)
            plan = plan_input(data, plan_context_for(session, [data]))
            check_committed(operation, plan)
        assert committed_count >= 250


def check_committed(operation: Operation, plan) -> None:
    where = operation.reference
    assert operation.owner_id is not None and operation.deposit_date is not None
    assert operation.notification_date == operation.decision_date + timedelta(days=7)
    state_lines = [line for line in operation.funding_lines if line.scheme_code in STATE_AID]
    for line in state_lines:  # every State subsidy decided and notified a week later
        assert line.status != FundingStatus.REQUESTED.value, where
        assert line.notification_date == line.decision_date + timedelta(days=7), where
        assert line.decision_date >= operation.deposit_date, where
    for line in operation.funding_lines:
        for payment in line.payments:
            assert payment.payment_date >= line.decision_date, where
            assert payment.payment_date <= TODAY, where
    if operation.start_date is not None:  # after the deposit, within the caducité
        assert operation.start_date >= operation.deposit_date, where
        for line in state_lines:
            if line.status != FundingStatus.REFUSED.value:
                deadline = add_months(line.notification_date,
                                      24 + operation.start_extension_months)
                assert operation.start_date <= deadline, where
        assert operation.start_date <= TODAY, where
    if operation.end_date is not None:
        assert operation.start_date <= operation.end_date <= TODAY, where
    assert plan.base_cost is not None and plan.funding_total <= plan.base_cost, where
    subsidisable = plan.subsidisable
    dotations = Decimal(0)
    for line in plan.lines:
        if line.status is FundingStatus.REFUSED:
            continue
        if line.scheme in DOTATIONS:
            dotations += line.plan_amount
        if line.is_detr:
            assert line.plan_amount >= subsidisable * Decimal("0.20"), where
            if line.plan_amount > Decimal("100000"):
                assert line.commission_opinion_date is not None, where
        if line.is_state_aid and line.granted:  # avance ≤ 30 %, before the solde ≤ 80 %
            advance = sum((p.amount for p in line.payments if p.kind is PaymentKind.ADVANCE),
                          ZERO)
            before = sum((p.amount for p in line.payments
                          if p.kind is not PaymentKind.BALANCE), ZERO)
            assert advance <= line.granted * Decimal("0.30"), where
            assert before <= line.granted * Decimal("0.80"), where
        assert line.paid <= (line.granted or ZERO), where
    assert dotations <= subsidisable * Decimal("0.80"), where
    if plan.owner_local_authority:  # 20 % of all public funding, the owner's included
        share = plan.owner_share
        assert share >= Decimal("0.20") * (plan.public_funding + share), where
    if any(line.state_subsidy and line.status is not FundingStatus.REFUSED
           for line in plan.lines):
        assert plan.public_funding <= subsidisable, where
