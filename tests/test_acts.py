"""Acts from templates (issue 13, first step): the catalogue's values for a demo DETR
line, the shipped arrêté attributif rendered and read back (python-docx, LibreOffice),
and a template using an unknown field refused with its paragraph."""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from docx import Document
from sqlalchemy import select

from db.acts.fields import (
    CATALOGUE,
    FIELDS,
    act_date,
    amount_in_words,
    catalogue_markdown,
    context,
)
from db.acts.templates import TemplateError, check_template, render, shipped
from db.models import FundingLine, Operation, Setting

NNBSP, NBSP = "\u202f", "\u00a0"  # what Babel's fr_FR puts in 192 000,00 €


def _line(db, reference: str, scheme: str = "DETR"):
    with db.read() as session:
        line = session.scalar(select(FundingLine).join(Operation).where(
            Operation.reference == reference, FundingLine.scheme_code == scheme))
        operation = line.operation
        return line.id, {"notified": line.notification_date, "start": operation.start_date,
                         "granted": line.amount_granted, "eligible": operation.eligible_cost,
                         "owner": operation.owner.name, "title": operation.title}


def _text(docx: bytes | Path) -> list[str]:
    import io

    document = Document(io.BytesIO(docx) if isinstance(docx, bytes) else str(docx))
    return [p.text for p in document.paragraphs]


