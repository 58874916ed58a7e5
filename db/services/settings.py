"""Settings stored in the database itself (they belong to the office, not to a PC)."""

from __future__ import annotations

from db.database import Database
from db.errors import InvalidInput
from db.models import Arrondissement, Setting

ARRONDISSEMENT = "arrondissement"


def get_setting(db: Database, key: str) -> str | None:
    with db.read() as session:
        setting = session.get(Setting, key)
        return setting.value if setting else None


def set_setting(db: Database, key: str, value: str) -> None:
    set_settings(db, {key: value})


def set_settings(db: Database, values: dict[str, str]) -> None:
    """Several settings in one transaction (a dialog's fields: all of them or none)."""
    with db.write() as session:
        for key, value in values.items():
            setting = session.get(Setting, key)
            if setting is None:
                session.add(Setting(key=key, value=value))
            elif setting.value != value:
                setting.value = value


def set_arrondissement(db: Database, code: str) -> None:
    with db.read() as session:
        if session.get(Arrondissement, code) is None:
            raise InvalidInput(f"Arrondissement inconnu : {code}.")
    set_setting(db, ARRONDISSEMENT, code)
