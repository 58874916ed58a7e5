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
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from db.audit import current_login
from db.bulk import collector_paused
from db.database import Database
from db.errors import DeleteRefused, InvalidInput, NotFoundError, UserError
from db.formatting import euros
from db.models import AuditEntry, Operation
from db.money import round_cents, to_cents, total
from db.naming import name_key
from db.rules import blocking, evaluate_operation
from db.services.bulk import Cancelled as BulkCancelled
from db.services.bulk import ChangedSince, NothingToDelete, create_operations, delete_created
from db.services.operations import (
    FundingLineData,
    LinkData,
    OperationData,
    PlanContext,
    plan_input,
)
from db.services.organisations import NAME_LENGTH, OrganisationData, organisation_index
from db.spreadsheets.reading import ErrorCell, Header, find_header, read_sheet
from db.spreadsheets.values import (
    Lookups,
    Remembered,
    error_cell,
    guess_kind,
    read_amount,
    read_date,
    read_rate,
    read_year,
)
from db.text import control_character, normalize
from db.vocabulary import COMMITTED_OPERATION_STATUSES, FundingStatus, OperationStatus

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
LABELS = {name: label for name, (label, _) in FIELDS.items()}
CHECK_EVERY = 200  # rows between two looks at the cancel request
# What long work tells the waiting agent: the step, how far it is, out of how much.
Progress = Callable[[str, int, int], None]


class ImportCancelled(UserError):
    def __init__(self) -> None:
        super().__init__("Import annulé à votre demande : rien n'a été écrit.")


def _matches(label: str, words: list[str]) -> int:
    """Length of the longest header word found in *label* (0: none)."""
    normalized = normalize(label.replace("°", " ").replace("º", " "))
    found = [len(w) for w in words if re.search(rf"(^|\W){re.escape(w)}(\W|$)", normalized)]
    return max(found, default=0)


_TOKENS = re.compile(r"\W+")
# The first word of each header word: a header word can only be found in a label that
# has this word too (it starts after a separator and ends at one), so the regular
# expressions run for the few fields a label may name, not for all of them.
_FIRST_WORDS = {name: {_TOKENS.split(word)[0] for word in words}
                for name, (_, words) in FIELDS.items()}


@lru_cache(maxsize=65_536)
def _label_fields(label: str) -> tuple[tuple[str, int], ...]:
    """(field, strength) for every field whose header words *label* holds. Cached: the
    header search scores the same labels for each of its candidate rows, and a sheet of
    10 000 columns once took 40 s there."""
    tokens = set(_TOKENS.split(normalize(label.replace("°", " ").replace("º", " "))))
    found = []
    for name, (_, words) in FIELDS.items():
        if tokens.isdisjoint(_FIRST_WORDS[name]):
            continue
        strength = _matches(label, words)
        if strength:
            found.append((name, strength))
    return tuple(found)


def guess_mapping(labels: list[str]) -> dict[str, int]:
    """Field -> column index, the most specific header word winning each column."""
    scored = []
    for column, label in enumerate(labels):
        if not label:
            continue
        for name, strength in _label_fields(label):
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
    # Organisations the import will create, by the id the operations already name.
    new_organisations: dict[uuid.UUID, OrganisationData] = field(default_factory=dict)
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


# --- Analyse ----------------------------------------------------------------------------

def analyse(db: Database, path: Path, *, sheet: str | None = None,
            mapping: dict[str, int] | None = None, today: date | None = None,
            cancelled: Callable[[], bool] | None = None,
            progress: Progress | None = None) -> ImportReport:
    """What importing *path* would do, row by row; writes nothing. *cancelled* is
    asked now and then; when it answers True, :class:`ImportCancelled` is raised.
    *progress* is told now and then what is being done and how far it is."""
    from db.demarches.reader import DOSSIERS, recognise

    with collector_paused(keeps_results=True):
        if sheet in (None, DOSSIERS) and recognise(Path(path)):  # Démarches numériques
            from db.demarches import importer as demarches

            return demarches.analyse(db, Path(path), mapping=mapping, today=today,
                                     cancelled=cancelled, progress=progress)
        return _analyse(db, path, sheet, mapping, today, cancelled, progress)


