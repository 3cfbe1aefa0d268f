"""The dashboard's HTML pages. Each is a shell: its script fetches the data."""

from __future__ import annotations

import functools
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from qc_service.errors import Forbidden, NotFound, ServiceError, Unauthorized
from qc_service.schemas.common import MAX_KEY_LENGTH
from qc_service.service import dashboard, projects
from qc_service.service.auth import Principal
from qc_service.web.blueprint import web
from qc_service.web.session import (
    allows,
    check_csrf,
    context,
    csrf_token,
    current_principal,
    reviewer_name,
    sign_in,
    sign_out,
)


@web.before_request
def refuse_forged_posts() -> None:
    if request.method == "POST":
        check_csrf()


@web.context_processor
def template_globals() -> dict:
    return {"csrf_token": csrf_token}


def page(scope: str) -> Callable:
    """A page of one project that needs ``scope``. Signed-out visitors go to the
    sign-in page and come back; a missing scope or project is an error page."""

    def decorate(view: Callable) -> Callable:
        @functools.wraps(view)
        def handle(project: str, **kwargs: str) -> Response | str:
            try:
                principal = current_principal()
                principal.require(project, scope)
                found = projects.get_project(context(), project)
                return view(project=found, nav=navigation(principal, project), **kwargs)
            except Unauthorized:
                return redirect(url_for("web.signin", next=request.full_path.rstrip("?")))
            except (Forbidden, NotFound) as error:
                return error_page(error)

        return handle

    return decorate


def navigation(principal: Principal, project_id: str) -> dict:
    """What this principal may see of the project: the rest is not shown at all."""
    return {
        "project": project_id,
        "read": allows(principal, project_id, "read"),
        "review": allows(principal, project_id, "review"),
        # Refits are started with the API's scope for it (ingest; admin has every scope).
        "refit": allows(principal, project_id, "ingest"),
        "pick_project": principal.project is None,
        "reviewer": reviewer_name(),
    }


def error_page(error: ServiceError) -> tuple[str, int]:
    return render_template("error.html", error=error, nav=None), error.status


def safe_next(target: str | None) -> str | None:
    """Only a path of this site: an open redirect would let a link sign users in and
    then send them to a look-alike page."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/ui/"):
        return None
    return target


@web.get("/")
def home() -> Response:
    try:
        principal = current_principal()
    except Unauthorized:
        return redirect(url_for("web.signin"))
    if principal.project is None:
        return redirect(url_for("web.project_list"))
    return redirect(url_for("web.overview", project=principal.project))


@web.get("/signin")
def signin() -> str:
    return render_template("signin.html", nav=None, next=safe_next(request.args.get("next")))


@web.post("/signin")
def signin_submit() -> Response | tuple[str, int]:
    token = request.form.get("token", "").strip()
    reviewer = request.form.get("reviewer", "").strip()[:MAX_KEY_LENGTH]
    target = safe_next(request.form.get("next"))
    try:
        principal = sign_in(token, reviewer)
    except Unauthorized:
        message = "That token is not valid." if token else "Paste a token."
        return render_template("signin.html", nav=None, next=target, error=message), 401
    if target:
        return redirect(target)
    if principal.project is None:
        return redirect(url_for("web.project_list"))
    return redirect(url_for("web.overview", project=principal.project))


@web.post("/signout")
def signout() -> Response:
    sign_out()
    return redirect(url_for("web.signin"))


@web.get("/projects")
def project_list() -> Response | str | tuple[str, int]:
    try:
        principal = current_principal()
        principal.require(None, "admin")
    except Unauthorized:
        return redirect(url_for("web.signin"))
    except Forbidden as error:
        return error_page(error)
    return render_template("projects.html", nav=None, projects=dashboard.project_ids(context()))


@web.get("/p/<project>/")
@page("read")
def overview(project, nav: dict) -> str:
    return render_template("overview.html", project=project, nav=nav, active="overview")


@web.get("/p/<project>/annotators")
@page("read")
def annotators(project, nav: dict) -> str:
    return render_template("annotators.html", project=project, nav=nav, active="annotators")


@web.get("/p/<project>/annotators/<path:annotator>")
@page("read")
def annotator(project, nav: dict, annotator: str) -> str:
    return render_template(
        "annotator.html", project=project, nav=nav, active="annotators", annotator=annotator
    )


@web.get("/p/<project>/attributes/<attribute>")
@page("read")
def attribute(project, nav: dict, attribute: str) -> str | tuple[str, int]:
    if attribute not in {a.name for a in project.attributes}:
        return error_page(NotFound(f"the project has no attribute {attribute!r}"))
    return render_template(
        "attribute.html", project=project, nav=nav, active="attributes", attribute=attribute
    )


@web.get("/p/<project>/review")
@page("review")
def review(project, nav: dict) -> str:
    return render_template("review.html", project=project, nav=nav, active="review")
