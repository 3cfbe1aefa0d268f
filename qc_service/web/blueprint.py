"""The dashboard blueprint and the headers every one of its answers carries."""

from __future__ import annotations

from flask import Blueprint, Response

web = Blueprint(
    "web",
    __name__,
    url_prefix="/ui",
    template_folder="templates",
    static_folder="static",
    static_url_path="/static",
)

#: Only our own scripts and styles run; item images may come from anywhere (they are
#: the platform's own URLs), but nothing else is fetched from another origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data: http: https:; script-src 'self'; "
    "style-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


@web.after_request
def security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    if response.mimetype in ("text/html", "application/json"):
        # Pages and data depend on who is signed in: no shared cache may keep them.
        response.headers.setdefault("Cache-Control", "no-store")
    return response
