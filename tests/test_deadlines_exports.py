"""The échéancier out of the application: .ics parsed back with icalendar, the
spreadsheet reopened, the PDF's text read, the « deadlines » command."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest
from icalendar import Calendar
from pypdf import PdfReader

import main
from db.database import Database
from db.deadlines.exports import (
    Selection,
    pdf_bytes,
    select_deadlines,
    write_calendar,
    write_sheet,
)
from db.editing import operation_for_edit
from db.services.operations import PaymentData, save_operation
from db.services.settings import set_arrondissement
from db.vocabulary import OperationStatus, PaymentKind
from tests.test_deadlines import AVELIN, Base

TODAY = date(2026, 1, 15)


@pytest.fixture
def base(db: Database) -> Base:
    base = Base(db)
    base.caduc = base.operation("CADUC", [base.detr(date(2024, 2, 29))])  # 28/02/2026
    paid = [PaymentData(PaymentKind.INSTALMENT, date(2023, 6, 1), Decimal("10000.00"))]
    base.operation("JAMAIS", [base.detr(date(2020, 1, 10), payments=paid)],
                   status=OperationStatus.COMPLETED, start_date=date(2021, 3, 10),
                   end_date=date(2024, 1, 1))  # solde never claimed since 10/03/2025
    base.operation("AILLEURS", [base.detr(date(2024, 2, 29))], commune=AVELIN, contract=False)
    set_arrondissement(db, "591")
    return base


def _plain(value: object) -> str:
    """Babel's French amounts hold narrow and ordinary no-break spaces."""
    return str(value).replace("\u202f", " ").replace("\u00a0", " ")


def _events(path: Path) -> dict[str, object]:
    calendar = Calendar.from_ical(path.read_bytes())
    return {str(event["UID"]): event for event in calendar.walk("VEVENT")}


def test_calendar_parsed_back_all_day_french_stable_uids(base: Base, tmp_path: Path) -> None:
    selection = Selection(arrondissement="591")
    found = select_deadlines(base.db, selection, TODAY)
    first = write_calendar(found, tmp_path / "premier.ics",
                           stamp=datetime(2026, 1, 15, 8, tzinfo=UTC))
    events = _events(first)
    assert len(events) == len(found)
    by_summary = {str(e["SUMMARY"]): e for e in events.values()}
    caducity = by_summary["Début des travaux avant caducité — DETR — CADUC"]
    start = caducity.decoded("DTSTART")
    assert start == date(2026, 2, 28) and not isinstance(start, datetime)  # all day
    assert caducity.decoded("DTEND") == date(2026, 3, 1)
    assert "28/02/2026" in str(caducity["DESCRIPTION"])
    assert "30 000,00 €" in _plain(caducity["DESCRIPTION"])
    [alarm] = caducity.walk("VALARM")
    assert alarm.decoded("TRIGGER") == timedelta(days=-7)
    never = by_summary["Solde jamais demandé — DETR — JAMAIS"]
    assert never.decoded("DTSTART") == date(2025, 3, 10)
    assert not never.walk("VALARM")  # already past: no reminder ringing at once
    assert not [s for s in by_summary if "AILLEURS" in s]  # another arrondissement
    assert "Fin du contrat — CRTE-SAMBRE" in by_summary

    # An extension moves the date: the next export updates the same event.
    data = operation_for_edit(base.db, base.caduc)
    data.start_extension_months = 6
    save_operation(base.db, data, today=TODAY)
    second = write_calendar(select_deadlines(base.db, selection, TODAY),
                            tmp_path / "second.ics",
                            stamp=datetime(2026, 1, 16, 8, tzinfo=UTC))
    again = _events(second)
    # The same events, but the extension to decide: it is decided now.
    extension = by_summary["Prorogation à décider — DETR — CADUC"]
    assert set(again) == set(events) - {str(extension["UID"])}
    assert again[str(caducity["UID"])].decoded("DTSTART") == date(2026, 8, 29)


def test_spreadsheet_reopened(base: Base, tmp_path: Path) -> None:
    found = select_deadlines(base.db, Selection(arrondissement="591"), TODAY)
    path = write_sheet(found, tmp_path / "echeances.xlsx", TODAY)
    frame = pd.read_excel(path, engine="calamine", sheet_name="Échéances")
    assert list(frame.columns) == ["Échéance", "Délai", "Nature", "Référence", "Objet",
                                   "Dispositif", "Montant", "À faire"]
    rows = {row["Référence"]: row for _, row in frame.iterrows()}
    assert pd.Timestamp(rows["JAMAIS"]["Échéance"]).date() == date(2025, 3, 10)
    assert rows["JAMAIS"]["Délai"] == "en retard de 311 jours"  # 10/03/2025 → 15/01/2026
    assert rows["JAMAIS"]["Montant"] == 20000
    assert rows["JAMAIS"]["Nature"] == "Solde jamais demandé"
    assert "AILLEURS" not in rows


