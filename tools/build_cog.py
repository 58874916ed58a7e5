"""Rebuild the compact COG shipped in resources/cog/ from the Etalab JSON files.

Usage: python tools/build_cog.py ../shared/reference/cog-2026 resources/cog/2026

Keeps only what the application uses (communes actuelles, arrondissements,
EPCI and their members) as gzip-compressed CSV, written deterministically so
that a rebuild from the same source gives the same bytes.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import sys
from pathlib import Path


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    data = buffer.getvalue().encode("utf-8")
    if path.suffix == ".gz":
        data = gzip.compress(data, compresslevel=9, mtime=0)
    path.write_bytes(data)


def main(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)

    def load(name: str) -> list[dict]:
        return json.loads((source / name).read_text(encoding="utf-8"))

    write_csv(target / "regions.csv", ["code", "nom"],
              [[r["code"], r["nom"]] for r in load("regions.json")])
    write_csv(target / "departements.csv", ["code", "nom", "region", "liaison"],
              [[d["code"], d["nom"], d["region"], d.get("typeLiaison", "")]
               for d in load("departements.json")])
    write_csv(target / "arrondissements.csv", ["code", "nom", "departement", "chef_lieu"],
              [[a["code"], a["nom"], a["departement"], a.get("chefLieu", "")]
               for a in load("arrondissements.json")])
    communes = [c for c in load("communes.json") if c["type"] == "commune-actuelle"]
    write_csv(target / "communes.csv.gz",
              ["code", "nom", "departement", "arrondissement", "siren", "population",
               "codes_postaux"],
              [[c["code"], c["nom"], c["departement"], c.get("arrondissement", ""),
                c.get("siren", ""), c.get("population", ""),
                " ".join(c.get("codesPostaux", []))] for c in communes])
    epcis = load("epci.json")
    write_csv(target / "epci.csv.gz", ["code", "nom", "type", "financement", "population"],
              [[e["code"], e["nom"], e["type"], e.get("modeFinancement", ""),
                e.get("populationMunicipale", "")] for e in epcis])
    write_csv(target / "epci_membres.csv.gz", ["epci", "commune"],
              [[e["code"], m["code"]] for e in epcis for m in e["membres"]])


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
