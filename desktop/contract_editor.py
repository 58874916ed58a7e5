"""The contract editor: identity, dates, perimeter, axes, signatories, amendments,
steering committees, and the contract's operations with totals by axis and financer."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCompleter,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from db import documents, queries
from db.database import Database
from db.editing import contract_for_edit, contract_summary
from db.formatting import euros, long_date
from db.rules import evaluate_contract, proposed_end_date
from db.services.contracts import (
    AmendmentData,
    AxisData,
    ContractData,
    MeetingData,
    SignatoryData,
    contract_rules_input,
    delete_contract,
    save_contract,
)
from db.totals import Total
from db.vocabulary import COMMITTED_CONTRACT_STATUSES, ContractStatus, OperationStatus
from desktop.attachments_tab import add_attachments_tab
from desktop.choice_models import ChoiceModels
from desktop.combos import combo, known_choice, searchable_combo, select
from desktop.combos import data as chosen
from desktop.editor_base import EditorDialog
from desktop.fields import ERROR_STYLE, AmountField, DateField, NotesField
from desktop.history_tab import add_history_tab
from desktop.icons import BLOCKING, OK, SIGN_NAMES, WARNING, finding_item

# The contract's operations: header, width (None: takes what remains).
OPERATION_COLUMNS = [("Axe", 190), ("Référence", 150), ("Intitulé", None), ("Statut", 90),
                     ("Coût", 120), ("Accordé", 120), ("Versé", 115), ("Reste à verser", 120)]


class CodeList(QWidget):
    """A list of communes or EPCI picked from the geography with completion."""

    changed = Signal()

    def __init__(self, items: list[tuple[str, str]], labels_model: Any, noun: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.labels = dict(items)
        self.by_label = {label: code for code, label in items}
        self.list = QListWidget()
        self.list.setAccessibleName(noun.capitalize())
        self.input = QLineEdit()
        self.input.setPlaceholderText(f"Ajouter : tapez le nom puis Entrée ({noun})")
        self.input.setAccessibleName(f"Ajouter au périmètre ({noun})")
        completer = QCompleter(labels_model, self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.input.setCompleter(completer)
        self.input.returnPressed.connect(self._add_typed)
        completer.activated.connect(lambda _: self._add_typed())
        remove = QPushButton("Retirer")
        remove.clicked.connect(self._remove)
        row = QHBoxLayout()
        row.addWidget(self.input, 1)
        row.addWidget(remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list)
        layout.addLayout(row)

    def _add_typed(self) -> None:
        text = self.input.text().strip()
        code = self.by_label.get(text)
        if code is None:
            matches = [c for label, c in self.by_label.items() if text.lower() in label.lower()]
            code = matches[0] if len(matches) == 1 and text else None
        if code is not None:
            self.add(code)
            self.input.clear()
            self.changed.emit()

    def add(self, code: str) -> None:
        if code not in self.codes():
            item = QListWidgetItem(self.labels.get(code, code))
            item.setData(Qt.ItemDataRole.UserRole, code)
            self.list.addItem(item)

    def _remove(self) -> None:
        if self.list.currentRow() >= 0:
            self.list.takeItem(self.list.currentRow())
            self.changed.emit()

    def codes(self) -> list[str]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.list.count())]

    def set_codes(self, codes: list[str]) -> None:
        self.list.clear()
        for code in codes:
            self.add(code)


class ContractEditor(EditorDialog):
    what = "le contrat"
    new_operation_requested = Signal(object)  # contract id
    operation_requested = Signal(object)  # operation id (double click in the list)
    labels = {
        "reference": "Référence", "title": "Intitulé", "type_code": "Type", "status": "Statut",
        "signature_date": "Date de signature", "start_date": "Début", "end_date": "Fin",
        "territory": "Territoire", "envelope_total": "Enveloppe totale",
        "envelope_state": "Part de l'État", "notes": "Notes", "commune_codes": "Communes",
        "epci_codes": "EPCI", "axes": "Axes", "signatories": "Signataires",
        "amendments": "Avenants", "meetings": "Comités de pilotage",
    }

    def __init__(self, db: Database, models: ChoiceModels,
                 contract_id: uuid.UUID | None = None, parent: QWidget | None = None, *,
                 arrondissement: str | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.models = models
        self.choices = choices = models.choices
        self.durations = {code: years for code, _, years in choices.contract_types}
        self.setMinimumSize(1100, 720)
        self._build()
        if contract_id is None:
            # No type chosen for the agent: the first of the list was saved by mistake.
            data = ContractData(reference="", title="", type_code=None,
                                arrondissement_code=arrondissement)
        else:
            data = contract_for_edit(db, contract_id)
        self.load(data)
        self.attachments.reload()

    # --- construction -----------------------------------------------------------------

    def _build(self) -> None:
        self.reference = QLineEdit()
        self.reference.setAccessibleName("Référence")
        self.title = QLineEdit()
        self.title.setAccessibleName("Intitulé")
        self.type = combo([(label, code) for code, label, _ in self.choices.contract_types],
                           "Type de contrat")
        self.type.setPlaceholderText("Choisir un type…")
        self.status = combo([(s.label, s.value) for s in ContractStatus], "Statut")
        self.signature = DateField()
        self.signature.setAccessibleName("Date de signature")
        self.start = DateField()
        self.start.setAccessibleName("Début d'exécution")
        self.end = DateField()
        self.end.setAccessibleName("Fin")
        self.end_hint = QLabel()
        self.territory = QLineEdit()
        self.territory.setAccessibleName("Territoire")
        self.envelope_total = AmountField()
        self.envelope_total.setAccessibleName("Enveloppe totale")
        self.envelope_state = AmountField()
        self.envelope_state.setAccessibleName("Part de l'État")
        self.notes = NotesField(lines=6)
        self.notes.setAccessibleName("Notes")

        identity = QFormLayout()
        identity.addRow("&Référence", self.reference)
        identity.addRow("&Intitulé", self.title)
        identity.addRow("T&ype", self.type)
        identity.addRow("Statu&t", self.status)
        identity.addRow("Date de &signature", self.signature)
        identity.addRow("&Début d'exécution", self.start)
        end_row = QHBoxLayout()
        end_row.addWidget(self.end)
        end_row.addWidget(self.end_hint, 1)
        end_label = QLabel("&Fin")
        end_label.setBuddy(self.end)
        identity.addRow(end_label, end_row)
        identity.addRow("Territoire", self.territory)
        identity.addRow("Enveloppe &totale", self.envelope_total)
        identity.addRow("Part de l'É&tat", self.envelope_state)
        identity.addRow("Notes", self.notes)
        identity_tab = QWidget()
        identity_column = QVBoxLayout(identity_tab)
        identity_column.addLayout(identity)
        identity_column.addStretch(1)  # rows keep their height; the room stays below

        self.communes = CodeList(self.choices.communes, self.models.commune_labels, "communes")
        self.epcis = CodeList(self.choices.epcis, self.models.epci_labels, "EPCI")
        perimeter = QGridLayout()
        commune_box = QGroupBox("Communes du périmètre")
        QVBoxLayout(commune_box).addWidget(self.communes)
        epci_box = QGroupBox("EPCI du périmètre")
        QVBoxLayout(epci_box).addWidget(self.epcis)
        self.axes = QListWidget()
        self.axes.setAccessibleName("Axes du contrat")
        axis_buttons = QVBoxLayout()
        for text, slot in (("Ajouter un axe", self._add_axis), ("Renommer", self._rename_axis),
                           ("Monter", lambda: self._move_axis(-1)),
                           ("Descendre", lambda: self._move_axis(1)),
                           ("Supprimer l'axe", self._remove_axis)):
            button = QPushButton(text)
            button.clicked.connect(slot)
            axis_buttons.addWidget(button)
        axis_buttons.addStretch(1)
        axis_layout = QHBoxLayout()
        axis_layout.addWidget(self.axes, 1)
        axis_layout.addLayout(axis_buttons)
        axis_box = QGroupBox("Axes stratégiques")
        axis_box.setLayout(axis_layout)
        perimeter.addWidget(axis_box, 0, 0, 1, 2)
        perimeter.addWidget(commune_box, 1, 0)
        perimeter.addWidget(epci_box, 1, 1)
        perimeter_tab = QWidget()
        perimeter_tab.setLayout(perimeter)

        self.signatories = self._table(["Organisation", "Qualité", "Date de signature",
                                        "Signataire (nom)", "Téléphone", "Courriel"],
                                       "Signataires", (260, 220, 120, 170, 120, 200))
        self.amendments = self._table(["N°", "Date", "Objet", "Variation de l'enveloppe"],
                                      "Avenants", (60, 150, 470, 170))
        self.meetings = self._table(["Date", "Instance", "Décisions"], "Comités de pilotage",
                                    (150, 200, 500))
        parties = QVBoxLayout()
        for title, table, add in (("Signataires", self.signatories, self._add_signatory),
                                  ("Avenants", self.amendments, self._add_amendment),
                                  ("Comités de pilotage", self.meetings, self._add_meeting)):
            box = QGroupBox(title)
            inner = QVBoxLayout(box)
            inner.addWidget(table)
            row = QHBoxLayout()
            add_button = QPushButton(f"Ajouter ({title.lower()})")
            add_button.clicked.connect(lambda _=False, a=add: (a(None), self.changed()))
            remove_button = QPushButton("Retirer la ligne")
            remove_button.clicked.connect(lambda _=False, t=table: self._remove_row(t))
            row.addWidget(add_button)
            row.addWidget(remove_button)
            row.addStretch(1)
            inner.addLayout(row)
            parties.addWidget(box)
        parties_tab = QWidget()
        parties_tab.setLayout(parties)

        self.operations = QTableWidget(0, len(OPERATION_COLUMNS))
        self.operations.setHorizontalHeaderLabels([c for c, _ in OPERATION_COLUMNS])
        self.operations.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.operations.verticalHeader().setVisible(False)
        self.operations.setAccessibleName("Opérations du contrat")
        self.operations.setWordWrap(False)
        self.operations.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.operations.setToolTip("Double-cliquez une opération pour l'ouvrir")
        self.operations.doubleClicked.connect(self._open_operation)
        # The total row stays in sight under the list, its columns aligned on it (both
        # keep a vertical scroll bar so that they have the same width).
        self.operations_total = QTableWidget(1, len(OPERATION_COLUMNS))
        self.operations_total.setAccessibleName("Total des opérations du contrat")
        self.operations_total.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.operations_total.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.operations_total.horizontalHeader().setVisible(False)
        self.operations_total.verticalHeader().setVisible(False)
        self.operations_total.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        for table in (self.operations, self.operations_total):
            table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOn)
            header = table.horizontalHeader()
            for column, (_, width) in enumerate(OPERATION_COLUMNS):
                if width is None:
                    header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
                else:
                    table.setColumnWidth(column, width)
        row_height = self.operations_total.verticalHeader().defaultSectionSize()
        self.operations_total.setFixedHeight(row_height + 2 * self.operations_total.frameWidth())
        self.operations.horizontalHeader().sectionResized.connect(
            lambda column, _old, width: self.operations_total.setColumnWidth(column, width))
        self.by_axis = QTableWidget(0, 4)
        self.by_axis.setHorizontalHeaderLabels(["Axe", "Opérations", "Coût", "Accordé"])
        self.by_axis.setAccessibleName("Totaux par axe")
        self.by_financer = QTableWidget(0, 3)
        self.by_financer.setHorizontalHeaderLabels(["Financeur", "Accordé", "Versé"])
        self.by_financer.setAccessibleName("Totaux par financeur")
        for table in (self.by_axis, self.by_financer):
            table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
            table.verticalHeader().setVisible(False)
            table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
            table.setWordWrap(True)
        # Amounts read whole: "19 148 865,02 €", the unknown ones counted on a second line.
        for column, width in ((1, 90), (2, 135), (3, 135)):
            self.by_axis.setColumnWidth(column, width)
        for column, width in ((1, 135), (2, 125)):
            self.by_financer.setColumnWidth(column, width)
        self.new_operation_button = QPushButton("Nouvelle opération dans ce contrat")
        self.new_operation_button.clicked.connect(
            lambda: self.new_operation_requested.emit(self.record_id))
        operations = QGridLayout()
        operation_list = QVBoxLayout()
        operation_list.setSpacing(0)
        operation_list.addWidget(self.operations, 1)
        operation_list.addWidget(self.operations_total)
        operations.addLayout(operation_list, 0, 0, 1, 2)
        operations.setRowStretch(0, 3)
        operations.setRowStretch(1, 2)
        operations.addWidget(self.by_axis, 1, 0)
        operations.addWidget(self.by_financer, 1, 1)
        operations.addWidget(self.new_operation_button, 2, 0)
        operations_tab = QWidget()
        operations_tab.setLayout(operations)

        self.tabs = QTabWidget()
        self.tabs.addTab(identity_tab, "&Identification")
        self.tabs.addTab(perimeter_tab, "&Axes et périmètre")
        self.tabs.addTab(parties_tab, "Si&gnataires, avenants, comités")
        self.tabs.addTab(operations_tab, "&Opérations")
        self.history = add_history_tab(self, self.tabs, "contract", lambda: self.record_id)
        self.attachments = add_attachments_tab(  # before the record is loaded
            self, self.tabs, "contract", lambda: getattr(self, "record_id", None))

        self.findings = QListWidget()
        self.findings.setAccessibleName("Contrôles")
        self.findings.setMaximumHeight(80)
        self.save_button = QPushButton("&Enregistrer")
        self.save_button.setToolTip("Enregistrer (Ctrl+S)")
        self.save_button.setAutoDefault(False)
        self.delete_button = QPushButton("&Supprimer")
        self.close_button = QPushButton("&Fermer")
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        self.close_button.clicked.connect(self.reject)
        self.annex_button = QPushButton("&Annexe financière…")
        self.annex_button.setToolTip("Annexe financière de la convention en PDF (Ctrl+P)")
        self.summary_button = QPushButton("Fiche s&ynthèse…")
        self.summary_button.setToolTip("Fiche synthèse d'une page en PDF")
        self.annex_button.clicked.connect(lambda: self.print_document("annexe"))
        self.summary_button.clicked.connect(lambda: self.print_document("synthese"))
        QShortcut(QKeySequence.StandardKey.Print, self,
                  activated=lambda: self.print_document("annexe"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.annex_button)
        buttons.addWidget(self.summary_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.findings)
        layout.addLayout(buttons)

        for widget in (self.reference, self.title, self.territory, self.notes):
            widget.textChanged.connect(self.changed)
        for box in (self.type, self.status):
            box.currentIndexChanged.connect(self.changed)
        for field in (self.signature, self.end, self.envelope_total, self.envelope_state):
            field.changed.connect(self.changed)
        self.start.changed.connect(self._start_changed)
        for field in (self.signature, self.start, self.end, self.envelope_total,
                      self.envelope_state):
            field.refused.connect(self._refused)
        self.communes.changed.connect(self.changed)
        self.epcis.changed.connect(self.changed)

    def _table(self, headers: list[str], name: str, widths: tuple[int, ...]) -> QTableWidget:
        table = QTableWidget(0, len(headers))
        table.setHorizontalHeaderLabels(headers)
        table.setAccessibleName(name)
        table.verticalHeader().setVisible(False)
        table.verticalHeader().setDefaultSectionSize(30)
        for column, width in enumerate(widths):
            table.setColumnWidth(column, width)
        table.horizontalHeader().setStretchLastSection(True)
        return table

    def _remove_row(self, table: QTableWidget) -> None:
        row = table.currentRow() if table.currentRow() >= 0 else table.rowCount() - 1
        if row >= 0:
            table.removeRow(row)
            self.changed()

    # --- axes ---------------------------------------------------------------------------

    def _axis_item(self, axis: AxisData) -> QListWidgetItem:
        item = QListWidgetItem(axis.label)
        item.setData(Qt.ItemDataRole.UserRole, (str(axis.id) if axis.id else "", axis.number))
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
        return item

    def _add_axis(self) -> None:
        label, accepted = QInputDialog.getText(self, "Nouvel axe", "Intitulé de l'axe :")
        if accepted and label.strip():
            self.axes.addItem(self._axis_item(AxisData(label.strip(),
                                                       str(self.axes.count() + 1))))
            self.changed()

    def _rename_axis(self) -> None:
        item = self.axes.currentItem()
        if item is None:
            return
        label, accepted = QInputDialog.getText(self, "Renommer l'axe", "Intitulé de l'axe :",
                                               text=item.text())
        if accepted and label.strip():
            item.setText(label.strip())
            self.changed()

    def _move_axis(self, step: int) -> None:
        row = self.axes.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.axes.count():
            return
        item = self.axes.takeItem(row)
        self.axes.insertItem(target, item)
        self.axes.setCurrentRow(target)
        self.changed()

    def _remove_axis(self) -> None:
        if self.axes.currentRow() >= 0:
            self.axes.takeItem(self.axes.currentRow())
            self.changed()

    def _axes(self) -> list[AxisData]:
        result = []
        for row in range(self.axes.count()):
            item = self.axes.item(row)
            stored, number = item.data(Qt.ItemDataRole.UserRole)
            result.append(AxisData(item.text().strip(), number,
                                   uuid.UUID(stored) if stored else None))
        return result

    # --- signatories, amendments, meetings ------------------------------------------------

    def _add_signatory(self, signatory: SignatoryData | None) -> None:
        signatory = signatory or SignatoryData(organisation_id=None)  # type: ignore[arg-type]
        row = self.signatories.rowCount()
        self.signatories.insertRow(row)
        organisation = searchable_combo(self.models.owners, f"Signataire {row + 1} : organisation")
        select(organisation, str(signatory.organisation_id) if signatory.organisation_id
                else None)
        role = QLineEdit(signatory.role or "")
        role.setAccessibleName(f"Signataire {row + 1} : qualité")
        when = DateField()
        when.setAccessibleName(f"Signataire {row + 1} : date")
        when.setValue(signatory.signing_date)
        organisation.setProperty("record_id", str(signatory.id or ""))
        person = QLineEdit(signatory.person_name or "")
        person.setAccessibleName(f"Signataire {row + 1} : nom de la personne")
        person.setPlaceholderText("M. ou Mme Prénom Nom")
        phone = QLineEdit(signatory.phone or "")
        phone.setAccessibleName(f"Signataire {row + 1} : téléphone")
        email = QLineEdit(signatory.email or "")
        email.setAccessibleName(f"Signataire {row + 1} : courriel")
        for column, widget in enumerate((organisation, role, when, person, phone, email)):
            self.signatories.setCellWidget(row, column, widget)
        for field in (role, person, phone, email):
            field.setCursorPosition(0)  # long roles read from their beginning
        organisation.currentTextChanged.connect(self.changed)
        for field in (role, person, phone, email):
            field.textChanged.connect(self.changed)
        when.changed.connect(self.changed)
        when.refused.connect(self._refused)

    def _add_amendment(self, amendment: AmendmentData | None) -> None:
        row = self.amendments.rowCount()
        amendment = amendment or AmendmentData(number=row + 1, subject="")
        self.amendments.insertRow(row)
        number = QSpinBox()
        number.setRange(1, 999)
        number.setValue(amendment.number)
        number.setProperty("record_id", str(amendment.id or ""))
        when = DateField()
        when.setValue(amendment.amendment_date)
        subject = QLineEdit(amendment.subject)
        subject.setAccessibleName(f"Avenant {row + 1} : objet")
        change = AmountField()
        change.setAccessibleName(f"Avenant {row + 1} : variation de l'enveloppe")
        change.setValue(amendment.envelope_change)
        for column, widget in enumerate((number, when, subject, change)):
            self.amendments.setCellWidget(row, column, widget)
        number.valueChanged.connect(self.changed)
        when.changed.connect(self.changed)
        subject.textChanged.connect(self.changed)
        change.changed.connect(self.changed)
        change.refused.connect(self._refused)

    def _add_meeting(self, meeting: MeetingData | None) -> None:
        meeting = meeting or MeetingData(meeting_date=date.today())
        row = self.meetings.rowCount()
        self.meetings.insertRow(row)
        when = DateField()
        when.setValue(meeting.meeting_date)
        when.line.setProperty("record_id", str(meeting.id or ""))
        kind = QLineEdit(meeting.kind)
        decisions = QLineEdit(meeting.decisions or "")
        decisions.setAccessibleName(f"Comité {row + 1} : décisions")
        for column, widget in enumerate((when, kind, decisions)):
            self.meetings.setCellWidget(row, column, widget)
        when.changed.connect(self.changed)
        kind.textChanged.connect(self.changed)
        decisions.textChanged.connect(self.changed)

    @staticmethod
    def _record_id(widget: QWidget) -> uuid.UUID | None:
        stored = widget.property("record_id")
        return uuid.UUID(stored) if stored else None

    # --- data in and out ----------------------------------------------------------------

    def show_data(self, data: ContractData) -> None:
        self.record_id, self.record_version = data.id, data.version
        self.reference.setText(data.reference)
        self.title.setText(data.title)
        if data.type_code is None:
            self.type.setCurrentIndex(-1)  # the placeholder shows
        else:
            select(self.type, data.type_code)
        select(self.status, ContractStatus(data.status).value)
        self.signature.setValue(data.signature_date)
        self.start.setValue(data.start_date)
        self.end.setValue(data.end_date)
        self.territory.setText(data.territory or "")
        for line_edit in (self.reference, self.title, self.territory):
            line_edit.setCursorPosition(0)  # a long title reads from its beginning
        self.envelope_total.setValue(data.envelope_total)
        self.envelope_state.setValue(data.envelope_state)
        self.notes.setText(data.notes or "")
        self.extra = {"origin": data.origin, "source": data.source,
                      "arrondissement_code": data.arrondissement_code}
        self.communes.set_codes(data.commune_codes)
        self.epcis.set_codes(data.epci_codes)
        self.axes.clear()
        for axis in data.axes:
            self.axes.addItem(self._axis_item(axis))
        for table, rows, add in ((self.signatories, data.signatories, self._add_signatory),
                                 (self.amendments, data.amendments, self._add_amendment),
                                 (self.meetings, data.meetings, self._add_meeting)):
            table.setRowCount(0)
            for row in rows:
                add(row)
        self.delete_button.setEnabled(data.id is not None)
        self.new_operation_button.setEnabled(data.id is not None)
        self._show_operations()

    def _open_operation(self, index: Any) -> None:
        if 0 <= index.row() < len(self.operation_ids):
            self.operation_requested.emit(self.operation_ids[index.row()])

    def _show_operations(self) -> None:
        self.operation_ids: list[uuid.UUID] = []
        if self.record_id is None:
            for table in (self.operations, self.by_axis, self.by_financer):
                table.setRowCount(0)
            self._show_total(None)
            return
        summary = contract_summary(self.db, self.record_id)
        rows = queries.contract_operations(self.db, self.record_id)
        self.operation_ids = [row.id for row in rows]

        def shown(value: object) -> str:
            if isinstance(value, str):
                return value
            if isinstance(value, Total):
                if value.missing and not value.value:
                    return "non communiqué"
                return euros(value.value) + (f"\n+ {value.missing} n. c."
                                             if value.missing else "")
            if isinstance(value, int):
                return str(value)
            return euros(value)

        def fill(table: QTableWidget, rows: list[tuple]) -> None:
            table.setRowCount(len(rows))
            for r, values in enumerate(rows):
                for c, value in enumerate(values):
                    item = QTableWidgetItem(shown(value))
                    if not isinstance(value, str):
                        item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                              | Qt.AlignmentFlag.AlignVCenter)
                    table.setItem(r, c, item)

        fill(self.operations, [(row.axis, row.reference, row.title,
                                OperationStatus(row.status).label, row.cost, row.granted,
                                row.paid, row.remaining) for row in rows])
        for r, row in enumerate(rows):
            for c, text in ((0, row.axis), (2, row.title)):
                self.operations.item(r, c).setToolTip(text)
        fill(self.by_axis, summary.by_axis)
        fill(self.by_financer, summary.by_financer)
        for table in (self.by_axis, self.by_financer):
            table.resizeRowsToContents()  # a few rows: cheap, and two-line totals show
        self._show_total(queries.contract_operations_total(rows))

    def _show_total(self, totals: queries.ContractOperations | None) -> None:
        """The total row: exact sums; an unknown amount is never taken for 0, the
        total says how many it lacks (on a second line, as printed documents do)."""
        table = self.operations_total
        count = len(totals.rows) if totals else 0
        sums = {} if totals is None else {
            4: (totals.cost, "coûts"), 5: (totals.granted, "montants accordés"),
            6: (totals.paid, "montants versés"), 7: (totals.remaining, "restes à verser")}
        bold = self.font()
        bold.setBold(True)
        two_lines = False
        for column in range(table.columnCount()):
            item = QTableWidgetItem(f"Total ({count} opération{'s' if count > 1 else ''})"
                                    if column == 0 else "")
            if column in sums:
                value, noun = sums[column]
                if value.missing and value.missing == count:
                    item.setText("non communiqué")
                else:
                    item.setText(euros(value.value) + (f"\n+ {value.missing} n. c."
                                                       if value.missing else ""))
                    two_lines = two_lines or bool(value.missing)
                if value.missing:
                    item.setToolTip(f"{value.missing} {noun} non communiqués, non comptés "
                                    "dans ce total")
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight
                                      | Qt.AlignmentFlag.AlignVCenter)
            item.setFont(bold)
            table.setItem(0, column, item)
        height = table.fontMetrics().lineSpacing() * (2 if two_lines else 1) + 12
        table.setRowHeight(0, height)
        table.setFixedHeight(height + 2 * table.frameWidth())

    def collect(self) -> ContractData:
        signatories = []
        for row in range(self.signatories.rowCount()):
            cell = self.signatories.cellWidget
            organisation = known_choice(cell(row, 0))
            if organisation:
                signatories.append(SignatoryData(
                    uuid.UUID(organisation), cell(row, 1).text().strip() or None,
                    cell(row, 2).value(), self._record_id(cell(row, 0)),
                    person_name=cell(row, 3).text().strip() or None,
                    phone=cell(row, 4).text().strip() or None,
                    email=cell(row, 5).text().strip() or None))
        amendments = [AmendmentData(
            self.amendments.cellWidget(r, 0).value(),
            self.amendments.cellWidget(r, 2).text().strip(),
            self.amendments.cellWidget(r, 1).value(), self.amendments.cellWidget(r, 3).value(),
            self._record_id(self.amendments.cellWidget(r, 0)))
            for r in range(self.amendments.rowCount())]
        meetings = [MeetingData(
            self.meetings.cellWidget(r, 0).value(), self.meetings.cellWidget(r, 1).text(),
            self.meetings.cellWidget(r, 2).text().strip() or None,
            self._record_id(self.meetings.cellWidget(r, 0).line))
            for r in range(self.meetings.rowCount())]
        return ContractData(
            id=self.record_id, version=self.record_version,
            reference=self.reference.text().strip(), title=self.title.text().strip(),
            type_code=chosen(self.type), status=ContractStatus(chosen(self.status)),
            signature_date=self.signature.value(), start_date=self.start.value(),
            end_date=self.end.value(), territory=self.territory.text().strip() or None,
            envelope_total=self.envelope_total.value(),
            envelope_state=self.envelope_state.value(),
            notes=self.notes.text().strip() or None, origin=self.extra["origin"],
            source=self.extra["source"],
            arrondissement_code=self.extra["arrondissement_code"],
            commune_codes=self.communes.codes(), epci_codes=self.epcis.codes(),
            axes=self._axes(), signatories=signatories, amendments=amendments,
            meetings=meetings)

    def reload_from_database(self) -> ContractData:
        return contract_for_edit(self.db, self.record_id)

    def write(self, data: ContractData):
        return save_contract(self.db, data).id

    def written(self, record_id) -> None:
        self.record_id = record_id

    def rebase(self, mine: ContractData, theirs: ContractData) -> ContractData:
        mine.version = theirs.version
        for mine_items, their_items in ((mine.axes, theirs.axes),
                                        (mine.signatories, theirs.signatories),
                                        (mine.amendments, theirs.amendments),
                                        (mine.meetings, theirs.meetings)):
            kept = {item.id for item in their_items}
            for item in mine_items:
                if item.id not in kept:
                    item.id = None
        return mine

    def remove(self) -> None:
        delete_contract(self.db, self.record_id, self.original.version)

    def print_document(self, kind: str) -> None:
        reference = self.original.reference if self.original else ""
        if kind == "annexe":
            amendment = self._annex_for()
            if amendment is False:
                return
            suffix = f"-avenant-{amendment}" if amendment else ""
            self.print_saved(f"Annexe financière {reference}",
                             f"annexe-financiere-{reference}{suffix}.pdf",
                             lambda: documents.annex(self.db, reference, amendment))
        else:
            self.print_saved(f"Fiche synthèse {reference}", f"fiche-synthese-{reference}.pdf",
                             lambda: documents.summary(self.db, reference))

    def _annex_for(self) -> int | None | bool:
        """Which document the annex goes with: the convention to be signed (signature
        dates left blank) or one of its avenants (dated by it); False: cancelled."""
        amendments = self.original.amendments if self.original else []
        if not amendments:
            return None
        choices = ["La convention (dates de signature laissées en blanc)"] + [
            f"L'avenant n° {a.number}" + (f" du {long_date(a.amendment_date)}"
                                            if a.amendment_date else " (non daté)")
            for a in amendments]
        choice, accepted = QInputDialog.getItem(
            self, "Annexe financière", "Annexe financière à joindre à :", choices, 0, False)
        if not accepted:
            return False
        index = choices.index(choice)
        return None if index == 0 else amendments[index - 1].number

    def window_title(self) -> str:
        return f"Contrat — {self.reference.text().strip() or 'nouveau contrat'}"

    # --- derived ------------------------------------------------------------------------

    def _start_changed(self) -> None:
        """The end is proposed from the type's usual duration (the agent may change it)."""
        proposed = proposed_end_date(self.start.value(), self.durations.get(chosen(self.type)))
        if proposed and self.end.value() is None:
            self.end.setValue(proposed)
        self.changed()

    def _refused(self, message: str) -> None:
        self.findings.insertItem(0, finding_item(BLOCKING, f"Saisie refusée — {message}",
                                                 "#ce0500"))

    def refresh_derived(self) -> None:
        data = self.collect()
        findings = evaluate_contract(contract_rules_input(data))
        committed = data.status in COMMITTED_CONTRACT_STATUSES
        self.findings.clear()
        for finding in findings:
            sign = BLOCKING if finding.blocks(committed) else WARNING
            item = finding_item(sign, finding.message,
                                "#ce0500" if finding.is_error else "#b34000")
            item.setToolTip(f"{SIGN_NAMES[sign].capitalize()} : {finding.message}\n"
                            f"Règle : {finding.article}")
            self.findings.addItem(item)
        if not findings:
            self.findings.addItem(finding_item(OK, "Aucune anomalie.", "#18753c"))
        fields = {"end_date": self.end.line, "start_date": self.start.line,
                  "signature_date": self.signature.line, "envelope_state": self.envelope_state}
        flagged = {finding.field for finding in findings}
        for key, widget in fields.items():
            widget.setStyleSheet(ERROR_STYLE if key in flagged else "")
        years = self.durations.get(data.type_code)
        self.end_hint.setText(f"durée habituelle : {years} ans" if years else "")

