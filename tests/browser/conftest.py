"""Browser tests: Playwright drives Debian's chromium against pytest-django's live server.

- No browser download: /usr/bin/chromium comes from Debian (`make browser`; `.ci/run` installs it).
  Without it these tests skip with the reason, except in CI, where they fail.
- The live server serves static files the way production does: collected by WhiteNoise's compressing
  storage and served by WhiteNoise, so that page weights are what a phone really downloads.
- The browser reaches nothing but the live server: every host name resolves to nothing, and a page
  that asks another origin for anything but map tiles fails its test (no CDN at run time).
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.http.response import HttpResponseBase
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, reverse
from django.utils import translation
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from pytest_django.live_server_helper import LiveServer

from lapor.accounts.models import User
from lapor.reports.choices import Visibility
from lapor.reports.models import Attachment, Report, ReportEvent
from lapor.reports.services import (
    report_attach,
    report_comment,
    report_dispatch,
    report_follow_up,
    report_forward,
)
from tests.images import photo_upload
from tests.reports.conftest import World, cached_world

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, Request, ViewportSize

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    # Nothing leaves this machine: only the live server's address (an IP, never resolved) is reachable.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
# axe-core is a test-only npm package: read from node_modules, never copied where the app serves it.
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
VENDOR = ROOT / "src" / "lapor" / "portal" / "static" / "portal" / "vendor"
# WCAG 2.0, 2.1 and 2.2 levels A and AA (axe has no "wcag22a" tag: 2.2 added no level A rule it checks).
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")
BLOCKING_IMPACTS = frozenset({"serious", "critical"})
# Map tiles (…/{z}/{x}/{y}.png and the like) are left out of the page-weight budget.
MAP_TILE = re.compile(r"/\d+/\d+/\d+(@2x)?\.(png|jpe?g|webp|pbf|mvt)(\?|$)")
PHONE: ViewportSize = {"width": 360, "height": 740}
LOCALES = {"id": "id-ID", "en": "en-US"}
CSP_PREFIX = "CSP violation:"
CSP_LISTENER = (
    "document.addEventListener('securitypolicyviolation', event => console.error("
    f"'{CSP_PREFIX} ' + event.violatedDirective + ' blocked ' + (event.blockedURI || 'inline') + "
    "' at ' + event.sourceFile + ':' + event.lineNumber));"
)


def _missing_tool() -> str:
    if not CHROMIUM.exists():
        return f"Debian's chromium is not installed at {CHROMIUM}: `make browser` installs it"
    if not AXE.exists():
        return f"axe-core is not installed ({AXE.relative_to(ROOT)}): `make assets` installs it"
    if not (VENDOR / "htmx.min.js").exists():
        return f"the portal's front-end packages are not in {VENDOR.relative_to(ROOT)}: `make assets` copies them"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright is not installed: `make install`"
    return ""


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One chromium per test module (and xdist worker). Module scope, not session: Playwright's sync
    API keeps an asyncio loop marked running in this thread while it is started, and the other tests a
    worker runs after these must not find themselves in an "async context"."""
    missing = _missing_tool()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(f"Browser tests are mandatory in CI: {missing}.", pytrace=False)
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    # The ORM refuses to run where an event loop is running; Playwright's loop is idle while test code
    # runs, so the refusal is a false alarm here, and only for as long as Playwright runs.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
            yield chromium
            chromium.close()
    finally:
        if previous is None:
            del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def _collect_compressed_static(root: Path) -> None:
    from django.core.management import call_command

    storages = {**settings.STORAGES, "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"}}
    with override_settings(STATIC_ROOT=root, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)


def _whitenoise(application: Any, *, root: Path) -> Any:
    from whitenoise import WhiteNoise  # type: ignore[import-untyped]

    return WhiteNoise(application, root=root, prefix=settings.STATIC_URL)