@pytest.mark.parametrize(("amount", "words"), [
    ("1", "un euro"),
    ("80", "quatre-vingts euros"),
    ("1000000", "un million d'euros"),
    ("12345.67", "douze mille trois cent quarante-cinq euros et soixante-sept centimes"),
    ("340000.50", "trois cent quarante mille euros et cinquante centimes"),
    ("0.01", "un centime"),
    ("71.80", "soixante et onze euros et quatre-vingts centimes"),
])
def test_amount_in_words(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_act_dates_the_french_way():
    assert act_date(date(2026, 3, 20)) == "20 mars 2026"
    assert act_date(date(2026, 4, 1)) == "1er avril 2026"
    assert act_date(None) is None


def test_the_list_of_fields_for_the_office_is_up_to_date():
    written = (Path(__file__).resolve().parents[1] / "docs" / "champs-des-modeles.md")
    text = written.read_text(encoding="utf-8")
    assert text == catalogue_markdown()  # scripts/build_templates.py rewrites it
    assert "| `montant_en_lettres` | Montant maximal de la subvention, en lettres" in text


def test_every_field_is_described():
    assert len(FIELDS) == len(CATALOGUE)
    for name in ("maitre_ouvrage", "objet", "reference", "dispositif", "montant",
                 "montant_en_lettres", "taux", "base_subventionnable", "date_depot",
                 "date_decision", "date_notification", "date_limite_commencement",
                 "date_limite_achevement", "commune", "communes", "arrondissement",
                 "prefet", "signataire", "annee", "article_caducite", "loi_de_finances"):
        assert FIELDS[name].description.strip(), name


def test_context_of_a_started_demo_detr_line(demo_db):
    line_id, facts = _line(demo_db, "FICTIF-DETR-2025-005")
    # The demo's facts this test relies on (seeded random, fixed).
    assert facts["notified"] == date(2025, 5, 1) and facts["start"] == date(2025, 8, 7)
    assert facts["granted"] == Decimal("63756.00")
    assert facts["eligible"] == Decimal("182160.00")
    values = context(demo_db, line_id, today=date(2026, 1, 15))
    assert values["montant"] == f"63{NNBSP}756,00{NBSP}€"
    assert values["montant_en_lettres"] == "soixante-trois mille sept cent cinquante-six euros"
    assert values["base_subventionnable"] == f"182{NNBSP}160,00{NBSP}€"
    assert values["taux"] == "35,00 %"  # 63 756 / 182 160
    assert values["date_notification"] == "1er mai 2025"
    # R2334-28: two years from the notification; R2334-29: four years from the start.
    assert values["date_limite_commencement"] == "1er mai 2027"
    assert values["date_limite_achevement"] == "7 août 2029"
    assert values["article_caducite"] == "CGCT art. R2334-28"
    assert values["article_achevement"] == "CGCT art. R2334-29"
    assert values["avance_max"] == f"19{NNBSP}126,80{NBSP}€"  # 30 %
    assert values["acomptes_max"] == f"51{NNBSP}004,80{NBSP}€"  # 80 %
    assert values["commission_requise"] is False  # under 100 000 €
    assert values["maitre_ouvrage"] == facts["owner"]
    assert values["objet"] == facts["title"]
    assert values["dispositif"] == "DETR"
    assert values["annee"] == "2025"
    assert values["loi_de_finances"] == ("loi n° 2025-127 du 14 février 2025 de finances "
                                         "pour 2025")
    assert values["arrondissement"] == "arrondissement d'Avesnes-sur-Helpe"
    assert values["prefecture"] == "Préfecture du Nord"
    assert values["prefet"] == "Le préfet du Nord"
    assert values["signataire"] == ("Pour le préfet et par délégation, le sous-préfet "
                                    "d'Avesnes-sur-Helpe")
    assert values["date_edition"] == "15 janvier 2026"
    assert set(values) == set(FIELDS)


def test_settings_give_the_signatory_and_the_finance_law(demo_db):
    line_id, _ = _line(demo_db, "FICTIF-DETR-2025-005")
    with demo_db.write() as session:
        session.add(Setting(key="acts.signataire", value="Le sous-préfet, Jeanne Martin"))
        session.add(Setting(key="acts.loi_de_finances.2025", value="loi de finances corrigée"))
    values = context(demo_db, line_id)
    assert values["signataire"] == "Le sous-préfet, Jeanne Martin"
    assert values["loi_de_finances"] == "loi de finances corrigée"


def test_render_the_shipped_arrete(demo_db, tmp_path):
    line_id, facts = _line(demo_db, "FICTIF-DETR-2025-099")
    assert facts["granted"] == Decimal("192000.00") and facts["notified"] == date(2025, 5, 19)
    values = context(demo_db, line_id, today=date(2026, 1, 15))
    paragraphs = _text(render(shipped(), values))
    text = "\n".join(paragraphs)
    assert "{{" not in text and "{%" not in text and "[à compléter" not in text.split(
        "Article 3")[0]
    assert (f"Le montant maximal de la subvention est fixé à 192{NNBSP}000,00{NBSP}€ "
            "(cent quatre-vingt-douze mille euros).") in paragraphs
    assert f"taux de 40,00 % à une dépense subventionnable hors taxes de 480{NNBSP}000,00" \
           f"{NBSP}€ (quatre cent quatre-vingt mille euros)" in text
    assert "soit au plus tard le 19 mai 2027, la subvention est caduque" in text
    assert "Vu la loi n° 2025-127 du 14 février 2025 de finances pour 2025 ;" in paragraphs
    # 192 000 € > 100 000 €: the commission's opinion is cited, with its date.
    assert "réunie le 18 mars 2025" in text
    assert "Vu le dossier de demande de subvention déposé le 15 janvier 2025" in text
    assert "L2334-32 à L2334-39 et R2334-19 et suivants" in text
    for title in ("Article 1er — Objet", "Article 2 — Montant de la subvention",
                  "Article 3 — Délais de commencement et d'achèvement",
                  "Article 4 — Modalités de versement",
                  "Article 5 — Publicité du soutien de l'État",
                  "Article 6 — Voies et délais de recours", "Article 7 — Exécution"):
        assert title in paragraphs
    assert "R2334-28" in text and "R2334-29" in text and "R2334-30" in text
    assert "tribunal administratif" in text and "deux mois" in text
    assert f"soit 57{NNBSP}600,00{NBSP}€" in text and f"soit 153{NNBSP}600,00{NBSP}€" in text
    assert "attribuée à la commune de Hautmont" in text
    assert "Fait à Avesnes-sur-Helpe, le 15 janvier 2026" in paragraphs
    # Not started: no completion date is printed, the four years are stated.
    assert "quatre ans à compter de la date de déclaration du commencement d'exécution ;" \
           in text


def test_missing_values_are_visible_and_conditions_false(demo_db):
    line_id, _ = _line(demo_db, "FICTIF-DETR-2025-005")
    values = context(demo_db, line_id)
    values["loi_de_finances"] = None
    values["objet"] = "Voirie & réseaux <tranche 2>"  # the office's text is XML-escaped
    paragraphs = _text(render(shipped(), values))
    # French quotes hold the title with no-break spaces (scripts/build_templates.py).
    assert "pour l'opération «\u00a0Voirie & réseaux <tranche 2>\u00a0» ;" in "\n".join(paragraphs)
    assert "Vu la [à compléter : loi_de_finances] ;" in paragraphs
    assert not any("commission d'élus" in p for p in paragraphs)  # 63 756 € ≤ 100 000 €
    assert "soit au plus tard le 7 août 2029 ;" in "\n".join(paragraphs)
    assert not any(p.strip() in {"Vu la  ;", "Vu la ;"} for p in paragraphs)


def _edited(tmp_path: Path, position: int, runs: list[str]) -> tuple[Path, int]:
    """The shipped template with a paragraph of *runs* inserted before paragraph
    *position* (1-based); returns the file and the new paragraph's number."""
    document = Document(str(shipped()))
    before = document.paragraphs[position - 1]
    paragraph = before.insert_paragraph_before()
    for text in runs:
        paragraph.add_run(text)
    path = tmp_path / "modele_modifie.docx"
    document.save(str(path))
    return path, position


def test_unknown_field_refused_with_its_paragraph(tmp_path, demo_db):
    path, number = _edited(tmp_path, 9, ["Vu la délibération du ", "{{ champ_inconnu }} ;"])
    assert _text(path)[number - 1] == "Vu la délibération du {{ champ_inconnu }} ;"
    with pytest.raises(TemplateError) as refused:
        check_template(path)
    assert "« champ_inconnu »" in refused.value.message
    assert f"paragraphe {number} " in refused.value.message
    line_id, _ = _line(demo_db, "FICTIF-DETR-2025-005")
    with pytest.raises(TemplateError, match="champ_inconnu"):
        render(path, context(demo_db, line_id))


def test_unknown_field_split_across_runs_and_in_a_condition(tmp_path):
    # Word splits a field over several runs when it is retyped; a condition names one too.
    path, number = _edited(tmp_path, 20, ["{{ montant_", "en_chiffres }}",
                                          " {% if subvention_majoree %}x{% endif %}"])
    with pytest.raises(TemplateError) as refused:
        check_template(path)
    message = refused.value.message
    assert f"« montant_en_chiffres », paragraphe {number} " in message
    assert f"« subvention_majoree », paragraphe {number} " in message


def test_shipped_template_is_what_the_script_builds(tmp_path):
    subprocess.run([sys.executable, "scripts/build_templates.py",
                    str(tmp_path)], check=True, cwd=Path(__file__).resolve().parents[1],
                   capture_output=True)
    built = tmp_path / "arrete_attributif_detr.docx"
    assert _text(built) == _text(shipped())
    assert built.read_bytes() == shipped().read_bytes()  # reproducible to the byte
    check_template(shipped())


@pytest.mark.skipif(shutil.which("soffice") is None and
                    __import__("os").environ.get("CI") != "true",
                    reason="LibreOffice absent (installé par .ci/run en intégration continue)")
def test_libreoffice_opens_the_rendered_arrete(demo_db, tmp_path):
    line_id, _ = _line(demo_db, "FICTIF-DETR-2025-005")
    path = tmp_path / "arrete.docx"
    path.write_bytes(render(shipped(), context(demo_db, line_id, today=date(2026, 1, 15))))
    result = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profil",
         "--convert-to", "pdf", "--outdir", str(tmp_path), str(path)],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    text = subprocess.run(["pdftotext", str(tmp_path / "arrete.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    flat = " ".join(text.split())
    assert "soixante-trois mille sept cent cinquante-six euros" in flat
    assert "63 756,00 €" in flat.replace(NNBSP, " ").replace(NBSP, " ")
    assert "soit au plus tard le 1er mai 2027" in flat
    assert "soit au plus tard le 7 août 2029" in flat
    assert "Article 6 — Voies et délais de recours" in flat
    assert "[à compléter" not in flat


def test_broken_tags_and_files_refused_in_french(tmp_path, demo_db):
    path, number = _edited(tmp_path, 9, ["Vu {{ montant | }} ;"])
    with pytest.raises(TemplateError) as refused:
        check_template(path)
    assert refused.value.message.startswith(f"Modèle refusé : balise illisible au paragraphe "
                                            f"{number} : « {{{{ montant | }}}} »")
    assert "expected" not in refused.value.message
    unclosed, _ = _edited(tmp_path, 9, ["{%p if commission_requise %}"])
    line_id, _ = _line(demo_db, "FICTIF-DETR-2025-005")
    with pytest.raises(TemplateError, match="« endif »"):
        render(unclosed, context(demo_db, line_id))
    not_docx = tmp_path / "modele.docx"
    not_docx.write_text("pas un document", encoding="utf-8")
    with pytest.raises(TemplateError, match="n'est pas un document DOCX"):
        check_template(not_docx)


def test_context_on_both_backends(db):
    from db.demo import build_demo

    build_demo(db)
    line_id, _ = _line(db, "FICTIF-DETR-2025-099")
    values = context(db, line_id, today=date(2026, 1, 15))
    assert values["montant_en_lettres"] == "cent quatre-vingt-douze mille euros"
    assert values["date_limite_commencement"] == "19 mai 2027"
    assert values["date_avis_commission"] == "18 mars 2025"
    assert values["commission_requise"] is True
    assert "cent quatre-vingt-douze mille euros" in "\n".join(_text(render(shipped(), values)))


@pytest.mark.skipif(shutil.which("soffice") is None and
                    __import__("os").environ.get("CI") != "true",
                    reason="LibreOffice absent (installé par .ci/run en intégration continue)")
def test_template_saved_again_by_libreoffice_still_renders(demo_db, tmp_path):
    # The office edits the template in LibreOffice and saves it as DOCX: its fields
    # (possibly split into other runs by LibreOffice) are still found and filled.
    source = tmp_path / "modele.docx"
    source.write_bytes(shipped().read_bytes())
    saved = tmp_path / "enregistre"
    result = subprocess.run(
        ["soffice", "--headless", f"-env:UserInstallation=file://{tmp_path}/profil",
         "--convert-to", "docx:MS Word 2007 XML", "--outdir", str(saved), str(source)],
        capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr
    check_template(saved / "modele.docx")
    line_id, _ = _line(demo_db, "FICTIF-DETR-2025-099")
    text = "\n".join(_text(render(saved / "modele.docx", context(demo_db, line_id))))
    assert "{{" not in text and "{%" not in text
    assert "(cent quatre-vingt-douze mille euros)" in text
    assert "réunie le 18 mars 2025" in text
    assert "soit au plus tard le 19 mai 2027" in text
