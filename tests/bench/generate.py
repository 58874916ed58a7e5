"""Deterministic generator of a realistic regional-scale database, for benchmarks.

    python tests/bench/generate.py --operations 100000 --db bench.sqlite
    python tests/bench/generate.py --operations 100000 --db postgresql://…/bench

The same arguments always give the same database (same ids, same texts, same amounts).
Owners are the real communes and EPCI of the region (Hauts-de-France by default),
with syndicats, PETR, associations and companies of long real-looking names and the
person the office deals with. Contracts have long titles, axes, signatories with their
phones and e-mails and a perimeter. Operations look like the field: long titles and
references now and then, some on dozens of communes, costs with their expense items
(postes de dépense) or unknown, financing plans over real schemes with refused lines,
lines still requested, amounts granted but not communicated, payments, statuses and
dates up to the 1st of November 2026.

Every operation in a committed status (programmé, engagé, en cours, achevé, soldé)
respects the rules of public money (db.rules): eligible beneficiaries, notification of
every State subsidy, works started after the deposit and within two years of the
notifications, the DETR commission, payment ceilings, the owner's minimum share, the
DETR floor and the DETR/DSIL cap, each compared exactly on the cents. Drafts may break
the non-strict ones, as drafts do (a few are over-funded). Cached totals are those
db.services.caches would compute.

Rows are written with bulk inserts (db.bulk: executemany on SQLite, COPY on PostgreSQL;
the services would take hours at this scale), in one transaction, with one audit entry
for the whole generation.
"""

from __future__ import annotations

import argparse
import math
import random
import re
import sys
import time
import uuid
from contextlib import nullcontext
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy import BigInteger, Column, MetaData, Table, func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from db.bulk import insert_rows  # noqa: E402
from db.database import Database, open_database  # noqa: E402
from db.models import (  # noqa: E402
    Amendment,
    Arrondissement,
    AuditEntry,
    Axis,
    Commune,
    Contract,
    ContractType,
    Departement,
    Epci,
    ExpenseItem,
    FundingLine,
    FundingScheme,
    Money,
    Operation,
    OperationLink,
    Organisation,
    Payment,
    Signatory,
    SteeringMeeting,
    contract_epci,
    epci_member,
    operation_commune,
)
from db.naming import sort_name  # noqa: E402
from db.rules import add_months  # noqa: E402
from db.search import (  # noqa: E402
    bulk_indexing,
    contract_document,
    operation_document,
    organisation_document,
)
from db.text import commune_organisation_name, elide, normalize  # noqa: E402
from db.vocabulary import (  # noqa: E402
    ContractStatus,
    FundingStatus,
    OperationStatus,
    OrganisationKind,
    PaymentKind,
)

LOGIN = "generateur"


NOW = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
TODAY = NOW.date()
FIRST_DEPOSIT = date(2019, 1, 2)
ANCHOR = date(2000, 1, 3)  # dates are drawn from here, then the whole timeline is moved
CHUNK = 5000
EUR = 100  # cents
DETR_COMMUNE_MAX = 20_000  # inhabitants (L2334-33)
DETR_EPCI_MAX = 75_000  # the rules do not check it: the generator keeps to the text
LOCAL_OWNERS = (OrganisationKind.COMMUNE, OrganisationKind.EPCI,
                OrganisationKind.LOCAL_GROUPING)
DETR_COMMISSION_CENTS = 100_000 * EUR

PROJECTS = [
    "Rénovation énergétique de l'école", "Mise en accessibilité de la mairie",
    "Réhabilitation de la salle polyvalente", "Création d'une maison de santé",
    "Sécurisation de la traversée du bourg", "Rénovation de l'éclairage public",
    "Extension du groupe scolaire", "Réfection de la voirie communale",
    "Construction d'un atelier technique", "Création d'une médiathèque",
    "Rénovation thermique du gymnase", "Défense extérieure contre l'incendie",
    "Aménagement d'une aire de jeux", "Aménagement d'une voie verte",
    "Réhabilitation du restaurant scolaire", "Création d'une chaufferie bois",
    "Revitalisation du centre-bourg", "Création d'un tiers-lieu",
    "Restauration de l'église", "Création d'une maison France services",
    "Requalification d'une friche", "Réhabilitation de logements communaux",
    "Travaux d'assainissement", "Installation de panneaux photovoltaïques",
]
PROJECT_SUFFIXES = ["", "", "", "", " — tranche 2", " (phase études)", " — lot unique",
                    " : 2e phase", " et abords", " (tranche optionnelle)"]
# Long titles: a start naming the place, one or two continuations, an ending.
LONG_STARTS = [
    "Requalification de la friche industrielle de l'ancienne filature {de}",
    "Requalification de la friche ferroviaire et des anciens ateliers de la gare {de}",
    "Réhabilitation lourde et extension du groupe scolaire du centre {de}, avec création "
    "d'un restaurant scolaire et d'un accueil périscolaire",
    "Restructuration et mise aux normes de la salle des fêtes intercommunale {de}",
    "Reconversion de l'ancienne sucrerie {de} en pôle d'activités artisanales et tertiaires",
    "Rénovation énergétique globale des bâtiments communaux {de} (mairie, écoles, salle de "
    "sports et ateliers techniques)",
    "Création d'une maison de santé pluriprofessionnelle et d'un centre de soins non "
    "programmés {de}",
    "Aménagement des espaces publics du centre-bourg {de} dans le cadre de l'opération de "
    "revitalisation du territoire",
    "Renaturation et désimperméabilisation des cours d'école et du parvis de l'église {de}",
    "Construction d'une station d'épuration de 4 500 équivalents-habitants et réhabilitation "
    "des réseaux de collecte {de}",
    "Restauration des façades, de la toiture et du clocher de l'église Saint-Martin {de}, "
    "édifice inscrit au titre des monuments historiques",
    "Transformation de l'ancien presbytère {de} en maison France services et espace "
    "numérique partagé",
]
LONG_CONTINUATIONS = [
    "et aménagement d'un pôle d'échanges multimodal avec parking relais, abri vélos sécurisé "
    "et bornes de recharge pour véhicules électriques",
    "et création d'une liaison douce vers la gare, le collège et les équipements sportifs",
    "et installation d'une chaufferie biomasse alimentant un réseau de chaleur communal",
    "et mise en accessibilité des cheminements pour les personnes à mobilité réduite",
    "et requalification paysagère des abords avec gestion alternative des eaux pluviales",
    "et pose de panneaux photovoltaïques en autoconsommation collective sur les toitures",
    "et démolition des bâtiments désaffectés, dépollution des sols et reconstitution d'une "
    "trame verte et bleue",
    "avec reprise des réseaux d'eau potable, d'assainissement et d'éclairage public",
]
LONG_ENDINGS = [
    "", "", " — tranche 2 : travaux de second œuvre, lots 4 à 11",
    " (phase 1 : études préalables, maîtrise d'œuvre, désamiantage et curage)",
    ", dans le cadre du programme Petites villes de demain",
    " — tranche ferme et tranche optionnelle n° 1",
    ", conformément au schéma directeur immobilier et énergétique adopté en conseil",
]
REFERENCE_PREFIXES = ["cottri", "crte", "pvd", "acv", "detr", "dsil", "fonds-vert", "cper"]
REFERENCE_THEMES = [
    "performance-energetique-batiments", "requalification-friche-industrielle",
    "renaturation-cours-ecoles", "pole-echanges-multimodal",
    "maison-sante-pluriprofessionnelle", "reseau-chaleur-biomasse",
    "revitalisation-centre-bourg", "assainissement-collectif-reseaux",
    "voie-verte-intercommunale", "accessibilite-etablissements-recevant-public",
]
DESCRIPTIONS = [
    "L'opération « {title} » vise à réduire les consommations d'énergie d'au moins 40 % et "
    "à améliorer le confort des usagers.",
    "Les travaux comprennent le désamiantage, la reprise des réseaux, l'isolation des parois "
    "et le remplacement des menuiseries extérieures.",
    "Le maître d'ouvrage a délibéré le {day} pour approuver l'avant-projet définitif et le "
    "plan de financement prévisionnel.",
    "L'opération s'inscrit dans l'orientation « sobriété et résilience » du contrat de "
    "territoire et répond aux besoins recensés lors de la concertation publique.",
    "La maîtrise d'œuvre est assurée par un groupement d'architectes et de bureaux d'études "
    "retenu après concours.",
]
EXPENSES = [
    "Études préalables, diagnostics et relevés", "Maîtrise d'œuvre et missions d'ingénierie "
    "(OPC, SPS, contrôle technique)", "Lot 1 – Désamiantage, curage et démolitions",
    "Lot 2 – Gros œuvre et maçonnerie", "Lot 3 – Charpente, couverture et étanchéité",
    "Lot 4 – Menuiseries extérieures et occultations",
    "Lot 5 – Isolation thermique par l'extérieur et ravalement",
    "Lot 6 – Chauffage, ventilation, plomberie et production d'eau chaude",
    "Lot 7 – Électricité courants forts et courants faibles",
    "Lot 8 – Voirie, réseaux divers, espaces verts et aménagements extérieurs",
    "Équipements scéniques et mobilier fixe", "Signalétique et mise en accessibilité",
    "Aléas et imprévus de chantier",
]
# Postes that the State dotations do not take into their subsidisable expense; land
# bears no VAT.
NON_ELIGIBLE = [("Acquisition foncière et frais de notaire", 0),
                ("Mobilier et équipements non fixes", 2000),
                ("Frais de publicité, de reprographie et d'insertion des annonces", 2000),
                ("Révisions de prix et actualisation", 2000),
                ("Frais financiers et assurance dommages-ouvrage", 0)]
