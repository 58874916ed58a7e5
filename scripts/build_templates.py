"""Build the shipped act templates (resources/modeles/*.docx) with python-docx.

The templates are files the office edits in LibreOffice or Word; this script makes the
shipped ones reproducible: run ``.venv/bin/python scripts/build_templates.py`` after a
change of wording and commit the .docx it writes. Their fields ({{ montant }}…) are
the catalogue of db/acts/fields.py; db/acts/templates.py checks them.
"""

from __future__ import annotations

import io
import sys
import zipfile
from datetime import UTC, datetime
from pathlib import Path

from docx import Document
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Cm, Pt

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "modeles"
DOC = ROOT / "docs" / "champs-des-modeles.md"

CGCT = "code général des collectivités territoriales"


def _document(letter: bool = False) -> Document:
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Liberation Sans"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(6)
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin = section.bottom_margin = Cm(2.0)
    section.left_margin = section.right_margin = Cm(2.5)
    # The letterhead is the page header: the application's PDF prints its own office
    # header instead, the body (the office's wording) is the same in both.
    header = section.header
    first = header.paragraphs[0]
    first.text = "RÉPUBLIQUE FRANÇAISE"
    first.runs[0].bold = True
    first.alignment = WD_ALIGN_PARAGRAPH.LEFT
    for text, bold in (("Liberté, Égalité, Fraternité", False), ("{{ prefecture }}", True),
                       ("{{ sous_prefecture }}", False)):
        paragraph = header.add_paragraph()
        run = paragraph.add_run(text)
        run.bold = bold
        run.font.size = Pt(9)
    footer = section.footer.paragraphs[0]
    footer.text = ("{{ sous_prefecture }} — opération {{ reference }}"
                   "{% if empreinte %} — empreinte {{ empreinte }}{% endif %}")
    footer.alignment = WD_ALIGN_PARAGRAPH.CENTER
    footer.runs[0].font.size = Pt(8)
    core = document.core_properties
    core.author = "Suivi des contrats territoriaux"
    core.language = "fr-FR"
    # Fixed dates: building twice gives the same file (no spurious change to commit).
    core.created = core.modified = datetime(2026, 1, 1, tzinfo=UTC)
    core.last_modified_by = core.author
    core.revision = 1
    return document


LEFT, CENTRE, RIGHT = (WD_ALIGN_PARAGRAPH.LEFT, WD_ALIGN_PARAGRAPH.CENTER,
                       WD_ALIGN_PARAGRAPH.RIGHT)


def _para(document, text: str = "", *, bold: bool = False, size: float | None = None,
          align=WD_ALIGN_PARAGRAPH.JUSTIFY, before: float = 0, after: float | None = None,
          indent: float | None = None, italic: bool = False):
    paragraph = document.add_paragraph()
    # French quotes hold their words: « objet » never ends or starts a line alone.
    run = paragraph.add_run(text.replace("« ", "«\u00a0").replace(" »", "\u00a0»"))
    run.bold = bold
    run.italic = italic
    if size:
        run.font.size = Pt(size)
    paragraph.alignment = align
    paragraph.paragraph_format.space_before = Pt(before)
    if after is not None:
        paragraph.paragraph_format.space_after = Pt(after)
    if indent is not None:
        paragraph.paragraph_format.left_indent = Cm(indent)
    return paragraph


def _labelled(document, label: str, text: str, **options) -> None:
    """« Objet : … » with its label in bold, in two runs."""
    paragraph = _para(document, label, bold=True, **options)
    paragraph.add_run(text.replace("« ", "«\u00a0").replace(" »", "\u00a0»"))


def _if(document, condition: str, *texts: str) -> None:
    """Paragraphs printed only when *condition* holds ({%p if %} alone on its line)."""
    _para(document, f"{{%p if {condition} %}}")
    for text in texts:
        _para(document, text)
    _para(document, "{%p endif %}")


def _article(document, title: str, *paragraphs: str) -> None:
    _para(document, title, bold=True, before=8, align=LEFT)
    for text in paragraphs:
        _para(document, text)


def _signature(document) -> None:
    _para(document, "Fait à {{ lieu }}, le {{ date_edition }}", align=RIGHT, before=16, after=4)
    _para(document, "{{ signataire }}", align=RIGHT, after=48)


