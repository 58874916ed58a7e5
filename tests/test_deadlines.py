"""The échéancier (db.deadlines): dates at their boundaries, against dates computed by
hand here, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from db.database import Database
from db.deadlines import deadlines, opening_notice
from db.models import epci_member
from db.services.contracts import AmendmentData, ContractData, MeetingData, save_contract
from db.services.operations import (
    FundingLineData,
    LinkData,
    OperationData,
    PaymentData,
    save_operation,
)
from db.services.organisations import OrganisationData, save_organisation
from db.services.settings import set_arrondissement
from db.vocabulary import (
    ContractStatus,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
    PaymentKind,
)

AVESNES, AVELIN = "59036", "59034"  # Avelin: arrondissement 595


def _org(db: Database, name: str, kind: OrganisationKind, **values) -> uuid.UUID:
    return save_organisation(db, OrganisationData(name=name, kind=kind, **values)).id


class Base:
    """A small base whose deadlines are known by hand."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.state = _org(db, "État", OrganisationKind.STATE)
        self.owner = _org(db, "Commune d'Avesnes-sur-Helpe", OrganisationKind.COMMUNE,
                             commune_code=AVESNES)
        self.contract = save_contract(db, ContractData(
            reference="CRTE-SAMBRE", title="CRTE Sambre-Avesnois", type_code="CRTE",
            status=ContractStatus.SIGNED, arrondissement_code="591",
            signature_date=date(2022, 3, 1), start_date=date(2022, 3, 1),
            end_date=date(2026, 6, 30),
            amendments=[AmendmentData(1, "Prolongation d'un an", date(2026, 4, 10),
                                      Decimal("150000.00")),
                        AmendmentData(2, "Ajustement passé", date(2025, 1, 10))],
            meetings=[MeetingData(date(2026, 3, 20), "comité de pilotage"),
                      MeetingData(date(2025, 11, 4), "comité technique")])).id

    def operation(self, reference: str, lines: list[FundingLineData], *,
                  commune: str = AVESNES, status: OperationStatus = OperationStatus.PROGRAMMED,
                  contract: bool = True, **values) -> uuid.UUID:
        return save_operation(self.db, OperationData(
            reference=reference, title=f"Travaux {reference}", owner_id=self.owner,
            status=status, cost_ht=Decimal("100000.00"), commune_codes=[commune],
            links=[LinkData(self.contract)] if contract else [], funding_lines=lines,
            **values), today=date(2026, 1, 1)).id

    def detr(self, notified: date | None = None, *, scheme: str = "DETR",
             granted: str = "30000.00", payments=(), planned: date | None = None,
             status: FundingStatus = FundingStatus.GRANTED) -> FundingLineData:
        return FundingLineData(self.state, scheme, amount_requested=Decimal(granted),
                               amount_granted=Decimal(granted), status=status,
                               decision_date=notified, notification_date=notified,
                               planned_completion_date=planned, payments=list(payments),
                               commission_opinion_date=notified)


@pytest.fixture
def base(db: Database) -> Base:
    return Base(db)


def _read(db: Database, today: date, **filters):
    with db.read() as session:
        return deadlines(session, today=today, **filters)


def _of(found, reference: str, kind: str | None = None):
    return [d for d in found if d.reference == reference and (kind is None or d.kind == kind)]


# --- Caducité: two years from the line's notification (R2334-28) ----------------------

def test_start_deadline_from_29_february_and_its_boundaries(base: Base) -> None:
    base.operation("CADUC", [base.detr(date(2024, 2, 29))])
    due = date(2026, 2, 28)  # 29 February 2024 + 24 months: 28 February 2026
    for today, overdue in ((date(2026, 2, 27), False), (date(2026, 2, 28), False),
                           (date(2026, 3, 1), True)):
        [item] = _of(_read(base.db, today), "CADUC", "caducite_debut")
        assert item.due == due and item.overdue is overdue
        assert item.entity == "operation" and item.scheme_label == "DETR"
        assert item.amount == Decimal("30000.00")
        assert item.kind_label == "Début des travaux avant caducité"
        assert "28/02/2026" in item.detail and "R2334-28" in item.detail
    assert _of(_read(base.db, date(2026, 3, 1)), "CADUC")[0].delay(date(2026, 3, 1)) == \
        "en retard de 1 jour"
    assert _of(_read(base.db, date(2026, 2, 27)), "CADUC")[0].delay(date(2026, 2, 27)) == \
        "dans 1 jour"


