"""Without a tile server (MAP_TILE_URL empty, the default) the public map and the point picker draw
the coastlines and borders shipped with the app (vendor/basemap.json, from Natural Earth), fetched
from the site itself after the page: no grey box, and nothing asked of any other host."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from django.test import override_settings
from django.urls import reverse
from playwright.sync_api import Page, Request

from tests.browser.conftest import Browsing, page_transfers

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("indonesian_default", "transactional_db")]

OUTLINES = ".leaflet-overlay-pane path"
BUDGET = 150 * 1024  # the first-load budget of every portal page (test_pages.py), basemap included


@pytest.fixture
def no_tile_server() -> Iterator[None]:
    with override_settings(MAP_TILE_URL="", MAP_TILE_ATTRIBUTION=""):
        yield


def _requests(page: Page) -> list[str]:
    urls: list[str] = []

    def keep(request: Request) -> None:
        urls.append(request.url)

    page.on("request", keep)
    return urls


@pytest.mark.usefixtures("no_tile_server")
def test_the_public_map_draws_the_shipped_outlines_without_a_tile_server(browsing: Browsing) -> None:
    page = browsing.page()
    requested = _requests(page)

    page.goto(reverse("portal:feed_map"), wait_until="networkidle")
    page.locator(f"#feed-map {OUTLINES}").first.wait_for(state="attached")

    assert page.locator(f"#feed-map {OUTLINES}").count() >= 10  # Indonesia and its neighbours
    assert "Natural Earth" in page.locator("#feed-map .leaflet-control-attribution").inner_text()
    assert [url for url in requested if "/portal/vendor/basemap" in url]
    assert [url for url in requested if not url.startswith(browsing.origin + "/")] == []
    assert not browsing.problems[page], browsing.problems[page]


@pytest.mark.usefixtures("no_tile_server")
def test_the_point_picker_draws_the_outlines_and_takes_a_point_without_a_tile_server(browsing: Browsing) -> None:
    page = browsing.page()
    requested = _requests(page)
    page.goto(reverse("portal:file"))

    page.locator("#map-point summary").click()
    page.locator("#pick-on-map").click()
    page.locator(f"#pick-map {OUTLINES}").first.wait_for(state="attached")
    page.locator("#pick-map").click()

    assert page.locator(f"#pick-map {OUTLINES}").count() >= 10
    assert page.locator("[name=latitude]").input_value() != ""
    assert page.locator("[name=longitude]").input_value() != ""
    assert [url for url in requested if not url.startswith(browsing.origin + "/")] == []
    assert not browsing.problems[page], browsing.problems[page]


@pytest.mark.usefixtures("no_tile_server")
def test_the_public_map_with_its_outlines_stays_within_the_page_weight_budget(browsing: Browsing) -> None:
    page = browsing.page()
    transfers = page_transfers(page, reverse("portal:feed_map"))

    assert [url for url in transfers if "/portal/vendor/basemap" in url]
    assert sum(transfers.values()) < BUDGET, transfers
