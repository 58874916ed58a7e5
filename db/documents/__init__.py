"""What the printed documents say, read from the database as plain data.

The PDF layer (``printouts``) receives these dataclasses and never queries the
database. Each document carries its provenance: the records it was made from with
their versions, and a fingerprint of its content, so that ``main.py verify`` can
later tell whether a printed document still matches the database.
"""

from db.documents.annex import AnnexData, annex
from db.documents.common import Office, Provenance, RecordVersion, Total, fingerprint, office
from db.documents.plan import PlanData, plan
from db.documents.statement import ListData, describe, operations_list
from db.documents.summary import SummaryData, summary
from db.documents.verification import Verdict, check_document, current_versions, rebuild

__all__ = [
    "AnnexData", "ListData", "Office", "PlanData", "Provenance", "RecordVersion",
    "SummaryData", "Total", "Verdict", "annex", "check_document", "current_versions",
    "describe", "fingerprint", "office", "operations_list", "plan", "rebuild", "summary",
]
