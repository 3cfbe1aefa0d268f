"""Annotator scores page by page: keyset cursors for every sort, the annotator id
prefix filter, and the problems a bad sort or cursor gets."""

from __future__ import annotations

import base64
import json
import typing

import pytest

from qc_service.schemas.results import AnnotatorSort
from tests.conftest import ADMIN, project_spec
from tests.results.helpers import all_pages, forged_cursor, refit

URL = "/api/v1/projects/shirts/annotators"
#: Four annotators who always agree (their scores tie on every sort), one who is
#: right half the time and one who is always wrong.
ANNOTATORS = ("a1", "a2", "a10", "a11", "b1", "c1")
#: The order of the project's attributes (project_spec); only these two get labels.
POSITION = {"shade": 0, "has_logo": 2}


@pytest.fixture
def scored(client) -> str:
    spec = project_spec(min_labels=2, max_labels=6, target_confidence=0.99)
    assert client.post("/api/v1/projects", json=spec, headers=ADMIN).status_code == 201
    labels = []
    for i in range(12):
        for annotator in ANNOTATORS:
            wrong = annotator == "c1" or (annotator == "b1" and i % 2 == 1)
            shade = "beige" if wrong else "white"
            logo = (i % 3 == 0) != wrong
            labels += [
                {"item": f"i{i}", "annotator": annotator, "attribute": "shade", "value": shade},
                {"item": f"i{i}", "annotator": annotator, "attribute": "has_logo", "value": logo},
            ]
    response = client.post("/api/v1/projects/shirts/labels", json={"labels": labels}, headers=ADMIN)
    assert response.status_code == 200, response.get_json()
    refit(client, "shirts")
    return "shirts"


def sort_key(sort: str):
    """The documented order: by the score (``-``: highest first), ties by annotator
    id, then by the attribute's place in the project."""
    field = sort.lstrip("-")
    sign = -1 if sort.startswith("-") else 1

    def key(row: dict) -> tuple:
        value = () if field == "annotator" else (sign * row[field],)
        return (*value, row["annotator"], POSITION[row["attribute"]])

    return key


def pages(client, url: str, limit: int) -> list[list[dict]]:
    found, cursor = [], None
    while True:
        separator = "&" if "?" in url else "?"
        page_url = f"{url}{separator}limit={limit}" + (f"&cursor={cursor}" if cursor else "")
        response = client.get(page_url, headers=ADMIN)
        assert response.status_code == 200, response.get_json()
        found.append(response.get_json()["annotators"])
        cursor = response.get_json()["next_cursor"]
        if cursor is None:
            return found


def test_every_sort_pages_through_every_row_once_in_order(client, scored):
    everyone = all_pages(client, URL, "annotators")
    assert len(everyone) == len(ANNOTATORS) * len(POSITION)
    ties = {row["accuracy"] for row in everyone if row["annotator"] in ("a1", "a2", "a10", "a11")}
    assert len(ties) == len(POSITION)  # the four tie on each attribute: the tie-breaker decides
    for sort in typing.get_args(AnnotatorSort):
        url = f"{URL}?sort={sort}"
        for limit in (1, 3, 5):
            paged = pages(client, url, limit)
            assert all(len(page) == limit for page in paged[:-1]) and paged[-1]
            rows = [row for page in paged for row in page]
            assert rows == sorted(everyone, key=sort_key(sort)), (sort, limit)


def test_agreement_sort_puts_the_aggregate_s_closest_followers_first(client, scored):
    rows = all_pages(client, f"{URL}?sort=-agreement&attribute=shade", "annotators")
    assert [row["annotator"] for row in rows][-2:] == ["b1", "c1"]
    assert rows[0]["agreement"] == 1.0 > rows[-2]["agreement"] > rows[-1]["agreement"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("annotator_prefix=a1", {"a1", "a10", "a11"}),
        ("annotator_prefix=a10", {"a10"}),
        ("annotator_prefix=b&attribute=shade", {"b1"}),
        ("annotator_prefix=a1&sort=-accuracy&status=ok", {"a1", "a10", "a11"}),
        ("annotator_prefix=A", set()),  # ids are case-sensitive, on SQLite too
        ("annotator_prefix=a%25", set()),  # no wildcards: '%' is a character
        ("annotator_prefix=a_", set()),
        ("annotator_prefix=zz", set()),
    ],
)
def test_annotator_prefix_filter(client, scored, query, expected):
    paged = pages(client, f"{URL}?{query}", limit=1)
    rows = [row for page in paged for row in page]
    assert {row["annotator"] for row in rows} == expected
    if "attribute=shade" in query:
        assert {row["attribute"] for row in rows} == {"shade"}
    if not expected:
        assert paged == [[]]


