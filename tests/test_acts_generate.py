"""Acts made for funding lines (issue 13): every kind for a demo line, checked in its
PDF's text and in the QR code of every page; the DOCX reopened by python-docx and by
LibreOffice; the ODT; acts that make no sense refused; a batch of 100 acts from a
generated base, and a batch cancelled half-way; the CLI."""

from __future__ import annotations

import importlib.util
import io
import subprocess
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
import zxingcpp
from docx import Document
from pypdf import PdfReader
from sqlalchemy import func, select

from db.acts.generate import COMBINED_NAME, make_act, make_batch, prepare, state_line
from db.documents import plan as plan_document
from db.documents.marks import PageMark, read, write
from db.errors import InvalidInput
from db.models import Act, FundingLine, Operation
from db.vocabulary import ActKind, FundingStatus
from printouts import render

ROOT = Path(__file__).resolve().parents[1]
TODAY = date(2026, 1, 15)


def _line(db, reference: str, scheme: str) -> tuple:
    with db.read() as session:
        return session.scalar(select(FundingLine.id).join(Operation).where(
            Operation.reference == reference, FundingLine.scheme_code == scheme))


def _flat(text: str) -> str:
    return " ".join(text.replace("\u202f", " ").replace("\u00a0", " ").split())


def _pdf_text(content: bytes) -> str:
    return _flat("\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages))


def _marks(content: bytes) -> list[PageMark | None]:
    """The QR code of every page, decoded from a 150 dpi picture of it."""
    found = []
    document = pypdfium2.PdfDocument(content)
    for page in document:
        image = page.render(scale=150 / 72).to_pil()
        codes = zxingcpp.read_barcodes(image)
        found.append(read(codes[0].text) if len(codes) == 1 else None)
    return found


def _extend(db, reference: str, months: int) -> None:
    with db.write() as session:
        operation = session.scalar(select(Operation).where(Operation.reference == reference))
        operation.start_extension_months = months


# (operation, scheme, kind, day of edition, what the text must say)
CASES = [
    ("FICTIF-DETR-2025-099", "DETR", ActKind.AWARD_ORDER, TODAY, [
        "192 000,00 € (cent quatre-vingt-douze mille euros)",
        "soit au plus tard le 19 mai 2027, la subvention est caduque",
        "Vu la loi n° 2025-127 du 14 février 2025 de finances pour 2025",
        "réunie le 18 mars 2025", "Article 4 — Modalités de versement",
        "soit 57 600,00 €", "soit 153 600,00 €", "Télérecours citoyens",
        "Article 6 — Voies et délais de recours", "tribunal administratif",
        "Fait à Avesnes-sur-Helpe, le 15 janvier 2026"]),
    ("FICTIF-DSIL-2025-004", "DSIL", ActKind.AWARD_ORDER, TODAY, [
        "115 525,00 € (cent quinze mille cinq cent vingt-cinq euros)",
        "articles L2334-42 et R2334-19", "soit au plus tard le 21 avril 2027",
        "soit au plus tard le 3 octobre 2029", "dotation de soutien à l'investissement local"]),
    ("FICTIF-DETR-2025-099", "DETR", ActKind.NOTIFICATION, TODAY, [
        "192 000,00 € (cent quatre-vingt-douze mille euros)",
        "au plus tard le 19 mai 2027 (CGCT art. R2334-28)",
        "commission d'élus de la dotation d'équipement des territoires ruraux",
        "Madame, Monsieur,", "Pièce jointe : arrêté attributif"]),
    ("FICTIF-DSIL-2025-004", "FONDS_VERT", ActKind.REFUSAL, TODAY, [
        "subvention de 46 210,00 € au titre du Fonds d'accélération",
        "n'a pas pu être retenue", "deux mois", "Télérecours citoyens"]),
    ("FICTIF-DETR-2025-001", "DETR", ActKind.EXTENSION_ORDER, TODAY, [
        "338 004,00 € (trois cent trente-huit mille quatre euros)",
        "qui expirait le 28 avril 2027, est prorogé de un an",
        "au plus tard le 28 avril 2028", "Article 3 — Voies et délais de recours"]),
    ("FICTIF-DETR-2025-002", "DETR", ActKind.LAPSE_WARNING, date(2027, 3, 20), [
        "62 200,00 € (soixante-deux mille deux cents euros)",
        "au plus tard le 9 mai 2027 (CGCT art. R2334-28), soit dans 50 jours",
        "prorogation d'un an au plus"]),
]


@pytest.mark.parametrize(("reference", "scheme", "kind", "today", "said"), CASES,
                         ids=[f"{c[2].value}-{c[1]}" for c in CASES])
def test_every_kind_said_and_marked_on_every_page(demo_db, tmp_path, reference, scheme,
                                                  kind, today, said):
    if kind is ActKind.EXTENSION_ORDER:
        _extend(demo_db, reference, 12)
    line_id = _line(demo_db, reference, scheme)
    path = tmp_path / "acte.pdf"
    made = make_act(demo_db, line_id, kind, "pdf", path, today=today)
    content = path.read_bytes()
    text = _pdf_text(content)
    for expected in said:
        assert expected in text, expected
    assert "[à compléter" not in text and "{{" not in text and "{%" not in text
    assert f"empreinte {made.fingerprint}" in text and f"page {made.pages} / {made.pages}" in text
    marks = _marks(content)
    assert len(marks) == made.pages
    assert marks == [PageMark(kind.value, made.fingerprint, "funding_line", line_id, page,
                              made.pages) for page in range(1, made.pages + 1)]
    assert write(marks[0]).startswith(f"SCT|2|{kind.value}|{made.fingerprint}|funding_line|")
    with demo_db.read() as session:
        act = session.scalar(select(Act).where(Act.fingerprint == made.fingerprint))
        assert (act.funding_line_id, act.kind, act.generated_on, act.pages) == (
            line_id, kind.value, today, made.pages)
        assert len(act.template_sha256) == 64 and act.signed_on is None


def test_award_orders_of_the_decree_schemes(demo_db, tmp_path):
    # FNADT and a scheme without a template of its own (FRED: the generic arrêté).
    line_id = _line(demo_db, "FICTIF-DSIL-2025-004", "FONDS_VERT")
    with demo_db.write() as session:
        line = session.get(FundingLine, line_id)
        line.status, line.amount_granted = FundingStatus.GRANTED.value, Decimal("40000.00")
        line.notification_date, line.planned_completion_date = date(2025, 6, 2), date(2028, 6, 30)
    made = prepare(demo_db, line_id, ActKind.AWARD_ORDER, ["pdf"], today=TODAY)
    text = _pdf_text(made.pdf)
    assert "programme 380" in text and "Fonds vert" in text
    assert "article 11 du décret n° 2018-514 du 25 juin 2018" in text
    assert "soit au plus tard le 2 juin 2027" in text  # two years from the notification
    assert "achevée au plus tard le 30 juin 2028" in text  # the decision's date
    assert "40 000,00 € (quarante mille euros)" in text
    assert "(décret n° 2018-514, art. 12)" in text
    for code, words in (("FNADT", "loi n° 95-115 du 4 février 1995"),
                        ("FRED", "Arrêté portant attribution d'une subvention au titre du "
                                 "Fonds pour les restructurations de la défense (FRED, "
                                 "CRSD)")):
        with demo_db.write() as session:
            session.get(FundingLine, line_id).scheme_code = code
        assert words in _pdf_text(prepare(demo_db, line_id, ActKind.AWARD_ORDER, ["pdf"],
                                          today=TODAY).pdf), code


def test_docx_and_odt_reopened(demo_db, tmp_path):
    line_id = _line(demo_db, "FICTIF-DETR-2025-005", "DETR")
    docx = tmp_path / "arrete.docx"
    made = make_act(demo_db, line_id, ActKind.AWARD_ORDER, "docx", docx, today=TODAY)
    document = Document(str(docx))
    text = _flat("\n".join(p.text for p in document.paragraphs))
    assert "63 756,00 € (soixante-trois mille sept cent cinquante-six euros)" in text
    footer = document.sections[0].footer.paragraphs[0].text
    assert footer.endswith(f"empreinte {made.fingerprint}")
    profile = (tmp_path / "profil").as_uri()
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation={profile}",
                    "--convert-to", "txt:Text (encoded):UTF8", "--outdir", str(tmp_path),
                    str(docx)], check=True, capture_output=True, timeout=180)
    office_text = _flat((tmp_path / "arrete.txt").read_text(encoding="utf-8"))
    assert "soixante-trois mille sept cent cinquante-six euros" in office_text
    assert "soit au plus tard le 1er mai 2027" in office_text
    assert "soit au plus tard le 7 août 2029" in office_text
    odt = tmp_path / "arrete.odt"
    make_act(demo_db, line_id, ActKind.NOTIFICATION, "odt", odt, today=TODAY)
    from odf import teletype
    from odf.opendocument import load
    from odf.text import P

    reopened = _flat("\n".join(teletype.extractText(p)
                               for p in load(str(odt)).getElementsByType(P)))
    assert "63 756,00 € (soixante-trois mille sept cent cinquante-six euros)" in reopened
    assert "au plus tard le 1er mai 2027" in reopened
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Act)) == 2


