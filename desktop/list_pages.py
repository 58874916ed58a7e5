"""The list pages of the workspace: search as you type, filters, sorting by value,
totals of the filtered rows, and the agent's choices remembered between sessions."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QEvent, QSettings, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from db import lists, queries
from db.database import Database
from db.formatting import euros, number
from db.lists import Criteria, ListQuery
from db.text import elide
from db.vocabulary import ContractStatus, FundingStatus, OperationStatus, OrganisationKind
from desktop.filter_boxes import ALL, FilterBox, FilterChoices
from desktop.page_set import NavigationPage
from desktop.table_model import ROW_ROLE, PagedTableModel
from desktop.views import VIEWS

SEARCH_DELAY_MS = 80  # coalesces fast typing; each query itself takes a few ms

FILTER_LABELS = {
    "status": "Statut", "contract_type": "Type de contrat", "commune": "Commune",
    "epci": "EPCI", "financer": "Financeur", "scheme": "Dispositif", "year": "Année",
}
STATUS_CHOICES = {
    "contracts": [(s.label, s.value) for s in ContractStatus],
    "operations": [(s.label, s.value) for s in OperationStatus],
    "funding_lines": [(s.label, s.value) for s in FundingStatus],
    "organisations": [(k.label, k.value) for k in OrganisationKind],
}
TOTAL_LABELS = [("cost", "coût"), ("requested", "sollicité"), ("granted", "accordé"),
                ("paid", "versé"), ("remaining", "reste à verser")]


class ListPage(NavigationPage):
    """One list: a search box, filters, a table paged from the database, a footer."""

    activated = Signal(dict)  # a row was opened (double click or Entrée)

    def __init__(self, db: Database, query: ListQuery, title: str,
                 nouns: tuple[str, str], arrondissement: queries.ArrondissementRow | None,
                 parent: QWidget | None = None, *,
                 choices: FilterChoices | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.query = query
        self.title = title
        self.nouns = nouns
        self.settings_key = f"listes/{query.name}"
        self.filters: dict[str, FilterBox] = {}
        self._choices = choices
        self._restored_widths = False
        self._loading = True
        self._stale = True  # loaded when first shown (or reload() called)
        self._totals: dict[str, Any] = {"count": 0}

        heading = QLabel(title)
        heading.setObjectName("pageTitle")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Rechercher (Ctrl+F) : nom, référence, commune…")
        self.search.setClearButtonEnabled(True)
        self.search.setAccessibleName(f"Rechercher dans {title.lower()}")
        self.search.setToolTip("Tapez le début des mots cherchés ; majuscules, accents et "
                               "tirets sont ignorés")
        self.search.setMinimumWidth(320)
        self.scope = QComboBox()
        self.scope.setAccessibleName("Territoire affiché")
        self.scope.setToolTip("Limiter la liste à l'arrondissement ou tout afficher")
        top = QHBoxLayout()
        top.addWidget(heading)
        top.addSpacing(16)
        top.addWidget(self.search, 1)
        if query.territorial:
            top.addWidget(QLabel("Territoire :"))
            top.addWidget(self.scope)

        self.filter_labels = {**FILTER_LABELS, **(query.filter_labels or {})}
        for key in query.filters:
            box = FilterBox(self._all_label(key), lambda k=key: self._choice_model(k))
            box.setAccessibleName(f"Filtre : {self.filter_labels[key]}")
            box.setToolTip(f"Filtrer par {self.filter_labels[key].lower()}")
            box.setMinimumContentsLength(len(self.filter_labels[key]) + 7)
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            self.filters[key] = box
        self.clear_button = QPushButton("Effacer les filtres")
        self.clear_button.setToolTip("Vider la recherche et tous les filtres")

        self.table = QTableView()
        self.table.setAccessibleName(title)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(False)
        self.table.verticalHeader().setVisible(False)
        # Fixed row heights: no measuring of every row (slow on big tables).
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionsMovable(True)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._column_menu)
        self.footer = QLabel()
        self.footer.setObjectName("listFooter")
        self.footer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        if query.name == "funding_lines":  # issue 13: the acts of the filtered lines
            self.acts_button = QPushButton("Éditer les ac&tes…")
            self.acts_button.setToolTip("Arrêtés, notifications et lettres de refus des "
                                        "financements affichés (recherche et filtres)")
            self.acts_button.clicked.connect(self.make_acts)
            top.addWidget(self.acts_button)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addLayout(top)
        if self.filters:  # on as many lines as the window's width needs
            from desktop.flow_layout import flow_row

            layout.addWidget(flow_row([*self.filters.values(), self.clear_button]))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.footer)

        self.model = PagedTableModel(query.columns, self._count, self._fetch, self)
        self.table.setModel(self.model)
        for index, column in enumerate(query.columns):
            self.table.setColumnWidth(index, column.width)
        default = [c.key for c in query.columns].index(query.default_sort)
        # Set before enabling sorting: Qt would otherwise sort descending at once.
        header.setSortIndicator(default, Qt.SortOrder.AscendingOrder)
        self.table.setSortingEnabled(True)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(self.reload)
        self.search.textChanged.connect(lambda _: self._search_timer.start())
        self.search.returnPressed.connect(self._open_first)
        self.table.doubleClicked.connect(self._open_index)
        self.table.activated.connect(self._open_index)
        self.clear_button.clicked.connect(self.clear_filters)
        self.table.viewport().installEventFilter(self)

        self.set_arrondissement(arrondissement, reload=False)
        self._restore()
        self._loading = False
        for box in [self.scope, *self.filters.values()]:
            box.currentIndexChanged.connect(self._criteria_changed)
        header.sortIndicatorChanged.connect(lambda *_: self._save())
        header.sectionResized.connect(lambda *_: self._save())
        header.sectionMoved.connect(lambda *_: self._save())

    def make_acts(self) -> None:
        from db.acts.generate import filtered_lines
        from desktop.acts_tab import run_batch

        run_batch(self, self.db, filtered_lines(self.db, self.criteria()))

    # --- criteria ------------------------------------------------------------------

    def criteria(self) -> Criteria:
        values = {key: box.currentData() for key, box in self.filters.items()}
        return Criteria(search=self.search.text(),
                        arrondissement=(self.scope.currentData() or None)
                        if self.query.territorial else None,
                        **{k: v for k, v in values.items() if v not in (None, ALL)})

    def _count(self) -> int:
        return self._totals.get("count", 0)

    def _fetch(self, offset: int, limit: int) -> list[dict]:
        return self.query.page(self.db, self.criteria(), sort=self.model.sort_key,
                               descending=self.model.descending, offset=offset, limit=limit)

    def set_arrondissement(self, arrondissement: queries.ArrondissementRow | None,
                           reload: bool = True, choices: FilterChoices | None = None) -> None:
        self.scope.blockSignals(True)
        self.scope.clear()
        if arrondissement is not None:
            self.scope.addItem(f"Arrondissement {elide('de', arrondissement.name)}",
                               arrondissement.code)
        self.scope.addItem("Tout le territoire", ALL)
        self.scope.setCurrentIndex(0)
        self.scope.blockSignals(False)
        if reload:
            self._choices = choices
            for key, box in self.filters.items():
                box.set_loader(lambda k=key: self._choice_model(k))
            if self.isVisible():
                self.reload()
            else:
                self.mark_stale()

    def _all_label(self, key: str) -> str:
        return f"{self.filter_labels[key]} : tous"

    def _choice_model(self, key: str):
        if self._choices is None:  # a page on its own (tests, the territory tabs)
            self._choices = FilterChoices(self.db, self.scope.itemData(0) or None, self)
        fixed = STATUS_CHOICES.get(self.query.name, []) if key == "status" else None
        return self._choices.model(key, self._all_label(key), fixed)

    def clear_filters(self) -> None:
        self._loading = True
        self.search.clear()
        for box in self.filters.values():
            box.setCurrentIndex(0)
        self._loading = False
        self._criteria_changed()

    def show_filtered(self, *, arrondissement: bool = True, **filters: Any) -> None:
        """Show the rows matching *filters* (Criteria fields: year, scheme, epci, status…)
        and nothing else, over the arrondissement or the whole territory (the Tableau de
        bord's click-through); the filters not given are cleared."""
        self._loading = True
        self.search.clear()
        self.scope.setCurrentIndex(0 if arrondissement else self.scope.count() - 1)
        for key, box in self.filters.items():
            value = filters.get(key)
            if value is None:
                box.setCurrentIndex(0)
            elif not box.select_value(value):  # not among the arrondissement's choices
                label = dict((v, name) for name, v in lists.filter_choices(
                    self.db, None, keys=(key,)).get(key, [])).get(value, str(value))
                box.offer(label, value)
        self._loading = False
        self._criteria_changed()

    def _criteria_changed(self, *_: Any) -> None:
        if self._loading:
            return
        self._save()
        self.reload()

    # --- loading --------------------------------------------------------------------

    def reload(self) -> None:
        """One query for the footer (its count sizes the list), one for the first page."""
        self._stale = False
        self._totals = self.query.totals(self.db, self.criteria())
        self.model.reload()
        self._update_footer()

    def _update_footer(self) -> None:
        totals = self._totals
        count = totals.get("count", self.model.total)
        parts = [f"{number(count)} {self.nouns[0] if count <= 1 else self.nouns[1]}"]
        for key, label in TOTAL_LABELS:
            if key in totals:
                parts.append(f"{label} : {euros(totals[key], unknown='—')}")
        if "population" in totals and totals["population"]:
            parts.append(f"population : {number(totals['population'])}")
        self.footer.setText("   ·   ".join(parts))
        self.footer.setAccessibleName(self.footer.text())

    # --- opening rows ----------------------------------------------------------------

    def current_row(self) -> dict | None:
        index = self.table.currentIndex()
        return index.data(ROW_ROLE) if index.isValid() else None

    def _open_index(self, index: Any) -> None:
        row = index.data(ROW_ROLE)
        if row is not None:
            self.activated.emit(row)

    def _open_first(self) -> None:
        if self.model.rowCount():
            self.table.setFocus()
            self.table.selectRow(0)

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def visible_columns(self) -> list[str]:
        """The keys of the columns shown, in the order the agent arranged them."""
        header = self.table.horizontalHeader()
        keys = [c.key for c in self.query.columns]
        return [keys[header.logicalIndex(visual)] for visual in range(header.count())
                if not header.isSectionHidden(header.logicalIndex(visual))]

    def describe_criteria(self) -> str:
        """The selection in words, for the printed list."""
        parts = []
        if self.query.territorial:
            parts.append(self.scope.currentText())
        if self.search.text().strip():
            parts.append(f"recherche « {self.search.text().strip()} »")
        parts += [f"{self.filter_labels[key].lower()} : {box.currentText()}"
                  for key, box in self.filters.items() if box.currentIndex() > 0]
        return " ; ".join(parts) or "toutes les opérations"

    # --- columns ---------------------------------------------------------------------

    def _column_menu(self, position: Any) -> None:
        menu = QMenu(self)
        header = self.table.horizontalHeader()
        for index, column in enumerate(self.query.columns):
            action = menu.addAction(column.label)
            action.setCheckable(True)
            action.setChecked(not header.isSectionHidden(index))
            action.toggled.connect(lambda shown, i=index: self._show_column(i, shown))
        menu.exec(header.mapToGlobal(position))

    def _show_column(self, index: int, shown: bool) -> None:
        self.table.horizontalHeader().setSectionHidden(index, not shown)
        self._save()

    # The title column takes the room the others leave, never less than its width.
    def eventFilter(self, watched: Any, event: Any) -> bool:  # noqa: N802 (Qt override)
        if watched is self.table.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_title_column()
        return super().eventFilter(watched, event)

    def _fit_title_column(self) -> None:
        keys = [c.key for c in self.query.columns]
        if "title" not in keys or self._restored_widths:
            return
        stretch = keys.index("title")
        header = self.table.horizontalHeader()
        others = sum(header.sectionSize(i) for i in range(len(keys))
                     if i != stretch and not header.isSectionHidden(i))
        room = self.table.viewport().width() - others
        self.table.setColumnWidth(stretch, max(self.query.columns[stretch].width, room))

    # --- remembered between sessions -------------------------------------------------

    def _save(self) -> None:
        if self._loading:
            return
        settings = QSettings()
        settings.setValue(f"{self.settings_key}/entete",
                          self.table.horizontalHeader().saveState())
        settings.setValue(f"{self.settings_key}/filtres", json.dumps(
            {key: _plain(box.currentData()) for key, box in self.filters.items()}))
        if self.scope.count() > 1:  # only a choice the agent had is remembered
            settings.setValue(f"{self.settings_key}/tout_le_territoire",
                              self.scope.currentData() == ALL)

    def _restore(self) -> None:
        settings = QSettings()
        state = settings.value(f"{self.settings_key}/entete")
        self._restored_widths = bool(state) and self.table.horizontalHeader().restoreState(state)
        if self._restored_widths:
            header = self.table.horizontalHeader()
            section = header.sortIndicatorSection()
            if 0 <= section < len(self.query.columns):
                self.model.sort_key = self.query.columns[section].key
                self.model.descending = (header.sortIndicatorOrder()
                                         == Qt.SortOrder.DescendingOrder)
        saved = settings.value(f"{self.settings_key}/filtres")
        if saved and self.filters:
            for key, value in json.loads(saved).items():
                box = self.filters.get(key)
                if box is not None and value not in (None, ALL):
                    box.select_value(value)
        if settings.value(f"{self.settings_key}/tout_le_territoire") in (True, "true"):
            self.scope.setCurrentIndex(self.scope.count() - 1)


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, int | str) else str(value)


