"""The dashboard end to end: a real server with the demo project, headless Chromium,
every page; then a project of image URLs and a shared real dataset."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.web import live
from tests.web.conftest import screenshot

pytestmark = pytest.mark.browser

DEMO = "demo"


def project_token(server: live.Server, project: str, *scopes: str) -> str:
    with server.api() as api:
        response = api.post(f"/projects/{project}/tokens", json={"scopes": list(scopes)})
        assert response.status_code == 201, response.text
        return response.json()["token"]


def sign_in(page: Page, token: str, reviewer: str = "") -> None:
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/ui/signin"))
    page.fill("input[name=token]", token)
    page.fill("input[name=reviewer]", reviewer)
    page.click("button[type=submit]")


def settled(page: Page) -> None:
    """Wait for the annotators table to draw the answer to the last request."""
    expect(page.locator("#annotators")).not_to_have_attribute("aria-busy", "true")


def test_the_demo_lands_on_a_populated_overview_that_refits(
    page: Page, server: live.Server
) -> None:
    sign_in(page, server.demo_token)
    expect(page).to_have_url(re.compile(rf"/ui/p/{DEMO}/$"))
    with server.api(server.demo_token) as api:
        counts = api.get(f"/projects/{DEMO}").json()["counts"]
    expect(page.locator("[data-count=labels] strong")).to_have_text(f"{counts['labels']:,}")
    expect(page.locator("[data-count=annotators] strong")).to_have_text("25")
    shade = page.locator("#attributes tr[data-attribute=shade]")
    expect(shade.locator("svg.status-bar rect").first).to_be_visible()
    assert 0.1 < float(shade.locator("td").nth(2).inner_text()) < 1.0  # alpha
    expect(shade.locator("td").nth(3)).to_have_text(re.compile(r"\d+\.\d %"))
    version = page.locator("#fit-version").inner_text()
    assert re.fullmatch(r"#\d+", version)

    page.click("#refit")
    expect(page.locator("#job")).to_have_text(re.compile(r"^done in"))
    expect(page.locator("#fit-version")).not_to_have_text(version)
    screenshot(page, "overview")


def test_annotators_sort_filter_and_page(page: Page, server: live.Server) -> None:
    sign_in(page, server.demo_token)
    page.click("nav >> text=Annotators")
    rows = page.locator("#annotators tbody tr[data-annotator]")
    expect(rows).to_have_count(50)
    assert rows.first.get_attribute("data-annotator") == "worker-01"

    page.click("th[data-sort=agreement] button")
    expect(page.locator("th[data-sort=agreement]")).to_have_attribute("aria-sort", "descending")
    settled(page)
    shares = [
        float(t.rstrip(" %"))
        for t in page.locator("#annotators tbody td:nth-child(5)").all_inner_texts()
    ]
    assert shares == sorted(shares, reverse=True) and shares[0] > shares[-1]

    page.click("th[data-sort=accuracy] button")
    expect(page.locator("th[data-sort=accuracy]")).to_have_attribute("aria-sort", "descending")
    settled(page)
    figures = [float(t.rstrip(" %")) for t in page.locator("td.wide .figure").all_inner_texts()]
    assert figures == sorted(figures, reverse=True) and figures[0] > figures[-1]
    page.click("th[data-sort=accuracy] button")
    expect(page.locator("th[data-sort=accuracy]")).to_have_attribute("aria-sort", "ascending")
    settled(page)
    expect(rows.first).to_have_attribute("data-status", "suspected_spammer")

    # has_logo: two values, where the spammer's 40 labels are enough to tell (on shade's
    # six values Raykar & Yu's score cannot tell it from sampling noise yet)
    page.select_option("select[name=attribute]", "has_logo")
    page.select_option("select[name=status]", "suspected_spammer")
    with server.api(server.demo_token) as api:
        query = "attribute=has_logo&status=suspected_spammer&sort=-accuracy"
        expected = api.get(f"/projects/{DEMO}/annotators?{query}").json()["annotators"]
    assert expected
    expect(rows).to_have_count(len(expected))
    settled(page)
    assert set(page.locator("#annotators tbody td:nth-child(2)").all_inner_texts()) == {"has_logo"}
    screenshot(page, "annotators")

    page.select_option("select[name=status]", "")
    page.select_option("select[name=attribute]", "")
    page.select_option("select[name=limit]", "25")
    expect(page.locator("#page-info")).to_have_text("rows 1–25")
    page.click("#next")
    expect(page.locator("#page-info")).to_have_text("rows 26–50")
    page.click("#prev")
    expect(page.locator("#page-info")).to_have_text("rows 1–25")

    # finding annotators by the start of their id, in the same sort
    page.fill("input[name=annotator_prefix]", "worker-2")
    page.press("input[name=annotator_prefix]", "Enter")
    wanted = {f"worker-{n}" for n in range(20, 26)}
    expect(rows).to_have_count(len(wanted) * 4)  # the demo's four attributes each
    settled(page)
    assert {row.get_attribute("data-annotator") for row in rows.all()} == wanted

    worst = rows.first.get_attribute("data-annotator")  # still sorted by accuracy, ascending
    assert worst in {"worker-24", "worker-25"}  # the demo's spammer and adversary
    page.fill("#find input[name=annotator]", "worker-01")
    page.press("#find input[name=annotator]", "Enter")
    expect(page.locator("h1#annotator")).to_have_text("worker-01")
    page.go_back()
    rows.first.locator("a").click()
    expect(page.locator("h1#annotator")).to_have_text(worst)
    card = page.locator("section.card[data-attribute=shade]")
    expect(card.locator("svg.heatmap rect")).to_have_count(36)
    expect(card.locator("ul.pairs li").first).to_contain_text("labels")
    screenshot(page, "annotator")


def test_attribute_view_draws_confusion_and_reliability(page: Page, server: live.Server) -> None:
    sign_in(page, server.demo_token)
    page.click("#attributes a >> text=shade")
    expect(page.locator("#confusion svg.heatmap rect")).to_have_count(36)
    expect(page.locator("#calibration svg.reliability circle.bin").first).to_be_visible()
    expect(page.locator("#pairs li").first).to_contain_text(" as ")
    screenshot(page, "attribute")


def shade_result(api: httpx.Client, project: str, item: str) -> dict:
    result = api.get(f"/projects/{project}/results/{item}").json()
    return next(a for a in result["attributes"] if a["attribute"] == "shade")


def test_review_by_click_and_keyboard_reaches_the_api(page: Page, server: live.Server) -> None:
    token = project_token(server, DEMO, "read", "review")
    sign_in(page, token, reviewer="dana")
    page.click("nav >> text=Review")
    expect(page.locator("#queue-info")).to_contain_text("flagged items")
    page.select_option("#claim select[name=attribute]", "shade")
    page.select_option("#claim select[name=limit]", "5")
    page.click("#claim button[type=submit]")
    item = page.locator("#item")
    expect(item.locator("svg.distribution rect").first).to_be_visible()
    expect(item.locator("table.compact tbody tr").first).to_be_visible()
    expect(page.locator("#progress .step")).to_have_count(5)
    screenshot(page, "review")

    first = item.get_attribute("data-item")
    item.locator(".choice[data-value=cream]").click()
    expect(item.locator(".choice[data-value=cream]")).to_have_attribute("aria-pressed", "true")
    page.click("#confirm")
    expect(item).not_to_have_attribute("data-item", first)
    expect(page.locator("#progress .step.done")).to_have_count(1)

    second = item.get_attribute("data-item")
    page.keyboard.press("2")
    expect(item.locator(".choice[data-value=off-white]")).to_have_attribute("aria-pressed", "true")
    page.keyboard.press("Enter")
    expect(item).not_to_have_attribute("data-item", second)
    expect(page.locator("#progress .step.done")).to_have_count(2)
    third = item.get_attribute("data-item")
    page.keyboard.press("n")
    expect(item).not_to_have_attribute("data-item", third)
    page.keyboard.press("ArrowLeft")
    expect(item).to_have_attribute("data-item", third)

    with server.api(token) as api:
        for key, value in ((first, "cream"), (second, "off-white")):
            shade = shade_result(api, DEMO, key)
            assert (shade["gold"], shade["gold_source"]) == (value, "verdict")
            # A refit that started before the verdict may publish "flagged" over it for a
            # moment; the refit the verdict scheduled makes it "reviewed" for good.
            deadline = time.monotonic() + 15
            while shade["result"]["status"] != "reviewed" and time.monotonic() < deadline:
                time.sleep(0.2)
                shade = shade_result(api, DEMO, key)
            assert shade["result"]["status"] == "reviewed"


def test_scopes_hide_what_a_token_cannot_do(page: Page, server: live.Server) -> None:
    sign_in(page, project_token(server, DEMO, "read"))
    expect(page.locator("#attributes tbody tr")).to_have_count(4)
    expect(page.locator("nav >> text=Review")).to_have_count(0)
    expect(page.locator("#refit")).to_have_count(0)
    page.click("button:text('Sign out')")
    expect(page).to_have_url(re.compile(r"/ui/signin"))
    page.goto(f"/ui/p/{DEMO}/")
    expect(page).to_have_url(re.compile(r"/ui/signin\?next="))


def test_the_review_card_shows_the_items_image(
    page: Page, server: live.Server, photos: str
) -> None:
    sign_in(page, project_token(server, photos, "read", "review"))
    page.click("nav >> text=Review")
    page.select_option("#claim select[name=attribute]", "shade")
    page.click("#claim button[type=submit]")
    image = page.locator("#item img.item-image")
    expect(image).to_be_visible()
    assert image.get_attribute("src") == page.locator("#item").get_attribute("data-item")
    assert image.evaluate("img => img.complete && img.naturalWidth") == 240
    screenshot(page, "review-image")


def test_a_multilabel_verdict_toggles_tags(page: Page, server: live.Server, photos: str) -> None:
    token = project_token(server, photos, "read", "review")
    sign_in(page, token)
    page.click("nav >> text=Review")
    page.select_option("#claim select[name=attribute]", "fabric")
    page.click("#claim button[type=submit]")
    item = page.locator("#item")
    expect(item.locator(".choice")).to_have_count(len(live.FABRICS))
    key = item.get_attribute("data-item")
    chosen = {
        tag
        for tag in live.FABRICS
        if item.locator(f".choice[data-value={tag}]").get_attribute("aria-pressed") == "true"
    }
    page.keyboard.press("1")  # toggles the first tag
    chosen ^= {live.FABRICS[0]}
    expect(item.locator(".choice[data-value=cotton]")).to_have_attribute(
        "aria-pressed", str(live.FABRICS[0] in chosen).lower()
    )
    page.keyboard.press("Enter")
    expect(page.locator("#progress .step.done")).to_have_count(1)
    with server.api(token) as api:
        result = api.get(f"/projects/{photos}/results/{key}").json()
    fabric = next(a for a in result["attributes"] if a["attribute"] == "fabric")
    assert (set(fabric["gold"]), fabric["gold_source"]) == (chosen, "verdict")


def test_admin_picks_the_shared_dataset(page: Page, server: live.Server, bluebirds: str) -> None:
    sign_in(page, live.ADMIN_TOKEN)
    expect(page).to_have_url(re.compile(r"/ui/projects$"))
    page.click(f"a[href='/ui/p/{bluebirds}/']")
    expect(page.locator("[data-count=labels] strong")).to_have_text("4,212")
    expect(page.locator("#attributes svg.status-bar rect").first).to_be_visible()
    screenshot(page, "bluebirds-overview")

    page.click("#attributes a >> text=label")
    expect(page.locator("#confusion svg.heatmap rect")).to_have_count(4)
    expect(page.locator("#calibration svg.reliability circle.bin").first).to_be_visible()
    screenshot(page, "bluebirds-attribute")

    page.click("nav >> text=Annotators")
    page.click("th[data-sort=spammer_score] button")
    expect(page.locator("#annotators tbody tr[data-annotator]")).to_have_count(39)
    screenshot(page, "bluebirds-annotators")

    page.click("nav >> text=Review")
    page.click("#claim button[type=submit]")
    expect(page.locator("#item .choice")).to_have_count(2)
    page.keyboard.press("1")
    page.keyboard.press("Enter")
    expect(page.locator("#progress .step.done")).to_have_count(1)


def test_the_api_docs_render_the_openapi_document_and_try_it_out(
    page: Page, server: live.Server
) -> None:
    """Swagger UI (assets served by us, no network) reads our OpenAPI 3.1 document;
    with a token given to "Authorize", "Try it out" reaches the API."""
    page.goto("/api/v1/docs/")
    operation = page.locator("#operations-projects-get_projects_project")
    expect(operation).to_be_visible()
    expect(page.locator(".swagger-ui .errors-wrapper")).to_have_count(0)
    expect(page.locator("[data-path='/api/v1/projects/{project}/labels']").first).to_be_visible()
    page.click("button.authorize")
    page.fill(".auth-container input", server.demo_token)
    page.click(".auth-btn-wrapper button.authorize")
    page.click("button.btn-done")
    operation.locator(".opblock-summary").click()
    page.click("#operations-projects-get_projects_project button.try-out__btn")
    page.fill("#operations-projects-get_projects_project input[placeholder=project]", DEMO)
    page.click("#operations-projects-get_projects_project button.execute")
    response = operation.locator(".live-responses-table .response .response-col_status")
    expect(response.first).to_have_text("200")
    screenshot(page, "api-docs")
