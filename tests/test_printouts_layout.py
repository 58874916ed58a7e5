"""Every document of the demo and of generated bases, read back from its word boxes: no
two words overlap, no word leaves its column, its margins or the page; each plan's
resources equal its expenses to the cent and its column of rates adds up to 100 %; each
annex's totals agree with the database and with each other."""

from __future__ import annotations

import importlib.util
import re
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import pytest
from reportlab.lib.units import mm
from sqlalchemy import select

from db import documents
from db.database import open_database
from db.lists import Criteria
from db.models import Contract, FundingLine, Operation, OperationLink, Organisation
from printouts import render
from tests.pdf_layout import Margins, Page, layout_problems, read_pages

ROOT = Path(__file__).resolve().parent.parent
# The body's margins (15 mm), the header and footer inside the top and bottom ones.
MARGINS = Margins(15 * mm - 0.5, 15 * mm - 0.5, 8 * mm, 6 * mm)
AMOUNT = re.compile(r"(-?\d{1,3}(?: \d{3})*,\d{2}) €")
RATE = re.compile(r"(\d{1,3}(?: \d{3})*,\d{2}) %")


def decimal(text: str) -> Decimal:
    return Decimal(text.replace(" ", "").replace(",", "."))


def lines(page: Page) -> list[tuple[float, list]]:
    """The words of a page by line (same top), left to right."""
    rows: dict[float, list] = defaultdict(list)
    for word in page.words:
        rows[round(word.top, 1)].append(word)
    return [(top, sorted(words, key=lambda w: w.x0)) for top, words in sorted(rows.items())]


def text_of(words: list) -> str:
    return " ".join(w.text for w in words)


def plan_figures(pdf: bytes) -> dict:
    """From the words printed: the expenses' total HT, the resources' total and the rates
    of the column "Taux du coût …" (right-aligned on the total's "%")."""
    found: dict = {"rates": []}
    for page in read_pages(pdf):
        page_lines = lines(page)
        for top, words in page_lines:
            line = text_of(words)
            if line.startswith("Total des dépenses") and "=" not in line:
                found["expenses"] = [decimal(a) for a in AMOUNT.findall(line)]
            if "Total des ressources" in line:
                start = next(i for i, w in enumerate(words) if w.text == "ressources")
                after = words[start + 1:]
                found["resources"] = [decimal(a) for a in AMOUNT.findall(text_of(after))]
                percents = [w for w in after if w.text == "%"]
                if percents:
                    edge, found["total_top"] = percents[0].x1, top
                    found["edge"] = edge
                    found["rate_total"] = decimal(RATE.findall(text_of(after))[0])
        if "edge" in found and not found["rates"]:
            header = next(top for top, words in page_lines if "Financeur" in text_of(words))
            for top, words in page_lines:
                if header < top < found["total_top"]:
                    for index, word in enumerate(words):
                        if word.text == "%" and abs(word.x1 - found["edge"]) < 1:
                            found["rates"].append(decimal(words[index - 1].text))
    return found


def check_plan(db, reference: str) -> list[str]:
    document = documents.plan(db, reference)
    balanced, base = document.balanced, document.base  # as the database says
    pdf = render(document)
    problems = layout_problems(pdf, margins=MARGINS)
    figures = plan_figures(pdf)
    if balanced:
        # printed expenses = printed resources, to the cent, and the rates make 100 %
        if figures["expenses"][0 if document.base_kind == "HT" else 1] \
                != figures["resources"][0]:
            problems.append(f"{reference} : dépenses {figures['expenses']} ≠ ressources "
                            f"{figures['resources']}")
        if figures["rate_total"] != Decimal("100.00") or sum(figures["rates"]) != 100:
            problems.append(f"{reference} : taux {figures['rates']} (total "
                            f"{figures['rate_total']})")
        if figures["resources"][0] != base:
            problems.append(f"{reference} : ressources imprimées {figures['resources']} ≠ "
                            f"base {base}")
    return problems


