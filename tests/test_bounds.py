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
