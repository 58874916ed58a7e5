"""The « scans » command of main.py: files signed scans by their QR code and says, in
French or as JSON, what was filed and what was not read."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from pathlib import Path

from db.cli_types import day


def register(command: Callable[[str, str], argparse.ArgumentParser], db_help: str) -> None:
    """Adds the command to main.py's parser (*command* makes a sub-command)."""
    parser = command("scans", "classe les actes signés numérisés (PDF ou images) d'après "
                              "le QR code de leurs pages")
    parser.add_argument("files", nargs="+", type=Path, metavar="FICHIER",
                        help="PDF ou images numérisés (PNG, JPEG, TIFF multipage)")
    parser.add_argument("--db", required=True, metavar="BASE", help=db_help)
    parser.add_argument("--date", type=day, metavar="JJ/MM/AAAA",
                        help="date de signature (par défaut : aujourd'hui)")
    parser.add_argument("--json", action="store_true", help="rapport au format JSON")


def as_dict(report) -> dict:
    return {
        "pages": report.pages,
        "complete": report.complete,
        "cancelled": report.cancelled,
        "filed": [{"file": str(f.file), "pages": list(f.pages), "reference": f.reference,
                   "act_kind": f.act_label, "act_id": str(f.act_id),
                   "funding_line_id": str(f.funding_line_id),
                   "attachment_id": str(f.attachment_id), "file_name": f.file_name,
                   "signed_on": f.signed_on.isoformat(), "already_filed": f.already_filed,
                   "missing_pages": list(f.missing), "page_count": f.page_count}
                  for f in report.filed],
        "unread": [{"file": str(u.file), "page": u.page} for u in report.unread],
        "blank": [{"file": str(u.file), "page": u.page} for u in report.blank],
        "unknown": [{"file": str(u.file), "pages": list(u.pages),
                     "fingerprint": u.fingerprint, "kind": u.kind_label,
                     "reason": u.reason} for u in report.unknown],
        "failed": [{"file": str(f.file), "reason": f.reason} for f in report.failed],
    }


def _pages(pages) -> str:
    return f"page{'s' if len(pages) > 1 else ''} {', '.join(str(p) for p in pages)}"


def text_lines(report) -> list[str]:
    from db.formatting import short_date

    lines = []
    for f in report.filed:
        state = "déjà classé" if f.already_filed else f"signé le {short_date(f.signed_on)}"
        lines.append(f"Classé : {f.act_label} de l'opération {f.reference} — "
                     f"{f.file.name}, {_pages(f.pages)} — {state}")
        if f.missing:
            lines.append(f"  Attention, {f.missing_label}.")
    for u in report.unknown:
        lines.append(f"Non classé : {u.file.name}, {_pages(u.pages)} — {u.kind_label} "
                     f"{u.fingerprint} : {u.reason}.")
    for u in report.unread:
        lines.append(f"Page non lue : {u.file.name}, page {u.page} (QR code illisible ou "
                     "absent).")
    for f in report.failed:
        lines.append(f"Fichier non lu : {f.reason}")
    if report.blank:
        lines.append(f"{len(report.blank)} page{'s' if len(report.blank) > 1 else ''} "
                     f"blanche{'s' if len(report.blank) > 1 else ''} ignorée"
                     f"{'s' if len(report.blank) > 1 else ''}.")
    new = sum(1 for f in report.filed if not f.already_filed)
    lines.append(f"{report.pages} page{'s' if report.pages > 1 else ''} lue"
                 f"{'s' if report.pages > 1 else ''}, {new} acte{'s' if new > 1 else ''} "
                 f"classé{'s' if new > 1 else ''}"
                 + (" ; classement annulé." if report.cancelled else "."))
    return lines


def run(args: argparse.Namespace) -> int:
    from db.database import open_database
    from db.scans.filing import file_scans

    database = open_database(args.db, create=False, upgrade=False)
    try:
        report = file_scans(database, args.files, signed_on=args.date)
    finally:
        database.close()
    if args.json:
        print(json.dumps(as_dict(report), ensure_ascii=False, indent=2))
    else:
        print("\n".join(text_lines(report)))
    return 0 if report.complete else 1
