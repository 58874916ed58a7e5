"""Argument types shared by the command-line commands of db/*/cli.py: each refuses a
bad value with a French message that argparse prints after the option's name."""

from __future__ import annotations

import argparse
from datetime import date


def day(value: str) -> date:
    """A date as agents type it (« 15/03/2026 », « 2026-03-15 »)."""
    from db.parsing import parse_date

    try:
        parsed = parse_date(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    if parsed is None:
        raise argparse.ArgumentTypeError("date vide")
    return parsed


def days(value: str) -> int:
    """A number of days, zero included."""
    if not value.isdigit():
        raise argparse.ArgumentTypeError(f"« {value} » n'est pas un nombre de jours (entier "
                                         "positif ou nul)")
    return int(value)


def positive(value: str) -> int:
    if not value.isdigit() or int(value) == 0:
        raise argparse.ArgumentTypeError(f"« {value} » n'est pas un nombre entier positif")
    return int(value)