REMEDIES = ("{what} peut faire l'objet, dans un délai de deux mois à compter de sa "
            "notification, d'un recours gracieux auprès de {author} ou d'un recours "
            "contentieux devant le tribunal administratif territorialement compétent, qui "
            "peut aussi être saisi par l'application Télérecours citoyens "
            "(www.telerecours.fr).")
DECREE = ("décret n° 2018-514 du 25 juin 2018 relatif aux subventions de l'État pour des "
          "projets d'investissement")
PREFECTS = ("Vu le décret n° 2004-374 du 29 avril 2004 relatif aux pouvoirs des préfets, à "
            "l'organisation et à l'action des services de l'État dans les régions et "
            "départements ;")


# --- Arrêtés attributifs -------------------------------------------------------------------

class Scheme:
    """What the arrêté attributif of one scheme says differently."""

    def __init__(self, title: str, name: str, visas: list[str], considering: str,
                 cgct: bool, commission: bool = False) -> None:
        self.title, self.name, self.visas = title, name, visas
        self.considering, self.cgct, self.commission = considering, cgct, commission
        self.short = "{{ dispositif }}"


SCHEMES = {
    "detr": Scheme(
        "de la dotation d'équipement des territoires ruraux (DETR)",
        "la dotation d'équipement des territoires ruraux (DETR)",
        [f"Vu le {CGCT}, notamment ses articles L2334-32 à L2334-39 et R2334-19 et suivants ;"],
        "Considérant que l'opération répond aux conditions d'éligibilité de la dotation "
        "d'équipement des territoires ruraux et aux catégories d'opérations prioritaires "
        "retenues pour l'exercice {{ annee }} ;", cgct=True, commission=True),
    "dsil": Scheme(
        "de la dotation de soutien à l'investissement local (DSIL)",
        "la dotation de soutien à l'investissement local (DSIL)",
        [f"Vu le {CGCT}, notamment ses articles L2334-42 et R2334-19 et suivants ;"],
        "Considérant que l'opération relève des grandes priorités d'investissement que "
        "l'article L2334-42 du code général des collectivités territoriales assigne à la "
        "dotation de soutien à l'investissement local ;", cgct=True),
    "fnadt": Scheme(
        "du Fonds national d'aménagement et de développement du territoire (FNADT)",
        "le Fonds national d'aménagement et de développement du territoire (FNADT)",
        ["Vu la loi n° 95-115 du 4 février 1995 d'orientation pour l'aménagement et le "
         "développement du territoire, notamment son article 33 ;",
         f"Vu le {DECREE} ;"],
        "Considérant que l'opération concourt à l'aménagement et au développement du "
        "territoire et répond aux conditions du décret n° 2018-514 du 25 juin 2018 ;",
        cgct=False),
    "fonds_vert": Scheme(
        "du Fonds d'accélération de la transition écologique dans les territoires (Fonds vert)",
        "le Fonds d'accélération de la transition écologique dans les territoires (Fonds vert)",
        ["Vu la loi n° 2022-1726 du 30 décembre 2022 de finances pour 2023, qui a créé le "
         "programme 380 « Fonds d'accélération de la transition écologique dans les "
         "territoires » ;",
         f"Vu le {DECREE} ;"],
        "Considérant que l'opération contribue à la transition écologique du territoire "
        "(performance environnementale, adaptation au changement climatique ou cadre de "
        "vie) et répond aux conditions du décret n° 2018-514 du 25 juin 2018 ;", cgct=False),
    None: Scheme(
        "", "",  # the scheme's own name: {{ au_titre_du_dispositif }}
        [f"Vu le {DECREE} ;"],
        "Considérant que l'opération répond aux conditions du décret n° 2018-514 du "
        "25 juin 2018 et à l'objet du dispositif ;", cgct=False),
}