# status, weight, stage (0 not decided, 1 decided, 2 started, 3 completed, 4 settled).
# Abandoned operations come from the schedule of special cases below.
STATUSES = [
    (OperationStatus.PROJECT, 6, 0), (OperationStatus.FILED, 10, 0),
    (OperationStatus.PROGRAMMED, 18, 1), (OperationStatus.COMMITTED, 12, 1),
    (OperationStatus.IN_PROGRESS, 24, 2), (OperationStatus.COMPLETED, 12, 3),
    (OperationStatus.SETTLED, 15, 4),
]
COMMITTED = [(s, w, stage) for s, w, stage in STATUSES if stage >= 1]
# Special cases, in every 50 operations (so that any base of 50 or more holds them).
SCHEDULE = (["unknown_cost"] * 1 + ["over_funded"] * 1 + ["many_communes"] * 1
            + ["abandoned"] * 2 + ["unknown_granted"] * 1 + ["normal"] * 44)

FIRST_F = ["Sophie", "Nathalie", "Isabelle", "Marie-Christine", "Anne-Sophie", "Émilie",
           "Valérie", "Sandrine", "Catherine", "Martine", "Delphine", "Aurélie", "Françoise",
           "Marie-Pierre", "Géraldine", "Laurence", "Bérengère", "Séverine"]
FIRST_M = ["Jean-Marc", "Philippe", "Christophe", "Jean-Pierre", "Thierry", "Frédéric",
           "Stéphane", "Olivier", "Bruno", "Pierre-Yves", "Grégory", "Ludovic",
           "Jean-François", "Didier", "Benoît", "Hervé", "Jérôme", "Dominique"]
LAST = ["Lefebvre", "Leroy", "Dupont", "Lemaire", "Delattre", "Vasseur", "Caron", "Lemoine",
        "Duhamel", "Delcroix", "Desmet", "Vandenberghe", "Carpentier", "Lecomte", "Dubois",
        "Deleplanque", "Lenglet", "Verschelde", "Vanhoutte", "Bouchart", "Dewailly",
        "Lagache", "Wattebled", "Hennebelle", "Vandenbussche-Delaporte", "Dumont-Saint-Priest",
        "Ducrocq", "Flament", "Truffaut", "Fournier", "Boulanger", "Cordonnier", "Mahieu",
        "Wallart", "de Saint-Aubert", "Van Moerkerke", "Delahaye", "Lemaître", "Decool",
        "Leclercq"]
PHONE_PREFIXES = {"59": ("03 20", "03 27", "03 28"), "62": ("03 21",), "80": ("03 22",),
                  "60": ("03 44",), "02": ("03 23",)}
PREFECTURES = {"02": "aisne.gouv.fr", "59": "nord.gouv.fr", "60": "oise.gouv.fr",
               "62": "pas-de-calais.gouv.fr", "80": "somme.gouv.fr"}
DEPARTEMENT_DOMAINS = {"02": "aisne.fr", "59": "lenord.fr", "60": "oise.fr",
                       "62": "pasdecalais.fr", "80": "somme.fr"}
DEPARTEMENT_NAMES = {"02": "de l'Aisne", "59": "du Nord", "60": "de l'Oise",
                     "62": "du Pas-de-Calais", "80": "de la Somme"}
# (masculine, feminine)
COMMUNE_ROLES = [("Maire", "Maire"),
                 ("Directeur général des services", "Directrice générale des services"),
                 ("Secrétaire de mairie", "Secrétaire de mairie"),
                 ("Adjoint au maire chargé des travaux, de l'urbanisme et du cadre de vie",
                  "Adjointe au maire chargée des travaux, de l'urbanisme et du cadre de vie"),
                 ("Responsable des services techniques", "Responsable des services techniques")]
EPCI_ROLES = [("Chargé de mission contractualisation et politiques territoriales",
               "Chargée de mission contractualisation et politiques territoriales"),
              ("Directeur du développement territorial et de l'aménagement",
               "Directrice du développement territorial et de l'aménagement"),
              ("Chef de projet Petites villes de demain", "Cheffe de projet Petites villes de "
               "demain")]
