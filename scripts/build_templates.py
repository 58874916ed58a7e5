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


def _document() -> Document:
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Liberation Sans"
    normal.font.size = Pt(10.5)
    normal.paragraph_format.space_after = Pt(6)
    section = document.sections[0]
    section.page_height, section.page_width = Cm(29.7), Cm(21.0)
    section.top_margin = section.bottom_margin = Cm(2.0)
    section.left_margin = section.right_margin = Cm(2.5)
    footer = section.footer.paragraphs[0]
    footer.text = "{{ sous_prefecture }} — opération {{ reference }}"
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


def _para(document, text: str = "", *, bold: bool = False, size: float | None = None,
          align=WD_ALIGN_PARAGRAPH.JUSTIFY, before: float = 0, after: float | None = None,
          indent: float | None = None):
    paragraph = document.add_paragraph()
    run = paragraph.add_run(text)
    run.bold = bold
    if size:
        run.font.size = Pt(size)
    paragraph.alignment = align
    paragraph.paragraph_format.space_before = Pt(before)
    if after is not None:
        paragraph.paragraph_format.space_after = Pt(after)
    if indent is not None:
        paragraph.paragraph_format.left_indent = Cm(indent)
    return paragraph


def _article(document, title: str, *paragraphs: str) -> None:
    _para(document, title, bold=True, before=8, align=WD_ALIGN_PARAGRAPH.LEFT)
    for text in paragraphs:
        _para(document, text)


def arrete_attributif_detr() -> Document:
    document = _document()
    left = WD_ALIGN_PARAGRAPH.LEFT
    centre = WD_ALIGN_PARAGRAPH.CENTER
    _para(document, "{{ prefecture }}", bold=True, align=left, after=0)
    _para(document, "{{ sous_prefecture }}", align=left, after=18)
    _para(document, "RÉPUBLIQUE FRANÇAISE", bold=True, align=centre, after=0)
    _para(document, "Liberté, Égalité, Fraternité", align=centre, after=18, size=9)
    _para(document, "Arrêté portant attribution d'une subvention au titre de la dotation "
          "d'équipement des territoires ruraux (DETR) — exercice {{ annee }}", bold=True,
          size=12, align=centre, after=4)
    _para(document, "Décision : {{ reference_decision }}", align=centre, after=14, size=9.5)
    _para(document, "{{ prefet }},", bold=True, align=left, after=10)

    _para(document, f"Vu le {CGCT}, notamment ses articles L2334-32 à L2334-39 et R2334-19 "
          "et suivants ;")
    _para(document, "Vu la {{ loi_de_finances }} ;")
    _para(document, "{%p if commission_requise %}")
    _para(document, "Vu l'avis de la commission d'élus prévue à l'article L2334-37 du "
          f"{CGCT}, réunie le {{{{ date_avis_commission }}}}, la subvention excédant "
          "100\u00a0000 euros ;")
    _para(document, "{%p endif %}")
    _para(document, "Vu le dossier de demande de subvention déposé le {{ date_depot }} par "
          "{{ beneficiaire }} pour l'opération « {{ objet }} » ;")
    _para(document, "Considérant que l'opération répond aux conditions d'éligibilité de la "
          "dotation d'équipement des territoires ruraux et aux catégories d'opérations "
          "prioritaires retenues pour l'exercice {{ annee }} ;")
    _para(document, "ARRÊTE :", bold=True, align=centre, before=10, after=6)

    _article(document, "Article 1er — Objet",
             "Une subvention au titre de la dotation d'équipement des territoires ruraux "
             "(DETR), exercice {{ annee }}, est attribuée à {{ beneficiaire }} pour la "
             "réalisation de l'opération « {{ objet }} » (commune(s) : {{ communes }} ; "
             "{{ arrondissement }} ; référence {{ reference }}).")
    _article(document, "Article 2 — Montant de la subvention",
             "Le montant maximal de la subvention est fixé à {{ montant }} "
             "({{ montant_en_lettres }}).",
             "Ce montant résulte de l'application d'un taux de {{ taux }} à une dépense "
             "subventionnable hors taxes de {{ base_subventionnable }} "
             "({{ base_subventionnable_en_lettres }}). Si la dépense réellement exécutée "
             "est inférieure à la dépense subventionnable, la subvention est réduite en "
             "proportion ; elle ne peut en aucun cas excéder le montant maximal ci-dessus.")
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
    _article(document, "Article 4 — Modalités de versement",
             f"La subvention est versée sur demande du bénéficiaire (article R2334-30 du "
             f"{CGCT}), dans les conditions suivantes :")
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
    _article(document, "Article 5 — Publicité du soutien de l'État",
             "Le bénéficiaire fait mention du soutien financier de l'État, au titre de la "
             "DETR, sur le panneau de chantier et sur tous les supports de communication "
             "relatifs à l'opération (logo de l'État et mention « Avec le soutien de "
             "l'État »), pendant toute la durée des travaux et lors de l'inauguration.")
    _article(document, "Article 6 — Voies et délais de recours",
             "Le présent arrêté peut faire l'objet, dans un délai de deux mois à compter de "
             "sa notification, d'un recours gracieux auprès de l'auteur de l'acte ou d'un "
             "recours contentieux devant le tribunal administratif territorialement "
             "compétent, qui peut aussi être saisi par l'application Télérecours citoyens "
             "(www.telerecours.fr).")
    _article(document, "Article 7 — Exécution",
             "Le présent arrêté est notifié à {{ beneficiaire }}. Une copie en est "
             "adressée au directeur départemental des finances publiques.")
    _para(document, "Fait à {{ lieu }}, le {{ date_edition }}", align=WD_ALIGN_PARAGRAPH.RIGHT,
          before=16, after=4)
    _para(document, "{{ signataire }}", align=WD_ALIGN_PARAGRAPH.RIGHT, after=48)
    return document


TEMPLATES = {"arrete_attributif_detr.docx": arrete_attributif_detr}


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
