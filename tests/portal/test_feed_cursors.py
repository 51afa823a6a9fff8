"""Cursors are opaque to the citizen but come back from the address bar: any value answers a page, never 5xx."""

from __future__ import annotations

import base64

import pytest
from django.urls import reverse

HUGE = str(10**30)


def cursor(raw: str) -> str:
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "raw"),
    [
        ("relevan", f"r|0.5|2026-12-01T00:00:00+00:00|{HUGE}"),
        ("relevan", "r|nan|2026-12-01T00:00:00+00:00|5"),
        ("relevan", "r|inf|2026-12-01T00:00:00+00:00|5"),
        ("relevan", "r|1e999|2026-12-01T00:00:00+00:00|5"),
        ("relevan", "r|0.5|9999-12-31T23:59:59+00:00|5"),
        ("terbaru", f"n|2026-12-01T00:00:00+00:00|{HUGE}"),
        ("terbaru", "n|2026-12-01T00:00:00+00:00|-5"),
        ("dukungan", f"s|{HUGE}|{HUGE}"),
        ("relevan", "x|y"),
    ],
)
def test_a_cursor_from_the_address_bar_never_answers_5xx(client, sort: str, raw: str) -> None:
    response = client.get(reverse("portal:feed"), {"q": "jalan", "urut": sort, "setelah": cursor(raw)})
    assert response.status_code == 200
