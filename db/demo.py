"""The demonstration database.

Two clearly separated parts, both written through the services in one
transaction (all of it, or nothing):

* every contract and operation of the 2019 seed document
  (``resources/seed/seed_contracts.json``), with the amounts the text states;
  an amount the text does not give stays empty ("non communiqué"), never 0;
* a **fictitious example**, labelled as such everywhere (origin ``demo_fictif``,
  references ``FICTIF-…``, notes): one year (2025) of DETR/DSIL operations in
  the arrondissement of Avesnes-sur-Helpe (591) with complete financing plans
  and payments, and a CRTE grouping part of them, so that every screen has
  complete data to show.
"""

from __future__ import annotations

import json
import random
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from db.database import Database
from db.errors import RuleViolation, UserError
from db.models import Commune, Contract, Epci, Operation, Organisation, Setting, epci_member
from db.money import round_cents
from db.reference import resource
from db.rules import proposed_end_date
from db.services.contracts import (
    AmendmentData,
    AxisData,
    ContractData,
    MeetingData,
    SignatoryData,
    save_contract_in,
)
from db.services.operations import (
    FundingLineData,
    LinkData,
    OperationData,
    PaymentData,
    save_operation_in,
)
from db.services.organisations import (
    OrganisationData,
    find_organisation_in,
    save_organisation_in,
)
from db.services.settings import ARRONDISSEMENT
from db.text import commune_organisation_name, normalize
from db.vocabulary import (
    ContractStatus,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
    OwnShareException,
    PaymentKind,
)

DEMO_ARRONDISSEMENT = "591"
ORIGIN_SEED = "demo_seed"
ORIGIN_FICTIVE = "demo_fictif"
FICTIVE_NOTE = ("EXEMPLE FICTIF — données inventées pour la démonstration, sans rapport avec "
                "la programmation réelle de l'arrondissement.")
SEED_REGION = "32"  # the seed document covers Hauts-de-France

ACTOR_KINDS = {
    "État service": OrganisationKind.STATE,
    "opérateur de l’État": OrganisationKind.STATE_OPERATOR,
    "établissement public": OrganisationKind.PUBLIC_BODY,
    "région": OrganisationKind.REGION,
    "département": OrganisationKind.DEPARTEMENT,
    "commune": OrganisationKind.COMMUNE,
    "UE": OrganisationKind.EU,
    "association": OrganisationKind.ASSOCIATION,
    "entreprise": OrganisationKind.COMPANY,
    "PETR": OrganisationKind.LOCAL_GROUPING,
    "autre (parc naturel régional)": OrganisationKind.LOCAL_GROUPING,  # syndicat mixte
}

# Seed strings whose wording does not lead to an actor by itself.
ACTOR_ALIASES = {
    "état (direccte hauts de france)": "direccte",
    "état (ministere de l'economie et des finances)": "minefi",
    "direction generale des entreprises et direccte": "dge",
    "draaf (en collaboration avec la chambre d'agriculture du nord et du pas de calais "
    "et les collectivites)": "draaf",
    "rectorat de l'academie d'amiens et conseil regional hauts de france": "rectorat-amiens",
    "conseil regional": "region-hdf",
    "prefet": "etat",
}

# Signatory strings naming a person's role: (pattern whose group 1 is the role, actor).
SIGNATORY_ROLES = [
    (re.compile(r"^état — (.+)$"), "etat"),
    (re.compile(r"^(préfet.*)$"), "etat"),
    (re.compile(r"^(président) du conseil départemental du nord$"), "dep-nord"),
    (re.compile(r"^(président) du conseil départemental du pas-de-calais$"), "dep-pdc"),
    (re.compile(r"^(président) du conseil départemental de la somme$"), "dep-somme"),
    (re.compile(r"^(président) du conseil régional hauts-de-france$"), "region-hdf"),
    (re.compile(r"^(président) de la communauté d’agglomération d’amiens métropole$"),
     "amiens-metropole"),
    (re.compile(r"^(maire) d’amiens$"), "ville-amiens"),
]

