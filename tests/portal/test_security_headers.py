"""Headers that keep pages safe in a browser: the Content-Security-Policy on every response, no caching
of pages with personal data or a reporter's report, the favicon, and access logs that never show a
reporter's private link."""

from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

import pytest
from django.test import Client, override_settings
from django.urls import reverse

from lapor.core import logs
from lapor.core.middleware import content_security_policy, tile_origin
from tests.console.conftest import (
    AUTH_URL_NAMES,
    build_console_objects,
    console_url_cases_for,
    verified_login,
)
from tests.reports.conftest import World

NO_STORE = "private, no-store"


def directives(response: object) -> dict[str, str]:
    header = response["Content-Security-Policy"]  # type: ignore[index]
    return {part.split(" ", 1)[0]: part.split(" ", 1)[1] for part in header.split("; ")}


# --- Content-Security-Policy -----------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["portal:home", "portal:feed", "portal:feed_map", "portal:file", "console:login"])
def test_every_page_sends_a_content_security_policy_without_inline_scripts(client: Client, name: str) -> None:
    policy = directives(client.get(reverse(name)))
    assert policy["default-src"] == "'self'"
    assert policy["script-src"] == "'self'"
    assert "unsafe-inline" not in " ".join(policy.values())
    assert policy["object-src"] == "'none'"
    assert policy["frame-ancestors"] == "'none'"
    assert policy["form-action"] == "'self'"
    assert policy["base-uri"] == "'self'"
    assert policy["img-src"] == "'self' data:"


@pytest.mark.django_db
def test_the_map_may_load_tiles_from_the_configured_tile_server_only(client: Client) -> None:
    with override_settings(MAP_TILE_URL="https://tiles.example.go.id/{z}/{x}/{y}.png"):
        policy = directives(client.get(reverse("portal:feed_map")))
    assert policy["img-src"] == "'self' data: https://tiles.example.go.id"
    assert policy["connect-src"] == "'self'"


def test_tile_origins() -> None:
    assert tile_origin("/tiles/{z}/{x}/{y}.png") == ""
    assert tile_origin("") == ""
    assert tile_origin("http://10.0.0.5:8080/osm/{z}/{x}/{y}.png") == "http://10.0.0.5:8080"
    assert tile_origin("https://{s}.tile.example.org/{z}/{x}/{y}.png") == "https://*.tile.example.org"
    assert "img-src 'self' data:;" in content_security_policy(tile_url="/tiles/{z}/{x}/{y}.png")


# --- no caching of private pages -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_reporters_private_page_is_never_cached_and_leaks_no_referrer(world: World, client: Client) -> None:
    report, secret = world.submit_with_link(reporter=None, guest_email="sari@example.id")
    link = client.get(reverse("portal:track_private", args=[report.tracking_id, secret]))
    assert link["Cache-Control"] == NO_STORE
    page = client.get(link["Location"])
    assert page.status_code == 200
    assert page["Cache-Control"] == NO_STORE
    assert page["Referrer-Policy"] == "no-referrer"


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["my_reports", "preferences", "claim", "login", "register", "password_reset"])
def test_account_pages_are_never_cached(world: World, client: Client, name: str) -> None:
    client.force_login(world.reporter)
    response = client.get(reverse(f"portal:{name}"))
    assert response.status_code in (200, 302)
    assert response["Cache-Control"] == NO_STORE


@pytest.mark.django_db
def test_the_signed_in_reporters_own_report_is_never_cached(world: World, client: Client) -> None:
    report = world.submit()
    client.force_login(world.reporter)
    response = client.get(reverse("portal:track_report", args=[report.tracking_id]))
    assert response.status_code == 200
    assert response["Cache-Control"] == NO_STORE


@pytest.mark.django_db
def test_public_pages_may_be_cached(world: World, client: Client) -> None:
    for name in ("portal:home", "portal:feed"):
        assert "no-store" not in client.get(reverse(name)).get("Cache-Control", "")


@pytest.mark.django_db
def test_every_console_page_is_never_cached(world: World) -> None:
    objects = build_console_objects(world)
    client = verified_login(Client(), world.coordinator)
    cases = console_url_cases_for(objects)
    assert len(cases) > 10
    for case in cases:
        response = client.get(case.url)
        assert response["Cache-Control"] == NO_STORE, (case.name, response.status_code)
    for name in AUTH_URL_NAMES - {"console:logout"}:
        assert Client().get(reverse(name))["Cache-Control"] == NO_STORE, name


# --- the favicon --------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_favicon_is_an_icon(client: Client) -> None:
    response = client.get("/favicon.ico")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/x-icon"
    assert response.content[:4] == b"\x00\x00\x01\x00"  # the ICO signature


# --- access logs --------------------------------------------------------------------------------------


def test_the_development_servers_access_log_never_shows_a_private_links_secret(caplog) -> None:
    caplog.set_level(logging.INFO, logger="django.server")
    # As django.core.servers.basehttp.WSGIRequestHandler.log_message writes the request line.
    logging.getLogger("django.server").info(
        '"%s" %s %s', "GET /en/lacak/ABCDEFGHJ/k/s3cretTOKEN-_x/?baru=1 HTTP/1.1", "303", "0"
    )
    assert "s3cretTOKEN" not in caplog.text
    assert "/en/lacak/ABCDEFGHJ/k/[secret]/?baru=1" in caplog.text


def test_gunicorns_access_log_never_shows_a_private_links_secret(tmp_path) -> None:
    from gunicorn.config import Config  # type: ignore[import-untyped]
    from gunicorn.glogging import Logger  # type: ignore[import-untyped]

    config = Config()
    config.set("accesslog", str(tmp_path / "access.log"))
    access = Logger(config)  # as each gunicorn worker sets it up, before Django's apps are ready
    logs.install()
    path = "/lacak/ABCDEFGHJ/k/s3cretTOKEN/"
    request = SimpleNamespace(headers=[], method="GET", uri=path, path=path, query="", version=(1, 1))
    response = SimpleNamespace(status="303 See Other", response_length=0, sent=0, headers=[])
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": path,
        "PATH_INFO": path,
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "203.0.113.7",
    }
    access.access(response, request, environ, timedelta(milliseconds=20))
    for handler in logging.getLogger("gunicorn.access").handlers:
        handler.flush()
    line = (tmp_path / "access.log").read_text()
    assert '"GET /lacak/ABCDEFGHJ/k/[secret]/ HTTP/1.1" 303' in line
    assert "s3cretTOKEN" not in line


def test_other_paths_are_logged_as_they_are() -> None:
    assert logs.redact("GET /lacak/ABCDEFGHJ/ HTTP/1.1") == "GET /lacak/ABCDEFGHJ/ HTTP/1.1"
    assert logs.redact("GET /laporan/?q=k HTTP/1.1") == "GET /laporan/?q=k HTTP/1.1"
