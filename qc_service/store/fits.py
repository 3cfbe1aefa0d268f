"""Fits: loading a project's labels into arrays, and publishing a fit's output.

Loading is one query per attribute returning plain tuples, turned into numpy arrays
at once: no ORM object per label. Publishing replaces the project's results and
annotator scores in one transaction, so readers see the old fit or the new one,
never a mix, and a run that fails half-way leaves the old fit in service.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
from sqlalchemy import JSON, delete, insert, select, text, update
from sqlalchemy.orm import Session

from qc_service.store.models import AnnotatorScore, Fit, Gold, Label, Result

#: Rows per multi-row INSERT when publishing.
_INSERT_CHUNK = 5000


@dataclass(frozen=True)
class AttributeLabels:
    """The labels that count now for one attribute: row ids and stored values.

    ``value_codes`` index ``values`` (the distinct stored values seen), so a value's
    text is parsed once, not once per label.
    """

    item_ids: np.ndarray
    annotator_ids: np.ndarray
    value_codes: np.ndarray
    values: list[str]


def load_attribute_labels(session: Session, project_id: str, attribute_id: int) -> AttributeLabels:
    """Current labels of one attribute: newest per (item, annotator), retracted ones out.

    One query; on PostgreSQL it answers one packed text that pyarrow parses in C, so
    a million labels never become a million Python objects. Rows are sorted
    by (item, annotator, id) in numpy, so the newest label of each (item, annotator)
    is the last of its run and one pass picks it.
    """
    query = select(Label.item_id, Label.annotator_id, Label.id, Label.retracted, Label.value).where(
        Label.project_id == project_id, Label.attribute_id == attribute_id
    )
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        item, annotator, label_id, dropped, codes, distinct = _copy_columns(
            connection, project_id, attribute_id
        )
    else:
        rows = connection.execute(query).all()
        if not rows:
            empty = np.empty(0, dtype=np.int64)
            return AttributeLabels(empty, empty, empty, [])
        item_ids, annotator_ids, label_ids, retracted, values = zip(*rows, strict=True)
        item = np.fromiter(item_ids, dtype=np.int64, count=len(rows))
        annotator = np.fromiter(annotator_ids, dtype=np.int64, count=len(rows))
        label_id = np.fromiter(label_ids, dtype=np.int64, count=len(rows))
        dropped = np.fromiter(retracted, dtype=bool, count=len(rows))
        distinct, codes = np.unique(np.array(values, dtype=object), return_inverse=True)
        distinct = [str(v) for v in distinct]
    order = np.lexsort((label_id, annotator, item))
    item, annotator, dropped, codes = item[order], annotator[order], dropped[order], codes[order]
    last_of_run = np.ones(len(item), dtype=bool)
    last_of_run[:-1] = (item[1:] != item[:-1]) | (annotator[1:] != annotator[:-1])
    keep = last_of_run & ~dropped
    return AttributeLabels(item[keep], annotator[keep], codes[keep].astype(np.int64), distinct)


def _copy_columns(connection, project_id: str, attribute_id: int) -> tuple:
    """The five label columns as arrays (PostgreSQL), in one round trip.

    The server numbers the distinct values and packs every row into one CSV text
    (a per-row protocol message costs more than the row), which pyarrow parses in C.
    """
    statement = text(
        """
        WITH labels AS (
            SELECT item_id, annotator_id, id, retracted, value FROM label
            WHERE project_id = :project_id AND attribute_id = :attribute_id
        ), distinct_values AS (
            SELECT value, (row_number() OVER (ORDER BY value)) - 1 AS code
            FROM (SELECT DISTINCT value FROM labels) AS d
        )
        SELECT
            (SELECT json_agg(value ORDER BY code) FROM distinct_values),
            string_agg(
                concat_ws(',', l.item_id, l.annotator_id, l.id, l.retracted::int, v.code),
                E'\\n'
            )
        FROM labels AS l JOIN distinct_values AS v ON v.value = l.value
        """
    )
    values, packed = connection.execute(
        statement, {"project_id": project_id, "attribute_id": attribute_id}
    ).one()
    if not packed:
        empty = np.empty(0, dtype=np.int64)
        return empty, empty, empty, np.empty(0, dtype=bool), empty, []
    table = pacsv.read_csv(
        io.BytesIO(packed.encode()),
        read_options=pacsv.ReadOptions(column_names=["item", "annotator", "id", "dropped", "code"]),
        convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(["item", "annotator", "id", "dropped", "code"], pa.int64())
        ),
    )
    columns = [
        table.column(name).to_numpy() for name in ("item", "annotator", "id", "dropped", "code")
    ]
    item, annotator, label_id, dropped, codes = columns
    return item, annotator, label_id, dropped.astype(bool), codes, list(values)


def load_gold(session: Session, project_id: str, attribute_id: int) -> list[tuple[int, str, str]]:
    """Known answers of one attribute: (item_id, value, source)."""
    query = select(Gold.item_id, Gold.value, Gold.source).where(
        Gold.project_id == project_id, Gold.attribute_id == attribute_id
    )
    return [tuple(row) for row in session.execute(query)]


def current_fit(session: Session, project_id: str) -> Fit | None:
    query = select(Fit).where(Fit.project_id == project_id, Fit.current.is_(True))
    return session.scalar(query.order_by(Fit.id.desc()).limit(1))


def publish(
    session: Session,
    fit: Fit,
    results: Sequence[dict],
    scores: Sequence[dict],
) -> Fit:
    """Make ``fit`` the project's current fit with its results and annotator scores.

    Rows are dicts of ``Result`` / ``AnnotatorScore`` columns without ``fit_id``.
    Call inside one write transaction: on any error nothing of it is visible.
    """
    project_id = fit.project_id
    session.execute(
        update(Fit).where(Fit.project_id == project_id, Fit.current.is_(True)).values(current=False)
    )
    fit.current = True
    session.add(fit)
    session.flush()
    session.execute(delete(Result).where(Result.project_id == project_id))
    session.execute(delete(AnnotatorScore).where(AnnotatorScore.project_id == project_id))
    for table, rows in ((Result.__table__, results), (AnnotatorScore.__table__, scores)):
        if session.get_bind().dialect.name == "postgresql":
            _copy_rows(session, table, rows, fit.id)
            continue
        for start in range(0, len(rows), _INSERT_CHUNK):
            chunk = [{**row, "fit_id": fit.id} for row in rows[start : start + _INSERT_CHUNK]]
            session.execute(insert(table), chunk)
    return fit


def _copy_rows(session: Session, table, rows: Sequence[dict], fit_id: int) -> None:
    """Bulk insert by ``COPY ... FROM STDIN`` in the session's transaction (PostgreSQL):
    several times faster than multi-row INSERTs for a fit's hundred thousand rows."""
    if not rows:
        return
    columns = [*rows[0].keys(), "fit_id"]
    is_json = [isinstance(table.c[name].type, JSON) for name in columns]
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            values = [*row.values(), fit_id]
            copy.write_row(
                [json.dumps(v) if j else v for v, j in zip(values, is_json, strict=True)]
            )


def annotator_params(
    session: Session, project_id: str, attribute_ids: Sequence[int], annotator_ids: Sequence[int]
) -> dict[tuple[int, int], dict]:
    """Current model parameters by (attribute_id, annotator_id), for the streaming E-step."""
    if not attribute_ids or not annotator_ids:
        return {}
    query = select(
        AnnotatorScore.attribute_id, AnnotatorScore.annotator_id, AnnotatorScore.params
    ).where(
        AnnotatorScore.project_id == project_id,
        AnnotatorScore.attribute_id.in_(sorted(set(attribute_ids))),
        AnnotatorScore.annotator_id.in_(sorted(set(annotator_ids))),
    )
    return {(a, n): params for a, n, params in session.execute(query)}
