"""Hostile files given to ``main.py import`` in a real subprocess, on SQLite and (the
cases that reach the server's types: 64-bit cents, dates, NUL, long texts) on PostgreSQL.

For each: no traceback, a French message that names the row and column (a row error)
or the file (a refused file), the documented exit code (2 when nothing is imported),
and the base unchanged where rows are refused (row counts, totals, check() healthy).
"""

from __future__ import annotations

import random
import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import pytest
import xlsxwriter

from db.database import open_database
from db.health import check
from tests.conftest import pg_create, pg_drop, pg_url
from tests.faults.conftest import SEED

ROOT = Path(__file__).resolve().parents[2]
LIMIT = "montant hors des limites : au plus 10 000 000 000,00 €"
HEADER = ["Référence", "Intitulé", "Maître d'ouvrage", "Commune", "Coût HT",
          "Montant accordé", "Date de décision"]
OWNER = "Commune de Maubeuge"
# What must never reach the agent: a traceback, the drivers' or Python's English.
ENGLISH = re.compile(r"Traceback|\w+Error\b|Exception|[Oo]verflow|Invalid|out of range|"
                     r"field larger|codec")


# --- the hostile files ------------------------------------------------------------------

def _xlsx(path: Path, rows: list[list], extra: Callable | None = None) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("Suivi")
    sheet.write_row(0, 0, HEADER)
    for number, row in enumerate(rows, start=1):
        sheet.write_row(number, 0, row)
    if extra is not None:
        extra(book, sheet)
    book.close()
    return path


def _csv_text(rows: list[list[str]]) -> str:
    return "\n".join(";".join(row) for row in [HEADER, *rows]) + "\n"


def huge_amount_cells(path: Path) -> Path:
    """Number cells whose cents do not fit 64 bits (1e20, 9.3e16) and 1e30."""
    return _xlsx(path.with_suffix(".xlsx"), [
        ["HX-1", "Toiture", OWNER, "59392", 1e20],
        ["HX-2", "Voirie", OWNER, "59392", 1000, 9.3e16],
        ["HX-3", "Préau", OWNER, "59392", 1e30]])


def two_operations_of_5e16(path: Path) -> Path:
    """Each 5·10¹⁶ € fits 64-bit cents on its own... almost; their sum never does."""
    return _xlsx(path.with_suffix(".xlsx"), [
        ["HS-1", "Toiture", OWNER, "59392", 5e16, 5e16],
        ["HS-2", "Voirie", OWNER, "59392", 5e16, 5e16]])


def year_9999_date_cell(path: Path) -> Path:
    def date_cell(book, sheet) -> None:
        sheet.write_datetime(1, 6, datetime(9999, 12, 31),
                             book.add_format({"num_format": "dd/mm/yyyy"}))
    return _xlsx(path.with_suffix(".xlsx"), [["HD-1", "Toiture", OWNER, "59392", 1000]],
                 date_cell)


def nul_in_an_xlsx_cell(path: Path) -> Path:
    return _xlsx(path.with_suffix(".xlsx"), [["HN-1", "Toi\x00ture", OWNER, "59392", 1000]])


def error_cells_of_a_workbook(path: Path) -> Path:
    """Real Excel error cells (formula cells whose cached value is an error, t="e"),
    beside a sane row whose formula gave a number."""
    def formulas(book, sheet) -> None:
        sheet.write_row(1, 0, ["HE-1", "Toiture", OWNER, "59392"])
        sheet.write_formula(1, 4, "=1/0", None, "#DIV/0!")
        sheet.write_row(2, 0, ["HE-2", "Voirie", OWNER, "59392", 1000])
        sheet.write_formula(2, 5, "=SQRT(-1)", None, "#NUM!")
        sheet.write_row(3, 0, ["HE-3", "Préau", None, "59392", 1000])
        sheet.write_formula(3, 2, "=#REF!", None, "#REF!")
        sheet.write_row(4, 0, ["HE-4", "Cour d'école", OWNER, "59392", 1000])
        sheet.write_formula(4, 5, "=E5*0.4", None, 400)
    return _xlsx(path.with_suffix(".xlsx"), [], formulas)