SCHEMES = {
    "CNDS": "CNDS", "CRSD": "FRED", "FISAC": "FISAC", "PIA": "PIA",
    "contrat de développement territorial": "CONTRAT", "contrat de plan État-Région": "CPER",
    "contrat de ruralité": "CONTRAT", "contrat de ville": "POLITIQUE_VILLE",
    "fonds IAE de la DIRECCTE dédiés au bassin minier": "IAE",
    "pacte métropolitain": "CONTRAT", "ÉcoCité": "ECOCITE",
}
SCHEME_BY_ACTOR = {"region-hdf": "REGION", "dep-pdc": "DEPARTEMENT", "anah": "ANAH",
                   "cnds": "CNDS"}

# The seed's reading of each contract's status (resources/seed/PROVENANCE.md).
SEED_STATUSES = {"signé": ContractStatus.SIGNED, "en préparation": ContractStatus.PREPARATION,
                 "en exécution": ContractStatus.RUNNING, "clos": ContractStatus.CLOSED}

# Contracts of the seed whose territory is the arrondissement of Avesnes-sur-Helpe.
SEED_ARRONDISSEMENTS = {"pacte-sat": "591", "ctes-sambre-avesnois": "591",
                        "cottri-sambre-avesnois": "591", "pat-pnr-avesnois": "591"}


class DemoError(UserError):
    pass


def seed_path() -> Path:
    return resource("seed", "seed_contracts.json")


def load_seed(path: Path | None = None) -> dict:
    path = path or seed_path()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DemoError(f"Fichier du jeu de démonstration introuvable : {path}.") from exc
    except (OSError, ValueError) as exc:
        raise DemoError(f"Fichier du jeu de démonstration illisible : {path} ({exc}).") from exc


def _evidence(what: str, evidence: dict | None) -> str | None:
    """The source's own words for a status or a decision, with their lines."""
    if not evidence:
        return None
    lines = evidence.get("lines") or []
    where = f" (l. {lines[0]}-{lines[-1]})" if lines else ""
    return f"{what} selon la source{where} : « {evidence['quote']} »"


def _source(lines: list[int] | None) -> str:
    text = "« État d'avenir n°3 — La République contractuelle » (préfecture Hauts-de-France, 2019)"
    if lines:
        text += f", l. {lines[0]}-{lines[-1]}"
    return text


@dataclass
class Resolver:
    """Matches the seed's names to organisations and communes, creating as needed."""

    session: Session
    actors: dict[str, dict]
    by_name: dict[str, str] = field(default_factory=dict)
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    communes_by_name: dict[str, list[Commune]] = field(default_factory=dict)
    unmatched: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        for key, actor in self.actors.items():
            names = [actor["name"], *actor.get("aliases", [])]
            names += re.findall(r"\(([^)]+)\)", actor["name"])
            names.append(re.sub(r"\s*\([^)]*\)", "", actor["name"]))
            for name in names:
                self.by_name.setdefault(normalize(name), key)
        for alias, key in ACTOR_ALIASES.items():
            self.by_name[normalize(alias)] = key
        query = select(Commune).where(Commune.departement_code.in_(["02", "59", "60", "62", "80"]))
        for commune in self.session.scalars(query):
            self.communes_by_name.setdefault(normalize(commune.name), []).append(commune)

    def actor_key(self, text: str) -> str | None:
        name = normalize(text)
        candidates = [name, normalize(re.sub(r"\s*\([^)]*\)", "", text)),
                      re.sub(r"^(association|ville de|ville d') ?", "", name)]
        for candidate in candidates:
            if candidate in self.by_name:
                return self.by_name[candidate]
        for known, key in self.by_name.items():
            if len(known) > 8 and (known.startswith(name) or name.startswith(known)):
                return key
        return None

    def actor(self, key: str) -> uuid.UUID:
        if key not in self.ids:
            actor = self.actors[key]
            kind = ACTOR_KINDS.get(actor["kind"])
            if kind is None:
                kind = (OrganisationKind.EPCI if actor["kind"].startswith("EPCI")
                        else OrganisationKind.OTHER)
            commune = None
            if kind is OrganisationKind.COMMUNE:
                commune = self.commune(re.sub(r"^Ville d(e |’|')", "", actor["name"]))
            acronym = next(iter(re.findall(r"\(([A-Z0-9 ]+)\)", actor["name"])), None)
            data = OrganisationData(
                name=actor["name"], kind=kind, acronym=acronym,
                commune_code=commune.code if commune else None,
                aliases="; ".join(actor.get("aliases", [])) or None, notes=actor.get("notes"))
            self.ids[key] = save_organisation_in(self.session, data).id
        return self.ids[key]

    def organisation(self, text: str, kind: OrganisationKind = OrganisationKind.OTHER
                     ) -> uuid.UUID:
        key = self.actor_key(text)
        if key is not None:
            return self.actor(key)
        new_key = f"new:{normalize(text)}"
        if new_key not in self.ids and (found := find_organisation_in(self.session, text)):
            self.ids[new_key] = found.id  # an organisation of the seed written otherwise
        if new_key not in self.ids:
            self.unmatched.append(text)
            self.ids[new_key] = save_organisation_in(
                self.session, OrganisationData(name=text, kind=kind,
                                               notes="Créée depuis le document source.")).id
        return self.ids[new_key]

    def signatory(self, text: str) -> SignatoryData:
        lowered = text.lower()
        for pattern, key in SIGNATORY_ROLES:
            match = pattern.match(lowered)
            if match:
                return SignatoryData(organisation_id=self.actor(key),
                                     role=text[match.start(1):match.end(1)])
        kind = (OrganisationKind.LOCAL_GROUPING if "collectivit" in lowered
                or "intercommunal" in lowered else OrganisationKind.OTHER)
        return SignatoryData(organisation_id=self.organisation(text, kind))

    def commune(self, name: str, departement: str | None = None) -> Commune | None:
        found = self.communes_by_name.get(normalize(name), [])
        if departement:
            found = [c for c in found if normalize(departement) in {
                normalize(c.departement_code), self._departement_name(c)}] or found
        return found[0] if len(found) >= 1 else None

    def _departement_name(self, commune: Commune) -> str:
        return normalize({"02": "Aisne", "59": "Nord", "60": "Oise", "62": "Pas-de-Calais",
                          "80": "Somme"}[commune.departement_code])


