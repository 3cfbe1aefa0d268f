"""Reading what the current fit published, and the review workflow's writes."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime
from functools import cache

from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from qc_service.store.models import (
    Annotator,
    AnnotatorScore,
    Attribute,
    Fit,
    Gold,
    Item,
    Label,
    Result,
    ReviewClaim,
    Verdict,
)

_RESULT_COLUMNS = (
    Result.id,
    Item.key.label("item"),
    Attribute.name.label("attribute"),
    Attribute.kind.label("kind"),
    Result.label,
    Result.confidence,
    Result.distribution,
    Result.n_labels,
    Result.status,
    Result.flags,
    Result.priority,
    Fit.id.label("fit_id"),
    Result.item_id,
    Result.attribute_id,
)


#: Page reads run on a session or on a bare connection (``db.read_scope``).
Reader = Session | Connection

#: Every result in service is the current fit's: its id is theirs.
_CURRENT_FIT = and_(Fit.project_id == Result.project_id, Fit.current.is_(True))


def _results_query():
    return (
        select(*_RESULT_COLUMNS)
        .join(Item, Item.id == Result.item_id)
        .join(Attribute, Attribute.id == Result.attribute_id)
        .join(Fit, _CURRENT_FIT)
    )


def _param(name: str):
    return bindparam(name, type_=Integer) if name == "limit" else bindparam(name)


# The page reads below are built once per shape, with parameters for the values:
# building a statement costs SQLAlchemy more than PostgreSQL takes to run it.


@cache
def _results_page_statement(by_attribute: bool, by_status: bool):
    query = _results_query().where(
        Result.project_id == _param("project_id"), Result.id > _param("after_id")
    )
    if by_attribute:
        query = query.where(Result.attribute_id == _param("attribute_id"))
    if by_status:
        query = query.where(Result.status == _param("status"))
    return query.order_by(Result.id).limit(_param("limit"))


def results_page(
    session: Reader,
    project_id: str,
    *,
    attribute_id: int | None,
    status: str | None,
    after_id: int,
    limit: int,
) -> list:
    """Results in id order after ``after_id`` (keyset pagination); ``limit`` rows."""
    statement = _results_page_statement(attribute_id is not None, status is not None)
    parameters = {
        "project_id": project_id,
        "after_id": after_id,
        "attribute_id": attribute_id,
        "status": status,
        "limit": limit,
    }
    return session.execute(statement, parameters).all()


def iter_results(
    session: Session, project_id: str, attribute_id: int | None, batch: int = 5000
) -> Iterator[list]:
    """Every result, in pages of ``batch`` rows (for export)."""
    after = 0
    while True:
        rows = results_page(
            session, project_id, attribute_id=attribute_id, status=None, after_id=after, limit=batch
        )
        if not rows:
            return
        yield rows
        after = rows[-1].id


def item_results(session: Session, project_id: str, item_id: int) -> list:
    query = _results_query().where(Result.project_id == project_id, Result.item_id == item_id)
    return list(session.execute(query))


def item_id_of(session: Session, project_id: str, key: str) -> int | None:
    query = select(Item.id).where(Item.project_id == project_id, Item.key == key)
    return session.scalar(query)


def annotator_id_of(session: Session, project_id: str, key: str) -> int | None:
    query = select(Annotator.id).where(Annotator.project_id == project_id, Annotator.key == key)
    return session.scalar(query)


def labels_behind(session: Session, project_id: str, item_id: int) -> list:
    """Every label row of one item (newest last), with its annotator's key and score."""
    query = (
        select(
            Label.attribute_id,
            Label.annotator_id,
            Annotator.key.label("annotator"),
            Label.value,
            Label.retracted,
            AnnotatorScore.accuracy,
            AnnotatorScore.status,
        )
        .join(Annotator, Annotator.id == Label.annotator_id)
        .outerjoin(
            AnnotatorScore,
            and_(
                AnnotatorScore.project_id == project_id,
                AnnotatorScore.attribute_id == Label.attribute_id,
                AnnotatorScore.annotator_id == Label.annotator_id,
            ),
        )
        .where(Label.project_id == project_id, Label.item_id == item_id)
        .order_by(Label.id)
    )
    return list(session.execute(query))


_SCORE_COLUMNS = (
    Annotator.key.label("annotator"),
    Attribute.name.label("attribute"),
    AnnotatorScore.n_labels,
    AnnotatorScore.accuracy,
    AnnotatorScore.accuracy_low,
    AnnotatorScore.accuracy_high,
    AnnotatorScore.gold_accuracy,
    AnnotatorScore.n_gold,
    AnnotatorScore.agreement,
    AnnotatorScore.spammer_score,
    AnnotatorScore.status,
    AnnotatorScore.confused_pairs,
    AnnotatorScore.fit_id,
    AnnotatorScore.annotator_id,
    Attribute.position.label("attribute_position"),
)

