"""Checking a printed document against the database: the versions of the records it
was made from, and its fingerprint made again from today's data."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from db.audit import plain as audit_plain
from db.database import Database
from db.documents.annex import annex
from db.documents.common import Provenance, RecordVersion, scheme_labels
from db.documents.plan import plan
from db.documents.statement import operations_list
from db.documents.summary import summary
from db.errors import NotFoundError, UserError
from db.formatting import euros, short_date
from db.models import AuditEntry
from db.text import elide, with_article
from db.vocabulary import ContractStatus, FundingStatus, OperationStatus, PaymentKind


def current_versions(db: Database, records: list[RecordVersion]) -> dict[tuple[str, str], int]:
    """The versions now in the database of the records a document was made from."""
    from db.models import Base

    tables = {mapper.class_.__tablename__: mapper.class_ for mapper in Base.registry.mappers}
    found: dict[tuple[str, str], int] = {}
    with db.read() as session:
        for entity in {r.entity for r in records}:
            model = tables[entity]
            ids = [uuid.UUID(r.id) for r in records if r.entity == entity]
            for start in range(0, len(ids), 500):
                chunk = ids[start:start + 500]
                for record_id, version in session.execute(
                        select(model.id, model.version).where(model.id.in_(chunk))):
                    found[(entity, str(record_id))] = version
    return found


def rebuild(db: Database, provenance: Provenance) -> Any:
    """The same document made again from today's data (for verification)."""
    if provenance.kind == "etat":
        from db.lists import Criteria

        subject = json.loads(provenance.subject)
        values, description = subject["criteria"], subject["description"]
        if values.get("financer"):
            values["financer"] = uuid.UUID(values["financer"])
        if values.get("contract"):
            values["contract"] = uuid.UUID(values["contract"])
        return operations_list(db, Criteria(**values), description)
    if provenance.kind == "annexe":
        return annex(db, provenance.subject, provenance.options.get("amendment"))
    if provenance.kind == "plan":
        return plan(db, provenance.subject)
    if provenance.kind == "synthese":
        return summary(db, provenance.subject)
    raise NotFoundError(f"Type de document inconnu : {provenance.kind}.")

# --- Verification of a printed document ---------------------------------------------------

MODIFIED, DELETED, ADDED = "modified", "deleted", "added"

# What each kind of record is called: singular, plural, feminine.
ENTITIES = {
    "operation": ("opération", "opérations", True),
    "contract": ("contrat", "contrats", False),
    "funding_line": ("financement", "financements", False),
    "payment": ("versement", "versements", False),
    "signatory": ("signataire", "signataires", False),
    "amendment": ("avenant", "avenants", False),
    "steering_meeting": ("réunion", "réunions", True),
    "expense_item": ("poste de dépense", "postes de dépense", False),
}
_PARTICIPLES = {MODIFIED: "modifié", DELETED: "supprimé", ADDED: "ajouté"}

# The fields an agent edits, as the editors name them (bookkeeping fields are not listed).
FIELD_LABELS = {
    "reference": "référence", "title": "intitulé", "description": "description",
    "owner_id": "maître d'ouvrage", "status": "statut", "cost_ht": "coût HT",
    "cost_ttc": "coût TTC", "base_kind": "base du plan (HT ou TTC)",
    "eligible_cost": "dépense subventionnable", "deposit_date": "date de dépôt",
    "early_start_date": "autorisation de commencement anticipé",
    "decision_date": "date de décision", "notification_date": "date de notification",
    "start_date": "date de début", "end_date": "date de fin",
    "start_extension_months": "prorogation du délai de commencement",
    "completion_extension_months": "prorogation du délai d'achèvement",
    "chef_de_file": "chef de file", "own_share_exception": "dérogation à la participation "
    "minimale", "own_share_exception_ref": "référence de la dérogation", "notes": "notes",
    "communes": "communes", "epcis": "EPCI", "type_id": "type de contrat",
    "signature_date": "date de signature", "arrondissement_code": "arrondissement",
    "territory": "territoire", "envelope_total": "enveloppe totale",
    "envelope_state": "enveloppe de l'État", "financer_id": "financeur",
    "scheme_code": "dispositif", "amount_requested": "montant sollicité",
    "amount_granted": "montant accordé", "decision_reference": "référence de la décision",
    "planned_completion_date": "date d'achèvement fixée par la décision",
    "commission_opinion_date": "date de l'avis de la commission", "budget_year": "exercice",
    "position": "ordre", "kind": "nature", "payment_date": "date du versement",
    "amount": "montant", "organisation_id": "organisation", "role": "qualité du signataire",
    "signing_date": "date de signature", "person_name": "personne qui signe",
    "phone": "téléphone", "email": "courriel", "number": "numéro",
    "amendment_date": "date de l'avenant", "subject": "objet",
    "envelope_change": "variation de l'enveloppe", "meeting_date": "date de la réunion",
    "decisions": "décisions", "label": "libellé", "amount_ht": "montant HT",
    "amount_ttc": "montant TTC", "eligible": "subventionnable", "contract_id": "contrat",
    "operation_id": "opération", "funding_line_id": "ligne de financement",
}
_MONEY_FIELDS = {"cost_ht", "cost_ttc", "eligible_cost", "envelope_total", "envelope_state",
                 "amount_requested", "amount_granted", "amount", "amount_ht", "amount_ttc",
                 "envelope_change"}