@pytest.fixture(scope="session")
def live_server(django_db_setup: None, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """pytest-django's live server, serving static files as production does (compressed by WhiteNoise)
    instead of uncompressed from the finders."""
    static_root = tmp_path_factory.mktemp("static")
    _collect_compressed_static(static_root)
    server = LiveServer("127.0.0.1", start=False)
    server.thread.static_handler = functools.partial(_whitenoise, root=static_root)  # type: ignore[assignment]
    server.start()
    yield server
    server.stop()


@dataclass
class PageProblems:
    """What went wrong while a page loaded: uncaught script errors, requests to other origins (other
    than map tiles) and subresources of the site that failed."""

    origin: str
    script_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    failed_resources: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.script_errors or self.foreign_requests or self.failed_resources or self.csp_violations)

    def watch(self, page: Page) -> None:
        page.on("pageerror", lambda error: self.script_errors.append(str(error)))
        # What the Content-Security-Policy blocked: chromium reports each on the console, and the page
        # fires securitypolicyviolation (the init script, run before any of the page's own, logs those too).
        page.add_init_script(CSP_LISTENER)
        page.on("console", self._console)
        page.on("request", self._request)
        page.on("requestfailed", lambda request: self._failed(request, request.failure or "failed"))
        page.on("requestfinished", self._finished)

    def _console(self, message: ConsoleMessage) -> None:
        text = message.text
        if text.startswith(CSP_PREFIX) or "Content Security Policy" in text:
            self.csp_violations.append(text)

    def _request(self, request: Request) -> None:
        if not request.url.startswith(self.origin + "/") and not MAP_TILE.search(request.url):
            self.foreign_requests.append(request.url)

    def _finished(self, request: Request) -> None:
        response = request.response()
        if response is not None and not response.ok:
            self._failed(request, str(response.status))

    def _failed(self, request: Request, reason: str) -> None:
        tile = MAP_TILE.search(request.url)
        # The document's own status is the test's business; its subresources must all load.
        if request.url.startswith(self.origin + "/") and request.resource_type != "document" and not tile:
            self.failed_resources.append(f"{request.url}: {reason}")


@dataclass
class Browsing:
    """Opens browser contexts on the live server (a phone-sized screen, the language's locale) and
    remembers what went wrong on their pages."""

    browser: Browser
    origin: str
    contexts: list[BrowserContext] = field(default_factory=list)
    problems: dict[Page, PageProblems] = field(default_factory=dict)

    def context(self, *, language: str = "id", javascript: bool = True) -> BrowserContext:
        context = self.browser.new_context(
            base_url=self.origin,
            locale=LOCALES[language],
            java_script_enabled=javascript,
            viewport=PHONE,
            timezone_id=settings.TIME_ZONE,
        )
        context.set_default_timeout(15_000)
        context.on("page", self._watch)
        self.contexts.append(context)
        return context

    def page(self, *, language: str = "id", javascript: bool = True) -> Page:
        return self.context(language=language, javascript=javascript).new_page()

    def _watch(self, page: Page) -> None:
        self.problems[page] = PageProblems(origin=self.origin)
        self.problems[page].watch(page)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def browsing(browser: Browser, live_server: LiveServer) -> Iterator[Browsing]:
    browsing = Browsing(browser=browser, origin=live_server.url)
    yield browsing
    # Whatever a test looked at, the Content-Security-Policy blocked nothing on any page it opened.
    blocked = {
        page.url: problems.csp_violations for page, problems in browsing.problems.items() if problems.csp_violations
    }
    browsing.close()
    assert not blocked, f"the Content-Security-Policy blocked something: {blocked}"


@pytest.fixture
def page(browsing: Browsing) -> Page:
    """A fresh page (empty cache, no cookies) in Indonesian with JavaScript, on the live server:
    `page.goto("/lacak/")` opens the live server's /lacak/."""
    return browsing.page()


def log_in(context: BrowserContext, user: User, *, origin: str) -> None:
    """Give the browser context a logged-in session for `user` (no login form involved)."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": origin}])


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8")


def axe_violations(page: Page) -> list[dict[str, Any]]:
    """The serious and critical violations of WCAG 2.0, 2.1 and 2.2 A and AA rules that axe-core finds
    on the page as it is now."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(_axe_source())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        list(AXE_TAGS),
    )
    return [violation for violation in result["violations"] if violation["impact"] in BLOCKING_IMPACTS]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} {violation['helpUrl']}")
        lines.extend(f"    {node['target']} {node['html'][:200]}" for node in violation["nodes"][:5])
    return "\n".join(lines)


