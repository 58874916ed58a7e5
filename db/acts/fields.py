"""The named fields an act template may use, and their values for one funding line.

Every field of the catalogue has a French description (shown to the agent who edits a
template). :func:`context` reads the database once and returns the values as French
text: amounts through :mod:`db.formatting` (« 340 000,00 € »), in words through
num2words (« trois cent quarante mille euros »), dates « 20 mars 2026 » (« 1er » for
the first day of a month, as acts write it), deadlines from
:mod:`db.rules.deadlines` (never recomputed here). A value that the base does not hold
is ``None``; :mod:`db.acts.templates` prints it as a visible « [à compléter : champ] ».
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select

from db.database import Database
from db.errors import NotFoundError
from db.formatting import euros, long_date, percent
from db.models import Arrondissement, FundingLine, Operation, Setting
from db.rules import texts
from db.rules.deadlines import (
    COMPLETION_EXTENSION_MAX,
    START_EXTENSION_MAX,
    line_deadlines,
)
from db.services.settings import ARRONDISSEMENT
from db.text import elide

# A DETR subsidy above this needs the opinion of the commission d'élus (L2334-37).
COMMISSION_THRESHOLD = Decimal("100000.00")

# The finance law of each budget year, as the visas cite it; a setting
# ``acts.loi_de_finances.<année>`` gives (or corrects) it for other years.
FINANCE_LAWS = {
    2024: "loi n° 2023-1322 du 29 décembre 2023 de finances pour 2024",
    2025: "loi n° 2025-127 du 14 février 2025 de finances pour 2025",
}
FINANCE_LAW_SETTING = "acts.loi_de_finances."
SIGNATORY_SETTING = "acts.signataire"  # « Le sous-préfet d'Avesnes-sur-Helpe »
PREFET_SETTING = "acts.prefet"  # « Le préfet du Nord »


@dataclass(frozen=True)
class Field:
    name: str
    description: str


CATALOGUE: tuple[Field, ...] = (
    Field("maitre_ouvrage", "Nom du maître d'ouvrage (bénéficiaire de la subvention)."),
    Field("beneficiaire", "Le maître d'ouvrage tel qu'une phrase le nomme (« la commune de "
                          "Hautmont », « la communauté de communes du Cœur de l'Avesnois »)."),
    Field("objet", "Intitulé de l'opération subventionnée."),
    Field("reference", "Référence de l'opération dans l'application."),
    Field("reference_decision", "Référence de la décision (numéro de l'arrêté)."),
    Field("dispositif", "Nom court du dispositif (« DETR »)."),
    Field("dispositif_libelle", "Nom complet du dispositif (« Dotation d'équipement des "
                                "territoires ruraux (DETR) »)."),
    Field("au_titre_du_dispositif", "Le dispositif tel qu'une phrase le cite (« au titre de "
                                    "la dotation d'équipement des territoires ruraux "
                                    "(DETR) », « au titre du Fonds vert »)."),
    Field("montant", "Montant maximal de la subvention, en chiffres (« 192 000,00 € »)."),
    Field("montant_en_lettres", "Montant maximal de la subvention, en lettres (« cent "
                                "quatre-vingt-douze mille euros »)."),
    Field("montant_demande", "Montant sollicité par le maître d'ouvrage, en chiffres."),
    Field("taux", "Taux de la subvention sur la dépense subventionnable (« 40,00 % »)."),
    Field("base_subventionnable", "Dépense subventionnable hors taxes, en chiffres."),
    Field("base_subventionnable_en_lettres", "Dépense subventionnable hors taxes, en lettres."),
    Field("cout_ht", "Coût prévisionnel hors taxes de l'opération."),
    Field("date_depot", "Date du dépôt du dossier de demande (« 15 janvier 2025 »)."),
    Field("date_decision", "Date de la décision d'attribution."),
    Field("date_notification", "Date de notification de la subvention."),
    Field("date_avis_commission", "Date de l'avis de la commission d'élus DETR."),
    Field("commission_requise", "Vrai quand le montant dépasse 100 000 € : l'avis de la "
                                "commission d'élus est visé (CGCT art. L2334-37). S'emploie "
                                "dans une condition : {%p if commission_requise %}."),
    Field("date_limite_commencement", "Date limite de commencement des travaux (caducité), "
                                      "calculée par les règles de l'application."),
    Field("date_limite_achevement", "Date limite d'achèvement des travaux, calculée par les "
                                    "règles de l'application."),
    Field("article_caducite", "Article qui fixe le délai de commencement (« CGCT art. "
                              "R2334-28 »)."),
    Field("article_achevement", "Article qui fixe le délai d'achèvement (« CGCT art. "
                                "R2334-29 »)."),
    Field("avance_max", "Plafond de l'avance (30 % du montant), en chiffres."),
    Field("acomptes_max", "Plafond de l'avance et des acomptes (80 % du montant), en "
                          "chiffres."),
    Field("commune", "Commune du lieu de l'opération (la première quand il y en a "
                     "plusieurs)."),
    Field("communes", "Communes du lieu de l'opération, séparées par des virgules."),
    Field("arrondissement", "Arrondissement (« arrondissement d'Avesnes-sur-Helpe »)."),
    Field("prefecture", "Identité de la préfecture (paramètres du bureau)."),
    Field("sous_prefecture", "Identité de la sous-préfecture (paramètres du bureau)."),
    Field("lieu", "Lieu de signature (paramètres du bureau)."),
    Field("prefet", "Autorité qui arrête (« Le préfet du Nord »)."),
    Field("signataire", "Qualité du signataire (« Pour le préfet et par délégation, le "
                        "sous-préfet d'Avesnes-sur-Helpe »)."),
    Field("annee", "Année budgétaire de la subvention (« 2025 »)."),
    Field("loi_de_finances", "Loi de finances de l'année, telle que les visas la citent."),
    Field("date_edition", "Date d'édition du document."),
    # Since the shipped letters and the prorogation and caducité acts (issue 13).
    Field("empreinte", "Empreinte de l'acte : imprimée au pied de chaque page et dans son "
                       "QR code, elle permet de reclasser le scan signé."),
    Field("dotation_cgct", "Vrai pour une dotation du code général des collectivités "
                           "territoriales (DETR, DSIL, DPV, DSID), faux pour une subvention du "
                           "décret n° 2018-514 (FNADT, Fonds vert…). S'emploie dans une "
                           "condition : {% if dotation_cgct %}."),
    Field("article_versements", "Article qui règle l'avance, les acomptes et le solde "
                                "(« CGCT art. R2334-30 »)."),
    Field("montant_verse", "Total déjà versé sur la subvention, en chiffres ; vide quand "
                           "rien n'est versé."),
    Field("motif_refus", "Motif du refus, saisi par l'agent au moment d'éditer la lettre "
                         "(vide : la lettre emploie la formule générale du modèle)."),
    Field("date_limite_commencement_initiale", "Date limite de commencement avant "
                                               "prorogation (deux ans après la notification)."),
    Field("duree_prorogation", "Durée de la prorogation du délai de commencement "
                               "enregistrée sur l'opération (« un an », « six mois ») ; vide "
                               "sans prorogation."),
    Field("date_limite_achevement_initiale", "Date limite d'achèvement avant prorogation."),
    Field("duree_prorogation_achevement", "Durée de la prorogation du délai d'achèvement "
                                          "(« deux ans ») ; vide sans prorogation."),
    Field("jours_restants", "Nombre de jours qui restent, à la date d'édition, avant la date "
                            "limite de commencement (« 45 »)."),
)
FIELDS = {field.name: field for field in CATALOGUE}


def catalogue_markdown() -> str:
    """The list of fields as the office reads it (docs/champs-des-modeles.md)."""
    lines = ["# Champs des modèles d'actes", "",
             "Un modèle d'acte (arrêté, lettre) est un document Word (.docx) que le bureau "
             "modifie dans LibreOffice ou Word. Il peut employer les champs ci-dessous, écrits "
             "entre doubles accolades : `{{ montant_en_lettres }}`. Un champ qui n'est pas dans "
             "cette liste fait refuser le modèle (le message nomme le champ et son "
             "paragraphe) ; une valeur que la base ne connaît pas s'imprime "
             "« [à compléter : champ] ». Un paragraphe entre `{%p if champ %}` et "
             "`{%p endif %}` (chacun seul sur sa ligne) ne s'imprime que si le champ a une "
             "valeur.", "", "| Champ | Contenu |", "| --- | --- |"]
    lines += [f"| `{field.name}` | {field.description.replace('|', '/')} |"
              for field in CATALOGUE]
    return "\n".join(lines) + "\n"


# --- Amounts and dates in French ------------------------------------------------------

def _words(value: int) -> str:
    from num2words import num2words  # not on the start-up path

    return num2words(value, lang="fr")


def amount_in_words(amount: Decimal) -> str:
    """« trois cent quarante mille euros et cinquante centimes », « un euro », « un
    million d'euros » (« de » before euros after million and milliard, as French writes
    it), « cinquante centimes »."""
    cents = int(Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP) * 100)
    if cents < 0:
        raise ValueError("montant négatif")
    units, hundredths = divmod(cents, 100)
    parts = []
    if units or not hundredths:
        words = _words(units)
        if units == 1:
            parts.append(f"{words} euro")
        elif words.endswith(("million", "millions", "milliard", "milliards")):
            parts.append(f"{words} d'euros")
        else:
            parts.append(f"{words} euros")
    if hundredths:
        cents_words = _words(hundredths)
        parts.append(f"{cents_words} centime" + ("s" if hundredths > 1 else ""))
    return " et ".join(parts)


_ARTICLES = (("commune ", "la"), ("communauté ", "la"), ("métropole ", "la"),
             ("région ", "la"),
             ("établissement ", "l'"), ("office ", "l'"))


def beneficiary(name: str | None) -> str | None:
    """« Commune de Hautmont » → « la commune de Hautmont »: how a sentence names the owner
    (other names are kept as they are written)."""
    if not name:
        return None
    lowered = name.lower()
    for prefix, article in _ARTICLES:
        if lowered.startswith(prefix):
            joined = article if article.endswith("'") else f"{article} "
            return f"{joined}{name[0].lower()}{name[1:]}"
    return name


def act_date(value: date | None) -> str | None:
    """« 20 mars 2026 », « 1er avril 2026 »."""
    if value is None:
        return None
    text = long_date(value)
    return f"1er{text[1:]}" if value.day == 1 else text


def under_scheme(label: str | None) -> str | None:
    """« au titre de la dotation … (DETR) », « au titre du Fonds … », else the name quoted."""
    if not label:
        return None
    if label.lower().startswith("dotation "):
        return f"au titre de la {label[0].lower()}{label[1:]}"
    if label.lower().startswith("fonds "):
        return f"au titre du {label}"
    return f"au titre du dispositif « {label} »".replace("« ", "«\u00a0").replace(" »", "\u00a0»")


def duration(months: int) -> str | None:
    """« un an », « deux ans », « six mois », « dix-huit mois »; None for no months."""
    if months <= 0:
        return None
    years, rest = divmod(months, 12)
    if not rest:
        return f"{_words(years)} an" + ("s" if years > 1 else "")
    return f"{_words(months)} mois"


def _money(value: Decimal | None) -> str | None:
    return euros(value) if value is not None else None


# --- The values of one funding line ---------------------------------------------------

def _settings(session, keys: list[str]) -> dict[str, str]:
    return {s.key: s.value for s in session.scalars(select(Setting).where(Setting.key.in_(keys)))
            if s.value and s.value.strip()}


def _prefet(prefecture: str) -> str | None:
    """« Préfecture du Nord » → « Le préfet du Nord »."""
    if prefecture.lower().startswith("préfecture "):
        return "Le préfet " + prefecture[len("préfecture "):]
    return None


def context(db: Database, funding_line_id: uuid.UUID, today: date | None = None
            ) -> dict[str, object]:
    """The value of every field of :data:`CATALOGUE` for the funding line (``None``:
    not known in the base). ``empreinte`` and ``motif_refus`` are given by who makes the
    act (:mod:`db.acts.generate`)."""
    from db.documents.common import office
    from db.services.operations import plan_inputs

    identity = office(db)
    with db.read() as session:
        line = session.get(FundingLine, funding_line_id)
        if line is None:
            raise NotFoundError("Ligne de financement introuvable.")
        operation: Operation = line.operation
        plan = plan_inputs(session, [operation])[operation.id]
        index = operation.funding_lines.index(line)
        limits = line_deadlines(plan, plan.lines[index])
        # The deadlines before any extension, from the same rules (never recomputed here).
        initial = line_deadlines(replace(plan, start_extension_months=0,
                                         completion_extension_months=0), plan.lines[index])
        start_extension = operation.start_extension_months or 0
        completion_extension = operation.completion_extension_months or 0
        state_grant = bool(line.scheme and line.scheme.state_investment_grant)
        paid = line.paid_total
        scheme = line.scheme
        communes = sorted(operation.communes, key=lambda c: c.sort_name or c.name)
        arrondissement_code = next((c.arrondissement_code for c in communes
                                    if c.arrondissement_code), None)
        year = line.budget_year or (line.decision_date.year if line.decision_date else None)
        keys = [SIGNATORY_SETTING, PREFET_SETTING, ARRONDISSEMENT]
        if year:
            keys.append(f"{FINANCE_LAW_SETTING}{year}")
        values = _settings(session, keys)
        arrondissement_code = arrondissement_code or values.get(ARRONDISSEMENT)
        arrondissement = (session.get(Arrondissement, arrondissement_code)
                          if arrondissement_code else None)
        owner = operation.owner.name if operation.owner else None
        commune_names = [c.name for c in communes]
    granted = line.amount_granted
    base = operation.eligible_cost if operation.eligible_cost is not None else operation.cost_ht
    rate = (granted / base) if granted is not None and base else None
    place = identity.place or (arrondissement.name if arrondissement else "")
    signatory = values.get(SIGNATORY_SETTING) or (
        f"Pour le préfet et par délégation, le sous-préfet {elide('de', place)}"
        if place else None)
    cents = Decimal("0.01")
    return {
        "maitre_ouvrage": owner,
        "beneficiaire": beneficiary(owner),
        "objet": operation.title,
        "reference": operation.reference,
        "reference_decision": line.decision_reference,
        "dispositif": (scheme.short_label or scheme.label) if scheme else None,
        "dispositif_libelle": scheme.label if scheme else None,
        "au_titre_du_dispositif": under_scheme(scheme.label if scheme else None),
        "montant": _money(granted),
        "montant_en_lettres": amount_in_words(granted) if granted is not None else None,
        "montant_demande": _money(line.amount_requested),
        "taux": percent(rate) if rate is not None else None,
        "base_subventionnable": _money(base),
        "base_subventionnable_en_lettres": amount_in_words(base) if base is not None else None,
        "cout_ht": _money(operation.cost_ht),
        "date_depot": act_date(operation.deposit_date),
        "date_decision": act_date(line.decision_date or operation.decision_date),
        "date_notification": act_date(limits.notification_date),
        "date_avis_commission": act_date(line.commission_opinion_date),
        "commission_requise": line.scheme_code == "DETR" and (
            (granted or 0) > COMMISSION_THRESHOLD
            or (line.amount_requested or 0) > COMMISSION_THRESHOLD),
        "date_limite_commencement": act_date(limits.start_deadline),
        "date_limite_achevement": act_date(limits.completion_deadline),
        "article_caducite": limits.start_article,
        "article_achevement": limits.completion_article,
        "avance_max": _money((granted * Decimal("0.30")).quantize(cents, ROUND_HALF_UP))
        if granted is not None else None,
        "acomptes_max": _money((granted * Decimal("0.80")).quantize(cents, ROUND_HALF_UP))
        if granted is not None else None,
        "commune": commune_names[0] if commune_names else None,
        "communes": ", ".join(commune_names) or None,
        "arrondissement": (f"arrondissement {elide('de', arrondissement.name)}"
                           if arrondissement else None),
        "prefecture": identity.prefecture or None,
        "sous_prefecture": identity.sous_prefecture or None,
        "lieu": place or None,
        "prefet": values.get(PREFET_SETTING) or _prefet(identity.prefecture),
        "signataire": signatory,
        "annee": str(year) if year else None,
        "loi_de_finances": values.get(f"{FINANCE_LAW_SETTING}{year}") or FINANCE_LAWS.get(year),
        "date_edition": act_date(today or date.today()),
        "empreinte": None,
        "dotation_cgct": state_grant,
        "article_versements": texts.DOTATION_PAYMENTS if state_grant else texts.DECREE_PAYMENTS,
        "montant_verse": _money(paid) if paid else None,
        "motif_refus": None,
        "date_limite_commencement_initiale": act_date(initial.start_deadline),
        "duree_prorogation": duration(min(start_extension, START_EXTENSION_MAX)),
        "date_limite_achevement_initiale": act_date(initial.completion_deadline),
        "duree_prorogation_achevement": duration(min(completion_extension,
                                                     COMPLETION_EXTENSION_MAX))
        if state_grant else None,
        "jours_restants": str((limits.start_deadline - (today or date.today())).days)
        if limits.start_deadline else None,
    }