#: The score column each sort orders by first (None: by annotator alone), and whether
#: highest first. Every sort then orders by the annotator's key and the attribute's
#: position, which make a row's place unique: a page resumes after the previous one.
SCORE_SORTS = {
    "annotator": (None, False),
    "accuracy": ("accuracy", False),
    "-accuracy": ("accuracy", True),
    "agreement": ("agreement", False),
    "-agreement": ("agreement", True),
    "n_labels": ("n_labels", False),
    "-n_labels": ("n_labels", True),
    "spammer_score": ("spammer_score", False),
    "-spammer_score": ("spammer_score", True),
}


def _keyset_after(order: Sequence[tuple[ColumnElement, bool]], position: Sequence) -> ColumnElement:
    """Rows that come after ``position`` in ``order`` ((column, highest first) pairs
    whose values together are unique): keyset pagination for mixed directions."""
    beyond = []
    for i, ((column, descending), value) in enumerate(zip(order, position, strict=True)):
        ties = [earlier == tied for (earlier, _), tied in zip(order, position[:i], strict=False)]
        beyond.append(and_(*ties, column < value if descending else column > value))
    return or_(*beyond)


def _order_by(order: Sequence[tuple[ColumnElement, bool]]) -> list[ColumnElement]:
    return [column.desc() if descending else column for column, descending in order]


@cache
def _scores_statement(
    sort: str,
    by_attribute: bool,
    by_status: bool,
    by_annotator: bool,
    by_prefix: bool,
    after: bool,
    with_confusion: bool,
    limited: bool,
):
    columns = (*_SCORE_COLUMNS, AnnotatorScore.confusion) if with_confusion else _SCORE_COLUMNS
    query = (
        select(*columns)
        .join(Annotator, Annotator.id == AnnotatorScore.annotator_id)
        .join(Attribute, Attribute.id == AnnotatorScore.attribute_id)
        .where(AnnotatorScore.project_id == _param("project_id"))
    )
    if by_attribute:
        query = query.where(AnnotatorScore.attribute_id == _param("attribute_id"))
    if by_status:
        query = query.where(AnnotatorScore.status == _param("status"))
    if by_annotator:
        query = query.where(AnnotatorScore.annotator_id == _param("annotator_id"))
    if by_prefix:
        # substr, not LIKE: SQLite's LIKE ignores case, and ids are case-sensitive
        prefix = _param("annotator_prefix")
        query = query.where(func.substr(Annotator.key, 1, func.length(prefix)) == prefix)
    field, descending = SCORE_SORTS[sort]
    order = [(Annotator.key, False), (Attribute.position, False)]
    # The cursor carries the annotator's row id; its key is looked up here, so that
    # a cursor stays short whatever the length of the key.
    after_key = select(Annotator.key).where(Annotator.id == _param("after_annotator"))
    position = [after_key.correlate(None).scalar_subquery(), _param("after_position")]
    if field is not None:
        order.insert(0, (getattr(AnnotatorScore, field), descending))
        position.insert(0, _param("after_value"))
    if after:
        query = query.where(_keyset_after(order, position))
    query = query.order_by(*_order_by(order))
    return query.limit(_param("limit")) if limited else query


def annotator_scores(
    session: Reader,
    project_id: str,
    *,
    attribute_id: int | None = None,
    status: str | None = None,
    annotator_id: int | None = None,
    annotator_prefix: str | None = None,
    sort: str = "annotator",
    after: tuple | None = None,
    limit: int | None = None,
    with_confusion: bool = False,
) -> list:
    """Score rows (the ``AnnotatorScore`` columns a client sees, by name, plus the
    annotator's key, its row id and the attribute's name and position) in the order
    of ``sort`` (``SCORE_SORTS``); ``confusion`` only when asked for, as it is the
    bulk of a row. ``after`` resumes after a row: its sort value (unless sorted by
    annotator), ``annotator_id`` and ``attribute_position``."""
    statement = _scores_statement(
        sort,
        attribute_id is not None,
        status is not None,
        annotator_id is not None,
        annotator_prefix is not None,
        after is not None,
        with_confusion,
        limit is not None,
    )
    parameters = {
        "project_id": project_id,
        "attribute_id": attribute_id,
        "status": status,
        "annotator_id": annotator_id,
        "annotator_prefix": annotator_prefix,
        "limit": limit,
    }
    if after is not None:
        *value, parameters["after_annotator"], parameters["after_position"] = after
        parameters["after_value"] = value[0] if value else None
    return session.execute(statement, parameters).all()