class TerritoryPage(QWidget):
    """Communes and EPCI of the arrondissement with their totals."""

    activated = Signal(dict)

    def __init__(self, db: Database, arrondissement: queries.ArrondissementRow | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.tabs = QTabWidget()
        self.communes = ListPage(db, lists.COMMUNES, "Communes", ("commune", "communes"),
                                 arrondissement)
        self.epci = ListPage(db, lists.EPCIS, "EPCI", ("EPCI", "EPCI"), arrondissement)
        self.tabs.addTab(self.communes, "Communes")
        self.tabs.addTab(self.epci, "EPCI")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.tabs)

    def reload(self) -> None:
        self.tabs.currentWidget().reload()

    def mark_stale(self) -> None:
        self.communes.mark_stale()
        self.epci.mark_stale()

    def set_arrondissement(self, arrondissement: queries.ArrondissementRow | None,
                           choices: dict[str, list] | None = None) -> None:
        self.communes.set_arrondissement(arrondissement)
        self.epci.set_arrondissement(arrondissement)

    def focus_search(self) -> None:
        self.tabs.currentWidget().focus_search()


def _reports_page(db: Database, arrondissement: queries.ArrondissementRow | None) -> QWidget:
    from desktop.reports_page import ReportsPage  # its pandas loads when first shown

    return ReportsPage(db, arrondissement)


