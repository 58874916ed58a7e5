from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.formatting import euros
from db.parsing import parse_amount, parse_date, parse_rate


@pytest.mark.parametrize("text, expected", [
    ("1 234 567,89", "1234567.89"), ("1234567.89", "1234567.89"),
    ("1\u00a0234\u00a0567,89", "1234567.89"), ("1\u202f234\u202f567,89 €", "1234567.89"),
    ("1234567", "1234567.00"), ("12,5", "12.50"), ("1.234.567,89", "1234567.89"),
    ("1,234,567.89", "1234567.89"), ("-150,00", "-150.00"), ("300 000 €", "300000.00"),
    ("45 000 EUR", "45000.00"), ("0,01", "0.01"),
])
def test_amounts_as_agents_type_them(text, expected):
    assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize("text, message", [
    ("12,345", "ambigu"), ("12.345", "ambigu"), ("10,005", "centime"),
    ("douze", "pas un montant"), ("1 2,3,4", "pas un montant"), ("12€50", "pas un montant"),
])
def test_bad_amounts_are_refused_with_a_reason(text, message):
    with pytest.raises(ValueError, match=message):
        parse_amount(text)


def test_empty_amount_is_unknown_not_zero():
    assert parse_amount("") is None and parse_amount("  ") is None and parse_amount(None) is None


@given(st.integers(min_value=0, max_value=10**12))  # up to the bound (db.money.MAX_AMOUNT)
def test_formatted_amounts_read_back_exactly(cents):
    amount = Decimal(cents) / 100
    assert parse_amount(euros(amount)) == amount.quantize(Decimal("0.01"))
    assert parse_amount(f"{amount:.2f}") == amount


@pytest.mark.parametrize("text, expected", [
    ("13/11/2015", date(2015, 11, 13)), ("2015-11-13", date(2015, 11, 13)),
    ("13.11.2015", date(2015, 11, 13)), ("13-11-2015", date(2015, 11, 13)),
    (" 01/02/2025 ", date(2025, 2, 1)),
])
def test_dates(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize("text", ["31/02/2025", "2025/13/01", "demain", "13 novembre"])
def test_bad_dates(text):
    with pytest.raises(ValueError, match="pas une date"):
        parse_date(text)


@given(st.dates(min_value=date(1900, 1, 1), max_value=date(2200, 12, 31)))
def test_dates_round_trip(value):
    assert parse_date(value.strftime("%d/%m/%Y")) == value


@pytest.mark.parametrize("text, expected", [
    ("40 %", "0.40"), ("40,5\u202f%", "0.405"), ("0,4", "0.4"), ("0.25", "0.25"), (0.3, "0.3"),
    ("100 %", "1.00"), ("", None),
])
def test_rates(text, expected):
    assert parse_rate(text) == (Decimal(expected) if expected else None)


@pytest.mark.parametrize("text", ["40", "120 %", "quarante", "-5 %"])
def test_bad_rates(text):
    with pytest.raises(ValueError):
        parse_rate(text)


@given(st.integers(min_value=0, max_value=10000))
def test_percent_and_fraction_agree(hundredths):
    percent = Decimal(hundredths) / 100
    assert parse_rate(f"{percent} %".replace(".", ",")) == parse_rate(str(percent / 100))