_QUEUE_ORDER = ((Result.priority, True), (Result.id, False))


@cache
def _queue_statement(by_attribute: bool, after: bool):
    # The page's results are chosen first, from the flagged ones alone (read by
    # status, sorted by priority: no index names priority, which every refit moves),
    # and joined to their items after: joined first, the planner hashes every item.
    page = select(Result.id).where(Result.project_id == _param("project_id"))
    page = page.where(Result.status == "flagged")
    if by_attribute:
        page = page.where(Result.attribute_id == _param("attribute_id"))
    if after:
        position = (_param("after_priority"), _param("after_id"))
        page = page.where(_keyset_after(_QUEUE_ORDER, position))
    in_queue_order = _order_by(_QUEUE_ORDER)
    page = page.order_by(*in_queue_order).limit(_param("limit"))
    query = (
        select(
            *_RESULT_COLUMNS,
            ReviewClaim.reviewer.label("claimed_by"),
            ReviewClaim.expires_at.label("claim_expires_at"),
        )
        .join(Item, Item.id == Result.item_id)
        .join(Attribute, Attribute.id == Result.attribute_id)
        .join(Fit, _CURRENT_FIT)
        .outerjoin(
            ReviewClaim,
            and_(
                ReviewClaim.project_id == Result.project_id,
                ReviewClaim.item_id == Result.item_id,
                ReviewClaim.attribute_id == Result.attribute_id,
                ReviewClaim.expires_at > _param("now"),
            ),
        )
        .where(Result.id.in_(page))
    )
    return query.order_by(*in_queue_order)


def queue_page(
    session: Reader,
    project_id: str,
    *,
    attribute_id: int | None,
    after: tuple[float, int] | None,
    limit: int,
    now: datetime,
) -> list:
    """Flagged results, highest priority first (ties: oldest result first), each with
    its active lease if any."""
    statement = _queue_statement(attribute_id is not None, after is not None)
    after_priority, after_id = after if after is not None else (None, None)
    parameters = {
        "project_id": project_id,
        "attribute_id": attribute_id,
        "after_priority": after_priority,
        "after_id": after_id,
        "now": now,
        "limit": limit,
    }
    return session.execute(statement, parameters).all()


_CURRENT_FIT_ID = select(func.max(Fit.id)).where(
    Fit.project_id == _param("project_id"), Fit.current.is_(True)
)
_NEWEST_VERDICT_ID = select(func.max(Verdict.id)).where(Verdict.project_id == _param("project_id"))
_RESULTS_VERSION = select(_CURRENT_FIT_ID.scalar_subquery(), _NEWEST_VERDICT_ID.scalar_subquery())
_ACTIVE_LEASES = (
    ReviewClaim.project_id == _param("project_id"),
    ReviewClaim.expires_at > _param("now"),
)
_QUEUE_VERSION = select(
    _CURRENT_FIT_ID.scalar_subquery(),
    _NEWEST_VERDICT_ID.scalar_subquery(),
    select(func.count()).where(*_ACTIVE_LEASES).scalar_subquery(),
    select(func.max(ReviewClaim.claimed_at)).where(*_ACTIVE_LEASES).scalar_subquery(),
)


def current_fit_id(session: Reader, project_id: str) -> int | None:
    """The id (version) of the fit in service, None before the first fit."""
    return session.scalar(_CURRENT_FIT_ID, {"project_id": project_id})


def results_version(session: Reader, project_id: str) -> tuple[int | None, int | None]:
    """What names the state of the published results: result rows are written only
    when a fit is published (a new current fit id) and by verdicts (a new verdict id)."""
    return tuple(session.execute(_RESULTS_VERSION, {"project_id": project_id}).one())


def queue_version(session: Reader, project_id: str, now: datetime) -> tuple:
    """What names the state of the review queue at ``now``: the results' version, and
    the number of active leases with the newest one's time. A lease taken or renewed
    is the newest (it is taken now); one that expires or ends in a verdict lowers the
    count or moves the verdict id."""
    return tuple(session.execute(_QUEUE_VERSION, {"project_id": project_id, "now": now}).one())


