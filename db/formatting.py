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


def percent(ratio: Decimal | None, rounding: str = ROUND_HALF_EVEN) -> str:
    """``12,50 %`` for 0.125: every rate the application prints has two decimals (what
    Babel writes with the pattern ``#,##0.00``, half-even to the hundredth), with the
    signs read from Babel once — the rules word thousands of findings with rates when a
    large sheet is imported. A rule that finds a rate under a minimum prints it rounded
    down (ROUND_FLOOR), over a maximum rounded up: 19,999 % is "19,99 %", never "20,00 %"
    beside "below 20 %"."""
    if ratio is None:
        return ""
    value = (Decimal(ratio) * 100).quantize(Decimal("0.01"), rounding=rounding)
    units, hundredths = divmod(abs(int(value * 100)), 100)
    digits = f"{units:,}".replace(",", _GROUP)
    sign = _MINUS if value.is_signed() else ""  # Babel too writes "-0,00 %" for -0,001 %
    return f"{sign}{digits}{_DECIMAL}{hundredths:02d} %"


def rounded_shares(amounts: list[Decimal], base: Decimal | None) -> list[Decimal | None]:
    """The rates of *amounts* on *base*, as printed (to the hundredth of a percent).

    When the amounts make up the base exactly, the rounded rates are adjusted by the
    largest-remainder method so that the printed column adds up to 100,00 % as the
    amounts add up to the base; otherwise each rate is rounded on its own."""
    if base is None or base <= 0:
        return [None] * len(amounts)
    exact = [amount * 10000 / base for amount in amounts]  # in hundredths of a percent
    if sum(amounts) != base or any(amount < 0 for amount in amounts):
        return [(e.quantize(Decimal(1), rounding=ROUND_HALF_EVEN)) / 10000 for e in exact]
    floors = [int(e) for e in exact]
    missing = 10000 - sum(floors)
    by_remainder = sorted(range(len(amounts)), key=lambda i: (-(exact[i] - floors[i]), i))
    for index in by_remainder[:missing]:
        floors[index] += 1
    return [Decimal(units) / 10000 for units in floors]


def short_date(value: date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def long_date(value: date | None) -> str:
    """``13 novembre 2015``."""
    return format_date(value, format="d MMMM y", locale=LOCALE) if value else ""


def compact_euros(amount: Decimal | int) -> str:
    """An axis tick or a bar's label: ``1,2 M€``, ``350 k€``, ``12,5 M€``, ``800 €``
    (one decimal under 100 units, none when it is 0; the signs of :func:`euros`)."""
    value = Decimal(amount)
    sign = _MINUS if value < 0 else ""
    value = abs(value)
    for size, unit in ((Decimal(1_000_000), "M€"), (Decimal(1_000), "k€")):
        if value >= size * Decimal("0.9995"):  # 999 999 € is « 1 M€ », not « 1 000 k€ »
            value, suffix = value / size, unit
            break
    else:
        suffix = "€"
    step = Decimal("0.1") if value < 100 else Decimal("1")
    tenths = int(value.quantize(step, rounding=ROUND_HALF_UP) * 10)
    units, tenth = divmod(tenths, 10)
    digits = f"{units:,}".replace(",", _GROUP)
    decimals = f"{_DECIMAL}{tenth}" if tenth else ""
    space = _SUFFIX[:-1] or "\u00a0"
    return f"{sign}{digits}{decimals}{space}{suffix}"
