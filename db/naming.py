"""One organisation per name, and names in French order.

:func:`name_key` says when two ways of writing a name designate the same organisation:
"commune de maubeuge", "Ville de Maubeuge", "MAIRIE DE MAUBEUGE" and "Maubeuge" all
give ``"maubeuge"``; "Commune du Quesnoy" and "Le Quesnoy" both give ``"le quesnoy"``.
Case, accents, ligatures (œ, æ), hyphens, apostrophes and other punctuation are ignored,
"St"/"Ste" read as "Saint"/"Sainte".

Which prefixes are dropped, and why only those: "Commune de", "Commune nouvelle de",
"Ville de" and "Mairie de" (with « d' », « du », « des », « de la », « de l' ») are
the ways agents write the municipality itself, whose organisation is the commune
named that way (its bare name means the same body). Every other prefix changes what is
meant, so none is dropped: "Communauté de communes du Pays de Mormal" is an EPCI, not
the commune "Pays de Mormal"; "Département du Nord" is the département, while "Nord"
alone could be anything; "Région Hauts-de-France" stays distinct from
"Hauts-de-France Prévention"; "CCAS de Maubeuge" is not the commune; a "commune
déléguée" is not its commune nouvelle. The prefix must be followed by a space: the
hyphen of a place name (La Ville-du-Bois, Ville-sur-Yron) never makes it a prefix.

:func:`sort_name` is the key that orders names as a French dictionary does: "État"
with the E, "Œuvre" as "oeuvre", "ex-région" after "Europe". Stored next to the name
(``sort_name`` columns), so that the database sorts and pages the lists by it on SQLite
and PostgreSQL alike (the column is compared byte by byte on both, see db.models).
"""

from __future__ import annotations

import re

from db.text import normalize

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "`": "'", "ʼ": "'", "´": "'"})
# The municipality written with its usual prefix; group 2 is the preposition.
_MUNICIPAL = re.compile(
    r"^(commune nouvelle|commune|ville|mairie) +(de la +|de l'|du +|des +|de +|d')(?=\w)")
_ARTICLE_AFTER = {"de la": "la ", "de l'": "l'", "du": "le ", "des": "les ", "de": "",
                  "d'": ""}
_NOT_WORD = re.compile(r"[\W_]+")
_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def _plain(text: str) -> str:
    """Lower case, no accents, œ as oe, one kind of apostrophe, hyphens kept."""
    lowered = normalize(text.translate(_APOSTROPHES).replace("-", "\x00"))
    return lowered.replace("\x00", "-")


def _words(text: str) -> str:
    words = _NOT_WORD.sub(" ", text).split()
    return " ".join(_ABBREVIATIONS.get(word, word) for word in words)


def without_municipal_prefix(text: str | None) -> str:
    """*text* lowered and unaccented, without a leading "Commune de", "Ville d'"…:
    ``"Commune du Quesnoy"`` → ``"le quesnoy"`` (punctuation kept)."""
    plain = _plain(text or "").strip()
    match = _MUNICIPAL.match(plain)
    if match is None:
        return plain
    return _ARTICLE_AFTER[match.group(2).strip()] + plain[match.end():]


def search_words(text: str | None) -> str:
    """What a search looks for: *text* without its municipal prefix and the article
    that goes with it (``"Ville du Quesnoy"`` → ``"quesnoy"``)."""
    plain = _plain(text or "").strip()
    match = _MUNICIPAL.match(plain)
    return plain if match is None else plain[match.end():]


def name_key(name: str | None) -> str:
    """The identity of an organisation's name: equal keys, same organisation."""
    return _words(without_municipal_prefix(name))


def words_key(text: str | None) -> str:
    """The words of *text* as :func:`name_key` writes them, prefix kept."""
    return _words(_plain(text or ""))


SORT_NAME_LENGTH = 300


def sort_name(name: str | None) -> str:
    """What a list of names is sorted on: a French dictionary's order."""
    return normalize(name)[:SORT_NAME_LENGTH]


def french_sorted(items, key=None) -> list:
    """*items* in French order of ``key(item)`` (the item itself by default)."""
    return sorted(items, key=lambda item: sort_name(key(item) if key else item))


# --- Matching what is typed ------------------------------------------------------------

EXACT, PREFIX, WORD_START, ALL_WORDS, CONTAINS = range(5)


def match_rank(typed: str, key: str, words: str) -> int | None:
    """How well *typed* (a :func:`name_key`) matches a name of key *key* and words
    *words* (its :func:`words_key`): 0 the same name, 1 the name begins with it, 2 a word
    begins with it, 3 every word typed begins a word of the name, 4 found inside a word;
    None: no match. A commune typed bare ("Maubeuge") is then the commune itself
    (exact) before the EPCI that contains its name (a word)."""
    if not typed:
        return None
    if typed == key or typed == words:
        return EXACT
    if key.startswith(typed) or words.startswith(typed):
        return PREFIX
    if f" {typed}" in f" {key}" or f" {typed}" in f" {words}":
        return WORD_START
    parts = typed.split()
    if len(parts) > 1 and all(f" {part}" in f" {words}" or f" {part}" in f" {key}"
                              for part in parts):
        return ALL_WORDS
    if typed in key or typed in words:
        return CONTAINS
    return None
