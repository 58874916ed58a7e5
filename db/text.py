"""Text matching as agents expect it: case, accents, hyphens and apostrophes ignored."""

from __future__ import annotations

import re
import unicodedata

_SEPARATORS = re.compile(r"[\s\-‐‑‒–—_/]+")
# The combining diacritical marks block (U+0300-U+036F), but only what
# unicodedata.combining calls a mark (U+034F, the grapheme joiner, is not).
_LATIN_MARKS = re.compile("[" + "".join(
    chr(c) for c in range(0x300, 0x370) if unicodedata.combining(chr(c))) + "]+")


def normalize(text: str | None) -> str:
    """``"Avesnes-sur-Helpe"`` and ``"AVESNES SUR HELPE"`` both give ``"avesnes sur helpe"``."""
    if not text:
        return ""
    text = text.replace("’", "'").replace("‘", "'").replace("`", "'").replace("ʼ", "'")
    decomposed = unicodedata.normalize("NFKD", text)
    # Most accents are in one block, removed at C speed; a character-by-character
    # filter finishes the rare others (it was most of the cost of large imports).
    stripped = _LATIN_MARKS.sub("", decomposed)
    if not stripped.isascii() and any(unicodedata.combining(ch) for ch in set(stripped)):
        stripped = "".join(ch for ch in stripped if not unicodedata.combining(ch))
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
