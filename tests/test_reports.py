"""Reports (pivots) against the lists they summarise; shown in the app and exported."""

from __future__ import annotations

from decimal import Decimal

import pandas as pd
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog

from db.lists import FUNDING_LINES, OPERATIONS, Criteria
from db.spreadsheets import reports

SCOPE = Criteria(arrondissement="591")


def test_financer_by_year_sums_the_granted_lines(demo_db):
    report = reports.financer_by_year(demo_db, SCOPE)
    total = report.rows[-1]
    lines = FUNDING_LINES.totals(demo_db, SCOPE.but(status="accorde"))
    assert total["financer"] == "Total"
    assert total["granted_Total"] == lines["granted"]
    assert total["paid_Total"] == lines["paid"]
    state = next(r for r in report.rows if r["financer"] == "État")
    assert state["granted_2025"] > Decimal("0")


def test_territory_reports_per_inhabitant(demo_db):
    report = reports.by_commune(demo_db, SCOPE)
    total = report.rows[-1]
    assert len(report.rows) == 151  # 150 communes + total
    assert total["per_inhabitant"] == (total["granted"] / total["population"]).quantize(
        Decimal("0.01"))
    epci = reports.by_epci(demo_db, SCOPE)
    assert {r["code"] for r in epci.rows[:-1]} >= {"200043396"}


def test_contract_by_axis_matches_the_operations(demo_db):
    report = reports.contract_by_axis(demo_db, SCOPE)
    crte = [r for r in report.rows if r["contract"] == "FICTIF-CRTE-591"]
    assert sum(r["operations"] for r in crte) == 15
    operations = OPERATIONS.page(demo_db, Criteria(contract=__import__(
        "db.editing", fromlist=["x"]).find_by_reference(demo_db, "contract",
                                                        "FICTIF-CRTE-591")), limit=None)
    assert sum(r["granted"] for r in crte) == sum(o["granted"] for o in operations)


def test_reports_page_shows_and_exports(qtbot, demo_db, monkeypatch, tmp_path):
    from desktop.app import make_application
    from desktop.main_window import MainWindow

    make_application()
    window = MainWindow(demo_db)
    qtbot.addWidget(window)
    window.show()
    item = window.navigation.findItems("Rapports", Qt.MatchFlag.MatchExactly)[0]
    window.navigation.setCurrentItem(item)
    page = window.pages["reports"]
    page.choice.setCurrentIndex(page.choice.findData("contrats"))
    last = page.table.rowCount() - 1
    assert page.table.item(last, 0).text() == "Total"
    target = tmp_path / "rapport.xlsx"
    monkeypatch.setattr(QFileDialog, "getSaveFileName",
                        staticmethod(lambda *a, **k: (str(target), "")))
    window.export_action.trigger()
    frame = pd.read_excel(target, engine="calamine")
    assert list(frame.columns)[:2] == ["Contrat", "Axe"]
    assert len(frame) == page.table.rowCount()


def test_unknown_amounts_are_never_summed_as_zero(demo_db):
    """Lines granted without an amount (the source does not say it) read "non communiqué"
    and are counted apart, in every report."""
    from sqlalchemy import func, select

    from db.models import FundingLine

    with demo_db.read() as session:
        unknown = session.scalar(select(func.count()).select_from(FundingLine).where(
            FundingLine.status == "accorde", FundingLine.amount_granted.is_(None)))
    assert unknown > 0
    by_financer = reports.financer_by_year(demo_db)
    assert by_financer.rows[-1]["missing"] == unknown
    only_unknown = [r for r in by_financer.rows[:-1]
                    if r["missing"] and r["granted_Total"] is None]
    assert only_unknown  # a financer whose every granted amount is unknown: not 0 €
    by_axis = reports.contract_by_axis(demo_db)
    assert by_axis.rows[-1]["missing"] >= unknown
    assert any(r["granted"] is None for r in by_axis.rows[:-1])