GROUPEMENTS = [
    ("Syndicat mixte d'aménagement et de gestion du parc naturel régional de l'Avesnois",
     "PNRA"),
    ("Syndicat mixte de gestion du parc naturel régional Scarpe-Escaut", "PNRSE"),
    ("Syndicat mixte du parc naturel régional des caps et marais d'Opale", "PNR CMO"),
    ("Pôle d'équilibre territorial et rural du Pays du Ternois et des Sept Vallées", "PETR"),
    ("Syndicat intercommunal d'assainissement et d'adduction d'eau potable de la vallée de la "
     "Selle et de ses affluents", "SIAEP"),
    ("Syndicat intercommunal à vocation multiple de la région {de}", "SIVOM"),
    ("Syndicat intercommunal d'énergie des communes {de} et des environs", "SIE"),
    ("Syndicat mixte pour le schéma de cohérence territoriale du Cambrésis", "SCoT"),
    ("Syndicat mixte d'aménagement hydraulique des bassins versants de la Canche et de "
     "l'Authie", "SYMCEA"),
    ("Syndicat intercommunal de gestion des équipements sportifs et culturels du canton {de}",
     "SIGESC"),
    ("Syndicat mixte des transports urbains du Valenciennois et du Hainaut-Cambrésis",
     "SMTU"),
    ("Syndicat intercommunal scolaire du regroupement pédagogique {de} et des villages "
     "voisins", "SIRP"),
]
ASSOCIATIONS = [
    "Association pour le développement de l'insertion par l'activité économique du "
    "territoire {de}", "Centre social et culturel intercommunal {de}",
    "Association de gestion de la maison de santé pluriprofessionnelle {de}",
    "Foyer rural et comité des fêtes {de}",
    "Association de sauvegarde et de mise en valeur du patrimoine religieux {de}",
    "Association familiale de gestion de la crèche parentale « Les Petits Loups » {de}",
    "Union sportive {de} – sections football, athlétisme et tennis de table",
    "Office de tourisme associatif {de} et de ses environs",
    "Association régionale des jardins ouvriers et familiaux {de}",
    "Atelier et chantier d'insertion « Les Jardins de Cocagne » {de}",
]
COMPANIES = [
    "Société d'économie mixte d'aménagement et de construction {de}",
    "Société publique locale d'aménagement et de développement {de}",
    "Société coopérative d'intérêt collectif Énergies citoyennes {de}",
    "SAS Méthanisation agricole {de}", "SA d'HLM Habitat du Hainaut et du Cambrésis",
    "Société anonyme d'économie mixte des transports {de}",
]
AXES = [
    "Transition écologique et énergétique : sobriété des bâtiments publics, énergies "
    "renouvelables, mobilités du quotidien et préservation de la ressource en eau",
    "Cohésion sociale et territoriale : accès aux soins, aux services publics et au numérique "
    "pour tous les habitants, des centralités aux villages",
    "Attractivité économique et emploi : reconversion des friches, accueil d'entreprises, "
    "commerce de centre-bourg et économie sociale et solidaire",
    "Revitalisation des centres-villes et centres-bourgs, habitat et lutte contre la vacance",
    "Éducation, jeunesse, sport et culture", "Tourisme, patrimoine et cadre de vie",
    "Agriculture, alimentation de proximité et circuits courts (projet alimentaire "
    "territorial)",
    "Ingénierie, animation et évaluation du contrat",
]
AMBITIONS = [
    "valant convention-cadre de revitalisation et de transition écologique du bassin de vie, "
    "pour une transition juste, sobre en énergie et solidaire entre centralités et villages",
    "au service de la sobriété foncière, de la rénovation énergétique du patrimoine public et "
    "du maintien des services au public dans les communes rurales",
    "pour l'amplification de la troisième révolution industrielle, la reconversion des friches "
    "et l'accompagnement des entreprises et des habitants dans la transition",
]
AMENDMENTS = [
    "Avenant n° {n} : intégration de nouvelles opérations, actualisation de la maquette "
    "financière et prolongation de la durée du contrat",
    "Avenant n° {n} : adhésion de nouveaux partenaires signataires et mise à jour des fiches "
    "actions de l'axe 2",
]
MEETING_DECISIONS = [
    "Validation de la programmation annuelle et des fiches actions ; point d'étape sur les "
    "opérations engagées ; calendrier des prochains dépôts de dossiers DETR et DSIL.",
    "Examen des demandes de subvention, revue des opérations en retard et proposition "
    "d'avenant.",
]

_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    return _NOT_SLUG.sub("-", normalize(text)).strip("-")