def error_texts_in_amounts_of_a_csv(path: Path) -> Path:
    """What Excel writes in a csv for failed formulas: the code as text."""
    path = path.with_suffix(".csv")
    path.write_text(_csv_text([
        ["HT-1", "Toiture", OWNER, "59392", "#DIV/0!", "", ""],
        ["HT-2", "Voirie", OWNER, "59392", "1000", "#NUM!", ""],
        ["HT-3", "Préau", OWNER, "59392", "#REF!", "", ""]]), encoding="utf-8")
    return path


def error_text_as_owner_in_a_csv(path: Path) -> Path:
    path = path.with_suffix(".csv")
    path.write_text(_csv_text([["HR-1", "Préau", "#REF!", "59392", "1000", "", ""]]),
                    encoding="utf-8")
    return path


def huge_amount_texts_in_a_csv(path: Path) -> Path:
    path = path.with_suffix(".csv")
    path.write_text(_csv_text([
        ["HC-1", "Toiture", OWNER, "59392", "1e20", "", ""],
        ["HC-2", "Voirie", OWNER, "59392", "1000", "9,3e16", ""],
        ["HC-3", "Préau", OWNER, "59392", "100000000000000000000000000000", "", "31/12/9999"],
    ]), encoding="utf-8")
    return path


def owner_of_100000_characters(path: Path) -> Path:
    path = path.with_suffix(".csv")
    path.write_text(_csv_text([["HL-1", "Toiture", "M" * 100_000, "59392", "1000", "", ""]]),
                    encoding="utf-8")
    return path


def owner_of_200000_characters(path: Path) -> Path:
    """Beyond the csv module's field limit (131 072 characters)."""
    path = path.with_suffix(".csv")
    path.write_text(_csv_text([["HL-2", "Toiture", "M" * 200_000, "59392", "1000", "", ""]]),
                    encoding="utf-8")
    return path


def nul_past_the_first_4096_bytes(path: Path) -> Path:
    path = path.with_suffix(".csv")
    sane = [[f"HZ-{n}", "Toiture", OWNER, "59392", "1000", "", ""] for n in range(150)]
    text = _csv_text(sane) + "HZ-X;Pr\x00au;Commune de Maubeuge;59392;1000;;\n"
    assert text.index("\x00") > 4096
    path.write_bytes(text.encode("utf-8"))
    return path


def utf16_without_bom(path: Path) -> Path:
    path = path.with_suffix(".csv")
    text = _csv_text([["HU-1", "Rénovation de l'école", OWNER, "59392", "1000", "", ""]])
    path.write_bytes(text.encode("utf-16-le"))
    return path


def random_bytes(path: Path) -> Path:
    """Neither UTF-8 nor Windows-1252 (0x81 is undefined there), and no NUL."""
    generator = random.Random(f"{SEED}:octets")
    path = path.with_suffix(".csv")
    path.write_bytes(bytes(generator.randrange(1, 256) for _ in range(20_000)) + b"\x81")
    return path


@dataclass(frozen=True)
class Hostile:
    build: Callable[[Path], Path]
    # (row, column, words of the message) of every row error expected, none other
    rows: tuple[tuple[int, str, str], ...] = ()
    # a refused file: the words of the message (a regex); the file is named in it.
    # Given with rows too: either outcome is right.
    refused: str | None = None
    imported: int = 0  # operations imported (0: exit code 2, the base unchanged)


