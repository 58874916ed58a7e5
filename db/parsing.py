"""Reading amounts and dates as agents type them (French conventions).

Pure functions; each refusal is a ValueError with a French message saying why.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal

from db.money import OUT_OF_BOUNDS, within_bounds

_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007']+")
_CURRENCY = re.compile(r"(€|eur(os?)?)$", re.IGNORECASE)
_PLAIN = re.compile(r"^-?\d+$")
_DECIMAL = re.compile(r"^-?\d+[.,]\d{1,2}$")
_GROUPED = re.compile(r"^-?\d{1,3}([.,]\d{3})+$")
_GROUPED_DECIMAL = re.compile(r"^-?\d{1,3}(?P<sep>[.,])\d{3}((?P=sep)\d{3})*[.,]\d{1,2}$")


def parse_amount(text: str | None) -> Decimal | None:
    """``1 234 567,89``, ``1234567.89``, ``1 234 567,89 €``, ``1.234.567,89`` -> Decimal.

    Empty text is ``None`` (not communicated). ``12,345`` is refused as ambiguous
    (12 345 € or 12,35 €?).
    """
    if text is None:
        return None
    compact = _SPACES.sub("", _CURRENCY.sub("", text.strip()).strip())
    if not compact:
        return None
    if _PLAIN.match(compact):
        return _cents(Decimal(compact), text)
    if _DECIMAL.match(compact):
        return _cents(Decimal(compact.replace(",", ".")), text)
    if _GROUPED_DECIMAL.match(compact):
        decimal_mark = compact[-3] if compact[-3] in ",." else compact[-2]
        group = "." if decimal_mark == "," else ","
        return _cents(Decimal(compact.replace(group, "").replace(",", ".")), text)
    if _GROUPED.match(compact):
        raise ValueError(f"« {text.strip()} » est ambigu : écrivez 12 345 ou 12,35 "
                         "(la virgule sépare les centimes).")
    if re.match(r"^-?\d+[.,]\d{3,}$", compact):
        raise ValueError(f"« {text.strip()} » : un montant ne va pas au-delà du centime.")
    raise ValueError(f"« {text.strip()} » n'est pas un montant (exemple : 1 234 567,89).")


def _cents(amount: Decimal, text: str) -> Decimal:
    if abs(amount) > Decimal("1E20"):  # checked first: quantizing it would overflow
        raise ValueError(f"« {text.strip()[:40]} » : {OUT_OF_BOUNDS}.")
    try:
        return within_bounds(amount.quantize(Decimal("0.01")))
    except ValueError:
        raise ValueError(f"« {text.strip()[:40]} » : {OUT_OF_BOUNDS}.") from None


# Dates an agent or a file may enter: a year of four digits that the deadline rules
# can add years to (a typo such as 9999 would overflow them).
FIRST_DAY = date(1900, 1, 1)
LAST_DAY = date(2200, 12, 31)


def within_dates(value: date) -> date:
    """*value* if it lies from 1 January 1900 to 31 December 2200, else a ValueError."""
    if not FIRST_DAY <= value <= LAST_DAY:
        raise ValueError(f"« {value:%d/%m/%Y} » : une date va du 01/01/1900 au 31/12/2200.")
    return value


_DATE_FORMATS = ("%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d", "%d%m%Y")


def parse_date(text: str | None) -> date | None:
    """``13/11/2015`` (also 13-11-2015, 13.11.2015, 2015-11-13) -> date; empty -> None."""
    if text is None or not text.strip():
        return None
    cleaned = text.strip()
    for fmt in _DATE_FORMATS:
        try:
            parsed = datetime.strptime(cleaned, fmt).date()
        except ValueError:
            continue
        return within_dates(parsed)
    raise ValueError(f"« {cleaned} » n'est pas une date (exemple : 13/11/2015).")


def parse_rate(text: object) -> Decimal | None:
    """``40 %``, ``40,5 %``, ``0,4``, ``0.4`` -> 0.40 / 0.405 (a share of 1); empty -> None.

    A bare number above 1 is refused: 40 could mean 40 % or 4 000 %; write « 40 % ».
    """
    if text is None:
        return None
    if isinstance(text, int | float) and not isinstance(text, bool):
        value = Decimal(repr(text))
        if not 0 <= value <= 1:
            raise ValueError(f"« {text} » : un taux s'écrit 0,4 ou 40 %")
        return value
    cleaned = _SPACES.sub("", str(text).strip())
    if not cleaned:
        return None
    percent = cleaned.endswith("%")
    number = cleaned.rstrip("%").replace(",", ".")
    if not re.fullmatch(r"\d+(\.\d+)?", number):
        raise ValueError(f"« {str(text).strip()} » n'est pas un taux (exemple : 40 %)")
    value = Decimal(number) / 100 if percent else Decimal(number)
    if not 0 <= value <= 1:
        raise ValueError(f"« {str(text).strip()} » : un taux va de 0 à 100 %")
    return value
