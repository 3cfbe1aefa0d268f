"""Health, readiness and the OpenAPI document."""

from __future__ import annotations

import re

import sqlalchemy as sa

from qc_service.api.routing import ENDPOINTS


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_readyz_when_migrated(client):
    body = client.get("/readyz").get_json()
    assert body["status"] == "ok" and body["database"] == "ok"


def test_readyz_when_the_database_is_unreachable(tmp_path):
    from qc_service.app import create_app
    from qc_service.settings import Settings

    settings = Settings.from_env(
        {}, database_url="postgresql+psycopg://nobody@127.0.0.1:1/none", auto_migrate=False
    )
    response = create_app(settings=settings).test_client().get("/readyz")
    assert response.status_code == 503
    assert "unreachable" in response.get_json()["database"]


def test_readyz_when_the_schema_is_behind(tmp_path):
    from qc_service.app import create_app
    from qc_service.settings import Settings

    url = f"sqlite:///{tmp_path / 'empty.db'}"
    sa.create_engine(url).connect().close()
    settings = Settings.from_env({}, database_url=url, auto_migrate=False)
    response = create_app(settings=settings).test_client().get("/readyz")
    assert response.status_code == 503
    assert "qc-service db upgrade" in response.get_json()["database"]


def test_openapi_documents_every_endpoint(client):
    document = client.get("/api/v1/openapi.json").get_json()
    assert document["openapi"].startswith("3.1")
    operations = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item
    }
    assert operations == {(e.method, e.openapi_path) for e in ENDPOINTS}
    create = document["paths"]["/api/v1/projects"]["post"]
    schema_ref = create["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    name = schema_ref.rsplit("/", 1)[-1]
    assert set(document["components"]["schemas"][name]["properties"]) >= {
        "name",
        "attributes",
        "target_confidence",
        "min_labels",
        "max_labels",
        "method",
    }
    labels = document["paths"]["/api/v1/projects/{project}/labels"]["post"]
    assert "422" in labels["responses"] and "413" in labels["responses"]
    assert any(p["name"] == "Idempotency-Key" for p in labels["parameters"])


def test_openapi_documents_the_annotators_sorts_and_filters(client):
    document = client.get("/api/v1/openapi.json").get_json()
    operation = document["paths"]["/api/v1/projects/{project}/annotators"]["get"]
    parameters = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    assert set(parameters) >= {"attribute", "status", "annotator_prefix", "sort", "cursor"}
    assert "case-sensitive" in parameters["annotator_prefix"]["description"]
    assert parameters["annotator_prefix"]["schema"]["anyOf"][0]["minLength"] == 1
    sort = parameters["sort"]["schema"]
    assert set(sort["enum"]) >= {"annotator", "agreement", "-agreement", "-accuracy"}
    assert "ties by annotator id" in parameters["sort"]["description"]


def test_openapi_refs_all_resolve(client):
    document = client.get("/api/v1/openapi.json").get_json()
    names = set(document["components"]["schemas"])

    def refs(node):
        if isinstance(node, dict):
            if "$ref" in node:
                yield node["$ref"]
            for value in node.values():
                yield from refs(value)
        elif isinstance(node, list):
            for value in node:
                yield from refs(value)

    missing = {ref for ref in refs(document) if ref.rsplit("/", 1)[-1] not in names}
    assert missing == set()


def test_docs_page_is_swagger_ui_over_the_document_with_local_assets(client):
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert '"url": "/api/v1/openapi.json"' in html
    assets = re.findall(r'(?:src|href)="(/api/v1/docs/[^"]+)"', html)
    assert any(a.endswith("swagger-ui-bundle.js") for a in assets)
    for asset in assets:
        assert client.get(asset).status_code == 200, asset
    missing = client.get("/api/v1/docs/no-such-asset.js")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_openapi_names_every_method_a_project_can_choose(client):
    from qc_service.engine import METHODS

    document = client.get("/api/v1/openapi.json").get_json()
    described = document["components"]["schemas"]["ProjectCreate"]["properties"]["method"]
    named = set(re.findall(r"[a-z_]+", described["description"]))
    assert set(METHODS) <= named