CASES = {
    "montants-64-bits": Hostile(huge_amount_cells, rows=(
        (2, "Coût HT", LIMIT), (3, "Montant accordé", LIMIT), (4, "Coût HT", LIMIT))),
    "deux-fois-5e16": Hostile(two_operations_of_5e16, rows=(
        (2, "Coût HT", LIMIT), (2, "Montant accordé", LIMIT),
        (3, "Coût HT", LIMIT), (3, "Montant accordé", LIMIT))),
    "annee-9999": Hostile(year_9999_date_cell, rows=(
        (2, "Date de décision", "« 31/12/9999 » : une date va du 01/01/1900 au 31/12/2200"),)),
    "nul-xlsx": Hostile(nul_in_an_xlsx_cell, rows=(
        (2, "Intitulé", "caractère de contrôle interdit (U+0000, 4e caractère)"),)),
    "cellules-en-erreur-xlsx": Hostile(error_cells_of_a_workbook, imported=1, rows=(
        (2, "Coût HT", "cellule en erreur « #DIV/0! » dans le tableur"),
        (3, "Montant accordé", "cellule en erreur « #NUM! » dans le tableur"),
        (4, "Maître d'ouvrage", "cellule en erreur « #REF! » dans le tableur"))),
    "erreurs-en-texte-csv": Hostile(error_texts_in_amounts_of_a_csv, rows=(
        (2, "Coût HT", "« #DIV/0! »"), (3, "Montant accordé", "« #NUM! »"),
        (4, "Coût HT", "« #REF! »"))),
    "ref-en-texte-maitre-d-ouvrage-csv": Hostile(error_text_as_owner_in_a_csv, rows=(
        (2, "Maître d'ouvrage", "« #REF! »"),)),
    "montants-en-texte-csv": Hostile(huge_amount_texts_in_a_csv, rows=(
        (2, "Coût HT", "« 1e20 »"), (3, "Montant accordé", "« 9,3e16 »"),
        (4, "Coût HT", LIMIT), (4, "Date de décision", "« 31/12/9999 »"))),
    "maitre-d-ouvrage-100000": Hostile(owner_of_100000_characters, rows=(
        (2, "Maître d'ouvrage", "nom de 100000 caractères (300 au plus)"),)),
    "maitre-d-ouvrage-200000": Hostile(owner_of_200000_characters, rows=(
        (2, "Maître d'ouvrage", "200000 caractères"),), refused=r"caractères|trop long"),
    "nul-apres-4096-octets": Hostile(nul_past_the_first_4096_bytes, refused="octets nuls"),
    "utf16-sans-bom": Hostile(utf16_without_bom,
                              refused="octets nuls|ni en UTF-8 ni en Windows-1252"),
    "octets-au-hasard": Hostile(random_bytes, refused="ni en UTF-8 ni en Windows-1252"),
}

# The cases that reach what PostgreSQL stores differently: bigint cents, dates, NUL,
# text lengths.
ON_POSTGRESQL = ["montants-64-bits", "deux-fois-5e16", "annee-9999", "nul-xlsx",
                 "maitre-d-ouvrage-100000"]


# --- running an import -------------------------------------------------------------------

def _state(target: str) -> tuple[dict[str, int], dict[str, int], list[str]]:
    database = open_database(target, create=False, upgrade=False)
    try:
        report = check(database)
    finally:
        database.close()
    return report.counts, report.totals_cents, report.problems


def _import(path: Path, target: str) -> tuple[subprocess.CompletedProcess, float]:
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "main.py", "import", str(path), "--db", target],
                            cwd=ROOT, capture_output=True, text=True, timeout=300)
    return result, time.perf_counter() - started


def _assert_hostile_import(case: Hostile, target: str, folder: Path) -> None:
    path = case.build(folder / "suivi-hostile")
    counts, totals, problems = _state(target)
    assert problems == []
    result, _ = _import(path, target)
    output = result.stdout + result.stderr
    assert not ENGLISH.search(output), output[-3000:]
    expected_code = 0 if case.imported else 2
    assert result.returncode == expected_code, output[-3000:]

    row_errors = [line for line in result.stdout.splitlines() if line.startswith("Erreur ligne")]
    file_refused = result.stderr.startswith("Erreur : « ") and path.name in result.stderr
    if case.refused is not None and (file_refused or not case.rows):
        assert file_refused, output[-3000:]
        assert re.search(case.refused, result.stderr), result.stderr
        assert row_errors == []
    else:
        for row, column, words in case.rows:
            prefix = f"Erreur ligne {row}, {column} : "
            assert any(line.startswith(prefix) and words in line for line in row_errors), (
                prefix, words, row_errors)
        assert len(row_errors) == len(case.rows), row_errors  # no other row refused
        if not case.imported:
            assert ("aucune ligne du fichier n'a pu être importée" in result.stderr
                    and "la base n'a pas été modifiée" in result.stderr), result.stderr
    after_counts, after_totals, after_problems = _state(target)
    assert after_problems == [], after_problems
    if case.imported:
        assert after_counts["operations"] == counts["operations"] + case.imported
    else:
        assert (after_counts, after_totals) == (counts, totals)  # nothing at all written