def page_transfers(page: Page, url: str) -> dict[str, int]:
    """Bytes of each response body as sent (compressed when the server compresses) while `page` loads
    `url` and its network falls quiet, map tiles excluded. A first load when `page` is fresh (its
    context has an empty cache)."""
    finished: list[Request] = []

    def keep(request: Request) -> None:
        if not MAP_TILE.search(request.url):
            finished.append(request)

    page.on("requestfinished", keep)
    try:
        page.goto(url, wait_until="networkidle")
    finally:
        page.remove_listener("requestfinished", keep)
    transfers: dict[str, int] = {}
    for request in finished:
        transfers[request.url] = transfers.get(request.url, 0) + request.sizes()["responseBodySize"]
    return transfers


def page_weight(page: Page, url: str) -> int:
    """Bytes transferred for loading `url` in `page` (see `page_transfers`)."""
    return sum(page_transfers(page, url).values())


@dataclass
class PortalWorld:
    """The reports world (tests/reports/conftest.py) with a published report that has come some way:
    a public photo, dispatched to the city, forwarded to its transport office, followed up once, with
    a public comment."""

    world: World
    report: Report
    secret: str
    photo: Attachment
    comment: ReportEvent


def published_report(world: World, **overrides: Any) -> tuple[Report, str]:
    """Submit a report as the world's reporter and move it to in progress through the services.
    Returns the report and the secret of the reporter's private link."""
    report, secret = world.submit_with_link(**overrides)
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report
    report = report_follow_up(user=world.officer, report=report, message="Petugas kami memeriksa lokasi besok.").report
    return report, secret


@pytest.fixture
def world(committed_rows_purged: None) -> World:
    """The reports world, committed (the live server reads it from another thread)."""
    return cached_world()


@pytest.fixture
def portal_world(world: World) -> PortalWorld:
    report, secret = published_report(world)
    [attachment] = report_attach(
        user=world.reporter, report=report, files=[photo_upload("lampu.jpg")], visibility=Visibility.PUBLIC
    ).attachments
    comment = report_comment(
        user=world.member_of_public, report=report, message="Di depan rumah saya juga gelap."
    ).event
    return PortalWorld(world=world, report=report, secret=secret, photo=attachment, comment=comment)


def _routes(patterns: Sequence[URLPattern | URLResolver], namespace: str = "") -> Iterator[tuple[str, URLPattern]]:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
            yield from _routes(pattern.url_patterns, inner)
        elif pattern.name:
            yield f"{namespace}{pattern.name}", pattern


def portal_routes() -> dict[str, URLPattern]:
    """Every named route of the `portal` URLconf, by name (without the `portal:` namespace)."""
    from lapor.portal import urls

    return dict(_routes(urls.urlpatterns))


def portal_url(name: str, language: str, arguments: Mapping[str, object]) -> str:
    """The URL of portal route `name` in `language`, its arguments taken from `arguments` by name;
    a route taking an argument that `arguments` does not know fails the test, saying which."""
    parameters = list(portal_routes()[name].pattern.regex.groupindex)
    unknown = [parameter for parameter in parameters if parameter not in arguments]
    if unknown:
        pytest.fail(
            f"portal:{name} takes {', '.join(unknown)}: give it a value in route_arguments ({__name__}).",
            pytrace=False,
        )
    with translation.override(language):
        return reverse(f"portal:{name}", kwargs={parameter: arguments[parameter] for parameter in parameters})


def route_arguments(
    report: Report, *, secret: str, user: User, attachment: Attachment | None = None, event: ReportEvent | None = None
) -> dict[str, object]:
    """A value for each URL argument a portal route may take, about `report` (whose private link has
    `secret`, with one of its attachments and events) and `user` (a password reset link)."""
    return {
        "tracking_id": report.tracking_id,
        "secret": secret,
        "attachment_id": attachment.pk if attachment is not None else 0,
        "sequence": event.sequence if event is not None else 0,
        "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
        "token": default_token_generator.make_token(user),
    }


def is_document(response: HttpResponseBase) -> bool:
    """A full HTML page (not a fragment, a file or a feed)."""
    content = getattr(response, "content", b"")
    return response.get("Content-Type", "").startswith("text/html") and b"<html" in content.lower()
