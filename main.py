"""Suivi des contrats territoriaux — point d'entrée.

    python main.py [--db FICHIER_OU_URL] [--screenshot IMAGE.png [--view VUE]]
    python main.py demo --db FICHIER
    python main.py check --db FICHIER_OU_URL [--json]
    python main.py print annex|plan|summary|list --db X -o FICHIER.pdf [--contract REF]
                     [--operation REF] [filtres de la liste]
    python main.py verify FICHIER.pdf --db X
    python main.py import TABLEUR --db X [--sheet NOM] [--mapping NOM] [--dry-run] [--json]
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
    printing = commands.add_parser("print", help="édite un document PDF")
    printing.add_argument("document", choices=["annex", "plan", "summary", "list"],
                          help="annex : annexe financière ; plan : plan de financement ; "
                               "summary : fiche synthèse ; list : état récapitulatif")
    printing.add_argument("--db", required=True, help="fichier SQLite ou URL postgresql://…")
    printing.add_argument("-o", "--output", required=True, type=Path, help="fichier PDF")
    printing.add_argument("--contract", help="référence du contrat (annex, summary)")
    printing.add_argument("--operation", help="référence de l'opération (plan)")
    printing.add_argument("--amendment", type=int, metavar="N",
                          help="annexe financière de l'avenant n° N (datée de l'avenant)")
    for name, label in (("search", "recherche"), ("arrondissement", "code d'arrondissement"),
                        ("status", "statut"), ("scheme", "dispositif"),
                        ("commune", "code INSEE"), ("epci", "SIREN de l'EPCI"),
                        ("contract-type", "type de contrat")):
        printing.add_argument(f"--{name}", help=f"filtre de l'état récapitulatif : {label}")
    printing.add_argument("--year", type=int, help="filtre de l'état récapitulatif : exercice")
    importing = commands.add_parser("import", help="importe un tableau de suivi (xlsx, ods, csv)")
    importing.add_argument("file", type=Path, help="fichier xlsx, ods ou csv")
    importing.add_argument("--db", required=True, help="fichier SQLite ou URL postgresql://…")
    importing.add_argument("--sheet", help="feuille à importer (la première par défaut)")
    importing.add_argument("--mapping", help="correspondance de colonnes enregistrée")
    importing.add_argument("--dry-run", action="store_true",
                           help="analyse seulement : rien n'est écrit")
    importing.add_argument("--json", action="store_true", help="rapport au format JSON")
    verify = commands.add_parser("verify", help="vérifie qu'un PDF correspond à la base")
    verify.add_argument("file", type=Path, help="document PDF édité par l'application")
    verify.add_argument("--db", required=True, help="fichier SQLite ou URL postgresql://…")
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


COUNT_LABELS = {"contracts": "contrats", "operations": "opérations",
                "funding_lines": "lignes de financement", "payments": "versements",
                "organisations": "organisations", "communes": "communes",
                "arrondissements": "arrondissements", "epci": "EPCI"}
TOTAL_LABELS = {"cost": "coût des opérations", "granted": "accordé", "paid": "versé"}


def _check(args: argparse.Namespace) -> int:
    from db.database import open_database
    from db.formatting import euros, number
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
            print(f"  {COUNT_LABELS.get(name, name)} : {number(count)}")
        for name, cents in report.totals_cents.items():
            print(f"  {TOTAL_LABELS.get(name, name)} : {euros(from_cents(cents))}")
    for problem in report.problems:
        print(f"Problème : {problem}", file=sys.stderr)
    return 0 if report.healthy else 1


def _print(args: argparse.Namespace) -> int:
    from db import documents
    from db.database import open_database
    from db.errors import InvalidInput
    from db.lists import Criteria
    from printouts.pdf import save

    needed = {"annex": "contract", "summary": "contract", "plan": "operation"}
    if args.document in needed and not getattr(args, needed[args.document]):
        raise InvalidInput(f"Précisez --{needed[args.document]} RÉFÉRENCE.")
    database = open_database(args.db, create=False)
    try:
        if args.document == "annex":
            document = documents.annex(database, args.contract, args.amendment)
        elif args.document == "summary":
            document = documents.summary(database, args.contract)
        elif args.document == "plan":
            document = documents.plan(database, args.operation)
        else:
            criteria = Criteria(search=args.search or "", arrondissement=args.arrondissement,
                                status=args.status, scheme=args.scheme, commune=args.commune,
                                epci=args.epci, contract_type=args.contract_type,
                                year=args.year)
            document = documents.operations_list(database, criteria)
        save(document, args.output)
    finally:
        database.close()
    print(f"Document enregistré : {args.output} (empreinte {document.provenance.fingerprint})")
    return 0


def _import(args: argparse.Namespace) -> int:
    from db.database import open_database
    from db.formatting import euros
    from db.money import from_cents
    from db.spreadsheets import importer
    from db.spreadsheets.reading import find_header, read_sheet

    database = open_database(args.db, create=False)
    try:
        mapping = None
        if args.mapping:
            sheet = read_sheet(args.file, args.sheet)
            header = find_header(sheet.cells, importer._score)
            mapping = importer.load_mapping(database, args.mapping, header.labels)
        report = importer.analyse(database, args.file, sheet=args.sheet, mapping=mapping)
        if not args.dry_run and report.operations:
            importer.apply(database, report)
    finally:
        database.close()
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return 0
    totals = report.totals()
    done = "seraient importées" if args.dry_run else "importées"
    print(f"{report.rows_read} ligne(s) lue(s) sous l'en-tête (ligne {report.header_row}) ; "
          f"{report.valid} valide(s), {len(report.errors)} erreur(s), "
          f"{len(report.duplicates)} doublon(s), {len(report.skipped)} ignorée(s).")
    print(f"{report.imported_operations} opération(s) {done} : coût "
          f"{euros(from_cents(totals['cost_cents']))}, accordé "
          f"{euros(from_cents(totals['granted_cents']))}.")
    for finding in report.errors:
        print(f"Erreur ligne {finding.row}, {finding.column} : {finding.message}")
    for finding in report.warnings:
        print(f"Avertissement ligne {finding.row}, {finding.column} : {finding.message}")
    if report.batch_id:
        print(f"Lot d'import {report.batch_id} (annulable en une fois).")
    return 0


def _verify(args: argparse.Namespace) -> int:
    from db.database import open_database
    from db.documents import check_document
    from printouts.verify import read_provenance

    provenance = read_provenance(args.file)
    database = open_database(args.db, create=False, upgrade=False)
    try:
        verdict = check_document(database, provenance)
    finally:
        database.close()
    print(verdict.message())
    return 0 if verdict.matches else 1


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
        if args.command == "print":
            return _print(args)
        if args.command == "verify":
            return _verify(args)
        if args.command == "import":
            return _import(args)
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
