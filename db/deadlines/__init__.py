"""The échéancier (issue 12): deadlines computed from the data, their exports (.ics,
spreadsheet, PDF data) and the « deadlines » command. No Qt here."""

from db.deadlines.compute import (
    KIND_LABELS,
    KINDS,
    Deadline,
    Notice,
    deadline_list,
    deadlines,
    opening_notice,
)

__all__ = ["KINDS", "KIND_LABELS", "Deadline", "Notice", "deadline_list", "deadlines",
           "opening_notice"]
