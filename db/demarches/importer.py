"""Importing the dossiers of a Démarches numériques export as candidate operations.

Through the same steps as a tracking sheet (db.spreadsheets.importer): ``analyse``
says, dossier by dossier, what would be created, updated or left alone and why not,
writing nothing; ``apply`` (the tracking sheets' own) writes everything in one
transaction, one audited batch; ``undo`` removes the operations it created and puts
back the ones it updated.

Each dossier becomes an operation whose reference is ``DN-<numéro>``. A later export
of the same démarche updates the operations already imported (matched by dossier
number): a value the export changed is taken when the agent left it as imported;
when the agent changed it in the app (an amount granted, a title…), the agent's
value stays and the report says what the export says instead.
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.database import Database
from db.demarches.reader import (
    FIELD_LABELS,
    SCHEME_WORDS,
    STATE_LABELS,
    STATES,
    Export,
    procedure_number,
    read_export,
    read_field_date,
    read_time,
    text,
)
from db.errors import InvalidInput
from db.formatting import euros
from db.money import from_cents, to_cents
from db.naming import name_key
from db.rules import blocking, evaluate_operation
from db.services.operations import (
    FundingLineData,
    OperationData,
    PaymentData,
    PlanContext,
    load_operation_data,
    plan_input,
)
from db.services.organisations import NAME_LENGTH, OrganisationData, organisation_index
from db.spreadsheets.importer import (
    CHECK_EVERY,
    ORIGIN,
    Finding,
    ImportCancelled,
    ImportReport,
    PlannedOperation,
    Progress,
)
from db.spreadsheets.values import Lookups, guess_kind, read_amount
from db.text import commune_organisation_name, control_character, normalize
from db.vocabulary import (
    COMMITTED_OPERATION_STATUSES,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
)

PREFIX = "DN-"
SITE = "https://www.demarches-simplifiees.fr"
MAPPING_SETTING = "import.mapping.demarche.{}"
_POSTAL = re.compile(r"\s*\(\d{5}\)\s*$")
_PARENTHESIS = re.compile(r"\s*\([^)]*\)\s*$")
_RUBY_NUMBER = re.compile(r"-?\d+\.\d{1,2}")


def link(procedure: str, number: str) -> str:
    """The instructor's page of the dossier (the démarche's number is in the file name
    of an export only when the démarche has no path)."""
    found = procedure_number(procedure)
    if found:
        return f"{SITE}/procedures/{found}/dossiers/{number}"
    return f"{SITE}/dossiers/{number}"


@dataclass
class PlannedUpdate:
    """An operation already imported that this export changes."""

    row: int
    number: str
    operation_id: uuid.UUID
    version: int
    data: OperationData  # what to save (the agent's changes kept)
    before: OperationData  # as it is now (for undo)
    changes: list[str]  # what is taken from the export
    kept: list[str]  # what the export says but the agent changed in the app
    imported: dict[str, Any]  # the new base of the dossier
    state: str
    exported_at: datetime | None
    has_record: bool = True


@dataclass
class NewDossier:
    number: str
    imported: dict[str, Any]
    state: str
    exported_at: datetime | None


@dataclass
class DemarchesReport(ImportReport):
    procedure: str = ""
    fields: dict[str, str] = field(default_factory=dict)  # field -> label, for the dialog
    dossiers: dict[int, str] = field(default_factory=dict)  # row -> dossier number
    new_dossiers: dict[str, NewDossier] = field(default_factory=dict)  # by reference
    updates: list[PlannedUpdate] = field(default_factory=list)
    unchanged: list[tuple[int, str]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        result = super().as_dict()
        result.update({
            "demarche": self.procedure,
            "created": [op.data.reference for op in self.operations],
            "updated": [{"reference": PREFIX + u.number, "row": u.row, "changes": u.changes,
                         "kept": u.kept} for u in self.updates if u.changes],
            "unchanged": [PREFIX + number for _, number in self.unchanged]
            + [PREFIX + u.number for u in self.updates if not u.changes],
        })
        return result

    @property
    def updated(self) -> list[PlannedUpdate]:
        return [u for u in self.updates if u.changes]

    def writes(self) -> bool:
        return bool(self.operations or self.updates)


# --- Values as the base compares them -------------------------------------------------

def _cents(value: Decimal | None) -> int | None:
    return None if value is None else to_cents(value)


def _day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def _shown(name: str, value: Any, names: dict[str, str]) -> str:
    if value is None or value == []:
        return "vide"
    if name in ("cost_ht", "requested", "granted"):
        return euros(from_cents(value))
    if name in ("start_date", "end_date"):
        return date.fromisoformat(value).strftime("%d/%m/%Y")
    if name == "status":
        return OperationStatus(value).label
    if name == "line_status":
        return FundingStatus(value).label
    if name == "communes":
        return ", ".join(names.get(code, code) for code in value)
    if name == "owner_id":
        return names.get(value, "?")
    return f"« {value} »"


def _values(data: OperationData) -> dict[str, Any]:
    """The operation's values that an export sets, as stored in a dossier's base."""
    lines = {}
    for line in data.funding_lines:
        if line.scheme_code and line.scheme_code not in lines:
            lines[line.scheme_code] = {"requested": _cents(line.amount_requested),
                                       "granted": _cents(line.amount_granted),
                                       "line_status": line.status.value}
    return {"title": data.title, "cost_ht": _cents(data.cost_ht),
            "communes": sorted(data.commune_codes),
            "owner_id": str(data.owner_id) if data.owner_id else None,
            "start_date": _day(data.start_date), "end_date": _day(data.end_date),
            "status": data.status.value, "lines": lines}


FIELD_NAMES = {"title": "intitulé", "cost_ht": "coût HT", "communes": "commune(s)",
               "owner_id": "maître d'ouvrage", "start_date": "date de début",
               "end_date": "date de fin", "status": "statut"}


# --- Analyse ------------------------------------------------------------------------------

def saved_mapping(db: Database, export: Export) -> dict[str, int] | None:
    """The mapping remembered for this démarche, if its columns are all in the file."""
    import json

    from db.services.settings import get_setting

    saved = get_setting(db, MAPPING_SETTING.format(export.procedure)[:64])
    if saved is None:
        return None
    positions = {normalize(label): i for i, label in enumerate(export.labels) if label}
    mapping = {}
    for name, label in json.loads(saved).items():
        if normalize(label) not in positions or name not in FIELD_LABELS:
            return None  # the form changed: guessed again
        mapping[name] = positions[normalize(label)]
    return mapping


def remember_mapping(db: Database, report: DemarchesReport) -> None:
    from db.spreadsheets.importer import save_mapping

    save_mapping(db, MAPPING_SETTING.format(report.procedure)[:64].removeprefix(
        "import.mapping."), {name: report.labels[i] for name, i in report.mapping.items()})


def analyse(db: Database, path: Path, *, mapping: dict[str, int] | None = None,
            today: date | None = None, cancelled: Callable[[], bool] | None = None,
            progress: Progress | None = None) -> DemarchesReport:
    if progress:
        progress("Lecture de l'export Démarches numériques", 0, 1)
    export = read_export(path)
    if mapping is None:
        mapping = saved_mapping(db, export)
    if mapping is None:
        from db.demarches.reader import guess_mapping

        mapping = guess_mapping(export.labels)
    if "title" not in mapping:
        raise InvalidInput("Aucune colonne d'intitulé du projet reconnue dans la feuille "
                           "« Dossiers » : associez-la dans la correspondance des colonnes.")
    report = DemarchesReport(str(path), export.sheet, export.sheets, 1, export.labels,
                             mapping, procedure=export.procedure, fields=dict(FIELD_LABELS))
    _Analysis(db, export, report, today or date.today()).run(cancelled, progress)
    return report


class _Analysis:
    def __init__(self, db: Database, export: Export, report: DemarchesReport,
                 today: date) -> None:
        self.db, self.export, self.report, self.today = db, export, report, today
        self.lookups = Lookups(db)
        self.new: dict[uuid.UUID, OrganisationData] = {}
        with db.read() as session:
            from db.models import Commune, Organisation

            self.lookups.organisations = organisation_index(session)
            self.commune_sirens = dict(session.execute(
                select(Commune.siren, Commune.code).where(Commune.siren.is_not(None))).all())
            self.commune_names = dict(session.execute(select(Commune.code, Commune.name)).all())
            self.org_by_commune: dict[str, uuid.UUID] = {}
            self.org_by_epci: dict[str, uuid.UUID] = {}
            self.org_names: dict[str, str] = {}
            for org_id, name, kind, commune, epci in session.execute(select(
                    Organisation.id, Organisation.name, Organisation.kind,
                    Organisation.commune_code, Organisation.epci_code)
                    .order_by(Organisation.sort_name)):
                self.org_names[str(org_id)] = name
                if commune and kind == OrganisationKind.COMMUNE:
                    self.org_by_commune.setdefault(commune, org_id)
                if epci and kind == OrganisationKind.EPCI:
                    self.org_by_epci.setdefault(epci, org_id)
        state = self.lookups.organisations.get(name_key("État"))
        self.state_id = state[0] if state else None
        # « Département du Nord » of a form is the « Département du Nord (Conseil
        # départemental) » of the base.
        self.known_financers = {name_key(_PARENTHESIS.sub("", name)): org_id
                                for org_id, name in
                                ((uuid.UUID(i), n) for i, n in self.org_names.items())}
        self.fixed_at: dict[str, int | None] = {}
        self.names = {**self.commune_names, **self.org_names}  # for the report's texts
        found = re.search(r"(20\d\d)", export.procedure)
        self.campaign_year = int(found.group(1)) if found else None

    # --- one dossier ------------------------------------------------------------------

    def owner(self, number: str, siret: str | None, name: str | None, row: int,
              warnings: list[Finding]) -> uuid.UUID | None:
        lookups = self.lookups
        digits = re.sub(r"\D", "", siret or "")
        siren = digits[:9] if len(digits) >= 9 else None
        if siren:
            commune = self.commune_sirens.get(siren)
            if commune:
                known = self.org_by_commune.get(commune)
                if known:
                    return known
                return self.organisation(commune_organisation_name(
                                         self.commune_names[commune]),
                                         OrganisationKind.COMMUNE, siren=siren,
                                         commune_code=commune)
            if siren in lookups.epci_codes:
                known = self.org_by_epci.get(siren)
                if known:
                    return known
                return self.organisation(lookups.epci_names[siren], OrganisationKind.EPCI,
                                         siren=siren, epci_code=siren)
        if name:
            return self.organisation(name, guess_kind(name, lookups), siren=siren)
        warnings.append(Finding(row, FIELD_LABELS["siret"], "demandeur non identifié (ni "
                                "SIRET de commune ou d'EPCI, ni nom) : maître d'ouvrage "
                                "laissé vide"))
        return None

    def organisation(self, name: str, kind: OrganisationKind, **codes: Any) -> uuid.UUID:
        known = self.lookups.organisations.get(name_key(name))
        if known is not None:
            return known[0]
        new_id = uuid.uuid4()
        self.new[new_id] = OrganisationData(name, kind, **codes)
        self.lookups.organisations[name_key(name)] = (new_id, kind.value)
        self.org_names[str(new_id)] = name
        self.names[str(new_id)] = name
        return new_id

    def communes(self, cells: list[Any], row: int, errors: list[Finding]) -> list[str]:
        at = self.report.mapping.get("communes")
        if at is None:
            return []
        label = self.export.labels[at]
        code_at = self.export.column(f"{label} (Code INSEE)")
        code = text(cells[code_at]) if code_at is not None else None
        if code:
            code = code.zfill(5)
            if code in self.lookups.commune_codes:
                return [code]
            errors.append(Finding(row, label, f"code INSEE inconnu : {code}"))
            return []
        name = text(cells[at])
        if not name:
            return []
        found, problem = self.lookups.commune(_POSTAL.sub("", name))
        if problem:
            errors.append(Finding(row, label, problem))
            return []
        return [found]

    def amount(self, cells: list[Any], name: str, row: int,
               errors: list[Finding]) -> Decimal | None:
        at = self.report.mapping.get(name)
        if at is None or cells[at] is None:
            return None
        cell = cells[at]
        try:
            # The csv writes numbers as Ruby does (``150000.0``): a dot, never a group.
            value = Decimal(cell).quantize(Decimal("0.01")) if isinstance(cell, str) and \
                _RUBY_NUMBER.fullmatch(cell.strip()) else read_amount(cell)
        except ValueError as error:
            errors.append(Finding(row, self.export.labels[at], str(error)))
            return None
        if value is not None and value < 0:
            errors.append(Finding(row, self.export.labels[at],
                                  f"montant négatif : {euros(value)}"))
            return None
        # A blank number field is exported as 0: not an amount.
        return value if value else None

    def field_date(self, cells: list[Any], name: str, row: int,
                   errors: list[Finding]) -> date | None:
        at = self.report.mapping.get(name)
        if at is None:
            return None
        try:
            return read_field_date(cells[at])
        except ValueError as error:
            errors.append(Finding(row, self.export.labels[at], str(error)))
            return None

    def dossier(self, row: int, cells: list[Any]) -> tuple[str, OperationData, str,
                                                          datetime | None] | None:
        export, report, mapping = self.export, self.report, self.report.mapping
        errors: list[Finding] = []
        warnings: list[Finding] = []

        def fixed(label: str) -> Any:
            at = self.fixed_at.get(label)
            if at is None and label not in self.fixed_at:
                at = self.fixed_at[label] = export.column(label)
            return cells[at] if at is not None else None

        number = text(fixed("ID")) or ""
        if not number.isdigit():
            report.errors.append(Finding(row, "ID", f"numéro de dossier illisible : "
                                                    f"« {number} »"))
            return None
        state_text = text(fixed("État du dossier")) or ""
        state = STATES.get(normalize(state_text))
        if state is None:
            errors.append(Finding(row, "État du dossier", f"état inconnu : « {state_text} »"))
        times = {}
        for label in ("Déposé le", "Traité le", "Dernière mise à jour le"):
            try:
                times[label] = read_time(fixed(label))
            except ValueError as error:
                errors.append(Finding(row, label, str(error)))
                times[label] = None
        title = text(cells[mapping["title"]]) or ""
        if not title:
            errors.append(Finding(row, FIELD_LABELS["title"], "intitulé du projet vide"))
        elif len(title) > 500:
            errors.append(Finding(row, FIELD_LABELS["title"], f"intitulé de {len(title)} "
                                                              "caractères (500 au plus)"))
        communes = self.communes(cells, row, errors)
        cost = self.amount(cells, "cost_ht", row, errors)
        start = self.field_date(cells, "start_date", row, errors)
        end = self.field_date(cells, "end_date", row, errors)
        requested: dict[str, Decimal] = {}
        granted: dict[str, Decimal] = {}
        for name in mapping:
            if name.startswith(("requested:", "granted:")):
                value = self.amount(cells, name, row, errors)
                if value is not None:
                    kind, code = name.split(":")
                    (requested if kind == "requested" else granted)[code] = value
        if "requested" in mapping:  # one amount, the dotation chosen in a list
            value = self.amount(cells, "requested", row, errors)
            scheme_text = text(cells[mapping["scheme"]]) if "scheme" in mapping else None
            if value is not None:
                code = self.lookups.schemes.get(normalize(scheme_text or "DETR"))
                if code is None:
                    errors.append(Finding(row, FIELD_LABELS["scheme"],
                                          f"dotation inconnue : « {scheme_text} »"))
                else:
                    requested[code] = value
        if errors:
            report.errors += errors
            return None
        siret_at = mapping.get("siret")
        etablissement = export.etablissements.get(number, (None, None, None))
        siret = (text(cells[siret_at]) if siret_at is not None else None) or etablissement[0]
        owner_at = mapping.get("owner")
        owner_name = (text(cells[owner_at]) if owner_at is not None else None) \
            or text(fixed("Entreprise raison sociale")) or etablissement[1]
        # Texts the base would refuse (db.lengths): a row error, before the owner is
        # created, rather than a refused import at the end.
        problems = [(label, control_character(value) or (
            f"nom de {len(value)} caractères ({limit} au plus)"
            if limit and len(value) > limit else None))
            for label, value, limit in ((FIELD_LABELS["title"], title, None),
                                        (FIELD_LABELS["owner"], owner_name, NAME_LENGTH),
                                        ("Motivation de la décision",
                                         text(fixed("Motivation de la décision")), None))
            if value]
        if any(problem for _, problem in problems):
            report.errors += [Finding(row, label, problem) for label, problem in problems
                              if problem]
            return None
        owner = self.owner(number, siret, owner_name, row, warnings)
        decided = times["Traité le"].date() if times["Traité le"] and state in (
            "accepte", "refuse") else None
        deposited = times["Déposé le"].date() if times["Déposé le"] else None
        year = self.campaign_year or (deposited.year if deposited else None)
        lines = []
        for code in list(requested) + [c for c in granted if c not in requested]:
            if state == "refuse":
                status, amount_granted = FundingStatus.REFUSED, None
            elif state == "accepte" and code in granted:
                status, amount_granted = FundingStatus.GRANTED, granted[code]
            else:  # the amount is the agent's decision, not the applicant's request
                status, amount_granted = FundingStatus.REQUESTED, None
            lines.append(FundingLineData(
                financer_id=self.state_id, scheme_code=code,
                amount_requested=requested.get(code), amount_granted=amount_granted,
                status=status, budget_year=year,
                decision_date=decided if status is not FundingStatus.REQUESTED else None))
        if not lines:
            warnings.append(Finding(row, "Montant sollicité", "aucune dotation de l'État "
                                    "sollicitée (montants vides ou nuls) : opération sans "
                                    "ligne de DETR ni de DSIL"))
        lines += self.cofinancing(number, row, warnings)
        status = (OperationStatus.ABANDONED if state == "sans_suite" else
                  OperationStatus.PROGRAMMED if any(
                      line.status is FundingStatus.GRANTED for line in lines)
                  else OperationStatus.FILED)
        motivation = text(fixed("Motivation de la décision"))
        source = (f"Démarches numériques, démarche « {export.procedure} », dossier "
                  f"n° {number} ({STATE_LABELS[state]}) — {link(export.procedure, number)}")
        data = OperationData(
            reference=PREFIX + number, title=title, owner_id=owner, status=status,
            cost_ht=cost, deposit_date=deposited, start_date=start, end_date=end,
            decision_date=decided, commune_codes=communes, origin=ORIGIN, source=source,
            notes=f"Motivation de la décision (Démarches numériques) : {motivation}"
            if motivation else None, funding_lines=lines)
        report.warnings += warnings
        report.dossiers[row] = number
        return number, data, STATE_LABELS[state], times["Dernière mise à jour le"]

    def cofinancing(self, number: str, row: int,
                    warnings: list[Finding]) -> list[FundingLineData]:
        """The other financers of the dossier's « Plan de financement »: the State's
        dotations are already its lines, the owner's share is the balance of the plan."""
        found = []
        sheet = self.export.cofinancing_sheet
        for name, cell, at in self.export.cofinancing.get(number, []):
            key = normalize(name)
            if any(w in key for words in SCHEME_WORDS.values() for w in words) or \
                    key.startswith(("etat", "autofinancement", "fonds propres",
                                    "maitre d'ouvrage", "commune", "emprunt")):
                continue
            try:
                amount = read_amount(cell)
            except ValueError as error:
                warnings.append(Finding(row, f"{sheet}, ligne {at}",
                                        f"{error} : financeur « {name} » non repris"))
                continue
            if not amount:
                continue
            financer = self.known_financers.get(name_key(name))
            if financer is None:
                financer = self.organisation(name, guess_kind(name, self.lookups))
            found.append(FundingLineData(financer_id=financer, amount_requested=amount,
                                         budget_year=self.campaign_year))
        return found

    # --- the whole export ---------------------------------------------------------------

    def run(self, cancelled: Callable[[], bool] | None, progress: Progress | None) -> None:
        report = self.report
        read: list[tuple[int, str, OperationData, str, datetime | None]] = []
        seen: dict[str, int] = {}
        for position, (row, cells) in enumerate(self.export.rows):
            if position % CHECK_EVERY == 0:
                if cancelled and cancelled():
                    raise ImportCancelled()
                if progress:
                    progress("Contrôle des dossiers", position, len(self.export.rows))
            report.rows_read += 1
            cells = cells + [None] * (len(self.export.labels) - len(cells))
            found = self.dossier(row, cells)
            if found is None:
                continue
            number = found[0]
            if number in seen:
                report.duplicates.append(row)
                report.dossiers.pop(row, None)
                continue
            seen[number] = row
            read.append((row, *found))
        existing = self._existing([PREFIX + number for _, number, *_ in read])
        creations: dict[str, PlannedOperation] = {}
        for row, number, data, state, exported_at in read:
            reference = PREFIX + number
            if reference in existing:
                self.update(row, number, data, state, exported_at, *existing[reference])
            else:
                creations[reference] = PlannedOperation([row], data)
                report.new_dossiers[reference] = NewDossier(number, _values(data), state,
                                                            exported_at)
        self.check(creations)
        report.operations = list(creations.values())
        for reference in list(report.new_dossiers):
            if reference not in creations:
                report.new_dossiers.pop(reference)
        self.announce()
        report.valid = len(report.operations) + len(report.updates) + len(report.unchanged)
        report.errors.sort(key=lambda f: f.row)
        report.warnings.sort(key=lambda f: f.row)

    def _existing(self, references: list[str]) -> dict[str, tuple]:
        from sqlalchemy.orm import selectinload

        from db.models import DemarchesDossier, FundingLine, Operation

        found: dict[str, tuple] = {}
        # The aggregates in a few queries, not five per dossier.
        loads = (selectinload(Operation.communes), selectinload(Operation.links),
                 selectinload(Operation.expense_items),
                 selectinload(Operation.funding_lines).selectinload(FundingLine.payments))
        with self.db.read() as session:
            for start in range(0, len(references), 900):
                for operation, record in session.execute(
                        select(Operation, DemarchesDossier)
                        .outerjoin(DemarchesDossier,
                                   DemarchesDossier.operation_id == Operation.id)
                        .where(Operation.reference.in_(references[start:start + 900]))
                        .options(*loads)):
                    found[operation.reference] = (
                        load_operation_data(session, operation),
                        record.imported if record else None,
                        record.state if record else None)
        return found

    def update(self, row: int, number: str, new: OperationData, state: str,
               exported_at: datetime | None, current: OperationData,
               base: dict[str, Any] | None, base_state: str | None) -> None:
        """Three values of each field: the last import (base), the app (current), this
        export (new). The export's is taken where the app still has the base's."""
        report = self.report
        names = self.names
        before = current  # never changed: *data* is a copy
        data = copy.deepcopy(current)
        new_values = _values(new)
        now_values = _values(current)
        old = base or {}
        changes: list[str] = []
        kept: list[str] = []
        if base_state and base_state != state:
            changes.append(f"état du dossier : {base_state} → {state}")
        for name, label in FIELD_NAMES.items():
            wanted, present = new_values[name], now_values[name]
            if wanted == present or (base is not None and wanted == old.get(name)):
                continue
            if base is not None and present == old.get(name):
                changes.append(f"{label} : {_shown(name, present, names)} → "
                               f"{_shown(name, wanted, names)}")
                _set(data, name, new)
            else:
                kept.append(f"{label} : l'export indique {_shown(name, wanted, names)}, "
                            f"l'application garde {_shown(name, present, names)} (modifié "
                            "dans l'application)")
        old_lines = old.get("lines", {})
        for code, line in new_values["lines"].items():
            scheme = self.scheme_label(code)
            position = next((i for i, existing in enumerate(data.funding_lines)
                             if existing.scheme_code == code), None)
            source = next(x for x in new.funding_lines if x.scheme_code == code)
            if position is None:
                if base is not None and code in old_lines:
                    kept.append(f"{scheme} : ligne supprimée dans l'application, gardée "
                                "supprimée (l'export la demande encore)")
                else:
                    data.funding_lines.append(source)
                    changes.append(f"{scheme} : nouvelle demande de "
                                   f"{_shown('requested', line['requested'], names)}")
                continue
            present_line = now_values["lines"][code]
            base_line = old_lines.get(code) if base is not None else None
            target = data.funding_lines[position]
            for key, label in (("requested", "sollicité"), ("line_status", "décision"),
                               ("granted", "accordé")):
                wanted, present = line[key], present_line[key]
                if wanted == present or (base_line is not None and wanted == base_line[key]):
                    continue
                shown = "line_status" if key == "line_status" else "requested"
                if base_line is not None and present == base_line[key]:
                    changes.append(f"{scheme} {label} : {_shown(shown, present, names)} → "
                                   f"{_shown(shown, wanted, names)}")
                    if key == "requested":
                        target.amount_requested = source.amount_requested
                    elif key == "granted":
                        target.amount_granted = source.amount_granted
                    else:
                        target.status = source.status
                        target.decision_date = source.decision_date or target.decision_date
                else:
                    kept.append(f"{scheme} {label} : l'export indique "
                                f"{_shown(shown, wanted, names)}, l'application garde "
                                f"{_shown(shown, present, names)} (décidé ou modifié dans "
                                "l'application)")
        if data.status is not OperationStatus.ABANDONED and any(
                line.status is FundingStatus.GRANTED for line in data.funding_lines) and \
                data.status in (OperationStatus.PROJECT, OperationStatus.FILED):
            data.status = OperationStatus.PROGRAMMED
        if changes:
            data.source = new.source
        report.warnings += [Finding(row, f"dossier {number}", text) for text in kept]
        if not changes and base is not None and base == new_values and base_state == state:
            report.unchanged.append((row, number))
            return
        if changes:
            findings = evaluate_operation(plan_input(data, self.context()), self.today)
            refused = blocking(findings, data.status in COMMITTED_OPERATION_STATUSES)
            if refused and not any(f.strict for f in refused) and \
                    data.status is not current.status:
                # Kept at its status, as a request the agent will review.
                changes = [c for c in changes if not c.startswith(FIELD_NAMES["status"])]
                data.status = current.status
                refused = blocking(findings, data.status in COMMITTED_OPERATION_STATUSES)
                kept += [f"{f.message} (statut « {current.status.label} » gardé)"
                         for f in findings if f.is_error]
                report.warnings += [Finding(row, f"dossier {number}", text)
                                    for text in kept[-len([f for f in findings
                                                          if f.is_error]):]]
            if refused:
                report.errors.append(Finding(row, "plan de financement", "mise à jour "
                                             "refusée : " + "; ".join(f.message
                                                                      for f in refused)))
                return
        report.updates.append(PlannedUpdate(
            row, number, current.id, current.version, data, before, changes, kept,
            new_values, state, exported_at, has_record=base is not None))

    def scheme_label(self, code: str) -> str:
        scheme = self.lookups.scheme_objects.get(code)
        return (scheme.short_label or scheme.label) if scheme else code

    def context(self) -> PlanContext:
        kinds = {org_id: kind for org_id, kind in self.lookups.organisations.values()}
        return PlanContext(kinds, self.lookups.scheme_objects)

    def check(self, creations: dict[str, PlannedOperation]) -> None:
        """The editor's rules on every new plan, as for a tracking sheet."""
        from db.spreadsheets.importer import _Reader

        reader = _Reader(self.report, self.lookups, {}, "", self.today)
        reader.check_rules(creations)

    def announce(self) -> None:
        """Organisations to create, each said once, on the first dossier naming it."""
        said: set[uuid.UUID] = set()
        for planned in self.report.operations:
            named = [(planned.data.owner_id, FIELD_LABELS["siret"])] + [
                (line.financer_id, self.export.cofinancing_sheet or "Financeur")
                for line in planned.data.funding_lines]
            for org_id, column in named:
                if org_id in self.new and org_id not in said:
                    said.add(org_id)
                    organisation = self.new[org_id]
                    self.report.warnings.append(Finding(
                        planned.rows[0], column,
                        f"« {organisation.name} » n'est pas encore une organisation : elle "
                        f"sera créée ({organisation.kind.label})"))
                    self.report.new_organisations[org_id] = organisation
        self.report.warnings.sort(key=lambda f: f.row)


