"""The header of every portal page (the site's links, the language list) is rendered once per
process for each language and kind of visitor, and still says what it said for each of them."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.test.signals import template_rendered

from tests.portal.test_filing import FILE_URL
from tests.reports.conftest import World

pytestmark = pytest.mark.django_db


def page(client: Client, prefix: str = "") -> str:
    response = client.get(prefix + FILE_URL)
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.usefixtures("indonesian_default")
def test_the_header_follows_the_language_and_the_visitor(world: World, client: Client):
    indonesian = page(client)
    assert '<option value="id" selected>Bahasa Indonesia</option><option value="en">English</option>' in indonesian
    assert '<li><a href="/buat/">Buat laporan</a></li>' in indonesian
    assert '<li><a href="/akun/masuk/">Masuk</a></li>' in indonesian
    english = page(client, "/en")
    assert '<option value="id">Bahasa Indonesia</option><option value="en" selected>English</option>' in english
    assert '<li><a href="/en/buat/">File a report</a></li>' in english
    assert "Sign in</a></li>" in english
    client.force_login(world.reporter)
    signed_in = page(client, "/en")
    assert "My reports</a></li>" in signed_in
    assert "Sign in</a></li>" not in signed_in
    assert "Masuk</a></li>" not in page(client)


@pytest.mark.usefixtures("indonesian_default")
def test_the_header_is_rendered_once_per_language_and_kind_of_visitor(world: World, client: Client):
    rendered: list[str] = []

    def record(sender: object, template: Any, **_kwargs: object) -> None:
        rendered.append(template.name)

    header = {"portal/_site_nav.html", "portal/_language_options.html"}
    template_rendered.connect(record)
    try:
        page(client)
        assert header <= set(rendered)
        rendered.clear()
        page(client)
        assert not header & set(rendered)
        page(client, "/en")
        assert header <= set(rendered)
    finally:
        template_rendered.disconnect(record)
