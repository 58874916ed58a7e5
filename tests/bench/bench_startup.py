"""Benchmark of the start-up: from the command to the painted operations list.

    python tests/bench/bench_startup.py --db bench.sqlite [--db postgresql://…/bench] [--runs 5]

Each run is a whole new process, as when the agent double-clicks the launcher:
``main.py --db X --screenshot shot.png --view operations`` starts Python, imports the
application, opens the base, builds the window, shows the operations list and paints it
into a PNG, prints "Capture enregistrée", then quits. The time measured is from the
spawn of the process to that line (the list is on screen), and, apart, to the end of the
process. The baseline, measured in the same run and interleaved with it, is a bare
PySide6 window of the same size painted and saved the same way. Figures are medians of
wall-clock times; the machine is shared and noisy, so the ratio to the baseline is what
to compare between runs.

The sources are compiled to bytecode first (``compileall``), as the installer does: a
machine where Python may not write its caches (``PYTHONDONTWRITEBYTECODE``) would
otherwise compile every module at every start.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

BARE_WINDOW = """
import sys
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
window = QMainWindow()
window.resize(1400, 860)
window.show()
app.processEvents()
window.grab().save(sys.argv[1])
print("Capture enregistrée", flush=True)
"""


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from the spawn to the first line printed (the painted window), and to
    the end of the process."""
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    line = process.stdout.readline()
    painted = time.perf_counter() - started
    _out, errors = process.communicate()
    ended = time.perf_counter() - started
    if process.returncode != 0 or not line.startswith("Capture enregistrée"):
        raise SystemExit(f"Échec de {' '.join(command)} :\n{errors}")
    return painted, ended


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", action="append", required=True,
                        help="base à ouvrir (fichier SQLite ou URL postgresql://…), répétable")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "db", "desktop", "printouts",
                    "main.py"], cwd=ROOT, check=True)

    with tempfile.TemporaryDirectory() as folder:
        # A clean profile: no remembered filters or column widths from another session.
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen",
               "XDG_CONFIG_HOME": folder, "HOME": folder, "PYTHONUNBUFFERED": "1"}
        shot = str(Path(folder) / "shot.png")
        bare = [sys.executable, "-c", BARE_WINDOW, shot]
        apps = {db: [sys.executable, "main.py", "--db", db, "--screenshot", shot,
                     "--view", "operations"] for db in args.db}
        for command in [bare, *apps.values()]:  # warm the file cache once
            timed(command, env)
        times: dict[str, list[tuple[float, float]]] = {"bare": [], **{db: [] for db in apps}}
        for _ in range(args.runs):
            times["bare"].append(timed(bare, env))
            for db, command in apps.items():
                times[db].append(timed(command, env))

    def medians(key: str) -> tuple[float, float]:
        return (statistics.median(t[0] for t in times[key]),
                statistics.median(t[1] for t in times[key]))

    bare_painted, bare_ended = medians("bare")
    print(f"Fenêtre PySide6 nue : peinte en {bare_painted:.2f} s, processus fini en "
          f"{bare_ended:.2f} s (médianes de {args.runs})")
    for db in apps:
        painted, ended = medians(db)
        name = db if "://" in db else Path(db).name
        print(f"Liste des opérations, {name} : peinte en {painted:.2f} s "
              f"({painted / bare_painted:.1f} × la fenêtre nue), processus fini en "
              f"{ended:.2f} s ({ended / bare_ended:.1f} ×)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
