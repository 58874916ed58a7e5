"""The organisation editor (Acteurs): identity and the person the office deals with."""

from __future__ import annotations

import uuid

from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from db.database import Database
from db.editing import organisation_for_edit
from db.services.organisations import OrganisationData, delete_organisation, save_organisation
from db.vocabulary import OrganisationKind
from desktop.combos import combo, select
from desktop.combos import data as chosen
from desktop.editor_base import EditorDialog
from desktop.history_tab import add_history_tab


class OrganisationEditor(EditorDialog):
    what = "l'organisation"
    labels = {"name": "Nom", "acronym": "Sigle", "kind": "Nature", "siren": "SIREN",
              "contact_name": "Contact", "contact_role": "Fonction du contact",
              "phone": "Téléphone", "email": "Courriel", "notes": "Notes"}

    def __init__(self, db: Database, organisation_id: uuid.UUID | None,
                 parent: QWidget | None = None) -> None:
        """*organisation_id* None: a new organisation (refused under the name of an
        existing one, which the message names)."""
        super().__init__(parent)
        self.db = db
        self.setMinimumWidth(620)
        self.name, self.acronym, self.siren = QLineEdit(), QLineEdit(), QLineEdit()
        self.kind = combo([(k.label, k.value) for k in OrganisationKind], "Nature")
        self.contact_name, self.contact_role = QLineEdit(), QLineEdit()
        self.phone, self.email = QLineEdit(), QLineEdit()
        self.notes = QPlainTextEdit()
        self.notes.setAccessibleName("Notes")
        self.notes.setMaximumHeight(90)
        self.contact_name.setPlaceholderText("M. ou Mme Prénom Nom")
        self.phone.setPlaceholderText("03 27 00 00 00")
        self.email.setPlaceholderText("nom@domaine.fr")
        identity = QFormLayout()
        contact = QFormLayout()
        for form, rows in ((identity, (("&Nom", self.name), ("&Sigle", self.acronym),
                                       ("N&ature", self.kind), ("SI&REN", self.siren))),
                           (contact, (("&Personne", self.contact_name),
                                      ("&Fonction", self.contact_role),
                                      ("&Téléphone", self.phone), ("&Courriel", self.email)))):
            for label, widget in rows:
                widget.setAccessibleName(label.replace("&", ""))
                form.addRow(label, widget)
        identity.addRow("Notes", self.notes)
        identity_box, contact_box = QGroupBox("Identité"), QGroupBox("Contact")
        identity_box.setLayout(identity)
        contact_box.setLayout(contact)
        self.save_button = QPushButton("&Enregistrer")
        self.delete_button = QPushButton("&Supprimer")
        self.merge_button = QPushButton("Fusionner a&vec…")
        self.merge_button.setToolTip("Faire une seule organisation de celle-ci et d'une "
                                     "autre enregistrée en double")
        close = QPushButton("Fe&rmer")
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        self.merge_button.clicked.connect(self.merge)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.merge_button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        buttons.addWidget(self.save_button)
        record = QWidget()
        boxes = QVBoxLayout(record)
        boxes.addWidget(identity_box)
        boxes.addWidget(contact_box)
        self.tabs = QTabWidget()
        self.tabs.addTab(record, "&Identité et contact")
        self.history = add_history_tab(self, self.tabs, "organisation", lambda: self.record.id)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addLayout(buttons)
        for field in (self.name, self.acronym, self.siren, self.contact_name,
                      self.contact_role, self.phone, self.email):
            field.textChanged.connect(self.changed)
        self.notes.textChanged.connect(self.changed)
        self.kind.currentIndexChanged.connect(self.changed)
        self.load(organisation_for_edit(db, organisation_id) if organisation_id is not None
                  else OrganisationData(name=""))

    def show_data(self, data: OrganisationData) -> None:
        self.record = data
        for field, value in ((self.name, data.name), (self.acronym, data.acronym),
                             (self.siren, data.siren), (self.contact_name, data.contact_name),
                             (self.contact_role, data.contact_role), (self.phone, data.phone),
                             (self.email, data.email)):
            field.setText(value or "")
            field.setCursorPosition(0)
        self.notes.setPlainText(data.notes or "")
        select(self.kind, OrganisationKind(data.kind).value)
        self.delete_button.setEnabled(data.id is not None)
        self.merge_button.setEnabled(data.id is not None)

    def collect(self) -> OrganisationData:
        record = self.record
        return OrganisationData(
            name=self.name.text().strip(), kind=OrganisationKind(chosen(self.kind)),
            acronym=self.acronym.text().strip() or None, siren=self.siren.text().strip() or None,
            commune_code=record.commune_code, epci_code=record.epci_code,
            departement_code=record.departement_code, region_code=record.region_code,
            aliases=record.aliases, notes=self.notes.toPlainText().strip() or None,
            contact_name=self.contact_name.text().strip() or None,
            contact_role=self.contact_role.text().strip() or None,
            phone=self.phone.text().strip() or None, email=self.email.text().strip() or None,
            id=record.id, version=record.version)

    def reload_from_database(self) -> OrganisationData:
        return organisation_for_edit(self.db, self.record.id)

    def write(self, data: OrganisationData):
        return save_organisation(self.db, data).id

    def written(self, record_id) -> None:
        self.record.id = record_id  # a new one is reloaded from the base from now on

    def rebase(self, mine: OrganisationData, theirs: OrganisationData) -> OrganisationData:
        mine.version = theirs.version
        return mine

    def remove(self) -> None:
        delete_organisation(self.db, self.record.id, self.original.version)

    def merge(self) -> None:
        """Merge with another organisation recorded twice; the editor then closes (the
        organisation shown may be the one removed)."""
        from desktop.organisation_merge import merge_with

        if self.is_dirty():
            QMessageBox.information(self, "Fusion", "Enregistrez ou abandonnez d'abord les "
                                    "modifications de l'organisation.")
            return
        if merge_with(self, self.db, self.record.id) is not None:
            self.saved.emit()
            self.discard_and_close()

    def window_title(self) -> str:
        return f"Organisation — {self.name.text().strip() or 'nouvelle'}"
