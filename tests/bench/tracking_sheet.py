"""A deterministic agents' tracking sheet of N rows, for the import benchmark.

    python tests/bench/tracking_sheet.py --rows 100000 -o suivi.xlsx

One row per funding line, as agents keep them: two title rows above the header,
operations of two or three rows sharing their reference, communes by name (in
capitals, without hyphens, now and then) or by INSEE code, amounts as numbers
and, one row in ten, as French text (``1 234,56 €``), dates as Excel dates or
text, a few rows with mistakes (an unknown commune, an ambiguous amount) and a
totals row at the end.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.bench.generate import PROJECTS  # noqa: E402

HEADERS = ["N° dossier", "Intitulé de l'opération", "Maître d'ouvrage", "Commune",
           "Coût HT", "Financeur", "Dispositif", "Montant sollicité", "Montant accordé",
           "Date de décision", "Exercice"]
FINANCERS = [  # financer, scheme, share of the cost
    ("État", "DETR", 0.35), ("État", "DSIL", 0.30), ("État", "FNADT", 0.20),
    ("Région Hauts-de-France", None, 0.15), ("Département du Nord", None, 0.20),
    ("Union européenne", "FEDER", 0.25),
]


def french(cents: int) -> str:
    euros, rest = divmod(cents, 100)
    grouped = f"{euros:,}".replace(",", "\u202f")
    return f"{grouped},{rest:02d} €"


def rows(count: int, communes: list[tuple[str, str]], seed: int = 5) -> list[list]:
    rng = random.Random(seed)
    out: list[list] = []
    number = 0
    while len(out) < count:
        number += 1
        code, name = rng.choice(communes)
        place = rng.random()
        commune = code if place < 0.3 else (name.upper().replace("-", " ") if place < 0.5
                                           else name)
        owner = f"Commune de {name}"
        cost = rng.randrange(20_000, 3_000_000) * 100
        year = rng.randrange(2019, 2027)
        decided = date(year, 3, 1) + timedelta(days=rng.randrange(200))
        reference = f"DOS-{year}-{number:06d}"
        title = f"{rng.choice(PROJECTS)} ({name})"
        for financer, scheme, share in rng.sample(FINANCERS, rng.choice((2, 3))):
            if len(out) >= count:
                break
            requested = int(cost * share) // 100 * 100
            granted = requested if rng.random() < 0.6 else None
            as_text = rng.random() < 0.1
            out.append([
                reference, title, owner, commune,
                french(cost) if as_text else cost / 100,
                financer, scheme,
                french(requested) if as_text else requested / 100,
                (french(granted) if as_text else granted / 100) if granted else None,
                (decided.strftime("%d/%m/%Y") if as_text else decided) if granted else None,
                year,
            ])
    for index in range(0, count, 5000):  # now and then, an agent's mistake
        out[index][3] = "Commune inconnue"
    for index in range(2500, count, 10000):
        out[index][7] = "12,345"
    return out


def write(path: Path, count: int, communes: list[tuple[str, str]], seed: int = 5) -> None:
    import xlsxwriter

    data = rows(count, communes, seed)
    book = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    sheet = book.add_worksheet("Suivi")
    money = book.add_format({"num_format": "#,##0.00 €"})
    day = book.add_format({"num_format": "dd/mm/yyyy"})
    sheet.write_row(0, 0, ["Sous-préfecture d'Avesnes-sur-Helpe"])
    sheet.write_row(1, 0, ["Suivi des subventions d'investissement"])
    sheet.write_row(3, 0, HEADERS)
    for index, row in enumerate(data):
        for column, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, date):
                sheet.write_datetime(4 + index, column, value, day)
            elif isinstance(value, float):
                sheet.write_number(4 + index, column, value, money)
            else:
                sheet.write(4 + index, column, value)
    total = 4 + len(data)
    sheet.write(total, 0, "Total")
    sheet.write_formula(total, 4, f"=SUM(E5:E{total})", money)
    book.close()


def nord_communes(db) -> list[tuple[str, str]]:
    from sqlalchemy import select

    from db.models import Commune

    with db.read() as session:
        return [tuple(row) for row in session.execute(
            select(Commune.code, Commune.name).where(Commune.departement_code == "59")
            .order_by(Commune.code))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args(argv)
    import tempfile

    from db.database import open_database

    db = open_database(Path(tempfile.mkdtemp()) / "geographie.sqlite")
    write(args.output, args.rows, nord_communes(db))
    return 0


if __name__ == "__main__":
    sys.exit(main())