def _analyse(db: Database, path: Path, sheet: str | None, mapping: dict[str, int] | None,
             today: date | None, cancelled: Callable[[], bool] | None,
             progress: Progress | None) -> ImportReport:
    if progress:
        progress("Lecture du fichier", 0, 1)
    grid = read_sheet(path, sheet)
    if not any(cell is not None for row in grid.cells for cell in row):
        raise InvalidInput(f"La feuille « {grid.name} » du fichier {path.name} est vide.")
    header: Header = find_header(grid.cells, _score)
    columns = mapping if mapping is not None else guess_mapping(header.labels)
    if "title" not in columns and "reference" not in columns:
        raise InvalidInput("Aucune colonne « Intitulé » ni « Référence » : associez au moins "
                           "l'une des deux dans la correspondance des colonnes.")
    report = ImportReport(str(path), grid.name, grid.names, header.row + 1, header.labels,
                          columns)
    lookups = Lookups(db)
    # Organisations by the key of their names (db.naming): "Maubeuge" in a sheet is the
    # "Commune de Maubeuge" of the base, not an organisation to create.
    with db.read() as session:
        lookups.organisations = organisation_index(session)
    rows = _rows_to_read(grid.cells, header.row, report, cancelled)
    _Reader(report, lookups, columns, f"{Path(path).name}, feuille « {grid.name} »",
            today or date.today()).read(rows, cancelled, progress)
    return report


def _rows_to_read(cells: list[list[Any]], header_row: int, report: ImportReport,
                  cancelled: Callable[[], bool] | None) -> list[tuple[int, list[Any]]]:
    """The rows worth reading, with their spreadsheet numbers; blank rows, total rows and
    exact duplicates are set aside in the report."""
    rows = []
    seen: set[tuple] = set()
    first = header_row + 2  # the spreadsheet's own number of the first row under the header
    for offset, row in enumerate(cells[header_row + 1:]):
        if cancelled and offset % CHECK_EVERY == 0 and cancelled():
            raise ImportCancelled()
        number = first + offset
        if row.count(None) == len(row):
            report.skipped.append({"row": number, "reason": "ligne vide"})
            continue
        report.rows_read += 1
        first_text = next((c for c in row if isinstance(c, str)), "")
        if TOTAL_ROW.match(first_text.strip()):
            report.skipped.append({"row": number, "reason": "ligne de total"})
            continue
        key = tuple(row)
        if key in seen:
            report.duplicates.append(number)
            continue
        seen.add(key)
        rows.append((number, row))
    return rows


