"""Fixtures shared by the whole suite.

Every test that touches storage runs twice: on SQLite (the embedded default) and on
the real PostgreSQL named by ``QC_TEST_POSTGRES_URL`` (default: the local server's
``test`` database). Each test run gets its own PostgreSQL schema, migrated once and
emptied before each test. PostgreSQL being down is an error, not a skip: a suite
that silently stops testing the production database proves nothing.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel

from qc_service.app import create_app
from qc_service.settings import Settings
from qc_service.store import (
    db,
    models,  # noqa: F401 - the tables must be on the metadata
)

ROOT = Path(__file__).resolve().parent.parent
POSTGRES_URL = os.environ.get(
    "QC_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
ADMIN_TOKEN = "qc_test_admin_token"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


def shared_dir(name: str, env: str) -> Path:
    """A folder of ``../shared`` (or the path in ``env``)."""
    return Path(os.environ.get(env, ROOT.parent / "shared" / name))


DATASETS = shared_dir("datasets", "QC_DATASETS")
PAYLOADS = shared_dir("payloads", "QC_PAYLOADS")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    schema = f"qc_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = sa.create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    except sa.exc.OperationalError as error:
        pytest.fail(
            f"PostgreSQL at {POSTGRES_URL} is not reachable ({error.orig}); start it "
            "(`bash .ci/run` does) or point QC_TEST_POSTGRES_URL at one",
            pytrace=False,
        )
    separator = "&" if "?" in POSTGRES_URL else "?"
    url = f"{POSTGRES_URL}{separator}options={quote(f'-csearch_path={schema}')}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    yield url
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'qc.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> str:
    """A migrated, empty database of each kind in turn."""
    url = request.getfixturevalue(f"{request.param}_url")
    engine = sa.create_engine(url)
    empty_all_tables(engine)
    engine.dispose()
    return url


def empty_all_tables(engine: sa.Engine) -> None:
    tables = [t for t in SQLModel.metadata.sorted_tables]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in reversed(tables):
                connection.execute(table.delete())


def row_counts(engine: sa.Engine) -> dict[str, int]:
    """Rows per table: tests compare these before and after a refused request."""
    with engine.connect() as connection:
        return {
            t.name: connection.execute(sa.select(sa.func.count()).select_from(t)).scalar_one()
            for t in SQLModel.metadata.sorted_tables
        }


def make_settings(database_url: str, **overrides) -> Settings:
    values = {
        "database_url": database_url,
        "admin_token": ADMIN_TOKEN,
        "auto_migrate": False,
        # No refit starts behind a test's back (it would write rows while the test
        # checks that a refused request wrote none); tests that want one ask for it.
        "refit_debounce_seconds": 3600.0,
    }
    values.update(overrides)
    return Settings.from_env({}, **values)


@pytest.fixture
def settings(database_url: str) -> Settings:
    return make_settings(database_url)


@pytest.fixture
def app(settings: Settings):
    app = create_app({"TESTING": True}, settings=settings)
    yield app
    app.extensions["qc_scheduler"].stop()  # its thread must not run the next test's jobs
    app.extensions["qc"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def engine(app) -> sa.Engine:
    return app.extensions["qc"].engine


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


ADMIN = bearer(ADMIN_TOKEN)

SHADES = ["white", "off-white", "cream", "beige", "light gray"]
PATTERNS = ["solid", "striped", "checked", "floral"]


def project_spec(**overrides) -> dict:
    """A small fine-grained attribute project, the domain's typical shape."""
    spec = {
        "id": "shirts",
        "name": "Shirts",
        "attributes": [
            {"name": "shade", "kind": "categorical", "values": SHADES},
            {"name": "pattern", "kind": "categorical", "values": PATTERNS},
            {"name": "has_logo", "kind": "binary"},
            {"name": "tags", "kind": "multilabel", "values": ["cotton", "linen", "silk"]},
        ],
        "target_confidence": 0.8,
        "min_labels": 2,
        "max_labels": 4,
        "method": "dawid_skene",
    }
    spec.update(overrides)
    return spec


@pytest.fixture
def project(client) -> str:
    response = client.post("/api/v1/projects", json=project_spec(), headers=ADMIN)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


@pytest.fixture
def token_for(client):
    """Make a token of the given scopes for a project."""

    def make(project_id: str, *scopes: str) -> dict[str, str]:
        response = client.post(
            f"/api/v1/projects/{project_id}/tokens", json={"scopes": list(scopes)}, headers=ADMIN
        )
        assert response.status_code == 201, response.get_json()
        return bearer(response.get_json()["token"])

    return make
