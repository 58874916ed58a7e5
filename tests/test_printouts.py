"""PDF documents read back: text, amounts, pages, headers, fonts and fingerprints; every
figure against the database, computed here independently of the document code."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import delete, func, select

from db import documents
from db.documents import check_document
from db.editing import find_by_reference, operation_for_edit
from db.formatting import euros
from db.lists import Criteria
from db.models import (
    Contract,
    FundingLine,
    Operation,
    OperationLink,
    Organisation,
)
from db.services.contracts import ContractData, save_contract
from db.services.operations import ExpenseItemData, save_operation
from printouts.pdf import render, save
from printouts.verify import read_provenance

ROOT = Path(__file__).resolve().parent.parent
STATE = ("etat", "operateur_etat")


def pdf_text(path: Path) -> str:
    """What a reader gets by copying the text: pdftotext when installed (a real client),
    else pypdf."""
    if shutil.which("pdftotext"):
        # -raw: in the order drawn, so a cell wrapped on two lines reads as one text
        return subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True,
                              text=True, check=True).stdout
    return "\n".join(page.extract_text() for page in PdfReader(str(path)).pages)


def flat(value: str) -> str:
    return re.sub(r"[\u00a0\u202f\s]+", " ", value)


def printed(amount: Decimal | None) -> str:
    return flat(euros(amount))


def contract_lines(db, reference: str):
    """(operation status, base cost, financer kind, line status, requested, granted) of the
    contract's operations, straight from the tables."""
    with db.read() as session:
        return session.execute(
            select(Operation.id, Operation.status, Operation.cost_ht, FundingLine.status,
                   FundingLine.amount_requested, FundingLine.amount_granted, Organisation.kind)
            .join(OperationLink, OperationLink.operation_id == Operation.id)
            .join(Contract, Contract.id == OperationLink.contract_id)
            .outerjoin(FundingLine, FundingLine.operation_id == Operation.id)
            .outerjoin(Organisation, Organisation.id == FundingLine.financer_id)
            .where(Contract.reference == reference)).all()


def test_annex_figures_agree_with_the_database_and_with_each_other(demo_db, tmp_path):
    rows = contract_lines(demo_db, "FICTIF-CRTE-591")
    kept = [r for r in rows if r.status != "abandonne"]
    cost = sum({r.id: r.cost_ht for r in kept}.values(), Decimal(0))
    granted = sum((r.amount_granted for r in kept if r.status_1 == "accorde"), Decimal(0))
    state = sum((r.amount_granted for r in kept if r.status_1 == "accorde"
                 and r.kind in STATE), Decimal(0))
    pending = sum((r.amount_requested for r in kept if r.status_1 == "sollicite"), Decimal(0))
    refused = sum((r.amount_requested for r in kept if r.status_1 == "refuse"), Decimal(0))
    assert pending and refused  # the demo has both: they must not be confused

    document = documents.annex(demo_db, "FICTIF-CRTE-591")
    assert document.cost.value == cost and document.granted_total.value == granted
    assert document.granted["État"].value == state and document.pending.value == pending
    by_financer = sum((r.granted.value for r in document.by_financer), Decimal(0))
    assert by_financer == granted  # the table by financer adds up the same lines
    assert sum((r.pending.value for r in document.by_financer), Decimal(0)) == pending
    assert sum((y.committed.value for y in document.state_by_year), Decimal(0)) == state

    path = save(document, tmp_path / "annexe.pdf")
    content = flat(pdf_text(path))
    for amount in (cost, granted, state, pending):
        assert printed(amount) in content
    assert printed(granted + refused) not in content  # refused amounts are in no total
    assert f"Total du contrat ({len({r.id for r in kept})} opérations)" in content
    assert "Autofinancement" in content and "attente" in content  # headers (wrapped)
    pages = len(PdfReader(str(path)).pages)
    for number in range(1, pages + 1):
        assert f"page {number} / {pages}" in content
    assert content.count(f"empreinte {document.provenance.fingerprint}") == pages
    assert "Pour l'État, le sous-préfet d'Avesnes-sur-Helpe" in content
    assert "Préfecture du Nord" in content
    # the annex is to be signed: no date is printed in its signature blocks
    assert content.count("Fait à Avesnes-sur-Helpe, le ……") == len(document.signatories)
    assert "Fait à Avesnes-sur-Helpe, le 30 juin 2022" not in content


