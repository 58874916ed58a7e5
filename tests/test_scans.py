"""Signed scans filed back by their QR code: copier-like scans (150 and 200 dpi, tilted,
noisy, dim, JPEG) of generated acts, checked in the base and in the attached PDFs."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from db.attachments.service import Owner, attachments_of, read_attachment
from db.documents.marks import PageMark
from db.models import Act, Attachment
from db.scans.filing import file_scans
from db.scans.reading import mark_of
from tests.scan_helpers import (
    act_pdf,
    blank_page,
    copier,
    funding_lines,
    make_act,
    rasterise,
    scan_pdf,
    smudged,
)
from tests.test_attachments import records  # noqa: F401  (fixture)
from tests.test_services import actors  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parent.parent


def _act_row(db, act_id):
    with db.read() as session:
        act = session.get(Act, act_id)
        return act.signed_on, act.signed_attachment_id


def _attachments(db, line_id) -> int:
    with db.read() as session:
        return session.scalar(select(func.count()).select_from(Attachment).where(
            Attachment.funding_line_id == line_id))


def _copier_scan(tmp_path, award, letter, dpi, rng) -> Path:
    """A scan: the award (3 pages), a blank page, the letter (2 pages), each tilted."""
    pages = []
    for angle, image in zip((2.0, -3.5, 4.0), rasterise(award.pdf, dpi), strict=True):
        pages.append(copier(image, rng, angle=angle, noise=10, dim=0.7, jpeg=60))
    pages.append(copier(blank_page(dpi), rng, noise=8, jpeg=60))
    for angle, image in zip((-5.0, 2.5), rasterise(letter.pdf, dpi), strict=True):
        pages.append(copier(image, rng, angle=angle, noise=12, dim=0.8, jpeg=50))
    return scan_pdf(tmp_path / f"numerisation-{dpi}.pdf", pages, dpi)


@pytest.mark.parametrize("dpi", [150, 200])
def test_a_copier_scan_of_two_acts_is_filed_on_their_lines(demo_db, tmp_path, dpi):
    (line_a, ref_a), (line_b, ref_b) = funding_lines(demo_db, 2)
    award = make_act(demo_db, line_a, ref_a, "arrete_attributif", pages=3)
    letter = make_act(demo_db, line_b, ref_b, "notification", pages=2)
    scan = _copier_scan(tmp_path, award, letter, dpi, np.random.default_rng(dpi))

    report = file_scans(demo_db, [scan], signed_on=date(2026, 4, 14))

    assert report.complete and report.pages == 6
    assert [(b.file, b.page) for b in report.blank] == [(scan, 4)]
    by_act = {f.act_id: f for f in report.filed}
    assert by_act[award.act_id].pages == (1, 2, 3)
    assert by_act[letter.act_id].pages == (5, 6)
    assert by_act[award.act_id].reference == ref_a
    assert by_act[letter.act_id].act_label == "Lettre de notification"
    for made, pages, kind in ((award, 3, "arrete_signe"), (letter, 2, "autre")):
        signed_on, attachment_id = _act_row(demo_db, made.act_id)
        assert signed_on == date(2026, 4, 14)
        rows = attachments_of(demo_db, Owner(funding_line_id=made.funding_line_id))
        assert [r.id for r in rows] == [attachment_id]
        assert rows[0].kind == kind
        name, data = read_attachment(demo_db, attachment_id)
        assert len(PdfReader(io.BytesIO(data)).pages) == pages
        assert name.startswith(made.reference.replace(" ", "-")) and name.endswith("_signe.pdf")
    letter_row = attachments_of(demo_db, Owner(funding_line_id=letter.funding_line_id))[0]
    assert letter_row.notes.startswith("Lettre de notification signée.")
    assert letter_row.file_name.endswith("_lettre-de-notification_signe.pdf")


def test_the_same_scan_filed_twice_is_not_duplicated(demo_db, tmp_path):
    (line, reference), = funding_lines(demo_db, 1)
    award = make_act(demo_db, line, reference, pages=2)
    scan = scan_pdf(tmp_path / "scan.pdf", rasterise(award.pdf, 200), 200)
    first = file_scans(demo_db, [scan], signed_on=date(2026, 4, 14))
    again = file_scans(demo_db, [scan], signed_on=date(2026, 5, 2))
    assert [f.already_filed for f in first.filed] == [False]
    assert [f.already_filed for f in again.filed] == [True]
    assert again.filed[0].attachment_id == first.filed[0].attachment_id
    assert _attachments(demo_db, line) == 1
    assert _act_row(demo_db, award.act_id)[0] == date(2026, 4, 14)


def test_an_unreadable_page_between_two_acts_is_reported_inside_one_is_kept(demo_db,
                                                                           tmp_path):
    (line_a, ref_a), (line_b, ref_b) = funding_lines(demo_db, 2)
    award = make_act(demo_db, line_a, ref_a, pages=4)
    letter = make_act(demo_db, line_b, ref_b, "refus", pages=1)
    award_pages = rasterise(award.pdf, 200)
    pages = [award_pages[0], smudged(award_pages[1]), smudged(award_pages[2]),
             award_pages[3], smudged(rasterise(letter.pdf, 200)[0])]
    assert mark_of(pages[1]) is None  # the stain really hides the code
    scan = scan_pdf(tmp_path / "taches.pdf", pages, 200)

    report = file_scans(demo_db, [scan])

    assert not report.complete
    assert [(u.file.name, u.page) for u in report.unread] == [("taches.pdf", 5)]
    assert [(f.act_id, f.pages, f.missing) for f in report.filed] == [
        (award.act_id, (1, 2, 3, 4), ())]
    _name, data = read_attachment(demo_db, report.filed[0].attachment_id)
    assert len(PdfReader(io.BytesIO(data)).pages) == 4
    assert _act_row(demo_db, award.act_id)[0] == date.today()
    assert _act_row(demo_db, letter.act_id) == (None, None)


def test_unknown_documents_and_missing_pages_are_reported(demo_db, tmp_path):
    (line, reference), = funding_lines(demo_db, 1)
    award = make_act(demo_db, line, reference, pages=3)
    stranger = act_pdf("arrete_attributif", "0123456789ABCDEF0123", line, reference, 1)
    pages = rasterise(award.pdf, 200)[:2] + rasterise(stranger, 200)
    scan = scan_pdf(tmp_path / "melange.pdf", pages, 200)

    report = file_scans(demo_db, [scan])

    filed, = report.filed
    assert filed.missing == (3,) and filed.page_count == 3
    assert filed.missing_label == "pages manquantes : 2 / 3 trouvées (manque la page 3)"
    unknown, = report.unknown
    assert (unknown.pages, unknown.fingerprint, unknown.reason) == (
        (3,), "0123456789ABCDEF0123", "document inconnu de cette base")
    _name, data = read_attachment(demo_db, filed.attachment_id)
    assert len(PdfReader(io.BytesIO(data)).pages) == 2


def test_images_and_multipage_tiff_are_filed(demo_db, tmp_path):
    (line_a, ref_a), (line_b, ref_b) = funding_lines(demo_db, 2)
    award = make_act(demo_db, line_a, ref_a, pages=2)
    letter = make_act(demo_db, line_b, ref_b, "alerte_caducite", pages=1)
    rng = np.random.default_rng(3)
    first, *rest = [copier(p, rng, angle=3, noise=8) for p in rasterise(award.pdf, 200)]
    tiff = tmp_path / "arrete.tif"
    first.save(tiff, save_all=True, append_images=rest, dpi=(200, 200),
               compression="tiff_lzw")
    jpeg = tmp_path / "alerte.jpg"
    copier(rasterise(letter.pdf, 150)[0], rng, angle=-2, dim=0.6).save(jpeg, quality=70)

    report = file_scans(demo_db, [tiff, jpeg])

    assert report.complete
    assert sorted((f.file.name, f.pages) for f in report.filed) == [
        ("alerte.jpg", (1,)), ("arrete.tif", (1, 2))]
    for made, count in ((award, 2), (letter, 1)):
        _signed, attachment_id = _act_row(demo_db, made.act_id)
        _name, data = read_attachment(demo_db, attachment_id)
        pdf = PdfReader(io.BytesIO(data))
        assert len(pdf.pages) == count
        width_mm = float(pdf.pages[0].mediabox.width) / 72 * 25.4
        assert 200 < width_mm < 240  # an A4 sheet, not a poster
    again = file_scans(demo_db, [tiff, jpeg])
    assert all(f.already_filed for f in again.filed)


def test_files_that_are_not_scans_are_named(demo_db, tmp_path):
    text = tmp_path / "note.txt"
    text.write_text("pas un scan", encoding="utf-8")
    report = file_scans(demo_db, [text, tmp_path / "absent.pdf"])
    assert [f.reason for f in report.failed] == [
        "« note.txt » : ce n'est ni un PDF ni une image lisible (PNG, JPEG, TIFF).",
        f"« absent.pdf » : le fichier est introuvable ({tmp_path / 'absent.pdf'})."]
    assert not report.complete


def test_cli_reports_in_french_and_json(demo_path, tmp_path):
    from db.database import open_database

    database = open_database(demo_path)
    try:
        (line, reference), = funding_lines(database, 1)
        award = make_act(database, line, reference, pages=2)
    finally:
        database.close()
    pages = rasterise(award.pdf, 200) + [smudged(rasterise(award.pdf, 200)[0])]
    # The smudged copy of page 1 after the act's last page: read as no act's.
    scan = scan_pdf(tmp_path / "retour signature.pdf", pages, 200)
    command = [sys.executable, str(ROOT / "main.py"), "scans", str(scan), "--db",
               str(demo_path), "--date", "14/04/2026"]
    done = subprocess.run([*command, "--json"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    assert set(result) == {"pages", "complete", "cancelled", "filed", "unread", "blank",
                           "unknown", "failed"}
    filed, = result["filed"]
    assert (filed["reference"], filed["act_kind"], filed["pages"], filed["signed_on"],
            filed["already_filed"]) == (reference, "Arrêté attributif", [1, 2],
                                        "2026-04-14", False)
    assert result["unread"] == [{"file": str(scan), "page": 3}]
    again = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert again.returncode == 1
    assert f"Classé : Arrêté attributif de l'opération {reference}" in again.stdout
    assert "déjà classé" in again.stdout
    assert "Page non lue : retour signature.pdf, page 3" in again.stdout


def test_read_rate_on_a_batch_of_tilted_noisy_pages(demo_db, tmp_path, capsys):
    """50 pages, tilted ±5°, noise, dim, JPEG, at 150 to 300 dpi: how many are read."""
    (line, reference), = funding_lines(demo_db, 1)
    pdf = act_pdf("arrete_attributif", "FEDCBA9876543210FEDC", line, reference, 5)
    rng = np.random.default_rng(50)
    rendered = {dpi: rasterise(pdf, dpi) for dpi in (150, 200, 300)}
    read, spent = 0, 0.0
    for index in range(50):
        dpi = (150, 200, 300)[index % 3]
        page = copier(rendered[dpi][index % 5], rng, angle=rng.uniform(-5, 5),
                      noise=rng.uniform(4, 18), dim=rng.uniform(0.6, 1.0),
                      jpeg=int(rng.integers(35, 85)))
        started = time.perf_counter()
        mark = mark_of(page)
        spent += time.perf_counter() - started
        read += mark == PageMark("arrete_attributif", "FEDCBA9876543210FEDC",
                                 "funding_line", line, index % 5 + 1, 5)
    elapsed = spent / 50
    with capsys.disabled():
        print(f"\nlecture des QR codes : {read} / 50 pages, {elapsed * 1000:.0f} ms par page")
    assert read >= 48


def test_filing_on_sqlite_and_postgresql(db, records, tmp_path):  # noqa: F811
    from db.models import FundingLine

    with db.read() as session:
        reference = session.get(FundingLine, records["line"]).operation.reference
    award = make_act(db, records["line"], reference, "prorogation", pages=2)
    rng = np.random.default_rng(7)
    pages = [copier(p, rng, angle=-3, noise=10, dim=0.7, jpeg=55)
             for p in rasterise(award.pdf, 150)]
    scan = scan_pdf(tmp_path / "prorogation.pdf", pages, 150)

    report = file_scans(db, [scan], signed_on=date(2026, 6, 30))

    filed, = report.filed
    assert (filed.act_label, filed.pages) == ("Arrêté de prorogation", (1, 2))
    assert _act_row(db, award.act_id) == (date(2026, 6, 30), filed.attachment_id)
    _name, data = read_attachment(db, filed.attachment_id)  # inside the base on PostgreSQL
    assert len(PdfReader(io.BytesIO(data)).pages) == 2
    assert file_scans(db, [scan]).filed[0].already_filed
    assert _attachments(db, records["line"]) == 1


def test_a_cancelled_filing_keeps_what_was_filed_and_says_so(demo_db, tmp_path):
    import threading

    (line_a, ref_a), (line_b, ref_b) = funding_lines(demo_db, 2)
    first = make_act(demo_db, line_a, ref_a, pages=1)
    second = make_act(demo_db, line_b, ref_b, pages=1)
    one = scan_pdf(tmp_path / "un.pdf", rasterise(first.pdf, 150), 150)
    two = scan_pdf(tmp_path / "deux.pdf", rasterise(second.pdf, 150), 150)
    cancel = threading.Event()
    seen = []

    def progress(step, done, total):
        seen.append((step, done, total))
        if step.startswith("Classement"):
            cancel.set()  # the agent presses Annuler while the first file is filed

    report = file_scans(demo_db, [one, two], progress=progress, cancel=cancel)

    assert report.cancelled and not report.complete
    assert [f.act_id for f in report.filed] == [first.act_id]
    assert _act_row(demo_db, second.act_id) == (None, None)
    assert seen[0] == ("Lecture de « un.pdf »", 1, 2)


def test_pages_are_grouped_by_act_and_put_back_in_order():
    from db.scans.filing import group_pages
    from db.scans.reading import PageReading

    def page(index, fingerprint, number, count=3):
        return PageReading(index, PageMark("refus", fingerprint, "funding_line", None,
                                           number, count))

    readings = [page(1, "A", 3), page(2, "A", 1), PageReading(3, None), page(4, "A", 2),
                PageReading(5, None, blank=True), PageReading(6, None), page(7, "B", 1, 1),
                PageReading(8, None)]
    groups, unread = group_pages(readings)
    assert [(g.fingerprint, g.pages, g.count) for g in groups] == [
        ("A", [2, 3, 4, 1], 3), ("B", [7], 1)]
    assert unread == [6, 8]