@pytest.fixture
def sqlite_target(demo_path: Path) -> str:
    return str(demo_path)


@pytest.fixture
def pg_target(pg_demo_template: str) -> Iterator[str]:
    name = f"ct_{uuid.uuid4().hex[:12]}"
    pg_create(name, pg_demo_template)
    yield pg_url(name)
    pg_drop(name)


@pytest.mark.parametrize("name", list(CASES))
def test_a_hostile_file_on_sqlite(name, sqlite_target, tmp_path):
    _assert_hostile_import(CASES[name], sqlite_target, tmp_path)


@pytest.mark.postgres
@pytest.mark.parametrize("name", ON_POSTGRESQL)
def test_a_hostile_file_on_postgresql(name, pg_target, tmp_path):
    _assert_hostile_import(CASES[name], pg_target, tmp_path)


# --- 10 000 columns ------------------------------------------------------------------------

def _sheet_csv(path: Path, prefix: str, extra_columns: int) -> Path:
    header = HEADER + [f"Colonne {i}" for i in range(extra_columns)]
    values = [str(i) for i in range(extra_columns)]
    rows = [[f"{prefix}-{n}", "Voirie", OWNER, "59392", "1000", "", "", *values]
            for n in range(10)]
    path.write_text("\n".join(";".join(row) for row in [header, *rows]) + "\n",
                    encoding="utf-8")
    return path


def test_a_csv_of_10000_columns_is_handled_about_as_fast_as_a_narrow_one(
        sqlite_target, tmp_path):
    """Timed as a ratio against a normal 10-row import in the same run (the same process
    start, the same base), never against absolute seconds; a slow moment of the machine
    gets a new pair of measures (three at most)."""
    bound = 4.0
    narrow_times: list[float] = []
    wide_times: list[float] = []
    for attempt in range(3):
        counts, _, _ = _state(sqlite_target)
        narrow, spent = _import(_sheet_csv(tmp_path / f"etroit-{attempt}.csv",
                                           f"N{attempt}", 3), sqlite_target)
        assert narrow.returncode == 0, narrow.stdout + narrow.stderr
        narrow_times.append(spent)
        wide_path = _sheet_csv(tmp_path / f"large-{attempt}.csv", f"W{attempt}", 10_000)
        wide, spent = _import(wide_path, sqlite_target)
        wide_times.append(spent)
        output = wide.stdout + wide.stderr
        assert not ENGLISH.search(output), output[-3000:]
        after, _, problems = _state(sqlite_target)
        assert problems == []
        if wide.returncode == 0:  # handled: its 10 rows, as the narrow sheet's
            assert "10 opération(s) importée(s)" in wide.stdout, output[-3000:]
            assert after["operations"] == counts["operations"] + 20
        else:  # refused: said so, naming the file, nothing written
            assert wide.returncode == 2 and wide_path.name in wide.stderr, output[-3000:]
            assert after["operations"] == counts["operations"] + 10
        ratio = min(wide_times) / min(narrow_times)
        if ratio < bound:
            break
    print(f"10 000 colonnes / 10 colonnes : {ratio:.2f} "
          f"({min(wide_times):.2f} s / {min(narrow_times):.2f} s)")
    assert ratio < bound, (f"10 000 colonnes : {ratio:.1f} fois le temps d'un import de "
                           f"10 lignes ({wide_times} / {narrow_times})")