def test_what_makes_no_sense_is_refused(demo_db, tmp_path):
    tmp_path = tmp_path / "actes"  # the demo base lies beside
    tmp_path.mkdir()
    granted = _line(demo_db, "FICTIF-DETR-2025-005", "DETR")  # works started 7 Aug 2025
    refused = _line(demo_db, "FICTIF-DSIL-2025-004", "FONDS_VERT")
    for line_id, kind, words in (
            (granted, ActKind.REFUSAL, "pas de lettre de refus, la subvention n'est pas "
                                       "refusée (statut « accordé »)"),
            (refused, ActKind.AWARD_ORDER, "pas d'arrêté attributif pour une subvention "
                                           "refusée"),
            (granted, ActKind.EXTENSION_ORDER, "aucune prorogation n'est enregistrée"),
            (granted, ActKind.LAPSE_WARNING, "pas d'alerte de caducité, les travaux ont "
                                             "commencé")):
        with pytest.raises(InvalidInput, match=words.replace("(", r"\(").replace(")", r"\)")):
            make_act(demo_db, line_id, kind, "pdf", tmp_path / "x.pdf", today=TODAY)
    with demo_db.write() as session:
        line = session.get(FundingLine, granted)
        line.notification_date = None
        # The operation's notification stands for its one State line's: none either.
        line.operation.notification_date = None
        line.operation.start_extension_months = 6
    with pytest.raises(InvalidInput, match="sans délai de caducité"):
        make_act(demo_db, granted, ActKind.EXTENSION_ORDER, "pdf", tmp_path / "x.pdf")
    assert list(tmp_path.iterdir()) == []
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Act)) == 0


