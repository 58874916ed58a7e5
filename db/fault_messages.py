"""What a database fault really is, in French: damage only when the file is damaged.

A full disk, a base locked by another program or a file that cannot be written are not
damage: calling them so sends the agent to restore a backup (and lose the day's work)
for nothing. The restore advice names the latest backup of the base, or says there is
none, instead of sending the agent looking for one that may not exist.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from db.driver_messages import french_reason

# Only these driver messages mean the file itself is damaged (or is no base at all).
_DAMAGE = re.compile(r"database disk image is malformed|file is not a database|"
                     r"malformed database schema|database corruption", re.IGNORECASE)

# Below this, a « disk I/O error » of SQLite is a full disk (a -shm takes 32 KiB).
_ROOM_NEEDED = 1 << 20
FULL_DISK_ADVICE = ("Libérez de la place sur le disque puis recommencez : rien n'a été "
                    "enregistré.")

# What to do about each kind of fault that is not damage (matched on the driver's text).
_ADVICE = [
    (r"database or disk is full", FULL_DISK_ADVICE),
    (r"database is locked",
     "Un autre programme ou poste écrit dans la base : attendez qu'il ait fini "
     "(ou fermez-le) puis recommencez ; rien n'a été enregistré."),
    (r"attempt to write a readonly database|readonly",
     "La base ne peut pas être modifiée ici (fichier, dossier ou support en lecture "
     "seule) : copiez-la dans un dossier accessible en écriture pour la modifier."),
    (r"unable to open database file",
     "Vérifiez que le dossier existe et que vous avez le droit d'y écrire."),
    (r"disk I/O error",
     "Vérifiez le disque ou la clé (débranchée, pleine, défectueuse ?) puis "
     "recommencez ; rien n'a été enregistré."),
]


def disk_is_full(path: Path | None) -> bool:
    """Whether the disk of the base at *path* has (next to) no room left. SQLite says
    « disk I/O error », not « disk is full », when it cannot create or grow its -shm
    on a full disk (opening a closed base): the room left tells what it was."""
    if path is None:
        return False
    try:
        return shutil.disk_usage(path.parent).free < _ROOM_NEEDED
    except OSError:
        return False


def is_disk_full_error(error: BaseException, path: Path | None) -> bool:
    text = str(getattr(error, "orig", None) or error)
    return re.search(r"disk I/O error", text, re.IGNORECASE) is not None and \
        disk_is_full(path)


def is_damage(error: BaseException) -> bool:
    """Whether the driver says the file is damaged (not full, locked or read-only)."""
    text = str(getattr(error, "orig", None) or error)
    return _DAMAGE.search(text) is not None


def restore_advice(path: Path | None) -> str:
    """« Restaurez la sauvegarde X » naming the latest one, or say that none exists."""
    if path is None:
        return "Restaurez la dernière sauvegarde de la base (pg_dump) avec pg_restore."
    try:
        from db.backups import list_backups

        found = list_backups(path)
    except Exception:  # the advice must never hide the fault it comes with
        found = []
    if not found:
        return (f"Aucune sauvegarde de la base {path} n'existe : signalez-le à votre "
                "référent informatique avant toute autre opération.")
    latest = found[0]
    when = latest.taken_at.astimezone().strftime("%d/%m/%Y à %H:%M")
    return (f"Restaurez la dernière sauvegarde, {latest.path.name} (du {when}) : "
            f"main.py restore {latest.path.name} --db {path}")


def fault_message(error: BaseException, path: Path | None = None,
                  where: str | None = None) -> str:
    """The French message of a driver error met while working on the base at *where*."""
    reason = french_reason(error)
    where = where or (str(path) if path is not None else "")
    base = f"la base {where}" if where else "la base"
    if is_damage(error):
        return f"{base[0].upper()}{base[1:]} est endommagée ({reason}). {restore_advice(path)}"
    if is_disk_full_error(error, path):
        return f"Action impossible sur {base} : le disque est plein. {FULL_DISK_ADVICE}"
    text = str(getattr(error, "orig", None) or error)
    for pattern, advice in _ADVICE:
        if re.search(pattern, text, re.IGNORECASE):
            return f"Action impossible sur {base} : {reason}. {advice}"
    return (f"Action impossible sur {base} : {reason}. Rien n'a été enregistré ; "
            "si le problème se répète, lancez main.py check.")
