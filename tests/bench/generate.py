"""Deterministic generator of a realistic regional-scale database, for benchmarks.

    python tests/bench/generate.py --operations 100000 --db bench.sqlite
    python tests/bench/generate.py --operations 100000 --db postgresql://…/bench

The same arguments always give the same database (same ids, same amounts).
Owners are the real communes and EPCI of the region (Hauts-de-France by
default); contracts have axes, signatories and a perimeter; operations carry
financing plans over real schemes that respect the rules of public money,
payments, statuses and dates spread over 2019-2026. Rows are written with bulk
inserts (the services would take hours at this scale), in one transaction, with
one audit entry for the whole generation.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from db.database import Database, open_database  # noqa: E402
from db.models import (  # noqa: E402
    Amendment,
    AuditEntry,
    Axis,
    Commune,
    Contract,
    ContractType,
    Departement,
    Epci,
    FundingLine,
    Operation,
    OperationLink,
    Organisation,
    Payment,
    Signatory,
    SteeringMeeting,
    contract_epci,
    epci_member,
    operation_commune,
)
from db.money import from_cents  # noqa: E402
from db.search import contract_document, operation_document, organisation_document  # noqa: E402,E501
from db.text import commune_organisation_name  # noqa: E402
from db.vocabulary import (  # noqa: E402
    ContractStatus,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
    PaymentKind,
)

LOGIN = "generateur"


def euros(cents: int):
    """Money columns take Decimal euros (their type stores cents)."""
    return from_cents(cents)


NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
CHUNK = 5000
PROJECTS = [
    "Rénovation énergétique de l'école", "Mise en accessibilité de la mairie",
    "Réhabilitation de la salle polyvalente", "Création d'une maison de santé",
    "Sécurisation de la traversée du bourg", "Rénovation de l'éclairage public",
    "Extension du groupe scolaire", "Réfection de la voirie communale",
    "Construction d'un atelier technique", "Création d'une médiathèque",
    "Rénovation thermique du gymnase", "Défense extérieure contre l'incendie",
    "Aménagement d'une aire de jeux", "Aménagement d'une voie verte",
    "Réhabilitation du restaurant scolaire", "Création d'une chaufferie bois",
    "Revitalisation du centre-bourg", "Création d'un tiers-lieu",
    "Restauration de l'église", "Création d'une maison France services",
    "Requalification d'une friche", "Réhabilitation de logements communaux",
    "Travaux d'assainissement", "Installation de panneaux photovoltaïques",
]
# status, weight, stage (0 not decided, 1 decided, 2 started, 3 completed, 4 settled)
STATUSES = [
    (OperationStatus.PROJECT, 6, 0), (OperationStatus.FILED, 10, 0),
    (OperationStatus.PROGRAMMED, 18, 1), (OperationStatus.COMMITTED, 12, 1),
    (OperationStatus.IN_PROGRESS, 24, 2), (OperationStatus.COMPLETED, 12, 3),
    (OperationStatus.SETTLED, 15, 4), (OperationStatus.ABANDONED, 3, 0),
]


class Generator:
    def __init__(self, db: Database, operations: int, seed: int, region: str) -> None:
        self.db = db
        self.count = operations
        self.rng = random.Random(seed)
        self.region = region
        self.rows: dict[object, list[dict]] = {}
        self.names: dict[uuid.UUID, str] = {}

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def tracked(self, **values) -> dict:
        return {"id": self.uid(), "version": 1, "created_at": NOW, "created_by": LOGIN,
                "updated_at": NOW, "updated_by": LOGIN, **values}

    def add(self, table, row: dict) -> dict:
        self.rows.setdefault(table, []).append(row)
        return row

    def day(self, start: date, spread_days: int) -> date:
        return start + timedelta(days=self.rng.randrange(spread_days))

    # --- reference data of the region -------------------------------------------

    def load_geography(self, session) -> None:
        self.departements = session.scalars(select(Departement.code).where(
            Departement.region_code == self.region).order_by(Departement.code)).all()
        self.communes = session.execute(
            select(Commune.code, Commune.name, Commune.arrondissement_code, Commune.siren,
                   Commune.population)
            .where(Commune.departement_code.in_(self.departements))
            .order_by(Commune.code)).all()
        self.arrondissements = sorted({c.arrondissement_code for c in self.communes
                                       if c.arrondissement_code})
        self.arrondissement_of = {c.code: c.arrondissement_code for c in self.communes}
        self.commune_names = {c.code: c.name for c in self.communes}
        region_codes = {c.code for c in self.communes}
        members: dict[str, list[str]] = {}
        for epci_code, commune_code in session.execute(
                select(epci_member.c.epci_code, epci_member.c.commune_code)
                .order_by(epci_member.c.epci_code, epci_member.c.commune_code)):
            if commune_code in region_codes:
                members.setdefault(epci_code, []).append(commune_code)
        self.epci_members = members
        self.epcis = session.execute(select(Epci.code, Epci.name).where(
            Epci.code.in_(list(members))).order_by(Epci.code)).all()
        self.contract_types = session.execute(
            select(ContractType.id, ContractType.code).order_by(ContractType.code)).all()

    # --- organisations ----------------------------------------------------------

    def organisation(self, name: str, kind: OrganisationKind, **extra) -> uuid.UUID:
        row = self.add(Organisation, self.tracked(
            name=name, kind=kind.value, search_document=organisation_document(name, None, None),
            **extra))
        self.names[row["id"]] = name
        return row["id"]

    def make_organisations(self) -> None:
        self.state = self.organisation("État", OrganisationKind.STATE)
        self.region_org = self.organisation("Région Hauts-de-France", OrganisationKind.REGION,
                                            region_code=self.region)
        self.departement_orgs = [self.organisation(f"Département {code}",
                                                   OrganisationKind.DEPARTEMENT,
                                                   departement_code=code)
                                 for code in self.departements]
        self.eu = self.organisation("Union européenne (FEDER)", OrganisationKind.EU)
        self.caf = self.organisation("Caisse d'allocations familiales", OrganisationKind.OTHER)
        self.commune_orgs = {
            c.code: self.organisation(commune_organisation_name(c.name), OrganisationKind.COMMUNE,
                                      commune_code=c.code, siren=c.siren)
            for c in self.communes}
        self.epci_orgs = {e.code: self.organisation(e.name, OrganisationKind.EPCI,
                                                    epci_code=e.code, siren=e.code)
                          for e in self.epcis}
        self.private_orgs = [self.organisation(f"Association {i + 1}",
                                               OrganisationKind.ASSOCIATION)
                             for i in range(30)]

    # --- contracts --------------------------------------------------------------

    def make_contracts(self) -> None:
        self.contracts_by_arrondissement: dict[str, list[tuple]] = {}
        n_contracts = max(1, self.count // 100)
        for number in range(n_contracts):
            arrondissement = self.arrondissements[number % len(self.arrondissements)]
            type_id, type_code = self.rng.choice(self.contract_types)
            signed = self.day(date(2015, 1, 1), 3000)
            status = self.rng.choices(
                [ContractStatus.SIGNED, ContractStatus.RUNNING, ContractStatus.CLOSED,
                 ContractStatus.PREPARATION], [2, 6, 2, 1])[0]
            contract = self.add(Contract, self.tracked(
                reference=f"{type_code}-{arrondissement}-{number + 1:05d}",
                title=f"{type_code.replace('_', ' ').title()} n° {number + 1} "
                      f"(arrondissement {arrondissement})",
                type_id=type_id, status=status.value,
                signature_date=None if status is ContractStatus.PREPARATION else signed,
                start_date=signed, end_date=signed + timedelta(days=365 * 6 - 1),
                arrondissement_code=arrondissement, origin="generation",
                envelope_total_cents=euros(self.rng.randrange(1, 500) * 10_000_000),
                envelope_state_cents=None))
            axes = []
            for position in range(self.rng.randint(3, 5)):
                axes.append(self.add(Axis, self.tracked(
                    contract_id=contract["id"], number=str(position + 1),
                    label=f"Axe {position + 1}", position=position))["id"])
            self.add(Signatory, self.tracked(contract_id=contract["id"],
                                             organisation_id=self.state,
                                             role="Pour l'État, le sous-préfet",
                                             signing_date=contract["signature_date"],
                                             position=0))
            epci = self.rng.choice(self.epcis)
            self.add(Signatory, self.tracked(contract_id=contract["id"],
                                             organisation_id=self.epci_orgs[epci.code],
                                             role="Le président",
                                             signing_date=contract["signature_date"],
                                             position=1))
            self.add(contract_epci, {"contract_id": contract["id"], "epci_code": epci.code})
            contract["search_document"] = contract_document(
                contract["reference"], contract["title"], type_code, None, None,
                ["État", epci.name])
            if self.rng.random() < 0.3:
                self.add(Amendment, self.tracked(contract_id=contract["id"], number=1,
                                                 amendment_date=signed + timedelta(days=400),
                                                 subject="Avenant n° 1"))
            self.add(SteeringMeeting, self.tracked(contract_id=contract["id"],
                                                   meeting_date=signed + timedelta(days=200),
                                                   kind="comité de pilotage"))
            self.contracts_by_arrondissement.setdefault(arrondissement, []).append(
                (contract["id"], axes, contract["reference"]))

    # --- operations ---------------------------------------------------------------

    def make_operations(self) -> None:
        statuses = [s for s, _, _ in STATUSES]
        weights = [w for _, w, _ in STATUSES]
        stages = {s: stage for s, _, stage in STATUSES}
        epci_codes = [e.code for e in self.epcis]
        for number in range(self.count):
            rng = self.rng
            draw = rng.random()
            if draw < 0.7:
                commune = rng.choice(self.communes)
                owner, kind_local, places = self.commune_orgs[commune.code], True, [commune.code]
            elif draw < 0.93:
                epci = rng.choice(epci_codes)
                owner, kind_local = self.epci_orgs[epci], True
                places = rng.sample(self.epci_members[epci],
                                    min(len(self.epci_members[epci]), rng.randint(1, 3)))
            else:
                owner, kind_local = rng.choice(self.private_orgs), False
                places = [rng.choice(self.communes).code]
            status = rng.choices(statuses, weights)[0]
            stage = stages[status]
            year = rng.randint(2019, 2026)
            # Log-normal costs: median about 220 000 €, a few big projects (cents).
            cost_ht = min(max(round(math.exp(rng.gauss(12.3, 1.0)), -2), 5_000), 50_000_000) * 100
            base = cost_ht
            deposit = self.day(date(year, 1, 2), 120)
            decision = deposit + timedelta(days=rng.randint(60, 180)) if stage >= 1 else None
            notification = decision + timedelta(days=7) if decision else None
            start = notification + timedelta(days=rng.randint(30, 500)) if stage >= 2 else None
            end = start + timedelta(days=rng.randint(90, 900)) if stage >= 3 else None
            operation = self.add(Operation, self.tracked(
                reference=f"OP-{year}-{number + 1:06d}",
                title=f"{rng.choice(PROJECTS)} ({number + 1})", owner_id=owner,
                status=status.value, cost_ht_cents=euros(cost_ht),
                cost_ttc_cents=euros(cost_ht * 6 // 5), base_kind="HT",
                eligible_cost_cents=euros(base),
                deposit_date=deposit, decision_date=decision, notification_date=notification,
                start_date=start, end_date=end, start_extension_months=0,
                completion_extension_months=0, chef_de_file=False, origin="generation"))
            for code in dict.fromkeys(places):
                self.add(operation_commune, {"operation_id": operation["id"],
                                             "commune_code": code})
            contracts = self.contracts_by_arrondissement.get(
                self.arrondissement_of.get(places[0]), [])
            references = []
            if contracts and rng.random() < 0.8:
                contract_id, axes, reference = rng.choice(contracts)
                references.append(reference)
                self.add(OperationLink, {"operation_id": operation["id"],
                                         "contract_id": contract_id,
                                         "axis_id": rng.choice(axes)})
            granted, paid, financers, schemes = self.make_plan(
                operation, base, stage, kind_local, decision, year)
            operation["granted_total_cents"] = euros(granted) if granted is not None else None
            operation["paid_total_cents"] = euros(paid)
            operation["search_document"] = operation_document(
                operation["reference"], operation["title"], [self.names[owner]],
                [(code, self.commune_names[code]) for code in dict.fromkeys(places)],
                references, [self.names[f] for f in financers], schemes)

    def make_plan(self, operation: dict, base: int, stage: int, local: bool,
                  decision: date | None, year: int) -> tuple[int | None, int, list, list]:
        """Funding lines and payments; returns granted and paid totals (cents),
        financers and schemes."""
        rng = self.rng
        decided = stage >= 1
        # Public funding stays within 80 % of the cost when the owner is a local authority.
        state_rate = rng.choice([20, 25, 30, 35, 40])
        others = [(self.departement_orgs[rng.randrange(len(self.departement_orgs))],
                   "DEPARTEMENT", rng.choice([0, 10, 15, 20])),
                  (self.region_org, "REGION", rng.choice([0, 0, 10, 15])),
                  (self.eu, "FEDER", rng.choice([0, 0, 0, 20]))]
        budget = 80 - state_rate
        lines = [(self.state, rng.choice(["DETR", "DETR", "DSIL"]), state_rate)]
        for financer, scheme, rate in others:
            if rate and rate <= budget:
                lines.append((financer, scheme, rate))
                budget -= rate
        granted_total, paid_total = None, 0
        for position, (financer, scheme, rate) in enumerate(lines):
            amount = base * rate // 100
            status = FundingStatus.GRANTED if decided else FundingStatus.REQUESTED
            if decided and rng.random() < 0.05 and position:
                status = FundingStatus.REFUSED
            commission = (decision - timedelta(days=30)
                          if decided and scheme == "DETR" and amount > 100_000_00 else None)
            line = self.add(FundingLine, self.tracked(
                operation_id=operation["id"], financer_id=financer, scheme_code=scheme,
                amount_requested_cents=euros(amount),
                amount_granted_cents=euros(amount) if status is FundingStatus.GRANTED else None,
                status=status.value,
                decision_reference=f"Arrêté {operation['reference']}-{position + 1}"
                if decided else None,
                decision_date=decision if decided else None,
                commission_opinion_date=commission, budget_year=year, position=position,
                paid_total_cents=euros(0)))
            if status is FundingStatus.GRANTED:
                granted_total = (granted_total or 0) + amount
                if stage >= 2:
                    paid_total += self.make_payments(line, amount, stage,
                                                     operation["start_date"],
                                                     operation["end_date"])
        return (granted_total, paid_total, [f for f, _, _ in lines],
                [scheme for _, scheme, _ in lines])

    def make_payments(self, line: dict, granted: int, stage: int, start: date,
                      end: date | None) -> int:
        advance = granted * 30 // 100
        paid = [(PaymentKind.ADVANCE, advance, start + timedelta(days=15))]
        if stage >= 3:
            paid.append((PaymentKind.INSTALMENT, granted * 40 // 100,
                         start + timedelta(days=90)))
        if stage >= 4:
            paid.append((PaymentKind.BALANCE, granted - sum(p[1] for p in paid),
                         end + timedelta(days=45)))
        for kind, amount, when in paid:
            if amount > 0:
                self.add(Payment, self.tracked(funding_line_id=line["id"], kind=kind.value,
                                               payment_date=when, amount_cents=euros(amount),
                                               reference=None))
        total = sum(amount for _, amount, _ in paid if amount > 0)
        line["paid_total_cents"] = euros(total)
        return total

    # --- writing ------------------------------------------------------------------

    def write(self, session) -> dict[str, int]:
        order = [Organisation, Contract, Axis, Signatory, Amendment, SteeringMeeting,
                 contract_epci, Operation, operation_commune, OperationLink, FundingLine,
                 Payment]
        counts = {}
        connection = session.connection()
        for model in order:
            table = getattr(model, "__table__", model)
            rows = self.rows.get(model, [])
            for start in range(0, len(rows), CHUNK):
                connection.execute(insert(table), rows[start:start + CHUNK])
            counts[table.name] = len(rows)
        session.add(AuditEntry(at=NOW, login=LOGIN, action="insert", entity="generation",
                               entity_id=str(self.count), changes={"counts": counts}))
        return counts


def generate(target: str, operations: int, seed: int = 2026, region: str = "32"
             ) -> dict[str, int]:
    db = open_database(target)
    try:
        with db.write() as session:
            existing = session.scalar(select(func.count()).select_from(Operation))
            if existing:
                raise SystemExit(f"Erreur : la base {db.display()} contient déjà "
                                 f"{existing} opérations.")
            generator = Generator(db, operations, seed, region)
            generator.load_geography(session)
            generator.make_organisations()
            generator.make_contracts()
            generator.make_operations()
            return generator.write(session)
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="fichier SQLite ou URL postgresql://…")
    parser.add_argument("--operations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--region", default="32", help="code de la région (32 : Hauts-de-France)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(args.db, args.operations, args.seed, args.region)
    print(f"{args.operations} opérations générées en {time.perf_counter() - started:.1f} s : "
          + ", ".join(f"{name} {count}" for name, count in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