def test_annex_of_an_amendment_is_dated_by_the_amendment(demo_db, tmp_path):
    from db.editing import contract_for_edit
    from db.services.contracts import AmendmentData

    # The avenant of 3 February 2025 predates the 2025 decisions the annex shows: its
    # date is not printed, and the annex says why.
    document = documents.annex(demo_db, "FICTIF-CRTE-591", amendment=1)
    content = flat(pdf_text(save(document, tmp_path / "avenant.pdf")))
    assert "Annexe financière de l'avenant n° 1" in content
    assert "Intégration de la programmation 2025" in content  # the avenant's object
    assert "Enveloppe avant l'avenant 24 000 000,00 €" in content
    assert "le 3 février 2025" not in content and "décisions postérieures" in content
    assert check_document(demo_db, read_provenance(tmp_path / "avenant.pdf")).matches
    # An avenant signed after every decision the annex lists dates its signatures.
    contract_id = find_by_reference(demo_db, "contract", "FICTIF-CRTE-591")
    data = contract_for_edit(demo_db, contract_id)
    data.amendments.append(AmendmentData(2, "Prolongation d'un an (exemple fictif).",
                                         date(2026, 1, 12), Decimal("0.00")))
    save_contract(demo_db, data)
    dated = documents.annex(demo_db, "FICTIF-CRTE-591", amendment=2)
    content = flat(pdf_text(save(dated, tmp_path / "avenant2.pdf")))
    assert content.count("Fait à Avesnes-sur-Helpe, le 12 janvier 2026") == len(
        dated.signatories)
    assert "Enveloppe avant l'avenant 25 500 000,00 €" in content


def test_abandoned_operations_are_listed_apart_and_counted_nowhere(demo_db, tmp_path):
    operation_id = find_by_reference(demo_db, "operation", "FICTIF-DETR-2025-007")
    data = operation_for_edit(demo_db, operation_id)
    data.status = "abandonne"
    save_operation(demo_db, data)
    document = documents.annex(demo_db, "FICTIF-CRTE-591")
    assert [r for r, _ in document.abandoned] == ["FICTIF-DETR-2025-007"]
    assert all(line.reference != "FICTIF-DETR-2025-007"
               for axis in document.axes for line in axis.lines)
    content = flat(pdf_text(save(document, tmp_path / "a.pdf")))
    assert "Opérations abandonnées (hors totaux)" in content
    summary = documents.summary(demo_db, "FICTIF-CRTE-591")
    assert summary.abandoned == 1 and summary.operations == 14


def test_unknown_amounts_print_non_communique_and_totals_say_how_many(demo_db, tmp_path):
    document = documents.annex(demo_db, "pacte-sat")
    content = flat(pdf_text(save(document, tmp_path / "sat.pdf")))
    assert document.unknown_costs > 0
    assert "non communiqué" in content
    assert f"+ {document.cost.missing} n. c." in content
    lines = [line for axis in document.axes for line in axis.lines if line.cost is None]
    assert content.count("non communiqué") >= len(lines)  # each unknown cost, never 0 €


def test_over_funding_is_flagged_not_summed(demo_db, tmp_path):
    operation_id = find_by_reference(demo_db, "operation", "FICTIF-DETR-2025-001")
    data = operation_for_edit(demo_db, operation_id)
    data.status = "projet"  # a draft may be over-funded; it is flagged everywhere
    # On a line outside the DETR envelope of 2025, which refuses any programming beyond
    # its amount (db.programming).
    line = next(line for line in data.funding_lines
                if line.scheme_code not in ("DETR", "DSIL") and line.amount_granted)
    line.amount_granted += data.cost_ht
    save_operation(demo_db, data)
    annex = documents.annex(demo_db, "FICTIF-CRTE-591")
    assert annex.over_funded == 1
    content = flat(pdf_text(save(annex, tmp_path / "a.pdf")))
    assert "surfinancé de" in content and "1 opération(s) surfinancée(s)" in content
    plan = documents.plan(demo_db, "FICTIF-DETR-2025-001")
    assert plan.excess is not None and plan.own_share < 0 and not plan.balanced
    text = flat(pdf_text(save(plan, tmp_path / "p.pdf")))
    assert "Plan déséquilibré" in text and printed(plan.excess) in text
    assert printed(plan.own_share) not in text  # never "−150 000,00 €" among the others


