"""Errors shown to the user, each with a French message that says what and where.

Anything else that escapes is a bug and is reported as such.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from db.rules import Finding


class UserError(Exception):
    """An error whose message is meant for the user (in French)."""

    exit_code = 2

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DatabaseOpenError(UserError):
    """The database cannot be opened (not a database, corrupt, newer, unreachable…)."""


class NotFoundError(UserError):
    pass


class ConflictError(UserError):
    """Someone else saved the record since it was read (optimistic locking)."""

    def __init__(self, message: str, *, entity: str, entity_id: object,
                 expected_version: int | None, current_version: int | None) -> None:
        super().__init__(message)
        self.entity = entity
        self.entity_id = entity_id
        self.expected_version = expected_version
        self.current_version = current_version


class RuleViolation(UserError):
    """The rules of public money forbid this write; nothing was saved."""

    def __init__(self, findings: Sequence[Finding]) -> None:
        lines = "\n".join(f"- {f.message}" for f in findings)
        super().__init__(f"Enregistrement refusé :\n{lines}")
        self.findings = list(findings)


class DeleteRefused(UserError):
    """Deleting would orphan other records."""


class InvalidInput(UserError):
    """A value given to a service is not acceptable (field named in the message)."""
