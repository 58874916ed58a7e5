"""What a rule says: findings (errors and warnings), and the date and rate helpers the
rules share."""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_CEILING, Decimal
from enum import StrEnum

from db.formatting import short_date


class Severity(StrEnum):
    ERROR = "erreur"
    WARNING = "avertissement"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    code: str
    field: str
    message: str
    article: str | None = None
    strict: bool = False  # blocks saving whatever the status

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def blocks(self, committed: bool) -> bool:
        return self.is_error and (self.strict or committed)


def blocking(findings: Iterable[Finding], committed: bool) -> list[Finding]:
    return [f for f in findings if f.blocks(committed)]


def error(code: str, field: str, message: str, article: str | None = None,
          strict: bool = False) -> Finding:
    return Finding(Severity.ERROR, code, field, message, article, strict)


def warning(code: str, field: str, message: str, article: str | None = None) -> Finding:
    return Finding(Severity.WARNING, code, field, message, article)


def day(value: date) -> str:
    return short_date(value)


def add_months(start: date, months: int) -> date:
    """The same day *months* later; the last day of the month when it has no such day
    (29 February 2024 + 24 months = 28 February 2026)."""
    month_index = start.month - 1 + months
    year, month = start.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(start.day, calendar.monthrange(year, month)[1]))


def ratio(amount: Decimal, base: Decimal | None) -> Decimal | None:
    """A rate derived from amounts (never stored)."""
    if base is None or base == 0:
        return None
    return amount / base


def cents_up(value: Decimal) -> Decimal:
    """To the cent above: the smallest amount that reaches a minimum."""
    return value.quantize(Decimal("0.01"), rounding=ROUND_CEILING)
