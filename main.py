"""Suivi des contrats territoriaux — point d'entrée.

    python main.py [--db FICHIER_OU_URL] [--screenshot IMAGE.png [--view VUE]]
    python main.py demo --db FICHIER
    python main.py check --db FICHIER_OU_URL [--json]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import sys
from pathlib import Path

from sqlalchemy.exc import DatabaseError

from db.errors import UserError

VIEWS = ("contracts", "operations")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py", description="Suivi des contrats territoriaux d'une sous-préfecture.")
    parser.add_argument("--db", help="fichier SQLite ou URL postgresql://… "
                                     "(par défaut : la base de l'utilisateur)")
    parser.add_argument("--screenshot", type=Path, metavar="IMAGE.png",
                        help="enregistre une capture de la fenêtre puis quitte")
    parser.add_argument("--view", default="contracts",
                        help=f"vue de la capture : {', '.join(VIEWS)}")
    commands = parser.add_subparsers(dest="command")
    demo = commands.add_parser("demo", help="crée une base de démonstration")
    demo.add_argument("--db", required=True, help="fichier SQLite ou URL postgresql://…")
    demo.add_argument("--seed", type=Path, help="fichier seed_contracts.json à utiliser")
    check = commands.add_parser("check", help="contrôle l'état d'une base")
    check.add_argument("--db", required=True, help="fichier SQLite ou URL postgresql://…")
    check.add_argument("--json", action="store_true", help="rapport au format JSON")
    return parser


def _demo(args: argparse.Namespace) -> int:
    from db.database import open_database
    from db.demo import build_demo, load_seed

    load_seed(args.seed)  # a missing seed is reported before any file is created
    database = open_database(args.db)
    try:
        counts = build_demo(database, args.seed)
    finally:
        database.close()
    print(f"Base de démonstration créée : {database.display()}")
    print(f"  {counts['contracts_seed']} contrats et {counts['operations_seed']} opérations du "
          "document source (2019) ;")
    print(f"  exemple fictif : {counts['contracts_fictive']} contrat, "
          f"{counts['operations_fictive']} opérations DETR/DSIL 2025 de l'arrondissement "
          "d'Avesnes-sur-Helpe.")
    return 0


def _check(args: argparse.Namespace) -> int:
    from db.database import open_database
    from db.formatting import euros
    from db.health import check
    from db.money import from_cents

    database = open_database(args.db, create=False, upgrade=False)
    try:
        report = check(database)
    finally:
        database.close()
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
    else:
        print(f"Base : {report.database} ({report.mode})")
        print(f"Révision du schéma : {report.revision} (attendue : {report.expected_revision})")
        if report.integrity is not None:
            print(f"Intégrité SQLite : {report.integrity}")
        for name, count in report.counts.items():
            print(f"  {name} : {count}")
        for name, cents in report.totals_cents.items():
            print(f"  total {name} : {euros(from_cents(cents))}")
    for problem in report.problems:
        print(f"Problème : {problem}", file=sys.stderr)
    return 0 if report.healthy else 1


def _gui(args: argparse.Namespace) -> int:
    from desktop.app import run

    return run(db=args.db, screenshot=args.screenshot, view=args.view)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "demo":
            return _demo(args)
        if args.command == "check":
            return _check(args)
        return _gui(args)
    except UserError as error:
        print(f"Erreur : {error.message}", file=sys.stderr)
        return error.exit_code
    except (sqlite3.DatabaseError, DatabaseError) as error:
        reason = getattr(error, "orig", error)
        print(f"Erreur : la base est endommagée ou illisible ({reason}). "
              "Restaurez une sauvegarde.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
