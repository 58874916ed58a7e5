"""Benchmark: the annexe financière of a 500-operation contract (not a test).

    python tests/bench/bench_printouts.py [--operations 500]

Builds a database with one contract of N operations (the generator, then all its
operations gathered under one contract), and measures in the same run:
- reading the annex's data from the database;
- rendering the annex to PDF;
- a bare reportlab table of the same cells (same fonts, page-sized tables, no
  header, footer nor fingerprint): the baseline.
Medians of 5 runs; compare the ratio, the machine is shared.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


def median_time(work, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--operations", type=int, default=500)
    args = parser.parse_args(argv)

    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.platypus import SimpleDocTemplate, Table, TableStyle
    from sqlalchemy import delete, select

    from db import documents
    from db.database import open_database
    from db.formatting import euros
    from db.models import Contract, Operation, OperationLink
    from printouts.pdf import render
    from tests.bench.generate import generate

    folder = Path(tempfile.mkdtemp())
    path = folder / "bench.sqlite"
    generate(str(path), args.operations, seed=11)
    db = open_database(path)
    with db.write() as session:
        contract_id = session.scalar(select(OperationLink.contract_id).limit(1))
        session.execute(delete(OperationLink).where(OperationLink.contract_id != contract_id))
        linked = set(session.scalars(select(OperationLink.operation_id)))
        for operation_id in session.scalars(select(Operation.id)):
            if operation_id not in linked:
                session.add(OperationLink(operation_id=operation_id, contract_id=contract_id))
        reference = session.scalar(select(Contract.reference).where(Contract.id == contract_id))

    data = documents.annex(db, reference)
    lines = sum(len(axis.lines) for axis in data.axes)
    read = median_time(lambda: documents.annex(db, reference))
    rendered = median_time(lambda: render(data))
    pdf = render(data)

    cells = [[f"{line.reference} — {line.title}", line.owner, line.communes, euros(line.cost),
              *[euros(line.granted[g].value) for g in data.groups], euros(line.pending.value),
              euros(line.own_share)]
             for axis in data.axes for line in axis.lines]
    rows_per_table = 35  # page-sized plain tables: one huge table lays out slower than linear

    def bare() -> bytes:
        buffer = io.BytesIO()
        document = SimpleDocTemplate(buffer, pagesize=landscape(A4))
        story = []
        for start in range(0, len(cells), rows_per_table):
            table = Table(cells[start:start + rows_per_table])
            table.setStyle(TableStyle([("FONTNAME", (0, 0), (-1, -1), "Cond"),
                                       ("FONTSIZE", (0, 0), (-1, -1), 7.5)]))
            story.append(table)
        document.build(story)
        return buffer.getvalue()

    baseline = median_time(bare)
    print(f"contrat {reference} : {lines} opérations, PDF de {len(pdf) // 1024} Ko")
    print(f"lecture des données de l'annexe : médiane {read * 1000:.0f} ms")
    print(f"rendu PDF de l'annexe : médiane {rendered * 1000:.0f} ms")
    print(f"annexe complète (lecture + rendu) : {(read + rendered) * 1000:.0f} ms")
    print(f"tableau reportlab nu des mêmes cellules : médiane {baseline * 1000:.0f} ms ; "
          f"rapport du rendu {rendered / baseline:.2f}×")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
