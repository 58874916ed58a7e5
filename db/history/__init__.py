"""Who changed what, when and where from: the history of a record and the journal of
the office, read from the audit trail (db.audit). No Qt here."""

from db.history.trail import (
    HistoryRow,
    JournalPage,
    agents,
    journal,
    record_exists,
    record_history,
)
from db.history.values import ORIGIN_LABELS

__all__ = ["ORIGIN_LABELS", "HistoryRow", "JournalPage", "agents", "journal",
           "record_exists", "record_history"]
