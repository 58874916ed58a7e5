"""What ``main.py import`` says of a Démarches numériques export: the dossiers created,
updated (with what changed) and unchanged, in French."""

from __future__ import annotations

from db.demarches.importer import PREFIX, DemarchesReport
from db.formatting import euros
from db.money import from_cents


def show(report: DemarchesReport, dry_run: bool) -> None:
    totals = report.totals()
    created = "seraient créées" if dry_run else "créées"
    updated = "seraient mises à jour" if dry_run else "mises à jour"
    unchanged = len(report.unchanged) + len(report.updates) - len(report.updated)
    print(f"Export Démarches numériques, démarche « {report.procedure} » : "
          f"{report.rows_read} dossier(s) lu(s), {len({f.row for f in report.errors})} en "
          f"erreur, {len(report.duplicates)} en double.")
    print(f"{len(report.operations)} opération(s) {created} (coût "
          f"{euros(from_cents(totals['cost_cents']))}), {len(report.updated)} "
          f"{updated}, {unchanged} inchangée(s).")
    for planned in report.operations:
        print(f"Nouveau dossier {planned.data.reference} : {planned.data.title}")
    for update in report.updated:
        print(f"Dossier {PREFIX}{update.number} : " + " ; ".join(update.changes))
    for finding in report.errors:
        print(f"Erreur ligne {finding.row}, {finding.column} : {finding.message}")
    for finding in report.warnings:
        print(f"Avertissement ligne {finding.row}, {finding.column} : {finding.message}")
    if report.batch_id:
        print(f"Lot d'import {report.batch_id} (annulable en une fois).")
