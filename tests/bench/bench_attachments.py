"""Benchmark of the pièces jointes (not a test: it prints figures).

    python tests/bench/bench_attachments.py --db base.sqlite|postgresql://… [--mb 20]
                                            [--rounds 5]

Measures, interleaved in the same run, adding a file of *mb* Mo of random bytes (read,
sha256, stored beside SQLite — temporary name, fsync, rename — or in the database on
PostgreSQL, one audited transaction), reading it back checked against its sha256, and
removing it; the baseline is a plain copy of the same file with shutil.copyfile plus an
fsync. The base must exist (`main.py demo --db X`). Timings are medians; the machine is
shared: compare the ratios, not the milliseconds.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="fichier SQLite ou URL postgresql://…")
    parser.add_argument("--mb", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)

    from sqlalchemy import select

    from db.attachments.service import (
        Owner,
        add_attachment,
        read_attachment,
        remove_attachment,
    )
    from db.database import open_database
    from db.models import Operation

    db = open_database(args.db)
    with db.read() as session:
        operation = session.scalars(select(Operation.id).limit(1)).one()
    work = Path(tempfile.mkdtemp(prefix="bench-pieces-"))
    samples: dict[str, list[float]] = {"copie": [], "ajout": [], "lecture": [],
                                       "suppression": []}
    for round_ in range(args.rounds):
        source = work / f"scan-{round_}.pdf"
        source.write_bytes(os.urandom(args.mb * 1024 * 1024))
        began = time.perf_counter()
        copy = work / "copie.pdf"
        shutil.copyfile(source, copy)
        with open(copy, "rb+") as handle:
            os.fsync(handle.fileno())
        samples["copie"].append(time.perf_counter() - began)
        copy.unlink()
        began = time.perf_counter()
        attachment = add_attachment(db, Owner(operation_id=operation), source)
        samples["ajout"].append(time.perf_counter() - began)
        began = time.perf_counter()
        read_attachment(db, attachment)
        samples["lecture"].append(time.perf_counter() - began)
        began = time.perf_counter()
        remove_attachment(db, attachment, 1)
        samples["suppression"].append(time.perf_counter() - began)
        source.unlink()
    db.close()
    shutil.rmtree(work)
    medians = {k: statistics.median(v) * 1000 for k, v in samples.items()}
    base = medians["copie"]
    print(f"base : {args.db} ; fichier de {args.mb} Mo ; {args.rounds} tours")
    for name, value in medians.items():
        print(f"{name:12} {value:9.1f} ms   {value / base:5.2f} × la copie")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
