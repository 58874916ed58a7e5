"""Benchmark of field copies: check-out of an arrondissement against a plain SQLite backup
of the same base (same run), and check-in of a copy with edited operations.

    python tests/bench/bench_field.py --db BASE.sqlite --arrondissement 621 [--edits 1000]
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path

from sqlalchemy import select


def _backup(source: Path, target: Path) -> float:
    started = time.perf_counter()
    reader, writer = sqlite3.connect(source), sqlite3.connect(target)
    reader.backup(writer)
    writer.close()
    reader.close()
    return time.perf_counter() - started


def main() -> int:
    from db.database import open_database
    from db.field import Scope, checkin, checkout
    from db.field.checkout import blank_base
    from db.models import Operation

    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--arrondissement", default="621")
    parser.add_argument("--edits", type=int, default=1000)
    args = parser.parse_args()
    blank_base()  # built once per version of the application, not per copy
    with tempfile.TemporaryDirectory() as folder:
        office_path = Path(folder) / "bureau.sqlite"
        _backup(args.db, office_path)
        baseline = min(_backup(office_path, Path(folder) / f"b{i}.sqlite") for i in range(3))
        office = open_database(office_path)
        started = time.perf_counter()
        result = checkout(office, Scope("arrondissement", (args.arrondissement,)),
                          Path(folder) / "copie.sqlite")
        took = time.perf_counter() - started
        print(f"sauvegarde SQLite de la base : {baseline:.3f} s")
        print(f"sortie de {result.counts['operation']} opérations : {took:.3f} s "
              f"({took / baseline:.1f} × la sauvegarde)")
        copy = open_database(result.path, create=False)
        with copy.write() as session:  # retitled through the ORM, audited like an editor
            for operation in session.scalars(select(Operation).limit(args.edits)):
                operation.title = f"{operation.title} (terrain)"
        copy.close()
        started = time.perf_counter()
        report = checkin(office, result.path)
        took = time.perf_counter() - started
        print(f"retour de {report.updated.get('operation', 0)} opérations modifiées : "
              f"{took:.3f} s ({took / baseline:.1f} × la sauvegarde, dont la sauvegarde "
              "de la base faite avant la fusion)")
        office.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
