"""Who is signed in to the dashboard, and the CSRF token of their session.

The session lives in Flask's signed cookie (HTTP-only, SameSite=Lax, Secure over
https). It holds the hash of the token the user signed in with, never the token
itself: the cookie is signed, not encrypted, and a leaked cookie must not hand out
an API credential. The hash is checked again on every request through
``service.auth``, so a revoked token stops working at once (within the principal
cache's minute). A random CSRF token rides along that every POST must echo.
"""

from __future__ import annotations

import hmac
import secrets

from flask import Flask, current_app, request, session
from flask.sessions import SecureCookieSessionInterface

from qc_service.errors import Forbidden, NotFound, Unauthorized
from qc_service.service import Context
from qc_service.service.auth import Principal, authenticate, hash_token, principal_for_hash

CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, marked Secure whenever the request came over
    https, so one deployment serves both a local http port and a TLS proxy."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure


def context() -> Context:
    return current_app.extensions["qc"]


def csrf_token() -> str:
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def check_csrf() -> None:
    """Refuse a POST whose CSRF token (form field or header) is not the session's."""
    sent = request.headers.get(CSRF_HEADER) or request.form.get(CSRF_FIELD, "")
    expected = session.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden("the form is stale or came from another site: reload the page")


def sign_in(token: str, reviewer: str) -> Principal:
    """Check the token and start a fresh session (a new CSRF token too, so a token
    planted before sign-in is worthless)."""
    principal = authenticate(context(), f"Bearer {token}")
    session.clear()
    session["token_hash"] = hash_token(token.strip())
    session["reviewer"] = reviewer
    csrf_token()
    return principal


def sign_out() -> None:
    session.clear()


def current_principal() -> Principal:
    token_hash = session.get("token_hash")
    if not token_hash:
        raise Unauthorized("sign in first")
    try:
        return principal_for_hash(context(), token_hash)
    except Unauthorized:
        session.pop("token_hash", None)  # the token was revoked: the session is over
        raise


def reviewer_name() -> str:
    return session.get("reviewer") or "expert"


def allows(principal: Principal, project_id: str, scope: str) -> bool:
    try:
        principal.require(project_id, scope)
    except (Forbidden, NotFound):
        return False
    return True
