"""Importing operations and their funding from the agents' tracking sheets.

``analyse`` reads the sheet and says, row by row, what would be imported and why
not; nothing is written. ``apply`` then writes the valid operations in one
transaction, audited as one batch, which ``undo`` removes as a whole.

A row is one funding line of an operation; rows that share the operation's
reference (or, without one, its title and commune) make one operation.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from db.audit import current_login
from db.database import Database
from db.errors import DeleteRefused, InvalidInput, NotFoundError, UserError
from db.models import (
    AuditEntry,
    Commune,
    Contract,
    Epci,
    FundingScheme,
    Operation,
    Organisation,
    Payment,
    Setting,
)
from db.money import round_cents, to_cents, total
from db.parsing import parse_amount, parse_date, parse_rate
from db.rules import blocking, evaluate_operation
from db.services.operations import (
    FundingLineData,
    LinkData,
    OperationData,
    PlanContext,
    plan_input,
    save_operation_in,
)
from db.services.organisations import OrganisationData, save_organisation_in
from db.spreadsheets.reading import Header, find_header, read_sheet
from db.text import normalize
from db.vocabulary import (
    COMMITTED_OPERATION_STATUSES,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
)

ORIGIN = "import"
# Target fields and the words of French headers that name them (normalized).
FIELDS: dict[str, tuple[str, list[str]]] = {
    "reference": ("Référence", ["reference", "ref", "n dossier", "numero de dossier",
                                "numero dossier", "code operation"]),
    "title": ("Intitulé", ["intitule", "libelle", "objet", "operation", "projet",
                           "designation"]),
    "owner": ("Maître d'ouvrage", ["maitre d'ouvrage", "maitre d ouvrage", "porteur",
                                   "beneficiaire", "collectivite"]),
    "commune": ("Commune", ["commune", "communes", "code insee", "insee", "localisation",
                            "lieu"]),
    "epci": ("EPCI", ["epci", "intercommunalite", "communaute"]),
    "contract": ("Contrat", ["contrat", "contrats", "convention"]),
    "cost_ht": ("Coût HT", ["cout ht", "montant ht", "depense ht", "cout total ht", "cout",
                            "montant total", "depense subventionnable", "assiette"]),
    "cost_ttc": ("Coût TTC", ["cout ttc", "montant ttc", "depense ttc"]),
    "financer": ("Financeur", ["financeur", "cofinanceur", "organisme", "partenaire"]),
    "scheme": ("Dispositif", ["dispositif", "dotation", "fonds"]),
    "requested": ("Montant sollicité", ["sollicite", "demande", "subvention sollicitee",
                                        "montant sollicite", "montant demande"]),
    "granted": ("Montant accordé", ["accorde", "attribue", "notifie", "subvention accordee",
                                    "montant accorde", "montant attribue"]),
    "rate": ("Taux sollicité", ["taux", "taux sollicite", "taux de subvention", "pourcentage"]),
    "decision_date": ("Date de décision", ["date decision", "date de decision",
                                           "date d'arrete", "date arrete", "date de l'arrete"]),
    "year": ("Exercice", ["exercice", "annee", "millesime"]),
    "deposit_date": ("Date de dépôt", ["date depot", "date de depot", "depot", "deposee le"]),
}
AMOUNT_FIELDS = ("cost_ht", "cost_ttc", "requested", "granted")
TOTAL_ROW = re.compile(r"^(sous[\s-]?)?total", re.IGNORECASE)
CHECK_EVERY = 200  # rows (or operations) between two looks at the cancel request


class ImportCancelled(UserError):
    def __init__(self) -> None:
        super().__init__("Import annulé à votre demande : rien n'a été écrit.")


def _matches(label: str, words: list[str]) -> int:
    """Length of the longest header word found in *label* (0: none)."""
    normalized = normalize(label.replace("°", " ").replace("º", " "))
    found = [len(w) for w in words if re.search(rf"(^|\W){re.escape(w)}(\W|$)", normalized)]
    return max(found, default=0)


def guess_mapping(labels: list[str]) -> dict[str, int]:
    """Field -> column index, the most specific header word winning each column."""
    scored = []
    for column, label in enumerate(labels):
        if not label:
            continue
        for name, (_, words) in FIELDS.items():
            strength = _matches(label, words)
            if strength:
                scored.append((strength, column, name))
    mapping: dict[str, int] = {}
    taken: set[int] = set()
    for _, column, name in sorted(scored, key=lambda s: (-s[0], s[1])):
        if name not in mapping and column not in taken:
            mapping[name] = column
            taken.add(column)
    return mapping


def _score(labels: list[str]) -> int:
    return len(guess_mapping(labels))


@dataclass
class Finding:
    row: int
    column: str
    message: str


@dataclass
class PlannedOperation:
    rows: list[int]
    data: OperationData
    new_organisations: dict[str, str]  # normalized name -> kind


@dataclass
class ImportReport:
    file: str
    sheet: str
    sheets: list[str]
    header_row: int  # spreadsheet row number of the header
    labels: list[str]
    mapping: dict[str, int]
    rows_read: int = 0
    valid: int = 0
    warnings: list[Finding] = field(default_factory=list)
    errors: list[Finding] = field(default_factory=list)
    duplicates: list[int] = field(default_factory=list)
    skipped: list[dict[str, Any]] = field(default_factory=list)
    operations: list[PlannedOperation] = field(default_factory=list)
    batch_id: str | None = None

    @property
    def imported_operations(self) -> int:
        return len(self.operations)

    def totals(self) -> dict[str, int]:
        cost = total(op.data.cost_ht for op in self.operations)
        granted = total(line.amount_granted for op in self.operations
                        for line in op.data.funding_lines
                        if line.status is FundingStatus.GRANTED)
        return {"cost_cents": to_cents(cost), "granted_cents": to_cents(granted)}

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file, "sheet": self.sheet, "header_row": self.header_row,
            "mapping": {name: self.labels[column] for name, column in self.mapping.items()},
            "rows_read": self.rows_read, "valid": self.valid,
            "warnings": [asdict(f) for f in self.warnings],
            "errors": [asdict(f) for f in self.errors],
            "duplicates": self.duplicates, "skipped": self.skipped,
            "imported_operations": self.imported_operations, "totals": self.totals(),
            "batch_id": self.batch_id,
        }


# --- Matching names to the database -------------------------------------------------------

class Lookups:
    """Communes, EPCI, organisations, schemes and contracts, by code and by normalized name."""

    def __init__(self, db: Database) -> None:
        with db.read() as session:
            self.communes: dict[str, list[tuple[str, str | None]]] = {}
            self.commune_codes: set[str] = set()
            for code, name, arrondissement in session.execute(
                    select(Commune.code, Commune.name, Commune.arrondissement_code)):
                self.communes.setdefault(normalize(name), []).append((code, arrondissement))
                self.commune_codes.add(code)
            self.epci_names = dict(session.execute(select(Epci.code, Epci.name)).all())
            self.epcis = {normalize(name): code for code, name in self.epci_names.items()}
            self.epci_codes = set(self.epcis.values())
            self.organisations: dict[str, tuple[uuid.UUID, str]] = {}
            for org_id, name, acronym, kind in session.execute(
                    select(Organisation.id, Organisation.name, Organisation.acronym,
                           Organisation.kind)):
                self.organisations.setdefault(normalize(name), (org_id, kind))
                if acronym:
                    self.organisations.setdefault(normalize(acronym), (org_id, kind))
            self.schemes = {}
            self.scheme_objects = {}
            for scheme in session.scalars(select(FundingScheme)):
                self.schemes[normalize(scheme.code)] = scheme.code
                self.schemes[normalize(scheme.label)] = scheme.code
                self.scheme_objects[scheme.code] = scheme
                session.expunge(scheme)
            self.contracts = {normalize(ref): cid for cid, ref in
                              session.execute(select(Contract.id, Contract.reference))}
            self.references = set(session.scalars(select(Operation.reference)))
            arrondissement = session.get(Setting, "arrondissement")
            self.arrondissement = arrondissement.value if arrondissement else None

    def commune(self, text: str) -> tuple[str | None, str | None]:
        """(code, error message)."""
        value = text.strip()
        if re.fullmatch(r"\d[\dAB]\d{3}", value.upper()):
            code = value.upper()
            return (code, None) if code in self.commune_codes else (
                None, f"code INSEE inconnu : {value}")
        found = self.communes.get(normalize(value), [])
        if len(found) > 1 and self.arrondissement:
            local = [c for c in found if c[1] == self.arrondissement]
            found = local or found
        if len(found) == 1:
            return found[0][0], None
        if not found:
            return None, (f"commune inconnue : « {value} » (indiquez son nom exact ou son "
                          "code INSEE)")
        return None, (f"commune ambiguë : « {value} » désigne {len(found)} communes "
                      f"({', '.join(c for c, _ in found[:5])}) ; indiquez le code INSEE")


def guess_kind(name: str, lookups: Lookups) -> OrganisationKind:
    text = normalize(name)
    if text.startswith(("commune ", "ville ", "mairie ")) or text in lookups.communes:
        return OrganisationKind.COMMUNE
    if text.startswith(("communaute", "cc ", "ca ", "cu ", "metropole")) or \
            text in lookups.epcis:
        return OrganisationKind.EPCI
    if text.startswith(("departement", "conseil departemental")):
        return OrganisationKind.DEPARTEMENT
    if text.startswith(("region", "conseil regional")):
        return OrganisationKind.REGION
    if text.startswith(("etat", "prefecture", "sous prefecture", "ministere")):
        return OrganisationKind.STATE
    if text.startswith(("union europeenne", "feder", "europe")):
        return OrganisationKind.EU
    if text.startswith("association"):
        return OrganisationKind.ASSOCIATION
    return OrganisationKind.OTHER


# --- Reading values as agents type them ---------------------------------------------------

def read_amount(value: Any) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(f"« {value} » n'est pas un montant")
    if isinstance(value, int):
        return Decimal(value).quantize(Decimal("0.01"))
    if isinstance(value, float):  # a number cell: the sheet's cents
        return Decimal(repr(round(value, 2))).quantize(Decimal("0.01"))
    return parse_amount(str(value))


def read_date(value: Any) -> date | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and 20000 < value < 80000:  # an Excel serial number
        from datetime import timedelta
        return date(1899, 12, 30) + timedelta(days=int(value))
    return parse_date(str(value))


def read_year(value: Any) -> int | None:
    if value is None:
        return None
    text = str(int(value)) if isinstance(value, float) else str(value).strip()
    if re.fullmatch(r"(19|20)\d\d", text):
        return int(text)
    raise ValueError(f"« {value} » n'est pas une année")


# --- Analyse ----------------------------------------------------------------------------

def analyse(db: Database, path: Path, *, sheet: str | None = None,
            mapping: dict[str, int] | None = None, today: date | None = None,
            cancelled: Callable[[], bool] | None = None) -> ImportReport:
    """What importing *path* would do, row by row; writes nothing. *cancelled* is
    asked now and then; when it answers True, :class:`ImportCancelled` is raised."""
    grid = read_sheet(path, sheet)
    if not any(any(cell is not None for cell in row) for row in grid.cells):
        raise InvalidInput(f"La feuille « {grid.name} » de {path.name} est vide.")
    header: Header = find_header(grid.cells, _score)
    columns = mapping if mapping is not None else guess_mapping(header.labels)
    if "title" not in columns and "reference" not in columns:
        raise InvalidInput("Aucune colonne « Intitulé » ni « Référence » : associez au moins "
                           "l'une des deux dans la correspondance des colonnes.")
    report = ImportReport(str(path), grid.name, grid.names, header.row + 1, header.labels,
                          columns)
    lookups = Lookups(db)
    seen: dict[tuple, int] = {}
    groups: dict[str, PlannedOperation] = {}
    group_errors: dict[str, list[int]] = {}
    label = {name: FIELDS[name][0] for name in FIELDS}

    for offset, cells in enumerate(grid.cells[header.row + 1:]):
        if cancelled and offset % CHECK_EVERY == 0 and cancelled():
            raise ImportCancelled()
        number = header.row + 2 + offset  # the spreadsheet's own row number
        values = {name: cells[col] if col < len(cells) else None
                  for name, col in columns.items()}
        if all(value is None for value in cells):
            report.skipped.append({"row": number, "reason": "ligne vide"})
            continue
        report.rows_read += 1
        first_text = next((str(c) for c in cells if isinstance(c, str) and c.strip()), "")
        if TOTAL_ROW.match(first_text.strip()):
            report.skipped.append({"row": number, "reason": "ligne de total"})
            continue
        key = tuple("" if c is None else str(c) for c in cells)
        if key in seen:
            report.duplicates.append(number)
            continue
        seen[key] = number

        errors: list[Finding] = []
        warnings: list[Finding] = []
        parsed: dict[str, Any] = {}
        for name in AMOUNT_FIELDS:
            try:
                parsed[name] = read_amount(values.get(name))
            except ValueError as error:
                errors.append(Finding(number, label[name], str(error)))
        for name in ("decision_date", "deposit_date"):
            try:
                parsed[name] = read_date(values.get(name))
            except ValueError as error:
                errors.append(Finding(number, label[name], str(error)))
        try:
            parsed["year"] = read_year(values.get("year"))
        except ValueError as error:
            errors.append(Finding(number, label["year"], str(error)))
        try:
            rate = parse_rate(values.get("rate"))
        except ValueError as error:
            errors.append(Finding(number, label["rate"], str(error)))
            rate = None
        if rate is not None and parsed.get("requested") is None:
            if parsed.get("cost_ht") is None:
                warnings.append(Finding(number, label["rate"], "taux sans coût HT : montant "
                                                               "sollicité non calculé"))
            else:  # the amount a rate stands for, on the HT cost, half-up to the cent
                parsed["requested"] = round_cents(parsed["cost_ht"] * rate)
        title = str(values.get("title") or "").strip()
        reference = str(values.get("reference") or "").strip()
        if not title and not reference:
            errors.append(Finding(number, label["title"], "intitulé manquant"))
        commune_codes: list[str] = []
        if values.get("commune") is not None:
            for part in re.split(r"[;/]", str(values["commune"])):
                if part.strip():
                    code, problem = lookups.commune(part)
                    if problem:
                        errors.append(Finding(number, label["commune"], problem))
                    elif code not in commune_codes:
                        commune_codes.append(code)
        epci_name = None
        if values.get("epci") is not None:
            text = str(values["epci"]).strip()
            code = text if text in lookups.epci_codes else lookups.epcis.get(normalize(text))
            if code is None:
                errors.append(Finding(number, label["epci"],
                                      f"EPCI inconnu : « {text} » (nom exact ou SIREN)"))
            else:
                epci_name = lookups.epci_names[code]
        contract_link = None
        if values.get("contract") is not None:
            contract_id = lookups.contracts.get(normalize(str(values["contract"])))
            if contract_id is None:
                warnings.append(Finding(number, label["contract"],
                                        f"contrat inconnu : « {values['contract']} » "
                                        "(l'opération ne lui sera pas rattachée)"))
            else:
                contract_link = LinkData(contract_id)
        scheme = None
        if values.get("scheme") is not None:
            scheme = lookups.schemes.get(normalize(str(values["scheme"])))
            if scheme is None:
                warnings.append(Finding(number, label["scheme"],
                                        f"dispositif inconnu : « {values['scheme']} » "
                                        "(laissé vide)"))
        if errors:
            report.errors += errors
            group = reference or f"{normalize(title)}|{','.join(commune_codes)}"
            group_errors.setdefault(group, []).append(number)
            continue

        group = reference or f"{normalize(title)}|{','.join(commune_codes)}"
        planned = groups.get(group)
        new_orgs: dict[str, str] = {}

        # Without a named owner, the EPCI of the row is taken as the owner.
        owner = _organisation(values.get("owner") or epci_name, FIELDS["owner"][0], number,
                              lookups, new_orgs, warnings)
        financer = _organisation(values.get("financer"), FIELDS["financer"][0], number,
                                 lookups, new_orgs, warnings)
        requested, granted = parsed["requested"], parsed["granted"]
        line = None
        if any(v is not None for v in (requested, granted, financer, scheme)):
            status = FundingStatus.GRANTED if granted is not None else FundingStatus.REQUESTED
            line = FundingLineData(
                financer_id=financer if isinstance(financer, uuid.UUID) else None,
                scheme_code=scheme, amount_requested=requested, amount_granted=granted,
                status=status, decision_date=parsed["decision_date"],
                budget_year=parsed["year"], notes=financer if isinstance(financer, str)
                else None)
        if planned is None:
            data = OperationData(
                reference=reference, title=title or reference,
                owner_id=owner if isinstance(owner, uuid.UUID) else None,
                new_owner=OrganisationData(owner, OrganisationKind(new_orgs[normalize(owner)]))
                if isinstance(owner, str) else None,
                status=OperationStatus.FILED, cost_ht=parsed["cost_ht"],
                cost_ttc=parsed["cost_ttc"], deposit_date=parsed["deposit_date"],
                commune_codes=commune_codes, links=[contract_link] if contract_link else [],
                origin=ORIGIN, source=f"{Path(path).name}, feuille « {grid.name} », "
                                      f"ligne {number}")
            planned = PlannedOperation([number], data, dict(new_orgs))
            groups[group] = planned
        else:
            planned.rows.append(number)
            planned.new_organisations.update(new_orgs)
            if parsed["cost_ht"] is not None and planned.data.cost_ht is not None and \
                    parsed["cost_ht"] != planned.data.cost_ht:
                warnings.append(Finding(number, label["cost_ht"],
                                        "coût différent de la première ligne de l'opération "
                                        "(celui de la première ligne est gardé)"))
        if line is not None:
            planned.data.funding_lines.append(line)
        report.warnings += warnings

    # Operations with a row in error are not imported at all (never half an operation).
    for group, rows in group_errors.items():
        planned = groups.pop(group, None)
        if planned is not None:
            for row in planned.rows:
                report.errors.append(Finding(row, "ligne", "non importée : une autre ligne de "
                                                           f"la même opération (ligne {rows[0]}) "
                                                           "est en erreur"))
    for group, planned in list(groups.items()):
        if planned.data.reference and planned.data.reference in lookups.references:
            groups.pop(group)
            for row in planned.rows:
                report.errors.append(Finding(row, label["reference"],
                                             f"la référence « {planned.data.reference} » "
                                             "existe déjà dans la base"))
    _check_rules(report, groups, lookups, today or date.today())
    _number(groups, lookups)
    report.operations = list(groups.values())
    report.valid = sum(len(op.rows) for op in report.operations)
    report.errors.sort(key=lambda f: f.row)
    report.warnings.sort(key=lambda f: f.row)
    return report


def _organisation(text: Any, column: str, number: int, lookups: Lookups,
                  new_orgs: dict[str, str], warnings: list[Finding]) -> uuid.UUID | str | None:
    """The id of a known organisation, or its name when the import will create it."""
    if text is None:
        return None
    name = str(text).strip()
    found = lookups.organisations.get(normalize(name))
    if found:
        return found[0]
    kind = guess_kind(name, lookups)
    new_orgs[normalize(name)] = kind.value
    warnings.append(Finding(number, column, f"« {name} » n'est pas encore une organisation : "
                                            f"elle sera créée ({kind.label})"))
    return name


def _check_rules(report: ImportReport, groups: dict[str, PlannedOperation], lookups: Lookups,
                 today: date) -> None:
    kinds = {org_id: kind for org_id, kind in lookups.organisations.values()}
    for group, planned in list(groups.items()):
        data = planned.data
        if any(line.status is FundingStatus.GRANTED for line in data.funding_lines):
            data.status = OperationStatus.PROGRAMMED
        context = PlanContext(kinds, lookups.scheme_objects)
        findings = evaluate_operation(plan_input(data, context), today)
        refused = blocking(findings, data.status in COMMITTED_OPERATION_STATUSES)
        if refused and not any(f.strict for f in refused):
            data.status = OperationStatus.FILED  # kept as a request the agent will review
            refused = blocking(findings, False)
            for finding in findings:
                if finding.is_error:
                    report.warnings.append(Finding(planned.rows[0], "plan de financement",
                                                   f"{finding.message} (importée au statut "
                                                   "« Déposé »)"))
        if refused:
            groups.pop(group)
            for row in planned.rows:
                report.errors.append(Finding(row, "plan de financement",
                                             "; ".join(f.message for f in refused)))


def _number(groups: dict[str, PlannedOperation], lookups: Lookups) -> None:
    """Operations without a reference get one; one already in the base is an error."""
    counter = 0
    for planned in groups.values():
        if not planned.data.reference:
            counter += 1
            reference = f"IMP-{date.today():%Y%m%d}-{counter:05d}"
            while reference in lookups.references:
                counter += 1
                reference = f"IMP-{date.today():%Y%m%d}-{counter:05d}"
            planned.data.reference = reference
            lookups.references.add(reference)


# --- Apply and undo -------------------------------------------------------------------------

def apply(db: Database, report: ImportReport,
          cancelled: Callable[[], bool] | None = None) -> uuid.UUID:
    """Write every valid operation of *report* in one transaction, as one audited batch;
    cancelling rolls the whole transaction back."""
    batch = uuid.uuid4()
    with db.write(batch_id=batch) as session, session.no_autoflush:
        existing = set(session.scalars(select(Operation.reference).where(
            Operation.reference.in_([op.data.reference for op in report.operations]))))
        if existing:
            raise InvalidInput("Import refusé : ces références existent déjà dans la base : "
                               f"{', '.join(sorted(existing)[:10])}. Rien n'a été importé.")
        created: dict[str, uuid.UUID] = {}  # organisations made by this import, by name

        def organisation(name: str, kind: str) -> uuid.UUID:
            key = normalize(name)
            if key not in created:
                created[key] = save_organisation_in(
                    session, OrganisationData(name, OrganisationKind(kind))).id
            return created[key]

        for position, planned in enumerate(report.operations):
            if cancelled and position % CHECK_EVERY == 0 and cancelled():
                raise ImportCancelled()
            data = planned.data
            if data.new_owner is not None:
                data.owner_id = organisation(data.new_owner.name, data.new_owner.kind)
                data.new_owner = None
            for line in data.funding_lines:
                if line.financer_id is None and line.notes and \
                        normalize(line.notes) in planned.new_organisations:
                    line.financer_id = organisation(
                        line.notes, planned.new_organisations[normalize(line.notes)])
                    line.notes = None
            save_operation_in(session, data)
        # The import itself, so that it can be listed and undone as a whole.
        session.add(AuditEntry(at=datetime.now(UTC), login=current_login(),
                               action="insert", entity="import",
                               entity_id=Path(report.file).name[:80],
                               changes={"file": report.file, "sheet": report.sheet,
                                        "operations": report.imported_operations},
                               batch_id=batch))
    report.batch_id = str(batch)
    return batch


def batches(db: Database) -> list[tuple[str, datetime, str, int]]:
    """Past imports, oldest first: batch id, date, who, operations created."""
    with db.read() as session:
        rows = session.execute(
            select(AuditEntry.batch_id, AuditEntry.at, AuditEntry.login, AuditEntry.changes)
            .where(AuditEntry.entity == "import").order_by(AuditEntry.at)).all()
    return [(str(batch), at, login, changes.get("operations", 0))
            for batch, at, login, changes in rows]


def undo(db: Database, batch_id: str) -> int:
    """Remove, in one transaction, the operations an import created, provided nobody
    has changed them since (otherwise nothing is removed)."""
    batch = uuid.UUID(batch_id)
    with db.write() as session:
        ids = [uuid.UUID(entity_id) for entity_id in session.scalars(
            select(AuditEntry.entity_id).where(AuditEntry.batch_id == batch,
                                               AuditEntry.entity == "operation",
                                               AuditEntry.action == "insert"))]
        if not ids:
            raise NotFoundError(f"Aucun import {batch_id} à annuler.")
        operations = session.scalars(select(Operation).where(Operation.id.in_(ids))).all()
        changed = [o.reference for o in operations if o.version > 1]
        paid = session.scalars(select(Operation.reference).join(Operation.funding_lines)
                               .join(Payment).where(Operation.id.in_(ids))).all()
        if changed or paid:
            raise DeleteRefused(
                "Import non annulé : des opérations ont été modifiées ou ont reçu des "
                f"versements depuis ({', '.join(sorted(set(changed + paid))[:10])}). "
                "Rien n'a été supprimé.")
        for operation in operations:
            session.delete(operation)
        for entry in session.scalars(select(AuditEntry).where(
                AuditEntry.batch_id == batch, AuditEntry.entity == "import")):
            entry.entity = "import_annule"  # listed no more; the trail stays
    return len(operations)


# --- Saved column mappings ------------------------------------------------------------------

def save_mapping(db: Database, name: str, mapping: dict[str, str]) -> None:
    """*mapping*: field -> header label (labels, not positions: sheets move columns)."""
    from db.services.settings import set_setting

    set_setting(db, f"import.mapping.{name}", json.dumps(mapping, ensure_ascii=False))


def load_mapping(db: Database, name: str, labels: list[str]) -> dict[str, int]:
    from db.services.settings import get_setting

    saved = get_setting(db, f"import.mapping.{name}")
    if saved is None:
        raise NotFoundError(f"Pas de correspondance de colonnes nommée « {name} ».")
    wanted = json.loads(saved)
    positions = {normalize(label): index for index, label in enumerate(labels) if label}
    mapping = {}
    for field_name, label in wanted.items():
        index = positions.get(normalize(label))
        if index is None:
            raise InvalidInput(f"Correspondance « {name} » : la colonne « {label} » "
                               f"({FIELDS[field_name][0]}) n'est pas dans ce fichier.")
        mapping[field_name] = index
    return mapping