def test_start_deadline_from_the_31st_and_an_extension(base: Base) -> None:
    base.operation("TRENTE-ET-UN", [base.detr(date(2023, 8, 31))])
    base.operation("PROROGE", [base.detr(date(2024, 1, 31))], start_extension_months=1)
    found = _read(base.db, date(2025, 6, 1))
    assert _of(found, "TRENTE-ET-UN", "caducite_debut")[0].due == date(2025, 8, 31)
    # 31 January 2024 + 25 months: 28 February 2026 (no 31 February).
    [extended] = _of(found, "PROROGE", "caducite_debut")
    assert extended.due == date(2026, 2, 28)
    assert "prorogation de 1 mois comprise" in extended.detail


def test_horizon_boundaries(base: Base) -> None:
    base.operation("CADUC", [base.detr(date(2024, 2, 29))])  # due 28 February 2026
    due = date(2026, 2, 28)
    for days in (30, 60, 90):
        assert _of(_read(base.db, due - timedelta(days=days), within_days=days), "CADUC",
                   "caducite_debut"), days
        assert not _of(_read(base.db, due - timedelta(days=days + 1), within_days=days),
                       "CADUC", "caducite_debut"), days
    # Overdue deadlines stay in every horizon until the agent deals with them.
    late = _of(_read(base.db, date(2026, 9, 1), within_days=0), "CADUC", "caducite_debut")
    assert late and late[0].overdue


def test_extension_to_decide_near_the_deadline_only_without_one(base: Base) -> None:
    base.operation("CADUC", [base.detr(date(2024, 2, 29))])  # due 28 February 2026
    base.operation("DEJA-PROROGE", [base.detr(date(2023, 2, 28))], start_extension_months=12)
    near = _of(_read(base.db, date(2025, 11, 30)), "CADUC", "prorogation")  # 90 days before
    assert len(near) == 1 and near[0].due == date(2026, 2, 28)
    assert "décision du préfet" in near[0].detail and "un an au plus" in near[0].detail
    assert not _of(_read(base.db, date(2025, 11, 29)), "CADUC", "prorogation")  # 91 days
    assert not _of(_read(base.db, date(2026, 3, 1)), "CADUC", "prorogation")  # too late
    # 28 February 2023 + 36 months = 28 February 2026, already extended: no decision left.
    found = _read(base.db, date(2026, 1, 15))
    assert _of(found, "DEJA-PROROGE", "caducite_debut")[0].due == date(2026, 2, 28)
    assert not _of(found, "DEJA-PROROGE", "prorogation")


def test_operation_notification_stands_for_its_only_state_line(base: Base) -> None:
    line = base.detr(None)
    base.operation("SEULE", [line], notification_date=date(2024, 2, 29))
    assert _of(_read(base.db, date(2026, 1, 1)), "SEULE", "caducite_debut")[0].due == \
        date(2026, 2, 28)
    # Two State subsidies: each runs from its own notification, never the operation's.
    base.operation("DEUX", [base.detr(None), base.detr(date(2024, 5, 15), scheme="DSIL")],
                   notification_date=date(2024, 2, 29))
    [only] = _of(_read(base.db, date(2026, 1, 1)), "DEUX", "caducite_debut")
    assert only.scheme_label == "DSIL" and only.due == date(2026, 5, 15)


# --- Completion, payments expected, balances never claimed ----------------------------

def test_completion_48_months_from_a_start_on_the_31st(base: Base) -> None:
    base.operation("ACHEV", [base.detr(date(2022, 1, 10))], status=OperationStatus.IN_PROGRESS,
                   start_date=date(2022, 5, 31))
    base.operation("ACHEV-PROROGE", [base.detr(date(2022, 1, 10))],
                   status=OperationStatus.IN_PROGRESS, start_date=date(2022, 5, 31),
                   completion_extension_months=9)
    found = _read(base.db, date(2026, 5, 31))
    [item] = _of(found, "ACHEV", "achevement")
    assert item.due == date(2026, 5, 31) and not item.overdue  # the day itself
    assert not _of(found, "ACHEV", "caducite_debut")  # started: no caducité
    assert _of(found, "ACHEV", "prorogation")[0].due == date(2026, 5, 31)
    # 31 May 2022 + 57 months: 28 February 2027.
    assert _of(found, "ACHEV-PROROGE", "achevement")[0].due == date(2027, 2, 28)
    assert not _of(found, "ACHEV-PROROGE", "prorogation")
    # The day after: the deadline has passed with the whole subsidy unpaid.
    [passed] = _of(_read(base.db, date(2026, 6, 1)), "ACHEV")
    assert (passed.kind, passed.due, passed.overdue, passed.amount) == (
        "solde_non_demande", date(2026, 5, 31), True, Decimal("30000.00"))


