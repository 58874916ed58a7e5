"""Benchmark of the workspace on a large database (not a test: it prints figures).

    python tests/bench/bench_workspace.py --db bench.sqlite [--operations 100000]

Measures, in the same run:
- a search keystroke in the operations list (count, first page and footer totals,
  as the GUI does it), against the bare SQL that gives the same rows;
- opening an operation editor;
- scrolling: how many rows the model holds after scrolling, against the total;
- the peak memory of the process.
Timings are medians; they vary with the machine's load, so compare the ratio with
the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import sqlite3
import statistics
import sys
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

WORDS = ["ecole", "mairie", "maubeuge", "renovation energetique", "salle polyvalente",
         "voirie", "amiens", "creation mediatheque", "assainissement", "eglise"]


def keystrokes(words: list[str]) -> list[str]:
    """Every prefix the agent types, from 2 letters on (one list update per key)."""
    return [word[:n] for word in words for n in range(2, len(word) + 1)
            if not word[:n].endswith(" ")]


def bare_sql(path: Path, query: str) -> float:
    """The same rows as the list's first page and count, straight from sqlite3."""
    from db.search import words

    terms = " ".join(f'"{t}"*' for t in words(query))
    connection = sqlite3.connect(path)
    started = time.perf_counter()
    connection.execute("SELECT count(*) FROM operation WHERE rowid IN (SELECT rowid FROM "
                       "operation_fts WHERE operation_fts MATCH ?)", (terms,)).fetchone()
    connection.execute("SELECT id, reference, title, status, cost_ht_cents, "
                       "granted_total_cents, paid_total_cents FROM operation WHERE rowid IN "
                       "(SELECT rowid FROM operation_fts WHERE operation_fts MATCH ?) "
                       "ORDER BY reference LIMIT 200", (terms,)).fetchall()
    elapsed = time.perf_counter() - started
    connection.close()
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--operations", type=int, default=100_000)
    args = parser.parse_args(argv)
    if not args.db.exists():
        from tests.bench.generate import generate

        generate(str(args.db), args.operations)

    from PySide6.QtWidgets import QApplication

    from db.database import open_database
    from db.editing import choices
    from db.lists import OPERATIONS, Criteria
    from desktop.app import make_application
    from desktop.choice_models import ChoiceModels
    from desktop.main_window import MainWindow
    from desktop.operation_editor import OperationEditor

    make_application()
    db = open_database(args.db)
    started = time.perf_counter()
    window = MainWindow(db)
    window.show()
    window.show_view("operations")
    QApplication.processEvents()
    window_seconds = time.perf_counter() - started
    page = window.pages["operations"]
    page.scope.setCurrentIndex(page.scope.count() - 1)  # the whole territory
    total = page.model.total

    typed = keystrokes(WORDS)
    gui, sql = [], []
    for text in typed:
        page.search.blockSignals(True)  # time the update itself, not the typing delay
        page.search.setText(text)
        page.search.blockSignals(False)
        began = time.perf_counter()
        page.reload()
        QApplication.processEvents()
        gui.append(time.perf_counter() - began)
        sql.append(bare_sql(args.db, text))

    page.search.clear()
    page.reload()
    for _ in range(10):
        page.table.scrollToBottom()
        QApplication.processEvents()
    held = page.model.rowCount()

    ids = [row["id"] for row in OPERATIONS.page(db, Criteria(), limit=2000)]
    random.Random(3).shuffle(ids)
    editor_choices_started = time.perf_counter()
    cached = ChoiceModels(choices(db))
    choices_seconds = time.perf_counter() - editor_choices_started
    editors = []
    for operation_id in ids[:20]:
        began = time.perf_counter()
        editor = OperationEditor(db, cached, operation_id)
        editor.show()
        QApplication.processEvents()
        editors.append(time.perf_counter() - began)
        editor.original = None
        editor.close()

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    gui_ms, sql_ms = statistics.median(gui) * 1000, statistics.median(sql) * 1000
    print(f"base : {args.db} ({total} opérations)")
    print(f"ouverture de la fenêtre (listes comprises) : {window_seconds * 1000:.0f} ms")
    print(f"frappe dans la recherche ({len(typed)} frappes) : médiane {gui_ms:.1f} ms, "
          f"90e centile {sorted(gui)[int(len(gui) * 0.9)] * 1000:.1f} ms")
    print(f"même résultat en SQL nu : médiane {sql_ms:.1f} ms ; rapport {gui_ms / sql_ms:.1f}×")
    print(f"ouverture d'un éditeur d'opération (20 fiches) : médiane "
          f"{statistics.median(editors) * 1000:.0f} ms (listes de choix chargées une fois "
          f"en {choices_seconds * 1000:.0f} ms)")
    print(f"défilement : {held} lignes en mémoire après 10 défilements jusqu'en bas, "
          f"sur {total}")
    print(f"mémoire maximale du processus : {peak_mb:.0f} Mo")
    db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
