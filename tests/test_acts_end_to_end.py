"""The issue's « done when », end to end on the demo: from a decided programmation every
act is made in one batch with the office's wording, and the signed scans that come back
(the real acts' PDFs printed, signed, scanned askew and noisy) are each filed on the
funding line they were made for, the act marked signed."""

from __future__ import annotations

import io
from datetime import date

import numpy as np
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import select

from db.acts.generate import filtered_lines, make_batch
from db.attachments.service import read_attachment
from db.lists import Criteria
from db.models import Act, Attachment
from db.scans.filing import file_scans
from tests.scan_helpers import copier, rasterise, scan_pdf


def _cropped_to_a4(image: Image.Image, angle: float) -> Image.Image:
    """A sheet fed askew into a scanner that crops to A4: the corners are cut off."""
    return image.rotate(angle, resample=Image.Resampling.BILINEAR, expand=False,
                        fillcolor=245)


def test_a_programmation_s_acts_made_in_one_batch_come_back_signed_and_filed(demo_db,
                                                                            tmp_path):
    lines = filtered_lines(demo_db, Criteria(scheme="DETR", year=2025))[:6]
    assert len(lines) == 6
    folder = tmp_path / "actes"
    folder.mkdir()
    batch = make_batch(demo_db, lines, "auto", folder, formats=("pdf", "docx"),
                       today=date(2026, 4, 2))
    assert not batch.cancelled and batch.combined is not None
    with demo_db.read() as session:
        acts = session.scalars(select(Act).where(Act.id.in_(batch.acts))).all()
        made = {act.fingerprint: (act.funding_line_id, act.kind, act.pages) for act in acts}
    # Granted DETR lines: an arrêté and a notification letter each.
    assert len(made) == 12
    assert {kind for _line, kind, _pages in made.values()} == {"arrete_attributif",
                                                               "notification"}
    combined = PdfReader(batch.combined)
    assert len(combined.pages) == sum(pages for _l, _k, pages in made.values())
    assert "deux ans" in combined.pages[0].extract_text()

    # The signed originals come back as two scans, every sheet a little askew, noisy and
    # dim; half of them through a scanner that crops to A4.
    rng = np.random.default_rng(13)
    images = rasterise(batch.combined.read_bytes(), 200)
    scanned = []
    for index, image in enumerate(images):
        angle = float(rng.uniform(-4, 4))
        if index % 2:
            image = _cropped_to_a4(image, angle)
            angle = 0.0
        scanned.append(copier(image, rng, angle=angle, noise=10, dim=0.75, jpeg=60))
    # The two bundles split between two acts, as the agent stacks the signed originals.
    with demo_db.read() as session:
        in_batch = {a.id: a.pages for a in session.scalars(select(Act).where(
            Act.id.in_(batch.acts)))}
    order = [in_batch[act_id] for act_id in batch.acts]
    half = sum(order[: len(order) // 2])
    first = scan_pdf(tmp_path / "retour-1.pdf", scanned[:half], 200)
    second = scan_pdf(tmp_path / "retour-2.pdf", scanned[half:], 200)

    report = file_scans(demo_db, [first, second], signed_on=date(2026, 4, 20))
    assert report.unread == [] and report.unknown == [] and report.failed == []

    with demo_db.read() as session:
        acts = {act.fingerprint: act for act in
                session.scalars(select(Act).where(Act.id.in_(batch.acts)))}
        for fingerprint, (line_id, kind, pages) in made.items():
            act = acts[fingerprint]
            assert act.signed_on == date(2026, 4, 20)
            attachment = session.get(Attachment, act.signed_attachment_id)
            assert attachment.funding_line_id == line_id
            assert attachment.kind == ("arrete_signe" if kind == "arrete_attributif"
                                       else "autre")
            _name, data = read_attachment(demo_db, attachment.id)
            assert len(PdfReader(io.BytesIO(data)).pages) == pages
    assert len(report.filed) == len(made)
    assert not report.missing