def test_the_refusal_reason_typed_by_the_agent(demo_db):
    line_id = _line(demo_db, "FICTIF-DSIL-2025-004", "FONDS_VERT")
    made = prepare(demo_db, line_id, ActKind.REFUSAL, ["pdf"], today=TODAY,
                   values={"motif_refus": "le projet ne relève d'aucun axe du Fonds vert"})
    assert ("n'a pas pu être retenue, pour le motif suivant : le projet ne relève d'aucun "
            "axe du Fonds vert.") in _pdf_text(made.pdf)


def _generated_base(tmp_path: Path):
    spec = importlib.util.spec_from_file_location("bench_generate",
                                                  ROOT / "tests" / "bench" / "generate.py")
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    path = tmp_path / "region.sqlite"
    generator.generate(str(path), 400, seed=11)
    from db.database import open_database

    return open_database(str(path), create=False)


def test_a_batch_of_100_acts(tmp_path):
    db = _generated_base(tmp_path)
    try:
        with db.read() as session:
            lines = session.execute(
                select(FundingLine.id, Operation.reference).join(Operation)
                .where(FundingLine.status == FundingStatus.GRANTED.value,
                       FundingLine.scheme_code.in_(["DETR", "DSIL", "FNADT", "FONDS_VERT"]),
                       FundingLine.amount_granted.is_not(None))
                .order_by(Operation.reference)).all()
        assert len(lines) >= 100
        chosen = [line_id for line_id, _ in lines[:100]]
        out = tmp_path / "actes"
        out.mkdir()
        seen = []
        started = time.perf_counter()
        result = make_batch(db, chosen, ActKind.AWARD_ORDER, out, ["pdf", "docx"],
                            progress=lambda done, total: seen.append((done, total)),
                            today=date(2026, 11, 2))
        batch_seconds = time.perf_counter() - started
        started = time.perf_counter()
        render(plan_document(db, lines[0][1]))
        plan_seconds = time.perf_counter() - started
        print(f"\n100 arrêtés (PDF + DOCX) : {batch_seconds:.1f} s ; plan de financement "
              f"d'une opération : {plan_seconds:.2f} s")
        assert not result.skipped and not result.cancelled and len(result.acts) == 100
        assert seen[0] == (0, 100) and seen[-1] == (100, 100)
        pdfs = sorted(out.glob("*.pdf"))
        assert len(pdfs) == 101 and len(list(out.glob("*.docx"))) == 100
        assert all("_arrete_attributif" in p.name for p in pdfs
                   if p.name != COMBINED_NAME) and not list(out.glob(".acte-*"))
        with db.read() as session:
            pages = session.scalars(select(Act.pages)).all()
            assert len(pages) == 100
        combined = PdfReader(str(out / COMBINED_NAME))
        assert len(combined.pages) == sum(pages)
        first = PdfReader(str(pdfs[0]))
        assert _flat(combined.pages[0].extract_text()) == _flat(first.pages[0].extract_text())
    finally:
        db.close()


