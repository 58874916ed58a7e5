from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from db.formatting import euros, long_date, percent
from db.money import MoneyError, from_cents, to_cents, to_decimal, total

cents = st.integers(min_value=-10**13, max_value=10**13)


def test_amounts_are_exact_to_the_cent():
    assert to_cents("1234567.89") == 123456789
    assert to_cents(Decimal("0.1") + Decimal("0.2")) == 30
    assert from_cents(30) == Decimal("0.30")


def test_float_and_sub_cent_amounts_are_refused():
    with pytest.raises(MoneyError):
        to_decimal(0.1)
    with pytest.raises(MoneyError, match="centime"):
        to_decimal("10.005")
    with pytest.raises(MoneyError):
        to_decimal("douze euros")
    with pytest.raises(MoneyError):
        to_decimal(Decimal("NaN"))


def test_unknown_amounts_are_not_zero_in_totals_nor_in_display():
    assert total([None, None]) == Decimal("0.00")
    assert total([Decimal("1.10"), None, Decimal("2.20")]) == Decimal("3.30")
    assert euros(None) == "non communiqué"


def test_french_formatting():
    assert euros(Decimal("1234567.89")).replace("\u202f", " ").replace("\xa0", " ") \
        == "1 234 567,89 €"
    from datetime import date
    assert long_date(date(2015, 11, 13)) == "13 novembre 2015"


@given(st.lists(cents, max_size=60))
def test_sums_in_cents_never_drift(values):
    as_euros = [from_cents(v) for v in values]
    assert to_cents(total(as_euros)) == sum(values)
    assert all(to_cents(e) == v for e, v in zip(as_euros, values, strict=True))


@given(st.integers(min_value=-10**14, max_value=10**14))
def test_fast_euro_formatting_is_babel_s(cents):
    from babel.numbers import format_currency

    amount = Decimal(cents) / 100
    assert euros(amount) == format_currency(amount, "EUR", locale="fr_FR")


@given(st.decimals(min_value=-100, max_value=100, places=6, allow_nan=False))
def test_fast_percent_formatting_is_babel_s(ratio):
    from babel.numbers import format_decimal

    assert percent(ratio) == f"{format_decimal(ratio * 100, format='#,##0.00', locale='fr_FR')} %"


def test_percent_examples():
    assert percent(Decimal("0.125")) == "12,50 %"
    assert percent(Decimal("0.2")) == "20,00 %"
    assert percent(Decimal("12.3456")) == "1\u202f234,56 %"
