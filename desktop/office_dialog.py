"""The office identity printed at the top of every document (Paramètres menu)."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QWidget

from db.documents import Office


class OfficeDialog(QDialog):
    def __init__(self, office: Office, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Identité du service")
        intro = QLabel("En-tête des documents imprimés, sous « RÉPUBLIQUE FRANÇAISE », et lieu "
                       "des signatures (« Fait à … »).")
        intro.setWordWrap(True)
        self.prefecture = QLineEdit(office.prefecture)
        self.prefecture.setAccessibleName("Préfecture")
        self.sous_prefecture = QLineEdit(office.sous_prefecture)
        self.sous_prefecture.setAccessibleName("Sous-préfecture")
        self.place = QLineEdit(office.place)
        self.place.setAccessibleName("Lieu de signature")
        form = QFormLayout(self)
        form.addRow(intro)
        form.addRow("&Préfecture", self.prefecture)
        form.addRow("&Sous-préfecture", self.sous_prefecture)
        form.addRow("&Lieu de signature", self.place)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Enregistrer")
        buttons.button(QDialogButtonBox.StandardButton.Cancel).setText("Annuler")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.resize(520, 200)

    def values(self) -> dict[str, str]:
        return {"office.prefecture": self.prefecture.text().strip(),
                "office.sous_prefecture": self.sous_prefecture.text().strip(),
                "office.place": self.place.text().strip()}
