"""The charts of the Tableau de bord, drawn with matplotlib (no pyplot, no Qt here).

matplotlib costs a few hundred milliseconds to import: this module is imported only
when the dashboard is first shown (desktop/list_pages.py builds the page lazily, and
tests/test_startup.py checks that start-up never loads it).

Each ``*_chart`` function takes plain data — any objects with the attributes named —
draws into a :class:`~matplotlib.figure.Figure` (a new one, or the one of a widget) and
returns a :class:`Chart`: the figure and, for each bar, the list it opens when clicked.
Amounts are exact Decimals until they become the bars' lengths (plot coordinates are
floats; every figure printed on the chart is formatted from the Decimal).

Readable in black and white: « accordé » / « programmé » is dark and solid, « versé » is
light and hatched, « reste » is white and hatched, « en retard » is red and cross-hatched.
"""

from __future__ import annotations

import textwrap
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from db.formatting import compact_euros, euros, number, percent

matplotlib.rcParams.update({
    "font.family": "DejaVu Sans",  # shipped with matplotlib: the same on every machine
    "font.size": 9,
    "pdf.fonttype": 42,  # TrueType in the PDF: its text can be searched and copied
    "svg.fonttype": "none",
    "axes.spines.top": False,
    "axes.spines.right": False,
    "hatch.linewidth": 0.8,
})

DARK = "#1f3b73"  # accordé, programmé
LIGHT = "#8fb3de"  # versé
EDGE = "#1f3b73"
LATE = "#c0392b"  # en retard
AHEAD = "#4a5a70"  # échéances à venir
SCREEN_SIZE = (6.4, 3.6)  # inches; the widget resizes it
EXPORT_SIZE = (8.0, 4.5)  # inches, at EXPORT_DPI: 1 200 × 675 pixels
EXPORT_DPI = 150


@dataclass(frozen=True)
class Target:
    """The list a bar opens: a page of the navigation and its filters (db.lists.Criteria
    fields), with the territory of the dashboard."""

    page: str  # "funding_lines", "operations"
    filters: dict[str, Any]
    description: str  # in French, for the tooltip: « Financements DETR 2025 »


@dataclass
class Chart:
    key: str
    title: str
    figure: Figure
    targets: dict[Any, Target] = field(default_factory=dict)  # bar (Rectangle) → list

    def target_of(self, artist: Any) -> Target | None:
        return self.targets.get(artist)


def new_figure(size: tuple[float, float] = SCREEN_SIZE, dpi: int = 100) -> Figure:
    return Figure(figsize=size, dpi=dpi, layout="constrained")


def _start(figure: Figure | None, title: str, scope: str) -> tuple[Figure, Any]:
    figure = figure if figure is not None else new_figure()
    figure.clear()
    axes = figure.add_subplot()
    figure.suptitle(title, fontsize=11, fontweight="bold", x=0.01, ha="left")
    if scope:
        axes.set_title(scope, fontsize=8.5, color="#444444", loc="left")
    return figure, axes


def _empty(axes: Any, message: str) -> None:
    axes.set_axis_off()
    axes.text(0.5, 0.5, message, ha="center", va="center", fontsize=11, color="#555555",
              transform=axes.transAxes)


def _money_axis(axis: Any) -> None:
    axis.set_major_formatter(FuncFormatter(lambda value, _pos: compact_euros(
        Decimal(repr(round(value))))))
    axis.set_major_locator(MaxNLocator(nbins=5, min_n_ticks=3))


def _wrap(label: str, width: int = 28, lines: int = 2) -> str:
    return "\n".join(textwrap.wrap(label, width, max_lines=lines, placeholder="…")) or label


def _value(amount: Decimal) -> float:
    """A bar's length in euros (a plot coordinate, never printed as such)."""
    return float(amount)


def _pick(bars: Any, targets: list[Target | None], chart: Chart) -> None:
    for bar, target in zip(bars, targets, strict=True):
        if target is not None:
            bar.set_picker(True)
            chart.targets[bar] = target


def _legend(axes: Any, **_options: Any) -> None:
    """Above the plot, at the right of the scope line: never over a bar."""
    axes.figure.legend(loc="outside upper right", ncols=3, frameon=False, fontsize=8)


# --- Granted and paid ----------------------------------------------------------------

