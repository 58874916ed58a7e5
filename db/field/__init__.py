"""Field copies: a laptop takes part of the office base on a field visit, with no
network, and brings it back; a three-way, per-field merge (the Zotero model) puts back
every change, and a person settles what both sides changed differently.

- :mod:`db.field.checkout` writes the copy (scope, base state, the office's record);
- :mod:`db.field.merge` decides, record by record and field by field (pure);
- :mod:`db.field.checkin` checks the copy and applies the merge in one transaction;
- :mod:`db.field.conflicts` lists and settles what the merge left to a person;
- :mod:`db.field.status` says what a base is (a copy? records out on the terrain?).
"""

from db.field.checkin import CheckinReport, CopyRefused, checkin
from db.field.checkout import CheckoutResult, Scope, checkout
from db.field.conflicts import ConflictView, Resolution, conflicts, open_count, resolve

__all__ = ["CheckinReport", "CheckoutResult", "ConflictView", "CopyRefused", "Resolution",
           "Scope", "checkin", "checkout", "conflicts", "open_count", "resolve"]
