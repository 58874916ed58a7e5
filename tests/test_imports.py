"""Importing a messy tracking sheet the way agents keep them."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest
import xlsxwriter
from sqlalchemy import func, select

from db.errors import DeleteRefused, InvalidInput
from db.models import AuditEntry, Operation, Organisation
from db.spreadsheets import importer

ROOT = Path(__file__).resolve().parent.parent
HEADER_1 = ["N° dossier", "Intitulé de l'opération", "Maître d'ouvrage", "Commune",
            "Coût HT", "Financement", None, None, "Dispositif", "Date de décision"]
HEADER_2 = [None, None, None, None, None, "Financeur", "Montant sollicité", "Montant accordé",
            None, None]
ROWS = [  # spreadsheet rows 6 to 13
    ["D-001", "Rénovation de l'école", "Ville de Maubeuge", "MAUBEUGE", 250000, "État",
     "100 000,00 €", 75000, "DSIL", datetime(2025, 4, 14)],
    ["D-001", "Rénovation de l'école", "Ville de Maubeuge", "MAUBEUGE", 250000,
     "Département du Nord (Conseil départemental)", "25\u202f000", None, "DEPARTEMENT", None],
    ["D-002", "Mise en accessibilité de la mairie", "Commune d'Avesnes-sur-Helpe",
     "AVESNES SUR HELPE", "1 234 567,89 €", "État", "300 000", None, "DSIL", None],
    ["D-002", "Mise en accessibilité de la mairie", "Commune d'Avesnes-sur-Helpe",
     "AVESNES SUR HELPE", "1 234 567,89 €", "État", "300 000", None, "DSIL", None],
    ["D-003", "Salle des fêtes", "Commune de Fourmies", "Fourmies", "12,345", "État", "4 000",
     None, "DETR", None],
    ["D-004", "Voirie", "Commune de Nulle Part", "Nullepart-sur-Mer", 100000, "État", 30000,
     None, "DETR", None],
    [None] * 10,
    ["TOTAL", None, None, None, "1 596 912,89", None, "459 000", 75000, None, None],
]


def messy_workbook(path: Path) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Programmation 2025")
    title = book.add_format({"bold": True, "font_size": 14})
    sheet.merge_range(0, 0, 0, 7, "Programmation DETR 2025 — arrondissement d'Avesnes", title)
    sheet.write(1, 0, "Suivi au 15/03/2025")
    for column, label in enumerate(HEADER_1):
        if label:
            sheet.write(3, column, label)
    sheet.merge_range(3, 5, 3, 7, "Financement")
    for column, label in enumerate(HEADER_2):
        if label:
            sheet.write(4, column, label)
    dates = book.add_format({"num_format": "dd/mm/yyyy"})
    for offset, row in enumerate(ROWS):
        for column, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write_datetime(5 + offset, column, value, dates)
            elif value is not None:
                sheet.write(5 + offset, column, value)
    book.add_worksheet("Notes").write(0, 0, "Feuille ignorée sauf si choisie")
    book.close()
    return path


def test_the_report_says_row_by_row_what_happens(demo_db, tmp_path):
    report = importer.analyse(demo_db, messy_workbook(tmp_path / "suivi.xlsx"))
    assert report.header_row == 5
    assert report.sheets == ["Programmation 2025", "Notes"]
    assert set(report.mapping) >= {"reference", "title", "owner", "commune", "cost_ht",
                                   "financer", "requested", "granted", "scheme",
                                   "decision_date"}
    assert report.rows_read == 7
    assert report.duplicates == [9]
    assert {"row": 12, "reason": "ligne vide"} in report.skipped
    assert {"row": 13, "reason": "ligne de total"} in report.skipped
    errors = {(e.row, e.column) for e in report.errors}
    assert (10, "Coût HT") in errors and (11, "Commune") in errors
    assert any("ambigu" in e.message for e in report.errors if e.row == 10)
    assert any("Nullepart" in e.message for e in report.errors if e.row == 11)
    assert report.valid == 3 and report.imported_operations == 2
    assert report.totals() == {"cost_cents": 25000000 + 123456789, "granted_cents": 7500000}
    assert any("Avesnes-sur-Helpe" in w.message and "créée" in w.message
               for w in report.warnings)
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation).where(
            Operation.origin == "import")) == 0  # analysing writes nothing


def test_import_is_one_batch_that_can_be_undone(demo_db, tmp_path):
    path = messy_workbook(tmp_path / "suivi.xlsx")
    report = importer.analyse(demo_db, path)
    batch = importer.apply(demo_db, report)
    with demo_db.read() as session:
        imported = {o.reference: o for o in session.scalars(
            select(Operation).where(Operation.origin == "import"))}
        assert set(imported) == {"D-001", "D-002"}
        first = imported["D-001"]
        assert first.cost_ht == Decimal("250000.00")
        assert [c.code for c in first.communes] == ["59392"]
        lines = {line.scheme_code: line for line in first.funding_lines}
        assert lines["DSIL"].amount_granted == Decimal("75000.00")
        assert lines["DSIL"].decision_date.isoformat() == "2025-04-14"
        assert lines["DEPARTEMENT"].amount_requested == Decimal("25000.00")
        assert [c.code for c in imported["D-002"].communes] == ["59036"]
        assert imported["D-002"].owner.name == "Commune d'Avesnes-sur-Helpe"
        in_batch = session.scalar(select(func.count()).select_from(AuditEntry)
                                  .where(AuditEntry.batch_id == batch))
        assert in_batch >= 2 + 3 + 1  # operations, lines, the new organisation
    assert [(b, count) for b, _, _, count in importer.batches(demo_db)] == [(str(batch), 2)]

    again = importer.analyse(demo_db, path)
    assert again.imported_operations == 0
    assert any("existe déjà" in e.message for e in again.errors)

    assert importer.undo(demo_db, str(batch)) == 2
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation).where(
            Operation.origin == "import")) == 0


def test_undo_refused_once_an_imported_operation_changed(demo_db, tmp_path):
    from db.editing import find_by_reference, operation_for_edit
    from db.services.operations import save_operation

    report = importer.analyse(demo_db, messy_workbook(tmp_path / "suivi.xlsx"))
    batch = importer.apply(demo_db, report)
    data = operation_for_edit(demo_db, find_by_reference(demo_db, "operation", "D-002"))
    data.title = "Modifiée après l'import"
    save_operation(demo_db, data)
    with pytest.raises(DeleteRefused, match="D-002"):
        importer.undo(demo_db, str(batch))
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation).where(
            Operation.origin == "import")) == 2


def test_csv_in_cp1252_through_the_command_line(demo_path, tmp_path):
    lines = [";".join(str(c or "") for c in HEADER_1[:5]) + ";Financeur;Montant sollicité",
             "D-010;Église : toiture;Commune de Maubeuge;59392;80 000,00 €;État;24 000"]
    path = tmp_path / "suivi.csv"
    path.write_bytes("\r\n".join(lines).encode("cp1252"))
    result = subprocess.run([sys.executable, "main.py", "import", str(path), "--db",
                             str(demo_path), "--dry-run", "--json"], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["rows_read"] == 1 and report["valid"] == 1 and report["errors"] == []
    assert report["imported_operations"] == 1
    assert report["totals"] == {"cost_cents": 8000000, "granted_cents": 0}
    assert report["batch_id"] is None  # dry run: nothing written


@pytest.mark.parametrize("content, message", [
    (b"", "vide"), (b"PK\x03\x04not really a zip", "lisible"),
    (b"\x00\x01\x02binaire", "texte"),
])
def test_bad_files_get_a_clear_message_and_nothing_is_written(demo_db, tmp_path, content,
                                                                message):
    suffix = ".csv" if b"binaire" in content or not content else ".xlsx"
    path = tmp_path / f"mauvais{suffix}"
    path.write_bytes(content)
    with pytest.raises(InvalidInput, match=message):
        importer.analyse(demo_db, path)
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Organisation)) == 84


def test_wrong_extension_and_missing_header(demo_db, tmp_path):
    other = tmp_path / "notes.txt"
    other.write_text("bonjour")
    with pytest.raises(InvalidInput, match="tableur"):
        importer.analyse(demo_db, other)
    headless = tmp_path / "sans-entete.csv"
    headless.write_text("1;2;3\n4;5;6\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="en-tête"):
        importer.analyse(demo_db, headless)


def test_saved_mapping_follows_the_labels(demo_db, tmp_path):
    path = messy_workbook(tmp_path / "suivi.xlsx")
    report = importer.analyse(demo_db, path)
    importer.save_mapping(demo_db, "programmation DETR", {
        name: report.labels[column] for name, column in report.mapping.items()})
    mapping = importer.load_mapping(demo_db, "programmation DETR", report.labels)
    assert mapping == report.mapping


def test_a_mapping_name_is_at_most_49_characters(demo_db):
    importer.save_mapping(demo_db, "n" * 49, {"reference": "Référence"})
    with pytest.raises(InvalidInput, match="Nom de correspondance trop long "
                                           r"\(50 caractères, 49 au plus\)"):
        importer.save_mapping(demo_db, "n" * 50, {"reference": "Référence"})


@pytest.mark.parametrize("kind", ["xlsx", "ods", "csv"])
def test_round_trip_export_then_import_gives_back_the_operations(demo_db, db, tmp_path, kind):
    """A list exported from one database and imported into another: same operations."""
    from db.demo import build_demo
    from db.lists import OPERATIONS, Criteria
    from db.spreadsheets.export import export_list

    criteria = Criteria(arrondissement="591", search="fictif")
    path = tmp_path / f"aller.{kind}"
    export_list(demo_db, OPERATIONS, criteria, path)
    exported = {r["reference"]: r for r in OPERATIONS.page(demo_db, criteria, limit=None)}

    build_demo(db)  # same organisations and contracts on the other side (SQLite or PostgreSQL)
    with db.write() as session:  # … but not these operations yet
        for operation in session.scalars(select(Operation).where(
                Operation.reference.in_(list(exported)))):
            for line in operation.funding_lines:
                line.payments.clear()
            session.flush()
            session.delete(operation)
    report = importer.analyse(db, path)
    assert report.errors == [], report.errors[:3]
    assert {"row": len(exported) + 2, "reason": "ligne de total"} in report.skipped
    importer.apply(db, report)
    back = {r["reference"]: r for r in OPERATIONS.page(db, criteria, limit=None)}
    assert set(back) == set(exported)
    for reference, row in exported.items():
        for key in ("title", "owner", "communes", "contracts", "cost", "granted"):
            assert back[reference][key] == row[key], (reference, key)


def test_import_from_the_gui_with_preview_mapping_and_undo(qtbot, demo_db, monkeypatch,
                                                          tmp_path):
    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox

    from desktop.app import make_application
    from desktop.main_window import MainWindow

    make_application()
    window = MainWindow(demo_db)
    qtbot.addWidget(window)
    window.show()
    path = messy_workbook(tmp_path / "suivi.xlsx")
    monkeypatch.setattr(QFileDialog, "getOpenFileName",
                        staticmethod(lambda *a, **k: (str(path), "")))
    dialog = window.import_sheet()
    model = dialog.rows.model()

    def fates() -> list[tuple[str, str]]:
        return [(model.index(r, 0).data(), model.index(r, 1).data())
                for r in range(model.rowCount())]
    assert {("10", "erreur"), ("11", "erreur"), ("9", "doublon"), ("13", "ignorée"),
            ("6", "valide")} <= set(fates())
    assert "3 valide(s)" in dialog.summary.text()
    # The agent shows only the errors: rows 10 and 11, and nothing else.
    dialog.shown.setCurrentIndex(dialog.shown.findText("Erreurs"))
    assert {row for row, _ in fates()} == {"10", "11"}
    assert {state for _, state in fates()} == {"erreur"}
    dialog.shown.setCurrentIndex(0)

    # The agent decides the commune column is not to be used: row 11 becomes importable.
    communes = dialog.columns["commune"]
    communes.setCurrentIndex(communes.findData(-1))
    qtbot.mouseClick(dialog.reanalyse_button, Qt.MouseButton.LeftButton)
    assert dialog.report.imported_operations == 3
    assert "Importer 3 opération(s)" in dialog.import_button.text().replace("&", "")

    def acknowledge():
        # The import's report, once the work (backup first, then the import) is done.
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            box.accept()
        else:
            QTimer.singleShot(100, acknowledge)
    QTimer.singleShot(200, acknowledge)
    qtbot.mouseClick(dialog.import_button, Qt.MouseButton.LeftButton)
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation).where(
            Operation.origin == "import")) == 3

    def confirm():
        box = QApplication.activeModalWidget()
        try:
            qtbot.mouseClick(box.button(QMessageBox.StandardButton.Yes),
                             Qt.MouseButton.LeftButton)
        finally:
            if box is not None and box.isVisible():
                box.reject()
    QTimer.singleShot(200, confirm)
    assert window.undo_import() == 3
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation).where(
            Operation.origin == "import")) == 0


def test_rates_become_requested_amounts(demo_db, tmp_path):
    path = tmp_path / "taux.csv"
    path.write_text("Intitulé;Commune;Coût HT;Financeur;Dispositif;Taux\n"
                    "Toiture de l'église;59392;80 000;État;DETR;40 %\n"
                    "Cour d'école;59392;50 000;État;DETR;0,25\n"
                    "Préau;59392;10 000;État;DETR;quarante\n", encoding="utf-8")
    report = importer.analyse(demo_db, path)
    amounts = sorted(op.data.funding_lines[0].amount_requested for op in report.operations)
    assert amounts == [Decimal("12500.00"), Decimal("32000.00")]
    assert [(e.row, e.column) for e in report.errors] == [(4, "Taux sollicité")]


def test_an_owner_the_import_creates_counts_in_the_rules(demo_db, tmp_path):
    """A new commune owner must keep 20 % of public funding (L1111-10): the preview says
    so and files the operation as a request, and writing it then goes through."""
    path = tmp_path / "regle.csv"
    path.write_text("Référence;Intitulé;Maître d'ouvrage;Commune;Coût HT;Financeur;"
                    "Dispositif;Montant accordé\n"
                    "R-1;Réfection de la mairie;Commune de Villeneuve-Fictive;59392;100 000;"
                    "État;DSIL;90 000\n", encoding="utf-8")
    report = importer.analyse(demo_db, path)
    assert report.imported_operations == 1
    assert any("L1111-10" in w.message and "Déposé" in w.message for w in report.warnings)
    importer.apply(demo_db, report)
    with demo_db.read() as session:
        operation = session.scalar(select(Operation).where(Operation.reference == "R-1"))
        assert operation.status == "depose"
        assert operation.owner.kind == "commune"


def test_each_new_organisation_is_announced_once(demo_db, tmp_path):
    path = tmp_path / "nouveaux.csv"
    rows = "".join(f"R-{n};Projet {n};Ville de Maubeuge;59392;10 000;Fonds Sambre Avenir;"
                   "2 000\n" for n in range(1, 6))
    path.write_text("Référence;Intitulé;Maître d'ouvrage;Commune;Coût HT;Financeur;"
                    f"Montant sollicité\n{rows}", encoding="utf-8")
    report = importer.analyse(demo_db, path)
    announced = [w for w in report.warnings if "Fonds Sambre Avenir" in w.message]
    assert [(w.row, w.column) for w in announced] == [(2, "Financeur")]
    assert [o.name for o in report.new_organisations.values()] == ["Fonds Sambre Avenir"]
    importer.apply(demo_db, report)
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Organisation).where(
            Organisation.name == "Fonds Sambre Avenir")) == 1


def test_a_shared_commune_name_is_taken_in_the_arrondissement_then_the_departement(
        demo_db, tmp_path):
    path = tmp_path / "homonymes.csv"
    path.write_text("Intitulé;Commune;Coût HT\n"
                    "Voirie;Saint-Aubin;10 000\n"  # several in France, one in 591
                    "Église;Naves;20 000\n"  # several in France, one in the Nord (592)
                    "Pont;Beaulieu;30 000\n", encoding="utf-8")  # none in the Nord
    report = importer.analyse(demo_db, path)
    codes = {op.data.title: op.data.commune_codes for op in report.operations}
    assert codes == {"Voirie": ["59529"], "Église": ["59422"]}
    assert [(e.row, e.column) for e in report.errors] == [(4, "Commune")]
    assert "ambiguë" in report.errors[0].message


def test_epci_contract_and_scheme_are_matched_or_reported(demo_db, tmp_path):
    path = tmp_path / "rattachements.csv"
    path.write_text(
        "Intitulé;Commune;EPCI;Contrat;Coût HT;Financeur;Dispositif;Montant sollicité\n"
        "Halle;59392;200043396;fictif-crte-591;10 000;État;detr;2 000\n"
        "Piscine;59392;Communauté imaginaire;;10 000;État;DETR;2 000\n"
        "Stade;59392;200043396;CONTRAT-INCONNU;10 000;État;FONDS-X;2 000\n",
        encoding="utf-8")
    report = importer.analyse(demo_db, path)
    found = {op.data.title: op for op in report.operations}
    assert set(found) == {"Halle", "Stade"}
    assert found["Halle"].data.links and found["Halle"].data.funding_lines[0].scheme_code == \
        "DETR"
    assert not found["Stade"].data.links
    assert found["Stade"].data.funding_lines[0].scheme_code is None
    assert [(e.row, e.column) for e in report.errors] == [(3, "EPCI")]
    assert "EPCI inconnu : « Communauté imaginaire »" in report.errors[0].message
    warned = {(w.row, w.column): w.message for w in report.warnings}
    assert "contrat inconnu : « CONTRAT-INCONNU »" in warned[(4, "Contrat")]
    assert "dispositif inconnu : « FONDS-X »" in warned[(4, "Dispositif")]


def test_cancelling_writes_nothing(demo_db, tmp_path):
    path = messy_workbook(tmp_path / "suivi.xlsx")
    with pytest.raises(importer.ImportCancelled, match="rien n'a été écrit"):
        importer.analyse(demo_db, path, cancelled=lambda: True)
    report = importer.analyse(demo_db, path)
    with pytest.raises(importer.ImportCancelled):
        importer.apply(demo_db, report, cancelled=lambda: True)
    asked = []

    def later() -> bool:  # "Annuler" pressed while the operations are being written
        asked.append(1)
        return len(asked) > 1
    with pytest.raises(importer.ImportCancelled):
        importer.apply(demo_db, report, cancelled=later)
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation).where(
            Operation.origin == "import")) == 0
        # The search trigger the bulk write sets aside is there again.
        assert session.connection().exec_driver_sql(
            "SELECT count(*) FROM sqlite_master WHERE name = 'operation_fts_ai'").scalar() == 1


def test_the_progress_dialog_cancel_button_stops_the_work(qtbot):
    import threading
    import time

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QProgressDialog, QPushButton

    from desktop.app import make_application
    from desktop.tasks import run_with_progress

    make_application()
    stop = threading.Event()

    def long_work():
        for _ in range(600):  # at most 30 s
            if stop.is_set():
                raise importer.ImportCancelled()
            time.sleep(0.05)
        return "fini"

    def press_cancel():
        dialogs = [w for w in QApplication.topLevelWidgets()
                   if isinstance(w, QProgressDialog) and w.isVisible()]
        assert dialogs, "la boîte de progression n'est pas affichée"
        button = dialogs[0].findChild(QPushButton)
        assert button.text() == "Annuler"
        button.click()

    QTimer.singleShot(800, press_cancel)
    started = time.monotonic()
    with pytest.raises(importer.ImportCancelled):
        run_with_progress(None, "Analyse…", long_work, cancel=stop)
    assert time.monotonic() - started < 10


def test_password_protected_workbook(demo_db, tmp_path):
    import io

    import msoffcrypto

    plain = messy_workbook(tmp_path / "clair.xlsx")
    locked = io.BytesIO()
    with plain.open("rb") as handle:
        msoffcrypto.OfficeFile(handle).encrypt("secret", locked)
    path = tmp_path / "protege.xlsx"
    path.write_bytes(locked.getvalue())
    with pytest.raises(InvalidInput, match="protégé par un mot de passe"):
        importer.analyse(demo_db, path)
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Organisation)) == 84


def test_a_number_cell_finer_than_the_cent_is_a_row_error(demo_db, tmp_path):
    """The same text typed in the editor is refused: the sheet's cell is not rounded."""
    path = tmp_path / "centimes.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    for column, label in enumerate(["Référence", "Intitulé", "Commune", "Coût HT",
                                    "Financeur", "Dispositif", "Montant sollicité"]):
        sheet.write(0, column, label)
    sheet.write_row(1, 0, ["C-1", "Toiture", "59392", 1234.565, "État", "DSIL", 300])
    sheet.write_row(2, 0, ["C-2", "Préau", "59392", 0.1 + 0.2, "État", "DSIL", -59280])
    sheet.write_row(3, 0, ["C-3", "Cour", "59392", 1234.56, "État", "DSIL", 300])
    book.close()
    report = importer.analyse(demo_db, path)
    errors = {(e.row, e.column): e.message for e in report.errors}
    assert "« 1\u202f234,565 »" in errors[(2, "Coût HT")] and "centime" in errors[(2, "Coût HT")]
    assert (3, "Coût HT") not in errors  # 0,1 + 0,2 shows as 0,3 in the sheet
    negative = errors[(3, "Montant sollicité")]
    assert "59\u202f280,00\xa0€" in negative and "59280.00" not in negative
    assert not any(row == 4 for row, _ in errors)