_STATUSES = {"operation": OperationStatus, "contract": ContractStatus,
             "funding_line": FundingStatus}


@dataclass(frozen=True)
class Change:
    """One record of the document that changed since its edition, in words."""

    entity: str
    change: str  # MODIFIED, DELETED or ADDED
    name: str | None  # "FICTIF-DETR-2025-005 « Salle des fêtes »"; None: no trace left
    parent: tuple[str, str] | None = None  # ("operation", "FICTIF-DETR-2025-005")
    fields: tuple[str, ...] = ()  # "coût HT : 200 000,00 € → 210 000,00 €"
    record_id: str = ""
    # A payment is named by its kind ("avance de 10 000,00 € du 02/03/2025"): its gender.
    noun: tuple[str, bool] | None = None


def _of(parent: tuple[str, str]) -> str:
    """("operation", "X") → "de l'opération X"; ("contract", "X") → "du contrat X"."""
    return f"de l'opération {parent[1]}" if parent[0] == "operation" \
        else f"du contrat {parent[1]}"


def _plain_parent(parent: tuple[str, str]) -> str:
    return f"{ENTITIES[parent[0]][0]} {parent[1]}"


def _participle(change: str, feminine: bool, plural: bool) -> str:
    return _PARTICIPLES[change] + ("e" if feminine else "") + ("s" if plural else "")


def _lines(changes: list[Change]) -> list[str]:
    """One line per record, except that the records of one kind sharing a parent and
    a change (three payments of an operation deleted) make one line, and so do the
    records of which nothing is left to name them."""
    groups: dict[tuple, list[Change]] = {}
    for change in changes:
        shared = change.parent is not None or change.name is None
        key = ((change.entity, change.change, change.parent, change.fields) if shared
               else (id(change),))
        groups.setdefault(key, []).append(change)
    lines = []
    for group in groups.values():
        first, many = group[0], len(group) > 1
        singular, plural, feminine = ENTITIES.get(first.entity, ("fiche", "fiches", True))
        fields = f" ({' ; '.join(first.fields)})" if first.fields else ""
        if first.name is None:
            noun = f"{len(group)} {plural}" if many else singular
            lines.append(f"{noun} : {_participle(first.change, feminine, many)}{fields}, "
                         "sans trace dans la base ni dans son historique")
        elif not many:
            if first.noun:  # "avance de 10 000,00 € du 02/03/2025"
                words, feminine = first.name, first.noun[1]
            else:
                words = f"{singular} {first.name}"
            parent = f" ({_plain_parent(first.parent)})" if first.parent else ""
            lines.append(f"{words}{parent} : {_participle(first.change, feminine, False)}"
                         f"{fields}")
        else:
            names = [c.name for c in group]
            shown = " ; ".join(names[:6]) + (f" et {len(names) - 6} autres"
                                               if len(names) > 6 else "")
            parent = f" {_of(first.parent)}" if first.parent else ""
            lines.append(f"{len(group)} {plural}{parent} : "
                         f"{_participle(first.change, feminine, True)}{fields} — {shown}")
    return lines


