"""Start-up does only what the first painted list needs (the benchmark with figures is
tests/bench/bench_startup.py): one page built, filter boxes filled when opened, no
Alembic, editors, documents or pandas imported."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from desktop.app import make_application
from desktop.main_window import MainWindow

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import sys
from desktop.app import run
code = run(db=sys.argv[1], screenshot=sys.argv[2], view="operations")
wanted = ("alembic", "pandas", "reportlab", "desktop.operation_editor",
          "desktop.contract_editor", "desktop.reports_page", "db.documents.annex",
          "db.spreadsheets", "db.deadlines", "desktop.deadlines_page",
          "desktop.deadline_notice", "matplotlib", "desktop.dashboard_page",
          "desktop.charts", "db.dashboard")
print(sorted(m for m in sys.modules if m.startswith(wanted)))
sys.exit(code)
"""


def test_the_first_paint_imports_nothing_it_does_not_show(demo_path, tmp_path):
    shot = tmp_path / "liste.png"
    probe = subprocess.run([sys.executable, "-c", PROBE, str(demo_path), str(shot)],
                           cwd=ROOT, capture_output=True, text=True,
                           env={"QT_QPA_PLATFORM": "offscreen", "HOME": str(tmp_path),
                                "XDG_CONFIG_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip().splitlines()[-1] == "[]"
    assert shot.stat().st_size > 10_000


def test_only_the_page_shown_is_built(qtbot, demo_db):
    make_application()
    window = MainWindow(demo_db, view="operations")
    qtbot.addWidget(window)
    assert window.pages.built() == [window.pages["operations"]]
    assert window.stack.currentWidget() is window.pages["operations"]
    assert window.pages["operations"].model.total > 0

    window.navigation.setCurrentRow(0)  # the agent clicks "Contrats"
    contracts = window.pages["contracts"]
    assert window.stack.currentWidget() is contracts
    assert len(window.pages.built()) == 2
    window.show()
    qtbot.waitUntil(lambda: contracts.model.total > 0)


def test_a_filter_box_is_filled_when_the_agent_opens_it(qtbot, demo_db):
    make_application()
    window = MainWindow(demo_db, view="operations")
    qtbot.addWidget(window)
    window.show()
    page = window.pages["operations"]
    communes = page.filters["commune"]
    assert not communes.loaded and communes.count() == 1
    assert communes.currentText() == "Commune : tous"

    qtbot.mouseClick(communes, Qt.MouseButton.LeftButton)  # opens the popup
    qtbot.waitUntil(lambda: communes.view().isVisible())
    assert communes.loaded
    names = [communes.itemText(i) for i in range(communes.count())]
    assert names[0] == "Commune : tous" and "Maubeuge" in names
    assert len(names) == 1 + 150  # the communes of the arrondissement d'Avesnes-sur-Helpe
    communes.hidePopup()

    before = page.model.total
    qtbot.keyClick(communes, Qt.Key.Key_Down)  # the next commune, as with the keyboard
    QApplication.processEvents()
    qtbot.waitUntil(lambda: page.model.total < before)
    assert page.criteria().commune == communes.currentData() != ""


def test_the_filter_boxes_share_their_choices_between_pages(qtbot, demo_db):
    make_application()
    window = MainWindow(demo_db, view="operations")
    qtbot.addWidget(window)
    operations = window.pages["operations"].filters["commune"]
    lines = window.pages["funding_lines"].filters["commune"]
    operations.ensure_loaded()
    lines.ensure_loaded()
    assert operations.model() is lines.model()
