"""French formatting of amounts, rates and dates (Babel, fr_FR); pure functions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from babel.dates import format_date
from babel.numbers import format_currency, format_decimal

LOCALE = "fr_FR"
UNKNOWN_AMOUNT = "non communiqué"


def euros(amount: Decimal | None, unknown: str = UNKNOWN_AMOUNT) -> str:
    """``1 234 567,89 €``; ``None`` is an amount the source does not give, never 0."""
    if amount is None:
        return unknown
    return format_currency(amount, "EUR", locale=LOCALE)


def number(value: int) -> str:
    """``100 000``."""
    return format_decimal(value, locale=LOCALE)


def percent(ratio: Decimal | None) -> str:
    if ratio is None:
        return ""
    return f"{format_decimal(ratio * 100, format='#,##0.##', locale=LOCALE)} %"


def short_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def long_date(value: date | None) -> str:
    """``13 novembre 2015``."""
    return format_date(value, format="d MMMM y", locale=LOCALE) if value else ""
