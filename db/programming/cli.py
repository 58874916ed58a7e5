"""The « envelopes » command of main.py: the envelopes of a year with their figures, as
a French text table or JSON."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from db.formatting import euros, number

COLUMNS = ("Enveloppe", "Notifié", "Demandé", "Programmé", "Reste à attribuer", "Versé",
           "Dossiers")


def _year(value: str) -> int:
    if not value.isdigit() or not 2000 <= int(value) <= 2100:
        raise argparse.ArgumentTypeError(f"« {value} » n'est pas une année (2000 à 2100)")
    return int(value)


def register(command: Callable[[str, str], argparse.ArgumentParser], db_help: str) -> None:
    envelopes = command("envelopes", "enveloppes des dotations (DETR, DSIL…) avec le "
                                     "demandé, le programmé, le reste à attribuer et le versé")
    envelopes.add_argument("--db", required=True, metavar="BASE", help=db_help)
    envelopes.add_argument("--year", type=_year, metavar="ANNÉE",
                           help="seulement cette année (par défaut : toutes)")
    envelopes.add_argument("--arrondissement", metavar="CODE",
                           help="enveloppes de cet arrondissement et de son département "
                                "(par défaut : toutes)")
    envelopes.add_argument("--json", action="store_true",
                           help="lignes au format JSON ; les montants y sont des chaînes "
                                "d'euros exactes, point décimal (« 4200000.00 »)")


def _as_dict(row) -> dict:
    """The figures of EnvelopeFigures under their own names; amounts as exact strings of
    euros."""
    f = row.figures
    return {"envelope_id": str(f.envelope_id), "scheme_code": f.scheme_code,
            "scheme_label": f.scheme_label, "year": f.year,
            "perimeter_label": f.perimeter_label, "departement": row.departement_code,
            "arrondissement": row.arrondissement_code, "delegated_from": row.parent_label,
            "amount": str(f.amount), "requested": str(f.requested),
            "programmed": str(f.programmed), "remaining": str(f.remaining),
            "paid": str(f.paid), "dossiers": f.dossiers, "delegated": str(row.delegated)}


def _table(rows) -> list[str]:
    cells = [COLUMNS] + [(f"{r.figures.scheme_label} {r.figures.year} — "
                          f"{r.figures.perimeter_label}", euros(r.figures.amount),
                          euros(r.figures.requested), euros(r.figures.programmed),
                          euros(r.figures.remaining), euros(r.figures.paid),
                          number(r.figures.dossiers)) for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(COLUMNS))]
    lines = []
    for row in cells:
        lines.append("  ".join(row[0].ljust(widths[0]) if i == 0 else row[i].rjust(widths[i])
                               for i in range(len(COLUMNS))).rstrip())
    lines.insert(1, "  ".join("-" * w for w in widths))
    for r in rows:
        if r.over_programmed:
            lines.append(f"Attention : {r.figures.scheme_label} {r.figures.year} — "
                         f"{r.figures.perimeter_label} est programmée au-delà de son montant "
                         f"de {euros(-r.figures.remaining)}.")
        if r.over_delegated:
            lines.append(f"Attention : les enveloppes déléguées de {r.figures.scheme_label} "
                         f"{r.figures.year} — {r.figures.perimeter_label} dépassent son "
                         f"montant de {euros(r.delegated - r.figures.amount)}.")
    return lines


def run(database, args: argparse.Namespace) -> int:
    from db.programming.envelopes import envelope_rows

    rows = envelope_rows(database, year=args.year, arrondissement=args.arrondissement)
    if args.json:
        print(json.dumps([_as_dict(r) for r in rows], ensure_ascii=False, indent=2))
    elif not rows:
        print("Aucune enveloppe" + (f" pour {args.year}." if args.year else "."))
    else:
        print("\n".join(_table(rows)))
    return 0