def _is_empty(session: Session) -> tuple[int, int, int]:
    return (session.scalar(select(func.count()).select_from(Contract)),
            session.scalar(select(func.count()).select_from(Operation)),
            session.scalar(select(func.count()).select_from(Organisation)))


def build_demo(db: Database, path: Path | None = None) -> dict[str, int]:
    """Fill an empty database with the demonstration data; refuse a non-empty one."""
    seed = load_seed(path)
    actors = json.loads(resource("seed", "actors.json").read_text(encoding="utf-8"))
    with db.write(batch_id=uuid.uuid4(), origin="démonstration") as session, \
            session.no_autoflush:
        contracts, operations, organisations = _is_empty(session)
        if contracts or operations or organisations:
            raise DemoError(
                f"La base {db.display()} contient déjà des données ({contracts} contrat(s), "
                f"{operations} opération(s), {organisations} organisation(s)) : la "
                "démonstration ne s'installe que dans une base vide. Rien n'a été modifié.")
        resolver = Resolver(session, {a["id"]: a for a in actors["actors"]})
        counts = _load_seed(session, seed, resolver)
        counts.update(_load_fictive(session, resolver))
        counts.update(_load_envelopes(session))
        counts["unmatched"] = len(resolver.unmatched)
        session.info["unmatched"] = resolver.unmatched
        session.add(Setting(key=ARRONDISSEMENT, value=DEMO_ARRONDISSEMENT))
    return counts


