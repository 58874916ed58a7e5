"""The pages of a scanned file as images, and the mark each one carries.

A page is first decoded as it is (most scans read there, in 10–40 ms); the fallbacks
are tried in order of cost, each one measured on tilted, noisy, dim JPEG scans: a
fixed threshold after stretching the contrast (grey ink on grey paper), then each
quarter of the page enlarged (modules of 3 pixels at 150 dpi drown in noise)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import zxingcpp
from PIL import Image, ImageFilter, ImageOps, UnidentifiedImageError

from db.documents.marks import PageMark, read
from db.errors import InvalidInput

# A 22 mm code of about 45 modules: 4 pixels a module at 200 dpi.
RENDER_DPI = 200
_QR = zxingcpp.BarcodeFormat.QRCode


@dataclass(frozen=True)
class PageReading:
    index: int  # 1-based, in the scanned file
    mark: PageMark | None
    blank: bool = False


def is_pdf(path: Path) -> bool:
    with open(path, "rb") as source:
        return source.read(1024).lstrip().startswith(b"%PDF")


def page_count(path: Path) -> int:
    """How many pages *path* holds (refused in French when it is neither PDF nor image)."""
    _check(path)
    if is_pdf(path):
        document = _open_pdf(path)
        try:
            return len(document)
        finally:
            document.close()
    with _open_image(path) as image:
        return getattr(image, "n_frames", 1)


def _check(path: Path) -> None:
    if not path.is_file():
        raise InvalidInput(f"« {path.name} » : le fichier est introuvable ({path}).")


def _open_pdf(path: Path) -> pdfium.PdfDocument:
    try:
        return pdfium.PdfDocument(path)
    except pdfium.PdfiumError as exc:
        raise InvalidInput(f"« {path.name} » : ce PDF est illisible ou protégé par un mot "
                           "de passe.") from exc


def _open_image(path: Path) -> Image.Image:
    try:
        return Image.open(path)
    except (UnidentifiedImageError, OSError) as exc:
        raise InvalidInput(f"« {path.name} » : ce n'est ni un PDF ni une image lisible "
                           "(PNG, JPEG, TIFF).") from exc


def page_images(path: Path) -> Iterator[Image.Image]:
    """Every page of *path* in grey levels, one at a time (a scan of 200 pages is not
    held in memory)."""
    _check(path)
    if is_pdf(path):
        document = _open_pdf(path)
        try:
            for page in document:
                yield page.render(scale=RENDER_DPI / 72, grayscale=True).to_pil().convert("L")
                page.close()
        finally:
            document.close()
        return
    with _open_image(path) as image:
        for frame in range(getattr(image, "n_frames", 1)):
            image.seek(frame)
            yield image.convert("L")


def _decoded(image: Image.Image, **options) -> PageMark | None:
    for code in zxingcpp.read_barcodes(image, formats=_QR, **options):
        mark = read(code.text)
        if mark is not None:
            return mark
    return None


def _enlarged_quarters(image: Image.Image) -> Iterator[Image.Image]:
    width, height = image.size
    for left, top in ((0.5, 0), (0, 0), (0.5, 0.5), (0, 0.5), (0.25, 0.25)):
        quarter = image.crop((int(width * left), int(height * top),
                              int(width * (left + 0.5)), int(height * (top + 0.5))))
        yield quarter.resize((quarter.width * 2, quarter.height * 2),
                             Image.Resampling.BILINEAR).filter(ImageFilter.GaussianBlur(1))


def mark_of(image: Image.Image) -> PageMark | None:
    """The mark of the page, or None when no code of ours can be read on it."""
    mark = _decoded(image)
    if mark is None:
        mark = _decoded(ImageOps.autocontrast(image, cutoff=1),
                        binarizer=zxingcpp.Binarizer.FixedThreshold)
    if mark is None:
        for quarter in _enlarged_quarters(image):
            mark = _decoded(quarter)
            if mark is not None:
                break
    return mark


def is_blank(image: Image.Image) -> bool:
    """A page with nothing on it (the back of a sheet scanned recto verso): averaged over
    blocks of 8 pixels, the noise of the sensor goes and a line of text remains."""
    small = image.reduce(8)
    pixels = np.asarray(small, dtype=np.int16)
    paper = int(np.median(pixels))
    return float(np.mean(pixels < paper - 40)) < 0.001


def read_pages(path: Path, on_page=None) -> list[PageReading]:
    """The reading of every page of *path*; *on_page(index)* is called after each (for
    a progress bar, or to stop by raising)."""
    readings = []
    for index, image in enumerate(page_images(path), start=1):
        if is_blank(image):
            readings.append(PageReading(index, None, blank=True))
        else:
            readings.append(PageReading(index, mark_of(image)))
        if on_page is not None:
            on_page(index)
    return readings
