"""PDF documents read back: text, amounts, pages, headers, fonts and fingerprints."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import delete, select

from db import documents
from db.documents import check_document
from db.editing import find_by_reference, operation_for_edit
from db.formatting import euros
from db.lists import OPERATIONS, Criteria
from db.models import OperationLink
from db.services.contracts import ContractData, save_contract
from db.services.operations import save_operation
from printouts.pdf import render, save
from printouts.verify import read_provenance

ROOT = Path(__file__).resolve().parent.parent


def pdf_text(path: Path) -> str:
    """What a reader gets by copying the text: pdftotext when installed (a real client),
    else pypdf."""
    if shutil.which("pdftotext"):
        return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                              text=True, check=True).stdout
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def flat(value: str) -> str:
    return re.sub(r"[\u00a0\u202f ]+", " ", value)


def printed(amount: Decimal | None) -> str:
    return flat(euros(amount))


def test_annex_matches_the_database(demo_db, tmp_path):
    document = documents.annex(demo_db, "FICTIF-CRTE-591")
    path = save(document, tmp_path / "annexe.pdf")
    content = flat(pdf_text(path))
    rows = OPERATIONS.page(demo_db, Criteria(contract=find_by_reference(
        demo_db, "contract", "FICTIF-CRTE-591")), limit=None)
    assert len(rows) == 15
    for row in rows:
        assert row["reference"] in content
        assert printed(row["cost"]) in content
    total_cost = sum(row["cost"] for row in rows)
    assert "Total du contrat" in content and printed(total_cost) in content
    granted = sum(row["granted"] for row in rows)
    assert printed(granted) in content  # total of the amounts by financer
    for _name, amount, _share in document.by_financer:
        assert printed(amount) in content
    pages = len(PdfReader(str(path)).pages)
    assert pages >= 2
    for number in range(1, pages + 1):
        assert f"page {number} / {pages}" in content
    assert content.count("RÉPUBLIQUE FRANÇAISE") == pages
    assert content.count("Opération") >= 2  # the table header repeats on the next page
    assert content.count(f"empreinte {document.provenance.fingerprint}") == pages
    assert "Pour l'État, le sous-préfet d'Avesnes-sur-Helpe" in content
    assert "Préfecture du Nord" in content


def test_fonts_are_embedded_and_no_standard_font_is_used(demo_db, tmp_path):
    path = save(documents.plan(demo_db, "FICTIF-DETR-2025-099"), tmp_path / "plan.pdf")
    fonts = {}
    for page in PdfReader(str(path)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"] \
                if "/DescendantFonts" in font else font.get("/FontDescriptor")
            fonts[font["/BaseFont"]] = descriptor is not None and "/FontFile2" in descriptor
    assert fonts and all(fonts.values()), fonts
    assert all("DejaVu" in name for name in fonts)


def test_plan_prints_plan_checks_and_exception(demo_db, tmp_path):
    path = save(documents.plan(demo_db, "FICTIF-DETR-2025-099"), tmp_path / "plan.pdf")
    content = flat(pdf_text(path))
    for amount in ("480 000,00 €", "192 000,00 €", "120 000,00 €", "96 000,00 €",
                   "72 000,00 €"):
        assert amount in content
    assert "Monument historique" in content and "3 mars 1998" in content
    assert "L1111-10" in content
    assert "19 mai 2027" in content  # notification + 2 years (R2334-28)
    assert len(PdfReader(str(path)).pages) == 1


def test_summary_is_one_page(demo_db, tmp_path):
    document = documents.summary(demo_db, "FICTIF-CRTE-591")
    path = save(document, tmp_path / "synthese.pdf")
    assert len(PdfReader(str(path)).pages) == 1
    content = flat(pdf_text(path))
    assert "Fiche synthèse" in content and "Chiffres clés" in content
    assert printed(document.granted) in content and printed(document.paid) in content
    assert "CC du Pays de Mormal" in content


def test_list_totals_match_the_database(demo_db, tmp_path):
    criteria = Criteria(arrondissement="591")
    path = save(documents.operations_list(demo_db, criteria, "arrondissement 591"),
                tmp_path / "etat.pdf")
    totals = OPERATIONS.totals(demo_db, criteria)
    content = flat(pdf_text(path))
    assert f"Total ({totals['count']} opérations)" in content
    for key in ("cost", "granted", "paid", "remaining"):
        assert printed(totals[key]) in content
    width, height = PdfReader(str(path)).pages[0].mediabox.upper_right
    assert width > height  # landscape


def test_user_text_prints_literally(demo_db, tmp_path):
    tricky = 'Salle <b>polyvalente</b> & "cantine" <img src="http://127.0.0.1:9/x.png"/> 🎉'
    operation_id = find_by_reference(demo_db, "operation", "FICTIF-DETR-2025-003")
    data = operation_for_edit(demo_db, operation_id)
    data.title = tricky
    save_operation(demo_db, data)
    path = save(documents.plan(demo_db, "FICTIF-DETR-2025-003"), tmp_path / "plan.pdf")
    content = re.sub(r"\s+", " ", pdf_text(path))
    assert 'Salle <b>polyvalente</b> & "cantine" <img src="http://127.0.0.1:9/x.png"/>' \
        in content


def test_contract_without_operation_and_with_a_thousand(demo_db, tmp_path):
    empty = save_contract(demo_db, ContractData(reference="VIDE-1", title="Contrat sans "
                                                "opération", type_code="PVD"))
    assert empty.id
    content = pdf_text(save(documents.annex(demo_db, "VIDE-1"), tmp_path / "vide.pdf"))
    assert "Total du contrat" in content

    import importlib.util

    from db.database import open_database
    from db.models import Contract, Operation

    spec = importlib.util.spec_from_file_location("generate", ROOT / "tests/bench/generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    database_path = tmp_path / "gros.sqlite"
    generate.generate(str(database_path), 1000, seed=5)
    database = open_database(database_path)
    with database.write() as session:  # gather the 1 000 operations under one contract
        first = session.scalar(select(OperationLink.contract_id).limit(1))
        session.execute(delete(OperationLink).where(OperationLink.contract_id != first))
        linked = set(session.scalars(select(OperationLink.operation_id)))
        for operation_id in session.scalars(select(Operation.id)):
            if operation_id not in linked:
                session.add(OperationLink(operation_id=operation_id, contract_id=first))
        reference = session.scalar(select(Contract.reference).where(Contract.id == first))
    document = documents.annex(database, reference)
    assert sum(len(axis.lines) for axis in document.axes) == 1000
    path = save(document, tmp_path / "mille.pdf")
    pages = len(PdfReader(str(path)).pages)
    assert pages > 20
    assert f"page {pages} / {pages}" in pdf_text(path)
    database.close()


def test_verify_after_a_change(demo_path, tmp_path):
    pdf = tmp_path / "annexe.pdf"
    made = subprocess.run([sys.executable, "main.py", "print", "annex", "--contract",
                           "FICTIF-CRTE-591", "--db", str(demo_path), "-o", str(pdf)],
                          cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stderr
    ok = subprocess.run([sys.executable, "main.py", "verify", str(pdf), "--db",
                         str(demo_path)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert ok.returncode == 0 and "correspond à la base" in ok.stdout

    from db.database import open_database

    database = open_database(demo_path)
    operation_id = find_by_reference(database, "operation", "FICTIF-DETR-2025-005")
    data = operation_for_edit(database, operation_id)
    data.cost_ht = Decimal("210000.00")
    save_operation(database, data)
    verdict = check_document(database, read_provenance(pdf))
    database.close()
    assert not verdict.matches
    assert any("FICTIF-DETR-2025-005" in change for change in verdict.changed)
    changed = subprocess.run([sys.executable, "main.py", "verify", str(pdf), "--db",
                              str(demo_path)], cwd=ROOT, capture_output=True, text=True,
                             timeout=300)
    assert changed.returncode == 1 and "ne correspond plus" in changed.stdout


def test_every_document_renders_for_the_demo(demo_db):
    for document in (documents.annex(demo_db, "pacte-sat"),
                     documents.summary(demo_db, "pacte-sat"),
                     documents.plan(demo_db, "ue-nausicaa-extension")):
        assert render(document).startswith(b"%PDF")


def test_documents_and_verification_on_each_backend(db, tmp_path):  # SQLite, PostgreSQL
    from db.demo import build_demo

    build_demo(db)
    annex = documents.annex(db, "FICTIF-CRTE-591")
    path = save(annex, tmp_path / "annexe.pdf")
    assert check_document(db, read_provenance(path)).matches
    plan = documents.plan(db, "FICTIF-DETR-2025-099")
    assert plan.own_share == Decimal("72000.00")
    summary = documents.summary(db, "FICTIF-CRTE-591")
    assert summary.operations == 15
    # the same data gives the same fingerprint, whatever the day of edition
    assert documents.annex(db, "FICTIF-CRTE-591").provenance.fingerprint \
        == annex.provenance.fingerprint