def _deadlines_cgct(document) -> None:
    _article(document, "Article 3 — Délais de commencement et d'achèvement",
             "Si l'opération n'a reçu aucun commencement d'exécution dans un délai de deux "
             "ans à compter de la notification du présent arrêté, soit au plus tard le "
             "{{ date_limite_commencement }}, la subvention est caduque "
             f"(article R2334-28 du {CGCT}). Ce délai peut être prorogé d'un an au plus, "
             "sur demande motivée du bénéficiaire présentée avant son expiration. Le "
             "bénéficiaire déclare au préfet le commencement d'exécution dès qu'il a lieu.",
             "L'opération est achevée dans un délai de quatre ans à compter de la date de "
             "déclaration du commencement d'exécution{% if date_limite_achevement %}, soit "
             "au plus tard le {{ date_limite_achevement }}{% endif %} ; passé ce délai, "
             "elle est réputée terminée et aucun versement ne peut plus être demandé "
             f"(article R2334-29 du {CGCT}). Ce délai peut être prorogé de deux ans au plus, "
             "à titre exceptionnel.")


def _deadlines_decree(document) -> None:
    _article(document, "Article 3 — Délais de commencement et d'achèvement",
             "Si l'opération n'a reçu aucun commencement d'exécution dans un délai de deux "
             "ans à compter de la notification du présent arrêté, soit au plus tard le "
             "{{ date_limite_commencement }}, la caducité de la subvention est constatée "
             "(article 11 du décret n° 2018-514 du 25 juin 2018). Ce délai peut être prorogé "
             "d'un an au plus, à titre exceptionnel, sur demande motivée du bénéficiaire. Le "
             "bénéficiaire déclare le commencement d'exécution dès qu'il a lieu.",
             "L'opération est achevée au plus tard le {{ date_limite_achevement }}, date "
             "prévue par la présente décision (articles 8 et 14 du décret n° 2018-514 du "
             "25 juin 2018) ; à défaut, le bénéficiaire peut être tenu de reverser tout ou "
             "partie des sommes perçues.")


def _payments(document) -> None:
    _article(document, "Article 4 — Modalités de versement",
             "La subvention est versée sur demande du bénéficiaire ({{ article_versements }}), "
             "dans les conditions suivantes :")
    for text in (
            "— une avance, lors du commencement d'exécution, dans la limite de 30 % du "
            "montant maximal de la subvention, soit {{ avance_max }}, sur production de la "
            "déclaration de commencement d'exécution (ordre de service ou bon de commande) ;",
            "— des acomptes, au fur et à mesure de l'avancement de l'opération, sur "
            "production d'un état récapitulatif des dépenses réalisées certifié par le "
            "comptable public et des factures correspondantes, sans que le montant cumulé "
            "de l'avance et des acomptes puisse excéder 80 % du montant maximal de la "
            "subvention, soit {{ acomptes_max }} ;",
            "— le solde, sur production de la déclaration d'achèvement de l'opération, de "
            "l'état récapitulatif définitif des dépenses réalisées certifié par le "
            "comptable public, du plan de financement définitif et d'une attestation de "
            "l'affichage du soutien de l'État prévu à l'article 5."):
        _para(document, text, indent=0.75)


def arrete_attributif(code: str | None) -> Document:
    scheme = SCHEMES[code]
    document = _document()
    under = ("{{ au_titre_du_dispositif }}" if code is None
             else f"au titre {scheme.title}")
    _para(document, f"Arrêté portant attribution d'une subvention {under} — exercice "
          "{{ annee }}", bold=True, size=12, align=CENTRE,
          before=6, after=4)
    _para(document, "Décision : {{ reference_decision }}", align=CENTRE, after=14, size=9.5)
    _para(document, "{{ prefet }},", bold=True, align=LEFT, after=10)
    for visa in scheme.visas:
        _para(document, visa)
    _para(document, "Vu la {{ loi_de_finances }} ;")
    _para(document, PREFECTS)
    if scheme.commission:
        _if(document, "commission_requise",
            "Vu l'avis de la commission d'élus prévue à l'article L2334-37 du "
            f"{CGCT}, réunie le {{{{ date_avis_commission }}}}, la subvention excédant "
            "100\u00a0000 euros ;")
    _para(document, "Vu le dossier de demande de subvention déposé le {{ date_depot }} par "
          "{{ beneficiaire }} pour l'opération « {{ objet }} » ;")
    _para(document, scheme.considering)
    _para(document, "ARRÊTE :", bold=True, align=CENTRE, before=10, after=6)

    _article(document, "Article 1er — Objet",
             f"Une subvention {under}, exercice {{{{ annee }}}}, est "
             "attribuée à {{ beneficiaire }} pour la réalisation de l'opération "
             "« {{ objet }} » (commune(s) : {{ communes }} ; {{ arrondissement }} ; "
             "référence {{ reference }}).")
    _article(document, "Article 2 — Montant de la subvention",
             "Le montant maximal de la subvention est fixé à {{ montant }} "
             "({{ montant_en_lettres }}).",
             "Ce montant résulte de l'application d'un taux de {{ taux }} à une dépense "
             "subventionnable hors taxes de {{ base_subventionnable }} "
             "({{ base_subventionnable_en_lettres }}). Si la dépense réellement exécutée "
             "est inférieure à la dépense subventionnable, la subvention est réduite en "
             "proportion ; elle ne peut en aucun cas excéder le montant maximal ci-dessus.")
    (_deadlines_cgct if scheme.cgct else _deadlines_decree)(document)
    _payments(document)
    _article(document, "Article 5 — Publicité du soutien de l'État",
             "Le bénéficiaire fait mention du soutien financier de l'État "
             f"({scheme.short}), sur le panneau de chantier et sur tous les supports de "
             "communication relatifs à l'opération (logo de l'État et mention « Avec le "
             "soutien de l'État »), pendant toute la durée des travaux et lors de "
             "l'inauguration.")
    _article(document, "Article 6 — Voies et délais de recours",
             REMEDIES.format(what="Le présent arrêté", author="l'auteur de l'acte"))
    _article(document, "Article 7 — Exécution",
             "Le présent arrêté est notifié à {{ beneficiaire }}. Une copie en est "
             "adressée au directeur départemental des finances publiques.")
    _signature(document)
    return document