def check_annex(db, reference: str, amendment: int | None = None) -> list[str]:
    document = documents.annex(db, reference, amendment)
    problems = layout_problems(render(document), margins=MARGINS)
    with db.read() as session:  # the same sums, straight from the tables
        rows = session.execute(
            select(Operation.id, Operation.status, Operation.base_kind, Operation.cost_ht,
                   Operation.cost_ttc, FundingLine.status, FundingLine.amount_granted,
                   FundingLine.amount_requested, Organisation.kind)
            .join(OperationLink, OperationLink.operation_id == Operation.id)
            .join(Contract, Contract.id == OperationLink.contract_id)
            .outerjoin(FundingLine, FundingLine.operation_id == Operation.id)
            .outerjoin(Organisation, Organisation.id == FundingLine.financer_id)
            .where(Contract.reference == reference, Operation.status != "abandonne")).all()
    costs = {r[0]: r[4] if r[2] == "TTC" else r[3] for r in rows}
    granted = [r[6] for r in rows if r[5] == "accorde"]
    pending = [r[7] for r in rows if r[5] == "sollicite"]
    expected = {
        "coût": (sum((c for c in costs.values() if c is not None), Decimal(0)),
                 sum(1 for c in costs.values() if c is None)),
        "accordé": (sum((g for g in granted if g is not None), Decimal(0)),
                    sum(1 for g in granted if g is None)),
        "en attente": (sum((p for p in pending if p is not None), Decimal(0)),
                       sum(1 for p in pending if p is None)),
    }
    printed = {"coût": document.cost, "accordé": document.granted_total,
               "en attente": document.pending}
    for name, total in printed.items():
        if (total.value, total.missing) != expected[name]:
            problems.append(f"{reference} : {name} {total} ≠ base {expected[name]}")
    by_financer = sum((r.granted.value for r in document.by_financer), Decimal(0))
    if by_financer != document.granted_total.value:
        problems.append(f"{reference} : par financeur {by_financer} ≠ opérations "
                        f"{document.granted_total.value}")
    state = sum((y.committed.value for y in document.state_by_year), Decimal(0))
    if state != document.granted["État"].value:
        problems.append(f"{reference} : État par exercice {state} ≠ "
                        f"{document.granted['État'].value}")
    return problems


def every_document(db, plans: int | None = None) -> list[str]:
    problems = []
    with db.read() as session:
        contracts = [(c.reference, [a.number for a in c.amendments])
                     for c in session.scalars(select(Contract).order_by(Contract.reference))]
        operations = list(session.scalars(select(Operation.reference)
                                          .order_by(Operation.reference)))
    for reference, amendments in contracts:
        problems += check_annex(db, reference)
        for number in amendments[:1]:
            problems += check_annex(db, reference, number)
        problems += layout_problems(render(documents.summary(db, reference)), margins=MARGINS)
    for reference in operations[:plans]:
        problems += check_plan(db, reference)
    for criteria in (Criteria(), Criteria(scheme="DETR"), Criteria(status="abandonne")):
        problems += layout_problems(render(documents.operations_list(db, criteria)),
                                    margins=MARGINS)
    return problems


def test_every_document_of_the_demo(demo_db):
    assert every_document(demo_db) == []


@pytest.mark.parametrize("seed", [3, 11])
def test_every_document_of_a_generated_base(tmp_path, sqlite_template, seed):
    import shutil

    spec = importlib.util.spec_from_file_location("generate", ROOT / "tests/bench/generate.py")
    generate = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generate)
    path = tmp_path / "base.sqlite"
    shutil.copyfile(sqlite_template, path)
    generate.generate(str(path), 700, seed=seed)
    database = open_database(path)
    try:
        assert every_document(database) == []
    finally:
        database.close()


def test_the_checks_here_catch_a_broken_plan(demo_db, monkeypatch):
    """The figures are read from the PDF: a plan that printed a wrong total fails."""
    from printouts import plan as plan_module

    original = plan_module._resources

    def wrong(data, width):
        data.resources_total = data.resources_total + Decimal("0.01")
        return original(data, width)

    monkeypatch.setattr(plan_module, "_resources", wrong)
    assert any("dépenses" in p for p in check_plan(demo_db, "FICTIF-DETR-2025-013"))
