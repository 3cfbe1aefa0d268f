"""Bearer tokens: issued once, stored hashed, scoped to a project."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from qc_service.errors import Forbidden, NotFound, Unauthorized
from qc_service.service.context import Context
from qc_service.store import db
from qc_service.store import projects as project_store
from qc_service.store.models import Token

ALL_SCOPES = ("admin", "ingest", "read", "review")
TOKEN_PREFIX = "qc_"


def hash_token(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a project's token, or a service-wide admin (``project`` None)."""

    project: str | None
    scopes: frozenset[str]

    def require(self, project_id: str | None, scope: str) -> None:
        """Allow the call or raise. A token of another project learns nothing about this
        one, not even that it exists: it gets the same 404 as for a missing project."""
        if project_id is not None and self.project not in (None, project_id):
            raise NotFound(f"project {project_id!r} does not exist")
        if project_id is None and self.project is not None:
            raise Forbidden("this call needs a service-wide admin token")
        if scope not in self.scopes and "admin" not in self.scopes:
            raise Forbidden(f"this token lacks the {scope!r} scope")


def authenticate(ctx: Context, authorization: str | None) -> Principal:
    if not authorization:
        raise Unauthorized("send 'Authorization: Bearer <token>'")
    scheme, _, secret = authorization.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("the Authorization header must be 'Bearer <token>'")
    return principal_for_hash(ctx, hash_token(secret.strip()))


def principal_for_hash(ctx: Context, token_hash: str) -> Principal:
    """The principal of a token known only by its hash (the dashboard's session keeps
    the hash, so a leaked cookie is no API credential)."""
    principal = ctx.principals.get_or_load(token_hash, lambda: _load_principal(ctx, token_hash))
    if principal is None:
        raise Unauthorized("unknown token")
    return principal


def _load_principal(ctx: Context, token_hash: str) -> Principal | None:
    with db.session_scope(ctx.engine) as session:
        token = project_store.find_token(session, token_hash)
    return None if token is None else Principal(token.project_id, frozenset(token.scopes))


def seed_admin_token(ctx: Context, secret: str) -> None:
    """Make ``secret`` a service-wide admin token (idempotent)."""
    token_hash = hash_token(secret)
    with db.session_scope(ctx.engine, write=True) as session:
        if project_store.find_token(session, token_hash) is None:
            project_store.insert_token(
                session,
                Token(
                    project_id=None,
                    token_hash=token_hash,
                    scopes=list(ALL_SCOPES),
                    name="QC_ADMIN_TOKEN",
                ),
            )


def create_token(
    ctx: Context, project_id: str | None, scopes: list[str], name: str = ""
) -> tuple[str, Token]:
    """Issue a token; the secret is returned here and never again."""
    secret = new_secret()
    with db.session_scope(ctx.engine, write=True) as session:
        if project_id is not None and not project_store.project_exists(session, project_id):
            raise NotFound(f"project {project_id!r} does not exist")
        token = Token(
            project_id=project_id,
            token_hash=hash_token(secret),
            scopes=sorted(set(scopes)),
            name=name,
        )
        project_store.insert_token(session, token)
    return secret, token