# --- Letters ---------------------------------------------------------------------------------

def _letter(document, subject: str, reference: str) -> None:
    _para(document, "{{ lieu }}, le {{ date_edition }}", align=RIGHT, before=6, after=14)
    _para(document, "{{ signataire }}", align=LEFT, after=2, size=9.5)
    _para(document, "à", align=LEFT, after=2, size=9.5, indent=9)
    _para(document, "{{ maitre_ouvrage }}", bold=True, align=LEFT, after=0, indent=9)
    _para(document, "{{ commune }}", align=LEFT, after=16, indent=9)
    _labelled(document, "Objet : ", subject, align=LEFT, after=2)
    _labelled(document, "Référence : ", reference, align=LEFT, after=14)
    _para(document, "Madame, Monsieur,", align=LEFT, after=8)


def _closing(document, annex: str | None = None) -> None:
    _para(document, "Je vous prie d'agréer, Madame, Monsieur, l'expression de ma "
          "considération distinguée.", before=4)
    _para(document, "{{ signataire }}", align=RIGHT, before=16, after=48)
    if annex:
        _labelled(document, "Pièce jointe : ", annex, align=LEFT, size=9)


def notification() -> Document:
    document = _document()
    _letter(document, "notification d'une subvention de l'État "
            "{{ au_titre_du_dispositif }}, exercice {{ annee }}",
            "{{ reference_decision }} du {{ date_decision }} — dossier {{ reference }}")
    _para(document, "J'ai l'honneur de vous notifier l'arrêté ci-joint, par lequel une "
          "subvention d'un montant maximal de {{ montant }} ({{ montant_en_lettres }}) est "
          "attribuée à {{ beneficiaire }} {{ au_titre_du_dispositif }}, exercice "
          "{{ annee }}, pour l'opération « {{ objet }} ». Elle représente {{ taux }} d'une "
          "dépense subventionnable hors taxes de {{ base_subventionnable }}.")
    _if(document, 'dispositif == "DETR"',
        "Cette attribution a été arrêtée après consultation de la commission d'élus de la "
        "dotation d'équipement des territoires ruraux, dans le respect des catégories "
        "d'opérations prioritaires qu'elle a retenues pour l'exercice.")
    _para(document, "J'appelle votre attention sur les délais attachés à cette subvention. "
          "L'opération doit recevoir un commencement d'exécution au plus tard le "
          "{{ date_limite_commencement }} ({{ article_caducite }}) ; à défaut, la "
          "subvention sera caduque. {% if dotation_cgct %}Elle doit être achevée dans les "
          "quatre ans qui suivent la déclaration de commencement"
          "{% if date_limite_achevement %}, soit au plus tard le "
          "{{ date_limite_achevement }}{% endif %}{% else %}Elle doit être achevée au plus "
          "tard le {{ date_limite_achevement }}{% endif %} ({{ article_achevement }}).")
    _para(document, "Vous voudrez bien me déclarer le commencement d'exécution dès qu'il "
          "aura lieu. Les versements ({{ article_versements }}) vous seront faits sur "
          "demande : une avance de {{ avance_max }} au plus au commencement d'exécution, "
          "des acomptes sur état récapitulatif des dépenses réalisées certifié par le "
          "comptable public, sans que l'avance et les acomptes dépassent ensemble "
          "{{ acomptes_max }}, et le solde sur production de la déclaration d'achèvement, "
          "de l'état récapitulatif définitif des dépenses et du plan de financement "
          "définitif.")
    _para(document, "Je vous rappelle enfin que le soutien financier de l'État doit être "
          "mentionné sur le panneau de chantier et sur les supports de communication "
          "relatifs à l'opération (logo de l'État et mention « Avec le soutien de "
          "l'État »).")
    _closing(document, "arrêté attributif de la subvention.")
    return document


