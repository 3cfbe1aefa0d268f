"""The README's examples and tables are true (documented behaviour is tested)."""

from __future__ import annotations

import itertools
import json
import re
import shlex
from pathlib import Path

from qc_service.app import create_app
from qc_service.settings import settings_table
from tests.conftest import make_settings

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()


def code_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, flags=re.S)


def curl_requests() -> list[dict]:
    """Each curl command of the README as (method, path, headers, body)."""
    found = []
    for block in code_blocks("sh"):
        for command in re.split(r"\n(?=curl )", block.replace("\\\n", " ")):
            if not command.startswith("curl "):
                continue
            words = shlex.split(command)
            request = {"method": "GET", "headers": {}, "body": None}
            for flag, value in itertools.pairwise(words):
                if flag == "-X":
                    request["method"] = value
                elif flag == "-H":
                    name, _, header = value.partition(": ")
                    request["headers"][name] = header
                elif flag == "-d":
                    request["body"] = value
            request["path"] = next(w for w in words if w.startswith("http")).split(":8000", 1)[1]
            found.append(request)
    return found


def test_configuration_table_matches_the_settings():
    rows = re.findall(r"^\| `(\w+)` \| `([^`]*)` \| (.+) \|$", README, flags=re.M)
    documented = [(variable, default, meaning) for variable, default, meaning in rows]
    expected = [(r["variable"], r["default"], r["meaning"]) for r in settings_table()]
    assert documented == expected


def test_curl_examples_work_as_written(tmp_path):
    settings = make_settings(
        f"sqlite:///{tmp_path / 'qc.db'}", admin_token="dev-admin-token", auto_migrate=True
    )
    client = create_app({"TESTING": True}, settings=settings).test_client()
    requests = curl_requests()
    assert len(requests) >= 3
    answers = []
    for request in requests:
        response = client.open(
            request["path"],
            method=request["method"],
            headers=request["headers"],
            data=request["body"],
        )
        assert response.status_code in (200, 201), (request["path"], response.get_json())
        answers.append(response.get_json())
    documented_answer = json.loads(code_blocks("json")[0])
    labels_answer = next(a for a in answers if "accepted" in a)
    assert labels_answer == documented_answer


def test_documented_problem_document_is_real(tmp_path):
    settings = make_settings(
        f"sqlite:///{tmp_path / 'qc.db'}", admin_token="dev-admin-token", auto_migrate=True
    )
    client = create_app({"TESTING": True}, settings=settings).test_client()
    requests = curl_requests()
    headers = requests[0]["headers"]
    client.post(requests[0]["path"], headers=headers, data=requests[0]["body"])
    bad = {
        "labels": [{"item": "img-1", "annotator": "a", "attribute": "shade", "value": "magenta"}]
    }
    response = client.post("/api/v1/projects/shirts/labels", headers=headers, json=bad)
    assert response.get_json() == json.loads(code_blocks("json")[1])


def test_every_endpoint_is_in_the_api_table():
    from qc_service.api.routing import ENDPOINTS

    table = README[README.index("| method and path |") : README.index("Lists answer")]
    for endpoint in ENDPOINTS:
        path = endpoint.openapi_path.removeprefix("/api/v1")
        assert f"{path}`" in table or f"{path}?" in table, path
        row = next(line for line in table.splitlines() if f" {path}" in line)
        assert endpoint.method in row, (endpoint.method, path)
