"""Benchmark: does the window stay responsive while a 100 000-row sheet is imported?

    QT_QPA_PLATFORM=offscreen python tests/bench/bench_import_gui.py [--rows 100000]

Opens the real import dialog on a generated tracking sheet, runs the analysis and
then the import as the buttons do (off the GUI thread, with the progress dialog),
while a 20 ms timer on the GUI thread notes when it gets to run. The longest wait
between two ticks is how long the window could not answer the agent.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))


class Ticks:
    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.times: list[float] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(lambda: self.times.append(time.perf_counter()))

    def during(self, work) -> tuple[float, float, float, int]:
        """(seconds, longest gap, 99th percentile gap, gaps over 100 ms)."""
        self.times = [time.perf_counter()]
        self.timer.start()
        started = time.perf_counter()
        work()
        seconds = time.perf_counter() - started
        self.timer.stop()
        self.times.append(time.perf_counter())
        gaps = [b - a for a, b in zip(self.times, self.times[1:], strict=False)]
        ordered = sorted(gaps)
        return (seconds, max(gaps), ordered[int(len(ordered) * 0.99)],
                sum(1 for g in gaps if g > 0.1))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args(argv)

    from PySide6.QtWidgets import QMessageBox

    from db.database import open_database
    from db.services.settings import set_setting
    from desktop.app import make_application
    from desktop.import_dialog import ImportDialog, undo_last_import
    from tests.bench import tracking_sheet

    app = make_application()
    folder = Path(tempfile.mkdtemp())
    db = open_database(folder / "bench.sqlite")
    set_setting(db, "arrondissement", "591")
    sheet = folder / "suivi.xlsx"
    # Made in another process, so that the peak memory below is the application's.
    subprocess.run([sys.executable, tracking_sheet.__file__, "--rows", str(args.rows),
                    "-o", str(sheet)], check=True)
    QMessageBox.information = staticmethod(lambda *a, **k: None)  # the "done" message
    QMessageBox.question = staticmethod(  # "remove the last import?"
        lambda *a, **k: QMessageBox.StandardButton.Yes)

    dialog = ImportDialog(db, sheet)
    dialog.show()
    app.processEvents()
    ticks = Ticks()
    for label, work in (("analyse (bouton Réanalyser)", dialog.analyse),
                        ("analyse, deuxième fois", dialog.analyse),
                        ("import (bouton Importer)", dialog.import_rows),
                        ("retrait (Fichier › Annuler le dernier import)",
                         lambda: undo_last_import(db, dialog))):
        seconds, longest, p99, long_gaps = ticks.during(work)
        print(f"{label} : {seconds:.1f} s ; fenêtre sans réponse au plus {longest * 1000:.0f} ms "
              f"(99e centile {p99 * 1000:.0f} ms, {long_gaps} attentes > 100 ms)")
        if label.startswith("analyse"):
            shown = dialog.rows.model().rowCount()
            print(f"  lignes affichées dans l'aperçu : {shown}")
            started = time.perf_counter()
            dialog.show_report(dialog.report)
            print(f"  affichage du rapport : {(time.perf_counter() - started) * 1000:.0f} ms")
            switch = []
            for index in range(dialog.shown.count()):
                started = time.perf_counter()
                dialog.shown.setCurrentIndex(index)
                app.processEvents()
                switch.append(time.perf_counter() - started)
            dialog.shown.setCurrentIndex(0)
            print(f"  changement du filtre « Afficher » : médiane "
                  f"{statistics.median(switch) * 1000:.0f} ms")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"mémoire maximale du processus : {peak:.0f} Mo")
    return 0


if __name__ == "__main__":
    sys.exit(main())
