"""The words of a history line: when, which origin, which record, which field, and the
old and new values as the agent reads them (names, not uuids; euros; French dates)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from babel.dates import format_date
from sqlalchemy import select
from sqlalchemy.orm import Session

from db.documents.common import scheme_labels
from db.documents.verification import FIELD_LABELS, _Records
from db.formatting import LOCALE, euros, short_date
from db.models import Arrondissement, Commune, Departement, Epci, Region
from db.text import elide, with_article
from db.vocabulary import (
    ActKind,
    AttachmentKind,
    BaseKind,
    ContractStatus,
    FundingStatus,
    Labelled,
    OperationStatus,
    OrganisationKind,
    OwnShareException,
    PaymentKind,
)

ORIGIN_LABELS = {"saisie": "Saisie", "import": "Import", "terrain": "Copie de terrain",
                 "démonstration": "Démonstration",
                 "simulation": "Simulation de programmation"}  # db.programming
ACTION_LABELS = {"insert": "création", "update": "modification", "delete": "suppression"}

# What an agent calls each kind of record (the history lists no bookkeeping table).
ENTITY_NOUNS = {
    "operation": "Opération", "contract": "Contrat", "organisation": "Organisation",
    "funding_line": "Ligne", "payment": "Versement", "expense_item": "Poste de dépense",
    "axis": "Axe", "signatory": "Signataire", "amendment": "Avenant",
    "steering_meeting": "Réunion", "operation_contract": "Rattachement au contrat",
    "contract_type": "Type de contrat",
    # Programmation (db.programming): the lines of a simulation only as the agent edits
    # them (db.history.trail leaves out their creation, deletion and application).
    "envelope": "Enveloppe", "simulation": "Simulation",
    "simulation_line": "Proposition", "priority_category": "Catégorie prioritaire",
    "attachment": "Pièce jointe",  # db.attachments
    "act_template": "Modèle d'acte", "act": "Acte",  # db.acts
}

# Fields the verification of documents does not name (organisations, links, types).
_MORE_LABELS = {
    "name": "nom", "acronym": "sigle", "siren": "SIREN", "commune_code": "commune",
    "epci_code": "EPCI", "departement_code": "département", "region_code": "région",
    "aliases": "autres noms", "contact_name": "contact", "contact_role": "fonction du contact",
    "axis_id": "axe", "code": "code", "default_duration_years": "durée habituelle (ans)",
    "approach": "démarche", "typical_parties": "parties habituelles", "builtin": "prédéfini",
    "origin": "origine", "source": "source",
}
# What a field is called on one kind of record (the envelope's amount is « notifié »).
_ENTITY_LABELS: dict[str, dict[str, str]] = {
    "envelope": {"scheme_code": "dotation", "year": "année", "amount": "montant notifié",
                 "departement_code": "département", "arrondissement_code": "arrondissement",
                 "parent_id": "déléguée de"},
    "simulation": {"name": "nom", "envelope_id": "enveloppe",
                   "decision_date": "date de décision", "applied_at": "appliquée le",
                   "applied_by": "appliquée par"},
    "priority_category": {"departement_code": "département", "position": "rang"},
    "attachment": {"kind": "nature", "file_name": "nom du fichier", "size": "taille",
                   "sha256": "empreinte sha256", "media_type": "type de fichier",
                   "notes": "note"},
    "act_template": {"kind": "acte", "scheme_code": "dispositif",
                     "file_name": "nom du fichier", "sha256": "empreinte sha256"},
    "act": {"kind": "acte", "generated_on": "édité le", "fingerprint": "empreinte",
            "template_sha256": "empreinte du modèle", "pages": "pages",
            "signed_on": "signé le", "signed_attachment_id": "scan signé"},
    "simulation_line": {"simulation_id": "simulation", "proposed": "montant proposé",
                        "status": "statut provisoire", "category_id": "catégorie prioritaire",
                        "opinion": "avis de la commission", "position": "rang"},
}
# What applying a simulation keeps to undo it: bookkeeping, never shown.
HIDDEN_FIELDS = {"simulation_line": {"before_status", "before_granted",
                                     "before_decision_date", "applied_version"}}
_KIND_BY_ENTITY: dict[str, type[Labelled]] = {"payment": PaymentKind,
                                               "organisation": OrganisationKind,
                                               "attachment": AttachmentKind,
                                               "act_template": ActKind, "act": ActKind}
_STATUS_BY_ENTITY: dict[str, type[Labelled]] = {
    "operation": OperationStatus, "contract": ContractStatus, "funding_line": FundingStatus}
_MONEY = {"cost_ht", "cost_ttc", "eligible_cost", "envelope_total", "envelope_state",
          "amount_requested", "amount_granted", "amount", "amount_ht", "amount_ttc",
          "envelope_change", "proposed", "before_granted"}
_ORGANISATION_KEYS = {"owner_id", "financer_id", "organisation_id"}
EMPTY = "(vide)"
TEXT_LIMIT = 300  # a long note is cut in the table; the tooltip of the cell shows it whole


def _lower_label(key: str, entity: str | None = None) -> str:
    return (_ENTITY_LABELS.get(entity or "", {}).get(key) or FIELD_LABELS.get(key)
            or _MORE_LABELS.get(key) or key)


def field_label(key: str, entity: str | None = None) -> str:
    label = _lower_label(key, entity)
    return label[:1].upper() + label[1:]


def origin_label(origin: str | None) -> str:
    """Rows written before the origin was recorded were all typed in an editor."""
    if not origin:
        return ORIGIN_LABELS["saisie"]
    return ORIGIN_LABELS.get(origin, origin[:1].upper() + origin[1:])


def utc(moment: datetime) -> datetime:
    """SQLite gives back the stored UTC time naive, PostgreSQL an aware one."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def moment_text(moment: datetime) -> str:
    """« 3 déc. 2026 à 10 h 42 », in the local time of the workstation."""
    local = utc(moment).astimezone()
    return (f"{format_date(local.date(), format='d MMM y', locale=LOCALE)} à "
            f"{local.hour} h {local.minute:02d}")


