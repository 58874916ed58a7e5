"""Closed vocabularies of the domain: stable codes stored in the database and
the French labels the user sees."""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    @property
    def label(self) -> str:
        # Keyed by class and code: "solde" is both a payment (Solde) and a status (Soldé),
        # and StrEnum members with the same code are equal keys of a plain dict.
        return _LABELS_BY_CLASS[(type(self), self.value)]


class ContractStatus(Labelled):
    PREPARATION = "en_preparation"
    SIGNED = "signe"
    RUNNING = "en_execution"
    CLOSED = "clos"
    TERMINATED = "resilie"


class OperationStatus(Labelled):
    PROJECT = "projet"
    FILED = "depose"
    PROGRAMMED = "programme"
    COMMITTED = "engage"
    IN_PROGRESS = "en_cours"
    COMPLETED = "acheve"
    SETTLED = "solde"
    ABANDONED = "abandonne"


class FundingStatus(Labelled):
    REQUESTED = "sollicite"
    GRANTED = "accorde"
    REFUSED = "refuse"


class PaymentKind(Labelled):
    ADVANCE = "avance"
    INSTALMENT = "acompte"
    BALANCE = "solde"


class BaseKind(Labelled):
    HT = "HT"
    TTC = "TTC"


class OrganisationKind(Labelled):
    STATE = "etat"
    STATE_OPERATOR = "operateur_etat"
    PUBLIC_BODY = "etablissement_public"
    REGION = "region"
    DEPARTEMENT = "departement"
    EPCI = "epci"
    COMMUNE = "commune"
    LOCAL_GROUPING = "groupement"
    EU = "ue"
    ASSOCIATION = "association"
    COMPANY = "entreprise"
    OTHER = "autre"


class AttachmentKind(Labelled):
    """What an attached file is (db.attachments)."""

    SIGNED_CONVENTION = "convention_signee"
    SIGNED_ORDER = "arrete_signe"
    DELIBERATION = "deliberation"
    QUOTE = "devis"
    INVOICE = "facture"
    PHOTO = "photo"
    OTHER = "autre"


class ActKind(Labelled):
    """An act or letter written for a funding line (db.acts)."""

    AWARD_ORDER = "arrete_attributif"
    NOTIFICATION = "notification"
    REFUSAL = "refus"
    EXTENSION_ORDER = "prorogation"
    LAPSE_WARNING = "alerte_caducite"


class OwnShareException(Labelled):
    """Legal exceptions to the owner's minimum share (CGCT L1111-10)."""

    HISTORIC_MONUMENT = "monument_historique"
    CALAMITY = "calamite"
    URBAN_RENEWAL = "renouvellement_urbain"
    EU_COOPERATION = "cooperation_territoriale_europeenne"
    # Since migration 0004: the school energy renovation derogation (loi 2024-279).
    PREFECT_DEROGATION = "derogation_prefet"


LOCAL_AUTHORITY_KINDS = frozenset({
    OrganisationKind.REGION, OrganisationKind.DEPARTEMENT, OrganisationKind.EPCI,
    OrganisationKind.COMMUNE, OrganisationKind.LOCAL_GROUPING,
})
PUBLIC_KINDS = LOCAL_AUTHORITY_KINDS | {
    OrganisationKind.STATE, OrganisationKind.STATE_OPERATOR,
    OrganisationKind.PUBLIC_BODY, OrganisationKind.EU,
}
# Operations in these states are committed: blocking rule findings forbid saving.
COMMITTED_OPERATION_STATUSES = frozenset({
    OperationStatus.PROGRAMMED, OperationStatus.COMMITTED, OperationStatus.IN_PROGRESS,
    OperationStatus.COMPLETED, OperationStatus.SETTLED,
})
COMMITTED_CONTRACT_STATUSES = frozenset({
    ContractStatus.SIGNED, ContractStatus.RUNNING, ContractStatus.CLOSED,
})