def test_plan_is_written_as_the_administration_writes_it(demo_db, tmp_path):
    document = documents.plan(demo_db, "FICTIF-DETR-2025-099")
    content = flat(pdf_text(save(document, tmp_path / "plan.pdf")))
    for amount in ("480 000,00 €", "576 000,00 €", "192 000,00 €", "120 000,00 €",
                   "96 000,00 €", "72 000,00 €"):
        assert amount in content
    assert "Dépenses" in content and "Ressources" in content
    assert "Total des dépenses HT = total des ressources = 480 000,00 €" in content
    assert "coût HT" in content and "subv. HT" in content  # the two rate columns (wrapped)
    assert "100,00 %" in content and "Certifié exact par le maître d'ouvrage" in content
    assert "rendu le 18 mars 2025" in content  # the DETR commission's opinion
    assert content.count("3 mars 1998") == 1  # the dérogation, printed once
    for code in ("DROIT_COMMUN", "DEPARTEMENT", "à calculer", "FONDS_VERT"):
        assert code not in content
    assert "Droit commun" in content and "Département (droit commun)" in content
    assert "19/05/2027" in content  # notification of the DETR line + 2 years (R2334-28)
    rates = [r.rate for r in document.resources] + [document.own_share_rate]
    assert sum(rates) == 1


def test_plan_with_expense_items(demo_db, tmp_path):
    operation_id = find_by_reference(demo_db, "operation", "FICTIF-DETR-2025-099")
    data = operation_for_edit(demo_db, operation_id)
    data.expense_items = [
        ExpenseItemData("Couverture et charpente", Decimal("300000.00"), Decimal("360000.00")),
        ExpenseItemData("Vitraux", Decimal("150000.00"), Decimal("180000.00")),
        ExpenseItemData("Mobilier liturgique", Decimal("30000.00"), Decimal("36000.00"),
                        eligible=False)]
    data.eligible_cost = None
    save_operation(demo_db, data)
    document = documents.plan(demo_db, "FICTIF-DETR-2025-099")
    assert document.expenses_detailed and document.eligible == Decimal("450000.00")
    content = flat(pdf_text(save(document, tmp_path / "plan.pdf")))
    assert "Vitraux" in content and "Mobilier liturgique (non subventionnable)" in content
    assert "450 000,00 €" in content and "postes subventionnables" in content
    detr = next(r for r in document.resources if r.scheme == "DETR")
    assert detr.eligible_rate == Decimal("192000") / Decimal("450000")


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


def test_summary_is_one_page_with_the_contract_s_deadlines(demo_db, tmp_path):
    document = documents.summary(demo_db, "FICTIF-CRTE-591", today=date(2026, 12, 2))
    path = save(document, tmp_path / "synthese.pdf")
    assert len(PdfReader(str(path)).pages) == 1
    content = flat(pdf_text(path))
    assert "Fiche synthèse" in content and "Chiffres clés" in content
    assert printed(document.granted.value) in content and printed(document.paid) in content
    assert "31 décembre 2026 (dans 29 jours)" in content
    assert ("31/12/2026", "Contrat", "fin du contrat") in [
        (d.when.strftime("%d/%m/%Y"), d.subject, d.what) for d in document.deadlines_to_come]
    order = ["Programmé", "En cours", "Achevé", "Soldé"]
    assert [s for s, _, _ in document.by_status] == order
    assert [content.index(s) for s in order] == sorted(content.index(s) for s in order)
    assert "Aucun contact enregistré pour les signataires" in content
    assert "CC du Pays de Mormal" in content


def test_etat_filtered_on_a_dispositif_shows_its_amounts(demo_db, tmp_path):
    criteria = Criteria(arrondissement="591", scheme="DETR")
    document = documents.operations_list(demo_db, criteria)
    with demo_db.read() as session:
        detr = session.scalar(select(func.sum(FundingLine.amount_granted)).join(Operation).where(
            FundingLine.scheme_code == "DETR", FundingLine.status == "accorde",
            Operation.status != "abandonne", Operation.reference.like("FICTIF-%")))
        everything = session.scalar(select(func.sum(FundingLine.amount_granted)).join(
            Operation).where(FundingLine.status == "accorde",
                             Operation.reference.like("FICTIF-DETR-%")))
    assert document.totals["granted"].value == detr != everything
    content = flat(pdf_text(save(document, tmp_path / "etat.pdf")))
    assert printed(detr) in content and printed(everything) not in content
    assert "Accordé (DETR)" in content and "financements DETR uniquement" in content
    assert "Dispositif : DETR" in content and "scheme" not in content
    assert f"Total ({document.count} opérations)" in content
    width, height = PdfReader(str(tmp_path / "etat.pdf")).pages[0].mediabox.upper_right
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
        abandoned = session.scalar(select(func.count()).select_from(Operation)
                                   .where(Operation.status == "abandonne"))
    document = documents.annex(database, reference)
    assert sum(len(axis.lines) for axis in document.axes) + len(document.abandoned) == 1000
    assert len(document.abandoned) == abandoned
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
