"""Every page of the portal, in Indonesian (the default) and English, on a phone-sized screen:

- axe-core finds no serious or critical violation of WCAG 2.0/2.1/2.2 A and AA;
- the first load transfers less than 150 KB, map tiles excluded;
- it works without JavaScript: the main heading is there;
- nothing is asked of another origin, every file of the site loads, no script fails.

The pages are the GET routes of the `portal` URLconf, found when the tests are collected: a page added
later is tested without an edit here, and fails until it passes or until its URL arguments are known
(URL_ARGUMENTS). Routes that are not pages (fragments, files, feeds, POST-only) are listed in NOT_PAGES
with the reason, and a test checks that each of them really is not a page.
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from django.test import Client, override_settings
from playwright.sync_api import Page

from tests.browser.conftest import (
    Browsing,
    PortalWorld,
    axe_violations,
    describe_violations,
    is_document,
    log_in,
    page_transfers,
    page_weight,
    portal_routes,
    portal_url,
    route_arguments,
)

pytestmark = pytest.mark.usefixtures("indonesian_default", "map_tiles")

BUDGET = 150 * 1024
TILES = "https://tiles.example.test/{z}/{x}/{y}.png"
LANGUAGES = ("id", "en")
NOT_PAGES = {
    "region_options": "an htmx fragment: the <option>s of the next region list",
    "institution_options": "an htmx fragment: the institutions matching a search",
    "track_own_attachment": "a file download",
    "track_private_attachment": "a file download",
    "report_attachment": "a file download",
    "report_support": "POST only",
    "report_comment": "POST only",
    "report_comment_hide": "POST only",
    "logout": "POST only",
    "feed_rss": "an RSS document",
    "feed_atom": "an Atom document",
    "track_reporter_attachment": "a file download",
    "favicon": "the site's icon",
}
# Pages reached only through another route, which is opened instead: the reporter's page by the private
# link, which keeps the secret in the session and redirects to it.
ENTRY_ROUTES = {"track_reporter": "track_private"}


ROUTES = portal_routes()
PAGES = sorted(name for name in ROUTES if name not in NOT_PAGES)


@pytest.fixture
def map_tiles() -> Iterator[None]:
    """A tile server configured, as in production, so that map pages load Leaflet: the heaviest first
    load. The tiles themselves are not fetched (no network) and do not count."""
    with override_settings(MAP_TILE_URL=TILES, MAP_TILE_ATTRIBUTION="© OpenStreetMap contributors"):
        yield


@pytest.fixture
def url_arguments(portal_world: PortalWorld) -> dict[str, object]:
    """A value for each URL argument a portal route may take: the fixture's published report."""
    return route_arguments(
        portal_world.report,
        secret=portal_world.secret,
        user=portal_world.world.reporter,
        attachment=portal_world.photo,
        event=portal_world.comment,
    )


@pytest.mark.browser
@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("name", PAGES)
def test_portal_page(
    name: str, language: str, browsing: Browsing, portal_world: PortalWorld, url_arguments: dict[str, object]
) -> None:
    url = portal_url(ENTRY_ROUTES.get(name, name), language, url_arguments)
    client = Client()
    response = client.get(url, follow=True)
    # Sent to a login page that would bring the user back (`next=`): the page is for logged-in users.
    logged_in = any("next=" in location for location, _status in response.redirect_chain)
    if logged_in:
        client.force_login(portal_world.world.reporter)
        response = client.get(url, follow=True)
    answer = f"portal:{name} ({url}) answers GET with {response.status_code} {response.get('Content-Type')}"
    assert response.status_code == 200, answer
    assert is_document(response), f"{answer}: not a full HTML page; if it is not one, list it in NOT_PAGES with why."

    def open_page(*, javascript: bool = True) -> Page:
        context = browsing.context(language=language, javascript=javascript)
        if logged_in:
            log_in(context, portal_world.world.reporter, origin=browsing.origin)
        return context.new_page()

    failures: list[str] = []
    page = open_page()
    weight = page_weight(page, url)
    if weight >= BUDGET:
        transfers = page_transfers(open_page(), url)
        heaviest = sorted(transfers.items(), key=lambda item: -item[1])[:8]
        listing = "\n".join(f"    {size:>8} {urlsplit(resource).path}" for resource, size in heaviest)
        failures.append(f"first load transfers {weight} bytes, the budget is {BUDGET}:\n{listing}")
    if page.get_attribute("html", "lang") != language:
        failures.append(f'<html lang="{page.get_attribute("html", "lang")}">, expected "{language}"')
    problems = browsing.problems[page]
    if problems:
        failures.append(f"while loading: {problems}")
    violations = axe_violations(page)
    if violations:
        failures.append(f"axe-core finds serious or critical violations:\n{describe_violations(violations)}")

    static = open_page(javascript=False)
    static.goto(url)
    headings = static.locator("main h1")
    if headings.count() != 1 or not headings.first.inner_text().strip():
        failures.append(f"without JavaScript, the page has {headings.count()} main heading(s) <main><h1>")

    assert not failures, f"portal:{name} in {language} ({url}):\n" + "\n".join(failures)


@pytest.mark.parametrize("name", sorted(set(NOT_PAGES) & set(ROUTES)))
def test_what_is_not_a_page_is_not_one(
    name: str, client: Client, portal_world: PortalWorld, url_arguments: dict[str, object]
) -> None:
    """NOT_PAGES hides no page from the checks above: each answers GET with 405, or with something
    other than an HTML document (here for the report's own reporter, who may see everything of it)."""
    client.force_login(portal_world.world.reporter)
    client.get(portal_url("track_private", "id", url_arguments))  # the reporter's files need the link opened
    response = client.get(portal_url(name, "id", url_arguments))
    assert response.status_code == 405 or (response.status_code == 200 and not is_document(response)), (
        f"portal:{name} is listed as {NOT_PAGES[name]!r} but answers GET with {response.status_code} "
        f"{response.get('Content-Type')}"
    )


def test_the_portal_has_pages() -> None:
    """Discovery works: the home page is among the pages tested."""
    assert "home" in PAGES