LABEL_PAIRS: list[tuple[StrEnum, str]] = [
    (ContractStatus.PREPARATION, "En préparation"),
    (ContractStatus.SIGNED, "Signé"),
    (ContractStatus.RUNNING, "En exécution"),
    (ContractStatus.CLOSED, "Clos"),
    (ContractStatus.TERMINATED, "Résilié"),
    (OperationStatus.PROJECT, "Projet"),
    (OperationStatus.FILED, "Déposé"),
    (OperationStatus.PROGRAMMED, "Programmé"),
    (OperationStatus.COMMITTED, "Engagé"),
    (OperationStatus.IN_PROGRESS, "En cours"),
    (OperationStatus.COMPLETED, "Achevé"),
    (OperationStatus.SETTLED, "Soldé"),
    (OperationStatus.ABANDONED, "Abandonné"),
    (FundingStatus.REQUESTED, "Sollicité"),
    (FundingStatus.GRANTED, "Accordé"),
    (FundingStatus.REFUSED, "Refusé"),
    (PaymentKind.ADVANCE, "Avance"),
    (PaymentKind.INSTALMENT, "Acompte"),
    (PaymentKind.BALANCE, "Solde"),
    (BaseKind.HT, "HT"),
    (BaseKind.TTC, "TTC"),
    (OrganisationKind.STATE, "État (service)"),
    (OrganisationKind.STATE_OPERATOR, "Opérateur de l'État"),
    (OrganisationKind.PUBLIC_BODY, "Établissement public"),
    (OrganisationKind.REGION, "Région"),
    (OrganisationKind.DEPARTEMENT, "Département"),
    (OrganisationKind.EPCI, "EPCI"),
    (OrganisationKind.COMMUNE, "Commune"),
    (OrganisationKind.LOCAL_GROUPING, "Groupement de collectivités"),
    (OrganisationKind.EU, "Union européenne"),
    (OrganisationKind.ASSOCIATION, "Association"),
    (OrganisationKind.COMPANY, "Entreprise"),
    (OrganisationKind.OTHER, "Autre"),
    (AttachmentKind.SIGNED_CONVENTION, "Convention signée"),
    (AttachmentKind.SIGNED_ORDER, "Arrêté signé"),
    (AttachmentKind.DELIBERATION, "Délibération"),
    (AttachmentKind.QUOTE, "Devis"),
    (AttachmentKind.INVOICE, "Facture"),
    (AttachmentKind.PHOTO, "Photo"),
    (AttachmentKind.OTHER, "Autre"),
    (ActKind.AWARD_ORDER, "Arrêté attributif"),
    (ActKind.NOTIFICATION, "Lettre de notification"),
    (ActKind.REFUSAL, "Lettre de refus"),
    (ActKind.EXTENSION_ORDER, "Arrêté de prorogation"),
    (ActKind.LAPSE_WARNING, "Courrier d'alerte de caducité"),
    (OwnShareException.HISTORIC_MONUMENT,
     "Patrimoine, monument protégé ou non : dérogation du préfet (L1111-10 III, "
     "loi 2019-1461)"),
    (OwnShareException.CALAMITY,
     "Réparation de dégâts causés par une calamité publique : dérogation du préfet "
     "(L1111-10 III)"),
    (OwnShareException.URBAN_RENEWAL, "Rénovation urbaine, loi 2003-710 art. 9 (L1111-10 III)"),
    (OwnShareException.EU_COOPERATION,
     "Programme de coopération territoriale européenne (FEDER) (L1111-10 III)"),
    (OwnShareException.PREFECT_DEROGATION,
     "Rénovation énergétique de bâtiments scolaires : minimum de 10 % fixé par le préfet "
     "(L1111-10 III, loi 2024-279)"),
]



def _by_class(pairs: list) -> dict:
    return {(type(member), member.value): label for member, label in pairs}


_LABELS_BY_CLASS = _by_class(LABEL_PAIRS)


CODE_KINDS: dict[str, tuple[type[Labelled], ...]] = {
    "status": (OperationStatus, ContractStatus),
    "line_status": (FundingStatus,),
    "kind": (OrganisationKind,),
}


def code_label(kind: str, code: object) -> str:
    """The French label of a stored code (``"programme"`` -> ``"Programmé"``)."""
    for enum_class in CODE_KINDS.get(kind, ()):
        try:
            return enum_class(code).label
        except ValueError:
            continue
    return "" if code is None else str(code)
