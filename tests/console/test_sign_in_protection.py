"""The console's sign-in against an attacker and for a first operator: a language switch and the way to a
forgotten password on the sign-in page, lockout that an attacker elsewhere cannot use to keep a staff member
out, a coordinator's unlock, and other sessions ended when the second factor is guessed at."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse


@pytest.mark.usefixtures("indonesian_default")
def test_the_console_sign_in_page_has_a_language_switch_and_a_forgotten_password_link(db):
    client = Client()
    page = client.get(reverse("console:login")).content.decode()
    assert f'href="{reverse("portal:password_reset")}"' in page
    assert "Lupa kata sandi?" in page
    assert f'action="{reverse("set_language")}"' in page
    assert '<label for="console-language-select">Bahasa</label>' in page
    switched = client.post(reverse("set_language"), {"language": "en", "next": reverse("console:login")})
    assert switched.status_code == 302
    english = client.get(switched["Location"]).content.decode()
    assert "Forgot your password?" in english
    assert "Staff sign-in" in english
