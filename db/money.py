"""Exact money: euros as ``Decimal`` in Python, integer cents in the database.

Rounding happens only at display, half-up to the cent; nothing here ever goes
through ``float``.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
# The largest amount an agent or a file may enter (ten billion euros: more than any
# contract of the State with a local authority). Any sum the base can hold — a hundred
# million amounts at this bound — still fits 64-bit cents on SQLite and PostgreSQL.
MAX_AMOUNT = Decimal("10000000000.00")
OUT_OF_BOUNDS = ("montant hors des limites : au plus 10 000 000 000,00 € (dix milliards "
                 "d'euros) par montant")


class MoneyError(ValueError):
    """A value that cannot be an exact amount of euros."""


def to_decimal(value: object) -> Decimal:
    """An amount in euros as an exact Decimal with two places.

    Accepts Decimal, int and decimal strings; refuses floats (they are not
    exact) and amounts finer than the cent (they would be silently rounded).
    """
    if isinstance(value, bool) or isinstance(value, float):
        raise MoneyError(f"montant non exact refusé : « {value} »")
    try:
        amount = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise MoneyError(f"montant illisible : « {value} »") from exc
    if not amount.is_finite():
        raise MoneyError(f"montant illisible : « {value} »")
    try:
        quantized = amount.quantize(CENT)
    except InvalidOperation:  # more digits than Decimal keeps: far beyond any bound
        raise MoneyError(OUT_OF_BOUNDS) from None
    if quantized != amount:
        shown = str(amount).replace(".", ",")
        raise MoneyError(f"montant plus précis que le centime : « {shown} »")
    return quantized


def within_bounds(amount: Decimal) -> Decimal:
    """*amount* if an agent or a file may enter it, else a MoneyError saying the bound."""
    if abs(amount) > MAX_AMOUNT:
        raise MoneyError(OUT_OF_BOUNDS)
    return amount


def to_cents(value: object) -> int:
    return int(to_decimal(value) * 100)


def from_cents(cents: int) -> Decimal:
    return (Decimal(int(cents)) / 100).quantize(CENT)


def round_cents(value: Decimal) -> Decimal:
    """Half-up rounding to the cent, for computed values such as rates x base."""
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def total(amounts: Iterable[Decimal | None]) -> Decimal:
    """Sum of the known amounts (``None`` means "non communiqué", never 0)."""
    return sum((a for a in amounts if a is not None), ZERO)
