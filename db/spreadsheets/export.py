"""Export a list (its filtered rows, chosen columns and totals) to xlsx, ods or csv.

Numbers stay numbers (with a euro format in xlsx), dates stay dates, a totals row
closes the table, the header is frozen; a text that a spreadsheet would take for a
formula (``=``, ``+``, ``-``, ``@``) is written as a text cell, or in csv (which keeps
no types) prefixed with an apostrophe.

A spreadsheet cell keeps at most 32 767 characters (Excel cuts the rest when writing or
opening; xlsxwriter cuts with an English warning only). Every export therefore checks its
text cells before writing anything: by default it refuses, listing each text too long
(sheet, cell, column, record, length); on the agent's choice it splits such a text into
continuation columns « Intitulé (suite 1) »… placed right after the column, whose pieces
concatenate back to the exact text. The same limit is applied to ods and csv: those files
are opened in Excel as well.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from db.errors import InvalidInput
from db.formatting import number
from db.vocabulary import CODE_KINDS, code_label

FORMATS = ("xlsx", "ods", "csv")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EURO_FORMAT = '#,##0.00\\ "€";-#,##0.00\\ "€"'
DATE_FORMAT = "dd/mm/yyyy"
CELL_LIMIT = 32_767  # characters a spreadsheet cell keeps (Excel, xlsxwriter)
REFUSE, SPLIT = "refuse", "split"  # what to do with a text over CELL_LIMIT


@dataclass(frozen=True)
class ExportColumn:
    key: str
    label: str
    kind: str = "text"  # text, money, date, int, or a coded kind (status, kind…)
    width: int = 14  # characters

    @classmethod
    def of(cls, column: Any) -> ExportColumn:
        """From a list column (db.lists.ColumnSpec): its label, kind and width."""
        return cls(column.key, column.label, column.kind, max(10, column.width // 7))


@dataclass(frozen=True)
class LongText:
    """A text too long for one cell, where it would have been written."""

    sheet: str
    cell: str  # e.g. "B5"
    column: str  # the column's label
    record: str  # what the row is about (its first cell, e.g. the reference)
    length: int

    def describe(self) -> str:
        record = f" (ligne « {self.record} »)" if self.record else ""
        return (f"la cellule {self.cell} (colonne « {self.column} ») de la feuille "
                f"« {self.sheet} »{record} contient {number(self.length)} caractères")


class LongTextsRefused(InvalidInput):
    """Texts over the cell limit were found; nothing was written."""

    def __init__(self, found: list[LongText], path: Path | None = None) -> None:
        shown = found[:10]
        lines = "\n".join(f"- {f.describe()}" for f in shown)
        more = (f"\n- … et {number(len(found) - len(shown))} autre(s) texte(s) trop long(s)"
                if len(found) > len(shown) else "")
        where = f" « {path.name} »" if path is not None else ""
        super().__init__(
            f"Export{where} non écrit : un tableur ne garde que {number(CELL_LIMIT)} "
            f"caractères par cellule et couperait sans le dire les textes suivants :\n"
            f"{lines}{more}\nRaccourcissez ces textes, ou exportez en les découpant en "
            f"plusieurs cellules (colonnes « … (suite 1) », « … (suite 2) »…). "
            f"Aucun fichier n'a été écrit.")
        self.found = list(found)


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def find_long_texts(labels: list[str], body: list[list[Any]], sheet: str,
                    first_row: int = 2, record_at: int = 0) -> list[LongText]:
    """Every text of *body* (rows of cells, in *labels* order) over CELL_LIMIT;
    *first_row* is the spreadsheet row number of body[0] (1 = the header), the cell at
    *record_at* names the row's record (its reference) in the message."""
    found = []
    for r, cells in enumerate(body):
        for c, value in enumerate(cells):
            if isinstance(value, str) and len(value) > CELL_LIMIT:
                record = cells[record_at] if c != record_at else ""
                record = record if isinstance(record, str) else ""
                found.append(LongText(sheet, f"{_column_letter(c)}{first_row + r}",
                                      labels[c], record[:80], len(value)))
    return found


def continuation_label(label: str, n: int) -> str:
    return f"{label} (suite {n})"


