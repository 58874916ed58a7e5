"""A small ods writer for tests: cells as LibreOffice writes them, failed formulas
included (odfpy and pandas cannot write a formula's cached error)."""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr


class Failed:
    """A formula that failed: LibreOffice keeps the formula and shows *shown*."""

    def __init__(self, formula: str, shown: str, *, marked: bool = True) -> None:
        self.formula, self.shown, self.marked = formula, shown, marked


class Formula:
    def __init__(self, formula: str, value: float) -> None:
        self.formula, self.value = formula, value


def _cell(value: Any) -> str:
    if value is None:
        return "<table:table-cell/>"
    if isinstance(value, Failed):  # calcext:value-type="error" unless *marked* is False
        kind = ' calcext:value-type="error"' if value.marked else ""
        return (f'<table:table-cell table:formula={quoteattr(value.formula)} '
                f'office:value-type="string" office:string-value=""{kind}>'
                f"<text:p>{escape(value.shown)}</text:p></table:table-cell>")
    if isinstance(value, Formula):
        return (f'<table:table-cell table:formula={quoteattr(value.formula)} '
                f'office:value-type="float" office:value="{value.value}" '
                f'calcext:value-type="float"><text:p>{value.value}</text:p></table:table-cell>')
    if isinstance(value, int | float):
        return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>")
    return (f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}'
            "</text:p></table:table-cell>")


def write_ods(path: Path, sheets: dict[str, list[list[Any]]]) -> Path:
    tables = "".join(
        f"<table:table table:name={quoteattr(name)}>"
        + "".join("<table:table-row>" + "".join(map(_cell, row)) + "</table:table-row>"
                  for row in rows) + "</table:table>"
        for name, rows in sheets.items())
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content '
        'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
        'xmlns:calcext="urn:org:documentfoundation:names:experimental:calc:xmlns:calcext:1.0" '
        'office:version="1.3"><office:body><office:spreadsheet>'
        f"{tables}</office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0"'
        ' manifest:version="1.3">'
        '<manifest:file-entry manifest:full-path="/" manifest:version="1.3" '
        'manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(zipfile.ZipInfo("mimetype"),
                         "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("META-INF/manifest.xml", manifest, zipfile.ZIP_DEFLATED)
        archive.writestr("content.xml", content, zipfile.ZIP_DEFLATED)
    return path
