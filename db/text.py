"""Text matching as agents expect it: case, accents, hyphens and apostrophes ignored."""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_/]+")
_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "ʼ": "'"})


def normalize(text: str | None) -> str:
    """``"Avesnes-sur-Helpe"`` and ``"AVESNES SUR HELPE"`` both give ``"avesnes sur helpe"``."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    stripped = stripped.replace("œ", "oe").replace("Œ", "oe").replace("æ", "ae")
    return _SEPARATORS.sub(" ", stripped.casefold()).strip()


def commune_organisation_name(name: str) -> str:
    """``Commune d'Aibes``, ``Commune du Quesnoy``, ``Commune des Hauts-Talican``."""
    for article, contracted in (("Le ", "du "), ("Les ", "des ")):
        if name.startswith(article):
            return f"Commune {contracted}{name[len(article):]}"
    if normalize(name[:1]) in set("aeiouy") and not name.startswith("L'"):
        return f"Commune d'{name}"
    return f"Commune de {name}"