def cursor_of(client, url: str) -> str:
    cursor = client.get(url, headers=ADMIN).get_json()["next_cursor"]
    assert cursor
    return cursor


def test_a_cursor_pages_only_the_sort_and_filters_it_was_made_with(client, scored):
    cursor = cursor_of(client, f"{URL}?sort=-accuracy&attribute=shade&limit=2")
    assert len(cursor) <= 200  # the documented limit of a cursor, whatever the ids
    same = client.get(
        f"{URL}?sort=-accuracy&attribute=shade&limit=4&cursor={cursor}", headers=ADMIN
    )
    assert same.status_code == 200  # the page size may change
    for other in (
        "sort=accuracy&attribute=shade",
        "sort=-agreement&attribute=shade",
        "sort=-accuracy",
        "sort=-accuracy&attribute=has_logo",
        "sort=-accuracy&attribute=shade&status=ok",
        "sort=-accuracy&attribute=shade&annotator_prefix=a",
    ):
        response = client.get(f"{URL}?{other}&cursor={cursor}", headers=ADMIN)
        assert response.status_code == 422, other
        assert response.headers["Content-Type"] == "application/problem+json"
        [error] = response.get_json()["errors"]
        assert error["field"] == "/query/cursor" and "another sort" in error["message"]


@pytest.mark.parametrize(
    "cursor",
    [
        "%%%",
        "bm90LWEtY3Vyc29y",  # base64, not JSON
        forged_cursor({"offset": 2}),  # the offset cursors of earlier versions
        forged_cursor([1, 2]),
        "sort-then-after",  # replaced below by a real cursor with a forged position
        "forged-value",
        "huge-id",
    ],
)
def test_a_malformed_cursor_is_a_problem_naming_it(client, scored, cursor):
    forged = {"sort-then-after": [1, 2, 3], "forged-value": ["a1", 0], "huge-id": [2**64, 0]}
    if cursor in forged:
        real = json.loads(base64.urlsafe_b64decode(cursor_of(client, f"{URL}?limit=2") + "=="))
        cursor = forged_cursor({**real, "after": forged[cursor]})
    response = client.get(f"{URL}?cursor={cursor}", headers=ADMIN)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == ["/query/cursor"]


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("sort=agreements", "/query/sort"),
        ("sort=-annotator", "/query/sort"),
        ("annotator_prefix=", "/query/annotator_prefix"),
        (f"annotator_prefix={'x' * 257}", "/query/annotator_prefix"),
    ],
)
def test_bad_sort_or_prefix_is_a_problem_naming_it(client, scored, query, field):
    response = client.get(f"{URL}?{query}", headers=ADMIN)
    assert response.status_code == 422
    assert [e["field"] for e in response.get_json()["errors"]] == [field]


def test_a_later_page_answers_304_until_the_next_fit(client, scored):
    first_page = f"{URL}?sort=-agreement&limit=3"
    url = f"{first_page}&cursor={cursor_of(client, first_page)}"
    first = client.get(url, headers=ADMIN)
    assert first.status_code == 200 and first.get_json()["annotators"]
    etag = first.headers["ETag"]
    assert client.get(url, headers={**ADMIN, "If-None-Match": etag}).status_code == 304
    refit(client, "shirts")
    again = client.get(url, headers={**ADMIN, "If-None-Match": etag})
    assert again.status_code == 200 and again.headers["ETag"] != etag
