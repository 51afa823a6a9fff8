"""The Django admin's door is the console's sign-in: superusers only, password then second factor, the
console's lockout and session clocks (lapor.admin_site, ADR 0007). Who gets which page of the admin is
the permission matrix's business (tests/console/test_matrix.py); this module walks through the doors."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from lapor.accounts.models import User
from tests.accounts.factories import UserFactory
from tests.console.conftest import confirmed_device, totp_code, verified_login

pytestmark = pytest.mark.django_db

PASSWORD = "kata-sandi-yang-panjang-42"
ROOT = "root@example.id"


@pytest.fixture
def superuser() -> User:
    user = UserFactory.create(superuser=True, email=ROOT, full_name="Rudi Root")
    user.set_password(PASSWORD)
    user.save(update_fields=["password"])
    return user


def _next_of(location: str) -> str:
    return parse_qs(urlsplit(location).query).get("next", [""])[0]


def test_the_admin_sends_anonymous_visitors_to_the_console_sign_in_and_back() -> None:
    response = Client().get(reverse("admin:accounts_user_changelist"))
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("console:login")
    assert _next_of(response["Location"]) == reverse("admin:accounts_user_changelist")


def test_the_admin_login_page_checks_no_password(superuser: User) -> None:
    client = Client()
    response = client.post(reverse("admin:login"), {"username": ROOT, "password": PASSWORD, "next": "/admin/"})
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("console:login")
    assert "_auth_user_id" not in client.session


def test_a_superuser_without_membership_enrols_through_the_console_and_reaches_the_admin(superuser: User) -> None:
    client = Client()
    start = client.get(reverse("admin:index"))
    signed_in = client.post(
        start["Location"], {"login": ROOT, "password": PASSWORD, "next": _next_of(start["Location"])}
    )
    assert signed_in.status_code == 302
    assert urlsplit(signed_in["Location"]).path == reverse("console:enroll")
    # Password alone: the admin is not served yet; it sends the superuser on to the second factor.
    not_yet = client.get(reverse("admin:index"))
    assert not_yet.status_code == 302
    assert urlsplit(not_yet["Location"]).path == reverse("console:enroll")

    page = client.get(signed_in["Location"])
    assert page.status_code == 200
    device = TOTPDevice.objects.get(user=superuser, confirmed=False)
    done = client.post(signed_in["Location"], {"code": totp_code(device), "next": reverse("admin:index")})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([^<]+)</code></li>", done.content.decode())
    assert len(codes) == 10
    assert f'href="{reverse("admin:index")}"' in done.content.decode()

    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    body = index.content.decode()
    assert device.key not in body
    assert not any(code in body for code in codes)


def test_a_superuser_with_a_device_signs_in_with_a_code_and_lands_on_the_admin(superuser: User) -> None:
    device = confirmed_device(superuser)
    client = Client()
    client.post(reverse("console:login"), {"login": ROOT, "password": PASSWORD})
    # Without a next, a superuser who is no staff member lands on the admin (the console is 404 for them).
    response = client.post(reverse("console:verify"), {"code": totp_code(device)})
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200
    # Signed in, the admin's own login page only passes them on.
    assert client.get(reverse("admin:login"))["Location"] == reverse("admin:index")


def test_the_console_lockout_locks_a_superuser_out_of_the_admin(superuser: User, clock) -> None:
    confirmed_device(superuser)
    client = Client()
    for _attempt in range(5):
        client.post(reverse("console:login"), {"login": ROOT, "password": "salah"})
    other = Client()
    response = other.post(reverse("console:login"), {"login": ROOT, "password": PASSWORD})
    assert response.status_code == 200
    assert "_auth_user_id" not in other.session
    assert other.get(reverse("admin:index"))["Location"].startswith(reverse("console:login"))
    clock.advance(minutes=16)
    response = other.post(reverse("console:login"), {"login": ROOT, "password": PASSWORD})
    assert urlsplit(response["Location"]).path == reverse("console:verify")


def test_an_idle_admin_session_ends_like_a_console_session(superuser: User, clock) -> None:
    client = verified_login(Client(), superuser)
    assert client.get(reverse("admin:index")).status_code == 200
    clock.advance(minutes=29)
    assert client.get(reverse("admin:accounts_user_changelist")).status_code == 200
    clock.advance(minutes=29)  # active 29 minutes ago: still fine
    assert client.get(reverse("admin:index")).status_code == 200
    clock.advance(minutes=31)
    response = client.get(reverse("admin:index"))
    assert response["Location"].startswith(reverse("console:login"))
    assert "_auth_user_id" not in client.session


def test_a_deactivated_superuser_is_refused_even_with_a_verified_session(superuser: User) -> None:
    client = verified_login(Client(), superuser)
    superuser.is_active = False
    superuser.save(update_fields=["is_active"])
    response = client.get(reverse("admin:index"))
    assert response.status_code != 200


def test_the_totp_device_pages_do_not_exist(superuser: User) -> None:
    client = verified_login(Client(), superuser)
    assert client.get("/admin/otp_totp/totpdevice/").status_code == 404
    assert client.get("/admin/otp_static/staticdevice/").status_code == 404
    assert b"otp_totp" not in client.get(reverse("admin:index")).content


@pytest.mark.parametrize("who", ["citizen", "superuser_via_portal", "verified_model_staff"])
def test_a_post_to_the_admin_without_the_right_session_changes_nothing(superuser: User, who: str) -> None:
    client = Client()
    if who == "citizen":
        client.force_login(UserFactory.create(email="warga@example.id"))
    elif who == "superuser_via_portal":
        client.force_login(superuser)
    else:
        staff = UserFactory.create(is_staff=True, email="staf@example.id")
        staff.user_permissions.set(Permission.objects.all())
        verified_login(client, staff)
    account = {"full_name": "Penyusup", "email": "baru@example.id", "phone": "", "usable_password": "false"}
    response = client.post(reverse("admin:accounts_user_add"), account)
    assert response.status_code in (302, 404)
    if response.status_code == 302:
        assert response["Location"].startswith(reverse("console:login"))
    assert not User.objects.filter(email="baru@example.id").exists()
    response = client.post(reverse("admin:accounts_user_change", args=[superuser.pk]), {"full_name": "Diubah"})
    assert response.status_code in (302, 404)
    superuser.refresh_from_db()
    assert superuser.full_name == "Rudi Root"


def test_a_superuser_without_membership_manages_their_own_sign_in_on_the_console(superuser: User) -> None:
    client = verified_login(Client(), superuser)
    device = confirmed_device(superuser)
    page = client.get(reverse("console:security"))
    assert page.status_code == 200
    assert device.key not in page.content.decode()
    response = client.post(reverse("console:security_recovery_codes"), {"code": totp_code(device, steps_ahead=1)})
    assert response.status_code == 200
    assert len(re.findall(r"<li><code>([^<]+)</code></li>", response.content.decode())) == 10
    # The console's work stays closed to them: they hold no membership.
    assert client.get(reverse("console:inbox")).status_code == 404