def _load_seed(session: Session, seed: dict, resolver: Resolver) -> dict[str, int]:
    contract_ids: dict[str, uuid.UUID] = {}
    axes_by_contract: dict[str, list[uuid.UUID]] = {}
    operations_by_contract: dict[str, list[dict]] = {}
    for op in seed["operations"]:
        if op["contract_key"]:
            operations_by_contract.setdefault(op["contract_key"], []).append(op)

    for entry in seed["contracts"]:
        signed = date.fromisoformat(entry["signature_date"]) if entry["signature_date"] else None
        end = date(entry["end_year"], 12, 31) if entry["end_year"] else proposed_end_date(
            signed, entry["duration_years"])
        notes = [entry["notes"]] if entry["notes"] else []
        if entry["signature_date_text"] and not signed:
            notes.append(f"Signature : {entry['signature_date_text']}.")
        if entry["signature_place"]:
            notes.append(f"Lieu de signature : {entry['signature_place']}.")
        status = SEED_STATUSES[entry.get("status", "signé")]
        said = _evidence(f"Statut « {status.label.lower()} »", entry.get("status_evidence"))
        if said:
            notes.append(said)
        for other in entry["other_amounts"]:
            amount = (f"{other['amount_eur']} €" if other.get("amount_eur") is not None
                      else "montant non communiqué")
            notes.append(f"Autre financeur : {other.get('financer')} ({amount}).")
        commune_codes = []
        for op in operations_by_contract.get(entry["key"], []):
            for name in filter(None, (n.strip() for n in (op["commune"] or "").split(";"))):
                commune = resolver.commune(name, op["departement"])
                if commune and commune.code not in commune_codes:
                    commune_codes.append(commune.code)
        data = ContractData(
            reference=entry["key"], title=entry["title"], type_code=entry["type_code"],
            status=status, signature_date=signed, start_date=signed, end_date=end,
            arrondissement_code=SEED_ARRONDISSEMENTS.get(entry["key"]),
            territory=entry["territory"],
            envelope_total=_euros(entry["total_amount_eur"]),
            envelope_state=_euros(entry["state_amount_eur"]),
            notes="\n".join(notes) or None, origin=ORIGIN_SEED,
            source=_source(entry["source_lines"]), commune_codes=commune_codes,
            axes=[AxisData(label=a["label"], number=str(a["number"]) if a["number"] else None)
                  for a in entry["axes"]],
            signatories=_unique_signatories(resolver, entry["signatories"]),
            amendments=[AmendmentData(number=n, subject=a["description"],
                                      amendment_date=_date(a["date"]))
                        for n, a in enumerate(entry["amendments"], start=1)])
        result = save_contract_in(session, data)
        contract_ids[entry["key"]] = result.id
        contract = session.get(Contract, result.id)
        axes_by_contract[entry["key"]] = [(axis.number, axis.id) for axis in contract.axes]

    for op in seed["operations"]:
        _save_seed_operation(session, op, resolver, contract_ids, axes_by_contract)
    return {"contracts_seed": len(seed["contracts"]), "operations_seed": len(seed["operations"])}


def _unique_signatories(resolver: Resolver, names: list[str]) -> list[SignatoryData]:
    result: list[SignatoryData] = []
    for name in names:
        signatory = resolver.signatory(name)
        if not any(s.organisation_id == signatory.organisation_id and s.role == signatory.role
                   for s in result):
            result.append(signatory)
    return result


def _euros(amount: int | float | None) -> Decimal | None:
    return None if amount is None else Decimal(str(amount)).quantize(Decimal("0.01"))


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _save_seed_operation(session: Session, op: dict, resolver: Resolver,
                         contract_ids: dict[str, uuid.UUID],
                         axes_by_contract: dict[str, list]) -> None:
    notes = []
    if op["notes"]:
        notes.append(op["notes"])
    if op["status_or_dates"]:
        notes.append(f"Avancement selon la source : {op['status_or_dates']}.")
    if op["total_cost_eur"] is not None:
        qualifier = f" ({op['total_cost_qualifier']})" if op["total_cost_qualifier"] else ""
        notes.append(f"Coût total indiqué par la source{qualifier}, HT ou TTC non précisé.")
    if op["state_rate_percent"] is not None:
        notes.append(f"Taux de l'État indiqué par la source : {op['state_rate_percent']} %.")
    commune_codes = []
    for name in (op["commune"] or "").split(";"):
        if name.strip():
            commune = resolver.commune(name.strip(), op["departement"])
            if commune is None:
                resolver.unmatched.append(f"commune {name.strip()}")
            elif commune.code not in commune_codes:
                commune_codes.append(commune.code)
    lines = []
    for funding in op["financing"]:
        financer = resolver.organisation(funding["financer"]) if funding["financer"] else None
        scheme = SCHEMES.get(funding["scheme"] or "")
        if scheme is None and funding["financer"]:
            key = resolver.actor_key(funding["financer"])
            scheme = SCHEME_BY_ACTOR.get(key or "")
            if "FEDER" in funding["financer"]:
                scheme = "FEDER"
        line_notes = [x for x in (funding["purpose"],) if x]
        if funding["qualifier"]:
            line_notes.append(f"Montant « {funding['qualifier']} » selon la source.")
        if not funding["financer"]:
            line_notes.append("Financeur non précisé par la source.")
        amount = _euros(funding["amount_eur"])
        # An amount the text announces ("sera pris en charge") is requested, not granted.
        decided = funding.get("decided", True)
        said = _evidence("Accordé" if decided else "Annoncé, non décidé",
                         funding.get("decided_evidence"))
        if said:
            line_notes.append(said)
        lines.append(FundingLineData(
            financer_id=financer, scheme_code=scheme,
            amount_granted=amount if decided else None,
            amount_requested=None if decided else amount,
            status=FundingStatus.GRANTED if decided else FundingStatus.REQUESTED,
            notes=" ".join(line_notes) or None))
    links = []
    if op["contract_key"]:
        axis_id = None
        if op["axis_number"] is not None:
            axis_id = next((aid for number, aid in axes_by_contract[op["contract_key"]]
                            if number == str(op["axis_number"])), None)
        links.append(LinkData(contract_ids[op["contract_key"]], axis_id))
    owner = resolver.organisation(op["maitre_ouvrage"]) if op["maitre_ouvrage"] else None
    data = OperationData(
        reference=op["key"], title=op["title"], owner_id=owner,
        status=OperationStatus.PROGRAMMED if lines else OperationStatus.PROJECT,
        cost_ht=_euros(op["total_cost_eur"]), notes="\n".join(notes) or None,
        origin=ORIGIN_SEED, source=_source(op["source_lines"]), commune_codes=commune_codes,
        links=links, funding_lines=lines)
    try:
        save_operation_in(session, data)
    except RuleViolation as refused:
        # The source's own figures break a rule: keep them as stated, as a draft
        # the agent can see and correct, never silently "fixed".
        problems = " ".join(f.message for f in refused.findings)
        data.status = OperationStatus.PROJECT
        data.notes = f"{data.notes or ''}\nÀ vérifier — chiffres de la source : {problems}".strip()
        save_operation_in(session, data)


