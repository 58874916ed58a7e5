"""Merging two organisations recorded twice ("Ville de Maubeuge" and "Commune de
Maubeuge"): the agent sees both with what they are used for, chooses the one to keep,
and the service moves everything to it in one transaction (db.services.organisations)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QVBoxLayout,
    QWidget,
)

from db.database import Database
from db.errors import UserError
from db.services.organisations import (
    MergePreview,
    MergeResult,
    OrganisationUses,
    merge_organisations,
    merge_preview,
    organisation_names,
)
from desktop.choice_models import NONE, item_model
from desktop.combos import known_choice, searchable_combo
from desktop.writing import run_write


class OrganisationMergeDialog(QDialog):
    """« Fusionner avec… »: *first_id* and an organisation chosen here become one."""

    def __init__(self, db: Database, first_id: uuid.UUID, parent: QWidget | None = None,
                 other_id: uuid.UUID | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.first_id = first_id
        self.preview: MergePreview | None = None
        self.result: MergeResult | None = None
        self.setWindowTitle("Fusionner deux organisations")
        self.setMinimumWidth(720)
        names = organisation_names(db)
        first_name = next((name for org_id, name in names if org_id == first_id), "")
        self.other = searchable_combo(
            item_model([("", NONE)] + [(name, str(org_id)) for org_id, name in names
                                       if org_id != first_id]),
            "Organisation à fusionner avec")
        self.other.setMinimumContentsLength(40)
        choose = QFormLayout()
        choose.addRow("Organisation :", QLabel(f"« {first_name} »"))
        choose.addRow("&Fusionner avec :", self.other)

        self.boxes: list[QGroupBox] = []
        self.details: list[QLabel] = []
        self.keep: list[QRadioButton] = []
        self.keep_group = QButtonGroup(self)  # one choice across the two boxes
        sides = QHBoxLayout()
        for _ in range(2):
            box = QGroupBox()
            detail = QLabel()
            detail.setWordWrap(True)
            detail.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            keep = QRadioButton("Garder celle-ci")
            inner = QVBoxLayout(box)
            inner.addWidget(detail)
            inner.addWidget(keep, 0, Qt.AlignmentFlag.AlignLeft)  # clickable on its words
            sides.addWidget(box)
            self.boxes.append(box)
            self.details.append(detail)
            self.keep.append(keep)
            self.keep_group.addButton(keep)
            keep.toggled.connect(self._explain)
        self.explanation = QLabel()
        self.explanation.setWordWrap(True)
        self.merge_button = QPushButton("F&usionner")
        self.merge_button.setEnabled(False)
        cancel = QPushButton("&Annuler")
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.merge_button)
        layout = QVBoxLayout(self)
        layout.addLayout(choose)
        layout.addLayout(sides)
        layout.addWidget(self.explanation)
        layout.addLayout(buttons)
        self.other.currentIndexChanged.connect(self._chosen)
        self.other.editTextChanged.connect(self._chosen)
        self.merge_button.clicked.connect(self.merge)
        cancel.clicked.connect(self.reject)
        if other_id is not None:
            self.other.setCurrentIndex(self.other.findData(str(other_id)))
        self._chosen()

    def _chosen(self, *_: object) -> None:
        value = known_choice(self.other)
        other_id = uuid.UUID(value) if value else None
        if other_id is None:
            self.preview = None
        elif self.preview is None or self.preview.second.id != other_id:
            try:
                self.preview = merge_preview(self.db, self.first_id, other_id)
            except UserError as error:
                QMessageBox.warning(self, "Fusion", error.message)
                self.preview = None
        self._show()

    def _show(self) -> None:
        preview = self.preview
        for box, keep in zip(self.boxes, self.keep, strict=True):
            box.setVisible(preview is not None)
            keep.setEnabled(preview is not None)
        self.merge_button.setEnabled(preview is not None)
        if preview is None:
            self.explanation.setText("Choisissez l'organisation qui fait double emploi.")
            return
        for side, uses in enumerate((preview.first, preview.second)):
            self.boxes[side].setTitle(uses.name)
            self.details[side].setText(_describe(uses))
            # The box's title names it: a long name would be cut on the button.
            self.keep[side].setText("Garder celle-ci")
            self.keep[side].setToolTip(f"Garder « {uses.name} »")
        # By default, keep the one the base uses most (fewer records move).
        first, second = preview.first, preview.second
        weight = (first.owned + first.financed + first.signed,
                  second.owned + second.financed + second.signed)
        self.keep[1 if weight[1] > weight[0] else 0].setChecked(True)
        self._explain()

    def kept_and_removed(self) -> tuple[OrganisationUses, OrganisationUses] | None:
        if self.preview is None:
            return None
        first, second = self.preview.first, self.preview.second
        return (second, first) if self.keep[1].isChecked() else (first, second)

    def _explain(self, *_: object) -> None:
        pair = self.kept_and_removed()
        if pair is None:
            return
        kept, removed = pair
        text = (f"« {kept.name} » est gardée : elle reprend les opérations, les "
                f"financements et les signatures de « {removed.name} », ses champs vides "
                f"sont complétés, et « {removed.name} » devient un autre nom de "
                f"« {kept.name} » avant d'être supprimée. L'opération est tracée dans "
                "l'historique.")
        shared = self.preview.shared_contracts if self.preview else []
        if shared:
            text += (f"\nLes deux signent {', '.join(shared)} : une seule ligne de "
                     "signataire y sera gardée.")
        self.explanation.setText(text)

    def merge(self) -> None:
        pair = self.kept_and_removed()
        if pair is None:
            return
        kept, removed = pair
        try:
            versions = {kept.id: kept.version, removed.id: removed.version}
            self.result = run_write(self, "Fusion des organisations…", lambda: (
                merge_organisations(self.db, kept.id, removed.id, versions)))
        except UserError as error:
            QMessageBox.warning(self, "Fusion impossible", error.message)
            self.preview = None
            self._chosen()  # what the base holds now
            return
        QMessageBox.information(self, "Fusion faite", self.result.message)
        self.accept()


def _describe(uses: OrganisationUses) -> str:
    lines = [uses.kind.label]
    if uses.acronym:
        lines.append(f"Sigle : {uses.acronym}")
    if uses.aliases:
        lines.append(f"Autres noms : {', '.join(uses.aliases)}")
    described = uses.describe()
    lines.append(described[0].upper() + described[1:])
    return "\n".join(lines)


def merge_with(parent: QWidget, db: Database, organisation_id: uuid.UUID | None,
               after: Callable[[], None] | None = None) -> MergeResult | None:
    """Open the merge dialog for *organisation_id*; *after* runs once merged."""
    if organisation_id is None:
        QMessageBox.information(parent, "Fusion",
                                "Sélectionnez d'abord l'organisation à fusionner.")
        return None
    dialog = OrganisationMergeDialog(db, organisation_id, parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return None
    if after is not None:
        after()
    return dialog.result


def install_merge_action(page: QWidget, db: Database,
                         after: Callable[[], None] | None = None) -> QAction:
    """« Fusionner avec… » in the context menu of the Acteurs list (*page*: a ListPage)."""
    action = QAction("Fusionner avec…", page)
    action.setToolTip("Faire une seule organisation de celle-ci et d'une autre "
                      "enregistrée en double")

    def run() -> None:
        row = page.current_row()
        merge_with(page, db, row["id"] if row else None, after)

    action.triggered.connect(run)
    page.table.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    page.table.addAction(action)
    return action