def claim_candidates(
    session: Session, project_id: str, attribute_id: int | None, now: datetime, limit: int
) -> list[tuple[int, int]]:
    """Up to ``limit`` unleased flagged (item_id, attribute_id), by priority.

    On PostgreSQL the result rows are locked with SKIP LOCKED, so a concurrent
    claimer passes over the rows this transaction is claiming instead of waiting
    for them (or taking them too).
    """
    active = (
        select(ReviewClaim.item_id)
        .where(
            ReviewClaim.project_id == Result.project_id,
            ReviewClaim.item_id == Result.item_id,
            ReviewClaim.attribute_id == Result.attribute_id,
            ReviewClaim.expires_at > now,
        )
        .exists()
    )
    query = select(Result.item_id, Result.attribute_id).where(
        Result.project_id == project_id, Result.status == "flagged", ~active
    )
    if attribute_id is not None:
        query = query.where(Result.attribute_id == attribute_id)
    query = query.order_by(Result.priority.desc(), Result.id).limit(limit)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True, of=Result)
    return [tuple(row) for row in session.execute(query)]


def take_lease(
    session: Session,
    project_id: str,
    item_id: int,
    attribute_id: int,
    reviewer: str,
    now: datetime,
    expires_at: datetime,
) -> bool:
    """Lease one (item, attribute) unless someone else holds an active lease on it.

    One atomic statement: an insert, or an update of an expired (or own) lease. Two
    transactions racing for the same row serialise on it and the second sees the
    first's lease, so it gets false.
    """
    dialect = session.get_bind().dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    statement = module.insert(ReviewClaim.__table__).values(
        project_id=project_id,
        item_id=item_id,
        attribute_id=attribute_id,
        reviewer=reviewer,
        claimed_at=now,
        expires_at=expires_at,
    )
    table = ReviewClaim.__table__
    statement = statement.on_conflict_do_update(
        index_elements=["project_id", "item_id", "attribute_id"],
        set_={
            "reviewer": statement.excluded.reviewer,
            "claimed_at": statement.excluded.claimed_at,
            "expires_at": statement.excluded.expires_at,
        },
        where=or_(table.c.expires_at <= now, table.c.reviewer == reviewer),
    ).returning(table.c.item_id)
    return session.execute(statement).first() is not None


def active_lease(
    session: Session, project_id: str, item_id: int, attribute_id: int, now: datetime
) -> ReviewClaim | None:
    query = select(ReviewClaim).where(
        ReviewClaim.project_id == project_id,
        ReviewClaim.item_id == item_id,
        ReviewClaim.attribute_id == attribute_id,
        ReviewClaim.expires_at > now,
    )
    return session.scalar(query)


def record_verdict(session: Session, verdict: Verdict) -> None:
    """Keep the verdict, end its lease, and mark the published result ``reviewed``.
    The new verdict id tells cached pages that results changed (``results_version``)."""
    session.add(verdict)
    session.execute(
        delete(ReviewClaim).where(
            ReviewClaim.project_id == verdict.project_id,
            ReviewClaim.item_id == verdict.item_id,
            ReviewClaim.attribute_id == verdict.attribute_id,
        )
    )
    session.execute(
        update(Result)
        .where(
            Result.project_id == verdict.project_id,
            Result.item_id == verdict.item_id,
            Result.attribute_id == verdict.attribute_id,
        )
        .values(status="reviewed", flags=[], priority=0.0, label=verdict.value, confidence=1.0)
    )


def reapply_verdicts(session: Session, project_id: str) -> None:
    """Mark ``reviewed`` every published result that has an expert verdict.

    Called when a fit is published: a fit that loaded its data before a verdict
    arrived would otherwise publish that item as flagged again, and it would
    re-enter the review queue until the next refit.
    """
    session.execute(
        update(Result)
        .where(
            Result.project_id == project_id,
            Result.status != "reviewed",
            # a join (UPDATE ... FROM gold): driven by the few verdicts, not one
            # subquery per result row
            Gold.project_id == Result.project_id,
            Gold.item_id == Result.item_id,
            Gold.attribute_id == Result.attribute_id,
            Gold.source == "verdict",
        )
        .values(status="reviewed", flags=[], priority=0.0, label=Gold.value, confidence=1.0)
        .execution_options(synchronize_session=False)
    )


def status_counts(session: Session, project_id: str) -> dict[int, dict[str, int]]:
    """Results per status, by attribute_id."""
    query = (
        select(Result.attribute_id, Result.status, func.count())
        .where(Result.project_id == project_id)
        .group_by(Result.attribute_id, Result.status)
    )
    counts: dict[int, dict[str, int]] = {}
    for attribute_id, status, n in session.execute(query):
        counts.setdefault(attribute_id, {})[status] = n
    return counts
