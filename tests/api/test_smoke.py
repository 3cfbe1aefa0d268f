from tests.conftest import ADMIN


def test_create_and_read_project(client, project):
    response = client.get(f"/api/v1/projects/{project}", headers=ADMIN)
    assert response.status_code == 200
    body = response.get_json()
    assert [a["name"] for a in body["attributes"]] == ["shade", "pattern", "has_logo", "tags"]
    assert body["counts"] == {"labels": 0, "items": 0, "annotators": 0, "gold": 0}


def test_post_labels(client, project):
    labels = [
        {"item": "img-1", "annotator": "a1", "attribute": "shade", "value": "cream", "id": "e1"},
        {"item": "img-1", "annotator": "a2", "attribute": "shade", "value": "cream", "id": "e2"},
    ]
    response = client.post(
        f"/api/v1/projects/{project}/labels", json={"labels": labels}, headers=ADMIN
    )
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["accepted"] == 2
    assert body["items"] == [
        {
            "item": "img-1",
            "attribute": "shade",
            "status": "confident",
            "label": "cream",
            "confidence": 1.0,
        }
    ]
