"""Field copies in the window: take one (scope, file), bring one back (analysis, merge,
report) and settle the conflicts it left, each shown with its three values."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from db import queries
from db.database import Database
from db.errors import UserError
from db.field import CheckinReport, Scope, checkin, checkout, conflicts, resolve
from db.field.schema import counted
from db.field.status import scope_choices
from desktop.tasks import run_with_progress
from desktop.writing import run_write

BANNER_STYLE = ("background: #fff4ce; color: #4a3b00; border-bottom: 1px solid #e0c860; "
                "padding: 6px 10px;")


class CheckoutDialog(QDialog):
    """*Fichier › Emporter une copie de terrain…*: what goes on the terrain."""

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setWindowTitle("Emporter une copie de terrain")
        self.setMinimumSize(640, 520)
        current = queries.current_arrondissement(db)
        contracts, communes = scope_choices(db, current.code if current else None)
        self.by_arrondissement = QRadioButton("&L'arrondissement entier")
        self.by_contracts = QRadioButton("Des &contrats et leurs opérations")
        self.by_communes = QRadioButton("Les opérations de &communes")
        group = QButtonGroup(self)
        for button in (self.by_arrondissement, self.by_contracts, self.by_communes):
            group.addButton(button)
        self.arrondissement = QComboBox()
        self.arrondissement.setAccessibleName("Arrondissement")
        for row in queries.arrondissements(db):
            self.arrondissement.addItem(row.label, row.code)
        if current is not None:
            self.arrondissement.setCurrentIndex(self.arrondissement.findData(current.code))
        self.contracts = QListWidget()
        self.contracts.setAccessibleName("Contrats à emporter")
        for reference, title in contracts:
            item = QListWidgetItem(f"{reference} — {title}")
            item.setData(Qt.ItemDataRole.UserRole, reference)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.contracts.addItem(item)
        self.communes = QListWidget()
        self.communes.setAccessibleName("Communes à emporter")
        for code, name in communes:
            item = QListWidgetItem(f"{name} ({code})")
            item.setData(Qt.ItemDataRole.UserRole, code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Unchecked)
            self.communes.addItem(item)
        lists = QHBoxLayout()
        for label, widget in (("Contrats", self.contracts), ("Communes", self.communes)):
            column = QVBoxLayout()
            column.addWidget(QLabel(f"<b>{label}</b>"))
            column.addWidget(widget)
            lists.addLayout(column)
        explanation = QLabel(
            "La copie est un fichier à ouvrir sur le portable, sans réseau. Les fiches "
            "emportées restent modifiables au bureau : elles y sont seulement marquées "
            "« sorties sur le terrain ». Au retour, « Fichier › Rapporter une copie de "
            "terrain… » reprend les modifications champ par champ ; ce qui aura changé des "
            "deux côtés vous sera montré pour que vous choisissiez.")
        explanation.setWordWrap(True)
        buttons = QDialogButtonBox()
        self.take_button = buttons.addButton("&Emporter…", QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton("Annuler", QDialogButtonBox.ButtonRole.RejectRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(explanation)
        row = QHBoxLayout()
        row.addWidget(self.by_arrondissement)
        row.addWidget(self.arrondissement, 1)
        layout.addLayout(row)
        layout.addWidget(self.by_contracts)
        layout.addWidget(self.by_communes)
        layout.addLayout(lists, 1)
        # The attachments travel inside the copy: their size is shown before leaving.
        self.attachments_figures = QLabel()
        self.attachments_figures.setAccessibleName("Pièces jointes emportées")
        self.leave_attachments = QCheckBox("Laisser les pièces jointes au &bureau")
        layout.addWidget(self.attachments_figures)
        layout.addWidget(self.leave_attachments)
        layout.addWidget(buttons)
        self.by_arrondissement.setChecked(True)
        self.contracts.itemChanged.connect(lambda _: self.by_contracts.setChecked(True))
        self.communes.itemChanged.connect(lambda _: self.by_communes.setChecked(True))
        group.buttonToggled.connect(lambda *_: self.update_attachments())
        self.contracts.itemChanged.connect(lambda _: self.update_attachments())
        self.communes.itemChanged.connect(lambda _: self.update_attachments())
        self.arrondissement.currentIndexChanged.connect(lambda _: self.update_attachments())
        self.update_attachments()

    def update_attachments(self) -> None:
        from db.attachments.service import size_label
        from db.field.pieces import limit_bytes, scope_figures

        try:
            figures = scope_figures(self.db, self.scope())
        except UserError:  # nothing chosen yet
            self.attachments_figures.setText("Pièces jointes : choisissez le périmètre.")
            return
        limit = limit_bytes(self.db)
        over = figures.size > limit
        text = f"Pièces jointes du périmètre : {figures.label} (limite : {size_label(limit)})."
        if over:
            text += "\nAu-delà de la limite, elles restent au bureau."
        self.attachments_figures.setText(text)
        if over:
            self.leave_attachments.setChecked(True)
        self.leave_attachments.setEnabled(not over and figures.count > 0)

    def with_attachments(self) -> bool:
        return not self.leave_attachments.isChecked()

    def scope(self) -> Scope:
        if self.by_contracts.isChecked():
            return Scope("contrats", tuple(_checked(self.contracts)))
        if self.by_communes.isChecked():
            return Scope("communes", tuple(_checked(self.communes)))
        return Scope("arrondissement", (self.arrondissement.currentData() or "",))


def _checked(widget: QListWidget) -> list[str]:
    return [widget.item(i).data(Qt.ItemDataRole.UserRole) for i in range(widget.count())
            if widget.item(i).checkState() == Qt.CheckState.Checked]


def take_copy(parent: QWidget, db: Database, dialog: CheckoutDialog | None = None,
              path: Path | None = None) -> Path | None:
    dialog = dialog or CheckoutDialog(db, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    scope = dialog.scope()
    with_attachments = dialog.with_attachments()
    if path is None:
        chosen, _ = QFileDialog.getSaveFileName(parent, "Enregistrer la copie de terrain",
                                                "copie-de-terrain.sqlite",
                                                "Copie de terrain (*.sqlite)")
        if not chosen:
            return None
        path = Path(chosen)
    try:
        result = run_with_progress(parent, "Préparation de la copie de terrain…",
                                   lambda: checkout(db, scope, path, overwrite=True,
                                                    attachments=with_attachments))
    except UserError as error:
        QMessageBox.warning(parent, "Copie de terrain", error.message)
        return None
    shown = {k: result.counts[k] for k in ("contract", "operation", "funding_line", "payment")}
    QMessageBox.information(
        parent, "Copie de terrain",
        f"La copie ({result.scope_label} : {counted(shown)} ; "
        + (result.attachments.label if result.attachments is not None
           else "pièces jointes laissées au bureau")
        + f") est enregistrée dans {result.path}.\n\nOuvrez-la sur le portable avec "
        "« Fichier › Ouvrir une base… » ; au retour, rapportez-la ici.")
    return result.path


def _summary(report: CheckinReport) -> str:
    lines = [f"Copie de {report.taken_by} ({report.scope}) :",
             f"• ajouts : {counted(report.created)}",
             f"• modifications : {counted(report.updated)}",
             f"• suppressions : {counted(report.deleted)}"]
    if report.conflicts:
        lines.append(f"• {len(report.conflicts)} conflit(s) : le même champ changé des deux "
                     "côtés, ou une fiche supprimée d'un côté et modifiée de l'autre ; vous "
                     "les réglerez un par un")
    if report.duplicates:
        lines.append(f"• {len(report.duplicates)} doublon(s) probable(s) à vérifier")
    return "\n".join(lines)


def bring_back(parent: QWidget, db: Database, path: Path | None = None) -> CheckinReport | None:
    """Analyse, confirm, merge; then the conflicts, if any."""
    if path is None:
        chosen, _ = QFileDialog.getOpenFileName(parent, "Rapporter une copie de terrain", "",
                                                "Copie de terrain (*.sqlite);;"
                                                "Tous les fichiers (*)")
        if not chosen:
            return None
        path = Path(chosen)
    try:
        preview = run_with_progress(parent, "Analyse de la copie…",
                                    lambda: checkin(db, path, dry_run=True))
    except UserError as error:
        QMessageBox.warning(parent, "Copie refusée", error.message)
        return None
    answer = QMessageBox.question(parent, "Rapporter la copie de terrain",
                                  f"{_summary(preview)}\n\nFusionner maintenant ? (Tout est "
                                  "enregistré en une fois, après une sauvegarde de la base.)")
    if answer != QMessageBox.StandardButton.Yes:
        return None
    try:
        report = run_with_progress(parent, "Fusion de la copie…", lambda: checkin(db, path))
    except UserError as error:
        QMessageBox.warning(parent, "Fusion impossible", error.message)
        return None
    text = _summary(report)
    if report.findings:
        text += "\n\nÀ revoir (règles du plan) :\n" + "\n".join(report.findings[:10])
    QMessageBox.information(parent, "Copie rapportée", text)
    if report.conflicts or report.duplicates:
        ConflictsDialog(db, parent).exec()
    return report


class ConflictsDialog(QDialog):
    """The queue: each conflict with base / terrain / bureau side by side."""

    def __init__(self, db: Database, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.setWindowTitle("Conflits des copies de terrain")
        self.resize(1100, 560)
        self.table = QTableWidget(0, 4)
        self.table.setAccessibleName("Conflits à régler")
        self.table.setHorizontalHeaderLabels(["N°", "Fiche", "Champ", "Copie"])
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.values: dict[str, QLabel] = {}
        sides = QGridLayout()
        for column, (key, title) in enumerate((("base", "Au départ (base)"),
                                                ("terrain", "Sur le terrain"),
                                                ("bureau", "Au bureau"))):
            box = QGroupBox(title)
            label = QLabel()
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            label.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
            label.setAccessibleName(title)
            QVBoxLayout(box).addWidget(label)
            self.values[key] = label
            sides.addWidget(box, 0, column)
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.keep_terrain = QPushButton("Garder le &terrain")
        self.keep_office = QPushButton("Garder le &bureau")
        self.typed = QLineEdit()
        self.typed.setAccessibleName("Autre valeur")
        self.typed.setPlaceholderText("ou tapez une autre valeur…")
        self.keep_typed = QPushButton("Enregistrer cette &valeur")
        self.keep_terrain.clicked.connect(lambda: self.settle("terrain"))
        self.keep_office.clicked.connect(lambda: self.settle("bureau"))
        self.keep_typed.clicked.connect(lambda: self.settle("saisie"))
        actions = QHBoxLayout()
        actions.addWidget(self.keep_terrain)
        actions.addWidget(self.keep_office)
        actions.addWidget(self.typed, 1)
        actions.addWidget(self.keep_typed)
        detail = QWidget()
        right = QVBoxLayout(detail)
        right.addWidget(self.heading)
        right.addLayout(sides, 1)
        right.addLayout(actions)
        splitter = QSplitter()
        splitter.addWidget(self.table)
        splitter.addWidget(detail)
        splitter.setStretchFactor(1, 2)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.button(QDialogButtonBox.StandardButton.Close).setText("&Fermer")
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(splitter, 1)
        layout.addWidget(close)
        self.table.itemSelectionChanged.connect(self._show)
        self.reload()

    def reload(self) -> None:
        self.items = conflicts(self.db)
        self.table.setRowCount(len(self.items))
        for row, item in enumerate(self.items):
            for column, text in enumerate((str(item.number),
                                           f"{item.noun} {item.reference or ''}".strip(),
                                           item.field_label, item.copy)):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                self.table.setItem(row, column, cell)
        self.table.resizeColumnsToContents()
        if self.items:
            self.table.selectRow(0)
        self._show()

    def current(self):
        rows = self.table.selectionModel().selectedRows()
        return self.items[rows[0].row()] if rows and self.items else None

    def _show(self) -> None:
        item = self.current()
        for button in (self.keep_terrain, self.keep_office):
            button.setEnabled(item is not None)
        self.typed.setEnabled(bool(item and item.typable))
        self.keep_typed.setEnabled(bool(item and item.typable))
        if item is None:
            self.heading.setText("Aucun conflit à régler.")
            for label in self.values.values():
                label.clear()
            return
        self.heading.setText(f"<b>Conflit n° {item.number}</b> — {item.noun} "
                             f"{item.reference or ''} : {item.field_label} ({item.kind_label})")
        for key in ("base", "terrain", "bureau"):
            self.values[key].setText(getattr(item, key))
        if item.kind == "doublon":
            self.keep_terrain.setText("Garder les &deux fiches")
            self.keep_office.setText("Supprimer la fiche du &terrain")
        else:
            self.keep_terrain.setText("Garder le &terrain")
            self.keep_office.setText("Garder le &bureau")
        self.typed.clear()

    def settle(self, take: str) -> bool:
        item = self.current()
        if item is None:
            return False
        try:
            typed = self.typed.text() or None
            result = run_write(self, "Règlement du conflit…",
                               lambda: resolve(self.db, item.number, take, typed))
        except UserError as error:
            QMessageBox.warning(self, "Conflit", error.message)
            return False
        if result.findings:
            QMessageBox.warning(self, "Règles du plan", f"{result.message}\n\nÀ revoir :\n"
                                + "\n".join(result.findings))
        self.reload()
        return True