class _Reader:
    """Turns the rows of a sheet into planned operations and findings."""

    def __init__(self, report: ImportReport, lookups: Lookups, columns: dict[str, int],
                 source: str, today: date) -> None:
        self.report = report
        self.today = today
        self.lookups = lookups
        self.columns = columns
        self.source = source
        self.amount = Remembered(read_amount)
        self.date = Remembered(read_date)
        self.year = Remembered(read_year)
        self.rate = Remembered(read_rate)
        self.organisations: dict[str, tuple[uuid.UUID, str, bool]] = {}
        self.new: dict[uuid.UUID, OrganisationData] = {}

        def epci(cell: Any) -> str:
            text = str(cell).strip()
            code = text if text in lookups.epci_codes else lookups.epcis.get(normalize(text))
            if code is None:
                raise ValueError(f"EPCI inconnu : « {text} » (nom exact ou SIREN)")
            return lookups.epci_names[code]

        def contract(cell: Any) -> uuid.UUID:
            found = lookups.contracts.get(normalize(str(cell)))
            if found is None:
                raise ValueError(f"contrat inconnu : « {cell} » (l'opération ne lui sera pas "
                                 "rattachée)")
            return found

        def scheme(cell: Any) -> str:
            found = lookups.schemes.get(normalize(str(cell)))
            if found is None:
                raise ValueError(f"dispositif inconnu : « {cell} » (laissé vide)")
            return found

        self.epci, self.contract, self.scheme = map(Remembered, (epci, contract, scheme))
        self.commune_cells: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}

    def organisation(self, cell: Any) -> uuid.UUID | None:
        """The id of a known organisation, or the id it will have once the import
        creates it."""
        if cell is None:
            return None
        name = str(cell).strip()
        found = self.organisations.get(name)
        if found is None:
            known = self.lookups.organisations.get(name_key(name))
            if known is not None:
                found = (known[0], known[1], False)
            else:
                kind = guess_kind(name, self.lookups)
                new_id = uuid.uuid4()
                self.new[new_id] = OrganisationData(name, kind)
                found = (new_id, kind.value, True)
                # Same name written otherwise further down: the same organisation.
                self.lookups.organisations[name_key(name)] = (new_id, kind.value)
            self.organisations[name] = found
        return found[0]

    def communes(self, cell: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """The codes of the communes a cell names (``;`` or ``/`` between them), and the
        problems found."""
        text = str(cell)
        found = self.commune_cells.get(text)
        if found is None:
            codes: list[str] = []
            problems: list[str] = []
            for part in re.split(r"[;/]", text):
                if part.strip():
                    code, problem = self.lookups.commune(part)
                    if problem:
                        problems.append(problem)
                    elif code not in codes:
                        codes.append(code)
            found = self.commune_cells[text] = (tuple(codes), tuple(problems))
        return found

    def read(self, rows: list[tuple[int, list[Any]]], cancelled: Callable[[], bool] | None,
             progress: Progress | None = None) -> None:
        report, lookups, label = self.report, self.lookups, LABELS
        index = self.columns
        groups: dict[str, PlannedOperation] = {}
        group_errors: dict[str, list[int]] = {}

        readers = [(name, index[name], reader) for name, reader in (
            ("cost_ht", self.amount), ("cost_ttc", self.amount), ("requested", self.amount),
            ("granted", self.amount), ("decision_date", self.date),
            ("deposit_date", self.date), ("year", self.year), ("rate", self.rate))
            if name in index]
        nothing = dict.fromkeys(("cost_ht", "cost_ttc", "requested", "granted",
                                 "decision_date", "deposit_date", "year", "rate"))
        width = max((len(cells) for _, cells in rows), default=0)
        if any(column >= width for column in index.values()):
            rows = [(n, cells + [None] * (max(index.values()) + 1 - len(cells)))
                    for n, cells in rows]

        def column(name: str) -> int | None:
            return index.get(name)

        at_title, at_reference, at_commune = column("title"), column("reference"), \
            column("commune")
        at_epci, at_contract, at_scheme = column("epci"), column("contract"), column("scheme")
        at_owner, at_financer = column("owner"), column("financer")

        for position, (number, cells) in enumerate(rows):
            if position % CHECK_EVERY == 0:
                if cancelled and cancelled():
                    raise ImportCancelled()
                if progress:
                    progress("Contrôle des lignes", position, len(rows))
            errors: list[Finding] = []
            warnings: list[Finding] = []
            parsed = nothing.copy()
            for name, at, reader in readers:
                raw = cells[at]
                if raw is None:
                    continue
                value, problem = reader(raw)
                if problem:
                    errors.append(Finding(number, label[name], problem))
                elif value.__class__ is Decimal and value < 0 and name in AMOUNT_FIELDS:
                    errors.append(Finding(number, label[name],
                                          f"montant négatif : {euros(value)}"))
                    value = None
                parsed[name] = value
            rate = parsed["rate"]
            if rate is not None and parsed["requested"] is None:
                if parsed["cost_ht"] is None:
                    warnings.append(Finding(number, label["rate"], "taux sans coût HT : "
                                                                   "montant sollicité non "
                                                                   "calculé"))
                else:  # the amount a rate stands for, on the HT cost, half-up to the cent
                    parsed["requested"] = round_cents(parsed["cost_ht"] * rate)
            title = str(cells[at_title] or "").strip() if at_title is not None else ""
            reference = str(cells[at_reference] or "").strip() \
                if at_reference is not None else ""
            if not title and not reference:
                errors.append(Finding(number, label["title"], "intitulé manquant"))
            if len(title) > 500:
                errors.append(Finding(number, label["title"], f"intitulé de {len(title)} "
                                                              "caractères (500 au plus)"))
            if len(reference) > 80:
                errors.append(Finding(number, label["reference"], f"référence de "
                                      f"{len(reference)} caractères (80 au plus)"))
            commune_codes: list[str] = []
            communes = cells[at_commune] if at_commune is not None else None
            if communes is not None:
                codes, problems = self.communes(communes)
                commune_codes = list(codes)
                errors += [Finding(number, label["commune"], problem) for problem in problems]
            epci_name = None
            epci_name, problem = self.epci(cells[at_epci] if at_epci is not None else None)
            if problem:
                errors.append(Finding(number, label["epci"], problem))
            contract_id, problem = self.contract(
                cells[at_contract] if at_contract is not None else None)
            if problem:
                warnings.append(Finding(number, label["contract"], problem))
            contract_link = LinkData(contract_id) if contract_id else None
            scheme, problem = self.scheme(cells[at_scheme] if at_scheme is not None else None)
            if problem:
                warnings.append(Finding(number, label["scheme"], problem))
            for name, at, limit in (("owner", at_owner, NAME_LENGTH),
                                    ("financer", at_financer, NAME_LENGTH),
                                    ("title", at_title, None), ("reference", at_reference, None)):
                cell = cells[at] if at is not None else None
                if cell.__class__ is ErrorCell:
                    errors.append(Finding(number, label[name], error_cell(cell)))
                    continue
                if cell.__class__ is not str:
                    continue
                problem = control_character(cell)
                if problem is None and limit is not None and len(cell.strip()) > limit:
                    problem = f"nom de {len(cell.strip())} caractères ({limit} au plus)"
                if problem:
                    errors.append(Finding(number, label[name], problem))
            group = reference or f"{normalize(title)}|{','.join(commune_codes)}"
            if errors:
                report.errors += errors
                group_errors.setdefault(group, []).append(number)
                continue

            # Without a named owner, the EPCI of the row is taken as the owner.
            owner = self.organisation((cells[at_owner] if at_owner is not None else None)
                                      or epci_name)
            financer = self.organisation(cells[at_financer] if at_financer is not None
                                         else None)
            requested, granted = parsed["requested"], parsed["granted"]
            planned = groups.get(group)
            if planned is None:
                data = OperationData(
                    reference=reference, title=title or reference, owner_id=owner,
                    status=OperationStatus.FILED, cost_ht=parsed["cost_ht"],
                    cost_ttc=parsed["cost_ttc"], deposit_date=parsed["deposit_date"],
                    commune_codes=commune_codes, links=[contract_link] if contract_link else [],
                    origin=ORIGIN, source=f"{self.source}, ligne {number}")
                planned = groups[group] = PlannedOperation([number], data)
            else:
                planned.rows.append(number)
                cost = planned.data.cost_ht
                if parsed["cost_ht"] is not None and cost is not None and \
                        parsed["cost_ht"] != cost:
                    warnings.append(Finding(number, label["cost_ht"],
                                            "coût différent de la première ligne de "
                                            "l'opération (celui de la première ligne est "
                                            "gardé)"))
            if requested is not None or granted is not None or financer is not None or \
                    scheme is not None:
                planned.data.funding_lines.append(FundingLineData(
                    financer_id=financer, scheme_code=scheme, amount_requested=requested,
                    amount_granted=granted,
                    status=FundingStatus.GRANTED if granted is not None
                    else FundingStatus.REQUESTED,
                    decision_date=parsed["decision_date"], budget_year=parsed["year"]))
            report.warnings += warnings

        # An operation with a row in error is not imported at all (never half of one).
        for group, error_rows in group_errors.items():
            planned = groups.pop(group, None)
            if planned is not None:
                for row in planned.rows:
                    report.errors.append(Finding(
                        row, "ligne", "non importée : une autre ligne de la même opération "
                                      f"(ligne {error_rows[0]}) est en erreur"))
        for group, planned in list(groups.items()):
            if planned.data.reference and planned.data.reference in lookups.references:
                groups.pop(group)
                for row in planned.rows:
                    report.errors.append(Finding(row, label["reference"],
                                                 f"la référence « {planned.data.reference} » "
                                                 "existe déjà dans la base"))
        self.check_rules(groups, cancelled, progress)
        _number(groups, lookups)
        report.operations = list(groups.values())
        self.announce_new_organisations()
        report.valid = sum(len(op.rows) for op in report.operations)
        report.errors.sort(key=lambda f: f.row)
        report.warnings.sort(key=lambda f: f.row)

    def check_rules(self, groups: dict[str, PlannedOperation],
                    cancelled: Callable[[], bool] | None = None,
                    progress: Progress | None = None) -> None:
        """The editor's rules on every plan; organisations the import will create count
        with the kind they will have."""
        report, lookups = self.report, self.lookups
        kinds = {org_id: kind for org_id, kind in lookups.organisations.values()}
        context = PlanContext(kinds, lookups.scheme_objects)
        today = self.today
        for position, (group, planned) in enumerate(list(groups.items())):
            if position % CHECK_EVERY == 0:
                if cancelled and cancelled():
                    raise ImportCancelled()
                if progress:
                    progress("Règles de financement", position, len(groups))
            data = planned.data
            if any(line.status is FundingStatus.GRANTED for line in data.funding_lines):
                data.status = OperationStatus.PROGRAMMED
            findings = evaluate_operation(plan_input(data, context), today)
            refused = blocking(findings, data.status in COMMITTED_OPERATION_STATUSES)
            if refused and not any(f.strict for f in refused):
                data.status = OperationStatus.FILED  # kept as a request the agent will review
                refused = blocking(findings, False)
                for finding in findings:
                    if finding.is_error:
                        report.warnings.append(Finding(planned.rows[0], "plan de financement",
                                                       f"{finding.message} (importée au "
                                                       "statut « Déposé »)"))
            if refused:
                groups.pop(group)
                for row in planned.rows:
                    report.errors.append(Finding(row, "plan de financement",
                                                 "; ".join(f.message for f in refused)))

    def announce_new_organisations(self) -> None:
        """Organisations to create: those the imported operations name, each announced
        once, on the first row that names it."""
        first_row: dict[uuid.UUID, tuple[int, str]] = {}
        for planned in self.report.operations:
            data = planned.data
            named = [(data.owner_id, LABELS["owner"])] + [
                (line.financer_id, LABELS["financer"]) for line in data.funding_lines]
            for org_id, column in named:
                if org_id in self.new and org_id not in first_row:
                    first_row[org_id] = (planned.rows[0], column)
        for org_id, (row, column) in first_row.items():
            organisation = self.new[org_id]
            self.report.warnings.append(Finding(
                row, column, f"« {organisation.name} » n'est pas encore une organisation : "
                             f"elle sera créée ({organisation.kind.label})"))
            self.report.new_organisations[org_id] = organisation


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
          cancelled: Callable[[], bool] | None = None,
          progress: Progress | None = None) -> uuid.UUID:
    """Write every valid operation of *report* in one transaction, as one audited batch;
    cancelling rolls the whole transaction back."""
    batch = uuid.uuid4()
    references = [op.data.reference for op in report.operations]
    names = [o.name for o in report.new_organisations.values()]
    if db.read_only:  # refused before the backup taken for it
        raise UserError(db.read_only_message())
    if db.is_sqlite:  # the state before the import, for the agent to go back to
        from db.backups import take

        take(db, "avant-import")
    try:
        with collector_paused(keeps_results=False), \
                db.write(batch_id=batch, origin="import") as session:
            existing = _existing(session, Operation.reference, references)
            if existing:
                raise InvalidInput("Import refusé : ces références existent déjà dans la base : "
                                   f"{', '.join(sorted(existing)[:10])}. Rien n'a été importé.")
            index = organisation_index(session)
            created = {name for name in names if name_key(name) in index}
            if created:
                raise InvalidInput(
                    f"Import refusé : {', '.join(sorted(created)[:5])} existe(nt) dans la base "
                    "depuis l'analyse du fichier ; relancez l'analyse. Rien n'a été importé.")
            created = create_operations(session, [op.data for op in report.operations],
                                        new_organisations=report.new_organisations,
                                        cancelled=cancelled, progress=progress) \
                if report.operations else []
            changes = {"file": report.file, "sheet": report.sheet,
                       "operations": report.imported_operations}
            if hasattr(report, "updates"):  # dossiers of Démarches numériques
                from db.demarches import importer as demarches

                changes.update(demarches.write(session, report, created, batch))
            # The import itself, so that it can be listed and undone as a whole.
            session.add(AuditEntry(at=datetime.now(UTC), login=current_login(),
                                   action="insert", entity="import",
                                   entity_id=Path(report.file).name[:80],
                                   changes=changes, batch_id=batch))
    except BulkCancelled as error:
        raise ImportCancelled() from error
    except IntegrityError as error:
        raise InvalidInput("Import refusé par la base de données : une donnée a changé "
                           "depuis l'analyse (organisation, contrat ou référence). Relancez "
                           "l'analyse. Rien n'a été importé.") from error
    report.batch_id = str(batch)
    if hasattr(report, "updates"):  # the columns of this démarche, for its next export
        from db.demarches.importer import remember_mapping

        remember_mapping(db, report)
    db.analyze()  # thousands of new rows: the lists' plans need fresh statistics
    return batch


