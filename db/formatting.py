"""French formatting of amounts, rates and dates (Babel, fr_FR); pure functions."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_EVEN, ROUND_HALF_UP, Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

LOCALE = "fr_FR"
UNKNOWN_AMOUNT = "non communiqué"


def _euro_parts() -> tuple[str, str, str, str]:
    """Group and decimal signs and what surrounds the number, read from Babel's fr_FR
    data once (a PDF of 500 operations formats thousands of amounts)."""
    sample = format_currency(Decimal("-1234.56"), "EUR", locale=LOCALE)
    prefix, rest = sample.split("1", 1)
    group, tail = rest[0], rest[1:]
    decimal_mark = tail[3]
    suffix = tail[6:]
    return prefix, group, decimal_mark, suffix


_MINUS, _GROUP, _DECIMAL, _SUFFIX = _euro_parts()


def euros(amount: Decimal | None, unknown: str = UNKNOWN_AMOUNT) -> str:
    """``1 234 567,89 €`` (as Babel writes it for fr_FR, half-up to the cent); ``None``
    is an amount the source does not give, never 0."""
    if amount is None:
        return unknown
    cents = int(Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)
    units, hundredths = divmod(abs(cents), 100)
    digits = f"{units:,}".replace(",", _GROUP)
    sign = _MINUS if cents < 0 else ""
    return f"{sign}{digits}{_DECIMAL}{hundredths:02d}{_SUFFIX}"


def number(value: int) -> str:
    """``100 000``."""
    return format_decimal(value, locale=LOCALE)


def percent(ratio: Decimal | None) -> str:
    """``12,5 %`` for 0.125: what Babel writes with the pattern ``#,##0.##`` (half-even
    to the hundredth, no trailing zeros), with the signs read from Babel once — the
    rules word thousands of findings with rates when a large sheet is imported."""
    if ratio is None:
        return ""
    value = (Decimal(ratio) * 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
    units, hundredths = divmod(abs(int(value * 100)), 100)
    digits = f"{units:,}".replace(",", _GROUP)
    fraction = f"{hundredths:02d}".rstrip("0")
    sign = _MINUS if value.is_signed() else ""  # Babel too writes "-0 %" for -0.001 %
    return f"{sign}{digits}{_DECIMAL + fraction if fraction else ''} %"


def short_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def long_date(value: date | None) -> str:
    """``13 novembre 2015``."""
    return format_date(value, format="d MMMM y", locale=LOCALE) if value else ""
