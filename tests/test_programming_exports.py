"""Exports for the DETR commission: the workbook reopened with openpyxl, the PDF's text
read back; the CGCT L2334-37 threshold at its boundary (100 000,00 € is not listed,
100 000,01 € is)."""

from __future__ import annotations

import zipfile
from decimal import Decimal as D

import pandas as pd
import pypdf
import pytest

from db.programming.envelopes import EnvelopeData, save_envelope
from db.programming.exports import export_pdf, export_xlsx
from db.programming.simulations import (
    LineEdit,
    SimulationEdit,
    create_simulation,
    load_simulation,
    save_categories,
    save_simulation,
)
from tests.programming_helpers import build_world


@pytest.fixture
def simulation(db):
    build_world(db)
    envelope = save_envelope(db, EnvelopeData("DETR", 2025, D("900000.00"),
                                              arrondissement_code="591")).id
    categories = save_categories(db, "59", ["Bâtiments scolaires", "Voirie et mobilités"])
    simulation = create_simulation(db, envelope, "Commission du 20 mars")
    view = load_simulation(db, simulation)
    proposals = {  # reference: proposed, status, category, opinion
        "OP-2025-A": (D("100000.00"), "retenu", 0, "Favorable"),
        "OP-2025-B": (D("100000.01"), "retenu", 1, None),
        "OP-2025-C": (None, "refuse", None, "Dossier incomplet"),
        "OP-2025-H": (D("12000.00"), "retenu", 1, None),
        "OP-2025-I": (D("5000.00"), "retenu", None, None),
        "OP-2025-J": (None, "ajourne", None, "À représenter en 2026"),
    }
    lines = []
    for row in view.rows:
        proposed, status, category, opinion = proposals[row.reference]
        lines.append(LineEdit(row.id, proposed, status,
                              categories[category].id if category is not None else None,
                              opinion))
    save_simulation(db, SimulationEdit(view.id, view.version, view.name, None, None, lines))
    return simulation


def test_workbook_by_category_with_rates_and_the_commission_list(db, simulation, tmp_path):
    path = export_xlsx(db, simulation, tmp_path / "programmation.xlsx")
    book = pd.read_excel(path, sheet_name=None, header=None, engine="calamine")
    assert list(book) == ["Programmation", "Autres dossiers", "Avis de la commission"]

    def lines(name):
        return [[None if pd.isna(v) else v for v in row]
                for row in book[name].itertuples(index=False)]

    sheet = lines("Programmation")
    assert sheet[0][0] == ("Programmation DETR 2025 — Arrondissement "
                           "d'Avesnes-sur-Helpe — simulation « Commission du 20 mars »")
    assert sheet[2] == ["Catégorie prioritaire", "Référence", "Opération", "Maître d'ouvrage",
                        "Dépense subventionnable", "Demandé", "Proposé", "Taux",
                        "Statut provisoire", "Avis de la commission"]
    rows = sheet[3:]
    by_reference = {r[1]: r for r in rows if r[1]}
    assert by_reference["OP-2025-A"][0] == "Bâtiments scolaires"
    assert by_reference["OP-2025-A"][6] == 100000.0
    # 100 000 € over an eligible cost of 360 000 €, a number shown as a percentage.
    assert by_reference["OP-2025-A"][7] == pytest.approx(100000 / 360000)
    with zipfile.ZipFile(path) as archive:
        assert 'formatCode="0.00 %"' in archive.read("xl/styles.xml").decode()
    assert by_reference["OP-2025-B"][0] == "Voirie et mobilités"
    assert by_reference["OP-2025-I"][0] == "Sans catégorie prioritaire"
    assert set(by_reference) == {"OP-2025-A", "OP-2025-B", "OP-2025-H", "OP-2025-I"}
    subtotals = {r[0]: r[6] for r in rows if r[0] and r[0].startswith("Sous-total")}
    assert subtotals == {"Sous-total — Bâtiments scolaires": 100000.0,
                         "Sous-total — Voirie et mobilités": 112000.01,
                         "Sous-total — Sans catégorie prioritaire": 5000.0}
    assert rows[-1][0] == "Total de la programmation (4 dossiers)"
    assert rows[-1][6] == pytest.approx(217000.01)
    others = lines("Autres dossiers")[3:]
    assert {(r[1], r[8], r[9]) for r in others} == {
        ("OP-2025-C", "Refusé", "Dossier incomplet"),
        ("OP-2025-J", "Ajourné", "À représenter en 2026")}
    opinion = [r[1] for r in lines("Avis de la commission")[3:]]
    assert opinion == ["OP-2025-B"]  # 100 000,01 €; A at 100 000,00 € is not listed


def test_pdf_by_category_and_the_dossiers_above_100_000_euros(db, simulation, tmp_path):
    path = export_pdf(db, simulation, tmp_path / "programmation.pdf")
    reader = pypdf.PdfReader(path)
    content = "\n".join(page.extract_text() for page in reader.pages)
    flat = " ".join(content.split())
    assert "Programmation DETR 2025 — Arrondissement d'Avesnes-sur-Helpe" in flat
    assert "Simulation « Commission du 20 mars »" in flat
    for label in ("Bâtiments scolaires", "Voirie et mobilités", "Sans catégorie prioritaire",
                  "Total de la programmation (4 dossiers)"):
        assert label in flat
    assert "27,78 %" in flat  # A: 100 000 / 360 000
    assert "217 000,01 €" in flat.replace("\u202f", " ").replace("\xa0", " ")
    above = flat.split("Dossiers soumis à l'avis de la commission")[1]
    assert "OP-2025-B" in above and "OP-2025-A" not in above
    not_retained = flat.split("Dossiers non retenus")[1].split(
        "Dossiers soumis à l'avis")[0]
    assert "OP-2025-C" in not_retained and "Dossier incomplet" in not_retained
    assert "OP-2025-J" in not_retained and "Ajourné" in not_retained
    assert "page 1 / " in flat
