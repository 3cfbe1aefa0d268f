"""Creating and reading projects."""

from __future__ import annotations

import re
import unicodedata

from sqlalchemy.exc import IntegrityError

from qc_service.engine import METHODS
from qc_service.errors import Conflict, FieldError, InvalidInput, NotFound
from qc_service.schemas.projects import AttributeOut, ProjectCounts, ProjectCreate, ProjectOut
from qc_service.service import fits
from qc_service.service.context import Context
from qc_service.store import db
from qc_service.store import projects as project_store
from qc_service.store.models import Attribute, Project


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:64].rstrip("-") or "project"


def create_project(ctx: Context, spec: ProjectCreate) -> ProjectOut:
    if spec.method not in METHODS:
        raise InvalidInput(
            "unknown aggregation method",
            [FieldError("/method", f"must be one of {', '.join(METHODS)}")],
        )
    project_id = spec.id or slugify(spec.name)
    project = Project(
        id=project_id,
        name=spec.name,
        target_confidence=spec.target_confidence,
        min_labels=spec.min_labels,
        max_labels=spec.max_labels,
        method=spec.method,
    )
    attributes = [
        Attribute(project_id=project_id, position=i, name=a.name, kind=a.kind, values=a.values)
        for i, a in enumerate(spec.attributes)
    ]
    try:
        with db.session_scope(ctx.engine, write=True) as session:
            if project_store.project_exists(session, project_id):
                raise _exists(project_id)
            project_store.insert_project(session, project, attributes)
    except IntegrityError:  # a concurrent create of the same id won the race
        raise _exists(project_id) from None
    return get_project(ctx, project_id)


def _exists(project_id: str) -> Conflict:
    return Conflict(
        f"a project {project_id!r} exists already",
        [FieldError("/id", "choose another id (or name)")],
    )


def get_project(ctx: Context, project_id: str) -> ProjectOut:
    with db.session_scope(ctx.engine) as session:
        project = project_store.get_project(session, project_id)
        if project is None:
            raise NotFound(f"project {project_id!r} does not exist")
        attributes = project_store.list_attributes(session, project_id)
        # Counting a big project's labels takes a scan of them (~0.2 s at 1M); the
        # revision, read before the counts, moves with every write that changes them,
        # so counts at an older revision are never served.
        counts = ctx.project_counts.get_or_load(
            project_id,
            project.revision,
            lambda: project_store.project_counts(session, project_id),
        )
        last_fit = fits.last_fit(session, project_id)
    return ProjectOut(
        id=project.id,
        name=project.name,
        attributes=[AttributeOut.model_validate(a) for a in attributes],
        target_confidence=project.target_confidence,
        min_labels=project.min_labels,
        max_labels=project.max_labels,
        method=project.method,
        created_at=project.created_at,
        counts=ProjectCounts(**counts),
        last_fit=last_fit,
    )
