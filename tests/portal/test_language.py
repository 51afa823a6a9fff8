"""The language form in the portal's header switches both ways: Indonesian (the default, no prefix)
to English (/en/...) and back, staying on the same page."""

from __future__ import annotations

import re

import pytest
from django.test import Client


def next_field(html: str) -> str:
    found = re.search(r'<input name="next" type="hidden" value="([^"]*)">', html)
    assert found is not None, "the page has the language form"
    return found.group(1).replace("&amp;", "&")


def switch(client: Client, page: str, language: str) -> str:
    """Post the page's own language form as a browser does; return where it sends the visitor."""
    html = client.get(page).content.decode()
    response = client.post("/i18n/setlang/", {"language": language, "next": next_field(html)})
    assert response.status_code == 302
    return str(response["Location"])


@pytest.mark.django_db
@pytest.mark.usefixtures("indonesian_default")
def test_the_language_switch_works_both_ways_on_a_portal_page(client: Client):
    page = "/lacak/?id=abc"
    assert "Lacak laporan" in client.get(page).content.decode()

    english = switch(client, page, "en")
    assert english == "/en/lacak/?id=abc"
    assert "Follow a report" in client.get(english).content.decode()

    indonesian = switch(client, english, "id")
    assert indonesian == "/lacak/?id=abc"
    html = client.get(indonesian).content.decode()
    assert '<html lang="id">' in html
    assert "Lacak laporan" in html


@pytest.mark.django_db
@pytest.mark.usefixtures("indonesian_default")
def test_the_language_switch_works_from_a_page_with_arguments(client: Client):
    english = switch(client, "/lacak/4P26Q5XRK/", "en")
    assert english == "/en/lacak/4P26Q5XRK/"
    assert switch(client, english, "id") == "/lacak/4P26Q5XRK/"
