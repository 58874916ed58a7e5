"""The échéancier out of the application: a calendar (.ics), a spreadsheet, the data of
its PDF (printouts.deadlines), and the words describing a selection."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import select

from db.database import Database
from db.deadlines.compute import KIND_LABELS, Deadline
from db.documents.common import Office, Provenance, office, scheme_labels, seal
from db.formatting import euros, short_date

ALARM_DAYS = 7  # the calendar reminds the agent this many days before
PRODID = "-//Suivi des contrats territoriaux//Échéancier//FR"
HORIZONS = {None: "toutes les échéances", 0: "en retard", 30: "30 jours", 60: "60 jours",
            90: "90 jours"}


@dataclass(frozen=True)
class Selection:
    """What the agent asked for, kept to describe every export."""

    within_days: int | None = None
    overdue_only: bool = False
    kind: str | None = None
    arrondissement: str | None = None
    contract_id: uuid.UUID | None = None
    scheme_code: str | None = None
    epci_code: str | None = None

    def filters(self) -> dict[str, Any]:
        """The keyword arguments of db.deadlines.deadlines."""
        return {"within_days": 0 if self.overdue_only else self.within_days,
                "arrondissement": self.arrondissement, "contract_id": self.contract_id,
                "scheme_code": self.scheme_code, "epci_code": self.epci_code}

    def keep(self, found: list[Deadline]) -> list[Deadline]:
        return [d for d in found if (not self.overdue_only or d.overdue)
                and (self.kind is None or d.kind == self.kind)]


def select_deadlines(db: Database, selection: Selection, today: date) -> list[Deadline]:
    from db.deadlines.compute import deadline_list

    return selection.keep(deadline_list(db, today=today, **selection.filters()))


def describe(db: Database, selection: Selection) -> str:
    """« Échéances en retard et des 60 prochains jours ; Dispositif : DETR ; … »."""
    from db.models import Arrondissement, Contract, Epci

    if selection.overdue_only:
        words = ["Échéances en retard"]
    elif selection.within_days is None:
        words = ["Toutes les échéances"]
    else:
        words = [f"Échéances en retard et des {selection.within_days} prochains jours"]
    with db.read() as session:
        if selection.kind:
            words.append(f"Nature : {KIND_LABELS[selection.kind].lower()}")
        if selection.arrondissement:
            name = session.scalar(select(Arrondissement.name)
                                  .where(Arrondissement.code == selection.arrondissement))
            words.append(f"Arrondissement : {name or selection.arrondissement}")
        if selection.contract_id:
            reference = session.scalar(select(Contract.reference)
                                       .where(Contract.id == selection.contract_id))
            words.append(f"Contrat : {reference or 'inconnu'}")
        if selection.scheme_code:
            label = scheme_labels(session).get(selection.scheme_code, selection.scheme_code)
            words.append(f"Dispositif : {label}")
        if selection.epci_code:
            name = session.scalar(select(Epci.name).where(Epci.code == selection.epci_code))
            words.append(f"EPCI : {name or selection.epci_code}")
    return " ; ".join(words)


# --- Calendar ------------------------------------------------------------------------

def summary(deadline: Deadline) -> str:
    """« Début des travaux avant caducité — DETR — OP-2025-001 »."""
    parts = [deadline.kind_label]
    if deadline.scheme_label:
        parts.append(deadline.scheme_label)
    parts.append(deadline.reference or deadline.label)
    return " — ".join(parts)


def calendar_bytes(found: list[Deadline], *, alarm_days: int = ALARM_DAYS,
                   stamp: datetime | None = None) -> bytes:
    """An iCalendar file: one all-day event per deadline, its UID stable (db.deadlines
    Deadline.uid) so that importing a later export updates the events, with a reminder
    *alarm_days* days before."""
    from icalendar import Alarm, Calendar, Event

    stamp = stamp or datetime.now(UTC).replace(microsecond=0)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "Échéancier des subventions et contrats")
    for deadline in found:
        event = Event()
        event.add("uid", deadline.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", deadline.due)
        event.add("dtend", deadline.due + timedelta(days=1))
        event.add("summary", summary(deadline))
        lines = [deadline.label, deadline.detail]
        if deadline.amount is not None:
            lines.append(f"Montant : {euros(deadline.amount)}")
        event.add("description", "\n".join(line for line in lines if line))
        event.add("categories", [deadline.kind_label])
        event.add("transp", "TRANSPARENT")  # a deadline does not make the agent busy
        if not deadline.overdue:  # a reminder of a day already past would ring at once
            alarm = Alarm()
            alarm.add("action", "DISPLAY")
            alarm.add("description", f"Dans {alarm_days} jours : {summary(deadline)}")
            alarm.add("trigger", timedelta(days=-alarm_days))
            event.add_component(alarm)
        calendar.add_component(event)
    return calendar.to_ical()


def write_calendar(found: list[Deadline], path: Path, **options: Any) -> Path:
    path.write_bytes(calendar_bytes(found, **options))
    return path


# --- Spreadsheet ---------------------------------------------------------------------

def _columns():
    from db.spreadsheets.export import ExportColumn

    return [ExportColumn("due", "Échéance", "date", 12),
            ExportColumn("delay", "Délai", "text", 22),
            ExportColumn("kind_label", "Nature", "text", 30),
            ExportColumn("reference", "Référence", "text", 24),
            ExportColumn("label", "Objet", "text", 50),
            ExportColumn("scheme_label", "Dispositif", "text", 14),
            ExportColumn("amount", "Montant", "money", 16),
            ExportColumn("detail", "À faire", "text", 80)]


def sheet_rows(found: list[Deadline], today: date) -> list[dict[str, Any]]:
    return [{"due": d.due, "delay": d.delay(today), "kind_label": d.kind_label,
             "reference": d.reference, "label": d.label, "scheme_label": d.scheme_label,
             "amount": d.amount, "detail": d.detail} for d in found]


def write_sheet(found: list[Deadline], path: Path, today: date,
                long_texts: str = "refuse") -> Path:
    """xlsx, ods or csv by the extension (db.spreadsheets.export); a text over a cell's
    limit is refused or split as *long_texts* says (REFUSE or SPLIT)."""
    from db.spreadsheets.export import export_table

    return export_table(path, _columns(), sheet_rows(found, today), sheet="Échéances",
                        long_texts=long_texts)


# --- PDF data (printouts.deadlines draws it) -----------------------------------------

@dataclass
class DeadlinesData:
    office: Office
    title: str
    criteria: str
    today: date
    rows: list[dict[str, Any]]  # due, delay, kind_label, reference, label, scheme, amount
    overdue: int
    provenance: Provenance
    totals: dict[str, Decimal] = field(default_factory=dict)  # amount by kind


def document(db: Database, found: list[Deadline], selection: Selection, today: date
             ) -> DeadlinesData:
    rows = [{"due": short_date(d.due), "delay": d.delay(today), "kind_label": d.kind_label,
             "reference": d.reference, "label": d.label.split(" — ", 1)[-1],
             "detail": d.detail, "scheme": d.scheme_label or "",
             "amount": d.amount, "overdue": d.overdue} for d in found]
    totals: dict[str, Decimal] = {}
    for d in found:
        if d.amount is not None and d.entity == "operation":
            totals[d.kind_label] = totals.get(d.kind_label, Decimal("0.00")) + d.amount
    criteria = describe(db, selection)
    data = DeadlinesData(office(db), "Échéancier", criteria, today, rows,
                         sum(1 for d in found if d.overdue),
                         Provenance("echeances", criteria, []), totals)
    return seal(data)


def pdf_bytes(db: Database, found: list[Deadline], selection: Selection, today: date
              ) -> bytes:
    from printouts.deadlines import deadlines_pdf

    return deadlines_pdf(document(db, found, selection, today))
