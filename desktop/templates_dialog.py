"""*Paramètres › Modèles…*: the act templates of the office (db.acts.library), exported
to be edited in LibreOffice or Word and taken back, checked; the list of the fields a
template may use. A refused template is explained in the dialog itself (the fields and
their paragraphs stay visible while the agent corrects the file)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db.acts import library
from db.database import Database
from db.errors import UserError
from db.history.values import moment_text
from db.vocabulary import ActKind
from desktop.writing import run_write

COLUMNS = ("Acte", "Dispositif", "Origine", "Fichier", "Modifié le", "Par")
DOCX_FILTER = "Documents Word (*.docx);;Tous les fichiers (*)"


class FieldsDialog(QDialog):
    """The catalogue of fields (name, description), filtered as the agent types."""

    def __init__(self, parent: QWidget | None = None) -> None:
        from db.acts.fields import CATALOGUE

        super().__init__(parent)
        self.setWindowTitle("Champs des modèles d'actes")
        intro = QLabel("Un champ s'écrit entre doubles accolades dans le document : "
                       "{{ montant_en_lettres }}. Un champ absent de cette liste fait "
                       "refuser le modèle.")
        intro.setWordWrap(True)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Rechercher un champ (nom ou description)…")
        self.search.setAccessibleName("Rechercher un champ")
        self.table = QTableWidget(len(CATALOGUE), 2)
        self.table.setHorizontalHeaderLabels(["Champ", "Contenu"])
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setWordWrap(True)
        for row, field in enumerate(CATALOGUE):
            self.table.setItem(row, 0, QTableWidgetItem(field.name))
            self.table.setItem(row, 1, QTableWidgetItem(field.description))
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.resizeRowsToContents()
        self.search.textChanged.connect(self.filter)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.button(QDialogButtonBox.StandardButton.Close).setText("Fermer")
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.search)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        self.resize(760, 560)

    def filter(self, text: str) -> None:
        words = text.lower().split()
        for row in range(self.table.rowCount()):
            haystack = " ".join(self.table.item(row, c).text() for c in (0, 1)).lower()
            self.table.setRowHidden(row, not all(w in haystack for w in words))

    def visible_fields(self) -> list[str]:
        return [self.table.item(r, 0).text() for r in range(self.table.rowCount())
                if not self.table.isRowHidden(r)]


class NewTemplateDialog(QDialog):
    """Which act, for which scheme, the office's new template is for."""

    def __init__(self, schemes: dict[str, str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Nouveau modèle pour un dispositif")
        self.kind = QComboBox()
        self.kind.setAccessibleName("Acte")
        for kind in ActKind:
            self.kind.addItem(kind.label, kind.value)
        self.scheme = QComboBox()
        self.scheme.setAccessibleName("Dispositif")
        self.scheme.addItem(library.ALL_SCHEMES, None)
        for code, label in schemes.items():
            self.scheme.addItem(label, code)
        intro = QLabel("Choisissez l'acte et le dispositif, puis le document Word (.docx) "
                       "à reprendre. Pour partir du modèle actuel, exportez-le d'abord.")
        intro.setWordWrap(True)
        form = QFormLayout(self)
        form.addRow(intro)
        form.addRow("&Acte", self.kind)
        form.addRow("&Dispositif", self.scheme)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Choisir le document…")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def choice(self) -> tuple[ActKind, str | None]:
        return ActKind(self.kind.currentData()), self.scheme.currentData()


class TemplatesDialog(QDialog):
    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.rows: list[library.TemplateRow] = []
        self.setWindowTitle("Modèles d'actes")
        intro = QLabel("Les arrêtés et les lettres s'écrivent à partir de ces modèles. "
                       "Un modèle du bureau est enregistré dans la base : tous les agents "
                       "de la base l'emploient, et il part avec les copies de terrain.")
        intro.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAccessibleName("Modèles d'actes")
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._enable)
        self.export_button = QPushButton("&Exporter pour modifier…")
        self.import_button = QPushButton("&Reprendre un modèle modifié…")
        self.reset_button = QPushButton("Revenir au modèle &livré")
        self.fields_button = QPushButton("Liste des &champs")
        self.new_button = QPushButton("&Nouveau modèle pour un dispositif…")
        self.export_button.clicked.connect(self.export_selected)
        self.import_button.clicked.connect(self.import_selected)
        self.reset_button.clicked.connect(self.reset_selected)
        self.fields_button.clicked.connect(self.show_fields)
        self.new_button.clicked.connect(self.new_template)
        buttons = QHBoxLayout()
        for button in (self.export_button, self.import_button, self.reset_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.fields_button)
        buttons.addWidget(self.new_button)
        self.message = QPlainTextEdit()
        self.message.setReadOnly(True)
        self.message.setAccessibleName("Résultat")
        self.message.setMaximumHeight(130)
        self.message.hide()
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.button(QDialogButtonBox.StandardButton.Close).setText("Fermer")
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addWidget(close)
        self.resize(980, 460)
        self.reload()

    # --- The table ----------------------------------------------------------------

    def reload(self, keep: tuple[ActKind, str | None] | None = None) -> None:
        self.rows = library.templates(self.db)
        self.table.setRowCount(len(self.rows))
        for index, row in enumerate(self.rows):
            when = moment_text(row.modified_at) if row.office and row.modified_at else ""
            values = (row.kind_label, row.scheme_label, row.origin, row.file_name, when,
                      row.modified_by or "")
            for column, value in enumerate(values):
                item = QTableWidgetItem(value)
                if column == 2 and row.office:
                    font = item.font()
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(index, column, item)
        target = next((i for i, r in enumerate(self.rows)
                       if keep and (r.kind, r.scheme_code) == keep), 0 if self.rows else None)
        if target is not None:
            self.table.selectRow(target)
        self._enable()

    def selected(self) -> library.TemplateRow | None:
        indexes = self.table.selectionModel().selectedRows()
        return self.rows[indexes[0].row()] if indexes else None

    def _enable(self) -> None:
        row = self.selected()
        for button in (self.export_button, self.import_button):
            button.setEnabled(row is not None)
        self.reset_button.setEnabled(row is not None and row.office)

    def say(self, text: str, error: bool = False) -> None:
        self.message.setPlainText(text)
        self.message.setStyleSheet("color: #a61b1b;" if error else "color: #1d5e20;")
        self.message.show()

    # --- File choices (replaced in the tests) ----------------------------------------

    def ask_save_path(self, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, "Exporter le modèle", suggested,
                                              DOCX_FILTER)
        return path

    def ask_open_path(self) -> str:
        path, _ = QFileDialog.getOpenFileName(self, "Reprendre un modèle modifié", "",
                                              DOCX_FILTER)
        return path

    # --- Actions ------------------------------------------------------------------

    def export_selected(self) -> Path | None:
        row = self.selected()
        if row is None:
            return None
        suggested = row.file_name if row.office else (
            f"{row.kind.value}" + (f"_{row.scheme_code.lower()}" if row.scheme_code else "")
            + ".docx")
        chosen = self.ask_save_path(str(Path.home() / suggested))
        if not chosen:
            return None
        if not chosen.lower().endswith(".docx"):
            chosen += ".docx"
        try:
            path = library.export_template(self.db, row.kind, row.scheme_code, chosen)
        except UserError as error:
            self.say(error.message, error=True)
            return None
        self.say(f"Modèle « {row.kind_label} — {row.scheme_label} » exporté dans {path}. "
                 "Modifiez-le dans LibreOffice ou Word, enregistrez-le au format .docx, "
                 "puis « Reprendre un modèle modifié… ».")
        return path

    def import_selected(self) -> bool:
        row = self.selected()
        if row is None:
            return False
        return self._take(row.kind, row.scheme_code)

    def _take(self, kind: ActKind, scheme_code: str | None) -> bool:
        chosen = self.ask_open_path()
        if not chosen:
            return False
        scheme = (library.ALL_SCHEMES.lower() if scheme_code is None
                  else library.scheme_labels(self.db).get(scheme_code, scheme_code))
        try:
            run_write(self, "Enregistrement du modèle…",
                      lambda: library.import_template(self.db, kind, scheme_code, chosen))
        except UserError as error:
            self.say(f"{error.message}\n\nRien n'a été enregistré : corrigez le document "
                     "puis reprenez-le.", error=True)
            return False
        self.reload(keep=(kind, scheme_code))
        self.say(f"Modèle du bureau enregistré pour « {kind.label} — {scheme} » : les "
                 "prochains actes l'emploient.")
        return True

    def reset_selected(self) -> bool:
        row = self.selected()
        if row is None or not row.office:
            return False
        try:
            run_write(self, "Retour au modèle livré…",
                      lambda: library.reset_template(self.db, row.kind, row.scheme_code))
        except UserError as error:
            self.say(error.message, error=True)
            return False
        self.reload(keep=(row.kind, row.scheme_code))
        self.say(f"« {row.kind_label} — {row.scheme_label} » : retour au modèle livré.")
        return True

    def show_fields(self) -> FieldsDialog:
        dialog = FieldsDialog(self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.show()
        self.fields_dialog = dialog
        return dialog

    def new_template(self) -> bool:
        dialog = NewTemplateDialog(library.scheme_labels(self.db), self)
        if self.exec_choice(dialog) != QDialog.DialogCode.Accepted:
            return False
        kind, scheme_code = dialog.choice()
        return self._take(kind, scheme_code)

    def exec_choice(self, dialog: NewTemplateDialog) -> int:
        return dialog.exec()
