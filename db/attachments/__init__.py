"""Pièces jointes: files attached to a contract, an operation or a funding line, stored
once per content (sha256) — beside an SQLite base in ``<base>.pieces/ab/abcdef…``,
inside the database on PostgreSQL (table ``attachment_content``).

- :mod:`db.attachments.store` where the bytes live and how they are written safely;
- :mod:`db.attachments.service` the use cases (add, list, read, open, remove);
- :mod:`db.attachments.hooks` the content left unused by a deletion (of an attachment
  or of its record) goes with it, in the same transaction.

A field copy carries the attachments of its records with their contents inside the
file (db.field.pieces), and keeps those added in the field there too.
No Qt here.
"""
