"""Reading results: per item and attribute, with the labels behind them."""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache

from qc_service.errors import FieldError, InvalidInput, NotFound
from qc_service.schemas.results import (
    ItemAttributeResult,
    ItemResults,
    LabelBehind,
    ResultOut,
    ResultsQuery,
)
from qc_service.service.context import Context
from qc_service.service.pagination import decode_cursor, encode_cursor
from qc_service.service.taxonomy import answer_of, load_taxonomy
from qc_service.store import db
from qc_service.store import labels as label_store
from qc_service.store import projects as project_store
from qc_service.store import results as result_store
from qc_service.store.models import Attribute


def attributes_of(session, project_id: str) -> list[Attribute]:
    """The project's attributes; 404 if the project does not exist."""
    if not project_store.project_exists(session, project_id):
        raise NotFound(f"project {project_id!r} does not exist")
    return project_store.list_attributes(session, project_id)


def attribute_filter(attributes: Iterable[Attribute], name: str | None) -> int | None:
    """The id of the attribute named in a query filter; 422 if the project has none."""
    if name is None:
        return None
    for attribute in attributes:
        if attribute.name == name:
            return attribute.id
    raise InvalidInput(
        "unknown attribute",
        [FieldError("/query/attribute", f"the project has {sorted(a.name for a in attributes)}")],
    )


def read_filter(ctx: Context, project_id: str, attribute: str | None) -> int | None:
    """For a list read: 404 unless the project exists, then the attribute filter's id.
    From the per-process taxonomy cache, so a page read costs one query."""
    _, attributes = load_taxonomy(ctx, project_id)
    return attribute_filter(attributes.values(), attribute)


def result_out(row) -> dict:
    """A result row as the fields of ``ResultOut``, in their JSON form (list pages are
    built from these dicts without a model per row; tests validate them against the
    model)."""
    return {
        "item": row.item,
        "attribute": row.attribute,
        "label": answer_of(_kind(row.kind), row.label),
        "confidence": row.confidence,
        "distribution": row.distribution,
        "n_labels": row.n_labels,
        "status": row.status,
        "flags": row.flags,
        "priority": row.priority,
        "fit": row.fit_id,
    }


@cache
def _kind(kind: str) -> Attribute:
    # answer_of only looks at the kind; a bare Attribute carries it without a query.
    # Cached: building a SQLModel instance per result row costs more than the query.
    return Attribute(project_id="", position=0, name="", kind=kind, values=[])


def results_version(ctx: Context, project_id: str) -> tuple[int | None, int | None]:
    """Names the state of the project's published results: a page read at one version
    is the same page until the version changes."""
    with db.read_scope(ctx.engine) as connection:
        return result_store.results_version(connection, project_id)


def list_results(ctx: Context, project_id: str, query: ResultsQuery) -> dict:
    """A page of results: the JSON form of ``ResultsPage``."""
    position = decode_cursor(query.cursor, {"after": int})
    attribute_id = read_filter(ctx, project_id, query.attribute)
    with db.read_scope(ctx.engine) as connection:
        rows = result_store.results_page(
            connection,
            project_id,
            attribute_id=attribute_id,
            status=query.status,
            after_id=position["after"] if position else 0,
            limit=query.limit + 1,
        )
    more = len(rows) > query.limit
    rows = rows[: query.limit]
    return {
        "results": [result_out(row) for row in rows],
        "next_cursor": encode_cursor({"after": rows[-1].id}) if more else None,
    }


def item_results(ctx: Context, project_id: str, item: str) -> ItemResults:
    """Every attribute of one item: its result, its gold, the labels behind it."""
    with db.session_scope(ctx.engine) as session:
        attributes = attributes_of(session, project_id)
        item_id = result_store.item_id_of(session, project_id, item)
        if item_id is None:
            raise NotFound(f"item {item!r} has no labels in project {project_id!r}")
        results = {
            row.attribute_id: row for row in result_store.item_results(session, project_id, item_id)
        }
        labels = result_store.labels_behind(session, project_id, item_id)
        gold = label_store.gold_for_items(session, project_id, [item_id])
    newest: dict[tuple[int, int], object] = {}
    for row in labels:  # oldest first: the newest per annotator wins
        newest[(row.attribute_id, row.annotator_id)] = row
    out = []
    for attribute in attributes:
        known = gold.get((item_id, attribute.id))
        behind = [
            LabelBehind(
                annotator=row.annotator,
                value=answer_of(attribute, row.value),
                annotator_accuracy=row.accuracy,
                annotator_status=row.status,
            )
            for (attribute_id, _), row in newest.items()
            if attribute_id == attribute.id and not row.retracted
        ]
        result = results.get(attribute.id)
        out.append(
            ItemAttributeResult(
                attribute=attribute.name,
                result=ResultOut(**result_out(result)) if result is not None else None,
                gold=answer_of(attribute, known[0]) if known else None,
                gold_source=known[1] if known else None,
                labels=behind,
            )
        )
    return ItemResults(item=item, attributes=out)
