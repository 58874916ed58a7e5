"""Acts as the printer gives them, and scans of them as a copier gives them back.

:func:`make_act` stands in for db.acts.generate until that lands: it records an ``Act`` for
a funding line and writes a PDF whose every page carries the QR mark the real acts carry
(db.documents.marks), so that only this function changes when the real generator arrives.
The scan side (:func:`scan_pages`) rasterises, tilts, dims, adds noise and JPEG-compresses
pages, as a tired office copier does.
"""

from __future__ import annotations

import hashlib
import io
import uuid
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
from PIL import Image, ImageDraw
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as pdf_canvas
from sqlalchemy import select

from db.documents.marks import PageMark, write
from db.models import Act, FundingLine, Operation
from printouts.pdf import QR_SIZE, _draw_qr


@dataclass(frozen=True)
class MadeAct:
    act_id: uuid.UUID
    funding_line_id: uuid.UUID
    reference: str
    kind: str
    fingerprint: str
    pdf: bytes
    pages: int


def funding_lines(db, count: int) -> list[tuple[uuid.UUID, str]]:
    """*count* funding lines of distinct operations of the base, with their reference."""
    with db.read() as session:
        rows = session.execute(
            select(FundingLine.id, Operation.reference, FundingLine.operation_id)
            .join(Operation, FundingLine.operation_id == Operation.id)
            .order_by(Operation.reference, FundingLine.position)).all()
    chosen, seen = [], set()
    for line_id, reference, operation_id in rows:
        if operation_id not in seen:
            seen.add(operation_id)
            chosen.append((line_id, reference))
    assert len(chosen) >= count, "la base de démonstration a trop peu d'opérations"
    return chosen[:count]


def act_pdf(kind: str, fingerprint: str, funding_line_id: uuid.UUID, reference: str,
            pages: int, *, marks: list[str | None] | None = None) -> bytes:
    """A PDF of *pages* A4 pages of text, each with its QR mark at the top right, 1 cm
    from the edges (inside what every printer prints). *marks* overrides the text of
    some pages' codes (None: no code on that page)."""
    buffer = io.BytesIO()
    canvas = pdf_canvas.Canvas(buffer, pagesize=A4)
    width, height = A4
    for page in range(1, pages + 1):
        text = write(PageMark(kind, fingerprint, "funding_line", funding_line_id, page, pages))
        if marks is not None:
            text = marks[page - 1]
        canvas.setFont("Helvetica-Bold", 14)
        canvas.drawString(20 * mm, height - 20 * mm, f"Préfecture du Nord — {kind}")
        canvas.setFont("Helvetica", 10)
        canvas.drawString(20 * mm, height - 38 * mm, f"Opération {reference}")
        for row in range(45):
            canvas.drawString(20 * mm, height - (55 + row * 5) * mm,
                              f"Article {row + 1}. Le présent arrêté est notifié au maître "
                              f"d'ouvrage ; la subvention est versée sur justificatifs ({row}).")
        canvas.drawString(20 * mm, 12 * mm, f"page {page} / {pages} — {fingerprint}")
        if text is not None:
            _draw_qr(canvas, text, width - 10 * mm - QR_SIZE, height - 10 * mm - QR_SIZE, QR_SIZE)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def make_act(db, funding_line_id: uuid.UUID, reference: str, kind: str = "arrete_attributif",
             pages: int = 2, *, on: date = date(2026, 3, 2)) -> MadeAct:
    fingerprint = hashlib.sha256(f"{funding_line_id}{kind}{uuid.uuid4()}".encode()) \
        .hexdigest()[:20].upper()
    pdf = act_pdf(kind, fingerprint, funding_line_id, reference, pages)
    with db.write() as session:
        act = Act(id=uuid.uuid4(), funding_line_id=funding_line_id, kind=kind,
                  generated_on=on, fingerprint=fingerprint,
                  template_sha256=hashlib.sha256(b"modele").hexdigest(), pages=pages)
        session.add(act)
        session.flush()
        act_id = act.id
    return MadeAct(act_id, funding_line_id, reference, kind, fingerprint, pdf, pages)


# --- The copier ------------------------------------------------------------------------

def rasterise(pdf: bytes, dpi: int) -> list[Image.Image]:
    document = pdfium.PdfDocument(pdf)
    try:
        return [page.render(scale=dpi / 72, grayscale=True).to_pil().convert("L")
                for page in document]
    finally:
        document.close()


def blank_page(dpi: int) -> Image.Image:
    return Image.new("L", (round(210 / 25.4 * dpi), round(297 / 25.4 * dpi)), 250)


def smudged(image: Image.Image) -> Image.Image:
    """The page with its QR code scribbled over (coffee, a stamp): unreadable."""
    image = image.copy()
    draw = ImageDraw.Draw(image)
    width = image.width
    side = round(image.width * 0.13)
    left, top = width - round(width * 0.095) - side, round(image.height * 0.0)
    draw.rectangle([left - 10, top, left + side + 10, top + side * 2], fill=40)
    return image


def copier(image: Image.Image, rng: np.random.Generator, *, angle: float = 0.0,
           noise: float = 0.0, dim: float = 1.0, jpeg: int | None = None) -> Image.Image:
    """*image* tilted by *angle* degrees, its contrast scaled by *dim* (0.6: grey ink on
    grey paper), Gaussian noise of standard deviation *noise*, JPEG at quality *jpeg*."""
    page = image.convert("L")
    if angle:
        # The whole sheet stays on the glass (a flatbed is larger than A4).
        page = page.rotate(angle, resample=Image.Resampling.BILINEAR, expand=True,
                           fillcolor=245)
    pixels = np.asarray(page, dtype=np.float32)
    if dim != 1.0:
        pixels = 235 - (235 - pixels) * dim
    if noise:
        pixels = pixels + rng.normal(0, noise, pixels.shape)
    page = Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")
    if jpeg is not None:
        buffer = io.BytesIO()
        page.save(buffer, "JPEG", quality=jpeg)
        page = Image.open(io.BytesIO(buffer.getvalue()))
        page.load()
    return page


def scan_pdf(path: Path, pages: list[Image.Image], dpi: int) -> Path:
    """A multi-page scan PDF as a copier's « scan to PDF » writes it."""
    first, *rest = [p.convert("L") for p in pages]
    first.save(path, "PDF", save_all=True, append_images=rest, resolution=dpi)
    return path
