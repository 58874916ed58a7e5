"""Export a list (its filtered rows, chosen columns and totals) to xlsx, ods or csv.

Numbers stay numbers (with a euro format in xlsx), dates stay dates, a totals row
closes the table, the header is frozen; a text that a spreadsheet would take for a
formula (``=``, ``+``, ``-``, ``@``) is written as a text cell, or in csv (which keeps
no types) prefixed with an apostrophe.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from db.errors import InvalidInput
from db.vocabulary import CODE_KINDS, code_label

FORMATS = ("xlsx", "ods", "csv")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EURO_FORMAT = '#,##0.00\\ "€";-#,##0.00\\ "€"'
DATE_FORMAT = "dd/mm/yyyy"


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
                 totals: dict[str, Any] | None = None, sheet: str = "Liste") -> Path:
    """Write *rows* (dicts keyed by column) with a totals row to *path* (by extension)."""
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
                descending: bool = False) -> int:
    """Export every row of a list (db.lists) matching *criteria*, in the columns *keys*
    (all by default), sorted as shown, with the list's totals. Returns the row count."""
    by_key = {column.key: column for column in query.columns}
    columns = [ExportColumn.of(by_key[key]) for key in (keys or list(by_key))]
    rows = query.page(db, criteria, sort=sort, descending=descending, limit=None)
    totals = query.totals(db, criteria)
    export_table(path, columns, rows, totals if any(c.kind == "money" for c in columns)
                 else None, sheet=query.name[:31])
    return len(rows)
