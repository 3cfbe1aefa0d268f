"""Checking answers against a project's attribute taxonomy, and their stored form."""

from __future__ import annotations

import json
from collections.abc import Sequence

from qc_service.errors import FieldError, NotFound
from qc_service.service.context import Context
from qc_service.store import db
from qc_service.store import projects as project_store
from qc_service.store.models import Attribute, Project


def load_taxonomy(ctx: Context, project_id: str) -> tuple[Project, dict[str, Attribute]]:
    """The project and its attributes by name, cached per process (a taxonomy is fixed
    once created); 404 if the project does not exist (a miss is not cached, so a
    project created meanwhile is found at once)."""
    return ctx.taxonomies.get_or_load(project_id, lambda: _read_taxonomy(ctx, project_id))


def _read_taxonomy(ctx: Context, project_id: str) -> tuple[Project, dict[str, Attribute]]:
    with db.session_scope(ctx.engine) as session:
        project = project_store.get_project(session, project_id)
        if project is None:
            raise NotFound(f"project {project_id!r} does not exist")
        attributes = project_store.list_attributes(session, project_id)
    return project, {a.name: a for a in attributes}


class AnswerError(ValueError):
    """An answer that does not fit its attribute; ``message`` names what is wrong."""


def stored_value(attribute: Attribute, raw: object) -> str:
    """The text stored for an answer: the value itself, or for a multilabel answer a
    JSON array of its distinct tags, sorted, so that equal answers compare equal."""
    if attribute.kind == "multilabel":
        if not isinstance(raw, list):
            raise AnswerError("a multilabel answer is a list of tags")
        unknown = sorted({tag for tag in raw if tag not in attribute.values})
        if unknown:
            raise AnswerError(f"unknown tags {unknown}; allowed: {attribute.values}")
        return json.dumps(sorted(set(raw)))
    if isinstance(raw, list):
        raise AnswerError(f"a {attribute.kind} answer is one value, not a list")
    if isinstance(raw, bool):
        if attribute.kind != "binary":
            raise AnswerError("true/false is only for binary attributes")
        return attribute.values[1] if raw else attribute.values[0]
    value = str(raw)
    if value not in attribute.values:
        raise AnswerError(f"{value!r} is not one of {attribute.values}")
    return value


def answer_of(attribute: Attribute, stored: str) -> str | list[str]:
    """The client-facing form of a stored answer."""
    return json.loads(stored) if attribute.kind == "multilabel" else stored


def check_answers(
    attributes: dict[str, Attribute],
    answers: Sequence[tuple[str, object]],
    pointer: str,
) -> tuple[list[str], list[FieldError]]:
    """Stored values for (attribute name, raw value) pairs, and every error found,
    each naming its field as ``{pointer}/{index}/attribute`` or ``.../value``."""
    values: list[str] = []
    errors: list[FieldError] = []
    # A batch repeats a few text answers many times: each is checked once.
    accepted: dict[tuple[str, str], str] = {}
    for index, (name, raw) in enumerate(answers):
        if isinstance(raw, str) and (name, raw) in accepted:
            values.append(accepted[name, raw])
            continue
        attribute = attributes.get(name)
        if attribute is None:
            errors.append(
                FieldError(
                    f"{pointer}/{index}/attribute",
                    f"unknown attribute {name!r}; the project has {sorted(attributes)}",
                )
            )
            values.append("")
            continue
        try:
            value = stored_value(attribute, raw)
        except AnswerError as error:
            errors.append(FieldError(f"{pointer}/{index}/value", str(error)))
            values.append("")
            continue
        if isinstance(raw, str):
            accepted[name, raw] = value
        values.append(value)
    return values, errors