def _label(enum: type[Labelled], code: Any) -> str:
    try:
        return enum(code).label
    except ValueError:
        return str(code)


def _day(value: Any) -> str:
    try:
        return short_date(date.fromisoformat(str(value)[:10]))
    except ValueError:
        return str(value)


# Foreign keys whose record a history line names.
_REFERENCES = {"owner_id": "organisation", "financer_id": "organisation",
               "organisation_id": "organisation", "operation_id": "operation",
               "contract_id": "contract", "funding_line_id": "funding_line",
               "type_id": "contract_type", "axis_id": "axis",
               "envelope_id": "envelope", "simulation_id": "simulation",
               "category_id": "priority_category"}
# Keys that name another record of the same kind only on some tables.
_REFERENCES_OF = {"envelope": {"parent_id": "envelope"}}


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


class Namer:
    """Names records and values for one session, each looked up once (a page of the
    journal names dozens of records, mostly the same few organisations)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.records = _Records(session)
        self._schemes: dict[str, str] | None = None
        self._places: dict[tuple[type, str], str] = {}

    # --- lookups ------------------------------------------------------------------------

    def preload(self, entries: list[Any]) -> None:
        """Read in a few batches every record a page of entries names, and the records
        those name in turn (a payment's line, the line's operation and financer): one
        query per record made a page of the journal take a third of a second."""
        wanted: dict[str, set[str]] = {}

        def want(entity: str, record_id: Any) -> None:
            if record_id and (entity, str(record_id)) not in self.records.known:
                wanted.setdefault(entity, set()).add(str(record_id))

        def references(values: dict[str, Any], update: bool, entity: str) -> None:
            names = {**_REFERENCES, **_REFERENCES_OF.get(entity, {})}
            for key, value in values.items():
                if key in names:
                    for item in value if update and isinstance(value, list) else [value]:
                        want(names[key], item)

        for entry in entries:
            if entry.entity in ENTITY_NOUNS and entry.entity != "operation_contract":
                want(entry.entity, entry.entity_id)
            references(entry.changes or {}, entry.action == "update", entry.entity)
        for _depth in range(3):  # payment → line → operation and financer
            if not wanted:
                break
            batch, wanted = wanted, {}
            for entity, ids in batch.items():
                ids = [i for i in ids if _is_uuid(i)]
                self.records.load(entity, ids)
                for i in ids:
                    references(self.records.known.get((entity, i)) or {}, False, entity)

    def values(self, entity: str, record_id: str | None) -> dict[str, Any]:
        if not record_id or entity == "operation_contract":
            return {}
        if not _is_uuid(str(record_id)):  # a key the audit could not know yet ("None/…")
            return {}
        return self.records.get(entity, str(record_id)) or {}

    def scheme(self, code: Any) -> str:
        if self._schemes is None:
            self._schemes = scheme_labels(self.session)
        return self._schemes.get(str(code), str(code))

    def place(self, model: type, code: Any) -> str:
        key = (model, str(code))
        if key not in self._places:
            name = self.session.scalar(select(model.name).where(model.code == str(code)))
            self._places[key] = name or str(code)
        return self._places[key]

    def organisation(self, record_id: Any) -> str:
        return self.values("organisation", record_id).get("name") or "organisation supprimée"

    # --- values -------------------------------------------------------------------------

    def value(self, entity: str, key: str, value: Any) -> str:
        if entity == "simulation_line" and key == "status" and value is None:
            return "À examiner"
        if value is None or value == "" or value == []:
            return EMPTY
        if key in _MONEY:
            try:
                return euros(Decimal(str(value)))
            except ArithmeticError:
                return str(value)
        if key.endswith("_date"):
            return _day(value)
        if key == "size" and entity == "attachment":
            from db.attachments.service import size_label

            return size_label(int(value))
        if key == "applied_at":
            try:
                return moment_text(datetime.fromisoformat(str(value)))
            except ValueError:
                return str(value)
        if key == "position" and entity in ("simulation_line", "priority_category"):
            return str(int(value) + 1) if str(value).isdigit() else str(value)
        if key == "status" and entity == "simulation_line":
            from db.programming.simulations import STATUS_LABELS

            return STATUS_LABELS.get(value, str(value))
        if key == "envelope_id" or (key == "parent_id" and entity == "envelope"):
            return self.envelope_title(value) or "enveloppe supprimée"
        if key == "simulation_id":
            return self.record_name("simulation", str(value))
        if key == "category_id":
            return self.values("priority_category", value).get("label") \
                or "catégorie supprimée"
        if key == "status" and entity in _STATUS_BY_ENTITY:
            return _label(_STATUS_BY_ENTITY[entity], value)
        if key == "kind" and entity in _KIND_BY_ENTITY:
            return _label(_KIND_BY_ENTITY[entity], value)
        if key == "base_kind":
            return _label(BaseKind, value)
        if key == "own_share_exception":
            return _label(OwnShareException, value)
        if isinstance(value, bool):
            return "oui" if value else "non"
        if key in _ORGANISATION_KEYS:
            return self.organisation(value)
        if key == "scheme_code":
            return self.scheme(value)
        if key == "type_id":
            return self.values("contract_type", value).get("label") or str(value)
        if key == "operation_id":
            return self.values("operation", value).get("reference") or "opération supprimée"
        if key == "contract_id":
            return self.values("contract", value).get("reference") or "contrat supprimé"
        if key == "axis_id":
            axis = self.values("axis", value)
            return " ".join(str(p) for p in (axis.get("number"), axis.get("label")) if p) \
                or "axe supprimé"
        if key == "funding_line_id":
            return self.record_name("funding_line", str(value))
        if key in ("communes", "commune_code"):
            codes = value if isinstance(value, list) else [value]
            return ", ".join(self.place(Commune, c) for c in codes)
        if key in ("epcis", "epci_code"):
            codes = value if isinstance(value, list) else [value]
            return ", ".join(self.place(Epci, c) for c in codes)
        if key == "arrondissement_code":
            return self.place(Arrondissement, value)
        if key == "departement_code":
            return self.place(Departement, value)
        if key == "region_code":
            return self.place(Region, value)
        text = " ".join(str(value).split())  # a note's line breaks would hide the rest
        return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT - 1].rstrip() + "…"

    # --- records ------------------------------------------------------------------------

    def perimeter(self, values: dict[str, Any]) -> str:
        """« Arrondissement d'Avesnes-sur-Helpe », « Nord » (as db.programming names it)."""
        if values.get("arrondissement_code"):
            return "Arrondissement " + elide("de", self.place(
                Arrondissement, values["arrondissement_code"]))
        if values.get("departement_code"):
            return self.place(Departement, values["departement_code"])
        return ""

    def envelope_title(self, record_id: Any, values: dict[str, Any] | None = None) -> str:
        """« DETR 2026 — Arrondissement d'Avesnes-sur-Helpe »; empty if nothing is known."""
        values = values or self.values("envelope", record_id)
        if not values:
            return ""
        words = " ".join(str(w) for w in (self.scheme(values["scheme_code"])
                                          if values.get("scheme_code") else "",
                                          values.get("year") or "") if w)
        perimeter = self.perimeter(values)
        return f"{words} — {perimeter}" if words and perimeter else words or perimeter

    def record_name(self, entity: str, record_id: str,
                    values: dict[str, Any] | None = None) -> str:
        """« Ligne DETR de l'État », « Versement : acompte de 5 000,00 € du 02/05/2025 »,
        « Opération OP-12 « Salle des fêtes » »."""
        values = values if values is not None else self.values(entity, record_id)
        noun = ENTITY_NOUNS.get(entity, entity)
        if entity in ("operation", "contract"):
            title = str(values.get("title") or "")
            title = title if len(title) <= 70 else title[:69].rstrip() + "…"
            reference = values.get("reference") or ""
            return f"{noun} {reference} « {title} »" if title else f"{noun} {reference}"
        if entity == "organisation":
            return f"{noun} {values.get('name') or ''}".strip()
        if entity == "funding_line":
            scheme = self.scheme(values["scheme_code"]) if values.get("scheme_code") else ""
            financer = self.organisation(values["financer_id"]) \
                if values.get("financer_id") else ""
            by = elide("de", with_article(financer)) if financer else ""
            return " ".join(w for w in (noun, scheme, by) if w) if (scheme or by) \
                else f"{noun} sans dispositif ni financeur"
        if entity == "payment":
            kind = _label(PaymentKind, values.get("kind")).lower() if values.get("kind") \
                else "versement"
            amount = self.value(entity, "amount", values.get("amount"))
            return f"{noun} : {kind} de {amount} du {_day(values.get('payment_date'))}"
        if entity == "expense_item":
            return f"{noun} « {values.get('label') or ''} »"
        if entity == "axis":
            return " ".join(str(p) for p in (noun, values.get("number"), values.get("label"))
                            if p)
        if entity == "signatory":
            return f"{noun} : {self.organisation(values.get('organisation_id'))}"
        if entity == "amendment":
            return f"{noun} n° {values.get('number')}"
        if entity == "steering_meeting":
            return f"{values.get('kind') or 'Réunion'} du {_day(values.get('meeting_date'))}"\
                .capitalize()
        if entity == "operation_contract":
            contract = record_id.split("/")[-1]
            return f"{noun} {self.value(entity, 'contract_id', contract)}"
        if entity == "envelope":
            return f"{noun} {self.envelope_title(record_id, values)}".strip()
        if entity == "simulation":
            envelope = self.envelope_title(values.get("envelope_id"))
            return f"{noun} « {values.get('name') or ''} »" + (f" ({envelope})"
                                                               if envelope else "")
        if entity == "priority_category":
            place = self.place(Departement, values["departement_code"]) \
                if values.get("departement_code") else ""
            return f"{noun} « {values.get('label') or ''} »" + (f" ({place})" if place else "")
        if entity == "attachment":
            return f"{noun} « {values.get('file_name') or ''} »"
        if entity == "act_template":
            kind = _label(ActKind, values.get("kind")) if values.get("kind") else ""
            scheme = self.scheme(values["scheme_code"]) if values.get("scheme_code") \
                else "tous dispositifs"
            return f"{noun} : {kind} — {scheme}"
        if entity == "act":
            kind = _label(ActKind, values.get("kind")) if values.get("kind") else ""
            line = self.values("funding_line", values.get("funding_line_id"))
            operation = self.values("operation", line.get("operation_id"))
            title = str(operation.get("title") or "")
            title = title if len(title) <= 70 else title[:69].rstrip() + "…"
            where = f"{operation.get('reference') or ''} « {title} »" if operation \
                else "opération supprimée"
            return f"{noun} : {kind} — {where}"
        if entity == "simulation_line":
            line = self.values("funding_line", values.get("funding_line_id"))
            operation = self.values("operation", line.get("operation_id"))
            if not operation:
                return f"{noun} sur un financement supprimé"
            title = str(operation.get("title") or "")
            title = title if len(title) <= 70 else title[:69].rstrip() + "…"
            return f"{noun} pour {operation.get('reference') or ''} « {title} »"
        return f"{noun} {values.get('label') or values.get('code') or ''}".strip()

    def summary(self, entity: str, snapshot: dict[str, Any]) -> str:
        """What a created or deleted record held, in a few words."""
        keys = _SUMMARY_KEYS.get(entity, ())
        parts = [f"{_lower_label(k, entity)} : "
                 f"{self.value(entity, k, snapshot.get(k))}"
                 for k in keys if snapshot.get(k) not in (None, "", [])]
        return " ; ".join(parts)


_SUMMARY_KEYS: dict[str, tuple[str, ...]] = {
    "operation": ("status", "cost_ht", "cost_ttc"),
    "contract": ("status", "signature_date", "envelope_total"),
    "organisation": ("kind", "siren"),
    "funding_line": ("status", "amount_requested", "amount_granted"),
    "payment": ("amount", "payment_date", "reference"),
    "expense_item": ("amount_ht", "amount_ttc"),
    "signatory": ("role", "signing_date"),
    "amendment": ("amendment_date", "subject", "envelope_change"),
    "steering_meeting": ("decisions",),
    "operation_contract": ("axis_id",),
    "envelope": ("amount", "parent_id"),
    "simulation": ("decision_date", "applied_at"),
    "attachment": ("kind", "size"),
    "act_template": ("file_name",),
    "act": ("generated_on", "pages", "signed_on"),
}