# --- Fictitious example: one year of DETR/DSIL in the arrondissement 591 --------

PROJECTS = [
    ("Rénovation énergétique de l'école élémentaire", 1, "DETR"),
    ("Mise en accessibilité de la mairie", 2, "DETR"),
    ("Réhabilitation de la salle des fêtes", 2, "DETR"),
    ("Création d'une maison de santé pluriprofessionnelle", 2, "DSIL"),
    ("Sécurisation de la traversée du bourg", 2, "DETR"),
    ("Rénovation de l'éclairage public en LED", 1, "DSIL"),
    ("Extension du groupe scolaire", 2, "DETR"),
    ("Réfection de la voirie communale", 2, "DETR"),
    ("Construction d'un atelier technique municipal", 3, "DETR"),
    ("Création d'une médiathèque", 2, "DSIL"),
    ("Rénovation thermique du gymnase", 1, "DSIL"),
    ("Défense extérieure contre l'incendie", 2, "DETR"),
    ("Création d'une aire de jeux et d'un city-stade", 2, "DETR"),
    ("Aménagement d'une voie verte", 1, "DSIL"),
    ("Réhabilitation du restaurant scolaire", 2, "DETR"),
    ("Création d'une chaufferie bois pour les bâtiments communaux", 1, "DSIL"),
    ("Revitalisation du centre-bourg : halle commerciale", 3, "DSIL"),
    ("Remplacement des menuiseries de l'école maternelle", 1, "DETR"),
    ("Création d'un tiers-lieu numérique", 3, "DSIL"),
    ("Aménagement du cimetière (accessibilité)", 2, "DETR"),
    ("Rénovation de la toiture de la mairie", 1, "DETR"),
    ("Création d'un pôle enfance-jeunesse", 2, "DSIL"),
    ("Réhabilitation de logements communaux", 2, "DETR"),
    ("Installation de panneaux photovoltaïques sur la salle de sport", 1, "DSIL"),
    ("Aménagement de liaisons douces entre les hameaux", 1, "DETR"),
    ("Rénovation du terrain de football (éclairage LED)", 2, "DETR"),
    ("Réhabilitation de la piscine intercommunale", 1, "DSIL"),
    ("Création d'une maison France services", 2, "DETR"),
    ("Vidéoprotection des espaces publics", 2, "DETR"),
    ("Réfection des réseaux d'eaux pluviales", 1, "DETR"),
]