def _year_target(key: Any) -> Target | None:
    if key is None:
        return None
    return Target("funding_lines", {"year": key, "status": "accorde"},
                  f"Financements accordés de l'exercice {key}")


def year_chart(amounts: Sequence[Any], *, scope: str = "", selected: int | None = None,
               figure: Figure | None = None) -> Chart:
    """Accordé and versé per budget year: *amounts* with key (the year), label,
    granted, paid; the *selected* year (the dashboard's filter) stands out."""
    figure, axes = _start(figure, "Accordé et versé par exercice", scope)
    chart = Chart("exercices", "Accordé et versé par exercice", figure)
    if not amounts:
        _empty(axes, "Aucun montant accordé")
        return chart
    positions = list(range(len(amounts)))
    width = 0.4
    granted = axes.bar([p - width / 2 for p in positions],
                       [_value(a.granted) for a in amounts], width, label="Accordé",
                       color=DARK, edgecolor=EDGE)
    paid = axes.bar([p + width / 2 for p in positions], [_value(a.paid) for a in amounts],
                    width, label="Versé", color=LIGHT, edgecolor=EDGE, hatch="///")
    targets = [_year_target(a.key) for a in amounts]
    _pick(granted, targets, chart)
    _pick(paid, targets, chart)
    axes.set_xticks(positions, [a.label for a in amounts],
                    rotation=45 if len(amounts) > 8 else 0)
    for position, a in zip(positions, amounts, strict=True):
        if selected is not None and a.key == selected:
            axes.axvspan(position - 0.5, position + 0.5, color="#e6e6e6", zorder=0)
            axes.get_xticklabels()[position].set_fontweight("bold")
    # Room for four years at least: one year alone is not a wall of colour.
    pad = (max(len(amounts), 4) - len(amounts)) / 2 + 0.6
    axes.set_xlim(-pad, len(amounts) - 1 + pad)
    _money_axis(axes.yaxis)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    _legend(axes, loc="upper left")
    return chart


def _horizontal(axes: Any, amounts: Sequence[Any], chart: Chart,
                targets: list[Target | None], *, first: str = "Accordé",
                second: str = "Versé") -> None:
    """Two bars per row (granted, paid), the largest at the top, amounts at their end."""
    rows = list(range(len(amounts)))[::-1]
    height = 0.38
    granted = axes.barh([r + height / 2 for r in rows], [_value(a.granted) for a in amounts],
                        height, label=first, color=DARK, edgecolor=EDGE)
    paid = axes.barh([r - height / 2 for r in rows], [_value(a.paid) for a in amounts],
                     height, label=second, color=LIGHT, edgecolor=EDGE, hatch="///")
    _pick(granted, targets, chart)
    _pick(paid, targets, chart)
    axes.set_yticks(rows, [_wrap(a.label) for a in amounts], fontsize=8)
    _money_axis(axes.xaxis)
    # An « autres » bar far longer than the others would squash them: the scale is
    # that of the named bars, and the longer one is cut at the edge with its amount.
    named = [a for a in amounts if a.key is not None] or list(amounts)
    widest = max(_value(max(a.granted, a.paid)) for a in named) * 1.2 or 1.0
    axes.set_xlim(0, widest)
    for bar, a in zip(granted, amounts, strict=True):
        cut = _value(a.granted) > widest
        axes.text(widest if cut else bar.get_width(), bar.get_y() + bar.get_height() / 2,
                  f" {compact_euros(a.granted)} " + ("▸" if cut else ""),
                  ha="right" if cut else "left", va="center", fontsize=7.5,
                  color="white" if cut else "black", clip_on=False)
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    _legend(axes, loc="lower right")


def _year_words(year: int | None) -> str:
    return f" de l'exercice {year}" if year is not None else ""


def scheme_chart(amounts: Sequence[Any], *, year: int | None = None, scope: str = "",
                 figure: Figure | None = None) -> Chart:
    """Accordé and versé per dispositif: key (scheme code), label (its short label)."""
    figure, axes = _start(figure, "Accordé et versé par dispositif", scope)
    chart = Chart("dispositifs", "Accordé et versé par dispositif", figure)
    if not amounts:
        _empty(axes, "Aucun montant accordé")
        return chart
    targets = []
    for a in amounts:
        filters = {"scheme": a.key, "status": "accorde"}
        if year is not None:
            filters["year"] = year
        targets.append(Target("funding_lines", filters,
                              f"Financements {a.label}{_year_words(year)}")
                       if a.key is not None else None)
    _horizontal(axes, amounts, chart, targets)
    return chart


