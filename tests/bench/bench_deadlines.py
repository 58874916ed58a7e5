"""Benchmark of the Échéances page on a large base (not a test: it prints figures).

    python tests/bench/bench_deadlines.py --db bench.sqlite|postgresql://… [--arrondissement 591]
                                          [--rounds 7]

Measures, interleaved in the same run, the load of the Échéances page (its deadlines
computed and shown: db.deadlines then the table) and, as the baseline, the load of the
first page of the operations list (count, first 200 rows and footer totals), both over
the same arrondissement and then over the whole base; also the notice at opening.
Timings are medians; the machine is shared: compare the ratios, not the milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def _median_ms(action, rounds: int) -> float:
    samples = []
    for _ in range(rounds):
        began = time.perf_counter()
        action()
        samples.append(time.perf_counter() - began)
    return statistics.median(samples) * 1000


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="fichier SQLite ou URL postgresql://…")
    parser.add_argument("--operations", type=int, default=100_000)
    parser.add_argument("--arrondissement", default="591")
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args(argv)
    if "://" not in args.db and not Path(args.db).exists():
        from tests.bench.generate import generate

        generate(str(args.db), args.operations)

    from PySide6.QtWidgets import QApplication

    from db import lists, queries
    from db.database import open_database
    from db.deadlines import opening_notice
    from desktop.app import make_application
    from desktop.deadlines_page import HORIZONS, DeadlinesPage
    from desktop.list_pages import ListPage

    make_application()
    db = open_database(args.db)
    rows = {row.code: row for row in queries.arrondissements(db)}
    print(f"base : {args.db}")
    for scope in (rows[args.arrondissement], None):
        operations = ListPage(db, lists.OPERATIONS, "Opérations", ("opération", "opérations"),
                              scope)
        deadlines = DeadlinesPage(db, scope)
        operations.resize(1300, 800)
        deadlines.resize(1300, 800)
        operations.show()
        deadlines.show()
        QApplication.processEvents()

        def load(page) -> None:
            page.reload()
            QApplication.processEvents()
            while getattr(page, "loading", False):  # the Échéances read in a worker thread
                QApplication.processEvents()
                time.sleep(0.001)

        measured = {}
        for index, (label, _days, _overdue) in enumerate(HORIZONS):
            deadlines.horizon.blockSignals(True)
            deadlines.horizon.setCurrentIndex(index)
            deadlines.horizon.blockSignals(False)
            baseline, page = [], []
            for _ in range(args.rounds):  # interleaved: both see the same load
                baseline.append(_median_ms(lambda p=operations: load(p), 1))
                page.append(_median_ms(lambda p=deadlines: load(p), 1))
            measured[label] = (statistics.median(page), statistics.median(baseline),
                               deadlines.model.rowCount())
        code = scope.code if scope else None
        notice_ms = _median_ms(lambda c=code: opening_notice(db, arrondissement=c),
                               args.rounds)
        where = scope.label if scope else "toute la base"
        print(f"{where} : liste des opérations, première page {operations.model.total} "
              f"opérations")
        for label, (page_ms, base_ms, count) in measured.items():
            print(f"  Échéances « {label} » : {count} lignes, {page_ms:.0f} ms ; première page "
                  f"des opérations {base_ms:.0f} ms ; rapport {page_ms / base_ms:.2f}×")
        print(f"  avis à l'ouverture (60 jours) : {notice_ms:.0f} ms (hors du fil de la "
              "fenêtre)")
        operations.close()
        deadlines.close()
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
