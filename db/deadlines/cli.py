"""The « deadlines » command of main.py: the Échéances page's rows as text or JSON, and
optionally the calendar file."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from datetime import date
from pathlib import Path

from db.cli_types import day, days


def register(command: Callable[[str, str], argparse.ArgumentParser], db_help: str) -> None:
    """Adds the command to main.py's parser (*command* makes a sub-command)."""
    parser = command("deadlines", "échéancier : notifications à enregistrer, caducités, "
                                  "achèvements, prorogations, soldes, fins de contrat, "
                                  "avenants et comités")
    parser.add_argument("--db", required=True, metavar="BASE", help=db_help)
    parser.add_argument("--within", type=days, metavar="JOURS",
                        help="échéances en retard et des JOURS prochains jours (par défaut : "
                             "toutes)")
    parser.add_argument("--overdue", action="store_true", help="seulement celles en retard")
    parser.add_argument("--arrondissement", metavar="CODE",
                        help="code de l'arrondissement (par défaut : celui de la base ; "
                             "« tout » pour toute la base)")
    parser.add_argument("--today", type=day, metavar="JJ/MM/AAAA",
                        help="date de référence (par défaut : aujourd'hui)")
    parser.add_argument("--ics", type=Path, metavar="FICHIER.ics",
                        help="écrit aussi le calendrier de ces échéances")
    parser.add_argument("--json", action="store_true", help="lignes au format JSON")


def _as_dict(deadline, today: date) -> dict:
    return {"due": deadline.due.isoformat(), "kind": deadline.kind,
            "kind_label": deadline.kind_label, "reference": deadline.reference,
            "label": deadline.label, "entity": deadline.entity,
            "record_id": str(deadline.record_id), "scheme_label": deadline.scheme_label,
            "amount": None if deadline.amount is None else str(deadline.amount),
            "overdue": deadline.overdue, "days_left": deadline.days_left(today),
            "detail": deadline.detail, "uid": deadline.uid}


def run(args: argparse.Namespace) -> int:
    from db.database import open_database
    from db.deadlines.exports import Selection, select_deadlines, write_calendar
    from db.errors import NotFoundError
    from db.formatting import euros, short_date
    from db.models import Arrondissement
    from db.services.settings import ARRONDISSEMENT, get_setting

    database = open_database(args.db, create=False, upgrade=False)
    try:
        code = args.arrondissement
        if code is None:
            code = get_setting(database, ARRONDISSEMENT)
        elif code.lower() == "tout":
            code = None
        if code is not None:
            with database.read() as session:
                if session.get(Arrondissement, code) is None:
                    raise NotFoundError(f"Arrondissement inconnu : « {code} ».")
        today = args.today or date.today()
        selection = Selection(within_days=args.within, overdue_only=args.overdue,
                              arrondissement=code)
        found = select_deadlines(database, selection, today)
    finally:
        database.close()
    if args.ics:
        write_calendar(found, args.ics)
    if args.json:
        print(json.dumps([_as_dict(d, today) for d in found], ensure_ascii=False, indent=2))
    elif not found:
        print("Aucune échéance pour ces filtres.")
    else:
        for d in found:
            amount = f" — {euros(d.amount)}" if d.amount is not None else ""
            scheme = f" ({d.scheme_label})" if d.scheme_label else ""
            print(f"{short_date(d.due)} — {d.delay(today)} — {d.kind_label}{scheme} — "
                  f"{d.label}{amount}")
        late = sum(1 for d in found if d.overdue)
        print(f"{len(found)} échéance{'s' if len(found) > 1 else ''}"
              + (f", dont {late} en retard" if late else "") + ".")
    if args.ics and not args.json:
        print(f"Calendrier écrit : {args.ics}")
    return 0