@dataclass
class Verdict:
    matches: bool
    printed: str
    current: str | None
    changed: list[str]  # French lines: the records changed since the print, grouped
    changes: list[Change] = field(default_factory=list)
    reason: str | None = None  # why the document cannot be made again, if it cannot
    foreign: bool = False  # none of its records is in this base nor in its audit trail

    def message(self) -> str:
        if self.matches:
            return (f"Le document correspond à la base : empreinte {self.printed}, aucune "
                    "fiche modifiée depuis son édition.")
        lines = [f"Le document ne correspond plus à la base (empreinte imprimée "
                 f"{self.printed}, empreinte actuelle {self.current or 'indisponible'})."]
        if self.reason:
            lines.append(f"Il ne peut plus être refait depuis la base : {self.reason}")
        if self.foreign:
            deleted = [c for c in self.changes if c.change == DELETED]
            counts: dict[str, int] = {}
            for change in deleted:
                counts[change.entity] = counts.get(change.entity, 0) + 1
            kinds = ", ".join(f"{n} {ENTITIES.get(e, ('fiche', 'fiches'))[n > 1]}"
                              for e, n in counts.items())
            which = (f"Aucune des {len(deleted)} fiches du document ({kinds}) n'est"
                     if len(deleted) > 1 else f"La fiche du document ({kinds}) n'est")
            lines.append(f"{which} ni dans cette base ni dans son historique : il a sans doute "
                         "été édité depuis une autre base, ou cette base a été recréée depuis.")
            return "\n".join(lines)
        count = len(self.changes)
        if count:
            lines.append(f"Depuis son édition, {count} fiche{'s ont' if count > 1 else ' a'} "
                         "changé :")
            lines += [f"  - {line}" for line in self.changed]
        elif not self.reason:
            lines.append("Aucune de ses fiches n'a été modifiée, supprimée ni ajoutée, mais ce "
                         "qu'il imprime a changé : le nom d'un acteur, d'une commune, d'un "
                         "dispositif ou l'identité du service a été modifié depuis son édition.")
        return "\n".join(lines)


