"""Benchmark: importing and exporting 100 000-row spreadsheets (not a test).

    python tests/bench/bench_spreadsheets.py [--rows 100000] [--runs 3]

Makes a tracking sheet of N rows (tests/bench/tracking_sheet.py) and a new
database (geography, arrondissement 591), then measures in the same run:
- the baseline: ``pandas.read_excel(engine="calamine")`` of the sheet;
- the import: reading, checking every row and every plan (analyse), then
  writing (apply), each time into a fresh copy of the same database;
- the export of the funding-lines list (one row per funding line) to xlsx, and
  its baseline: a bare ``DataFrame.to_excel`` of the same cells.
Medians of ``--runs`` runs; compare the ratios, the machine is shared.
"""

from __future__ import annotations

import argparse
import gc
import resource
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def timed(work, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = work(*args, **kwargs)
    return time.perf_counter() - started, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--postgresql", metavar="URL", help="import into new databases of "
                        "this server instead of SQLite, e.g. postgresql://postgres@127.0.0.1")
    args = parser.parse_args(argv)

    import pandas as pd
    from sqlalchemy import func, select

    from db.bulk import DRIVER_SECONDS
    from db.database import open_database
    from db.lists import FUNDING_LINES, Criteria
    from db.models import AuditEntry, FundingLine, Operation
    from db.services.settings import set_setting
    from db.spreadsheets import importer
    from db.spreadsheets.export import ExportColumn, _cell, export_list
    from db.spreadsheets.reading import read_sheet
    from tests.bench import tracking_sheet

    folder = Path(tempfile.mkdtemp())
    template = folder / "modele.sqlite"
    db = open_database(template)
    set_setting(db, "arrondissement", "591")
    sheet = folder / "suivi.xlsx"
    tracking_sheet.write(sheet, args.rows, tracking_sheet.nord_communes(db))
    db.close()
    print(f"Feuille de {args.rows} lignes : {sheet.stat().st_size / 1e6:.1f} Mo")

    # Time spent in the rules of each plan, measured inside the analysis.
    rules_seconds = [0.0]
    check_rules = importer._Reader.check_rules

    def timed_rules(self, *args, **kwargs):
        started = time.perf_counter()
        check_rules(self, *args, **kwargs)
        rules_seconds[0] += time.perf_counter() - started
    importer._Reader.check_rules = timed_rules

    baseline, reading, analysis, writing = [], [], [], []
    report = None
    for run in range(args.runs):
        report = None  # as the import dialog does: one report in memory at a time
        gc.collect()
        baseline.append(timed(lambda: pd.read_excel(sheet, engine="calamine", header=None))[0])
        reading.append(timed(lambda: read_sheet(sheet))[0])
        target = fresh_database(folder, template, run, args.postgresql)
        seconds, report = timed(importer.analyse, target, sheet)
        analysis.append(seconds)
        writing.append(timed(importer.apply, target, report)[0])
        with target.read() as session:
            stored = session.scalar(select(func.count()).select_from(Operation))
            lines = session.scalar(select(func.count()).select_from(FundingLine))
            audited = session.scalar(select(func.count()).select_from(AuditEntry))
        assert stored == report.imported_operations, (stored, report.imported_operations)
        if run < args.runs - 1:
            target.close()

    def median(values: list[float]) -> float:
        return statistics.median(values)

    total = median([a + w for a, w in zip(analysis, writing, strict=True)])
    print(f"Lignes lues {report.rows_read}, valides {report.valid}, en erreur "
          f"{len({f.row for f in report.errors})}, doublons {len(report.duplicates)} ; "
          f"{stored} opérations, {lines} financements, {audited} entrées d'historique")
    print(f"read_excel (calamine), référence : {median(baseline):.2f} s")
    print(f"  dont lecture de la feuille par l'import : {median(reading):.2f} s")
    print(f"  dont règles de financement de chaque opération : "
          f"{rules_seconds[0] / args.runs:.2f} s par analyse")
    print(f"  dont écriture par la base (executemany ou COPY, hors validation finale) : "
          f"{DRIVER_SECONDS[0] / args.runs:.2f} s par import")
    print(f"import : analyse {median(analysis):.2f} s + écriture {median(writing):.2f} s "
          f"= {total:.2f} s, soit {total / median(baseline):.2f}× la référence")

    # Export of the funding-lines list: one row per funding line.
    exported, bare = [], []
    for run in range(args.runs):
        out = folder / f"export-{run}.xlsx"
        seconds, count = timed(export_list, target, FUNDING_LINES, Criteria(), out)
        exported.append(seconds)
        columns = [ExportColumn.of(c) for c in FUNDING_LINES.columns]
        rows = FUNDING_LINES.page(target, Criteria(), limit=None)
        frame = pd.DataFrame([[_cell(row.get(c.key), c.kind) for c in columns] for row in rows],
                             columns=[c.label for c in columns])
        bare.append(timed(frame.to_excel, folder / "nu.xlsx", index=False)[0])
    print(f"export de {count} lignes : {median(exported):.2f} s ; DataFrame.to_excel nu "
          f"{median(bare):.2f} s, soit {median(exported) / median(bare):.2f}×")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"mémoire maximale du processus : {peak:.0f} Mo")
    target.close()
    shutil.rmtree(folder)
    if args.postgresql:
        for run in range(args.runs):
            _admin(args.postgresql, f"DROP DATABASE IF EXISTS bench_import_{run}")
    return 0


def _admin(server: str, statement: str) -> None:
    from sqlalchemy import create_engine

    engine = create_engine(f"{server.replace('postgresql://', 'postgresql+psycopg://')}"
                           "/postgres", isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.exec_driver_sql(statement)
    engine.dispose()


def fresh_database(folder: Path, template: Path, run: int, server: str | None):
    """A new database with the geography and arrondissement 591 (made outside the timing)."""
    from db.database import open_database
    from db.services.settings import set_setting

    if server is None:
        copy = folder / f"import-{run}.sqlite"
        shutil.copy(template, copy)
        return open_database(copy)
    name = f"bench_import_{run}"
    _admin(server, f"DROP DATABASE IF EXISTS {name}")
    _admin(server, f"CREATE DATABASE {name}")
    db = open_database(f"{server}/{name}")
    set_setting(db, "arrondissement", "591")
    return db


if __name__ == "__main__":
    sys.exit(main())
