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
    return f"Commune {elide('de', name)}"


_CONTRACTIONS = {("de", "Le "): "du ", ("de", "Les "): "des ", ("à", "Le "): "au ",
                 ("à", "Les "): "aux ",
                 # with_article() gives lower-case articles: "de" + "le Département du Nord"
                 ("de", "le "): "du ", ("de", "les "): "des ", ("à", "le "): "au ",
                 ("à", "les "): "aux "}

# Before an h, elision depends on the word (d'Hazebrouck, de Haguenau, de Hautmont): only
# names whose h is muet in established usage (their own "Ville d'H…") are elided.
_MUTE_H = {"halluin", "harfleur", "haubourdin", "hazebrouck", "hellemmes", "hendaye",
           "hennebont", "henin", "herblay", "herouville", "hyeres"}


def _starts_with_vowel_sound(name: str) -> bool:
    if not name[:1].isalpha():
        return False
    first = normalize(name[:1])[:1]  # "É" → "e", "Œ" → "oe" → "o"
    if first in set("aeiouy"):
        return True
    return first == "h" and normalize(name).split(" ")[0] in _MUTE_H


def elide(preposition: str, name: str) -> str:
    """``de`` + ``Avesnes-sur-Helpe`` → ``d'Avesnes-sur-Helpe``; ``de`` + ``Le Quesnoy`` →
    ``du Quesnoy``; ``à`` + ``Le Cateau`` → ``au Cateau``; ``de`` + ``Maubeuge`` unchanged;
    ``de`` + ``Étrœungt`` → ``d'Étrœungt``; ``de`` + ``Hautmont`` unchanged but ``de`` +
    ``Hazebrouck`` → ``d'Hazebrouck``."""
    for (word, article), contracted in _CONTRACTIONS.items():
        if preposition == word and name.startswith(article):
            return f"{contracted}{name[len(article):]}"
    if preposition == "de" and _starts_with_vowel_sound(name):
        return f"d'{name}"
    return f"{preposition} {name}"


# Names of organisations that a signature block writes with their article.
_ARTICLES = [("État", "l'"), ("Etat", "l'"), ("Région", "la "), ("Département", "le "),
             ("Commune", "la "), ("Ville", "la "), ("Communauté", "la "), ("Métropole", "la "),
             ("Syndicat", "le "), ("Conseil", "le "), ("Agence", "l'"), ("Union", "l'"),
             ("Établissement", "l'"), ("Pôle", "le "), ("Parc", "le "), ("CC ", "la "),
             ("CA ", "la "), ("CU ", "la "), ("Caisse", "la "), ("Banque", "la "),
             ("Chambre", "la "), ("Centre", "le "), ("Université", "l'"), ("Académie", "l'"),
             ("Rectorat", "le "), ("Ministère", "le "), ("Direction", "la "),
             ("Préfecture", "la "), ("Sous-préfecture", "la "), ("Association", "l'"),
             ("Office", "l'"), ("Institut", "l'"), ("Fondation", "la "),
             ("Groupement", "le "), ("PETR", "le "), ("DDT", "la "), ("DDTM", "la "),
             ("DREAL", "la "), ("DRAC", "la "), ("DRAAF", "la "), ("DIRECCTE", "la "),
             ("DREETS", "la ")]


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


def pages(count: int) -> str:
    """« 1 page », « 2 pages » (never « page(s) »)."""
    return f"{count} page" + ("s" if count > 1 else "")


# Characters no field may store (NUL and the C0 controls but tab and line breaks): they
# come from broken files, are cut by PostgreSQL (NUL) or invisible in the window.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def control_character(text: str) -> str | None:
    """« caractère de contrôle interdit (U+0000, 13e caractère) », or None."""
    found = _CONTROL.search(text)
    if found is None:
        return None
    position = found.start() + 1
    rank = "1er" if position == 1 else f"{position}e"
    return f"caractère de contrôle interdit (U+{ord(found.group()):04X}, {rank} caractère)"