def _fictive_owners(session: Session) -> tuple[list[Commune], list[Epci]]:
    communes = list(session.scalars(
        select(Commune).where(Commune.arrondissement_code == DEMO_ARRONDISSEMENT)
        .order_by(Commune.population.desc().nulls_last(), Commune.code)))
    epcis = list(session.scalars(
        select(Epci).join(epci_member, epci_member.c.epci_code == Epci.code)
        .join(Commune, Commune.code == epci_member.c.commune_code)
        .where(Commune.arrondissement_code == DEMO_ARRONDISSEMENT)
        .group_by(Epci.code).order_by(func.count().desc(), Epci.code)))
    return communes, epcis


def _commune_organisation(session: Session, commune: Commune) -> uuid.UUID:
    """The organisation of a commune: the seed's own ("Ville de Maubeuge") when it has
    one, never a second "Commune de Maubeuge" beside it."""
    existing = session.scalar(
        select(Organisation.id).where(Organisation.commune_code == commune.code,
                                      Organisation.kind == OrganisationKind.COMMUNE.value)
        .order_by(Organisation.sort_name).limit(1))
    if existing is None:
        found = find_organisation_in(session, commune.name)
        existing = found.id if found is not None else None
    if existing is not None:
        return existing
    return save_organisation_in(session, OrganisationData(
        name=commune_organisation_name(commune.name), kind=OrganisationKind.COMMUNE,
        commune_code=commune.code, siren=commune.siren)).id


def _load_fictive(session: Session, resolver: Resolver) -> dict[str, int]:
    rng = random.Random(591)
    communes, epcis = _fictive_owners(session)
    state = resolver.actor("etat")
    departement = resolver.actor("dep-nord")
    region = resolver.actor("region-hdf")
    epci_orgs = {}
    for epci in epcis[:4]:
        epci_orgs[epci.code] = save_organisation_in(session, OrganisationData(
            name=epci.name, kind=OrganisationKind.EPCI, epci_code=epci.code, siren=epci.code,
            notes=FICTIVE_NOTE.split(" — ")[0] + " (organisation réelle, rôle fictif).")).id
    crte = save_contract_in(session, ContractData(
        reference="FICTIF-CRTE-591",
        title="CRTE de Sambre-Avesnois (exemple fictif)", type_code="CRTE",
        status=ContractStatus.RUNNING, signature_date=date(2022, 6, 30),
        start_date=date(2022, 6, 30), end_date=date(2026, 12, 31),
        arrondissement_code=DEMO_ARRONDISSEMENT,
        territory="Arrondissement d'Avesnes-sur-Helpe (exemple fictif)",
        envelope_total=Decimal("24000000.00"), envelope_state=Decimal("6500000.00"),
        notes=FICTIVE_NOTE, origin=ORIGIN_FICTIVE, epci_codes=[e.code for e in epcis[:4]],
        axes=[AxisData("Transition écologique et énergétique", "1"),
              AxisData("Cohésion territoriale et services au public", "2"),
              AxisData("Attractivité et cadre de vie", "3")],
        signatories=[SignatoryData(state, "Pour l'État, le sous-préfet d'Avesnes-sur-Helpe",
                                   date(2022, 6, 30))]
        + [SignatoryData(org, "Le président", date(2022, 6, 30)) for org in epci_orgs.values()],
        amendments=[AmendmentData(1, "Intégration de la programmation 2025 (exemple fictif).",
                                  date(2025, 2, 3), Decimal("1500000.00"))],
        meetings=[MeetingData(date(2024, 11, 14), "comité de pilotage",
                              "Bilan 2024 et priorités 2025 (exemple fictif)."),
                  MeetingData(date(2025, 3, 20), "comité de pilotage",
                              "Validation de la programmation 2025 (exemple fictif).")]))
    axes = {axis.number: axis.id for axis in session.get(Contract, crte.id).axes}

    owner_ids: dict[str, uuid.UUID] = {}
    count = 0
    payments = 0
    for index, (title, axis_number, scheme) in enumerate(PROJECTS):
        use_epci = index % 6 == 5
        if use_epci:
            epci = epcis[index % min(4, len(epcis))]
            owner = epci_orgs[epci.code]
            place = [c.code for c in communes if c.code in {m.code for m in epci.communes}][:1]
        else:
            commune = communes[(index * 7) % len(communes)]
            if scheme == "DETR" and (commune.population or 0) > 20000:
                # DETR only goes to communes of 20 000 inhabitants at most (L2334-33).
                commune = communes[(index * 7 + 1) % len(communes)]
            if commune.code not in owner_ids:
                owner_ids[commune.code] = _commune_organisation(session, commune)
            owner = owner_ids[commune.code]
            place = [commune.code]
        payments += _fictive_operation(session, rng, index, title, scheme, owner, place,
                                       state, departement, region,
                                       LinkData(crte.id, axes[str(axis_number)])
                                       if index % 2 == 0 else None)
        count += 1
    # A protected monument: the owner's share is below 20 % under a recorded exception.
    town = next(c for c in communes if (c.population or 0) <= 20000)
    if town.code not in owner_ids:
        owner_ids[town.code] = _commune_organisation(session, town)
    church_owner = owner_ids[town.code]
    save_operation_in(session, OperationData(
        reference="FICTIF-DETR-2025-099",
        title="Restauration de l'église Saint-Pierre (monument inscrit) — exemple fictif",
        owner_id=church_owner, status=OperationStatus.PROGRAMMED,
        cost_ht=Decimal("480000.00"), cost_ttc=Decimal("576000.00"),
        eligible_cost=Decimal("480000.00"), deposit_date=date(2025, 1, 15),
        decision_date=date(2025, 5, 12), notification_date=date(2025, 5, 19),
        own_share_exception=OwnShareException.HISTORIC_MONUMENT,
        own_share_exception_ref="Dérogation accordée par arrêté préfectoral du 2 avril 2025 "
                                "(fictif) ; église inscrite au titre des monuments "
                                "historiques le 3 mars 1998 (fictif).",
        notes=FICTIVE_NOTE, origin=ORIGIN_FICTIVE, commune_codes=[town.code],
        funding_lines=[
            FundingLineData(state, "DETR", Decimal("192000.00"), Decimal("192000.00"),
                            FundingStatus.GRANTED, "Arrêté DETR 2025-099 (fictif)",
                            date(2025, 5, 12), date(2025, 3, 18), 2025,
                            notification_date=date(2025, 5, 19)),
            FundingLineData(state, "DROIT_COMMUN", Decimal("120000.00"), Decimal("120000.00"),
                            FundingStatus.GRANTED, "Crédits DRAC (fictif)", date(2025, 6, 2),
                            None, 2025, "Crédits monuments historiques (DRAC).",
                            notification_date=date(2025, 6, 9)),
            FundingLineData(departement, "DEPARTEMENT", Decimal("96000.00"),
                            Decimal("96000.00"), FundingStatus.GRANTED, None, date(2025, 6, 20),
                            None, 2025)]))
    return {"contracts_fictive": 1, "operations_fictive": count + 1,
            "payments_fictive": payments}


