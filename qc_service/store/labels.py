"""The ingest hot path: bulk writes of items, annotators, labels and gold.

Everything here works on whole batches with a handful of statements, whatever the
batch size: no ORM object per label.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ARRAY, Text, any_, bindparam, func, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from qc_service.store.models import Annotator, Gold, IdempotentRequest, Item, Label, utcnow

#: Keys per IN (...) list; keeps every statement under SQLite's and psycopg's
#: bound-parameter limits.
_CHUNK = 5000


def _chunks(values: Sequence, size: int = _CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def member_of(column, name: str, postgres: bool):
    """``column IN :name``, for a statement built once and run with any list.

    On PostgreSQL one array parameter: the statement stays short, so psycopg does
    not re-parse thousands of placeholders on every batch."""
    if postgres:
        return column == any_(bindparam(name, type_=ARRAY(column.type)))
    return column.in_(bindparam(name, expanding=True))


def _insert_rows(
    session: Session, table, rows: list[dict], conflict: list[str], returning: Sequence = ()
):
    """Insert ``rows``, skipping those that collide on ``conflict``; the result holds
    the ``returning`` columns of the rows inserted.

    On PostgreSQL the rows travel as one array per column through ``unnest``: one
    short statement whatever the batch size, instead of a VALUES list with a
    placeholder per cell.
    """
    if _is_postgres(session):
        columns = tuple(rows[0])
        statement = _unnest_insert(
            table, columns, tuple(conflict), tuple(column.name for column in returning)
        )
        return session.execute(statement, {name: [row[name] for row in rows] for name in columns})
    statement = sqlite.insert(table).on_conflict_do_nothing(index_elements=conflict)
    if returning:
        statement = statement.returning(*returning)
    return session.execute(statement, rows)


@functools.cache
def _unnest_insert(
    table, columns: tuple[str, ...], conflict: tuple[str, ...], returning: tuple[str, ...]
):
    """The PostgreSQL statement of :func:`_insert_rows`, built once per shape: the
    single-label hot path runs it on every request."""
    dialect = postgresql.dialect()
    casts = ", ".join(
        f"CAST(:{name} AS {table.c[name].type.compile(dialect=dialect)}[])" for name in columns
    )
    return text(
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT * FROM unnest({casts}) "
        f"ON CONFLICT ({', '.join(conflict)}) DO NOTHING"
        + (f" RETURNING {', '.join(returning)}" if returning else "")
    )


def ensure_keys(
    session: Session, model: type[Item] | type[Annotator], project_id: str, keys: Iterable[str]
) -> dict[str, int]:
    """Row ids for ``keys``, creating the rows that do not exist yet."""
    wanted = sorted(set(keys))
    if _is_postgres(session):
        ids = _find_or_create_keys(session, model, project_id, wanted)
    else:
        ids = _existing_keys(session, model, project_id, wanted)
        missing = [key for key in wanted if key not in ids]
        if missing:
            now = utcnow()
            rows = [{"project_id": project_id, "key": key, "created_at": now} for key in missing]
            table = model.__table__
            inserted = _insert_rows(
                session, table, rows, ["project_id", "key"], (table.c.key, table.c.id)
            )
            ids.update(tuple(row) for row in inserted)
    # Keys a concurrent batch created meanwhile were skipped by the insert.
    raced = [key for key in wanted if key not in ids]
    if raced:
        ids.update(_existing_keys(session, model, project_id, raced))
    return ids


def _find_or_create_keys(
    session: Session, model, project_id: str, keys: Sequence[str]
) -> dict[str, int]:
    """PostgreSQL: look the keys up and insert the missing ones in one statement.

    The insert skips a key that a concurrent batch committed after this statement
    began; the statement's snapshot does not show that row either, so such a key is
    missing from the answer and the caller looks it up again.
    """
    found: dict[str, int] = {}
    statement = _find_or_create_statement(model)
    for chunk in _chunks(keys):
        rows = session.execute(
            statement, {"project_id": project_id, "keys": list(chunk), "now": utcnow()}
        )
        found.update(tuple(row) for row in rows)
    return found


@functools.cache
def _find_or_create_statement(model):
    """Each key is one probe of the unique (project, key) index, as in
    :func:`_key_lookup`; only the keys not found are inserted, so existing keys use
    up no sequence numbers."""
    table = model.__table__
    return text(
        f"WITH wanted AS (SELECT key, (SELECT id FROM {table.name}"
        f" WHERE project_id = :project_id AND key = keys.key) AS id"
        " FROM unnest(:keys) AS keys(key)),"
        f" created AS (INSERT INTO {table.name} (project_id, key, created_at)"
        " SELECT :project_id, key, :now FROM wanted WHERE id IS NULL"
        " ON CONFLICT (project_id, key) DO NOTHING RETURNING key, id)"
        " SELECT key, id FROM wanted WHERE id IS NOT NULL"
        " UNION ALL SELECT key, id FROM created"
    ).bindparams(
        bindparam("keys", type_=ARRAY(Text)),
        bindparam("now", type_=table.c.created_at.type),
    )


def _existing_keys(session: Session, model, project_id: str, keys: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    lookup = _key_lookup(model, _is_postgres(session))
    for chunk in _chunks(keys):
        rows = session.execute(lookup, {"project_id": project_id, "keys": list(chunk)})
        found.update((key, row_id) for key, row_id in rows if row_id is not None)
    return found


@functools.cache
def _key_lookup(model, postgres: bool):
    """(key, row id or NULL) for each of the parameter ``keys`` in ``project_id``.

    On PostgreSQL each key is one probe of the unique (project, key) index, a plan
    that does not depend on the table's statistics: ``key = ANY(:keys)`` gets a
    generic plan that compares every key of the project with every wanted key when
    the statistics are stale, as they are throughout a first import (~30 ms per
    batch of 500 new items among 10,000, instead of 1 ms). Built once per model:
    single-label ingest calls this twice per request.
    """
    in_project = model.project_id == bindparam("project_id")
    if not postgres:
        return select(model.key, model.id).where(
            in_project, model.key.in_(bindparam("keys", expanding=True))
        )
    wanted = func.unnest(bindparam("keys", type_=ARRAY(Text)))
    wanted = wanted.table_valued("key").render_derived(name="wanted")
    row_id = select(model.id).where(in_project, model.key == wanted.c.key)
    return select(wanted.c.key, row_id.scalar_subquery())


def item_keys(session: Session, project_id: str, item_ids: Iterable[int]) -> dict[int, str]:
    """The platform key of each item row id."""
    found: dict[int, str] = {}
    for chunk in _chunks(sorted(set(item_ids))):
        query = select(Item.id, Item.key).where(Item.project_id == project_id, Item.id.in_(chunk))
        found.update((item_id, key) for item_id, key in session.execute(query))
    return found


class NewLabel(NamedTuple):
    """A label row to append, but for what its whole batch shares."""

    item_id: int
    annotator_id: int
    attribute_id: int
    #: As stored: see ``Label.value``.
    value: str
    event_id: str | None
    #: ``None``: when it was received.
    created_at: datetime | None


def insert_new_labels(
    session: Session,
    project_id: str,
    source: str,
    labels: Sequence[NewLabel],
    received_at: datetime,
) -> int:
    """Append labels in bulk, skipping those whose event id is stored already;
    answers how many were stored.

    One statement: the unique (project, event id) index decides, so two batches
    racing with the same event id store it once and both count it right.
    """
    if not labels:
        return 0
    if _is_postgres(session) and len(labels) >= _COPY_FROM:
        return _insert_new_labels_by_copy(session, project_id, source, labels, received_at)
    rows = [
        {
            "project_id": project_id,
            "item_id": label.item_id,
            "annotator_id": label.annotator_id,
            "attribute_id": label.attribute_id,
            "value": label.value,
            "event_id": label.event_id,
            "source": source,
            "created_at": label.created_at or received_at,
            "received_at": received_at,
            "retracted": False,
        }
        for label in labels
    ]
    table = Label.__table__
    return len(_insert_rows(session, table, rows, ["project_id", "event_id"], [table.c.id]).all())


#: From this many rows up, PostgreSQL receives labels by COPY: adapting thousands of
#: values into array parameters costs more than the insert itself (bench/import_csv.py).
_COPY_FROM = 1000


def _insert_new_labels_by_copy(
    session: Session,
    project_id: str,
    source: str,
    labels: Sequence[NewLabel],
    received_at: datetime,
) -> int:
    """The same insert as :func:`insert_new_labels`, its rows staged by COPY into a
    temporary table first; what the batch shares is added by the server. ``ordinal``
    keeps the batch's order, so a later answer in the batch still gets the higher
    id (the newest label counts)."""
    # The column type's check: a naive timestamp is an error, not local time.
    to_utc = Label.__table__.c.created_at.type.process_bind_param
    dialect = session.get_bind().dialect
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor:
        # Its rows vanish at commit or rollback; the table lives with the connection.
        cursor.execute(
            "CREATE TEMPORARY TABLE IF NOT EXISTS label_incoming ("
            " ordinal integer, item_id integer, annotator_id integer, attribute_id integer,"
            " value text, event_id text, created_at timestamptz) ON COMMIT DELETE ROWS"
        )
        with cursor.copy("COPY label_incoming FROM STDIN") as copy:
            for ordinal, label in enumerate(labels):
                created_at = label.created_at
                if created_at is not None:
                    label = label._replace(created_at=to_utc(created_at, dialect))
                copy.write_row((ordinal, *label))
        cursor.execute(
            "WITH stored AS (INSERT INTO label (project_id, item_id, annotator_id,"
            " attribute_id, value, event_id, source, created_at, received_at, retracted)"
            " SELECT %(project)s, item_id, annotator_id, attribute_id, value, event_id,"
            " %(source)s, coalesce(created_at, %(received)s), %(received)s, false"
            " FROM label_incoming ORDER BY ordinal"
            " ON CONFLICT (project_id, event_id) DO NOTHING RETURNING 1)"
            " SELECT count(*) FROM stored",
            {"project": project_id, "source": source, "received": to_utc(received_at, dialect)},
        )
        stored = cursor.fetchone()[0]
        # Another batch in the same transaction must not insert these rows again.
        cursor.execute("TRUNCATE label_incoming")
    return stored


def retract_labels(
    session: Session, project_id: str, label_ids: Iterable[str], keep: Iterable[str] = ()
) -> list[tuple[int, int]]:
    """Mark retracted every label of the project whose event id equals one of
    ``label_ids`` or starts with it followed by ``:``; answers the (item_id,
    attribute_id) of each label retracted now.

    Labels whose event id is in ``keep`` are left alone: a batch that retracts an
    annotation and carries its new version must not retract that new version when
    the batch is delivered a second time.
    """
    prefixes = sorted(set(label_ids))
    kept = set(keep)
    touched: list[tuple[int, int]] = []
    for chunk in _chunks(prefixes, 500):
        spared = sorted(
            event_id
            for event_id in kept
            if any(event_id == p or event_id.startswith(p + ":") for p in chunk)
        )
        matches = or_(
            *(
                or_(Label.event_id == p, Label.event_id.like(_like_prefix(p), escape="\\"))
                for p in chunk
            )
        )
        statement = update(Label).where(
            Label.project_id == project_id, Label.retracted.is_(False), matches
        )
        if spared:
            statement = statement.where(Label.event_id.not_in(spared))
        returning = statement.values(retracted=True).returning(Label.item_id, Label.attribute_id)
        touched.extend(tuple(row) for row in session.execute(returning))
    return touched


def _like_prefix(prefix: str) -> str:
    """A LIKE pattern for ids below ``prefix``: its wildcards escaped, then ``:%``."""
    escaped = prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return escaped + ":%"


def current_labels(
    session: Session, project_id: str, pairs: Iterable[tuple[int, int]]
) -> list[tuple[int, int, int, str]]:
    """The labels that count for each (item_id, attribute_id): the newest per annotator,
    retracted ones left out. Rows are (item_id, attribute_id, annotator_id, value)."""
    newest: dict[tuple[int, int, int], tuple[int, str | None]] = {}
    wanted = set(pairs)
    items = sorted({item_id for item_id, _ in wanted})
    attribute_ids = sorted({attribute_id for _, attribute_id in wanted})
    query = _current_labels_query(_is_postgres(session))
    connection = session.connection()
    for chunk in _chunks(items):
        rows = connection.execute(
            query,
            {"project_id": project_id, "item_ids": list(chunk), "attribute_ids": attribute_ids},
        )
        for label_id, item_id, attribute_id, annotator_id, value, retracted in rows:
            if (item_id, attribute_id) not in wanted:
                continue
            key = (item_id, attribute_id, annotator_id)
            if key not in newest or newest[key][0] < label_id:
                newest[key] = (label_id, None if retracted else value)
    return [
        (item_id, attribute_id, annotator_id, value)
        for (item_id, attribute_id, annotator_id), (_, value) in sorted(newest.items())
        if value is not None
    ]


@functools.cache
def _current_labels_query(postgres: bool):
    """Built once per dialect: the single-label hot path runs it on every request,
    and building the expression cost more than running it. Items and attributes are
    filtered separately (both indexed), pairs in Python: a row-value IN list would be
    one more placeholder-heavy statement."""
    return select(
        Label.id,
        Label.item_id,
        Label.attribute_id,
        Label.annotator_id,
        Label.value,
        Label.retracted,
    ).where(
        Label.project_id == bindparam("project_id"),
        member_of(Label.item_id, "item_ids", postgres),
        member_of(Label.attribute_id, "attribute_ids", postgres),
    )


def upsert_gold(session: Session, rows: list[dict]) -> None:
    """Insert or replace known answers; the newest answer for an (item, attribute) wins."""
    if not rows:
        return
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(Gold.__table__)
    statement = statement.on_conflict_do_update(
        index_elements=["project_id", "item_id", "attribute_id"],
        set_={
            "value": statement.excluded.value,
            "source": statement.excluded.source,
            "created_at": statement.excluded.created_at,
        },
    )
    session.execute(statement, rows)


def gold_for_items(
    session: Session, project_id: str, item_ids: Iterable[int]
) -> dict[tuple[int, int], tuple[str, str]]:
    """Known answers by (item_id, attribute_id): (value, source)."""
    found: dict[tuple[int, int], tuple[str, str]] = {}
    query = _gold_query(_is_postgres(session))
    connection = session.connection()
    for chunk in _chunks(sorted(set(item_ids))):
        rows = connection.execute(query, {"project_id": project_id, "item_ids": list(chunk)})
        for item_id, attribute_id, value, source in rows:
            found[(item_id, attribute_id)] = (value, source)
    return found


@functools.cache
def _gold_query(postgres: bool):
    """Built once per dialect, as :func:`_current_labels_query`."""
    return select(Gold.item_id, Gold.attribute_id, Gold.value, Gold.source).where(
        Gold.project_id == bindparam("project_id"), member_of(Gold.item_id, "item_ids", postgres)
    )


def find_idempotent_request(
    session: Session, project_id: str, key: str
) -> IdempotentRequest | None:
    return session.get(IdempotentRequest, (project_id, key))


def save_idempotent_request(
    session: Session, project_id: str, key: str, request_hash: str, status: int, body: str
) -> None:
    session.execute(
        insert(IdempotentRequest.__table__),
        [
            {
                "project_id": project_id,
                "key": key,
                "request_hash": request_hash,
                "status": status,
                "body": body,
                "created_at": utcnow(),
            }
        ],
    )
