"""The « history » and « journal » commands of main.py: the same rows as the window's
Historique tab and Journal page, as text or JSON."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable

from db.cli_types import day, positive
from db.history.trail import HistoryRow, journal, record_history
from db.history.values import ORIGIN_LABELS


def register(command: Callable[[str, str], argparse.ArgumentParser], db_help: str) -> None:
    """Adds both commands to main.py's parser (*command* makes a sub-command)."""
    history = command("history", "historique d'une fiche : qui a changé quoi, quand, d'où")
    history.add_argument("--db", required=True, metavar="BASE", help=db_help)
    which = history.add_mutually_exclusive_group(required=True)
    which.add_argument("--operation", metavar="RÉF", help="référence de l'opération (avec "
                       "ses financements, versements, dépenses et rattachements)")
    which.add_argument("--contract", metavar="RÉF", help="référence du contrat (avec ses "
                       "axes, signataires, avenants et comités)")
    history.add_argument("--json", action="store_true", help="lignes au format JSON")
    recent = command("journal", "modifications récentes de la base, les plus récentes "
                                "d'abord")
    recent.add_argument("--db", required=True, metavar="BASE", help=db_help)
    recent.add_argument("--agent", metavar="IDENTIFIANT", help="seulement cet agent")
    recent.add_argument("--since", type=day, metavar="JJ/MM/AAAA",
                        help="à partir de ce jour (inclus)")
    recent.add_argument("--until", type=day, metavar="JJ/MM/AAAA",
                        help="jusqu'à ce jour (inclus)")
    recent.add_argument("--record", metavar="TEXTE",
                        help="fiches dont la référence, l'intitulé ou le nom contient TEXTE")
    recent.add_argument("--origin", choices=list(ORIGIN_LABELS), metavar="ORIGINE",
                        help="saisie, import, terrain (copie de terrain), démonstration ou "
                             "simulation (de programmation, appliquée ou annulée)")
    recent.add_argument("--limit", type=positive, default=50, metavar="N",
                        help="nombre de changements lus (50 par défaut)")
    recent.add_argument("--json", action="store_true", help="lignes au format JSON")


def _as_dict(row: HistoryRow) -> dict:
    return {"at": row.at.isoformat(), "when": row.when, "login": row.login,
            "origin": row.origin, "action": row.action, "entity": row.entity,
            "record_id": row.record_id, "record": row.record, "parent": row.parent,
            "field": row.field, "old": row.old, "new": row.new}


def _show(rows: list[HistoryRow], with_parent: bool) -> None:
    for row in rows:
        where = f"{row.parent} › {row.record}" if with_parent and row.parent != row.record \
            else row.record
        change = f"{row.field} : {row.old} → {row.new}" if row.field else \
            f"{row.action}" + (f" ({row.old or row.new})" if row.old or row.new else "")
        print(f"{row.when} — {row.login} ({row.origin}) — {where} — {change}")


def run(database, args: argparse.Namespace) -> int:
    from db.editing import find_by_reference
    from db.errors import NotFoundError

    if args.command == "history":
        entity = "operation" if args.operation else "contract"
        reference = args.operation or args.contract
        record_id = find_by_reference(database, entity, reference)
        if record_id is None:
            what = "Opération" if entity == "operation" else "Contrat"
            raise NotFoundError(f"{what} introuvable : « {reference} ».")
        rows = record_history(database, entity, record_id)
        empty = "Aucun changement enregistré pour cette fiche."
    else:
        rows = journal(database, agent=args.agent, since=args.since, until=args.until,
                       record_text=args.record, origin=args.origin, limit=args.limit).rows
        empty = "Aucune modification pour ces filtres."
    if args.json:
        print(json.dumps([_as_dict(r) for r in rows], ensure_ascii=False, indent=2))
    elif not rows:
        print(empty)
    else:
        _show(rows, with_parent=args.command == "journal")
    return 0
