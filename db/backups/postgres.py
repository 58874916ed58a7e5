"""PostgreSQL bases are the server's to back up: the commands for pg_dump / pg_restore."""

from __future__ import annotations

import os
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import URL

from db.backups.store import STAMP, BackupError, backups_root


def _conninfo(url: URL) -> tuple[str, dict[str, str]]:
    """libpq's URL without the password (which would show in the process list) and the
    environment that carries it."""
    plain = url.set(drivername="postgresql", password=None)
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return plain.render_as_string(hide_password=False), env


def default_dump_path(url: URL, now: datetime | None = None) -> Path:
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime(STAMP)
    return backups_root() / "postgresql" / f"{url.database}-manuelle-{stamp}.dump"


def dump_command(url: URL, output: Path) -> list[str]:
    conninfo, _env = _conninfo(url)
    return ["pg_dump", "-Fc", "-f", str(output), "--dbname", conninfo]


def restore_command(url: URL, dump: str) -> list[str]:
    conninfo, _env = _conninfo(url)
    return ["pg_restore", "--clean", "--if-exists", "--single-transaction", "--no-owner",
            "--dbname", conninfo, dump]


def shown(command: list[str]) -> str:
    return " ".join(f'"{part}"' if " " in part else part for part in command)


def dump(url: URL, output: Path | None) -> Path:
    """Run pg_dump (custom format) into *output*; a French error when it cannot."""
    output = Path(output).expanduser().resolve() if output else default_dump_path(url)
    if output.exists():
        raise BackupError(f"Le fichier {output} existe déjà : choisissez un autre nom.")
    output.parent.mkdir(parents=True, exist_ok=True)
    command = dump_command(url, output)
    program = shutil.which("pg_dump")
    if program is None:
        raise BackupError("pg_dump n'est pas installé sur ce poste (paquet postgresql-client "
                          "sous Linux, outils en ligne de commande de PostgreSQL sous "
                          "Windows). La commande à lancer où il l'est :\n  "
                          + shown(command))
    partial = output.with_name(output.name + ".partiel")
    _conninfo_text, env = _conninfo(url)
    result = subprocess.run([program, *command[1:3], str(partial), *command[4:]], env=env,
                            capture_output=True, text=True)
    if result.returncode != 0:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump a échoué (code {result.returncode}) : "
                          f"{result.stderr.strip()[:500]}")
    os.replace(partial, output)
    return output
