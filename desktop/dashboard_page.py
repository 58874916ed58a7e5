"""The « Tableau de bord » page: the charts an agent shows in a meeting, over the
arrondissement (or the whole base) and a budget year; a click on a bar opens the list
of what it sums, each chart is exported as PNG or PDF.

Built the first time the page is shown (desktop/list_pages.py): matplotlib and its Qt
canvas are imported here, never at start-up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from db import queries
from db.dashboard.figures import DashboardFigures, FigureTable, figure_table
from db.database import Database
from db.text import elide
from desktop import charts
from desktop.charts import Chart, Target
from desktop.page_set import NavigationPage

ALL = ""  # « tout le territoire », « tous les exercices » (never None: see filter_boxes)
DEADLINE_DAYS = 366  # the deadlines chart looks a year ahead
CHART_HEIGHT = 330


def envelope_data(db: Database, arrondissement: str | None, year: int | None) -> list:
    """The envelopes' figures (db.programming.envelopes, the Enveloppes page's)."""
    from db.programming.envelopes import envelope_figures

    with db.read() as session:
        return envelope_figures(session, year=year, arrondissement=arrondissement)


def deadline_data(db: Database, arrondissement: str | None, today: date) -> list:
    """The deadlines of the coming year (db.deadlines, the Échéances page's)."""
    from db.deadlines import deadlines

    with db.read() as session:
        return deadlines(session, today=today, within_days=DEADLINE_DAYS,
                         arrondissement=arrondissement)


class ChartView(QFrame):
    """One chart on its canvas, with its export buttons and context menu."""

    picked = Signal(object)  # the Target of the bar clicked

    def __init__(self, key: str, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.title = title
        self.setObjectName("chartView")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.figure = charts.new_figure()
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setAccessibleName(title)
        self.canvas.setMinimumHeight(CHART_HEIGHT)
        self.canvas.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.canvas.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.canvas.customContextMenuRequested.connect(self._menu)
        self.canvas.mpl_connect("pick_event", self._on_pick)
        self.canvas.mpl_connect("motion_notify_event", self._on_motion)
        self.chart: Chart | None = None
        self._draw: Callable[[Figure | None], Chart] | None = None
        self.png_button = QPushButton("Image PNG…")
        self.png_button.setToolTip(f"Enregistrer « {title} » en image PNG")
        self.png_button.clicked.connect(lambda: self.export_dialog("png"))
        self.pdf_button = QPushButton("PDF…")
        self.pdf_button.setToolTip(f"Enregistrer « {title} » en PDF (vectoriel)")
        self.pdf_button.clicked.connect(lambda: self.export_dialog("pdf"))
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(QLabel("Exporter :"))
        buttons.addWidget(self.png_button)
        buttons.addWidget(self.pdf_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.canvas, 1)
        layout.addLayout(buttons)

    def show_chart(self, draw: Callable[[Figure | None], Chart]) -> None:
        """Draw with *draw* (a chart function bound to its data) on this canvas."""
        self._draw = draw
        self.chart = draw(self.figure)
        self.canvas.draw_idle()

    def _on_pick(self, event: Any) -> None:
        target = self.chart.target_of(event.artist) if self.chart else None
        if target is not None and getattr(event.mouseevent, "button", 1) == 1:
            self.picked.emit(target)

    def _on_motion(self, event: Any) -> None:
        """A pointing hand and the list's name over a bar that opens one."""
        if self.chart is None or not self.chart.targets or event.inaxes is None:
            self.canvas.unsetCursor()
            self.canvas.setToolTip("")
            return
        for bar, target in self.chart.targets.items():
            if bar.contains(event)[0]:
                self.canvas.setCursor(Qt.CursorShape.PointingHandCursor)
                self.canvas.setToolTip(f"Ouvrir la liste : {target.description}")
                return
        self.canvas.unsetCursor()
        self.canvas.setToolTip("")

    def _menu(self, position: Any) -> None:
        menu = QMenu(self)
        menu.addAction("Exporter en image PNG…", lambda: self.export_dialog("png"))
        menu.addAction("Exporter en PDF…", lambda: self.export_dialog("pdf"))
        menu.exec(self.canvas.mapToGlobal(position))

    def export(self, path: Path) -> Path:
        if self._draw is None:
            raise RuntimeError("chart not drawn yet")
        return charts.export(self._draw, path)

    def export_dialog(self, kind: str) -> Path | None:
        name = self.key.replace("_", "-")
        pattern = "Image PNG (*.png)" if kind == "png" else "Document PDF (*.pdf)"
        path, _ = QFileDialog.getSaveFileName(self, f"Exporter « {self.title} »",
                                              f"tableau-de-bord-{name}.{kind}", pattern)
        if not path:
            return None
        target = Path(path)
        if target.suffix.lower() != f".{kind}":
            target = target.with_suffix(f".{kind}")
        try:
            return self.export(target)
        except OSError as error:
            QMessageBox.warning(self, "Export impossible",
                                f"Le fichier {target} n'a pas pu être écrit : "
                                f"{error.strerror or error}.")
            return None


class DashboardPage(NavigationPage):
    title = "Tableau de bord"
    open_list = Signal(str, dict)  # page key, filters (with "arrondissement": bool)

    def __init__(self, db: Database, arrondissement: queries.ArrondissementRow | None,
                 parent: QWidget | None = None, *, today: date | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.today = today
        self._stale = True
        self._loading = True
        self.figures: DashboardFigures | None = None
        self._table: FigureTable | None = None  # the territory's sums, every year
        self._deadlines: list | None = None
        self._reading = False
        heading = QLabel("Tableau de bord")
        heading.setObjectName("pageTitle")
        self.scope = QComboBox()
        self.scope.setAccessibleName("Territoire du tableau de bord")
        self.year = QComboBox()
        self.year.setAccessibleName("Exercice")
        self.year.setToolTip("L'exercice budgétaire des financements comptés "
                             "(le graphique par exercice les montre tous)")
        self.summary = QLabel()
        self.summary.setObjectName("listFooter")
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addStretch(1)
        top.addWidget(QLabel("Territoire :"))
        top.addWidget(self.scope)
        top.addWidget(QLabel("Exercice :"))
        top.addWidget(self.year)

        self.views = {key: ChartView(key, title) for key, title in (
            ("envelopes", "Consommation des enveloppes"),
            ("deadlines", "Échéances à venir"),
            ("years", "Accordé et versé par exercice"),
            ("schemes", "Accordé et versé par dispositif"),
            ("epci", "Accordé et versé par EPCI"))}
        grid_widget = QWidget()
        grid = QGridLayout(grid_widget)
        grid.setContentsMargins(0, 0, 0, 0)
        for index, view in enumerate(self.views.values()):
            grid.addWidget(view, index // 2, index % 2)
            view.picked.connect(self._open_target)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(grid_widget)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addLayout(top)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.summary)

        self.set_arrondissement(arrondissement, reload=False)
        self._loading = False
        self.scope.currentIndexChanged.connect(self._scope_changed)
        self.year.currentIndexChanged.connect(self._criteria_changed)

    # --- the page's protocol (desktop.main_window) ------------------------------------

    def focus_search(self) -> None:
        self.year.setFocus()

    def set_arrondissement(self, arrondissement: queries.ArrondissementRow | None,
                           reload: bool = True, choices: Any = None) -> None:
        self.scope.blockSignals(True)
        self.scope.clear()
        if arrondissement is not None:
            self.scope.addItem(f"Arrondissement {elide('de', arrondissement.name)}",
                               arrondissement.code)
        self.scope.addItem("Tout le territoire", ALL)
        self.scope.setCurrentIndex(0)
        self.scope.blockSignals(False)
        if reload:
            if self.isVisible():
                self.reload()
            else:
                self.mark_stale()

    # --- criteria ---------------------------------------------------------------------

    def arrondissement(self) -> str | None:
        return self.scope.currentData() or None

    def chosen_year(self) -> int | None:
        value = self.year.currentData()
        return value if isinstance(value, int) else None

    def scope_words(self) -> str:
        words = self.scope.currentText()
        year = self.chosen_year()
        return f"{words} — exercice {year}" if year is not None else words

    def _fill_years(self) -> None:
        current = self.chosen_year()
        self.year.blockSignals(True)
        self.year.clear()
        self.year.addItem("Tous les exercices", ALL)
        for year in self._table.years() if self._table else []:
            self.year.addItem(str(year), year)
        self.year.setCurrentIndex(max(self.year.findData(current), 0)
                                  if current is not None else 0)
        self.year.blockSignals(False)

    def _scope_changed(self, *_: Any) -> None:
        if not self._loading:
            self.reload()

    def _criteria_changed(self, *_: Any) -> None:
        if not self._loading:
            self.redraw(year_only=True)

    # --- drawing ------------------------------------------------------------------------

    def reload(self) -> None:
        """Read the territory's figures (two SQL aggregates for every year, the
        deadlines) and redraw every chart."""
        if self._reading:  # a change of territory while the figures are read
            self._stale = True
            return
        self._stale = False
        arrondissement, today = self.arrondissement(), self.today or date.today()

        def read() -> tuple[FigureTable, list | None]:
            return (figure_table(self.db, arrondissement=arrondissement),
                    deadline_data(self.db, arrondissement, today))

        from desktop.tasks import run_with_progress

        # Off the GUI thread: over a whole region (100 000 operations) it takes seconds.
        self._reading = True
        try:
            self._table, self._deadlines = run_with_progress(
                self, "Calcul du tableau de bord…", read)
        finally:
            self._reading = False
        self._fill_years()
        self.redraw()
        if self._stale and self.isVisible():  # the territory changed meanwhile
            self.reload()

    def redraw(self, year_only: bool = False) -> None:
        """Draw the charts for the year chosen, from the figures read (no SQL but the
        envelopes'); *year_only*: only the year changed, the deadlines stay as they
        are."""
        if self._table is None or self._reading:
            return  # drawn once the figures are read
        arrondissement, year = self.arrondissement(), self.chosen_year()
        today = self.today or date.today()
        self.figures = figures = self._table.figures(year)
        envelopes = envelope_data(self.db, arrondissement, year)
        deadlines = self._deadlines
        scope = self.scope_words()
        whole = self.scope.currentText()  # the chart by year shows every year
        self.views["envelopes"].show_chart(partial(_envelopes, envelopes, scope))
        if not year_only:
            self.views["deadlines"].show_chart(partial(_deadlines, deadlines, today, whole))
        self.views["years"].show_chart(partial(_years, figures.by_year, year, whole))
        self.views["schemes"].show_chart(partial(_schemes, figures.by_scheme, year, scope))
        self.views["epci"].show_chart(partial(_epci, figures.by_epci, year, scope))
        from db.formatting import euros

        missing = sum(a.missing for a in figures.by_scheme)
        text = (f"{scope} : accordé {euros(figures.granted)}, versé {euros(figures.paid)}")
        if missing:
            text += (f" ; {missing} financement(s) accordé(s) sans montant communiqué, "
                     "non comptés")
        self.summary.setText(text)

    def export(self) -> Path | None:
        """The toolbar's « Exporter » (Ctrl+E): every chart, as shown, in one PDF."""
        path, _ = QFileDialog.getSaveFileName(self, "Exporter le tableau de bord",
                                              "tableau-de-bord.pdf", "Document PDF (*.pdf)")
        if not path:
            return None
        draws = [view._draw for view in self.views.values() if view._draw is not None]
        try:
            return charts.export_all(draws, Path(path))
        except OSError as error:
            QMessageBox.warning(self, "Export impossible",
                                f"Le fichier {path} n'a pas pu être écrit : "
                                f"{error.strerror or error}.")
            return None

    def _open_target(self, target: Target) -> None:
        filters = dict(target.filters)
        filters["arrondissement"] = self.arrondissement() is not None
        self.open_list.emit(target.page, filters)


# Chart functions bound to their data (partial), called with the figure to draw on.

def _envelopes(envelopes, scope: str, figure: Figure | None) -> Chart:
    return charts.envelope_chart(envelopes, scope=scope, figure=figure)


def _deadlines(deadlines, today: date, scope: str, figure: Figure | None) -> Chart:
    return charts.deadline_chart(deadlines, today=today, scope=scope, figure=figure)


def _years(amounts, year: int | None, scope: str, figure: Figure | None) -> Chart:
    return charts.year_chart(amounts, scope=scope, selected=year, figure=figure)


def _schemes(amounts, year: int | None, scope: str, figure: Figure | None) -> Chart:
    return charts.scheme_chart(amounts, year=year, scope=scope, figure=figure)


def _epci(amounts, year: int | None, scope: str, figure: Figure | None) -> Chart:
    return charts.epci_chart(amounts, year=year, scope=scope, figure=figure)