def test_decree_subsidy_completes_on_the_date_of_its_decision(base: Base) -> None:
    base.operation("VERT", [base.detr(date(2024, 6, 3), scheme="FONDS_VERT",
                                      planned=date(2026, 10, 31))],
                   status=OperationStatus.IN_PROGRESS, start_date=date(2025, 2, 1))
    [item] = _of(_read(base.db, date(2026, 10, 1), within_days=30), "VERT")
    assert (item.kind, item.due, item.scheme_label) == ("achevement", date(2026, 10, 31),
                                                        "Fonds vert")
    assert "2018-514" in item.detail


def test_solde_expected_after_the_works_and_never_claimed(base: Base) -> None:
    paid = [PaymentData(PaymentKind.INSTALMENT, date(2023, 6, 1), Decimal("10000.00"))]
    base.operation("SOLDE", [base.detr(date(2022, 1, 10), payments=paid)],
                   status=OperationStatus.COMPLETED, start_date=date(2022, 3, 10),
                   end_date=date(2025, 10, 15))
    base.operation("JAMAIS", [base.detr(date(2020, 1, 10), payments=paid)],
                   status=OperationStatus.COMPLETED, start_date=date(2021, 3, 10),
                   end_date=date(2024, 1, 1))
    full = [PaymentData(PaymentKind.INSTALMENT, date(2023, 6, 1), Decimal("24000.00")),
            PaymentData(PaymentKind.BALANCE, date(2025, 11, 2), Decimal("6000.00"))]
    base.operation("PAYEE", [base.detr(date(2022, 1, 10), payments=full)],
                   status=OperationStatus.COMPLETED, start_date=date(2022, 3, 10),
                   end_date=date(2025, 10, 15))
    found = _read(base.db, date(2026, 3, 1))
    [expected] = _of(found, "SOLDE")
    # Six months after the end of the works, before the deadline of 10 March 2026.
    assert (expected.kind, expected.due, expected.amount) == (
        "versement", date(2026, 3, 10), Decimal("20000.00"))
    assert "10/03/2026" in expected.detail
    [never] = _of(found, "JAMAIS")
    # Started 10 March 2021: completion deadline 10 March 2025, passed with 20 000 € unpaid.
    assert (never.kind, never.due, never.amount, never.overdue) == (
        "solde_non_demande", date(2025, 3, 10), Decimal("20000.00"), True)
    assert never.kind_label == "Solde jamais demandé"
    assert not _of(found, "PAYEE")  # fully paid: nothing due


def test_settled_abandoned_refused_and_other_financers_fall_due_never(base: Base) -> None:
    region = _org(base.db, "Région Hauts-de-France", OrganisationKind.REGION, region_code="32")
    base.operation("ABANDON", [base.detr(date(2024, 2, 29))], status=OperationStatus.ABANDONED)
    base.operation("REFUS", [base.detr(date(2024, 2, 29), status=FundingStatus.REFUSED)],
                   status=OperationStatus.FILED)
    base.operation("REGION", [FundingLineData(region, "REGION", Decimal("30000.00"),
                                              Decimal("30000.00"), FundingStatus.GRANTED,
                                              notification_date=date(2024, 2, 29))])
    found = _read(base.db, date(2026, 1, 1))
    assert not [d for d in found if d.reference in ("ABANDON", "REFUS", "REGION")]


# --- Contracts ------------------------------------------------------------------------

def test_contract_end_amendments_and_meetings_to_come(base: Base) -> None:
    found = [d for d in _read(base.db, date(2026, 3, 20)) if d.entity == "contract"]
    assert [(d.kind, d.due) for d in found] == [
        ("comite", date(2026, 3, 20)), ("avenant", date(2026, 4, 10)),
        ("fin_contrat", date(2026, 6, 30))]
    assert all(d.record_id == base.contract for d in found)
    assert found[1].amount == Decimal("150000.00") and "n° 1" in found[1].detail
    assert not [d for d in _read(base.db, date(2026, 3, 21)) if d.kind == "comite"]
    late = [d for d in _read(base.db, date(2026, 7, 1)) if d.kind == "fin_contrat"]
    assert late[0].overdue and "à clore" in late[0].detail


