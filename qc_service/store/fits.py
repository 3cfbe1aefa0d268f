"""Fits: loading a project's labels into arrays, and publishing a fit's output.

Loading is one query per attribute returning plain tuples, turned into numpy arrays
at once: no ORM object per label. Publishing brings the project's results and
annotator scores to the new fit in one transaction, so readers see the old fit or the
new one, never a mix, and a run that fails half-way leaves the old fit in service.

On PostgreSQL the results are written column-wise (pyarrow's CSV writer, one COPY
into a temporary table) and merged: only rows whose values changed are updated,
new ones inserted, vanished ones deleted. Between two refits most items keep their
label, confidence and status, so a refit touches few rows and few index entries.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import JSON, bindparam, delete, insert, select, text, update
from sqlalchemy.orm import Session

from qc_service.store.labels import member_of
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


@dataclass
class ResultColumns:
    """A fit's results column-wise, one entry per (item, attribute); ``distribution``
    and ``flags`` hold JSON text, ready to be written."""

    attribute_id: np.ndarray
    item_id: np.ndarray
    label: list[str]
    confidence: np.ndarray
    distribution: list[str]
    n_labels: np.ndarray
    status: list[str]
    flags: list[str]
    priority: np.ndarray

    def __len__(self) -> int:
        return len(self.item_id)

    @classmethod
    def concat(cls, parts: Sequence[ResultColumns]) -> ResultColumns:
        def joined(name: str):
            columns = [getattr(part, name) for part in parts]
            if columns and isinstance(columns[0], np.ndarray):
                return np.concatenate(columns)
            return [value for column in columns for value in column]

        if not parts:
            empty = np.empty(0)
            return cls(empty, empty, [], empty, [], empty, [], [], empty)
        return cls(**{f.name: joined(f.name) for f in fields(cls)})

    def rows(self) -> list[dict]:
        """One dict of ``Result`` columns per row (JSON decoded)."""
        columns = {f.name: getattr(self, f.name) for f in fields(self)}
        columns = {k: v.tolist() if isinstance(v, np.ndarray) else v for k, v in columns.items()}
        columns["distribution"] = [json.loads(text) for text in self.distribution]
        columns["flags"] = [json.loads(text) for text in self.flags]
        return [
            dict(zip(columns, values, strict=True))
            for values in zip(*columns.values(), strict=True)
        ]


def distribution_json(keys: Sequence[str], matrix: np.ndarray) -> list[str]:
    """Each row of ``matrix`` as the JSON text of {key: probability} (6 decimals),
    built column-wise by pyarrow: a per-row ``json.dumps`` costs seconds at 100k rows."""
    parts: list = []
    for index, key in enumerate(keys):
        number = pc.cast(pa.array(np.round(matrix[:, index], 6)), pa.string())
        parts += [("{" if index == 0 else ", ") + json.dumps(key) + ": ", number]
    parts.append("}")
    return pc.binary_join_element_wise(*parts, "").to_pylist()


def load_attribute_labels(
    session: Session, project_id: str, attribute_id: int, values: Sequence[str] | None = None
) -> AttributeLabels:
    """Current labels of one attribute: newest per (item, annotator), retracted ones out.

    ``values``: every value the labels can have, when known in advance (a categorical
    attribute's); on PostgreSQL it spares a scan for the distinct ones, unless a
    label has another value.

    One query; on PostgreSQL it answers one packed binary string that numpy reads in
    place, so a million labels never become a million Python objects. Rows are sorted
    by (item, annotator, id) in numpy, so the newest label of each (item, annotator)
    is the last of its run and one pass picks it.
    """
    query = select(Label.item_id, Label.annotator_id, Label.id, Label.retracted, Label.value).where(
        Label.project_id == project_id, Label.attribute_id == attribute_id
    )
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        item, annotator, label_id, dropped, codes, distinct = _copy_columns(
            connection, project_id, attribute_id, values
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
    # ids are non-negative int4, so one int64 orders by (item, annotator): a sort on
    # two keys instead of three, several times faster
    pair = (item << 32) | annotator
    order = np.lexsort((label_id, pair))
    item, annotator, dropped, codes = item[order], annotator[order], dropped[order], codes[order]
    pair = pair[order]
    last_of_run = np.ones(len(item), dtype=bool)
    last_of_run[:-1] = pair[1:] != pair[:-1]
    keep = last_of_run & ~dropped
    return AttributeLabels(item[keep], annotator[keep], codes[keep].astype(np.int64), distinct)


#: One label as the PostgreSQL load query packs it: big-endian binary, fixed width.
_PACKED_LABEL = np.dtype(
    [("item", ">i4"), ("annotator", ">i4"), ("id", ">i8"), ("dropped", "u1"), ("code", ">i4")]
)


def _copy_columns(
    connection, project_id: str, attribute_id: int, values: Sequence[str] | None
) -> tuple:
    """The five label columns as arrays (PostgreSQL), in one round trip (two without
    ``values``: the first finds the distinct ones).

    The server numbers the values (by their position in ``values``) and packs every
    row as fixed-width binary (``int4send`` and friends) into one ``bytea``, which
    numpy reads in place: a per-row protocol message, or formatting and parsing text,
    costs more than the row.
    """
    params: dict = {"project_id": project_id, "attribute_id": attribute_id}
    of_attribute = "l.project_id = :project_id AND l.attribute_id = :attribute_id"
    given = values is not None
    if values is None:
        values = connection.execute(
            text(f"SELECT DISTINCT l.value FROM label AS l WHERE {of_attribute} ORDER BY 1"),
            params,
        ).scalars()
    values = list(values)
    # a CASE numbers them faster than array_position (or a hash join)
    whens = " ".join(f"WHEN :value_{code} THEN {code}" for code in range(len(values)))
    numbered = f"CASE l.value {whens} ELSE -1 END" if values else "-1"
    params |= {f"value_{code}": value for code, value in enumerate(values)}
    statement = text(
        f"""
        SELECT string_agg(
            int4send(l.item_id) || int4send(l.annotator_id) || int8send(l.id)
            || boolsend(l.retracted) || int4send({numbered}),
            ''::bytea
        )
        FROM label AS l WHERE {of_attribute}
        """
    )
    packed = connection.execute(statement, params).scalar_one()
    rows = np.frombuffer(packed or b"", dtype=_PACKED_LABEL)
    columns = [rows[name].astype(np.int64) for name in ("item", "annotator", "id", "code")]
    item, annotator, label_id, codes = columns
    if given and (codes < 0).any():  # a value outside the ``values`` given
        return _copy_columns(connection, project_id, attribute_id, None)
    return item, annotator, label_id, rows["dropped"].astype(bool), codes, values


def load_gold(session: Session, project_id: str, attribute_id: int) -> list[tuple[int, str, str]]:
    """Known answers of one attribute: (item_id, value, source)."""
    query = select(Gold.item_id, Gold.value, Gold.source).where(
        Gold.project_id == project_id, Gold.attribute_id == attribute_id
    )
    return [tuple(row) for row in session.execute(query)]


def current_fit(session: Session, project_id: str) -> Fit | None:
    return session.scalar(_CURRENT_FIT, {"project_id": project_id})


def current_fit_summaries(session: Session, project_id: str) -> dict:
    """The current fit's summary per attribute name (``detail["attributes"]``); empty
    before the first fit. Without loading the fit: every single-label ingest asks."""
    detail = session.connection().execute(_CURRENT_FIT_DETAIL, {"project_id": project_id})
    detail = detail.scalar()
    return detail["attributes"] if detail is not None else {}


_CURRENT_FIT = (
    select(Fit)
    .where(Fit.project_id == bindparam("project_id"), Fit.current.is_(True))
    .order_by(Fit.id.desc())
    .limit(1)
)
_CURRENT_FIT_DETAIL = _CURRENT_FIT.with_only_columns(Fit.detail)


def publish(
    session: Session,
    fit: Fit,
    results: ResultColumns,
    scores: Sequence[dict],
) -> Fit:
    """Make ``fit`` the project's current fit with its results and annotator scores.

    Score rows are dicts of ``AnnotatorScore`` columns without ``fit_id``.
    Call inside one write transaction: on any error nothing of it is visible.
    """
    project_id = fit.project_id
    session.execute(
        update(Fit).where(Fit.project_id == project_id, Fit.current.is_(True)).values(current=False)
    )
    fit.current = True
    session.add(fit)
    session.flush()
    session.execute(delete(AnnotatorScore).where(AnnotatorScore.project_id == project_id))
    score_rows = [{**row, "fit_id": fit.id} for row in scores]
    if session.get_bind().dialect.name == "postgresql":
        _merge_results(session, project_id, results)
        _copy_rows(session, AnnotatorScore.__table__, score_rows)
        return fit
    session.execute(delete(Result).where(Result.project_id == project_id))
    rows = [{**row, "project_id": project_id} for row in results.rows()]
    for table, chunked in ((Result.__table__, rows), (AnnotatorScore.__table__, score_rows)):
        for start in range(0, len(chunked), _INSERT_CHUNK):
            session.execute(insert(table), chunked[start : start + _INSERT_CHUNK])
    return fit


#: The result columns a fit writes, in ``ResultColumns`` order.
_RESULT_FIELDS = [f.name for f in fields(ResultColumns)]
_STAGE = "result_stage"


def _merge_results(session: Session, project_id: str, results: ResultColumns) -> None:
    """COPY the results into a temporary table, then update the rows that changed,
    insert the new and delete the vanished ones (PostgreSQL)."""
    connection = session.connection()
    connection.execute(
        text(
            f"CREATE TEMPORARY TABLE {_STAGE} (attribute_id integer, item_id integer,"
            " label text, confidence float8, distribution text, n_labels integer,"
            " status text, flags text, priority float8) ON COMMIT DROP"
        )
    )
    table = pa.table({name: getattr(results, name) for name in _RESULT_FIELDS})
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
    cursor = connection.connection.driver_connection.cursor()
    with cursor.copy(f"COPY {_STAGE} FROM STDIN (FORMAT csv)") as copy:
        copy.write(buffer.getvalue())
    # Without statistics the planner takes the temporary table for a small one and
    # joins by nested loops: seconds instead of a fraction of one. The join keys'
    # statistics are all it needs (sampling the wide columns too costs more than
    # the merge).
    connection.execute(text(f"ANALYZE {_STAGE} (attribute_id, item_id)"))
    key = (
        "r.project_id = CAST(:project_id AS varchar)"
        " AND r.attribute_id = s.attribute_id AND r.item_id = s.item_id"
    )
    values = [name for name in _RESULT_FIELDS if name not in ("attribute_id", "item_id")]
    cast = {"distribution": "::json", "flags": "::json"}
    stored = ", ".join(f"r.{name}{'::text' if name in cast else ''}" for name in values)
    staged = ", ".join(f"s.{name}" for name in values)
    staged_all = ", ".join(f"s.{name}{cast.get(name, '')}" for name in _RESULT_FIELDS)
    params = {"project_id": project_id}
    connection.execute(
        text(
            f"DELETE FROM result r WHERE r.project_id = :project_id AND NOT EXISTS"
            f" (SELECT 1 FROM {_STAGE} s WHERE {key})"
        ),
        params,
    )
    assignments = ", ".join(f"{name} = s.{name}{cast.get(name, '')}" for name in values)
    connection.execute(
        text(
            f"UPDATE result r SET {assignments} FROM {_STAGE} s"
            f" WHERE {key} AND ({stored}) IS DISTINCT FROM ({staged})"
        ),
        params,
    )
    # What is left in the stage after this is new. Inserting with an anti-join
    # against ``result`` instead risks a nested loop over the table being inserted
    # into (it grows under the scan: minutes); ON CONFLICT DO NOTHING costs an index
    # probe and the JSON casts for every existing row.
    connection.execute(text(f"DELETE FROM {_STAGE} s USING result r WHERE {key}"), params)
    inserted = connection.execute(
        text(
            f"INSERT INTO result (project_id, {', '.join(_RESULT_FIELDS)})"
            f" SELECT CAST(:project_id AS varchar), {staged_all} FROM {_STAGE} s"
        ),
        params,
    ).rowcount
    _analyze_results_if_grown(connection, inserted)


#: A publish that inserts more than this share of ``result``'s rows analyzes it, as
#: autovacuum would (its default analyze scale factor), but at once.
_ANALYZE_SHARE = 0.1
#: The columns the readers' plans depend on (filters, joins and order); the JSON ones
#: have no statistics worth sampling.
_ANALYZED_COLUMNS = "project_id, attribute_id, item_id, status, id"


def _analyze_results_if_grown(connection, inserted: int) -> None:
    """Give the planner statistics of the rows just inserted (PostgreSQL).

    After a project's first fit ``result`` has rows but no statistics until
    autovacuum comes by (up to a minute later), and until then every results page
    is planned for an empty table: ~0.2 s instead of milliseconds at 100k rows.
    """
    estimated = connection.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = CAST('result' AS regclass)")
    ).scalar_one()
    # reltuples is -1 for a table never analyzed
    if inserted > _ANALYZE_SHARE * max(estimated, 0):
        connection.execute(text(f"ANALYZE result ({_ANALYZED_COLUMNS})"))


def _copy_rows(session: Session, table, rows: Sequence[dict]) -> None:
    """Bulk insert by ``COPY ... FROM STDIN`` in the session's transaction (PostgreSQL)."""
    if not rows:
        return
    columns = list(rows[0])
    is_json = [isinstance(table.c[name].type, JSON) for name in columns]
    cursor = session.connection().connection.driver_connection.cursor()
    with cursor.copy(f"COPY {table.name} ({', '.join(columns)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(
                [json.dumps(v) if j else v for v, j in zip(row.values(), is_json, strict=True)]
            )


def annotator_params(
    session: Session, project_id: str, attribute_ids: Sequence[int], annotator_ids: Sequence[int]
) -> dict[tuple[int, int], dict]:
    """Current model parameters by (attribute_id, annotator_id), for the streaming E-step."""
    if not attribute_ids or not annotator_ids:
        return {}
    query = _annotator_params_query(session.get_bind().dialect.name == "postgresql")
    rows = session.connection().execute(
        query,
        {
            "project_id": project_id,
            "attribute_ids": sorted(set(attribute_ids)),
            "annotator_ids": sorted(set(annotator_ids)),
        },
    )
    return {(a, n): params for a, n, params in rows}


@functools.cache
def _annotator_params_query(postgres: bool):
    """Built once per dialect: the live estimate runs it on every ingest."""
    return select(
        AnnotatorScore.attribute_id, AnnotatorScore.annotator_id, AnnotatorScore.params
    ).where(
        AnnotatorScore.project_id == bindparam("project_id"),
        member_of(AnnotatorScore.attribute_id, "attribute_ids", postgres),
        member_of(AnnotatorScore.annotator_id, "annotator_ids", postgres),
    )
