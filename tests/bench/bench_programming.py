"""Benchmark of the programmation: the Enveloppes page and a simulation of 500
candidates where each keystroke updates the totals.

    python tests/bench/generate.py --db bench.sqlite --operations 100000
    python tests/bench/bench_programming.py --db bench.sqlite [--runs 20] [--keys 200]

On a generated base, the benchmark adds (once) the DETR envelopes of the year and
arrondissement that have the most DETR requests, delegated from their département's,
and a simulation of 500 of its candidates. It measures, interleaved in the same run:
- the baselines: ``SELECT 1`` through a read session, and the first page (200 rows)
  of the operations list of that arrondissement, what the window shows on opening;
- the Enveloppes page: the figures of the year's envelopes (db.programming.envelopes,
  SQL aggregates), then the whole page built and loaded (Qt, offscreen);
- the simulation: loading its 500 rows into the editor, and one keystroke in the
  « Proposé » cell (the key, the totals recomputed by difference, the label set).
The machine is shared and noisy: compare the ratios, not the milliseconds.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sqlalchemy import func, select, text  # noqa: E402

from db.database import open_database  # noqa: E402
from db.lists import OPERATIONS, Criteria  # noqa: E402
from db.models import Arrondissement, Envelope, FundingLine, Simulation  # noqa: E402
from db.programming.envelopes import (  # noqa: E402
    EnvelopeData,
    candidate_condition,
    envelope_rows,
    figures_of,
    save_envelope,
)
from db.programming.simulations import create_simulation  # noqa: E402

NAME = "Banc d'essai (500 candidats)"
CANDIDATES = 500


def _median_ms(action, runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        action()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def busiest(db) -> tuple[int, str]:
    """The year and arrondissement with the most DETR funding lines."""
    from db.models import Commune, operation_commune

    with db.read() as session:
        year, code, _count = session.execute(
            select(FundingLine.budget_year, Commune.arrondissement_code, func.count())
            .join(operation_commune,
                  operation_commune.c.operation_id == FundingLine.operation_id)
            .join(Commune, Commune.code == operation_commune.c.commune_code)
            .where(FundingLine.scheme_code == "DETR", FundingLine.budget_year.is_not(None),
                   Commune.arrondissement_code.is_not(None))
            .group_by(FundingLine.budget_year, Commune.arrondissement_code)
            .order_by(func.count().desc()).limit(1)).one()
    return year, code


def prepare(db) -> tuple[int, str, object]:
    """Envelopes of the busiest year and arrondissement (set above what is programmed)
    and a simulation of 500 of its candidates; made once, found again later."""
    year, code = busiest(db)
    with db.read() as session:
        departement = session.get(Arrondissement, code).departement_code
        envelope = session.scalar(select(Envelope).where(
            Envelope.scheme_code == "DETR", Envelope.year == year,
            Envelope.arrondissement_code == code))
        if envelope is None:
            probe = Envelope(scheme_code="DETR", year=year, amount=Decimal(0),
                             departement_code=departement)
            programmed_dep = figures_of(session, probe).programmed
            probe = Envelope(scheme_code="DETR", year=year, amount=Decimal(0),
                             arrondissement_code=code)
            programmed = figures_of(session, probe).programmed
    if envelope is None:
        amount = (programmed * 2).quantize(Decimal("1000")) + 1000
        parent = save_envelope(db, EnvelopeData(
            "DETR", year, max(programmed_dep * 2, amount * 2).quantize(Decimal("1000")),
            departement_code=departement)).id
        envelope_id = save_envelope(db, EnvelopeData("DETR", year, amount,
                                                     arrondissement_code=code,
                                                     parent_id=parent)).id
    else:
        envelope_id = envelope.id
    with db.read() as session:
        simulation_id = session.scalar(select(Simulation.id).where(
            Simulation.envelope_id == envelope_id, Simulation.name == NAME))
        candidates = session.scalar(select(func.count()).select_from(FundingLine).where(
            candidate_condition(session.get(Envelope, envelope_id))))
    if simulation_id is None:
        simulation_id = create_simulation(db, envelope_id, NAME)
        with db.write() as session:  # the bench keeps 500 of them (its own set-up)
            session.execute(text("DELETE FROM simulation_line WHERE simulation_id = :s "
                                 "AND position >= :n"),
                            {"s": simulation_id.hex if db.is_sqlite else simulation_id,
                             "n": CANDIDATES})
    print(f"Arrondissement {code}, DETR {year} : {candidates} lignes candidates, "
          f"simulation de {min(candidates, CANDIDATES)} candidats.")
    return year, code, simulation_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--keys", type=int, default=200)
    args = parser.parse_args(argv)

    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QLineEdit

    from db.queries import ArrondissementRow
    from desktop.app import make_application
    from desktop.envelopes_page import EnvelopesPage
    from desktop.simulation_editor import COL_PROPOSED, SimulationEditor

    db = open_database(args.db)
    with db.read() as session:
        operations = session.scalar(text("SELECT COUNT(*) FROM operation"))
    print(f"Base : {args.db} ({operations} opérations)")
    year, code, simulation_id = prepare(db)
    app = make_application()

    def select_one() -> None:
        with db.read() as session:
            session.execute(text("SELECT 1")).scalar()

    criteria = Criteria(arrondissement=code)

    def first_page() -> None:
        OPERATIONS.page(db, criteria, limit=200)

    def figures() -> None:
        envelope_rows(db, year=year, arrondissement=code)

    with db.read() as session:
        arrondissement = ArrondissementRow(code, session.get(Arrondissement, code).name, "")

    def page() -> None:
        widget = EnvelopesPage(db, arrondissement)
        widget.reload()
        app.processEvents()
        widget.deleteLater()

    with db.read() as session:
        envelope_id = session.get(Simulation, simulation_id).envelope_id
    editor = SimulationEditor(db, envelope_id)
    editor.show()

    def load_simulation() -> None:
        editor.load(simulation_id)
        app.processEvents()

    results: dict[str, list[float]] = {k: [] for k in (
        "select1", "first_page", "figures", "page", "simulation")}
    for _ in range(args.runs):  # interleaved: the noise hits all of them alike
        results["select1"].append(_median_ms(select_one, 5))
        results["first_page"].append(_median_ms(first_page, 1))
        results["figures"].append(_median_ms(figures, 1))
        results["page"].append(_median_ms(page, 1))
    for _ in range(max(args.runs // 4, 3)):
        results["simulation"].append(_median_ms(load_simulation, 1))
    load_simulation()
    rows = editor.model.rowCount()
    totals_before = editor.totals.text()

    table = editor.table
    keystrokes: list[float] = []
    typed = "1234567890"
    for number in range(args.keys // len(typed)):
        index = editor.model.index(number % rows, COL_PROPOSED)
        table.setCurrentIndex(index)
        table.edit(index)
        line = [e for e in table.viewport().findChildren(QLineEdit) if e.isVisible()][0]
        line.selectAll()
        for key in typed:
            started = time.perf_counter()
            QTest.keyClick(line, key)
            app.processEvents()
            keystrokes.append((time.perf_counter() - started) * 1000)
        QTest.keyClick(line, Qt.Key.Key_Escape)
        app.processEvents()
    # Escape put every amount back: the totals are those of the simulation as loaded.
    assert editor.totals.text() == totals_before, "totaux non rétablis"
    editor.close()
    median = {k: statistics.median(v) for k, v in results.items()}
    key = statistics.median(keystrokes)
    base = median["select1"]
    print(f"SELECT 1 (référence)                 : {base:8.3f} ms")
    print(f"Liste des opérations, 1re page       : {median['first_page']:8.2f} ms "
          f"({median['first_page'] / base:6.0f} × SELECT 1)")
    print(f"Chiffres des enveloppes de l'année   : {median['figures']:8.2f} ms "
          f"({median['figures'] / base:6.0f} × SELECT 1, "
          f"{median['figures'] / median['first_page']:4.2f} × 1re page)")
    print(f"Page Enveloppes construite et lue    : {median['page']:8.2f} ms "
          f"({median['page'] / base:6.0f} × SELECT 1, "
          f"{median['page'] / median['first_page']:4.2f} × 1re page)")
    print(f"Simulation de {rows} candidats ouverte : {median['simulation']:8.2f} ms "
          f"({median['simulation'] / median['first_page']:4.2f} × 1re page)")
    print(f"Frappe dans « Proposé » + totaux     : {key:8.3f} ms médiane "
          f"(max {max(keystrokes):.2f} ms, {len(keystrokes)} frappes ; "
          f"{key / base:5.1f} × SELECT 1)")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