# --- Filters -------------------------------------------------------------------------

def test_filters_arrondissement_contract_scheme_epci(base: Base) -> None:
    base.operation("AVESNES", [base.detr(date(2024, 2, 29))])
    base.operation("AVELIN", [base.detr(date(2024, 2, 29))], commune=AVELIN, contract=False)
    base.operation("DSIL", [base.detr(date(2024, 3, 1), scheme="DSIL")], contract=False)
    today = date(2026, 1, 1)
    everything = {d.reference for d in _read(base.db, today)}
    assert {"AVESNES", "AVELIN", "DSIL", "CRTE-SAMBRE"} <= everything
    in_591 = {d.reference for d in _read(base.db, today, arrondissement="591")}
    assert "AVELIN" not in in_591 and {"AVESNES", "DSIL", "CRTE-SAMBRE"} <= in_591
    assert {d.reference for d in _read(base.db, today, arrondissement="595")} == {"AVELIN"}
    of_contract = {d.reference for d in _read(base.db, today, contract_id=base.contract)}
    assert of_contract == {"AVESNES", "CRTE-SAMBRE"}
    assert {d.reference for d in _read(base.db, today, scheme_code="DSIL")} == {"DSIL"}
    with base.db.read() as session:
        epci = session.scalar(select(epci_member.c.epci_code)
                              .where(epci_member.c.commune_code == AVESNES))
    by_epci = {d.reference for d in _read(base.db, today, epci_code=epci)}
    assert "AVELIN" not in by_epci and {"AVESNES", "DSIL"} <= by_epci


def test_sorted_by_due_date_and_horizon_is_a_filter_of_the_whole(base: Base) -> None:
    base.operation("A", [base.detr(date(2024, 2, 29))])
    base.operation("B", [base.detr(date(2024, 1, 31))])
    base.operation("C", [base.detr(date(2022, 1, 10))], status=OperationStatus.IN_PROGRESS,
                   start_date=date(2022, 5, 31))
    today = date(2026, 1, 15)
    whole = _read(base.db, today)
    assert [d.due for d in whole] == sorted(d.due for d in whole)
    for days in (0, 30, 45, 60, 90, 136, 400):
        assert _read(base.db, today, within_days=days) == [
            d for d in whole if d.due <= today + timedelta(days=days)], days


def test_uid_is_stable_when_an_extension_moves_the_date(base: Base) -> None:
    from db.editing import operation_for_edit

    operation_id = base.operation("CADUC", [base.detr(date(2024, 2, 29))])
    [before] = _of(_read(base.db, date(2026, 1, 1)), "CADUC", "caducite_debut")
    data = operation_for_edit(base.db, operation_id)
    data.start_extension_months = 6
    save_operation(base.db, data, today=date(2026, 1, 1))
    [after] = _of(_read(base.db, date(2026, 1, 1)), "CADUC", "caducite_debut")
    # 29 February 2024 + 30 months: 29 August 2026, the same event moved.
    assert after.due == date(2026, 8, 29) and after.uid == before.uid


def test_opening_notice(base: Base) -> None:
    assert opening_notice(base.db, today=date(2025, 1, 1), arrondissement="591") is None
    base.operation("CADUC", [base.detr(date(2024, 2, 29))])
    base.operation("CADUC-2", [base.detr(date(2024, 3, 15))])
    set_arrondissement(base.db, "591")
    notice = opening_notice(base.db, today=date(2026, 1, 15), arrondissement="591")
    assert notice.text == "2 subventions deviennent caduques dans les 60 jours."
    assert (notice.kind, notice.within_days) == ("caducite_debut", 60)
    one = opening_notice(base.db, today=date(2026, 2, 1), arrondissement="591", days=30)
    assert one.text.startswith("1 subvention devient caduque dans les 30 jours")


def test_extension_of_a_decree_subsidy_is_for_its_granting_authority(base: Base) -> None:
    base.operation("VERT-CADUC", [base.detr(date(2024, 2, 29), scheme="FONDS_VERT",
                                            planned=date(2027, 12, 31))])
    [extension] = _of(_read(base.db, date(2026, 1, 15)), "VERT-CADUC", "prorogation")
    assert extension.due == date(2026, 2, 28)
    assert "décision de l'autorité qui a attribué la subvention" in extension.detail
    assert "décret n° 2018-514, art. 11" in extension.detail