def _set(data: OperationData, name: str, new: OperationData) -> None:
    attribute = {"communes": "commune_codes"}.get(name, name)
    if name == "status":
        data.status = new.status
    else:
        setattr(data, attribute, getattr(new, attribute))


def _copy(data: OperationData) -> OperationData:
    return decode(encode(data))


# --- Plain data to JSON and back (what undo puts back) ---------------------------------

def encode(value: Any) -> Any:
    if is_dataclass(value):
        return {f.name: encode(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date | uuid.UUID):
        return value.isoformat() if isinstance(value, date) else str(value)
    return value


def decode(value: dict[str, Any]) -> OperationData:
    from db.services.operations import ExpenseItemData, LinkData
    from db.vocabulary import BaseKind, OwnShareException, PaymentKind

    def money(v: Any) -> Decimal | None:
        return None if v is None else Decimal(v)

    def day(v: Any) -> date | None:
        return None if v is None else date.fromisoformat(v)

    def ident(v: Any) -> uuid.UUID | None:
        return None if v is None else uuid.UUID(v)

    data = dict(value)
    data["status"] = OperationStatus(data["status"])
    data["base_kind"] = BaseKind(data["base_kind"])
    if data["own_share_exception"]:
        data["own_share_exception"] = OwnShareException(data["own_share_exception"])
    for key in ("cost_ht", "cost_ttc", "eligible_cost"):
        data[key] = money(data[key])
    for key in ("deposit_date", "decision_date", "notification_date", "start_date",
                "end_date", "early_start_date"):
        data[key] = day(data[key])
    data["id"], data["owner_id"] = ident(data["id"]), ident(data["owner_id"])
    data["new_owner"] = None
    data["links"] = [LinkData(uuid.UUID(x["contract_id"]), ident(x["axis_id"]))
                     for x in data["links"]]
    data["expense_items"] = [ExpenseItemData(x["label"], money(x["amount_ht"]),
                                             money(x["amount_ttc"]), x["eligible"],
                                             ident(x["id"])) for x in data["expense_items"]]
    data["funding_lines"] = [FundingLineData(
        financer_id=ident(x["financer_id"]), scheme_code=x["scheme_code"],
        amount_requested=money(x["amount_requested"]),
        amount_granted=money(x["amount_granted"]), status=FundingStatus(x["status"]),
        decision_reference=x["decision_reference"], decision_date=day(x["decision_date"]),
        commission_opinion_date=day(x["commission_opinion_date"]),
        budget_year=x["budget_year"], notes=x["notes"], id=ident(x["id"]),
        notification_date=day(x["notification_date"]),
        planned_completion_date=day(x["planned_completion_date"]),
        payments=[PaymentData(PaymentKind(p["kind"]), date.fromisoformat(p["payment_date"]),
                              Decimal(p["amount"]), p["reference"], ident(p["id"]))
                  for p in x["payments"]]) for x in data["funding_lines"]]
    return OperationData(**data)


# --- Apply (inside the tracking sheets' transaction) and undo ----------------------------

def write(session: Session, report: DemarchesReport, created: list[uuid.UUID],
          batch: uuid.UUID) -> dict[str, Any]:
    """The dossiers' records of the operations just created, then the updates; what
    undo needs to put the updated operations back."""
    from db.errors import ConflictError
    from db.models import DemarchesDossier
    from db.services.operations import save_operation_in

    now = datetime.now(UTC)
    for planned, operation_id in zip(report.operations, created, strict=True):
        dossier = report.new_dossiers[planned.data.reference]
        values = dict(dossier.imported, owner_id=str(planned.data.owner_id)
                      if planned.data.owner_id else None)
        session.add(DemarchesDossier(
            number=dossier.number, procedure=report.procedure, operation_id=operation_id,
            state=dossier.state, imported=values, exported_at=dossier.exported_at,
            imported_at=now, batch_id=batch, operation_version=1))
    undo: list[dict[str, Any]] = []
    for update in report.updates:
        record = session.scalar(select(DemarchesDossier)
                                .where(DemarchesDossier.number == update.number))
        previous = ({"imported": record.imported, "state": record.state,
                     "exported_at": record.exported_at.isoformat()
                     if record.exported_at else None} if record else None)
        version = update.version
        if update.changes:
            try:
                result = save_operation_in(session, _copy(update.data))
            except ConflictError as error:
                raise InvalidInput(f"Import refusé : l'opération {PREFIX}{update.number} a "
                                   "été modifiée depuis l'analyse ; relancez l'analyse. "
                                   "Rien n'a été importé.") from error
            version = result.version
        if record is None:
            session.add(DemarchesDossier(
                number=update.number, procedure=report.procedure,
                operation_id=update.operation_id, state=update.state,
                imported=update.imported, exported_at=update.exported_at, imported_at=now,
                batch_id=batch, operation_version=version))
        else:
            record.imported, record.state = update.imported, update.state
            record.exported_at, record.imported_at = update.exported_at, now
            record.batch_id, record.operation_version = batch, version
        undo.append({"number": update.number, "operation_id": str(update.operation_id),
                     "version": version, "changed": bool(update.changes),
                     "before": encode(update.before) if update.changes else None,
                     "dossier": previous})
    session.flush()
    return {"demarche": report.procedure, "updated": undo}


def revert(session: Session, updated: list[dict[str, Any]]) -> list[str]:
    """Put back the operations an import updated; the references changed since (nothing
    is then put back)."""
    from db.models import DemarchesDossier, Operation
    from db.services.operations import save_operation_in

    moved = []
    for entry in updated:
        operation = session.get(Operation, uuid.UUID(entry["operation_id"]))
        if operation is not None and entry["changed"] and \
                operation.version != entry["version"]:
            moved.append(operation.reference)
    if moved:
        return moved
    for entry in updated:
        operation = session.get(Operation, uuid.UUID(entry["operation_id"]))
        if operation is None:
            continue
        version = operation.version
        if entry["changed"]:
            before = decode(entry["before"])
            before.version = operation.version
            version = save_operation_in(session, before).version
        record = session.scalar(select(DemarchesDossier)
                                .where(DemarchesDossier.number == entry["number"]))
        previous = entry["dossier"]
        if record is not None:
            if previous is None:
                session.delete(record)
            else:
                record.imported, record.state = previous["imported"], previous["state"]
                record.exported_at = (datetime.fromisoformat(previous["exported_at"])
                                      if previous["exported_at"] else None)
                record.operation_version = version
    return []


def untouched(session: Session, batch: uuid.UUID) -> set[uuid.UUID]:
    """The operations of dossiers that *batch* created and that only imports of later
    exports (and their undoing) have changed since: the agent has not touched them."""
    from db.models import AuditEntry, DemarchesDossier, Operation

    created = [uuid.UUID(i) for i in session.scalars(select(AuditEntry.entity_id).where(
        AuditEntry.batch_id == batch, AuditEntry.entity == "operation",
        AuditEntry.action == "insert"))]
    found: set[uuid.UUID] = set()
    for start in range(0, len(created), 900):
        found.update(operation_id for operation_id, version, left in session.execute(
            select(Operation.id, Operation.version, DemarchesDossier.operation_version)
            .join(DemarchesDossier, DemarchesDossier.operation_id == Operation.id)
            .where(Operation.id.in_(created[start:start + 900]))) if version == left)
    return found


def updated_in(db: Database, batch_id: str) -> int:
    """How many operations the import *batch_id* updated (0 for a tracking sheet)."""
    from db.models import AuditEntry

    with db.read() as session:
        changes = session.scalar(select(AuditEntry.changes).where(
            AuditEntry.batch_id == uuid.UUID(batch_id), AuditEntry.entity == "import"))
    return sum(1 for entry in (changes or {}).get("updated", []) if entry["changed"])
