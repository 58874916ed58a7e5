"""Choosing the office's arrondissement (first run, then from the Paramètres menu)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from db.queries import ArrondissementRow
from db.text import normalize
from desktop.combos import complete_anywhere


class ArrondissementDialog(QDialog):
    def __init__(self, choices: list[ArrondissementRow], current: str | None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Arrondissement de la sous-préfecture")
        intro = QLabel("Choisissez l'arrondissement suivi par votre service. Les listes "
                       "s'ouvriront sur ce territoire ; vous pourrez le changer ensuite "
                       "(menu Paramètres).")
        intro.setWordWrap(True)
        self.combo = QComboBox()
        self.combo.setEditable(True)
        self.combo.setAccessibleName("Arrondissement")
        self.combo.setToolTip("Tapez une partie du nom ou du code")
        for row in choices:
            self.combo.addItem(row.label, row.code)
        complete_anywhere(self.combo)
        if current:
            self.combo.setCurrentIndex(max(0, self.combo.findData(current)))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Valider")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.combo)
        layout.addWidget(buttons)
        self.resize(480, 160)

    def selected_code(self) -> str | None:
        """The arrondissement typed or picked; a partial text counts if only one matches."""
        text = self.combo.currentText()
        index = self.combo.findText(text)
        if index >= 0:
            return self.combo.itemData(index)
        wanted = normalize(text)
        matches = [i for i in range(self.combo.count())
                   if wanted and wanted in normalize(self.combo.itemText(i))]
        return self.combo.itemData(matches[0]) if len(matches) == 1 else None