def ceil_div(a: int, b: int) -> int:
    return -(-a // b)


def rated(amount: int, rate_bp: int) -> int:
    """*amount* × rate (basis points), half up to the cent."""
    return (amount * rate_bp + 5000) // 10000


def epci_long_name(name: str) -> str:
    for short, long in (("CC ", "Communauté de communes "),
                        ("CA ", "Communauté d'agglomération "),
                        ("CU ", "Communauté urbaine ")):
        if name.startswith(short):
            return long + name[len(short):]
    return name


def with_article(name: str) -> str:
    """"Communauté de communes du Ternois" → "la Communauté de communes du Ternois"."""
    first = name.split(" ", 1)[0]
    return f"la {name}" if first in ("Communauté", "Métropole") else name


class Generator:
    def __init__(self, db: Database, operations: int, seed: int, region: str) -> None:
        self.db = db
        self.count = operations
        self.rng = random.Random(seed)
        self.region = region
        self.rows: dict[object, list[dict]] = {}
        self.names: dict[uuid.UUID, list[str]] = {}
        self.unknown_made = 0
        # The dates of the operation being made: (row, key, must be past by today).
        self.dates: list[tuple[dict, str, bool]] = []

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.rng.getrandbits(128), version=4)

    def tracked(self, **values) -> dict:
        """Version and who/when are constants of the whole generation (see write)."""
        return {"id": self.uid(), **values}

    def add(self, table, row: dict) -> dict:
        self.rows.setdefault(table, []).append(row)
        return row

    def day(self, start: date, spread_days: int) -> date:
        return start + timedelta(days=self.rng.randrange(spread_days))

    # --- people -----------------------------------------------------------------------

    def person(self) -> tuple[str, str, bool]:
        """(full name with civility, e-mail local part, feminine)."""
        feminine = self.rng.random() < 0.5
        first = self.rng.choice(FIRST_F if feminine else FIRST_M)
        last = self.rng.choice(LAST)
        return (f"{'Mme' if feminine else 'M.'} {first} {last}",
                f"{slug(first)}.{slug(last)}".replace("-", ""), feminine)

    def phone(self, departement: str | None, mobile: bool = False) -> str:
        rng = self.rng
        prefix = (rng.choice(("06", "07")) if mobile
                  else rng.choice(PHONE_PREFIXES.get(departement or "", ("03 20",))))
        return f"{prefix} " + " ".join(f"{rng.randrange(100):02d}"
                                       for _ in range(4 - prefix.count(" ")))

    def contact(self, roles, departement: str | None, domain: str) -> dict:
        name, local, feminine = self.person()
        role = self.rng.choice(roles)[1 if feminine else 0]
        return {"contact_name": name, "contact_role": role,
                "phone": self.phone(departement, mobile=self.rng.random() < 0.15),
                "email": f"{local}@{domain}"}

    # --- reference data of the region -------------------------------------------------

    def load_geography(self, session) -> None:
        self.departements = session.scalars(select(Departement.code).where(
            Departement.region_code == self.region).order_by(Departement.code)).all()
        self.communes = session.execute(
            select(Commune.code, Commune.name, Commune.arrondissement_code, Commune.siren,
                   Commune.population, Commune.departement_code)
            .where(Commune.departement_code.in_(self.departements))
            .order_by(Commune.code)).all()
        self.commune_by_code = {c.code: c for c in self.communes}
        self.arrondissements = sorted({c.arrondissement_code for c in self.communes
                                       if c.arrondissement_code})
        self.arrondissement_names = dict(session.execute(
            select(Arrondissement.code, Arrondissement.name)
            .where(Arrondissement.code.in_(self.arrondissements))).all())
        self.arrondissement_of = {c.code: c.arrondissement_code for c in self.communes}
        self.commune_names = {c.code: c.name for c in self.communes}
        region_codes = set(self.commune_by_code)
        members: dict[str, list[str]] = {}
        for epci_code, commune_code in session.execute(
                select(epci_member.c.epci_code, epci_member.c.commune_code)
                .order_by(epci_member.c.epci_code, epci_member.c.commune_code)):
            if commune_code in region_codes:
                members.setdefault(epci_code, []).append(commune_code)
        self.epci_members = members
        self.epcis = session.execute(select(Epci.code, Epci.name, Epci.population).where(
            Epci.code.in_(list(members))).order_by(Epci.code)).all()
        self.epci_of = {code: epci for epci, codes in members.items() for code in codes}
        self.contract_types = session.execute(
            select(ContractType.id, ContractType.code, ContractType.label)
            .order_by(ContractType.code)).all()
        schemes = session.execute(select(FundingScheme.code, FundingScheme.state_investment_grant,
                                         FundingScheme.state_subsidy)).all()
        self.state_aid = {code for code, grant, subsidy in schemes if grant or subsidy}
        self.dotations = {code for code, grant, _ in schemes if grant}
        self.decree = {code for code, _, subsidy in schemes if subsidy}

    # --- organisations ----------------------------------------------------------------

    def organisation(self, name: str, kind: OrganisationKind, acronym: str | None = None,
                     **extra) -> uuid.UUID:
        row = self.add(Organisation, self.tracked(
            name=name, acronym=acronym, kind=kind.value, siren=None, commune_code=None,
            epci_code=None, departement_code=None, region_code=None, aliases=None, notes=None,
            contact_name=None, contact_role=None, phone=None, email=None,
            search_document=organisation_document(name, acronym, None),
            sort_name=sort_name(name)))
        row.update(extra)
        self.names[row["id"]] = [n for n in (name, acronym) if n]
        self.kinds[row["id"]] = kind
        return row["id"]

    def make_organisations(self) -> None:
        rng = self.rng
        self.kinds: dict[uuid.UUID, OrganisationKind] = {}
        self.state = self.organisation(
            "État", OrganisationKind.STATE,
            **self.contact([("Chef du bureau du développement local et des dotations",
                             "Cheffe du bureau du développement local et des dotations")],
                           "59", "nord.gouv.fr"))
        self.region_org = self.organisation("Région Hauts-de-France", OrganisationKind.REGION,
                                            region_code=self.region)
        self.departement_orgs = [self.organisation(
            f"Département {DEPARTEMENT_NAMES.get(code, code)}", OrganisationKind.DEPARTEMENT,
            departement_code=code) for code in self.departements]
        self.eu = self.organisation("Union européenne (FEDER)", OrganisationKind.EU)
        self.caf = self.organisation("Caisse d'allocations familiales", OrganisationKind.OTHER,
                                     "CAF")
        self.water = self.organisation("Agence de l'eau Artois-Picardie",
                                       OrganisationKind.PUBLIC_BODY)
        self.ademe = self.organisation(
            "Agence de l'environnement et de la maîtrise de l'énergie, direction régionale "
            "Hauts-de-France", OrganisationKind.STATE_OPERATOR, "ADEME")
        self.bdt = self.organisation("Caisse des dépôts et consignations – Banque des "
                                     "Territoires", OrganisationKind.PUBLIC_BODY)
        self.commune_orgs = {}
        for c in self.communes:
            extra = {}
            if rng.random() < 0.4:
                extra = self.contact(COMMUNE_ROLES, c.departement_code,
                                     f"mairie-{slug(c.name)}.fr")
            self.commune_orgs[c.code] = self.organisation(
                commune_organisation_name(c.name), OrganisationKind.COMMUNE,
                commune_code=c.code, siren=c.siren, departement_code=c.departement_code,
                **extra)
        self.epci_orgs = {}
        self.epci_names = {}
        self.epci_population: dict[uuid.UUID, int | None] = {}
        for e in self.epcis:
            name = epci_long_name(e.name)
            self.epci_names[e.code] = name
            departement = self.commune_by_code[self.epci_members[e.code][0]].departement_code
            self.epci_orgs[e.code] = self.organisation(
                name, OrganisationKind.EPCI, epci_code=e.code, siren=e.code,
                **self.contact(EPCI_ROLES, departement, f"{slug(e.name)}.fr"))
            self.epci_population[self.epci_orgs[e.code]] = e.population
        # Syndicats and PETR: long names, a territory of several communes of one EPCI.
        territories = [e.code for e in self.epcis if len(self.epci_members[e.code]) >= 5]
        self.groupements = []
        for template, acronym in GROUPEMENTS:
            epci = rng.choice(territories)
            place = self.commune_by_code[rng.choice(self.epci_members[epci])]
            name = template.format(de=elide("de", place.name))
            self.groupements.append((self.organisation(
                name, OrganisationKind.LOCAL_GROUPING, acronym,
                departement_code=place.departement_code,
                **self.contact(EPCI_ROLES, place.departement_code,
                               f"{slug(acronym)}-{slug(place.name)}.fr" if "{de}" in template
                               else f"{slug(acronym)}.fr")), epci))
        self.private_orgs = []
        for index in range(36):
            place = rng.choice(self.communes)
            if index < 30:
                template, kind = ASSOCIATIONS[index % len(ASSOCIATIONS)], \
                    OrganisationKind.ASSOCIATION
            else:
                template, kind = COMPANIES[index - 30], OrganisationKind.COMPANY
            extra = (self.contact(COMMUNE_ROLES[2:], place.departement_code, "orange.fr")
                     if rng.random() < 0.7 else {})
            self.private_orgs.append((self.organisation(
                template.format(de=elide("de", place.name)), kind,
                commune_code=place.code, departement_code=place.departement_code, **extra),
                place.code))

    # --- contracts --------------------------------------------------------------------

    def signatory(self, contract: dict, organisation: uuid.UUID, roles: tuple[str, str],
                  position: int, departement: str | None, domain: str) -> None:
        """*roles*: (masculine, feminine), as the person drawn."""
        name, local, feminine = self.person()
        self.add(Signatory, self.tracked(
            contract_id=contract["id"], organisation_id=organisation,
            role=roles[1 if feminine else 0],
            signing_date=contract["signature_date"], position=position, person_name=name,
            phone=self.phone(departement), email=f"{local}@{domain}"))

    def make_contracts(self) -> None:
        rng = self.rng
        self.contracts_by_arrondissement: dict[str, list[tuple]] = {}
        epcis_by_arrondissement: dict[str, list[str]] = {}
        epci_short = {e.code: e.name for e in self.epcis}
        for epci, codes in self.epci_members.items():
            arrondissement = self.arrondissement_of.get(codes[0])
            epcis_by_arrondissement.setdefault(arrondissement, []).append(epci)
        n_contracts = max(1, self.count // 100)
        for number in range(n_contracts):
            arrondissement = self.arrondissements[number % len(self.arrondissements)]
            arrondissement_name = self.arrondissement_names.get(arrondissement, arrondissement)
            departement = arrondissement[:2]
            type_id, type_code, type_label = rng.choice(self.contract_types)
            label = type_label[:1].upper() + type_label[1:]
            signed = self.day(date(2016, 1, 1), 2900)
            end = signed + timedelta(days=365 * 6 - 1)
            status = rng.choices(
                [ContractStatus.SIGNED, ContractStatus.RUNNING, ContractStatus.CLOSED,
                 ContractStatus.PREPARATION], [2, 6, 2, 1])[0]
            candidates = epcis_by_arrondissement.get(arrondissement) or [
                e.code for e in self.epcis]
            epcis = rng.sample(candidates, min(len(candidates), rng.choice([1, 1, 2])))
            territory = " et ".join(elide("de", with_article(self.epci_names[e]))
                                    for e in epcis)
            if number % 5 != 4:  # four in five have the long title of the field
                title = (f"{label} {territory} pour la période {signed.year}-{end.year}, "
                         f"{rng.choice(AMBITIONS)}")
            else:
                title = f"{label} {territory}"
            if len(title) > 500:
                title = title[:500].rsplit(" ", 1)[0]
            perimeter = sum(len(self.epci_members[e]) for e in epcis)
            contract = self.add(Contract, self.tracked(
                reference=f"{type_code}-{arrondissement}-{number + 1:05d}", title=title,
                type_id=type_id, status=status.value,
                signature_date=None if status is ContractStatus.PREPARATION else signed,
                start_date=signed, end_date=end, arrondissement_code=arrondissement,
                territory=f"Arrondissement {elide('de', arrondissement_name)} : "
                          f"{', '.join(self.epci_names[e] for e in epcis)} "
                          f"({perimeter} communes)",
                envelope_total_cents=rng.randrange(1, 500) * 10_000_000,
                envelope_state_cents=None, notes=None, origin="generation", source=None))
            axes = []
            for position, label_axis in enumerate(rng.sample(AXES, rng.randint(3, 5))):
                axes.append(self.add(Axis, self.tracked(
                    contract_id=contract["id"], number=str(position + 1), label=label_axis,
                    position=position))["id"])
            signatories = ["État"]
            where = f"de l'arrondissement {elide('de', arrondissement_name)}"
            self.signatory(contract, self.state, (f"Pour l'État, le sous-préfet {where}",
                                                  f"Pour l'État, la sous-préfète {where}"),
                           0, departement, PREFECTURES.get(departement, "nord.gouv.fr"))
            position = 1
            for epci in epcis:
                whom = f"Pour {with_article(self.epci_names[epci])}"
                self.signatory(contract, self.epci_orgs[epci],
                               (f"{whom}, le président", f"{whom}, la présidente"),
                               position, departement, f"{slug(epci_short[epci])}.fr")
                position += 1
                signatories += self.names[self.epci_orgs[epci]]
                self.add(contract_epci, {"contract_id": contract["id"], "epci_code": epci})
            others = [(self.region_org, ("Pour la Région Hauts-de-France, le président du "
                                         "conseil régional", "Pour la Région Hauts-de-France, "
                                         "la présidente du conseil régional"),
                       "hautsdefrance.fr"),
                      (self.departement_orgs[self.departements.index(departement)]
                       if departement in self.departements else self.departement_orgs[0],
                       ("Pour le Département, le président du conseil départemental",
                        "Pour le Département, la présidente du conseil départemental"),
                       DEPARTEMENT_DOMAINS.get(departement, "lenord.fr")),
                      (self.bdt, ("Pour la Banque des Territoires, le directeur régional "
                                  "Hauts-de-France", "Pour la Banque des Territoires, la "
                                  "directrice régionale Hauts-de-France"),
                       "caissedesdepots.fr")]
            for organisation, roles, domain in rng.sample(others, rng.randint(0, 3)):
                self.signatory(contract, organisation, roles, position, departement, domain)
                position += 1
                signatories += self.names[organisation]
            contract["search_document"] = contract_document(
                contract["reference"], contract["title"], type_code, type_label,
                contract["territory"], signatories)
            amendments = rng.choices([0, 1, 2], [65, 30, 5])[0]
            for n in range(1, amendments + 1):
                self.add(Amendment, self.tracked(
                    contract_id=contract["id"], number=n,
                    amendment_date=signed + timedelta(days=400 * n),
                    subject=rng.choice(AMENDMENTS).format(n=n),
                    envelope_change_cents=rng.choice([None, rng.randrange(1, 50)
                                                            * 10_000_000])))
            self.add(SteeringMeeting, self.tracked(
                contract_id=contract["id"], meeting_date=signed + timedelta(days=200),
                kind="comité de pilotage", decisions=rng.choice(MEETING_DECISIONS)))
            self.contracts_by_arrondissement.setdefault(arrondissement, []).append(
                (contract["id"], axes, contract["reference"], end))

    # --- operations -------------------------------------------------------------------

    def setd(self, row: dict, key: str, value: date | None, past: bool = True) -> None:
        """Set a date of the operation being made; it moves with its timeline, which
        place_in_time ends before today (but for a date to come, *past* False)."""
        row[key] = value
        if value is not None:
            self.dates.append((row, key, past))

    def title(self, places: list[str], long: bool) -> str:
        rng = self.rng
        if not long:
            return rng.choice(PROJECTS) + rng.choice(PROJECT_SUFFIXES)
        place = elide("de", self.commune_names[places[0]])
        text = rng.choice(LONG_STARTS).format(de=place)
        for continuation in rng.sample(LONG_CONTINUATIONS, 2):
            text += " " + continuation
            if len(text) >= 150 and rng.random() < 0.6:
                break
        text += rng.choice(LONG_ENDINGS)
        if len(text) > 400:
            text = text[:400].rsplit(" ", 1)[0].rstrip(",;:—-– ")
        return text

    def reference(self, number: int, year: int, places: list[str], style: float) -> str:
        if style < 0.12:  # a file name of the territory: no space, 40 to 70 characters
            words = slug(self.commune_names[places[0]]).split("-")
            tag = "".join(w[0] for w in words) if len(words) > 1 else words[0][:10]
            prefix = self.rng.choice(REFERENCE_PREFIXES)
            theme = self.rng.choice(REFERENCE_THEMES).split("-")
            tail = f"-{year}-lot-{self.rng.randint(1, 9)}-{number + 1}"  # unique
            while len(theme) > 1 and len(f"{prefix}-{tag}-{'-'.join(theme)}{tail}") > 70:
                theme.pop()
            body = f"{prefix}-{tag}-{'-'.join(theme)}"
            if len(body) + len(tail) < 40:
                body += "-tranche-ferme"
            return body[:70 - len(tail)] + tail
        if style < 0.25:
            departement = self.commune_by_code[places[0]].departement_code
            return f"{departement}-{year}-{number + 1:06d}"
        return f"OP-{year}-{number + 1:06d}"

    def owner(self, profile: str):
        """(owner id, kind, communes of the operation)."""
        rng = self.rng
        if profile == "many_communes":
            epci = rng.choice(self.big_epcis)
            members = self.epci_members[epci]
            places = rng.sample(members, rng.randint(20, min(60, len(members))))
            return self.epci_orgs[epci], OrganisationKind.EPCI, places
        draw = rng.random()
        if draw < 0.62:
            commune = rng.choice(self.communes)
            return self.commune_orgs[commune.code], OrganisationKind.COMMUNE, [commune.code]
        if draw < 0.82:
            epci = rng.choice(self.epci_codes)
            members = self.epci_members[epci]
            return (self.epci_orgs[epci], OrganisationKind.EPCI,
                    rng.sample(members, min(len(members), rng.randint(1, 3))))
        if draw < 0.88:
            owner, epci = rng.choice(self.groupements)
            members = self.epci_members[epci]
            return (owner, OrganisationKind.LOCAL_GROUPING,
                    rng.sample(members, min(len(members), rng.randint(2, 8))))
        owner, place = rng.choice(self.private_orgs)
        return owner, self.kinds[owner], [place]

    def make_operations(self) -> None:
        rng = self.rng
        statuses = [s for s, _, _ in STATUSES]
        weights = [w for _, w, _ in STATUSES]
        stages = {s: stage for s, _, stage in STATUSES}
        self.epci_codes = [e.code for e in self.epcis]
        self.big_epcis = [code for code in self.epci_codes if len(self.epci_members[code]) >= 20]
        schedule = list(SCHEDULE)
        for number in range(self.count):
            if number % len(schedule) == 0:
                rng.shuffle(schedule)
            profile = schedule[number % len(schedule)]
            self.dates = []
            owner, kind, places = self.owner(profile)
            local = kind in LOCAL_OWNERS
            population = (self.commune_by_code[places[0]].population
                          if kind is OrganisationKind.COMMUNE
                          else self.epci_population.get(owner) if kind is OrganisationKind.EPCI
                          else None)
            if profile in ("unknown_cost", "over_funded"):
                status = rng.choice([OperationStatus.PROJECT, OperationStatus.FILED])
                stage = 0
            elif profile == "abandoned":
                status, stage = OperationStatus.ABANDONED, rng.choice([0, 1])
            elif profile == "unknown_granted":
                status, _, stage = rng.choices(COMMITTED, [w for _, w, _ in COMMITTED])[0]
            else:
                status = rng.choices(statuses, weights)[0]
                stage = stages[status]
            operation = self.add(Operation, self.tracked(
                title=self.title(places, rng.random() < 0.15), description=None,
                owner_id=owner, status=status.value, base_kind="HT",
                start_extension_months=0, completion_extension_months=0, chef_de_file=False,
                own_share_exception=None, own_share_exception_ref=None, notes=None,
                origin="generation", source=None))
            for key in ("deposit_date", "early_start_date", "decision_date",
                        "notification_date", "start_date", "end_date", "cost_ht_cents",
                        "cost_ttc_cents", "eligible_cost_cents"):
                operation[key] = None
            cost = None if profile == "unknown_cost" else self.costs(
                operation, items=profile != "over_funded" and rng.random() < 0.3)
            if cost is not None and not local and rng.random() < 0.5:
                operation["base_kind"] = "TTC"  # an association does not recover the VAT
            timeline = self.timeline(operation, status, stage)
            lines = self.make_plan(operation, profile, kind, population, stage, cost,
                                   timeline)
            self.place_in_time(operation, status, stage)
            year = (operation["deposit_date"] or TODAY - timedelta(
                days=rng.randrange(500))).year
            operation["reference"] = self.reference(number, year, places, rng.random())
            if rng.random() < 0.35:
                operation["description"] = " ".join(
                    sentence.format(title=operation["title"],
                                    day=(operation["deposit_date"] or TODAY).strftime("%d/%m/%Y"))
                    for sentence in rng.sample(DESCRIPTIONS, rng.randint(1, 3)))
            if status is OperationStatus.ABANDONED:
                operation["notes"] = ("Opération abandonnée par délibération du maître "
                                      "d'ouvrage ; subventions à désengager.")
            for line in lines:
                when = line["decision_date"] or operation["deposit_date"]
                line["budget_year"] = when.year if when else year
                if line["decision_date"] and line["scheme_code"] in self.state_aid:
                    line["decision_reference"] = (f"Arrêté préfectoral {line['scheme_code']} "
                                                  f"n° {when.year}-{number + 1:06d}")
                elif line["decision_date"]:
                    line["decision_reference"] = (f"Délibération de la commission permanente "
                                                  f"n° {when.year}-{line['position']:02d}"
                                                  f"{number + 1:06d}")
            for code in places:
                self.add(operation_commune, {"operation_id": operation["id"],
                                             "commune_code": code})
            references = self.link(operation, places)
            granted = [line["_granted"] for line in lines
                       if line["status"] == FundingStatus.GRANTED.value]
            known = [amount for amount in granted if amount is not None]
            operation["granted_total_cents"] = sum(known) if known else None
            operation["paid_total_cents"] = sum(line["_paid"] for line in lines)
            owner_names = self.names[owner]
            operation["search_document"] = operation_document(
                operation["reference"], operation["title"], owner_names,
                [(code, self.commune_names[code]) for code in places], references,
                [name for line in lines if line["financer_id"]
                 for name in self.names[line["financer_id"]]],
                [line["scheme_code"] for line in lines])
            for line in lines:
                del line["_granted"], line["_paid"]

    def link(self, operation: dict, places: list[str]) -> list[str]:
        rng = self.rng
        contracts = self.contracts_by_arrondissement.get(
            self.arrondissement_of.get(places[0]), [])
        # Mostly a contract still running when the operation was decided (or filed);
        # now and then one already ended, which the agent must extend or detach.
        when = operation["decision_date"] or operation["deposit_date"]
        running = [c for c in contracts if when is None or c[3] >= when]
        share = 0.8
        if running and rng.random() < 0.95:
            contracts = running
        elif not running:
            share = 0.05
        references = []
        if contracts and rng.random() < share:
            chosen = rng.sample(contracts, 2 if len(contracts) > 1 and rng.random() < 0.1
                                else 1)
            for contract_id, axes, reference, _ in chosen:
                references.append(reference)
                self.add(OperationLink, {"operation_id": operation["id"],
                                         "contract_id": contract_id,
                                         "axis_id": rng.choice(axes + [None] * (len(axes) // 4))})
        return references

    def costs(self, operation: dict, items: bool) -> tuple[int, int, int | None]:
        """Cost HT, cost TTC, eligible cost (cents); with 2-6 expense items, whose HT and
        TTC sums are the costs, now and then one outside the subsidisable expense."""
        rng = self.rng
        # Log-normal costs: median about 220 000 €, a few big projects.
        euros_ht = min(max(math.exp(rng.gauss(12.3, 1.0)), 5_000), 50_000_000)
        step = rng.choice([100, 100, 100, 10, 1])
        cost_ht = int(euros_ht // step * step) * EUR
        if rng.random() < 0.1:
            cost_ht += rng.randrange(1, 100)
        eligible: int | None
        if items:
            count = rng.randint(2, 6)
            labels = [(label, 2000 if rng.random() < 0.85 else rng.choice([1000, 550]), True)
                      for label in rng.sample(EXPENSES, count)]
            if rng.random() < 0.3:
                label, vat = rng.choice(NON_ELIGIBLE)
                labels[-1] = (label, vat, False)
            weights = [rng.uniform(0.3, 0.8) if not e else rng.uniform(1, 4)
                       for _, _, e in labels]
            scale = sum(weights)
            amounts = [cost_ht * int(w * 1000) // int(scale * 1000) for w in weights[:-1]]
            amounts.append(cost_ht - sum(amounts))
            cost_ttc, eligible = 0, 0
            for position, ((label, vat, is_eligible), ht) in enumerate(zip(labels, amounts,
                                                                          strict=True)):
                ttc = ht + rated(ht, vat)
                cost_ttc += ttc
                eligible += ht if is_eligible else 0
                self.add(ExpenseItem, self.tracked(
                    operation_id=operation["id"], label=label, amount_ht_cents=ht,
                    amount_ttc_cents=ttc, eligible=is_eligible, position=position))
        else:
            cost_ttc = cost_ht + rated(cost_ht, 2000)
            draw = rng.random()
            eligible = (cost_ht if draw < 0.75 else None if draw < 0.85
                        else cost_ht * rng.randint(70, 97) // 100 // EUR * EUR)
        operation.update(cost_ht_cents=cost_ht, cost_ttc_cents=cost_ttc,
                         eligible_cost_cents=eligible)
        return cost_ht, cost_ttc, eligible if eligible is not None else cost_ht

    def timeline(self, operation: dict, status: OperationStatus, stage: int) -> dict:
        """The operation's dates from a provisional deposit (place_in_time moves them)."""
        rng = self.rng
        decided = stage >= 1
        deposit = None if status is OperationStatus.PROJECT else ANCHOR
        decision = deposit + timedelta(days=rng.randint(45, 200)) if decided else None
        self.setd(operation, "deposit_date", deposit)
        self.setd(operation, "decision_date", decision)
        self.setd(operation, "notification_date",
                  decision + timedelta(days=7) if decision else None)
        return {"deposit": deposit, "decision": decision}

    def start_works(self, operation: dict, stage: int, deposit: date, decision: date,
                    first_notice: date | None) -> None:
        """Works start after the deposit (early, with the prefect's authorisation, before
        the decision) and within two years of every State notification."""
        rng = self.rng
        notice = first_notice or decision + timedelta(days=7)
        draw = rng.random()
        if draw < 0.05 and (decision - deposit).days > 80:
            early = deposit + timedelta(days=rng.randint(10, 30))
            self.setd(operation, "early_start_date", early)
            start = early + timedelta(days=rng.randint(0, 30))
        elif draw < 0.08:
            operation["start_extension_months"] = 12  # R2334-28: one year at most
            start = notice + timedelta(days=rng.randint(740, 1085))
        else:
            start = max(notice + timedelta(days=rng.randint(-5, 540)), deposit)
        self.setd(operation, "start_date", start)
        if stage >= 3:
            if rng.random() < 0.02:
                operation["completion_extension_months"] = 12
                end = start + timedelta(days=rng.randint(1470, 1650))
            else:
                end = start + timedelta(days=rng.randint(90, 1000))
            self.setd(operation, "end_date", end)

    def place_in_time(self, operation: dict, status: OperationStatus, stage: int) -> None:
        """Move the whole timeline so that it ends before today, deposits of drafts and
        programmed operations being recent."""
        if not self.dates:
            return
        last = max((row[key] for row, key, past in self.dates if past), default=ANCHOR)
        latest = TODAY - (last - ANCHOR) - timedelta(days=1)
        if stage == 0 and status is not OperationStatus.ABANDONED:
            earliest = TODAY - timedelta(days=400)
        elif stage == 1 and status is not OperationStatus.ABANDONED:
            earliest = TODAY - timedelta(days=820)
        elif stage == 2:  # works under way: most still within their completion deadline
            earliest = TODAY - timedelta(days=1300)
        else:
            earliest = FIRST_DEPOSIT
        earliest = min(earliest, latest)
        deposit = earliest + timedelta(days=self.rng.randint(0, (latest - earliest).days))
        shift = deposit - ANCHOR
        for row, key, _ in self.dates:
            row[key] = row[key] + shift

    # --- financing plan ---------------------------------------------------------------

    def state_schemes(self, kind: OrganisationKind, population: int | None) -> list[str]:
        """The State subsidies the owner may receive: DETR for communes of 20 000
        inhabitants at most, EPCI of 75 000 and syndicats (L2334-33), DSIL for communes and
        EPCI (L2334-42), the décret 2018-514 subsidies (FNADT, Fonds vert) for anyone."""
        draw = self.rng.random()
        detr = kind is OrganisationKind.LOCAL_GROUPING or (
            kind is OrganisationKind.COMMUNE and (population or 0) <= DETR_COMMUNE_MAX) or (
            kind is OrganisationKind.EPCI and (population or 0) <= DETR_EPCI_MAX)
        dsil = kind in (OrganisationKind.COMMUNE, OrganisationKind.EPCI)
        if not detr and not dsil:  # an association, a company
            return ["FONDS_VERT"] if draw < 0.45 else ["FNADT"] if draw < 0.85 else []
        dotation = "DETR" if detr else "DSIL"
        for limit, schemes in ((0.48, [dotation]),
                               (0.66, ["DSIL" if dsil else "DETR"]),
                               (0.76, ["DETR", "DSIL"] if detr and dsil else [dotation]),
                               (0.86, [dotation, "FONDS_VERT"]), (0.92, ["FONDS_VERT"]),
                               (0.96, ["FNADT"])):
            if draw < limit:
                return schemes
        return []

    def make_plan(self, operation: dict, profile: str, kind: OrganisationKind,
                  population: int | None, stage: int, cost: tuple[int, int, int] | None,
                  timeline: dict) -> list[dict]:
        """Funding lines and payments of the operation. In cents, exact: for a local
        authority owner the public funding P and the other funding X leave a share S with
        4·S ≥ P (20 % of P + S), the DETR is at least a fifth of the subsidisable expense
        and the DETR and DSIL at most four fifths of it; with a décret 2018-514 subsidy,
        all public aid at most the subsidisable expense."""
        rng = self.rng
        decided = stage >= 1
        local = kind in LOCAL_OWNERS
        schemes = self.state_schemes(kind, population)
        alone = False  # one in three: the Département alone, its amount not communicated
        if profile == "unknown_granted":
            alone = self.unknown_made % 3 == 0
            self.unknown_made += 1
            schemes = [] if alone else schemes[:1] or ["FNADT"]
        specs: list[dict] = []  # financer, scheme, requested, public

        def spec(financer, scheme, amount, public=True):
            specs.append({"financer": financer, "scheme": scheme, "requested": amount,
                          "public": public})

        if cost is None:  # cost unknown: round amounts asked for, some not yet known
            if rng.random() < 0.7:
                for scheme in schemes:
                    spec(self.state, scheme, rng.randint(2, 60) * 5_000 * EUR)
                spec(rng.choice(self.departement_orgs), "DEPARTEMENT",
                     rng.choice([None, rng.randint(1, 20) * 5_000 * EUR]))
            return self.write_lines(operation, specs, stage, decided, timeline, None, profile)
        cost_ht, cost_ttc, subsidisable = cost
        base = cost_ttc if operation["base_kind"] == "TTC" else cost_ht
        if profile == "over_funded":  # a draft whose requests exceed the cost
            spec(self.state, schemes[0] if schemes else "FNADT",
                 ceil_div(subsidisable * 40, 100))
            spec(rng.choice(self.departement_orgs), "DEPARTEMENT", base * 30 // 100)
            spec(self.region_org, "REGION", base * 25 // 100)
            spec(self.eu, "FEDER", base * 25 // 100)
            assert sum(s["requested"] for s in specs) > base
            return self.write_lines(operation, specs, stage, decided, timeline, cost, profile)
        other = 0  # funding of private financers (the CAF): not public
        if rng.random() < 0.04:
            other = base * rng.randint(10, 30) // 100 // EUR * EUR
        # What public funding may reach: 80 % of what the others leave for a local
        # authority (L1111-10), 90 % of the cost for other owners (their own rule).
        room = (4 * (base - other)) // 5 if local else base * 9 // 10 - other
        if any(scheme in self.decree for scheme in schemes):
            room = min(room, subsidisable)  # décret 2018-514, art. 10
        cap = (4 * subsidisable) // 5  # DETR + DSIL (R2334-27)
        dotations = 0
        for scheme in schemes:
            if scheme == "DETR":
                amount = ceil_div(subsidisable * rng.randint(20, 45), 100)
                if rng.random() < 0.5:
                    amount = ceil_div(amount, EUR) * EUR
                if 5 * amount < subsidisable or amount > min(room, cap - dotations):
                    continue
            elif scheme == "DSIL":
                amount = min(subsidisable * rng.randint(15, 50) // 100, cap - dotations, room)
            else:
                amount = min(cost_ht * rng.randint(10, 40) // 100, room)
            amount = amount // EUR * EUR if scheme != "DETR" else amount
            if amount < 1_000 * EUR:
                continue
            if scheme in self.dotations:
                dotations += amount
            room -= amount
            spec(self.state, scheme, amount)
        for financer, scheme, rate in (
                (rng.choice(self.departement_orgs), "DEPARTEMENT", rng.choice([0, 10, 15, 20])),
                (self.region_org, "REGION", rng.choice([0, 0, 10, 15])),
                (self.eu, "FEDER", rng.choice([0, 0, 0, 0, 20])),
                (self.water, "DROIT_COMMUN", rng.choice([0] * 12 + [30])),
                (self.ademe, "ADEME", rng.choice([0] * 15 + [25]))):
            amount = base * rate // 100 // EUR * EUR
            if profile == "unknown_granted" and scheme == "DEPARTEMENT":
                amount = max(amount, base * 10 // 100 // EUR * EUR)
            amount = min(amount, room // EUR * EUR)
            if alone and scheme != "DEPARTEMENT":
                continue
            if amount >= 1_000 * EUR:
                room -= amount
                spec(financer, scheme, amount)
        if other and not alone:
            spec(self.caf, "DROIT_COMMUN", other, public=False)
        return self.write_lines(operation, specs, stage, decided, timeline, cost, profile)

    def write_lines(self, operation: dict, specs: list[dict], stage: int, decided: bool,
                    timeline: dict, cost, profile: str) -> list[dict]:
        rng = self.rng
        deposit, decision = timeline["deposit"], timeline["decision"]
        subsidisable = cost[2] if cost else None
        unknown_done = False
        lines = []
        state_lines = [s for s in specs if s["scheme"] in self.state_aid]
        for position, s in enumerate(specs):
            scheme, requested = s["scheme"], s["requested"]
            state = scheme in self.state_aid
            status, granted, line_decision = FundingStatus.REQUESTED, None, None
            if decided:
                if state:
                    # The main State decision is the operation's; a second one may come
                    # later (or be refused).
                    line_decision = decision if s is state_lines[0] else decision + timedelta(
                        days=rng.randint(0, 120))
                    status = (FundingStatus.REFUSED if s is not state_lines[0]
                              and rng.random() < 0.15 else FundingStatus.GRANTED)
                else:
                    line_decision = max(decision + timedelta(days=rng.randint(-40, 200)),
                                        deposit + timedelta(days=5))
                    draw = rng.random()
                    status = (FundingStatus.REFUSED if draw < 0.08
                              else FundingStatus.REQUESTED if draw < 0.18
                              else FundingStatus.GRANTED)
                    if status is FundingStatus.REQUESTED:
                        line_decision = None
                    if (operation["status"] != OperationStatus.ABANDONED.value
                            and not unknown_done and s["financer"] != self.caf
                            and (profile == "unknown_granted" or rng.random() < 0.01)):
                        status, unknown_done = FundingStatus.GRANTED, True
                        line_decision = line_decision or decision + timedelta(days=30)
                        s["unknown"] = True
                if status is FundingStatus.GRANTED and not s.get("unknown"):
                    granted = requested
                    if requested and rng.random() < 0.2:  # less than asked for
                        granted = requested * rng.randint(70, 95) // 100 // EUR * EUR
                        if scheme == "DETR":
                            granted = max(granted, ceil_div(subsidisable, 5))
            elif operation["status"] == OperationStatus.ABANDONED.value and deposit \
                    and state and rng.random() < 0.4:
                status = FundingStatus.REFUSED  # refused, then the project was given up
                line_decision = deposit + timedelta(days=rng.randint(60, 200))
            plan_amount = (granted if granted is not None else requested) or 0
            commission = None
            if scheme == "DETR" and status is not FundingStatus.REFUSED \
                    and plan_amount > DETR_COMMISSION_CENTS:
                if line_decision:
                    commission = max(line_decision - timedelta(days=rng.randint(15, 45)),
                                     deposit + timedelta(days=1))
                elif deposit and rng.random() < 0.5:
                    commission = deposit + timedelta(days=rng.randint(20, 80))
            line = self.add(FundingLine, self.tracked(
                operation_id=operation["id"], financer_id=s["financer"], scheme_code=scheme,
                amount_requested_cents=requested, amount_granted_cents=granted,
                status=status.value, decision_reference=None, budget_year=None,
                position=position, notes=None, paid_total_cents=0))
            self.setd(line, "decision_date", line_decision)
            # Each State subsidy runs from its own notification, a week after its decision.
            self.setd(line, "notification_date", line_decision + timedelta(days=7)
                      if state and line_decision else None)
            self.setd(line, "commission_opinion_date", commission)
            line["planned_completion_date"] = None
            if s.get("unknown"):
                line["notes"] = "Accordé : montant non communiqué par le financeur."
            line["_granted"], line["_paid"] = granted, 0
            line["_state"] = state
            lines.append(line)
        if stage >= 2:
            notices = [line["notification_date"] for line in lines
                       if line["_state"] and line["status"] != FundingStatus.REFUSED.value]
            self.start_works(operation, stage, deposit, decision, min(notices, default=None))
            for line in lines:
                if line["_granted"]:
                    line["_paid"] = self.make_payments(line, line["_granted"], stage,
                                                       operation)
        for line in lines:
            # Décret 2018-514: the decision sets the completion date (art. 8, 4°), after
            # the works' end when they are finished.
            if line["scheme_code"] in self.decree and line["notification_date"] \
                    and line["status"] == FundingStatus.GRANTED.value:
                planned = add_months(line["notification_date"], rng.choice([36, 48, 48, 60]))
                if operation["end_date"] and operation["end_date"] > planned:
                    planned = operation["end_date"] + timedelta(days=rng.randint(0, 90))
                self.setd(line, "planned_completion_date", planned, past=False)
        for line in lines:
            del line["_state"]
        return lines

    def make_payments(self, line: dict, granted: int, stage: int, operation: dict) -> int:
        """Avance (30 % at most), acomptes (avance and acomptes 80 % at most before the
        solde), solde: each after the line's decision."""
        rng = self.rng
        start, end = operation["start_date"], operation["end_date"]
        first = max(start, line["decision_date"]) + timedelta(days=rng.randint(10, 45))
        paid = []
        if line["_state"] and rng.random() < 0.75:
            paid.append((PaymentKind.ADVANCE, granted * 30 // 100, first))
        ceiling = rng.randint(40, 80) if stage >= 3 else rng.randint(0, 50)
        share = sum(amount for _, amount, _ in paid)
        instalments = rng.randint(1, 2) if stage >= 3 else int(rng.random() < 0.5)
        limit = end if end and end > first else first + timedelta(days=400)
        for index in range(instalments):
            amount = granted * ceiling // 100 - share
            if index + 1 < instalments:
                amount //= 2
            if amount <= 0:
                break
            when = first + timedelta(days=rng.randint(1, max(1, (limit - first).days)))
            paid.append((PaymentKind.INSTALMENT, amount, when))
            share += amount
        if stage >= 4:
            final = granted if rng.random() < 0.7 else granted * rng.randint(85, 99) // 100
            balance_day = max([end] + [when for _, _, when in paid]) + timedelta(
                days=rng.randint(30, 150))
            paid.append((PaymentKind.BALANCE, final - share, balance_day))
        total = 0
        for kind, amount, when in sorted(paid, key=lambda p: p[2]):
            if amount > 0:
                payment = self.add(Payment, self.tracked(
                    funding_line_id=line["id"], kind=kind.value, amount_cents=amount,
                    reference=f"Mandat n° {rng.randint(1, 9999):04d}" if rng.random() < 0.6
                    else None))
                self.setd(payment, "payment_date", when)
                total += amount
        line["paid_total_cents"] = total
        return total

    # --- writing ----------------------------------------------------------------------

    @staticmethod
    def in_cents(table: Table) -> Table:
        """The table with its money columns as the integer cents they store: amounts
        are made in cents and go to the driver as they are, without Decimal."""
        if not any(isinstance(column.type, Money) for column in table.c):
            return table
        return Table(table.name, MetaData(), *(
            Column(column.name, BigInteger() if isinstance(column.type, Money)
                   else column.type) for column in table.c))

    def write(self, session) -> dict[str, int]:
        order = [Organisation, Contract, Axis, Signatory, Amendment, SteeringMeeting,
                 contract_epci, Operation, ExpenseItem, operation_commune, OperationLink,
                 FundingLine, Payment]
        constants = {"version": 1, "created_at": NOW, "created_by": LOGIN, "updated_at": NOW,
                     "updated_by": LOGIN}
        counts = {}
        connection = session.connection()
        for model in order:
            table = getattr(model, "__table__", model)
            rows = self.rows.get(model, [])
            counts[table.name] = len(rows)
            if not rows:
                continue
            keys = list(dict.fromkeys(key for row in rows[:1] for key in row))
            for row in rows:  # every row of a table has the same columns
                if len(row) != len(keys):
                    raise ValueError(f"{table.name}: {sorted(row)} ≠ {sorted(keys)}")
            tracked = {k: v for k, v in constants.items() if k in table.c}
            indexed = table.name in ("organisation", "contract", "operation")
            with bulk_indexing(connection, table.name) if indexed else nullcontext():
                for start in range(0, len(rows), CHUNK * 4):
                    chunk = rows[start:start + CHUNK * 4]
                    insert_rows(connection, self.in_cents(table),
                                {key: [row[key] for row in chunk] for key in keys}, tracked)
        session.add(AuditEntry(at=NOW, login=LOGIN, action="insert", entity="generation",
                               entity_id=str(self.count), changes={"counts": counts}))
        return counts


def generate(target: str, operations: int, seed: int = 2026, region: str = "32"
             ) -> dict[str, int]:
    db = open_database(target)
    try:
        with db.write() as session:
            existing = session.scalar(select(func.count()).select_from(Operation))
            if existing:
                raise SystemExit(f"Erreur : la base {db.display()} contient déjà "
                                 f"{existing} opérations.")
            generator = Generator(db, operations, seed, region)
            generator.load_geography(session)
            generator.make_organisations()
            generator.make_contracts()
            generator.make_operations()
            counts = generator.write(session)
        db.analyze()
        return counts
    finally:
        db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="fichier SQLite ou URL postgresql://…")
    parser.add_argument("--operations", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--region", default="32", help="code de la région (32 : Hauts-de-France)")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    counts = generate(args.db, args.operations, args.seed, args.region)
    print(f"{args.operations} opérations générées en {time.perf_counter() - started:.1f} s : "
          + ", ".join(f"{name} {count}" for name, count in counts.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
