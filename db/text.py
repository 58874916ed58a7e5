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