def refus() -> Document:
    document = _document()
    _letter(document, "demande de subvention {{ au_titre_du_dispositif }}, "
            "exercice {{ annee }}", "dossier {{ reference }}")
    _para(document, "Par un dossier déposé le {{ date_depot }}, vous avez sollicité une "
          "subvention de {{ montant_demande }} {{ au_titre_du_dispositif }} pour "
          "l'opération « {{ objet }} », d'un coût prévisionnel hors taxes de "
          "{{ cout_ht }}.")
    _para(document, "J'ai le regret de vous informer que cette demande n'a pas pu être "
          "retenue{% if motif_refus %}, pour le motif suivant : {{ motif_refus }}"
          "{% else %}, au regard du nombre de dossiers présentés et des crédits "
          "disponibles pour l'exercice {{ annee }}{% endif %}.")
    _if(document, 'dispositif == "DETR"',
        "La liste des opérations retenues au titre de la dotation d'équipement des "
        "territoires ruraux a été présentée à la commission d'élus prévue à l'article "
        f"L2334-37 du {CGCT}.")
    _para(document, "Cette décision ne fait pas obstacle au dépôt d'une nouvelle demande, "
          "pour la même opération, au titre d'un exercice ultérieur, dès lors que les "
          "travaux n'auront pas commencé.")
    _para(document, REMEDIES.format(what="Cette décision", author="mes services"))
    _closing(document)
    return document


def prorogation() -> Document:
    document = _document()
    _para(document, "Arrêté portant prorogation des délais d'une subvention attribuée au "
          "titre de {{ dispositif }}", bold=True, size=12, align=CENTRE, before=6,
          after=14)
    _para(document, "{{ prefet }},", bold=True, align=LEFT, after=10)
    _para(document, f"{{% if dotation_cgct %}}Vu le {CGCT}, notamment ses articles R2334-28 "
          f"et R2334-29 ;{{% else %}}Vu le {DECREE}, notamment son article 11 ;{{% endif %}}")
    _para(document, PREFECTS)
    _para(document, "Vu la décision « {{ reference_decision }} » du {{ date_decision }}, "
          "notifiée le "
          "{{ date_notification }}, attribuant à {{ beneficiaire }} une subvention d'un "
          "montant maximal de {{ montant }} ({{ montant_en_lettres }}) pour l'opération "
          "« {{ objet }} » ;")
    _para(document, "Vu la demande motivée de prorogation présentée par {{ beneficiaire }} "
          "avant l'expiration du délai en cours ;")
    _para(document, "Considérant que les motifs invoqués justifient, à titre exceptionnel, "
          "la prorogation demandée ;")
    _para(document, "ARRÊTE :", bold=True, align=CENTRE, before=10, after=6)
    _article(document, "Article 1er — Prorogation")
    _if(document, "duree_prorogation",
        "Le délai de commencement d'exécution de l'opération, qui expirait le "
        "{{ date_limite_commencement_initiale }}, est prorogé de {{ duree_prorogation }}. "
        "L'opération doit recevoir un commencement d'exécution au plus tard le "
        "{{ date_limite_commencement }} ; à défaut, la subvention est caduque "
        "({{ article_caducite }}). Ce délai ne peut plus être prorogé.")
    _if(document, "duree_prorogation_achevement",
        "Le délai d'achèvement de l'opération, qui expirait le "
        "{{ date_limite_achevement_initiale }}, est prorogé de "
        "{{ duree_prorogation_achevement }}. L'opération doit être achevée au plus tard le "
        "{{ date_limite_achevement }} ; passé cette date, elle est réputée terminée et "
        "aucun versement ne peut plus être demandé ({{ article_achevement }}).")
    _article(document, "Article 2 — Autres dispositions",
             "Les autres dispositions de la décision « {{ reference_decision }} » du "
             "{{ date_decision }} demeurent inchangées, notamment le montant maximal de la "
             "subvention.")
    _article(document, "Article 3 — Voies et délais de recours",
             REMEDIES.format(what="Le présent arrêté", author="l'auteur de l'acte"))
    _article(document, "Article 4 — Exécution",
             "Le présent arrêté est notifié à {{ beneficiaire }}. Une copie en est "
             "adressée au directeur départemental des finances publiques.")
    _signature(document)
    return document