def test_pdf_text(base: Base, tmp_path: Path) -> None:
    selection = Selection(within_days=60, arrondissement="591")
    found = select_deadlines(base.db, selection, TODAY)
    path = tmp_path / "echeancier.pdf"
    path.write_bytes(pdf_bytes(base.db, found, selection, TODAY))
    text = "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)
    text = _plain(text)
    assert "Échéancier" in text
    assert "Échéances en retard et des 60 prochains jours ; Arrondissement : " \
           "Avesnes-sur-Helpe" in text
    assert "Situation au 15 janvier 2026" in text and "dont 1 en retard" in text
    assert "CADUC" in text and "28/02/2026" in text and "dans 44 jours" in text
    assert "en retard de 311 jours" in text and "20 000,00 €" in text
    assert "AILLEURS" not in text and "DETR_" not in text


def _run(capsys, *args: str) -> tuple[int, str, str]:
    code = main.main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_command_text_json_and_calendar(base: Base, tmp_path: Path, capsys) -> None:
    target = (str(base.db.target.path) if base.db.is_sqlite
              else base.db.target.url.render_as_string(hide_password=False))
    code, out, _err = _run(capsys, "deadlines", "--db", target, "--today", "15/01/2026",
                           "--within", "60")
    assert code == 0
    assert ("28/02/2026 — dans 44 jours — Début des travaux avant caducité (DETR) — CADUC — "
            "Travaux CADUC — 30 000,00 €") in _plain(out)
    assert "AILLEURS" not in out
    assert out.strip().endswith("échéances, dont 1 en retard.")
    ics = tmp_path / "cli.ics"
    code, out, _err = _run(capsys, "deadlines", "--db", target, "--today", "15/01/2026",
                           "--overdue", "--json", "--ics", str(ics))
    rows = json.loads(out)
    assert [(r["reference"], r["kind"], r["days_left"], r["amount"]) for r in rows] == [
        ("JAMAIS", "solde_non_demande", -311, "20000.00")]
    assert [str(e["SUMMARY"]) for e in _events(ics).values()] == [
        "Solde jamais demandé — DETR — JAMAIS"]
    code, out, _err = _run(capsys, "deadlines", "--db", target, "--today", "15/01/2026",
                           "--arrondissement", "tout", "--json")
    assert "AILLEURS" in {r["reference"] for r in json.loads(out)}
    code, _out, err = _run(capsys, "deadlines", "--db", target, "--arrondissement", "999")
    assert code != 0 and "Arrondissement inconnu : « 999 »." in err


def test_command_help_and_errors_are_french() -> None:
    from tests.test_cli_french import english_in, run

    result = run("deadlines", "--help")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("utilisation : main.py deadlines")
    assert english_in(result.stdout) == [], result.stdout
    assert "--within JOURS" in result.stdout and "--ics FICHIER.ics" in result.stdout
    wrong = run("deadlines", "--db", "x.sqlite", "--within", "bientôt")
    assert wrong.returncode == 2
    assert "argument --within : « bientôt » n'est pas un nombre de jours" in wrong.stderr


def test_a_notification_to_enter_in_the_three_exports(base: Base, tmp_path: Path) -> None:
    from tests.test_deadlines import _granted

    base.operation("A-NOTIFIER", [_granted(base, date(2026, 1, 12))])
    selection = Selection(kind="notification", arrondissement="591")
    found = select_deadlines(base.db, selection, TODAY)
    assert [(d.reference, d.due) for d in found] == [("A-NOTIFIER", date(2026, 1, 12))]
    [event] = _events(write_calendar(found, tmp_path / "notifier.ics")).values()
    assert str(event["SUMMARY"]) == "Notification à enregistrer — DETR — A-NOTIFIER"
    assert event["DTSTART"].dt == date(2026, 1, 12)
    assert "court à compter de la notification" in str(event["DESCRIPTION"])
    frame = pd.read_excel(write_sheet(found, tmp_path / "notifier.xlsx", TODAY),
                          engine="calamine", sheet_name="Échéances")
    [row] = [row for _, row in frame.iterrows()]
    assert (row["Référence"], row["Nature"], row["Délai"], row["Montant"]) == (
        "A-NOTIFIER", "Notification à enregistrer", "en retard de 3 jours", 45000)
    path = tmp_path / "notifier.pdf"
    path.write_bytes(pdf_bytes(base.db, found, selection, TODAY))
    text = _plain("\n".join(page.extract_text() for page in PdfReader(str(path)).pages))
    assert "Nature : notification à enregistrer" in text
    assert "A-NOTIFIER" in text and "12/01/2026" in text and "45 000,00 €" in text
