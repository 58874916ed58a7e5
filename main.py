"""Suivi des contrats territoriaux — point d'entrée.

    python main.py [--db FICHIER_OU_URL] [--screenshot IMAGE.png [--view VUE]]
    python main.py demo --db FICHIER
    python main.py check --db FICHIER_OU_URL [--json]
    python main.py print annex|plan|summary|list --db X -o FICHIER.pdf [--contract REF]
                     [--operation REF] [filtres de la liste]
    python main.py verify FICHIER.pdf --db X
    python main.py import TABLEUR --db X [--sheet NOM] [--mapping NOM] [--dry-run] [--json]
    python main.py field checkout --db BUREAU (--arrondissement CODE | --contract RÉF… |
                     --commune INSEE…) -o COPIE.sqlite
    python main.py field checkin COPIE.sqlite --db BUREAU [--dry-run] [--json]
    python main.py field conflicts --db BUREAU [--json]
    python main.py field resolve N --take terrain|bureau --db BUREAU
    python main.py backup --db X [-o FICHIER]
    python main.py backups --db X [--json]
    python main.py restore SAUVEGARDE --db X [--oui] [--forcer]
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import textwrap
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy.exc import DatabaseError

from db.errors import UserError
from desktop.views import EDITOR_VIEWS, VIEWS

# argparse's own words (Python 3.11 to 3.13), in French. argparse looks its module
# globals ``_`` and ``ngettext`` up each time it writes a message, so replacing them while
# the parser is built and used translates its help and its errors without a gettext
# catalogue, which would depend on the process-wide domain and on the user's locale.
ARGPARSE_FRENCH = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "optional arguments": "options",
    "options": "options",
    "subcommands": "commandes",
    "show this help message and exit": "affiche cette aide et quitte",
    "show program's version number and exit": "affiche la version et quitte",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "ignored explicit argument %r": "valeur ignorée : %r",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "expected one argument": "une valeur est attendue",
    "expected at most one argument": "une valeur au plus est attendue",
    "expected at least one argument": "une valeur au moins est attendue",
    "ambiguous option: %(option)s could match %(matches)s":
        "option ambiguë : %(option)s peut désigner %(matches)s",
    "unexpected option string: %s": "option inattendue : %s",
    "invalid %(type)s value: %(value)r": "valeur invalide : « %(value)s »",
    "invalid choice: %(value)r (choose from %(choices)s)":
        "choix invalide : « %(value)s » (choix possibles : %(choices)s)",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "commande inconnue « %(parser_name)s » (commandes : %(choices)s)",
}
ARGPARSE_FRENCH_PLURALS = {
    ("expected %s argument", "expected %s arguments"):
        ("%s valeur est attendue", "%s valeurs sont attendues"),
}


@contextmanager
def french_argparse() -> Iterator[None]:
    """argparse speaks French while the parser is built, prints its help or an error."""
    saved = argparse._, argparse.ngettext

    def translate(message: str) -> str:
        return ARGPARSE_FRENCH.get(message, message)

    def translate_plural(singular: str, plural: str, count: int) -> str:
        one, many = ARGPARSE_FRENCH_PLURALS.get((singular, plural), (singular, plural))
        return one if count == 1 else many

    argparse._, argparse.ngettext = translate, translate_plural
    try:
        yield
    finally:
        argparse._, argparse.ngettext = saved


class FrenchHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """French typography (« options : »); the descriptions and epilogs are written
    already wrapped."""

    def start_section(self, heading: str | None) -> None:
        super().start_section(f"{heading} " if heading else heading)


VIEW_HELP_WIDTH = 78


def _views_epilog() -> str:
    rows = [(key, f"{label} : {description}") for key, label, description in VIEWS]
    rows += [(f"{kind}:RÉF", f"{description} ; onglet après « / » : {', '.join(tabs)}")
             for kind, (description, tabs) in EDITOR_VIEWS.items()]
    width = max(len(key) for key, _ in rows) + 2
    lines = ["Vues de --view (page de la fenêtre principale ou fiche à capturer) :"]
    for key, text in rows:
        wrapped = textwrap.wrap(text, VIEW_HELP_WIDTH - width - 2)
        lines.append(f"  {key.ljust(width)}{wrapped[0]}")
        lines += [" " * (width + 2) + more for more in wrapped[1:]]
    lines += ["", "Aide d'une commande : main.py COMMANDE --help"]
    return "\n".join(lines)


def _view(value: str) -> str:
    key, _, rest = value.partition(":")
    reference, _, tab = rest.partition("/")
    if (key in {k for k, _, _ in VIEWS} and not rest) or (
            key in EDITOR_VIEWS and (not tab or tab in EDITOR_VIEWS[key][1])):
        return value
    names = ", ".join([k for k, _, _ in VIEWS] + [f"{k}:RÉF" for k in EDITOR_VIEWS])
    raise argparse.ArgumentTypeError(f"vue inconnue « {value} » (vues : {names})")


def _status(value: str) -> str:
    from db.text import normalize
    from db.vocabulary import OperationStatus

    for status in OperationStatus:
        if normalize(value) in (normalize(status.value), normalize(status.label)):
            return status.value
    raise argparse.ArgumentTypeError(
        f"statut inconnu « {value} » (statuts : "
        f"{', '.join(s.label.lower() for s in OperationStatus)})")


def _year(value: str) -> int:
    if value.isdigit() and len(value) == 4:
        return int(value)
    raise argparse.ArgumentTypeError(f"« {value} » n'est pas une année (exemple : 2025)")


def _number(value: str) -> int:
    if value.isdigit():
        return int(value)
    raise argparse.ArgumentTypeError(f"« {value} » n'est pas un numéro (exemple : 1)")


DB_HELP = "fichier SQLite ou URL postgresql://…"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="main.py", description="Suivi des contrats territoriaux d'une sous-préfecture.\n"
                                    "Sans commande : ouvre la fenêtre de l'application.",
        epilog=_views_epilog(), formatter_class=FrenchHelpFormatter)
    parser.add_argument("--db", metavar="BASE",
                        help=f"{DB_HELP} (par défaut : la base de l'utilisateur)")
    parser.add_argument("--screenshot", type=Path, metavar="IMAGE.png",
                        help="enregistre une capture de la fenêtre puis quitte")
    parser.add_argument("--view", default="contracts", type=_view, metavar="VUE",
                        help="page ou fiche de la capture (liste ci-dessous ; par défaut : "
                             "contracts)")
    commands = parser.add_subparsers(dest="command", title="commandes", metavar="COMMANDE")

    def command(name: str, summary: str) -> argparse.ArgumentParser:
        return commands.add_parser(name, help=summary, description=f"{summary[0].upper()}"
                                   f"{summary[1:]}.", formatter_class=FrenchHelpFormatter)

    demo = command("demo", "crée une base de démonstration")
    demo.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    demo.add_argument("--seed", type=Path, metavar="FICHIER.json",
                      help="fichier seed_contracts.json à utiliser")
    printing = command("print", "édite un document PDF")
    printing.add_argument("document", choices=["annex", "plan", "summary", "list",
                                               *ACT_DOCUMENTS],
                          metavar="DOCUMENT",
                          help="annex : annexe financière ; plan : plan de financement ; "
                               "summary : fiche synthèse ; list : état récapitulatif ; "
                               "actes d'une subvention de l'opération (--operation) : "
                               "arrete (arrêté attributif), notification, refus, "
                               "prorogation, alerte (alerte de caducité)")
    printing.add_argument("--format", choices=["pdf", "odt", "docx"], default="pdf",
                          metavar="FORMAT", help="format d'un acte : pdf (par défaut), odt "
                                                 "ou docx")
    printing.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    printing.add_argument("-o", "--output", required=True, type=Path, metavar="FICHIER.pdf",
                          help="document à enregistrer")
    printing.add_argument("--contract", metavar="RÉF",
                          help="référence du contrat (annex, summary)")
    printing.add_argument("--operation", metavar="RÉF", help="référence de l'opération (plan)")
    printing.add_argument("--amendment", type=_number, metavar="N",
                          help="annexe financière de l'avenant n° N (datée de l'avenant)")
    for name, metavar, label in (
            ("search", "TEXTE", "recherche dans les intitulés, références, communes…"),
            ("arrondissement", "CODE", "code de l'arrondissement (591 : Avesnes-sur-Helpe)"),
            ("scheme", "CODE", "code du dispositif (DETR, DSIL, FNADT…)"),
            ("commune", "INSEE", "code INSEE de la commune (59392 : Maubeuge)"),
            ("epci", "SIREN", "SIREN de l'EPCI"),
            ("contract-type", "CODE", "code du type de contrat (CRTE, PVD…)")):
        printing.add_argument(f"--{name}", metavar=metavar,
                              help=f"filtre de l'état récapitulatif : {label}")
    printing.add_argument("--status", type=_status, metavar="STATUT",
                          help="filtre de l'état récapitulatif : statut de l'opération "
                               "(programmé, engagé, en cours…)")
    printing.add_argument("--year", type=_year, metavar="ANNÉE",
                          help="filtre de l'état récapitulatif : exercice")
    importing = command("import", "importe un tableau de suivi ou un export de "
                                  "Démarches numériques (xlsx, ods, csv)")
    importing.add_argument("file", type=Path, metavar="TABLEUR",
                           help="fichier xlsx, ods ou csv")
    importing.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    importing.add_argument("--sheet", metavar="FEUILLE",
                           help="feuille à importer (la première par défaut)")
    importing.add_argument("--mapping", metavar="NOM",
                           help="correspondance de colonnes enregistrée")
    importing.add_argument("--dry-run", action="store_true",
                           help="analyse seulement : rien n'est écrit")
    importing.add_argument("--json", action="store_true", help="rapport au format JSON")
    exporting = command("export", "exporte une liste entière (xlsx, ods ou csv)")
    exporting.add_argument("list", choices=sorted(EXPORT_LISTS), metavar="LISTE",
                           help="liste à exporter : " + ", ".join(sorted(EXPORT_LISTS)))
    exporting.add_argument("file", type=Path, metavar="FICHIER",
                           help="fichier à écrire (.xlsx, .ods ou .csv)")
    exporting.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    exporting.add_argument("--couper-textes-longs", action="store_true", dest="split",
                           help="découpe un texte de plus de 32 767 caractères (ce qu'une "
                                "cellule de tableur garde) en colonnes « … (suite 1) »… ; "
                                "sans cette option, l'export est refusé")
    verify = command("verify", "vérifie qu'un PDF correspond toujours à la base")
    verify.add_argument("file", type=Path, metavar="DOCUMENT.pdf",
                        help="document PDF édité par l'application")
    verify.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    _field_parser(command("field", "copies de terrain : emporter, rapporter, conflits"))
    from db.history.cli import register as history_commands  # history, journal

    history_commands(command, DB_HELP)
    from db.programming.cli import register as envelope_commands  # envelopes

    envelope_commands(command, DB_HELP)
    from db.deadlines.cli import register as deadline_commands  # deadlines

    deadline_commands(command, DB_HELP)
    from db.scans.cli import register as scan_commands  # scans

    scan_commands(command, DB_HELP)
    _backup_parsers(command)
    check = command("check", "contrôle l'état d'une base")
    check.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    check.add_argument("--json", action="store_true", help="rapport au format JSON")
    return parser


def _backup_parsers(command) -> None:
    saving = command("backup", "sauvegarde une base (SQLite : copie en ligne ; PostgreSQL : "
                               "pg_dump)")
    saving.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    saving.add_argument("-o", "--output", type=Path, metavar="FICHIER",
                        help="fichier à écrire (par défaut : le dossier des sauvegardes de "
                             "la base, avec sa rotation)")
    listing = command("backups", "liste les sauvegardes d'une base SQLite")
    listing.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    listing.add_argument("--json", action="store_true", help="liste au format JSON")
    restoring = command("restore", "restaure une sauvegarde à la place d'une base SQLite")
    restoring.add_argument("backup", metavar="SAUVEGARDE",
                           help="fichier de la sauvegarde, ou son nom dans la liste de "
                                "main.py backups")
    restoring.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    restoring.add_argument("--oui", action="store_true",
                           help="confirme la restauration sans la demander")
    restoring.add_argument("--forcer", action="store_true",
                           help="restaure même la sauvegarde d'une autre base")


def _field_parser(field: argparse.ArgumentParser) -> None:
    actions = field.add_subparsers(dest="field_command", title="actions", metavar="ACTION",
                                   required=True)

    def action(name: str, summary: str) -> argparse.ArgumentParser:
        return actions.add_parser(name, help=summary, description=f"{summary[0].upper()}"
                                  f"{summary[1:]}.", formatter_class=FrenchHelpFormatter)

    out = action("checkout", "écrit une copie de terrain (fichier SQLite pour un portable)")
    out.add_argument("--db", required=True, metavar="BUREAU",
                     help=f"base du bureau ({DB_HELP})")
    scope = out.add_mutually_exclusive_group(required=True)
    scope.add_argument("--arrondissement", metavar="CODE",
                       help="l'arrondissement (591 : Avesnes-sur-Helpe)")
    scope.add_argument("--contract", nargs="+", metavar="RÉF",
                       help="des contrats et leurs opérations")
    scope.add_argument("--commune", nargs="+", metavar="INSEE",
                       help="les opérations de ces communes (59392 : Maubeuge)")
    out.add_argument("-o", "--output", required=True, type=Path, metavar="COPIE.sqlite",
                     help="fichier de la copie à écrire (il ne doit pas exister)")
    out.add_argument("--sans-pieces", action="store_true", dest="sans_pieces",
                     help="laisse les pièces jointes au bureau (la copie est plus légère)")
    back = action("checkin", "rapporte une copie de terrain dans la base du bureau")
    back.add_argument("copy", type=Path, metavar="COPIE.sqlite", help="la copie de terrain")
    back.add_argument("--db", required=True, metavar="BUREAU",
                      help=f"base du bureau dont la copie a été tirée ({DB_HELP})")
    back.add_argument("--dry-run", action="store_true",
                      help="analyse seulement : rien n'est écrit")
    back.add_argument("--json", action="store_true", help="rapport au format JSON")
    queue = action("conflicts", "liste les conflits à régler")
    queue.add_argument("--db", required=True, metavar="BUREAU", help=DB_HELP)
    queue.add_argument("--json", action="store_true", help="liste au format JSON")
    settle = action("resolve", "règle un conflit")
    settle.add_argument("conflict", type=_number, metavar="N", help="numéro du conflit")
    settle.add_argument("--take", required=True, choices=["terrain", "bureau"],
                        metavar="CÔTÉ",
                        help="terrain : la valeur de la copie ; bureau : celle du bureau "
                             "(pour un doublon : terrain garde les deux fiches, bureau "
                             "supprime celle du terrain)")
    settle.add_argument("--db", required=True, metavar="BUREAU", help=DB_HELP)


def _field(args: argparse.Namespace) -> int:
    from db.database import open_database

    database = open_database(args.db, create=False)
    try:
        if args.field_command == "checkout":
            return _field_checkout(database, args)
        if args.field_command == "checkin":
            return _field_checkin(database, args)
        if args.field_command == "conflicts":
            return _field_conflicts(database, args)
        return _field_resolve(database, args)
    finally:
        database.close()


def _field_checkout(database, args: argparse.Namespace) -> int:
    from db.field import Scope, checkout
    from db.field.schema import counted

    if args.arrondissement:
        scope = Scope("arrondissement", (args.arrondissement,))
    elif args.contract:
        scope = Scope("contrats", tuple(args.contract))
    else:
        scope = Scope("communes", tuple(args.commune))
    result = checkout(database, scope, args.output, attachments=not args.sans_pieces)
    print(f"Copie de terrain écrite : {result.path} ({result.scope_label}).")
    shown = ("contract", "operation", "funding_line", "payment")
    print(f"  {counted({key: result.counts[key] for key in shown})} ;")
    print(f"  {result.attachments.label} emportées ;" if result.attachments is not None
          else "  pièces jointes laissées au bureau ;")
    print("  ces fiches sont marquées « sorties sur le terrain » au bureau jusqu'au retour "
          "de la copie.")
    return 0


def _field_checkin(database, args: argparse.Namespace) -> int:
    from db.field import checkin
    from db.field.schema import counted

    report = checkin(database, args.copy, dry_run=args.dry_run)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return 0
    print(f"Copie de {report.taken_by} ({report.scope}) :")
    print(f"  ajouts : {counted(report.created)} ;")
    print(f"  modifications : {counted(report.updated)} ;")
    print(f"  suppressions : {counted(report.deleted)}.")
    if report.conflicts:
        print(f"{len(report.conflicts)} conflit(s) à régler (main.py field conflicts) :")
        for conflict in report.conflicts:
            print(f"  n° {conflict['id']} : {conflict['reference'] or conflict['record_id']}, "
                  f"{conflict['field'] or 'fiche entière'}")
    if report.duplicates:
        print(f"{len(report.duplicates)} doublon(s) probable(s) à vérifier :")
        for duplicate in report.duplicates:
            print(f"  n° {duplicate['id']} : {duplicate['reference'] or duplicate['record_id']} "
                  f"({duplicate['terrain']['why']})")
    for finding in report.findings:
        print(f"À revoir : {finding}")
    if report.backup:
        print(f"Sauvegarde de la base avant la fusion : {report.backup}")
    print("Rien n'a été écrit (--dry-run)." if args.dry_run
          else "La fusion est enregistrée en une seule fois.")
    return 0


def _field_conflicts(database, args: argparse.Namespace) -> int:
    from db.field import conflicts

    found = conflicts(database)
    if args.json:
        print(json.dumps([{
            "id": c.number, "kind": c.kind, "entity": c.entity, "record_id": c.record_id,
            "reference": c.reference, "field": c.field, "label": c.field_label,
            "base": c.base, "terrain": c.terrain, "bureau": c.bureau, "copy": c.copy}
            for c in found], ensure_ascii=False, indent=2))
        return 0
    if not found:
        print("Aucun conflit à régler.")
    for c in found:
        print(f"n° {c.number} — {c.noun} {c.reference or ''} — {c.field_label} "
              f"({c.copy})")
        print(f"    base : {c.base}\n    terrain : {c.terrain}\n    bureau : {c.bureau}")
    return 0


def _field_resolve(database, args: argparse.Namespace) -> int:
    from db.field import resolve

    result = resolve(database, args.conflict, args.take)
    print(result.message)
    for finding in result.findings:
        print(f"À revoir : {finding}")
    return 0


def _new_demo_file(path: Path, seed: Path | None) -> dict[str, int]:
    """A new demo file is made under a temporary name and renamed once whole: an
    interrupted load leaves no base that looks ready but holds no demo."""
    from db.database import open_database
    from db.demo import build_demo

    partial = path.with_name(f".{path.name}.en-cours")
    for suffix in ("", "-wal", "-shm", "-journal"):  # left by an interrupted load
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    database = open_database(partial)
    try:
        counts = build_demo(database, seed)
    except BaseException:
        database.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{partial}{suffix}").unlink(missing_ok=True)
        raise
    database.close()
    with sqlite3.connect(partial) as connection:  # everything into the file itself
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    os.replace(partial, path)
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)
    return counts


def _demo(args: argparse.Namespace) -> int:
    from db.database import open_database, parse_target
    from db.demo import build_demo, load_seed

    load_seed(args.seed)  # a missing seed is reported before any file is created
    target = parse_target(args.db)
    if target.path is not None and not target.path.exists():
        counts = _new_demo_file(target.path, args.seed)
        where = str(target.path)
    else:  # an existing base, or a server: the demo is one transaction
        database = open_database(args.db)
        try:
            counts = build_demo(database, args.seed)
        finally:
            database.close()
        where = database.display()
    print(f"Base de démonstration créée : {where}")
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


EXPORT_LISTS = {"contrats": "contracts", "operations": "operations",
                "lignes": "funding_lines", "organismes": "organisations",
                "communes": "communes", "epci": "epci"}


def _export(args: argparse.Namespace) -> int:
    from db.database import open_database
    from db.lists import LISTS, Criteria
    from db.spreadsheets.export import REFUSE, SPLIT, LongTextsRefused, export_list

    database = open_database(args.db, create=False, upgrade=False)
    try:
        count = export_list(database, LISTS[EXPORT_LISTS[args.list]], Criteria(), args.file,
                            long_texts=SPLIT if args.split else REFUSE)
    except LongTextsRefused as error:
        print(f"Erreur : {error.message}\nPour les découper : ajoutez l'option "
              "--couper-textes-longs.", file=sys.stderr)
        return error.exit_code
    except OSError as error:
        print(f"Erreur : impossible d'écrire « {args.file} » ({error.strerror or error}).",
              file=sys.stderr)
        return 2
    finally:
        database.close()
    print(f"{count} ligne(s) exportée(s) dans {args.file}")
    return 0


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
        if database.read_only:  # consulted as it is: say why nothing can be changed
            print(f"Base ouverte en lecture seule ({database.read_only_reason}) : "
                  "contrôle en consultation seulement.")
        print(f"Révision du schéma : {report.revision or 'aucune'} "
              f"(attendue : {report.expected_revision})")
        if report.integrity is not None:
            print("Intégrité SQLite : " + ("correcte" if report.integrity == "ok"
                                           else "en échec"))
        for name, count in report.counts.items():
            print(f"  {COUNT_LABELS.get(name, name)} : {number(count)}")
        for name, cents in report.totals_cents.items():
            print(f"  {TOTAL_LABELS.get(name, name)} : {euros(from_cents(cents))}")
        if report.healthy:
            print("Aucun problème détecté.")
    for problem in report.problems:
        print(f"Problème : {problem}", file=sys.stderr)
    return 0 if report.healthy else 1


# Acts of a State subsidy (issue 13): the CLI's word → the act's kind.
ACT_DOCUMENTS = {"arrete": "arrete_attributif", "notification": "notification",
                 "refus": "refus", "prorogation": "prorogation", "alerte": "alerte_caducite"}


def _print_act(args: argparse.Namespace) -> int:
    from db.acts.generate import make_act, state_line
    from db.database import open_database
    from db.errors import InvalidInput
    from db.text import pages

    if not args.operation:
        raise InvalidInput("Précisez --operation RÉF (la référence de l'opération).")
    database = open_database(args.db, create=False)
    try:
        line_id = state_line(database, args.operation, args.scheme,
                             ACT_DOCUMENTS[args.document])
        if args.output.is_dir():
            raise UserError(f"{args.output} est un dossier : donnez le nom du fichier à "
                            "enregistrer.")
        made = make_act(database, line_id, ACT_DOCUMENTS[args.document], args.format,
                        args.output)
    finally:
        database.close()
    print(f"Acte enregistré ({made.kind.label.lower()}) : {args.output} (empreinte "
          f"{made.fingerprint}, {pages(made.pages)})")
    return 0


def _print(args: argparse.Namespace) -> int:
    if args.document in ACT_DOCUMENTS:
        return _print_act(args)
    from db import documents
    from db.database import open_database
    from db.documents.statement import unknown_filters
    from db.errors import InvalidInput
    from db.lists import Criteria
    from printouts.pdf import save

    needed = {"annex": "contract", "summary": "contract", "plan": "operation"}
    if args.document in needed and not getattr(args, needed[args.document]):
        whose = "du contrat" if needed[args.document] == "contract" else "de l'opération"
        raise InvalidInput(f"Précisez --{needed[args.document]} RÉF (la référence {whose}).")
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
            unknown = unknown_filters(database, criteria)
            if unknown:
                raise InvalidInput("\n".join(unknown))
            document = documents.operations_list(database, criteria)
        _save(save, document, args.output)
    finally:
        database.close()
    print(f"Document enregistré : {args.output} (empreinte {document.provenance.fingerprint})")
    return 0


def _save(save, document, path: Path) -> None:
    try:
        save(document, path)
    except FileNotFoundError:
        raise UserError(f"Le dossier {path.parent} n'existe pas : le document n'a pas été "
                        "enregistré.") from None
    except IsADirectoryError:
        raise UserError(f"{path} est un dossier : donnez le nom du fichier PDF à "
                        "enregistrer.") from None
    except PermissionError:
        raise UserError(f"Impossible d'écrire {path} : accès refusé.") from None
    except OSError as error:
        raise UserError(f"Impossible d'écrire {path} (erreur système {error.errno}).") \
            from None


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
        if not args.dry_run and (report.operations or getattr(report, "updates", None)):
            importer.apply(database, report)
    finally:
        database.close()
    # Every row refused: nothing imported is a failure, for a script as for an agent.
    refused = bool(report.errors) and not report.operations and not getattr(
        report, "updates", None)
    if args.json:
        print(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return 2 if refused else 0
    if hasattr(report, "updates"):  # an export of Démarches numériques
        from db.demarches.cli import show

        show(report, args.dry_run)
        return _refused_import(report) if refused else 0
    totals = report.totals()
    done = "seraient importée(s)" if args.dry_run else "importée(s)"
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
    return _refused_import(report) if refused else 0


def _refused_import(report) -> int:
    print(f"Erreur : aucune ligne du fichier n'a pu être importée ({len(report.errors)} "
          "erreur(s), détail ci-dessus) ; la base n'a pas été modifiée.", file=sys.stderr)
    return 2


def _verify(args: argparse.Namespace) -> int:
    from db.database import open_database
    from db.documents import check_document
    from printouts.verify import read_document

    printed = read_document(args.file)
    if printed.damaged:
        print("Attention : le fichier PDF est abîmé (modifié ou mal copié après son édition) ; "
              "son empreinte a pu être lue.", file=sys.stderr)
    database = open_database(args.db, create=False, upgrade=False)
    try:
        if printed.provenance.kind in ACT_DOCUMENTS.values():  # an act (issue 13)
            from db.acts.generate import check_act

            verdict = check_act(database, printed.provenance)
        else:
            verdict = check_document(database, printed.provenance, printed.printed_at)
    finally:
        database.close()
    print(verdict.message())
    return 0 if verdict.matches else 1


def _history(args: argparse.Namespace) -> int:
    from db.database import open_database
    from db.history.cli import run

    database = open_database(args.db, create=False, upgrade=False)
    try:
        return run(database, args)
    finally:
        database.close()


def _envelopes(args: argparse.Namespace) -> int:
    from db.database import open_database
    from db.programming.cli import run

    database = open_database(args.db, create=False, upgrade=False)
    try:
        return run(database, args)
    finally:
        database.close()


def _backup_line(backup) -> str:
    from db.backups.store import COUNTED
    from db.formatting import number

    labels = dict(zip(COUNTED, ("contrats", "opérations", "lignes", "versements"),
                      strict=True))
    counts = ", ".join(f"{number(backup.counts.get(k, 0))} {v}" for k, v in labels.items())
    return (f"{backup.taken_at.astimezone():%d/%m/%Y %H:%M} {backup.reason} — {counts} — "
            f"{backup.path}")


def _backup(args: argparse.Namespace) -> int:
    from db.backups import take
    from db.backups.postgres import dump
    from db.database import _check_sqlite_file, parse_target

    target = parse_target(args.db)
    if not target.is_sqlite:
        print(f"Sauvegarde PostgreSQL écrite : {dump(target.url, args.output)}")
        return 0
    if not _check_sqlite_file(target.path, must_write=False):
        raise UserError(f"La base {target.path} n'existe pas.")
    backup = take(target.path, "manuelle", destination=args.output)
    print(f"Sauvegarde écrite : {_backup_line(backup)}")
    return 0


def _backups(args: argparse.Namespace) -> int:
    from db.backups import list_backups
    from db.database import parse_target

    target = parse_target(args.db)
    if not target.is_sqlite:
        raise UserError("Les sauvegardes d'un serveur PostgreSQL sont les fichiers de "
                        "pg_dump : main.py backup --db URL en écrit un.")
    found = list_backups(target.path)
    if args.json:
        print(json.dumps([b.as_dict() for b in found], ensure_ascii=False, indent=2))
    elif not found:
        print(f"Aucune sauvegarde de la base {target.path}.")
    for backup in [] if args.json else found:
        print(_backup_line(backup))
    return 0


def _restore(args: argparse.Namespace) -> int:
    from db.backups import check_backup, list_backups, restore
    from db.backups.postgres import restore_command, shown
    from db.database import open_database, parse_target

    target = parse_target(args.db)
    if not target.is_sqlite:
        print("Une base PostgreSQL se restaure avec pg_restore, sur le serveur :\n  "
              + shown(restore_command(target.url, args.backup)), file=sys.stderr)
        return 1
    path = Path(args.backup).expanduser()
    if not path.exists():  # a name from main.py backups
        path = next((b.path for b in list_backups(target.path)
                     if b.path.name == args.backup), path)
    database = open_database(target.path, create=False)
    try:
        chosen = check_backup(path, database, force=args.forcer)
        if not args.oui:
            if not sys.stdin.isatty():
                raise UserError("Restauration non confirmée : ajoutez --oui.")
            answer = input(f"Remplacer la base {target.path} par la sauvegarde "
                           f"{_backup_line(chosen)} ? (elle est d'abord sauvegardée) [o/N] ")
            if answer.strip().lower() not in ("o", "oui"):
                print("Restauration abandonnée : rien n'a été modifié.")
                return 1
        result = restore(database, chosen, force=args.forcer)
    finally:
        database.close()
    print(f"Sauvegarde restaurée : {_backup_line(result.restored)}")
    print(f"La base d'avant est sauvegardée : {result.before.path}")
    for problem in result.health.problems:
        print(f"Problème : {problem}", file=sys.stderr)
    print("Contrôle de la base : aucun problème détecté." if result.health.healthy
          else "Contrôle de la base : voir les problèmes ci-dessus (main.py check).")
    return 0


def _gui(args: argparse.Namespace) -> int:
    from desktop.app import run

    return run(db=args.db, screenshot=args.screenshot, view=args.view)


def _base_of(args: argparse.Namespace) -> tuple[Path | None, str | None]:
    """The SQLite file (for the restore advice) and the name of the base the command
    worked on, as far as the arguments say."""
    from db.database import parse_target

    try:
        target = parse_target(args.db)
    except Exception:  # only naming the base: the fault itself is what is reported
        return None, None
    return target.path, target.display()


def main(argv: list[str] | None = None) -> int:
    with french_argparse():
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
        if args.command == "export":
            return _export(args)
        if args.command == "field":
            return _field(args)
        if args.command in ("history", "journal"):
            return _history(args)
        if args.command == "envelopes":
            return _envelopes(args)
        if args.command == "deadlines":
            from db.deadlines.cli import run as deadlines

            return deadlines(args)
        if args.command == "scans":
            from db.scans.cli import run as scans

            return scans(args)
        if args.command in ("backup", "backups", "restore"):
            return {"backup": _backup, "backups": _backups, "restore": _restore}[
                args.command](args)
        return _gui(args)
    except UserError as error:
        print(f"Erreur : {error.message}", file=sys.stderr)
        return error.exit_code
    except (sqlite3.DatabaseError, DatabaseError) as error:
        # Damage only when the driver says so: a full disk, a lock or a read-only
        # file is reported as what it is (db.fault_messages).
        from db.fault_messages import fault_message

        print(f"Erreur : {fault_message(error, *_base_of(args))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("Interrompu.", file=sys.stderr)
        return 130


def _quiet_libraries() -> None:
    """Libraries' warnings (deprecations, pypdf's repairs…) are for programmers, in
    English: kept off the agent's terminal unless asked for with -W or PYTHONWARNINGS."""
    import logging
    import warnings

    if not sys.warnoptions:
        warnings.simplefilter("ignore")
    logging.getLogger().addHandler(logging.NullHandler())


def _run_from_terminal() -> int:
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # The reader of the pipe stopped reading (main.py check | head): what it wanted
        # has been written; Python would otherwise print a traceback on exit when it
        # flushes stdout again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code


if __name__ == "__main__":
    _quiet_libraries()
    sys.exit(_run_from_terminal())
