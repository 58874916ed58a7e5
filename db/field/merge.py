"""The three-way merge of a field copy: pure, no database.

*base* is what each record was when the copy was taken, *terrain* what the copy holds
now, *bureau* what the office holds now. Per record and per field (the Zotero model):
a field changed on one side only is taken from that side; changed to the same value on
both, nothing to do; changed differently on both, a conflict for a person. A record
deleted on one side and edited on the other (itself or anything under it) is a
conflict too. Records created on the terrain are added, and those that look like an
office record are flagged as probable duplicates. Nothing is settled by "last writer
wins": a conflict leaves the office's value in place until someone decides.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Protocol

from db.field.schema import BY_NAME, ENTITIES, UNIQUE_REFERENCES, Entity, Records, parent_of

Key = tuple[str, str]  # (entity, record id)
# Entities that other records point to: a value naming one must exist after the merge.
REFERENCED = {"organisation": "organisation", "contract_type": "contract_type",
              "contract": "contract", "axis": "axis", "operation": "operation",
              "funding_line": "funding_line"}


@dataclass
class Conflict:
    kind: str  # champ, suppression, doublon
    entity: str
    record_id: str
    reference: str | None
    field: str | None
    base: Any
    terrain: Any
    bureau: Any
    # For a record deleted at the office and edited on the terrain: the terrain's
    # records under it (itself first), so that "keep the terrain" can bring them back.
    subtree: list[tuple[str, str, dict[str, Any]]] = field(default_factory=list)


class OfficeIndex(Protocol):
    """What the merge asks of the whole office base, beyond the copied records (the
    office holds records outside the copy's scope)."""

    def exists(self, entity: str, record_id: str) -> bool: ...

    def referrers(self, entity: str, record_id: str) -> set[Key]:
        """The office records whose columns point to this one."""

    def holder(self, entity: str, reference: Any) -> str | None:
        """The record holding a unique reference (operation, contract, contract type)."""

    def lookalike(self, values: dict[str, Any]) -> str | None:
        """An operation with the same title, owner and communes."""

    def named(self, name: str) -> str | None:
        """An organisation of the same name (db.naming.name_key)."""


@dataclass
class MergePlan:
    inserts: list[tuple[Entity, str, dict[str, Any]]] = field(default_factory=list)
    updates: list[tuple[Entity, str, dict[str, Any]]] = field(default_factory=list)
    deletes: list[tuple[Entity, str]] = field(default_factory=list)  # top-most only
    conflicts: list[Conflict] = field(default_factory=list)
    created: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    updated: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    deleted: dict[str, int] = field(default_factory=lambda: defaultdict(int))

    @property
    def duplicates(self) -> list[Conflict]:
        return [c for c in self.conflicts if c.kind == "doublon"]

    @property
    def true_conflicts(self) -> list[Conflict]:
        return [c for c in self.conflicts if c.kind != "doublon"]


def _reference(entity: Entity, *sides: dict[str, Any] | None) -> str | None:
    if entity.reference is None:
        return None
    for values in sides:
        if values and values.get(entity.reference):
            return str(values[entity.reference])
    return None


class _Tree:
    """Parents and children of every record, on any side."""

    def __init__(self, *sides: Records) -> None:
        self.children: dict[Key, set[Key]] = defaultdict(set)
        self.parent: dict[Key, Key] = {}
        for records in sides:
            for entity in ENTITIES:
                for record_id, values in records.get(entity.name, {}).items():
                    parent = parent_of(entity, values)
                    if parent is not None:
                        key = (entity.name, record_id)
                        self.parent[key] = parent
                        self.children[parent].add(key)

    def ancestors(self, key: Key) -> list[Key]:
        found = []
        while key in self.parent:
            key = self.parent[key]
            found.append(key)
        return found

    def descendants(self, key: Key) -> list[Key]:
        found, todo = [], list(self.children.get(key, ()))
        while todo:
            child = todo.pop()
            found.append(child)
            todo.extend(self.children.get(child, ()))
        return found


def _same(entity: Entity, left: dict[str, Any] | None, right: dict[str, Any] | None) -> bool:
    if left is None or right is None:
        return left is right
    return all(left.get(name) == right.get(name) for name in entity.fields()
               if name in left and name in right)


class _Merger:
    def __init__(self, base: Records, terrain: Records, bureau: Records,
                 office: OfficeIndex) -> None:
        self.base, self.terrain, self.bureau, self.office = base, terrain, bureau, office
        self.tree = _Tree(base, terrain, bureau)
        self.plan = MergePlan()
        self.covered: set[Key] = set()  # under a deletion or a conflict of an ancestor
        self.removed: set[Key] = set()  # deleted by this merge (with what is under them)
        self.added: set[Key] = set()
        self.taken: dict[tuple[str, Any], str] = {}  # references given by this merge
        self.deleted_on_terrain = {(entity.name, record_id) for entity in ENTITIES
                                   for record_id in base.get(entity.name, {})
                                   if record_id not in terrain.get(entity.name, {})}
        self._dirty: dict[tuple[str, Key], bool] = {}

    def side(self, name: str) -> Records:
        return self.terrain if name == "terrain" else self.bureau

    def values(self, records: Records, key: Key) -> dict[str, Any] | None:
        return records.get(key[0], {}).get(key[1])

    def dirty(self, side: str, key: Key) -> bool:
        """Whether *side* changed the record or anything under it since the base."""
        memo = self._dirty.get((side, key))
        if memo is None:
            entity = BY_NAME[key[0]]
            memo = not _same(entity, self.values(self.base, key),
                             self.values(self.side(side), key)) or any(
                self.dirty(side, child) for child in self.tree.children.get(key, ()))
            self._dirty[(side, key)] = memo
        return memo

    def subtree(self, records: Records, key: Key) -> list[tuple[str, str, dict[str, Any]]]:
        keys = [key, *self.tree.descendants(key)]
        order = {entity.name: index for index, entity in enumerate(ENTITIES)}
        keys.sort(key=lambda k: order[k[0]])
        return [(k[0], k[1], values) for k in keys
                if (values := self.values(records, k)) is not None]

    def exists_after(self, entity_name: str, record_id: str) -> bool:
        key = (entity_name, record_id)
        if key in self.removed or any(a in self.removed for a in self.tree.ancestors(key)):
            return False
        return key in self.added or self.office.exists(entity_name, record_id)

    def run(self) -> MergePlan:
        for entity in ENTITIES:
            keys = (set(self.base.get(entity.name, {})) | set(self.terrain.get(entity.name, {})))
            for record_id in sorted(keys):
                key = (entity.name, record_id)
                if key in self.covered or any(a in self.covered
                                              for a in self.tree.ancestors(key)):
                    self.covered.add(key)
                    continue
                self.record(entity, key)
        self.check_references()
        return self.plan

    def record(self, entity: Entity, key: Key) -> None:
        base = self.values(self.base, key)
        terrain = self.values(self.terrain, key)
        bureau = self.values(self.bureau, key)
        if base is None:
            if terrain is not None:
                self.create(entity, key, terrain)
            return
        if terrain is None and bureau is None:
            self.covered.add(key)
            return
        if terrain is None:  # deleted on the terrain
            if self.dirty("bureau", key) or self.used_elsewhere(key):
                self.conflict("suppression", entity, key, None, base, None, bureau)
            else:
                self.plan.deletes.append((entity, key[1]))
                self.removed.add(key)
                for removed in [key, *self.tree.descendants(key)]:
                    if self.values(self.bureau, removed) is not None:
                        self.plan.deleted[removed[0]] += 1
            self.covered.add(key)
            return
        if bureau is None:  # deleted at the office
            if self.dirty("terrain", key):
                self.conflict("suppression", entity, key, None, base, terrain, None,
                              subtree=self.subtree(self.terrain, key))
            self.covered.add(key)
            return
        if terrain is base or terrain == base:
            return  # the terrain changed nothing here: whatever the office did stays
        self.fields(entity, key, base, terrain, bureau)

    def used_elsewhere(self, key: Key) -> bool:
        """An office record that the terrain did not delete still points to this one (an
        organisation owning an operation, a contract an operation is linked to)."""
        if key[0] not in REFERENCED:
            return False
        gone = {key, *self.tree.descendants(key)}
        for referrer in self.office.referrers(*key):
            if referrer in gone or referrer in self.deleted_on_terrain or any(
                    a in self.deleted_on_terrain for a in self.tree.ancestors(referrer)):
                continue
            return True
        return False

    def holder(self, entity: Entity, reference: Any) -> str | None:
        taken = self.taken.get((entity.name, reference))
        return taken if taken is not None else self.office.holder(entity.name, reference)

    def fields(self, entity: Entity, key: Key, base: dict[str, Any], terrain: dict[str, Any],
               bureau: dict[str, Any]) -> None:
        changes: dict[str, Any] = {}
        for column in entity.columns:
            name = column.name
            if name not in base:  # a column added since the copy was taken
                continue
            b, t, o = base.get(name), terrain.get(name), bureau.get(name)
            if t == b or t == o:
                continue
            if o == b:
                changes[name] = t
            else:
                self.conflict("champ", entity, key, name, b, t, o)
        for set_field in entity.sets:
            b, t, o = (set(v.get(set_field.name) or []) for v in (base, terrain, bureau))
            merged = (o - (b - t)) | (t - b)
            if merged != o:
                changes[set_field.name] = sorted(merged)
        unique = UNIQUE_REFERENCES.get(entity.name)
        if unique in changes:
            holder = self.holder(entity, changes[unique])
            if holder is not None and holder != key[1]:
                self.conflict("champ", entity, key, unique, base.get(unique),
                              changes.pop(unique), bureau.get(unique))
        if changes:
            self.plan.updates.append((entity, key[1], changes))
            self.plan.updated[entity.name] += 1

    def create(self, entity: Entity, key: Key, terrain: dict[str, Any]) -> None:
        parent = parent_of(entity, terrain)
        if parent is not None and not self.exists_after(*parent):
            return  # under a record deleted at the office: that conflict carries it
        values = dict(terrain)
        unique = UNIQUE_REFERENCES.get(entity.name)
        other = self.holder(entity, values[unique]) if unique else None
        if unique and other is not None:
            values[unique] = self.free_reference(entity, values[unique])
            self.duplicate(entity, key, values, other,
                           f"même référence « {terrain[unique]} »")
        elif entity.name == "operation":
            other = self.office.lookalike(values)
            if other is not None:
                self.duplicate(entity, key, values, other,
                               "même intitulé, même maître d'ouvrage, mêmes communes")
        elif entity.name == "organisation":
            other = self.office.named(values.get("name") or "")
            if other is not None:
                self.duplicate(entity, key, values, other, "même nom")
        if unique:
            self.taken[(entity.name, values[unique])] = key[1]
        self.plan.inserts.append((entity, key[1], values))
        self.plan.created[entity.name] += 1
        self.added.add(key)

    def free_reference(self, entity: Entity, reference: str) -> str:
        size = entity.column(UNIQUE_REFERENCES[entity.name]).type.length or 80
        for number in range(1, 1000):
            suffix = " (terrain)" if number == 1 else f" (terrain {number})"
            candidate = reference[:size - len(suffix)] + suffix
            if self.holder(entity, candidate) is None:
                return candidate
        raise ValueError(reference)

    def duplicate(self, entity: Entity, key: Key, values: dict[str, Any], other: str,
                  why: str) -> None:
        self.plan.conflicts.append(Conflict(
            "doublon", entity.name, key[1], _reference(entity, values), None,
            None, {"id": key[1], "reference": _reference(entity, values), "why": why},
            {"id": other}))

    def conflict(self, kind: str, entity: Entity, key: Key, name: str | None, base: Any,
                 terrain: Any, bureau: Any, subtree: list | None = None) -> None:
        whole = name is None
        reference = _reference(entity, *( (terrain, bureau, base) if whole else
                                          (self.values(self.bureau, key),
                                           self.values(self.terrain, key),
                                           self.values(self.base, key))))
        self.plan.conflicts.append(Conflict(kind, entity.name, key[1], reference, name,
                                            base, terrain, bureau, subtree or []))

    def check_references(self) -> None:
        """A value that names a record the office no longer has (an owner deleted at the
        office meanwhile) cannot be written: it becomes a conflict, or the new record
        waits in one."""
        kept_inserts = []
        for entity, record_id, values in self.plan.inserts:
            missing = self.missing_reference(entity, values)
            if missing is None:
                kept_inserts.append((entity, record_id, values))
                continue
            self.plan.created[entity.name] -= 1
            key = (entity.name, record_id)
            self.plan.conflicts.append(Conflict(
                "suppression", entity.name, record_id, _reference(entity, values), missing,
                None, values, None, self.subtree(self.terrain, key)))
        self.plan.inserts = kept_inserts
        kept_updates = []
        for entity, record_id, changes in self.plan.updates:
            for name in list(changes):
                column = entity.table.c.get(name)
                if column is not None and self.names_missing(column, changes[name]):
                    key = (entity.name, record_id)
                    base = self.values(self.base, key) or {}
                    bureau = self.values(self.bureau, key) or {}
                    self.conflict("champ", entity, key, name, base.get(name),
                                  changes.pop(name), bureau.get(name))
            if changes:
                kept_updates.append((entity, record_id, changes))
            else:
                self.plan.updated[entity.name] -= 1
        self.plan.updates = kept_updates

    def missing_reference(self, entity: Entity, values: dict[str, Any]) -> str | None:
        for column in entity.columns:
            if self.names_missing(column, values.get(column.name)):
                return column.name
        return None

    def names_missing(self, column, value: Any) -> bool:
        if value is None:
            return False
        for foreign in column.foreign_keys:
            target = REFERENCED.get(foreign.column.table.name)
            if target is not None and not self.exists_after(target, str(value)):
                return True
        return False


def merge(base: Records, terrain: Records, bureau: Records, office: OfficeIndex) -> MergePlan:
    return _Merger(base, terrain, bureau, office).run()
