"""Bounds on what enters: amounts up to 10 000 000 000,00 € (so that every sum of the base
fits 64-bit cents), dates from 1900 to 2200 (so that the deadline rules can add years),
each refused in French where it is typed or imported, and nothing half-written."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
import xlsxwriter
from sqlalchemy import func, select

from db.errors import InvalidInput
from db.models import Operation
from db.money import MAX_AMOUNT, MoneyError, to_decimal
from db.parsing import parse_amount, parse_date
from db.services.common import money
from db.spreadsheets import importer
from db.spreadsheets.values import read_amount, read_date
from tests.test_services import actors, new_operation  # noqa: F401

LIMIT = "au plus 10 000 000 000,00 €"


def test_the_largest_amount_is_accepted_and_one_cent_more_is_refused():
    assert MAX_AMOUNT == Decimal("10000000000.00")
    assert parse_amount("10 000 000 000,00 €") == MAX_AMOUNT
    assert read_amount(10_000_000_000) == MAX_AMOUNT
    assert read_amount(1e10) == MAX_AMOUNT
    assert money("10000000000.00", "Coût HT") == MAX_AMOUNT
    for text in ("10 000 000 000,01", "-10 000 000 000,01", "99999999999"):
        with pytest.raises(ValueError, match=LIMIT):
            parse_amount(text)
    with pytest.raises(ValueError, match=LIMIT):
        read_amount(10_000_000_001)
    with pytest.raises(InvalidInput, match=f"Coût HT : montant hors des limites : {LIMIT}"):
        money("10000000000.01", "Coût HT")


@pytest.mark.parametrize("cell", [1e20, 9.3e16, 1e30, 5e16, 10**40])
def test_huge_number_cells_are_refused_in_french_not_by_an_overflow(cell):
    with pytest.raises(ValueError, match=LIMIT) as refused:
        read_amount(cell)
    assert "Overflow" not in str(refused.value) and "Invalid" not in str(refused.value)


def test_huge_typed_amounts_do_not_overflow_decimal():
    with pytest.raises(ValueError, match=LIMIT):
        parse_amount("1" + "0" * 40)
    with pytest.raises(MoneyError, match="hors des limites"):
        to_decimal("1e30")


def test_dates_from_1900_to_2200():
    assert parse_date("01/01/1900") == date(1900, 1, 1)
    assert parse_date("31/12/2200") == date(2200, 12, 31)
    for text in ("31/12/1899", "01/01/2201", "31/12/9999"):
        with pytest.raises(ValueError, match="une date va du 01/01/1900 au 31/12/2200"):
            parse_date(text)
    assert read_date(datetime(2200, 12, 31, 10, 0)) == date(2200, 12, 31)
    with pytest.raises(ValueError, match="31/12/9999"):
        read_date(datetime(9999, 12, 31))
    with pytest.raises(ValueError, match="01/01/1800"):
        read_date(date(1800, 1, 1))


def _hostile_workbook(path):
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Suivi")
    sheet.write_row(0, 0, ["Référence", "Intitulé", "Commune", "Coût HT", "Financeur",
                           "Dispositif", "Montant accordé", "Date de décision"])
    dates = workbook.add_format({"num_format": "dd/mm/yyyy"})
    rows = [
        ["B-1", "Salle des fêtes", "59392", 1e20, "État", "DETR", 100000, None],
        ["B-2", "Voirie", "59392", 200000, "État", "DETR", 9.3e16, None],
        ["B-3", "Préau", "59392", 1e30, "État", "DETR", None, None],
        ["B-4", "Toiture", "59392", 5e16, "État", "DETR", None, None],
        ["B-5", "Cour d'école", "59392", 120000, "État", "DETR", 40000, None],
        ["B-6", "Mairie", "59392", 150000, "État", "DETR", 30000, None],
    ]
    for number, row in enumerate(rows, start=1):
        sheet.write_row(number, 0, row)
    sheet.write_datetime(6, 7, datetime(9999, 12, 31), dates)  # B-6, sheet row 7
    workbook.close()
    return path


def test_a_hostile_sheet_gets_french_row_errors_and_only_its_sane_rows(demo_db, tmp_path):
    path = _hostile_workbook(tmp_path / "hostile.xlsx")
    report = importer.analyse(demo_db, path)
    errors = {(e.row, e.column): e.message for e in report.errors}
    assert {row for row, _column in errors} == {2, 3, 4, 5, 7}
    for row in (2, 4, 5):
        message = next(m for (r, c), m in errors.items() if r == row)
        assert LIMIT in message
    assert LIMIT in next(m for (r, c), m in errors.items() if r == 3)
    assert "31/12/9999" in next(m for (r, c), m in errors.items() if r == 7)
    assert [op.data.reference for op in report.operations] == ["B-5"]
    with demo_db.read() as session:
        before = session.scalar(select(func.count()).select_from(Operation))
    importer.apply(demo_db, report)
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation)) == before + 1
        assert session.scalar(select(Operation.cost_ht).where(
            Operation.reference == "B-5")) == Decimal("120000.00")


def test_control_characters_and_long_names_are_row_errors(demo_db, tmp_path):
    path = tmp_path / "controle.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Suivi")
    sheet.write_row(0, 0, ["Référence", "Intitulé", "Maître d'ouvrage", "Commune", "Coût HT"])
    sheet.write_row(1, 0, ["C-1", "Salle\x07 des fêtes", "Commune de Maubeuge", "59392", 1000])
    sheet.write_row(2, 0, ["C-2", "Voirie", "M" * 30_000, "59392", 1000])
    sheet.write_row(3, 0, ["C-3", "Préau", "Commune de Maubeuge", "59392", 1000])
    workbook.close()
    report = importer.analyse(demo_db, path)
    errors = {e.row: e.message for e in report.errors}
    assert errors[2] == "caractère de contrôle interdit (U+0007, 6e caractère)"
    assert errors[3] == "nom de 30000 caractères (300 au plus)"
    assert [op.data.reference for op in report.operations] == ["C-3"]


@pytest.mark.parametrize("content, message", [
    (b"Intitul\xe9;Commune\nToiture;59392\n\x81\x8d\x8f;59392\n",
     "ni en UTF-8 ni en Windows-1252"),
    (b"Intitul\xc3\xa9;Commune\n" + b"Toiture;59392\n" * 400 + b"Pr\x00au;59392\n",
     "octets nuls"),
])
def test_unreadable_csv_is_a_french_error_naming_the_file(demo_db, tmp_path, content,
                                                         message):
    from db.errors import UserError

    path = tmp_path / "suivi-export.csv"
    path.write_bytes(content)
    with pytest.raises(UserError, match=message) as refused:
        importer.analyse(demo_db, path)
    assert "suivi-export.csv" in str(refused.value)


def test_an_editor_refuses_a_control_character(demo_db):
    from db.services.organisations import OrganisationData, save_organisation
    from db.vocabulary import OrganisationKind

    with pytest.raises(InvalidInput, match="Nom de l'organisation : caractère de contrôle "
                                           r"interdit \(U\+0000, 4e caractère\)"):
        save_organisation(demo_db, OrganisationData("Ass\x00ociation", OrganisationKind.OTHER))


def test_error_cells_of_a_workbook_are_row_errors_not_unknown_amounts(demo_db, tmp_path):
    path = tmp_path / "formules.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Suivi")
    sheet.write_row(0, 0, ["Référence", "Intitulé", "Maître d'ouvrage", "Commune", "Coût HT",
                           "Montant accordé"])
    sheet.write_row(1, 0, ["F-1", "Toiture", "Commune de Maubeuge", "59392"])
    sheet.write_formula(1, 4, "=1/0", None, "#DIV/0!")
    sheet.write_row(2, 0, ["F-2", "Voirie", "Commune de Maubeuge", "59392", 1000])
    sheet.write_formula(2, 5, "=SQRT(-1)", None, "#NUM!")
    sheet.write_row(3, 0, ["F-3", "Préau", None, "59392", 1000])
    sheet.write_formula(3, 2, "=#REF!", None, "#REF!")
    sheet.write_row(4, 0, ["F-4", "Cour", "Commune de Maubeuge", "59392", 1000])
    sheet.write_formula(4, 5, "=E5*0.4", None, 400)
    workbook.close()
    report = importer.analyse(demo_db, path)
    errors = {(e.row, e.column): e.message for e in report.errors}
    assert set(errors) == {(2, "Coût HT"), (3, "Montant accordé"), (4, "Maître d'ouvrage")}
    assert errors[(2, "Coût HT")].startswith("cellule en erreur « #DIV/0! » dans le tableur")
    assert "« #NUM! »" in errors[(3, "Montant accordé")]
    assert "« #REF! »" in errors[(4, "Maître d'ouvrage")]
    assert [op.data.reference for op in report.operations] == ["F-4"]
    assert report.operations[0].data.funding_lines[0].amount_granted == Decimal("400.00")


def _wide_csv(path, extra_columns: int):
    header = ["Référence", "Intitulé", "Commune"] + [f"Colonne {i}" for i in range(extra_columns)]
    rows = [";".join(header)] + [
        ";".join([f"W-{row}", "Voirie", "59392"] + [str(i) for i in range(extra_columns)])
        for row in range(3)]
    path.write_text("\n".join(rows), encoding="utf-8")
    return path


def test_a_sheet_of_10000_columns_is_analysed_about_as_fast_as_a_narrow_one(demo_db, tmp_path):
    """The header search scored every label against every header word for each of its
    candidate rows: 40 s for 10 000 columns, 38 times a narrow sheet's analysis here
    (1,2 times since)."""
    import time

    narrow = _wide_csv(tmp_path / "etroit.csv", 10)
    wide = _wide_csv(tmp_path / "large.csv", 10_000)

    def fastest(path) -> float:
        spent = []
        for _ in range(2):
            getattr(importer, "_label_fields", lambda: None).__dict__.get(
                "cache_clear", lambda: None)()  # each run from scratch
            started = time.perf_counter()
            report = importer.analyse(demo_db, path)
            spent.append(time.perf_counter() - started)
        assert [op.data.reference for op in report.operations] == ["W-0", "W-1", "W-2"]
        assert report.labels[3:5] == ["Colonne 0", "Colonne 1"] and report.errors == []
        return min(spent)

    ratio = fastest(wide) / fastest(narrow)
    print(f"10 000 colonnes / 10 colonnes : {ratio:.1f}")
    assert ratio < 8, f"10 000 colonnes : {ratio:.1f} fois le temps d'une feuille étroite"


def test_check_names_amounts_beyond_the_bounds_instead_of_calling_the_base_damaged(
        db, actors, tmp_path):  # noqa: F811
    """Two operations of 5·10¹⁶ € written in SQL (as an old base could hold them): their
    sum overflows 64-bit cents, and SQLite's « integer overflow » used to be reported as a
    damaged base. Now ``check`` names each amount, on SQLite and PostgreSQL."""
    import subprocess
    import sys
    from pathlib import Path

    from sqlalchemy import text

    from db.formatting import euros
    from db.health import check
    from db.services.operations import save_operation

    for reference in ("HB-1", "HB-2"):
        save_operation(db, new_operation(actors, reference=reference))
    with db.engine.begin() as connection:
        connection.execute(text("UPDATE operation SET cost_ht_cents = 5000000000000000000"))
        connection.execute(text("UPDATE funding_line SET amount_granted_cents = "
                                "5000000000000000000 WHERE amount_granted_cents IS NOT NULL"))
    report = check(db)
    assert not report.healthy and report.totals_cents == {}
    huge = euros(Decimal(5 * 10**16))  # 50 000 000 000 000 000,00 €
    limit = euros(MAX_AMOUNT)
    cost = [p for p in report.problems if "coût HT" in p]
    assert cost == [f"Montant hors bornes : opération {reference}, coût HT de {huge} (au plus "
                    f"{limit} par montant) : à corriger dans son éditeur."
                    for reference in ("HB-1", "HB-2")]
    granted = [p for p in report.problems if "montant accordé" in p]
    assert len(granted) == 2 and all(f"(ligne), montant accordé de {huge}" in p for p in granted)
    assert report.problems[-1].startswith("Totaux de la base non calculés")
    target = str(db.target.path) if db.is_sqlite else db.engine.url.render_as_string(
        hide_password=False)
    result = subprocess.run([sys.executable, "main.py", "check", "--db", target],
                            cwd=Path(__file__).parents[1], capture_output=True, text=True,
                            timeout=300)
    assert result.returncode == 1, result.stderr
    assert "Problème : Montant hors bornes : opération HB-1, coût HT" in result.stderr
    assert "endommagée" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr
    with db.read() as session:  # check only read
        assert set(session.scalars(select(Operation.cost_ht))) == {Decimal(5 * 10**16)}


def _ods_with_failed_formulas(path):
    from tests.ods_helpers import Failed, Formula, write_ods

    return write_ods(path, {"Notes": [["Rien"]], "Suivi": [
        ["Référence", "Intitulé", "Maître d'ouvrage", "Commune", "Coût HT", "Montant accordé"],
        ["F-1", "Toiture", "Commune de Maubeuge", "59392", Failed("of:=1/0", "#DIV/0!")],
        ["F-2", "Voirie", "Commune de Maubeuge", "59392", 1000,
         Failed("of:=SQRT(-1)", "Err:502")],
        ["F-3", "Préau", Failed("of:=#REF!", "#REF!", marked=False), "59392", 1000],
        ["F-4", "Cour", "Commune de Maubeuge", "59392", 1000, Formula("of:=[.E5]*0.4", 400)],
    ]})


def test_error_cells_of_an_ods_are_row_errors_not_unknown_amounts(demo_db, tmp_path):
    path = _ods_with_failed_formulas(tmp_path / "formules.ods")
    report = importer.analyse(demo_db, path, sheet="Suivi")
    errors = {(e.row, e.column): e.message for e in report.errors}
    assert set(errors) == {(2, "Coût HT"), (3, "Montant accordé"), (4, "Maître d'ouvrage")}
    assert errors[(2, "Coût HT")].startswith("cellule en erreur « #DIV/0! » dans le tableur")
    assert "« Err:502 »" in errors[(3, "Montant accordé")]
    assert "« #REF! »" in errors[(4, "Maître d'ouvrage")]  # without calcext's mark
    assert [op.data.reference for op in report.operations] == ["F-4"]
    assert report.operations[0].data.funding_lines[0].amount_granted == Decimal("400.00")
    with demo_db.read() as session:
        before = session.scalar(select(func.count()).select_from(Operation))
    importer.apply(demo_db, report)
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Operation)) == before + 1


def test_error_cells_of_an_ods_saved_by_libreoffice(demo_db, tmp_path):
    """The same sheet as the xlsx test, converted by LibreOffice itself."""
    import shutil
    import subprocess

    soffice = shutil.which("soffice")
    if soffice is None:
        pytest.skip("LibreOffice absent : l'ods écrit à la main est testé ci-dessus "
                    "(LibreOffice not installed)")
    path = tmp_path / "formules.xlsx"
    workbook = xlsxwriter.Workbook(str(path))
    sheet = workbook.add_worksheet("Suivi")
    sheet.write_row(0, 0, ["Référence", "Intitulé", "Commune", "Coût HT", "Montant accordé"])
    sheet.write_row(1, 0, ["O-1", "Toiture", "59392"])
    sheet.write_formula(1, 3, "=1/0", None, "#DIV/0!")
    sheet.write_row(2, 0, ["O-2", "Voirie", "59392", 1000])
    sheet.write_formula(2, 4, "=D3*0.4", None, 400)
    workbook.close()
    subprocess.run([soffice, "--headless", f"-env:UserInstallation=file://{tmp_path}/lo",
                    "--convert-to", "ods", "--outdir", str(tmp_path), str(path)],
                   check=True, capture_output=True, timeout=180)
    report = importer.analyse(demo_db, tmp_path / "formules.ods")
    assert [(e.row, e.column) for e in report.errors] == [(2, "Coût HT")]
    assert "« #DIV/0! »" in report.errors[0].message
    assert [op.data.reference for op in report.operations] == ["O-2"]


def test_the_issue_s_hostile_values_typed_as_text_in_a_csv_are_row_errors(demo_db, tmp_path):
    path = tmp_path / "hostile.csv"
    path.write_text(
        "Référence;Intitulé;Commune;Coût HT;Montant sollicité;Taux sollicité;"
        "Date de décision;Exercice\n"
        "H-1;Toiture;59392;1e30;;;;\n"
        "H-2;Voirie;59392;9,3e16;;;;\n"
        "H-3;Préau;59392;1000;;1e30;;\n"
        "H-4;Cour;59392;1000;100;;31/12/9999;\n"
        "H-5;Mairie;59392;1000;100;;;9999\n"
        "H-6;Gymnase;59392;99999999999999999999999999999;;;;\n"
        "H-7;Parc;59392;NaN;Infinity;;;\n"
        "H-8;Stade;59392;1000;100;;;\n", encoding="utf-8")
    report = importer.analyse(demo_db, path)
    errors = {(e.row, e.column): e.message for e in report.errors}
    assert set(errors) == {(2, "Coût HT"), (3, "Coût HT"), (4, "Taux sollicité"),
                           (5, "Date de décision"), (6, "Exercice"), (7, "Coût HT"),
                           (8, "Coût HT"), (8, "Montant sollicité")}
    assert errors[(5, "Date de décision")].endswith("une date va du 01/01/1900 au 31/12/2200.")
    assert LIMIT in errors[(7, "Coût HT")]
    assert all("Error" not in m and "Overflow" not in m for m in errors.values())
    assert [op.data.reference for op in report.operations] == ["H-8"]
