"""The main window: navigation, list pages, status bar with the database and the
arrondissement."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QSettings, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from db import queries
from db.database import Database, open_database
from db.errors import UserError
from db.services.settings import set_arrondissement
from desktop.filter_boxes import FilterChoices
from desktop.list_pages import NAVIGATION, page_factories
from desktop.page_set import PageSet
from desktop.style import STATUSBAR, STYLESHEET, TOOLBAR

# The editors and their services are imported when first opened: the window must paint
# its list without waiting for them.
if TYPE_CHECKING:
    from desktop.choice_models import ChoiceModels
    from desktop.contract_editor import ContractEditor
    from desktop.operation_editor import OperationEditor


LAST_PAGE_KEY = "fenetre/page"


class MainWindow(QMainWindow):
    def __init__(self, db: Database, view: str | None = None) -> None:
        """*view*: the page to open on (by default the one shown when the agent last
        closed the window)."""
        super().__init__()
        self.setWindowTitle("Suivi des contrats territoriaux")
        self.resize(1400, 860)
        self.db = db
        self.pages: PageSet | dict[str, QWidget] = {}
        self.editors: list = []
        self._choices = None

        self.navigation = QListWidget()
        self.navigation.setAccessibleName("Navigation")
        self.navigation.setObjectName("navigation")
        self.navigation.setIconSize(QSize(0, 0))
        for key, label in NAVIGATION:
            item = QListWidgetItem(label)
            item.setData(Qt.ItemDataRole.UserRole, key)
            self.navigation.addItem(item)
        self.navigation.setFixedWidth(180)
        self.stack = QStackedWidget()
        central = QWidget()
        outer = QVBoxLayout(central)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(0)
        # Says, on a field copy, whose copy it is and how it goes back (db.field).
        self.field_banner = QLabel()
        self.field_banner.setObjectName("fieldBanner")
        self.field_banner.setWordWrap(True)
        self.field_banner.setAccessibleName("Copie de terrain")
        self.field_banner.hide()
        outer.addWidget(self.field_banner)
        from desktop.read_only import make_banner

        self.read_only_banner = make_banner()  # a base consulted read-only says why
        outer.addWidget(self.read_only_banner)
        layout = QHBoxLayout()
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.navigation)
        layout.addWidget(self.stack, 1)
        outer.addLayout(layout, 1)
        central.setStyleSheet(STYLESHEET)
        self.setCentralWidget(central)
        self.statusBar().setStyleSheet(STATUSBAR)
        self.navigation.currentRowChanged.connect(self._navigate)

        self.database_label = QLabel()
        self.arrondissement_label = QLabel()
        self.statusBar().addWidget(self.database_label, 1)
        self.statusBar().addPermanentWidget(self.arrondissement_label)
        self._build_actions()
        self.rebuild_pages(view or QSettings().value(LAST_PAGE_KEY, None))
        from desktop.live_refresh import LiveRefresh

        self.live = LiveRefresh(self)  # what the other agents save shows here

    # --- construction -------------------------------------------------------

    def _action(self, text: str, slot, shortcut: QKeySequence | str | None = None,
                tip: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        return action

    def _build_actions(self) -> None:
        self.open_action = self._action("Ouvrir une &base…", self.choose_database,
                                        "Ctrl+Shift+O",
                                        "Ouvrir un autre fichier de base de données")
        self.quit_action = self._action("&Quitter", self.close, QKeySequence.StandardKey.Quit)
        self.refresh_action = self._action("&Actualiser", self.refresh,
                                           QKeySequence.StandardKey.Refresh,
                                           "Relire les listes depuis la base")
        self.arrondissement_action = self._action(
            "&Arrondissement…", self.choose_arrondissement, None,
            "Changer l'arrondissement suivi par le service")
        self.about_action = self._action("À &propos", self.about)
        self.office_action = self._action("&Identité du service…", self.edit_office, None,
                                          "En-tête des documents imprimés")
        self.templates_action = self._action("&Modèles…", self.edit_templates, None,
                                             "Modèles des arrêtés et des lettres")
        self.search_action = self._action("&Rechercher", self.focus_search,
                                          QKeySequence.StandardKey.Find,
                                          "Placer le curseur dans la recherche de la liste")
        self.new_action = self._action("&Nouveau…", self.new_record, QKeySequence.StandardKey.New,
                                       "Nouveau contrat, opération ou enveloppe (selon la page)")
        self.open_record_action = self._action("Ou&vrir", self.open_current, "Ctrl+O",
                                               "Ouvrir la ligne sélectionnée")
        self.print_action = self._action("&Imprimer…", self.print_current,
                                         QKeySequence.StandardKey.Print,
                                         "État récapitulatif de la liste, annexe financière "
                                         "du contrat ou programmation de l'enveloppe "
                                         "sélectionnés")
        self.import_action = self._action("I&mporter un tableau…", self.import_sheet, "Ctrl+I",
                                          "Importer des opérations depuis un tableur")
        self.undo_import_action = self._action("Annuler le dernier import…",
                                               self.undo_import, None,
                                               "Retirer en une fois les opérations du dernier "
                                               "import")
        # Signed scans filed by their QR code (db.scans, desktop.scans_dialog).
        self.scans_action = self._action("Classer des documents &numérisés…",
                                         self.file_scans, None,
                                         "Joindre les actes signés numérisés à leur ligne "
                                         "de financement d'après leur QR code")
        self.export_action = self._action("E&xporter…", self.export_current, "Ctrl+E",
                                          "Exporter la liste filtrée en xlsx, ods ou csv")
        self.checkout_action = self._action(
            "Emporter une copie de &terrain…", self.take_field_copy, None,
            "Écrire une copie de l'arrondissement, de contrats ou de communes pour un "
            "portable, à rapporter ensuite")
        self.checkin_action = self._action(
            "&Rapporter une copie de terrain…", self.bring_back_field_copy, None,
            "Reprendre dans cette base les modifications faites sur une copie de terrain")
        self.conflicts_action = self._action(
            "&Conflits des copies de terrain…", self.show_field_conflicts, None,
            "Régler ce que le retour des copies n'a pas pu décider seul")
        self.restore_action = self._action(
            "Restaurer une sau&vegarde…", self.open_backups, None,
            "Remettre la base dans l'état d'une de ses sauvegardes")
        self.delete_action = self._action("&Supprimer…", self.delete_current,
                                          QKeySequence.StandardKey.Delete,
                                          "Supprimer le contrat, l'opération ou "
                                          "l'enveloppe sélectionnés")
        menus = self.menuBar()
        file_menu = menus.addMenu("&Fichier")
        file_menu.addAction(self.new_action)
        file_menu.addAction(self.open_record_action)
        file_menu.addAction(self.delete_action)
        file_menu.addAction(self.print_action)
        file_menu.addAction(self.export_action)
        file_menu.addAction(self.import_action)
        file_menu.addAction(self.undo_import_action)
        file_menu.addAction(self.scans_action)
        file_menu.addSeparator()
        file_menu.addAction(self.checkout_action)
        file_menu.addAction(self.checkin_action)
        file_menu.addAction(self.conflicts_action)
        file_menu.addSeparator()
        file_menu.addAction(self.open_action)
        file_menu.addAction(self.restore_action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        view_menu = menus.addMenu("&Affichage")
        for index, (_key, label) in enumerate(NAVIGATION):
            view_menu.addAction(self._action(
                label, lambda _=False, i=index: self.navigation.setCurrentRow(i),
                f"Ctrl+{index + 1}"))
        view_menu.addSeparator()
        view_menu.addAction(self.search_action)
        view_menu.addAction(self.refresh_action)
        settings_menu = menus.addMenu("&Paramètres")
        settings_menu.addAction(self.arrondissement_action)
        settings_menu.addAction(self.office_action)
        settings_menu.addAction(self.templates_action)
        help_menu = menus.addMenu("Aid&e")
        help_menu.addAction(self.about_action)
        toolbar = QToolBar("Actions")
        toolbar.setObjectName("mainToolbar")
        toolbar.setMovable(False)
        toolbar.setStyleSheet(TOOLBAR)
        toolbar.addAction(self.new_action)
        toolbar.addAction(self.open_record_action)
        toolbar.addAction(self.delete_action)
        toolbar.addAction(self.print_action)
        toolbar.addAction(self.export_action)
        toolbar.addSeparator()
        toolbar.addAction(self.search_action)
        toolbar.addAction(self.refresh_action)
        toolbar.addAction(self.arrondissement_action)
        self.addToolBar(toolbar)

    def rebuild_pages(self, view: str | None = None) -> None:
        """(Re)make the pages for the base and its arrondissement; only the page shown
        (*view*, or the one shown before) is built now, the others when first shown."""
        current = self.navigation.currentRow()
        if isinstance(self.pages, PageSet):
            self.pages.clear()
        arrondissement = queries.current_arrondissement(self.db)
        choices = FilterChoices(self.db, arrondissement.code if arrondissement else None, self)
        self.pages = PageSet(self.stack, page_factories(self.db, arrondissement, choices),
                             self._page_built)
        keys = [key for key, _label in NAVIGATION]
        row = keys.index(view) if view in keys else max(current, 0)
        self.navigation.blockSignals(True)
        self.navigation.setCurrentRow(row)
        self.navigation.blockSignals(False)
        page = self.pages.show(keys[row])
        if not page.isVisible():  # a visible page has loaded on its showEvent
            page.reload()
        self._update_status(arrondissement)
        self._update_restore_action()

    def _page_built(self, key: str, page: QWidget) -> None:
        if hasattr(page, "activated"):
            page.activated.connect(lambda row, k=key: self.open_row(k, row))
        if hasattr(page, "open_list"):  # Tableau de bord: a bar opens its list
            page.open_list.connect(self.show_list)
        if key == "organisations":  # « Fusionner avec… » on a right click
            from desktop.organisation_merge import install_merge_action

            install_merge_action(page, self.db, self._after_save)

    def _navigate(self, row: int) -> None:
        if row >= 0:
            self.pages.show(NAVIGATION[row][0])
            QSettings().setValue(LAST_PAGE_KEY, NAVIGATION[row][0])

    def _update_status(self, arrondissement: queries.ArrondissementRow | None) -> None:
        info = self.show_field_status()
        mode = "copie de terrain" if info else self.db.mode_label
        self.database_label.setText(f"Base : {self.db.display()} — {mode}")
        self.arrondissement_label.setText(
            f"Arrondissement : {arrondissement.label}" if arrondissement
            else "Arrondissement : non choisi")

    def show_field_status(self):
        """The banner of a field copy (of which office base, taken when, by whom)."""
        from db.field.status import copy_status
        from desktop.field_dialogs import BANNER_STYLE

        info = copy_status(self.db)
        self.field_banner.setVisible(info is not None)
        self.field_banner.setStyleSheet(BANNER_STYLE)
        self.field_banner.setText(info.banner() if info else "")
        # A copy goes back to its office: it is not itself taken or brought back to.
        self.checkout_action.setEnabled(info is None)
        self.checkin_action.setEnabled(info is None)
        from desktop.read_only import apply

        apply(self)  # after the actions above: a read-only base keeps them disabled
        return info

    # --- user actions -------------------------------------------------------

    def show_view(self, key: str) -> None:
        keys = [k for k, _ in NAVIGATION]
        self.navigation.setCurrentRow(keys.index(key))

    def show_list(self, key: str, filters: dict) -> QWidget:
        """The list *key* showing only the rows *filters* select (Tableau de bord)."""
        self.show_view(key)
        page = self.pages[key]
        page.show_filtered(**filters)
        return page

    def refresh(self) -> None:
        """Reload the page shown; the others reload when next shown."""
        for page in self.pages.built():
            page.mark_stale()
        self.current_page().reload()

    def current_page(self) -> QWidget:
        return self.stack.currentWidget()

    def focus_search(self) -> None:
        self.current_page().focus_search()

    # --- editors ----------------------------------------------------------------------

    def editor_choices(self) -> ChoiceModels:
        if self._choices is None:
            from db.editing import choices
            from desktop.choice_models import ChoiceModels

            self._choices = ChoiceModels(choices(self.db))
        return self._choices

    def open_row(self, page_key: str, row: dict) -> None:
        if page_key == "contracts":
            self.open_contract(row["id"])
        elif page_key == "operations":
            self.open_operation(row["id"])
        elif page_key == "funding_lines":
            self.open_operation(row["operation_id"])
        elif page_key == "organisations":
            self.open_organisation(row["id"])
        elif page_key == "journal":  # the record a change belongs to (desktop.journal_page)
            import uuid

            if row["entity"] in ("envelope", "simulation", "priority_category"):
                return self._open_programming(row["entity"], uuid.UUID(row["id"]))
            opener = {"operation": self.open_operation, "contract": self.open_contract,
                      "organisation": self.open_organisation}[row["entity"]]
            opener(uuid.UUID(row["id"]))
        elif page_key == "deadlines":  # desktop.deadlines_page
            {"operation": self.open_operation, "contract": self.open_contract}[
                row["entity"]](row["id"])

    def _open_programming(self, entity: str, record_id):
        """The Enveloppes page on an envelope, or on its simulations' editor; a priority
        category (edited from a simulation) shows the page."""
        self.show_view("envelopes")
        page = self.current_page()
        if entity == "priority_category":
            return page
        envelope_id = record_id
        if entity == "simulation":
            from db.programming.simulations import envelope_of_simulation

            envelope_id = envelope_of_simulation(self.db, record_id)
        if envelope_id is None or not page.show_envelope(envelope_id):
            return page
        return page.open_simulations(record_id) if entity == "simulation" else page

    def open_organisation(self, organisation_id):
        from desktop.organisation_editor import OrganisationEditor

        for editor in self.editors:
            if isinstance(editor, OrganisationEditor) and editor.record.id == organisation_id:
                editor.raise_()
                return editor
        editor = OrganisationEditor(self.db, organisation_id, self)
        self._show_editor(editor)
        return editor

    def _show_editor(self, editor) -> None:
        self.editors.append(editor)
        if getattr(self.db, "read_only", False):  # consultation: nothing to type in
            editor.set_read_only(self.db.read_only_message())
        editor.saved.connect(self._after_save)
        # Pièces jointes (desktop.attachments_tab): written outside the editor's save.
        if getattr(editor, "attachments", None) is not None:
            editor.attachments.follow(self.live)
        editor.finished.connect(lambda _=0, e=editor: self.editors.remove(e)
                                if e in self.editors else None)
        editor.show()
        editor.raise_()

    def open_operation(self, operation_id=None, contract_id=None) -> OperationEditor | None:
        from desktop.operation_editor import OperationEditor

        for editor in self.editors:
            if isinstance(editor, OperationEditor) and operation_id is not None \
                    and editor.record_id == operation_id:
                editor.raise_()
                return editor
        try:
            editor = OperationEditor(self.db, self.editor_choices(), operation_id, self,
                                     contract_id=contract_id)
        except UserError as error:
            QMessageBox.warning(self, "Opération", error.message)
            return None
        self._show_editor(editor)
        return editor

    def open_contract(self, contract_id=None) -> ContractEditor | None:
        from desktop.contract_editor import ContractEditor

        for editor in self.editors:
            if isinstance(editor, ContractEditor) and contract_id is not None \
                    and editor.record_id == contract_id:
                editor.raise_()
                return editor
        current = queries.current_arrondissement(self.db)
        try:
            editor = ContractEditor(self.db, self.editor_choices(), contract_id, self,
                                    arrondissement=current.code if current else None)
        except UserError as error:
            QMessageBox.warning(self, "Contrat", error.message)
            return None
        editor.new_operation_requested.connect(
            lambda cid: self.open_operation(None, contract_id=cid))
        editor.operation_requested.connect(self.open_operation)
        self._show_editor(editor)
        return editor

    def _after_save(self) -> None:
        """Our own save, import or merge goes the way the other agents' changes come
        (desktop.live_refresh): lists reloaded in place, editors checked, banner read."""
        self.live.announce()

    def new_record(self):
        key = [k for k, _ in NAVIGATION][self.navigation.currentRow()]
        page = self.current_page()
        if hasattr(page, "new_record"):  # a page that makes its own records (Enveloppes)
            return page.new_record()
        if key == "contracts":
            self.open_contract()
        else:
            self.open_operation()

    def open_current(self) -> None:
        page = self.current_page()
        row = page.current_row() if hasattr(page, "current_row") else None
        if row is not None:
            key = [k for k, _ in NAVIGATION][self.navigation.currentRow()]
            self.open_row(key, row)

    def print_current(self):
        """Ctrl+P on a list: the filtered operations as an état récapitulatif; on the
        contracts list, the annexe financière of the selected contract."""
        from db import documents
        from desktop.print_preview import preview

        key = [k for k, _ in NAVIGATION][self.navigation.currentRow()]
        page = self.current_page()
        if key == "deadlines":  # the échéancier shown (desktop.deadlines_page)
            return page.export_pdf()
        if hasattr(page, "print_record"):  # Enveloppes: the commission's document
            return page.print_record()
        if key == "contracts":
            row = page.current_row()
            if row is None:
                QMessageBox.information(self, "Impression",
                                        "Sélectionnez le contrat dont imprimer l'annexe.")
                return None
            return preview(self, f"Annexe financière {row['reference']}",
                           f"annexe-financiere-{row['reference']}.pdf",
                           lambda: documents.annex(self.db, row["reference"]))
        if key not in ("operations", "funding_lines"):
            QMessageBox.information(self, "Impression", "L'état récapitulatif s'imprime depuis "
                                    "les listes des opérations ou des financements.")
            return None
        criteria, described = page.criteria(), page.describe_criteria()
        if key == "funding_lines":  # the lines' status filter is not an operation status
            criteria = criteria.but(status=None)
        return preview(self, "État récapitulatif", "etat-recapitulatif.pdf",
                       lambda: documents.operations_list(self.db, criteria, described))

    def export_current(self) -> Path | None:
        """The list shown, as filtered, sorted and arranged, to a spreadsheet file."""
        from db.spreadsheets.export import export_list
        from desktop.tasks import run_with_progress

        page = self.current_page()
        if hasattr(page, "export") and not hasattr(page, "query"):  # Rapports
            return page.export()
        if hasattr(page, "tabs"):  # Territoire: the tab shown
            page = page.tabs.currentWidget()
        name = page.title.lower().replace(" ", "-")
        path, _ = QFileDialog.getSaveFileName(
            self, "Exporter la liste", f"{name}.xlsx",
            "Classeur Excel (*.xlsx);;Classeur OpenDocument (*.ods);;CSV (*.csv)")
        if not path:
            return None
        target = Path(path)
        if target.suffix.lower() not in (".xlsx", ".ods", ".csv"):
            target = target.with_suffix(".xlsx")
        criteria, keys = page.criteria(), page.visible_columns()
        sort, descending = page.model.sort_key, page.model.descending
        from desktop.long_texts import write_checked

        try:
            count = write_checked(self, lambda policy: run_with_progress(
                self, "Export en cours…", lambda: export_list(
                    self.db, page.query, criteria, target, keys=keys, sort=sort,
                    descending=descending, long_texts=policy)))
        except (UserError, OSError) as error:
            QMessageBox.warning(self, "Export impossible", getattr(error, "message", str(error)))
            return None
        if count is None:  # the agent cancelled: nothing written
            self.statusBar().showMessage("Export annulé : aucun fichier écrit.", 8000)
            return None
        self.statusBar().showMessage(f"{count} ligne(s) exportée(s) dans {target}", 8000)
        return target

    def import_sheet(self):
        from desktop.import_dialog import ImportDialog

        path, _ = QFileDialog.getOpenFileName(
            self, "Importer un tableau de suivi", "",
            "Tableurs (*.xlsx *.ods *.csv);;Tous les fichiers (*)")
        if not path:
            return None
        dialog = ImportDialog(self.db, Path(path), self)
        if not dialog.analyse():
            return None
        dialog.accepted.connect(self._after_save)
        dialog.show()
        return dialog

    def file_scans(self):
        from desktop.scans_dialog import ScansDialog

        dialog = ScansDialog(self.db, self)
        dialog.show()
        return dialog

    def undo_import(self) -> int | None:
        from desktop.import_dialog import undo_last_import

        removed = undo_last_import(self.db, self)
        if removed:
            self._after_save()
            self.statusBar().showMessage(f"Import annulé : {removed} opération(s) retirée(s) "
                                         "ou rétablie(s)", 8000)
        return removed

    def delete_current(self) -> None:
        key = [k for k, _ in NAVIGATION][self.navigation.currentRow()]
        page = self.current_page()
        if hasattr(page, "delete_record"):  # the page asks and deletes (Enveloppes)
            if page.delete_record():
                self._after_save()
            return
        row = page.current_row() if hasattr(page, "current_row") else None
        if row is None or key not in ("contracts", "operations"):
            return
        what = "le contrat" if key == "contracts" else "l'opération"
        answer = QMessageBox.question(self, "Supprimer",
                                      f"Supprimer définitivement {what} « {row['reference']} » ?")
        if answer != QMessageBox.StandardButton.Yes:
            return
        if key == "contracts":
            from db.services.contracts import delete_contract as remove
        else:
            from db.services.operations import delete_operation as remove
        from desktop.writing import run_write

        try:
            run_write(self, "Suppression…", lambda: remove(self.db, row["id"], row["version"]))
        except UserError as error:
            QMessageBox.warning(self, "Suppression refusée", error.message)
            return
        self._after_save()

    # --- field copies (db.field, desktop.field_dialogs) ---------------------------------

    def take_field_copy(self):
        from desktop.field_dialogs import take_copy

        path = take_copy(self, self.db)
        if path is not None:
            self._after_save()  # the records taken now show their mark
        return path

    def bring_back_field_copy(self, path: Path | None = None):
        from desktop.field_dialogs import bring_back

        report = bring_back(self, self.db, path if isinstance(path, Path) else None)
        if report is not None:
            self._after_save()
        return report

    def show_field_conflicts(self) -> None:
        from desktop.field_dialogs import ConflictsDialog

        ConflictsDialog(self.db, self).exec()
        self._after_save()

    # --- backups (db.backups, desktop.backup_dialog) -----------------------------------

    def _update_restore_action(self) -> None:
        from desktop.backup_dialog import POSTGRES_TIP

        self.restore_action.setEnabled(self.db.is_sqlite)
        tip = ("Remettre la base dans l'état d'une de ses sauvegardes" if self.db.is_sqlite
               else POSTGRES_TIP)
        self.restore_action.setToolTip(tip)
        self.restore_action.setStatusTip(tip)
        from desktop.read_only import apply

        apply(self)

    def open_backups(self):
        from desktop.backup_dialog import BackupDialog

        dialog = BackupDialog(self.db, self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.restored.connect(self._after_restore)
        dialog.show()
        return dialog

    def _after_restore(self, result) -> None:
        from desktop.backup_dialog import when

        self._choices = None
        self.rebuild_pages()
        self.statusBar().showMessage(
            f"Sauvegarde du {when(result.restored)} restaurée ; la base d'avant est "
            "sauvegardée (« avant restauration »).", 15000)

    def start_daily_backup(self):
        """The day's backup at its first opening, in a worker thread once the window
        shows: the first paint never waits for it. Returns the job (None on PostgreSQL)."""
        if not self.db.is_sqlite:
            return None
        from PySide6.QtCore import QThreadPool

        from db.backups import daily_if_due
        from desktop.tasks import _Job

        path = self.db.target.path
        job = _Job(lambda: daily_if_due(path))
        job.signals.finished.connect(self._daily_backup_done)
        job.signals.failed.connect(self._daily_backup_failed)
        self._daily_job = job  # its signals must outlive the worker's run
        QThreadPool.globalInstance().start(job)
        return job

    def start_deadline_notice(self):
        """« 3 subventions deviennent caduques dans les 60 jours » in the status bar once
        the window shows, opening the Échéances page (desktop.deadline_notice)."""
        from desktop.deadline_notice import start_notice

        return start_notice(self)

    def _daily_backup_done(self, backup) -> None:
        self.last_daily_backup = backup
        if backup is not None:
            self.statusBar().showMessage("Sauvegarde quotidienne de la base faite.", 8000)

    def _daily_backup_failed(self, error) -> None:
        self.last_daily_backup = error
        message = error.message if isinstance(error, UserError) else repr(error)
        self.statusBar().showMessage(f"Sauvegarde quotidienne impossible : {message}", 30000)

    def choose_arrondissement(self) -> bool:
        current = queries.current_arrondissement(self.db)
        from desktop.arrondissement_dialog import ArrondissementDialog

        dialog = ArrondissementDialog(queries.arrondissements(self.db),
                                      current.code if current else None, self)
        if dialog.exec() != ArrondissementDialog.DialogCode.Accepted:
            return False
        code = dialog.selected_code()
        if code is None:
            QMessageBox.warning(self, "Arrondissement",
                                "Choisissez un arrondissement dans la liste.")
            return False
        return self.apply_arrondissement(code)

    def apply_arrondissement(self, code: str) -> bool:
        from desktop.writing import write_or_tell

        done, _ = write_or_tell(self, "Enregistrement de l'arrondissement…",
                                lambda: set_arrondissement(self.db, code),
                                "Arrondissement non enregistré")
        if not done:
            return False
        arrondissement = queries.current_arrondissement(self.db)
        choices = FilterChoices(self.db, code, self)
        self.pages.replace_factories(page_factories(self.db, arrondissement, choices))
        for page in self.pages.built():
            page.set_arrondissement(arrondissement, choices=choices)
        self._update_status(arrondissement)
        return True

    def edit_office(self) -> bool:
        from db.documents import office
        from db.services.settings import set_settings
        from desktop.office_dialog import OfficeDialog
        from desktop.writing import write_or_tell

        dialog = OfficeDialog(office(self.db), self)
        if dialog.exec() != OfficeDialog.DialogCode.Accepted:
            return False
        values = {key: value for key, value in dialog.values().items() if value}
        done, _ = write_or_tell(self, "Enregistrement du service…",
                                lambda: set_settings(self.db, values),
                                "Service non enregistré")
        return done

    def edit_templates(self) -> None:
        from desktop.templates_dialog import TemplatesDialog

        TemplatesDialog(self.db, self).exec()

    def choose_database(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, "Ouvrir une base", str(self.db.target.path.parent if self.db.is_sqlite
                                         else ""),
            "Bases de données (*.sqlite *.db);;Tous les fichiers (*)")
        if not path:
            return
        try:
            database = open_database(path, create=False)
        except UserError as error:
            QMessageBox.critical(self, "Ouverture impossible", error.message)
            return
        self.live.stop()
        self.db.close()
        self.db = database
        self._choices = None
        self.rebuild_pages()
        self.start_daily_backup()
        self.live.start(database)
        self.setAcceptDrops(True)  # signed scans dropped on the window are filed

    @staticmethod
    def _scans_in(event) -> list[Path]:
        from db.scans import SCAN_SUFFIXES

        return [Path(url.toLocalFile()) for url in event.mimeData().urls()
                if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() in SCAN_SUFFIXES]

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt override)
        if self._scans_in(event):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802 (Qt override)
        paths = self._scans_in(event)
        if not paths:
            return
        event.acceptProposedAction()
        dialog = self.file_scans()
        # Filed once the drop is over: the progress dialog would run inside the drag.
        QTimer.singleShot(0, lambda: dialog.file(paths))

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override)
        self.live.stop()
        super().closeEvent(event)

    def about(self) -> None:
        QMessageBox.about(
            self, "À propos",
            "<b>Suivi des contrats territoriaux</b><br>"
            "Outil des sous-préfectures pour suivre les contrats signés par l'État avec les "
            "collectivités, leurs opérations et leurs financements.<br><br>"
            "Géographie : INSEE, COG 2026 ; DGCL (Licence Ouverte).")
