"""Benchmark of the Tableau de bord on a large database (not a test: it prints figures).

    python tests/bench/bench_dashboard.py --db bench.sqlite [--operations 100000]
        [--arrondissement 591] [--runs 5]
    python tests/bench/bench_dashboard.py --db postgresql://…/bench

Measures, in one process, against a baseline measured in the same run — the operations
list's first page (its footer totals and first 200 rows, as the list's reload does it,
painted):
- the dashboard's first opening: importing matplotlib and the page, building it,
  reading the figures and drawing its five charts;
- a reload (the base changed: both aggregates read again, every chart redrawn);
- a redraw for another budget year (no SQL but the envelopes': the sums are kept);
over the arrondissement and over the whole territory. Timings are medians of
wall-clock times on a shared machine: compare the ratios to the baseline.
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


def _painted(page) -> None:
    """The charts asked for drawn, as the screen shows them: each canvas draws once,
    when the event loop runs (matplotlib's draw_idle), then paints."""
    from PySide6.QtWidgets import QApplication

    for _ in range(3):
        QApplication.processEvents()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="fichier SQLite ou URL postgresql://…")
    parser.add_argument("--operations", type=int, default=100_000)
    parser.add_argument("--arrondissement", default="591")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    if "://" not in args.db and not Path(args.db).exists():
        from tests.bench.generate import generate

        generate(args.db, args.operations)

    from PySide6.QtWidgets import QApplication

    from db import queries
    from db.database import open_database
    from db.lists import OPERATIONS, Criteria
    from desktop.app import make_application
    from desktop.list_pages import ListPage

    make_application()
    db = open_database(args.db)
    arrondissement = next((a for a in queries.arrondissements(db)
                           if a.code == args.arrondissement), None)
    operations = ListPage(db, OPERATIONS, "Opérations", ("opération", "opérations"),
                          arrondissement)
    operations.resize(1220, 760)
    operations.show()
    QApplication.processEvents()

    def first_page(whole: bool) -> float:
        operations.scope.blockSignals(True)
        operations.scope.setCurrentIndex(operations.scope.count() - 1 if whole else 0)
        operations.scope.blockSignals(False)
        began = time.perf_counter()
        operations.reload()
        QApplication.processEvents()
        return time.perf_counter() - began

    # The first opening, once per process (matplotlib is imported then).
    began = time.perf_counter()
    from desktop.dashboard_page import DashboardPage

    imported = time.perf_counter() - began
    page = DashboardPage(db, arrondissement)
    page.resize(1220, 760)
    page.show()  # its showEvent reads the figures and draws
    _painted(page)
    opened = time.perf_counter() - began
    opened_list = first_page(False)

    results: dict[str, dict[str, list[float]]] = {}
    for whole in (False, True):
        scope = "tout le territoire" if whole else f"arrondissement {args.arrondissement}"
        page.scope.blockSignals(True)
        page.scope.setCurrentIndex(page.scope.count() - 1 if whole else 0)
        page.scope.blockSignals(False)
        times: dict[str, list[float]] = {"list": [], "reload": [], "year": []}
        page.reload()
        years = [page.year.itemData(i) for i in range(page.year.count())]
        for run in range(args.runs):
            times["list"].append(first_page(whole))
            began = time.perf_counter()
            page.reload()
            _painted(page)
            times["reload"].append(time.perf_counter() - began)
            page.year.blockSignals(True)
            page.year.setCurrentIndex(1 + run % max(len(years) - 1, 1)
                                      if len(years) > 1 else 0)
            page.year.blockSignals(False)
            began = time.perf_counter()
            page.redraw(year_only=True)
            _painted(page)
            times["year"].append(time.perf_counter() - began)
        results[scope] = times

    total = OPERATIONS.count(db, Criteria())
    print(f"base : {args.db} ({total} opérations)")
    where = arrondissement.label if arrondissement else "tout le territoire"
    print(f"première ouverture du tableau de bord ({where}) : "
          f"{opened * 1000:.0f} ms, dont import de matplotlib et de la page "
          f"{imported * 1000:.0f} ms ; première page de la liste des opérations "
          f"{opened_list * 1000:.0f} ms ; rapport {opened / opened_list:.1f}×")
    for scope, times in results.items():
        base = statistics.median(times["list"])
        reload = statistics.median(times["reload"])
        year = statistics.median(times["year"])
        print(f"{scope} : première page de la liste {base * 1000:.0f} ms ; tableau de bord "
              f"relu et redessiné {reload * 1000:.0f} ms ({reload / base:.1f}×) ; autre "
              f"exercice {year * 1000:.0f} ms ({year / base:.1f}×) — médianes de {args.runs}")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