def _existing(session: Session, column: Any, values: list[Any]) -> set[Any]:
    found: set[Any] = set()
    for start in range(0, len(values), 900):
        found.update(session.scalars(select(column).where(
            column.in_(values[start:start + 900]))))
    return found


def batches(db: Database) -> list[tuple[str, datetime, str, int]]:
    """Past imports, oldest first: batch id, date, who, operations created."""
    with db.read() as session:
        rows = session.execute(
            select(AuditEntry.batch_id, AuditEntry.at, AuditEntry.login, AuditEntry.changes)
            .where(AuditEntry.entity == "import").order_by(AuditEntry.at)).all()
    return [(str(batch), at, login, changes.get("operations", 0))
            for batch, at, login, changes in rows]


def undo(db: Database, batch_id: str) -> int:
    """Remove, in one transaction, what an import created, provided nobody has changed
    it since (otherwise nothing is removed)."""
    batch = uuid.UUID(batch_id)
    with collector_paused(keeps_results=False), db.write(origin="import") as session:
        changes = session.scalar(select(AuditEntry.changes).where(
            AuditEntry.batch_id == batch, AuditEntry.entity == "import")) or {}
        updated = changes.get("updated")
        settled: set[uuid.UUID] = set()
        if "demarche" in changes:  # an export of Démarches numériques
            from db.demarches.importer import revert, untouched

            moved = revert(session, updated or [])  # the operations it updated, put back
            if moved:
                raise DeleteRefused(
                    "Import non annulé : des opérations qu'il a mises à jour ont été "
                    f"modifiées depuis ({', '.join(moved[:10])}). Rien n'a été changé.")
            settled = untouched(session, batch)
        try:
            return delete_created(session, batch, settled)
        except NothingToDelete as error:
            if updated:
                return 0
            raise NotFoundError(f"Aucun import {batch_id} à annuler.") from error
        except ChangedSince as error:
            raise DeleteRefused(
                "Import non annulé : des opérations ont été modifiées ou ont reçu des "
                f"versements ou des pièces jointes depuis ({', '.join(error.references[:10])}). "
                "Rien n'a été supprimé.") from error


# --- Saved column mappings ------------------------------------------------------------------

def save_mapping(db: Database, name: str, mapping: dict[str, str]) -> None:
    """*mapping*: field -> header label (labels, not positions: sheets move columns)."""
    from db.models import Setting
    from db.services.settings import set_setting

    key = f"import.mapping.{name}"
    room = Setting.__table__.c.key.type.length - len("import.mapping.")
    if len(key) > Setting.__table__.c.key.type.length:
        raise InvalidInput(f"Nom de correspondance trop long ({len(name)} caractères, "
                           f"{room} au plus) : « {name[:40]}… ». Choisissez un nom plus court.")
    set_setting(db, key, json.dumps(mapping, ensure_ascii=False))


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

