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


_CONTRACTIONS = {("de", "Le "): "du ", ("de", "Les "): "des ", ("à", "Le "): "au ",
                 ("à", "Les "): "aux "}


def elide(preposition: str, name: str) -> str:
    """``de`` + ``Avesnes-sur-Helpe`` → ``d'Avesnes-sur-Helpe``; ``de`` + ``Le Quesnoy`` →
    ``du Quesnoy``; ``à`` + ``Le Cateau`` → ``au Cateau``; ``de`` + ``Maubeuge`` unchanged."""
    for (word, article), contracted in _CONTRACTIONS.items():
        if preposition == word and name.startswith(article):
            return f"{contracted}{name[len(article):]}"
    # Before an h, elision depends on the word (d'Hazebrouck, de Haguenau): vowels only.
    if preposition == "de" and normalize(name[:1]) in set("aeiouy") and name[:1].isalpha():
        return f"d'{name}"
    return f"{preposition} {name}"


# Names of organisations that a signature block writes with their article.
_ARTICLES = [("État", "l'"), ("Etat", "l'"), ("Région", "la "), ("Département", "le "),
             ("Commune", "la "), ("Ville", "la "), ("Communauté", "la "), ("Métropole", "la "),
             ("Syndicat", "le "), ("Conseil", "le "), ("Agence", "l'"), ("Union", "l'"),
             ("Établissement", "l'"), ("Pôle", "le "), ("Parc", "le "), ("CC ", "la "),
             ("CA ", "la "), ("CU ", "la ")]


def with_article(name: str) -> str:
    """``Pour l'État``, ``Pour la Région Hauts-de-France``, ``Pour la CC du Pays de
    Mormal``: the article a name takes after "Pour"; names that already carry theirs
    or proper names are left as they are."""
    for start, article in _ARTICLES:
        if name == start.strip() or name.startswith(start if start.endswith(" ")
                                                    else start + " "):
            return article + name
        if start.strip() == name.split(" (")[0]:
            return article + name
    first = name.split(" ")[0]
    if len(first) > 1 and first.isupper() and normalize(first[0]) in set("aeiou"):
        return "l'" + name  # l'ADEME, l'ANAH
    return name
