"""Starting the GUI: open (or create) the database, first-run choices, main window."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from PySide6.QtCore import QLibraryInfo, QLocale, QTimer, QTranslator
from PySide6.QtWidgets import QApplication, QMessageBox

from db import queries
from db.database import Database, open_database
from db.errors import UserError
from db.locations import default_database_path
from desktop.list_pages import PAGES
from desktop.main_window import MainWindow
from desktop.tasks import run_with_progress


def make_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv or sys.argv[:1])
    app.setApplicationName("Suivi des contrats territoriaux")
    app.setOrganizationName("sous-prefecture")
    QLocale.setDefault(QLocale(QLocale.Language.French, QLocale.Country.France))
    translator = QTranslator(app)
    if translator.load(QLocale(), "qtbase", "_",
                       QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
        app.installTranslator(translator)
    return app


def offer_demo(window: MainWindow) -> None:
    """On a brand-new empty database, offer to load the demonstration data."""
    from db.demo import build_demo

    answer = QMessageBox.question(
        window, "Nouvelle base",
        "La base de données vient d'être créée et elle est vide.\n\n"
        "Voulez-vous charger les données de démonstration (contrats de 2019 en "
        "Hauts-de-France et un exemple fictif de programmation DETR/DSIL) ?")
    if answer != QMessageBox.StandardButton.Yes:
        return
    try:
        run_with_progress(window, "Chargement des données de démonstration…",
                          lambda: build_demo(window.db))
    except UserError as error:
        QMessageBox.critical(window, "Démonstration", error.message)
    window.rebuild_pages()


def first_run(window: MainWindow, created: bool) -> None:
    if created and queries.is_empty(window.db):
        offer_demo(window)
    if queries.current_arrondissement(window.db) is None:
        window.choose_arrondissement()


EDITOR_TABS = {"operation": ["identification", "plan"],
               "contract": ["identification", "axes", "signataires", "operations"]}


def save_screenshot(window: MainWindow, path: Path, view: str) -> int:
    """Views: a list (contracts, operations, funding_lines, organisations, territory) or
    an editor (operation:REF, contract:REF, operation:nouvelle, contract:nouveau), with
    an optional tab after a slash (operation:REF/plan, contract:REF/operations)."""
    key, _, reference = view.partition(":")
    reference, _, tab = reference.partition("/")
    editors = {"operation": window.open_operation, "contract": window.open_contract}
    if key not in PAGES and key not in editors:
        names = ", ".join([*PAGES, "operation:REF", "contract:REF"])
        print(f"Erreur : vue inconnue « {view} » (vues : {names}).", file=sys.stderr)
        return 2
    window.show()
    target = window
    if key in PAGES:
        window.show_view(key)
    else:
        record = None
        if reference and reference not in ("nouvelle", "nouveau"):
            from db.editing import find_by_reference


            record = find_by_reference(window.db, key, reference)
            if record is None:
                print(f"Erreur : aucune fiche « {reference} ».", file=sys.stderr)
                return 2
        target = editors[key](record)
        target.resize(1320, 820)
        tabs = EDITOR_TABS[key]
        if tab:
            if tab not in tabs:
                print(f"Erreur : onglet inconnu « {tab} » (onglets : {', '.join(tabs)}).",
                      file=sys.stderr)
                return 2
            target.tabs.setCurrentIndex(tabs.index(tab))
    page = window.current_page()
    while key in PAGES and getattr(page, "loading", False):  # read in a worker thread
        QApplication.processEvents()
    QApplication.processEvents()
    if not target.grab().save(str(path)):
        print(f"Erreur : impossible d'enregistrer la capture {path}.", file=sys.stderr)
        return 2
    print(f"Capture enregistrée : {path}")
    return 0


def run(db: str | None = None, screenshot: Path | None = None, view: str = "contracts") -> int:
    if screenshot is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    app = make_application()
    target = db or str(default_database_path())
    created = "://" not in target and not Path(target).exists()
    try:
        database: Database = open_database(target)
    except UserError as error:
        if screenshot is not None:
            raise
        QMessageBox.critical(None, "Ouverture impossible", error.message)
        return error.exit_code
    window = MainWindow(database, view=view.partition(":")[0] if screenshot else None)
    if screenshot is not None:
        return save_screenshot(window, screenshot, view)
    window.show()
    QTimer.singleShot(0, lambda: first_run(window, created))
    QTimer.singleShot(0, window.start_daily_backup)
    QTimer.singleShot(0, window.start_deadline_notice)
    code = app.exec()
    window.db.close()
    return code
