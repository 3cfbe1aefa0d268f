"""Projects, attributes and tokens."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.orm import Session

from qc_service.store.models import Annotator, Attribute, Gold, Item, Label, Project, Token


def insert_project(session: Session, project: Project, attributes: list[Attribute]) -> None:
    session.add(project)
    session.flush()
    for position, attribute in enumerate(attributes):
        attribute.project_id = project.id
        attribute.position = position
        session.add(attribute)
    session.flush()


def get_project(session: Session, project_id: str) -> Project | None:
    return session.get(Project, project_id)


def project_exists(session: Session, project_id: str) -> bool:
    return session.scalar(select(Project.id).where(Project.id == project_id)) is not None


def list_attributes(session: Session, project_id: str) -> list[Attribute]:
    query = select(Attribute).where(Attribute.project_id == project_id).order_by(Attribute.position)
    return list(session.scalars(query))


def project_counts(session: Session, project_id: str) -> dict[str, int]:
    """Counts for the project document. ``labels`` counts the labels that count now
    (retracted ones excluded); replaced answers still count as stored rows."""

    def count(model, *conditions) -> int:
        query = select(func.count()).select_from(model).where(model.project_id == project_id)
        return session.scalar(query.where(*conditions)) or 0

    return {
        "labels": count(Label, Label.retracted.is_(False)),
        "items": count(Item),
        "annotators": count(Annotator),
        "gold": count(Gold),
    }


def bump_revision(session: Session, project_id: str) -> None:
    """Record that the project's data changed, so the next refit is due."""
    session.connection().execute(_BUMP_REVISION, {"project_id": project_id})


#: Built once: every ingest batch runs it.
_BUMP_REVISION = (
    update(Project)
    .where(Project.id == bindparam("project_id"))
    .values(revision=Project.revision + 1)
)


def insert_token(session: Session, token: Token) -> None:
    session.add(token)
    session.flush()


def find_token(session: Session, token_hash: str) -> Token | None:
    return session.scalar(select(Token).where(Token.token_hash == token_hash))


def list_projects(session: Session, limit: int) -> list[Project]:
    query = select(Project).order_by(Project.created_at.desc(), Project.id).limit(limit)
    return list(session.scalars(query))
