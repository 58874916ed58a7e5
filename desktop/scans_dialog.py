"""Fichier › Classer des documents numérisés… : signed scans chosen or dropped here are
read in a worker thread (db.scans), then the dialog lists what was filed where and the
pages it could not read."""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, Qt, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from db.errors import UserError
from db.formatting import short_date
from db.scans.filing import ScanReport, file_scans
from desktop.tasks import ProgressRelay, run_with_progress

FILTER = "Documents numérisés (*.pdf *.png *.jpg *.jpeg *.tif *.tiff);;Tous les fichiers (*)"
ROLE = Qt.ItemDataRole.UserRole


def _pages(pages) -> str:
    return ", ".join(str(p) for p in pages)


def open_file(path: Path) -> None:
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class ScansDialog(QDialog):
    def __init__(self, db, window=None) -> None:
        super().__init__(window)
        self.db = db
        self.window_ = window
        self.report: ScanReport | None = None
        self.setWindowTitle("Classer des documents numérisés")
        self.setAcceptDrops(True)
        self.resize(900, 560)
        layout = QVBoxLayout(self)
        intro = QLabel("Choisissez les actes signés numérisés (PDF ou images) ou déposez-les "
                       "ici : chaque document est reconnu au QR code de ses pages, joint à "
                       "sa ligne de financement et l'acte est marqué signé.")
        intro.setWordWrap(True)
        layout.addWidget(intro)
        row = QHBoxLayout()
        self.choose_button = QPushButton("Choisir des fichiers…")
        self.choose_button.clicked.connect(self.choose)
        row.addWidget(self.choose_button)
        row.addStretch(1)
        row.addWidget(QLabel("Date de signature :"))
        self.date_edit = QDateEdit(QDate.currentDate())
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("dd/MM/yyyy")
        row.addWidget(self.date_edit)
        layout.addLayout(row)
        self.summary = QLabel("Aucun document classé pour l'instant.")
        self.summary.setWordWrap(True)
        layout.addWidget(self.summary)
        layout.addWidget(QLabel("Documents classés (double-clic : ouvrir l'opération)"))
        self.filed = self._tree(["Opération", "Acte", "Fichier", "Pages", "État"])
        self.filed.itemDoubleClicked.connect(self._open_operation)
        layout.addWidget(self.filed, 3)
        layout.addWidget(QLabel("Pages non lues ou non classées"))
        self.unread = self._tree(["Fichier", "Pages", "Motif"])
        self.unread.itemSelectionChanged.connect(self._selection_changed)
        self.unread.itemDoubleClicked.connect(lambda *_: self.open_selected_file())
        layout.addWidget(self.unread, 2)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("Fermer")
        self.open_button = buttons.addButton("Ouvrir le fichier",
                                             QDialogButtonBox.ButtonRole.ActionRole)
        self.open_button.setEnabled(False)
        self.open_button.clicked.connect(self.open_selected_file)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def _tree(self, headers: list[str]) -> QTreeWidget:
        tree = QTreeWidget()
        tree.setHeaderLabels(headers)
        tree.setRootIsDecorated(False)
        tree.setAlternatingRowColors(True)
        tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        return tree

    # --- files in ---------------------------------------------------------------------

    def choose(self) -> ScanReport | None:
        paths, _ = QFileDialog.getOpenFileNames(self, "Documents numérisés à classer", "",
                                                FILTER)
        return self.file([Path(p) for p in paths]) if paths else None

    def dragEnterEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        if any(url.isLocalFile() for url in event.mimeData().urls()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:  # noqa: N802
        paths = [Path(url.toLocalFile()) for url in event.mimeData().urls() if url.isLocalFile()]
        if paths:
            event.acceptProposedAction()
            self.file(paths)

    def signed_on(self) -> date:
        return self.date_edit.date().toPython()

    def file(self, paths: list[Path]) -> ScanReport | None:
        """Read and file *paths* off the GUI thread; show and return the report."""
        cancel = threading.Event()
        relay = ProgressRelay()
        signed_on = self.signed_on()
        try:
            report = run_with_progress(
                self, "Lecture des QR codes et classement…",
                lambda: file_scans(self.db, paths, signed_on=signed_on,
                                   progress=relay.report, cancel=cancel),
                cancel, relay)
        except UserError as error:
            QMessageBox.warning(self, "Classement des documents numérisés", error.message)
            return None
        self.show_report(report)
        if any(not f.already_filed for f in report.filed) and self.window_ is not None:
            self.window_.live.announce()
        return report

    # --- report -----------------------------------------------------------------------

    def show_report(self, report: ScanReport) -> None:
        self.report = report
        for f in report.filed:
            state = ("déjà classé" if f.already_filed
                     else f"signé le {short_date(f.signed_on)}")
            if f.missing:
                state += f" — {f.missing_label}"
            item = QTreeWidgetItem([f.reference, f.act_label, f.file.name, _pages(f.pages),
                                    state])
            item.setData(0, ROLE, f.operation_id)
            item.setToolTip(2, str(f.file))
            self.filed.addTopLevelItem(item)
        rows = [(u.file, str(u.page), "QR code illisible ou absent") for u in report.unread]
        rows += [(u.file, _pages(u.pages), f"{u.kind_label} {u.fingerprint} : {u.reason}")
                 for u in report.unknown]
        rows += [(f.file, "", f.reason) for f in report.failed]
        for path, pages, reason in rows:
            item = QTreeWidgetItem([path.name, pages, reason])
            item.setData(0, ROLE, str(path))
            item.setToolTip(0, str(path))
            self.unread.addTopLevelItem(item)
        for tree in (self.filed, self.unread):
            for column in range(tree.columnCount()):
                tree.resizeColumnToContents(column)
        self.summary.setText(self._summary(report))

    @staticmethod
    def _summary(report: ScanReport) -> str:
        new = sum(1 for f in report.filed if not f.already_filed)
        again = len(report.filed) - new
        problems = len(report.unread) + len(report.unknown) + len(report.failed)
        parts = [f"{report.pages} page{'s' if report.pages > 1 else ''} lue"
                 f"{'s' if report.pages > 1 else ''}",
                 f"{new} acte{'s' if new > 1 else ''} classé{'s' if new > 1 else ''}"]
        if again:
            parts.append(f"{again} déjà classé{'s' if again > 1 else ''}")
        if report.blank:
            parts.append(f"{len(report.blank)} page{'s' if len(report.blank) > 1 else ''} "
                         f"blanche{'s' if len(report.blank) > 1 else ''} ignorée"
                         f"{'s' if len(report.blank) > 1 else ''}")
        if problems:
            parts.append(f"{problems} à vérifier ci-dessous")
        text = ", ".join(parts) + "."
        return text + (" Classement annulé : les actes déjà classés le restent."
                       if report.cancelled else "")

    def _selection_changed(self) -> None:
        self.open_button.setEnabled(bool(self.unread.selectedItems()))

    def open_selected_file(self) -> None:
        items = self.unread.selectedItems()
        if items:
            open_file(Path(items[0].data(0, ROLE)))

    def _open_operation(self, item: QTreeWidgetItem, _column: int = 0) -> None:
        if self.window_ is not None:
            self.window_.open_operation(item.data(0, ROLE))
