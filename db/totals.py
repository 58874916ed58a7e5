"""Sums over amounts that may be unknown: a total never takes "non communiqué" for 0.

Apart from :mod:`db.documents` so that the lists and editors can add up without
importing the documents (the start-up of the application does not need them)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from db.formatting import euros
from db.money import ZERO

UNKNOWN_SHORT = "n. c."


@dataclass(frozen=True)
class Total:
    """A sum of amounts of which *missing* were unknown ("non communiqué") and are not
    counted: a total says how many amounts it lacks, it never takes them for 0."""

    value: Decimal = ZERO
    missing: int = 0

    def plus(self, amount: Decimal | None) -> Total:
        if amount is None:
            return Total(self.value, self.missing + 1)
        return Total(self.value + amount, self.missing)

    def __add__(self, other: Total) -> Total:
        return Total(self.value + other.value, self.missing + other.missing)

    @property
    def known(self) -> bool:
        return self.missing == 0

    def printed(self) -> str:
        """``1 234,00 €``, or ``1 234,00 €`` then ``+ 2 n. c.`` on a second line."""
        text = euros(self.value)
        return f"{text}\n+ {self.missing} {UNKNOWN_SHORT}" if self.missing else text


def add_up(amounts: Iterable[Decimal | None]) -> Total:
    result = Total()
    for amount in amounts:
        result = result.plus(amount)
    return result


def sum_totals(totals: Iterable[Total]) -> Total:
    result = Total()
    for item in totals:
        result = result + item
    return result