def epci_chart(amounts: Sequence[Any], *, year: int | None = None, scope: str = "",
               figure: Figure | None = None) -> Chart:
    """Accordé and versé per EPCI (the largest, then « autres »): key (SIREN), label."""
    figure, axes = _start(figure, "Accordé et versé par EPCI", scope)
    chart = Chart("epci", "Accordé et versé par EPCI", figure)
    if not amounts:
        _empty(axes, "Aucun montant accordé dans un EPCI")
        return chart
    targets = []
    for a in amounts:
        filters: dict[str, Any] = {"epci": a.key}
        if year is not None:
            filters["year"] = year
        targets.append(Target("operations", filters, f"Opérations : {a.label}"
                              f"{_year_words(year)}") if a.key is not None else None)
    _horizontal(axes, amounts, chart, targets)
    return chart


# --- Envelopes (db.programming.envelopes.EnvelopeFigures) ----------------------------

def envelope_chart(envelopes: Sequence[Any] | None, *, scope: str = "",
                   figure: Figure | None = None) -> Chart:
    """Programmé and reste à attribuer per envelope: objects with scheme_code,
    scheme_label, year, perimeter_label, amount, programmed, remaining."""
    figure, axes = _start(figure, "Consommation des enveloppes", scope)
    chart = Chart("enveloppes", "Consommation des enveloppes", figure)
    if not envelopes:
        _empty(axes, "Aucune enveloppe enregistrée")
        return chart
    envelopes = list(envelopes)
    rows = list(range(len(envelopes)))[::-1]
    programmed = [min(e.programmed, e.amount) for e in envelopes]
    beyond = [max(e.programmed - e.amount, Decimal("0")) for e in envelopes]
    remaining = [max(e.remaining, Decimal("0")) for e in envelopes]
    done = axes.barh(rows, [_value(p) for p in programmed], 0.55, label="Programmé",
                     color=DARK, edgecolor=EDGE)
    rest = axes.barh(rows, [_value(r) for r in remaining], 0.55,
                     left=[_value(p) for p in programmed], label="Reste à attribuer",
                     color="white", edgecolor=EDGE, hatch="\\\\\\")
    targets = [Target("funding_lines", {"scheme": e.scheme_code, "year": e.year},
                      f"Financements {e.scheme_label} de l'exercice {e.year}")
               for e in envelopes]
    _pick(done, targets, chart)
    _pick(rest, targets, chart)
    if any(beyond):
        over = axes.barh(rows, [_value(b) for b in beyond], 0.55,
                         left=[_value(e.amount) for e in envelopes],
                         label="Au-delà de l'enveloppe", color=LATE, edgecolor=EDGE,
                         hatch="xxx")
        _pick(over, targets, chart)
    for row, envelope in zip(rows, envelopes, strict=True):
        share = envelope.programmed / envelope.amount if envelope.amount else None
        text = f"{compact_euros(envelope.programmed)} sur {compact_euros(envelope.amount)}"
        if share is not None:
            text += f" ({percent(share)})"
        axes.text(_value(max(envelope.amount, envelope.programmed)), row, "  " + text,
                  va="center", fontsize=7.5)
    labels = [_wrap(f"{e.scheme_label} {e.year} — {e.perimeter_label}", 30)
              for e in envelopes]
    axes.set_yticks(rows, labels, fontsize=8)
    _money_axis(axes.xaxis)
    widest = max(_value(max(e.amount, e.programmed)) for e in envelopes)
    axes.set_xlim(0, widest * 1.45 or 1)
    axes.grid(axis="x", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    _legend(axes, loc="lower right")
    return chart


# --- Deadlines (db.deadlines.Deadline) -------------------------------------------------

def _month_label(day: date) -> str:
    from babel.dates import format_date

    return format_date(day, "MMM y", locale="fr_FR")


def _months_ahead(today: date, count: int) -> list[date]:
    months = []
    year, month = today.year, today.month
    for _ in range(count):
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _horizon_target(today: date, month: date) -> Target:
    """A month's bar opens the Échéances page on the shortest of its horizons (30, 60,
    90 days) that reaches the month's end, else on every deadline."""
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    days = (following - today).days - 1
    within = next((h for h in (30, 60, 90) if days <= h), None)
    return Target("deadlines", {"within_days": within, "overdue": False},
                  f"échéances à {within} jours" if within else "toutes les échéances")


def deadline_chart(deadlines: Sequence[Any] | None, *, today: date, months: int = 12,
                   scope: str = "", figure: Figure | None = None) -> Chart:
    """Count of deadlines per month over the next *months* months, the overdue ones
    first in red: objects with due (date) and overdue (bool)."""
    figure, axes = _start(figure, "Échéances à venir", scope)
    chart = Chart("echeances", "Échéances à venir", figure)
    if not deadlines:
        _empty(axes, "Aucune échéance")
        return chart
    starts = _months_ahead(today, months)
    late = sum(1 for d in deadlines if d.overdue)
    per_month = Counter(date(d.due.year, d.due.month, 1) for d in deadlines
                        if not d.overdue and starts[0] <= d.due)
    counts = [per_month.get(start, 0) for start in starts]
    later = sum(n for start, n in per_month.items() if start not in set(starts))
    labels = ["En retard", *(_month_label(s) for s in starts)]
    values = [late, *counts]
    colours = [LATE, *([AHEAD] * len(starts))]
    hatches = ["xxx", *([""] * len(starts))]
    bars = axes.bar(range(len(values)), values, 0.7, color=colours, edgecolor=EDGE)
    for bar, hatch in zip(bars, hatches, strict=True):
        bar.set_hatch(hatch)
    _pick(bars, [Target("deadlines", {"within_days": 0, "overdue": True},
                        "échéances en retard"),
                 *(_horizon_target(today, start) for start in starts)], chart)
    axes.bar_label(bars, [number(v) if v else "" for v in values], padding=2, fontsize=7.5)
    axes.set_xticks(range(len(values)), labels, rotation=45, ha="right", fontsize=7.5)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True, nbins=5))
    axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _pos: number(int(value))))
    axes.set_ylabel("Nombre d'échéances", fontsize=8)
    axes.set_ylim(0, max(values) * 1.2 or 1)
    axes.grid(axis="y", color="#dddddd", linewidth=0.6)
    axes.set_axisbelow(True)
    if later:
        axes.text(1, -0.32, f"et {number(later)} au-delà", transform=axes.transAxes,
                  ha="right", fontsize=7.5, color="#444444")
    return chart


