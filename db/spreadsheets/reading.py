"""Reading the agents' sheets: xlsx, ods and csv, as a grid of raw cells, and finding
the header row (even under title rows, merged cells or headers on several lines)."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from db.errors import InvalidInput
from db.text import normalize

EXTENSIONS = (".xlsx", ".xlsm", ".xls", ".ods", ".csv")
HEADER_SCAN_ROWS = 30


class SheetError(InvalidInput):
    pass


@dataclass
class Sheet:
    name: str
    names: list[str]  # every sheet of the file
    cells: list[list[Any]]  # raw values, row by row (None for empty cells)


def read_sheet(path: Path, sheet: str | None = None) -> Sheet:
    """The cells of one sheet (the first by default); other sheets are only named."""
    if not path.exists():
        raise SheetError(f"Fichier introuvable : {path}.")
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        raise SheetError(f"« {path.name} » n'est pas un tableur reconnu (xlsx, ods ou csv).")
    if suffix == ".csv":
        return Sheet(path.stem, [path.stem], _read_csv(path))
    from python_calamine import CalamineWorkbook

    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception as error:  # calamine reports encrypted or damaged files this way
        text = str(error).lower()
        if "password" in text or "encrypt" in text or "cfb" in text:
            raise SheetError(f"« {path.name} » est protégé par un mot de passe : enregistrez-"
                             "le sans mot de passe avant de l'importer.") from error
        # calamine's reason is in English and for programmers: kept in the chained error.
        raise SheetError(f"« {path.name} » n'est pas un classeur lisible (fichier endommagé "
                         "ou d'un autre format). Vérifiez qu'il s'agit bien d'un fichier xlsx "
                         "ou ods.") from error
    names = list(workbook.sheet_names)
    if sheet is not None and sheet not in names:
        raise SheetError(f"Pas de feuille « {sheet} » dans {path.name} (feuilles : "
                         f"{', '.join(names)}).")
    chosen = sheet or names[0]
    rows = workbook.get_sheet_by_name(chosen).to_python(skip_empty_area=False)
    cells = _cleaned(rows)
    if suffix in (".xlsx", ".xlsm"):
        _mark_error_cells(path, chosen, cells)
    elif suffix == ".ods":
        _mark_ods_error_cells(path, chosen, cells)
    return Sheet(chosen, names, cells)


class ErrorCell(str):
    """A cell whose formula failed (« #DIV/0! », « #NUM! », « #REF! »…): the importer
    reports it as a row error, never as an empty (« non communiqué ») value."""


_SHEET = re.compile(r'<sheet\b[^>]*?\bname="([^"]*)"[^>]*?\br:id="([^"]*)"')
_TARGET = re.compile(r'<Relationship\b[^>]*?\bId="([^"]*)"[^>]*?\bTarget="([^"]*)"')
_TARGET_FIRST = re.compile(r'<Relationship\b[^>]*?\bTarget="([^"]*)"[^>]*?\bId="([^"]*)"')
_ERROR = re.compile(r'<c\b[^>]*?\br="([A-Z]+)(\d+)"[^>]*?\bt="e"[^>]*>(?:(?!</c>).)*?'
                    r'<v>([^<]*)</v>', re.S)


def _mark_error_cells(path: Path, sheet: str, cells: list[list[Any]]) -> None:
    """calamine reads error cells as empty (python-calamine issue 105): find them in the
    sheet's XML (cells of type « e ») and put them back in the grid."""
    import html
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            workbook = archive.read("xl/workbook.xml").decode("utf-8")
            rels = archive.read("xl/_rels/workbook.xml.rels").decode("utf-8")
            ids = {html.unescape(name): rid for name, rid in _SHEET.findall(workbook)}
            targets = dict(_TARGET.findall(rels))
            targets.update({rid: target for target, rid in _TARGET_FIRST.findall(rels)})
            target = targets.get(ids.get(sheet, ""))
            if target is None:
                return
            member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
            xml = archive.read(member).decode("utf-8")
    except (KeyError, OSError, UnicodeDecodeError, zipfile.BadZipFile):
        return  # calamine read the file: the worst case is the old behaviour
    if ' t="e"' not in xml:
        return
    for letters, number, value in _ERROR.findall(xml):
        column = 0
        for letter in letters:
            column = column * 26 + ord(letter) - 64
        row, column = int(number) - 1, column - 1
        if row < len(cells) and column < len(cells[row]):
            cells[row][column] = ErrorCell(html.unescape(value) or "#ERREUR")


_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_CALCEXT = "urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0"
# What a failed formula's cell shows, in an ods or as text in a csv: LibreOffice's
# « Err:502 » or the spreadsheet codes (« #DIV/0! », « #REF! », « #NOM ? »…); in an ods
# for files that do not say calcext:value-type="error" (older LibreOffice, others).
_ERROR_TEXT = re.compile(r"^(#[A-Z0-9/]+[!?]|#N/A|#NOM ?\?|#VALEUR!|Err:\d+)$")


def _mark_ods_error_cells(path: Path, sheet: str, cells: list[list[Any]]) -> None:
    """calamine reads an ods error cell as an empty text (its office:string-value is
    empty): find those cells in content.xml and put their text back in the grid."""
    import zipfile

    from lxml import etree

    try:
        with zipfile.ZipFile(path) as archive:
            content = archive.read("content.xml")
    except (KeyError, OSError, zipfile.BadZipFile):
        return  # calamine read the file: the worst case is the old behaviour
    if b"table:formula" not in content:
        return  # no formula, no failed formula
    try:
        root = etree.fromstring(content, etree.XMLParser(huge_tree=True, resolve_entities=False))
    except etree.XMLSyntaxError:
        return
    table = next((t for t in root.iter(f"{{{_TABLE}}}table")
                  if t.get(f"{{{_TABLE}}}name") == sheet), None)
    if table is None:
        return
    row_tag, cell_tags = f"{{{_TABLE}}}table-row", (f"{{{_TABLE}}}table-cell",
                                                    f"{{{_TABLE}}}covered-table-cell")
    formula, kind = f"{{{_TABLE}}}formula", f"{{{_CALCEXT}}}value-type"
    rows_repeated = f"{{{_TABLE}}}number-rows-repeated"
    columns_repeated = f"{{{_TABLE}}}number-columns-repeated"
    row = 0
    for element in table.iter(row_tag):  # rows under header-rows and row groups too
        repeat = int(element.get(rows_repeated, "1"))
        if row >= len(cells):
            break
        column = 0
        for cell in element:
            if cell.tag not in cell_tags:
                continue
            width = int(cell.get(columns_repeated, "1"))
            if cell.get(formula) is not None:
                shown = "".join(cell.itertext()).strip()
                if cell.get(kind) == "error" or _ERROR_TEXT.match(shown):
                    for r in range(row, min(row + repeat, len(cells))):
                        for c in range(column, min(column + width, len(cells[r]))):
                            cells[r][c] = ErrorCell(shown or "#ERREUR")
            column += width
        row += repeat


def _cleaned(rows: list[list[Any]]) -> list[list[Any]]:
    """Empty, blank and NaN cells as None, every row as wide as the widest. Inlined
    rather than calling a function: this runs on every cell of 100 000-row sheets."""
    width = max(map(len, rows), default=0)
    return [[value if (value.__class__ is not str or value.strip()) and value == value
             else None for value in row] + [None] * (width - len(row)) for row in rows]


def _read_csv(path: Path) -> list[list[Any]]:
    raw = path.read_bytes()
    if b"\x00" in raw:  # anywhere: a text cell must never store a NUL
        raise SheetError(f"« {path.name} » n'est pas un fichier texte CSV (il contient des "
                         "octets nuls).")
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise SheetError(f"« {path.name} » n'est ni en UTF-8 ni en Windows-1252 : "
                         "enregistrez-le depuis le tableur au format « CSV UTF-8 ».")
    sample = text[:20000]
    delimiter = ";" if sample.count(";") >= sample.count(",") else ","
    # The csv module refuses a field over 131 072 characters by default: a cell that long
    # is a row error of the importer (its length bound), not a refused file. 2**31 - 1 is
    # the largest limit a C long takes on every platform (32 bits on Windows).
    csv.field_size_limit(max(csv.field_size_limit(), min(len(text) + 1, 2**31 - 1)))
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        rows = [[cell.strip() for cell in row] for row in reader]
    except csv.Error as error:
        raise SheetError(f"« {path.name} » n'est pas un fichier CSV lisible (ligne "
                         f"{reader.line_num}).") from error
    cells = _cleaned(rows)
    # A spreadsheet writes a failed formula's code as text in a csv (« #REF! »): the
    # same row error as the error cell of an xlsx, in every column, never a name.
    for row in cells:
        for column, cell in enumerate(row):
            if cell.__class__ is str and cell[0] in "#E" and _ERROR_TEXT.match(cell):
                row[column] = ErrorCell(cell)
    return cells


@dataclass
class Header:
    row: int  # 0-based index of the last header row in the grid
    labels: list[str]  # one label per column (several header lines joined)


def find_header(cells: list[list[Any]], score) -> Header:
    """The header is the row (alone, or with the row above when headers take two lines)
    whose texts best match the known column names, among the first rows."""
    best: tuple[int, int, list[str]] | None = None
    for index, row in enumerate(cells[:HEADER_SCAN_ROWS]):
        if any(isinstance(cell, int | float | date) and not isinstance(cell, bool)
               for cell in row):
            continue  # numbers and dates make a data row, never a header
        labels = [str(cell).strip() if cell is not None else "" for cell in row]
        candidates = [labels]
        if index:
            above = cells[index - 1]
            carried, previous = [], ""
            for column, label in enumerate(labels):
                top = above[column] if column < len(above) else None
                if top is not None and str(top).strip():
                    previous = str(top).strip()
                elif label == "":
                    previous = ""
                carried.append(f"{previous} {label}".strip() if previous else label)
            candidates.append(carried)
        for option in candidates:
            value = score(option)
            if best is None or value > best[0]:
                best = (value, index, option)
    if best is None or best[0] < 2:
        raise SheetError("Aucune ligne d'en-tête reconnue dans les premières lignes : il faut "
                         "au moins deux colonnes nommées comme « Intitulé », « Commune », "
                         "« Coût HT », « Financeur », « Montant sollicité »…")
    labels = best[2]
    width = max(len(row) for row in cells) if cells else 0
    labels = labels + [""] * (width - len(labels))
    return Header(best[1], [normalize(label) and label for label in labels])
