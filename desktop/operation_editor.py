"""The operation editor: identity, owner, communes, contracts, costs and dates, the
financing plan with the rules checked as the agent types, and the payments."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
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
    QMessageBox,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from db import documents
from db.database import Database
from db.editing import operation_for_edit
from db.formatting import euros, percent, short_date
from db.queries import next_operation_reference
from db.rules import Severity, deadlines, evaluate_operation, ratio
from db.rules.payments import propose_payment
from db.services.operations import (
    FundingLineData,
    LinkData,
    OperationData,
    PaymentData,
    delete_operation,
    plan_input,
    save_operation,
)
from db.services.organisations import OrganisationData
from db.vocabulary import (
    COMMITTED_OPERATION_STATUSES,
    BaseKind,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
    OwnShareException,
    PaymentKind,
)
from desktop.attachments_tab import add_attachments_tab
from desktop.choice_models import NONE, ChoiceModels
from desktop.combos import combo, known_choice, searchable_combo, select
from desktop.combos import data as chosen
from desktop.editor_base import EditorDialog
from desktop.expense_tab import ExpenseTab
from desktop.fields import (
    ERROR_STYLE,
    WARNING_STYLE,
    AmountField,
    DateField,
    ElidedComboBox,
    ElidedLineEdit,
    NotesField,
    elide_on_the_right,
)
from desktop.history_tab import add_history_tab
from desktop.icons import BLOCKING, ERROR, OK, SIGN_NAMES, WARNING, finding_item

# The plan table holds what an agent compares from line to line; the decision of the
# selected line (reference, dates, commission, notes) is in the panel under it, beside
# its payments: twelve columns did not fit a 1366-pixel screen without scrolling.
LINE_COLUMNS = ["Financeur", "Dispositif", "Sollicité", "Accordé", "Statut", "Taux",
                "Exercice"]
LINE_TIPS = ["Organisation qui finance la ligne (nom complet en infobulle)",
             "Dispositif ou programme de crédits", "Montant sollicité",
             "Montant accordé par la décision", "Statut de la demande",
             "Taux de la ligne : sur la dépense subventionnable HT pour les dotations de "
             "l'État (DETR, DSIL, DPV, DSID), sur le coût de la base du plan sinon",
             "Exercice budgétaire de l'engagement"]
# Fixed widths; the financer takes what remains (it is the longest text).
LINE_WIDTHS = [None, 168, 132, 132, 96, 72, 64]
FINANCER, SCHEME, REQUESTED, GRANTED, STATUS, RATE, YEAR = range(len(LINE_COLUMNS))
# The selected line's decision: FundingLineData field, label, tooltip.
DECISION_FIELDS = [
    ("decision_reference", "Référence de la décision",
     "Arrêté ou délibération qui attribue la subvention"),
    ("decision_date", "Date de la décision", "Date de l'arrêté ou de la délibération"),
    ("notification_date", "Notifiée le", "Date de notification de la décision : le délai de "
     "caducité d'une subvention de l'État court à partir d'elle"),
    ("planned_completion_date", "Achèvement prévu", "Date d'achèvement fixée par la décision "
     "attributive : le délai d'achèvement d'une subvention du décret n° 2018-514 (Fonds "
     "vert, FNADT…)"),
    ("commission_opinion_date", "Avis de la commission DETR",
     "Date de l'avis de la commission des élus (DETR au-delà de 100 000 €, CGCT "
     "art. L2334-37)"),
    ("notes", "Notes de la ligne", "Notes sur ce financement (plusieurs lignes possibles)"),
]
DECISION_KEYS = [key for key, _, _ in DECISION_FIELDS]
PAYMENT_COLUMNS = ["Nature", "Date", "Montant", "Référence"]
DATE_TIPS = {
    "deposit_date": "Date de réception de la demande de subvention : l'exécution ne peut "
                    "commencer avant (CGCT art. R2334-24, décret n° 2018-514 art. 5)",
    "early_start_date": "Notification par laquelle le préfet admet que l'exécution commencée "
                        "avant la demande n'entraîne pas le rejet de la dotation "
                        "(CGCT art. R2334-24, II)",
    "start_date": "Premier acte juridique passé pour l'opération (marché, devis accepté, "
                  "ordre de service) ; les études et acquisitions de terrains préalables "
                  "n'en sont pas",
    "end_date": "Achèvement déclaré de l'opération",
}


class OperationEditor(EditorDialog):
    what = "l'opération"
    labels = {
        "reference": "Référence", "title": "Intitulé", "owner_id": "Maître d'ouvrage",
        "status": "Statut", "cost_ht": "Coût HT", "cost_ttc": "Coût TTC",
        "base_kind": "Base financée", "eligible_cost": "Dépense subventionnable",
        "deposit_date": "Date de dépôt", "decision_date": "Date de décision",
        "early_start_date": "Autorisation de commencement anticipé",
        "expense_items": "Postes de dépense",
        "notification_date": "Date de notification", "start_date": "Début des travaux",
        "end_date": "Fin des travaux", "commune_codes": "Communes", "links": "Contrats",
        "funding_lines": "Plan de financement", "notes": "Notes",
        "own_share_exception": "Dérogation", "own_share_exception_ref": "Référence",
    }

    def __init__(self, db: Database, models: ChoiceModels,
                 operation_id: uuid.UUID | None = None,
                 parent: QWidget | None = None, *, today: date | None = None,
                 contract_id: uuid.UUID | None = None) -> None:
        super().__init__(parent)
        self.db = db
        self.models = models
        self.choices = models.choices
        self.today = today or date.today()
        self.line_state: list[dict] = []  # per plan row: id and payments
        self.commune_labels = dict(self.choices.communes)
        # Laptops of the field have 1366 × 768 screens: the editor fits them whole.
        self.setMinimumSize(1000, 600)
        self.resize(1340, 720)
        self._build()
        if operation_id is None:
            # The next free reference of the office's series, which the agent may change.
            data = OperationData(reference=next_operation_reference(db, self.today.year),
                                 title="", status=OperationStatus.PROJECT,
                                 links=[LinkData(contract_id)] if contract_id else [])
        else:
            data = operation_for_edit(db, operation_id)
            self._show_field_mark(operation_id)
        self.load(data)
        self.attachments.reload()

    def _show_field_mark(self, operation_id: uuid.UUID) -> None:
        from db.field.status import checked_out

        marks = checked_out(self.db, "operation", operation_id)
        self.field_mark.setVisible(bool(marks))
        self.field_mark.setText(
            "Cette opération est " + " ; ".join(m.mark() for m in marks) + " : vous pouvez la "
            "modifier, ce qui aura changé des deux côtés vous sera montré à son retour."
            if marks else "")

    # --- construction ---------------------------------------------------------------

    def _build(self) -> None:
        self.reference = QLineEdit()
        self.reference.setAccessibleName("Référence")
        self.reference.setToolTip("Référence de l'opération, unique ; pour une nouvelle "
                                  "opération, la suivante de la série est proposée")
        self.title = QLineEdit()
        self.title.setAccessibleName("Intitulé")
        self.status = combo([(s.label, s.value) for s in OperationStatus], "Statut")
        self.owner = searchable_combo(self.models.owners, "Maître d'ouvrage")
        self.owner.setToolTip("Maître d'ouvrage : choisissez une organisation ou tapez un nom "
                              "nouveau (elle sera créée à l'enregistrement)")
        top = QGridLayout()
        top.addWidget(QLabel("&Référence"), 0, 0)
        top.addWidget(self.reference, 0, 1)
        top.addWidget(QLabel("Statu&t"), 0, 2)
        top.addWidget(self.status, 0, 3)
        top.addWidget(QLabel("&Intitulé"), 1, 0)
        top.addWidget(self.title, 1, 1, 1, 3)
        top.addWidget(QLabel("&Maître d'ouvrage"), 2, 0)
        top.addWidget(self.owner, 2, 1, 1, 3)
        for row, widget in enumerate((self.reference, self.title, self.owner)):
            label = top.itemAtPosition(row, 0).widget()
            label.setBuddy(widget)
        top.itemAtPosition(0, 2).widget().setBuddy(self.status)
        top.setColumnStretch(1, 1)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._identity_tab(), "&Identification et dates")
        self.expenses = ExpenseTab()
        self.expenses.changed.connect(self.changed)
        self.expenses.refused.connect(self._refused)
        self.tabs.addTab(self.expenses, "&Dépenses")
        self.tabs.addTab(self._plan_tab(), "&Plan de financement et versements")
        # Acts and letters of the operation's State subsidies (issue 13).
        from desktop.acts_tab import add_acts_tab

        self.acts = add_acts_tab(self, self.tabs, lambda: self.record_id)
        self.history = add_history_tab(self, self.tabs, "operation", lambda: self.record_id)
        self.attachments = add_attachments_tab(  # before the record is loaded
            self, self.tabs, "operation", lambda: getattr(self, "record_id", None))

        self.findings = QListWidget()
        self.findings.setAccessibleName("Contrôles des règles")
        self.findings.setWordWrap(True)
        self.deadline_label = QLabel()
        self.deadline_label.setWordWrap(True)
        self.deadline_label.setAccessibleName("Échéances")
        side = QVBoxLayout()
        side.addWidget(QLabel("<b>Contrôles</b>"))
        side.addWidget(self.findings, 1)
        side.addWidget(QLabel("<b>Échéances</b>"))
        side.addWidget(self.deadline_label)
        side_widget = QWidget()
        side_widget.setLayout(side)

        splitter = QSplitter()
        splitter.addWidget(self.tabs)
        splitter.addWidget(side_widget)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        side_widget.setMinimumWidth(300)

        self.save_button = QPushButton("&Enregistrer")
        self.save_button.setToolTip("Enregistrer (Ctrl+S)")
        self.delete_button = QPushButton("&Supprimer")
        self.close_button = QPushButton("&Fermer")
        self.close_button.setToolTip("Fermer (Échap) ; propose d'enregistrer si besoin")
        self.print_button = QPushButton("Im&primer le plan…")
        self.print_button.setToolTip("Plan de financement en PDF (Ctrl+P)")
        self.print_button.clicked.connect(self.print_plan)
        QShortcut(QKeySequence.StandardKey.Print, self, activated=self.print_plan)
        self.save_button.clicked.connect(self.save)
        self.delete_button.clicked.connect(self.delete)
        self.close_button.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.delete_button)
        buttons.addWidget(self.print_button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        buttons.addWidget(self.save_button)
        self.save_button.setDefault(False)
        self.save_button.setAutoDefault(False)

        # "Sortie sur le terrain par X le …": a mark, not a lock (db.field).
        self.field_mark = QLabel()
        self.field_mark.setAccessibleName("Copie de terrain")
        self.field_mark.setWordWrap(True)
        self.field_mark.setStyleSheet("color: #6b5000;")
        self.field_mark.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.field_mark)
        layout.addWidget(splitter, 1)
        layout.addLayout(buttons)

        for widget in (self.reference, self.title):
            widget.textChanged.connect(self.changed)
        self.status.currentIndexChanged.connect(self.changed)
        self.owner.currentTextChanged.connect(self.changed)

    def _identity_tab(self) -> QWidget:
        tab = QWidget()
        self.cost_ht = AmountField()
        self.cost_ht.setAccessibleName("Coût HT")
        self.cost_ttc = AmountField()
        self.cost_ttc.setAccessibleName("Coût TTC")
        self.eligible = AmountField()
        self.eligible.setAccessibleName("Dépense subventionnable HT")
        self.base_kind = combo([("HT", "HT"), ("TTC", "TTC")], "Base financée par le plan")
        costs = QFormLayout()
        costs.addRow("Coût &HT", self.cost_ht)
        costs.addRow("Coût &TTC", self.cost_ttc)
        costs.addRow("&Base du plan", self.base_kind)
        costs.addRow("Dépense &subventionnable HT", self.eligible)
        cost_box = QGroupBox("Coûts")
        cost_box.setLayout(costs)

        self.dates = {}
        date_form = QFormLayout()
        for key, label in (("deposit_date", "Dépôt (réception de la demande)"),
                           # the whole wording is the field's tooltip (DATE_TIPS)
                           ("early_start_date", "Commencement anticipé autorisé le"),
                           ("decision_date", "Décision / arrêté"),
                           ("notification_date", "Notification"),
                           ("start_date", "Commencement d'exécution"),
                           ("end_date", "Fin des travaux")):
            field = DateField()
            field.setAccessibleName(label)
            field.setToolTip(DATE_TIPS.get(key, label))
            self.dates[key] = field
            date_form.addRow(label, field)
        self.start_extension = QSpinBox()
        self.start_extension.setRange(0, 24)
        self.start_extension.setSuffix(" mois")
        self.start_extension.setAccessibleName("Prorogation du délai de commencement")
        self.completion_extension = QSpinBox()
        self.completion_extension.setRange(0, 48)
        self.completion_extension.setSuffix(" mois")
        self.completion_extension.setAccessibleName("Prorogation du délai d'achèvement")
        date_form.addRow("Prorogation commencement", self.start_extension)
        date_form.addRow("Prorogation achèvement", self.completion_extension)
        date_box = QGroupBox("Dates clés")
        date_box.setLayout(date_form)

        self.chef_de_file = QCheckBox("Chef de file (participation minimale de 30 %)")
        self.exception = combo([("Aucune dérogation", NONE)]
                                + [(e.label, e.value) for e in OwnShareException],
                                "Dérogation à la participation minimale")
        self.exception_ref = QLineEdit()
        self.exception_ref.setAccessibleName("Référence de la dérogation")
        self.exception_ref.setPlaceholderText("Décision ou fondement cité")
        legal = QFormLayout()
        legal.addRow(self.chef_de_file)
        legal.addRow("Dérogation (L1111-10)", self.exception)
        legal.addRow("Référence de la dérogation", self.exception_ref)
        legal_box = QGroupBox("Participation du maître d'ouvrage")
        legal_box.setLayout(legal)

        self.communes = QListWidget()
        self.communes.setAccessibleName("Communes de l'opération")
        self.communes.setMaximumHeight(90)
        self.commune_input = QLineEdit()
        self.commune_input.setPlaceholderText("Ajouter une commune : tapez son nom puis Entrée")
        self.commune_input.setAccessibleName("Ajouter une commune")
        completer = QCompleter(self.models.commune_labels, self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.commune_input.setCompleter(completer)
        self.commune_input.returnPressed.connect(self._add_commune)
        completer.activated.connect(lambda _: self._add_commune())
        remove_commune = QPushButton("Retirer")
        remove_commune.setToolTip("Retirer la commune sélectionnée")
        remove_commune.clicked.connect(self._remove_commune)
        commune_row = QHBoxLayout()
        commune_row.addWidget(self.commune_input, 1)
        commune_row.addWidget(remove_commune)
        communes = QVBoxLayout()
        communes.addWidget(self.communes)
        communes.addLayout(commune_row)
        commune_box = QGroupBox("Communes")
        commune_box.setLayout(communes)

        self.links = QTableWidget(0, 2)
        self.links.setHorizontalHeaderLabels(["Contrat", "Axe"])
        self.links.setAccessibleName("Contrats de rattachement")
        self.links.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.links.verticalHeader().setVisible(False)
        self.links.setMaximumHeight(110)
        add_link = QPushButton("Ajouter un contrat")
        remove_link = QPushButton("Retirer le contrat")
        add_link.clicked.connect(lambda: (self._add_link(LinkData(None)), self.changed()))
        remove_link.clicked.connect(self._remove_link)
        link_buttons = QHBoxLayout()
        link_buttons.addWidget(add_link)
        link_buttons.addWidget(remove_link)
        link_buttons.addStretch(1)
        links = QVBoxLayout()
        links.addWidget(self.links)
        links.addLayout(link_buttons)
        link_box = QGroupBox("Contrats et axes")
        link_box.setLayout(links)

        self.notes = NotesField()
        self.notes.setAccessibleName("Notes")

        grid = QGridLayout(tab)
        grid.addWidget(cost_box, 0, 0)
        grid.addWidget(date_box, 0, 1, 2, 1)
        grid.addWidget(legal_box, 1, 0)
        grid.addWidget(commune_box, 2, 0)
        grid.addWidget(link_box, 2, 1)
        notes = QFormLayout()
        notes.addRow("Notes", self.notes)
        grid.addLayout(notes, 3, 0, 1, 2)

        for field in (self.cost_ht, self.cost_ttc, self.eligible, *self.dates.values()):
            field.changed.connect(self.changed)
            field.refused.connect(self._refused)
        self.base_kind.currentIndexChanged.connect(self.changed)
        self.exception.currentIndexChanged.connect(self.changed)
        self.exception_ref.textChanged.connect(self.changed)
        self.chef_de_file.toggled.connect(self.changed)
        self.notes.textChanged.connect(self.changed)
        self.start_extension.valueChanged.connect(self.changed)
        self.completion_extension.valueChanged.connect(self.changed)
        return tab

    def _plan_tab(self) -> QWidget:
        tab = QWidget()
        self.lines = QTableWidget(0, len(LINE_COLUMNS))
        self.lines.setHorizontalHeaderLabels(LINE_COLUMNS)
        for column, tip in enumerate(LINE_TIPS):
            self.lines.horizontalHeaderItem(column).setToolTip(tip)
        self.lines.setAccessibleName("Plan de financement")
        self.lines.verticalHeader().setVisible(False)
        self.lines.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.lines.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.lines.setObjectName("plan")
        header = self.lines.horizontalHeader()
        for column, width in enumerate(LINE_WIDTHS):
            if width is None:
                header.setSectionResizeMode(column, QHeaderView.ResizeMode.Stretch)
            else:
                self.lines.setColumnWidth(column, width)
        header.setMinimumSectionSize(60)
        self.lines.verticalHeader().setDefaultSectionSize(30)
        self.add_line_button = QPushButton("Ajouter un &financement")
        self.remove_line_button = QPushButton("Retirer le financement")
        self.add_line_button.clicked.connect(self._new_line)
        self.remove_line_button.clicked.connect(self._remove_line)
        self.plan_summary = QLabel()
        self.plan_summary.setAccessibleName("Équilibre du plan")
        self.plan_summary.setWordWrap(True)
        line_buttons = QHBoxLayout()
        line_buttons.addWidget(self.add_line_button)
        line_buttons.addWidget(self.remove_line_button)
        line_buttons.addStretch(1)

        self.decision_box = QGroupBox("Décision")
        decision_form = QFormLayout(self.decision_box)
        decision_form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
        decision_form.setLabelAlignment(Qt.AlignmentFlag.AlignLeft
                                        | Qt.AlignmentFlag.AlignVCenter)
        self.decision: dict[str, Any] = {}
        for key, label, tip in DECISION_FIELDS:
            if key == "decision_reference":
                field = ElidedLineEdit()
                field.textChanged.connect(self._store_decision)
            elif key == "notes":
                field = NotesField(lines=2)
                field.textChanged.connect(self._store_decision)
            else:
                field = DateField()
                field.changed.connect(self._store_decision)
                field.refused.connect(self._refused)
            field.setAccessibleName(label)
            field.setToolTip(tip)
            self.decision[key] = field
            decision_form.addRow(label, field)

        self.payments = QTableWidget(0, len(PAYMENT_COLUMNS))
        self.payments.setHorizontalHeaderLabels(PAYMENT_COLUMNS)
        self.payments.setAccessibleName("Versements du financement sélectionné")
        self.payments.verticalHeader().setVisible(False)
        self.payments.verticalHeader().setDefaultSectionSize(30)
        for column, width in enumerate((100, 128, 128)):
            self.payments.setColumnWidth(column, width)
        self.payments.horizontalHeader().setStretchLastSection(True)
        self.add_payment_button = QPushButton("Ajouter un &versement")
        self.add_payment_button.setToolTip(
            "Propose le versement suivant permis par les règles : avance au commencement, "
            "acomptes jusqu'au plafond, puis le solde (accordé − versé)")
        self.remove_payment_button = QPushButton("Retirer le versement")
        self.add_payment_button.clicked.connect(self._new_payment)
        self.remove_payment_button.clicked.connect(self._remove_payment)
        self.payment_summary = QLabel()
        self.payment_summary.setAccessibleName("Reste à verser")
        self.payment_summary.setWordWrap(True)
        payment_buttons = QHBoxLayout()
        payment_buttons.addWidget(self.add_payment_button)
        payment_buttons.addWidget(self.remove_payment_button)
        payment_buttons.addStretch(1)
        self.payment_box = QGroupBox("Versements")
        payments = QVBoxLayout(self.payment_box)
        payments.addWidget(self.payments, 1)
        payments.addLayout(payment_buttons)
        payments.addWidget(self.payment_summary)

        selected = QHBoxLayout()
        selected.addWidget(self.decision_box, 2)
        selected.addWidget(self.payment_box, 3)

        layout = QVBoxLayout(tab)
        layout.addWidget(self.lines, 1)
        layout.addLayout(line_buttons)
        layout.addWidget(self.plan_summary)
        layout.addLayout(selected)
        self._shown_line = -1  # the plan row whose decision and payments are shown
        self._findings: list = []
        self.lines.currentCellChanged.connect(self._line_selected)
        return tab

    # --- communes and contracts -------------------------------------------------------

    def _add_commune(self, code: str | None = None) -> None:
        if code is None:
            text = self.commune_input.text().strip()
            code = next((c for c, label in self.choices.communes if label == text), None)
            if code is None:
                matches = [c for c, label in self.choices.communes
                           if text and text.lower() in label.lower()]
                code = matches[0] if len(matches) == 1 else None
            if code is None:
                self._refused(f"Commune : « {text} » n'est pas une commune connue du COG ; "
                              "choisissez-la dans la liste proposée.")
                return
            self.commune_input.clear()
        if code in self._commune_codes():
            return
        item = QListWidgetItem(self.commune_labels.get(code, code))
        item.setData(Qt.ItemDataRole.UserRole, code)
        self.communes.addItem(item)
        self.changed()

    def _remove_commune(self) -> None:
        row = self.communes.currentRow()
        if row >= 0:
            self.communes.takeItem(row)
            self.changed()

    def _commune_codes(self) -> list[str]:
        return [self.communes.item(i).data(Qt.ItemDataRole.UserRole)
                for i in range(self.communes.count())]

    def _add_link(self, link: LinkData) -> None:
        row = self.links.rowCount()
        self.links.insertRow(row)
        contract = searchable_combo(self.models.contracts, "Contrat")
        axis = combo([("Sans axe", NONE)], "Axe du contrat")
        select(contract, str(link.contract_id) if link.contract_id else None)
        contract.lineEdit().setCursorPosition(0)
        self._fill_axes(axis, link.contract_id, link.axis_id)
        contract.currentIndexChanged.connect(
            lambda _: (self._fill_axes(axis, self._uuid(chosen(contract)), None), self.changed()))
        axis.currentIndexChanged.connect(self.changed)
        self.links.setCellWidget(row, 0, contract)
        self.links.setCellWidget(row, 1, axis)

    def _fill_axes(self, box: QComboBox, contract_id: uuid.UUID | None,
                   axis_id: uuid.UUID | None) -> None:
        box.blockSignals(True)
        box.clear()
        box.addItem("Sans axe", NONE)
        for aid, label in self.choices.axes.get(contract_id, []):
            box.addItem(label, str(aid))
        select(box, str(axis_id) if axis_id else None)
        box.blockSignals(False)

    def _remove_link(self) -> None:
        row = self.links.currentRow()
        if row < 0 and self.links.rowCount():
            row = self.links.rowCount() - 1
        if row >= 0:
            self.links.removeRow(row)
            self.changed()

    @staticmethod
    def _uuid(value: Any) -> uuid.UUID | None:
        return uuid.UUID(value) if value else None

    # --- plan lines and payments -----------------------------------------------------

    def _new_line(self) -> None:
        self._add_line(FundingLineData(financer_id=None, budget_year=self.today.year))
        self.lines.setCurrentCell(self.lines.rowCount() - 1, 0)
        self.lines.cellWidget(self.lines.rowCount() - 1, 0).setFocus()
        self.changed()

    def _add_line(self, line: FundingLineData) -> None:
        row = self.lines.rowCount()
        self.lines.insertRow(row)
        self.line_state.append({"id": line.id, "payments": list(line.payments),
                                "decision": {key: getattr(line, key) for key in DECISION_KEYS}})
        financer = searchable_combo(self.models.financers, f"Ligne {row + 1} : financeur")
        elide_on_the_right(financer)
        select(financer, str(line.financer_id) if line.financer_id else None)
        scheme = ElidedComboBox()
        scheme.setAccessibleName(f"Ligne {row + 1} : dispositif")
        for label, code in [("—", NONE)] + [(name, code) for code, name, _
                                            in self.choices.schemes]:
            scheme.addItem(label, code)
        for index, (_code, _name, label) in enumerate(self.choices.schemes, start=1):
            scheme.setItemData(index, label, Qt.ItemDataRole.ToolTipRole)
        select(scheme, line.scheme_code)
        requested, granted = AmountField(), AmountField()
        requested.setAccessibleName(f"Ligne {row + 1} : montant sollicité")
        granted.setAccessibleName(f"Ligne {row + 1} : montant accordé")
        requested.setValue(line.amount_requested)
        granted.setValue(line.amount_granted)
        status = combo([(s.label, s.value) for s in FundingStatus],
                        f"Ligne {row + 1} : statut")
        select(status, FundingStatus(line.status).value)
        rate = QLabel()
        rate.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        year = QLineEdit(str(line.budget_year) if line.budget_year else "")
        year.setAccessibleName(f"Ligne {row + 1} : exercice")
        year.setToolTip("Exercice budgétaire de l'engagement")
        year.setInputMask("0000;_")
        for column, widget in enumerate((financer, scheme, requested, granted, status, rate,
                                         year)):
            self.lines.setCellWidget(row, column, widget)
        for field in (requested, granted):
            field.changed.connect(self.changed)
            field.refused.connect(self._refused)
        for box in (scheme, status):
            box.currentIndexChanged.connect(self.changed)
        self._show_full_text(financer)
        self._show_full_text(scheme)
        financer.currentTextChanged.connect(lambda _=None, box=financer: (
            self._show_full_text(box), self.changed()))
        scheme.currentIndexChanged.connect(lambda _=None, box=scheme: self._show_full_text(box))
        year.textChanged.connect(self.changed)

    @staticmethod
    def _show_full_text(box: QComboBox) -> None:
        """A long name reads from its beginning (cut on the right), whole in the tooltip:
        an editable combo box otherwise scrolls to the end of what it shows."""
        editor = box.lineEdit()
        if editor is not None and not editor.hasFocus():
            editor.setCursorPosition(0)
        index = box.currentIndex()
        full = box.itemData(index, Qt.ItemDataRole.ToolTipRole) if index >= 0 else None
        text = full or box.currentText()
        box.setToolTip(f"{box.accessibleName()} : {text}" if text.strip("— ") else
                       box.accessibleName())

    def _remove_line(self) -> None:
        row = self.lines.currentRow()
        if row < 0:
            return
        if self.line_state[row]["payments"]:
            QMessageBox.warning(self, "Financement", "Ce financement a des versements : "
                                "retirez-les d'abord.")
            return
        self._shown_line = -1  # what the panels show belongs to the row going away
        self.lines.removeRow(row)
        del self.line_state[row]
        self._line_selected()
        self.changed()

    def _line(self, row: int) -> FundingLineData:
        cell = self.lines.cellWidget
        year_text = cell(row, YEAR).text().strip().rstrip("_")
        decision = self.line_state[row]["decision"]
        return FundingLineData(
            financer_id=self._uuid(known_choice(cell(row, FINANCER))),
            scheme_code=chosen(cell(row, SCHEME)), amount_requested=cell(row, REQUESTED).value(),
            amount_granted=cell(row, GRANTED).value(),
            status=FundingStatus(chosen(cell(row, STATUS))),
            budget_year=int(year_text) if year_text.isdigit() else None,
            payments=list(self.line_state[row]["payments"]), id=self.line_state[row]["id"],
            **decision)

    def _line_label(self, row: int) -> str:
        scheme = self.lines.cellWidget(row, SCHEME).currentText()
        return f"ligne {row + 1}" + (f" ({scheme})" if scheme.strip("— ") else "")

    def _line_selected(self, *_: Any) -> None:
        """Another plan row is current: what was being typed for the previous one goes to
        it, then the panels show the new row's decision and payments."""
        if self._rebuilding:
            return
        self._flush_panels()
        self._show_decision()
        self._show_payments()
        self._highlight(self._findings)

    _rebuilding = False  # the plan table is emptied and filled again (a reload)

    def _flush_panels(self) -> None:
        """Fields commit on focus out, which may come after the row changed: commit
        them now, into the row they were shown for."""
        if not 0 <= self._shown_line < len(self.line_state):
            return
        for key in DECISION_KEYS:
            field = self.decision[key]
            if isinstance(field, DateField):
                field.commit()
        for row in range(self.payments.rowCount()):
            for column in (1, 2):
                self.payments.cellWidget(row, column).commit()

    def _show_decision(self) -> None:
        row = self.lines.currentRow()
        valid = 0 <= row < len(self.line_state)
        self._loading_decision = True
        try:
            for key in DECISION_KEYS:
                field = self.decision[key]
                value = self.line_state[row]["decision"][key] if valid else None
                if isinstance(field, DateField):
                    field.setValue(value)
                else:
                    field.setText(value or "")
                    if isinstance(field, QLineEdit):
                        field.setCursorPosition(0)
        finally:
            self._loading_decision = False
        self.decision_box.setEnabled(valid)
        self.decision_box.setTitle(f"Décision — {self._line_label(row)}" if valid
                                   else "Décision")

    _loading_decision = False

    def _store_decision(self, *_: Any) -> None:
        if self._loading_decision or not 0 <= self._shown_line < len(self.line_state):
            return
        decision = self.line_state[self._shown_line]["decision"]
        for key in DECISION_KEYS:
            field = self.decision[key]
            if isinstance(field, DateField):
                decision[key] = field.value()
            else:
                decision[key] = field.text().strip() or None
        self.changed()

    def _show_payments(self) -> None:
        row = self.lines.currentRow()
        self._loading_payments = True
        self.payments.setRowCount(0)
        enabled = 0 <= row < len(self.line_state)
        self._shown_line = row if enabled else -1
        self.payment_box.setEnabled(enabled)
        self.payment_box.setTitle(f"Versements — {self._line_label(row)}" if enabled
                                  else "Versements")
        if enabled:
            for payment in self.line_state[row]["payments"]:
                self._add_payment_row(payment)
        self._loading_payments = False
        self._update_payment_summary()

    def _add_payment_row(self, payment: PaymentData) -> None:
        row = self.payments.rowCount()
        self.payments.insertRow(row)
        kind = combo([(k.label, k.value) for k in PaymentKind], f"Versement {row + 1} : nature")
        select(kind, PaymentKind(payment.kind).value)
        when = DateField()
        when.setAccessibleName(f"Versement {row + 1} : date")
        when.setValue(payment.payment_date)
        amount = AmountField()
        amount.setAccessibleName(f"Versement {row + 1} : montant")
        amount.setValue(payment.amount)
        reference = QLineEdit(payment.reference or "")
        reference.setAccessibleName(f"Versement {row + 1} : référence")
        for column, widget in enumerate((kind, when, amount, reference)):
            self.payments.setCellWidget(row, column, widget)
        payment_id = payment.id

        def store(*_: Any) -> None:
            line_row = self._shown_line
            if getattr(self, "_loading_payments", False) or line_row < 0:
                return
            self.line_state[line_row]["payments"] = self._payments_in_table()
            self.changed()

        self.payments.cellWidget(row, 0).setProperty("payment_id", str(payment_id or ""))
        kind.currentIndexChanged.connect(store)
        when.changed.connect(store)
        amount.changed.connect(store)
        reference.textChanged.connect(store)
        when.refused.connect(self._refused)
        amount.refused.connect(self._refused)

    def _payments_in_table(self) -> list[PaymentData]:
        result = []
        for row in range(self.payments.rowCount()):
            cell = self.payments.cellWidget
            stored = cell(row, 0).property("payment_id")
            result.append(PaymentData(
                kind=PaymentKind(chosen(cell(row, 0))), payment_date=cell(row, 1).value(),
                amount=cell(row, 2).value(), reference=cell(row, 3).text().strip() or None,
                id=uuid.UUID(stored) if stored else None))
        return result

    def _new_payment(self) -> None:
        """The next payment the rules allow on the line (db.rules.payments): an avance at
        the allowed rate first, acomptes within the ceiling, then the solde."""
        self._flush_panels()
        row = self._shown_line
        if row < 0:
            return
        data = self.collect()
        plan = plan_input(data, self.choices.context)
        proposal = propose_payment(plan, plan.lines[row])
        payment = PaymentData(proposal.kind, self.today, proposal.amount)
        self.line_state[row]["payments"].append(payment)
        self._loading_payments = True
        self._add_payment_row(payment)
        self._loading_payments = False
        self.payments.setCurrentCell(self.payments.rowCount() - 1, 2)
        self.payments.cellWidget(self.payments.rowCount() - 1, 2).setFocus()
        self.last_proposal = proposal
        self.changed()
        self.payment_summary.setToolTip(f"Versement proposé : {proposal.reason}")

    def _remove_payment(self) -> None:
        line_row, row = self._shown_line, self.payments.currentRow()
        if line_row < 0 or row < 0:
            row = self.payments.rowCount() - 1
        if line_row < 0 or row < 0:
            return
        self.payments.removeRow(row)
        self.line_state[line_row]["payments"] = self._payments_in_table()
        self.changed()

    def _update_payment_summary(self) -> None:
        row = self._shown_line
        if row < 0 or row >= len(self.line_state) or row >= self.lines.rowCount():
            self.payment_summary.setText("Sélectionnez un financement pour voir sa décision "
                                         "et ses versements.")
            return
        line = self._line(row)
        paid = sum((p.amount or Decimal("0") for p in line.payments), Decimal("0.00"))
        if line.status is FundingStatus.GRANTED and line.amount_granted is not None:
            text = (f"Accordé {euros(line.amount_granted)} — versé {euros(paid)} — "
                    f"<b>reste à verser {euros(line.amount_granted - paid)}</b>")
        else:
            text = f"Versé {euros(paid)} (financement non accordé)"
        self.payment_summary.setText(text)

    # --- data in and out ---------------------------------------------------------------

    def show_data(self, data: OperationData) -> None:
        self.record_id, self.record_version = data.id, data.version
        self.reference.setText(data.reference)
        self.title.setText(data.title)
        select(self.status, OperationStatus(data.status).value)
        select(self.owner, str(data.owner_id) if data.owner_id else None)
        self.cost_ht.setValue(data.cost_ht)
        self.cost_ttc.setValue(data.cost_ttc)
        self.eligible.setValue(data.eligible_cost)
        select(self.base_kind, BaseKind(data.base_kind).value)
        for key, field in self.dates.items():
            field.setValue(getattr(data, key))
        self.start_extension.setValue(data.start_extension_months)
        self.completion_extension.setValue(data.completion_extension_months)
        self.chef_de_file.setChecked(data.chef_de_file)
        select(self.exception, data.own_share_exception.value
                if data.own_share_exception else None)
        self.exception_ref.setText(data.own_share_exception_ref or "")
        self.notes.setText(data.notes or "")
        for line_edit in (self.reference, self.title, self.exception_ref):
            line_edit.setCursorPosition(0)
        self.extra = {"origin": data.origin, "source": data.source,
                      "description": data.description}
        self.communes.clear()
        for code in data.commune_codes:
            item = QListWidgetItem(self.commune_labels.get(code, code))
            item.setData(Qt.ItemDataRole.UserRole, code)
            self.communes.addItem(item)
        self.links.setRowCount(0)
        for link in data.links:
            self._add_link(link)
        self.expenses.load(data.expense_items)
        # Emptying the table moves its current cell through rows whose widgets are gone
        # (saving with a plan cell focused raised AttributeError): nothing follows it
        # until the table is whole again.
        kept_row = self.lines.currentRow()
        self._rebuilding = True
        try:
            self._shown_line = -1
            self.lines.setRowCount(0)
            self.line_state = []
            for line in data.funding_lines:
                self._add_line(line)
            if data.funding_lines:
                self.lines.setCurrentCell(min(max(kept_row, 0), len(data.funding_lines) - 1), 0)
        finally:
            self._rebuilding = False
        self._line_selected()
        self.delete_button.setEnabled(data.id is not None)

    def collect(self) -> OperationData:
        links = []
        for row in range(self.links.rowCount()):
            contract = self._uuid(chosen(self.links.cellWidget(row, 0)))
            if contract is not None:
                links.append(LinkData(contract, self._uuid(chosen(self.links.cellWidget(row, 1)))))
        owner_id = self._uuid(known_choice(self.owner))
        new_owner = None
        if owner_id is None and self.owner.currentText().strip():
            new_owner = OrganisationData(name=self.owner.currentText().strip())
        return OperationData(
            id=self.record_id, version=self.record_version,
            reference=self.reference.text().strip(), title=self.title.text().strip(),
            owner_id=owner_id, new_owner=new_owner,
            status=OperationStatus(chosen(self.status)), cost_ht=self.cost_ht.value(),
            cost_ttc=self.cost_ttc.value(), base_kind=BaseKind(chosen(self.base_kind)),
            eligible_cost=self.eligible.value(),
            **{key: field.value() for key, field in self.dates.items()},
            start_extension_months=self.start_extension.value(),
            completion_extension_months=self.completion_extension.value(),
            chef_de_file=self.chef_de_file.isChecked(),
            own_share_exception=(OwnShareException(chosen(self.exception))
                                 if chosen(self.exception) else None),
            own_share_exception_ref=self.exception_ref.text().strip() or None,
            notes=self.notes.text().strip() or None,
            origin=self.extra["origin"], source=self.extra["source"],
            description=self.extra["description"],
            commune_codes=self._commune_codes(), links=links,
            funding_lines=[self._line(row) for row in range(self.lines.rowCount())],
            expense_items=self.expenses.items())

    def reload_from_database(self) -> OperationData:
        return operation_for_edit(self.db, self.record_id)

    def prepare_save(self, data: OperationData) -> OperationData | None:
        if data.new_owner is not None:
            kinds = [k.label for k in OrganisationKind]
            kind, accepted = QInputDialog.getItem(
                self, "Nouveau maître d'ouvrage",
                f"« {data.new_owner.name} » n'est pas encore dans la base.\n"
                "Elle sera créée avec l'opération. Nature de l'organisation :",
                kinds, kinds.index(OrganisationKind.COMMUNE.label), False)
            if not accepted:
                return None
            data.new_owner.kind = next(k for k in OrganisationKind if k.label == kind)
        return data

    def write(self, data: OperationData):
        return save_operation(self.db, data, today=self.today), data.new_owner is not None \
            or data.owner_id is None

    def written(self, result) -> None:
        saved, new_owner = result
        self.record_id = saved.id
        if not new_owner:
            return
        # a new owner was created: offer it in the lists from now on
        from db.editing import choices

        self.models = ChoiceModels(choices(self.db))
        self.choices = self.models.choices
        self.owner.blockSignals(True)
        self.owner.setModel(self.models.owners)
        self.owner.blockSignals(False)

    def rebase(self, mine: OperationData, theirs: OperationData) -> OperationData:
        mine.version = theirs.version
        kept_lines = {line.id for line in theirs.funding_lines}
        for line in mine.funding_lines:
            if line.id not in kept_lines:
                line.id = None
                for payment in line.payments:
                    payment.id = None
            else:
                theirs_line = next(t for t in theirs.funding_lines if t.id == line.id)
                kept_payments = {p.id for p in theirs_line.payments}
                for payment in line.payments:
                    if payment.id not in kept_payments:
                        payment.id = None
        return mine

    def remove(self) -> None:
        delete_operation(self.db, self.record_id, self.original.version)

    def print_plan(self) -> None:
        reference = self.original.reference if self.original else ""
        self.print_saved(f"Plan de financement {reference}",
                         f"plan-de-financement-{reference}.pdf",
                         lambda: documents.plan(self.db, reference, today=self.today))

    def window_title(self) -> str:
        reference = self.reference.text().strip() or "nouvelle opération"
        return f"Opération — {reference}"

    # --- what is derived: rules, shares, rates, deadlines -------------------------------

    def _refused(self, message: str) -> None:
        self.findings.insertItem(0, finding_item(BLOCKING, f"Saisie refusée — {message}",
                                                 "#ce0500"))

    def refresh_derived(self) -> None:
        data = self.collect()
        plan = plan_input(data, self.choices.context)
        findings = evaluate_operation(plan, self.today)
        committed = data.status in COMMITTED_OPERATION_STATUSES
        self.findings.clear()
        self.expenses.show_totals(data.cost_ht, data.cost_ttc)
        if plan.is_empty:
            pass  # nothing entered yet: nothing to say
        elif not findings:
            self.findings.addItem(finding_item(
                OK, "Aucune anomalie : le plan respecte les règles.", "#18753c"))
        for finding in findings:
            blocking = finding.blocks(committed)
            sign = (BLOCKING if blocking
                    else WARNING if finding.severity is Severity.WARNING else ERROR)
            item = finding_item(sign, finding.message,
                                "#ce0500" if finding.is_error else "#b34000")
            item.setToolTip(f"{SIGN_NAMES[sign].capitalize()} : {finding.message}\n"
                            f"Règle : {finding.article}"
                            + ("\nBloque l'enregistrement." if blocking else ""))
            self.findings.addItem(item)
        self._findings = findings
        self._highlight(findings)
        share = plan.owner_share
        base = plan.base_cost
        parts = [f"Coût {plan.base_kind.value} : {euros(base)}",
                 f"financements : {euros(plan.funding_total)}"]
        if share is not None:
            parts.append(f"<b>part du maître d'ouvrage : {euros(share)} "
                         f"({percent(ratio(share, base))})</b>")
        self.plan_summary.setText(" — ".join(parts))
        for row, line in enumerate(plan.lines):
            rate = ratio(line.plan_amount, plan.subsidisable if line.state_investment_grant
                         else base)
            self.lines.cellWidget(row, RATE).setText(percent(rate))
            self.lines.cellWidget(row, RATE).setToolTip(
                "Taux sur la dépense subventionnable HT" if line.state_investment_grant
                else f"Taux sur le coût {plan.base_kind.value}")
        limits = deadlines(plan)
        if plan.is_empty:
            self.deadline_label.setText("")
        elif not limits:
            self.deadline_label.setText("Pas de subvention d'investissement de l'État : "
                                        "pas de délai de caducité.")
        else:
            parts = []
            for limit in limits:
                start = (short_date(limit.start_deadline)
                         or "date de notification de la subvention à saisir")
                if limit.completion_deadline:
                    end = f"au plus tard le : <b>{short_date(limit.completion_deadline)}</b>"
                elif limit.fixed_by_decision:
                    end = ": <b>date fixée par la décision à saisir</b> (Achèvement prévu)"
                else:
                    end = ": <b>4 ans après le commencement</b>, non encore déclaré"
                parts.append(f"<b>{limit.label}</b><br>Commencement au plus tard le : "
                             f"<b>{start}</b> ({limit.start_article})<br>Achèvement {end} "
                             f"({limit.completion_article})")
            self.deadline_label.setText("<br>".join(parts))
        self._update_payment_summary()
        self.save_button.setToolTip("Enregistrer (Ctrl+S)")

    def _highlight(self, findings: list) -> None:
        """Frame the fields the findings name, with the finding as their tooltip; the
        decision fields of the selected line are in the panel, and their line's
        financer cell is framed too so that the line shows it from the table."""
        widgets = {"cost_ht": self.cost_ht, "cost_ttc": self.cost_ttc,
                   "eligible_cost": self.eligible, "own_share_exception": self.exception,
                   "own_share_exception_ref": self.exception_ref,
                   **{key: field.line for key, field in self.dates.items()}}
        panel = {key: (field.line if isinstance(field, DateField) else field)
                 for key, field in self.decision.items()}
        styles: dict[Any, str] = {}
        tips: dict[Any, str] = {}

        def flag(target: Any, style: str, message: str) -> None:
            if target is not None and styles.get(target) != ERROR_STYLE:
                styles[target] = style
                tips[target] = message

        for finding in findings:
            style = ERROR_STYLE if finding.is_error else WARNING_STYLE
            if finding.field.startswith("funding_lines["):
                row = int(finding.field.split("[")[1].split("]")[0])
                if row >= self.lines.rowCount():
                    continue
                attribute = finding.field.partition("].")[2]
                column = (GRANTED if attribute.startswith("amount")
                          else STATUS if attribute == "status" else FINANCER)
                flag(self.lines.cellWidget(row, column), style, finding.message)
                if attribute in panel:
                    flag(self.lines.cellWidget(row, FINANCER), style, finding.message)
                    if row == self._shown_line:
                        flag(panel[attribute], style, finding.message)
            elif finding.field == "funding_lines":
                flag(self.plan_summary, style, finding.message)
            else:
                flag(widgets.get(finding.field), style, finding.message)
        for widget in [*widgets.values(), *panel.values(), self.plan_summary,
                       *(self.lines.cellWidget(r, c) for r in range(self.lines.rowCount())
                         for c in (FINANCER, GRANTED, STATUS))]:
            if widget is None:
                continue
            if widget.property("base_tip") is None:
                widget.setProperty("base_tip", widget.toolTip())
            widget.setStyleSheet(styles.get(widget, ""))
            if widget in tips:
                widget.setToolTip(tips[widget])
            elif isinstance(widget, QComboBox) and widget.isEditable():
                self._show_full_text(widget)
            else:
                widget.setToolTip(widget.property("base_tip"))
