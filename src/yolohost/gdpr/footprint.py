"""What belongs to an account or a workspace, found by walking the schema's foreign keys.

Every table of ``Base.metadata`` takes part, including tables added later, without a list here:

- a row that references a row that goes, through a foreign key, goes too (transitively);
- a row that only points at it through a foreign key declared ``ON DELETE SET NULL`` (an event
  the user caused in someone else's workspace, an invite they sent) stays; the link is cleared;
- id-valued columns without a foreign key (named ``*_id`` or ``*_from``, e.g. ``cloned_from``)
  are soft references: when they name a row that goes they are cleared, or their row goes when the
  column cannot be empty;
- an activity event that stays is removed when it is about a row that goes (its ``resource_id``)
  or names a root in its data: a feed keeps no event about someone who asked to be forgotten.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import Column, ForeignKey, String, Table, select, tuple_, update
from sqlalchemy.orm import Session

import yolohost.db.tables  # noqa: F401  (every table, so the metadata is complete)
from yolohost.db.base import Base
from yolohost.db.tables import ActivityEvent

CHUNK = 400
SOFT_SUFFIXES = ("_id", "_from")

Pk = tuple


@dataclass
class Footprint:
    """``owned``: rows that go, by table; ``links``: rows that stay but point at them, by nullable column."""

    owned: dict[Table, set[Pk]] = field(default_factory=lambda: defaultdict(set))
    links: dict[tuple[Table, Column], set[Pk]] = field(default_factory=lambda: defaultdict(set))

    def ids(self) -> set[str]:
        """The string primary keys of the rows that go (the ids other columns and storage folders use)."""
        return {pk[0] for table, pks in self.owned.items() if len(table.primary_key.columns) == 1
                for pk in pks if isinstance(pk[0], str)}

    def counts(self) -> dict[str, int]:
        return {table.name: len(self.owned[table]) for table in tables() if self.owned.get(table)}

    def kept_links(self) -> dict[tuple[Table, Column], set[Pk]]:
        """Links of rows that stay (a row that goes needs no clearing)."""
        return {key: pks - self.owned.get(key[0], set()) for key, pks in self.links.items()
                if pks - self.owned.get(key[0], set())}


def tables() -> list[Table]:
    """Parents before children."""
    return list(Base.metadata.sorted_tables)


def table_of(name: str) -> Table:
    return Base.metadata.tables[name]


def _pk(table: Table) -> list[Column]:
    return list(table.primary_key.columns)


def _chunks(items: Iterable, size: int = CHUNK) -> Iterator[list]:
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def pk_in(table: Table, pks: list[Pk]):
    pk = _pk(table)
    return pk[0].in_([p[0] for p in pks]) if len(pk) == 1 else tuple_(*pk).in_(pks)


def _referrers(table: Table) -> list[tuple[Table, ForeignKey]]:
    return [(child, fk) for child in tables() for fk in child.foreign_keys if fk.column.table is table]


def _values(session: Session, table: Table, column: Column, pks: set[Pk]) -> set:
    """The values of ``column`` in the rows ``pks`` (the referenced side of a foreign key)."""
    pk = _pk(table)
    if len(pk) == 1 and column is pk[0]:
        return {p[0] for p in pks}
    found = set()
    for batch in _chunks(pks):
        found |= set(session.scalars(select(column).where(pk_in(table, batch))))
    found.discard(None)
    return found


def _rows_where(session: Session, table: Table, column: Column, values: set) -> set[Pk]:
    found = set()
    for batch in _chunks(values):
        found |= {tuple(row) for row in session.execute(select(*_pk(table)).where(column.in_(batch)))}
    return found


def walk(session: Session, roots: dict[Table, set[Pk]], footprint: Footprint | None = None) -> Footprint:
    """Add ``roots`` and every row that hangs off them through foreign keys."""
    fp = footprint or Footprint()
    todo: deque[tuple[Table, set[Pk]]] = deque()
    for table, pks in roots.items():
        new = set(pks) - fp.owned[table]
        if new:
            fp.owned[table] |= new
            todo.append((table, new))
    while todo:
        table, pks = todo.popleft()
        for child, fk in _referrers(table):
            values = _values(session, table, fk.column, pks)
            if not values:
                continue
            rows = _rows_where(session, child, fk.parent, values)
            if (fk.ondelete or "").upper() == "SET NULL":
                fp.links[(child, fk.parent)] |= rows
                continue
            new = rows - fp.owned[child]
            if new:
                fp.owned[child] |= new
                todo.append((child, new))
    return fp


def _soft_columns(table: Table) -> list[Column]:
    return [c for c in table.columns if isinstance(c.type, String) and not c.primary_key and not c.foreign_keys
            and c.name.endswith(SOFT_SUFFIXES)]


def _soft_pass(session: Session, fp: Footprint, ids: set[str]) -> dict[Table, set[Pk]]:
    """Rows that stay but name a row that goes without a foreign key: linked, or returned to go too."""
    extra: dict[Table, set[Pk]] = defaultdict(set)
    for table in tables():
        if table is ActivityEvent.__table__:
            continue
        for column in _soft_columns(table):
            pk = _pk(table)
            for row in session.execute(select(*pk, column).where(column.is_not(None))):
                key, value = tuple(row[:-1]), row[-1]
                if value in ids and key not in fp.owned[table]:
                    if column.nullable:
                        fp.links[(table, column)].add(key)
                    else:
                        extra[table].add(key)
    return extra


def _events_about(session: Session, fp: Footprint, ids: set[str], subjects: set[str]) -> set[Pk]:
    """Events that stay but are about a row that goes, or name a root (a top-level value of their data)."""
    found = set()
    owned = fp.owned[ActivityEvent.__table__]
    for event_id, resource_id, data in session.execute(select(ActivityEvent.id, ActivityEvent.resource_id,
                                                              ActivityEvent.data)):
        if (event_id,) in owned:
            continue
        values = data.values() if isinstance(data, dict) else ()
        if resource_id in ids or any(isinstance(v, str) and v in subjects for v in values):
            found.add((event_id,))
    return found


def settle(session: Session, fp: Footprint, subjects: set[str]) -> Footprint:
    """Follow soft references and activity events until nothing more goes. ``subjects``: the roots' ids."""
    while True:
        ids = fp.ids()
        extra = _soft_pass(session, fp, ids)
        events = _events_about(session, fp, ids, subjects)
        if events:
            extra[ActivityEvent.__table__] |= events
        if not any(extra.values()):
            return fp
        walk(session, extra, fp)


def rows(session: Session, table: Table, pks: set[Pk]) -> Iterator[dict]:
    """The rows ``pks`` of ``table``, as column name -> value, in primary-key order."""
    for batch in _chunks(sorted(pks)):
        query = select(table).where(pk_in(table, batch)).order_by(*_pk(table))
        for row in session.execute(query):
            yield dict(row._mapping)


def erase(session: Session, fp: Footprint) -> None:
    """Clear the links of rows that stay, then delete what goes, children before parents."""
    for (table, column), pks in fp.kept_links().items():
        for batch in _chunks(sorted(pks)):
            session.execute(update(table).where(pk_in(table, batch)).values({column.name: None}))
    for table in reversed(tables()):
        for batch in _chunks(sorted(fp.owned.get(table, ()))):
            session.execute(table.delete().where(pk_in(table, batch)))
    session.flush()
