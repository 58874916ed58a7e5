"""Benchmark of the journal and of a record's history on a base whose audit trail holds
~100 000 changes (years of an office's work: agents' edits, imports, field copies).

    python tests/bench/bench_history.py --db BASE.sqlite [--audit 100000]
    python tests/bench/bench_history.py --db postgresql://postgres@127.0.0.1/base

BASE is a base from tests/bench/generate.py (it writes its rows in bulk, with a single
audit entry): the changes are added here, on real records, with the values the audit
hook writes. Times are medians, given as a ratio to a `SELECT 1` round trip on the same
connection pool (no time is asserted: the machine's load varies).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, insert, select, text

AGENTS = ["m.dupont", "c.lefebvre", "a.martin", "j.moreau", "s.petit", "l.garnier"]
STATUSES = ["depose", "programme", "engage", "en_cours", "acheve"]
NOTES = ["Dossier complet reçu le {d}.", "Relance du maître d'ouvrage pour le plan de "
         "financement.", "Visite sur place avec le maire : chantier commencé.",
         "Avis favorable de la commission DETR.", "Pièces manquantes : devis actualisés."]


def _euros(cents: int) -> str:
    return str(Decimal(cents) / 100)


def add_changes(db: Any, count: int, seed: int = 7) -> int:
    """*count* audit entries on the records of *db*, spread over three years."""
    from db.models import AuditEntry, FundingLine, Operation, Organisation, Payment

    rng = random.Random(seed)
    with db.read() as session:
        operations = session.execute(select(Operation.id, Operation.title).limit(20000)).all()
        lines = session.execute(select(FundingLine.id, FundingLine.operation_id,
                                       FundingLine.amount_requested).limit(20000)).all()
        payments = session.execute(select(Payment.id, Payment.funding_line_id, Payment.kind,
                                          Payment.payment_date, Payment.amount)
                                   .limit(5000)).all()
        organisations = session.scalars(select(Organisation.id).limit(2000)).all()
    end = datetime.now(UTC)
    start = end - timedelta(days=3 * 365)
    span = (end - start).total_seconds()
    rows: list[dict[str, Any]] = []
    import_batches: list[tuple[uuid.UUID, datetime]] = []
    for _ in range(count):
        at = start + timedelta(seconds=rng.random() * span)
        kind = rng.random()
        origin, batch = "saisie", None
        if kind < 0.08:
            origin = "terrain"
            batch = uuid.UUID(int=rng.getrandbits(128))
        elif kind < 0.12:
            origin = None  # as the bulk writer of an import leaves it
            if not import_batches or rng.random() < 0.01:
                import_batches.append((uuid.UUID(int=rng.getrandbits(128)), at))
            batch, at = import_batches[-1]
        choice = rng.random()
        if choice < 0.45:
            record, title = rng.choice(operations)
            field = rng.choice(["title", "status", "cost_ht", "notes"])
            old, new = {
                "title": (title, title + " (tranche 2)"),
                "status": tuple(rng.sample(STATUSES, 2)),
                "cost_ht": (_euros(rng.randrange(10**6, 10**8)),
                            _euros(rng.randrange(10**6, 10**8))),
                "notes": (None, rng.choice(NOTES).format(d=at.date().strftime("%d/%m/%Y"))),
            }[field]
            entity, action, changes = "operation", "update", {field: [old, new]}
        elif choice < 0.85:
            record, _operation, requested = rng.choice(lines)
            amount = _euros(int((requested or Decimal(10000)) * 100 * Decimal("0.8")))
            entity, action = "funding_line", "update"
            changes = rng.choice([{"amount_granted": [None, amount], "status":
                                   ["sollicite", "accorde"]},
                                  {"decision_date": [None, at.date().isoformat()]}])
        elif choice < 0.95 and payments:
            record, line, pay_kind, day, amount = rng.choice(payments)
            entity, action = "payment", rng.choice(["insert", "delete"])
            changes = {"funding_line_id": str(line), "kind": pay_kind,
                       "payment_date": day.isoformat(), "amount": str(amount)}
        else:
            record = rng.choice(organisations)
            entity, action = "organisation", "update"
            changes = {"phone": [None, f"03 27 {rng.randrange(10, 99)} {rng.randrange(10, 99)}"
                                       f" {rng.randrange(10, 99)}"]}
        rows.append({"id": uuid.UUID(int=rng.getrandbits(128)), "at": at,
                     "login": rng.choice(AGENTS), "action": action, "entity": entity,
                     "entity_id": str(record), "changes": changes, "batch_id": batch,
                     "origin": origin})
    for batch, at in import_batches:
        rows.append({"id": uuid.uuid4(), "at": at, "login": AGENTS[0], "action": "insert",
                     "entity": "import", "entity_id": "programmation.xlsx",
                     "changes": {"file": "programmation.xlsx"}, "batch_id": batch,
                     "origin": None})
    with db.write() as session:
        for begin in range(0, len(rows), 5000):
            session.execute(insert(AuditEntry), rows[begin:begin + 5000])
    db.analyze()
    return len(rows)


def median_time(action: Callable[[], Any], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> int:
    from db.database import open_database
    from db.history import agents, journal, record_history
    from db.models import AuditEntry

    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, help="base de tests/bench/generate.py")
    parser.add_argument("--audit", type=int, default=100_000,
                        help="changements à ajouter (0 : garder ceux de la base)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    db = open_database(args.db)
    if args.audit:
        started = time.perf_counter()
        added = add_changes(db, args.audit)
        print(f"{added} entrées d'audit ajoutées en {time.perf_counter() - started:.1f} s")
    with db.read() as session:
        total = session.scalar(select(func.count()).select_from(AuditEntry))
        busiest = session.execute(
            select(AuditEntry.entity_id, func.count()).where(AuditEntry.entity == "operation")
            .group_by(AuditEntry.entity_id).order_by(func.count().desc()).limit(1)).first()
    print(f"Journal : {total} entrées d'audit dans la base")

    def ping() -> None:
        with db.read() as session:
            session.execute(text("SELECT 1"))

    baseline = median_time(ping, args.repeat * 3)
    one_month = date.today() - timedelta(days=400)
    cases: list[tuple[str, Callable[[], Any]]] = [
        ("première page (200 entrées), sans filtre", lambda: journal(db, limit=200)),
        ("page à l'entrée 10 000", lambda: journal(db, limit=200, offset=10_000)),
        ("filtre agent", lambda: journal(db, agent=AGENTS[2], limit=200)),
        ("filtre d'un mois", lambda: journal(db, since=one_month,
                                             until=one_month + timedelta(days=30), limit=200)),
        ("filtre origine « import »", lambda: journal(db, origin="import", limit=200)),
        ("filtre origine « terrain »", lambda: journal(db, origin="terrain", limit=200)),
        ("filtre fiche « école »", lambda: journal(db, record_text="école", limit=200)),
        ("liste des agents", lambda: agents(db)),
    ]
    if busiest is not None:
        cases.append((f"historique de l'opération la plus modifiée ({busiest[1]} entrées)",
                      lambda: record_history(db, "operation", busiest[0])))
    print(f"SELECT 1 : {baseline * 1000:.2f} ms (référence)")
    for label, action in cases:
        result = action()
        rows = len(result.rows) if hasattr(result, "rows") else len(result)
        spent = median_time(action, args.repeat)
        print(f"{label} : {spent * 1000:.1f} ms, {rows} lignes, "
              f"{spent / baseline:.0f} × SELECT 1")
    db.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
