"""The mark a printed page carries in its QR code, and reading it back from a scan.

A page says which document it belongs to (kind and fingerprint), which record it is
about (entity and id) and which page it is::

    SCT|2|<kind>|<fingerprint>|<entity>|<id, 32 hex digits>|<page>|<count>

The first pages of documents printed before per-page marks carry ``SCT|<kind>|
<fingerprint>``; :func:`read` accepts both (page and record then unknown). Kept short so
that the code stays small on the page and readable on a poor scan; no Qt, no reportlab.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

PREFIX = "SCT"
VERSION = "2"


@dataclass(frozen=True)
class PageMark:
    kind: str
    fingerprint: str
    entity: str | None = None
    record_id: uuid.UUID | None = None
    page: int | None = None
    count: int | None = None


def write(mark: PageMark) -> str:
    record = mark.record_id.hex if mark.record_id else ""
    return "|".join([PREFIX, VERSION, mark.kind, mark.fingerprint, mark.entity or "", record,
                     str(mark.page or ""), str(mark.count or "")])


def read(text: str) -> PageMark | None:
    """The mark of a page, or None when the text is not one of ours."""
    parts = text.strip().split("|")
    if not parts or parts[0] != PREFIX:
        return None
    if len(parts) == 3:  # the first page of a document printed before version 2
        return PageMark(kind=parts[1], fingerprint=parts[2]) if parts[2] else None
    if len(parts) != 8 or parts[1] != VERSION or not parts[3]:
        return None
    try:
        record_id = uuid.UUID(hex=parts[5]) if parts[5] else None
        page = int(parts[6]) if parts[6] else None
        count = int(parts[7]) if parts[7] else None
    except ValueError:
        return None
    return PageMark(parts[2], parts[3], parts[4] or None, record_id, page, count)