# --- A subsidy granted, its notification not entered yet -------------------------------

def _granted(base: Base, decided: date | None, *, scheme: str = "DETR",
             notified: date | None = None, amount: str = "45000.00") -> FundingLineData:
    return FundingLineData(base.state, scheme, amount_requested=Decimal(amount),
                           amount_granted=Decimal(amount), status=FundingStatus.GRANTED,
                           decision_date=decided, notification_date=notified)


def test_a_granted_subsidy_without_notification_asks_for_it(base: Base) -> None:
    today = date(2026, 4, 1)
    base.operation("SANS-NOTIF", [_granted(base, date(2026, 3, 20))])
    base.operation("SANS-DECISION", [_granted(base, None, scheme="FONDS_VERT")])
    base.operation("NOTIFIEE", [_granted(base, date(2026, 3, 20), notified=date(2026, 3, 25))])
    # The operation's notification is the only State subsidy's: nothing to enter.
    base.operation("NOTIF-OPERATION", [_granted(base, date(2026, 3, 20))],
                   notification_date=date(2026, 3, 27))
    # Two State subsidies: the operation's date stands for neither, each is asked for.
    base.operation("DEUX-LIGNES", [_granted(base, date(2026, 3, 20), amount="30000.00"),
                                   _granted(base, date(2026, 3, 22), scheme="DSIL",
                                            amount="20000.00")],
                   notification_date=date(2026, 3, 27))
    base.operation("COMMENCEE", [_granted(base, date(2025, 3, 20))],
                   status=OperationStatus.IN_PROGRESS, start_date=date(2025, 9, 1))
    found = _read(base.db, today)
    [item] = _of(found, "SANS-NOTIF")  # no caducité guessed: only the date to enter
    assert (item.kind, item.due, item.overdue, item.amount, item.scheme_label) == (
        "notification", date(2026, 3, 20), True, Decimal("45000.00"), "DETR")
    assert item.kind_label == "Notification à enregistrer"
    assert "attribuée le 20/03/2026" in item.detail and "R2334-28" in item.detail
    assert "court à compter de la notification" in item.detail
    [undated] = _of(found, "SANS-DECISION")
    assert (undated.kind, undated.due, undated.overdue) == ("notification", today, False)
    assert "décret n° 2018-514, art. 11" in undated.detail
    assert [d.kind for d in _of(found, "NOTIFIEE")] == ["caducite_debut"]
    assert _of(found, "NOTIFIEE")[0].due == date(2028, 3, 25)
    assert [d.kind for d in _of(found, "NOTIF-OPERATION")] == ["caducite_debut"]
    assert sorted((d.kind, d.scheme_label) for d in _of(found, "DEUX-LIGNES")) == [
        ("notification", "DETR"), ("notification", "DSIL")]
    assert not _of(found, "COMMENCEE", "notification")  # works started: no caducité left
    # The horizon: a decision after it is not yet due, an undated one is due today.
    later = _read(base.db, date(2026, 3, 1), within_days=10)
    assert not _of(later, "SANS-NOTIF") and _of(later, "SANS-DECISION", "notification")
    assert _of(_read(base.db, date(2026, 3, 10), within_days=10), "SANS-NOTIF",
               "notification")


def test_opening_notice_names_the_notifications_to_enter(base: Base) -> None:
    set_arrondissement(base.db, "591")
    base.operation("ACCORDEE", [_granted(base, date(2026, 4, 1))])
    base.operation("ACCORDEE-2", [_granted(base, date(2026, 4, 1))])
    notice = opening_notice(base.db, today=date(2026, 4, 1), arrondissement="591")
    assert notice.text == "2 notifications de subvention à enregistrer."
    assert (notice.kind, notice.within_days, notice.overdue_only) == ("notification", 60, False)
    late = opening_notice(base.db, today=date(2026, 4, 2), arrondissement="591")
    assert late.text == "2 échéances en retard."
    base.operation("CADUC", [base.detr(date(2024, 2, 29))])  # lapses 28 February 2026
    base.operation("ACCORDEE-3", [_granted(base, date(2026, 1, 20))])
    both = opening_notice(base.db, today=date(2026, 1, 20), arrondissement="591")
    assert both.text == ("1 subvention devient caduque dans les 60 jours ; "
                         "1 notification de subvention à enregistrer.")
