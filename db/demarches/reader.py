"""Reading the export of a démarche of Démarches numériques (demarches-simplifiees.fr).

What the export is, as read in the public source of Démarches numériques
(github.com/demarches-simplifiees/demarches-simplifiees.fr, commit e1338d7 of
15 January 2026):

- ``app/services/procedure_export_service.rb``: xlsx and ods hold the sheets
  *Dossiers*, *Etablissements*, *Avis*, then one sheet per repeatable block, named
  ``(stable_id) libellé`` transliterated to ASCII, without ``/\\*?[]`` and cut to
  30 characters. The csv holds the *Dossiers* sheet only. The file is named
  ``dossiers_<chemin de la démarche>_AAAA-MM-JJ_HH-MM.<ext>`` (``procedure-<id>``
  when the démarche has no path).
- ``app/models/concerns/dossier_export_concern.rb`` (``dossier_values_for_export``):
  the fixed columns of *Dossiers*, in this order: ``ID`` (the dossier number, as
  text), ``Email``, ``FranceConnect ?``; then for a démarche of legal persons
  ``Entreprise raison sociale`` (xlsx, ods) — the csv writes instead the whole
  établissement (``Établissement SIRET``, ``Établissement siège social``…,
  ``Établissement code INSEE localité``, ``Entreprise SIREN``…, ``Entreprise raison
  sociale``…); a démarche of individuals has ``Civilité``, ``Nom``, ``Prénom``…; then
  ``À archiver``, ``État du dossier``, ``Dernière mise à jour le``, ``Dernière mise à
  jour du dossier le``, ``Déposé le``, ``Passé en instruction le``, ``Traité le``,
  ``Motivation de la décision``, ``Instructeurs`` (e-mails separated by spaces) and,
  with routing, ``Groupe instructeur``. Then every field of the form, public fields
  then private annotations, labelled as on the form (labels may repeat).
- ``config/locales/models/dossier/fr.yml``: the states as exported: « En
  construction », « En instruction », « Accepté », « Refusé », « Classé sans
  suite » (drafts are never exported).
- ``app/models/types_de_champ/``: ``type_de_champ_base.rb`` — one column per field,
  its text value; ``commune_type_de_champ.rb`` — a commune takes three columns
  « X » (``Maubeuge (59600)``: name and postal code), « X (Code INSEE) » and
  « X (Département) » (``59 – Nord``, ``champs/commune_champ.rb``);
  ``epci_type_de_champ.rb`` — « X », « X (Code) », « X (Département) »;
  ``integer_number`` / ``decimal_number`` — numbers as numbers, a blank number is
  written 0; ``date_type_de_champ.rb`` — a date field is its stored text
  ``AAAA-MM-JJ``; ``yes_no`` / ``checkbox`` — « Oui » / « Non »; ``siret`` — the
  SIRET typed, its établissement being a row of *Etablissements*.
- ``app/models/etablissement.rb`` (``spreadsheet_columns``): *Etablissements* starts
  with ``Dossier ID``, ``Champ`` (the label of the SIRET field), ``Établissement
  SIRET``…, ``Établissement code INSEE localité``, ``Entreprise SIREN``…,
  ``Entreprise raison sociale``.
- ``app/models/avis.rb``: *Avis* — ``Dossier ID``, ``Introduction``, ``Réponse``,
  ``Question``, ``Réponse oui/non``, ``Créé le``, ``Répondu le``, ``Instructeur``,
  ``Expert``.
- ``app/models/champs/repetition_champ.rb``: a repeatable block's sheet —
  ``Dossier ID``, ``Ligne``, then the block's fields.

The times of the fixed columns (« Déposé le »…) are date-time cells in xlsx and ods,
and ``2025-03-14 10:32:11 +0100`` (Rails' ``to_s``) in csv.

The public DETR/DSIL forms (e.g. « Demande de subvention DETR / DSIL 2025 » of the
Nord) ask « Intitulé du projet », « Commune(s) du projet » (a commune field),
« SIRET/SIREN du demandeur » (SIRET field), « Coût total HT », « Montant DETR
sollicité », « Montant DSIL sollicité », « Date prévisionnelle de début des
travaux », « Date prévisionnelle de fin des travaux », a repeatable « Plan de
financement » (Financeur / Montant) and, among the private annotations, the amount
the prefect grants (« Montant DETR attribué »…).

This module recognises such an export, reads its *Dossiers* sheet (and the
établissements of *Etablissements*) and guesses which form columns hold what the
app needs; it writes nothing.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from db.spreadsheets.reading import EXTENSIONS, SheetError
from db.text import normalize

DOSSIERS = "Dossiers"
ETABLISSEMENTS = "Etablissements"
# Fixed columns that every export has, whatever the démarche (normalized).
REQUIRED = ("id", "email", "franceconnect ?", "etat du dossier", "depose le")
FIXED = {normalize(label) for label in (
    "ID", "Email", "FranceConnect ?", "Entreprise raison sociale", "À archiver",
    "État du dossier", "Dernière mise à jour le", "Dernière mise à jour du dossier le",
    "Déposé le", "Passé en instruction le", "Traité le", "Motivation de la décision",
    "Instructeurs", "Groupe instructeur", "Civilité", "Nom", "Prénom",
    "Dépôt pour un tiers", "Nom du mandataire", "Prénom du mandataire",
    "Date de naissance", "Domaine Fonctionnel", "Référentiel De Programmation",
    "Centre De Coût")}
STATES = {"en construction": "en_construction", "en instruction": "en_instruction",
          "accepte": "accepte", "refuse": "refuse", "classe sans suite": "sans_suite"}
STATE_LABELS = {"en_construction": "En construction", "en_instruction": "En instruction",
                "accepte": "Accepté", "refuse": "Refusé", "sans_suite": "Classé sans suite"}
# The dotations a DETR/DSIL form asks for, by the words of its labels (normalized).
SCHEME_WORDS = {"DETR": ["detr"], "DSIL": ["dsil"], "DPV": ["dpv", "politique de la ville"],
                "DSID": ["dsid"], "FONDS_VERT": ["fonds vert"], "FNADT": ["fnadt"]}
FIELD_LABELS = {
    "title": "Intitulé du projet", "communes": "Commune(s) du projet",
    "siret": "SIRET/SIREN du demandeur", "owner": "Nom du demandeur",
    "cost_ht": "Coût total HT", "start_date": "Date de début des travaux",
    "end_date": "Date de fin des travaux", "scheme": "Dotation sollicitée",
    "requested": "Montant sollicité (toutes dotations)",
}
for _code, _label in (("DETR", "DETR"), ("DSIL", "DSIL"), ("DPV", "DPV"), ("DSID", "DSID"),
                      ("FONDS_VERT", "Fonds vert"), ("FNADT", "FNADT")):
    FIELD_LABELS[f"requested:{_code}"] = f"Montant {_label} sollicité"
    FIELD_LABELS[f"granted:{_code}"] = f"Montant {_label} attribué"
_REPETITION = re.compile(r"^\(\d+\) ")
_FILE_NAME = re.compile(r"^dossiers_(?P<procedure>.+?)_\d{4}-\d{2}-\d{2}_\d{2}-\d{2}$")


@dataclass
class Export:
    """The *Dossiers* sheet of an export, as read."""

    path: Path
    sheet: str
    sheets: list[str]
    labels: list[str]
    rows: list[tuple[int, list[Any]]]  # spreadsheet row number, cells
    procedure: str  # the démarche: its path or « procedure-<id> », else the file name
    # Dossier number -> (SIRET, raison sociale, INSEE code of the établissement).
    etablissements: dict[str, tuple[str | None, str | None, str | None]] = field(
        default_factory=dict)
    # Dossier number -> (financer, amount cell, sheet row) of its « Plan de financement ».
    cofinancing: dict[str, list[tuple[str, Any, int]]] = field(default_factory=dict)
    cofinancing_sheet: str | None = None

    def column(self, label: str) -> int | None:
        """The first column of this label."""
        if not hasattr(self, "_columns"):
            self._columns: dict[str, int] = {}
            for i, text in enumerate(self.labels):
                self._columns.setdefault(normalize(text), i)
        return self._columns.get(normalize(label))


def procedure_of(path: Path) -> str:
    """The démarche an export comes from, read in its file name."""
    found = _FILE_NAME.match(path.stem)
    return found.group("procedure") if found else path.stem


def procedure_number(procedure: str) -> str | None:
    found = re.fullmatch(r"procedure-(\d+)", procedure)
    return found.group(1) if found else None


def _labels(row: list[Any]) -> list[str]:
    return [str(cell).strip() if cell is not None else "" for cell in row]


def is_export_header(labels: list[str]) -> bool:
    normalized = {normalize(label) for label in labels}
    return normalized.issuperset(REQUIRED)


def recognise(path: Path) -> bool:
    """Whether *path* is a Démarches numériques export (its *Dossiers* sheet, or the
    csv, starts with the fixed columns)."""
    if path.suffix.lower() not in EXTENSIONS or not path.exists():
        return False
    try:
        if path.suffix.lower() == ".csv":  # its first line only: sheets can be long
            import csv
            import io

            with path.open("rb") as f:
                line = f.readline(65536)
            try:
                first = line.decode("utf-8-sig").splitlines()[:1]
            except UnicodeDecodeError:
                first = line.decode("cp1252", errors="replace").splitlines()[:1]
            if not first:
                return False
            delimiter = ";" if first[0].count(";") >= first[0].count(",") else ","
            cells = list(csv.reader(io.StringIO(first[0]), delimiter=delimiter))
            cells = [[cell.strip() or None for cell in row] for row in cells]
        else:
            from python_calamine import CalamineWorkbook

            workbook = CalamineWorkbook.from_path(str(path))
            if DOSSIERS not in workbook.sheet_names:
                return False
            cells = workbook.get_sheet_by_name(DOSSIERS).to_python(nrows=1)
    except Exception:  # not readable: the tracking-sheet reader says why, in French
        return False
    return bool(cells) and is_export_header(_labels(cells[0]))


def read_export(path: Path) -> Export:
    from db.spreadsheets.reading import read_sheet

    if path.suffix.lower() == ".csv":
        grid = read_sheet(path)
        grid.name, grid.names = DOSSIERS, [DOSSIERS]
    else:
        grid = read_sheet(path, DOSSIERS)
    if not grid.cells or not is_export_header(_labels(grid.cells[0])):
        raise SheetError(f"« {path.name} » n'est pas un export de Démarches numériques : "
                         "sa feuille « Dossiers » ne commence pas par les colonnes ID, Email, "
                         "FranceConnect ?, État du dossier, Déposé le…")
    labels = _labels(grid.cells[0])
    rows = [(number, row) for number, row in enumerate(grid.cells[1:], start=2)
            if any(cell is not None for cell in row)]
    export = Export(path, grid.name, grid.names, labels, rows, procedure_of(path))
    if ETABLISSEMENTS in grid.names:
        export.etablissements = _etablissements(path)
    plan = next((name for name in grid.names if _REPETITION.match(name)
                 and "financement" in normalize(name)), None)
    if plan is not None:
        export.cofinancing_sheet = plan
        export.cofinancing = _financing_plan(path, plan)
    elif path.suffix.lower() == ".csv":  # the csv writes the établissement in Dossiers
        at = {name: export.column(label) for name, label in (
            ("id", "ID"), ("siret", "Établissement SIRET"),
            ("name", "Entreprise raison sociale"),
            ("insee", "Établissement code INSEE localité"))}
        if at["siret"] is not None:
            for _, row in rows:
                export.etablissements[text(row[at["id"]])] = (
                    text(row[at["siret"]]),
                    text(row[at["name"]]) if at["name"] is not None else None,
                    text(row[at["insee"]]) if at["insee"] is not None else None)
    return export


def _etablissements(path: Path) -> dict[str, tuple[str | None, str | None, str | None]]:
    from db.spreadsheets.reading import read_sheet

    cells = read_sheet(path, ETABLISSEMENTS).cells
    if not cells:
        return {}
    labels = [normalize(label) for label in _labels(cells[0])]

    def at(label: str) -> int | None:
        wanted = normalize(label)
        return labels.index(wanted) if wanted in labels else None

    dossier, siret = at("Dossier ID"), at("Établissement SIRET")
    name, insee = at("Entreprise raison sociale"), at("Établissement code INSEE localité")
    found: dict[str, tuple[str | None, str | None, str | None]] = {}
    if dossier is None or siret is None:
        return found
    for row in cells[1:]:
        number = text(row[dossier])
        if number and number not in found:  # the first établissement of the dossier
            found[number] = (text(row[siret]), text(row[name]) if name is not None else None,
                             text(row[insee]) if insee is not None else None)
    return found


def _financing_plan(path: Path, sheet: str) -> dict[str, list[tuple[str, Any, int]]]:
    """The repeatable block « Plan de financement » (Financeur / Montant), by dossier."""
    from db.spreadsheets.reading import read_sheet

    cells = read_sheet(path, sheet).cells
    if not cells:
        return {}
    labels = [normalize(label) for label in _labels(cells[0])]
    dossier = labels.index("dossier id") if "dossier id" in labels else None
    financer = next((i for i, label in enumerate(labels) if _has(label, "financeur")
                     or _has(label, "organisme") or _has(label, "partenaire")), None)
    amount = next((i for i, label in enumerate(labels) if _has(label, "montant")), None)
    found: dict[str, list[tuple[str, Any, int]]] = {}
    if None in (dossier, financer, amount):
        return found
    for number, row in enumerate(cells[1:], start=2):
        name = text(row[financer])
        if text(row[dossier]) and name:
            found.setdefault(text(row[dossier]), []).append((name, row[amount], number))
    return found


def text(cell: Any) -> str | None:
    """A cell as text: ``123456.0`` read from a number cell is ``123456``."""
    if cell is None:
        return None
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    value = str(cell).strip()
    return value or None


def read_time(cell: Any) -> datetime | None:
    """« Déposé le »…: a date-time cell, or Rails' ``2025-03-14 10:32:11 +0100``."""
    if cell is None:
        return None
    if isinstance(cell, datetime):
        return cell
    if isinstance(cell, date):
        return datetime(cell.year, cell.month, cell.day)
    value = str(cell).strip()
    for pattern in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S%z",
                    "%d/%m/%Y %H:%M", "%d/%m/%Y"):
        try:
            return datetime.strptime(value, pattern)
        except ValueError:
            continue
    raise ValueError(f"« {value} » n'est pas une date et heure")