def alerte_caducite() -> Document:
    document = _document()
    _letter(document, "risque de caducité de la subvention attribuée "
            "{{ au_titre_du_dispositif }}",
            "{{ reference_decision }} du {{ date_decision }} — dossier {{ reference }}")
    _para(document, "Par la décision citée en référence, notifiée le {{ date_notification }}, une "
          "subvention d'un montant maximal de {{ montant }} ({{ montant_en_lettres }}) a été "
          "attribuée à {{ beneficiaire }} pour l'opération « {{ objet }} ».")
    _para(document, "À ce jour, je n'ai pas reçu la déclaration de commencement d'exécution "
          "de cette opération. Or la subvention devient caduque si l'opération n'a reçu "
          "aucun commencement d'exécution au plus tard le {{ date_limite_commencement }} "
          "({{ article_caducite }}), soit dans {{ jours_restants }} jours.")
    _para(document, "Si les travaux ont commencé, je vous remercie de m'adresser sans délai "
          "la déclaration de commencement d'exécution, accompagnée de l'ordre de service ou "
          "du bon de commande. S'ils ne peuvent commencer avant cette date, vous pouvez "
          "solliciter, par une demande motivée présentée avant l'expiration du délai, une "
          "prorogation d'un an au plus{% if duree_prorogation %} ; le délai ayant déjà été "
          "prorogé de {{ duree_prorogation }}, il ne peut plus l'être au-delà d'un an au "
          "total{% endif %}.")
    _para(document, "À défaut, la caducité de la subvention sera constatée et aucun "
          "versement ne pourra plus intervenir{% if montant_verse %} ; les sommes déjà "
          "versées ({{ montant_verse }}) devront être reversées{% endif %}.")
    _closing(document)
    return document


TEMPLATES = {
    "arrete_attributif_detr.docx": lambda: arrete_attributif("detr"),
    "arrete_attributif_dsil.docx": lambda: arrete_attributif("dsil"),
    "arrete_attributif_fnadt.docx": lambda: arrete_attributif("fnadt"),
    "arrete_attributif_fonds_vert.docx": lambda: arrete_attributif("fonds_vert"),
    "arrete_attributif.docx": lambda: arrete_attributif(None),
    "notification.docx": notification,
    "refus.docx": refus,
    "prorogation.docx": prorogation,
    "alerte_caducite.docx": alerte_caducite,
}


def _save(document: Document, path: Path) -> None:
    """Saved with fixed times in the zip too: the same wording gives the same bytes."""
    buffer = io.BytesIO()
    document.save(buffer)
    with zipfile.ZipFile(buffer) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            fixed = zipfile.ZipInfo(item.filename, date_time=(2026, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            target.writestr(fixed, source.read(item.filename))


def build(out: Path = OUT) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in TEMPLATES.items():
        path = out / name
        _save(make(), path)
        written.append(path)
    return written


if __name__ == "__main__":
    for written in build(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT):
        print(f"Modèle écrit : {written}")
    if len(sys.argv) == 1:
        sys.path.insert(0, str(ROOT))
        from db.acts.fields import catalogue_markdown

        DOC.write_text(catalogue_markdown(), encoding="utf-8")
        print(f"Liste des champs écrite : {DOC}")