def test_cancel_half_way_leaves_whole_files_and_their_acts_only(demo_db, tmp_path):
    tmp_path = tmp_path / "actes"
    tmp_path.mkdir()
    with demo_db.read() as session:
        lines = session.scalars(select(FundingLine.id).join(Operation).where(
            Operation.reference.like("FICTIF-%"),
            FundingLine.scheme_code.in_(["DETR", "DSIL", "FONDS_VERT"]))
            .order_by(Operation.reference)).all()
    pressed = []

    def progress(done: int, total: int) -> None:
        if done == 3:  # the agent presses Annuler once three acts are made
            pressed.append(done)

    result = make_batch(demo_db, lines, "auto", tmp_path, ["pdf"], progress=progress,
                        cancelled=lambda: bool(pressed), today=TODAY)
    assert result.cancelled and result.combined is None
    written = sorted(p.name for p in tmp_path.iterdir())
    assert len(written) == len(result.acts) == 3
    assert written[0] == "FICTIF-DETR-2025-001_arrete_attributif.pdf"
    for path in tmp_path.iterdir():
        assert len(PdfReader(str(path)).pages) >= 1  # whole
    with demo_db.read() as session:
        assert sorted(session.scalars(select(Act.id)).all()) == sorted(result.acts)


def test_auto_batch_writes_award_notification_and_refusal(demo_db, tmp_path):
    tmp_path = tmp_path / "actes"
    tmp_path.mkdir()
    lines = [_line(demo_db, "FICTIF-DSIL-2025-004", "DSIL"),
             _line(demo_db, "FICTIF-DSIL-2025-004", "FONDS_VERT")]
    result = make_batch(demo_db, lines, "auto", tmp_path, ["pdf"], today=TODAY)
    assert sorted(p.name for p in result.files) == [
        "FICTIF-DSIL-2025-004_arrete_attributif.pdf", "FICTIF-DSIL-2025-004_notification.pdf",
        "FICTIF-DSIL-2025-004_refus.pdf"]
    combined = _pdf_text((tmp_path / COMBINED_NAME).read_bytes())
    assert "Arrêté portant attribution" in combined and "n'a pas pu être retenue" in combined