def _utc(moment: datetime) -> datetime:
    """Audit times come back naive from SQLite (stored in UTC), aware from PostgreSQL."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


class _Records:
    """The values of records, from the database or, for a deleted one, from the audit
    trail (a deletion keeps the record's last values); read in batches, remembered."""

    def __init__(self, session: Session) -> None:
        from db.models import Base

        self.session = session
        self.models = {m.class_.__tablename__: m.class_ for m in Base.registry.mappers}
        self.known: dict[tuple[str, str], dict[str, Any] | None] = {}
        self.present: set[tuple[str, str]] = set()

    def load(self, entity: str, ids: list[str]) -> None:
        missing = [i for i in dict.fromkeys(ids) if (entity, i) not in self.known and i]
        model = self.models.get(entity)
        if not missing or model is None:
            return
        columns = [c.key for c in model.__mapper__.column_attrs]
        for start in range(0, len(missing), 500):
            chunk = [uuid.UUID(i) for i in missing[start:start + 500]]
            for record in self.session.scalars(select(model).where(model.id.in_(chunk))):
                key = (entity, str(record.id))
                self.known[key] = {c: audit_plain(getattr(record, c)) for c in columns}
                self.present.add(key)
        gone = [i for i in missing if (entity, i) not in self.known]
        for start in range(0, len(gone), 500):
            for entity_id, action, changes in self.session.execute(
                    select(AuditEntry.entity_id, AuditEntry.action, AuditEntry.changes)
                    .where(AuditEntry.entity == entity,
                           AuditEntry.entity_id.in_(gone[start:start + 500]))
                    .order_by(AuditEntry.at)):
                values = self.known.setdefault((entity, entity_id), {})
                if action == "update":
                    values.update({k: v[1] for k, v in changes.items()
                                   if isinstance(v, list) and len(v) == 2})
                else:  # insert and delete carry the whole record
                    values.update(changes)
        for i in gone:
            self.known.setdefault((entity, i), None)

    def get(self, entity: str, record_id: str | None) -> dict[str, Any] | None:
        if not record_id:
            return None
        self.load(entity, [record_id])
        return self.known.get((entity, record_id))

    def organisation(self, record_id: str | None) -> str | None:
        values = self.get("organisation", record_id)
        return values.get("name") if values else None

    def reference(self, entity: str, record_id: str | None) -> str | None:
        values = self.get(entity, record_id)
        return values.get("reference") if values else None


def _title(values: dict[str, Any]) -> str:
    title = str(values.get("title") or "")
    title = title if len(title) <= 70 else title[:69].rstrip() + "…"
    reference = values.get("reference") or ""
    return f"{reference} « {title} »" if title else reference


def _money(value: Any) -> str:
    try:
        return euros(Decimal(str(value)))
    except (ArithmeticError, ValueError):
        return str(value)


def _day(value: Any) -> str:
    try:
        return short_date(date.fromisoformat(str(value)[:10]))
    except ValueError:
        return str(value)


def _name(records: _Records, entity: str, values: dict[str, Any],
          schemes: dict[str, str]) -> tuple[str, tuple[str, str] | None]:
    """The words that identify a record (its reference and title, the scheme and the
    financer, the organisation's name…) and its parent (the operation, the contract)."""
    if entity in ("operation", "contract"):
        return _title(values), None
    operation = records.reference("operation", values.get("operation_id"))
    of_operation = ("operation", operation) if operation else None
    if entity == "funding_line":
        scheme = schemes.get(values.get("scheme_code") or "", values.get("scheme_code"))
        financer = records.organisation(values.get("financer_id"))
        by = elide("de", with_article(financer)) if financer else ""
        return " ".join(w for w in (scheme, by) if w) or "sans dispositif ni financeur", \
            of_operation
    if entity == "payment":
        line = records.get("funding_line", values.get("funding_line_id")) or {}
        operation = records.reference("operation", line.get("operation_id"))
        return (f"{_payment_kind(values.get('kind'))} de {_money(values.get('amount'))} du "
                f"{_day(values.get('payment_date'))}"), \
            ("operation", operation) if operation else None
    if entity == "expense_item":
        return f"« {values.get('label') or ''} »", of_operation
    contract = records.reference("contract", values.get("contract_id"))
    of_contract = ("contract", contract) if contract else None
    if entity == "signatory":
        return records.organisation(values.get("organisation_id")) or "sans nom", of_contract
    if entity == "amendment":
        return f"n° {values.get('number')}", of_contract
    if entity == "steering_meeting":
        return (f"« {values.get('kind') or 'réunion'} » du "
                f"{_day(values.get('meeting_date'))}"), of_contract
    return values.get("reference") or values.get("name") or "", None


def _payment_kind(code: Any) -> str:
    try:
        return PaymentKind(code).label.lower()
    except ValueError:
        return "versement"


def _value(entity: str, key: str, value: Any) -> str | None:
    """A field's value as the agent reads it, or None when it does not read shortly."""
    if value is None or value == "" or value == []:
        return "vide"
    if key in _MONEY_FIELDS:
        return _money(value)
    if key.endswith("_date"):
        return _day(value)
    if key == "status" and entity in _STATUSES:
        try:
            return _STATUSES[entity](value).label.lower()
        except ValueError:
            return str(value)
    if key == "kind" and entity == "payment":
        return _payment_kind(value)
    if isinstance(value, bool):
        return "oui" if value else "non"
    if key in ("budget_year", "number", "start_extension_months",
               "completion_extension_months", "base_kind", "scheme_code"):
        return str(value)
    return None


def _what_changed(session: Session, entity: str, record_id: str,
                  since: datetime | None) -> tuple[str, ...]:
    """The fields the audit trail shows changed since the edition, first old value to
    last new one ("coût HT : 200 000,00 € → 210 000,00 €")."""
    if since is None:
        return ()
    fields: dict[str, list[Any]] = {}
    for (changes,) in session.execute(
            select(AuditEntry.changes)
            .where(AuditEntry.entity == entity, AuditEntry.entity_id == record_id,
                   AuditEntry.action == "update", AuditEntry.at >= since)
            .order_by(AuditEntry.at)):
        for key, pair in changes.items():
            if isinstance(pair, list) and len(pair) == 2:
                fields.setdefault(key, [pair[0], pair[1]])[1] = pair[1]
    words = []
    for key, (old, new) in fields.items():
        if old == new or key not in FIELD_LABELS:
            continue
        before, after = _value(entity, key, old), _value(entity, key, new)
        words.append(f"{FIELD_LABELS[key]} : {before} → {after}"
                     if before is not None and after is not None else FIELD_LABELS[key])
    return tuple(words)


CHILD_LIMIT = 20_000  # audit entries read to say what changed under each operation


def _changes_under_operations(session: Session, records: _Records,
                              since: datetime | None) -> dict[str, tuple[str, ...]]:
    """For each operation, what the audit trail shows of its funding lines, payments and
    expense items since the edition: ("1 financement ajouté", "2 versements modifiés")."""
    if since is None:
        return {}
    entries = session.execute(
        select(AuditEntry.entity, AuditEntry.entity_id, AuditEntry.action)
        .where(AuditEntry.entity.in_(("funding_line", "payment", "expense_item")),
               AuditEntry.at >= since).order_by(AuditEntry.at).limit(CHILD_LIMIT)).all()
    for entity in ("payment", "expense_item", "funding_line"):
        records.load(entity, [i for e, i, _ in entries if e == entity])
    records.load("funding_line", [(records.get("payment", i) or {}).get("funding_line_id")
                                  for e, i, _ in entries if e == "payment"])
    done: dict[str, dict[tuple[str, str], set[str]]] = {}
    for entity, entity_id, action in entries:
        values = records.get(entity, entity_id) or {}
        if entity == "payment":
            values = records.get("funding_line", values.get("funding_line_id")) or {}
        operation = values.get("operation_id")
        if operation:
            done.setdefault(str(operation), {}).setdefault((entity, action), set()).add(
                entity_id)
    words = {"insert": ADDED, "update": MODIFIED, "delete": DELETED}
    result = {}
    for operation, counts in done.items():
        parts = []
        for (entity, action), ids in counts.items():
            singular, plural, feminine = ENTITIES[entity]
            many = len(ids) > 1
            parts.append(f"{len(ids)} {plural if many else singular} "
                         f"{_participle(words.get(action, MODIFIED), feminine, many)}")
        result[operation] = tuple(parts)
    return result


def _explain_operations(session: Session, records: _Records, changes: list[Change],
                        since: datetime | None) -> list[Change]:
    """An operation whose own fields did not change was changed through its lines or
    payments: said after its name when the document does not list them, left out when
    it does (its lines and payments have their own lines)."""
    parents = {c.parent for c in changes if c.parent}
    under: dict[str, tuple[str, ...]] | None = None
    result = []
    for change in changes:
        if change.entity == "operation" and change.change == MODIFIED and not change.fields:
            reference = change.name.split(" « ")[0] if change.name else None
            if ("operation", reference) in parents:
                continue
            if under is None:
                under = _changes_under_operations(session, records, since)
            if under.get(change.record_id):
                change = replace(change, fields=under[change.record_id])
        result.append(change)
    return result


def check_document(db: Database, provenance: Provenance,
                   printed_at: datetime | None = None) -> Verdict:
    """Compare a printed document's provenance with the database today: which of its
    records were modified or deleted, which were added to what it covers (an operation
    added to the contract, a payment to a line), named in words. *printed_at*, the time
    of its edition, lets the audit trail say which fields changed since."""
    reason = None
    try:
        rebuilt = rebuild(db, provenance).provenance
    except UserError as error:
        rebuilt, reason = None, error.message
    since = _utc(printed_at) if printed_at else None
    versions = current_versions(db, provenance.records)
    printed_ids = {(r.entity, r.id) for r in provenance.records}
    changes: list[Change] = []
    with db.read() as session:
        records = _Records(session)
        schemes = scheme_labels(session)
        touched = [r for r in provenance.records if versions.get((r.entity, r.id)) != r.version]
        added = [r for r in (rebuilt.records if rebuilt else [])
                 if (r.entity, r.id) not in printed_ids]
        for entity in {r.entity for r in touched + added}:
            records.load(entity, [r.id for r in touched + added if r.entity == entity])
        for record in touched + added:
            values = records.get(record.entity, record.id)
            kind = (ADDED if (record.entity, record.id) not in printed_ids
                    else DELETED if (record.entity, record.id) not in versions else MODIFIED)
            if values is None:
                changes.append(Change(record.entity, kind, None, record_id=record.id))
                continue
            name, parent = _name(records, record.entity, values, schemes)
            fields = (_what_changed(session, record.entity, record.id, since)
                      if kind == MODIFIED else ())
            noun = ((_payment_kind(values.get("kind")), values.get("kind") == "avance")
                    if record.entity == "payment" else None)
            changes.append(Change(record.entity, kind, name, parent, fields, record.id, noun))
        changes = _explain_operations(session, records, changes, since)
    current = rebuilt.fingerprint if rebuilt else None
    foreign = bool(provenance.records) and sum(
        1 for c in changes if c.change == DELETED and c.name is None) == len(provenance.records)
    return Verdict(not changes and current == provenance.fingerprint, provenance.fingerprint,
                   current, _lines(changes), changes, reason, foreign)
