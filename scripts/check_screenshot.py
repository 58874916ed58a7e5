"""Check that a screenshot of the application shows a window, not a blank rectangle.

    python scripts/check_screenshot.py IMAGE.png

Used by .ci/run after a real start under Xvfb: a window that failed to paint (black,
white or one flat colour) or a tiny image fails, with the reason, and exit code 1.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

MIN_WIDTH, MIN_HEIGHT = 640, 400
# Text, icons and table rules give a painted window hundreds of colours (anti-aliasing);
# a blank one has one, a bare frame a handful.
MIN_COLOURS = 64
MAX_DOMINANT_SHARE = 0.92


@dataclass(frozen=True)
class ImageStats:
    width: int
    height: int
    colours: int  # distinct colours, counted up to a cap
    dominant_share: float  # share of the pixels that have the most common colour


def image_stats(path: Path, cap: int = 4096) -> ImageStats:
    with Image.open(path) as image:
        rgb = image.convert("RGB")
    width, height = rgb.size
    counts = rgb.getcolors(maxcolors=cap)  # None: more than cap colours
    if counts is None:
        return ImageStats(width, height, cap + 1, 0.0)
    dominant = max(count for count, _ in counts)
    return ImageStats(width, height, len(counts), dominant / (width * height))


def blank_reasons(stats: ImageStats) -> list[str]:
    reasons = []
    if stats.width < MIN_WIDTH or stats.height < MIN_HEIGHT:
        reasons.append(f"image trop petite ({stats.width} × {stats.height} pixels, "
                       f"au moins {MIN_WIDTH} × {MIN_HEIGHT} attendus)")
    if stats.colours < MIN_COLOURS:
        noun = "couleur" if stats.colours == 1 else "couleurs"
        reasons.append(f"{stats.colours} {noun} seulement (au moins {MIN_COLOURS} attendues)")
    if stats.dominant_share > MAX_DOMINANT_SHARE:
        share = round(stats.dominant_share * 100)
        reasons.append(f"une seule couleur couvre {share} % de l'image")
    return reasons


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("Usage : python scripts/check_screenshot.py IMAGE.png", file=sys.stderr)
        return 2
    path = Path(argv[0])
    try:
        stats = image_stats(path)
    except (OSError, ValueError) as error:
        print(f"Capture illisible : {path} ({error}).", file=sys.stderr)
        return 1
    reasons = blank_reasons(stats)
    if reasons:
        print(f"Capture vide ou incomplète : {path} : " + " ; ".join(reasons) + ".",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