def read_field_date(cell: Any) -> date | None:
    """A date field: ``AAAA-MM-JJ`` text (a date cell if the file was edited)."""
    if cell is None:
        return None
    if isinstance(cell, datetime):
        return cell.date()
    if isinstance(cell, date):
        return cell
    value = str(cell).strip()
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        from db.parsing import parse_date

        return parse_date(value)


def is_fixed(label: str) -> bool:
    """A fixed column of the export (the csv's établissement columns included)."""
    return label in FIXED or label.startswith(("etablissement ", "entreprise ",
                                               "association "))


def _has(label: str, *words: str) -> bool:
    return all(re.search(rf"(^|\W){re.escape(w)}(\W|$)", label) for w in words)


def guess_mapping(labels: list[str]) -> dict[str, int]:
    """Field -> column of the form's columns (the fixed columns are read by name)."""
    normalized = [normalize(label) for label in labels]
    mapping: dict[str, int] = {}

    def first(test) -> int | None:
        return next((i for i, label in enumerate(normalized)
                     if label and not is_fixed(label) and i not in mapping.values()
                     and test(label)), None)

    def put(name: str, test) -> None:
        found = first(test)
        if found is not None:
            mapping[name] = found

    # A commune field: the column « X » followed by « X (Code INSEE) ».
    communes = [i for i, label in enumerate(normalized)
                if f"{label} (code insee)" in normalized and not is_fixed(label)]
    if communes:
        mapping["communes"] = next((i for i in communes if "commune" in normalized[i]),
                                   communes[0])
    put("title", lambda s: _has(s, "intitule") or _has(s, "nom du projet")
        or _has(s, "libelle du projet") or s.startswith("objet"))
    put("siret", lambda s: _has(s, "siret") or _has(s, "siren"))
    put("owner", lambda s: _has(s, "collectivite") or _has(s, "maitre d'ouvrage")
        or _has(s, "nom du demandeur") or _has(s, "porteur"))
    put("cost_ht", lambda s: (_has(s, "cout") or _has(s, "montant") or _has(s, "depense"))
        and _has(s, "ht") and not _has(s, "sollicite") and not any(
            _has(s, w) for words in SCHEME_WORDS.values() for w in words))
    for code, words in SCHEME_WORDS.items():
        put(f"granted:{code}", lambda s, words=words: any(_has(s, w) for w in words) and (
            _has(s, "attribue") or _has(s, "accorde") or _has(s, "retenu")
            or _has(s, "propose")))
        put(f"requested:{code}", lambda s, words=words: any(_has(s, w) for w in words) and (
            _has(s, "sollicite") or _has(s, "demande") or _has(s, "montant"))
            and not _has(s, "taux"))
    if not any(name.startswith("requested:") for name in mapping):
        put("requested", lambda s: _has(s, "montant") and (_has(s, "sollicite")
                                                           or _has(s, "demande")))
        put("scheme", lambda s: _has(s, "dotation") or _has(s, "dispositif"))
    # The operation's start and end are facts (the first legal act, the completion
    # declared): the caducité and the solde run from them. The form's « Date
    # prévisionnelle de début des travaux » is a forecast, never taken for them (the
    # agent may still map such a column by hand).
    def forecast(s: str) -> bool:
        return any(_has(s, w) for w in ("previsionnel", "previsionnelle", "prevu", "prevue",
                                        "estime", "estimee", "envisage", "envisagee"))

    put("start_date", lambda s: _has(s, "debut") and (_has(s, "travaux")
                                                      or _has(s, "operation"))
        and not forecast(s))
    put("end_date", lambda s: (_has(s, "fin") or _has(s, "achevement"))
        and (_has(s, "travaux") or _has(s, "operation")) and not forecast(s))
    return mapping
