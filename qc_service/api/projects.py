"""Projects and tokens."""

from __future__ import annotations

from qc_service.api.blueprint import api
from qc_service.api.routing import context, endpoint
from qc_service.schemas.projects import ProjectCreate, ProjectOut, TokenCreate, TokenOut
from qc_service.service import auth, projects
from qc_service.service.auth import Principal


@endpoint(
    api,
    "POST",
    "/projects",
    summary="Create a project",
    tag="projects",
    scope="admin",
    body=ProjectCreate,
    response=ProjectOut,
    status=201,
)
def create_project(principal: Principal, body: ProjectCreate):
    """Create a labelling project with its attribute taxonomy and review policy.
    Needs a service-wide admin token (``QC_ADMIN_TOKEN``)."""
    principal.require(None, "admin")
    project = projects.create_project(context(), body)
    return project, 201, {"Location": f"/api/v1/projects/{project.id}"}


@endpoint(
    api,
    "GET",
    "/projects/<project>",
    summary="Read a project",
    tag="projects",
    scope="read",
    response=ProjectOut,
)
def get_project(project: str, principal: Principal):
    """The project with its taxonomy, policy, counts and last fit."""
    return projects.get_project(context(), project)


@endpoint(
    api,
    "POST",
    "/projects/<project>/tokens",
    summary="Create a scoped token",
    tag="projects",
    scope="admin",
    body=TokenCreate,
    response=TokenOut,
    status=201,
)
def create_token(project: str, principal: Principal, body: TokenCreate):
    """Issue a token for this project with the given scopes. The secret is in this
    answer only; the service keeps its hash."""
    secret, token = auth.create_token(context(), project, body.scopes, body.name)
    return TokenOut(token=secret, scopes=token.scopes, project=project, name=token.name)