def _amount(base: Decimal, rate: float) -> Decimal:
    return round_cents(base * Decimal(str(rate)))


def _fictive_operation(session: Session, rng: random.Random, index: int, title: str,
                       scheme: str, owner: uuid.UUID, communes: list[str], state: uuid.UUID,
                       departement: uuid.UUID, region: uuid.UUID, link: LinkData | None) -> int:
    cost_ht = Decimal(rng.randrange(400, 12000) * 100)
    eligible = cost_ht if index % 4 else round_cents(cost_ht * Decimal("0.9"))
    state_rate = rng.choice([0.25, 0.3, 0.35, 0.4]) if scheme == "DETR" else rng.choice(
        [0.2, 0.25, 0.3])
    granted_state = _amount(eligible, state_rate)
    deposit = date(2025, 1, 6) + timedelta(days=rng.randrange(0, 40))
    decision = date(2025, 4, 14) + timedelta(days=rng.randrange(0, 60))
    notification = decision + timedelta(days=7)
    lines = [FundingLineData(
        state, scheme, granted_state, granted_state, FundingStatus.GRANTED,
        f"Arrêté {scheme} 2025-{index + 1:03d} (fictif)", decision,
        date(2025, 3, 18) if scheme == "DETR" and granted_state > 100000 else None, 2025,
        notification_date=notification)]
    if index % 3 == 0:
        amount = _amount(cost_ht, rng.choice([0.1, 0.15, 0.2]))
        lines.append(FundingLineData(departement, "DEPARTEMENT", amount, amount,
                                     FundingStatus.GRANTED, None,
                                     decision + timedelta(days=30), None, 2025))
    if index % 5 == 1:
        amount = _amount(cost_ht, 0.15)
        lines.append(FundingLineData(region, "REGION", amount, None, FundingStatus.REQUESTED,
                                     budget_year=2025))
    if index % 7 == 3:
        amount = _amount(cost_ht, 0.1)
        lines.append(FundingLineData(state, "FONDS_VERT", amount, None,
                                     FundingStatus.REFUSED, None,
                                     decision + timedelta(days=10), None, 2025,
                                     "Refusé : projet non éligible (exemple fictif)."))
    stage = index % 5  # 0-1 programmed, 2 in progress, 3 completed, 4 settled
    status = OperationStatus.PROGRAMMED
    start = end = None
    state_line = lines[0]
    paid = 0
    if stage >= 2:
        start = notification + timedelta(days=rng.randrange(30, 200))
        status = OperationStatus.IN_PROGRESS
        state_line.payments.append(PaymentData(
            PaymentKind.ADVANCE, start + timedelta(days=20), _amount(granted_state, 0.3),
            f"Mandat {index + 1:03d}-1"))
        paid += 1
    if stage >= 3:
        end = start + timedelta(days=rng.randrange(120, 300))
        status = OperationStatus.COMPLETED
        state_line.payments.append(PaymentData(
            PaymentKind.INSTALMENT, start + timedelta(days=90), _amount(granted_state, 0.4),
            f"Mandat {index + 1:03d}-2"))
        paid += 1
    if stage == 4:
        status = OperationStatus.SETTLED
        rest = granted_state - sum(p.amount for p in state_line.payments)
        state_line.payments.append(PaymentData(PaymentKind.BALANCE, end + timedelta(days=45),
                                               rest, f"Mandat {index + 1:03d}-3"))
        paid += 1
        # A settled operation has received everything it was granted.
        for other in lines[1:]:
            if other.status is FundingStatus.GRANTED and other.amount_granted:
                other.payments.append(PaymentData(
                    PaymentKind.BALANCE, end + timedelta(days=60), other.amount_granted,
                    f"Mandat départemental {index + 1:03d}"))
                paid += 1
    save_operation_in(session, OperationData(
        reference=f"FICTIF-{scheme}-2025-{index + 1:03d}", title=title, owner_id=owner,
        status=status, cost_ht=cost_ht, cost_ttc=round_cents(cost_ht * Decimal("1.2")),
        eligible_cost=eligible, deposit_date=deposit, decision_date=decision,
        notification_date=notification, start_date=start, end_date=end, notes=FICTIVE_NOTE,
        origin=ORIGIN_FICTIVE, commune_codes=communes, links=[link] if link else [],
        funding_lines=lines))
    return paid