def test_cli_prints_an_act(demo_db, demo_path, tmp_path):
    out = tmp_path / "arrete.pdf"
    done = subprocess.run([sys.executable, "main.py", "print", "arrete", "--operation",
                           "FICTIF-DSIL-2025-004", "--db", str(demo_path), "-o", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Acte enregistré (arrêté attributif) : {out} (empreinte ")
    assert "115 525,00 € (cent quinze mille cinq cent vingt-cinq euros)" in _pdf_text(
        out.read_bytes())
    ambiguous = subprocess.run([sys.executable, "main.py", "print", "alerte", "--operation",
                                "FICTIF-DSIL-2025-004", "--db", str(demo_path), "-o",
                                str(tmp_path / "a.pdf")], cwd=ROOT, capture_output=True,
                               text=True, timeout=120)
    assert ambiguous.returncode != 0
    assert "plusieurs subventions de l'État (DSIL, Fonds vert) : précisez --scheme" in \
        ambiguous.stderr
    refused = subprocess.run([sys.executable, "main.py", "print", "refus", "--operation",
                              "FICTIF-DSIL-2025-004", "--scheme", "DSIL", "--db",
                              str(demo_path), "-o", str(tmp_path / "r.pdf")], cwd=ROOT,
                             capture_output=True, text=True, timeout=120)
    assert "pas de lettre de refus" in refused.stderr and not (tmp_path / "r.pdf").exists()
    assert state_line(demo_db, "FICTIF-DSIL-2025-004", "fonds_vert") == _line(
        demo_db, "FICTIF-DSIL-2025-004", "FONDS_VERT")


def test_every_shipped_template_is_what_the_script_builds(tmp_path):
    from db.acts.library import shipped_file
    from db.acts.templates import TEMPLATES_DIR, check_template

    subprocess.run([sys.executable, "scripts/build_templates.py", str(tmp_path)], check=True,
                   cwd=ROOT, capture_output=True)
    built = sorted(p.name for p in tmp_path.glob("*.docx"))
    assert built == sorted(p.name for p in TEMPLATES_DIR.glob("*.docx"))
    assert len(built) == 9
    for name in built:
        assert (tmp_path / name).read_bytes() == (TEMPLATES_DIR / name).read_bytes(), name
        check_template(TEMPLATES_DIR / name)
    # Each kind finds its template; a scheme without one of its own, the generic one.
    for kind in ActKind:
        assert shipped_file(kind, "DPV").name == f"{kind.value}.docx"
    assert shipped_file(ActKind.AWARD_ORDER, "FONDS_VERT").name == \
        "arrete_attributif_fonds_vert.docx"


def test_cancel_while_an_act_is_made_drops_it(demo_db, tmp_path):
    lines = [_line(demo_db, "FICTIF-DETR-2025-099", "DETR")]
    checks = []

    def cancelled() -> bool:
        checks.append(1)
        return len(checks) > 1  # pressed while the arrêté was being laid out

    out = tmp_path / "actes"
    out.mkdir()
    result = make_batch(demo_db, lines, ActKind.AWARD_ORDER, out, ["pdf", "docx"],
                        cancelled=cancelled, today=TODAY)
    assert result.cancelled and result.acts == [] and list(out.iterdir()) == []
    with demo_db.read() as session:
        assert session.scalar(select(func.count()).select_from(Act)) == 0


def test_verify_tells_what_the_base_holds_of_a_printed_act(demo_db, demo_path, tmp_path):
    line_id = _line(demo_db, "FICTIF-DETR-2025-005", "DETR")
    path = tmp_path / "arrete.pdf"
    made = make_act(demo_db, line_id, ActKind.AWARD_ORDER, "pdf", path, today=TODAY)

    def verify() -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "main.py", "verify", str(path), "--db",
                               str(demo_path)], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)

    done = verify()
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        "Acte enregistré : Arrêté attributif édité le 15 janvier 2026 pour l'opération "
        "FICTIF-DETR-2025-005 (DETR), non signé ; la ligne de financement n'a pas changé "
        "depuis.")
    with demo_db.write() as session:
        session.get(FundingLine, line_id).amount_granted = Decimal("60000.00")
    changed = verify()
    assert changed.returncode == 1 and "modifiée depuis son édition" in changed.stdout
    assert made.fingerprint
