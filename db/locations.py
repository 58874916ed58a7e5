"""Where the application keeps its files (platformdirs; never next to the code)."""

from __future__ import annotations

from pathlib import Path

from platformdirs import user_data_path

APP_NAME = "suivi-contrats-territoriaux"
APP_AUTHOR = "sous-prefecture"


def data_dir() -> Path:
    return user_data_path(APP_NAME, APP_AUTHOR, ensure_exists=True)


def default_database_path() -> Path:
    return data_dir() / "contrats.sqlite"