def page_factories(db: Database, arrondissement: queries.ArrondissementRow | None,
                   choices: FilterChoices) -> dict[str, Callable[[], QWidget]]:
    """How to build each page of the navigation (built when first shown; each loads its
    rows when shown)."""
    def lister(query: ListQuery, title: str, nouns: tuple[str, str]):
        return lambda: ListPage(db, query, title, nouns, arrondissement, choices=choices)

    return {
        "contracts": lister(lists.CONTRACTS, "Contrats", ("contrat", "contrats")),
        "operations": lister(lists.OPERATIONS, "Opérations", ("opération", "opérations")),
        "funding_lines": lister(lists.FUNDING_LINES, "Financements",
                                ("financement", "financements")),
        "organisations": lister(lists.ORGANISATIONS, "Acteurs",
                                ("organisation", "organisations")),
        "territory": lambda: TerritoryPage(db, arrondissement),
        "reports": lambda: _reports_page(db, arrondissement),
        "envelopes": lambda: _envelopes_page(db, arrondissement),
        "deadlines": lambda: _deadlines_page(db, arrondissement, choices),
        "journal": lambda: _journal_page(db),
        "dashboard": lambda: _dashboard_page(db, arrondissement),
    }


def _envelopes_page(db: Database, arrondissement) -> QWidget:
    from desktop.envelopes_page import EnvelopesPage  # not on the start-up path

    return EnvelopesPage(db, arrondissement)


def _deadlines_page(db: Database, arrondissement, choices: FilterChoices) -> QWidget:
    from desktop.deadlines_page import DeadlinesPage  # not on the start-up path

    return DeadlinesPage(db, arrondissement, choices)


def _dashboard_page(db: Database, arrondissement: queries.ArrondissementRow | None
                    ) -> QWidget:
    from desktop.dashboard_page import DashboardPage  # matplotlib: not at start-up

    return DashboardPage(db, arrondissement)


def _journal_page(db: Database) -> QWidget:
    from desktop.journal_page import JournalPage  # not on the start-up path

    return JournalPage(db)


NAVIGATION = [(key, label) for key, label, _description in VIEWS]  # desktop/views.py
PAGES = dict(NAVIGATION)