# --- Export --------------------------------------------------------------------------

def export(draw: Callable[[Figure], Chart], path: Path) -> Path:
    """Draw the chart afresh at the export size and save it: PNG (1 200 × 675 pixels) or
    PDF (vector, through matplotlib's pdf backend), by *path*'s suffix."""
    path = Path(path)
    kind = path.suffix.lower().lstrip(".")
    if kind not in ("png", "pdf"):
        path, kind = path.with_suffix(".png"), "png"
    figure = new_figure(EXPORT_SIZE, EXPORT_DPI)
    chart = draw(figure)
    metadata = {"Title": chart.title, "Creator": "Suivi des contrats territoriaux"} \
        if kind == "pdf" else {"Software": "Suivi des contrats territoriaux"}
    figure.savefig(path, format=kind, dpi=EXPORT_DPI, metadata=metadata)
    return path


def export_all(draws: Sequence[Callable[[Figure], Chart]], path: Path) -> Path:
    """Every chart in one PDF, one page each (the toolbar's « Exporter » on the page)."""
    from matplotlib.backends.backend_pdf import PdfPages

    path = Path(path).with_suffix(".pdf")
    with PdfPages(path, metadata={"Title": "Tableau de bord",
                                  "Creator": "Suivi des contrats territoriaux"}) as pdf:
        for draw in draws:
            figure = new_figure(EXPORT_SIZE, EXPORT_DPI)
            draw(figure)
            pdf.savefig(figure)
    return path


def describe_amounts(amounts: Any) -> str:
    """A bar's tooltip: « DETR : accordé 1 234 567,00 €, versé 234 567,00 € »."""
    return f"{amounts.label} : accordé {euros(amounts.granted)}, versé {euros(amounts.paid)}"
