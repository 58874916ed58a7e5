"""The English messages of libpq (PostgreSQL) and SQLite, in French, for the user.

The drivers' messages are written for programmers; an agent reads what they mean and,
only for an unknown one, the original text as a technical detail to pass on.
"""

from __future__ import annotations

import re

_KNOWN = [
    (r'database "(?P<name>[^"]+)" does not exist',
     "la base « {name} » n'existe pas sur le serveur"),
    (r'role "(?P<name>[^"]+)" does not exist',
     "l'utilisateur « {name} » n'existe pas sur le serveur"),
    (r'password authentication failed for user "(?P<name>[^"]+)"',
     "mot de passe refusé pour l'utilisateur « {name} »"),
    (r"no password supplied", "le serveur demande un mot de passe"),
    (r"no pg_hba\.conf entry", "le serveur refuse les connexions de ce poste (pg_hba.conf)"),
    (r'connection to server at "(?P<host>[^"]+)", port (?P<port>\d+) failed: '
     r"Connection refused",
     "aucun serveur ne répond à l'adresse {host}, port {port} (serveur arrêté, "
     "port fermé ou pare-feu)"),
    (r"Connection refused", "aucun serveur ne répond (serveur arrêté, port fermé ou "
                            "pare-feu)"),
    (r"(?:failed to resolve host|could not translate host name) ['\"](?P<host>[^'\"]+)['\"]",
     "le nom de serveur « {host} » est inconnu (adresse ou réseau à vérifier)"),
    (r"timeout expired|timed out", "le serveur n'a pas répondu à temps"),
    (r"too many connections|remaining connection slots",
     "le serveur n'accepte plus de connexion (trop de connexions ouvertes)"),
    (r"the database system is (?:starting up|shutting down)",
     "le serveur démarre ou s'arrête : réessayez dans un instant"),
    (r"permission denied for database", "l'utilisateur n'a pas le droit d'ouvrir cette base"),
    (r"unable to open database file",
     "le fichier ne peut pas être ouvert (dossier inexistant ou accès refusé)"),
    (r"attempt to write a readonly database", "la base est en lecture seule"),
    (r"database is locked", "la base est occupée par un autre programme"),
    (r"disk I/O error", "erreur de lecture ou d'écriture sur le disque"),
    (r"database or disk is full", "le disque est plein"),
    (r"file is not a database", "le fichier n'est pas une base SQLite"),
    (r"database disk image is malformed", "le fichier de la base est endommagé"),
]


def french_reason(error: BaseException) -> str:
    """What a driver's error means, in French (``orig`` of a SQLAlchemy error first)."""
    text = str(getattr(error, "orig", None) or error).strip()
    for pattern, message in _KNOWN:
        found = re.search(pattern, text, re.IGNORECASE)
        if found:
            return message.format(**found.groupdict())
    first = text.splitlines()[0] if text else type(error).__name__
    return f"erreur du pilote de base de données (détail technique : {first})"
