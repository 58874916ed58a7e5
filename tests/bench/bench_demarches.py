"""Benchmark: importing a Démarches numériques export, then a later one (not a test).

    python tests/bench/bench_demarches.py [--dossiers 2000] [--runs 3]

Builds an export of N dossiers (tests/demarches_fixtures.py, xlsx) and a fresh base
(geography, arrondissement 591), then measures in the same run:
- the baseline: ``pandas.read_excel(engine="calamine")`` of the Dossiers sheet;
- the first import: analyse (reading, mapping, owners, rules) and apply;
- the analysis and apply of a later export of the same démarche, in which every
  dossier is matched to its operation (three changed, one new, the rest unchanged).
Medians of ``--runs`` runs; compare the ratios, the machine is shared.
"""

from __future__ import annotations

import argparse
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
    parser.add_argument("--dossiers", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)

    import pandas as pd

    from db.database import open_database
    from db.services.settings import set_arrondissement
    from db.spreadsheets import importer
    from tests import demarches_fixtures as fx

    folder = Path(tempfile.mkdtemp(prefix="bench-demarches-"))
    first = fx.dossiers(args.dossiers)
    path = fx.export(folder, "xlsx", first)
    later = fx.export(folder, "xlsx", fx.later(first), fx.LATER_STEM)
    template = folder / "vide.sqlite"
    database = open_database(template)
    set_arrondissement(database, "591")
    database.close()

    figures: dict[str, list[float]] = {k: [] for k in (
        "baseline", "analyse", "apply", "later_analyse", "later_apply")}
    for run in range(args.runs):
        base = folder / f"base-{run}.sqlite"
        shutil.copyfile(template, base)
        db = open_database(base)
        figures["baseline"].append(timed(pd.read_excel, path, sheet_name="Dossiers",
                                         engine="calamine")[0])
        seconds, report = timed(importer.analyse, db, path)
        figures["analyse"].append(seconds)
        figures["apply"].append(timed(importer.apply, db, report)[0])
        seconds, report = timed(importer.analyse, db, later)
        figures["later_analyse"].append(seconds)
        assert len(report.updated) == 3 and len(report.operations) == 1
        figures["later_apply"].append(timed(importer.apply, db, report)[0])
        db.close()
    median = {k: statistics.median(v) for k, v in figures.items()}
    baseline = median["baseline"]
    print(f"{args.dossiers} dossiers, médiane de {args.runs} passage(s) :")
    for key, label in (("baseline", "lecture pandas (référence)"),
                       ("analyse", "analyse du premier export"),
                       ("apply", "import (écriture)"),
                       ("later_analyse", "analyse de l'export ultérieur"),
                       ("later_apply", "mise à jour (écriture)")):
        print(f"  {label:34} {median[key]:7.3f} s  ({median[key] / baseline:5.1f} × la "
              "référence)")
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