def split_long_texts(labels: list[str], body: list[list[Any]]
                     ) -> tuple[list[str], list[list[Any]]]:
    """The same table with each text over CELL_LIMIT cut into pieces of CELL_LIMIT
    characters, the pieces in continuation columns right after their column (as many as
    the longest text needs; empty for the other rows)."""
    extra = [0] * len(labels)
    for cells in body:
        for c, value in enumerate(cells):
            if isinstance(value, str) and len(value) > CELL_LIMIT:
                extra[c] = max(extra[c], (len(value) - 1) // CELL_LIMIT)
    if not any(extra):
        return labels, body
    new_labels = []
    for c, label in enumerate(labels):
        new_labels += [label] + [continuation_label(label, n) for n in range(1, extra[c] + 1)]
    new_body = []
    for cells in body:
        row: list[Any] = []
        for c, value in enumerate(cells):
            if extra[c] and isinstance(value, str):
                pieces = [value[i:i + CELL_LIMIT]
                          for i in range(0, max(len(value), 1), CELL_LIMIT)]
                row += pieces + [None] * (extra[c] + 1 - len(pieces))
            else:
                row += [value] + [None] * extra[c]
        new_body.append(row)
    return new_labels, new_body


def check_long_texts(labels: list[str], body: list[list[Any]], sheet: str, policy: str,
                     path: Path | None = None, first_row: int = 2, record_at: int = 0
                     ) -> tuple[list[str], list[list[Any]]]:
    """What every export calls before writing: refuses (LongTextsRefused) or splits the
    texts over CELL_LIMIT, according to *policy* (REFUSE or SPLIT)."""
    if policy not in (REFUSE, SPLIT):
        raise ValueError(policy)
    found = find_long_texts(labels, body, sheet, first_row, record_at)
    if not found:
        return labels, body
    if policy == REFUSE:
        raise LongTextsRefused(found, path)
    return split_long_texts(labels, body)


def neutralise(value: Any) -> Any:
    """A text that would start a formula gets a leading apostrophe (as spreadsheets do)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def _cell(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "money":
        return float(value) if isinstance(value, Decimal) else value
    if kind == "date":
        return value if isinstance(value, date) else None
    if kind == "int":
        return value
    if kind in CODE_KINDS:
        return code_label(kind, value)
    return str(value)


def export_table(path: Path, columns: list[ExportColumn], rows: list[dict[str, Any]],
                 totals: dict[str, Any] | None = None, sheet: str = "Liste",
                 long_texts: str = REFUSE) -> Path:
    """Write *rows* (dicts keyed by column) with a totals row to *path* (by extension).
    A text over CELL_LIMIT is refused or split as *long_texts* says (check_long_texts),
    before anything is written."""
    import pandas as pd

    kind = path.suffix.lower().lstrip(".")
    if kind not in FORMATS:
        raise InvalidInput(f"Format d'export inconnu : « {path.suffix} » (xlsx, ods ou csv).")
    labels = [column.label for column in columns]
    body = [[_cell(row.get(c.key), c.kind) for c in columns] for row in rows]
    if totals is not None:
        first = f"Total ({len(rows)} lignes)"
        body.append([first if i == 0 else _cell(totals.get(c.key), c.kind)
                     if c.kind == "money" else None for i, c in enumerate(columns)])
    split_labels, body = check_long_texts(labels, body, sheet, long_texts, path)
    if split_labels != labels:  # continuation columns: plain texts, as wide as their column
        by_label = {c.label: c for c in columns}
        columns = [by_label.get(label) or ExportColumn(f"_{i}", label, "text", 40)
                   for i, label in enumerate(split_labels)]
        labels = split_labels
    frame = pd.DataFrame(body, columns=labels)
    for column in columns:
        if column.kind == "date":
            frame[column.label] = pd.to_datetime(frame[column.label])
    if kind == "csv":
        _write_csv(frame, columns, path)
    elif kind == "xlsx":
        _write_xlsx(frame, columns, path, sheet, totals is not None)
    else:
        frame.to_excel(path, sheet_name=sheet, index=False, engine="odf")
    return path


def _write_csv(frame: Any, columns: list[ExportColumn], path: Path) -> None:
    # A csv keeps no cell types: a text that looks like a formula gets its apostrophe.
    # (In xlsx and ods it is written as a text cell, which no spreadsheet evaluates.)
    for column in columns:
        if column.kind not in ("money", "date", "int"):
            frame[column.label] = frame[column.label].map(neutralise)
    # What French Excel and LibreOffice open directly: ';', decimal comma, BOM.
    frame.to_csv(path, sep=";", decimal=",", index=False, encoding="utf-8-sig",
                 date_format="%d/%m/%Y", float_format="%.2f")


def _write_xlsx(frame: Any, columns: list[ExportColumn], path: Path, sheet: str,
                has_totals: bool) -> None:
    import pandas as pd

    with pd.ExcelWriter(path, engine="xlsxwriter", date_format=DATE_FORMAT,
                        datetime_format=DATE_FORMAT,
                        engine_kwargs={"options": {"strings_to_formulas": False,
                                                   "strings_to_urls": False}}) as writer:
        frame.to_excel(writer, sheet_name=sheet, index=False)
        book, worksheet = writer.book, writer.sheets[sheet]
        money = book.add_format({"num_format": EURO_FORMAT})
        dates = book.add_format({"num_format": DATE_FORMAT})
        for index, column in enumerate(columns):
            style = {"money": money, "date": dates}.get(column.kind)
            worksheet.set_column(index, index, column.width, style)
        worksheet.freeze_panes(1, 0)
        worksheet.autofilter(0, 0, len(frame) - (1 if has_totals else 0), len(columns) - 1)
        if has_totals:
            bold = book.add_format({"bold": True, "num_format": EURO_FORMAT})
            worksheet.set_row(len(frame), None, bold)


def export_list(db: Any, query: Any, criteria: Any, path: Path, *,
                keys: list[str] | None = None, sort: str | None = None,
                descending: bool = False, long_texts: str = REFUSE) -> int:
    """Export every row of a list (db.lists) matching *criteria*, in the columns *keys*
    (all by default), sorted as shown, with the list's totals. Returns the row count."""
    by_key = {column.key: column for column in query.columns}
    columns = [ExportColumn.of(by_key[key]) for key in (keys or list(by_key))]
    rows = query.page(db, criteria, sort=sort, descending=descending, limit=None)
    totals = query.totals(db, criteria)
    export_table(path, columns, rows, totals if any(c.kind == "money" for c in columns)
                 else None, sheet=query.name[:31], long_texts=long_texts)
    return len(rows)