# --- Fictitious 2025 envelopes: DETR and DSIL of the Nord, delegated to 591 -----------

# Above what the fictitious 2025 operations of 591 are granted (DETR 3 560 189,00 €,
# DSIL 1 709 942,50 €): some is left to programme, nothing is over-programmed.
DEMO_ENVELOPES = [("DETR", Decimal("31500000.00"), Decimal("4200000.00")),
                  ("DSIL", Decimal("18000000.00"), Decimal("2000000.00"))]
DEMO_CATEGORIES = [
    "Bâtiments scolaires et périscolaires",
    "Rénovation énergétique des bâtiments publics",
    "Accessibilité et sécurité des bâtiments publics",
    "Voirie, sécurité routière et mobilités douces",
    "Services au public, santé et maisons France services",
    "Équipements sportifs, culturels et de loisirs",
    "Patrimoine communal protégé",
]


def _load_envelopes(session: Session) -> dict[str, int]:
    from db.programming.envelopes import EnvelopeData, save_envelope_in
    from db.programming.simulations import save_categories_in

    for scheme, departement_amount, arrondissement_amount in DEMO_ENVELOPES:
        parent = save_envelope_in(session, EnvelopeData(
            scheme, 2025, departement_amount, departement_code="59",
            notes=f"Enveloppe {scheme} 2025 du Nord — {FICTIVE_NOTE}"))
        save_envelope_in(session, EnvelopeData(
            scheme, 2025, arrondissement_amount, arrondissement_code=DEMO_ARRONDISSEMENT,
            parent_id=parent.id,
            notes=f"Déléguée par le préfet du Nord — {FICTIVE_NOTE}"))
    save_categories_in(session, "59", DEMO_CATEGORIES)
    return {"envelopes": 2 * len(DEMO_ENVELOPES)}
