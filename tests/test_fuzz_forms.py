"""No input answers 5xx: every form and every filter of the portal and the console, fed hostile values.

The forms are found, not listed: each page is fetched (as the visitor who sees it: a guest, a signed-in
reporter, staff with the second factor) and every <form> on it is read: its action, its method and
its fields, with the values the page put in them. Hostile values then replace some fields and others
are left out: huge strings, NUL bytes, odd unicode, dates at the ends of the calendar, huge and negative
numbers, lists where one value is expected, ids that do not exist. A 5xx, or an exception a view lets
through (the test client re-raises it), fails the test with the form and the data.

First every form gets the same few worst cases (each field NUL, each huge, each a date at a limit...),
then hypothesis tries mixtures. Rate limits are off here: a 429 would only hide the views behind it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import clear_url_caches, reverse
from django.utils import translation
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from lapor.reports.models import Report
from lapor.reports.services import report_dispatch, report_follow_up, report_forward
from tests.console.conftest import AUTH_URL_NAMES, build_console_objects, console_url_cases_for, verified_login
from tests.reports.conftest import World, cached_world

# Forms whose posting would end the session the rest of the test runs in.
SKIPPED_ACTIONS = ("/keluar/",)
HUGE = "x" * 51_000
LIMIT_VALUES = [
    "\x00",
    "a\x00b",
    HUGE,
    "0001-01-01",
    "9999-12-31",
    "0000-00-00",
    "31/12/9999",
    "-1",
    "-99999999999999999999",
    "99999999999999999999999999999",
    "1e309",
    "NaN",
    "Infinity",
    "36.74.01.1001.99",
    "ZZZZZZZZZ",
    "' OR 1=1 --",
    "%_\\",
    "<script>alert(1)</script>",
    "\u202e\ufeff\U0001f642" * 50,
    "\ud7ff\ue000",
    " ",
]
EVERY_FIELD = ["\x00", HUGE, "0001-01-01", "9999-12-31", "-99999999999999999999", "1e309", "NaN", "ZZZZZZZZZ", "%_\\"]
TEXT = st.one_of(
    st.sampled_from(LIMIT_VALUES),
    st.text(max_size=40),
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.dates().map(lambda day: day.isoformat()),
)
VALUE = st.one_of(TEXT, st.lists(TEXT, min_size=2, max_size=3))


@dataclasses.dataclass(frozen=True)
class Form:
    page: str
    action: str
    method: str
    fields: tuple[tuple[str, str], ...]  # (name, value the page gave it); repeated names repeat

    @property
    def names(self) -> list[str]:
        return sorted({name for name, _value in self.fields})

    def describe(self) -> str:
        return f"{self.method.upper()} {self.action} (on {self.page})"


class _FormParser(HTMLParser):
    def __init__(self, page: str) -> None:
        super().__init__(convert_charrefs=True)
        self.page = page
        self.forms: list[Form] = []
        self._current: dict[str, Any] | None = None
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {key: value or "" for key, value in attrs}
        if tag == "form":
            action = attributes.get("action") or self.page
            self._current = {"action": action, "method": (attributes.get("method") or "get").lower(), "fields": []}
            return
        if self._current is None:
            return
        name = attributes.get("name")
        if tag == "input" and name:
            kind = attributes.get("type", "text")
            if kind in ("checkbox", "radio") and "checked" not in attributes:
                self._current["fields"].append((name, ""))
            elif kind != "submit" or name:
                self._current["fields"].append((name, attributes.get("value", "")))
        elif tag == "button" and name:
            self._current["fields"].append((name, attributes.get("value", "")))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select:
            self._options.append((attributes.get("value", ""), "selected" in attributes))
        elif tag == "textarea" and name:
            self._textarea = name
            self._current["fields"].append((name, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._current is not None:
            fields = tuple(self._current["fields"])
            self.forms.append(Form(self.page, self._current["action"], self._current["method"], fields))
            self._current = None
        elif tag == "select" and self._select and self._current is not None:
            chosen = [value for value, selected in self._options if selected] or [
                self._options[0][0] if self._options else ""
            ]
            self._current["fields"].extend((self._select, value) for value in chosen)
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_on(client: Client, page: str) -> list[Form]:
    response = client.get(page, follow=True)
    assert response.status_code < 500, page
    if not response.get("Content-Type", "").startswith("text/html"):
        return []
    final = response.redirect_chain[-1][0] if response.redirect_chain else page
    parser = _FormParser(urlsplit(final).path)
    parser.feed(response.content.decode())
    return [form for form in parser.forms if not any(skip in form.action for skip in SKIPPED_ACTIONS)]


def _send(client: Client, form: Form, data: dict[str, Any]) -> int:
    if form.method == "post":
        response = client.post(form.action, data)
    else:
        response = client.get(f"{form.action}?{urlencode(data, doseq=True)}")
    return response.status_code


def check(client: Client, form: Form, data: dict[str, Any]) -> None:
    try:
        status = _send(client, form, data)
    except Exception as error:  # the test client re-raises what a view let through: a 500 in production
        shown = {key: (str(value)[:60] + "…" if len(str(value)) > 60 else value) for key, value in data.items()}
        raise AssertionError(f"{form.describe()} raised {error!r} for {shown}") from error
    assert status < 500, (form.describe(), status, data)


def original(form: Form) -> dict[str, Any]:
    data: dict[str, list[str]] = {}
    for name, value in form.fields:
        data.setdefault(name, []).append(value)
    return {name: values if len(values) > 1 else values[0] for name, values in data.items()}


def worst_cases(form: Form) -> Iterator[dict[str, Any]]:
    """Each hostile value in every field at once, then in each field alone; and no fields at all."""
    yield {}
    base = original(form)
    for value in (*EVERY_FIELD, ["1", "2"]):
        yield {**base, **dict.fromkeys(form.names, value)}
    for name in form.names:
        for value in ("\x00", "0001-01-01", "9999-12-31", ["a", "b"]):
            yield {**base, name: value}


@st.composite
def hostile_data(draw: st.DrawFn, forms: list[Form]) -> tuple[Form, dict[str, Any]]:
    form = draw(st.sampled_from(forms))
    data = original(form)
    for name in form.names:
        choice = draw(st.sampled_from(("keep", "hostile", "hostile", "missing")))
        if choice == "hostile":
            data[name] = draw(VALUE)
        elif choice == "missing":
            data.pop(name, None)
    if draw(st.booleans()):
        data[draw(st.sampled_from(["id", "pk", "setelah", "next", "action", "panel"]))] = draw(VALUE)
    return form, data


def fuzz(client: Client, found: list[Form], *, examples: int) -> None:
    assert found
    # The same form on several pages (the language switch, the inbox filters) is tried once.
    forms = list({(form.method, form.action, tuple(form.names)): form for form in found}.values())
    for form in forms:
        for data in worst_cases(form):
            check(client, form, data)

    @hypothesis_settings(
        max_examples=examples,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(hostile_data(forms))
    def run(case: tuple[Form, dict[str, Any]]) -> None:
        form, data = case
        check(client, form, data)

    run()


# --- the world ----------------------------------------------------------------------------------------


@pytest.fixture
def world(db: None, settings: Any, tmp_path: Any) -> World:
    settings.RATE_LIMITS_ENABLED = False
    settings.MEDIA_ROOT = tmp_path
    return cached_world()


def _published(world: World) -> tuple[Report, str]:
    report, secret = world.submit_with_link(reporter=None, guest_email="sari@example.id")
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    return report_forward(user=world.coordinator, report=report, units=[world.transport]).report, secret


@pytest.fixture(autouse=True)
def _fresh_url_caches() -> Iterator[None]:
    """reverse() keeps each language's URLs as computed under the default language of the time; other
    tests change the default, so start and end with none kept."""
    clear_url_caches()
    yield
    clear_url_caches()


def in_language(language: str, path: str) -> str:
    """``path`` (a portal URL) in ``language``: no prefix for the default language, /<code>/ otherwise."""
    return path if language == django_settings.LANGUAGE_CODE else f"/{language}{path}"


def url(name: str, *args: object, language: str | None = None) -> str:
    """reverse() in the default language (the requests before leave theirs active), then in ``language``."""
    with translation.override(django_settings.LANGUAGE_CODE):
        path = reverse(name, args=args)
    return in_language(language, path) if language else path


def _portal_pages(report: Report, language: str) -> list[str]:
    names = ["home", "file", "track", "feed", "feed_map", "login", "register", "password_reset"]
    pages = [url(f"portal:{name}", language=language) for name in names]
    return [*pages, url("portal:report", report.tracking_id, language=language)]


# --- the tests ------------------------------------------------------------------------------------------


def test_no_portal_form_or_filter_answers_5xx_to_a_guest(world: World) -> None:
    report, secret = _published(world)
    client = Client()
    forms = [
        form for language in ("id", "en") for page in _portal_pages(report, language) for form in forms_on(client, page)
    ]
    # The reporter's page through the private link, with its actions (confirm, dispute, rate).
    done = report_follow_up(user=world.officer, report=report, message="Sudah diperbaiki.", final=True).report
    client.get(url("portal:track_private", done.tracking_id, secret))
    reporter_forms = forms_on(client, url("portal:track_reporter", done.tracking_id))
    assert any("rating" in form.names for form in reporter_forms)
    forms += reporter_forms
    # The filters also as links and fragments take them: feeds, the region and institution lists.
    feeds = [Form("feed", url(f"portal:{name}"), "get", (("q", ""), ("wilayah", ""), ("instansi", ""),
             ("kategori", ""), ("status", ""), ("jenis", ""), ("dari", ""), ("sampai", ""), ("urut", ""),
             ("setelah", ""))) for name in ("feed_rss", "feed_atom", "feed")]  # fmt: skip
    fragments = [
        Form("filing", url("portal:region_options"), "get", (("induk", "36.74"),)),
        Form("filing", url("portal:institution_options"), "get", (("q", "dinas"),)),
    ]
    actions = {form.action for form in forms}
    assert url("portal:file") in actions
    assert url("portal:feed") in actions
    fuzz(client, forms + feeds + fragments, examples=30)


def test_no_portal_form_answers_5xx_to_a_signed_in_reporter(world: World) -> None:
    report, _secret = _published(world)
    client = Client()
    client.force_login(world.reporter)
    pages = [
        *_portal_pages(report, "id"),
        url("portal:my_reports"),
        url("portal:preferences"),
        url("portal:claim"),
        url("portal:track_report", world.submit().tracking_id),
    ]
    forms = [form for page in pages for form in forms_on(client, page)]
    forms.append(Form("my reports", url("portal:my_reports"), "get", (("sebelum", "1"),)))
    assert any("komentar" in form.action for form in forms), sorted({form.action for form in forms})
    fuzz(client, forms, examples=25)


@pytest.mark.parametrize("who", ["coordinator", "national_admin"])
def test_no_console_form_or_filter_answers_5xx(world: World, who: str) -> None:
    objects = build_console_objects(world)
    client = verified_login(Client(), getattr(world, who))
    with translation.override(django_settings.LANGUAGE_CODE):
        cases = console_url_cases_for(objects)
    pages = sorted({case.url for case in cases if case.name not in AUTH_URL_NAMES})
    forms = [form for page in pages for form in forms_on(client, page)]
    assert any(form.method == "get" and "dari" in form.names for form in forms), "the inbox filters"
    assert len({form.action for form in forms if form.method == "post"}) > 5
    fuzz(client, forms, examples=20)


def test_the_console_sign_in_forms_answer_no_5xx(world: World) -> None:
    client = Client()
    forms = forms_on(client, url("console:login"))
    assert forms
    fuzz(client, forms, examples=15)


def test_a_nul_character_in_any_parameter_answers_400_with_the_reason(world: World) -> None:
    """PostgreSQL cannot hold a NUL: wherever a raw parameter reached a query, it answered 500."""
    client = Client()
    for response in (
        client.post(url("portal:file"), {"show": "1", "province": "36\x00"}),
        client.get(url("portal:feed"), {"instansi": "\x00"}),
        client.get(url("portal:feed_rss"), {"q\x00": "lampu"}),
    ):
        assert response.status_code == 400
        assert "character that is not allowed (NUL)" in response.content.decode()


def test_the_console_filters_refuse_dates_at_the_calendars_limits(world: World) -> None:
    client = verified_login(Client(), world.coordinator)
    for query in ({"dari": "0001-01-01"}, {"sampai": "9999-12-31"}):
        response = client.get(url("console:inbox"), query)
        assert response.status_code < 500
        assert "Enter a date between 1 January 1900 and 31 December 2999." in response.content.decode()


def test_a_huge_institution_search_on_the_filing_form_is_cut_to_its_field(world: World) -> None:
    """51,000 characters once reached SQLite's LIKE whole ("LIKE or GLOB pattern too complex")."""
    response = Client().post(url("portal:file"), {"step": "details", "institution_query": "dinas" + "x" * 51_000})
    assert response.status_code == 400
    assert "Ensure this value has at most 100 characters" in response.content.decode()
