"""What other agents changed in the base, as it happens (no Qt).

One feed per open base: :class:`ChangeFeed` watches the base cheaply (``PRAGMA
data_version`` on SQLite, ``LISTEN`` on PostgreSQL) and, when something was
committed, reads the audit trail for what changed. The audit entries are written in
the same transaction as the change (db.audit), so a rolled-back write shows nothing
and a committed one cannot be missed. The GUI (desktop.live_refresh) is its one
consumer: the lists, the editors and the field-copy banner all go through it.
"""

from db.changes.feed import ChangeFeed
from db.changes.model import Change, ChangeSet, RecordStamp, Token
from db.changes.reading import changes_since, last_change, record_stamp

__all__ = ["Change", "ChangeFeed", "ChangeSet", "RecordStamp", "Token", "changes_since",
           "last_change", "record_stamp"]
