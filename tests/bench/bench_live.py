"""Benchmark of the live refresh's poll (db.changes.ChangeFeed).

    python tests/bench/bench_live.py --db bench.sqlite [--db postgresql://…/bench] [--polls 2000]
                                     [--trail 200000]

Measures, on a generated base (tests/bench/generate.py), the cost of one poll on a
quiet base (what the window pays every second), and of the poll that follows another
agent's save (it reads the audit trail). The baseline, measured in the same run and
interleaved with the polls, is a ``SELECT 1`` through a read session of the same base:
the cheapest thing a query can cost. The machine is shared and noisy: compare the
ratios between runs, not the milliseconds.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from sqlalchemy import func, select, text  # noqa: E402

from db.changes import ChangeFeed  # noqa: E402
from db.database import open_database  # noqa: E402
from db.models import AuditEntry, Operation  # noqa: E402
from db.services.organisations import OrganisationData, save_organisation  # noqa: E402


def _timed(action, count: int) -> float:
    """Milliseconds per call, median of batches of *count* / 10 calls."""
    batch = max(count // 10, 1)
    samples = []
    for _ in range(10):
        started = time.perf_counter()
        for _ in range(batch):
            action()
        samples.append((time.perf_counter() - started) * 1000 / batch)
    return statistics.median(samples)


def fill_trail(db, wanted: int) -> None:
    """A generated base has next to no audit trail, an office base years of it: the trail
    is grown to *wanted* entries, dated over the past three years, before measuring."""
    from datetime import UTC, datetime, timedelta

    from db.bulk import insert_rows, new_ids

    with db.read() as session:
        missing = wanted - session.scalar(select(func.count()).select_from(AuditEntry))
    if missing <= 0:
        return
    now = datetime.now(UTC) - timedelta(days=1)
    with db.write() as session:
        for start in range(0, missing, 50_000):
            count = min(50_000, missing - start)
            insert_rows(session.connection(), AuditEntry, {
                "id": new_ids(count), "entity_id": [str(i) for i in range(count)],
                "at": [now - timedelta(minutes=(start + i) % 1_500_000) for i in range(count)],
                "changes": [{"title": ["avant", "après"]}] * count,
            }, constants={"login": "agent", "action": "update", "entity": "operation",
                          "batch_id": None, "origin": "saisie"})
    db.analyze()


def bench(target: str, polls: int, saves: int, trail: int) -> None:
    watcher = open_database(target, create=False)
    writer = open_database(target, create=False)
    fill_trail(writer, trail)
    with watcher.read() as session:
        operations = session.scalar(select(func.count()).select_from(Operation))
        entries = session.scalar(select(func.count()).select_from(AuditEntry))
    feed = ChangeFeed(watcher)

    def select_one() -> None:
        with watcher.read() as session:
            session.execute(text("SELECT 1"))

    def idle_poll() -> None:
        assert feed.poll() is None

    baseline = _timed(select_one, polls)
    idle = _timed(idle_poll, polls)
    baseline_again = _timed(select_one, polls)
    base = (baseline + baseline_again) / 2

    after_save, delays = [], []
    for index in range(saves):
        save_organisation(writer, OrganisationData(name=f"Banc d'essai {time.time()} {index}"))
        saved = time.perf_counter()
        while True:
            started = time.perf_counter()
            found = feed.poll()
            if found is not None:
                after_save.append((time.perf_counter() - started) * 1000)
                delays.append((time.perf_counter() - saved) * 1000)
                break
    changed = statistics.median(after_save)
    print(f"{watcher.display()} — {operations} opérations, {entries} entrées du journal, "
          f"{'écoute' if feed.listening else 'sans écoute'}")
    print(f"  SELECT 1 (référence)          : {base:8.3f} ms")
    print(f"  veille, base au repos         : {idle:8.3f} ms  (× {idle / base:.3f})")
    print(f"  veille après un enregistrement: {changed:8.3f} ms  (× {changed / base:.2f})")
    print(f"  enregistrement → vu par l'autre: {statistics.median(delays):8.3f} ms "
          "(sans l'intervalle d'une seconde entre deux veilles)")
    feed.close()
    watcher.close()
    writer.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", required=True,
                        help="fichier SQLite ou URL postgresql://… (plusieurs possibles)")
    parser.add_argument("--polls", type=int, default=2000)
    parser.add_argument("--saves", type=int, default=20)
    parser.add_argument("--trail", type=int, default=200_000,
                        help="entrées du journal d'audit à avoir dans la base (complétée)")
    args = parser.parse_args()
    for target in args.db:
        bench(target, args.polls, args.saves, args.trail)


if __name__ == "__main__":
    main()
